/*
 * Fuzz target: kvlds packet framing.  The flat parser and the evbuffer
 * reader (fed in chunks) must agree on every input, and every packet
 * accepted must re-encode to exactly its own bytes.
 *
 * Input: one mode byte, then either a raw byte stream (mode bit 7 clear)
 * or (bit 7 set) a list of records, each a length byte then its bytes,
 * which are framed into valid packets and then optionally damaged, so
 * that the fuzzer reaches past the CRC checks.
 */
// SOURCES: lib/packet/packet.c lib/crc32c/crc32c.c lib/crc32c/crc32c_sse42.c
// SOURCES: lib/log/log.c
// LIBS: -levent

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "packet/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define MAXPKTS	4096

struct flat {
	size_t n;
	uint64_t id[MAXPKTS];
	size_t off[MAXPKTS];
	size_t len[MAXPKTS];
};

struct walk {
	const struct flat *f;
	const uint8_t *stream;
	size_t i;
};

#define CHECK(x)	do { if (!(x)) __builtin_trap(); } while (0)

static int
cb(void *cookie, uint64_t id, const uint8_t *rec, size_t reclen)
{
	struct walk *w = cookie;

	CHECK(w->i < w->f->n);
	CHECK(id == w->f->id[w->i]);
	CHECK(reclen == w->f->len[w->i]);
	CHECK(reclen == 0 || memcmp(rec, w->stream + w->f->off[w->i] +
	    PACKET_HDRLEN, reclen) == 0);
	w->i++;
	return (0);
}

static void
check(const uint8_t *s, size_t len, size_t maxrec, size_t chunk)
{
	static struct flat f;
	static uint8_t tmp[1024 + PACKET_OVERHEAD];
	struct evbuffer *in;
	struct walk w;
	const uint8_t *rec;
	size_t off = 0, reclen, cut;
	uint64_t id;
	int rc, erc;

	/* The flat parser, packet after packet. */
	f.n = 0;
	for (;;) {
		rc = packet_parse(s + off, len - off, maxrec, &id, &rec,
		    &reclen);
		if (rc != PACKET_OK)
			break;
		CHECK(reclen <= maxrec);
		CHECK(reclen + PACKET_OVERHEAD <= len - off);
		CHECK(rec == s + off + PACKET_HDRLEN);
		/* Framing is canonical. */
		CHECK(packet_encode(tmp, id, rec, reclen) ==
		    reclen + PACKET_OVERHEAD);
		CHECK(memcmp(tmp, s + off, reclen + PACKET_OVERHEAD) == 0);
		/* Every proper prefix of the first packet needs more. */
		if (f.n == 0)
			for (cut = 0; cut < reclen + PACKET_OVERHEAD; cut++)
				CHECK(packet_parse(s, cut, maxrec, &id, &rec,
				    &reclen) == PACKET_NEEDMORE);
		if (f.n == MAXPKTS)
			return;
		f.id[f.n] = id;
		f.off[f.n] = off;
		f.len[f.n] = reclen;
		f.n++;
		off += reclen + PACKET_OVERHEAD;
	}
	CHECK(rc == PACKET_NEEDMORE || rc == PACKET_EHDRCRC ||
	    rc == PACKET_ETOOLONG || rc == PACKET_ERECCRC);
	if (rc == PACKET_NEEDMORE)
		CHECK(len - off < PACKET_HDRLEN ||
		    len - off < PACKET_OVERHEAD + (size_t)(s[off + 8] << 24 |
		    s[off + 9] << 16 | s[off + 10] << 8 | s[off + 11]));

	/* The evbuffer reader over the same bytes in (at most 64) chunks. */
	if (chunk < len / 64)
		chunk = len / 64;
	CHECK((in = evbuffer_new()) != NULL);
	for (cut = 0; cut < len; cut += chunk)
		CHECK(evbuffer_add_reference(in, s + cut,
		    cut + chunk > len ? len - cut : chunk, NULL, NULL) == 0);
	w.f = &f;
	w.stream = s;
	w.i = 0;
	erc = packet_evread(in, maxrec, cb, &w);
	CHECK(w.i == f.n);
	CHECK(erc == (rc == PACKET_NEEDMORE ? 0 : -1));
	CHECK(evbuffer_get_length(in) == len - off);
	if (rc != PACKET_NEEDMORE)
		CHECK(packet_evpeek(in, maxrec, &id, &rec, &reclen) == rc);
	evbuffer_free(in);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t stream[65536];
	size_t maxrec, chunk, len, pos, rl;
	uint64_t n = 0;
	uint8_t mode;

	if (size < 1)
		return (0);
	mode = data[0];
	data++;
	size--;
	maxrec = (size_t)(mode & 0x0f) * 64 + 4;
	chunk = 1 + (size_t)((mode >> 4) & 0x07) * 11;

	if ((mode & 0x80) == 0) {
		check(data, size, maxrec, chunk);
		return (0);
	}

	/* Build valid packets from length-prefixed records. */
	len = 0;
	for (pos = 0; pos < size; pos += 1 + rl) {
		rl = data[pos];
		if (rl > size - pos - 1)
			rl = size - pos - 1;
		if (len + rl + PACKET_OVERHEAD > sizeof(stream))
			break;
		len += packet_encode(stream + len, n++ * 0x0101010101ULL,
		    data + pos + 1, rl);
	}
	check(stream, len, maxrec, chunk);
	if (len > 0 && size > 0) {
		/* Damage one bit chosen by the last input byte. */
		pos = (size_t)data[size - 1] * 131 % len;
		stream[pos] ^= (uint8_t)(1 << (data[size - 1] & 7));
		check(stream, len, maxrec, chunk);
		/* And cut the stream short. */
		stream[pos] ^= (uint8_t)(1 << (data[size - 1] & 7));
		check(stream, pos, maxrec, chunk);
	}
	return (0);
}
