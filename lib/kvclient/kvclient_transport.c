#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
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
 *	HANDSHAKE (hs != NULL, bev == NULL): output accumulates in pout;
 *	SESSION (s != NULL, bev != NULL): pout is encrypted into bev's
 *	    output by the flush event, scheduled (once per loop pass) when
 *	    bytes are added to pout; bev's input is decrypted into pin;
 *	FAILED: no callback any more.
 */
struct kvclient_transport {
	struct event_base *base;
	int fd;
	struct bufferevent *bev;
	struct kvclient_transport_cbs cbs;
	void *cookie;
	int failed;

	/* Plaintext input and output (both kinds). */
	struct evbuffer *pin, *pout;
	struct evbuffer_cb_entry *outcb;
	struct event *flushev;
	int flushpending;

	/* Plain only: readiness events of the socket. */
	struct event *rev, *wev;
	int writing;		/* wev is pending. */

	/* spiped only. */
	int spiped;
	struct proto_handshake *hs;
	struct proto_session *s;
};

static void
tfail(struct kvclient_transport *t, const char *why)
{

	if (t->failed)
		return;
	t->failed = 1;
	if (t->bev != NULL)
		bufferevent_disable(t->bev, EV_READ | EV_WRITE);
	if (t->rev != NULL)
		event_del(t->rev);
	if (t->wev != NULL)
		event_del(t->wev);
	t->cbs.failcb(t->cookie, why);
}

static void
readcb(struct bufferevent *bev, void *cookie)
{
	struct kvclient_transport *t = cookie;
	ssize_t n;

	if (t->failed)
		return;
	if (t->spiped) {
		n = proto_session_decrypt_evbuf(t->s,
		    bufferevent_get_input(bev), t->pin);
		if (n < 0) {
			tfail(t, "bad packet from the spiped endpoint");
			return;
		}
		if (n == 0)
			return;
	}
	t->cbs.readcb(t->cookie);
}

static void
eventcb(struct bufferevent *bev, short what, void *cookie)
{
	struct kvclient_transport *t = cookie;

	(void)bev;
	if (what & BEV_EVENT_EOF)
		tfail(t, "connection closed by server");
	else if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		tfail(t, "connection error");
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

/* Create and enable the socket bufferevent of ${t} (owns t->fd). */
static int
mkbev(struct kvclient_transport *t)
{

	if ((t->bev = bufferevent_socket_new(t->base, t->fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		warn0("bufferevent_socket_new failed");
		return (-1);
	}
	bufferevent_set_max_single_read(t->bev, TRANSPORT_IOMAX);
	bufferevent_set_max_single_write(t->bev, TRANSPORT_IOMAX);
	bufferevent_setcb(t->bev, readcb, NULL, eventcb, t);
	if (bufferevent_enable(t->bev, EV_READ | EV_WRITE)) {
		warn0("bufferevent_enable failed");
		return (-1);
	}
	return (0);
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
	do {
		n = read(fd, v.iov_base, v.iov_len);
	} while ((n == -1) && (errno == EINTR));
	if (n == -1) {
		if ((errno == EAGAIN) || (errno == EWOULDBLOCK))
			return;
		tfail(t, "connection error");
		return;
	}
	if (n == 0) {
		tfail(t, "connection closed by server");
		return;
	}
	v.iov_len = (size_t)n;
	if (evbuffer_commit_space(t->pin, &v, 1)) {
		tfail(t, "out of memory");
		return;
	}
	/* Last: the callback may free ${t}. */
	t->cbs.readcb(t->cookie);
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
	if ((evbuffer_get_length(t->pout) > 0) != t->writing) {
		t->writing = !t->writing;
		if (t->writing ? event_add(t->wev, NULL) : event_del(t->wev))
			tfail(t, "cannot watch the connection");
	}
}

static void
plain_writecb(evutil_socket_t fd, short what, void *cookie)
{
	struct kvclient_transport *t = cookie;

	(void)fd;
	(void)what;
	if (!t->failed)
		plain_write(t);
}

static void flushcb(evutil_socket_t, short, void *);
static void outcb(struct evbuffer *, const struct evbuffer_cb_info *,
    void *);

/* Allocate ${t}'s plaintext buffers and its flush event. */
static int
mkbufs(struct kvclient_transport *t)
{

	if (((t->pin = evbuffer_new()) == NULL) ||
	    ((t->pout = evbuffer_new()) == NULL) ||
	    ((t->flushev = event_new(t->base, -1, 0, flushcb, t)) == NULL) ||
	    ((t->outcb = evbuffer_add_cb(t->pout, outcb, t)) == NULL))
		return (-1);
	return (0);
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
	if (mkbufs(t) ||
	    ((t->rev = event_new(base, fd, EV_READ | EV_PERSIST,
	    plain_readcb, t)) == NULL) ||
	    ((t->wev = event_new(base, fd, EV_WRITE | EV_PERSIST,
	    plain_writecb, t)) == NULL) ||
	    event_add(t->rev, NULL)) {
		warn0("cannot set up the connection");
		kvclient_transport_free(t);
		return (NULL);
	}
	return (t);

err0:
	close(fd);
	return (NULL);
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
	if (t->s == NULL)
		return;
	if (proto_session_encrypt_evbuf(t->s, t->pout,
	    bufferevent_get_output(t->bev)))
		tfail(t, "cannot encrypt");
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
	if (mkbev(t)) {
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
	t->spiped = 1;
	if (mkbufs(t)) {
		warn0("cannot allocate the spiped transport");
		goto err1;
	}
	if ((t->hs = proto_handshake_start(base, fd, K, flags,
	    HANDSHAKE_TIMEOUT, hscb, t)) == NULL) {
		warn0("cannot start the spiped handshake");
		goto err1;
	}
	return (t);

err1:
	kvclient_transport_free(t);
	return (NULL);
err0:
	close(fd);
	return (NULL);
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
	if (t->bev != NULL)
		bufferevent_free(t->bev);
	else
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
