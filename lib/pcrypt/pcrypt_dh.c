/*
 * Diffie-Hellman in the 2048-bit MODP group 14 (RFC 3526), generator 2.
 *
 * The prime and its Montgomery context are built once per process; each
 * exponentiation is a single BN_mod_exp_mont_consttime (constant time in
 * the secret exponent) over that shared context.
 */
#include <errno.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>

#include "log/log.h"
#include "pcrypt.h"

static BIGNUM *dh_p;
static BN_MONT_CTX *dh_mont;
static int dh_ok;
static CRYPTO_ONCE dh_once = CRYPTO_ONCE_STATIC_INIT;

static void
pcrypt_warn(const char *what)
{

	warn0("%s failed", what);
}

static void
dh_setup(void)
{
	BN_CTX *ctx;

	if ((ctx = BN_CTX_new()) == NULL)
		return;
	if ((dh_p = BN_get_rfc3526_prime_2048(NULL)) == NULL)
		goto done;
	if ((dh_mont = BN_MONT_CTX_new()) == NULL)
		goto done;
	if (BN_MONT_CTX_set(dh_mont, dh_p, ctx) != 1)
		goto done;
	dh_ok = 1;
done:
	BN_CTX_free(ctx);
}

/**
 * pcrypt_dh_init(void):
 * Prepare the group 14 prime and its Montgomery context.
 */
int
pcrypt_dh_init(void)
{

	if (!CRYPTO_THREAD_run_once(&dh_once, dh_setup) || !dh_ok) {
		pcrypt_warn("DH group setup");
		return (-1);
	}
	return (0);
}

/* r = base^priv mod p, written as PCRYPT_DH_PUBLEN big-endian bytes. */
static int
dh_modexp(const BIGNUM *base, const uint8_t priv[PCRYPT_DH_PRIVLEN],
    uint8_t out[PCRYPT_DH_PUBLEN])
{
	BN_CTX *ctx;
	BIGNUM *x = NULL, *r;
	int rc = -1;

	if ((ctx = BN_CTX_secure_new()) == NULL)
		goto err0;
	BN_CTX_start(ctx);
	x = BN_CTX_get(ctx);
	r = BN_CTX_get(ctx);
	if (r == NULL)
		goto err1;
	if (BN_bin2bn(priv, PCRYPT_DH_PRIVLEN, x) == NULL)
		goto err1;
	BN_set_flags(x, BN_FLG_CONSTTIME);
	if (BN_mod_exp_mont_consttime(r, base, x, dh_p, ctx, dh_mont) != 1)
		goto err1;
	if (BN_bn2binpad(r, out, PCRYPT_DH_PUBLEN) != PCRYPT_DH_PUBLEN)
		goto err1;
	rc = 0;

err1:
	/* BN_CTX_free clears the BIGNUMs of a secure context. */
	if (x != NULL)
		BN_clear(x);
	BN_CTX_end(ctx);
	BN_CTX_free(ctx);
err0:
	if (rc)
		pcrypt_warn("DH modular exponentiation");
	return (rc);
}

/**
 * pcrypt_dh_pub(priv, pub):
 * Compute ${pub} = 2^${priv} mod p.
 */
int
pcrypt_dh_pub(const uint8_t priv[PCRYPT_DH_PRIVLEN],
    uint8_t pub[PCRYPT_DH_PUBLEN])
{
	BIGNUM *two;
	int rc;

	if (pcrypt_dh_init())
		return (-1);
	if ((two = BN_new()) == NULL || BN_set_word(two, 2) != 1) {
		BN_free(two);
		pcrypt_warn("BN_set_word");
		return (-1);
	}
	rc = dh_modexp(two, priv, pub);
	BN_free(two);
	return (rc);
}

/**
 * pcrypt_dh_generate(priv, pub):
 * Pick a random ${priv} and compute ${pub} = 2^${priv} mod p.
 */
int
pcrypt_dh_generate(uint8_t priv[PCRYPT_DH_PRIVLEN],
    uint8_t pub[PCRYPT_DH_PUBLEN])
{

	if (pcrypt_rand(priv, PCRYPT_DH_PRIVLEN))
		return (-1);
	return (pcrypt_dh_pub(priv, pub));
}

/**
 * pcrypt_dh_check(pub):
 * Return 0 if ${pub} < p, 1 otherwise.
 */
int
pcrypt_dh_check(const uint8_t pub[PCRYPT_DH_PUBLEN])
{
	uint8_t pb[PCRYPT_DH_PUBLEN];

	/* Compare big-endian byte strings of equal length. */
	if (pcrypt_dh_init())
		return (1);
	if (BN_bn2binpad(dh_p, pb, sizeof(pb)) != (int)sizeof(pb))
		return (1);
	return (memcmp(pub, pb, PCRYPT_DH_PUBLEN) < 0 ? 0 : 1);
}

/**
 * pcrypt_dh_compute(pub, priv, key):
 * Compute ${key} = ${pub}^${priv} mod p.
 */
int
pcrypt_dh_compute(const uint8_t pub[PCRYPT_DH_PUBLEN],
    const uint8_t priv[PCRYPT_DH_PRIVLEN], uint8_t key[PCRYPT_DH_PUBLEN])
{
	BIGNUM *y;
	int rc;

	if (pcrypt_dh_init())
		return (-1);
	if ((y = BN_bin2bn(pub, PCRYPT_DH_PUBLEN, NULL)) == NULL) {
		pcrypt_warn("BN_bin2bn");
		return (-1);
	}
	rc = dh_modexp(y, priv, key);
	BN_free(y);
	return (rc);
}
