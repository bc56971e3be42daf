#ifndef PAGESTORE_H_
#define PAGESTORE_H_

/*
 * pagestore: the log of the kvlds engine, plus recovery.  Internal to the
 * engine; the B+tree reaches storage only through these calls, which
 * dispatch to one of two backends chosen by the store's name:
 *
 *	a directory	append-only segment files (pagestore_file.c), below;
 *	s3://bucket/prefix	one immutable object per commit batch in an
 *			S3-compatible object store (pagestore_s3.c; see
 *			DESIGN.md, "The S3 page store"): a segment there is
 *			an object, and pagestore_write returns once the
 *			store acknowledged the object's PUT.
 *
 * Files in a data directory:
 *	lock		flock()ed while a store is open.
 *	seg-XXXXXXXX	log segments (hex number from 1); a log address is
 *			segment << 32 | byte offset.  Each commit's batch
 *			(pages, then its commit record) lies in one segment.
 *	checkpoint	two 4096-byte slots; commit seq s is copied into
 *			slot s % 2 after the log holding it is fdatasync'd,
 *			then the checkpoint is fdatasync'd too.
 *
 * Recovery reads both slots and takes the newest valid one: the log holds
 * a second copy of every commit record, so a damaged newest slot is
 * recovered from the log (the batch just after the older slot's commit is
 * scanned, validating every record).  Bytes after the newest commit can
 * only be the torn tail of a batch whose checkpoint was never written:
 * they are truncated.  Anything else unexpected (no valid slot, segments
 * missing or beyond the tail, a bad page header in a batch that has a
 * valid commit after it) is damage: reported and refused.
 *
 * Threads: pagestore_write runs on the commit worker thread;
 * pagestore_read may be called from any thread, concurrently with every
 * other call; every other call on the loop thread, and never
 * pagestore_reserve while a write is in flight.
 */

#include <stddef.h>
#include <sys/types.h>

#include <stdint.h>

#include "page.h"

struct pagestore;

/* Options of the object-store backend (kvlds --s3-* options). */
struct pagestore_s3_conf {
	const char *endpoint;	/* "http://127.0.0.1:7480" (required). */
	const char *region;	/* NULL: "us-east-1". */
	const char *credentials;	/* File; NULL: the environment. */
	const char *owner;	/* Lease owner; NULL: the host name. */
};

/*
 * pagestore_set_s3(conf):
 * Use ${conf} (which must outlive the stores) for s3:// stores opened
 * later.
 */
void pagestore_set_s3(const struct pagestore_s3_conf *);

/*
 * pagestore_is_s3(name):
 * Non-zero if ${name} names an object store ("s3://...") rather than a
 * data directory.
 */
int pagestore_is_s3(const char *);

/*
 * pagestore_set_segsize(bytes):
 * Set the segment size for stores opened later (default 16 MiB; tests use
 * small ones).
 */
void pagestore_set_segsize(size_t);

/*
 * pagestore_set_nosync(on):
 * For tests and benchmarks only: if ${on}, stores opened later skip
 * fdatasync/fsync (nothing is durable against power loss).
 */
void pagestore_set_nosync(int);

/*
 * pagestore_open(dir, pagesize, c):
 * If ${dir} is "s3://bucket/prefix", open that object store (take its
 * lease; see pagestore_set_s3).  Else create ${dir} if absent, lock it.
 * Then recover the newest commit into *c
 * (a new store gets commit 0 with an empty tree) and return the store.
 * NULL on error (logged: locked, damaged, page size mismatch, I/O).
 */
struct pagestore *pagestore_open(const char *, size_t, struct page_commit *);

/*
 * pagestore_read(ps, addr, buf, len):
 * Read up to the page size of bytes at log address ${addr} into ${buf}
 * (page-size bytes long); set *len to the bytes read (fewer at the end of
 * a segment).  -1 on error (logged with file and offset).
 */
int pagestore_read(struct pagestore *, uint64_t, uint8_t *, size_t *);

/*
 * pagestore_read_nowait(ps, addr, buf, len):
 * As pagestore_read, but only if that needs no wait for a device (the
 * file backend: the bytes are in the OS page cache; preadv2 RWF_NOWAIT).
 * Return 0 (read), or 1 if it would block or failed: then nothing is
 * logged, and pagestore_read (on a reader thread, say) does the read and
 * reports any error.  A backend without such a read always returns 1.
 */
int pagestore_read_nowait(struct pagestore *, uint64_t, uint8_t *, size_t *);

/*
 * pagestore_where(ps, addr, buf, len):
 * Write "DIR/seg-XXXXXXXX offset N" for ${addr} into buf[0..len).
 */
void pagestore_where(struct pagestore *, uint64_t, char *, size_t);

/*
 * pagestore_reserve(ps, len):
 * Return the log address at which the next batch of ${len} bytes will be
 * written (starting a new segment file if the current one is full), and
 * advance the end of the log past it.  0 on error (logged).
 */
uint64_t pagestore_reserve(struct pagestore *, size_t);

/*
 * pagestore_write(ps, buf, len, addr):
 * (worker thread) Write the batch buf[0..len) at ${addr} (as returned by
 * pagestore_reserve), fdatasync it (and the directory for a new
 * segment), then copy the batch's commit record (its last
 * PAGE_COMMIT_LEN bytes) into its checkpoint slot and fdatasync the
 * checkpoint.  -1 on I/O error (logged); the store must not be written
 * again.
 */
int pagestore_write(struct pagestore *, const uint8_t *, size_t, uint64_t);

/*
 * pagestore_next(ps, after, seg, size):
 * Set *seg to the oldest segment numbered above ${after} that is not the
 * one being appended to, and *size to its length; return -1 if there is
 * none.
 */
int pagestore_next(struct pagestore *, uint32_t, uint32_t *, uint64_t *);

/*
 * pagestore_readraw(ps, addr, buf, len):
 * Read up to ${len} bytes at log address ${addr}; return the number read
 * (fewer at the end of the segment) or -1 on error (logged).
 */
ssize_t pagestore_readraw(struct pagestore *, uint64_t, uint8_t *, size_t);

/*
 * pagestore_free(ps, seg):
 * Delete segment ${seg}, which no committed tree may reference any more
 * (the cleaner moved its live pages and the commits that did so, and the
 * one after, are durable).  -1 on error (logged).
 */
int pagestore_free(struct pagestore *, uint32_t);

/*
 * pagestore_segsize(ps):
 * The segment size of this store.
 */
size_t pagestore_segsize(struct pagestore *);

/*
 * pagestore_stats(ps, nseg, bytes):
 * Number of segments and total bytes in the log.
 */
void pagestore_stats(struct pagestore *, size_t *, uint64_t *);

/*
 * pagestore_statline(ps, buf, len):
 * Write a one-line summary of the backend's own counters (for the object
 * store: requests and bytes sent and received, cache hits) into
 * buf[0..len); "" if it has none.
 */
void pagestore_statline(struct pagestore *, char *, size_t);

/*
 * pagestore_close(ps): close files, unlock (release the lease).  NULL is a
 * no-op.
 */
void pagestore_close(struct pagestore *);

#endif /* !PAGESTORE_H_ */
