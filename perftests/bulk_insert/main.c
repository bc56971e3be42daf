/*
 * bulk_insert <socket> < pairs: SET the pairs read from standard input
 * (80 bytes each, 40-byte key then 40-byte value, as mkpairs writes
 * them), as fast as acknowledgements allow, many requests in flight on
 * one connection.  Once a second print "<pairs so far> <pairs/s>"; at
 * the end print the median of the per-second rates (the overall rate if
 * the run was shorter than a second).
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
	int eof;
	int failed;
};

static int issue(struct state *);

static void
setcb(void *cookie, int status)
{
	struct state *S = cookie;

	if (status != KVCLIENT_OK) {
		S->failed = 1;
		event_base_loopbreak(kvclient_base(S->K));
		return;
	}
	kvbench_meter_add(S->m, 1);
	if (!S->eof && issue(S)) {
		S->failed = 1;
		event_base_loopbreak(kvclient_base(S->K));
		return;
	}
	if (S->eof && (kvclient_pending(S->K) == 0))
		kvbench_meter_stop(S->m);
}

/* Send the next pair from standard input; at EOF set S->eof. */
static int
issue(struct state *S)
{
	uint8_t pair[KVBENCH_PAIRLEN];
	size_t n;

	if ((n = fread(pair, 1, sizeof(pair), stdin)) != sizeof(pair)) {
		if (ferror(stdin)) {
			warnp("read");
			return (-1);
		}
		if (n != 0) {
			warn0("truncated pair at the end of the input");
			return (-1);
		}
		S->eof = 1;
		return (0);
	}
	return (kvclient_set(S->K, pair, KVBENCH_KEYLEN,
	    pair + KVBENCH_KEYLEN, KVBENCH_VALLEN, setcb, S));
}

int
main(int argc, char *argv[])
{
	static char iobuf[1 << 20];
	struct kvbench_opts o;
	struct event_base *base;
	struct state S = { 0 };
	size_t i;

	static const struct kvbench_cmdline cl = { "<socket> < pairs",
	    KVBENCH_ARGS_ADDR, 0, 0, 4096, 0, NULL };

	kvbench_getopts(argc, argv, &o, &cl);
	setvbuf(stdin, iobuf, _IOFBF, sizeof(iobuf));
	if ((base = event_base_new()) == NULL) {
		warn0("event_base_new failed");
		exit(1);
	}
	if ((S.K = kvbench_connect(base, &o)) == NULL)
		exit(1);
	if ((S.m = kvbench_meter_new(base, 0, 0, o.quiet ? NULL : stdout,
	    KVBENCH_PRINT_SIZERATE)) == NULL)
		exit(1);
	for (i = 0; i < o.inflight && !S.eof; i++)
		if (issue(&S))
			exit(1);
	if (S.eof && (kvclient_pending(S.K) == 0))
		kvbench_meter_stop(S.m);
	else
		event_base_dispatch(base);
	if (S.failed || !kvbench_meter_done(S.m)) {
		warn0("benchmark failed");
		exit(1);
	}
	if (!o.quiet)
		printf("%ju pairs\n", (uintmax_t)kvbench_meter_total(S.m));
	kvbench_meter_report(S.m, o.quiet);
	kvbench_meter_free(S.m);
	kvclient_free(S.K);
	event_base_free(base);
	return (0);
}
