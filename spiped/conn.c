/*
 * One spiped connection (see conn.h for its states).
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log/log.h"
#include "proto/proto_handshake.h"
#include "proto/proto_pump.h"
#include "sock/sock.h"

#include "conn.h"
#include "proxy.h"

struct conn {
	struct event_base *base;
	const struct conn_opts *o;
	struct conn_targets *targets;	/* reference held while connecting */
	size_t tnext;			/* next target address to try */
	int s;				/* accepted socket */
	int t;				/* target socket, -1 until connecting */
	struct event *connev;		/* target writable: connect done */
	struct event *conntimer;	/* -o for the connect */
	int connected;
	struct proto_handshake *hs;
	struct proto_session *sess;	/* handshake result, until pumping */
	struct proto_pump *pump;
	void (*done)(void *);
	void *cookie;
};

/**
 * conn_targets_release(t):
 * Drop one reference to ${t}.
 */
void
conn_targets_release(struct conn_targets *t)
{

	if (t == NULL || --t->refs > 0)
		return;
	sock_addr_freelist(t->addrs);
	free(t);
}

/* Close everything and free ${c}, wiping secrets. */
static void
conn_free(struct conn *c)
{

	proto_pump_free(c->pump);
	proto_handshake_cancel(c->hs);
	proto_session_free(c->sess);
	if (c->connev != NULL)
		event_free(c->connev);
	if (c->conntimer != NULL)
		event_free(c->conntimer);
	conn_targets_release(c->targets);
	if (c->t != -1)
		close(c->t);
	close(c->s);
	free(c);
}

/* As conn_free(), then tell the dispatcher. */
static void
conn_drop(struct conn *c)
{
	void (*done)(void *) = c->done;
	void *cookie = c->cookie;

	conn_free(c);
	done(cookie);
}

static void
callback_pumpdone(void *cookie, int status)
{
	struct conn *c = cookie;

	if (status)
		log_debug("connection ended with an error");
	conn_drop(c);
}

/* Both the target connection and the session are ready: start pumping. */
static int
conn_pump(struct conn *c)
{
	uint8_t hdr[PROXY_MAXLEN];
	size_t len;
	ssize_t w;
	int plain = c->o->decrypt ? c->t : c->s;
	int wire = c->o->decrypt ? c->s : c->t;

	/*
	 * The PROXY header goes first, now that the peer has proved it holds
	 * the key.  The target socket is fresh and empty, so a write of at
	 * most 108 bytes completes at once.
	 */
	if (c->o->proxy) {
		if (proxy_header(c->o->proxy, c->s, hdr, &len)) {
			log_ratelimitedp("cannot build the PROXY header");
			return (-1);
		}
		w = send(c->t, hdr, len, MSG_NOSIGNAL);
		if (w != (ssize_t)len) {
			log_ratelimitedp("cannot send the PROXY header");
			return (-1);
		}
	}
	c->pump = proto_pump_start(c->base, plain, wire, c->sess,
	    callback_pumpdone, c);
	c->sess = NULL;
	if (c->pump == NULL)
		return (-1);
	return (0);
}

static void
callback_handshake(void *cookie, struct proto_session *s, int err)
{
	struct conn *c = cookie;

	c->hs = NULL;
	if (s == NULL) {
		log_ratelimited("%s", proto_handshake_strerror(err));
		goto drop;
	}
	c->sess = s;

	/* With -d the target connect may still be running. */
	if (!c->connected)
		return;
	if (conn_pump(c))
		goto drop;
	return;

drop:
	conn_drop(c);
}

static int
conn_handshake(struct conn *c)
{
	int fd = c->o->decrypt ? c->s : c->t;
	int flags = c->o->hsflags | (c->o->decrypt ? PROTO_HS_SERVER : 0);

	c->hs = proto_handshake_start(c->base, fd, c->o->K, flags,
	    c->o->timeout, callback_handshake, c);
	return (c->hs == NULL ? -1 : 0);
}

/* The target connection is up. */
static int
conn_connected(struct conn *c)
{

	c->connected = 1;
	event_del(c->conntimer);
	conn_targets_release(c->targets);
	c->targets = NULL;
	if (c->o->keepalive && sock_set_keepalive(c->t, 1))
		return (-1);
	if (sock_set_nodelay(c->t, 1))
		return (-1);

	if (!c->o->decrypt)
		return (conn_handshake(c));
	if (c->sess != NULL)
		return (conn_pump(c));
	return (0);
}

static void callback_connect(evutil_socket_t, short, void *);

/* Start connecting to the next target address; -1 when none is left. */
static int
conn_connect_next(struct conn *c)
{
	struct sock_addr *sa;
	int inprogress;

	if (c->connev != NULL) {
		event_free(c->connev);
		c->connev = NULL;
	}
	if (c->t != -1) {
		close(c->t);
		c->t = -1;
	}
	while ((sa = c->targets->addrs[c->tnext]) != NULL) {
		c->tnext++;
		c->t = sock_connect_nb(sa, c->o->bindaddr, &inprogress);
		if (c->t == -1)
			continue;
		if (!inprogress)
			return (conn_connected(c));
		c->connev = event_new(c->base, c->t, EV_WRITE,
		    callback_connect, c);
		if (c->connev == NULL || event_add(c->connev, NULL))
			return (-1);
		return (0);
	}
	log_ratelimitedp("cannot connect to the target");
	return (-1);
}

static void
callback_connect(evutil_socket_t fd, short what, void *cookie)
{
	struct conn *c = cookie;

	if (sock_connect_finish(fd) == 0) {
		if (conn_connected(c))
			conn_drop(c);
		return;
	}
	if (conn_connect_next(c))
		conn_drop(c);
}

static void
callback_conntimeout(evutil_socket_t fd, short what, void *cookie)
{
	struct conn *c = cookie;

	log_ratelimited("timed out connecting to the target");
	conn_drop(c);
}

/**
 * conn_create(base, opts, targets, s, done, cookie):
 * Take charge of the accepted socket ${s}.
 */
struct conn *
conn_create(struct event_base *base, const struct conn_opts *o,
    struct conn_targets *targets, int s, void (*done)(void *),
    void *cookie)
{
	struct conn *c;
	struct timeval tv;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_ratelimitedp("calloc");
		close(s);
		return (NULL);
	}
	c->base = base;
	c->o = o;
	c->s = s;
	c->t = -1;
	c->done = done;
	c->cookie = cookie;
	c->targets = targets;
	targets->refs++;

	if (o->keepalive && sock_set_keepalive(s, 1))
		goto err;
	if (sock_set_nodelay(s, 1))
		goto err;
	if ((c->conntimer = evtimer_new(base, callback_conntimeout, c)) ==
	    NULL)
		goto err;
	event_base_update_cache_time(base);
	tv.tv_sec = (time_t)o->timeout;
	tv.tv_usec = (suseconds_t)((o->timeout - (double)tv.tv_sec) * 1e6);
	if (evtimer_add(c->conntimer, &tv))
		goto err;

	/*
	 * With -d the handshake runs while the target connect does; start
	 * the connect first, since the handshake begins with an
	 * exponentiation.  (A connect that completes at once cannot finish
	 * the connection: it waits for the session.)
	 */
	if (conn_connect_next(c))
		goto err;
	if (o->decrypt && conn_handshake(c))
		goto err;
	return (c);

err:
	/* Drop without telling the dispatcher, as promised. */
	conn_free(c);
	return (NULL);
}
