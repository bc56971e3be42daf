#ifndef PCRYPT_H_
#define PCRYPT_H_

/*
 * pcrypt: thin wrappers over OpenSSL's libcrypto for the primitives the
 * spiped protocol uses (SHA-256, HMAC-SHA256, PBKDF2-HMAC-SHA256,
 * AES-256-CTR, Diffie-Hellman in the 2048-bit MODP group 14 of RFC 3526,
 * and randomness).  Nothing here implements a primitive itself.
 *
 * Every function returns 0 on success and -1 on failure (after printing a
 * warning), unless its comment says otherwise.  Structures holding key
 * material are wiped with OPENSSL_cleanse before they are freed.
 */

#include <stddef.h>
#include <stdint.h>

#define PCRYPT_SHA256_LEN	32
#define PCRYPT_AES_KEYLEN	32
#define PCRYPT_AES_IVLEN	16
#define PCRYPT_DH_PUBLEN	256	/* big-endian, < p */
#define PCRYPT_DH_PRIVLEN	32	/* big-endian exponent */

/**
 * pcrypt_sha256(buf, len, out):
 * Compute SHA-256 of the ${len} bytes at ${buf} into ${out}.
 */
int pcrypt_sha256(const void *buf, size_t len,
    uint8_t out[PCRYPT_SHA256_LEN]);

/**
 * pcrypt_hmac_sha256(key, keylen, buf, len, out):
 * Compute HMAC-SHA256 under the ${keylen}-byte ${key} of the ${len} bytes
 * at ${buf} into ${out}.  One-shot form; see pcrypt_hmac_new for a keyed
 * state reused over many messages.
 */
int pcrypt_hmac_sha256(const uint8_t *key, size_t keylen, const void *buf,
    size_t len, uint8_t out[PCRYPT_SHA256_LEN]);

/* A precomputed HMAC-SHA256 key (inner and outer padded states). */
struct pcrypt_hmac;

/**
 * pcrypt_hmac_new(key, keylen):
 * Precompute the HMAC-SHA256 state for the ${keylen}-byte ${key}, so that
 * each later message costs only its own hashing (no key setup, no
 * allocation).  The caller may wipe ${key} afterwards.  Returns NULL on
 * allocation failure.  Free with pcrypt_hmac_free.
 */
struct pcrypt_hmac *pcrypt_hmac_new(const uint8_t *key, size_t keylen);

/**
 * pcrypt_hmac_2(h, a, alen, b, blen, out):
 * Compute HMAC-SHA256 under the key of ${h} of the concatenation of the
 * ${alen} bytes at ${a} and the ${blen} bytes at ${b} (either may be
 * empty) into ${out}.  Cannot fail; does not modify ${h}.
 */
void pcrypt_hmac_2(const struct pcrypt_hmac *h, const void *a, size_t alen,
    const void *b, size_t blen, uint8_t out[PCRYPT_SHA256_LEN]);

/**
 * pcrypt_hmac_free(h):
 * Wipe and free ${h}.  No-op if NULL.
 */
void pcrypt_hmac_free(struct pcrypt_hmac *h);

/**
 * pcrypt_pbkdf2_sha256(pw, pwlen, salt, saltlen, c, out, outlen):
 * Derive ${outlen} bytes into ${out} with PBKDF2-HMAC-SHA256 from the
 * password ${pw} and salt ${salt}, with ${c} iterations.
 */
int pcrypt_pbkdf2_sha256(const uint8_t *pw, size_t pwlen,
    const uint8_t *salt, size_t saltlen, uint32_t c, uint8_t *out,
    size_t outlen);

/* An AES-256-CTR key, schedule expanded once. */
struct pcrypt_aesctr;

/**
 * pcrypt_aesctr_new(key):
 * Expand the 32-byte AES-256 ${key} for CTR mode.  The caller may wipe
 * ${key} afterwards.  Returns NULL on failure.  Free with
 * pcrypt_aesctr_free.
 */
struct pcrypt_aesctr *pcrypt_aesctr_new(const uint8_t key[PCRYPT_AES_KEYLEN]);

/**
 * pcrypt_aesctr_crypt(a, iv, in, out, len):
 * XOR the ${len} bytes at ${in} with the AES-256-CTR key stream that
 * starts at the 16-byte big-endian counter block ${iv} (incremented as a
 * 128-bit integer per block) and write them to ${out} (which may equal
 * ${in}).  Each call starts afresh at ${iv}.
 */
int pcrypt_aesctr_crypt(struct pcrypt_aesctr *a,
    const uint8_t iv[PCRYPT_AES_IVLEN], const uint8_t *in, uint8_t *out,
    size_t len);

/**
 * pcrypt_aesctr_free(a):
 * Wipe and free ${a}.  No-op if NULL.
 */
void pcrypt_aesctr_free(struct pcrypt_aesctr *a);

/**
 * pcrypt_rand(buf, len):
 * Fill ${buf} with ${len} bytes from the OpenSSL CSPRNG.
 */
int pcrypt_rand(void *buf, size_t len);

/**
 * pcrypt_dh_init(void):
 * Prepare the group 14 prime and its Montgomery context.  Called lazily
 * by the pcrypt_dh_* functions (thread-safe); a program may call it at
 * start so that the first handshake does not pay for it.
 */
int pcrypt_dh_init(void);

/**
 * pcrypt_dh_pub(priv, pub):
 * Compute ${pub} = 2^${priv} mod p (p: the RFC 3526 group 14 prime), the
 * exponent ${priv} taken as a big-endian integer, in constant time with
 * respect to ${priv}.
 */
int pcrypt_dh_pub(const uint8_t priv[PCRYPT_DH_PRIVLEN],
    uint8_t pub[PCRYPT_DH_PUBLEN]);

/**
 * pcrypt_dh_generate(priv, pub):
 * Pick a random ${priv} and compute ${pub} = 2^${priv} mod p.
 */
int pcrypt_dh_generate(uint8_t priv[PCRYPT_DH_PRIVLEN],
    uint8_t pub[PCRYPT_DH_PUBLEN]);

/**
 * pcrypt_dh_check(pub):
 * Return 0 if the big-endian ${pub} is less than p, and 1 if it is not
 * (the peer's value is then invalid).  Prints nothing.
 */
int pcrypt_dh_check(const uint8_t pub[PCRYPT_DH_PUBLEN]);

/**
 * pcrypt_dh_compute(pub, priv, key):
 * Compute ${key} = ${pub}^${priv} mod p, in constant time with respect to
 * ${priv}.  ${pub} must have passed pcrypt_dh_check.
 */
int pcrypt_dh_compute(const uint8_t pub[PCRYPT_DH_PUBLEN],
    const uint8_t priv[PCRYPT_DH_PRIVLEN], uint8_t key[PCRYPT_DH_PUBLEN]);

/**
 * pcrypt_cleanse(buf, len):
 * Wipe ${len} bytes at ${buf} in a way the compiler cannot elide.
 */
void pcrypt_cleanse(void *buf, size_t len);

/**
 * pcrypt_memcmp(a, b, len):
 * Compare ${len} bytes in constant time; return 0 if equal, else nonzero.
 */
int pcrypt_memcmp(const void *a, const void *b, size_t len);

#endif /* !PCRYPT_H_ */
