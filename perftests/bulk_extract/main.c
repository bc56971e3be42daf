/*
 * bulk_extract <socket> N: read the whole store with RANGE requests,
 * over and over, counting pairs received.  The key space of the N-pair
 * benchmark stream is cut into partitions (per X block, 16 slices by the
 * high nibble of the hash).  --inflight walkers (256 by default, at most
 * one per partition) each walk a partition with consecutive RANGE
 * requests following "next", then take the next partition in turn, so
 * that the whole store is read again and again.  Print pairs read per
 * second, then the median.  With several threads (kvbench_run()), the
 * walkers are split between them and take the partitions in turn from
 * one shared counter.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kvbench/kvbench.h"
#include "kvclient/kvclient.h"
#include "log/log.h"
#include "sysendian/sysendian.h"

#define SLICES		16
#define MAXBYTES	65536

struct part {
	uint8_t first[9];
	uint8_t end[9];
	size_t endlen;
};

/* Shared by the threads: the partitions and the next one to walk. */
struct parts {
	struct part *v;
	size_t n;
	atomic_size_t next;
};

struct walker {
	struct kvbench_thread *th;
	struct parts *P;
	size_t part;
	uint8_t cur[255];
	size_t curlen;
};

static int issue(struct walker *);

/* Point ${W} at the start of the next partition in turn. */
static void
nextpart(struct walker *W)
{

	W->part = atomic_fetch_add_explicit(&W->P->next, 1,
	    memory_order_relaxed) % W->P->n;
	memcpy(W->cur, W->P->v[W->part].first, 9);
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
	struct part *P = &W->P->v[W->part];

	if (!kvbench_complete(W->th, status, status == KVCLIENT_FAIL ? 0 :
	    r->count))
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
		kvbench_thread_fail(W->th);
}

static int
issue(struct walker *W)
{
	struct part *P = &W->P->v[W->part];

	return (kvclient_range(kvbench_thread_client(W->th), W->cur,
	    W->curlen, P->end, P->endlen, MAXBYTES, rangecb, W));
}

/* Cut the key space of the N pairs into partitions. */
static int
setup(const struct kvbench_opts *o, void *arg)
{
	struct parts *PS = arg;
	struct part *P;
	uint64_t nx, x;
	size_t s;

	nx = (o->n + KVBENCH_BLOCK - 1) / KVBENCH_BLOCK;
	PS->n = (size_t)nx * SLICES;
	if ((PS->v = calloc(PS->n, sizeof(struct part))) == NULL) {
		warnp("calloc");
		return (-1);
	}
	for (x = 0; x < nx; x++) {
		for (s = 0; s < SLICES; s++) {
			P = &PS->v[x * SLICES + s];
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
	return (0);
}

/* Start ${n} walkers in ${th} (at most one per partition overall). */
static int
prime(struct kvbench_thread *th, size_t n)
{
	struct parts *PS = kvbench_thread_arg(th);
	size_t per = PS->n / kvbench_thread_opts(th)->threads, i;
	struct walker *W;

	if (n > per)
		n = per ? per : 1;
	if ((W = calloc(n, sizeof(struct walker))) == NULL) {
		warnp("calloc");
		return (-1);
	}
	kvbench_thread_setstate(th, W);
	for (i = 0; i < n; i++) {
		W[i].th = th;
		W[i].P = PS;
		nextpart(&W[i]);
		if (issue(&W[i]))
			return (-1);
	}
	return (0);
}

static void
fini(struct kvbench_thread *th)
{

	free(kvbench_thread_state(th));
}

int
main(int argc, char *argv[])
{
	static struct parts PS;
	static const struct kvbench_workload w = {
		.cl = { "<socket> N", KVBENCH_ARGS_ADDR_N, 50, 10, 256, 2,
		    "walkers: RANGE requests in flight, in total" },
		.arg = &PS,
		.setup = setup,
		.prime = prime,
		.fini = fini,
	};
	int rc;

	rc = kvbench_run(argc, argv, &w);
	free(PS.v);
	return (rc);
}
