/*
 * Unit tests for the kvlds engine (kvlds/btree.c, node.c, pagestore.c):
 * search, insert and delete with splits and merges at every page size
 * boundary, RANGE pagination, a randomized run of mixed operations with
 * commits and restarts checked against a reference map, recovery from a
 * torn tail and a damaged checkpoint slot, detection of a damaged page,
 * and the data directory lock.
 */

#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvlds/btree.h"
#include "kvlds/pagestore.h"

#include "kvtest.h"
#include "unit.h"

static const size_t pagesizes[] = {
	512, 1000, 1023, 1024, 1025, 1100, 2048, 4096, 65536
};
#define NPS	(sizeof(pagesizes) / sizeof(pagesizes[0]))

static char tmpdir[KVTEST_DIRLEN];
static size_t opt_cache;	/* cachebytes for openbt */
static double opt_cost;		/* costratio for openbt */

/* ---------------------------------------------------------- helpers */

static uint64_t rngstate;

static uint64_t
rnd(void)
{

	rngstate ^= rngstate << 13;
	rngstate ^= rngstate >> 7;
	rngstate ^= rngstate << 17;
	return (rngstate);
}

static const char *
newdir(void)
{

	return (kvtest_newdir(tmpdir, "test_btree"));
}

static struct btree *
openbt(size_t pagesize)
{

	return (kvtest_open(tmpdir, pagesize, opt_cache, opt_cost));
}

/* A reference map: a sorted array of pairs. */
struct pair {
	uint8_t k[255], v[255];
	uint8_t kl, vl;
};

struct ref {
	struct pair *p;
	size_t n, cap;
};

static int
cmpk(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	if (c)
		return (c);
	return ((al > bl) - (al < bl));
}

static size_t
ref_find(const struct ref *r, const uint8_t *k, size_t kl, int *eq)
{
	size_t lo = 0, hi = r->n, mid;
	int c;

	*eq = 0;
	while (lo < hi) {
		mid = (lo + hi) / 2;
		c = cmpk(r->p[mid].k, r->p[mid].kl, k, kl);
		if (c == 0) {
			*eq = 1;
			return (mid);
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo);
}

static void
ref_set(struct ref *r, const uint8_t *k, size_t kl, const uint8_t *v,
    size_t vl)
{
	size_t i;
	int eq;

	i = ref_find(r, k, kl, &eq);
	if (!eq) {
		if (r->n == r->cap) {
			r->cap = r->cap ? r->cap * 2 : 64;
			r->p = realloc(r->p, r->cap * sizeof(*r->p));
			if (r->p == NULL)
				exit(2);
		}
		memmove(&r->p[i + 1], &r->p[i], (r->n - i) * sizeof(*r->p));
		r->n++;
		memcpy(r->p[i].k, k, kl);
		r->p[i].kl = (uint8_t)kl;
	}
	memcpy(r->p[i].v, v, vl);
	r->p[i].vl = (uint8_t)vl;
}

static void
ref_del(struct ref *r, const uint8_t *k, size_t kl)
{
	size_t i;
	int eq;

	i = ref_find(r, k, kl, &eq);
	if (!eq)
		return;
	memmove(&r->p[i], &r->p[i + 1], (r->n - i - 1) * sizeof(*r->p));
	r->n--;
}

static void
ref_copy(struct ref *dst, const struct ref *src)
{

	if (dst->cap < src->n) {
		dst->cap = src->cap;
		if ((dst->p = realloc(dst->p, dst->cap * sizeof(*dst->p))) ==
		    NULL)
			exit(2);
	}
	if (src->n > 0)
		memcpy(dst->p, src->p, src->n * sizeof(*src->p));
	dst->n = src->n;
}

/* Collect RANGE output. */
#define RBMAX	1100
struct rbuf {
	struct pair p[RBMAX];
	size_t n;
};

static int
range_cb(void *cookie, const uint8_t *k, size_t kl, const uint8_t *v,
    size_t vl)
{
	struct rbuf *rb = cookie;

	if (rb->n == RBMAX)
		return (-1);
	memcpy(rb->p[rb->n].k, k, kl);
	rb->p[rb->n].kl = (uint8_t)kl;
	memcpy(rb->p[rb->n].v, v, vl);
	rb->p[rb->n].vl = (uint8_t)vl;
	rb->n++;
	return (0);
}

/* Check that GET of every reference key and whole-tree RANGE match. */
static int
check_all(struct btree *bt, const struct ref *r, size_t maxbytes)
{
	static struct rbuf rb;
	uint8_t start[255], next[255];
	size_t sl = 0, nl, i, j = 0;
	const uint8_t *v;
	size_t vl;

	for (i = 0; i < r->n; i++) {
		if (btree_get(bt, r->p[i].k, r->p[i].kl, &v, &vl) != 0) {
			fprintf(stderr, "check_all: key %zu/%zu missing\n",
			    i, r->n);
			return (-1);
		}
		if (vl != r->p[i].vl || memcmp(v, r->p[i].v, vl) != 0) {
			fprintf(stderr, "check_all: key %zu value\n", i);
			return (-1);
		}
	}
	for (;;) {
		rb.n = 0;
		if (btree_range(bt, start, sl, NULL, 0, maxbytes, range_cb,
		    &rb, next, &nl))
			return (-1);
		for (i = 0; i < rb.n; i++, j++) {
			if (j >= r->n || rb.p[i].kl != r->p[j].kl ||
			    memcmp(rb.p[i].k, r->p[j].k, rb.p[i].kl) ||
			    rb.p[i].vl != r->p[j].vl ||
			    memcmp(rb.p[i].v, r->p[j].v, rb.p[i].vl)) {
				fprintf(stderr, "check_all: range pair %zu\n",
				    j);
				return (-1);
			}
		}
		if (nl == 0)
			break;
		if (rb.n == 0)
			return (-1);
		memcpy(start, next, nl);
		sl = nl;
	}
	if (j != r->n)
		fprintf(stderr, "check_all: range gave %zu of %zu\n", j, r->n);
	return (j == r->n ? 0 : -1);
}

/* ---------------------------------------------------------- tests */

static void
test_maxsizes(void)
{
	size_t k, v, i;

	CU_ASSERT(btree_maxsizes(511, &k, &v) == -1);
	CU_ASSERT(btree_maxsizes(131073, &k, &v) == -1);
	for (i = 512; i <= 131072; i = i < 4096 ? i + 1 : i * 2) {
		CU_ASSERT_FATAL(btree_maxsizes(i, &k, &v) == 0);
		CU_ASSERT(k >= 1 && v >= 1 && k <= 255 && v <= 255);
		/* Two maximal pairs plus the header fit a leaf. */
		CU_ASSERT(20 + 2 * (2 + k + v) <= i);
		/* Three maximal separators fit an internal node. */
		CU_ASSERT(28 + 3 * (9 + k) <= i);
		if (i >= 2048)
			CU_ASSERT(k == 255 && v == 255);
	}
}

/*
 * Fill a store with maximal pairs (and, separately, short ones), then
 * delete them all, checking everything at each step, for every page size.
 */
static void
test_boundaries(void)
{
	struct btree *bt;
	struct ref r = { NULL, 0, 0 };
	uint8_t k[255], v[255];
	size_t ps, mk, mv, i, n, j, kl;
	const uint8_t *gv;
	size_t gvl;

	pagestore_set_nosync(1);
	for (j = 0; j < NPS; j++) {
		ps = pagesizes[j];
		newdir();
		CU_ASSERT_FATAL((bt = openbt(ps)) != NULL);
		btree_maxsizes(ps, &mk, &mv);
		n = 3 * (131072 / ps) + 60;
		r.n = 0;
		for (i = 0; i < n; i++) {
			/* Maximal keys, differing at the end: long seps. */
			kl = (i % 3 == 0) ? mk : 1 + (i * 7) % mk;
			memset(k, 'k', kl);
			k[kl - 1] = (uint8_t)(i * 37);
			if (kl > 1)
				k[kl - 2] = (uint8_t)(i * 37 >> 8);
			memset(v, (int)i, mv);
			CU_ASSERT_FATAL(btree_set(bt, k, kl, v,
			    i % 2 ? mv : i % 7) == 0);
			ref_set(&r, k, kl, v, i % 2 ? mv : i % 7);
			if (i % 17 == 0) {
				CU_ASSERT_FATAL(kvtest_commit(bt) == 0);
			}
		}
		CU_ASSERT_FATAL(kvtest_commit(bt) == 0);
		CU_ASSERT(check_all(bt, &r, 0) == 0);
		CU_ASSERT(check_all(bt, &r, 1000) == 0);
		btree_close(bt);
		CU_ASSERT_FATAL((bt = openbt(ps)) != NULL);
		CU_ASSERT(check_all(bt, &r, 300) == 0);

		/* Delete every other pair, then the rest. */
		for (i = 0; i < r.n; i += 2)
			CU_ASSERT_FATAL(btree_delete(bt, r.p[i].k,
			    r.p[i].kl) == 0);
		CU_ASSERT_FATAL(kvtest_commit(bt) == 0);
		for (i = 0; i < r.n; i++)
			CU_ASSERT(btree_get(bt, r.p[i].k, r.p[i].kl, &gv,
			    &gvl) == (i % 2 ? 0 : 1));
		for (i = 1; i < r.n; i += 2)
			CU_ASSERT_FATAL(btree_delete(bt, r.p[i].k,
			    r.p[i].kl) == 0);
		CU_ASSERT_FATAL(kvtest_commit(bt) == 0);
		r.n = 0;
		CU_ASSERT(check_all(bt, &r, 0) == 0);
		btree_close(bt);
		CU_ASSERT_FATAL((bt = openbt(ps)) != NULL);
		CU_ASSERT(check_all(bt, &r, 0) == 0);
		btree_close(bt);
	}
	pagestore_set_nosync(0);
	free(r.p);
}

/* RANGE: maxbytes 0 gives one pair; next keys; end exclusive. */
static void
test_range(void)
{
	struct btree *bt;
	static struct rbuf rb;
	uint8_t k[8], v[8], next[255];
	size_t nl, i;

	newdir();
	memset(v, 0, sizeof(v));
	CU_ASSERT_FATAL((bt = openbt(4096)) != NULL);

	/* Empty store. */
	rb.n = 0;
	CU_ASSERT(btree_range(bt, (const uint8_t *)"", 0, NULL, 0, 1000,
	    range_cb, &rb, next, &nl) == 0);
	CU_ASSERT(rb.n == 0 && nl == 0);

	for (i = 0; i < 10; i++) {
		k[0] = 'a' + (uint8_t)i;
		v[0] = (uint8_t)i;
		CU_ASSERT(btree_set(bt, k, 1, v, 3) == 0);
	}
	/* Pairs are not visible before the commit. */
	rb.n = 0;
	CU_ASSERT(btree_range(bt, (const uint8_t *)"", 0, NULL, 0, 1000,
	    range_cb, &rb, next, &nl) == 0);
	CU_ASSERT(rb.n == 0 && nl == 0);
	CU_ASSERT_FATAL(kvtest_commit(bt) == 0);

	/* maxbytes 0: exactly one pair. */
	rb.n = 0;
	CU_ASSERT(btree_range(bt, (const uint8_t *)"", 0, NULL, 0, 0,
	    range_cb, &rb, next, &nl) == 0);
	CU_ASSERT(rb.n == 1 && rb.p[0].k[0] == 'a');
	CU_ASSERT(nl == 1 && next[0] == 'b');

	/* Each pair costs 2 + 1 + 3 = 6: 13 bytes fit two. */
	rb.n = 0;
	CU_ASSERT(btree_range(bt, (const uint8_t *)"c", 1, NULL, 0, 13,
	    range_cb, &rb, next, &nl) == 0);
	CU_ASSERT(rb.n == 2 && rb.p[0].k[0] == 'c' && rb.p[1].k[0] == 'd');
	CU_ASSERT(nl == 1 && next[0] == 'e');
	rb.n = 0;
	CU_ASSERT(btree_range(bt, (const uint8_t *)"c", 1, NULL, 0, 12,
	    range_cb, &rb, next, &nl) == 0);
	CU_ASSERT(rb.n == 2 && nl == 1 && next[0] == 'e');

	/* End is exclusive; exhausting the range gives an empty next. */
	rb.n = 0;
	CU_ASSERT(btree_range(bt, (const uint8_t *)"c", 1,
	    (const uint8_t *)"f", 1, 1000, range_cb, &rb, next, &nl) == 0);
	CU_ASSERT(rb.n == 3 && rb.p[2].k[0] == 'e' && nl == 0);

	/* Start between keys, end past the last key. */
	rb.n = 0;
	CU_ASSERT(btree_range(bt, (const uint8_t *)"bb", 2,
	    (const uint8_t *)"zz", 2, 1000, range_cb, &rb, next, &nl) == 0);
	CU_ASSERT(rb.n == 8 && rb.p[0].k[0] == 'c' && nl == 0);

	/* An empty range. */
	rb.n = 0;
	CU_ASSERT(btree_range(bt, (const uint8_t *)"x", 1, NULL, 0, 0,
	    range_cb, &rb, next, &nl) == 0);
	CU_ASSERT(rb.n == 0 && nl == 0);

	/* The empty key is a key like any other. */
	CU_ASSERT(btree_set(bt, k, 0, v, 1) == 0);
	CU_ASSERT_FATAL(kvtest_commit(bt) == 0);
	rb.n = 0;
	CU_ASSERT(btree_range(bt, k, 0, NULL, 0, 0, range_cb, &rb, next,
	    &nl) == 0);
	CU_ASSERT(rb.n == 1 && rb.p[0].kl == 0 && nl == 1 && next[0] == 'a');

	/* A callback error aborts. */
	rb.n = RBMAX;
	CU_ASSERT(btree_range(bt, k, 0, NULL, 0, 0, range_cb, &rb, next,
	    &nl) == -1);
	btree_close(bt);
}

/* Status codes of every mutation. */
static void
test_statuses(void)
{
	struct btree *bt;
	const uint8_t *v;
	size_t vl;

	newdir();
	CU_ASSERT_FATAL((bt = openbt(1024)) != NULL);
#define S(x) (const uint8_t *)(x), strlen(x)
	CU_ASSERT(btree_add(bt, S("k"), S("1")) == 0);
	CU_ASSERT(btree_add(bt, S("k"), S("2")) == 1);
	CU_ASSERT(btree_modify(bt, S("x"), S("2")) == 1);
	CU_ASSERT(btree_modify(bt, S("k"), S("2")) == 0);
	CU_ASSERT(btree_cas(bt, S("k"), S("1"), S("3")) == 1);
	CU_ASSERT(btree_cas(bt, S("k"), S("2"), S("3")) == 0);
	CU_ASSERT(btree_cas(bt, S("x"), S("2"), S("3")) == 1);
	CU_ASSERT(btree_cad(bt, S("k"), S("2")) == 1);
	CU_ASSERT(btree_cad(bt, S("x"), S("2")) == 1);
	CU_ASSERT(btree_delete(bt, S("x")) == 0);
	CU_ASSERT(btree_pending(bt) == 10);
	CU_ASSERT(btree_get(bt, S("k"), &v, &vl) == 1);
	CU_ASSERT_FATAL(kvtest_commit(bt) == 0);
	CU_ASSERT(btree_pending(bt) == 0);
	CU_ASSERT(btree_get(bt, S("k"), &v, &vl) == 0);
	CU_ASSERT(vl == 1 && v[0] == '3');
	CU_ASSERT(btree_cad(bt, S("k"), S("3")) == 0);
	CU_ASSERT(btree_get(bt, S("k"), &v, &vl) == 0);
	CU_ASSERT_FATAL(kvtest_commit(bt) == 0);
	CU_ASSERT(btree_get(bt, S("k"), &v, &vl) == 1);
	/* Over-long keys and values are refused. */
	{
		uint8_t big[256];
		memset(big, 'b', sizeof(big));
		CU_ASSERT(btree_set(bt, big, 256, big, 1) == -1);
		CU_ASSERT(btree_set(bt, big, 1, big, 256) == -1);
		CU_ASSERT(btree_set(bt, big, 250, big, 250) == 0);
		CU_ASSERT(btree_set(bt, big, 251, big, 1) == -1);
	}
	btree_close(bt);
#undef S
}

/*
 * Randomized mixed operations against the reference, several page sizes,
 * commits at random points (with mutations and reads during the
 * "write" phase), restarts now and then.
 */
static void
test_random(void)
{
	static const size_t rps[] = { 512, 1023, 1100, 2048, 4096, 1024 };
	struct btree *bt;
	struct ref pend = { NULL, 0, 0 }, comm = { NULL, 0, 0 },
	    froz = { NULL, 0, 0 };
	uint8_t keys[600][255], klens[600];
	uint8_t v[255], ov[255], next[255];
	static struct rbuf rb;
	size_t ps, mk, mv, i, j, kl, vl, ol, gvl, nl, x, nops, total = 0;
	const uint8_t *gv;
	int op, st, want, eq, inflight;
	char *env;

	rngstate = 0x9e3779b97f4a7c15ULL;
	if ((env = getenv("TEST_BTREE_SEED")) != NULL)
		rngstate = strtoull(env, NULL, 0) | 1;
	nops = 25000;
	if ((env = getenv("TEST_BTREE_OPS")) != NULL)
		nops = strtoul(env, NULL, 0);
	pagestore_set_segsize(256 * 1024);
	pagestore_set_nosync(1);

	for (j = 0; j < sizeof(rps) / sizeof(rps[0]); j++) {
		ps = rps[j];
		btree_maxsizes(ps, &mk, &mv);
		newdir();
		/* The last round: a tiny cache and the cleaner at work. */
		if (j == sizeof(rps) / sizeof(rps[0]) - 1) {
			opt_cache = 48 * 1024;
			opt_cost = 1.0;
			pagestore_set_segsize(32 * 1024);
		}
		CU_ASSERT_FATAL((bt = openbt(ps)) != NULL);
		pend.n = comm.n = froz.n = 0;
		inflight = 0;

		/* A key pool with shared prefixes and every length class. */
		for (i = 0; i < 600; i++) {
			kl = (i % 5 == 0) ? mk : rnd() % (mk + 1);
			if (i % 5 == 1)
				kl = rnd() % 4;
			memset(keys[i], 'p', kl);
			for (x = kl > 3 ? kl - 3 : 0; x < kl; x++)
				keys[i][x] = (uint8_t)rnd() % 8 + 'a';
			klens[i] = (uint8_t)kl;
		}

		for (i = 0; i < nops; i++) {
			x = rnd() % 600;
			kl = klens[x];
			vl = rnd() % (mv + 1);
			if (rnd() % 4 == 0)
				vl = mv;
			memset(v, (int)(rnd() & 0xff), vl);
			/* A CAS/CAD old value: the right one half the time. */
			gv = NULL;
			ol = 0;
			{
				size_t ri = ref_find(&pend, keys[x], kl, &eq);

				if (eq && rnd() % 2) {
					ol = pend.p[ri].vl;
					memcpy(ov, pend.p[ri].v, ol);
				} else {
					ol = rnd() % 3;
					memset(ov, 'z', ol);
				}
				op = (int)(rnd() % 9);
				want = 0;
				switch (op) {
				case 0: case 1:
					st = btree_set(bt, keys[x], kl, v, vl);
					ref_set(&pend, keys[x], kl, v, vl);
					break;
				case 2:
					st = btree_add(bt, keys[x], kl, v, vl);
					want = eq;
					if (!eq)
						ref_set(&pend, keys[x], kl, v,
						    vl);
					break;
				case 3:
					st = btree_modify(bt, keys[x], kl, v,
					    vl);
					want = !eq;
					if (eq)
						ref_set(&pend, keys[x], kl, v,
						    vl);
					break;
				case 4:
					st = btree_cas(bt, keys[x], kl, ov, ol,
					    v, vl);
					want = !(eq && pend.p[ri].vl == ol &&
					    !memcmp(pend.p[ri].v, ov, ol));
					if (!want)
						ref_set(&pend, keys[x], kl, v,
						    vl);
					break;
				case 5:
					st = btree_delete(bt, keys[x], kl);
					ref_del(&pend, keys[x], kl);
					break;
				case 6:
					st = btree_cad(bt, keys[x], kl, ov,
					    ol);
					want = !(eq && pend.p[ri].vl == ol &&
					    !memcmp(pend.p[ri].v, ov, ol));
					if (!want)
						ref_del(&pend, keys[x], kl);
					break;
				case 7:
					/* GET: the committed value. */
					st = btree_get(bt, keys[x], kl, &gv,
					    &gvl);
					ri = ref_find(&comm, keys[x], kl, &eq);
					want = !eq;
					if (st == 0 && eq && (gvl !=
					    comm.p[ri].vl || memcmp(gv,
					    comm.p[ri].v, gvl))) {
						CU_FAIL("GET value");
						goto out;
					}
					break;
				default:
					/* RANGE from this key, small maxbytes. */
					rb.n = 0;
					st = btree_range(bt, keys[x], kl, NULL,
					    0, rnd() % 600, range_cb, &rb,
					    next, &nl);
					ri = ref_find(&comm, keys[x], kl, &eq);
					for (size_t q = 0; q < rb.n; q++) {
						if (ri + q >= comm.n ||
						    cmpk(rb.p[q].k, rb.p[q].kl,
						    comm.p[ri + q].k,
						    comm.p[ri + q].kl) ||
						    rb.p[q].vl !=
						    comm.p[ri + q].vl) {
							CU_FAIL("RANGE pair");
							goto out;
						}
					}
					if (ri + rb.n < comm.n) {
						if (rb.n == 0 ||
						    cmpk(next, nl,
						    comm.p[ri + rb.n].k,
						    comm.p[ri + rb.n].kl)) {
							CU_FAIL("RANGE next");
							goto out;
						}
					} else if (nl != 0) {
						CU_FAIL("RANGE end");
						goto out;
					}
					break;
				}
			}
			if (st != want) {
				fprintf(stderr, "op %d on key %zu: %d, want "
				    "%d (ps %zu, i %zu)\n", op, x, st, want,
				    ps, i);
				CU_FAIL("status");
				goto out;
			}
			total++;

			/* Commit phases at random points. */
			if (!inflight && rnd() % 60 == 0) {
				CU_ASSERT_FATAL(btree_commit_begin(bt) == 0);
				ref_copy(&froz, &pend);
				inflight = 1;
			} else if (inflight && rnd() % 10 == 0) {
				CU_ASSERT_FATAL(btree_commit_write(bt) == 0);
				btree_commit_end(bt);
				ref_copy(&comm, &froz);
				inflight = 0;
			}

			/* Restart: the pending work is lost. */
			if (rnd() % 4000 == 0) {
				if (inflight) {
					CU_ASSERT_FATAL(
					    btree_commit_write(bt) == 0);
					ref_copy(&comm, &froz);
					inflight = 0;
				}
				btree_close(bt);
				CU_ASSERT_FATAL((bt = openbt(ps)) != NULL);
				ref_copy(&pend, &comm);
				if (check_all(bt, &comm, rnd() % 2000)) {
					CU_FAIL("contents after restart");
					goto out;
				}
			}
		}
		if (inflight) {
			CU_ASSERT_FATAL(btree_commit_write(bt) == 0);
			btree_commit_end(bt);
		}
		CU_ASSERT_FATAL(kvtest_commit(bt) == 0);
		CU_ASSERT(check_all(bt, &pend, 700) == 0);
		if (opt_cache) {
			char st[1024], *p;

			/* Pages were evicted and segments cleaned. */
			btree_stats(bt, st, sizeof(st));
			fprintf(stderr, "%s\n", st);
			CU_ASSERT((p = strstr(st, "bytes, ")) != NULL &&
			    strtoull(p + 7, NULL, 10) > 0);
			CU_ASSERT((p = strstr(st, "deleted, ")) == NULL);
			CU_ASSERT((p = strstr(st, " segments freed")) != NULL &&
			    p[-1] != ' ' && !(p[-1] == '0' && p[-2] == ' '));
		}
		btree_close(bt);
		CU_ASSERT_FATAL((bt = openbt(ps)) != NULL);
		CU_ASSERT(check_all(bt, &pend, 0) == 0);
out:
		btree_close(bt);
	}
	CU_ASSERT(total >= 100000 || getenv("TEST_BTREE_OPS") != NULL);
	opt_cache = 0;
	opt_cost = 0;
	pagestore_set_segsize(64 * 1024 * 1024);
	pagestore_set_nosync(0);
	free(pend.p);
	free(comm.p);
	free(froz.p);
}

/* Size of a file. */
static off_t
fsize(const char *name)
{
	char p[512];
	struct stat sb;

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	if (stat(p, &sb))
		return (-1);
	return (sb.st_size);
}

/* Patch bytes of a file. */
static void
patch(const char *name, off_t off, const void *buf, size_t len)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	if ((fd = open(p, O_RDWR)) == -1 ||
	    pwrite(fd, buf, len, off) != (ssize_t)len) {
		perror(p);
		exit(2);
	}
	close(fd);
}

static void
flipbit(const char *name, off_t off)
{
	char p[512];
	uint8_t b;
	int fd;

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	if ((fd = open(p, O_RDWR)) == -1 || pread(fd, &b, 1, off) != 1) {
		perror(p);
		exit(2);
	}
	b ^= 0x10;
	if (pwrite(fd, &b, 1, off) != 1)
		exit(2);
	close(fd);
}

/* Fill with n sequential pairs in batches of 100, committed. */
static struct btree *
fill(size_t ps, size_t n)
{
	struct btree *bt;
	uint8_t k[32], v[40];
	size_t i;

	if ((bt = openbt(ps)) == NULL)
		return (NULL);
	for (i = 0; i < n; i++) {
		snprintf((char *)k, sizeof(k), "key%08zu", i);
		memset(v, (int)i, sizeof(v));
		if (btree_set(bt, k, 11, v, sizeof(v)) ||
		    ((i % 100 == 99) && kvtest_commit(bt)))
			goto err;
	}
	if (kvtest_commit(bt))
		goto err;
	return (bt);
err:
	btree_close(bt);
	return (NULL);
}

static int
getn(struct btree *bt, size_t i)
{
	uint8_t k[32];
	const uint8_t *v;
	size_t vl;
	int rc;

	snprintf((char *)k, sizeof(k), "key%08zu", i);
	if ((rc = btree_get(bt, k, 11, &v, &vl)) == 0 &&
	    (vl != 40 || v[0] != (uint8_t)i))
		return (-2);
	return (rc);
}

/*
 * btree_get_batch answers as btree_get does: present and absent keys,
 * cold pages (reopened store, tiny cache), pending mutations invisible,
 * batch sizes across the interleaving group, and the empty store.
 */
static void
test_get_batch(void)
{
	struct btree *bt;
	uint8_t kb[100][32];
	const uint8_t *keys[100], *vals[100], *v;
	size_t klens[100], vlens[100], vl, i, n, pass, x;
	int res[100], r;

	newdir();
	opt_cache = 0;
	CU_ASSERT_FATAL((bt = openbt(1024)) != NULL);
	keys[0] = (const uint8_t *)"a";
	klens[0] = 1;
	CU_ASSERT(btree_get_batch(bt, 1, keys, klens, vals, vlens,
	    res) == 0 && res[0] == 1);
	btree_close(bt);
	CU_ASSERT_FATAL((bt = fill(1024, 3000)) != NULL);
	btree_close(bt);

	opt_cache = 64 * 1024;
	CU_ASSERT_FATAL((bt = openbt(1024)) != NULL);
	/* Pending only: invisible to reads. */
	CU_ASSERT(btree_set(bt, (const uint8_t *)"key00000007", 11,
	    (const uint8_t *)"zz", 2) == 0);
	CU_ASSERT(btree_set(bt, (const uint8_t *)"key99999999", 11,
	    (const uint8_t *)"zz", 2) == 0);
	for (pass = 0; pass < 40; pass++) {
		n = 1 + rnd() % 100;
		for (i = 0; i < n; i++) {
			x = rnd() % 3300;
			if (pass == 0 && i == 0)
				x = 7;
			if (pass == 0 && i == 1)
				x = 99999999;
			snprintf((char *)kb[i], sizeof(kb[i]), "key%08zu", x);
			keys[i] = kb[i];
			klens[i] = 11;
		}
		CU_ASSERT_FATAL(btree_get_batch(bt, n, keys, klens, vals,
		    vlens, res) == 0);
		for (i = 0; i < n; i++) {
			x = strtoul((const char *)kb[i] + 3, NULL, 10);
			if (x < 3000) {
				CU_ASSERT(res[i] == 0 && vlens[i] == 40 &&
				    vals[i][0] == (uint8_t)x &&
				    vals[i][39] == (uint8_t)x);
			} else
				CU_ASSERT(res[i] == 1);
		}
		/* The same answers one by one. */
		for (i = 0; i < n; i++) {
			r = btree_get(bt, keys[i], klens[i], &v, &vl);
			CU_ASSERT(r == res[i]);
		}
	}
	btree_close(bt);
	opt_cache = 0;
}

/* Bytes after the last commit are a torn tail: ignored and truncated. */
static void
test_torn_tail(void)
{
	struct btree *bt;
	uint8_t junk[3000];
	off_t sz;

	newdir();
	CU_ASSERT_FATAL((bt = fill(1024, 1000)) != NULL);
	btree_close(bt);
	sz = fsize("seg-00000001");
	CU_ASSERT_FATAL(sz > 0);

	/* Garbage after the end. */
	memset(junk, 0xa5, sizeof(junk));
	patch("seg-00000001", sz, junk, sizeof(junk));
	CU_ASSERT_FATAL((bt = openbt(1024)) != NULL);
	CU_ASSERT(getn(bt, 0) == 0 && getn(bt, 999) == 0);
	btree_close(bt);
	CU_ASSERT(fsize("seg-00000001") == sz);

	/* A batch with pages but no commit record (a torn write). */
	CU_ASSERT_FATAL((bt = openbt(1024)) != NULL);
	CU_ASSERT(btree_set(bt, (const uint8_t *)"new", 3,
	    (const uint8_t *)"v", 1) == 0);
	CU_ASSERT_FATAL(kvtest_commit(bt) == 0);
	CU_ASSERT(fsize("seg-00000001") > sz);
	btree_close(bt);
	/* Tear the commit record: drop it and the checkpoint slot. */
	{
		uint8_t zero[68];
		off_t nsz = fsize("seg-00000001");
		char p[512];

		memset(zero, 0, sizeof(zero));
		snprintf(p, sizeof(p), "%s/seg-00000001", tmpdir);
		CU_ASSERT_FATAL(truncate(p, nsz - 30) == 0);
		/* Commit 12 went to slot 0 (commit 0 + 11 fills + 1). */
		patch("checkpoint", 0, zero, sizeof(zero));
	}
	CU_ASSERT_FATAL((bt = openbt(1024)) != NULL);
	CU_ASSERT(btree_get(bt, (const uint8_t *)"new", 3, &(const uint8_t *)
	    {NULL}, &(size_t){0}) == 1);
	CU_ASSERT(getn(bt, 999) == 0);
	btree_close(bt);
	CU_ASSERT(fsize("seg-00000001") == sz);
}

/* A damaged newest checkpoint slot: the commit comes back from the log. */
static void
test_checkpoint_slot(void)
{
	struct btree *bt;
	size_t slot;

	for (slot = 0; slot < 2; slot++) {
		newdir();
		CU_ASSERT_FATAL((bt = fill(2048, 300 + 100 * slot)) != NULL);
		btree_close(bt);
		/* 3 (or 4) fill commits + final: newest is seq 4 or 5. */
		flipbit("checkpoint", (off_t)(((4 + slot) % 2) * 4096 + 30));
		CU_ASSERT_FATAL((bt = openbt(2048)) != NULL);
		CU_ASSERT(getn(bt, 299 + 100 * slot) == 0);
		btree_close(bt);
		/* The newest slot and the log's copy damaged: refused. */
		newdir();
		CU_ASSERT_FATAL((bt = fill(2048, 300 + 100 * slot)) != NULL);
		btree_close(bt);
		flipbit("checkpoint", (off_t)(((4 + slot) % 2) * 4096 + 30));
		flipbit("seg-00000001", fsize("seg-00000001") - 30);
		CU_ASSERT(openbt(2048) == NULL);
		/* Both slots damaged: refused. */
		flipbit("checkpoint", (off_t)(((5 + slot) % 2) * 4096 + 30));
		CU_ASSERT(openbt(2048) == NULL);
	}
}

/* A flipped bit in an older page is reported, not skipped. */
static void
test_damaged_page(void)
{
	struct btree *bt;
	size_t i;
	int bad = 0, rc;

	newdir();
	CU_ASSERT_FATAL((bt = fill(1024, 2000)) != NULL);
	btree_close(bt);
	/* Damage early in the log: leaves of the first batch. */
	flipbit("seg-00000001", 300);
	CU_ASSERT_FATAL((bt = openbt(1024)) != NULL);
	for (i = 0; i < 2000; i++) {
		rc = getn(bt, i);
		if (rc == -1)
			bad++;
		else
			CU_ASSERT(rc == 0);
	}
	CU_ASSERT(bad > 0 && bad < 100);
	btree_close(bt);

	/* The page size is checked at open. */
	CU_ASSERT(openbt(2048) == NULL);
}

/* The lock refuses a second open. */
static void
test_lock(void)
{
	struct btree *bt, *bt2;

	newdir();
	CU_ASSERT_FATAL((bt = openbt(4096)) != NULL);
	CU_ASSERT((bt2 = openbt(4096)) == NULL);
	btree_close(bt2);
	btree_close(bt);
	CU_ASSERT_FATAL((bt = openbt(4096)) != NULL);
	btree_close(bt);
	btree_close(NULL);
}

/* Several segments; stats. */
static void
test_segments(void)
{
	struct btree *bt;
	char buf[512];
	size_t i;

	pagestore_set_segsize(64 * 1024);
	newdir();
	CU_ASSERT_FATAL((bt = fill(4096, 5000)) != NULL);
	btree_stats(bt, buf, sizeof(buf));
	CU_ASSERT(strstr(buf, "segments") != NULL);
	btree_close(bt);
	CU_ASSERT(fsize("seg-00000002") > 0);
	CU_ASSERT_FATAL((bt = openbt(4096)) != NULL);
	for (i = 0; i < 5000; i += 7)
		CU_ASSERT(getn(bt, i) == 0);
	btree_close(bt);
	pagestore_set_segsize(64 * 1024 * 1024);
}

/* Count seg-* files. */
static int
nsegs(void)
{
	DIR *d;
	struct dirent *de;
	int n = 0;

	if ((d = opendir(tmpdir)) == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "seg-", 4) == 0)
			n++;
	closedir(d);
	return (n);
}

/*
 * The cleaner: rewriting every key many times keeps the log near twice
 * the tree, old segments go away, everything reads back, also after
 * restarts in the middle (some with a batch written but not ended).
 */
static void
test_cleaner(void)
{
	struct btree_opts o;
	struct btree *bt;
	uint8_t k[32], v[40];
	size_t i, round, maxsegs = 0;
	int n;

	pagestore_set_segsize(64 * 1024);
	pagestore_set_nosync(1);
	newdir();
	memset(&o, 0, sizeof(o));
	o.dir = tmpdir;
	o.pagesize = 1024;
	o.costratio = 1.0;
	CU_ASSERT_FATAL((bt = btree_open(&o)) != NULL);
	for (round = 0; round < 30; round++) {
		for (i = 0; i < 3000; i++) {
			snprintf((char *)k, sizeof(k), "key%08zu", i);
			memset(v, (int)(i + round), sizeof(v));
			v[0] = (uint8_t)i;
			CU_ASSERT_FATAL(btree_set(bt, k, 11, v,
			    sizeof(v)) == 0);
			if (i % 150 == 149) {
				CU_ASSERT_FATAL(kvtest_commit(bt) == 0);
			}
		}
		CU_ASSERT_FATAL(kvtest_commit(bt) == 0);
		if ((n = nsegs()) > (int)maxsegs)
			maxsegs = (size_t)n;
		/* Restart now and then, once with a commit half done. */
		if (round % 7 == 3) {
			if (round % 2) {
				CU_ASSERT(btree_set(bt, (const uint8_t *)"x",
				    1, v, 1) == 0);
				CU_ASSERT_FATAL(btree_commit_begin(bt) == 0);
				CU_ASSERT_FATAL(btree_commit_write(bt) == 0);
			}
			btree_close(bt);
			CU_ASSERT_FATAL((bt = btree_open(&o)) != NULL);
		}
		for (i = 0; i < 3000; i += 13) {
			const uint8_t *gv;
			size_t gvl;

			snprintf((char *)k, sizeof(k), "key%08zu", i);
			CU_ASSERT(btree_get(bt, k, 11, &gv, &gvl) == 0 &&
			    gvl == 40 && gv[0] == (uint8_t)i &&
			    gv[1] == (uint8_t)(i + round));
		}
	}
	/* 3000 x 53 bytes of leaves: about 3 segments of live data. */
	CU_ASSERT(fsize("seg-00000001") == -1);
	CU_ASSERT(maxsegs <= 12);
	btree_close(bt);
	CU_ASSERT_FATAL((bt = btree_open(&o)) != NULL);
	for (i = 0; i < 3000; i++)
		CU_ASSERT(getn(bt, i) != -1);
	btree_close(bt);
	pagestore_set_segsize(64 * 1024 * 1024);
	pagestore_set_nosync(0);
}

static void
cleanup(void)
{

	if (tmpdir[0] != '\0')
		kvtest_rmtree(tmpdir);
}

static void
test_cleanup(void)
{

	cleanup();
	tmpdir[0] = '\0';
}

UNIT_MAIN("btree",
    { "maxsizes", test_maxsizes },
    { "statuses", test_statuses },
    { "range", test_range },
    { "boundaries", test_boundaries },
    { "random", test_random },
    { "get_batch", test_get_batch },
    { "torn_tail", test_torn_tail },
    { "checkpoint_slot", test_checkpoint_slot },
    { "damaged_page", test_damaged_page },
    { "lock", test_lock },
    { "segments", test_segments },
    { "cleaner", test_cleaner },
    { "cleanup", test_cleanup })
