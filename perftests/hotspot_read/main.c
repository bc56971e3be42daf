/*
 * hotspot_read <socket> N: pick 2^16 consecutive keys (in key order) at
 * random among the N >= 2^16 pairs of the benchmark stream, GET them in
 * a random order, and repeat with a new order; many requests in flight.
 * Print GETs per second, then the median.  With several threads
 * (kvbench_run()), they share the hot keys (chosen from --seed) and
 * each walks its own random orders of them.
 */
#include <stdint.h>

#include "kvbench/kvbench.h"
#include "kvclient/kvclient.h"
#include "log/log.h"

#define HOT	65536

struct state {
	struct kvbench_rng rng;
	const uint8_t *hot;	/* The first hot pair. */
	uint32_t perm[HOT];
	size_t pos;
};

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

static int
issue(struct kvbench_thread *th)
{
	struct state *S = kvbench_thread_state(th);
	uint32_t i;

	if (S->pos == HOT)
		shuffle(S);
	i = S->perm[S->pos++];
	if (S->pos + 8 < HOT)
		__builtin_prefetch(S->hot + (size_t)S->perm[S->pos + 8] *
		    KVBENCH_PAIRLEN);
	return (kvclient_get(kvbench_thread_client(th),
	    S->hot + (size_t)i * KVBENCH_PAIRLEN, KVBENCH_KEYLEN,
	    kvbench_getcb, th));
}

static int
setup(const struct kvbench_opts *o, void *arg)
{

	(void)arg;
	if (o->n < HOT) {
		warn0("N must be at least %d", HOT);
		return (-1);
	}
	return (0);
}

/* Pick the hot keys (from --seed, whatever the thread) and an order. */
static int
init(struct kvbench_thread *th)
{
	const struct kvbench_opts *o = kvbench_thread_opts(th);
	struct state *S = kvbench_thread_state(th);
	struct kvbench_rng r0;
	size_t i;

	kvbench_rng_seed(&r0, o->seed);
	S->hot = kvbench_thread_pairs(th) +
	    kvbench_rng_below(&r0, o->n - HOT + 1) * KVBENCH_PAIRLEN;
	if (kvbench_thread_index(th) == 0)
		S->rng = r0;
	else
		kvbench_rng_seed(&S->rng, kvbench_thread_seed(th));
	for (i = 0; i < HOT; i++)
		S->perm[i] = (uint32_t)i;
	shuffle(S);
	return (0);
}

static const struct kvbench_workload w = {
	.cl = { "<socket> N", KVBENCH_ARGS_ADDR_N, 50, 10, 4096, 2,
	    NULL },
	.pairs = 1, .statesize = sizeof(struct state), .setup = setup,
	.init = init, .issue = issue,
};

int
main(int argc, char *argv[])
{

	return (kvbench_run(argc, argv, &w));
}
