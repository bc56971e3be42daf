/*
 * Unit tests for lib/packet: the protocol's whole-packet vectors both
 * ways, every malformed case, and the evbuffer reader and writer.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "crc32c/crc32c.h"
#include "packet/packet.h"

#include "unit.h"

/* Whole packets from the kvlds protocol. */
struct pvec {
	const char *hex;
	uint64_t id;
	const char *rechex;
};

static const struct pvec pvecs[] = {
	/* PARAMS request, ID 1. */
	{ "000000000000000100000004ab1233e700000100805f339a", 1,
	    "00000100" },
	/* SET key "a" value "b", ID 2. */
	{ "0000000000000002000000088f6d43e20000011001610162475a43e9", 2,
	    "0000011001610162" },
	/* PARAMS response, ID 1, key max 255, value max 255. */
	{ "0000000000000001000000087bdd70aa000000ff000000ff62e50d01", 1,
	    "000000ff000000ff" },
};
#define NPVECS	(sizeof(pvecs) / sizeof(pvecs[0]))

static void
test_vectors_encode(void)
{
	uint8_t want[64], rec[32], buf[64];
	size_t i, wlen, rlen;

	for (i = 0; i < NPVECS; i++) {
		wlen = unit_unhex(pvecs[i].hex, want);
		rlen = unit_unhex(pvecs[i].rechex, rec);
		memset(buf, 0xaa, sizeof(buf));
		CU_ASSERT_EQUAL(packet_encode(buf, pvecs[i].id, rec, rlen),
		    wlen);
		CU_ASSERT(memcmp(buf, want, wlen) == 0);

		/* A record already in place gives the same bytes. */
		memset(buf, 0x55, sizeof(buf));
		memcpy(buf + PACKET_HDRLEN, rec, rlen);
		CU_ASSERT_EQUAL(packet_encode(buf, pvecs[i].id,
		    buf + PACKET_HDRLEN, rlen), wlen);
		CU_ASSERT(memcmp(buf, want, wlen) == 0);
	}
}

static void
test_vectors_parse(void)
{
	uint8_t pkt[64], rec[32];
	const uint8_t *r;
	size_t i, plen, rlen, reclen;
	uint64_t id;

	for (i = 0; i < NPVECS; i++) {
		plen = unit_unhex(pvecs[i].hex, pkt);
		rlen = unit_unhex(pvecs[i].rechex, rec);
		CU_ASSERT_EQUAL(packet_parse(pkt, plen, 1000, &id, &r,
		    &reclen), PACKET_OK);
		CU_ASSERT_EQUAL(id, pvecs[i].id);
		CU_ASSERT_EQUAL(reclen, rlen);
		CU_ASSERT(r == pkt + PACKET_HDRLEN);
		CU_ASSERT(memcmp(r, rec, rlen) == 0);

		/* Trailing bytes belong to the next packet. */
		CU_ASSERT_EQUAL(packet_parse(pkt, sizeof(pkt), 1000, &id, &r,
		    &reclen), PACKET_OK);
		CU_ASSERT_EQUAL(reclen, rlen);

		/* The maximum is inclusive. */
		CU_ASSERT_EQUAL(packet_parse(pkt, plen, rlen, &id, &r,
		    &reclen), PACKET_OK);
	}
}

static void
test_truncated(void)
{
	uint8_t pkt[64], big[PACKET_OVERHEAD + 300];
	const uint8_t *r;
	size_t i, plen, cut, reclen;
	uint64_t id = 0;

	for (i = 0; i < NPVECS; i++) {
		plen = unit_unhex(pvecs[i].hex, pkt);
		for (cut = 0; cut < plen; cut++) {
			id = 77;
			CU_ASSERT_EQUAL(packet_parse(pkt, cut, 1000, &id, &r,
			    &reclen), PACKET_NEEDMORE);
			CU_ASSERT_EQUAL(id, 77);
		}
	}

	/* A longer record, every prefix. */
	memset(big, 0x3c, sizeof(big));
	plen = packet_encode(big, 0x0102030405060708ULL, big + PACKET_HDRLEN,
	    300);
	for (cut = 0; cut < plen; cut++)
		CU_ASSERT_EQUAL(packet_parse(big, cut, 300, &id, &r, &reclen),
		    PACKET_NEEDMORE);
	CU_ASSERT_EQUAL(packet_parse(big, plen, 300, &id, &r, &reclen),
	    PACKET_OK);
	CU_ASSERT_EQUAL(id, 0x0102030405060708ULL);
}

static void
test_bad_header_crc(void)
{
	uint8_t pkt[64];
	const uint8_t *r;
	size_t i, plen, bit, reclen;
	uint64_t id;

	for (i = 0; i < NPVECS; i++) {
		plen = unit_unhex(pvecs[i].hex, pkt);
		for (bit = 0; bit < 8 * PACKET_HDRLEN; bit++) {
			pkt[bit / 8] ^= (uint8_t)(1 << (bit % 8));
			/* Detected with the header alone... */
			CU_ASSERT_EQUAL(packet_parse(pkt, PACKET_HDRLEN, 1000,
			    &id, &r, &reclen), PACKET_EHDRCRC);
			/* ...and with the whole packet. */
			CU_ASSERT_EQUAL(packet_parse(pkt, plen, 1000, &id, &r,
			    &reclen), PACKET_EHDRCRC);
			pkt[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		}
		CU_ASSERT_EQUAL(packet_parse(pkt, plen, 1000, &id, &r,
		    &reclen), PACKET_OK);
	}
}

static void
test_bad_record_crc(void)
{
	uint8_t pkt[64];
	const uint8_t *r;
	size_t i, plen, bit, reclen;
	uint64_t id;

	for (i = 0; i < NPVECS; i++) {
		plen = unit_unhex(pvecs[i].hex, pkt);
		/* Every bit of the record and of the trailing CRC. */
		for (bit = 8 * PACKET_HDRLEN; bit < 8 * plen; bit++) {
			pkt[bit / 8] ^= (uint8_t)(1 << (bit % 8));
			CU_ASSERT_EQUAL(packet_parse(pkt, plen, 1000, &id, &r,
			    &reclen), PACKET_ERECCRC);
			/* Not yet known while the packet is incomplete. */
			CU_ASSERT_EQUAL(packet_parse(pkt, plen - 1, 1000, &id,
			    &r, &reclen), PACKET_NEEDMORE);
			pkt[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		}
	}

	/* A trailer that is the record CRC without the XOR is wrong. */
	plen = unit_unhex(pvecs[0].hex, pkt);
	pkt[20] ^= pkt[12];
	pkt[21] ^= pkt[13];
	pkt[22] ^= pkt[14];
	pkt[23] ^= pkt[15];
	CU_ASSERT_EQUAL(packet_parse(pkt, plen, 1000, &id, &r, &reclen),
	    PACKET_ERECCRC);
}

static void
test_too_long(void)
{
	uint8_t pkt[PACKET_OVERHEAD + 100];
	uint8_t hdr[PACKET_HDRLEN];
	const uint8_t *r;
	size_t reclen;
	uint64_t id;

	memset(pkt, 1, sizeof(pkt));
	packet_encode(pkt, 9, pkt + PACKET_HDRLEN, 100);
	CU_ASSERT_EQUAL(packet_parse(pkt, sizeof(pkt), 100, &id, &r, &reclen),
	    PACKET_OK);
	CU_ASSERT_EQUAL(packet_parse(pkt, sizeof(pkt), 99, &id, &r, &reclen),
	    PACKET_ETOOLONG);
	/* Refused as soon as the header is there. */
	CU_ASSERT_EQUAL(packet_parse(pkt, PACKET_HDRLEN, 99, &id, &r,
	    &reclen), PACKET_ETOOLONG);
	CU_ASSERT_EQUAL(packet_parse(pkt, PACKET_HDRLEN, 0, &id, &r, &reclen),
	    PACKET_ETOOLONG);

	/* A valid header announcing 4 GiB - 1 bytes (a header alone). */
	memset(hdr, 0, sizeof(hdr));
	hdr[8] = hdr[9] = hdr[10] = hdr[11] = 0xff;
	CU_ASSERT_EQUAL(packet_parse(hdr, PACKET_HDRLEN, 772, &id, &r,
	    &reclen), PACKET_EHDRCRC);
	crc32c_wire(hdr, 12, &hdr[12]);
	CU_ASSERT_EQUAL(packet_parse(hdr, PACKET_HDRLEN, 772, &id, &r,
	    &reclen), PACKET_ETOOLONG);
	CU_ASSERT_EQUAL(packet_parse(hdr, PACKET_HDRLEN, SIZE_MAX, &id, &r,
	    &reclen), PACKET_NEEDMORE);
}

/* Packets seen by the evbuffer callback. */
struct seen {
	int n;
	uint64_t ids[64];
	size_t lens[64];
	uint8_t first[64];
	int stop_at;
	int fail_at;
};

static int
cb(void *cookie, uint64_t id, const uint8_t *rec, size_t reclen)
{
	struct seen *s = cookie;

	if (s->n == s->fail_at)
		return (-1);
	s->ids[s->n] = id;
	s->lens[s->n] = reclen;
	s->first[s->n] = reclen ? rec[0] : 0;
	s->n++;
	return (s->n == s->stop_at ? 1 : 0);
}

/* Build a stream of n packets; record i has length 3 * i and byte i. */
static size_t
stream(uint8_t *buf, int n)
{
	uint8_t rec[200];
	size_t off = 0;
	int i;

	for (i = 0; i < n; i++) {
		memset(rec, i, sizeof(rec));
		off += packet_encode(buf + off, 1000 + (uint64_t)i, rec,
		    3 * (size_t)i);
	}
	return (off);
}

static void
check_seen(const struct seen *s, int n)
{
	int i;

	CU_ASSERT_EQUAL(s->n, n);
	for (i = 0; i < s->n && i < n; i++) {
		CU_ASSERT_EQUAL(s->ids[i], 1000 + (uint64_t)i);
		CU_ASSERT_EQUAL(s->lens[i], 3 * (size_t)i);
		if (i > 0)
			CU_ASSERT_EQUAL(s->first[i], i);
	}
}

static void
test_evread_chunks(void)
{
	static uint8_t buf[64 * (PACKET_OVERHEAD + 200)];
	struct evbuffer *in;
	struct seen s;
	size_t len, off, piece;

	len = stream(buf, 40);

	/* Everything in one chunk. */
	CU_ASSERT_FATAL((in = evbuffer_new()) != NULL);
	memset(&s, 0, sizeof(s));
	s.stop_at = s.fail_at = -1;
	CU_ASSERT_EQUAL(evbuffer_add(in, buf, len), 0);
	CU_ASSERT_EQUAL(packet_evread(in, 200, cb, &s), 0);
	check_seen(&s, 40);
	CU_ASSERT_EQUAL(evbuffer_get_length(in), 0);
	evbuffer_free(in);

	/* Straddling chunks of every small size. */
	for (piece = 1; piece < 40; piece += 3) {
		CU_ASSERT_FATAL((in = evbuffer_new()) != NULL);
		memset(&s, 0, sizeof(s));
		s.stop_at = s.fail_at = -1;
		for (off = 0; off < len; off += piece)
			CU_ASSERT_EQUAL(evbuffer_add_reference(in, buf + off,
			    off + piece > len ? len - off : piece, NULL,
			    NULL), 0);
		CU_ASSERT_EQUAL(packet_evread(in, 200, cb, &s), 0);
		check_seen(&s, 40);
		CU_ASSERT_EQUAL(evbuffer_get_length(in), 0);
		evbuffer_free(in);
	}

	/* Arriving one byte at a time. */
	CU_ASSERT_FATAL((in = evbuffer_new()) != NULL);
	memset(&s, 0, sizeof(s));
	s.stop_at = s.fail_at = -1;
	for (off = 0; off < len; off++) {
		CU_ASSERT_EQUAL(evbuffer_add(in, buf + off, 1), 0);
		CU_ASSERT_EQUAL(packet_evread(in, 200, cb, &s), 0);
	}
	check_seen(&s, 40);
	CU_ASSERT_EQUAL(evbuffer_get_length(in), 0);
	evbuffer_free(in);
}

static void
test_evread_stop_fail(void)
{
	static uint8_t buf[8 * (PACKET_OVERHEAD + 200)];
	struct evbuffer *in;
	struct seen s;
	size_t len, left, reclen;
	const uint8_t *rec;
	uint64_t id;

	len = stream(buf, 5);
	CU_ASSERT_FATAL((in = evbuffer_new()) != NULL);
	CU_ASSERT_EQUAL(evbuffer_add(in, buf, len), 0);

	/* Stop after the second packet: two drained. */
	memset(&s, 0, sizeof(s));
	s.stop_at = 2;
	s.fail_at = -1;
	CU_ASSERT_EQUAL(packet_evread(in, 200, cb, &s), 1);
	CU_ASSERT_EQUAL(s.n, 2);
	left = evbuffer_get_length(in);

	/* Failing callback: nothing drained. */
	s.fail_at = 2;
	CU_ASSERT_EQUAL(packet_evread(in, 200, cb, &s), -1);
	CU_ASSERT_EQUAL(evbuffer_get_length(in), left);

	/* Peek and drain by hand. */
	CU_ASSERT_EQUAL(packet_evpeek(in, 200, &id, &rec, &reclen),
	    PACKET_OK);
	CU_ASSERT_EQUAL(id, 1002);
	CU_ASSERT_EQUAL(reclen, 6);
	CU_ASSERT_EQUAL(evbuffer_get_length(in), left);
	packet_evdrain(in, reclen);
	CU_ASSERT_EQUAL(evbuffer_get_length(in),
	    left - reclen - PACKET_OVERHEAD);

	/* Too long for the limit: a protocol error. */
	CU_ASSERT_EQUAL(packet_evpeek(in, 8, &id, &rec, &reclen),
	    PACKET_ETOOLONG);
	s.fail_at = -1;
	s.stop_at = -1;
	CU_ASSERT_EQUAL(packet_evread(in, 8, cb, &s), -1);
	CU_ASSERT_EQUAL(packet_evread(in, 200, cb, &s), 0);
	CU_ASSERT_EQUAL(s.n, 4);
	CU_ASSERT_EQUAL(s.ids[2], 1003);
	CU_ASSERT_EQUAL(s.ids[3], 1004);
	CU_ASSERT_EQUAL(evbuffer_get_length(in), 0);
	evbuffer_free(in);
}

static void
test_evread_corrupt(void)
{
	static uint8_t buf[8 * (PACKET_OVERHEAD + 200)];
	struct evbuffer *in;
	struct seen s;
	size_t len;

	len = stream(buf, 4);

	/* Corrupt the last byte: three good packets, then an error. */
	buf[len - 1] ^= 1;
	CU_ASSERT_FATAL((in = evbuffer_new()) != NULL);
	CU_ASSERT_EQUAL(evbuffer_add(in, buf, len), 0);
	memset(&s, 0, sizeof(s));
	s.stop_at = s.fail_at = -1;
	CU_ASSERT_EQUAL(packet_evread(in, 200, cb, &s), -1);
	CU_ASSERT_EQUAL(s.n, 3);
	evbuffer_free(in);

	/* Corrupt a header byte. */
	buf[len - 1] ^= 1;
	buf[PACKET_OVERHEAD + 3] ^= 0x80;
	CU_ASSERT_FATAL((in = evbuffer_new()) != NULL);
	CU_ASSERT_EQUAL(evbuffer_add(in, buf, len), 0);
	memset(&s, 0, sizeof(s));
	s.stop_at = s.fail_at = -1;
	CU_ASSERT_EQUAL(packet_evread(in, 200, cb, &s), -1);
	CU_ASSERT_EQUAL(s.n, 1);
	CU_ASSERT_EQUAL(packet_evpeek(in, 200, NULL, NULL, NULL),
	    PACKET_EHDRCRC);
	evbuffer_free(in);
}

static void
test_evwrite(void)
{
	uint8_t want[64], rec[32], got[64];
	struct evbuffer *out;
	size_t i, wlen, rlen;

	for (i = 0; i < NPVECS; i++) {
		wlen = unit_unhex(pvecs[i].hex, want);
		rlen = unit_unhex(pvecs[i].rechex, rec);
		CU_ASSERT_FATAL((out = evbuffer_new()) != NULL);
		CU_ASSERT_EQUAL(evbuffer_add(out, "x", 1), 0);
		CU_ASSERT_EQUAL(packet_evwrite(out, pvecs[i].id, rec, rlen),
		    0);
		CU_ASSERT_EQUAL(packet_evwrite(out, pvecs[i].id, rec, rlen),
		    0);
		CU_ASSERT_EQUAL(evbuffer_get_length(out), 1 + 2 * wlen);
		CU_ASSERT_EQUAL(evbuffer_remove(out, got, 1), 1);
		CU_ASSERT_EQUAL(evbuffer_remove(out, got, wlen), (int)wlen);
		CU_ASSERT(memcmp(got, want, wlen) == 0);
		CU_ASSERT_EQUAL(evbuffer_remove(out, got, wlen), (int)wlen);
		CU_ASSERT(memcmp(got, want, wlen) == 0);
		evbuffer_free(out);
	}
}

UNIT_MAIN("packet",
    { "spec vectors encode", test_vectors_encode },
    { "spec vectors parse", test_vectors_parse },
    { "truncated at every byte", test_truncated },
    { "header CRC, every bit", test_bad_header_crc },
    { "record CRC, every bit", test_bad_record_crc },
    { "record longer than the maximum", test_too_long },
    { "evbuffer reader over chunks", test_evread_chunks },
    { "evbuffer reader stop, fail, peek", test_evread_stop_fail },
    { "evbuffer reader, corrupt packets", test_evread_corrupt },
    { "evbuffer writer", test_evwrite })
