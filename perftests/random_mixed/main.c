/*
 * random_mixed <socket> N: alternate GET and SET on uniformly random keys
 * among the N pairs of the benchmark stream, with many requests in
 * flight on one connection; print requests per second, then the median.
 * A SET writes the key's own stream value back, so the store keeps the
 * stream's contents.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>

#include "kvbench/kvbench.h"
#include "kvclient/kvclient.h"
#include "log/log.h"

struct state {
	struct kvclient *K;
	struct kvbench_meter *m;
	struct kvbench_rng rng;
	uint8_t *pairs;
	uint64_t n;
	uint64_t nexti;		/* The key after this one, prefetched. */
	uint64_t nissued;
	int failed;
};

static int issue(struct state *);

static void
done(struct state *S, int status)
{

	if (status == KVCLIENT_FAIL) {
		S->failed = 1;
		event_base_loopbreak(kvclient_base(S->K));
		return;
	}
	kvbench_meter_add(S->m, 1);
	if (!kvbench_meter_done(S->m) && issue(S))
		S->failed = 1;
}

static void
getcb(void *cookie, int status, const uint8_t *v, size_t vl)
{

	(void)v;
	(void)vl;
	done(cookie, status);
}

static void
setcb(void *cookie, int status)
{

	done(cookie, status);
}

static int
issue(struct state *S)
{
	const uint8_t *pair = S->pairs + S->nexti * KVBENCH_PAIRLEN;

	S->nexti = kvbench_rng_below(&S->rng, S->n);
	__builtin_prefetch(S->pairs + S->nexti * KVBENCH_PAIRLEN);

	if ((S->nissued++ & 1) == 0)
		return (kvclient_get(S->K, pair, KVBENCH_KEYLEN, getcb, S));
	return (kvclient_set(S->K, pair, KVBENCH_KEYLEN,
	    pair + KVBENCH_KEYLEN, KVBENCH_VALLEN, setcb, S));
}

int
main(int argc, char *argv[])
{
	struct kvbench_opts o;
	struct event_base *base;
	struct state S = { 0 };
	size_t i;

	kvbench_getopts(argc, argv, &o, KVBENCH_ARGS_ADDR_N, "<socket> N",
	    50, 100, 4096);
	kvbench_rng_seed(&S.rng, o.seed);
	S.n = o.n;
	if ((S.pairs = kvbench_pairs(o.n)) == NULL)
		exit(1);
	S.nexti = kvbench_rng_below(&S.rng, S.n);
	if ((base = event_base_new()) == NULL) {
		warn0("event_base_new failed");
		exit(1);
	}
	if ((S.K = kvbench_connect(base, &o)) == NULL)
		exit(1);
	if ((S.m = kvbench_meter_new(base, o.warmup, o.seconds,
	    o.quiet ? NULL : stdout, KVBENCH_PRINT_SECONDS)) == NULL)
		exit(1);
	for (i = 0; i < o.inflight; i++)
		if (issue(&S))
			exit(1);
	event_base_dispatch(base);
	if (S.failed || !kvbench_meter_done(S.m)) {
		warn0("benchmark failed");
		exit(1);
	}
	kvbench_meter_report(S.m, o.quiet);
	kvbench_meter_free(S.m);
	kvclient_free(S.K);
	event_base_free(base);
	free(S.pairs);
	return (0);
}
