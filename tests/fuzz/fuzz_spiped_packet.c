/*
 * Fuzz target: spiped data packets (lib/proto).  Arbitrary bytes offered
 * as packets must be refused or decrypt to at most 1024 bytes each; valid
 * packets built from the input must round-trip exactly, through the flat
 * and the evbuffer interfaces alike, and any flipped bit must be refused.
 *
 * Input: a mode byte (bit 0: treat the rest as raw packets; otherwise
 * the rest is plaintext, and bits 1-7 pick a bit to flip, 0 = none),
 * then the bytes.
 */
// SOURCES: lib/proto/proto_crypt.c lib/pcrypt/pcrypt_aes.c
// SOURCES: lib/pcrypt/pcrypt_dh.c lib/pcrypt/pcrypt_hash.c lib/log/log.c
// LIBS: -levent -lcrypto

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "proto/proto_crypt.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define MAXIN	(8 * PROTO_PKT_LEN)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t wire[PROTO_WIRELEN(MAXIN)];
	static uint8_t out[PROTO_DECRYPT_ROOM(PROTO_WIRELEN(MAXIN) /
	    PROTO_PKT_LEN)];
	uint8_t dk[PROTO_DKLEN];
	struct proto_session *c, *s;
	struct evbuffer *eb, *pb;
	size_t npkts, flip;
	ssize_t w, r;
	uint8_t mode;

	if (size < 1 || size > MAXIN + 1)
		return (0);
	mode = data[0];
	data++;
	size--;
	memset(dk, 0x5a, sizeof(dk));
	c = proto_session_new(dk, 0);
	s = proto_session_new(dk, 1);
	if (c == NULL || s == NULL)
		abort();

	if (mode & 1) {
		npkts = size / PROTO_PKT_LEN;
		r = proto_session_decrypt(s, data, npkts, out);
		if (r > (ssize_t)(npkts * PROTO_PKT_MAXDATA))
			abort();
		goto done;
	}

	w = proto_session_encrypt(c, data, size, wire);
	if (w != (ssize_t)PROTO_WIRELEN(size))
		abort();
	npkts = (size_t)w / PROTO_PKT_LEN;
	flip = mode >> 1;
	if (flip != 0 && w > 0) {
		flip = (flip * 997) % ((size_t)w * 8);
		wire[flip / 8] ^= (uint8_t)(1 << (flip % 8));
		if (proto_session_decrypt(s, wire, npkts, out) != -1)
			abort();
		goto done;
	}
	if (proto_session_decrypt(s, wire, npkts, out) != (ssize_t)size ||
	    memcmp(out, data, size) != 0)
		abort();

	/* The same through evbuffers, a fresh pair of sessions. */
	proto_session_free(c);
	proto_session_free(s);
	c = proto_session_new(dk, 0);
	s = proto_session_new(dk, 1);
	eb = evbuffer_new();
	pb = evbuffer_new();
	if (c == NULL || s == NULL || eb == NULL || pb == NULL)
		abort();
	evbuffer_add(pb, data, size);
	if (proto_session_encrypt_evbuf(c, pb, eb) ||
	    evbuffer_get_length(eb) != PROTO_WIRELEN(size))
		abort();
	if (proto_session_decrypt_evbuf(s, eb, pb) != (ssize_t)size ||
	    evbuffer_get_length(pb) != size ||
	    (size > 0 && memcmp(evbuffer_pullup(pb, -1), data, size) != 0))
		abort();
	evbuffer_free(eb);
	evbuffer_free(pb);
done:
	proto_session_free(c);
	proto_session_free(s);
	return (0);
}
