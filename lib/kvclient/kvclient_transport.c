#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "log/log.h"
#include "proto/proto_crypt.h"
#include "proto/proto_handshake.h"

#include "kvclient_transport.h"

/*
 * Larger single reads and writes than libevent's 16 kB default keep
 * system calls per request low when thousands of requests are in flight.
 */
#define TRANSPORT_IOMAX	(256 * 1024)

/*
 * spiped sessions: packets read at once, and plaintext requests encrypted
 * per slice.  A read takes at most 32 packets (about 650 GETs' answers) so
 * that the requests they free go out at once, while the server is still
 * answering the rest of the window: a big window then flows as a stream
 * instead of moving back and forth as one block (measured: a median of
 * 6% more GETs/s than 240 packets, in 5 alternating pairs of runs).
 */
#define WIN_PKTS	32
#define WIN_SZ		(WIN_PKTS * PROTO_PKT_LEN)
#define STAGE_SZ	(64 * PROTO_PKT_MAXDATA)

/* Seconds a spiped handshake may take. */
#define HANDSHAKE_TIMEOUT	30.0

/*
 * Plaintext transport: the socket is read straight into the input
 * evbuffer (one read(2) per readiness event, no FIONREAD) and the output
 * evbuffer is written by the flush event, scheduled (once per loop pass)
 * when bytes are added: everything queued in one pass goes in one
 * writev(2), in the same pass, with no epoll round trip; only when the
 * socket is full does a write event wait for it.  (A bufferevent costs
 * an ioctl per read and two epoll_ctl per pass.)
 *
 * spiped transport, states:
 *	HANDSHAKE (hs != NULL, rev == NULL): output accumulates in pout;
 *	SESSION (s != NULL, rev != NULL): the socket is read and written
 *	    directly in the same way; the whole packets of each read are
 *	    decrypted into pin in one call, the partial one kept in win;
 *	    pout is encrypted into wout by the flush event and wout is sent
 *	    at once (one send(2) per pass);
 *	FAILED: no callback any more.
 */
struct kvclient_transport {
	struct event_base *base;
	int fd;
	struct kvclient_transport_cbs cbs;
	void *cookie;
	int failed;

	/* Plaintext input and output (both kinds). */
	struct evbuffer *pin, *pout;
	struct evbuffer_cb_entry *outcb;
	struct event *flushev;
	int flushpending;

	/* Readiness events of the socket (spiped: once in session). */
	struct event *rev, *wev;
	int writing;		/* wev is pending. */

	/* spiped only. */
	int spiped;
	struct proto_handshake *hs;
	struct proto_session *s;
	uint8_t *win;			/* WIN_SZ: packets read. */
	size_t winlen;			/* Partial packet kept in win. */
	uint8_t *stage;			/* STAGE_SZ: plaintext to encrypt. */
	uint8_t *wout;			/* Packets not yet sent: */
	size_t woff, wlen, wcap;	/* wout[woff..wlen). */
};

static void
tfail(struct kvclient_transport *t, const char *why)
{

	if (t->failed)
		return;
	t->failed = 1;
	if (t->rev != NULL)
		event_del(t->rev);
	if (t->wev != NULL)
		event_del(t->wev);
	t->cbs.failcb(t->cookie, why);
}

static int
setnonblock(int fd)
{
	int fl;

	if (((fl = fcntl(fd, F_GETFL)) == -1) ||
	    (fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)) {
		warnp("fcntl");
		return (-1);
	}
	return (0);
}

/*
 * Read up to ${len} bytes from ${fd} into ${buf}: return how many (> 0),
 * or 0 if there is nothing to read now or the connection is over (then
 * ${t} has failed: end of file or error).
 */
static ssize_t
sockread(struct kvclient_transport *t, int fd, uint8_t *buf, size_t len)
{
	ssize_t n;

	do {
		n = read(fd, buf, len);
	} while ((n == -1) && (errno == EINTR));
	if (n == -1) {
		if ((errno != EAGAIN) && (errno != EWOULDBLOCK))
			tfail(t, "connection error");
		return (0);
	}
	if (n == 0)
		tfail(t, "connection closed by server");
	return (n);
}

/* Plain: read what the socket has into pin. */
static void
plain_readcb(evutil_socket_t fd, short what, void *cookie)
{
	struct kvclient_transport *t = cookie;
	struct evbuffer_iovec v;
	ssize_t n;

	(void)what;
	if (t->failed)
		return;
	if (evbuffer_reserve_space(t->pin, TRANSPORT_IOMAX, &v, 1) < 1) {
		tfail(t, "out of memory");
		return;
	}
	if (v.iov_len > TRANSPORT_IOMAX)
		v.iov_len = TRANSPORT_IOMAX;
	if ((n = sockread(t, fd, v.iov_base, v.iov_len)) <= 0)
		return;
	v.iov_len = (size_t)n;
	if (evbuffer_commit_space(t->pin, &v, 1)) {
		tfail(t, "out of memory");
		return;
	}
	/* Last: the callback may free ${t}. */
	t->cbs.readcb(t->cookie);
}

/* Watch the socket for writability (${on}) or stop; fail ${t} on error. */
static void
set_writing(struct kvclient_transport *t, int on)
{

	if (on == t->writing)
		return;
	t->writing = on;
	if (on ? event_add(t->wev, NULL) : event_del(t->wev))
		tfail(t, "cannot watch the connection");
}

/* Plain: write what pout holds; wait for the socket if it is full. */
static void
plain_write(struct kvclient_transport *t)
{
	int n;

	while (evbuffer_get_length(t->pout) > 0) {
		if ((n = evbuffer_write_atmost(t->pout, t->fd,
		    TRANSPORT_IOMAX)) == -1) {
			if (errno == EINTR)
				continue;
			if ((errno == EAGAIN) || (errno == EWOULDBLOCK))
				break;
			tfail(t, "connection error");
			return;
		}
		if (n == 0)
			break;
	}
	set_writing(t, evbuffer_get_length(t->pout) > 0);
}

/* spiped: send what wout holds (one send(2)); wait if some is left. */
static void
spiped_write(struct kvclient_transport *t)
{
	ssize_t n;

	if (t->wlen > t->woff) {
		do {
			n = send(t->fd, t->wout + t->woff, t->wlen - t->woff,
			    MSG_NOSIGNAL);
		} while (n == -1 && errno == EINTR);
		if (n == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				tfail(t, "connection error");
				return;
			}
			n = 0;
		}
		t->woff += (size_t)n;
	}
	if (t->woff == t->wlen)
		t->woff = t->wlen = 0;
	set_writing(t, t->wlen > 0);
}

/* The socket is writable again: go on sending. */
static void
writecb(evutil_socket_t fd, short what, void *cookie)
{
	struct kvclient_transport *t = cookie;

	(void)fd;
	(void)what;
	if (t->failed)
		return;
	if (t->spiped)
		spiped_write(t);
	else
		plain_write(t);
}

/* spiped: read the socket, decrypt every whole packet into pin. */
static void
spiped_readcb(evutil_socket_t fd, short what, void *cookie)
{
	struct kvclient_transport *t = cookie;
	struct evbuffer_iovec v;
	size_t total, npkts;
	ssize_t n;

	(void)what;
	if (t->failed)
		return;
	if ((n = sockread(t, fd, t->win + t->winlen, WIN_SZ - t->winlen)) <= 0)
		return;
	total = t->winlen + (size_t)n;
	if ((npkts = total / PROTO_PKT_LEN) == 0) {
		t->winlen = total;
		return;
	}
	if (evbuffer_reserve_space(t->pin,
	    (ev_ssize_t)PROTO_DECRYPT_ROOM(npkts), &v, 1) != 1) {
		tfail(t, "out of memory");
		return;
	}
	if ((n = proto_session_decrypt(t->s, t->win, npkts, v.iov_base)) < 0) {
		tfail(t, "bad packet from the spiped endpoint");
		return;
	}
	v.iov_len = (size_t)n;
	if (evbuffer_commit_space(t->pin, &v, 1)) {
		tfail(t, "out of memory");
		return;
	}
	t->winlen = total - npkts * PROTO_PKT_LEN;
	memmove(t->win, t->win + npkts * PROTO_PKT_LEN, t->winlen);
	/* Last: the callback may free ${t}. */
	t->cbs.readcb(t->cookie);
}

/* spiped: encrypt what accumulated in pout into wout, and send. */
static void
spiped_encrypt(struct kvclient_transport *t)
{
	size_t len, need, ncap;
	uint8_t *p;
	ssize_t n;

	while ((len = evbuffer_get_length(t->pout)) > 0) {
		if (len > STAGE_SZ)
			len = STAGE_SZ;
		if ((need = t->wlen + PROTO_WIRELEN(len)) > t->wcap &&
		    t->woff > 0) {
			memmove(t->wout, t->wout + t->woff, t->wlen - t->woff);
			t->wlen -= t->woff;
			t->woff = 0;
			need = t->wlen + PROTO_WIRELEN(len);
		}
		if (need > t->wcap) {
			for (ncap = t->wcap ? t->wcap : 65536; ncap < need; )
				ncap *= 2;
			if ((p = realloc(t->wout, ncap)) == NULL) {
				tfail(t, "out of memory");
				return;
			}
			t->wout = p;
			t->wcap = ncap;
		}
		if (evbuffer_remove(t->pout, t->stage, len) != (int)len ||
		    (n = proto_session_encrypt(t->s, t->stage, len,
		    t->wout + t->wlen)) < 0) {
			tfail(t, "cannot encrypt");
			return;
		}
		t->wlen += (size_t)n;
	}
	spiped_write(t);
}

static void flushcb(evutil_socket_t, short, void *);
static void outcb(struct evbuffer *, const struct evbuffer_cb_info *,
    void *);

/*
 * A transport over ${fd} (made non-blocking; closed on failure) with its
 * plaintext buffers and flush event, or NULL (printed).
 */
static struct kvclient_transport *
tnew(struct event_base *base, int fd,
    const struct kvclient_transport_cbs *cbs, void *cookie)
{
	struct kvclient_transport *t;

	if (setnonblock(fd))
		goto err0;
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		warnp("calloc");
		goto err0;
	}
	t->base = base;
	t->fd = fd;
	t->cbs = *cbs;
	t->cookie = cookie;
	if (((t->pin = evbuffer_new()) == NULL) ||
	    ((t->pout = evbuffer_new()) == NULL) ||
	    ((t->flushev = event_new(base, -1, 0, flushcb, t)) == NULL) ||
	    ((t->outcb = evbuffer_add_cb(t->pout, outcb, t)) == NULL)) {
		warn0("cannot allocate the transport");
		kvclient_transport_free(t);
		return (NULL);
	}
	return (t);

err0:
	close(fd);
	return (NULL);
}

/**
 * kvclient_transport_plain(base, fd, cbs, cookie):
 * Create a plaintext transport over the connected stream socket ${fd}
 * (made non-blocking; owned by the transport from now on, closed even if
 * this fails), running in ${base}.  Return it, or NULL (printed).
 */
struct kvclient_transport *
kvclient_transport_plain(struct event_base *base, int fd,
    const struct kvclient_transport_cbs *cbs, void *cookie)
{
	struct kvclient_transport *t;

	if ((t = tnew(base, fd, cbs, cookie)) == NULL)
		return (NULL);
	if (((t->rev = event_new(base, fd, EV_READ | EV_PERSIST,
	    plain_readcb, t)) == NULL) ||
	    ((t->wev = event_new(base, fd, EV_WRITE | EV_PERSIST,
	    writecb, t)) == NULL) ||
	    event_add(t->rev, NULL)) {
		warn0("cannot set up the connection");
		kvclient_transport_free(t);
		return (NULL);
	}
	return (t);
}

/* Encrypt what accumulated in pout. */
static void
flushcb(evutil_socket_t fd, short what, void *cookie)
{
	struct kvclient_transport *t = cookie;

	(void)fd;
	(void)what;
	t->flushpending = 0;
	if (t->failed)
		return;
	if (!t->spiped) {
		plain_write(t);
		return;
	}
	if (t->s != NULL)
		spiped_encrypt(t);
}

static void
schedule_flush(struct kvclient_transport *t)
{

	if (t->flushpending || t->failed || (t->spiped && (t->s == NULL)) ||
	    (!t->spiped && t->writing))
		return;
	t->flushpending = 1;
	event_active(t->flushev, EV_WRITE, 0);
}

static void
outcb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{

	(void)buf;
	if (info->n_added > 0)
		schedule_flush(arg);
}

static void
hscb(void *cookie, struct proto_session *s, int err)
{
	struct kvclient_transport *t = cookie;

	/* The handshake handle is freed by lib/proto before this call. */
	t->hs = NULL;
	if (s == NULL) {
		tfail(t, proto_handshake_strerror(err));
		return;
	}
	t->s = s;
	if ((t->win = malloc(WIN_SZ)) == NULL ||
	    (t->stage = malloc(STAGE_SZ)) == NULL ||
	    (t->rev = event_new(t->base, t->fd, EV_READ | EV_PERSIST,
	    spiped_readcb, t)) == NULL ||
	    (t->wev = event_new(t->base, t->fd, EV_WRITE | EV_PERSIST,
	    writecb, t)) == NULL ||
	    event_add(t->rev, NULL)) {
		tfail(t, "cannot start the session");
		return;
	}
	if (evbuffer_get_length(t->pout) > 0)
		schedule_flush(t);
}

/**
 * kvclient_transport_spiped(base, fd, K, flags, cbs, cookie):
 * Create a transport speaking the spiped protocol over ${fd} under the
 * key ${K}.  Return it, or NULL (printed).
 */
struct kvclient_transport *
kvclient_transport_spiped(struct event_base *base, int fd, const uint8_t *K,
    int flags, const struct kvclient_transport_cbs *cbs, void *cookie)
{
	struct kvclient_transport *t;

	if ((t = tnew(base, fd, cbs, cookie)) == NULL)
		return (NULL);
	t->spiped = 1;
	if ((t->hs = proto_handshake_start(base, fd, K, flags,
	    HANDSHAKE_TIMEOUT, hscb, t)) == NULL) {
		warn0("cannot start the spiped handshake");
		kvclient_transport_free(t);
		return (NULL);
	}
	return (t);
}

/**
 * kvclient_transport_input(t), kvclient_transport_output(t):
 * Return the input and output evbuffers of ${t}.
 */
struct evbuffer *
kvclient_transport_input(struct kvclient_transport *t)
{

	return (t->pin);
}

struct evbuffer *
kvclient_transport_output(struct kvclient_transport *t)
{

	return (t->pout);
}

/**
 * kvclient_transport_free(t):
 * Close the connection and free ${t}.  NULL is a no-op.
 */
void
kvclient_transport_free(struct kvclient_transport *t)
{

	if (t == NULL)
		return;
	proto_handshake_cancel(t->hs);
	proto_session_free(t->s);
	if (t->rev != NULL)
		event_free(t->rev);
	if (t->wev != NULL)
		event_free(t->wev);
	free(t->win);
	free(t->stage);
	free(t->wout);
	close(t->fd);
	if (t->outcb != NULL)
		evbuffer_remove_cb_entry(t->pout, t->outcb);
	if (t->flushev != NULL)
		event_free(t->flushev);
	if (t->pin != NULL)
		evbuffer_free(t->pin);
	if (t->pout != NULL)
		evbuffer_free(t->pout);
	free(t);
}
