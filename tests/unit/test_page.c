/*
 * Unit tests for kvlds/page.c: leaf and internal pages and commit records
 * round-trip, and every kind of damage is rejected with a reason: any
 * flipped bit, truncation, a wrong address, a length past the page size,
 * and structurally bad pages whose checksum is valid (keys out of order,
 * entries overrunning the page, trailing bytes, child addresses out of
 * bounds, over-long keys or values, empty leaves, absurd levels).
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c/crc32c.h"
#include "kvlds/node.h"
#include "kvlds/page.h"

#include "unit.h"

#define ADDR	((5ULL << 32) | 1000)

/* A leaf of n pairs "key%03d" -> value of length i % 7. */
static struct node *
mkleaf(uint32_t n)
{
	struct node *nd;
	char k[16];
	uint8_t v[8];
	uint32_t i;

	if ((nd = node_new(0, 1)) == NULL)
		return (NULL);
	for (i = 0; i < n; i++) {
		snprintf(k, sizeof(k), "key%03u", (unsigned)i);
		memset(v, 'a' + (int)i, sizeof(v));
		if (node_leaf_insert(nd, i, (const uint8_t *)k, strlen(k), v,
		    i % 7))
			return (NULL);
	}
	return (nd);
}

/* An internal node of level 1 with n separators and n + 1 children. */
static struct node *
mkinner(uint32_t n)
{
	struct node *nd;
	struct bt_child c = { 100, NULL };
	char k[16];
	uint32_t i;

	if ((nd = node_new(1, 1)) == NULL || node_int_setkid0(nd, c))
		return (NULL);
	for (i = 0; i < n; i++) {
		snprintf(k, sizeof(k), "sep%03u", (unsigned)i);
		c.addr = 200 + i;
		if (node_int_insert(nd, i, (const uint8_t *)k, strlen(k), c))
			return (NULL);
	}
	return (nd);
}

static int
same(const struct node *a, const struct node *b)
{
	const uint8_t *x, *y;
	size_t xl, yl;
	uint32_t i;

	if (a->level != b->level || a->n != b->n || a->size != b->size)
		return (0);
	for (i = 0; i < a->n; i++) {
		x = node_key(a, i, &xl);
		y = node_key(b, i, &yl);
		if (xl != yl || memcmp(x, y, xl))
			return (0);
		if (a->level == 0) {
			x = node_val(a, i, &xl);
			y = node_val(b, i, &yl);
			if (xl != yl || memcmp(x, y, xl))
				return (0);
		}
	}
	if (a->level > 0)
		for (i = 0; i <= a->n; i++)
			if (a->kids[i].addr != b->kids[i].addr)
				return (0);
	return (1);
}

static struct node *
dec(const uint8_t *buf, size_t len, char *err)
{

	return (page_decode(buf, len, ADDR, 4096, 255, 255, err, 128));
}

/* Round trips, and every single-bit flip is caught. */
static void
test_roundtrip(void)
{
	struct node *nd, *d;
	uint8_t buf[4096];
	char err[128];
	size_t bit;
	int i;

	/* Bytes past the page count as available: make them defined. */
	memset(buf, 0, sizeof(buf));
	for (i = 0; i < 2; i++) {
		CU_ASSERT_FATAL((nd = i ? mkinner(20) : mkleaf(30)) != NULL);
		page_encode(nd, ADDR, buf);
		CU_ASSERT_FATAL((d = dec(buf, nd->size, err)) != NULL);
		CU_ASSERT(same(nd, d));
		CU_ASSERT(d->addr == ADDR);
		node_unref(d);
		/* Extra bytes after the page (the next one) are fine. */
		CU_ASSERT_FATAL((d = dec(buf, sizeof(buf), err)) != NULL);
		node_unref(d);

		for (bit = 0; bit < nd->size * 8; bit++) {
			buf[bit / 8] ^= (uint8_t)(1 << (bit % 8));
			d = dec(buf, sizeof(buf), err);
			CU_ASSERT(d == NULL);
			node_unref(d);
			buf[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		}
		/* Truncated. */
		CU_ASSERT(dec(buf, nd->size - 1, err) == NULL);
		CU_ASSERT(dec(buf, 10, err) == NULL);
		/* Another address. */
		CU_ASSERT(page_decode(buf, nd->size, ADDR + 1, 4096, 255, 255,
		    err, sizeof(err)) == NULL);
		/* A page size smaller than the page. */
		CU_ASSERT(page_decode(buf, nd->size, ADDR, nd->size - 1, 255,
		    255, err, sizeof(err)) == NULL);
		/* Key and value limits. */
		CU_ASSERT(page_decode(buf, nd->size, ADDR, 4096, 5, 255,
		    err, sizeof(err)) == NULL);
		if (i == 0)
			CU_ASSERT(page_decode(buf, nd->size, ADDR, 4096, 255,
			    5, err, sizeof(err)) == NULL);
		node_unref(nd);
	}
}

/* Re-seal a page after tampering, so only the structure is wrong. */
static void
reseal(uint8_t *buf, size_t len)
{

	be32enc(&buf[4], (uint32_t)len);
	be32enc(buf, crc32c(&buf[4], len - 4));
}

static void
test_structure(void)
{
	struct node *nd;
	uint8_t buf[4096], t[4096];
	char err[128];
	size_t len;

	memset(buf, 0, sizeof(buf));
	memset(t, 0, sizeof(t));
	/* Leaf: keys out of order (swap first bytes of two keys). */
	CU_ASSERT_FATAL((nd = mkleaf(5)) != NULL);
	page_encode(nd, ADDR, buf);
	len = nd->size;
	memcpy(t, buf, len);
	/* Entry 0 starts at 20: klen 6 "key000"; make it "kez000". */
	t[23] = 'z';
	reseal(t, len);
	CU_ASSERT(dec(t, len, err) == NULL);
	CU_ASSERT(strstr(err, "order") != NULL);

	/* Duplicate keys. */
	memcpy(t, buf, len);
	t[26] = '1';
	reseal(t, len);
	CU_ASSERT(dec(t, len, err) == NULL);

	/* A key length running past the end. */
	memcpy(t, buf, len);
	t[20] = 250;
	reseal(t, len);
	CU_ASSERT(dec(t, len, err) == NULL);

	/* Trailing bytes. */
	memcpy(t, buf, len);
	t[len] = 0;
	reseal(t, len + 1);
	CU_ASSERT(dec(t, len + 1, err) == NULL);
	CU_ASSERT(strstr(err, "trailing") != NULL);

	/* Fewer entries than n says. */
	memcpy(t, buf, len);
	t[19] = 6;
	reseal(t, len);
	CU_ASSERT(dec(t, len, err) == NULL);

	/* An empty leaf. */
	memcpy(t, buf, 20);
	t[19] = 0;
	reseal(t, 20);
	CU_ASSERT(dec(t, 20, err) == NULL);

	/* Wrong type; absurd level. */
	memcpy(t, buf, len);
	t[16] = PAGE_TYPE_COMMIT;
	reseal(t, len);
	CU_ASSERT(dec(t, len, err) == NULL);
	memcpy(t, buf, len);
	t[17] = 200;
	reseal(t, len);
	CU_ASSERT(dec(t, len, err) == NULL);
	/* A leaf relabelled as internal does not parse. */
	memcpy(t, buf, len);
	t[17] = 1;
	reseal(t, len);
	CU_ASSERT(dec(t, len, err) == NULL);
	node_unref(nd);

	/* Internal: a child address at or above the page's own. */
	CU_ASSERT_FATAL((nd = mkinner(3)) != NULL);
	nd->kids[2].addr = ADDR;
	page_encode(nd, ADDR, buf);
	CU_ASSERT(dec(buf, nd->size, err) == NULL);
	CU_ASSERT(strstr(err, "child") != NULL);
	nd->kids[2].addr = 0;
	page_encode(nd, ADDR, buf);
	CU_ASSERT(dec(buf, nd->size, err) == NULL);
	nd->kids[2].addr = ADDR - 1;
	page_encode(nd, ADDR, buf);
	{
		struct node *d = dec(buf, nd->size, err);

		CU_ASSERT(d != NULL);
		node_unref(d);
	}
	node_unref(nd);
}

static void
test_commit(void)
{
	struct page_commit c = { 7, ADDR - 100, ADDR - 500, ADDR + 68, 4096,
	    12345 };
	struct page_commit d;
	uint8_t buf[PAGE_COMMIT_LEN];
	uint64_t a;
	size_t bit;

	page_commit_encode(&c, ADDR, buf);
	CU_ASSERT_FATAL(page_commit_decode(buf, sizeof(buf), &d, &a) == 0);
	CU_ASSERT(a == ADDR && d.seq == 7 && d.root == c.root &&
	    d.bstart == c.bstart && d.bend == c.bend && d.pagesize == 4096 &&
	    d.treebytes == 12345);
	for (bit = 0; bit < sizeof(buf) * 8; bit++) {
		buf[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		CU_ASSERT(page_commit_decode(buf, sizeof(buf), &d, &a) == -1);
		buf[bit / 8] ^= (uint8_t)(1 << (bit % 8));
	}
	CU_ASSERT(page_commit_decode(buf, sizeof(buf) - 1, &d, &a) == -1);
	/* Inconsistent batch bounds, even with a valid checksum. */
	c.bend = ADDR + 69;
	page_commit_encode(&c, ADDR, buf);
	CU_ASSERT(page_commit_decode(buf, sizeof(buf), &d, &a) == -1);
	c.bend = ADDR + 68;
	c.root = ADDR;
	page_commit_encode(&c, ADDR, buf);
	CU_ASSERT(page_commit_decode(buf, sizeof(buf), &d, &a) == -1);
}

/* Node operations: split and merge keep contents and sizes. */
static void
test_split_merge(void)
{
	struct node *nd, *r, *orig;
	uint8_t sep[255];
	size_t seplen, kl;
	const uint8_t *k;
	int rightedge;

	for (rightedge = 0; rightedge < 2; rightedge++) {
		CU_ASSERT_FATAL((nd = mkleaf(60)) != NULL);
		CU_ASSERT_FATAL((orig = node_clone(nd, 1)) != NULL);
		CU_ASSERT_FATAL(node_split(nd, 512, rightedge, 1, &r, sep,
		    &seplen) == 0);
		CU_ASSERT(nd->size <= 512 && r->size <= 512);
		CU_ASSERT(nd->n + r->n == 60);
		if (rightedge)
			CU_ASSERT(nd->size + 20 > 512);
		/* last-left < sep <= first-right. */
		k = node_key(nd, nd->n - 1, &kl);
		CU_ASSERT(node_cmp(k, kl, sep, seplen) < 0);
		k = node_key(r, 0, &kl);
		CU_ASSERT(node_cmp(sep, seplen, k, kl) <= 0);
		CU_ASSERT(node_merge(nd, sep, seplen, r) == 0);
		CU_ASSERT(same(nd, orig));
		node_unref(r);
		node_unref(orig);
		node_unref(nd);
	}
	CU_ASSERT_FATAL((nd = mkinner(60)) != NULL);
	CU_ASSERT_FATAL((orig = node_clone(nd, 1)) != NULL);
	CU_ASSERT_FATAL(node_split(nd, 512, 0, 1, &r, sep, &seplen) == 0);
	CU_ASSERT(nd->n + r->n == 59 && nd->n >= 1 && r->n >= 1);
	CU_ASSERT(node_merge(nd, sep, seplen, r) == 0);
	CU_ASSERT(same(nd, orig));
	node_unref(r);
	node_unref(orig);
	node_unref(nd);
	CU_ASSERT(node_count() == 0);
}

UNIT_MAIN("page",
    { "roundtrip", test_roundtrip },
    { "structure", test_structure },
    { "commit", test_commit },
    { "split_merge", test_split_merge })
