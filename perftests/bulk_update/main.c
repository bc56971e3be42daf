/*
 * bulk_update <socket> N: SET every key of the N-pair benchmark stream
 * again, in key order, with new values, over and over (pass after pass),
 * many requests in flight on one connection.  Print completed SETs per
 * second, then the median.  The new value of a key in pass p is its
 * stream value with the first 8 bytes replaced by p + 1 (big-endian).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "kvbench/kvbench.h"
#include "kvclient/kvclient.h"
#include "log/log.h"

struct state {
	struct kvclient *K;
	struct kvbench_meter *m;
	uint8_t *pairs;
	uint64_t n;
	uint64_t next;		/* Next pair to send. */
	uint64_t pass;
	int failed;
};

static int issue(struct state *);

static void
setcb(void *cookie, int status)
{
	struct state *S = cookie;

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
	const uint8_t *pair = S->pairs + S->next * KVBENCH_PAIRLEN;
	uint8_t val[KVBENCH_VALLEN];
	uint64_t p = S->pass + 1;
	int b;

	memcpy(val, pair + KVBENCH_KEYLEN, KVBENCH_VALLEN);
	for (b = 7; b >= 0; b--) {
		val[b] = (uint8_t)p;
		p >>= 8;
	}
	if (++S->next == S->n) {
		S->next = 0;
		S->pass++;
	}
	return (kvclient_set(S->K, pair, KVBENCH_KEYLEN, val, KVBENCH_VALLEN,
	    setcb, S));
}

int
main(int argc, char *argv[])
{
	struct kvbench_opts o;
	struct event_base *base;
	struct state S = { 0 };
	size_t i;

	kvbench_getopts(argc, argv, &o, KVBENCH_ARGS_ADDR_N, "<socket> N",
	    50, 10, 4096);
	S.n = o.n;
	if ((S.pairs = kvbench_pairs(o.n)) == NULL)
		exit(1);
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
