#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kvbench/kvbench.h"
#include "kvbench/kvbench_hist.h"

#include "unit.h"

/* The spec's vector: the pair X = 0, Y = 0. */
static const uint8_t vec00[40] = {
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x0a, 0x88, 0x11, 0x18, 0x52, 0x09, 0x5c, 0xae,
	0x04, 0x53, 0x40, 0xea, 0x1f, 0x0b, 0x27, 0x99,
	0x44, 0xb2, 0xa7, 0x56, 0xa2, 0x13, 0xd9, 0xb5,
	0x01, 0x07, 0xd7, 0x48, 0x97, 0x71, 0xe1, 0x59
};

static void
test_vector(void)
{
	uint8_t pair[KVBENCH_PAIRLEN];

	kvbench_pair(0, pair);
	CU_ASSERT(memcmp(pair, vec00, 40) == 0);
	CU_ASSERT(memcmp(pair + 40, vec00, 40) == 0);

	/* Pair 65537: X = 1, Y = 1; value starts with 0x10001. */
	kvbench_pair(65537, pair);
	CU_ASSERT(memcmp(pair, "\0\0\0\0\0\0\0\1", 8) == 0);
	CU_ASSERT(memcmp(pair + 40, "\0\0\0\0\0\1\0\1", 8) == 0);
	CU_ASSERT(memcmp(pair + 8, pair + 48, 32) == 0);
}

static void
test_stream(void)
{
	uint64_t n = 65536 + 1000, i;
	uint8_t *p = kvbench_pairs(n);
	uint8_t one[KVBENCH_PAIRLEN];
	uint64_t idx;
	int b, found00 = 0;

	CU_ASSERT_FATAL(p != NULL);
	for (i = 1; i < n; i++)
		CU_ASSERT(memcmp(p + (i - 1) * KVBENCH_PAIRLEN,
		    p + i * KVBENCH_PAIRLEN, KVBENCH_KEYLEN) < 0);
	/* Every pair is the one its value's index names. */
	for (i = 0; i < n; i++) {
		idx = 0;
		for (b = 0; b < 8; b++)
			idx = (idx << 8) | p[i * KVBENCH_PAIRLEN + 40 + b];
		CU_ASSERT_FATAL(idx < 65536 + 1000);
		kvbench_pair(idx, one);
		CU_ASSERT(memcmp(one, p + i * KVBENCH_PAIRLEN,
		    KVBENCH_PAIRLEN) == 0);
		if (memcmp(one, vec00, 40) == 0)
			found00++;
	}
	CU_ASSERT_EQUAL(found00, 1);
	free(p);
}

static void
test_median(void)
{
	uint64_t a[] = { 5, 1, 9 };
	uint64_t b[] = { 4, 1, 3, 10 };
	uint64_t c[] = { 7 };

	CU_ASSERT_EQUAL(kvbench_median(a, 3), 5);
	CU_ASSERT_EQUAL(kvbench_median(b, 4), 3);
	CU_ASSERT_EQUAL(kvbench_median(c, 1), 7);
	CU_ASSERT_EQUAL(kvbench_median(NULL, 0), 0);
}

static void
test_rng(void)
{
	struct kvbench_rng r, r2;
	int hist[10] = { 0 };
	int i;

	kvbench_rng_seed(&r, 42);
	kvbench_rng_seed(&r2, 42);
	for (i = 0; i < 100; i++)
		CU_ASSERT_EQUAL(kvbench_rng_next(&r), kvbench_rng_next(&r2));
	for (i = 0; i < 100000; i++)
		hist[kvbench_rng_below(&r, 10)]++;
	for (i = 0; i < 10; i++)
		CU_ASSERT(hist[i] > 9000 && hist[i] < 11000);
}

static void
test_hist(void)
{
	static struct kvbench_hist h;
	uint64_t v, q;
	size_t i;

	/* Buckets tile the range: upper(i) + 1 == lower(i + 1). */
	for (i = 0; i + 1 < KVBENCH_HIST_NBUCKETS; i++)
		CU_ASSERT_EQUAL_FATAL(kvbench_hist_upper(i) + 1,
		    kvbench_hist_lower(i + 1));
	CU_ASSERT_EQUAL(kvbench_hist_upper(KVBENCH_HIST_NBUCKETS - 1),
	    UINT64_MAX);
	for (v = 1; v < ((uint64_t)1 << 40); v = v * 3 + 1) {
		i = kvbench_hist_bucket(v);
		CU_ASSERT(kvbench_hist_lower(i) <= v &&
		    v <= kvbench_hist_upper(i));
		/* Relative precision 1/32. */
		CU_ASSERT((double)(kvbench_hist_upper(i) -
		    kvbench_hist_lower(i)) <= (double)v / 32 + 1);
	}
	kvbench_hist_reset(&h);
	CU_ASSERT_EQUAL(kvbench_hist_quantile(&h, 0.5), 0);
	for (v = 1; v <= 100000; v++)
		kvbench_hist_add(&h, v * 1000);
	CU_ASSERT_EQUAL(h.count, 100000);
	CU_ASSERT_EQUAL(h.min, 1000);
	CU_ASSERT_EQUAL(h.max, 100000000);
	q = kvbench_hist_quantile(&h, 0.5);
	CU_ASSERT(q >= 50000000 && q <= 50000000 * 1.04);
	q = kvbench_hist_quantile(&h, 0.99);
	CU_ASSERT(q >= 99000000 && q <= 100000000);
	CU_ASSERT_EQUAL(kvbench_hist_quantile(&h, 1.0), 100000000);
	/* A single huge outlier is the max but not the p99. */
	kvbench_hist_add(&h, 5000000000ULL);
	CU_ASSERT_EQUAL(kvbench_hist_quantile(&h, 1.0), 5000000000ULL);
	CU_ASSERT(kvbench_hist_quantile(&h, 0.99) <= 100000000 * 1.04);
}

UNIT_MAIN("mkpairs",
    { "X=0,Y=0 vector", test_vector },
    { "stream order and contents", test_stream },
    { "median", test_median },
    { "rng", test_rng },
    { "latency histogram", test_hist })
