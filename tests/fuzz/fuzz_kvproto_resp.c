/*
 * Fuzz target: kvlds response record parsing, RANGE above all.  A
 * response accepted must be rebuilt byte for byte by the server-side
 * encoders (RANGE through the response builder), and its pairs walked.
 *
 * Input: one byte choosing the request type (0..63 the eight others, 64,
 * 65, 66 SNAPSHOT_OPEN, SNAPSHOT_RANGE, SNAPSHOT_CLOSE, RANGE for the
 * rest), then the response record.
 */
// SOURCES: lib/kvproto/kvproto.c lib/log/log.c

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kvproto/kvproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(x)	do { if (!(x)) __builtin_trap(); } while (0)

static const uint32_t types[] = { KVPROTO_PARAMS, KVPROTO_SET,
    KVPROTO_CAS, KVPROTO_ADD, KVPROTO_MODIFY, KVPROTO_DELETE, KVPROTO_CAD,
    KVPROTO_GET };

static void
check_range(const struct kvproto_resp *resp, const uint8_t *rec,
    size_t len)
{
	static struct kvproto_range *r;
	struct kvproto_req req;
	const uint8_t *pos, *end, *k, *v, *out;
	size_t kl, vl, outlen;
	uint32_t n = 0;
	int rc;

	if (r == NULL)
		CHECK((r = kvproto_range_init(0)) != NULL);
	kvproto_range_reset(r, resp->pairslen);

	pos = resp->pairs;
	end = resp->pairs + resp->pairslen;
	CHECK(pos >= rec && end <= rec + len);
	while ((rc = kvproto_pairs_next(&pos, end, &k, &kl, &v, &vl)) == 1) {
		CHECK(kvproto_range_add(r, k, kl, v, vl) == 0);
		n++;
	}
	CHECK(rc == 0);
	CHECK(n == resp->count);
	CHECK(kvproto_range_count(r) == n);
	/* The budget is exactly used up: one more pair does not fit. */
	if (n > 0)
		CHECK(kvproto_range_add(r, k, 0, v, 0) == 1);
	CHECK(kvproto_range_finish(r, resp->next, resp->nextlen, &out,
	    &outlen) == 0);
	CHECK(outlen == len && memcmp(out, rec, len) == 0);

	/* A client asking for that many bytes accepts this response. */
	memset(&req, 0, sizeof(req));
	req.type = KVPROTO_RANGE;
	req.maxbytes = (uint32_t)resp->pairslen;
	CHECK(len <= kvproto_resp_maxlen(&req));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t buf[KVPROTO_RESP_MAXLEN];
	struct kvproto_resp resp;
	uint32_t type;
	size_t len;

	if (size < 1)
		return (0);
	if (data[0] < 64)
		type = types[data[0] % 8];
	else if (data[0] < 67)
		type = KVPROTO_SNAPSHOT_OPEN + (uint32_t)(data[0] - 64);
	else
		type = KVPROTO_RANGE;
	data++;
	size--;

	if (kvproto_resp_parse(type, data, size, &resp) != 0)
		return (0);
	CHECK(resp.type == type);
	switch (type) {
	case KVPROTO_PARAMS:
		len = kvproto_resp_params(buf, resp.maxkey, resp.maxval);
		break;
	case KVPROTO_GET:
		CHECK(resp.status <= 1);
		len = kvproto_resp_get(buf, resp.status == 0 ? resp.value :
		    NULL, resp.valuelen);
		break;
	case KVPROTO_RANGE:
		CHECK(resp.status == 0);
		check_range(&resp, data, size);
		return (0);
	case KVPROTO_SNAPSHOT_RANGE:
		CHECK(resp.status <= 1);
		if (resp.status == 0) {
			/* The bytes of a RANGE response. */
			check_range(&resp, data, size);
			return (0);
		}
		len = kvproto_resp_status(buf, 1);
		break;
	case KVPROTO_SNAPSHOT_OPEN:
		CHECK(resp.status <= 1);
		len = resp.status == 0 ? kvproto_resp_snapopen(buf,
		    resp.snapid) : kvproto_resp_status(buf, 1);
		break;
	default:
		CHECK(resp.status <= 1);
		len = kvproto_resp_status(buf, resp.status);
		break;
	}
	CHECK(len == size && memcmp(buf, data, size) == 0);
	return (0);
}
