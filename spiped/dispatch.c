/*
 * Accepting and limiting connections (see dispatch.h).
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>

#include <event2/event.h>

#include "log/log.h"

#include "conn.h"
#include "dispatch.h"

/* Accepts per readiness event, so one busy listener cannot starve conns. */
#define ACCEPT_BURST	32

struct dispatch {
	struct event_base *base;
	int s;
	const struct conn_opts *o;
	struct conn_targets *targets;
	int nmax;		/* 0: no limit */
	int count;		/* open connections */
	int listening;		/* accept event added */
	int shutting_down;
	struct event *acceptev;
};

static void
dispatch_listen(struct dispatch *d, int on)
{

	if (on == d->listening)
		return;
	if (on) {
		if (event_add(d->acceptev, NULL))
			warn0("cannot watch the listening socket");
	} else {
		event_del(d->acceptev);
	}
	d->listening = on;
}

static void
callback_conndone(void *cookie)
{
	struct dispatch *d = cookie;

	d->count--;
	if (d->shutting_down) {
		if (d->count == 0)
			event_base_loopexit(d->base, NULL);
		return;
	}
	dispatch_listen(d, 1);
}

static void
callback_accept(evutil_socket_t fd, short what, void *cookie)
{
	struct dispatch *d = cookie;
	int i, ns;

	/*
	 * Readable while full means a client is waiting: warn, and stop
	 * watching until a connection closes (the event is level-triggered).
	 */
	if (d->nmax > 0 && d->count >= d->nmax) {
		log_ratelimited("connection limit (-n %d) reached; "
		    "new connections wait", d->nmax);
		dispatch_listen(d, 0);
		return;
	}
	for (i = 0; i < ACCEPT_BURST; i++) {
		if (d->nmax > 0 && d->count >= d->nmax)
			return;
		ns = accept4(d->s, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (ns == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR || errno == ECONNABORTED)
				return;
			/* EMFILE and the like: keep serving the others. */
			log_ratelimitedp("accept");
			return;
		}
		if (conn_create(d->base, d->o, d->targets, ns,
		    callback_conndone, d) == NULL)
			continue;
		d->count++;
	}
}

/**
 * dispatch_start(base, s, opts, targets, nmax):
 * Accept connections on ${s}, each handled by conn.
 */
struct dispatch *
dispatch_start(struct event_base *base, int s, const struct conn_opts *o,
    struct conn_targets *targets, int nmax)
{
	struct dispatch *d;

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		warnp("calloc");
		return (NULL);
	}
	d->base = base;
	d->s = s;
	d->o = o;
	d->targets = targets;
	d->nmax = nmax;
	d->acceptev = event_new(base, s, EV_READ | EV_PERSIST,
	    callback_accept, d);
	if (d->acceptev == NULL) {
		warn0("event_new");
		free(d);
		return (NULL);
	}
	dispatch_listen(d, 1);
	return (d);
}

/**
 * dispatch_set_targets(d, targets):
 * Use ${targets} for new connections.
 */
void
dispatch_set_targets(struct dispatch *d, struct conn_targets *targets)
{

	conn_targets_release(d->targets);
	d->targets = targets;
}

/**
 * dispatch_shutdown(d):
 * Stop accepting; exit the loop once no connection is open.
 */
void
dispatch_shutdown(struct dispatch *d)
{

	d->shutting_down = 1;
	dispatch_listen(d, 0);
	if (d->count == 0)
		event_base_loopexit(d->base, NULL);
}

/**
 * dispatch_count(d):
 * The number of open connections.
 */
int
dispatch_count(const struct dispatch *d)
{

	return (d->count);
}

/**
 * dispatch_free(d):
 * Free ${d}.  NULL is a no-op.
 */
void
dispatch_free(struct dispatch *d)
{

	if (d == NULL)
		return;
	event_free(d->acceptev);
	conn_targets_release(d->targets);
	free(d);
}
