#ifndef READER_H_
#define READER_H_

/*
 * reader: page reads off the event loop, for the kvlds engine.
 *
 * A small table of slots, each holding the log address of a page and a
 * page-sized buffer, and a few threads that read the queued slots with
 * pagestore_read.  The loop thread submits addresses and collects the
 * bytes; the threads signal each completion through an eventfd.  Bytes
 * are kept by address: log addresses are never reused (segments are
 * numbered upwards and never rewritten in place), so a completed read
 * stays valid until it is taken.
 *
 * Slot states:
 *
 *	FREE --(reader_submit)--> QUEUED --(a thread takes it)--> BUSY
 *	BUSY --(read ok)--> DONE	BUSY --(read failed)--> FAILED
 *	DONE/FAILED --(reader_release, or reclaimed by a submit that
 *	    finds no FREE slot, oldest completion first)--> FREE
 *
 * Threads: reader_init, reader_free, reader_lookup, reader_submit,
 * reader_release, reader_poll, reader_exclude and reader_include are
 * called from one thread (the loop); the reader threads only read.
 */

#include <stddef.h>
#include <stdint.h>

struct pagestore;
struct reader;

/* reader_lookup results. */
#define READER_ABSENT	0	/* no slot for this address */
#define READER_PENDING	1	/* queued or being read */
#define READER_DONE	2	/* the bytes are ready */
#define READER_FAILED	3	/* the read failed (logged) */

/*
 * reader_init(ps, pagesize, nslots, nthreads, delayms):
 * Start ${nthreads} threads reading pages of ${pagesize} bytes from ${ps}
 * (pagestore_read must be safe to call from them), with ${nslots} slots.
 * ${delayms} > 0 delays every read that long (tests only: a slow disk).
 * Signals are blocked in the threads.  Return NULL on error (logged).
 */
struct reader *reader_init(struct pagestore *, size_t, size_t, int, long);

/* reader_fd(R): an eventfd that becomes readable when reads complete. */
int reader_fd(struct reader *);

/*
 * reader_poll(R):
 * Drain the eventfd; return the number of reads completed since the
 * last call (0 if none).
 */
uint64_t reader_poll(struct reader *);

/*
 * reader_lookup(R, addr, buf, len):
 * The state of the read of ${addr} (READER_*); for READER_DONE set *buf
 * and *len to its bytes, which stay valid until reader_release or the
 * next reader_submit.
 */
int reader_lookup(struct reader *, uint64_t, const uint8_t **, size_t *);

/*
 * reader_submit(R, addr):
 * Queue a read of ${addr} (not already in a slot).  Return 0, or -1 if
 * every slot is queued or busy (retry after a completion).
 */
int reader_submit(struct reader *, uint64_t);

/* reader_release(R, addr): free the DONE or FAILED slot of ${addr}. */
void reader_release(struct reader *, uint64_t);

/*
 * reader_exclude(R), reader_include(R):
 * Keep the threads out of pagestore_read between the two calls (wait for
 * reads in progress), for calls that change the store's segments
 * (pagestore_reserve, pagestore_free) whose backend may not allow a
 * concurrent read.
 */
void reader_exclude(struct reader *);
void reader_include(struct reader *);

/* reader_stats(R, reads, inflight): reads done, slots not free. */
void reader_stats(struct reader *, uint64_t *, size_t *);

/*
 * reader_free(R):
 * Stop the threads (after the reads in progress) and free everything.
 * NULL is a no-op.
 */
void reader_free(struct reader *);

#endif /* !READER_H_ */
