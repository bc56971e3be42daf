/*
 * tokyo <socket>: kivaloo's "tokyo" test: 10^6 SETs (--count to change)
 * of 8-byte keys "00000000", "00000001", ... each with a value equal to
 * its key, many requests in flight on one connection; report the total
 * time.  Prints "<SETs> SETs in <seconds> s (<rate>/s)", then as the
 * last line the total time in milliseconds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <event2/event.h>

#include "kvbench/kvbench.h"
#include "kvclient/kvclient.h"
#include "log/log.h"

struct state {
	struct kvclient *K;
	uint64_t count, sent, done;
	int failed;
};

static int issue(struct state *);

/* One SET answered: send the next, or stop at the end or on a failure. */
static void
setcb(void *cookie, int status)
{
	struct state *S = cookie;

	S->failed |= (status != KVCLIENT_OK);
	if (S->failed || (++S->done == S->count) ||
	    ((S->sent < S->count) && issue(S)))
		event_base_loopbreak(kvclient_base(S->K));
}

static int
issue(struct state *S)
{
	char key[24];
	int len;

	len = snprintf(key, sizeof(key), "%08ju", (uintmax_t)S->sent++);
	if (kvclient_set(S->K, (uint8_t *)key, (size_t)len, (uint8_t *)key,
	    (size_t)len, setcb, S)) {
		S->failed = 1;
		return (-1);
	}
	return (0);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec * 1e-9);
}

int
main(int argc, char *argv[])
{
	struct kvbench_opts o;
	struct event_base *base;
	struct state S = { 0 };
	double t0, t;
	size_t i;

	static const struct kvbench_cmdline cl = { "<socket>",
	    KVBENCH_ARGS_ADDR, 0, 0, 4096, 0, NULL };

	kvbench_getopts(argc, argv, &o, &cl);
	S.count = o.count ? o.count : 1000000;
	if ((base = event_base_new()) == NULL) {
		warn0("event_base_new failed");
		exit(1);
	}
	if ((S.K = kvbench_connect(base, &o)) == NULL)
		exit(1);
	t0 = now();
	for (i = 0; i < o.inflight && S.sent < S.count; i++)
		if (issue(&S))
			exit(1);
	event_base_dispatch(base);
	t = now() - t0;
	if (S.failed || (S.done != S.count)) {
		warn0("benchmark failed");
		exit(1);
	}
	if (!o.quiet)
		printf("%ju SETs in %.3f s (%.0f/s)\n", (uintmax_t)S.count, t,
		    (double)S.count / t);
	printf("%ju\n", (uintmax_t)(t * 1000 + 0.5) ? (uintmax_t)(t * 1000 +
	    0.5) : 1);
	kvclient_free(S.K);
	event_base_free(base);
	return (0);
}
