/*
 * page: serialization and validation of pages and commit records (see
 * page.h for the byte layout).
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c/crc32c.h"

#include "node.h"
#include "page.h"

/* Fill in the common header, then the CRC over bytes 4..len. */
static void
hdr_encode(uint8_t *buf, size_t len, uint64_t addr, int type, int level,
    uint32_t n)
{

	be32enc(&buf[4], (uint32_t)len);
	be64enc(&buf[8], addr);
	buf[16] = (uint8_t)type;
	buf[17] = (uint8_t)level;
	buf[18] = (uint8_t)(n >> 8);
	buf[19] = (uint8_t)n;
}

static void
crc_seal(uint8_t *buf, size_t len)
{

	be32enc(buf, crc32c(&buf[4], len - 4));
}

/*
 * Child address of slot ${i}: the slot's own copy, which btree.c keeps
 * equal to the child's address once the child is written (reading it
 * there spares a cache miss per child).
 */
static uint64_t
kidaddr(const struct node *nd, uint32_t i)
{

	return (nd->kids[i].addr);
}

/**
 * page_encode(node, addr, buf):
 * Serialize a node.
 */
void
page_encode(const struct node *nd, uint64_t addr, uint8_t *buf)
{
	uint8_t *p = &buf[NODE_HDR];
	const uint8_t *k, *v;
	size_t kl, vl;
	uint32_t i;

	hdr_encode(buf, nd->size, addr, PAGE_TYPE_NODE, nd->level, nd->n);
	if (nd->level == 0) {
		/* Arena entries of a leaf are its page body. */
		(void)node_copy_entries(nd, p, NULL);
		crc_seal(buf, nd->size);
		return;
	}
	if (nd->level > 0) {
		be64enc(p, kidaddr(nd, 0));
		p += 8;
	}
	for (i = 0; i < nd->n; i++) {
		k = node_key(nd, i, &kl);
		*p++ = (uint8_t)kl;
		memcpy(p, k, kl);
		p += kl;
		if (nd->level > 0) {
			be64enc(p, kidaddr(nd, i + 1));
			p += 8;
		} else {
			v = node_val(nd, i, &vl);
			*p++ = (uint8_t)vl;
			memcpy(p, v, vl);
			p += vl;
		}
	}
	crc_seal(buf, nd->size);
}

/**
 * page_header(buf, buflen, len, addr, type):
 * Parse a record header without checking it.
 */
int
page_header(const uint8_t *buf, size_t buflen, size_t *len, uint64_t *addr,
    int *type)
{

	if (buflen < NODE_HDR)
		return (-1);
	*len = be32dec(&buf[4]);
	*addr = be64dec(&buf[8]);
	*type = buf[16];
	if (*len < NODE_HDR)
		return (-1);
	return (0);
}

/**
 * page_decode(buf, buflen, addr, pagesize, maxk, maxv, err, errlen):
 * Validate a page and return it as a node.
 */
struct node *
page_decode(const uint8_t *buf, size_t buflen, uint64_t addr,
    size_t pagesize, size_t maxk, size_t maxv, char *err, size_t errlen)
{
	struct node *nd;
	const uint8_t *p, *end, *k, *pk = NULL;
	size_t len, kl, vl, pkl = 0, cap;
	uint64_t a, kaddr;
	uint32_t n, i = 0;
	int type, level;

	if (page_header(buf, buflen, &len, &a, &type)) {
		snprintf(err, errlen, "truncated page header");
		goto err0;
	}
	if (len > buflen || len > pagesize) {
		snprintf(err, errlen, "page length %zu exceeds %s", len,
		    len > pagesize ? "the page size" : "the file");
		goto err0;
	}
	if (be32dec(buf) != crc32c(&buf[4], len - 4)) {
		snprintf(err, errlen, "page checksum mismatch");
		goto err0;
	}
	if (a != addr) {
		snprintf(err, errlen, "page claims address %#llx",
		    (unsigned long long)a);
		goto err0;
	}
	if (type != PAGE_TYPE_NODE) {
		snprintf(err, errlen, "record type %d is not a page", type);
		goto err0;
	}
	level = buf[17];
	n = ((uint32_t)buf[18] << 8) | buf[19];
	if (level >= NODE_MAXLEVEL) {
		snprintf(err, errlen, "page level %d too high", level);
		goto err0;
	}
	if (level == 0 && n == 0) {
		snprintf(err, errlen, "empty leaf page");
		goto err0;
	}

	if ((nd = node_new((uint8_t)level, 0)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto err0;
	}
	nd->addr = addr;
	nd->offcap = n + 1;
	cap = len;
	if ((nd->off = malloc(nd->offcap * sizeof(uint32_t))) == NULL ||
	    (nd->arena = node_arena_alloc(&cap)) == NULL)
		goto nomem;
	nd->acap = (uint32_t)cap;
	if (level > 0) {
		nd->kidcap = n + 1;
		if ((nd->kids = calloc(nd->kidcap, sizeof(*nd->kids))) == NULL)
			goto nomem;
	}
	node_reacct(nd);

	p = &buf[NODE_HDR];
	end = &buf[len];
	if (level > 0) {
		if (end - p < 8)
			goto trunc;
		kaddr = be64dec(p);
		p += 8;
		if (kaddr == 0 || kaddr >= addr)
			goto badkid;
		nd->kids[0].addr = kaddr;
	}
	for (i = 0; i < n; i++) {
		if (end - p < 1)
			goto trunc;
		kl = *p++;
		if ((size_t)(end - p) < kl)
			goto trunc;
		k = p;
		p += kl;
		if (kl > maxk) {
			snprintf(err, errlen, "key %u length %zu too long",
			    (unsigned)i, kl);
			goto err1;
		}
		if (pk != NULL && node_cmp(pk, pkl, k, kl) >= 0) {
			snprintf(err, errlen, "keys out of order at %u",
			    (unsigned)i);
			goto err1;
		}
		pk = k;
		pkl = kl;
		if (level > 0) {
			if (end - p < 8)
				goto trunc;
			kaddr = be64dec(p);
			p += 8;
			if (kaddr == 0 || kaddr >= addr)
				goto badkid;
			nd->kids[i + 1].addr = kaddr;
			nd->off[i] = (uint32_t)(k - 1 - &buf[NODE_HDR]);
		} else {
			if (end - p < 1)
				goto trunc;
			vl = *p++;
			if ((size_t)(end - p) < vl)
				goto trunc;
			if (vl > maxv) {
				snprintf(err, errlen,
				    "value %u length %zu too long",
				    (unsigned)i, vl);
				goto err1;
			}
			p += vl;
			nd->off[i] = (uint32_t)(k - 1 - &buf[NODE_HDR]);
		}
		nd->n = i + 1;
	}
	if (p != end) {
		snprintf(err, errlen, "%zu trailing bytes in page",
		    (size_t)(end - p));
		goto err1;
	}

	/*
	 * Copy the entries into the arena.  Internal entries are (klen, key)
	 * only, so rebuild those; leaf entries are copied as they stand.
	 */
	if (level > 0) {
		uint32_t pos = 0;

		for (i = 0; i < n; i++) {
			const uint8_t *e = &buf[NODE_HDR] + nd->off[i];

			nd->off[i] = pos;
			memcpy(&nd->arena[pos], e, 1 + (size_t)e[0]);
			pos += 1 + e[0];
		}
		nd->alen = pos;
	} else {
		memcpy(nd->arena, &buf[NODE_HDR], len - NODE_HDR);
		nd->alen = (uint32_t)(len - NODE_HDR);
	}
	nd->size = len;
	return (nd);

nomem:
	snprintf(err, errlen, "out of memory");
	goto err1;
trunc:
	snprintf(err, errlen, "entry %u overruns the page", (unsigned)i);
	goto err1;
badkid:
	snprintf(err, errlen, "child address %#llx out of bounds",
	    (unsigned long long)kaddr);
err1:
	/* No child is loaded, so no reference is dropped twice. */
	node_unref(nd);
err0:
	return (NULL);
}

/**
 * page_commit_encode(c, addr, buf):
 * Serialize a commit record.
 */
void
page_commit_encode(const struct page_commit *c, uint64_t addr, uint8_t *buf)
{

	hdr_encode(buf, PAGE_COMMIT_LEN, addr, PAGE_TYPE_COMMIT, 0, 0);
	be64enc(&buf[20], c->seq);
	be64enc(&buf[28], c->root);
	be64enc(&buf[36], c->bstart);
	be64enc(&buf[44], c->bend);
	be32enc(&buf[52], c->pagesize);
	be32enc(&buf[56], 0);
	be64enc(&buf[60], c->treebytes);
	crc_seal(buf, PAGE_COMMIT_LEN);
}

/**
 * page_commit_decode(buf, buflen, c, addr):
 * Check and decode a commit record; its own address goes to *addr.
 */
int
page_commit_decode(const uint8_t *buf, size_t buflen, struct page_commit *c,
    uint64_t *addr)
{
	size_t len;
	int type;

	if (buflen < PAGE_COMMIT_LEN)
		return (-1);
	if (page_header(buf, buflen, &len, addr, &type))
		return (-1);
	if (len != PAGE_COMMIT_LEN || type != PAGE_TYPE_COMMIT ||
	    buf[17] != 0 || buf[18] != 0 || buf[19] != 0)
		return (-1);
	if (be32dec(buf) != crc32c(&buf[4], len - 4))
		return (-1);
	c->seq = be64dec(&buf[20]);
	c->root = be64dec(&buf[28]);
	c->bstart = be64dec(&buf[36]);
	c->bend = be64dec(&buf[44]);
	c->pagesize = be32dec(&buf[52]);
	c->treebytes = be64dec(&buf[60]);
	if (be32dec(&buf[56]) != 0)
		return (-1);
	/* The record lies inside its batch, at its end; the root before. */
	if (c->bstart > *addr || *addr + PAGE_COMMIT_LEN != c->bend ||
	    (c->bstart >> 32) != (c->bend >> 32) || c->root >= *addr)
		return (-1);
	return (0);
}
