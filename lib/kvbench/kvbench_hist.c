#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kvbench_hist.h"

/* log2 of KVBENCH_HIST_SUB. */
#define SUBBITS	5

/**
 * kvbench_hist_reset(h):
 * Empty ${h}.
 */
void
kvbench_hist_reset(struct kvbench_hist *h)
{

	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

/**
 * kvbench_hist_bucket(v):
 * Return the index of the bucket holding ${v}.
 */
size_t
kvbench_hist_bucket(uint64_t v)
{
	int e;

	if (v < KVBENCH_HIST_SUB)
		return ((size_t)v);
	e = 63 - __builtin_clzll(v);
	return ((size_t)(e - SUBBITS + 1) * KVBENCH_HIST_SUB +
	    (size_t)((v >> (e - SUBBITS)) & (KVBENCH_HIST_SUB - 1)));
}

/**
 * kvbench_hist_lower(i), kvbench_hist_upper(i):
 * Return the smallest and the largest value bucket ${i} holds.
 */
uint64_t
kvbench_hist_lower(size_t i)
{
	int e;

	if (i < KVBENCH_HIST_SUB)
		return ((uint64_t)i);
	e = (int)(i / KVBENCH_HIST_SUB) + SUBBITS - 1;
	return ((uint64_t)(KVBENCH_HIST_SUB + i % KVBENCH_HIST_SUB) <<
	    (e - SUBBITS));
}

uint64_t
kvbench_hist_upper(size_t i)
{
	int e;

	if (i < KVBENCH_HIST_SUB)
		return ((uint64_t)i);
	e = (int)(i / KVBENCH_HIST_SUB) + SUBBITS - 1;
	return (kvbench_hist_lower(i) + (((uint64_t)1 << (e - SUBBITS)) - 1));
}

/**
 * kvbench_hist_add(h, v):
 * Record the value ${v} in ${h}.
 */
void
kvbench_hist_add(struct kvbench_hist *h, uint64_t v)
{

	h->b[kvbench_hist_bucket(v)]++;
	h->count++;
	h->sum += (double)v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

/**
 * kvbench_hist_merge(dst, src):
 * Add every value recorded in ${src} to ${dst}.
 */
void
kvbench_hist_merge(struct kvbench_hist *dst, const struct kvbench_hist *src)
{
	size_t i;

	if (src->count == 0)
		return;
	for (i = 0; i < KVBENCH_HIST_NBUCKETS; i++)
		dst->b[i] += src->b[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

/**
 * kvbench_hist_quantile(h, q):
 * Return the value at quantile ${q}.
 */
uint64_t
kvbench_hist_quantile(const struct kvbench_hist *h, double q)
{
	uint64_t rank, seen = 0, u;
	size_t i;

	if (h->count == 0)
		return (0);
	rank = (uint64_t)ceil(q * (double)h->count);
	if (rank < 1)
		rank = 1;
	for (i = 0; i < KVBENCH_HIST_NBUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank) {
			u = kvbench_hist_upper(i);
			return ((u < h->max) ? u : h->max);
		}
	}
	return (h->max);
}
