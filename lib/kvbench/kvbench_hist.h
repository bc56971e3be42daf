#ifndef KVBENCH_HIST_H_
#define KVBENCH_HIST_H_

/*
 * kvbench_hist: a log-bucketed latency histogram.
 *
 * Values (nanoseconds, or any unit) below 32 have a bucket each; above,
 * every power of two is split into 32 equal buckets, so a value is known
 * to within 1/32 (about 3 %) of itself, over the whole 64-bit range, in
 * KVBENCH_HIST_NBUCKETS counters.  The exact minimum, maximum and sum are
 * kept beside the buckets.
 */

#include <stddef.h>
#include <stdint.h>

#define KVBENCH_HIST_SUB	32
#define KVBENCH_HIST_NBUCKETS	(KVBENCH_HIST_SUB * 61)

struct kvbench_hist {
	uint64_t count;
	uint64_t min;
	uint64_t max;
	double sum;
	uint64_t b[KVBENCH_HIST_NBUCKETS];
};

/**
 * kvbench_hist_reset(h):
 * Empty ${h}.  A zero-filled structure is also an empty histogram except
 * for its minimum; call this before first use.
 */
void kvbench_hist_reset(struct kvbench_hist *);

/**
 * kvbench_hist_add(h, v):
 * Record the value ${v} in ${h}.
 */
void kvbench_hist_add(struct kvbench_hist *, uint64_t);

/**
 * kvbench_hist_merge(dst, src):
 * Add every value recorded in ${src} to ${dst}.
 */
void kvbench_hist_merge(struct kvbench_hist *, const struct kvbench_hist *);

/**
 * kvbench_hist_bucket(v):
 * Return the index of the bucket holding ${v}.
 */
size_t kvbench_hist_bucket(uint64_t);

/**
 * kvbench_hist_lower(i), kvbench_hist_upper(i):
 * Return the smallest and the largest value bucket ${i} holds.
 */
uint64_t kvbench_hist_lower(size_t);
uint64_t kvbench_hist_upper(size_t);

/**
 * kvbench_hist_quantile(h, q):
 * Return the value at quantile ${q} (0 < q <= 1; 0.99 for p99): the
 * upper bound of the bucket holding the ceil(q * count)-th smallest
 * value, but never more than the exact maximum.  0 if ${h} is empty.
 */
uint64_t kvbench_hist_quantile(const struct kvbench_hist *, double);

#endif /* !KVBENCH_HIST_H_ */
