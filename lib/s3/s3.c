/*
 * s3: an S3 client over libcurl (see s3.h).
 *
 * An operation goes through these states:
 *
 *	QUEUED --(a slot is free)--> RUNNING --(2xx/404/412/final error)--> DONE
 *	RUNNING --(500/502/503/504, timeout, connection error, bad checksum;
 *	    retries left)--> WAITING --(its backoff has passed)--> RUNNING
 *
 * Each attempt is signed afresh (the request time is part of the
 * signature) on the operation's own easy handle, reset between attempts;
 * connections live in the multi handle's pool and outlast the easy
 * handles, so consecutive requests reuse them.
 */

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "log/log.h"

#include "s3.h"
#include "s3sign.h"
#include "s3xml.h"

#define MAXBACKOFF_MS	2000

enum opstate { QUEUED, RUNNING, WAITING, DONE };
enum optype { OP_PUT, OP_GET, OP_DELETE, OP_LIST, OP_MKBUCKET };

struct s3 {
	char *endpoint;		/* "http://host:port" */
	char *host;		/* "host:port", as signed */
	char *region;
	char *bucket;
	char *akid;
	char *secret;
	int maxinflight;
	int retries;
	long timeout_ms;
	long backoff_ms;
	CURLM *multi;
	struct s3_op *ops;	/* Every operation not freed. */
	int running;		/* Operations in RUNNING. */
	struct s3_stats st;
};

struct s3_op {
	struct s3 *s3;
	struct s3_op *next, *prev;
	enum optype type;
	enum opstate state;
	int result;
	int attempts;
	uint64_t retry_at;	/* Monotonic ms, in WAITING. */
	char *key;		/* Object key (NULL for bucket/list ops). */
	char *query;		/* Canonical query string, or "". */
	CURL *easy;
	struct curl_slist *hdrs;
	char errbuf[CURL_ERROR_SIZE];

	/* PUT body. */
	const uint8_t *in;
	size_t inlen;
	size_t inpos;
	char insha[S3_SIGN_HEXLEN];
	char *cond;

	/* GET range into a caller's buffer, or a growing body of our own. */
	uint64_t off;
	uint8_t *out;
	size_t outcap;
	size_t outlen;
	int ownbuf;
	int tail;		/* Range is the last outcap bytes. */
	int overflow;

	/* The start of an error response's body. */
	char errbody[2048];
	size_t errlen;

	/* From the response headers. */
	char etag[128];
	char metasha[S3_SIGN_HEXLEN];
	uint64_t objsize;	/* From Content-Range or Content-Length. */
	int64_t date;		/* The server's Date, or -1. */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void
curl_init(void)
{

	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/* Read KEY=VALUE credentials from an open stream. */
static int
creds_parse(FILE *f, const char *path, char **akid, char **secret)
{
	char line[1024];
	char **dst;
	char *v;
	size_t n;
	int lineno = 0;

	*akid = *secret = NULL;
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		n = strlen(line);
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		else if (!feof(f)) {
			warn0("%s:%d: line too long", path, lineno);
			goto err;
		}
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		if (strncmp(line, "AWS_ACCESS_KEY_ID=", 18) == 0) {
			dst = akid;
			v = line + 18;
		} else if (strncmp(line, "AWS_SECRET_ACCESS_KEY=", 22) == 0) {
			dst = secret;
			v = line + 22;
		} else {
			warn0("%s:%d: not AWS_ACCESS_KEY_ID= or "
			    "AWS_SECRET_ACCESS_KEY=", path, lineno);
			goto err;
		}
		if (*dst != NULL || *v == '\0') {
			warn0("%s:%d: repeated or empty", path, lineno);
			goto err;
		}
		if ((*dst = strdup(v)) == NULL) {
			warnp("strdup");
			goto err;
		}
	}
	OPENSSL_cleanse(line, sizeof(line));
	if (ferror(f)) {
		warnp("%s", path);
		goto err0;
	}
	if (*akid == NULL || *secret == NULL) {
		warn0("%s: AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY missing",
		    path);
		goto err0;
	}
	return (0);

err:
	OPENSSL_cleanse(line, sizeof(line));
err0:
	free(*akid);
	if (*secret != NULL) {
		OPENSSL_cleanse(*secret, strlen(*secret));
		free(*secret);
	}
	*akid = *secret = NULL;
	return (-1);
}

/*
 * s3_creds_load(path, akid, secret):
 * Read a credentials file into malloc'd *akid and *secret.  -1 on error
 * (logged).
 */
int
s3_creds_load(const char * path, char ** akid, char ** secret)
{
	FILE *f;
	int rc;

	if ((f = fopen(path, "r")) == NULL) {
		warnp("%s", path);
		return (-1);
	}
	rc = creds_parse(f, path, akid, secret);
	fclose(f);
	return (rc);
}

/*
 * s3_creds_env(akid, secret):
 * Take the credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
 * -1 if either is unset or empty (logged).
 */
int
s3_creds_env(char ** akid, char ** secret)
{
	const char *a = getenv("AWS_ACCESS_KEY_ID");
	const char *s = getenv("AWS_SECRET_ACCESS_KEY");

	*akid = *secret = NULL;
	if (a == NULL || *a == '\0' || s == NULL || *s == '\0') {
		warn0("s3: AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY unset");
		return (-1);
	}
	if ((*akid = strdup(a)) == NULL || (*secret = strdup(s)) == NULL) {
		warnp("strdup");
		free(*akid);
		*akid = NULL;
		return (-1);
	}
	return (0);
}

/* Bucket names: 3-63 of a-z 0-9 . -, starting and ending alphanumeric. */
static int
bucket_ok(const char *b)
{
	size_t i, n = strlen(b);

	if (n < 3 || n > 63)
		return (0);
	for (i = 0; i < n; i++) {
		if (!((b[i] >= 'a' && b[i] <= 'z') ||
		    (b[i] >= '0' && b[i] <= '9') || b[i] == '.' || b[i] == '-'))
			return (0);
	}
	return (b[0] != '.' && b[0] != '-' && b[n - 1] != '.' &&
	    b[n - 1] != '-');
}

/*
 * s3_open(conf):
 * Return a handle for ${conf}'s bucket.  NULL on error (logged).
 */
struct s3 *
s3_open(const struct s3_conf * conf)
{
	struct s3 *s3;
	const char *h, *slash;

	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK) {
		warn0("s3: curl_global_init: %s",
		    curl_easy_strerror(curl_init_rc));
		goto err0;
	}
	if (conf->endpoint == NULL || conf->bucket == NULL ||
	    conf->akid == NULL || conf->secret == NULL) {
		warn0("s3: endpoint, bucket and credentials are needed");
		goto err0;
	}
	if (strncmp(conf->endpoint, "http://", 7) == 0)
		h = conf->endpoint + 7;
	else if (strncmp(conf->endpoint, "https://", 8) == 0)
		h = conf->endpoint + 8;
	else {
		warn0("s3: endpoint is not http:// or https://: %s",
		    conf->endpoint);
		goto err0;
	}
	slash = strchr(h, '/');
	if (*h == '\0' || (slash != NULL && slash[1] != '\0')) {
		warn0("s3: endpoint must be scheme://host[:port]: %s",
		    conf->endpoint);
		goto err0;
	}
	if (!bucket_ok(conf->bucket)) {
		warn0("s3: bad bucket name: %s", conf->bucket);
		goto err0;
	}

	if ((s3 = calloc(1, sizeof(*s3))) == NULL) {
		warnp("calloc");
		goto err0;
	}
	s3->endpoint = strndup(conf->endpoint, slash != NULL ?
	    (size_t)(slash - conf->endpoint) : strlen(conf->endpoint));
	s3->host = strndup(h, slash != NULL ? (size_t)(slash - h) : strlen(h));
	s3->region = strdup(conf->region ? conf->region : "us-east-1");
	s3->bucket = strdup(conf->bucket);
	s3->akid = strdup(conf->akid);
	s3->secret = strdup(conf->secret);
	if (s3->endpoint == NULL || s3->host == NULL || s3->region == NULL ||
	    s3->bucket == NULL || s3->akid == NULL || s3->secret == NULL) {
		warnp("strdup");
		goto err1;
	}
	s3->maxinflight = conf->maxinflight > 0 ? conf->maxinflight : 8;
	s3->retries = conf->retries > 0 ? conf->retries : 6;
	s3->timeout_ms = conf->timeout_ms > 0 ? conf->timeout_ms : 30000;
	s3->backoff_ms = conf->backoff_ms > 0 ? conf->backoff_ms : 50;
	if ((s3->multi = curl_multi_init()) == NULL) {
		warn0("s3: curl_multi_init failed");
		goto err1;
	}
	curl_multi_setopt(s3->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
	    (long)s3->maxinflight);
	curl_multi_setopt(s3->multi, CURLMOPT_MAXCONNECTS,
	    (long)s3->maxinflight);
	return (s3);

err1:
	s3_close(s3);
err0:
	return (NULL);
}

/* Allocate an operation and queue it. */
static struct s3_op *
op_new(struct s3 *s3, enum optype type, const char *key)
{
	struct s3_op *op;

	if ((op = calloc(1, sizeof(*op))) == NULL) {
		warnp("calloc");
		return (NULL);
	}
	op->s3 = s3;
	op->type = type;
	op->state = QUEUED;
	if (key != NULL && (op->key = strdup(key)) == NULL) {
		warnp("strdup");
		free(op);
		return (NULL);
	}
	if (key != NULL && *key == '\0') {
		warn0("s3: empty object key");
		free(op->key);
		free(op);
		return (NULL);
	}
	op->next = s3->ops;
	if (s3->ops != NULL)
		s3->ops->prev = op;
	s3->ops = op;
	return (op);
}

/*
 * s3_put_start(s3, key, buf, len, cond):
 * Start writing buf[0..len) as ${key}, under ${cond} (NULL, "*" or an
 * ETag).  NULL on error (logged).
 */
struct s3_op *
s3_put_start(struct s3 * s3, const char * key, const uint8_t * buf,
    size_t len, const char * cond)
{
	struct s3_op *op;

	if ((op = op_new(s3, OP_PUT, key)) == NULL)
		return (NULL);
	op->in = buf;
	op->inlen = len;
	if (s3_sign_sha256hex(buf, len, op->insha) ||
	    (cond != NULL && (op->cond = strdup(cond)) == NULL)) {
		s3_op_free(op);
		return (NULL);
	}
	return (op);
}

/*
 * s3_get_start(s3, key, off, len, buf):
 * Start reading ${len} bytes at ${off} of ${key} into ${buf}, or the
 * whole object if ${buf} is NULL.  NULL on error (logged).
 */
struct s3_op *
s3_get_start(struct s3 * s3, const char * key, uint64_t off, size_t len,
    uint8_t * buf)
{
	struct s3_op *op;

	if (buf != NULL && len == 0) {
		warn0("s3: empty range");
		return (NULL);
	}
	if ((op = op_new(s3, OP_GET, key)) == NULL)
		return (NULL);
	if (buf != NULL) {
		op->off = off;
		op->out = buf;
		op->outcap = len;
	} else
		op->ownbuf = 1;
	return (op);
}

/*
 * s3_get_tail_start(s3, key, len, buf):
 * Start reading the last ${len} bytes of ${key} into ${buf}.  NULL on
 * error (logged).
 */
struct s3_op *
s3_get_tail_start(struct s3 * s3, const char * key, size_t len,
    uint8_t * buf)
{
	struct s3_op *op;

	if ((op = s3_get_start(s3, key, 0, len, buf)) != NULL)
		op->tail = 1;
	return (op);
}

/*
 * s3_delete_start(s3, key):
 * Start deleting ${key}.  NULL on error (logged).
 */
struct s3_op *
s3_delete_start(struct s3 * s3, const char * key)
{

	return (op_new(s3, OP_DELETE, key));
}

static size_t
read_cb(char *buf, size_t size, size_t n, void *cookie)
{
	struct s3_op *op = cookie;
	size_t k = size * n;

	if (k > op->inlen - op->inpos)
		k = op->inlen - op->inpos;
	/* An empty body may have no buffer at all (bucket creation). */
	if (k == 0)
		return (0);
	memcpy(buf, op->in + op->inpos, k);
	op->inpos += k;
	return (k);
}

static size_t
write_cb(char *buf, size_t size, size_t n, void *cookie)
{
	struct s3_op *op = cookie;
	size_t k = size * n, ncap, e;
	long http = 0;
	uint8_t *nb;

	/* An error body goes aside (its start is enough), never to data. */
	curl_easy_getinfo(op->easy, CURLINFO_RESPONSE_CODE, &http);
	if (http < 200 || http >= 300) {
		e = sizeof(op->errbody) - 1 - op->errlen;
		if (e > k)
			e = k;
		memcpy(op->errbody + op->errlen, buf, e);
		op->errlen += e;
		op->errbody[op->errlen] = '\0';
		return (k);
	}
	if (op->type != OP_GET && op->type != OP_LIST)
		return (k);
	if (op->outlen + k > op->outcap) {
		if (!op->ownbuf) {
			/* More than the range asked for: refuse it. */
			op->overflow = 1;
			return (0);
		}
		for (ncap = op->outcap ? op->outcap : 4096;
		    ncap < op->outlen + k; ncap *= 2)
			;
		if ((nb = realloc(op->out, ncap)) == NULL)
			return (0);
		op->out = nb;
		op->outcap = ncap;
	}
	memcpy(op->out + op->outlen, buf, k);
	op->outlen += k;
	return (k);
}

/* Copy a header's value (trimmed) if its name matches. */
static int
header_is(const char *line, size_t len, const char *name, char *dst,
    size_t dstlen)
{
	size_t n = strlen(name), e;

	if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return (0);
	line += n + 1;
	len -= n + 1;
	while (len > 0 && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	for (e = len; e > 0 && (line[e - 1] == '\r' || line[e - 1] == '\n' ||
	    line[e - 1] == ' '); e--)
		;
	if (e >= dstlen)
		e = dstlen - 1;
	memcpy(dst, line, e);
	dst[e] = '\0';
	return (1);
}

static size_t
header_cb(char *buf, size_t size, size_t n, void *cookie)
{
	struct s3_op *op = cookie;
	size_t k = size * n, el;
	char v[128], *slash, *end;
	struct tm tm;
	long http = 0;

	/* A new response (after a 100 Continue, say) starts afresh. */
	if (k >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
		op->etag[0] = '\0';
		op->metasha[0] = '\0';
		op->objsize = UINT64_MAX;
		op->date = -1;
	}
	if (header_is(buf, k, "Date", v, sizeof(v))) {
		/* IMF-fixdate, e.g. "Fri, 27 Nov 2026 17:45:26 GMT". */
		memset(&tm, 0, sizeof(tm));
		end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
		if (end != NULL && *end == '\0')
			op->date = (int64_t)timegm(&tm);
		return (k);
	}
	if (header_is(buf, k, "Content-Range", v, sizeof(v))) {
		/* "bytes FIRST-LAST/TOTAL": the object's size is TOTAL. */
		if ((slash = strchr(v, '/')) != NULL && slash[1] >= '0' &&
		    slash[1] <= '9')
			op->objsize = strtoull(slash + 1, NULL, 10);
		return (k);
	}
	if (header_is(buf, k, "Content-Length", v, sizeof(v))) {
		/* The object's size only for a whole 2xx GET body. */
		if (op->objsize == UINT64_MAX && op->ownbuf &&
		    op->type == OP_GET && v[0] >= '0' && v[0] <= '9' &&
		    curl_easy_getinfo(op->easy, CURLINFO_RESPONSE_CODE,
		    &http) == CURLE_OK && http >= 200 && http < 300)
			op->objsize = strtoull(v, NULL, 10);
		return (k);
	}
	if (header_is(buf, k, "ETag", op->etag, sizeof(op->etag))) {
		/* Kept without its quotes: see s3_put_start. */
		el = strlen(op->etag);
		if (el >= 2 && op->etag[0] == '"' && op->etag[el - 1] == '"') {
			memmove(op->etag, op->etag + 1, el - 2);
			op->etag[el - 2] = '\0';
		}
	} else
		header_is(buf, k, "x-amz-meta-sha256", op->metasha,
		    sizeof(op->metasha));
	return (k);
}

/* Append "name: value" to the request headers and to the signed set. */
static int
addhdr(struct s3_op *op, const char **hn, const char **hv, size_t *nh,
    const char *name, const char *value)
{
	char line[512];
	struct curl_slist *l;

	if (snprintf(line, sizeof(line), "%s: %s", name, value) >=
	    (int)sizeof(line)) {
		warn0("s3: header too long: %s", name);
		return (-1);
	}
	if ((l = curl_slist_append(op->hdrs, line)) == NULL) {
		warn0("s3: curl_slist_append failed");
		return (-1);
	}
	op->hdrs = l;
	if (hn != NULL) {
		hn[*nh] = name;
		hv[*nh] = value;
		(*nh)++;
	}
	return (0);
}

/* Set up and add one attempt of ${op} to the multi handle. */
static int
op_launch(struct s3_op *op)
{
	struct s3 *s3 = op->s3;
	struct s3_sign_req r;
	const char *hn[8], *hv[8];
	const char *method, *payload;
	char amzdate[17], range[64], auth[1024];
	char *ekey = NULL, *path = NULL, *url = NULL;
	size_t nh = 0, plen;
	time_t t;
	struct tm tm;
	CURLMcode mc;

	/* Fresh response state for this attempt. */
	op->outlen = 0;
	op->errlen = 0;
	op->errbody[0] = '\0';
	op->overflow = 0;
	op->inpos = 0;
	op->etag[0] = op->metasha[0] = '\0';
	op->objsize = UINT64_MAX;
	op->date = -1;
	curl_slist_free_all(op->hdrs);
	op->hdrs = NULL;
	if (op->easy == NULL) {
		if ((op->easy = curl_easy_init()) == NULL) {
			warn0("s3: curl_easy_init failed");
			goto err0;
		}
	} else
		curl_easy_reset(op->easy);

	/* Path-style: /bucket/key, or /bucket/ for bucket-level requests. */
	if (op->key != NULL && (ekey = s3_sign_uriencode(op->key, 1)) == NULL)
		goto err0;
	plen = strlen(s3->bucket) + (ekey ? strlen(ekey) : 0) + 3;
	if ((path = malloc(plen)) == NULL) {
		warnp("malloc");
		goto err1;
	}
	snprintf(path, plen, "/%s%s%s", s3->bucket, ekey ? "/" : "",
	    ekey ? ekey : "");
	plen = strlen(s3->endpoint) + strlen(path) +
	    (op->query ? strlen(op->query) : 0) + 2;
	if ((url = malloc(plen)) == NULL) {
		warnp("malloc");
		goto err2;
	}
	snprintf(url, plen, "%s%s%s%s", s3->endpoint, path,
	    (op->query && *op->query) ? "?" : "", op->query ? op->query : "");

	t = time(NULL);
	gmtime_r(&t, &tm);
	strftime(amzdate, sizeof(amzdate), "%Y%m%dT%H%M%SZ", &tm);
	payload = (op->type == OP_PUT) ? op->insha :
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

	switch (op->type) {
	case OP_PUT:
	case OP_MKBUCKET:
		method = "PUT";
		break;
	case OP_DELETE:
		method = "DELETE";
		break;
	default:
		method = "GET";
		break;
	}

	if (addhdr(op, hn, hv, &nh, "host", s3->host) ||
	    addhdr(op, hn, hv, &nh, "x-amz-date", amzdate) ||
	    addhdr(op, hn, hv, &nh, "x-amz-content-sha256", payload))
		goto err3;
	if (op->type == OP_PUT) {
		if (addhdr(op, hn, hv, &nh, "x-amz-meta-sha256", op->insha))
			goto err3;
		if (op->cond != NULL && addhdr(op, hn, hv, &nh,
		    strcmp(op->cond, "*") == 0 ? "if-none-match" : "if-match",
		    op->cond))
			goto err3;
	}
	if (op->type == OP_GET && op->tail) {
		snprintf(range, sizeof(range), "bytes=-%llu",
		    (unsigned long long)op->outcap);
		if (addhdr(op, hn, hv, &nh, "range", range))
			goto err3;
	} else if (op->type == OP_GET && !op->ownbuf) {
		snprintf(range, sizeof(range), "bytes=%llu-%llu",
		    (unsigned long long)op->off,
		    (unsigned long long)(op->off + op->outcap - 1));
		if (addhdr(op, hn, hv, &nh, "range", range))
			goto err3;
	}
	r.method = method;
	r.uri = path;
	r.query = op->query ? op->query : "";
	r.nhdr = nh;
	r.hname = hn;
	r.hval = hv;
	r.payload = payload;
	r.amzdate = amzdate;
	r.region = s3->region;
	r.service = "s3";
	r.akid = s3->akid;
	r.secret = s3->secret;
	if (s3_sign_v4(&r, auth, sizeof(auth), NULL) ||
	    addhdr(op, NULL, NULL, NULL, "Authorization", auth) ||
	    addhdr(op, NULL, NULL, NULL, "Expect", "") ||
	    addhdr(op, NULL, NULL, NULL, "Accept", ""))
		goto err3;
	OPENSSL_cleanse(auth, sizeof(auth));

	curl_easy_setopt(op->easy, CURLOPT_URL, url);
	curl_easy_setopt(op->easy, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(op->easy, CURLOPT_HTTPHEADER, op->hdrs);
	curl_easy_setopt(op->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(op->easy, CURLOPT_TIMEOUT_MS, s3->timeout_ms);
	curl_easy_setopt(op->easy, CURLOPT_CONNECTTIMEOUT_MS,
	    s3->timeout_ms < 10000 ? s3->timeout_ms : 10000L);
	curl_easy_setopt(op->easy, CURLOPT_PRIVATE, op);
	curl_easy_setopt(op->easy, CURLOPT_ERRORBUFFER, op->errbuf);
	curl_easy_setopt(op->easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(op->easy, CURLOPT_WRITEDATA, op);
	curl_easy_setopt(op->easy, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(op->easy, CURLOPT_HEADERDATA, op);
	if (op->type == OP_PUT || op->type == OP_MKBUCKET) {
		curl_easy_setopt(op->easy, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(op->easy, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(op->easy, CURLOPT_READDATA, op);
		curl_easy_setopt(op->easy, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)op->inlen);
	} else if (op->type == OP_DELETE)
		curl_easy_setopt(op->easy, CURLOPT_CUSTOMREQUEST, "DELETE");
	op->errbuf[0] = '\0';
	if ((mc = curl_multi_add_handle(s3->multi, op->easy)) != CURLM_OK) {
		warn0("s3: curl_multi_add_handle: %s", curl_multi_strerror(mc));
		goto err3;
	}
	op->state = RUNNING;
	op->attempts++;
	s3->running++;
	free(url);
	free(path);
	free(ekey);
	return (0);

err3:
	OPENSSL_cleanse(auth, sizeof(auth));
	free(url);
err2:
	free(path);
err1:
	free(ekey);
err0:
	return (-1);
}

static const char *
op_name(const struct s3_op *op)
{

	switch (op->type) {
	case OP_PUT:
		return ("PUT");
	case OP_GET:
		return ("GET");
	case OP_DELETE:
		return ("DELETE");
	case OP_LIST:
		return ("LIST");
	default:
		return ("CREATE BUCKET");
	}
}

/* Finish ${op} with ${result}. */
static void
op_done(struct s3_op *op, int result)
{

	op->state = DONE;
	op->result = result;
}

/* An attempt of ${op} ended with ${cc}: classify it. */
static void
op_finished(struct s3_op *op, CURLcode cc)
{
	struct s3 *s3 = op->s3;
	char why[256], code[64], sha[S3_SIGN_HEXLEN];
	long http = 0, nconn = 0;
	uint64_t delay;
	int retry = 0;

	curl_multi_remove_handle(s3->multi, op->easy);
	s3->running--;
	s3->st.requests++;
	curl_easy_getinfo(op->easy, CURLINFO_RESPONSE_CODE, &http);
	curl_easy_getinfo(op->easy, CURLINFO_NUM_CONNECTS, &nconn);
	s3->st.connects += (uint64_t)nconn;
	if (cc == CURLE_OK) {
		s3->st.bytes_out += op->inlen;
		s3->st.bytes_in += op->outlen;
	}

	if (cc != CURLE_OK) {
		if (op->overflow)
			snprintf(why, sizeof(why),
			    "server sent more than the range asked for");
		else
			snprintf(why, sizeof(why), "%s", op->errbuf[0] ?
			    op->errbuf : curl_easy_strerror(cc));
		/* Transport trouble is worth another try; a bad answer not. */
		retry = !op->overflow;
	} else if (http == 404) {
		op_done(op, S3_NOTFOUND);
		return;
	} else if (http == 412) {
		op_done(op, S3_PRECOND);
		return;
	} else if (http >= 200 && http < 300) {
		if (op->type == OP_GET && !op->ownbuf && http != 206 &&
		    !(http == 200 && (op->off == 0 || op->tail))) {
			snprintf(why, sizeof(why), "HTTP %ld to a range", http);
		} else if (op->type == OP_GET && op->ownbuf &&
		    op->metasha[0] != '\0' &&
		    (s3_sign_sha256hex(op->out, op->outlen, sha) ||
		    strcmp(sha, op->metasha) != 0)) {
			snprintf(why, sizeof(why), "checksum mismatch");
			retry = 1;
		} else {
			op_done(op, S3_OK);
			return;
		}
	} else {
		s3_xml_errcode(op->errbody, op->errlen, code, sizeof(code));
		snprintf(why, sizeof(why), "HTTP %ld%s%s", http,
		    code[0] ? " " : "", code);
		retry = (http == 500 || http == 502 || http == 503 ||
		    http == 504);
	}

	if (retry && op->attempts <= s3->retries) {
		delay = (uint64_t)s3->backoff_ms << (op->attempts - 1);
		if (delay > MAXBACKOFF_MS || op->attempts > 16)
			delay = MAXBACKOFF_MS;
		/* Jitter: +0..25%, so that retries of a burst spread out. */
		delay += (uint64_t)random() % (delay / 4 + 1);
		op->state = WAITING;
		op->retry_at = now_ms() + delay;
		s3->st.retries++;
		log_debug("s3: %s %s: %s; retry %d in %llu ms", op_name(op),
		    op->key ? op->key : s3->bucket, why, op->attempts,
		    (unsigned long long)delay);
		return;
	}
	warn0("s3: %s %s/%s: %s%s", op_name(op), s3->bucket,
	    op->key ? op->key : "", why,
	    retry ? " (retries exhausted)" : "");
	op_done(op, -1);
}

/*
 * Drive the handle until ${target} is done, or, if NULL, until every
 * operation is.
 */
static void
drive(struct s3 *s3, struct s3_op *target)
{
	struct s3_op *op;
	CURLMsg *msg;
	uint64_t now, wake;
	int still, left, pending, finished;
	long timeout;

	for (;;) {
		/* Launch whatever may run now. */
		now = now_ms();
		wake = UINT64_MAX;
		pending = 0;
		for (op = s3->ops; op != NULL; op = op->next) {
			if (op->state == DONE)
				continue;
			pending = 1;
			if (op->state == WAITING && op->retry_at > now) {
				if (op->retry_at < wake)
					wake = op->retry_at;
				continue;
			}
			if (op->state == RUNNING ||
			    s3->running >= s3->maxinflight)
				continue;
			if (op_launch(op))
				op_done(op, -1);
		}
		if (target != NULL ? target->state == DONE : !pending)
			return;

		curl_multi_perform(s3->multi, &still);
		finished = 0;
		while ((msg = curl_multi_info_read(s3->multi, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			op = NULL;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			    (char **)&op);
			op_finished(op, msg->data.result);
			finished = 1;
		}
		/* Finished attempts free slots and may set retry times. */
		if (finished)
			continue;

		/* Sleep until the sockets or the next retry need us. */
		timeout = 1000;
		now = now_ms();
		if (wake != UINT64_MAX)
			timeout = wake <= now ? 0 : (long)(wake - now);
		if (timeout > 1000)
			timeout = 1000;
		if (s3->running > 0 || timeout > 0)
			curl_multi_poll(s3->multi, NULL, 0, (int)timeout, NULL);
	}
}

/*
 * s3_wait(s3, op):
 * Drive every operation until ${op} is done; return its result.
 */
int
s3_wait(struct s3 * s3, struct s3_op * op)
{

	drive(s3, op);
	return (op->result);
}

/*
 * s3_wait_all(s3):
 * Drive every operation to completion; 0 if all ended S3_OK, else -1.
 */
int
s3_wait_all(struct s3 * s3)
{
	struct s3_op *op;

	drive(s3, NULL);
	for (op = s3->ops; op != NULL; op = op->next)
		if (op->result != S3_OK)
			return (-1);
	return (0);
}

/* s3_op_result(op): the result of a done ${op}. */
int
s3_op_result(const struct s3_op * op)
{

	return (op->result);
}

/* s3_op_len(op): the bytes a done GET received. */
size_t
s3_op_len(const struct s3_op * op)
{

	return (op->outlen);
}

/* s3_op_data(op): the body of a done whole-object GET, owned by ${op}. */
const uint8_t *
s3_op_data(const struct s3_op * op)
{

	return (op->ownbuf ? op->out : NULL);
}

/*
 * s3_op_objsize(op):
 * The size of the whole object a done GET read from, or UINT64_MAX.
 */
uint64_t
s3_op_objsize(const struct s3_op * op)
{

	return (op->objsize);
}

/*
 * s3_op_date(op):
 * The server's Date of a done operation's last answer (seconds since the
 * epoch), or -1.
 */
int64_t
s3_op_date(const struct s3_op * op)
{

	return (op->date);
}

/* s3_op_etag(op): the ETag of a done PUT or GET, owned by ${op}. */
const char *
s3_op_etag(const struct s3_op * op)
{

	return (op->etag);
}

/*
 * s3_op_free(op):
 * Free ${op}, dropping its request if it is running.  NULL is a no-op.
 */
void
s3_op_free(struct s3_op * op)
{

	if (op == NULL)
		return;
	if (op->state == RUNNING) {
		curl_multi_remove_handle(op->s3->multi, op->easy);
		op->s3->running--;
	}
	if (op->prev != NULL)
		op->prev->next = op->next;
	else
		op->s3->ops = op->next;
	if (op->next != NULL)
		op->next->prev = op->prev;
	if (op->easy != NULL)
		curl_easy_cleanup(op->easy);
	curl_slist_free_all(op->hdrs);
	if (op->ownbuf)
		free(op->out);
	free(op->cond);
	free(op->query);
	free(op->key);
	free(op);
}

/*
 * s3_put(s3, key, buf, len, cond):
 * Write ${key} and wait; return as s3_wait.
 */
int
s3_put(struct s3 * s3, const char * key, const uint8_t * buf, size_t len,
    const char * cond)
{
	struct s3_op *op;
	int rc;

	if ((op = s3_put_start(s3, key, buf, len, cond)) == NULL)
		return (-1);
	rc = s3_wait(s3, op);
	s3_op_free(op);
	return (rc);
}

/*
 * s3_get(s3, key, off, len, buf, got):
 * Read a range of ${key} and wait; *got is the bytes read.  Return as
 * s3_wait.
 */
int
s3_get(struct s3 * s3, const char * key, uint64_t off, size_t len,
    uint8_t * buf, size_t * got)
{
	struct s3_op *op;
	int rc;

	*got = 0;
	if ((op = s3_get_start(s3, key, off, len, buf)) == NULL)
		return (-1);
	if ((rc = s3_wait(s3, op)) == S3_OK)
		*got = op->outlen;
	s3_op_free(op);
	return (rc);
}

/*
 * s3_get_all(s3, key, buf, len):
 * Read the whole of ${key} into a malloc'd *buf of *len bytes.  Return
 * as s3_wait.
 */
int
s3_get_all(struct s3 * s3, const char * key, uint8_t ** buf, size_t * len)
{
	struct s3_op *op;
	int rc;

	*buf = NULL;
	*len = 0;
	if ((op = s3_get_start(s3, key, 0, 0, NULL)) == NULL)
		return (-1);
	if ((rc = s3_wait(s3, op)) == S3_OK) {
		/* Hand the buffer over; an empty object gets one byte. */
		if (op->out == NULL && (op->out = malloc(1)) == NULL) {
			warnp("malloc");
			rc = -1;
		} else {
			*buf = op->out;
			*len = op->outlen;
			op->out = NULL;
		}
	}
	s3_op_free(op);
	return (rc);
}

/*
 * s3_delete(s3, key):
 * Delete ${key} and wait; return as s3_wait.
 */
int
s3_delete(struct s3 * s3, const char * key)
{
	struct s3_op *op;
	int rc;

	if ((op = s3_delete_start(s3, key)) == NULL)
		return (-1);
	rc = s3_wait(s3, op);
	s3_op_free(op);
	return (rc);
}

/*
 * s3_list(s3, prefix, maxkeys, cb, cookie):
 * List keys under ${prefix}, calling ${cb} for each.  0, ${cb}'s
 * non-zero value, or -1 on error (logged).
 */
int
s3_list(struct s3 * s3, const char * prefix, int maxkeys,
    int (*cb)(void *, const char *, uint64_t), void * cookie)
{

	return (s3_list_after(s3, prefix, NULL, maxkeys, cb, cookie));
}

/*
 * s3_list_after(s3, prefix, after, maxkeys, cb, cookie):
 * As s3_list, but only keys after ${after} (if not NULL).
 */
int
s3_list_after(struct s3 * s3, const char * prefix, const char * after,
    int maxkeys, int (*cb)(void *, const char *, uint64_t), void * cookie)
{
	struct s3_op *op;
	char *token = NULL, *etok = NULL, *epfx, *eafter = NULL, *q;
	char mk[32];
	size_t qlen;
	int rc = -1;

	if ((epfx = s3_sign_uriencode(prefix, 0)) == NULL)
		return (-1);
	if (after != NULL && (eafter = s3_sign_uriencode(after, 0)) == NULL) {
		free(epfx);
		return (-1);
	}
	mk[0] = '\0';
	if (maxkeys > 0)
		snprintf(mk, sizeof(mk), "&max-keys=%d", maxkeys);
	do {
		/* The query's pairs in sorted order, as signing wants. */
		etok = NULL;
		if (token != NULL &&
		    (etok = s3_sign_uriencode(token, 0)) == NULL) {
			rc = -1;
			break;
		}
		qlen = strlen(epfx) + (etok ? strlen(etok) : 0) +
		    (eafter ? strlen(eafter) : 0) + 96;
		if ((q = malloc(qlen)) == NULL) {
			warnp("malloc");
			free(etok);
			rc = -1;
			break;
		}
		snprintf(q, qlen, "%s%s%slist-type=2%s&prefix=%s%s%s",
		    etok ? "continuation-token=" : "", etok ? etok : "",
		    etok ? "&" : "", mk, epfx, eafter ? "&start-after=" : "",
		    eafter ? eafter : "");
		free(etok);
		free(token);
		token = NULL;
		if ((op = op_new(s3, OP_LIST, NULL)) == NULL) {
			free(q);
			rc = -1;
			break;
		}
		op->query = q;
		op->ownbuf = 1;
		if ((rc = s3_wait(s3, op)) == S3_OK)
			rc = s3_xml_list((const char *)op->out, op->outlen, cb,
			    cookie, &token);
		else if (rc == S3_NOTFOUND) {
			warn0("s3: LIST %s: no such bucket", s3->bucket);
			rc = -1;
		}
		s3_op_free(op);
	} while (rc == 0 && token != NULL);
	free(token);
	free(eafter);
	free(epfx);
	return (rc);
}

/*
 * s3_bucket_create(s3):
 * Create the handle's bucket (success if this user owns it already).
 * -1 on error (logged).
 */
int
s3_bucket_create(struct s3 * s3)
{
	struct s3_op *op;
	char code[64];
	int rc;

	if ((op = op_new(s3, OP_MKBUCKET, NULL)) == NULL)
		return (-1);
	rc = s3_wait(s3, op);
	if (rc != S3_OK) {
		s3_xml_errcode(op->errbody, op->errlen, code, sizeof(code));
		if (strcmp(code, "BucketAlreadyOwnedByYou") == 0)
			rc = S3_OK;
		else
			rc = -1;
	}
	s3_op_free(op);
	return (rc);
}

/* s3_get_stats(s3, st): copy the handle's counters. */
void
s3_get_stats(const struct s3 * s3, struct s3_stats * st)
{

	*st = s3->st;
}

/*
 * s3_close(s3):
 * Free the handle (its operations were freed first).  NULL is a no-op.
 */
void
s3_close(struct s3 * s3)
{

	if (s3 == NULL)
		return;
	if (s3->multi != NULL)
		curl_multi_cleanup(s3->multi);
	if (s3->secret != NULL) {
		OPENSSL_cleanse(s3->secret, strlen(s3->secret));
		free(s3->secret);
	}
	free(s3->akid);
	free(s3->bucket);
	free(s3->region);
	free(s3->host);
	free(s3->endpoint);
	free(s3);
}
