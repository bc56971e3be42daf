/*
 * s3sign: AWS Signature Version 4 (see s3sign.h).
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "log/log.h"

#include "s3sign.h"

/* A growable string. */
struct sbuf {
	char *s;
	size_t len;
	size_t cap;
	int err;
};

static void
sb_add(struct sbuf *b, const char *s, size_t n)
{
	char *ns;
	size_t ncap;

	if (b->err)
		return;
	if (b->len + n + 1 > b->cap) {
		ncap = b->cap ? b->cap : 256;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		if ((ns = realloc(b->s, ncap)) == NULL) {
			b->err = 1;
			return;
		}
		b->s = ns;
		b->cap = ncap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
sb_str(struct sbuf *b, const char *s)
{

	sb_add(b, s, strlen(s));
}

static void
hexenc(const uint8_t *in, size_t len, char *out)
{
	static const char hx[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hx[in[i] >> 4];
		out[2 * i + 1] = hx[in[i] & 15];
	}
	out[2 * len] = '\0';
}

/*
 * s3_sign_sha256hex(buf, len, hex):
 * Write the lower-case hex SHA-256 of buf[0..len) and a NUL into ${hex}
 * (S3_SIGN_HEXLEN bytes).  -1 on error (logged).
 */
int
s3_sign_sha256hex(const void * buf, size_t len, char * hex)
{
	uint8_t md[SHA256_DIGEST_LENGTH];

	if (SHA256(buf, len, md) == NULL) {
		warn0("s3: SHA256 failed");
		return (-1);
	}
	hexenc(md, sizeof(md), hex);
	return (0);
}

/*
 * s3_sign_uriencode(s, keepslash):
 * Return a malloc'd copy of ${s} percent-encoded for SigV4 (see s3sign.h).
 * NULL on allocation failure (logged).
 */
char *
s3_sign_uriencode(const char * s, int keepslash)
{
	static const char hx[] = "0123456789ABCDEF";
	const unsigned char *p;
	char *out, *o;

	if ((out = malloc(strlen(s) * 3 + 1)) == NULL) {
		warnp("s3: malloc");
		return (NULL);
	}
	for (p = (const unsigned char *)s, o = out; *p != '\0'; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_' || *p == '~' || (keepslash && *p == '/')) {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hx[*p >> 4];
			*o++ = hx[*p & 15];
		}
	}
	*o = '\0';
	return (out);
}

/* Header indices sorted by name (insertion sort: a handful of headers). */
static int
sorted_headers(const struct s3_sign_req *r, size_t *idx)
{
	const char *c;
	size_t i, j, t;

	for (i = 0; i < r->nhdr; i++) {
		for (c = r->hname[i]; *c != '\0'; c++) {
			if (*c >= 'A' && *c <= 'Z') {
				warn0("s3: header name not lower-case: %s",
				    r->hname[i]);
				return (-1);
			}
		}
		idx[i] = i;
	}
	for (i = 1; i < r->nhdr; i++) {
		for (j = i; j > 0 &&
		    strcmp(r->hname[idx[j - 1]], r->hname[idx[j]]) > 0; j--) {
			t = idx[j];
			idx[j] = idx[j - 1];
			idx[j - 1] = t;
		}
	}
	return (0);
}

/* Append the ';'-joined sorted header names. */
static void
signed_names(struct sbuf *b, const struct s3_sign_req *r, const size_t *idx)
{
	size_t i;

	for (i = 0; i < r->nhdr; i++) {
		if (i > 0)
			sb_str(b, ";");
		sb_str(b, r->hname[idx[i]]);
	}
}

/*
 * s3_sign_canonical(req):
 * Return the malloc'd canonical request of ${req} (see s3sign.h).  NULL
 * on error (logged).
 */
char *
s3_sign_canonical(const struct s3_sign_req * r)
{
	struct sbuf b = { NULL, 0, 0, 0 };
	size_t *idx;
	size_t i;

	if ((idx = malloc((r->nhdr + 1) * sizeof(size_t))) == NULL) {
		warnp("s3: malloc");
		goto err0;
	}
	if (sorted_headers(r, idx))
		goto err1;
	sb_str(&b, r->method);
	sb_str(&b, "\n");
	sb_str(&b, r->uri);
	sb_str(&b, "\n");
	sb_str(&b, r->query);
	sb_str(&b, "\n");
	for (i = 0; i < r->nhdr; i++) {
		sb_str(&b, r->hname[idx[i]]);
		sb_str(&b, ":");
		sb_str(&b, r->hval[idx[i]]);
		sb_str(&b, "\n");
	}
	sb_str(&b, "\n");
	signed_names(&b, r, idx);
	sb_str(&b, "\n");
	sb_str(&b, r->payload);
	if (b.err) {
		warnp("s3: malloc");
		goto err1;
	}
	free(idx);
	return (b.s);

err1:
	free(idx);
	free(b.s);
err0:
	return (NULL);
}

/* out = HMAC-SHA256(key, msg); -1 on failure. */
static int
hmac(const uint8_t *key, size_t klen, const char *msg, uint8_t *out)
{
	unsigned int olen = 0;

	if (HMAC(EVP_sha256(), key, (int)klen, (const uint8_t *)msg,
	    strlen(msg), out, &olen) == NULL || olen != 32) {
		warn0("s3: HMAC-SHA256 failed");
		return (-1);
	}
	return (0);
}

/*
 * s3_sign_v4(req, auth, authlen, sig):
 * Sign ${req}; write the Authorization header value into
 * auth[0..authlen) and the hex signature into ${sig} if not NULL.  -1 on
 * error (logged).
 */
int
s3_sign_v4(const struct s3_sign_req * r, char * auth, size_t authlen,
    char * sig)
{
	struct sbuf names = { NULL, 0, 0, 0 };
	char date[9], scope[256], crhash[S3_SIGN_HEXLEN];
	char hexsig[S3_SIGN_HEXLEN];
	char *cr, *sts = NULL, *k0 = NULL;
	uint8_t k[32], s[32];
	size_t *idx = NULL, slen;
	int n, rc = -1;

	if (strlen(r->amzdate) != 16 || r->amzdate[8] != 'T' ||
	    r->amzdate[15] != 'Z') {
		warn0("s3: bad request time: %s", r->amzdate);
		return (-1);
	}
	memcpy(date, r->amzdate, 8);
	date[8] = '\0';
	n = snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", date,
	    r->region, r->service);
	if (n < 0 || (size_t)n >= sizeof(scope)) {
		warn0("s3: region or service too long");
		return (-1);
	}

	/* Hash of the canonical request, then the string to sign. */
	if ((cr = s3_sign_canonical(r)) == NULL)
		return (-1);
	n = s3_sign_sha256hex(cr, strlen(cr), crhash);
	free(cr);
	if (n)
		return (-1);
	slen = strlen(r->amzdate) + strlen(scope) + strlen(crhash) + 32;
	if ((sts = malloc(slen)) == NULL) {
		warnp("s3: malloc");
		goto done;
	}
	snprintf(sts, slen, "AWS4-HMAC-SHA256\n%s\n%s\n%s", r->amzdate, scope,
	    crhash);

	/* Signing key: HMAC chain from "AWS4" + secret. */
	slen = strlen(r->secret) + 5;
	if ((k0 = malloc(slen)) == NULL) {
		warnp("s3: malloc");
		goto done;
	}
	snprintf(k0, slen, "AWS4%s", r->secret);
	if (hmac((const uint8_t *)k0, strlen(k0), date, k) ||
	    hmac(k, 32, r->region, k) || hmac(k, 32, r->service, k) ||
	    hmac(k, 32, "aws4_request", k) || hmac(k, 32, sts, s))
		goto done;
	hexenc(s, 32, hexsig);

	if ((idx = malloc((r->nhdr + 1) * sizeof(size_t))) == NULL) {
		warnp("s3: malloc");
		goto done;
	}
	if (sorted_headers(r, idx))
		goto done;
	signed_names(&names, r, idx);
	if (names.err) {
		warnp("s3: malloc");
		goto done;
	}
	n = snprintf(auth, authlen, "AWS4-HMAC-SHA256 Credential=%s/%s,"
	    "SignedHeaders=%s,Signature=%s", r->akid, scope,
	    names.s ? names.s : "", hexsig);
	if (n < 0 || (size_t)n >= authlen) {
		warn0("s3: Authorization header does not fit");
		goto done;
	}
	if (sig != NULL)
		memcpy(sig, hexsig, S3_SIGN_HEXLEN);
	rc = 0;

done:
	OPENSSL_cleanse(k, sizeof(k));
	if (k0 != NULL) {
		OPENSSL_cleanse(k0, strlen(k0));
		free(k0);
	}
	free(idx);
	free(names.s);
	free(sts);
	return (rc);
}
