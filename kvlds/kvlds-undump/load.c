#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "kvclient/kvclient.h"
#include "log/log.h"

#include "kvlds/kvlds-dump/dumpfile.h"
#include "kvlds/kvlds-dump/progress.h"

#include "load.h"

/* Loading state. */
struct load {
	uint64_t failed;	/* SETs answered KVCLIENT_FAIL. */
};

/**
 * load_verify(f, name, st, P):
 * Check the whole dump file on ${f}; fill ${st}.  Return 0, or -1
 * (printed).
 */
int
load_verify(FILE *f, const char *name, struct load_stats *st,
    struct progress *P)
{
	struct dumpfile_info info;
	struct dumpfile_r *r;
	const uint8_t *key, *val;
	size_t keylen, vallen;
	struct stat sb;
	double size = -1;
	int rc;

	if ((fstat(fileno(f), &sb) == 0) && S_ISREG(sb.st_mode) &&
	    (sb.st_size > 0))
		size = (double)sb.st_size;
	if ((r = dumpfile_ropen(f, name, &info)) == NULL)
		return (-1);
	st->maxkey = st->maxval = 0;
	st->flags = info.flags;
	while ((rc = dumpfile_rpair(r, &key, &keylen, &val, &vallen)) == 1) {
		if (keylen > st->maxkey)
			st->maxkey = keylen;
		if (vallen > st->maxval)
			st->maxval = vallen;
		progress_update(P, (size > 0) ?
		    (double)dumpfile_rbytes(r) / size : -1,
		    dumpfile_rcount(r), dumpfile_rbytes(r));
	}
	if (rc == 0)
		progress_end(P);
	st->pairs = dumpfile_rcount(r);
	st->bytes = dumpfile_rbytes(r);
	dumpfile_rfree(r);
	return (rc == 0 ? 0 : -1);
}

/* A SET was answered. */
static void
set_cb(void *cookie, int status)
{
	struct load *L = cookie;

	if (status != KVCLIENT_OK)
		L->failed++;
}

/**
 * load_run(K, f, name, st, window, P):
 * SET every pair of the dump file on ${f} on ${K}.  Return 0, or -1
 * (printed).
 */
int
load_run(struct kvclient *K, FILE *f, const char *name,
    const struct load_stats *st, size_t window, struct progress *P)
{
	struct dumpfile_info info;
	struct dumpfile_r *r;
	struct load L = { 0 };
	const uint8_t *key, *val;
	size_t keylen, vallen;
	int rc;

	rewind(f);
	if ((r = dumpfile_ropen(f, name, &info)) == NULL)
		return (-1);
	while ((rc = dumpfile_rpair(r, &key, &keylen, &val, &vallen)) == 1) {
		if (kvclient_set(K, key, keylen, val, vallen, set_cb, &L)) {
			rc = -1;
			break;
		}
		if ((kvclient_pending(K) >= window) &&
		    kvclient_wait(K, window / 2)) {
			rc = -1;
			break;
		}
		progress_update(P, (st->bytes > 0) ?
		    (double)dumpfile_rbytes(r) / (double)st->bytes : -1,
		    dumpfile_rcount(r), dumpfile_rbytes(r));
	}
	if (kvclient_wait(K, 0))
		rc = -1;
	if (L.failed > 0) {
		warn0("%ju SET requests failed: connection lost",
		    (uintmax_t)L.failed);
		rc = -1;
	} else if ((rc == -1) && kvclient_failed(K)) {
		warn0("connection lost");
	}
	if (rc == 0)
		progress_end(P);
	dumpfile_rfree(r);
	return (rc == 0 ? 0 : -1);
}

/* Any pair at all: stop at once. */
static int
any_cb(void *cookie, const uint8_t *key, size_t keylen, const uint8_t *val,
    size_t vallen)
{

	return (1);
}

/**
 * load_isempty(K):
 * Return 1 if the store is empty, 0 if not, -1 (printed) on failure.
 */
int
load_isempty(struct kvclient *K)
{
	int rc;

	rc = kvclient_range_all_b(K, NULL, 0, NULL, 0, 0, any_cb, NULL);
	if (rc == KVCLIENT_FAIL) {
		warn0("connection lost");
		return (-1);
	}
	return (rc == KVCLIENT_OK);
}
