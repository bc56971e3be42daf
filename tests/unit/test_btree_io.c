/*
 * Unit tests for the kvlds engine's memory and I/O contract (btree.h):
 * the dirty bytes of the pending batch that the daemon's back-pressure
 * watches (btree_dirty_bytes), and the per-segment live bytes of the
 * statistics line; a failed page read in the middle of a mutation (the
 * tree that is committed afterwards must read back whole).
 */

#include <sys/syscall.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvlds/btree.h"

#include "kvtest.h"
#include "unit.h"

static char tmpdir[KVTEST_DIRLEN];

/*
 * Page reads that fail: this pread replaces the C library's for the
 * engine linked into this program.  While failreads is set, a read fails
 * with EIO if failevery is 0 or, else, once in ${failevery} reads (by a
 * fixed sequence).
 */
static int failreads;
static unsigned failevery;
static unsigned long long nreads, nfailed;

ssize_t
pread(int fd, void *buf, size_t len, off_t off)
{
	static uint64_t x = 2463534242ULL;

	nreads++;
	if (failreads) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (failevery == 0 || x % failevery == 0) {
			nfailed++;
			errno = EIO;
			return (-1);
		}
	}
	return (syscall(SYS_pread64, fd, buf, len, off));
}

static void
newdir(void)
{

	(void)kvtest_newdir(tmpdir, "test_btree_io");
}

static struct btree *
openbtps(size_t cachebytes, size_t pagesize)
{

	return (kvtest_open(tmpdir, pagesize, cachebytes, 1.0));
}

static struct btree *
openbt(size_t cachebytes)
{

	return (openbtps(cachebytes, 4096));
}

/* Key ${i}: 40 bytes; its value: 40 bytes naming ${i} and ${round}. */
static void
kv(size_t i, unsigned round, uint8_t k[40], uint8_t v[40])
{
	char t[64];
	int n;

	memset(k, 'k', 40);
	n = snprintf(t, sizeof(t), "key%09zu", i);
	memcpy(k, t, (size_t)n);
	memset(v, 'v', 40);
	n = snprintf(t, sizeof(t), "r%u-%zu", round, i);
	memcpy(v, t, (size_t)n);
}

/* ---------------------------------------------------------- dirty bytes */

static void
test_dirty_bytes(void)
{
	struct btree *bt;
	uint8_t k[40], v[40];
	size_t cap, d0, d1, i;

	/* Unlimited cache: no limit. */
	newdir();
	CU_ASSERT_FATAL((bt = openbt(0)) != NULL);
	(void)btree_dirty_bytes(bt, &cap);
	CU_ASSERT(cap == 0);
	btree_close(bt);

	/* A small budget: the limit is at least 1 MiB. */
	newdir();
	CU_ASSERT_FATAL((bt = openbt(64 * 1024)) != NULL);
	(void)btree_dirty_bytes(bt, &cap);
	CU_ASSERT(cap == 1024 * 1024);
	btree_close(bt);

	/* 32 MiB: a quarter of it. */
	newdir();
	CU_ASSERT_FATAL((bt = openbt(32 << 20)) != NULL);
	d0 = btree_dirty_bytes(bt, &cap);
	CU_ASSERT(cap == 8 << 20);
	CU_ASSERT(d0 == 0);
	for (i = 0; i < 20000; i++) {
		kv(i, 0, k, v);
		CU_ASSERT_FATAL(btree_set(bt, k, 40, v, 40) == 0);
	}
	/* 20000 pairs of 82 bytes: at least their leaves are dirty. */
	d1 = btree_dirty_bytes(bt, &cap);
	CU_ASSERT(d1 >= 20000 * 82);
	CU_ASSERT(d1 < 8 * 20000 * 82);

	/* A commit's begin empties the pending batch. */
	CU_ASSERT_FATAL(btree_commit_begin(bt) == 0);
	CU_ASSERT(btree_dirty_bytes(bt, &cap) == 0);
	/* Mutations during the write count again, from a clone. */
	kv(5, 1, k, v);
	CU_ASSERT_FATAL(btree_set(bt, k, 40, v, 40) == 0);
	d1 = btree_dirty_bytes(bt, &cap);
	CU_ASSERT(d1 > 0 && d1 < 64 * 1024);
	CU_ASSERT_FATAL(btree_commit_write(bt) == 0);
	btree_commit_end(bt);
	CU_ASSERT(btree_dirty_bytes(bt, &cap) == d1);
	CU_ASSERT_FATAL(kvtest_commit(bt) == 0);
	CU_ASSERT(btree_dirty_bytes(bt, &cap) == 0);
	btree_close(bt);
	kvtest_rmtree(tmpdir);
	tmpdir[0] = '\0';
}

/* ------------------------------------------------- live bytes per segment */

/* The number after ${what} in the statistics line ${st}, or -1. */
static long long
stat_num(const char *st, const char *what)
{
	const char *p;

	if ((p = strstr(st, what)) == NULL)
		return (-1);
	return (strtoll(p + strlen(what), NULL, 10));
}

static void
test_seglive(void)
{
	struct btree *bt;
	uint8_t k[40], v[40];
	char st[2048];
	unsigned round;
	size_t i;
	uint64_t x = 88172645463325252ULL;
	long long tree, closed, cur;

	setenv("KVLDS_SEGMENT_SIZE", "65536", 1);
	newdir();
	CU_ASSERT_FATAL((bt = openbt(256 * 1024)) != NULL);
	for (i = 0; i < 3000; i++) {
		kv(i, 0, k, v);
		CU_ASSERT_FATAL(btree_set(bt, k, 40, v, 40) == 0);
	}
	CU_ASSERT_FATAL(kvtest_commit(bt) == 0);
	/* Random rewrites: pages die in every segment, the cleaner runs. */
	for (round = 1; round <= 30; round++) {
		for (i = 0; i < 100; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			kv(x % 3000, round, k, v);
			CU_ASSERT_FATAL(btree_set(bt, k, 40, v, 40) == 0);
		}
		CU_ASSERT_FATAL(kvtest_commit(bt) == 0);
		/* Every segment is known: closed + current = tree bytes. */
		btree_stats(bt, st, sizeof(st));
		tree = stat_num(st, "tree bytes ");
		closed = stat_num(st, "closed segments from 1: ");
		cur = stat_num(strstr(st, ", current "), ": ");
		if (strstr(st, "known for no closed segment") != NULL)
			closed = 0;
		CU_ASSERT(tree > 0 && closed >= 0 && cur >= 0);
		if (closed + cur != tree)
			fprintf(stderr, "%s\n", st);
		CU_ASSERT(closed + cur == tree);
	}
	CU_ASSERT(strstr(st, " segments freed") != NULL);
	btree_close(bt);

	/* Reopened: only the segments created from now on are known. */
	CU_ASSERT_FATAL((bt = openbt(256 * 1024)) != NULL);
	btree_stats(bt, st, sizeof(st));
	CU_ASSERT(strstr(st, "known for no closed segment") != NULL);
	btree_close(bt);
	unsetenv("KVLDS_SEGMENT_SIZE");
	kvtest_rmtree(tmpdir);
	tmpdir[0] = '\0';
}

/* ------------------------------------------- failed reads during mutations */

/*
 * Check that the committed tree in tmpdir holds exactly the pairs of
 * ${model} (model[i]: 0 absent, else the round of key i's value), and
 * that each of its pages reads back.
 */
static void
check_model(const unsigned *model, size_t nkeys)
{
	struct btree *bt;
	uint8_t k[40], v[40];
	const uint8_t *val;
	size_t i, vl, bad = 0;
	int r;

	CU_ASSERT_FATAL((bt = openbtps(0, 512)) != NULL);
	for (i = 0; i < nkeys; i++) {
		kv(i, model[i], k, v);
		r = btree_get(bt, k, 40, &val, &vl);
		if (model[i] == 0 ? r != 1 : (r != 0 || vl != 40 ||
		    memcmp(val, v, 40) != 0)) {
			if (bad++ < 5)
				fprintf(stderr, "key %zu: get %d, want %s\n",
				    i, r, model[i] ? "found" : "absent");
		}
	}
	CU_ASSERT(bad == 0);
	btree_close(bt);
}

/*
 * A leaf emptied by deletes while its siblings cannot be read (the merge
 * with one of them fails): the committed tree must not hold an empty
 * leaf, which is refused when read back ("empty leaf page").
 */
static void
test_delete_unreadable(void)
{
	struct btree *bt;
	uint8_t k[40], v[40];
	unsigned model[400];
	size_t i, n = 400;

	newdir();
	CU_ASSERT_FATAL((bt = openbtps(0, 512)) != NULL);
	for (i = 0; i < n; i++) {
		kv(i, 1, k, v);
		model[i] = 1;
		CU_ASSERT_FATAL(btree_set(bt, k, 40, v, 40) == 0);
	}
	CU_ASSERT_FATAL(kvtest_commit(bt) == 0);
	btree_close(bt);

	/*
	 * Reopened: no page is in memory.  Keys 300 down to 100 are
	 * deleted; before each, a SET of the same value brings the path to
	 * its leaf in (with reads that work), then the delete runs with
	 * every read failing, so that the merge of an underfull leaf with
	 * its left sibling (not read yet, its keys are lower) cannot read
	 * that sibling.
	 */
	CU_ASSERT_FATAL((bt = openbtps(0, 512)) != NULL);
	for (i = 300; i >= 100; i--) {
		kv(i, 1, k, v);
		CU_ASSERT_FATAL(btree_set(bt, k, 40, v, 40) == 0);
		failreads = 1;
		failevery = 0;
		CU_ASSERT(btree_delete(bt, k, 40) == 0);
		failreads = 0;
		model[i] = 0;
	}
	CU_ASSERT(nfailed > 0);
	CU_ASSERT_FATAL(kvtest_commit(bt) == 0);
	btree_close(bt);
	check_model(model, n);
	kvtest_rmtree(tmpdir);
	tmpdir[0] = '\0';
}

/*
 * Random SETs and DELETEs under a tiny cache with one page read in
 * ${every} failing: a mutation that fails either changed nothing (and
 * the batch commits) or stops the store (no commit: the store reopened
 * holds the last committed state).  Either way every committed tree
 * reads back whole and holds what it should.
 */
static void
random_faults(unsigned every)
{
	struct btree *bt;
	uint8_t k[40], v[40];
	static unsigned model[3000], pend[3000];
	size_t i, n = 3000, j, ncommit = 0;
	unsigned round;
	uint64_t x = 88172645463325252ULL + every;
	int r;

	newdir();
	CU_ASSERT_FATAL((bt = openbtps(16 * 1024, 512)) != NULL);
	for (i = 0; i < n; i++) {
		kv(i, 1, k, v);
		model[i] = pend[i] = 1;
		CU_ASSERT_FATAL(btree_set(bt, k, 40, v, 40) == 0);
	}
	CU_ASSERT_FATAL(kvtest_commit(bt) == 0);
	for (round = 2; round < 60; round++) {
		failreads = 1;
		failevery = every;
		for (j = 0; j < 300; j++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			i = (size_t)(x >> 8) % n;
			kv(i, round, k, v);
			/* Mostly deletes, so that leaves empty out. */
			if ((x & 7) == 0)
				r = btree_set(bt, k, 40, v, 40);
			else
				r = btree_delete(bt, k, 40);
			/* -1: nothing changed, or the store stopped. */
			if (r == 0)
				pend[i] = ((x & 7) == 0) ? round : 0;
		}
		failreads = 0;
		/* The store refuses the commit if a mutation stopped it. */
		if (btree_commit_begin(bt) == 0) {
			CU_ASSERT_FATAL(btree_commit_write(bt) == 0);
			btree_commit_end(bt);
			memcpy(model, pend, sizeof(model));
			ncommit++;
		} else {
			memcpy(pend, model, sizeof(model));
		}
		btree_close(bt);
		check_model(model, n);
		CU_ASSERT_FATAL((bt = openbtps(16 * 1024, 512)) != NULL);
	}
	btree_close(bt);
	/* Most batches committed, in spite of the failed reads. */
	CU_ASSERT(ncommit > 40);
	kvtest_rmtree(tmpdir);
	tmpdir[0] = '\0';
}

static void
test_random_faults(void)
{

	random_faults(7);
	random_faults(40);
}

UNIT_MAIN("btree_io",
    { "dirty_bytes", test_dirty_bytes },
    { "seglive", test_seglive },
    { "delete_unreadable", test_delete_unreadable },
    { "random_faults", test_random_faults })
