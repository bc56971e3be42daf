/*
 * The pump (see proto_pump.h).
 *
 * Each direction is a small loop over four steps: flush pending output;
 * if the source ended, half-close the destination; read one chunk;
 * transform it.  Readiness is tracked per direction in two flags set by
 * edge-triggered events and cleared when a read comes back short or a
 * write cannot complete: with edge triggering a short read means the
 * socket was drained, and any later arrival raises a new edge.  The one
 * exception is a FIN queued behind the data (no new edge will come for
 * it), so the events also ask for EV_CLOSED (EPOLLRDHUP): once it is
 * seen, that direction reads on until end of file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "log/log.h"
#include "sock/sock.h"

#include "proto_crypt.h"
#include "proto_pump.h"

/* Packets per chunk: 64 KiB of plaintext per read or write. */
#define CHUNK_PKTS	64

/* Chunks one direction may move before yielding to other connections. */
#define BUDGET		16

struct dir {
	int in, out;
	int encrypt;
	int in_ready;		/* no short read or EAGAIN since last edge */
	int out_ready;		/* no short write or EAGAIN since last edge */
	int rdhup;		/* peer's FIN seen: read on to EOF */
	int eof;		/* source reached end of file */
	int done;		/* destination shut down: direction over */
	uint8_t *rbuf;		/* source bytes (decrypt: partial packet) */
	size_t rcap, rlen;
	uint8_t *wbuf;		/* transformed bytes waiting for write */
	size_t woff, wlen;
};

struct proto_pump {
	struct proto_session *s;
	struct dir d[2];	/* [0] plain -> wire, [1] wire -> plain */
	int plain, wire;
	struct event *ev_plain;
	struct event *ev_wire;
	struct event *kick;	/* resume after a spent budget */
	void (*callback)(void *, int);
	void *cookie;
};

/* Transform the source bytes of ${d} into its output buffer. */
static int
dir_transform(struct proto_session *s, struct dir *d)
{
	size_t npkts, used;
	ssize_t n;

	if (d->encrypt) {
		if ((n = proto_session_encrypt(s, d->rbuf, d->rlen,
		    d->wbuf)) < 0)
			return (-1);
		d->rlen = 0;
	} else {
		npkts = d->rlen / PROTO_PKT_LEN;
		if (npkts == 0)
			return (0);
		if ((n = proto_session_decrypt(s, d->rbuf, npkts,
		    d->wbuf)) < 0)
			return (-1);
		used = npkts * PROTO_PKT_LEN;
		memmove(d->rbuf, d->rbuf + used, d->rlen - used);
		d->rlen -= used;
	}
	d->woff = 0;
	d->wlen = (size_t)n;
	return (0);
}

/*
 * Move what can be moved in direction ${d} without blocking.  Returns 0,
 * 1 if the budget ran out with work left, or -1 on failure.
 */
static int
dir_run(struct proto_session *s, struct dir *d)
{
	int budget = BUDGET;
	ssize_t n;

	for (;;) {
		/* Flush. */
		while (d->woff < d->wlen) {
			if (!d->out_ready)
				return (0);
			n = write(d->out, d->wbuf + d->woff,
			    d->wlen - d->woff);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK) {
					d->out_ready = 0;
					return (0);
				}
				return (-1);
			}
			d->woff += (size_t)n;
			if (d->woff < d->wlen) {
				d->out_ready = 0;
				return (0);
			}
		}
		d->woff = d->wlen = 0;
		if (d->done)
			return (0);

		/* End of source: half-close once everything is out. */
		if (d->eof) {
			if (d->rlen > 0)	/* stream ended inside a packet */
				return (-1);
			if (shutdown(d->out, SHUT_WR) && errno != ENOTCONN)
				return (-1);
			d->done = 1;
			return (0);
		}

		if (!d->in_ready)
			return (0);
		if (budget-- == 0)
			return (1);
		n = read(d->in, d->rbuf + d->rlen, d->rcap - d->rlen);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				d->in_ready = 0;
				continue;
			}
			return (-1);
		}
		if (n == 0) {
			d->eof = 1;
			continue;
		}
		if ((size_t)n < d->rcap - d->rlen && !d->rdhup)
			d->in_ready = 0;
		d->rlen += (size_t)n;
		if (dir_transform(s, d))
			return (-1);
	}
}

static void
pump_run(struct proto_pump *p)
{
	int r0, r1;

	if ((r0 = dir_run(p->s, &p->d[0])) < 0)
		goto fail;
	if ((r1 = dir_run(p->s, &p->d[1])) < 0)
		goto fail;
	if (p->d[0].done && p->d[1].done) {
		p->callback(p->cookie, 0);
		return;
	}
	if (r0 == 1 || r1 == 1)
		event_active(p->kick, EV_TIMEOUT, 0);
	return;

fail:
	p->callback(p->cookie, -1);
}

static void
pump_callback_io(evutil_socket_t fd, short what, void *cookie)
{
	struct proto_pump *p = cookie;

	if (fd == p->plain) {
		if (what & EV_CLOSED)
			p->d[0].rdhup = 1;
		if (what & (EV_READ | EV_CLOSED))
			p->d[0].in_ready = 1;
		if (what & EV_WRITE)
			p->d[1].out_ready = 1;
	}
	if (fd == p->wire) {
		if (what & EV_CLOSED)
			p->d[1].rdhup = 1;
		if (what & (EV_READ | EV_CLOSED))
			p->d[1].in_ready = 1;
		if (what & EV_WRITE)
			p->d[0].out_ready = 1;
	}
	pump_run(p);
}

static void
pump_callback_kick(evutil_socket_t fd, short what, void *cookie)
{

	(void)fd;
	(void)what;
	pump_run(cookie);
}

static int
dir_init(struct dir *d, int in, int out, int encrypt)
{
	size_t rcap, wcap;

	d->in = in;
	d->out = out;
	d->encrypt = encrypt;
	d->in_ready = d->out_ready = 1;
	if (encrypt) {
		rcap = CHUNK_PKTS * PROTO_PKT_MAXDATA;
		wcap = CHUNK_PKTS * PROTO_PKT_LEN;
	} else {
		rcap = CHUNK_PKTS * PROTO_PKT_LEN;
		wcap = PROTO_DECRYPT_ROOM(CHUNK_PKTS);
	}
	d->rcap = rcap;
	if ((d->rbuf = malloc(rcap)) == NULL)
		return (-1);
	if ((d->wbuf = malloc(wcap)) == NULL)
		return (-1);
	return (0);
}

/**
 * proto_pump_start(base, plain, wire, s, callback, cookie):
 * Pump between ${plain} and ${wire} with session ${s} in ${base}.
 */
struct proto_pump *
proto_pump_start(struct event_base *base, int plain, int wire,
    struct proto_session *s, void (*callback)(void *, int), void *cookie)
{
	struct proto_pump *p;
	short ev = EV_READ | EV_WRITE | EV_CLOSED | EV_ET | EV_PERSIST;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		goto err0;
	p->s = s;
	p->plain = plain;
	p->wire = wire;
	p->callback = callback;
	p->cookie = cookie;
	if (dir_init(&p->d[0], plain, wire, 1) ||
	    dir_init(&p->d[1], wire, plain, 0))
		goto err1;
	p->ev_plain = event_new(base, plain, ev, pump_callback_io, p);
	p->ev_wire = event_new(base, wire, ev, pump_callback_io, p);
	p->kick = event_new(base, -1, 0, pump_callback_kick, p);
	if (p->ev_plain == NULL || p->ev_wire == NULL || p->kick == NULL)
		goto err1;
	if (event_add(p->ev_plain, NULL) || event_add(p->ev_wire, NULL))
		goto err1;

	/* Data may already be waiting: run once from the loop. */
	event_active(p->kick, EV_TIMEOUT, 0);
	return (p);

err1:
	proto_pump_free(p);
	return (NULL);
err0:
	warn0("calloc failed");
	proto_session_free(s);
	return (NULL);
}

/**
 * proto_pump_free(p):
 * Stop ${p}, wipe its session, free it.  No-op if NULL.
 */
void
proto_pump_free(struct proto_pump *p)
{
	int i;

	if (p == NULL)
		return;
	if (p->ev_plain != NULL)
		event_free(p->ev_plain);
	if (p->ev_wire != NULL)
		event_free(p->ev_wire);
	if (p->kick != NULL)
		event_free(p->kick);
	for (i = 0; i < 2; i++) {
		free(p->d[i].rbuf);
		free(p->d[i].wbuf);
	}
	proto_session_free(p->s);
	free(p);
}

/**
 * proto_pump_blocking(in, out, s, encrypt):
 * Move data from ${in} to ${out} until end of file, transforming it.
 */
int
proto_pump_blocking(int in, int out, struct proto_session *s, int encrypt)
{
	struct dir d;
	ssize_t n;
	int rc = -1;

	memset(&d, 0, sizeof(d));
	if (dir_init(&d, in, out, encrypt)) {
		warn0("malloc failed");
		goto done;
	}
	for (;;) {
		n = read(in, d.rbuf + d.rlen, d.rcap - d.rlen);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto done;
		}
		if (n == 0)
			break;
		d.rlen += (size_t)n;
		if (dir_transform(s, &d))
			goto done;
		if (sock_write_all(out, d.wbuf, d.wlen))
			goto done;
		d.wlen = 0;
	}
	rc = (d.rlen > 0) ? -1 : 0;
done:
	free(d.rbuf);
	free(d.wbuf);
	return (rc);
}
