#ifndef PAGE_H_
#define PAGE_H_

/*
 * page: the on-disk form of B+tree nodes and commit records, and their
 * strict validation.  Internal to the kvlds engine.
 *
 * Every record in the log starts with a 20-byte header, big-endian:
 *
 *	offset	size	field
 *	0	4	CRC32C (lib/crc32c) of bytes 4 .. len
 *	4	4	len: total record length, header included
 *	8	8	addr: the record's own log address (segment << 32 | offset)
 *	16	1	type: 1 = B+tree page, 2 = commit record
 *	17	1	level: 0 = leaf, > 0 = internal (0 for commit records)
 *	18	2	n: number of keys
 *
 * A leaf page then holds n x (klen 1, key, vlen 1, value), keys strictly
 * increasing.  An internal page holds child 0's address (8 bytes) then
 * n x (klen 1, key, child address 8), keys strictly increasing; child i
 * covers key[i-1] <= k < key[i].  Children are written before their
 * parents, so every child address is smaller than the parent's own.
 *
 * A commit record (type 2, len 68) holds: seq 8, root address 8 (0 =
 * empty tree), batch start address 8, batch end address 8 (just past this
 * record), page size 4, reserved 4 (0), tree bytes 8 (the total length of
 * the pages reachable from the root, which paces the cleaner).  Each
 * commit's batch is its dirty pages (children first) followed by its
 * commit record.
 */

#include <stddef.h>
#include <stdint.h>

#include "sysendian/sysendian.h"

struct node;

#define PAGE_TYPE_NODE		1
#define PAGE_TYPE_COMMIT	2
#define PAGE_COMMIT_LEN		68

/* A decoded commit record. */
struct page_commit {
	uint64_t seq;
	uint64_t root;
	uint64_t bstart;
	uint64_t bend;
	uint32_t pagesize;
	uint64_t treebytes;
};

/*
 * page_be32enc, page_be32dec, page_be64enc, page_be64dec: the big-endian
 * helpers of lib/sysendian (included above) under the names btree.c still
 * uses; other code calls be32enc() and friends directly.
 */
#define page_be32enc(p, x)	be32enc((p), (x))
#define page_be32dec(p)		be32dec(p)
#define page_be64enc(p, x)	be64enc((p), (x))
#define page_be64dec(p)		be64dec(p)

/*
 * page_encode(node, addr, buf):
 * Serialize ${node} as a page at log address ${addr} into the
 * node->size bytes at ${buf}.  Child addresses come from the slots
 * (kids[i].addr), which must all be set.
 */
void page_encode(const struct node *, uint64_t, uint8_t *);

/*
 * page_decode(buf, buflen, addr, pagesize, maxk, maxv, err, errlen):
 * Check the page at log address ${addr} whose bytes start at ${buf}
 * (${buflen} bytes available, at least the header) and return a new clean
 * node (generation 0, refcnt 1, children not loaded).  Checked: length
 * within ${pagesize} and ${buflen}, CRC, own address, type, level, every
 * entry inside the record and the record exactly consumed, key and value
 * lengths within ${maxk}/${maxv}, keys strictly increasing, child
 * addresses non-zero and below ${addr}.  On failure return NULL and write
 * the reason to err[0..errlen).
 */
struct node *page_decode(const uint8_t *, size_t, uint64_t, size_t, size_t,
    size_t, char *, size_t);

/*
 * page_commit_encode(c, addr, buf):
 * Write the commit record ${c} at log address ${addr} to the
 * PAGE_COMMIT_LEN bytes at ${buf}.
 */
void page_commit_encode(const struct page_commit *, uint64_t, uint8_t *);

/*
 * page_commit_decode(buf, buflen, c, addr):
 * Check the commit record at ${buf} (CRC, type, length, that its own
 * address lies between bstart and bend, reserved zero) and decode it into
 * ${c} and its own address into *addr.  0 on success, -1 if it is not a
 * valid record.
 */
int page_commit_decode(const uint8_t *, size_t, struct page_commit *,
    uint64_t *);

/*
 * page_header(buf, buflen, len, addr, type):
 * Parse the header fields of the record at ${buf} without checking the
 * CRC; -1 if ${buflen} is shorter than a header or len is too small.
 */
int page_header(const uint8_t *, size_t, size_t *, uint64_t *, int *);

#endif /* !PAGE_H_ */
