#ifndef S3SIGN_H_
#define S3SIGN_H_

/*
 * s3sign: AWS Signature Version 4 for S3 requests, as pure functions
 * (no network, no clock), so that they can be checked against AWS's
 * published examples.  HMAC-SHA256 and SHA-256 come from OpenSSL.
 *
 * The signing key is derived from the secret, the date, the region and
 * the service; the string to sign is "AWS4-HMAC-SHA256", the request
 * time, the credential scope and the SHA-256 of the canonical request.
 */

#include <stddef.h>

/* A request as signed.  Every string is NUL-terminated. */
struct s3_sign_req {
	const char *method;	/* "GET", "PUT", "DELETE", ... */
	const char *uri;	/* Path, already percent-encoded (s3_sign_uriencode). */
	const char *query;	/* Canonical query (pairs sorted, encoded) or "". */
	size_t nhdr;		/* Number of signed headers. */
	const char *const *hname;	/* Lower-case names, all distinct. */
	const char *const *hval;	/* Values, without surrounding spaces. */
	const char *payload;	/* Hex SHA-256 of the body, or "UNSIGNED-PAYLOAD". */
	const char *amzdate;	/* Request time, "YYYYMMDDTHHMMSSZ" (UTC). */
	const char *region;	/* e.g. "us-east-1". */
	const char *service;	/* "s3". */
	const char *akid;	/* Access key id. */
	const char *secret;	/* Secret access key. */
};

/* Room for a hex SHA-256 and its NUL. */
#define S3_SIGN_HEXLEN	65

/*
 * s3_sign_sha256hex(buf, len, hex):
 * Write the lower-case hex SHA-256 of buf[0..len) and a NUL into ${hex}
 * (S3_SIGN_HEXLEN bytes).  -1 on error (logged).
 */
int s3_sign_sha256hex(const void *, size_t, char *);

/*
 * s3_sign_uriencode(s, keepslash):
 * Return a malloc'd copy of ${s} with every byte other than A-Z a-z 0-9
 * '-' '.' '_' '~' (and '/' if ${keepslash}) written as %XX (upper-case
 * hex), as SigV4 wants for paths and query names and values.  The caller
 * frees it.  NULL on allocation failure (logged).
 */
char *s3_sign_uriencode(const char *, int);

/*
 * s3_sign_canonical(req):
 * Return the malloc'd canonical request of ${req}: method, URI, query,
 * the headers sorted by name ("name:value" lines), a blank line, the
 * signed header names joined by ';', and the payload hash, separated by
 * newlines.  The caller frees it.  NULL on error (logged: a header name
 * with an upper-case letter, allocation).
 */
char *s3_sign_canonical(const struct s3_sign_req *);

/*
 * s3_sign_v4(req, auth, authlen, sig):
 * Compute the SigV4 signature of ${req} and write the value of its
 * Authorization header ("AWS4-HMAC-SHA256 Credential=...,
 * SignedHeaders=...,Signature=...") into auth[0..authlen), and, if ${sig}
 * is not NULL, the hex signature alone into ${sig} (S3_SIGN_HEXLEN
 * bytes).  Intermediate keys are wiped.  -1 on error (logged: the header
 * does not fit, a bad date, a crypto failure).
 */
int s3_sign_v4(const struct s3_sign_req *, char *, size_t, char *);

#endif /* !S3SIGN_H_ */
