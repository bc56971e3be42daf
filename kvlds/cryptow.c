/*
 * The crypto worker (see cryptow.h).
 *
 * Two FIFO lists under one mutex: "todo" (loop thread -> worker, signalled
 * with a condition variable when the worker sleeps) and "done" (worker ->
 * loop thread, signalled with an eventfd watched by the event loop, only
 * when the list goes from empty to non-empty and the loop has not been
 * told yet).  Each job is published as soon as it is done, so that the
 * loop thread handles one batch while the worker decrypts the next.
 */
#include <sys/eventfd.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log/log.h"
#include "proto/proto_crypt.h"

#include "cryptow.h"

/* Lists of completed jobs delivered per wake-up, at most. */
#define DELIVER_ROUNDS	4

struct jlist {
	struct cryptow_job *head;
	struct cryptow_job *tail;
};

struct cryptow {
	int threaded;			/* Else jobs run at submission. */
	pthread_t thr;
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	struct jlist todo;
	struct jlist done;
	int sleeping;			/* The worker waits on cv. */
	int told;			/* The eventfd was written (or the
					   event activated). */
	int stop;
	int efd;			/* -1 without the thread. */
	struct event *ev;
	void (*donecb)(void *, struct cryptow_job *);
	void *cookie;
};

static void
jl_push(struct jlist *l, struct cryptow_job *j)
{

	j->next = NULL;
	if (l->tail != NULL)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
}

/* Run one job. */
static void
run(struct cryptow_job *j)
{

	if (j->op == CRYPTOW_ENCRYPT)
		j->result = proto_session_encrypt(j->s, j->in, j->n, j->out);
	else
		j->result = proto_session_decrypt(j->s, j->in, j->n, j->out);
}

static void *
worker(void *cookie)
{
	struct cryptow *W = cookie;
	struct cryptow_job *j;
	uint64_t one = 1;
	int tell;

	pthread_mutex_lock(&W->mtx);
	for (;;) {
		while (W->todo.head == NULL && !W->stop) {
			W->sleeping = 1;
			pthread_cond_wait(&W->cv, &W->mtx);
			W->sleeping = 0;
		}
		if ((j = W->todo.head) == NULL)
			break;
		if ((W->todo.head = j->next) == NULL)
			W->todo.tail = NULL;
		pthread_mutex_unlock(&W->mtx);

		run(j);

		pthread_mutex_lock(&W->mtx);
		jl_push(&W->done, j);
		tell = !W->told;
		W->told = 1;
		if (tell) {
			/* The loop thread only reads it: nothing to lose. */
			while (write(W->efd, &one, sizeof(one)) == -1 &&
			    errno == EINTR)
				continue;
		}
	}
	pthread_mutex_unlock(&W->mtx);
	return (NULL);
}

/* Take the list of jobs done so far. */
static struct cryptow_job *
take_done(struct cryptow *W)
{
	struct cryptow_job *j;

	pthread_mutex_lock(&W->mtx);
	j = W->done.head;
	W->done.head = W->done.tail = NULL;
	W->told = 0;
	pthread_mutex_unlock(&W->mtx);
	return (j);
}

/*
 * Deliver every job done so far, and those done meanwhile (the encrypt
 * jobs the callbacks submitted, say, so that their packets go out in this
 * turn), for at most DELIVER_ROUNDS lists: the loop must go back to its
 * sockets.
 */
static void
deliver(struct cryptow *W)
{
	struct cryptow_job *j, *next;
	int round;

	for (round = 0; round < DELIVER_ROUNDS; round++) {
		if ((j = take_done(W)) == NULL)
			break;
		for (; j != NULL; j = next) {
			next = j->next;
			W->donecb(W->cookie, j);
		}
	}
}

static void
evcb(evutil_socket_t fd, short what, void *cookie)
{
	struct cryptow *W = cookie;
	uint64_t n;

	(void)what;
	/* Clear the count first: a later write then wakes us again. */
	if (W->threaded && read(fd, &n, sizeof(n)) == -1 &&
	    errno != EAGAIN && errno != EINTR)
		warnp("read(eventfd)");
	deliver(W);
}

/**
 * cryptow_new(base, threaded, donecb, cookie):
 * Create a crypto worker delivering completions through ${base}.
 */
struct cryptow *
cryptow_new(struct event_base *base, int threaded,
    void (*donecb)(void *, struct cryptow_job *), void *cookie)
{
	struct cryptow *W;
	int rc;

	if ((W = calloc(1, sizeof(*W))) == NULL) {
		warnp("calloc");
		goto err0;
	}
	W->threaded = threaded;
	W->donecb = donecb;
	W->cookie = cookie;
	W->efd = -1;
	if (threaded &&
	    (W->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		warnp("eventfd");
		goto err1;
	}
	/* Without the thread, an event that only submission activates. */
	if ((W->ev = event_new(base, W->efd, threaded ?
	    EV_READ | EV_PERSIST : 0, evcb, W)) == NULL ||
	    (threaded && event_add(W->ev, NULL))) {
		warn0("cannot watch the crypto worker's eventfd");
		goto err2;
	}
	if ((rc = pthread_mutex_init(&W->mtx, NULL)) != 0) {
		warn0("pthread_mutex_init: %s", strerror(rc));
		goto err2;
	}
	if ((rc = pthread_cond_init(&W->cv, NULL)) != 0) {
		warn0("pthread_cond_init: %s", strerror(rc));
		goto err3;
	}
	if (threaded && (rc = pthread_create(&W->thr, NULL, worker, W)) != 0) {
		warn0("pthread_create: %s", strerror(rc));
		goto err4;
	}
	return (W);

err4:
	pthread_cond_destroy(&W->cv);
err3:
	pthread_mutex_destroy(&W->mtx);
err2:
	if (W->ev != NULL)
		event_free(W->ev);
	if (W->efd != -1)
		close(W->efd);
err1:
	free(W);
err0:
	return (NULL);
}

/**
 * cryptow_submit(W, job):
 * Queue ${job} for the worker (or run it now, without the thread).
 */
void
cryptow_submit(struct cryptow *W, struct cryptow_job *job)
{

	if (!W->threaded) {
		run(job);
		jl_push(&W->done, job);
		if (!W->told) {
			W->told = 1;
			event_active(W->ev, EV_READ, 0);
		}
		return;
	}
	pthread_mutex_lock(&W->mtx);
	jl_push(&W->todo, job);
	if (W->sleeping)
		pthread_cond_signal(&W->cv);
	pthread_mutex_unlock(&W->mtx);
}

/**
 * cryptow_free(W):
 * Finish the queued jobs, stop the worker, deliver, free.
 */
void
cryptow_free(struct cryptow *W)
{

	if (W == NULL)
		return;
	if (W->threaded) {
		pthread_mutex_lock(&W->mtx);
		W->stop = 1;
		pthread_cond_signal(&W->cv);
		pthread_mutex_unlock(&W->mtx);
		pthread_join(W->thr, NULL);
	}
	deliver(W);
	event_free(W->ev);
	if (W->efd != -1)
		close(W->efd);
	pthread_cond_destroy(&W->cv);
	pthread_mutex_destroy(&W->mtx);
	free(W);
}
