#ifndef PROGRESS_H_
#define PROGRESS_H_

/*
 * progress: a one-line progress bar on standard error for kvlds-dump and
 * kvlds-undump: percentage and bar (when the fraction done is known),
 * pairs, bytes, byte rate and estimated time left, redrawn at most ten
 * times a second.  A disabled bar does nothing, so callers update it
 * unconditionally.
 */

#include <getopt.h>
#include <stdint.h>

struct progress;

/*
 * The -q/--quiet and -p/--progress options of kvlds-dump and kvlds-undump:
 * a program puts PROGRESS_SHORTOPTS in its optstring and PROGRESS_LONGOPTS
 * in its getopt_long table, prints progress_usage in its --help, starts
 * with bar = progress_default() and hands each option to progress_getopt()
 * before its own switch.
 */
#define PROGRESS_SHORTOPTS	"qp"
#define PROGRESS_LONGOPTS					\
	{ "quiet", no_argument, NULL, 'q' },			\
	{ "progress", no_argument, NULL, 'p' }

/* The --help lines of -q and -p. */
extern const char progress_usage[];

/**
 * progress_default():
 * Whether to draw the bar when neither -q nor -p is given: if standard
 * error is a terminal.
 */
int progress_default(void);

/**
 * progress_getopt(bar, ch):
 * If the getopt_long result ${ch} is -q or -p, set *${bar} to 0 or 1 and
 * return 1; otherwise return 0 and leave *${bar} alone.
 */
int progress_getopt(int *, int);

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
