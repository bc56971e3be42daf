#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "log/log.h"

#include "kvclient_transport.h"

/*
 * The plaintext transport: a socket bufferevent.  Larger single reads and
 * writes than libevent's 16 kB default keep system calls per request low
 * when thousands of requests are in flight.
 */
#define TRANSPORT_IOMAX	(256 * 1024)

struct kvclient_transport {
	struct bufferevent *bev;
	struct kvclient_transport_cbs cbs;
	void *cookie;
	int failed;
};

static void
readcb(struct bufferevent *bev, void *cookie)
{
	struct kvclient_transport *t = cookie;

	(void)bev;
	if (!t->failed)
		t->cbs.readcb(t->cookie);
}

static void
eventcb(struct bufferevent *bev, short what, void *cookie)
{
	struct kvclient_transport *t = cookie;

	(void)bev;
	if (t->failed)
		return;
	if (what & BEV_EVENT_EOF) {
		t->failed = 1;
		bufferevent_disable(t->bev, EV_READ | EV_WRITE);
		t->cbs.failcb(t->cookie, "connection closed by server");
	} else if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		t->failed = 1;
		bufferevent_disable(t->bev, EV_READ | EV_WRITE);
		t->cbs.failcb(t->cookie, "connection error");
	}
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
	int fl;

	if (((fl = fcntl(fd, F_GETFL)) == -1) ||
	    (fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)) {
		warnp("fcntl");
		goto err0;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		warnp("calloc");
		goto err0;
	}
	t->cbs = *cbs;
	t->cookie = cookie;
	if ((t->bev = bufferevent_socket_new(base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		warn0("bufferevent_socket_new failed");
		goto err1;
	}
	bufferevent_set_max_single_read(t->bev, TRANSPORT_IOMAX);
	bufferevent_set_max_single_write(t->bev, TRANSPORT_IOMAX);
	bufferevent_setcb(t->bev, readcb, NULL, eventcb, t);
	if (bufferevent_enable(t->bev, EV_READ | EV_WRITE)) {
		warn0("bufferevent_enable failed");
		goto err2;
	}
	return (t);

err2:
	bufferevent_free(t->bev);
	free(t);
	return (NULL);
err1:
	free(t);
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

	return (bufferevent_get_input(t->bev));
}

struct evbuffer *
kvclient_transport_output(struct kvclient_transport *t)
{

	return (bufferevent_get_output(t->bev));
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
	bufferevent_free(t->bev);
	free(t);
}
