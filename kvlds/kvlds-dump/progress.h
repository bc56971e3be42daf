#ifndef PROGRESS_H_
#define PROGRESS_H_

/*
 * progress: a one-line progress bar on standard error for kvlds-dump and
 * kvlds-undump: percentage and bar (when the fraction done is known),
 * pairs, bytes, byte rate and estimated time left, redrawn at most ten
 * times a second.  A disabled bar does nothing, so callers update it
 * unconditionally.
 */

#include <stdint.h>

struct progress;

/**
 * progress_new(verb, enabled):
 * Start a progress bar labelled ${verb} (a static string such as
 * "dump"), drawn only if ${enabled}.  Return it, or NULL (printed) if
 * memory ran out.
 */
struct progress * progress_new(const char *, int);

/**
 * progress_update(P, frac, pairs, bytes):
 * Record that ${pairs} pairs and ${bytes} bytes are done, ${frac} (0..1)
 * of the whole, or a negative ${frac} if unknown; redraw if the last
 * drawing is older than 100 ms.
 */
void progress_update(struct progress *, double, uint64_t, uint64_t);

/**
 * progress_end(P):
 * Draw the final state (total time and mean rate) and end the line.
 */
void progress_end(struct progress *);

/**
 * progress_free(P):
 * Free ${P} (ending its line if it was drawn and not ended).  NULL is a
 * no-op.
 */
void progress_free(struct progress *);

#endif /* !PROGRESS_H_ */
