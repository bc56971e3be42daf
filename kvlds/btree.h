#ifndef BTREE_H_
#define BTREE_H_

/*
 * The kvlds storage engine: a copy-on-write B+tree whose pages are appended
 * to log segment files in a data directory (see kvlds/DESIGN.md).
 *
 * This header is the whole interface between the daemon (dispatch, group
 * commit, networking) and the engine.  All calls are made from the
 * event-loop thread, except btree_commit_write, which runs on a worker
 * thread while the loop keeps serving reads and applying new mutations.
 * After btree_io_start, the engine's own reader threads read pages that
 * are not in memory (see "Reads off the loop" below).
 *
 * Invariants:
 * - Reads (btree_get, btree_range) see the last COMMITTED tree only.
 * - Mutations go to the pending tree, in call order.
 * - At most one commit is in flight (between btree_commit_begin and
 *   btree_commit_end).
 */

#include <stddef.h>
#include <stdint.h>

struct btree;

/*
 * Returned (by lookups and mutations, after btree_io_start) when a page
 * the call needs is not in memory: its read has been queued, nothing was
 * done, and the call should be made again once btree_io_poll reports
 * completed reads.
 */
#define BTREE_AGAIN	2

struct btree_opts {
	const char *dir;	/* data directory; created if absent */
	size_t pagesize;	/* bytes, 512..131072 */
	size_t cachebytes;	/* page cache budget; 0 = unlimited */
	double costratio;	/* -S storage:I/O cost ratio; 0 = no cleaning */
};

/*
 * btree_maxsizes(pagesize, maxkey, maxval):
 * Set *maxkey and *maxval to the longest key and value (each <= 255) that
 * pages of ${pagesize} bytes can hold (255/255 from 2048 up).  Return -1
 * if ${pagesize} is outside 512..131072.
 */
int btree_maxsizes(size_t pagesize, size_t *maxkey, size_t *maxval);

/*
 * btree_open(opts):
 * Lock the data directory (a second daemon on it fails with a clear
 * message), find the newest valid commit without reading the whole log,
 * and return the store.  NULL on error (already logged: locked, damaged,
 * I/O error, page size differs from the one the store was made with...).
 */
struct btree *btree_open(const struct btree_opts *opts);

/* btree_close(bt): free everything, unlock.  btree_close(NULL) is a no-op. */
void btree_close(struct btree *bt);

/*
 * Reads see the last COMMITTED tree only (never a mutation whose commit
 * has not completed).
 *
 * btree_get(bt, key, klen, val, vlen):
 * 0 found (*val points to *vlen bytes, valid until the next btree_* call),
 * 1 absent, -1 error (logged; e.g. a damaged page).
 */
int btree_get(struct btree *bt, const uint8_t *key, size_t klen,
    const uint8_t **val, size_t *vlen);

/*
 * btree_get_batch(bt, n, keys, klens, vals, vlens, res):
 * Look up ${n} keys (keys[i], klens[i] bytes) in the committed tree, as
 * btree_get would each, but with their descents interleaved so that
 * their cache misses overlap.  res[i] is 0 (found: vals[i] points to
 * vlens[i] bytes), 1 (absent) or -1 (error, logged).  The value pointers
 * stay valid until the next btree_* call.  Return 0, or -1 if any res[i]
 * is -1.
 */
int btree_get_batch(struct btree *bt, size_t n, const uint8_t *const *keys,
    const size_t *klens, const uint8_t **vals, size_t *vlens, int *res);

/*
 * btree_get_batch_wait(bt, n, keys, klens, vals, vlens, res, waits):
 * btree_get_batch, and for each res[i] == BTREE_AGAIN (after
 * btree_io_start) set waits[i] to the log address of the page it waits
 * for (see btree_io_pending); other waits[i] are left alone.
 */
int btree_get_batch_wait(struct btree *bt, size_t n,
    const uint8_t *const *keys, const size_t *klens, const uint8_t **vals,
    size_t *vlens, int *res, uint64_t *waits);

typedef int btree_range_cb(void *cookie, const uint8_t *key, size_t klen,
    const uint8_t *val, size_t vlen);

/*
 * btree_range(bt, start, slen, end, elen, maxbytes, cb, cookie, next, nextlen):
 * Call ${cb} in key order for the pairs with start <= key < end (elen == 0:
 * no end), stopping before the running total of (2 + klen + vlen) would
 * exceed ${maxbytes}, but always with at least one pair when one remains.
 * Then set next[0..*nextlen) to the key to continue from (empty = range
 * exhausted; every key in [start, next) has been passed to cb).  A
 * non-zero return from cb aborts with -1.  0 ok, -1 error.
 */
int btree_range(struct btree *bt, const uint8_t *start, size_t slen,
    const uint8_t *end, size_t elen, size_t maxbytes,
    btree_range_cb *cb, void *cookie, uint8_t next[255], size_t *nextlen);

/*
 * Snapshots: a pinned committed tree, read while commits go on.
 *
 * btree_snapshot_open(bt, seq):
 * Pin the committed tree (the one btree_get and btree_range read at this
 * moment) and return a handle on it; if ${seq} is not NULL, set *seq to
 * that commit's sequence number.  Later commits never change what the
 * handle reads.  While any handle is open the engine keeps every page of
 * the pinned tree valid: in memory (a reference on its root node keeps
 * the nodes reachable; clean ones may still be evicted from the page
 * cache and read back) and on disk (the cleaner may move live pages into
 * new commits as usual, but does not delete, and so never reuses, a
 * segment it scanned while a handle opened before that scan is open).
 * Costs: pinned nodes stay in memory until evicted, and log segments the
 * cleaner would have freed stay on disk until the handle is closed, so
 * callers should bound the number and lifetime of handles.  Returns NULL
 * on allocation failure (logged).
 *
 * btree_snapshot_range(bt, snap, start, slen, end, elen, maxbytes, cb,
 *     cookie, next, nextlen):
 * Exactly btree_range() over the tree pinned by ${snap}.
 *
 * btree_snapshot_close(bt, snap):
 * Release the handle ${snap} (from btree_snapshot_open on ${bt}); the
 * segments it held are freed by a later commit.  NULL is a no-op.  Every
 * handle must be closed before btree_close (which closes any left open).
 *
 * btree_snapshot_count(bt): the number of open handles.
 */
struct btree_snap;
struct btree_snap *btree_snapshot_open(struct btree *bt, uint64_t *seq);
int btree_snapshot_range(struct btree *bt, struct btree_snap *snap,
    const uint8_t *start, size_t slen, const uint8_t *end, size_t elen,
    size_t maxbytes, btree_range_cb *cb, void *cookie, uint8_t next[255],
    size_t *nextlen);
void btree_snapshot_close(struct btree *bt, struct btree_snap *snap);
size_t btree_snapshot_count(struct btree *bt);

/*
 * Mutations are applied at once, in call order, to the pending tree; they
 * become visible to reads (and durable) only when a commit that includes
 * them completes.  Each returns the protocol status (0, or 1 for "not
 * done": CAS/CAD mismatch, ADD on an existing key, MODIFY on an absent
 * key) or -1 on error.
 */
int btree_set(struct btree *bt, const uint8_t *k, size_t kl,
    const uint8_t *v, size_t vl);
int btree_add(struct btree *bt, const uint8_t *k, size_t kl,
    const uint8_t *v, size_t vl);
int btree_modify(struct btree *bt, const uint8_t *k, size_t kl,
    const uint8_t *v, size_t vl);
int btree_cas(struct btree *bt, const uint8_t *k, size_t kl,
    const uint8_t *oldv, size_t ol, const uint8_t *newv, size_t nl);
int btree_delete(struct btree *bt, const uint8_t *k, size_t kl);
int btree_cad(struct btree *bt, const uint8_t *k, size_t kl,
    const uint8_t *oldv, size_t ol);

/*
 * btree_pending(bt): number of mutations applied since the last
 * btree_commit_begin (0 = nothing to commit).  Every mutation call that
 * returned 0 or 1 counts, including "not done" ones (which may rest on
 * state not yet durable); a commit with no changed page writes only its
 * commit record.
 */
size_t btree_pending(struct btree *bt);

/*
 * Reads off the loop.  Until btree_io_start, a page that is not in memory
 * (never loaded, or evicted from the page cache) is read at once, on the
 * calling thread.  After it:
 *
 * btree_io_start(bt, nthreads): start ${nthreads} reader threads and
 * switch to "nowait" lookups: btree_get, btree_range,
 * btree_snapshot_range and the six mutations return BTREE_AGAIN (and
 * btree_get_batch sets res[i] to BTREE_AGAIN) instead of waiting for a
 * missing page: a page the backend can return without a device wait
 * (pagestore_read_nowait: in the OS page cache) is read at once; any
 * other is queued (pagestore_read on a reader thread) and the call
 * changes nothing (a mutation is not counted as pending; a range may
 * have called its callback for a prefix of the pairs, which the caller
 * must discard).  Retried after the read, the call finds the page's
 * bytes kept by address, checks and installs them, and goes on (a
 * later page may return BTREE_AGAIN again).  Loads that happen once a
 * mutation has changed its leaf (merging with a sibling), and the
 * cleaner's at btree_commit_begin, stay synchronous.  -1 on error
 * (logged); 0 if already started.
 *
 * btree_io_nowait(bt, on): turn nowait lookups off (0: read at once, as
 * before btree_io_start; e.g. for a request that keeps losing its pages
 * to eviction between retries) or on again.
 *
 * btree_io_fd(bt): a descriptor (eventfd) to watch for reading: it
 * becomes readable when queued reads complete; -1 before btree_io_start.
 *
 * btree_io_poll(bt): clear that descriptor's readiness; return the number
 * of reads completed since the last call (0: none).  Calls that returned
 * BTREE_AGAIN should then be retried.
 *
 * btree_io_lastwait(bt): the log address of the page that the last call
 * which returned BTREE_AGAIN waits for (for btree_io_pending).
 *
 * btree_io_pending(bt, addr): non-zero while the read of the page at
 * ${addr} (as reported by btree_get_batch_wait) is queued or in
 * progress, so that a caller retries only what may now succeed.
 *
 * btree_prefetch(bt, key, klen, pending): queue the reads a lookup of
 * ${key} in the committed tree (${pending} == 0: a GET) or the pending
 * tree (a mutation) would need first, without looking the key up: for
 * the requests behind one that returned BTREE_AGAIN, so that their reads
 * overlap.  BTREE_AGAIN if a read is queued or in progress, 0 if the
 * path is in memory (or nowait is off), -1 on error.
 */
int btree_io_start(struct btree *bt, int nthreads);
void btree_io_nowait(struct btree *bt, int on);
int btree_io_fd(struct btree *bt);
uint64_t btree_io_poll(struct btree *bt);
uint64_t btree_io_lastwait(struct btree *bt);
int btree_io_pending(struct btree *bt, uint64_t addr);
int btree_prefetch(struct btree *bt, const uint8_t *key, size_t klen,
    int pending);

/*
 * btree_dirty_bytes(bt, cap):
 * Return the bytes of memory held by the nodes the pending tree has
 * dirtied since the last btree_commit_begin (copied, split or created by
 * mutations or by the cleaner), and set *cap to the engine's limit for
 * them (a quarter of the cache budget, at least 1 MiB; 0 when the cache
 * is unlimited).  Dirty nodes cannot be evicted until their batch is
 * durable, so they come on top of the cache: the caller should stop
 * applying mutations once the bytes pass *cap and some mutation is
 * pending (btree_pending() > 0), start a commit as soon as it can, and
 * resume after btree_commit_begin (which brings the bytes back to 0).
 * With at most one commit in flight that bounds the dirty nodes of both
 * batches to about 2 * cap.  A single mutation is always allowed when
 * nothing is pending, so progress never depends on the limit.
 */
size_t btree_dirty_bytes(struct btree *bt, size_t *cap);

/*
 * Group commit, in three phases; at most one commit in flight.
 *
 * btree_commit_begin(bt): (loop thread) freeze every mutation applied so
 * far into a commit batch: serialize the dirty pages and the commit record
 * into memory.  Mutations after this go into the next batch.  -1 on error.
 *
 * btree_commit_write(bt): (worker thread) append the frozen batch to the
 * log and fdatasync it (fsync the directory for a new segment file).  It
 * touches only the frozen batch and file descriptors, so the loop thread
 * may call the read and mutation functions meanwhile.  -1 on I/O error:
 * the daemon must then stop acknowledging and exit non-zero.
 *
 * btree_commit_end(bt): (loop thread, after btree_commit_write returned
 * 0) the frozen tree becomes the committed tree that reads see.
 */
int btree_commit_begin(struct btree *bt);
int btree_commit_write(struct btree *bt);
void btree_commit_end(struct btree *bt);

/*
 * btree_stats(bt, buf, len): write a one-line human-readable summary of
 * the store's state (pages cached/dirty, segments, bytes, commits) for
 * the SIGUSR1 log line (an object store's request counters are logged
 * on a line of their own).
 */
void btree_stats(struct btree *bt, char *buf, size_t len);

#endif /* !BTREE_H_ */
