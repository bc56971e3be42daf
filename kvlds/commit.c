#include <sys/eventfd.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log/log.h"

#include "btree.h"
#include "commit.h"

struct commit {
	struct event_base *base;
	struct btree *bt;
	double delay;
	uint64_t force;
	const struct commit_cbs *cbs;
	void *cookie;

	/* Loop-thread state. */
	struct event *ev_done;		/* The worker finished a write. */
	struct event *ev_timer;		/* The commit delay ran out. */
	int timer_armed;
	int inflight;			/* Between begin and done. */
	int failed;			/* A commit failed: do nothing more. */
	uint64_t ncommits;

	/* Shared with the worker, under mtx. */
	pthread_t thr;
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	int go;				/* A frozen batch awaits writing. */
	int quit;			/* The worker must exit. */
	int result;			/* btree_commit_write's return. */
	int efd;			/* Worker -> loop: a write is done. */
};

/* The worker thread: write each frozen batch, then wake the loop. */
static void *
worker(void *cookie)
{
	struct commit *C = cookie;
	uint64_t one = 1;
	int r;

	for (;;) {
		pthread_mutex_lock(&C->mtx);
		while (!C->go && !C->quit)
			pthread_cond_wait(&C->cv, &C->mtx);
		if (!C->go) {
			pthread_mutex_unlock(&C->mtx);
			break;
		}
		C->go = 0;
		pthread_mutex_unlock(&C->mtx);

		r = btree_commit_write(C->bt);

		pthread_mutex_lock(&C->mtx);
		C->result = r;
		pthread_mutex_unlock(&C->mtx);

		/* An eventfd write of 1 cannot fail short of a bug. */
		while (write(C->efd, &one, sizeof(one)) != sizeof(one)) {
			if (errno != EINTR) {
				warnp("commit: eventfd write");
				abort();
			}
		}
	}
	return (NULL);
}

/* Fail for good: report once through done(-1). */
static void
commit_fail(struct commit *C)
{

	C->failed = 1;
	C->inflight = 0;
	C->cbs->done(C->cookie, -1);
}

/* Freeze the open batch and hand it to the worker. */
static void
commit_start(struct commit *C)
{

	if (C->timer_armed) {
		evtimer_del(C->ev_timer);
		C->timer_armed = 0;
	}
	if (btree_commit_begin(C->bt)) {
		warn0("commit: cannot begin a commit");
		commit_fail(C);
		return;
	}
	C->inflight = 1;
	C->cbs->began(C->cookie);

	/* Signal after unlocking: the worker wakes to a free mutex. */
	pthread_mutex_lock(&C->mtx);
	C->go = 1;
	pthread_mutex_unlock(&C->mtx);
	pthread_cond_signal(&C->cv);
}

/* The worker wrote a batch: publish it, or fail. */
static void
commit_donecb(evutil_socket_t fd, short what, void *cookie)
{
	struct commit *C = cookie;
	uint64_t n;
	int r;

	(void)what;
	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return;
	pthread_mutex_lock(&C->mtx);
	r = C->result;
	pthread_mutex_unlock(&C->mtx);

	if (r != 0) {
		warn0("commit: writing a commit failed; "
		    "no further request will be acknowledged");
		commit_fail(C);
		return;
	}
	btree_commit_end(C->bt);
	C->inflight = 0;
	C->ncommits++;
	C->cbs->done(C->cookie, 0);
}

/* The commit delay ran out. */
static void
commit_timercb(evutil_socket_t fd, short what, void *cookie)
{
	struct commit *C = cookie;

	(void)fd;
	(void)what;
	C->timer_armed = 0;
	if (!C->inflight && !C->failed && btree_pending(C->bt) > 0)
		commit_start(C);
}

/**
 * commit_init(base, bt, delay, force, cbs, cookie):
 * Start group commit of the store ${bt} on the event loop ${base}: a
 * commit starts when commit_poke() finds mutations pending and none in
 * flight, once ${delay} seconds have passed (0: at once) or as soon as
 * ${force} mutations are pending (0: no forced size).  ${cbs} (which must
 * outlive the state) are called from the loop with ${cookie}.  Starts the
 * worker thread.  Return the state, or NULL on error (logged).
 */
struct commit *
commit_init(struct event_base *base, struct btree *bt, double delay,
    uint64_t force, const struct commit_cbs *cbs, void *cookie)
{
	struct commit *C;
	sigset_t all, old;
	int rc;

	if ((C = calloc(1, sizeof(*C))) == NULL) {
		warnp("calloc");
		goto err0;
	}
	C->base = base;
	C->bt = bt;
	C->delay = delay;
	C->force = force;
	C->cbs = cbs;
	C->cookie = cookie;

	if ((C->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		warnp("eventfd");
		goto err1;
	}
	if ((C->ev_done = event_new(base, C->efd, EV_READ | EV_PERSIST,
	    commit_donecb, C)) == NULL) {
		warn0("event_new");
		goto err2;
	}
	if (event_add(C->ev_done, NULL)) {
		warn0("event_add");
		goto err3;
	}
	if ((C->ev_timer = evtimer_new(base, commit_timercb, C)) == NULL) {
		warn0("evtimer_new");
		goto err3;
	}
	if ((rc = pthread_mutex_init(&C->mtx, NULL)) != 0) {
		errno = rc;
		warnp("pthread_mutex_init");
		goto err4;
	}
	if ((rc = pthread_cond_init(&C->cv, NULL)) != 0) {
		errno = rc;
		warnp("pthread_cond_init");
		goto err5;
	}

	/* Signals are for the loop thread: the worker blocks them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&C->thr, NULL, worker, C);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		errno = rc;
		warnp("pthread_create");
		goto err6;
	}
	return (C);

err6:
	pthread_cond_destroy(&C->cv);
err5:
	pthread_mutex_destroy(&C->mtx);
err4:
	event_free(C->ev_timer);
err3:
	event_free(C->ev_done);
err2:
	close(C->efd);
err1:
	free(C);
err0:
	return (NULL);
}

/**
 * commit_poke(C, now):
 * Called at the end of every event-loop turn: if no commit is in flight
 * and mutations are pending, start a commit now if the delay is 0, the
 * forced size is reached or ${now} is non-zero (shutting down), else arm
 * the delay timer if it is not armed.  A failure to begin is reported
 * through done(-1).
 */
void
commit_poke(struct commit *C, int now)
{
	struct timeval tv;
	size_t pending;

	if (C->inflight || C->failed)
		return;
	if ((pending = btree_pending(C->bt)) == 0)
		return;
	if (now || C->delay <= 0 || (C->force > 0 && pending >= C->force)) {
		commit_start(C);
		return;
	}
	if (!C->timer_armed) {
		tv.tv_sec = (time_t)C->delay;
		tv.tv_usec = (suseconds_t)((C->delay - (double)tv.tv_sec) *
		    1000000.0);
		if (evtimer_add(C->ev_timer, &tv)) {
			/* Without a timer, commit at once rather than never. */
			commit_start(C);
			return;
		}
		C->timer_armed = 1;
	}
}

/**
 * commit_inflight(C):
 * Return non-zero while a commit is between begin and done.
 */
int
commit_inflight(const struct commit *C)
{

	return (C->inflight);
}

/**
 * commit_count(C):
 * Return the number of commits completed.
 */
uint64_t
commit_count(const struct commit *C)
{

	return (C->ncommits);
}

/**
 * commit_free(C):
 * Stop the worker thread (waiting for a write in progress to finish, whose
 * result is then dropped) and free the state.  NULL is a no-op.
 */
void
commit_free(struct commit *C)
{

	if (C == NULL)
		return;
	pthread_mutex_lock(&C->mtx);
	C->quit = 1;
	pthread_cond_signal(&C->cv);
	pthread_mutex_unlock(&C->mtx);
	pthread_join(C->thr, NULL);

	pthread_cond_destroy(&C->cv);
	pthread_mutex_destroy(&C->mtx);
	event_free(C->ev_timer);
	event_free(C->ev_done);
	close(C->efd);
	free(C);
}
