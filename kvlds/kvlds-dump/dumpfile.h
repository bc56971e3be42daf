#ifndef DUMPFILE_H_
#define DUMPFILE_H_

/*
 * dumpfile: the file format of kvlds-dump and kvlds-undump (FORMAT.md
 * beside this file describes it byte by byte).
 *
 *	header	32 bytes: magic "KVLDSDMP", version, flags, time, the
 *		source server's key and value limits
 *	pairs	each: 0x01, key length, key, value length, value; keys
 *		strictly increasing (unsigned bytewise)
 *	trailer	0x00, 8-byte pair count, then the SHA-256 of every byte
 *		of the file before it
 *
 * The writer streams pairs to a stdio FILE; the reader streams them back
 * and checks everything (magic, version, order, count, checksum, nothing
 * after the checksum) as it goes, so a corrupt file is known at the
 * latest when its last pair has been read.  Readers and writers report
 * errors themselves (lib/log), naming the file.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Header size, format version, flags. */
#define DUMPFILE_HDRLEN		32
#define DUMPFILE_VERSION	1
#define DUMPFILE_F_SNAPSHOT	0x00000001U	/* one commit, consistent */

/* What a header says. */
struct dumpfile_info {
	uint32_t flags;
	uint64_t time;		/* Seconds since the epoch, dump start. */
	uint32_t maxkey;	/* Limits of the server dumped. */
	uint32_t maxval;
};

struct dumpfile_w;
struct dumpfile_r;

/**
 * dumpfile_wopen(f, name, info):
 * Start a dump file on the stdio stream ${f} (positioned at its start;
 * not closed by this module) described by ${info}, writing its header.
 * ${name} names the file in messages.  Return the writer, or NULL
 * (printed).
 */
struct dumpfile_w * dumpfile_wopen(FILE *, const char *,
    const struct dumpfile_info *);

/**
 * dumpfile_wpair(w, key, keylen, value, valuelen):
 * Append a pair (lengths at most 255; keys must come in strictly
 * increasing order, which the reader checks).  Return 0, or -1 (printed)
 * on a write error.
 */
int dumpfile_wpair(struct dumpfile_w *, const uint8_t *, size_t,
    const uint8_t *, size_t);

/**
 * dumpfile_wbytes(w), dumpfile_wcount(w):
 * Return the bytes written so far and the pairs written so far.
 */
uint64_t dumpfile_wbytes(const struct dumpfile_w *);
uint64_t dumpfile_wcount(const struct dumpfile_w *);

/**
 * dumpfile_wfinish(w):
 * Write the trailer (pair count and checksum) and flush the stream.
 * Return 0, or -1 (printed) on a write error.  The caller then syncs and
 * closes the stream.
 */
int dumpfile_wfinish(struct dumpfile_w *);

/**
 * dumpfile_wfree(w):
 * Free ${w} (the stream is not closed).  NULL is a no-op.
 */
void dumpfile_wfree(struct dumpfile_w *);

/**
 * dumpfile_ropen(f, name, info):
 * Start reading the dump file on the stream ${f} (at its start; not
 * closed by this module), named ${name} in messages: read and check the
 * header and store what it says in ${info}.  Return the reader, or NULL
 * after printing why (not a dump file, unknown version or flags,
 * truncated, read error).
 */
struct dumpfile_r * dumpfile_ropen(FILE *, const char *,
    struct dumpfile_info *);

/**
 * dumpfile_rpair(r, key, keylen, value, valuelen):
 * Read the next pair: set the pointers (valid until the next call) and
 * lengths and return 1; or, at the trailer, check the pair count, the
 * checksum and that nothing follows, and return 0 if all hold; or return
 * -1 after printing why the file is corrupt or unreadable.  After 0 or
 * -1 the reader must not be used except for dumpfile_rfree.
 */
int dumpfile_rpair(struct dumpfile_r *, const uint8_t **, size_t *,
    const uint8_t **, size_t *);

/**
 * dumpfile_rbytes(r), dumpfile_rcount(r):
 * Return the bytes read so far and the pairs read so far.
 */
uint64_t dumpfile_rbytes(const struct dumpfile_r *);
uint64_t dumpfile_rcount(const struct dumpfile_r *);

/**
 * dumpfile_rfree(r):
 * Free ${r} (the stream is not closed).  NULL is a no-op.
 */
void dumpfile_rfree(struct dumpfile_r *);

#endif /* !DUMPFILE_H_ */
