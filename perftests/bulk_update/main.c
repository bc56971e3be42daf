/*
 * bulk_update <socket> N: SET every key of the N-pair benchmark stream
 * again, in key order, with new values, over and over (pass after pass),
 * many requests in flight.  Print completed SETs per second, then the
 * median.  The new value of a key in pass p is its stream value with the
 * first 8 bytes replaced by p + 1 (big-endian).
 *
 * With several threads (kvbench_run()), the threads take the keys in
 * chunks of CHUNK consecutive ones from a shared cursor, so the stream is
 * still sent in key order, chunk by chunk.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "kvbench/kvbench.h"
#include "kvclient/kvclient.h"

#define CHUNK	256

/* The shared cursor: the next chunk of the stream, counted over passes. */
static atomic_uint_fast64_t cursor;

struct state {
	const uint8_t *pairs;
	uint64_t n;
	uint64_t next, end;	/* This thread's chunk, over passes. */
};

static int
issue(struct kvbench_thread *th)
{
	struct state *S = kvbench_thread_state(th);
	const uint8_t *pair;
	uint8_t val[KVBENCH_VALLEN];
	uint64_t p;
	int b;

	if (S->next == S->end) {
		S->next = atomic_fetch_add_explicit(&cursor, CHUNK,
		    memory_order_relaxed);
		S->end = S->next + CHUNK;
	}
	pair = S->pairs + (S->next % S->n) * KVBENCH_PAIRLEN;
	p = S->next / S->n + 1;
	S->next++;
	memcpy(val, pair + KVBENCH_KEYLEN, KVBENCH_VALLEN);
	for (b = 7; b >= 0; b--) {
		val[b] = (uint8_t)p;
		p >>= 8;
	}
	return (kvclient_set(kvbench_thread_client(th), pair, KVBENCH_KEYLEN,
	    val, KVBENCH_VALLEN, kvbench_statuscb, th));
}

/* Set the state of thread ${th}: the pair table and its size. */
static int
init(struct kvbench_thread *th)
{
	struct state *S = kvbench_thread_state(th);

	S->pairs = kvbench_thread_pairs(th);
	S->n = kvbench_thread_opts(th)->n;
	return (0);
}

static const struct kvbench_workload w = {
	.cl = { "<socket> N", KVBENCH_ARGS_ADDR_N, 50, 10, 4096, 1,
	    NULL },
	.pairs = 1, .statesize = sizeof(struct state), .init = init,
	.issue = issue,
};

int
main(int argc, char *argv[])
{

	return (kvbench_run(argc, argv, &w));
}
