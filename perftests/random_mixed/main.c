/*
 * random_mixed <socket> N: alternate GET and SET on uniformly random keys
 * among the N pairs of the benchmark stream, with many requests in
 * flight; print requests per second, then the median.  A SET writes the
 * key's own stream value back, so the store keeps the stream's contents.
 * The driver (threads, connections, meter) is kvbench_run().
 */
#include <stdint.h>

#include "kvbench/kvbench.h"
#include "kvclient/kvclient.h"

struct state {
	struct kvbench_uniform u;
	uint64_t nissued;
};

static int
issue(struct kvbench_thread *th)
{
	struct state *S = kvbench_thread_state(th);
	const uint8_t *pair = kvbench_uniform_next(&S->u);

	if ((S->nissued++ & 1) == 0)
		return (kvclient_get(kvbench_thread_client(th), pair,
		    KVBENCH_KEYLEN, kvbench_getcb, th));
	return (kvclient_set(kvbench_thread_client(th), pair, KVBENCH_KEYLEN,
	    pair + KVBENCH_KEYLEN, KVBENCH_VALLEN, kvbench_statuscb, th));
}

static const struct kvbench_workload w = {
	.cl = { "<socket> N", KVBENCH_ARGS_ADDR_N, 50, 100, 4096, 2,
	    NULL },
	.pairs = 1, .statesize = sizeof(struct state),
	.init = kvbench_uniform_thread, .issue = issue,
};

int
main(int argc, char *argv[])
{

	return (kvbench_run(argc, argv, &w));
}
