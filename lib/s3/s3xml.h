#ifndef S3XML_H_
#define S3XML_H_

/*
 * s3xml: the little XML that lib/s3 reads from an S3 server, parsed
 * minimally and strictly: the ListObjectsV2 result and the error code of
 * an error body.  Anything that is not the expected shape is an error,
 * never a silently short listing.
 */

#include <stddef.h>
#include <stdint.h>

/*
 * s3_xml_list(body, len, cb, cookie, next):
 * Parse the ListBucketResult in body[0..len): call ${cb}(${cookie}, key,
 * size) for each <Contents> in order (key NUL-terminated and decoded,
 * valid only during the call); a non-zero return from ${cb} stops the
 * parse and is returned.  Set *${next} to a malloc'd copy of
 * NextContinuationToken if the result is truncated, else to NULL.
 * Returns 0, ${cb}'s non-zero value, or -1 on a malformed body (logged:
 * no ListBucketResult, an entry without exactly one Key and Size, a bad
 * size or entity, IsTruncated missing or not true/false, a truncated
 * result without a token, KeyCount different from the entries).
 */
int s3_xml_list(const char *, size_t,
    int (*)(void *, const char *, uint64_t), void *, char **);

/*
 * s3_xml_errcode(body, len, code, codelen):
 * Copy the text of the <Code> element of an S3 <Error> body into
 * code[0..codelen) (truncated, NUL-terminated); "" if there is none.
 */
void s3_xml_errcode(const char *, size_t, char *, size_t);

#endif /* !S3XML_H_ */
