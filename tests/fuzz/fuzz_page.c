// SOURCES: kvlds/page.c kvlds/node.c lib/crc32c/crc32c.c lib/crc32c/crc32c_sse42.c lib/log/log.c
// CFLAGS: -msse4.2
/*
 * Fuzz target: the kvlds engine's decoding of what it reads from disk,
 * page_decode and page_commit_decode, on arbitrary bytes.
 *
 * Input: one control byte, then the record.  Control bit 0 re-seals the
 * record's CRC32C (and bit 1 its length field) before decoding, so that
 * mutations reach the structural checks behind the checksum; bits 2..4
 * pick the page size and limits.  The record's own address is taken from
 * its header, so the address check passes too.  A page that decodes must
 * re-encode to exactly the same bytes, and every node must be freed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c/crc32c.h"
#include "kvlds/node.h"
#include "kvlds/page.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t ps[8] = { 512, 1000, 1024, 2048, 4096, 8192,
	    65536, 131072 };
	static const size_t mk[8] = { 122, 244, 250, 255, 255, 255, 255,
	    255 };
	struct page_commit c;
	struct node *nd;
	uint8_t *buf, *re;
	uint64_t addr;
	size_t len, pagesize;
	char err[128];
	uint8_t ctl;

	if (size < 1 || size > 131073)
		return (0);
	ctl = data[0];
	data++;
	size--;
	if ((buf = malloc(size + 1)) == NULL)
		return (0);
	memcpy(buf, data, size);
	pagesize = ps[(ctl >> 2) & 7];
	if (size >= 20) {
		if (ctl & 2)
			be32enc(&buf[4], (uint32_t)size);
		len = be32dec(&buf[4]);
		if ((ctl & 1) && len >= 20 && len <= size)
			be32enc(buf, crc32c(&buf[4], len - 4));
	}
	addr = size >= 16 ? be64dec(&buf[8]) : 1;

	nd = page_decode(buf, size, addr, pagesize, mk[(ctl >> 2) & 7],
	    mk[(ctl >> 2) & 7], err, sizeof(err));
	if (nd != NULL) {
		/* A valid page re-encodes to itself. */
		if (nd->size > size || (re = malloc(nd->size)) == NULL)
			abort();
		page_encode(nd, addr, re);
		if (memcmp(re, buf, nd->size) != 0)
			abort();
		free(re);
		node_unref(nd);
	}
	(void)page_commit_decode(buf, size, &c, &addr);
	if (node_count() != 0)
		abort();
	free(buf);
	return (0);
}
