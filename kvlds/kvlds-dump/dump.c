#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kvclient/kvclient.h"
#include "log/log.h"

#include "dump.h"
#include "dumpfile.h"
#include "progress.h"

/* RANGE max bytes per request (the server may cap it lower). */
#define RANGE_MAXBYTES	(1024 * 1024)

struct dump {
	struct kvclient *K;
	struct dumpfile_w *w;
	struct progress *P;
	int failed;
	int snap;		/* Read through the snapshot snapid. */
	uint64_t snapid;

	/* Key-space estimate: first 8 bytes of the lowest, highest keys. */
	int est;
	uint64_t lo;
	uint64_t hi;
};

/* The first 8 bytes of ${key}, zero-padded, as a big-endian number. */
static uint64_t
prefix64(const uint8_t *key, size_t keylen)
{
	uint64_t x = 0;
	size_t i;

	for (i = 0; i < 8; i++)
		x = (x << 8) | ((i < keylen) ? key[i] : 0);
	return (x);
}

/* Pair callback of a probe: note the first key and stop. */
static int
probe_pair(void *cookie, const uint8_t *key, size_t keylen,
    const uint8_t *value, size_t valuelen)
{
	uint64_t *first = cookie;

	*first = prefix64(key, keylen);
	return (1);
}

/*
 * Is there a key >= the 8 bytes of ${v} with trailing zeros stripped?
 * Store the first such key's prefix in *${first}.  Return 1, 0, or -1 if
 * the request failed.
 */
static int
probe(struct kvclient *K, uint64_t v, uint64_t *first)
{
	uint8_t start[8];
	size_t len = 8;
	int i, rc;

	for (i = 7; i >= 0; i--, v >>= 8)
		start[i] = (uint8_t)v;
	while ((len > 0) && (start[len - 1] == 0))
		len--;
	rc = kvclient_range_all_b(K, start, len, NULL, 0, 0, probe_pair,
	    first);
	if (rc == KVCLIENT_FAIL)
		return (-1);
	return (rc == KVCLIENT_NO);
}

/*
 * Estimate the key space: the prefix of the lowest key, and by binary
 * search (64 probes) the prefix of the highest.  Return 0 (D->est set if
 * the store is not empty), or -1 if a request failed.
 */
static int
estimate(struct dump *D)
{
	uint64_t first, lo, hi, mid;
	int r;

	if ((r = probe(D->K, 0, &first)) <= 0)
		return (r);
	D->lo = lo = first;		/* A key with this prefix exists. */
	hi = UINT64_MAX;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2 + 1;
		if ((r = probe(D->K, mid, &first)) < 0)
			return (-1);
		if (r)
			lo = mid;
		else
			hi = mid - 1;
	}
	D->hi = lo;
	D->est = 1;
	return (0);
}

/* Fraction of the key space below ${key}, or -1 if unknown. */
static double
fraction(const struct dump *D, const uint8_t *key, size_t keylen)
{
	uint64_t p;

	if (!D->est)
		return (-1);
	if (D->hi <= D->lo)
		return (0);
	p = prefix64(key, keylen);
	if (p < D->lo)
		p = D->lo;
	return ((double)(p - D->lo) / (double)(D->hi - D->lo));
}

/* Every pair of the walk. */
static int
pair_cb(void *cookie, const uint8_t *key, size_t keylen,
    const uint8_t *value, size_t valuelen)
{
	struct dump *D = cookie;

	if (dumpfile_wpair(D->w, key, keylen, value, valuelen)) {
		D->failed = 1;
		return (1);
	}
	progress_update(D->P, fraction(D, key, keylen), dumpfile_wcount(D->w),
	    dumpfile_wbytes(D->w));
	return (0);
}

/*
 * dump_fetch(D): walk every pair of the store in key order into
 * pair_cb(): through the snapshot D->snapid (one commit's state, closed
 * afterwards) if D->snap, else with plain RANGE requests.
 */
static int
dump_fetch(struct dump *D)
{
	int rc;

	if (!D->snap)
		return (kvclient_range_all_b(D->K, NULL, 0, NULL, 0,
		    RANGE_MAXBYTES, pair_cb, D));
	rc = kvclient_snapshot_range_all_b(D->K, D->snapid, NULL, 0, NULL, 0,
	    RANGE_MAXBYTES, pair_cb, D);
	if (rc == KVCLIENT_FAIL)
		return (rc);
	/* The end of the connection would release it too. */
	if (kvclient_snapshot_close_b(D->K, D->snapid) != KVCLIENT_OK)
		return (KVCLIENT_FAIL);
	return (rc);
}

/*
 * Pin a snapshot for the dump: set D->snap and D->snapid.  Return 0
 * (also when the server has none to give: the dump then falls back to
 * plain RANGE, with a warning), or -1 if the request failed.
 */
static int
dump_snapshot(struct dump *D)
{

	switch (kvclient_snapshot_open_b(D->K, &D->snapid)) {
	case KVCLIENT_OK:
		D->snap = 1;
		return (0);
	case KVCLIENT_NO:
		warn0("the server has no snapshot to give (limit reached): "
		    "dumping with plain RANGE requests, not as one commit");
		return (0);
	default:
		warn0("the server dropped the connection on SNAPSHOT_OPEN: "
		    "it does not know snapshot reads (a kivaloo server?); "
		    "--no-snapshot dumps with plain RANGE requests (not as "
		    "one commit)");
		return (-1);
	}
}

/**
 * dump_run(K, f, name, P, estimate, snapshot):
 * Dump every pair of the store behind ${K} to ${f}.  Return 0, or -1
 * (printed).
 */
int
dump_run(struct kvclient *K, FILE *f, const char *name, struct progress *P,
    int est, int snapshot)
{
	struct dumpfile_info info;
	struct dump D;
	int rc;

	memset(&D, 0, sizeof(D));
	D.K = K;
	D.P = P;
	if (snapshot && dump_snapshot(&D))
		return (-1);
	if (est && estimate(&D)) {
		warn0("connection lost");
		return (-1);
	}

	info.flags = D.snap ? DUMPFILE_F_SNAPSHOT : 0;
	info.time = (uint64_t)time(NULL);
	info.maxkey = (uint32_t)kvclient_maxkey(K);
	info.maxval = (uint32_t)kvclient_maxval(K);
	if ((D.w = dumpfile_wopen(f, name, &info)) == NULL)
		return (-1);

	rc = dump_fetch(&D);
	if (D.failed)
		goto err;
	if (rc != KVCLIENT_OK) {
		warn0("reading the store failed: connection lost");
		goto err;
	}
	if (dumpfile_wfinish(D.w))
		goto err;
	progress_end(P);
	dumpfile_wfree(D.w);
	return (0);

err:
	dumpfile_wfree(D.w);
	return (-1);
}
