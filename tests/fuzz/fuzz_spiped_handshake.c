/*
 * Fuzz target: the spiped handshake state machine (lib/proto).  Whatever
 * a peer sends, in whatever pieces, the machine must fail cleanly or
 * finish, never read or write out of bounds, and never complete with a
 * y >= p or a MAC that does not check.
 *
 * Input: a mode byte (bit 0: we are the server; bit 1: -f; bit 2: -g;
 * bit 3: MAC the peer's y with the right key so that the y checks and the
 * Diffie-Hellman step are reached; bits 4-7: piece size), then the
 * peer's bytes.
 */
// SOURCES: lib/proto/proto_crypt.c lib/proto/proto_handshake.c
// SOURCES: lib/pcrypt/pcrypt_aes.c lib/pcrypt/pcrypt_dh.c
// SOURCES: lib/pcrypt/pcrypt_hash.c lib/log/log.c
// LIBS: -levent -lcrypto

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pcrypt/pcrypt.h"
#include "proto/proto_crypt.h"
#include "proto/proto_handshake.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t K[32] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t in[1024], nonce[32], dhmac[64];
	struct proto_hs *hs;
	struct proto_session *s;
	const uint8_t *out;
	size_t len, piece, need, off = 0;
	uint8_t mode;
	int flags, failed = 0;

	if (size < 1 || size > sizeof(in) + 1)
		return (0);
	mode = data[0];
	memcpy(in, data + 1, size - 1);
	size--;
	flags = ((mode & 1) ? PROTO_HS_SERVER : 0) |
	    ((mode & 2) ? PROTO_HS_NOPFS : 0) |
	    ((mode & 4) ? PROTO_HS_REQPFS : 0);
	piece = (size_t)(mode >> 4) * 19 + 1;

	if ((hs = proto_hs_new(K, flags)) == NULL)
		return (0);
	out = proto_hs_output(hs, &len);
	if (len != 32)
		abort();
	memcpy(nonce, out, 32);
	proto_hs_consumed(hs, len);

	/* Give the peer's y a valid MAC, to reach the checks behind it. */
	if ((mode & 8) && size >= 32 + 288) {
		if (flags & PROTO_HS_SERVER)
			proto_crypt_dhmac(K, in, nonce, dhmac);
		else
			proto_crypt_dhmac(K, nonce, in, dhmac);
		pcrypt_hmac_sha256(dhmac + ((flags & PROTO_HS_SERVER) ? 0 : 32),
		    32, in + 32, 256, in + 32 + 256);
	}

	while (off < size && (need = proto_hs_need(hs)) > 0) {
		len = size - off;
		if (len > piece)
			len = piece;
		if (len > need)
			len = need;
		if (proto_hs_input(hs, in + off, len)) {
			failed = 1;
			break;
		}
		off += len;
		proto_hs_output(hs, &len);
		proto_hs_consumed(hs, len);
	}

	if (proto_hs_done(hs)) {
		/* Completed: the peer's y must be < p with a checked MAC. */
		if (failed || size < 32 + 288 || pcrypt_dh_check(in + 32))
			abort();
		if ((s = proto_hs_session(hs)) == NULL)
			abort();
		proto_session_free(s);
	} else if (failed && proto_hs_need(hs) != 0) {
		abort();
	}
	proto_hs_free(hs);
	return (0);
}
