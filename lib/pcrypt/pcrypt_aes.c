/*
 * AES-256-CTR through EVP: the key schedule is expanded once per key and
 * each call only resets the counter block (EVP_EncryptInit_ex2 with a NULL
 * cipher and key keeps the schedule).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "log/log.h"
#include "pcrypt.h"

struct pcrypt_aesctr {
	EVP_CIPHER_CTX *ctx;
};

/* One fetched cipher for the whole process (provider lookups are slow). */
static EVP_CIPHER *aesctr_cipher;
static CRYPTO_ONCE aesctr_once = CRYPTO_ONCE_STATIC_INIT;

static void
aesctr_fetch(void)
{

	aesctr_cipher = EVP_CIPHER_fetch(NULL, "AES-256-CTR", NULL);
}

static void
pcrypt_warn(const char *what)
{

	warn0("%s failed", what);
}

/**
 * pcrypt_aesctr_new(key):
 * Expand the 32-byte AES-256 ${key} for CTR mode.
 */
struct pcrypt_aesctr *
pcrypt_aesctr_new(const uint8_t key[PCRYPT_AES_KEYLEN])
{
	struct pcrypt_aesctr *a;
	static const uint8_t zero[PCRYPT_AES_IVLEN];

	if (!CRYPTO_THREAD_run_once(&aesctr_once, aesctr_fetch) ||
	    aesctr_cipher == NULL) {
		pcrypt_warn("EVP_CIPHER_fetch(AES-256-CTR)");
		goto err0;
	}
	if ((a = malloc(sizeof(*a))) == NULL) {
		pcrypt_warn("malloc");
		goto err0;
	}
	if ((a->ctx = EVP_CIPHER_CTX_new()) == NULL) {
		pcrypt_warn("EVP_CIPHER_CTX_new");
		goto err1;
	}
	if (EVP_EncryptInit_ex2(a->ctx, aesctr_cipher, key, zero, NULL) != 1) {
		pcrypt_warn("EVP_EncryptInit_ex2");
		goto err2;
	}
	return (a);

err2:
	EVP_CIPHER_CTX_free(a->ctx);
err1:
	free(a);
err0:
	return (NULL);
}

/**
 * pcrypt_aesctr_crypt(a, iv, in, out, len):
 * XOR ${len} bytes of ${in} with the AES-256-CTR stream from ${iv}.
 */
int
pcrypt_aesctr_crypt(struct pcrypt_aesctr *a,
    const uint8_t iv[PCRYPT_AES_IVLEN], const uint8_t *in, uint8_t *out,
    size_t len)
{
	int outl;

	if (len > INT_MAX)
		goto err;
	if (EVP_EncryptInit_ex2(a->ctx, NULL, NULL, iv, NULL) != 1)
		goto err;
	if (EVP_EncryptUpdate(a->ctx, out, &outl, in, (int)len) != 1)
		goto err;
	return (0);

err:
	pcrypt_warn("AES-256-CTR");
	return (-1);
}

/**
 * pcrypt_aesctr_free(a):
 * Wipe and free ${a}.  No-op if NULL.
 */
void
pcrypt_aesctr_free(struct pcrypt_aesctr *a)
{

	if (a == NULL)
		return;
	/* EVP_CIPHER_CTX_free cleanses the key schedule. */
	EVP_CIPHER_CTX_free(a->ctx);
	free(a);
}

/**
 * pcrypt_rand(buf, len):
 * Fill ${buf} with ${len} random bytes.
 */
int
pcrypt_rand(void *buf, size_t len)
{

	if (len > INT_MAX || RAND_bytes(buf, (int)len) != 1) {
		pcrypt_warn("RAND_bytes");
		return (-1);
	}
	return (0);
}
