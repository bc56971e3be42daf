/*
 * reader: page reads off the event loop (see reader.h).
 */

#include <sys/eventfd.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log/log.h"

#include "pagestore.h"
#include "reader.h"

/* Slot states. */
#define S_FREE		0
#define S_QUEUED	1
#define S_BUSY		2
#define S_DONE		3
#define S_FAILED	4

struct rslot {
	uint64_t addr;
	int state;
	size_t len;
	uint64_t doneseq;	/* order of completion, for reclaiming */
	uint8_t *buf;
};

struct reader {
	struct pagestore *ps;
	size_t pagesize;
	long delayms;

	/* Under mtx. */
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	struct rslot *slots;
	size_t nslots;
	size_t *queue;		/* ring of QUEUED slot indices */
	size_t qhead, qlen;
	size_t nused;		/* slots not FREE */
	uint64_t doneseq;
	uint64_t nreads;
	uint64_t ncompleted;	/* since the last reader_poll */
	int notified;		/* the eventfd was written since then */
	int quit;

	/* Held (shared) by a thread while it reads; exclusive to exclude. */
	pthread_rwlock_t iolock;

	int efd;
	pthread_t *thr;
	int nthr;
};

/* A reader thread: take queued slots and read them. */
static void *
worker(void *cookie)
{
	struct reader *R = cookie;
	struct rslot *s;
	struct timespec ts;
	uint64_t one = 1;
	size_t i, len;
	int rc;

	pthread_mutex_lock(&R->mtx);
	for (;;) {
		while (R->qlen == 0 && !R->quit)
			pthread_cond_wait(&R->cv, &R->mtx);
		if (R->quit)
			break;
		i = R->queue[R->qhead];
		R->qhead = (R->qhead + 1) % R->nslots;
		R->qlen--;
		s = &R->slots[i];
		s->state = S_BUSY;
		pthread_mutex_unlock(&R->mtx);

		if (R->delayms > 0) {
			ts.tv_sec = R->delayms / 1000;
			ts.tv_nsec = (R->delayms % 1000) * 1000000L;
			while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
				continue;
		}
		/* s->addr and s->buf do not change while BUSY. */
		pthread_rwlock_rdlock(&R->iolock);
		rc = pagestore_read(R->ps, s->addr, s->buf, &len);
		pthread_rwlock_unlock(&R->iolock);

		pthread_mutex_lock(&R->mtx);
		s->state = rc ? S_FAILED : S_DONE;
		s->len = rc ? 0 : len;
		s->doneseq = R->doneseq++;
		R->nreads++;
		R->ncompleted++;
		/* One wake-up until the loop polls, however many reads. */
		if (R->notified)
			continue;
		R->notified = 1;
		/* An eventfd write of 1 cannot fail short of a bug. */
		while (write(R->efd, &one, sizeof(one)) != sizeof(one)) {
			if (errno != EINTR) {
				warnp("reader: eventfd write");
				abort();
			}
		}
	}
	pthread_mutex_unlock(&R->mtx);
	return (NULL);
}

/**
 * reader_init(ps, pagesize, nslots, nthreads, delayms):
 * Start the reader threads.
 */
struct reader *
reader_init(struct pagestore *ps, size_t pagesize, size_t nslots,
    int nthreads, long delayms)
{
	struct reader *R;
	pthread_rwlockattr_t ra;
	sigset_t all, old;
	size_t i;
	int rc;

	if ((R = calloc(1, sizeof(*R))) == NULL) {
		warnp("calloc");
		goto err0;
	}
	R->ps = ps;
	R->pagesize = pagesize;
	R->delayms = delayms;
	R->nslots = nslots;
	R->efd = -1;
	if ((R->slots = calloc(nslots, sizeof(*R->slots))) == NULL ||
	    (R->queue = calloc(nslots, sizeof(*R->queue))) == NULL ||
	    (R->thr = calloc((size_t)nthreads, sizeof(*R->thr))) == NULL) {
		warnp("calloc");
		goto err1;
	}
	for (i = 0; i < nslots; i++) {
		if ((R->slots[i].buf = malloc(pagesize)) == NULL) {
			warnp("malloc");
			goto err1;
		}
	}
	if ((R->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		warnp("eventfd");
		goto err1;
	}
	if ((rc = pthread_mutex_init(&R->mtx, NULL)) != 0)
		goto err2;
	if ((rc = pthread_cond_init(&R->cv, NULL)) != 0)
		goto err3;
	/* reader_exclude must not wait behind a stream of reads. */
	if ((rc = pthread_rwlockattr_init(&ra)) != 0)
		goto err4;
	(void)pthread_rwlockattr_setkind_np(&ra,
	    PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	rc = pthread_rwlock_init(&R->iolock, &ra);
	pthread_rwlockattr_destroy(&ra);
	if (rc != 0)
		goto err4;

	/* Signals are for the loop thread: the readers block them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (; R->nthr < nthreads; R->nthr++) {
		if ((rc = pthread_create(&R->thr[R->nthr], NULL, worker,
		    R)) != 0)
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		errno = rc;
		warnp("pthread_create");
		reader_free(R);
		return (NULL);
	}
	return (R);

err4:
	pthread_cond_destroy(&R->cv);
err3:
	pthread_mutex_destroy(&R->mtx);
err2:
	errno = rc;
	warnp("pthread init");
err1:
	if (R->efd != -1)
		close(R->efd);
	if (R->slots != NULL)
		for (i = 0; i < nslots; i++)
			free(R->slots[i].buf);
	free(R->slots);
	free(R->queue);
	free(R->thr);
	free(R);
err0:
	return (NULL);
}

/**
 * reader_fd(R):
 * The completion eventfd.
 */
int
reader_fd(struct reader *R)
{

	return (R->efd);
}

/**
 * reader_poll(R):
 * Drain the eventfd: reads completed since the last call.
 */
uint64_t
reader_poll(struct reader *R)
{
	uint64_t n;

	/*
	 * Drain, then clear the flag: a read completing after the clear
	 * writes the eventfd again; one completing before it is seen by
	 * the caller's retries, which follow.
	 */
	(void)read(R->efd, &(uint64_t){0}, sizeof(uint64_t));
	pthread_mutex_lock(&R->mtx);
	R->notified = 0;
	n = R->ncompleted;
	R->ncompleted = 0;
	pthread_mutex_unlock(&R->mtx);
	return (n);
}

/* The slot of ${addr}, or NULL.  Called with mtx held. */
static struct rslot *
find(struct reader *R, uint64_t addr)
{
	size_t i;

	for (i = 0; i < R->nslots; i++)
		if (R->slots[i].state != S_FREE && R->slots[i].addr == addr)
			return (&R->slots[i]);
	return (NULL);
}

/**
 * reader_lookup(R, addr, buf, len):
 * The state of the read of ${addr}.
 */
int
reader_lookup(struct reader *R, uint64_t addr, const uint8_t **buf,
    size_t *len)
{
	struct rslot *s;
	int st;

	if (R->nused == 0)
		return (READER_ABSENT);
	pthread_mutex_lock(&R->mtx);
	if ((s = find(R, addr)) == NULL)
		st = READER_ABSENT;
	else if (s->state == S_DONE) {
		st = READER_DONE;
		*buf = s->buf;
		*len = s->len;
	} else if (s->state == S_FAILED)
		st = READER_FAILED;
	else
		st = READER_PENDING;
	pthread_mutex_unlock(&R->mtx);
	return (st);
}

/**
 * reader_submit(R, addr):
 * Queue a read of ${addr}.
 */
int
reader_submit(struct reader *R, uint64_t addr)
{
	struct rslot *s = NULL, *old = NULL;
	size_t i;

	pthread_mutex_lock(&R->mtx);
	for (i = 0; i < R->nslots; i++) {
		if (R->slots[i].state == S_FREE) {
			s = &R->slots[i];
			break;
		}
		/* A completed read nobody took: the oldest may go. */
		if ((R->slots[i].state == S_DONE ||
		    R->slots[i].state == S_FAILED) &&
		    (old == NULL || R->slots[i].doneseq < old->doneseq))
			old = &R->slots[i];
	}
	if (s == NULL) {
		if ((s = old) == NULL) {
			pthread_mutex_unlock(&R->mtx);
			return (-1);
		}
		R->nused--;
	}
	s->addr = addr;
	s->state = S_QUEUED;
	R->nused++;
	R->queue[(R->qhead + R->qlen) % R->nslots] = (size_t)(s - R->slots);
	R->qlen++;
	pthread_mutex_unlock(&R->mtx);
	pthread_cond_signal(&R->cv);
	return (0);
}

/**
 * reader_release(R, addr):
 * Free the completed slot of ${addr}.
 */
void
reader_release(struct reader *R, uint64_t addr)
{
	struct rslot *s;

	pthread_mutex_lock(&R->mtx);
	if ((s = find(R, addr)) != NULL &&
	    (s->state == S_DONE || s->state == S_FAILED)) {
		s->state = S_FREE;
		R->nused--;
	}
	pthread_mutex_unlock(&R->mtx);
}

/**
 * reader_exclude(R):
 * Keep the threads out of pagestore_read.
 */
void
reader_exclude(struct reader *R)
{

	pthread_rwlock_wrlock(&R->iolock);
}

/**
 * reader_include(R):
 * Let the threads read again.
 */
void
reader_include(struct reader *R)
{

	pthread_rwlock_unlock(&R->iolock);
}

/**
 * reader_stats(R, reads, inflight):
 * Reads done and slots in use.
 */
void
reader_stats(struct reader *R, uint64_t *reads, size_t *inflight)
{

	pthread_mutex_lock(&R->mtx);
	*reads = R->nreads;
	*inflight = R->nused;
	pthread_mutex_unlock(&R->mtx);
}

/**
 * reader_free(R):
 * Stop the threads and free everything.
 */
void
reader_free(struct reader *R)
{
	size_t i;
	int t;

	if (R == NULL)
		return;
	pthread_mutex_lock(&R->mtx);
	R->quit = 1;
	pthread_mutex_unlock(&R->mtx);
	pthread_cond_broadcast(&R->cv);
	for (t = 0; t < R->nthr; t++)
		pthread_join(R->thr[t], NULL);
	pthread_rwlock_destroy(&R->iolock);
	pthread_cond_destroy(&R->cv);
	pthread_mutex_destroy(&R->mtx);
	close(R->efd);
	for (i = 0; i < R->nslots; i++)
		free(R->slots[i].buf);
	free(R->slots);
	free(R->queue);
	free(R->thr);
	free(R);
}
