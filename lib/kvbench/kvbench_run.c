#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "keyfile/keyfile.h"
#include "kvclient/kvclient.h"
#include "log/log.h"

#include "kvbench.h"

/*
 * The closed-loop driver.  Thread 0 is the calling thread: its event
 * loop also runs the meter, which pulls the per-thread counters once a
 * second.  Every thread has a short poll timer that ends its loop once
 * the run is over (the meter is done) or has failed anywhere; the
 * counters and flags are atomics, loaded and stored with relaxed order
 * (each counter has one writer, so an increment is a plain load and
 * store, no locked instruction).
 */

/* How often an idle thread looks at the shared flags. */
#define POLL_US		20000

struct run {
	const struct kvbench_workload *w;
	struct kvbench_opts o;
	uint8_t *pairs;
	uint8_t key[32];	/* -K: the key, loaded once. */
	struct kvclient_opts ko;
	struct kvbench_thread *th;
	size_t nth;
	atomic_int over;	/* The recording period is over. */
	atomic_int failed;	/* Something failed: exit 1. */
};

struct kvbench_thread {
	struct run *R;
	size_t idx;
	struct event_base *base;
	struct kvclient *K;
	struct event *poll;
	void *state;
	pthread_t thr;
	int started;
	atomic_uint_fast64_t count;
	/* Keep counters of different threads on different cache lines. */
	char pad[64];
};

/**
 * kvbench_complete(th, status, n):
 * Count ${n} completions; return non-zero if another request should go.
 */
int
kvbench_complete(struct kvbench_thread *th, int status, uint64_t n)
{
	struct run *R = th->R;

	if (status == KVCLIENT_FAIL) {
		kvbench_thread_fail(th);
		return (0);
	}
	atomic_store_explicit(&th->count, atomic_load_explicit(&th->count,
	    memory_order_relaxed) + n, memory_order_relaxed);
	if (atomic_load_explicit(&R->over, memory_order_relaxed) ||
	    atomic_load_explicit(&R->failed, memory_order_relaxed)) {
		event_base_loopbreak(th->base);
		return (0);
	}
	return (1);
}

/**
 * kvbench_getcb(cookie, status, value, valuelen):
 * Count the answer and send the next request.
 */
void
kvbench_getcb(void *cookie, int status, const uint8_t *v, size_t vl)
{
	struct kvbench_thread *th = cookie;

	(void)v;
	(void)vl;
	if (kvbench_complete(th, status, 1) && th->R->w->issue(th))
		kvbench_thread_fail(th);
}

/**
 * kvbench_statuscb(cookie, status):
 * Count the answer and send the next request.
 */
void
kvbench_statuscb(void *cookie, int status)
{

	kvbench_getcb(cookie, status, NULL, 0);
}

/**
 * kvbench_uniform_thread(th):
 * Start the struct kvbench_uniform at the head of the thread's state.
 */
int
kvbench_uniform_thread(struct kvbench_thread *th)
{

	kvbench_uniform_init(th->state, th->R->pairs, th->R->o.n,
	    kvbench_thread_seed(th));
	return (0);
}

/**
 * kvbench_thread_fail(th):
 * End the run with an error.
 */
void
kvbench_thread_fail(struct kvbench_thread *th)
{

	atomic_store(&th->R->failed, 1);
	event_base_loopbreak(th->base);
}

struct kvclient *
kvbench_thread_client(struct kvbench_thread *th)
{

	return (th->K);
}

const struct kvbench_opts *
kvbench_thread_opts(struct kvbench_thread *th)
{

	return (&th->R->o);
}

const uint8_t *
kvbench_thread_pairs(struct kvbench_thread *th)
{

	return (th->R->pairs);
}

void *
kvbench_thread_arg(struct kvbench_thread *th)
{

	return (th->R->w->arg);
}

size_t
kvbench_thread_index(struct kvbench_thread *th)
{

	return (th->idx);
}

uint64_t
kvbench_thread_seed(struct kvbench_thread *th)
{

	/* Thread 0 keeps --seed, so that -T 1 repeats the old runs. */
	return (th->R->o.seed ^ ((uint64_t)th->idx * 0x9e3779b97f4a7c15ULL));
}

void *
kvbench_thread_state(struct kvbench_thread *th)
{

	return (th->state);
}

void
kvbench_thread_setstate(struct kvbench_thread *th, void *state)
{

	th->state = state;
}

/* The meter's count: the sum of the threads' counters. */
static uint64_t
pull(void *cookie)
{
	struct run *R = cookie;
	uint64_t total = 0;
	size_t i;

	for (i = 0; i < R->nth; i++)
		total += atomic_load_explicit(&R->th[i].count,
		    memory_order_relaxed);
	return (total);
}

static void
pollcb(evutil_socket_t fd, short what, void *cookie)
{
	struct kvbench_thread *th = cookie;

	(void)fd;
	(void)what;
	if (atomic_load_explicit(&th->R->over, memory_order_relaxed) ||
	    atomic_load_explicit(&th->R->failed, memory_order_relaxed))
		event_base_loopbreak(th->base);
}

static void *
thread_main(void *cookie)
{
	struct kvbench_thread *th = cookie;

	if (event_base_dispatch(th->base) == -1)
		atomic_store(&th->R->failed, 1);
	return (NULL);
}

/* Open thread ${th}'s loop and connection and start its load. */
static int
thread_open(struct kvbench_thread *th, size_t inflight)
{
	const struct kvbench_workload *w = th->R->w;
	struct timeval tv = { 0, POLL_US };
	size_t i;

	if ((th->base = event_base_new()) == NULL) {
		warn0("event_base_new failed");
		return (-1);
	}
	if ((th->poll = event_new(th->base, -1, EV_PERSIST, pollcb, th)) ==
	    NULL || event_add(th->poll, &tv)) {
		warn0("cannot start the poll timer");
		return (-1);
	}
	if ((th->K = kvclient_open(th->base, th->R->o.addr, &th->R->ko)) ==
	    NULL)
		return (-1);
	if ((w->statesize > 0) &&
	    ((th->state = calloc(1, w->statesize)) == NULL)) {
		warnp("calloc");
		return (-1);
	}
	if ((w->init != NULL) && w->init(th))
		return (-1);
	if (w->prime != NULL)
		return (w->prime(th, inflight));
	for (i = 0; i < inflight; i++)
		if (w->issue(th))
			return (-1);
	return (0);
}

static void
thread_close(struct kvbench_thread *th)
{
	const struct kvbench_workload *w = th->R->w;

	kvclient_free(th->K);
	if (w->fini != NULL)
		w->fini(th);
	if (w->statesize > 0)
		free(th->state);
	if (th->poll != NULL)
		event_free(th->poll);
	if (th->base != NULL)
		event_base_free(th->base);
}

/**
 * kvbench_run(argc, argv, w):
 * Run the workload ${w} as the whole program; return the exit status.
 */
int
kvbench_run(int argc, char **argv, const struct kvbench_workload *w)
{
	struct kvbench_meter *m = NULL;
	struct run *R;
	size_t i, n;
	int rc = 1;

	if ((R = calloc(1, sizeof(*R))) == NULL) {
		warnp("calloc");
		return (1);
	}
	R->w = w;
	kvbench_getopts(argc, argv, &R->o, &w->cl);
	if (w->pairs && ((R->pairs = kvbench_pairs(R->o.n)) == NULL))
		goto err0;
	if ((w->setup != NULL) && w->setup(&R->o, w->arg))
		goto err0;
	if (R->o.keyfile != NULL) {
		if (keyfile_load(R->o.keyfile, &R->o.kopts, R->key))
			goto err0;
		R->ko.key = R->key;
	}
	R->nth = R->o.threads;
	if ((R->th = calloc(R->nth, sizeof(*R->th))) == NULL) {
		warnp("calloc");
		goto err0;
	}
	for (i = 0; i < R->nth; i++) {
		R->th[i].R = R;
		R->th[i].idx = i;
		atomic_init(&R->th[i].count, 0);
	}

	/* Connect and prime every thread, then start the clock. */
	for (i = 0; i < R->nth; i++) {
		n = R->o.inflight / R->nth + (i < R->o.inflight % R->nth);
		if (thread_open(&R->th[i], n))
			goto err1;
	}
	if ((m = kvbench_meter_new(R->th[0].base, R->o.warmup, R->o.seconds,
	    R->o.quiet ? NULL : stdout, KVBENCH_PRINT_SECONDS)) == NULL)
		goto err1;
	kvbench_meter_pull(m, pull, R);
	for (i = 1; i < R->nth; i++) {
		if ((errno = pthread_create(&R->th[i].thr, NULL, thread_main,
		    &R->th[i])) != 0) {
			warnp("pthread_create");
			atomic_store(&R->failed, 1);
			break;
		}
		R->th[i].started = 1;
	}
	if (!atomic_load(&R->failed) &&
	    (event_base_dispatch(R->th[0].base) == -1))
		atomic_store(&R->failed, 1);
	atomic_store(&R->over, 1);
	for (i = 1; i < R->nth; i++)
		if (R->th[i].started)
			pthread_join(R->th[i].thr, NULL);
	if (atomic_load(&R->failed) || !kvbench_meter_done(m))
		goto err1;
	kvbench_meter_report(m, R->o.quiet);
	rc = 0;

err1:
	if (rc != 0)
		warn0("benchmark failed");
	kvbench_meter_free(m);
	for (i = 0; i < R->nth; i++)
		thread_close(&R->th[i]);
	free(R->th);
	free(R->pairs);
	OPENSSL_cleanse(R->key, sizeof(R->key));
	free(R);
	return (rc);

err0:
	warn0("benchmark failed");
	free(R->pairs);
	OPENSSL_cleanse(R->key, sizeof(R->key));
	free(R);
	return (1);
}
