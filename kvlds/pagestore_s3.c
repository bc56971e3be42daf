/*
 * pagestore_s3: the object-store backend of the page store (see
 * pagestore.h and DESIGN.md, "The S3 page store").
 *
 * Keys under PREFIX (the URL's path, with a '/' appended):
 *	PREFIX/b/XXXXXXXX	one object per commit batch (hex object number
 *				from 1, fixed width: listing order is log
 *				order); a log address is number << 32 | offset
 *	PREFIX/commit		the commit pointer: a copy of a durable
 *				commit record (PAGE_COMMIT_LEN bytes)
 *	PREFIX/lease		"kvlds-lease 1", owner=, expiry=, epoch= lines
 *
 * Each batch is one PUT (If-None-Match: *), started on the commit worker
 * thread together with the pointer's update to the previous commit;
 * pagestore_write returns once both are acknowledged and the lease is
 * still valid.  The pointer therefore lags the newest commit by at most
 * one batch; recovery starts from it and follows the listing (see
 * s3_recover).
 *
 * Threads: the writer handle belongs to the worker thread (and to the loop
 * thread before the worker starts and after it stopped); the lease has a
 * thread and a handle of its own; reads (from any thread), raw reads and
 * deletes take a handle from a mutex-protected pool.  The read cache and
 * the counters have their own locks.
 */

#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "log/log.h"
#include "s3/s3.h"

#include "node.h"
#include "page.h"
#include "pagestore.h"
#include "pagestore_impl.h"

#define KEYMAX		1100	/* Longest key we build. */
#define LEASEMAX	512	/* Longest lease object body. */
#define DEF_LEASE	30	/* Seconds. */
#define DEF_CACHE	(32 * 1024 * 1024)
#define DEF_READAHEAD	(256 * 1024)
#define CWAYS		8	/* Ways of the read cache. */
#define RETRIES		10	/* Per operation: about 11 s of backoff. */

/* A handle with the counters already added to the store's totals. */
struct hnd {
	struct s3 *s3;
	struct s3_stats last;
};

/* A batch object. */
struct obj {
	uint32_t num;
	uint64_t size;
};

struct pss {
	struct pagestore base;		/* First: the ops. */
	char *url;			/* "s3://bucket/prefix", for messages */
	char *bucket;
	char *prefix;			/* "" or ending in '/' */
	char *owner;
	char *akid, *secret;
	struct s3_conf sc;
	size_t pagesize;
	size_t segsize;
	int lockfd;

	/* Objects (loop thread). */
	struct obj *objs;		/* Sorted by number. */
	size_t nobjs, objcap;
	uint32_t curseg;		/* Newest object. */
	uint64_t bytes;

	/* Writer (worker thread). */
	struct hnd wr;
	uint8_t prevrec[PAGE_COMMIT_LEN];	/* Newest durable commit. */
	int ptrdirty;			/* The pointer does not hold it. */
	char ptretag[128];		/* The pointer's ETag ("": unknown). */
	int failed;

	/* Reader pool. */
	pthread_mutex_t pmtx;
	struct hnd **pool;
	size_t npool, poolcap;

	/* Read cache: CWAYS-way set-associative, LRU in a set. */
	pthread_mutex_t cmtx;
	uint8_t *cache;
	uint64_t *ctag;			/* 0: empty. */
	uint64_t *cstamp;		/* Last use, for LRU in a set. */
	uint32_t *clen;
	size_t cslots;			/* A multiple of CWAYS. */
	uint64_t cclock;
	size_t readahead;		/* Bytes per page GET. */

	/* Lease. */
	struct hnd lh;
	pthread_t lthr;
	int lthr_started;
	pthread_mutex_t lmtx;
	pthread_cond_t lcv;
	int lquit;
	char etag[128];
	uint64_t epoch;
	int64_t clockoff;		/* Server clock - local clock, s. */
	long leasesecs, renewsecs, marginsecs;
	_Atomic int64_t valid_until;	/* Monotonic ms. */
	_Atomic int lost;		/* Taken over: never valid again. */

	/* Counters. */
	pthread_mutex_t smtx;
	struct s3_stats tot;
	_Atomic uint64_t n_bput, n_pput, n_lput, n_get, n_hit, n_raw, n_del,
	    n_list, n_tail, b_bput;
};

static const struct pagestore_ops s3_ops;
static void s3ps_close(struct pagestore *);

/* Monotonic milliseconds. */
static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Add ${h}'s counters since the last call to the totals. */
static void
ps_acct(struct pss *ps, struct hnd *h)
{
	struct s3_stats now;

	s3_get_stats(h->s3, &now);
	pthread_mutex_lock(&ps->smtx);
	ps->tot.requests += now.requests - h->last.requests;
	ps->tot.retries += now.retries - h->last.retries;
	ps->tot.connects += now.connects - h->last.connects;
	ps->tot.bytes_out += now.bytes_out - h->last.bytes_out;
	ps->tot.bytes_in += now.bytes_in - h->last.bytes_in;
	pthread_mutex_unlock(&ps->smtx);
	h->last = now;
}

/* The key of batch object ${num}. */
static void
objkey(struct pss *ps, uint32_t num, char *buf)
{

	snprintf(buf, KEYMAX, "%sb/%08" PRIx32, ps->prefix, num);
}

/* The key ${name} under the prefix. */
static void
metakey(struct pss *ps, const char *name, char *buf)
{

	snprintf(buf, KEYMAX, "%s%s", ps->prefix, name);
}

/* Take a handle from the pool (open one if none is free). */
static struct hnd *
pool_get(struct pss *ps)
{
	struct hnd *h = NULL;

	pthread_mutex_lock(&ps->pmtx);
	if (ps->npool > 0)
		h = ps->pool[--ps->npool];
	pthread_mutex_unlock(&ps->pmtx);
	if (h != NULL)
		return (h);
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		warnp("calloc");
		return (NULL);
	}
	if ((h->s3 = s3_open(&ps->sc)) == NULL) {
		free(h);
		return (NULL);
	}
	return (h);
}

/* Give a handle back to the pool. */
static void
pool_put(struct pss *ps, struct hnd *h)
{
	struct hnd **np;
	size_t ncap;

	ps_acct(ps, h);
	pthread_mutex_lock(&ps->pmtx);
	if (ps->npool == ps->poolcap) {
		ncap = ps->poolcap ? ps->poolcap * 2 : 4;
		if ((np = realloc(ps->pool, ncap * sizeof(*np))) == NULL) {
			pthread_mutex_unlock(&ps->pmtx);
			s3_close(h->s3);
			free(h);
			return;
		}
		ps->pool = np;
		ps->poolcap = ncap;
	}
	ps->pool[ps->npool++] = h;
	pthread_mutex_unlock(&ps->pmtx);
}

/* The first slot of ${addr}'s set. */
static size_t
cset(struct pss *ps, uint64_t addr)
{
	uint64_t x = addr * 0x9E3779B97F4A7C15ULL;

	return ((size_t)((x >> 32) % (ps->cslots / CWAYS)) * CWAYS);
}

/* Copy a cached page at ${addr} into ${buf}; 0 if found, else -1. */
static int
cache_get(struct pss *ps, uint64_t addr, uint8_t *buf, size_t *len)
{
	size_t i, s;
	int rc = -1;

	if (ps->cslots == 0)
		return (-1);
	s = cset(ps, addr);
	pthread_mutex_lock(&ps->cmtx);
	for (i = s; i < s + CWAYS; i++) {
		if (ps->ctag[i] != addr)
			continue;
		*len = ps->clen[i];
		memcpy(buf, &ps->cache[i * ps->pagesize], *len);
		ps->cstamp[i] = ++ps->cclock;
		rc = 0;
		break;
	}
	pthread_mutex_unlock(&ps->cmtx);
	return (rc);
}

/*
 * (cmtx held) Keep ${rec}[0..len), the page at ${addr}, if not kept
 * already (pages never change), in place of its set's least recently
 * used one.
 */
static void
cache_insert(struct pss *ps, uint64_t addr, const uint8_t *rec, size_t len)
{
	size_t i, s, v;

	s = v = cset(ps, addr);
	for (i = s; i < s + CWAYS; i++)
		if (ps->ctag[i] == addr)
			return;
	for (i = s; i < s + CWAYS; i++) {
		if (ps->ctag[i] == 0) {
			v = i;
			break;
		}
		if (ps->cstamp[i] < ps->cstamp[v])
			v = i;
	}
	ps->ctag[v] = addr;
	ps->clen[v] = (uint32_t)len;
	ps->cstamp[v] = ++ps->cclock;
	memcpy(&ps->cache[v * ps->pagesize], rec, len);
}

/* Forget a cached page of object ${seg} (it is being deleted). */
static void
cache_drop_seg(struct pss *ps, uint32_t seg)
{
	size_t i;

	if (ps->cslots == 0)
		return;
	pthread_mutex_lock(&ps->cmtx);
	for (i = 0; i < ps->cslots; i++)
		if (SEG(ps->ctag[i]) == seg)
			ps->ctag[i] = 0;
	pthread_mutex_unlock(&ps->cmtx);
}

/* Index of the first object numbered >= ${num}. */
static size_t
obj_find(struct pss *ps, uint32_t num)
{
	size_t lo = 0, hi = ps->nobjs, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (ps->objs[mid].num < num)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo);
}

/* Append object ${num} of ${size} bytes (numbers increase). */
static int
obj_add(struct pss *ps, uint32_t num, uint64_t size)
{
	struct obj *no;
	size_t ncap;

	if (ps->nobjs > 0 && ps->objs[ps->nobjs - 1].num >= num) {
		warn0("%s: object %08" PRIx32 " listed out of order", ps->url,
		    num);
		return (-1);
	}
	if (ps->nobjs == ps->objcap) {
		ncap = ps->objcap ? ps->objcap * 2 : 64;
		if ((no = realloc(ps->objs, ncap * sizeof(*no))) == NULL) {
			warnp("realloc");
			return (-1);
		}
		ps->objs = no;
		ps->objcap = ncap;
	}
	ps->objs[ps->nobjs].num = num;
	ps->objs[ps->nobjs].size = size;
	ps->nobjs++;
	ps->bytes += size;
	return (0);
}

/**
 * s3ps_where(ps, addr, buf, len):
 * Describe a log address.
 */
static void
s3ps_where(struct pagestore *base, uint64_t addr, char *buf, size_t len)
{
	struct pss *ps = (struct pss *)base;

	snprintf(buf, len, "s3://%s/%sb/%08" PRIx32 " offset %" PRIu32,
	    ps->bucket, ps->prefix, SEG(addr), OFF(addr));
}

/*
 * ${raw}[0..rlen) was read from log address ${start}, where a record
 * begins: keep the page records it holds whole in the cache, walking the
 * headers (length and own address; the CRC is checked when a page is
 * used) until one does not check out.
 */
static void
cache_fill(struct pss *ps, const uint8_t *raw, size_t rlen, uint64_t start)
{
	size_t pos, l;

	if (ps->cslots == 0)
		return;
	pthread_mutex_lock(&ps->cmtx);
	for (pos = 0; pos + NODE_HDR <= rlen; pos += l) {
		l = be32dec(&raw[pos + 4]);
		if (l < NODE_HDR || l > ps->pagesize || l > rlen - pos ||
		    be64dec(&raw[pos + 8]) != start + pos)
			break;
		if (raw[pos + 16] == PAGE_TYPE_NODE)
			cache_insert(ps, start + pos, &raw[pos], l);
	}
	pthread_mutex_unlock(&ps->cmtx);
}

/**
 * s3ps_read(ps, addr, buf, len):
 * Read up to a page at addr: from the cache, else with a ranged GET of
 * the read-ahead window holding it (from the object's start if the page
 * lies in its first window, else from the page), whose other pages go
 * into the cache.  Any thread.
 */
static int
s3ps_read(struct pagestore *base, uint64_t addr, uint8_t *buf, size_t *len)
{
	struct pss *ps = (struct pss *)base;
	char key[KEYMAX], where[256];
	struct hnd *h;
	uint8_t *raw;
	uint64_t start;
	size_t got, want, at;
	int rc;

	if (cache_get(ps, addr, buf, len) == 0) {
		ps->n_hit++;
		return (0);
	}
	if (OFF(addr) < ps->readahead) {
		start = ADDR(SEG(addr), 0);
		want = ps->readahead;
		if (OFF(addr) + ps->pagesize > want)
			want = OFF(addr) + ps->pagesize;
	} else {
		start = addr;
		want = ps->readahead;
	}
	if (want < ps->pagesize)
		want = ps->pagesize;
	if ((raw = malloc(want)) == NULL) {
		warnp("malloc");
		return (-1);
	}
	if ((h = pool_get(ps)) == NULL) {
		free(raw);
		return (-1);
	}
	objkey(ps, SEG(addr), key);
	rc = s3_get(h->s3, key, OFF(start), want, raw, &got);
	pool_put(ps, h);
	ps->n_get++;
	at = (size_t)(addr - start);
	if (rc != S3_OK || got < at + NODE_HDR) {
		free(raw);
		s3ps_where(base, addr, where, sizeof(where));
		warn0("%s: %s", where, rc == S3_NOTFOUND ? "no such object" :
		    rc == S3_OK ? "page lies beyond the end of the object" :
		    "read failed");
		return (-1);
	}
	*len = got - at < ps->pagesize ? got - at : ps->pagesize;
	memcpy(buf, &raw[at], *len);
	cache_fill(ps, raw, got, start);
	free(raw);
	return (0);
}

/**
 * s3ps_reserve(ps, len):
 * Every batch is an object of its own: the next number, offset 0.
 */
static uint64_t
s3ps_reserve(struct pagestore *base, size_t len)
{
	struct pss *ps = (struct pss *)base;

	if (len > UINT32_MAX) {
		warn0("commit batch of %zu bytes is too large", len);
		return (0);
	}
	if (ps->curseg == UINT32_MAX) {
		warn0("%s: the object numbers are used up", ps->url);
		return (0);
	}
	if (obj_add(ps, ps->curseg + 1, len))
		return (0);
	ps->curseg++;
	return (ADDR(ps->curseg, 0));
}

/*
 * The batch PUT of object ${key} found an object there already: success
 * only if it is byte for byte ours (an earlier attempt of this PUT that
 * landed although its answer was lost).
 */
static int
put_exists(struct pss *ps, const char *key, const uint8_t *buf, size_t len)
{
	uint8_t *have;
	size_t hlen;
	int same;

	if (s3_get_all(ps->wr.s3, key, &have, &hlen) != S3_OK) {
		warn0("s3://%s/%s exists and cannot be read", ps->bucket, key);
		return (-1);
	}
	same = (hlen == len && memcmp(have, buf, len) == 0);
	free(have);
	if (!same) {
		warn0("s3://%s/%s exists with other contents: another writer "
		    "on this prefix?", ps->bucket, key);
		return (-1);
	}
	return (0);
}

/*
 * (writer handle) Start writing ${rec} into the commit pointer, with
 * If-Match on the ETag it had when we last read or wrote it: a pointer
 * changed by anyone else (a former owner's late request) is never
 * overwritten, and never moved back behind our commits.
 */
static struct s3_op *
ptr_start(struct pss *ps, const uint8_t *rec)
{
	char key[KEYMAX];

	metakey(ps, "commit", key);
	return (s3_put_start(ps->wr.s3, key, rec, PAGE_COMMIT_LEN,
	    ps->ptretag[0] != '\0' ? ps->ptretag : NULL));
}

/* A pointer PUT is done: keep its ETag; 0 if it succeeded, else -1. */
static int
ptr_done(struct pss *ps, struct s3_op *op)
{
	int r = s3_op_result(op);

	ps->n_pput++;
	if (r == S3_OK) {
		snprintf(ps->ptretag, sizeof(ps->ptretag), "%s",
		    s3_op_etag(op));
		return (0);
	}
	if (r == S3_PRECOND)
		warn0("%s: the commit pointer was changed by another writer",
		    ps->url);
	else
		warn0("%s: writing the commit pointer failed", ps->url);
	return (-1);
}

/* Is the lease valid for at least ${ms} more milliseconds? */
static int
lease_ok(struct pss *ps, int64_t ms)
{

	return (!ps->lost && mono_ms() + ms < ps->valid_until);
}

/**
 * s3ps_write(ps, buf, len, addr):
 * (worker thread) PUT the batch as its object, and the previous commit
 * into the pointer; return once both are acknowledged and the lease is
 * still ours.
 */
static int
s3ps_write(struct pagestore *base, const uint8_t *buf, size_t len,
    uint64_t addr)
{
	struct pss *ps = (struct pss *)base;
	char key[KEYMAX];
	struct s3_op *bop = NULL, *pop = NULL;
	int r, rc = -1;

	if (ps->failed)
		goto done;
	if (!lease_ok(ps, 0)) {
		warn0("%s: the lease is %s: not writing", ps->url, ps->lost ?
		    "lost to another owner" : "expired (renewal failed)");
		goto done;
	}
	if (OFF(addr) != 0 || len < PAGE_COMMIT_LEN) {
		warn0("%s: bad batch placement", ps->url);
		goto done;
	}
	objkey(ps, SEG(addr), key);
	if ((bop = s3_put_start(ps->wr.s3, key, buf, len, "*")) == NULL)
		goto done;
	if (ps->ptrdirty && (pop = ptr_start(ps, ps->prevrec)) == NULL)
		goto done;
	(void)s3_wait_all(ps->wr.s3);
	ps->n_bput++;
	ps->b_bput += len;
	if ((r = s3_op_result(bop)) == S3_PRECOND)
		r = put_exists(ps, key, buf, len);
	if (r != S3_OK) {
		warn0("%s: writing batch object %s failed", ps->url, key);
		goto done;
	}
	if (pop != NULL) {
		if (ptr_done(ps, pop))
			goto done;
		ps->ptrdirty = 0;
	}
	/* Acknowledge only what was written while the lease was ours. */
	if (!lease_ok(ps, 0)) {
		warn0("%s: the lease %s during the write: not acknowledged",
		    ps->url, ps->lost ? "was lost" : "expired");
		goto done;
	}
	memcpy(ps->prevrec, &buf[len - PAGE_COMMIT_LEN], PAGE_COMMIT_LEN);
	ps->ptrdirty = 1;
	rc = 0;

done:
	s3_op_free(bop);
	s3_op_free(pop);
	ps_acct(ps, &ps->wr);
	if (rc)
		ps->failed = 1;
	return (rc);
}

/**
 * s3ps_next(ps, after, seg, size):
 * The oldest object above ${after} other than the newest.
 */
static int
s3ps_next(struct pagestore *base, uint32_t after, uint32_t *seg,
    uint64_t *size)
{
	struct pss *ps = (struct pss *)base;
	size_t i;

	if (after == UINT32_MAX)
		return (-1);
	i = obj_find(ps, after + 1);
	if (i >= ps->nobjs || ps->objs[i].num >= ps->curseg)
		return (-1);
	*seg = ps->objs[i].num;
	*size = ps->objs[i].size;
	return (0);
}

/**
 * s3ps_readraw(ps, addr, buf, len):
 * A ranged GET of raw log bytes.
 */
static ssize_t
s3ps_readraw(struct pagestore *base, uint64_t addr, uint8_t *buf,
    size_t len)
{
	struct pss *ps = (struct pss *)base;
	char key[KEYMAX], where[256];
	struct hnd *h;
	size_t got;
	int rc;

	if ((h = pool_get(ps)) == NULL)
		return (-1);
	objkey(ps, SEG(addr), key);
	rc = s3_get(h->s3, key, OFF(addr), len, buf, &got);
	pool_put(ps, h);
	ps->n_raw++;
	if (rc != S3_OK) {
		s3ps_where(base, addr, where, sizeof(where));
		warn0("%s: read failed", where);
		return (-1);
	}
	return ((ssize_t)got);
}

/**
 * s3ps_free(ps, seg):
 * DELETE an object the cleaner emptied.
 */
static int
s3ps_free(struct pagestore *base, uint32_t seg)
{
	struct pss *ps = (struct pss *)base;
	char key[KEYMAX];
	struct hnd *h;
	size_t i;
	int rc;

	i = obj_find(ps, seg);
	if (seg >= ps->curseg || i >= ps->nobjs || ps->objs[i].num != seg) {
		warn0("pagestore_free: object %08x is not free", (unsigned)seg);
		return (-1);
	}
	cache_drop_seg(ps, seg);
	if ((h = pool_get(ps)) == NULL)
		return (-1);
	objkey(ps, seg, key);
	rc = s3_delete(h->s3, key);
	pool_put(ps, h);
	ps->n_del++;
	if (rc != S3_OK) {
		warn0("%s: deleting %s failed", ps->url, key);
		return (-1);
	}
	ps->bytes -= ps->objs[i].size;
	memmove(&ps->objs[i], &ps->objs[i + 1],
	    (ps->nobjs - i - 1) * sizeof(ps->objs[0]));
	ps->nobjs--;
	return (0);
}

/**
 * s3ps_segsize(ps):
 * The cleaner's slack (objects have no fixed size).
 */
static size_t
s3ps_segsize(struct pagestore *base)
{
	struct pss *ps = (struct pss *)base;

	return (ps->segsize);
}

/**
 * s3ps_stats(ps, nseg, bytes):
 * Object count and log bytes.
 */
static void
s3ps_stats(struct pagestore *base, size_t *nseg, uint64_t *bytes)
{
	struct pss *ps = (struct pss *)base;

	*nseg = ps->nobjs;
	*bytes = ps->bytes;
}

/**
 * s3ps_statline(ps, buf, len):
 * Requests and bytes to and from the store.
 */
static void
s3ps_statline(struct pagestore *base, char *buf, size_t len)
{
	struct pss *ps = (struct pss *)base;
	struct s3_stats t;

	pthread_mutex_lock(&ps->smtx);
	t = ps->tot;
	pthread_mutex_unlock(&ps->smtx);
	snprintf(buf, len, "s3: requests %ju, retries %ju, connections %ju, "
	    "bytes sent %ju, bytes received %ju, batch PUTs %ju, batch bytes "
	    "%ju, pointer PUTs %ju, lease PUTs %ju, page GETs %ju, cache hits "
	    "%ju, raw GETs %ju, DELETEs %ju, LISTs %ju, tail GETs %ju",
	    (uintmax_t)t.requests, (uintmax_t)t.retries,
	    (uintmax_t)t.connects, (uintmax_t)t.bytes_out,
	    (uintmax_t)t.bytes_in, (uintmax_t)ps->n_bput,
	    (uintmax_t)ps->b_bput, (uintmax_t)ps->n_pput,
	    (uintmax_t)ps->n_lput, (uintmax_t)ps->n_get,
	    (uintmax_t)ps->n_hit, (uintmax_t)ps->n_raw, (uintmax_t)ps->n_del,
	    (uintmax_t)ps->n_list, (uintmax_t)ps->n_tail);
}

/* ------------------------------------------------------------ the lease */

/* Format the lease body with ${expiry}. */
static size_t
lease_body(struct pss *ps, int64_t expiry, char *buf)
{
	int n;

	n = snprintf(buf, LEASEMAX, "kvlds-lease 1\nowner=%s\nexpiry=%" PRId64
	    "\nepoch=%" PRIu64 "\n", ps->owner, expiry, ps->epoch);
	return (n < 0 || n >= LEASEMAX ? 0 : (size_t)n);
}

/* Parse a lease body; -1 if malformed. */
static int
lease_parse(const uint8_t *body, size_t len, char *owner, size_t olen,
    int64_t *expiry, uint64_t *epoch)
{
	char buf[LEASEMAX + 1], *p, *nl, *e;
	int have = 0;

	if (len > LEASEMAX || len == 0 || body[len - 1] != '\n')
		return (-1);
	memcpy(buf, body, len);
	buf[len] = '\0';
	if (strncmp(buf, "kvlds-lease 1\n", 14) != 0)
		return (-1);
	for (p = buf + 14; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		*nl = '\0';
		if (strncmp(p, "owner=", 6) == 0 && strlen(p + 6) < olen &&
		    p[6] != '\0') {
			strcpy(owner, p + 6);
			have |= 1;
		} else if (strncmp(p, "expiry=", 7) == 0) {
			errno = 0;
			*expiry = strtoll(p + 7, &e, 10);
			if (errno || *e != '\0' || e == p + 7)
				return (-1);
			have |= 2;
		} else if (strncmp(p, "epoch=", 6) == 0) {
			errno = 0;
			*epoch = strtoull(p + 6, &e, 10);
			if (errno || *e != '\0' || e == p + 6)
				return (-1);
			have |= 4;
		} else
			return (-1);
	}
	return (have == 7 ? 0 : -1);
}

/* Note the server's clock from a done operation. */
static void
lease_clock(struct pss *ps, struct s3_op *op)
{
	int64_t d;

	if ((d = s3_op_date(op)) > 0)
		ps->clockoff = d - (int64_t)time(NULL);
}

/*
 * PUT the lease with ${expiry} (0: released) under condition ${cond};
 * on success remember its ETag and, if ${expiry} is not 0, extend the
 * validity from ${t0} (monotonic ms before the request).  Return as
 * s3_wait.
 */
static int
lease_put(struct pss *ps, const char *cond, int64_t expiry, int64_t t0)
{
	char key[KEYMAX], body[LEASEMAX];
	struct s3_op *op;
	size_t len;
	int r;

	metakey(ps, "lease", key);
	if ((len = lease_body(ps, expiry, body)) == 0) {
		warn0("%s: owner name too long", ps->url);
		return (-1);
	}
	if ((op = s3_put_start(ps->lh.s3, key, (const uint8_t *)body, len,
	    cond)) == NULL)
		return (-1);
	r = s3_wait(ps->lh.s3, op);
	ps->n_lput++;
	if (r == S3_OK) {
		lease_clock(ps, op);
		snprintf(ps->etag, sizeof(ps->etag), "%s", s3_op_etag(op));
		if (expiry != 0)
			ps->valid_until = t0 + (ps->leasesecs -
			    ps->marginsecs) * 1000;
	}
	s3_op_free(op);
	ps_acct(ps, &ps->lh);
	return (r);
}

/* The expiry to write now: the server's clock plus the lease's life. */
static int64_t
lease_expiry(struct pss *ps)
{

	return ((int64_t)time(NULL) + ps->clockoff + ps->leasesecs);
}

/*
 * Take the lease at open: create it if absent, retake our own at once,
 * take over another owner's once expired, refuse while it is live.
 */
static int
lease_acquire(struct pss *ps)
{
	char key[KEYMAX], other[256], etag[128];
	struct s3_op *op;
	int64_t expiry = 0, now, t0;
	uint64_t epoch = 0;
	int tries, r;

	metakey(ps, "lease", key);
	for (tries = 0; tries < 5; tries++) {
		if ((op = s3_get_start(ps->lh.s3, key, 0, 0, NULL)) == NULL)
			return (-1);
		r = s3_wait(ps->lh.s3, op);
		if (r == S3_NOTFOUND) {
			s3_op_free(op);
			ps->epoch = 1;
			t0 = mono_ms();
			if ((r = lease_put(ps, "*", lease_expiry(ps), t0)) ==
			    S3_OK)
				return (0);
			if (r == S3_PRECOND)
				continue;
			return (-1);
		}
		if (r != S3_OK) {
			s3_op_free(op);
			warn0("%s: cannot read the lease", ps->url);
			return (-1);
		}
		lease_clock(ps, op);
		now = s3_op_date(op) > 0 ? s3_op_date(op) : (int64_t)time(NULL);
		if (lease_parse(s3_op_data(op), s3_op_len(op), other,
		    sizeof(other), &expiry, &epoch)) {
			s3_op_free(op);
			warn0("%s: the lease object s3://%s/%s is malformed",
			    ps->url, ps->bucket, key);
			return (-1);
		}
		snprintf(etag, sizeof(etag), "%s", s3_op_etag(op));
		s3_op_free(op);
		if (strcmp(other, ps->owner) != 0) {
			if (expiry > now) {
				warn0("%s: the lease is held by %s for %" PRId64
				    " more seconds; refusing to start (only "
				    "one kvlds may write a prefix)", ps->url,
				    other, expiry - now);
				return (-1);
			}
			if (expiry != 0)
				log_info("%s: taking over the lease of %s, "
				    "which expired %" PRId64 " s ago", ps->url,
				    other, now - expiry);
			epoch++;
		}
		ps->epoch = epoch;
		t0 = mono_ms();
		if ((r = lease_put(ps, etag, lease_expiry(ps), t0)) == S3_OK)
			return (0);
		if (r != S3_PRECOND)
			return (-1);
	}
	warn0("%s: the lease keeps changing under us; refusing to start",
	    ps->url);
	return (-1);
}

/* The lease thread: renew every renewsecs, sooner after a failure. */
static void *
lease_thread(void *cookie)
{
	struct pss *ps = cookie;
	struct timespec ts;
	int64_t t0, wait = ps->renewsecs * 1000;
	int r, warned = 0;

	pthread_mutex_lock(&ps->lmtx);
	while (!ps->lquit) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += wait / 1000;
		ts.tv_nsec += (wait % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		if (pthread_cond_timedwait(&ps->lcv, &ps->lmtx, &ts) == 0 ||
		    ps->lquit)
			continue;
		pthread_mutex_unlock(&ps->lmtx);

		t0 = mono_ms();
		r = lease_put(ps, ps->etag, lease_expiry(ps), t0);
		if (r == S3_OK) {
			wait = ps->renewsecs * 1000;
			warned = 0;
		} else if (r == S3_PRECOND) {
			ps->lost = 1;
			warn0("%s: the lease was taken over by another owner; "
			    "no further write will be acknowledged", ps->url);
			pthread_mutex_lock(&ps->lmtx);
			break;
		} else {
			wait = 1000;
			if (!warned && !lease_ok(ps, 0)) {
				warn0("%s: the lease could not be renewed and "
				    "has expired; no further write will be "
				    "acknowledged until it is renewed", ps->url);
				warned = 1;
			}
		}
		pthread_mutex_lock(&ps->lmtx);
	}
	pthread_mutex_unlock(&ps->lmtx);
	return (NULL);
}

/* ------------------------------------------------------------ recovery */

/* s3_list callback: note a batch object. */
static int
list_cb(void *cookie, const char *key, uint64_t size)
{
	struct pss *ps = cookie;
	size_t pl = strlen(ps->prefix);
	unsigned long v;
	char *e;

	if (strncmp(key, ps->prefix, pl) != 0 ||
	    strncmp(key + pl, "b/", 2) != 0)
		return (0);
	key += pl + 2;
	v = strtoul(key, &e, 16);
	if (strlen(key) != 8 || *e != '\0' || v == 0 || v > UINT32_MAX) {
		warn0("%s: ignoring unexpected object b/%s", ps->url, key);
		return (0);
	}
	return (obj_add(ps, (uint32_t)v, size) ? -1 : 0);
}

/* Create a new store: object 1 holds commit 0 (an empty tree). */
static int
create_store(struct pss *ps, struct page_commit *c)
{
	char key[KEYMAX];
	uint8_t rec[PAGE_COMMIT_LEN];
	struct s3_op *op;
	int r;

	(void)pagestore_commit_first(c, ps->pagesize, rec);
	objkey(ps, 1, key);
	if (s3_put(ps->wr.s3, key, rec, sizeof(rec), NULL) != S3_OK)
		goto err;
	ps->n_bput++;
	ps->ptretag[0] = '\0';
	metakey(ps, "commit", key);
	if ((op = s3_put_start(ps->wr.s3, key, rec, sizeof(rec), "*")) ==
	    NULL)
		goto err;
	(void)s3_wait(ps->wr.s3, op);
	r = ptr_done(ps, op);
	s3_op_free(op);
	if (r)
		goto err;
	ps->nobjs = 0;
	ps->bytes = 0;
	if (obj_add(ps, 1, PAGE_COMMIT_LEN))
		return (-1);
	ps->curseg = 1;
	memcpy(ps->prevrec, rec, sizeof(rec));
	ps->ptrdirty = 0;
	log_info("%s: created a new store", ps->url);
	return (0);

err:
	warn0("%s: cannot create the store", ps->url);
	return (-1);
}

/*
 * Recover: list the batch objects, read the pointer (a durable commit
 * K, at most one batch behind the newest), then read the commit record
 * at the end of each object after K's, in order: object K + 1 must hold
 * commit seq + 1, and so on; the last one in this unbroken run is the
 * newest commit.  An object after the run is damage (batches are PUT
 * whole and one at a time): refuse.
 */
static int
s3_recover(struct pss *ps, struct page_commit *c)
{
	char key[KEYMAX];
	struct page_commit nc;
	uint8_t rec[PAGE_COMMIT_LEN];
	const uint8_t *pb;
	struct s3_op *op;
	uint64_t ca, size;
	size_t plen, i;
	uint32_t num;
	int r;

	metakey(ps, "b/", key);
	ps->n_list++;
	if (s3_list(ps->wr.s3, key, 1000, list_cb, ps))
		return (-1);
	metakey(ps, "commit", key);
	if ((op = s3_get_start(ps->wr.s3, key, 0, 0, NULL)) == NULL)
		return (-1);
	if ((r = s3_wait(ps->wr.s3, op)) == S3_OK) {
		pb = s3_op_data(op);
		plen = s3_op_len(op);
		snprintf(ps->ptretag, sizeof(ps->ptretag), "%s",
		    s3_op_etag(op));
		r = (plen == PAGE_COMMIT_LEN && page_commit_decode(pb, plen,
		    c, &ca) == 0 && ca == c->bend - PAGE_COMMIT_LEN) ? S3_OK :
		    S3_PRECOND;
	}
	s3_op_free(op);
	if (r == S3_NOTFOUND) {
		/* New, or its creation was interrupted. */
		if (ps->nobjs > 1 || (ps->nobjs == 1 && (ps->objs[0].num != 1 ||
		    ps->objs[0].size != PAGE_COMMIT_LEN))) {
			warn0("%s: batch objects exist but the commit pointer "
			    "is missing; refusing to open", ps->url);
			return (-1);
		}
		return (create_store(ps, c));
	}
	if (r == S3_PRECOND) {
		warn0("%s: the commit pointer is damaged", ps->url);
		return (-1);
	}
	if (r != S3_OK) {
		warn0("%s: cannot read the commit pointer", ps->url);
		return (-1);
	}
	if (c->pagesize != ps->pagesize) {
		warn0("%s: the store was made with %u-byte pages, not %zu",
		    ps->url, (unsigned)c->pagesize, ps->pagesize);
		return (-1);
	}
	i = obj_find(ps, SEG(c->bend));
	if (i >= ps->nobjs || ps->objs[i].num != SEG(c->bend) ||
	    ps->objs[i].size != OFF(c->bend)) {
		warn0("%s: the object of commit %llu (b/%08x) is missing or "
		    "has the wrong size; the store is damaged", ps->url,
		    (unsigned long long)c->seq, (unsigned)SEG(c->bend));
		return (-1);
	}
	page_commit_encode(c, c->bend - PAGE_COMMIT_LEN, ps->prevrec);
	ps->ptrdirty = 0;

	/* The objects after the pointer's, in order. */
	for (i++; i < ps->nobjs; i++) {
		num = ps->objs[i].num;
		size = ps->objs[i].size;
		if (num != SEG(c->bend) + 1 || size < PAGE_COMMIT_LEN)
			break;
		objkey(ps, num, key);
		if ((op = s3_get_tail_start(ps->wr.s3, key, PAGE_COMMIT_LEN,
		    rec)) == NULL)
			return (-1);
		r = s3_wait(ps->wr.s3, op);
		ps->n_tail++;
		if (r == S3_OK && s3_op_len(op) != PAGE_COMMIT_LEN)
			r = -1;
		s3_op_free(op);
		if (r != S3_OK) {
			warn0("%s: cannot read the commit record of b/%08x",
			    ps->url, (unsigned)num);
			return (-1);
		}
		if (page_commit_decode(rec, sizeof(rec), &nc, &ca) ||
		    nc.seq != c->seq + 1 || nc.bstart != ADDR(num, 0) ||
		    nc.bend != ADDR(num, size) ||
		    ca != nc.bend - PAGE_COMMIT_LEN ||
		    nc.pagesize != c->pagesize)
			break;
		*c = nc;
		memcpy(ps->prevrec, rec, sizeof(rec));
		ps->ptrdirty = 1;
	}
	if (i < ps->nobjs) {
		warn0("%s: object b/%08x lies after the newest commit (%llu, "
		    "in b/%08x) and does not continue it; the store is "
		    "damaged or another writer wrote to it, refusing to open",
		    ps->url, (unsigned)ps->objs[i].num,
		    (unsigned long long)c->seq, (unsigned)SEG(c->bend));
		return (-1);
	}
	ps->curseg = SEG(c->bend);
	return (0);
}

/* ------------------------------------------------------------ open */

/* Split "s3://bucket/prefix" into bucket and "prefix/" (or ""). */
static int
parse_url(struct pss *ps, const char *url)
{
	const char *b = url + 5, *slash, *p;
	size_t pl;

	if ((slash = strchr(b, '/')) == NULL)
		slash = b + strlen(b);
	if ((ps->bucket = strndup(b, (size_t)(slash - b))) == NULL)
		goto nomem;
	p = *slash == '/' ? slash + 1 : slash;
	pl = strlen(p);
	while (pl > 0 && p[pl - 1] == '/')
		pl--;
	if (pl > 512 || strspn(p, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/") < pl ||
	    strstr(p, "//") != NULL) {
		warn0("%s: the prefix may hold only letters, digits, '.', "
		    "'_', '-' and single '/'", url);
		return (-1);
	}
	if ((ps->prefix = malloc(pl + 2)) == NULL)
		goto nomem;
	memcpy(ps->prefix, p, pl);
	ps->prefix[pl] = '/';
	ps->prefix[pl > 0 ? pl + 1 : 0] = '\0';
	return (0);

nomem:
	warnp("malloc");
	return (-1);
}

/* Lock ${dir}/kvlds-s3-<hash of bucket and prefix>.lock. */
static int
local_lock(struct pss *ps)
{
	const char *dir;
	char path[1024], hex[33];
	char id[2048];
	uint8_t md[EVP_MAX_MD_SIZE];
	int i;

	if ((dir = getenv("KVLDS_S3_LOCKDIR")) == NULL || *dir == '\0')
		dir = "/tmp";
	snprintf(id, sizeof(id), "%s/%s", ps->bucket, ps->prefix);
	if (EVP_Digest(id, strlen(id), md, NULL, EVP_sha256(), NULL) != 1) {
		warn0("EVP_Digest failed");
		return (-1);
	}
	for (i = 0; i < 16; i++)
		snprintf(&hex[2 * i], 3, "%02x", md[i]);
	snprintf(path, sizeof(path), "%s/kvlds-s3-%s.lock", dir, hex);
	if ((ps->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) ==
	    -1) {
		warnp("open %s", path);
		return (-1);
	}
	if (flock(ps->lockfd, LOCK_EX | LOCK_NB)) {
		if (errno == EWOULDBLOCK)
			warn0("%s is in use by another kvlds on this host "
			    "(lock held on %s)", ps->url, path);
		else
			warnp("flock %s", path);
		return (-1);
	}
	return (0);
}

/* A positive integer from the environment, or ${def}. */
static long
envnum(const char *name, long def, long min, long max)
{
	const char *s;
	char *e;
	long v;

	if ((s = getenv(name)) == NULL || *s == '\0')
		return (def);
	errno = 0;
	v = strtol(s, &e, 10);
	if (errno || *e != '\0' || v < min || v > max) {
		warn0("%s=%s: ignored (expected %ld to %ld)", name, s, min,
		    max);
		return (def);
	}
	return (v);
}

/**
 * pagestore_s3_open(url, pagesize, segsize, conf, c):
 * Take the lease, recover and return the store.
 */
struct pagestore *
pagestore_s3_open(const char *url, size_t pagesize, size_t segsize,
    const struct pagestore_s3_conf *conf, struct page_commit *c)
{
	struct pss *ps;
	char host[256];
	long cachebytes;
	int rc;

	if (conf == NULL || conf->endpoint == NULL) {
		warn0("%s: an object store needs --s3-endpoint", url);
		return (NULL);
	}
	if ((ps = calloc(1, sizeof(*ps))) == NULL) {
		warnp("calloc");
		return (NULL);
	}
	ps->base.ops = &s3_ops;
	ps->lockfd = -1;
	ps->pagesize = pagesize;
	ps->segsize = segsize;
	pthread_mutex_init(&ps->pmtx, NULL);
	pthread_mutex_init(&ps->cmtx, NULL);
	pthread_mutex_init(&ps->smtx, NULL);
	pthread_mutex_init(&ps->lmtx, NULL);
	pthread_cond_init(&ps->lcv, NULL);
	if ((ps->url = strdup(url)) == NULL) {
		warnp("strdup");
		goto err;
	}
	if (parse_url(ps, url))
		goto err;
	if (conf->owner != NULL)
		ps->owner = strdup(conf->owner);
	else if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		ps->owner = strdup(host);
	} else
		ps->owner = strdup("kvlds");
	if (ps->owner == NULL) {
		warnp("strdup");
		goto err;
	}
	if (ps->owner[0] == '\0' || strpbrk(ps->owner, "\n\r=") != NULL ||
	    strlen(ps->owner) > 200) {
		warn0("--s3-owner: a name of 1 to 200 characters without "
		    "'=' or line breaks is needed");
		goto err;
	}
	if ((conf->credentials != NULL ? s3_creds_load(conf->credentials,
	    &ps->akid, &ps->secret) : s3_creds_env(&ps->akid, &ps->secret)))
		goto err;
	ps->sc.endpoint = conf->endpoint;
	ps->sc.region = conf->region;
	ps->sc.bucket = ps->bucket;
	ps->sc.akid = ps->akid;
	ps->sc.secret = ps->secret;
	ps->sc.retries = (int)envnum("KVLDS_S3_RETRIES", RETRIES, 1, 100);
	ps->leasesecs = envnum("KVLDS_S3_LEASE_SECONDS", DEF_LEASE, 3, 3600);
	ps->renewsecs = ps->leasesecs / 3;
	ps->marginsecs = ps->leasesecs / 10 > 2 ? ps->leasesecs / 10 : 2;
	cachebytes = envnum("KVLDS_S3_CACHE", DEF_CACHE, 0, 1L << 40);
	ps->readahead = (size_t)envnum("KVLDS_S3_READAHEAD", DEF_READAHEAD, 0,
	    64L << 20);
	ps->cslots = (size_t)cachebytes / pagesize / CWAYS * CWAYS;
	if (ps->cslots > 0 && ((ps->cache = malloc(ps->cslots * pagesize)) ==
	    NULL || (ps->ctag = calloc(ps->cslots, sizeof(uint64_t))) ==
	    NULL || (ps->cstamp = calloc(ps->cslots, sizeof(uint64_t))) ==
	    NULL || (ps->clen = calloc(ps->cslots, sizeof(uint32_t))) ==
	    NULL)) {
		warnp("malloc");
		goto err;
	}

	if (local_lock(ps))
		goto err;
	if ((ps->wr.s3 = s3_open(&ps->sc)) == NULL ||
	    (ps->lh.s3 = s3_open(&ps->sc)) == NULL)
		goto err;
	/*
	 * Create the bucket if absent.  A user may lack the right to create
	 * buckets (or a region may want a location constraint) while the
	 * bucket exists: go on, the lease's requests will tell.
	 */
	rc = s3_bucket_create(ps->wr.s3);
	ps_acct(ps, &ps->wr);
	if (rc)
		warn0("%s: could not create the bucket; using it as it is",
		    url);
	if (lease_acquire(ps))
		goto err;
	if (s3_recover(ps, c))
		goto err;
	ps_acct(ps, &ps->wr);
	if ((rc = pthread_create(&ps->lthr, NULL, lease_thread, ps)) != 0) {
		errno = rc;
		warnp("pthread_create");
		goto err;
	}
	ps->lthr_started = 1;
	log_info("%s: commit %llu in object b/%08x, %zu objects, %ju bytes; "
	    "lease of %ld s held by %s", url, (unsigned long long)c->seq,
	    (unsigned)ps->curseg, ps->nobjs, (uintmax_t)ps->bytes,
	    ps->leasesecs, ps->owner);
	return (&ps->base);

err:
	s3ps_close(&ps->base);
	return (NULL);
}

/**
 * s3ps_close(ps):
 * Write the pointer if it lags, release the lease, free everything.
 */
static void
s3ps_close(struct pagestore *base)
{
	struct pss *ps = (struct pss *)base;
	struct s3_op *op;
	size_t i;

	if (ps->lthr_started) {
		pthread_mutex_lock(&ps->lmtx);
		ps->lquit = 1;
		pthread_cond_signal(&ps->lcv);
		pthread_mutex_unlock(&ps->lmtx);
		pthread_join(ps->lthr, NULL);

		/* Leave the pointer at the newest commit, then the lease. */
		if (ps->ptrdirty && !ps->failed && lease_ok(ps, 0) &&
		    (op = ptr_start(ps, ps->prevrec)) != NULL) {
			(void)s3_wait(ps->wr.s3, op);
			if (ptr_done(ps, op))
				warn0("%s: the commit pointer was left one "
				    "commit behind (recovery follows the "
				    "objects)", ps->url);
			s3_op_free(op);
		}
		if (!ps->lost && lease_put(ps, ps->etag, 0, 0) != S3_OK)
			warn0("%s: cannot release the lease", ps->url);
	}
	for (i = 0; i < ps->npool; i++) {
		s3_close(ps->pool[i]->s3);
		free(ps->pool[i]);
	}
	free(ps->pool);
	s3_close(ps->wr.s3);
	s3_close(ps->lh.s3);
	if (ps->lockfd != -1)
		close(ps->lockfd);
	if (ps->secret != NULL) {
		OPENSSL_cleanse(ps->secret, strlen(ps->secret));
		free(ps->secret);
	}
	free(ps->akid);
	free(ps->owner);
	free(ps->prefix);
	free(ps->bucket);
	free(ps->url);
	free(ps->objs);
	free(ps->cache);
	free(ps->ctag);
	free(ps->cstamp);
	free(ps->clen);
	pthread_cond_destroy(&ps->lcv);
	pthread_mutex_destroy(&ps->lmtx);
	pthread_mutex_destroy(&ps->smtx);
	pthread_mutex_destroy(&ps->cmtx);
	pthread_mutex_destroy(&ps->pmtx);
	free(ps);
}

static const struct pagestore_ops s3_ops = {
	.read = s3ps_read,
	.where = s3ps_where,
	.reserve = s3ps_reserve,
	.write = s3ps_write,
	.next = s3ps_next,
	.readraw = s3ps_readraw,
	.free = s3ps_free,
	.segsize = s3ps_segsize,
	.stats = s3ps_stats,
	.statline = s3ps_statline,
	.close = s3ps_close
};
