/*
 * Unit tests of the engine's snapshots (btree_snapshot_*): a pinned tree
 * never shows later commits; the cleaner keeps the segments holding its
 * pages (read back from disk under a small page cache) and frees them
 * once the snapshot is closed.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvlds/btree.h"
#include "kvlds/pagestore.h"

#include "kvtest.h"
#include "unit.h"

static char tmpdir[KVTEST_DIRLEN];

static void
newdir(void)
{

	(void)kvtest_newdir(tmpdir, "test_snapshot");
}

static struct btree *
openbt(size_t pagesize, size_t cache, double cost)
{

	return (kvtest_open(tmpdir, pagesize, cache, cost));
}

/* Does segment file ${seg} exist? */
static int
segexists(unsigned seg)
{
	char p[512];
	struct stat sb;

	snprintf(p, sizeof(p), "%s/seg-%08x", tmpdir, seg);
	return (stat(p, &sb) == 0);
}

/* Key i: "key%08zu"; value: 40 bytes, v[0] = i, the rest = round. */
static void
kv(size_t i, unsigned round, uint8_t k[12], uint8_t v[40])
{

	snprintf((char *)k, 12, "key%08zu", i);
	memset(v, (int)round, 40);
	v[0] = (uint8_t)i;
}

/* What a walk saw: pairs, and how many of them had the expected round. */
struct walk {
	size_t n;
	size_t good;
	unsigned round;
	int order;		/* keys were key%08zu for n = 0, 1, ... */
};

static int
walk_cb(void *cookie, const uint8_t *k, size_t kl, const uint8_t *v,
    size_t vl)
{
	struct walk *w = cookie;
	uint8_t ek[12], ev[40];

	kv(w->n, w->round, ek, ev);
	if (kl != 11 || memcmp(k, ek, 11) != 0)
		w->order = 0;
	if (vl == 40 && memcmp(v, ev, 40) == 0)
		w->good++;
	w->n++;
	return (0);
}

/*
 * Walk all of the snapshot ${s} (or the committed tree if NULL) in
 * requests of ${maxbytes}, as a client following "next" would.
 */
static int
walkall(struct btree *bt, struct btree_snap *s, size_t maxbytes,
    struct walk *w)
{
	uint8_t start[255], next[255];
	size_t slen = 0, nlen;
	int rc;

	w->n = w->good = 0;
	w->order = 1;
	for (;;) {
		if (s != NULL)
			rc = btree_snapshot_range(bt, s, start, slen, NULL, 0,
			    maxbytes, walk_cb, w, next, &nlen);
		else
			rc = btree_range(bt, start, slen, NULL, 0, maxbytes,
			    walk_cb, w, next, &nlen);
		if (rc)
			return (-1);
		if (nlen == 0)
			return (0);
		memcpy(start, next, nlen);
		slen = nlen;
	}
}

/* Set keys [0, n) to round ${round}, committing every ${every}. */
static int
setround(struct btree *bt, size_t n, unsigned round, size_t every)
{
	uint8_t k[12], v[40];
	size_t i;

	for (i = 0; i < n; i++) {
		kv(i, round, k, v);
		if (btree_set(bt, k, 11, v, 40))
			return (-1);
		if (i % every == every - 1 && kvtest_commit(bt))
			return (-1);
	}
	return (kvtest_commit(bt));
}

/* An empty store: a snapshot of nothing stays empty. */
static void
test_empty(void)
{
	struct btree *bt;
	struct btree_snap *s;
	struct walk w = { 0, 0, 0, 1 };
	uint64_t seq = 99;

	newdir();
	CU_ASSERT_FATAL((bt = openbt(4096, 0, 0)) != NULL);
	CU_ASSERT_FATAL((s = btree_snapshot_open(bt, &seq)) != NULL);
	CU_ASSERT(seq == 0);
	CU_ASSERT(btree_snapshot_count(bt) == 1);
	CU_ASSERT_FATAL(setround(bt, 100, 1, 1000) == 0);
	CU_ASSERT(walkall(bt, s, 4096, &w) == 0 && w.n == 0);
	CU_ASSERT(walkall(bt, NULL, 4096, &w) == 0 && w.n == 100);
	btree_snapshot_close(bt, s);
	btree_snapshot_close(bt, NULL);
	CU_ASSERT(btree_snapshot_count(bt) == 0);
	btree_close(bt);
}

/*
 * Writes, deletes and new keys after the open are invisible through the
 * snapshot, also those not yet committed and the commit in flight; two
 * snapshots of different commits; btree_close frees one left open.
 */
static void
test_isolation(void)
{
	struct btree *bt;
	struct btree_snap *s0, *s1;
	struct walk w = { 0, 0, 0, 1 };
	uint8_t k[12], v[40];
	uint64_t seq0, seq1;
	size_t i;

	newdir();
	CU_ASSERT_FATAL((bt = openbt(1024, 0, 0)) != NULL);
	CU_ASSERT_FATAL(setround(bt, 2000, 0, 500) == 0);
	CU_ASSERT_FATAL((s0 = btree_snapshot_open(bt, &seq0)) != NULL);

	/* Pending, then in flight, then committed: never seen by s0. */
	for (i = 0; i < 2000; i += 3) {
		kv(i, 1, k, v);
		CU_ASSERT_FATAL(btree_set(bt, k, 11, v, 40) == 0);
	}
	for (i = 1; i < 2000; i += 3) {
		kv(i, 1, k, v);
		CU_ASSERT_FATAL(btree_delete(bt, k, 11) == 0);
	}
	kv(5000, 1, k, v);
	CU_ASSERT_FATAL(btree_set(bt, k, 11, v, 40) == 0);
	w.round = 0;
	CU_ASSERT(walkall(bt, s0, 1000, &w) == 0);
	CU_ASSERT(w.n == 2000 && w.good == 2000 && w.order);
	CU_ASSERT_FATAL(btree_commit_begin(bt) == 0);
	CU_ASSERT(walkall(bt, s0, 1000, &w) == 0);
	CU_ASSERT(w.n == 2000 && w.good == 2000 && w.order);
	CU_ASSERT_FATAL(btree_commit_write(bt) == 0);
	btree_commit_end(bt);
	CU_ASSERT(walkall(bt, s0, 1000, &w) == 0);
	CU_ASSERT(w.n == 2000 && w.good == 2000 && w.order);

	/* The live tree did change. */
	CU_ASSERT(walkall(bt, NULL, 1000, &w) == 0);
	CU_ASSERT(w.n == 2000 - 667 + 1);

	/* A second snapshot sees the second commit, unchanged later. */
	CU_ASSERT_FATAL((s1 = btree_snapshot_open(bt, &seq1)) != NULL);
	CU_ASSERT(seq1 == seq0 + 1);
	CU_ASSERT_FATAL(setround(bt, 2000, 2, 700) == 0);
	CU_ASSERT(walkall(bt, s1, 1000, &w) == 0);
	CU_ASSERT(w.n == 2000 - 667 + 1);
	w.round = 2;
	CU_ASSERT(walkall(bt, NULL, 1000, &w) == 0);
	CU_ASSERT(w.n == 2001 && w.good == 2000);
	CU_ASSERT(btree_snapshot_count(bt) == 2);

	/* Closing the older one leaves the newer one intact. */
	btree_snapshot_close(bt, s0);
	CU_ASSERT(btree_snapshot_count(bt) == 1);
	CU_ASSERT(walkall(bt, s1, 1000, &w) == 0);
	CU_ASSERT(w.n == 2000 - 667 + 1);

	/* btree_close releases s1 (ASan / valgrind see any leak). */
	btree_close(bt);
}

/*
 * The cleaner under a pinned snapshot, with a page cache far smaller than
 * the tree (so the snapshot's pages are read back from their segments):
 * the oldest segment survives while the snapshot is open, the snapshot
 * reads back whole and unchanged after many rewrites, and once closed the
 * segment is freed by the following commits.
 */
static void
test_cleaner(void)
{
	struct btree *bt;
	struct btree_snap *s;
	struct walk w = { 0, 0, 0, 1 };
	unsigned round;
	char stats[1024];

	pagestore_set_segsize(64 * 1024);
	pagestore_set_nosync(1);
	newdir();
	CU_ASSERT_FATAL((bt = openbt(1024, 32 * 1024, 1.0)) != NULL);
	CU_ASSERT_FATAL(setround(bt, 3000, 0, 150) == 0);
	CU_ASSERT_FATAL((s = btree_snapshot_open(bt, NULL)) != NULL);
	CU_ASSERT(segexists(1));

	for (round = 1; round <= 30; round++) {
		CU_ASSERT_FATAL(setround(bt, 3000, round, 150) == 0);
		/* Walk the snapshot now and then, in small requests. */
		if (round % 10 == 0) {
			w.round = 0;
			CU_ASSERT(walkall(bt, s, 512, &w) == 0);
			CU_ASSERT(w.n == 3000 && w.good == 3000 && w.order);
		}
	}
	btree_stats(bt, stats, sizeof(stats));
	/* The cleaner ran, yet kept the pinned tree's first segment. */
	CU_ASSERT(strstr(stats, "0 segments freed") == NULL);
	CU_ASSERT(segexists(1));
	w.round = 30;
	CU_ASSERT(walkall(bt, NULL, 4096, &w) == 0);
	CU_ASSERT(w.n == 3000 && w.good == 3000);

	/* Closed: the next commits free it. */
	btree_snapshot_close(bt, s);
	for (round = 31; round <= 33; round++)
		CU_ASSERT_FATAL(setround(bt, 3000, round, 150) == 0);
	CU_ASSERT(!segexists(1));
	w.round = 33;
	CU_ASSERT(walkall(bt, NULL, 4096, &w) == 0);
	CU_ASSERT(w.n == 3000 && w.good == 3000);
	btree_close(bt);

	/* And the store reopens whole. */
	CU_ASSERT_FATAL((bt = openbt(1024, 32 * 1024, 1.0)) != NULL);
	CU_ASSERT(walkall(bt, NULL, 4096, &w) == 0);
	CU_ASSERT(w.n == 3000 && w.good == 3000);
	btree_close(bt);
	pagestore_set_segsize(64 * 1024 * 1024);
	pagestore_set_nosync(0);
}

static void
test_cleanup(void)
{

	if (tmpdir[0] != '\0')
		kvtest_rmtree(tmpdir);
	tmpdir[0] = '\0';
}

UNIT_MAIN("snapshot",
    { "empty", test_empty },
    { "isolation", test_isolation },
    { "cleaner", test_cleaner },
    { "cleanup", test_cleanup })
