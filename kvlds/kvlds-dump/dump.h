#ifndef DUMP_H_
#define DUMP_H_

/*
 * dump: read every pair of a kvlds store, in key order, into a dump file
 * (dumpfile.h).
 *
 * Consistency: the walk goes through dump_fetch(), the one function that
 * reads the store.  By default it opens a snapshot (SNAPSHOT_OPEN, the
 * kvlds extension of kvlds/PROTOCOL.md) and walks it with SNAPSHOT_RANGE:
 * the dump is then exactly one commit's state however many writes go on,
 * and the header flag DUMPFILE_F_SNAPSHOT says so.  A server with no
 * snapshot to give (status 1) gets a plain RANGE walk, with a warning.
 * A kivaloo server drops the connection on the unknown request (and may
 * accept no other one), so the dump then fails with a hint; asked not to
 * use snapshots (kvlds-dump --no-snapshot) it walks with plain RANGE
 * requests, which cannot pin a commit: pairs changed while the dump runs
 * may or may not be in it (each pair is one that existed at some moment
 * of the walk), and the flag is clear.
 */

#include <stdio.h>

struct kvclient;
struct progress;

/**
 * dump_run(K, f, name, P, estimate, snapshot):
 * Write every pair of the store behind ${K} as a dump file to the stream
 * ${f} (named ${name} in messages; flushed, not closed), updating the
 * progress bar ${P}.  If ${estimate} is non-zero, first probe the key
 * space (about 70 short RANGE requests) so that the bar can show a
 * fraction done and an ETA, assuming keys spread evenly over it.  If
 * ${snapshot} is non-zero, read through a snapshot (see above).  Return
 * 0, or -1 (printed).
 */
int dump_run(struct kvclient *, FILE *, const char *, struct progress *,
    int, int);

#endif /* !DUMP_H_ */
