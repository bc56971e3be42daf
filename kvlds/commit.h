#ifndef COMMIT_H_
#define COMMIT_H_

/*
 * commit: group commit of the kvlds store.
 *
 * The cycle, driven from the event-loop thread:
 *
 *	IDLE --(pending > 0, after the commit delay or at the forced
 *	        size)--> btree_commit_begin; began() --> WRITING
 *	WRITING: the worker thread runs btree_commit_write (append the
 *	        frozen batch, fdatasync) while the loop goes on serving
 *	        reads and applying mutations to the next batch
 *	WRITING --(worker done, 0)--> btree_commit_end; done(0) --> IDLE
 *	WRITING --(worker done, -1)--> done(-1) --> FAILED (for good)
 *
 * At most one commit is in flight, so at any time there is one open batch
 * (mutations applied since the last begin) and at most one frozen batch.
 * The worker reports back through an eventfd watched by the loop.
 */

#include <stdint.h>

struct btree;
struct event_base;

/* Group commit state: opaque. */
struct commit;

/* What the owner of the batches is told. */
struct commit_cbs {
	/* A batch was frozen: every mutation applied so far belongs to it. */
	void (*began)(void *);

	/*
	 * The frozen batch is durable and visible to reads (status 0), or
	 * its write failed (status -1, already logged): the owner must then
	 * never acknowledge anything again and exit non-zero.
	 */
	void (*done)(void *, int);
};

/**
 * commit_init(base, bt, delay, force, cbs, cookie):
 * Start group commit of the store ${bt} on the event loop ${base}: a
 * commit starts when commit_poke() finds mutations pending and none in
 * flight, once ${delay} seconds have passed (0: at once) or as soon as
 * ${force} mutations are pending (0: no forced size).  ${cbs} (which must
 * outlive the state) are called from the loop with ${cookie}.  Starts the
 * worker thread.  Return the state, or NULL on error (logged).
 */
struct commit *commit_init(struct event_base *, struct btree *, double,
    uint64_t, const struct commit_cbs *, void *);

/**
 * commit_poke(C, now):
 * Called at the end of every event-loop turn: if no commit is in flight
 * and mutations are pending, start a commit now if the delay is 0, the
 * forced size is reached or ${now} is non-zero (shutting down), else arm
 * the delay timer if it is not armed.  A failure to begin is reported
 * through done(-1).
 */
void commit_poke(struct commit *, int);

/**
 * commit_inflight(C):
 * Return non-zero while a commit is between begin and done.
 */
int commit_inflight(const struct commit *);

/**
 * commit_count(C):
 * Return the number of commits completed.
 */
uint64_t commit_count(const struct commit *);

/**
 * commit_free(C):
 * Stop the worker thread (waiting for a write in progress to finish, whose
 * result is then dropped) and free the state.  NULL is a no-op.
 */
void commit_free(struct commit *);

#endif /* !COMMIT_H_ */
