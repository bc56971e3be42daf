/*
 * Key derivation and the 1060-byte packets (see proto_crypt.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "log/log.h"
#include "pcrypt/pcrypt.h"
#include "sysendian/sysendian.h"

#include "proto_crypt.h"

#define PKT_PADLEN	(PROTO_PKT_MAXDATA + 4)	/* 1028 */

/* One direction: its keys and the number of the next packet. */
struct proto_dir {
	struct pcrypt_aesctr *aes;
	struct pcrypt_hmac *hmac;
	uint64_t pnum;
};

struct proto_session {
	struct proto_dir tx;
	struct proto_dir rx;
};

/**
 * proto_crypt_dhmac(K, nonce_C, nonce_S, dhmac):
 * Compute dhmac = PBKDF2-HMAC-SHA256(K, nonce_C || nonce_S, 1, 64).
 */
int
proto_crypt_dhmac(const uint8_t K[PROTO_KEYLEN],
    const uint8_t nonce_C[PROTO_NONCELEN],
    const uint8_t nonce_S[PROTO_NONCELEN], uint8_t dhmac[PROTO_DHMACLEN])
{
	uint8_t salt[2 * PROTO_NONCELEN];

	memcpy(salt, nonce_C, PROTO_NONCELEN);
	memcpy(salt + PROTO_NONCELEN, nonce_S, PROTO_NONCELEN);
	return (pcrypt_pbkdf2_sha256(K, PROTO_KEYLEN, salt, sizeof(salt), 1,
	    dhmac, PROTO_DHMACLEN));
}

/**
 * proto_crypt_keys(K, nonce_C, nonce_S, y_SC, dk):
 * Compute dk = PBKDF2-HMAC-SHA256(K, nonce_C || nonce_S || y_SC, 1, 128).
 */
int
proto_crypt_keys(const uint8_t K[PROTO_KEYLEN],
    const uint8_t nonce_C[PROTO_NONCELEN],
    const uint8_t nonce_S[PROTO_NONCELEN], const uint8_t y_SC[256],
    uint8_t dk[PROTO_DKLEN])
{
	uint8_t salt[2 * PROTO_NONCELEN + 256];
	int rc;

	memcpy(salt, nonce_C, PROTO_NONCELEN);
	memcpy(salt + PROTO_NONCELEN, nonce_S, PROTO_NONCELEN);
	memcpy(salt + 2 * PROTO_NONCELEN, y_SC, 256);
	rc = pcrypt_pbkdf2_sha256(K, PROTO_KEYLEN, salt, sizeof(salt), 1, dk,
	    PROTO_DKLEN);
	pcrypt_cleanse(salt, sizeof(salt));
	return (rc);
}

static int
dir_init(struct proto_dir *d, const uint8_t *E, const uint8_t *H)
{

	d->pnum = 0;
	if ((d->aes = pcrypt_aesctr_new(E)) == NULL)
		goto err0;
	if ((d->hmac = pcrypt_hmac_new(H, PROTO_KEYLEN)) == NULL)
		goto err1;
	return (0);

err1:
	pcrypt_aesctr_free(d->aes);
err0:
	return (-1);
}

static void
dir_clean(struct proto_dir *d)
{

	pcrypt_aesctr_free(d->aes);
	pcrypt_hmac_free(d->hmac);
}

/**
 * proto_session_new(dk, server):
 * Create a session from E_C || H_C || E_S || H_S.
 */
struct proto_session *
proto_session_new(const uint8_t dk[PROTO_DKLEN], int server)
{
	struct proto_session *s;
	const uint8_t *c = dk, *sv = dk + 2 * PROTO_KEYLEN;

	if ((s = malloc(sizeof(*s))) == NULL) {
		warn0("malloc failed");
		goto err0;
	}
	if (dir_init(&s->tx, server ? sv : c,
	    (server ? sv : c) + PROTO_KEYLEN))
		goto err1;
	if (dir_init(&s->rx, server ? c : sv,
	    (server ? c : sv) + PROTO_KEYLEN))
		goto err2;
	return (s);

err2:
	dir_clean(&s->tx);
err1:
	free(s);
err0:
	return (NULL);
}

/**
 * proto_session_encrypt(s, buf, len, out):
 * Encrypt ${len} bytes into ceil(len / 1024) packets at ${out}.
 */
ssize_t
proto_session_encrypt(struct proto_session *s, const uint8_t *buf,
    size_t len, uint8_t *out)
{
	struct proto_dir *d = &s->tx;
	uint8_t iv[PCRYPT_AES_IVLEN];
	uint8_t *p = out;
	size_t n;

	memset(iv, 0, sizeof(iv));
	while (len > 0) {
		n = len < PROTO_PKT_MAXDATA ? len : PROTO_PKT_MAXDATA;

		/* M || zero padding || len(M), encrypted in place. */
		memcpy(p, buf, n);
		memset(p + n, 0, PROTO_PKT_MAXDATA - n);
		p[1024] = 0;
		p[1025] = 0;
		p[1026] = (uint8_t)(n >> 8);
		p[1027] = (uint8_t)n;
		be64enc(iv, d->pnum);
		if (pcrypt_aesctr_crypt(d->aes, iv, p, p, PKT_PADLEN))
			return (-1);
		pcrypt_hmac_2(d->hmac, p, PKT_PADLEN, iv, 8, p + PKT_PADLEN);

		d->pnum++;
		p += PROTO_PKT_LEN;
		buf += n;
		len -= n;
	}
	return (p - out);
}

/**
 * proto_session_decrypt(s, in, npkts, out):
 * Verify and decrypt ${npkts} packets at ${in} into ${out}.
 */
ssize_t
proto_session_decrypt(struct proto_session *s, const uint8_t *in,
    size_t npkts, uint8_t *out)
{
	struct proto_dir *d = &s->rx;
	uint8_t iv[PCRYPT_AES_IVLEN];
	uint8_t mac[PCRYPT_SHA256_LEN];
	uint8_t *p = out;
	uint32_t n;

	memset(iv, 0, sizeof(iv));
	for (; npkts > 0; npkts--, in += PROTO_PKT_LEN) {
		be64enc(iv, d->pnum);
		pcrypt_hmac_2(d->hmac, in, PKT_PADLEN, iv, 8, mac);
		if (pcrypt_memcmp(mac, in + PKT_PADLEN, sizeof(mac)))
			return (-1);
		if (pcrypt_aesctr_crypt(d->aes, iv, in, p, PKT_PADLEN))
			return (-1);
		n = be32dec(p + PROTO_PKT_MAXDATA);
		if (n == 0 || n > PROTO_PKT_MAXDATA)
			return (-1);
		d->pnum++;
		p += n;
	}
	return (p - out);
}

/* Work in slices of this many packets so that buffers stay in cache. */
#define EVBUF_SLICE	64

/**
 * proto_session_encrypt_evbuf(s, plain, wire):
 * Drain ${plain}, appending the packets carrying it to ${wire}.
 */
int
proto_session_encrypt_evbuf(struct proto_session *s, struct evbuffer *plain,
    struct evbuffer *wire)
{
	struct evbuffer_iovec v;
	unsigned char *src;
	size_t len;
	ssize_t w;

	while ((len = evbuffer_get_length(plain)) > 0) {
		if (len > EVBUF_SLICE * PROTO_PKT_MAXDATA)
			len = EVBUF_SLICE * PROTO_PKT_MAXDATA;
		if ((src = evbuffer_pullup(plain, (ssize_t)len)) == NULL)
			goto err;
		if (evbuffer_reserve_space(wire, (ssize_t)PROTO_WIRELEN(len),
		    &v, 1) != 1)
			goto err;
		if ((w = proto_session_encrypt(s, src, len, v.iov_base)) < 0)
			return (-1);
		v.iov_len = (size_t)w;
		if (evbuffer_commit_space(wire, &v, 1))
			goto err;
		if (evbuffer_drain(plain, len))
			goto err;
	}
	return (0);

err:
	warn0("evbuffer operation failed");
	return (-1);
}

/**
 * proto_session_decrypt_evbuf(s, wire, plain):
 * Drain every complete packet of ${wire}, appending plaintext to ${plain}.
 */
ssize_t
proto_session_decrypt_evbuf(struct proto_session *s, struct evbuffer *wire,
    struct evbuffer *plain)
{
	struct evbuffer_iovec v;
	unsigned char *src;
	size_t npkts;
	ssize_t r, total = 0;

	while ((npkts = evbuffer_get_length(wire) / PROTO_PKT_LEN) > 0) {
		if (npkts > EVBUF_SLICE)
			npkts = EVBUF_SLICE;
		if ((src = evbuffer_pullup(wire,
		    (ssize_t)(npkts * PROTO_PKT_LEN))) == NULL)
			goto err;
		if (evbuffer_reserve_space(plain,
		    (ssize_t)PROTO_DECRYPT_ROOM(npkts), &v, 1) != 1)
			goto err;
		if ((r = proto_session_decrypt(s, src, npkts, v.iov_base)) < 0)
			return (-1);
		v.iov_len = (size_t)r;
		if (evbuffer_commit_space(plain, &v, 1))
			goto err;
		if (evbuffer_drain(wire, npkts * PROTO_PKT_LEN))
			goto err;
		total += r;
	}
	return (total);

err:
	warn0("evbuffer operation failed");
	return (-1);
}

/**
 * proto_session_free(s):
 * Wipe and free ${s}.  No-op if NULL.
 */
void
proto_session_free(struct proto_session *s)
{

	if (s == NULL)
		return;
	dir_clean(&s->tx);
	dir_clean(&s->rx);
	pcrypt_cleanse(s, sizeof(*s));
	free(s);
}
