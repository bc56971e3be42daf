/*
 * Fuzz target: kvlds request record parsing.  A record accepted must
 * re-encode to exactly its own bytes (the encoding is canonical), and
 * tighter key/value limits may only refuse more.
 *
 * Input: the request record itself.
 */
// SOURCES: lib/kvproto/kvproto.c lib/log/log.c

#include <stdint.h>
#include <string.h>

#include "kvproto/kvproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(x)	do { if (!(x)) __builtin_trap(); } while (0)

static int
within(const uint8_t *p, size_t plen, const uint8_t *d, size_t size)
{

	return (plen == 0 || (p >= d && p + plen <= d + size));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t buf[KVPROTO_REQ_MAXLEN];
	struct kvproto_req req, req2;
	size_t lim, big;
	ssize_t len;
	int rc, rc2;

	rc = kvproto_req_parse(data, size, KVPROTO_MAXKV, KVPROTO_MAXKV,
	    &req);

	/* Limits taken from the input: at most what 255 accepts. */
	lim = size % 256;
	rc2 = kvproto_req_parse(data, size, lim, lim, &req2);
	if (rc2 == 0)
		CHECK(rc == 0 && memcmp(&req, &req2, sizeof(req)) == 0);
	if (rc != 0)
		return (0);

	CHECK(size <= KVPROTO_REQ_MAXLEN);
	CHECK(within(req.key, req.keylen, data, size));
	CHECK(within(req.value, req.valuelen, data, size));
	CHECK(within(req.oldval, req.oldvallen, data, size));
	CHECK(within(req.end, req.endlen, data, size));
	big = req.keylen;
	if (req.valuelen > big)
		big = req.valuelen;
	if (req.oldvallen > big)
		big = req.oldvallen;
	if (req.endlen > big)
		big = req.endlen;
	if (big <= lim)
		CHECK(rc2 == 0);
	CHECK(kvproto_resp_maxlen(&req) > 0);

	len = kvproto_req_encode(&req, buf, sizeof(buf));
	CHECK(len >= 0 && (size_t)len == size);
	CHECK(memcmp(buf, data, size) == 0);
	return (0);
}
