#ifndef CRYPTOW_H_
#define CRYPTOW_H_

/*
 * The crypto worker: encrypts and decrypts spiped packets for the event
 * loop's thread, either on a thread of its own (so that the loop thread
 * only reads, writes, parses and runs the tree) or, without one, on the
 * loop thread itself, at submission.
 *
 * The loop thread submits jobs; the worker runs them in submission order
 * (so the jobs of one session and one direction complete in order) and
 * hands each back through the event loop: the done callback runs in the
 * loop thread, for every job, in submission order, and never from within
 * cryptow_submit (with or without the thread).  Between submission and
 * completion the job and its buffers belong to the worker; the session's
 * direction the job uses must not be touched by the loop thread, nor the
 * session freed.
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct event_base;
struct proto_session;

#define CRYPTOW_ENCRYPT	1	/* proto_session_encrypt(s, in, inlen, out) */
#define CRYPTOW_DECRYPT	2	/* proto_session_decrypt(s, in, npkts, out) */

struct cryptow_job {
	struct cryptow_job *next;	/* The worker's. */
	int op;				/* CRYPTOW_*. */
	struct proto_session *s;
	const uint8_t *in;
	size_t n;			/* Bytes (ENCRYPT) or packets. */
	uint8_t *out;
	ssize_t result;			/* The call's return value. */
};

struct cryptow;

/**
 * cryptow_new(base, threaded, donecb, cookie):
 * Create a crypto worker whose completions are delivered by the event
 * loop ${base}: donecb(cookie, job) for each job, in submission order,
 * with job->result set.  If ${threaded}, the jobs run on a thread started
 * here; else cryptow_submit runs each job at once, on the caller's
 * thread, and its completion is still delivered later by the loop (in
 * the same loop pass).  Return the worker, or NULL (logged).
 */
struct cryptow *cryptow_new(struct event_base *base, int threaded,
    void (*donecb)(void *, struct cryptow_job *), void *cookie);

/**
 * cryptow_submit(W, job):
 * Queue ${job} (owned by the worker until its done callback).  Cannot fail.
 */
void cryptow_submit(struct cryptow *W, struct cryptow_job *job);

/**
 * cryptow_free(W):
 * Let the worker finish the jobs queued, stop its thread (if it has one),
 * deliver every completion
 * not yet delivered (from within this call), and free ${W}.  NULL is a
 * no-op.
 */
void cryptow_free(struct cryptow *W);

#endif /* !CRYPTOW_H_ */
