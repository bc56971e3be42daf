/*
 * Unit tests for lib/kvproto: every request and response record both
 * ways, the protocol's vectors, and malformed records.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kvproto/kvproto.h"

#include "unit.h"

#define S(x)	((const uint8_t *)(x))

static int
fieldeq(const uint8_t *p, size_t plen, const char *s)
{

	return (plen == strlen(s) && (plen == 0 || memcmp(p, s, plen) == 0));
}

/* One request of each type, with its expected record in hex. */
struct rvec {
	struct kvproto_req req;
	const char *hex;
};

static const struct rvec rvecs[] = {
	{ { .type = KVPROTO_PARAMS }, "00000100" },
	/* The protocol's SET "a" "b". */
	{ { .type = KVPROTO_SET, .key = S("a"), .keylen = 1,
	    .value = S("b"), .valuelen = 1 }, "0000011001610162" },
	{ { .type = KVPROTO_CAS, .key = S("k"), .keylen = 1,
	    .oldval = S("old"), .oldvallen = 3, .value = S("nw"),
	    .valuelen = 2 }, "00000111016b036f6c64026e77" },
	{ { .type = KVPROTO_ADD, .key = S("ab"), .keylen = 2,
	    .value = NULL, .valuelen = 0 }, "000001120261620" "0" },
	{ { .type = KVPROTO_MODIFY, .key = NULL, .keylen = 0,
	    .value = S("v"), .valuelen = 1 }, "00000113000176" },
	{ { .type = KVPROTO_DELETE, .key = S("xyz"), .keylen = 3 },
	    "000001200378797a" },
	{ { .type = KVPROTO_CAD, .key = S("k"), .keylen = 1,
	    .oldval = S("o"), .oldvallen = 1 }, "00000121016b016f" },
	{ { .type = KVPROTO_GET, .key = S("k"), .keylen = 1 },
	    "00000130016b" },
	{ { .type = KVPROTO_RANGE, .maxbytes = 0x01020304, .key = S("a"),
	    .keylen = 1, .end = S("b"), .endlen = 1 },
	    "0000013101020304016101" "62" },
	{ { .type = KVPROTO_RANGE, .maxbytes = 0, .key = NULL, .keylen = 0,
	    .end = NULL, .endlen = 0 }, "00000131000000000000" },
	/* The snapshot extension. */
	{ { .type = KVPROTO_SNAPSHOT_OPEN }, "00000200" },
	{ { .type = KVPROTO_SNAPSHOT_RANGE, .snapid = 0x0102030405060708ULL,
	    .maxbytes = 0x10000, .key = S("a"), .keylen = 1, .end = S("b"),
	    .endlen = 1 }, "00000201" "0102030405060708" "00010000" "0161"
	    "0162" },
	{ { .type = KVPROTO_SNAPSHOT_RANGE, .snapid = 0 },
	    "00000201" "0000000000000000" "00000000" "00" "00" },
	{ { .type = KVPROTO_SNAPSHOT_CLOSE, .snapid = 0xfedcba9876543210ULL },
	    "00000202" "fedcba9876543210" },
};
#define NRVECS	(sizeof(rvecs) / sizeof(rvecs[0]))

static int
reqeq(const struct kvproto_req *a, const struct kvproto_req *b)
{

	return (a->type == b->type && a->maxbytes == b->maxbytes &&
	    a->snapid == b->snapid &&
	    a->keylen == b->keylen && a->valuelen == b->valuelen &&
	    a->oldvallen == b->oldvallen && a->endlen == b->endlen &&
	    (a->keylen == 0 || memcmp(a->key, b->key, a->keylen) == 0) &&
	    (a->valuelen == 0 ||
	     memcmp(a->value, b->value, a->valuelen) == 0) &&
	    (a->oldvallen == 0 ||
	     memcmp(a->oldval, b->oldval, a->oldvallen) == 0) &&
	    (a->endlen == 0 || memcmp(a->end, b->end, a->endlen) == 0));
}

static void
test_req_vectors(void)
{
	uint8_t want[KVPROTO_REQ_MAXLEN], buf[KVPROTO_REQ_MAXLEN];
	struct kvproto_req req;
	size_t i, wlen;
	ssize_t len;

	for (i = 0; i < NRVECS; i++) {
		wlen = unit_unhex(rvecs[i].hex, want);
		len = kvproto_req_encode(&rvecs[i].req, buf, sizeof(buf));
		CU_ASSERT_EQUAL(len, (ssize_t)wlen);
		CU_ASSERT(memcmp(buf, want, wlen) == 0);
		/* Exactly enough room is enough; one byte less is not. */
		CU_ASSERT_EQUAL(kvproto_req_encode(&rvecs[i].req, buf, wlen),
		    (ssize_t)wlen);
		CU_ASSERT_EQUAL(kvproto_req_encode(&rvecs[i].req, buf,
		    wlen - 1), -1);

		CU_ASSERT_EQUAL(kvproto_req_parse(want, wlen, 255, 255, &req),
		    0);
		CU_ASSERT(reqeq(&req, &rvecs[i].req));
	}
}

static void
test_req_malformed(void)
{
	uint8_t rec[KVPROTO_REQ_MAXLEN + 1];
	struct kvproto_req req;
	size_t i, wlen, cut;
	static const uint32_t badtypes[] = { 0, 1, 0x101, 0x114, 0x122,
	    0x132, 0x1ff, 0x203, 0x300, 0x10000100, 0xffffffff };

	for (i = 0; i < NRVECS; i++) {
		wlen = unit_unhex(rvecs[i].hex, rec);
		/* Every truncation. */
		for (cut = 0; cut < wlen; cut++)
			CU_ASSERT_EQUAL(kvproto_req_parse(rec, cut, 255, 255,
			    &req), -1);
		/* Trailing bytes. */
		rec[wlen] = 0;
		CU_ASSERT_EQUAL(kvproto_req_parse(rec, wlen + 1, 255, 255,
		    &req), -1);
	}

	/* Unknown types. */
	for (i = 0; i < sizeof(badtypes) / sizeof(badtypes[0]); i++) {
		rec[0] = (uint8_t)(badtypes[i] >> 24);
		rec[1] = (uint8_t)(badtypes[i] >> 16);
		rec[2] = (uint8_t)(badtypes[i] >> 8);
		rec[3] = (uint8_t)badtypes[i];
		rec[4] = rec[5] = rec[6] = 0;
		for (cut = 4; cut <= 7; cut++)
			CU_ASSERT_EQUAL(kvproto_req_parse(rec, cut, 255, 255,
			    &req), -1);
	}

	/* A field length pointing past the end. */
	wlen = unit_unhex("0000011001610262", rec);
	CU_ASSERT_EQUAL(kvproto_req_parse(rec, wlen, 255, 255, &req), -1);
	wlen = unit_unhex("00000130ff", rec);
	CU_ASSERT_EQUAL(kvproto_req_parse(rec, wlen, 255, 255, &req), -1);
}

/* Build a request record with fields of the given lengths. */
static size_t
build(uint8_t *buf, uint32_t type, size_t k, size_t v1, size_t v2)
{
	struct kvproto_req req;
	static const uint8_t fill[255];
	ssize_t len;

	memset(&req, 0, sizeof(req));
	req.type = type;
	req.key = fill;
	req.keylen = k;
	switch (type) {
	case KVPROTO_CAS:
		req.oldval = fill;
		req.oldvallen = v1;
		req.value = fill;
		req.valuelen = v2;
		break;
	case KVPROTO_CAD:
		req.oldval = fill;
		req.oldvallen = v1;
		break;
	case KVPROTO_RANGE:
		req.end = fill;
		req.endlen = v1;
		break;
	default:
		req.value = fill;
		req.valuelen = v1;
		break;
	}
	len = kvproto_req_encode(&req, buf, KVPROTO_REQ_MAXLEN);
	CU_ASSERT_FATAL(len > 0);
	return ((size_t)len);
}

static void
test_req_limits(void)
{
	uint8_t rec[KVPROTO_REQ_MAXLEN];
	struct kvproto_req req;
	size_t len;

	/* The longest request. */
	len = build(rec, KVPROTO_CAS, 255, 255, 255);
	CU_ASSERT_EQUAL(len, KVPROTO_REQ_MAXLEN);
	CU_ASSERT_EQUAL(len, 772);
	CU_ASSERT_EQUAL(kvproto_req_parse(rec, len, 255, 255, &req), 0);
	CU_ASSERT_EQUAL(req.keylen, 255);
	CU_ASSERT_EQUAL(req.oldvallen, 255);
	CU_ASSERT_EQUAL(req.valuelen, 255);

	/* A server with smaller limits. */
	len = build(rec, KVPROTO_SET, 10, 20, 0);
	CU_ASSERT_EQUAL(kvproto_req_parse(rec, len, 10, 20, &req), 0);
	CU_ASSERT_EQUAL(kvproto_req_parse(rec, len, 9, 20, &req), -1);
	CU_ASSERT_EQUAL(kvproto_req_parse(rec, len, 10, 19, &req), -1);
	len = build(rec, KVPROTO_CAS, 10, 21, 20);
	CU_ASSERT_EQUAL(kvproto_req_parse(rec, len, 10, 20, &req), -1);
	len = build(rec, KVPROTO_CAS, 10, 20, 21);
	CU_ASSERT_EQUAL(kvproto_req_parse(rec, len, 10, 20, &req), -1);
	len = build(rec, KVPROTO_CAD, 10, 21, 0);
	CU_ASSERT_EQUAL(kvproto_req_parse(rec, len, 10, 20, &req), -1);
	len = build(rec, KVPROTO_GET, 11, 0, 0);
	CU_ASSERT_EQUAL(kvproto_req_parse(rec, len, 10, 20, &req), -1);
	len = build(rec, KVPROTO_DELETE, 11, 0, 0);
	CU_ASSERT_EQUAL(kvproto_req_parse(rec, len, 10, 20, &req), -1);
	len = build(rec, KVPROTO_RANGE, 10, 11, 0);
	CU_ASSERT_EQUAL(kvproto_req_parse(rec, len, 10, 20, &req), -1);
	len = build(rec, KVPROTO_RANGE, 11, 10, 0);
	CU_ASSERT_EQUAL(kvproto_req_parse(rec, len, 10, 20, &req), -1);
	len = build(rec, KVPROTO_RANGE, 10, 10, 0);
	CU_ASSERT_EQUAL(kvproto_req_parse(rec, len, 10, 20, &req), 0);

	/* Encoding refuses what cannot be carried. */
	memset(&req, 0, sizeof(req));
	req.type = KVPROTO_GET;
	req.key = rec;
	req.keylen = 256;
	CU_ASSERT_EQUAL(kvproto_req_encode(&req, rec, sizeof(rec)), -1);
	req.type = 0x99;
	req.keylen = 1;
	CU_ASSERT_EQUAL(kvproto_req_encode(&req, rec, sizeof(rec)), -1);
}

static void
test_modifying(void)
{

	CU_ASSERT(kvproto_req_ismodifying(KVPROTO_SET));
	CU_ASSERT(kvproto_req_ismodifying(KVPROTO_CAS));
	CU_ASSERT(kvproto_req_ismodifying(KVPROTO_ADD));
	CU_ASSERT(kvproto_req_ismodifying(KVPROTO_MODIFY));
	CU_ASSERT(kvproto_req_ismodifying(KVPROTO_DELETE));
	CU_ASSERT(kvproto_req_ismodifying(KVPROTO_CAD));
	CU_ASSERT(!kvproto_req_ismodifying(KVPROTO_GET));
	CU_ASSERT(!kvproto_req_ismodifying(KVPROTO_RANGE));
	CU_ASSERT(!kvproto_req_ismodifying(KVPROTO_PARAMS));
	CU_ASSERT(!kvproto_req_ismodifying(0x200));
}

static void
test_resp_simple(void)
{
	uint8_t buf[KVPROTO_RESP_MAXLEN + 1], want[16], val[255];
	struct kvproto_resp resp;
	struct kvproto_req req;
	size_t len, wlen;

	/* The protocol's PARAMS response record. */
	wlen = unit_unhex("000000ff000000ff", want);
	CU_ASSERT_EQUAL(kvproto_resp_params(buf, 255, 255), 8);
	CU_ASSERT(memcmp(buf, want, wlen) == 0);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_PARAMS, buf, 8, &resp), 0);
	CU_ASSERT_EQUAL(resp.maxkey, 255);
	CU_ASSERT_EQUAL(resp.maxval, 255);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_PARAMS, buf, 7, &resp),
	    -1);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_PARAMS, buf, 9, &resp),
	    -1);

	/* Statuses. */
	CU_ASSERT_EQUAL(kvproto_resp_status(buf, 1), 4);
	CU_ASSERT(buf[0] == 0 && buf[1] == 0 && buf[2] == 0 && buf[3] == 1);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_CAS, buf, 4, &resp), 0);
	CU_ASSERT_EQUAL(resp.status, 1);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_ADD, buf, 4, &resp), 0);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_MODIFY, buf, 4, &resp), 0);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_CAD, buf, 4, &resp), 0);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_SET, buf, 4, &resp), -1);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_DELETE, buf, 4, &resp),
	    -1);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_CAS, buf, 3, &resp), -1);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_CAS, buf, 5, &resp), -1);
	kvproto_resp_status(buf, 0);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_SET, buf, 4, &resp), 0);
	CU_ASSERT_EQUAL(resp.status, 0);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_DELETE, buf, 4, &resp), 0);
	kvproto_resp_status(buf, 2);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_CAS, buf, 4, &resp), -1);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_GET, buf, 4, &resp), -1);
	CU_ASSERT_EQUAL(kvproto_resp_parse(0x200, buf, 4, &resp), -1);

	/* GET: present, absent, longest, malformed. */
	len = kvproto_resp_get(buf, S("hello"), 5);
	CU_ASSERT_EQUAL(len, 10);
	wlen = unit_unhex("000000000568656c6c6f", want);
	CU_ASSERT(memcmp(buf, want, wlen) == 0);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_GET, buf, len, &resp), 0);
	CU_ASSERT_EQUAL(resp.status, 0);
	CU_ASSERT(fieldeq(resp.value, resp.valuelen, "hello"));
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_GET, buf, len - 1, &resp),
	    -1);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_GET, buf, 4, &resp), -1);
	buf[len] = 0;
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_GET, buf, len + 1, &resp),
	    -1);
	len = kvproto_resp_get(buf, NULL, 0);
	CU_ASSERT_EQUAL(len, 4);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_GET, buf, len, &resp), 0);
	CU_ASSERT_EQUAL(resp.status, 1);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_GET, buf, 5, &resp), -1);
	len = kvproto_resp_get(buf, S(""), 0);
	CU_ASSERT_EQUAL(len, 5);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_GET, buf, len, &resp), 0);
	CU_ASSERT_EQUAL(resp.status, 0);
	CU_ASSERT_EQUAL(resp.valuelen, 0);
	memset(val, 'v', sizeof(val));
	len = kvproto_resp_get(buf, val, 255);
	CU_ASSERT_EQUAL(len, KVPROTO_RESP_MAXLEN);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_GET, buf, len, &resp), 0);
	CU_ASSERT_EQUAL(resp.valuelen, 255);

	/* Bounds a client gives the framing layer. */
	memset(&req, 0, sizeof(req));
	req.type = KVPROTO_GET;
	CU_ASSERT_EQUAL(kvproto_resp_maxlen(&req), 260);
	req.type = KVPROTO_PARAMS;
	CU_ASSERT_EQUAL(kvproto_resp_maxlen(&req), 8);
	req.type = KVPROTO_CAS;
	CU_ASSERT_EQUAL(kvproto_resp_maxlen(&req), 4);
	req.type = KVPROTO_RANGE;
	req.maxbytes = 0;
	CU_ASSERT_EQUAL(kvproto_resp_maxlen(&req), 264 + 512);
	req.maxbytes = 100000;
	CU_ASSERT_EQUAL(kvproto_resp_maxlen(&req), 264 + 100000);
	req.type = 0x203;
	CU_ASSERT_EQUAL(kvproto_resp_maxlen(&req), 0);
}

/* The snapshot extension: responses, bounds, non-modifying. */
static void
test_snapshot(void)
{
	uint8_t buf[64], want[64];
	struct kvproto_resp resp;
	struct kvproto_req req;
	size_t len, wlen;

	CU_ASSERT(!kvproto_req_ismodifying(KVPROTO_SNAPSHOT_OPEN));
	CU_ASSERT(!kvproto_req_ismodifying(KVPROTO_SNAPSHOT_RANGE));
	CU_ASSERT(!kvproto_req_ismodifying(KVPROTO_SNAPSHOT_CLOSE));

	/* OPEN: status 0 and the ID, or status 1 alone. */
	len = kvproto_resp_snapopen(buf, 0x1122334455667788ULL);
	CU_ASSERT_EQUAL(len, 12);
	wlen = unit_unhex("00000000" "1122334455667788", want);
	CU_ASSERT(len == wlen && memcmp(buf, want, wlen) == 0);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_SNAPSHOT_OPEN, buf, len,
	    &resp), 0);
	CU_ASSERT_EQUAL(resp.status, 0);
	CU_ASSERT(resp.snapid == 0x1122334455667788ULL);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_SNAPSHOT_OPEN, buf, 11,
	    &resp), -1);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_SNAPSHOT_OPEN, buf, 4,
	    &resp), -1);
	buf[12] = 0;
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_SNAPSHOT_OPEN, buf, 13,
	    &resp), -1);
	len = kvproto_resp_status(buf, 1);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_SNAPSHOT_OPEN, buf, len,
	    &resp), 0);
	CU_ASSERT_EQUAL(resp.status, 1);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_SNAPSHOT_OPEN, buf, 12,
	    &resp), -1);
	kvproto_resp_status(buf, 2);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_SNAPSHOT_OPEN, buf, 4,
	    &resp), -1);

	/* RANGE: as RANGE, or status 1 alone (which RANGE never is). */
	wlen = unit_unhex("00000000" "00000001" "0163" "0161" "0131", want);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_SNAPSHOT_RANGE, want,
	    wlen, &resp), 0);
	CU_ASSERT(resp.status == 0 && resp.count == 1);
	CU_ASSERT(fieldeq(resp.next, resp.nextlen, "c"));
	CU_ASSERT_EQUAL(resp.pairslen, 4);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_SNAPSHOT_RANGE, want,
	    wlen - 1, &resp), -1);
	len = kvproto_resp_status(buf, 1);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_SNAPSHOT_RANGE, buf, len,
	    &resp), 0);
	CU_ASSERT(resp.status == 1 && resp.count == 0);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_RANGE, buf, len, &resp),
	    -1);
	buf[4] = 0;
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_SNAPSHOT_RANGE, buf, 5,
	    &resp), -1);

	/* CLOSE: status 0 only. */
	len = kvproto_resp_status(buf, 0);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_SNAPSHOT_CLOSE, buf, len,
	    &resp), 0);
	kvproto_resp_status(buf, 1);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_SNAPSHOT_CLOSE, buf, 4,
	    &resp), -1);

	/* Bounds. */
	memset(&req, 0, sizeof(req));
	req.type = KVPROTO_SNAPSHOT_OPEN;
	CU_ASSERT_EQUAL(kvproto_resp_maxlen(&req), 12);
	req.type = KVPROTO_SNAPSHOT_CLOSE;
	CU_ASSERT_EQUAL(kvproto_resp_maxlen(&req), 4);
	req.type = KVPROTO_SNAPSHOT_RANGE;
	req.maxbytes = 0;
	CU_ASSERT_EQUAL(kvproto_resp_maxlen(&req), 264 + 512);
	req.maxbytes = 100000;
	CU_ASSERT_EQUAL(kvproto_resp_maxlen(&req), 264 + 100000);

	/* The longest SNAPSHOT_RANGE request is within the request bound. */
	CU_ASSERT(4 + 8 + 4 + 2 * 256 <= KVPROTO_REQ_MAXLEN);
}

static void
test_range_builder(void)
{
	struct kvproto_range *r;
	struct kvproto_resp resp;
	const uint8_t *rec, *pos, *k, *v;
	size_t reclen, kl, vl;
	uint8_t want[64], big[255];
	size_t wlen;
	int i;

	/* Budget 0: exactly one pair. */
	CU_ASSERT_FATAL((r = kvproto_range_init(0)) != NULL);
	CU_ASSERT_EQUAL(kvproto_range_add(r, S("a"), 1, S("1"), 1), 0);
	CU_ASSERT_EQUAL(kvproto_range_add(r, S("b"), 1, S("2"), 1), 1);
	CU_ASSERT_EQUAL(kvproto_range_count(r), 1);
	CU_ASSERT_EQUAL(kvproto_range_finish(r, S("b"), 1, &rec, &reclen), 0);
	wlen = unit_unhex("00000000" "00000001" "0162" "01610131", want);
	CU_ASSERT_EQUAL(reclen, wlen);
	CU_ASSERT(memcmp(rec, want, wlen) == 0);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_RANGE, rec, reclen, &resp),
	    0);
	CU_ASSERT_EQUAL(resp.count, 1);
	CU_ASSERT(fieldeq(resp.next, resp.nextlen, "b"));
	pos = resp.pairs;
	CU_ASSERT_EQUAL(kvproto_pairs_next(&pos, resp.pairs + resp.pairslen,
	    &k, &kl, &v, &vl), 1);
	CU_ASSERT(fieldeq(k, kl, "a") && fieldeq(v, vl, "1"));
	CU_ASSERT_EQUAL(kvproto_pairs_next(&pos, resp.pairs + resp.pairslen,
	    &k, &kl, &v, &vl), 0);

	/* A budget filled exactly: 4 + 4 + 4 bytes, then full. */
	kvproto_range_reset(r, 12);
	CU_ASSERT_EQUAL(kvproto_range_add(r, S("a"), 1, S("1"), 1), 0);
	CU_ASSERT_EQUAL(kvproto_range_add(r, S("b"), 1, S("2"), 1), 0);
	CU_ASSERT_EQUAL(kvproto_range_add(r, S("cc"), 2, S("3"), 1), 1);
	CU_ASSERT_EQUAL(kvproto_range_add(r, S("c"), 1, S("3"), 1), 0);
	CU_ASSERT_EQUAL(kvproto_range_add(r, S(""), 0, S(""), 0), 1);
	CU_ASSERT_EQUAL(kvproto_range_count(r), 3);

	/* Exhausted: empty next. */
	CU_ASSERT_EQUAL(kvproto_range_finish(r, NULL, 0, &rec, &reclen), 0);
	CU_ASSERT_EQUAL(reclen, 9 + 12);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_RANGE, rec, reclen, &resp),
	    0);
	CU_ASSERT_EQUAL(resp.count, 3);
	CU_ASSERT_EQUAL(resp.nextlen, 0);
	CU_ASSERT_EQUAL(resp.pairslen, 12);

	/* A first pair over the budget still goes in. */
	kvproto_range_reset(r, 3);
	CU_ASSERT_EQUAL(kvproto_range_add(r, S("key"), 3, S("value"), 5), 0);
	CU_ASSERT_EQUAL(kvproto_range_add(r, S(""), 0, S(""), 0), 1);

	/* Growth past the initial buffer, and the longest fields. */
	memset(big, 'z', sizeof(big));
	kvproto_range_reset(r, 1000000);
	for (i = 0; i < 100; i++)
		CU_ASSERT_EQUAL(kvproto_range_add(r, big, 255, big, 255), 0);
	CU_ASSERT_EQUAL(kvproto_range_add(r, big, 256, big, 1), -1);
	CU_ASSERT_EQUAL(kvproto_range_finish(r, big, 255, &rec, &reclen), 0);
	CU_ASSERT_EQUAL(reclen, 264 + 100 * 512);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_RANGE, rec, reclen, &resp),
	    0);
	CU_ASSERT_EQUAL(resp.count, 100);
	CU_ASSERT_EQUAL(resp.nextlen, 255);
	CU_ASSERT_EQUAL(kvproto_range_finish(r, big, 256, &rec, &reclen), -1);

	kvproto_range_free(r);
	kvproto_range_free(NULL);
}

static void
test_range_malformed(void)
{
	uint8_t rec[64];
	struct kvproto_resp resp;
	size_t len, cut;

	/* status 0, 2 pairs, next "c", ("a","1") ("b",""). */
	len = unit_unhex("00000000" "00000002" "0163" "01610131" "016200", rec);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_RANGE, rec, len, &resp),
	    0);
	CU_ASSERT_EQUAL(resp.count, 2);
	for (cut = 0; cut < len; cut++)
		CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_RANGE, rec, cut,
		    &resp), -1);
	rec[len] = 0;
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_RANGE, rec, len + 1,
	    &resp), -1);

	/* A count too high or too low. */
	rec[7] = 3;
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_RANGE, rec, len, &resp),
	    -1);
	rec[7] = 1;
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_RANGE, rec, len, &resp),
	    -1);
	rec[4] = 0xff;
	rec[7] = 2;
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_RANGE, rec, len, &resp),
	    -1);
	rec[4] = 0;

	/* A non-zero status. */
	rec[3] = 1;
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_RANGE, rec, len, &resp),
	    -1);
	rec[3] = 0;

	/* A pair length running past the end. */
	rec[len - 1] = 1;
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_RANGE, rec, len, &resp),
	    -1);
}

UNIT_MAIN("kvproto",
    { "request vectors both ways", test_req_vectors },
    { "malformed requests", test_req_malformed },
    { "request limits", test_req_limits },
    { "modifying requests", test_modifying },
    { "status, GET and PARAMS responses", test_resp_simple },
    { "RANGE response builder", test_range_builder },
    { "malformed RANGE responses", test_range_malformed },
    { "snapshot extension", test_snapshot })
