#ifndef DUMP_H_
#define DUMP_H_

/*
 * dump: read every pair of a kvlds store, in key order, into a dump file
 * (dumpfile.h).
 *
 * Consistency: the walk goes through dump_fetch(), the one function that
 * reads the store.  Today it walks with plain RANGE requests, which
 * cannot pin a commit: pairs changed while the dump runs may or may not
 * be in it (each pair is one that existed at some moment of the walk).
 * A snapshot read request (a protocol extension reading one commit)
 * replaces that one call, and the header flag DUMPFILE_F_SNAPSHOT then
 * says so.
 */

#include <stdio.h>

struct kvclient;
struct progress;

/**
 * dump_run(K, f, name, P, estimate):
 * Write every pair of the store behind ${K} as a dump file to the stream
 * ${f} (named ${name} in messages; flushed, not closed), updating the
 * progress bar ${P}.  If ${estimate} is non-zero, first probe the key
 * space (about 70 short RANGE requests) so that the bar can show a
 * fraction done and an ETA, assuming keys spread evenly over it.  Return
 * 0, or -1 (printed).
 */
int dump_run(struct kvclient *, FILE *, const char *, struct progress *,
    int);

#endif /* !DUMP_H_ */
