/*
 * Unit tests for lib/s3's XML reading: ListObjectsV2 results (as radosgw
 * and AWS shape them) and error codes, with the malformed bodies that
 * must be refused rather than read as a short listing.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "s3/s3xml.h"

#include "unit.h"

struct seen {
	char keys[8][64];
	uint64_t sizes[8];
	int n;
	int stopat;
};

static int
cb(void *cookie, const char *key, uint64_t size)
{
	struct seen *s = cookie;

	if (s->n >= 8)
		return (-2);
	strncpy(s->keys[s->n], key, sizeof(s->keys[0]) - 1);
	s->sizes[s->n++] = size;
	return (s->n == s->stopat ? 7 : 0);
}

static int
parse(const char *xml, struct seen *s, char **next)
{

	memset(s, 0, sizeof(*s));
	return (s3_xml_list(xml, strlen(xml), cb, s, next));
}

#define HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>" \
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">" \
    "<Name>b</Name><Prefix>p/</Prefix><MaxKeys>2</MaxKeys>"
#define C(k, sz) "<Contents><Key>" k "</Key>" \
    "<LastModified>2026-11-27T17:00:00.000Z</LastModified>" \
    "<ETag>&quot;0123&quot;</ETag><Size>" sz "</Size>" \
    "<StorageClass>STANDARD</StorageClass><Owner><ID>u</ID>" \
    "<DisplayName>u</DisplayName></Owner></Contents>"

static void
test_full(void)
{
	struct seen s;
	char *next;

	CU_ASSERT(parse(HEAD "<IsTruncated>false</IsTruncated>"
	    C("p/a", "0") C("p/b&amp;c &lt;&#62;&#x41;", "4096")
	    "<KeyCount>2</KeyCount></ListBucketResult>", &s, &next) == 0);
	CU_ASSERT(next == NULL);
	CU_ASSERT(s.n == 2);
	CU_ASSERT_STRING_EQUAL(s.keys[0], "p/a");
	CU_ASSERT(s.sizes[0] == 0);
	CU_ASSERT_STRING_EQUAL(s.keys[1], "p/b&c <>A");
	CU_ASSERT(s.sizes[1] == 4096);
}

static void
test_truncated(void)
{
	struct seen s;
	char *next;

	CU_ASSERT(parse(HEAD "<IsTruncated>true</IsTruncated>"
	    C("p/a", "1") C("p/b", "2") "<NextContinuationToken>tok+/="
	    "</NextContinuationToken><KeyCount>2</KeyCount>"
	    "</ListBucketResult>", &s, &next) == 0);
	CU_ASSERT_FATAL(next != NULL);
	CU_ASSERT_STRING_EQUAL(next, "tok+/=");
	free(next);
	CU_ASSERT(s.n == 2);

	/* Truncated without a token: refused. */
	CU_ASSERT(parse(HEAD "<IsTruncated>true</IsTruncated>" C("p/a", "1")
	    "</ListBucketResult>", &s, &next) == -1);
	CU_ASSERT(next == NULL);
}

static void
test_empty(void)
{
	struct seen s;
	char *next;

	CU_ASSERT(parse(HEAD "<IsTruncated>false</IsTruncated>"
	    "<KeyCount>0</KeyCount></ListBucketResult>", &s, &next) == 0);
	CU_ASSERT(s.n == 0 && next == NULL);
}

static void
test_stop(void)
{
	struct seen s;
	char *next;

	memset(&s, 0, sizeof(s));
	s.stopat = 1;
	CU_ASSERT(s3_xml_list(HEAD "<IsTruncated>false</IsTruncated>"
	    C("p/a", "1") C("p/b", "2") "</ListBucketResult>",
	    strlen(HEAD "<IsTruncated>false</IsTruncated>"
	    C("p/a", "1") C("p/b", "2") "</ListBucketResult>"), cb, &s,
	    &next) == 7);
	CU_ASSERT(s.n == 1);
}

static void
test_malformed(void)
{
	static const char *const bad[] = {
		/* Not a listing, or cut short. */
		"<Error><Code>NoSuchBucket</Code></Error>",
		HEAD "<IsTruncated>false</IsTruncated>" C("p/a", "1"),
		/* IsTruncated missing, repeated or neither true nor false. */
		HEAD C("p/a", "1") "</ListBucketResult>",
		HEAD "<IsTruncated>false</IsTruncated><IsTruncated>false"
		    "</IsTruncated></ListBucketResult>",
		HEAD "<IsTruncated>yes</IsTruncated></ListBucketResult>",
		/* Entries without a key or size, or with bad ones. */
		HEAD "<IsTruncated>false</IsTruncated><Contents><Size>1"
		    "</Size></Contents></ListBucketResult>",
		HEAD "<IsTruncated>false</IsTruncated><Contents><Key>a</Key>"
		    "</Contents></ListBucketResult>",
		HEAD "<IsTruncated>false</IsTruncated>" C("p/a", "-1")
		    "</ListBucketResult>",
		HEAD "<IsTruncated>false</IsTruncated>" C("p/a", "")
		    "</ListBucketResult>",
		HEAD "<IsTruncated>false</IsTruncated>" C("p/a", "12x")
		    "</ListBucketResult>",
		HEAD "<IsTruncated>false</IsTruncated>" C("", "1")
		    "</ListBucketResult>",
		HEAD "<IsTruncated>false</IsTruncated>" C("a&bogus;", "1")
		    "</ListBucketResult>",
		HEAD "<IsTruncated>false</IsTruncated>" C("a&#0;", "1")
		    "</ListBucketResult>",
		HEAD "<IsTruncated>false</IsTruncated><Contents><Key>a</Key>"
		    "<Key>b</Key><Size>1</Size></Contents></ListBucketResult>",
		HEAD "<IsTruncated>false</IsTruncated><Contents><Key>a</Key>"
		    "<Size>1</Size></ListBucketResult>",
		/* KeyCount that does not match the entries. */
		HEAD "<IsTruncated>false</IsTruncated>" C("p/a", "1")
		    "<KeyCount>2</KeyCount></ListBucketResult>",
	};
	struct seen s;
	char *next;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], &s, &next) != -1)
			CU_FAIL("malformed listing accepted");
		CU_ASSERT(next == NULL);
	}
}

static void
test_errcode(void)
{
	const char *e = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error>"
	    "<Code>SignatureDoesNotMatch</Code><Message></Message></Error>";
	char code[64], small[5];

	s3_xml_errcode(e, strlen(e), code, sizeof(code));
	CU_ASSERT_STRING_EQUAL(code, "SignatureDoesNotMatch");
	s3_xml_errcode(e, strlen(e), small, sizeof(small));
	CU_ASSERT_STRING_EQUAL(small, "Sign");
	s3_xml_errcode("<html>busy</html>", 17, code, sizeof(code));
	CU_ASSERT_STRING_EQUAL(code, "");
	s3_xml_errcode("", 0, code, sizeof(code));
	CU_ASSERT_STRING_EQUAL(code, "");
}

UNIT_MAIN("s3xml",
    { "a whole listing", test_full },
    { "a truncated listing", test_truncated },
    { "an empty listing", test_empty },
    { "the callback stops it", test_stop },
    { "malformed listings", test_malformed },
    { "error codes", test_errcode })
