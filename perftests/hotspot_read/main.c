/*
 * hotspot_read <socket> N: pick 2^16 consecutive keys (in key order) at
 * random among the N >= 2^16 pairs of the benchmark stream, GET them in
 * a random order, and repeat with a new order; many requests in flight
 * on one connection.  Print GETs per second, then the median.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>

#include "kvbench/kvbench.h"
#include "kvclient/kvclient.h"
#include "log/log.h"

#define HOT	65536

struct state {
	struct kvclient *K;
	struct kvbench_meter *m;
	struct kvbench_rng rng;
	uint8_t *pairs;
	uint64_t first;
	uint32_t perm[HOT];
	size_t pos;
	int failed;
};

static int issue(struct state *);

static void
shuffle(struct state *S)
{
	size_t i, j;
	uint32_t t;

	for (i = HOT - 1; i > 0; i--) {
		j = (size_t)kvbench_rng_below(&S->rng, i + 1);
		t = S->perm[i];
		S->perm[i] = S->perm[j];
		S->perm[j] = t;
	}
	S->pos = 0;
}

static void
getcb(void *cookie, int status, const uint8_t *v, size_t vl)
{
	struct state *S = cookie;

	(void)v;
	(void)vl;
	if (status == KVCLIENT_FAIL) {
		S->failed = 1;
		event_base_loopbreak(kvclient_base(S->K));
		return;
	}
	kvbench_meter_add(S->m, 1);
	if (!kvbench_meter_done(S->m) && issue(S))
		S->failed = 1;
}

static int
issue(struct state *S)
{
	uint64_t i;

	if (S->pos == HOT)
		shuffle(S);
	i = S->first + S->perm[S->pos++];
	if (S->pos < HOT)
		__builtin_prefetch(S->pairs + (S->first + S->perm[S->pos]) *
		    KVBENCH_PAIRLEN);
	return (kvclient_get(S->K, S->pairs + i * KVBENCH_PAIRLEN,
	    KVBENCH_KEYLEN, getcb, S));
}

int
main(int argc, char *argv[])
{
	struct kvbench_opts o;
	struct event_base *base;
	struct state *S;
	size_t i;

	kvbench_getopts(argc, argv, &o, KVBENCH_ARGS_ADDR_N, "<socket> N",
	    50, 10, 4096);
	if (o.n < HOT) {
		warn0("N must be at least %d", HOT);
		exit(1);
	}
	if ((S = calloc(1, sizeof(*S))) == NULL) {
		warnp("calloc");
		exit(1);
	}
	kvbench_rng_seed(&S->rng, o.seed);
	S->first = kvbench_rng_below(&S->rng, o.n - HOT + 1);
	for (i = 0; i < HOT; i++)
		S->perm[i] = (uint32_t)i;
	shuffle(S);
	if ((S->pairs = kvbench_pairs(o.n)) == NULL)
		exit(1);
	if ((base = event_base_new()) == NULL) {
		warn0("event_base_new failed");
		exit(1);
	}
	if ((S->K = kvbench_connect(base, &o)) == NULL)
		exit(1);
	if ((S->m = kvbench_meter_new(base, o.warmup, o.seconds,
	    o.quiet ? NULL : stdout, KVBENCH_PRINT_SECONDS)) == NULL)
		exit(1);
	for (i = 0; i < o.inflight; i++)
		if (issue(S))
			exit(1);
	event_base_dispatch(base);
	if (S->failed || !kvbench_meter_done(S->m)) {
		warn0("benchmark failed");
		exit(1);
	}
	kvbench_meter_report(S->m, o.quiet);
	kvbench_meter_free(S->m);
	kvclient_free(S->K);
	event_base_free(base);
	free(S->pairs);
	free(S);
	return (0);
}
