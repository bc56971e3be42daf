#ifndef PROTO_CRYPT_H_
#define PROTO_CRYPT_H_

/*
 * The spiped data layer: key derivation and the 1060-byte packets.
 *
 * A message of 1..1024 bytes travels as one packet:
 *	AES-256-CTR(E, M || zeros up to 1024 || len(M) as 4 bytes BE)
 *	|| HMAC-SHA256(H, ciphertext || packet number as 8 bytes BE)
 * where the counter block of packet n is n (8 bytes BE) || 0 (8 bytes).
 * Packets are numbered from 0 separately in each direction, so a packet
 * that is replayed, reordered or dropped fails the MAC of the next one.
 *
 * A session holds both directions of one connection: the keys it sends
 * with and the keys it receives with, and each direction's counter.  The
 * two directions share nothing, so one thread may encrypt while another
 * decrypts.
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct evbuffer;

#define PROTO_KEYLEN		32	/* K, and each derived key */
#define PROTO_NONCELEN		32
#define PROTO_DHMACLEN		64	/* dhmac_C || dhmac_S */
#define PROTO_DKLEN		128	/* E_C || H_C || E_S || H_S */
#define PROTO_PKT_MAXDATA	1024
#define PROTO_PKT_LEN		1060	/* 1028 ciphertext + 32 MAC */

/* Bytes of packets carrying ${n} plaintext bytes (0 for n = 0). */
#define PROTO_WIRELEN(n)	\
	((((n) + PROTO_PKT_MAXDATA - 1) / PROTO_PKT_MAXDATA) * PROTO_PKT_LEN)

/*
 * Room proto_session_decrypt needs for ${npkts} packets: the plaintext of
 * each packet is decrypted in place at the end of the previous one, so the
 * padding and length of the last one need 4 bytes beyond the data.
 */
#define PROTO_DECRYPT_ROOM(npkts)	((npkts) * PROTO_PKT_MAXDATA + 4)

/**
 * proto_crypt_dhmac(K, nonce_C, nonce_S, dhmac):
 * Compute dhmac = PBKDF2-HMAC-SHA256(K, nonce_C || nonce_S, 1, 64): the
 * client's DH MAC key is its first 32 bytes, the server's the last 32.
 */
int proto_crypt_dhmac(const uint8_t K[PROTO_KEYLEN],
    const uint8_t nonce_C[PROTO_NONCELEN],
    const uint8_t nonce_S[PROTO_NONCELEN], uint8_t dhmac[PROTO_DHMACLEN]);

/**
 * proto_crypt_keys(K, nonce_C, nonce_S, y_SC, dk):
 * Compute dk = PBKDF2-HMAC-SHA256(K, nonce_C || nonce_S || y_SC, 1, 128),
 * i.e. E_C || H_C || E_S || H_S; ${y_SC} is the 256-byte shared DH value.
 */
int proto_crypt_keys(const uint8_t K[PROTO_KEYLEN],
    const uint8_t nonce_C[PROTO_NONCELEN],
    const uint8_t nonce_S[PROTO_NONCELEN], const uint8_t y_SC[256],
    uint8_t dk[PROTO_DKLEN]);

/* Both directions of one connection. */
struct proto_session;

/**
 * proto_session_new(dk, server):
 * Create a session from the 128 derived bytes ${dk}: the client (the side
 * that connected, ${server} == 0) sends with E_C/H_C and receives with
 * E_S/H_S; the server the other way round.  Both counters start at 0.
 * The caller may wipe ${dk} afterwards.  Returns NULL on failure.  Free
 * with proto_session_free.
 */
struct proto_session *proto_session_new(const uint8_t dk[PROTO_DKLEN],
    int server);

/**
 * proto_session_encrypt(s, buf, len, out):
 * Encrypt the ${len} bytes at ${buf} as ceil(len / 1024) packets (all full
 * but the last), written back to back at ${out}, which must have room for
 * PROTO_WIRELEN(len) bytes and must not overlap ${buf}.  Advances the send
 * counter.  Returns the number of bytes written, or -1 on a crypto
 * failure (the session must then be abandoned).
 */
ssize_t proto_session_encrypt(struct proto_session *s, const uint8_t *buf,
    size_t len, uint8_t *out);

/**
 * proto_session_decrypt(s, in, npkts, out):
 * Verify and decrypt the ${npkts} packets at ${in}, writing their
 * plaintexts back to back at ${out}, which must have room for
 * PROTO_DECRYPT_ROOM(npkts) bytes and must not overlap ${in}.  Advances
 * the receive counter.  Returns the number of plaintext bytes, or -1 if a
 * packet's MAC does not check or its length is 0 or over 1024 (the
 * connection must then be dropped; the content of ${out} is undefined).
 */
ssize_t proto_session_decrypt(struct proto_session *s, const uint8_t *in,
    size_t npkts, uint8_t *out);

/**
 * proto_session_encrypt_evbuf(s, plain, wire):
 * Drain every byte of the evbuffer ${plain} and append the packets
 * carrying them to the evbuffer ${wire} (a final partial packet is sent
 * as such: nothing waits for more data).  Returns 0, or -1 on failure.
 */
int proto_session_encrypt_evbuf(struct proto_session *s,
    struct evbuffer *plain, struct evbuffer *wire);

/**
 * proto_session_decrypt_evbuf(s, wire, plain):
 * Drain every complete packet from the evbuffer ${wire} (a trailing
 * partial packet stays there) and append their plaintexts to the evbuffer
 * ${plain}.  Returns the number of plaintext bytes appended (0 if no
 * complete packet was there), or -1 on a bad MAC or length, or a failure.
 */
ssize_t proto_session_decrypt_evbuf(struct proto_session *s,
    struct evbuffer *wire, struct evbuffer *plain);

/**
 * proto_session_free(s):
 * Wipe and free ${s}.  No-op if NULL.
 */
void proto_session_free(struct proto_session *s);

#endif /* !PROTO_CRYPT_H_ */
