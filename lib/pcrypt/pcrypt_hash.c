/*
 * SHA-256, HMAC-SHA256 and PBKDF2-HMAC-SHA256.
 *
 * The per-packet HMAC is the hottest code in spiped.  It uses OpenSSL's
 * low-level SHA256_CTX, deprecated in OpenSSL 3, because a SHA256_CTX is a
 * plain struct: the keyed inner and outer states are precomputed once and
 * copied by assignment per message.  Measured here (1036-byte messages,
 * SHA-NI): SHA256_CTX copy 681 ns, EVP_MD_CTX_copy_ex 771 ns (it
 * allocates a provider context per copy), EVP_MAC re-init 825 ns.  The
 * deprecation warnings are silenced by a pragma around the two functions
 * that use SHA256_CTX, and nowhere else.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "log/log.h"
#include "pcrypt.h"

struct pcrypt_hmac {
	SHA256_CTX inner;	/* after absorbing key ^ ipad */
	SHA256_CTX outer;	/* after absorbing key ^ opad */
};

static void
pcrypt_warn(const char *what)
{

	warn0("%s failed", what);
}

/**
 * pcrypt_sha256(buf, len, out):
 * Compute SHA-256 of the ${len} bytes at ${buf} into ${out}.
 */
int
pcrypt_sha256(const void *buf, size_t len, uint8_t out[PCRYPT_SHA256_LEN])
{

	if (EVP_Digest(buf, len, out, NULL, EVP_sha256(), NULL) != 1) {
		pcrypt_warn("SHA-256");
		return (-1);
	}
	return (0);
}

/**
 * pcrypt_hmac_sha256(key, keylen, buf, len, out):
 * Compute HMAC-SHA256 under the ${keylen}-byte ${key} of the ${len} bytes
 * at ${buf} into ${out}.
 */
int
pcrypt_hmac_sha256(const uint8_t *key, size_t keylen, const void *buf,
    size_t len, uint8_t out[PCRYPT_SHA256_LEN])
{
	struct pcrypt_hmac *h;

	if ((h = pcrypt_hmac_new(key, keylen)) == NULL)
		return (-1);
	pcrypt_hmac_2(h, buf, len, NULL, 0, out);
	pcrypt_hmac_free(h);
	return (0);
}

/* SHA256_Init/Update/Final and SHA256: deprecated, kept for speed (above). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

/**
 * pcrypt_hmac_new(key, keylen):
 * Precompute the HMAC-SHA256 state for the ${keylen}-byte ${key}.
 */
struct pcrypt_hmac *
pcrypt_hmac_new(const uint8_t *key, size_t keylen)
{
	struct pcrypt_hmac *h;
	uint8_t kb[64];
	uint8_t pad[64];
	size_t i;

	if ((h = malloc(sizeof(*h))) == NULL) {
		pcrypt_warn("malloc");
		return (NULL);
	}

	/* Keys longer than a block are hashed first (RFC 2104). */
	memset(kb, 0, sizeof(kb));
	if (keylen > sizeof(kb)) {
		SHA256(key, keylen, kb);
	} else if (keylen > 0) {
		memcpy(kb, key, keylen);
	}

	for (i = 0; i < 64; i++)
		pad[i] = kb[i] ^ 0x36;
	SHA256_Init(&h->inner);
	SHA256_Update(&h->inner, pad, 64);
	for (i = 0; i < 64; i++)
		pad[i] = kb[i] ^ 0x5c;
	SHA256_Init(&h->outer);
	SHA256_Update(&h->outer, pad, 64);

	OPENSSL_cleanse(kb, sizeof(kb));
	OPENSSL_cleanse(pad, sizeof(pad));
	return (h);
}

/**
 * pcrypt_hmac_2(h, a, alen, b, blen, out):
 * Compute HMAC-SHA256 under the key of ${h} of ${a} || ${b} into ${out}.
 */
void
pcrypt_hmac_2(const struct pcrypt_hmac *h, const void *a, size_t alen,
    const void *b, size_t blen, uint8_t out[PCRYPT_SHA256_LEN])
{
	SHA256_CTX c;
	uint8_t ih[PCRYPT_SHA256_LEN];

	c = h->inner;
	if (alen > 0)
		SHA256_Update(&c, a, alen);
	if (blen > 0)
		SHA256_Update(&c, b, blen);
	SHA256_Final(ih, &c);
	c = h->outer;
	SHA256_Update(&c, ih, sizeof(ih));
	SHA256_Final(out, &c);

	/* The working state depends on the key: wipe it. */
	OPENSSL_cleanse(&c, sizeof(c));
}

#pragma GCC diagnostic pop

/**
 * pcrypt_hmac_free(h):
 * Wipe and free ${h}.  No-op if NULL.
 */
void
pcrypt_hmac_free(struct pcrypt_hmac *h)
{

	if (h == NULL)
		return;
	OPENSSL_cleanse(h, sizeof(*h));
	free(h);
}

/**
 * pcrypt_pbkdf2_sha256(pw, pwlen, salt, saltlen, c, out, outlen):
 * Derive ${outlen} bytes into ${out} with PBKDF2-HMAC-SHA256.
 */
int
pcrypt_pbkdf2_sha256(const uint8_t *pw, size_t pwlen, const uint8_t *salt,
    size_t saltlen, uint32_t c, uint8_t *out, size_t outlen)
{

	if (pwlen > INT32_MAX || saltlen > INT32_MAX || outlen > INT32_MAX ||
	    c == 0 || c > INT32_MAX) {
		pcrypt_warn("PBKDF2 (bad length)");
		return (-1);
	}
	if (PKCS5_PBKDF2_HMAC((const char *)pw, (int)pwlen, salt,
	    (int)saltlen, (int)c, EVP_sha256(), (int)outlen, out) != 1) {
		pcrypt_warn("PBKDF2-HMAC-SHA256");
		return (-1);
	}
	return (0);
}

/**
 * pcrypt_cleanse(buf, len):
 * Wipe ${len} bytes at ${buf}.
 */
void
pcrypt_cleanse(void *buf, size_t len)
{

	OPENSSL_cleanse(buf, len);
}

/**
 * pcrypt_memcmp(a, b, len):
 * Compare ${len} bytes in constant time; 0 if equal.
 */
int
pcrypt_memcmp(const void *a, const void *b, size_t len)
{

	return (CRYPTO_memcmp(a, b, len));
}
