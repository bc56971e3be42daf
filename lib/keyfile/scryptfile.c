/*
 * The scrypt(1) file format, in memory:
 *
 *	offset	size	field
 *	0	6	"scrypt"
 *	6	1	version, 0
 *	7	1	log2(N)
 *	8	4	r, big-endian
 *	12	4	p, big-endian
 *	16	32	salt
 *	48	16	first half of SHA256(bytes 0..47): header checksum
 *	64	32	HMAC-SHA256(key_hmac, bytes 0..63)
 *	96	X	data XOR AES-256-CTR(key_enc, counter from 0)
 *	96+X	32	HMAC-SHA256(key_hmac, bytes 0..95+X)
 *
 * with key_enc || key_hmac = scrypt(passphrase, salt, N, r, p, 64).  The
 * checks run cheapest first, and each failure names a different cause:
 * the checksum catches a damaged header before any scrypt, the header
 * HMAC a wrong passphrase, the final HMAC a damaged or cut body.
 */
#include <stdlib.h>
#include <string.h>

#include <libscrypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "sysendian/sysendian.h"

#include "keyfile.h"
#include "keyfile_priv.h"

static const uint8_t magic[6] = { 's', 'c', 'r', 'y', 'p', 't' };

/**
 * keyfile_strerror(err):
 * A static sentence describing ${err}, for messages.
 */
const char *
keyfile_strerror(enum keyfile_err err)
{

	switch (err) {
	case KEYFILE_OK:
		return ("no error");
	case KEYFILE_ENOTSCRYPT:
		return ("not in the scrypt format");
	case KEYFILE_EVERSION:
		return ("unsupported scrypt format version (only 0 is known)");
	case KEYFILE_ETRUNC:
		return ("truncated: too short to be a scrypt-encrypted file");
	case KEYFILE_EPARAMS:
		return ("corrupted header: invalid scrypt parameters");
	case KEYFILE_ECHECKSUM:
		return ("corrupted header: header checksum does not match");
	case KEYFILE_EPASS:
		return ("wrong passphrase (header HMAC does not match)");
	case KEYFILE_EBODY:
		return ("corrupted or truncated encrypted data "
		    "(final HMAC does not match)");
	case KEYFILE_EMEMLIMIT:
		return ("decrypting it needs more memory than allowed; "
		    "raise the limit with --max-memory");
	case KEYFILE_ETIMELIMIT:
		return ("decrypting it would take longer than allowed; "
		    "raise the limit with --max-time");
	case KEYFILE_ENOMEM:
		return ("out of memory");
	case KEYFILE_ECRYPTO:
		return ("scrypt or OpenSSL failed");
	}
	return ("unknown error");
}

/**
 * keyfile_scrypt_detect(buf, len):
 * Return 1 if the ${len} bytes at ${buf} start with "scrypt", else 0.
 */
int
keyfile_scrypt_detect(const uint8_t *buf, size_t len)
{

	return (len >= sizeof(magic) && memcmp(buf, magic, sizeof(magic)) ==
	    0);
}

/**
 * keyfile_scrypt_parse(buf, len, params):
 * Check the header of the scrypt-format file held in ${buf} (${len}
 * bytes): magic, version, length, header checksum and parameter ranges,
 * in that order; store the parameters in ${params} (if non-NULL).
 */
enum keyfile_err
keyfile_scrypt_parse(const uint8_t *buf, size_t len,
    struct keyfile_params *params)
{
	struct keyfile_params pr;
	uint8_t sum[32];

	if (!keyfile_scrypt_detect(buf, len))
		return (KEYFILE_ENOTSCRYPT);
	if (len < 7)
		return (KEYFILE_ETRUNC);
	if (buf[6] != 0)
		return (KEYFILE_EVERSION);
	if (len < KEYFILE_SCRYPT_OVERHEAD)
		return (KEYFILE_ETRUNC);
	pr.logN = buf[7];
	pr.r = be32dec(&buf[8]);
	pr.p = be32dec(&buf[12]);
	if (params != NULL)
		*params = pr;

	/*
	 * A damaged header should be reported as damage, not as invalid
	 * parameters, so the checksum comes before the range checks.
	 */
	if (SHA256(buf, 48, sum) == NULL)
		return (KEYFILE_ECRYPTO);
	if (CRYPTO_memcmp(sum, &buf[48], 16) != 0)
		return (KEYFILE_ECHECKSUM);
	if (pr.logN < 1 || pr.logN > 63 || pr.r == 0 || pr.p == 0 ||
	    (uint64_t)pr.r * pr.p >= ((uint64_t)1 << 30))
		return (KEYFILE_EPARAMS);
	return (KEYFILE_OK);
}

/**
 * keyfile_scrypt_check_limits(params, max_memory, max_time):
 * Return KEYFILE_EMEMLIMIT or KEYFILE_ETIMELIMIT if ${params} exceeds a
 * non-zero limit, else KEYFILE_OK (KEYFILE_ECRYPTO if the speed
 * measurement failed).
 */
enum keyfile_err
keyfile_scrypt_check_limits(const struct keyfile_params *params,
    uint64_t max_memory, double max_time)
{
	double t;

	if (max_memory != 0 && keyfile_params_memory(params) > max_memory)
		return (KEYFILE_EMEMLIMIT);
	if (max_time > 0) {
		if (keyfile_params_time(params, &t))
			return (KEYFILE_ECRYPTO);
		if (t > max_time)
			return (KEYFILE_ETIMELIMIT);
	}
	return (KEYFILE_OK);
}

/* dk = scrypt(pass, salt, params, 64 bytes). */
static enum keyfile_err
derive(const uint8_t *pass, size_t passlen, const uint8_t *salt,
    const struct keyfile_params *params, uint8_t dk[64])
{
	static const uint8_t empty[1] = { 0 };

	/*
	 * libscrypt hands the passphrase to HMAC; give it a valid pointer
	 * even for an empty passphrase.
	 */
	if (passlen == 0)
		pass = empty;
	if (libscrypt_scrypt(pass, passlen, salt, 32,
	    (uint64_t)1 << params->logN, params->r, params->p, dk, 64)) {
		OPENSSL_cleanse(dk, 64);
		return (KEYFILE_ECRYPTO);
	}
	return (KEYFILE_OK);
}

/* out = in XOR AES-256-CTR(key, counter from zero). */
static int
aes_ctr(const uint8_t key[32], const uint8_t *in, size_t len, uint8_t *out)
{
	static const uint8_t iv[16] = { 0 };
	EVP_CIPHER_CTX *ctx;
	int outl, ok;
	size_t done, chunk;

	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return (-1);
	ok = EVP_EncryptInit_ex(ctx, EVP_aes_256_ctr(), NULL, key, iv);
	for (done = 0; ok && done < len; done += chunk) {
		chunk = len - done > (1 << 30) ? (1 << 30) : len - done;
		ok = EVP_EncryptUpdate(ctx, out + done, &outl,
		    in + done, (int)chunk);
	}
	EVP_CIPHER_CTX_free(ctx);
	return (ok ? 0 : -1);
}

/* mac = HMAC-SHA256(key, buf[0 .. len - 1]). */
static int
hmac(const uint8_t key[32], const uint8_t *buf, size_t len, uint8_t mac[32])
{
	unsigned int maclen;

	if (HMAC(EVP_sha256(), key, 32, buf, len, mac, &maclen) == NULL ||
	    maclen != 32)
		return (-1);
	return (0);
}

/**
 * keyfile_scrypt_decrypt(buf, len, pass, passlen, max_memory, max_time,
 *     out, outlen):
 * Decrypt the scrypt-format file in ${buf} with the passphrase ${pass};
 * on KEYFILE_OK *${out} is keyfile_secmem_alloc'd, *${outlen} bytes.
 */
enum keyfile_err
keyfile_scrypt_decrypt(const uint8_t *buf, size_t len, const uint8_t *pass,
    size_t passlen, uint64_t max_memory, double max_time, uint8_t **out,
    size_t *outlen)
{
	struct keyfile_params params;
	enum keyfile_err err;
	uint8_t *dk, mac[32];
	uint8_t *plain;
	size_t datalen;

	if ((err = keyfile_scrypt_parse(buf, len, &params)) != KEYFILE_OK)
		return (err);
	if ((err = keyfile_scrypt_check_limits(&params, max_memory,
	    max_time)) != KEYFILE_OK)
		return (err);
	if ((dk = keyfile_secmem_alloc(64)) == NULL)
		return (KEYFILE_ENOMEM);
	if ((err = derive(pass, passlen, &buf[16], &params, dk)) != KEYFILE_OK)
		goto err1;

	/* dk[0..31] is the AES key, dk[32..63] the HMAC key. */
	err = KEYFILE_ECRYPTO;
	if (hmac(&dk[32], buf, 64, mac))
		goto err1;
	if (CRYPTO_memcmp(mac, &buf[64], 32) != 0) {
		err = KEYFILE_EPASS;
		goto err1;
	}
	if (hmac(&dk[32], buf, len - 32, mac))
		goto err1;
	if (CRYPTO_memcmp(mac, &buf[len - 32], 32) != 0) {
		err = KEYFILE_EBODY;
		goto err1;
	}
	datalen = len - KEYFILE_SCRYPT_OVERHEAD;
	if ((plain = keyfile_secmem_alloc(datalen)) == NULL) {
		err = KEYFILE_ENOMEM;
		goto err1;
	}
	if (aes_ctr(dk, &buf[KEYFILE_SCRYPT_HDRLEN], datalen, plain)) {
		keyfile_secmem_free(plain);
		goto err1;
	}
	keyfile_secmem_free(dk);
	*out = plain;
	*outlen = datalen;
	return (KEYFILE_OK);

err1:
	keyfile_secmem_free(dk);
	return (err);
}

/**
 * keyfile_scrypt_encrypt_salt(in, inlen, pass, passlen, params, salt,
 *     out, outlen):
 * As keyfile_scrypt_encrypt, with the given 32-byte ${salt}.
 */
enum keyfile_err
keyfile_scrypt_encrypt_salt(const uint8_t *in, size_t inlen,
    const uint8_t *pass, size_t passlen, const struct keyfile_params *params,
    const uint8_t salt[32], uint8_t **out, size_t *outlen)
{
	enum keyfile_err err;
	uint8_t *dk, *f, sum[32];
	size_t flen;

	if (params->logN < 1 || params->logN > 63 || params->r == 0 ||
	    params->p == 0 ||
	    (uint64_t)params->r * params->p >= ((uint64_t)1 << 30))
		return (KEYFILE_EPARAMS);
	if (inlen > SIZE_MAX - KEYFILE_SCRYPT_OVERHEAD)
		return (KEYFILE_ENOMEM);
	flen = inlen + KEYFILE_SCRYPT_OVERHEAD;
	if ((f = malloc(flen)) == NULL)
		return (KEYFILE_ENOMEM);
	if ((dk = keyfile_secmem_alloc(64)) == NULL) {
		err = KEYFILE_ENOMEM;
		goto err1;
	}

	memcpy(f, magic, 6);
	f[6] = 0;
	f[7] = (uint8_t)params->logN;
	be32enc(&f[8], params->r);
	be32enc(&f[12], params->p);
	memcpy(&f[16], salt, 32);
	err = KEYFILE_ECRYPTO;
	if (SHA256(f, 48, sum) == NULL)
		goto err2;
	memcpy(&f[48], sum, 16);
	if ((err = derive(pass, passlen, salt, params, dk)) != KEYFILE_OK)
		goto err2;
	err = KEYFILE_ECRYPTO;
	if (hmac(&dk[32], f, 64, &f[64]))
		goto err2;
	if (aes_ctr(dk, in, inlen, &f[KEYFILE_SCRYPT_HDRLEN]))
		goto err2;
	if (hmac(&dk[32], f, flen - 32, &f[flen - 32]))
		goto err2;
	keyfile_secmem_free(dk);
	*out = f;
	*outlen = flen;
	return (KEYFILE_OK);

err2:
	keyfile_secmem_free(dk);
err1:
	OPENSSL_cleanse(f, flen);
	free(f);
	return (err);
}

/**
 * keyfile_scrypt_encrypt(in, inlen, pass, passlen, params, out, outlen):
 * Encrypt ${in} under ${pass} with cost ${params} and a fresh random
 * salt; *${out} is malloc'd, *${outlen} = ${inlen} + 128 bytes.
 */
enum keyfile_err
keyfile_scrypt_encrypt(const uint8_t *in, size_t inlen, const uint8_t *pass,
    size_t passlen, const struct keyfile_params *params, uint8_t **out,
    size_t *outlen)
{
	uint8_t salt[32];

	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return (KEYFILE_ECRYPTO);
	return (keyfile_scrypt_encrypt_salt(in, inlen, pass, passlen, params,
	    salt, out, outlen));
}
