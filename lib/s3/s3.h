#ifndef S3_H_
#define S3_H_

/*
 * s3: a client for S3-compatible object stores (Amazon S3, Ceph's
 * radosgw, ...) over libcurl, for one bucket, with path-style URLs
 * (ENDPOINT/bucket/key) and AWS Signature V4 (s3sign.h).
 *
 * Requests are operations (struct s3_op) started on a handle and driven
 * to completion by s3_wait / s3_wait_all; up to a configured number run
 * at once over one libcurl multi handle, which keeps connections open
 * and reuses them.  An attempt that fails with HTTP 500, 502, 503 or 504,
 * a timeout or a connection error is retried after an exponential
 * backoff (first delay, doubling, capped at 2 s, with jitter) up to the
 * configured number of retries; other errors are final.
 *
 * Integrity: every PUT sends x-amz-content-sha256 (the body's SHA-256,
 * signed, checked by the server) and stores the same hash as the object's
 * x-amz-meta-sha256 metadata; a whole-object GET checks the body against
 * it, and a mismatch is an error (retried, as it may be the network),
 * never data.  A ranged GET cannot be checked against it: callers keep
 * their own checksums inside the ranges they read (kvlds pages carry a
 * CRC each).
 *
 * Threads: a handle and its operations belong to one thread at a time.
 *
 * Credentials file (--s3-credentials FILE): text lines
 *	AWS_ACCESS_KEY_ID=AKIA...
 *	AWS_SECRET_ACCESS_KEY=...
 * blank lines and lines starting with '#' are ignored; no spaces around
 * '='; any other line is an error.
 */

#include <stddef.h>
#include <stdint.h>

/* Operation results, besides -1 (failed; logged). */
#define S3_OK		0
#define S3_NOTFOUND	1	/* HTTP 404: no such object (or bucket). */
#define S3_PRECOND	2	/* HTTP 412: a PUT condition did not hold. */

/* Configuration of a handle; zero fields take the defaults shown. */
struct s3_conf {
	const char *endpoint;	/* "http://127.0.0.1:7480" (no path). */
	const char *region;	/* "us-east-1". */
	const char *bucket;	/* 3 to 63 characters. */
	const char *akid;	/* Access key id. */
	const char *secret;	/* Secret access key. */
	int maxinflight;	/* Requests at once: 8. */
	int retries;		/* Retries of one operation: 6. */
	long timeout_ms;	/* Limit of one attempt: 30000. */
	long backoff_ms;	/* First retry delay: 50. */
};

/* Counters of a handle. */
struct s3_stats {
	uint64_t requests;	/* HTTP attempts completed. */
	uint64_t retries;	/* Attempts that were retried. */
	uint64_t connects;	/* New connections opened. */
	uint64_t bytes_out;	/* Request bodies sent. */
	uint64_t bytes_in;	/* Response bodies received. */
};

struct s3;
struct s3_op;

/*
 * s3_creds_load(path, akid, secret):
 * Read a credentials file (format above); set *akid and *secret to
 * malloc'd strings (the caller wipes and frees the secret).  -1 on error
 * (logged: unreadable, malformed, a key missing).
 */
int s3_creds_load(const char *, char **, char **);

/*
 * s3_creds_env(akid, secret):
 * Like s3_creds_load, from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
 * -1 if either is unset or empty (logged).
 */
int s3_creds_env(char **, char **);

/*
 * s3_open(conf):
 * Return a handle for ${conf}'s bucket; the strings are copied.  Nothing
 * is sent yet.  NULL on error (logged: bad endpoint or bucket name,
 * missing credentials, libcurl failure).
 */
struct s3 *s3_open(const struct s3_conf *);

/*
 * s3_put_start(s3, key, buf, len, cond):
 * Start writing buf[0..len) as object ${key}.  ${buf} is borrowed until
 * the operation is done or freed.  ${cond} is NULL (unconditional), "*"
 * (If-None-Match: *, create only: S3_PRECOND if the object exists), or
 * an ETag as returned by s3_op_etag (If-Match: S3_PRECOND if the object
 * changed).  The ETag is sent as given, without quotes: radosgw 16.2
 * matches If-Match on PUT only against the unquoted form (a quoted one
 * always fails with 412).  NULL on error (logged).
 */
struct s3_op *s3_put_start(struct s3 *, const char *, const uint8_t *,
    size_t, const char *);

/*
 * s3_get_start(s3, key, off, len, buf):
 * Start reading object ${key}: if ${buf} is not NULL, the ${len} bytes
 * (len > 0) at offset ${off} into ${buf} with a ranged GET (fewer at the
 * end of the object; s3_op_len says how many); if ${buf} is NULL, the
 * whole object (${off} and ${len} ignored) into a buffer the operation
 * owns (s3_op_data), checked against its x-amz-meta-sha256 if it has
 * one.  NULL on error (logged).
 */
struct s3_op *s3_get_start(struct s3 *, const char *, uint64_t, size_t,
    uint8_t *);

/*
 * s3_get_tail_start(s3, key, len, buf):
 * Start reading the last ${len} bytes (len > 0) of object ${key} into
 * ${buf} with a suffix range (bytes=-len): all of it if the object is
 * shorter (s3_op_len says how many).  s3_op_objsize then gives the
 * object's size, so a reader can find a record at the end of an object
 * of unknown size in one request.  NULL on error (logged).
 */
struct s3_op *s3_get_tail_start(struct s3 *, const char *, size_t,
    uint8_t *);

/*
 * s3_delete_start(s3, key):
 * Start deleting object ${key} (S3 answers success for an absent one).
 * NULL on error (logged).
 */
struct s3_op *s3_delete_start(struct s3 *, const char *);

/*
 * s3_wait(s3, op):
 * Drive every started operation until ${op} is done (others progress
 * too) and return its result: S3_OK, S3_NOTFOUND, S3_PRECOND or -1
 * (logged once, after the retries).
 */
int s3_wait(struct s3 *, struct s3_op *);

/*
 * s3_wait_all(s3):
 * Drive every started operation to completion.  Return 0 if every one
 * of them ended S3_OK, else -1 (each result is in s3_op_result).
 */
int s3_wait_all(struct s3 *);

/* s3_op_result(op): the result of a done ${op} (as s3_wait returns). */
int s3_op_result(const struct s3_op *);

/* s3_op_len(op): the bytes a done GET received. */
size_t s3_op_len(const struct s3_op *);

/*
 * s3_op_data(op):
 * The body a done whole-object GET received (s3_op_len bytes), owned by
 * ${op}; NULL for other operations.
 */
const uint8_t *s3_op_data(const struct s3_op *);

/*
 * s3_op_objsize(op):
 * The size of the whole object a done GET read from (from Content-Range,
 * or Content-Length for a whole-object GET), or UINT64_MAX if the server
 * did not say.
 */
uint64_t s3_op_objsize(const struct s3_op *);

/*
 * s3_op_date(op):
 * The server's clock (its Date header, whole seconds since the epoch)
 * when it answered a done operation, or -1 if it sent none: a lease's
 * expiry is best judged on the store's clock, not on each host's.
 */
int64_t s3_op_date(const struct s3_op *);

/*
 * s3_op_etag(op):
 * The ETag of a done PUT or GET, without its surrounding quotes ("" if
 * none), owned by ${op}.
 */
const char *s3_op_etag(const struct s3_op *);

/*
 * s3_op_free(op):
 * Free ${op}, abandoning it if it is not done (its request is dropped).
 * NULL is a no-op.
 */
void s3_op_free(struct s3_op *);

/*
 * s3_put(s3, key, buf, len, cond), s3_get(s3, key, off, len, buf, got),
 * s3_delete(s3, key):
 * Start one operation, wait for it and free it; s3_get sets *got to the
 * bytes read.  Return as s3_wait.
 */
int s3_put(struct s3 *, const char *, const uint8_t *, size_t,
    const char *);
int s3_get(struct s3 *, const char *, uint64_t, size_t, uint8_t *,
    size_t *);
int s3_delete(struct s3 *, const char *);

/*
 * s3_get_all(s3, key, buf, len):
 * Read the whole object ${key} (checked as s3_get_start says) into a
 * malloc'd *buf of *len bytes, which the caller frees.  Return as s3_wait.
 */
int s3_get_all(struct s3 *, const char *, uint8_t **, size_t *);

/*
 * s3_list(s3, prefix, maxkeys, cb, cookie):
 * List the objects whose keys start with ${prefix}, in key order, with
 * ListObjectsV2 pages of at most ${maxkeys} keys (0: the server's
 * default, 1000), following continuation tokens: call ${cb}(${cookie},
 * key, size) for each (key valid during the call).  A non-zero return
 * from ${cb} stops the listing and is returned; else 0, or -1 on error
 * (logged, including a malformed listing).
 */
int s3_list(struct s3 *, const char *, int,
    int (*)(void *, const char *, uint64_t), void *);

/*
 * s3_list_after(s3, prefix, after, maxkeys, cb, cookie):
 * As s3_list, but only the keys that sort after ${after} (ListObjectsV2's
 * start-after; NULL lists from the start): recovery lists only the
 * objects newer than its commit pointer.
 */
int s3_list_after(struct s3 *, const char *, const char *, int,
    int (*)(void *, const char *, uint64_t), void *);

/*
 * s3_bucket_create(s3):
 * Create the handle's bucket; success too if this user already owns it.
 * -1 on error (logged).
 */
int s3_bucket_create(struct s3 *);

/* s3_get_stats(s3, st): copy the handle's counters into *${st}. */
void s3_get_stats(const struct s3 *, struct s3_stats *);

/*
 * s3_close(s3):
 * Close the connections, wipe the secret and free the handle.  Every
 * operation started on it must have been freed (s3_op_free) first.  NULL
 * is a no-op.
 */
void s3_close(struct s3 *);

#endif /* !S3_H_ */
