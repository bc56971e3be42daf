/*
 * Unit tests for lib/s3's SigV4 signer, against the worked examples of
 * AWS's "Signature Calculations for the Authorization Header" page for
 * S3 (bucket examplebucket, 2013-05-24, us-east-1), copied here.
 */

#include <stdlib.h>
#include <string.h>

#include "s3/s3sign.h"

#include "unit.h"

#define AKID	"AKIAIOSFODNN7EXAMPLE"
#define SECRET	"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define EMPTY	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define HOST	"examplebucket.s3.amazonaws.com"

/* Example "GET Object": the first 10 bytes of test.txt. */
static void
test_get_object(void)
{
	/* Unsorted on purpose: the signer sorts. */
	static const char *const hn[] = { "x-amz-date", "range", "host",
	    "x-amz-content-sha256" };
	static const char *const hv[] = { "20130524T000000Z", "bytes=0-9",
	    HOST, EMPTY };
	const struct s3_sign_req r = { "GET", "/test.txt", "", 4, hn, hv,
	    EMPTY, "20130524T000000Z", "us-east-1", "s3", AKID, SECRET };
	char auth[512], sig[S3_SIGN_HEXLEN], h[S3_SIGN_HEXLEN];
	char *cr;

	cr = s3_sign_canonical(&r);
	CU_ASSERT_FATAL(cr != NULL);
	CU_ASSERT_STRING_EQUAL(cr, "GET\n/test.txt\n\n"
	    "host:" HOST "\nrange:bytes=0-9\n"
	    "x-amz-content-sha256:" EMPTY "\n"
	    "x-amz-date:20130524T000000Z\n\n"
	    "host;range;x-amz-content-sha256;x-amz-date\n" EMPTY);
	CU_ASSERT(s3_sign_sha256hex(cr, strlen(cr), h) == 0);
	CU_ASSERT_STRING_EQUAL(h, "7344ae5b7ee6c3e7e6b0fe0640412a37"
	    "625d1fbfff95c48bbb2dc43964946972");
	free(cr);

	CU_ASSERT_FATAL(s3_sign_v4(&r, auth, sizeof(auth), sig) == 0);
	CU_ASSERT_STRING_EQUAL(sig, "f0e8bdb87c964420e857bd35b5d6ed31"
	    "0bd44f0170aba48dd91039c6036bdb41");
	CU_ASSERT_STRING_EQUAL(auth, "AWS4-HMAC-SHA256 Credential="
	    AKID "/20130524/us-east-1/s3/aws4_request,"
	    "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
	    "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");

	/* Too small an output buffer is an error, not a truncation. */
	CU_ASSERT(s3_sign_v4(&r, auth, 100, NULL) == -1);
}

/* Example "GET Bucket (List Objects)": max-keys=2, prefix=J. */
static void
test_list(void)
{
	static const char *const hn[] = { "host", "x-amz-content-sha256",
	    "x-amz-date" };
	static const char *const hv[] = { HOST, EMPTY, "20130524T000000Z" };
	const struct s3_sign_req r = { "GET", "/", "max-keys=2&prefix=J", 3,
	    hn, hv, EMPTY, "20130524T000000Z", "us-east-1", "s3", AKID,
	    SECRET };
	char auth[512], sig[S3_SIGN_HEXLEN];

	CU_ASSERT_FATAL(s3_sign_v4(&r, auth, sizeof(auth), sig) == 0);
	CU_ASSERT_STRING_EQUAL(sig, "34b48302e7b5fa45bde8084f4b7868a8"
	    "6f0a534bc59db6670ed5711ef69dc6f7");
}

/* A changed secret or header changes the signature. */
static void
test_sensitivity(void)
{
	static const char *const hn[] = { "host", "x-amz-content-sha256",
	    "x-amz-date" };
	static const char *const hv[] = { HOST, EMPTY, "20130524T000000Z" };
	struct s3_sign_req r = { "GET", "/", "max-keys=2&prefix=J", 3,
	    hn, hv, EMPTY, "20130524T000000Z", "us-east-1", "s3", AKID,
	    SECRET };
	static const char *const bad[] = { "Host" };
	char auth[512], a[S3_SIGN_HEXLEN], b[S3_SIGN_HEXLEN];

	CU_ASSERT(s3_sign_v4(&r, auth, sizeof(auth), a) == 0);
	r.secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEz";
	CU_ASSERT(s3_sign_v4(&r, auth, sizeof(auth), b) == 0);
	CU_ASSERT(strcmp(a, b) != 0);
	r.secret = SECRET;
	r.region = "eu-west-1";
	CU_ASSERT(s3_sign_v4(&r, auth, sizeof(auth), b) == 0);
	CU_ASSERT(strcmp(a, b) != 0);
	r.region = "us-east-1";
	r.amzdate = "20130524 000000Z";
	CU_ASSERT(s3_sign_v4(&r, auth, sizeof(auth), b) == -1);
	r.amzdate = "20130524T000000Z";
	r.nhdr = 1;
	r.hname = bad;
	CU_ASSERT(s3_sign_v4(&r, auth, sizeof(auth), b) == -1);
}

static void
test_uriencode(void)
{
	char *s;

	s = s3_sign_uriencode("a/b c~d_e.f-g+h=i&j%", 1);
	CU_ASSERT_STRING_EQUAL(s, "a/b%20c~d_e.f-g%2Bh%3Di%26j%25");
	free(s);
	s = s3_sign_uriencode("a/b\xc3\xa9", 0);
	CU_ASSERT_STRING_EQUAL(s, "a%2Fb%C3%A9");
	free(s);
}

static void
test_sha256(void)
{
	char h[S3_SIGN_HEXLEN];

	CU_ASSERT(s3_sign_sha256hex("", 0, h) == 0);
	CU_ASSERT_STRING_EQUAL(h, EMPTY);
	CU_ASSERT(s3_sign_sha256hex("abc", 3, h) == 0);
	CU_ASSERT_STRING_EQUAL(h, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
}

UNIT_MAIN("s3sign",
    { "GET object example", test_get_object },
    { "list example", test_list },
    { "inputs change the signature", test_sensitivity },
    { "uri encoding", test_uriencode },
    { "sha256", test_sha256 })
