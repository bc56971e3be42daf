/*
 * bulk_extract <socket> N: read the whole store with RANGE requests,
 * over and over, counting pairs received.  The key space of the N-pair
 * benchmark stream is cut into partitions (per X block, 16 slices by the
 * high nibble of the hash).  --inflight walkers (256 by default, at most
 * one per partition) each walk a partition with consecutive RANGE
 * requests following "next", then take the next partition in turn, so
 * that the whole store is read again and again.  Print pairs read per
 * second, then the median.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "kvbench/kvbench.h"
#include "kvclient/kvclient.h"
#include "log/log.h"

#define SLICES		16
#define MAXBYTES	65536

struct part {
	uint8_t first[9];
	uint8_t end[9];
	size_t endlen;
};

struct walker {
	struct state *S;
	size_t part;
	uint8_t cur[255];
	size_t curlen;
};

struct state {
	struct kvclient *K;
	struct kvbench_meter *m;
	struct part *parts;
	size_t nparts;
	size_t nextpart;
	struct walker *walkers;
	int failed;
};

static int issue(struct walker *);

/* Point ${W} at the start of the next partition in turn. */
static void
nextpart(struct walker *W)
{
	struct state *S = W->S;

	W->part = S->nextpart;
	S->nextpart = (S->nextpart + 1) % S->nparts;
	memcpy(W->cur, S->parts[W->part].first, 9);
	W->curlen = 9;
}

static int
keycmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int c = memcmp(a, b, (al < bl) ? al : bl);

	return (c ? c : (al > bl) - (al < bl));
}

static void
rangecb(void *cookie, int status, const struct kvclient_range *r)
{
	struct walker *W = cookie;
	struct state *S = W->S;
	struct part *P = &S->parts[W->part];

	if (status == KVCLIENT_FAIL) {
		S->failed = 1;
		event_base_loopbreak(kvclient_base(S->K));
		return;
	}
	kvbench_meter_add(S->m, r->count);
	if (kvbench_meter_done(S->m))
		return;
	if ((r->nextlen == 0) || ((P->endlen > 0) &&
	    (keycmp(r->next, r->nextlen, P->end, P->endlen) >= 0))) {
		/* This partition is done: on to the next one. */
		nextpart(W);
	} else {
		memcpy(W->cur, r->next, r->nextlen);
		W->curlen = r->nextlen;
	}
	if (issue(W))
		S->failed = 1;
}

static int
issue(struct walker *W)
{
	struct part *P = &W->S->parts[W->part];

	return (kvclient_range(W->S->K, W->cur, W->curlen, P->end, P->endlen,
	    MAXBYTES, rangecb, W));
}

static void
be64enc(uint8_t *p, uint64_t x)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)x;
		x >>= 8;
	}
}

int
main(int argc, char *argv[])
{
	struct kvbench_opts o;
	struct event_base *base;
	struct state S = { 0 };
	struct part *P;
	uint64_t nx, x;
	size_t i, s, nw;

	kvbench_getopts(argc, argv, &o, KVBENCH_ARGS_ADDR_N, "<socket> N",
	    50, 10, 256);
	nx = (o.n + KVBENCH_BLOCK - 1) / KVBENCH_BLOCK;
	S.nparts = (size_t)nx * SLICES;
	if ((S.parts = calloc(S.nparts, sizeof(struct part))) == NULL) {
		warnp("calloc");
		exit(1);
	}
	for (x = 0; x < nx; x++) {
		for (s = 0; s < SLICES; s++) {
			P = &S.parts[x * SLICES + s];
			be64enc(P->first, x);
			P->first[8] = (uint8_t)(s << 4);
			if (s + 1 < SLICES) {
				memcpy(P->end, P->first, 8);
				P->end[8] = (uint8_t)((s + 1) << 4);
				P->endlen = 9;
			} else if (x + 1 < nx) {
				be64enc(P->end, x + 1);
				P->endlen = 8;
			} else
				P->endlen = 0;
		}
	}
	if ((base = event_base_new()) == NULL) {
		warn0("event_base_new failed");
		exit(1);
	}
	if ((S.K = kvbench_connect(base, &o)) == NULL)
		exit(1);
	if ((S.m = kvbench_meter_new(base, o.warmup, o.seconds,
	    o.quiet ? NULL : stdout, KVBENCH_PRINT_SECONDS)) == NULL)
		exit(1);
	nw = (o.inflight < S.nparts) ? o.inflight : S.nparts;
	if ((S.walkers = calloc(nw, sizeof(struct walker))) == NULL) {
		warnp("calloc");
		exit(1);
	}
	for (i = 0; i < nw; i++) {
		S.walkers[i].S = &S;
		nextpart(&S.walkers[i]);
		if (issue(&S.walkers[i]))
			exit(1);
	}
	event_base_dispatch(base);
	if (S.failed || !kvbench_meter_done(S.m)) {
		warn0("benchmark failed");
		exit(1);
	}
	kvbench_meter_report(S.m, o.quiet);
	kvbench_meter_free(S.m);
	kvclient_free(S.K);
	event_base_free(base);
	free(S.walkers);
	free(S.parts);
	return (0);
}
