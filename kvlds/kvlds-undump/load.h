#ifndef LOAD_H_
#define LOAD_H_

/*
 * load: kvlds-undump's two passes over a dump file (dumpfile.h): check
 * all of it first, so that a corrupt file is refused before anything is
 * written to the store, then send its pairs as pipelined SET requests.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct kvclient;
struct progress;

/* What the checking pass learned. */
struct load_stats {
	uint64_t pairs;
	uint64_t bytes;		/* File size. */
	size_t maxkey;		/* Longest key and value in the file. */
	size_t maxval;
	uint32_t flags;		/* Header flags. */
};

/**
 * load_verify(f, name, st, P):
 * Read the whole dump file on ${f} (named ${name} in messages) and check
 * it (format, order, pair count, SHA-256), updating the progress bar
 * ${P}.  Fill ${st}.  Return 0, or -1 after printing why the file is
 * refused.  The stream is left at its end.
 */
int load_verify(FILE *, const char *, struct load_stats *,
    struct progress *);

/**
 * load_run(K, f, name, st, window, P):
 * Read the dump file on ${f} (rewound here) again and SET each pair on
 * ${K}, with up to ${window} requests in flight, updating the progress
 * bar ${P} (${st} from load_verify gives the totals).  The file is checked
 * again as it is read: if it changed since load_verify and is now
 * corrupt, the load stops (some pairs are then already stored).  Return
 * 0, or -1 (printed).
 */
int load_run(struct kvclient *, FILE *, const char *,
    const struct load_stats *, size_t, struct progress *);

/**
 * load_isempty(K):
 * Return 1 if the store behind ${K} holds no pair, 0 if it holds some, or
 * -1 (printed) if the request failed.
 */
int load_isempty(struct kvclient *);

#endif /* !LOAD_H_ */
