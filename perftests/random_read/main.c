/*
 * random_read <socket> N: GET uniformly random keys among the N pairs of
 * the benchmark stream (loaded by bulk_insert), with many requests in
 * flight; print GETs per second, then the median.  The driver (threads,
 * connections, meter) is kvbench_run().
 */
#include <stdint.h>

#include "kvbench/kvbench.h"
#include "kvclient/kvclient.h"

static int
issue(struct kvbench_thread *th)
{

	return (kvclient_get(kvbench_thread_client(th),
	    kvbench_uniform_next(kvbench_thread_state(th)), KVBENCH_KEYLEN,
	    kvbench_getcb, th));
}

static const struct kvbench_workload w = {
	.cl = { "<socket> N", KVBENCH_ARGS_ADDR_N, 50, 100, 4096, 2,
	    NULL },
	.pairs = 1,
	.statesize = sizeof(struct kvbench_uniform),
	.init = kvbench_uniform_thread,
	.issue = issue,
};

int
main(int argc, char *argv[])
{

	return (kvbench_run(argc, argv, &w));
}
