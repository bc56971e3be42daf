/*
 * s3check: the test driver of lib/s3 against a real S3 server
 * (tests/integration/700-s3-client.sh runs it against radosgw).
 *
 * usage: s3check -e ENDPOINT -b BUCKET [-c CREDFILE] [-p PREFIX]
 *            [-t TIMEOUT_MS] [-r RETRIES] TEST
 * TEST is one of:
 *   basic    bucket, PUT/GET/ranged and suffix GET/overwrite/LIST (with
 *            continuation and start-after)/DELETE, 64 requests in
 *            flight, connection reuse, and a lease object's conditional
 *            round trips
 *   retry    PUT then GET through a proxy that fails some requests
 *            (503s and stalls): both must succeed after retries
 *   corrupt  PUT then whole GET through a proxy that flips a byte of the
 *            body: the GET must fail, never return data
 *   ping     one PUT and GET of a small object
 *   bench    timings: 200 PUTs and 200 ranged GETs of 4 KiB one at a
 *            time, the same 8 at a time, and 20 PUTs/GETs of 1 MiB
 *   list     print "KEY SIZE" for every object under PREFIX (no stats
 *            line): the kvlds scenarios count objects with it
 * Without -c the credentials come from AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY.  Prints "ok: ..." per check and a "stats" line;
 * exits 0 only if every check passed.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log/log.h"
#include "s3/s3.h"

static int failures;

#define CHECK(what, cond) do {						\
	if (cond)							\
		printf("ok: %s\n", what);				\
	else {								\
		printf("FAIL: %s (line %d)\n", what, __LINE__);		\
		failures++;						\
	}								\
} while (0)

/* Deterministic object contents: byte i of object n. */
static void
fill(uint8_t *buf, size_t len, unsigned int n)
{
	uint32_t x = 2166136261U ^ n;
	size_t i;

	for (i = 0; i < len; i++) {
		x = x * 16777619U + (uint32_t)i;
		buf[i] = (uint8_t)(x >> 24);
	}
}

struct listing {
	char keys[64][128];
	uint64_t sizes[64];
	int n;
	int overflow;
};

static int
list_cb(void *cookie, const char *key, uint64_t size)
{
	struct listing *l = cookie;

	if (l->n >= 64) {
		l->overflow = 1;
		return (0);
	}
	snprintf(l->keys[l->n], sizeof(l->keys[0]), "%s", key);
	l->sizes[l->n++] = size;
	return (0);
}

static int
stop_cb(void *cookie, const char *key, uint64_t size)
{

	(void)key;
	(void)size;
	(*(int *)cookie)++;
	return (42);
}

static void
print_stats(struct s3 *s3)
{
	struct s3_stats st;

	s3_get_stats(s3, &st);
	printf("stats requests=%llu retries=%llu connects=%llu out=%llu "
	    "in=%llu\n", (unsigned long long)st.requests,
	    (unsigned long long)st.retries, (unsigned long long)st.connects,
	    (unsigned long long)st.bytes_out, (unsigned long long)st.bytes_in);
}

/* The lease protocol's storage steps: create, refuse, renew, refuse stale. */
static void
lease(struct s3 *s3, const char *pfx)
{
	char key[256], etag1[128], body[128];
	struct s3_op *op;
	uint8_t *got = NULL;
	size_t len;
	int n;

	snprintf(key, sizeof(key), "%slease", pfx);
	n = snprintf(body, sizeof(body), "owner=hostA\nexpiry=%lld\n",
	    (long long)1000030);
	CHECK("lease: create if absent",
	    s3_put(s3, key, (uint8_t *)body, (size_t)n, "*") == S3_OK);
	CHECK("lease: second create refused",
	    s3_put(s3, key, (uint8_t *)"owner=hostB\n", 12, "*") ==
	    S3_PRECOND);

	op = s3_get_start(s3, key, 0, 0, NULL);
	CHECK("lease: read back", op != NULL && s3_wait(s3, op) == S3_OK &&
	    s3_op_len(op) == (size_t)n &&
	    memcmp(s3_op_data(op), body, (size_t)n) == 0 &&
	    s3_op_etag(op)[0] != '\0');
	if (op == NULL)
		return;
	CHECK("lease: the server's clock is within a minute of ours",
	    s3_op_date(op) > (int64_t)time(NULL) - 60 &&
	    s3_op_date(op) < (int64_t)time(NULL) + 60);
	snprintf(etag1, sizeof(etag1), "%s", s3_op_etag(op));
	s3_op_free(op);

	/* Renewal: replace only the version we read. */
	n = snprintf(body, sizeof(body), "owner=hostA\nexpiry=%lld\n",
	    (long long)1000040);
	CHECK("lease: renew with If-Match",
	    s3_put(s3, key, (uint8_t *)body, (size_t)n, etag1) == S3_OK);
	CHECK("lease: renew with a stale ETag refused",
	    s3_put(s3, key, (uint8_t *)"owner=hostB\n", 12, etag1) ==
	    S3_PRECOND);
	CHECK("lease: holds the renewal",
	    s3_get_all(s3, key, &got, &len) == S3_OK && len == (size_t)n &&
	    memcmp(got, body, len) == 0);
	free(got);
	got = NULL;
	CHECK("lease: delete", s3_delete(s3, key) == S3_OK);
}

static void
basic(struct s3 *s3, const char *pfx)
{
	static uint8_t big[1 << 20], back[1 << 20];
	struct s3_op *ops[64], *op;
	struct s3_stats st;
	char after[256];
	struct listing l;
	uint8_t small[100], *got = NULL;
	char key[256];
	size_t len;
	int i, ok, stopped;

	CHECK("create bucket", s3_bucket_create(s3) == 0);
	CHECK("create bucket again (owned)", s3_bucket_create(s3) == 0);

	/* Whole and ranged reads of a 1 MiB object. */
	fill(big, sizeof(big), 1);
	snprintf(key, sizeof(key), "%sbig", pfx);
	CHECK("PUT 1 MiB", s3_put(s3, key, big, sizeof(big), NULL) == S3_OK);
	CHECK("GET whole", s3_get_all(s3, key, &got, &len) == S3_OK &&
	    len == sizeof(big) && memcmp(got, big, len) == 0);
	free(got);
	got = NULL;
	CHECK("GET range in the middle",
	    s3_get(s3, key, 12345, 4096, back, &len) == S3_OK &&
	    len == 4096 && memcmp(back, big + 12345, 4096) == 0);
	CHECK("GET range over the end is short",
	    s3_get(s3, key, sizeof(big) - 100, 4096, back, &len) == S3_OK &&
	    len == 100 && memcmp(back, big + sizeof(big) - 100, 100) == 0);
	CHECK("GET range from 0",
	    s3_get(s3, key, 0, 10, back, &len) == S3_OK && len == 10 &&
	    memcmp(back, big, 10) == 0);
	op = s3_get_start(s3, key, 4096, 100, back);
	CHECK("a range tells the object's size", op != NULL &&
	    s3_wait(s3, op) == S3_OK && s3_op_objsize(op) == sizeof(big));
	s3_op_free(op);
	op = s3_get_tail_start(s3, key, 68, back);
	CHECK("GET of the last 68 bytes", op != NULL &&
	    s3_wait(s3, op) == S3_OK && s3_op_len(op) == 68 &&
	    memcmp(back, big + sizeof(big) - 68, 68) == 0 &&
	    s3_op_objsize(op) == sizeof(big));
	s3_op_free(op);

	/* Overwrite: the new bytes, whole and ranged. */
	fill(small, sizeof(small), 2);
	CHECK("overwrite", s3_put(s3, key, small, sizeof(small), NULL) ==
	    S3_OK);
	CHECK("GET after overwrite",
	    s3_get_all(s3, key, &got, &len) == S3_OK &&
	    len == sizeof(small) && memcmp(got, small, len) == 0);
	free(got);
	got = NULL;
	CHECK("ranged GET after overwrite",
	    s3_get(s3, key, 50, 50, back, &len) == S3_OK && len == 50 &&
	    memcmp(back, small + 50, 50) == 0);
	op = s3_get_tail_start(s3, key, 4096, back);
	CHECK("a tail longer than the object is all of it", op != NULL &&
	    s3_wait(s3, op) == S3_OK && s3_op_len(op) == sizeof(small) &&
	    memcmp(back, small, sizeof(small)) == 0 &&
	    s3_op_objsize(op) == sizeof(small));
	s3_op_free(op);
	CHECK("empty object", s3_put(s3, key, small, 0, NULL) == S3_OK &&
	    s3_get_all(s3, key, &got, &len) == S3_OK && len == 0);
	free(got);
	got = NULL;

	/* Keys with characters that need encoding. */
	snprintf(key, sizeof(key), "%sodd key+&=%%~/x", pfx);
	CHECK("PUT odd key", s3_put(s3, key, small, 7, NULL) == S3_OK);
	CHECK("GET odd key", s3_get_all(s3, key, &got, &len) == S3_OK &&
	    len == 7 && memcmp(got, small, 7) == 0);
	free(got);
	got = NULL;
	CHECK("DELETE odd key", s3_delete(s3, key) == S3_OK);

	/* 64 PUTs in flight, then 64 ranged GETs in flight. */
	ok = 1;
	for (i = 0; i < 64; i++) {
		snprintf(key, sizeof(key), "%sobj/%03d", pfx, i);
		fill(big + i * 4096, 4096, 100 + (unsigned int)i);
		if ((ops[i] = s3_put_start(s3, key, big + i * 4096, 4096,
		    NULL)) == NULL)
			ok = 0;
	}
	CHECK("64 PUTs in flight", ok && s3_wait_all(s3) == 0);
	for (i = 0; i < 64; i++)
		s3_op_free(ops[i]);
	ok = 1;
	for (i = 0; i < 64; i++) {
		snprintf(key, sizeof(key), "%sobj/%03d", pfx, i);
		if ((ops[i] = s3_get_start(s3, key, 1000, 2000,
		    back + i * 2000)) == NULL)
			ok = 0;
	}
	ok = ok && s3_wait_all(s3) == 0;
	for (i = 0; i < 64 && ok; i++)
		if (s3_op_len(ops[i]) != 2000 ||
		    memcmp(back + i * 2000, big + i * 4096 + 1000, 2000) != 0)
			ok = 0;
	CHECK("64 ranged GETs in flight", ok);
	for (i = 0; i < 64; i++)
		s3_op_free(ops[i]);
	s3_get_stats(s3, &st);
	printf("connections %llu for %llu requests\n",
	    (unsigned long long)st.connects, (unsigned long long)st.requests);
	CHECK("connections are reused", st.connects <= 16 &&
	    st.requests >= 128);

	/* Listing: pages of 7 keys, so continuation tokens are followed. */
	memset(&l, 0, sizeof(l));
	snprintf(key, sizeof(key), "%sobj/", pfx);
	CHECK("LIST with continuation", s3_list(s3, key, 7, list_cb, &l) == 0);
	ok = (l.n == 64 && !l.overflow);
	for (i = 0; i < l.n && ok; i++) {
		snprintf(key, sizeof(key), "%sobj/%03d", pfx, i);
		if (strcmp(l.keys[i], key) != 0 || l.sizes[i] != 4096)
			ok = 0;
	}
	CHECK("LIST holds the 64 keys in order, with sizes", ok);
	stopped = 0;
	snprintf(key, sizeof(key), "%sobj/", pfx);
	CHECK("LIST stops on the callback's word",
	    s3_list(s3, key, 7, stop_cb, &stopped) == 42 && stopped == 1);
	memset(&l, 0, sizeof(l));
	snprintf(key, sizeof(key), "%sobj/", pfx);
	snprintf(after, sizeof(after), "%sobj/059", pfx);
	CHECK("LIST after a key", s3_list_after(s3, key, after, 3, list_cb,
	    &l) == 0 && l.n == 4 && strstr(l.keys[0], "obj/060") != NULL &&
	    strstr(l.keys[3], "obj/063") != NULL);
	memset(&l, 0, sizeof(l));
	snprintf(key, sizeof(key), "%snothing/", pfx);
	CHECK("LIST of an empty prefix", s3_list(s3, key, 0, list_cb, &l) ==
	    0 && l.n == 0);

	/* DELETE: gone from GET and from the listing. */
	ok = 1;
	for (i = 0; i < 64; i += 2) {
		snprintf(key, sizeof(key), "%sobj/%03d", pfx, i);
		if ((ops[i / 2] = s3_delete_start(s3, key)) == NULL)
			ok = 0;
	}
	CHECK("32 DELETEs in flight", ok && s3_wait_all(s3) == 0);
	for (i = 0; i < 32; i++)
		s3_op_free(ops[i]);
	snprintf(key, sizeof(key), "%sobj/000", pfx);
	CHECK("GET of a deleted object: not found",
	    s3_get(s3, key, 0, 10, back, &len) == S3_NOTFOUND);
	CHECK("whole GET of a deleted object: not found",
	    s3_get_all(s3, key, &got, &len) == S3_NOTFOUND && got == NULL);
	memset(&l, 0, sizeof(l));
	snprintf(key, sizeof(key), "%sobj/", pfx);
	CHECK("LIST after DELETE", s3_list(s3, key, 10, list_cb, &l) == 0 &&
	    l.n == 32 && strstr(l.keys[0], "obj/001") != NULL);
	CHECK("DELETE of an absent object", s3_delete(s3, key) == S3_OK);

	lease(s3, pfx);
}

/* Through the failing proxy: every request must succeed after retries. */
static void
retry(struct s3 *s3, const char *pfx)
{
	static uint8_t buf[65536], back[65536];
	struct s3_stats st;
	char key[256];
	size_t len;

	fill(buf, sizeof(buf), 7);
	snprintf(key, sizeof(key), "%sretry", pfx);
	CHECK("PUT through failures", s3_put(s3, key, buf, sizeof(buf),
	    NULL) == S3_OK);
	CHECK("GET through failures",
	    s3_get(s3, key, 100, 1000, back, &len) == S3_OK && len == 1000 &&
	    memcmp(back, buf + 100, 1000) == 0);
	s3_get_stats(s3, &st);
	CHECK("some attempts were retried", st.retries > 0);
}

/* The smallest round trip. */
static void
ping(struct s3 *s3, const char *pfx)
{
	uint8_t *got = NULL;
	char key[256];
	size_t len = 0;

	snprintf(key, sizeof(key), "%sping", pfx);
	CHECK("PUT", s3_put(s3, key, (const uint8_t *)"pong", 4, NULL) ==
	    S3_OK);
	CHECK("GET", s3_get_all(s3, key, &got, &len) == S3_OK && len == 4 &&
	    memcmp(got, "pong", 4) == 0);
	free(got);
}

/* Through the corrupting proxy: a whole GET must fail. */
static void
corrupt(struct s3 *s3, const char *pfx)
{
	static uint8_t buf[4096];
	uint8_t *got = NULL;
	char key[256];
	size_t len = 0;

	fill(buf, sizeof(buf), 9);
	snprintf(key, sizeof(key), "%scorrupt", pfx);
	CHECK("PUT", s3_put(s3, key, buf, sizeof(buf), NULL) == S3_OK);
	CHECK("GET of a corrupted body is an error",
	    s3_get_all(s3, key, &got, &len) == -1 && got == NULL);
	free(got);
	got = NULL;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* Time n requests of one kind, ${depth} in flight at a time. */
static void
timed(struct s3 *s3, const char *pfx, const char *what, int put, size_t sz,
    int n, int depth, uint8_t *buf)
{
	struct s3_op *ops[8];
	char key[256];
	double t0, dt;
	int i, j, k, ok = 1;

	t0 = now_s();
	for (i = 0; i < n; i += depth) {
		k = (n - i < depth) ? n - i : depth;
		for (j = 0; j < k; j++) {
			snprintf(key, sizeof(key), "%sbench/%zu/%04d", pfx, sz,
			    i + j);
			ops[j] = put ? s3_put_start(s3, key, buf, sz, NULL) :
			    s3_get_start(s3, key, 0, sz, buf + (size_t)j * sz);
			if (ops[j] == NULL)
				ok = 0;
		}
		if (s3_wait_all(s3))
			ok = 0;
		for (j = 0; j < k; j++)
			s3_op_free(ops[j]);
	}
	dt = now_s() - t0;
	printf("%s: %d x %zu bytes, %d in flight: %.1f ms each, %.0f/s, "
	    "%.1f MB/s\n", what, n, sz, depth, dt * 1000 / n, n / dt,
	    (double)n * (double)sz / dt / 1e6);
	CHECK(what, ok);
}

static void
bench(struct s3 *s3, const char *pfx)
{
	static uint8_t buf[8 << 20];

	fill(buf, sizeof(buf), 3);
	CHECK("create bucket", s3_bucket_create(s3) == 0);
	timed(s3, pfx, "PUT 4 KiB", 1, 4096, 200, 1, buf);
	timed(s3, pfx, "GET 4 KiB", 0, 4096, 200, 1, buf);
	timed(s3, pfx, "PUT 4 KiB", 1, 4096, 200, 8, buf);
	timed(s3, pfx, "GET 4 KiB", 0, 4096, 200, 8, buf);
	timed(s3, pfx, "PUT 1 MiB", 1, 1 << 20, 20, 1, buf);
	timed(s3, pfx, "GET 1 MiB", 0, 1 << 20, 20, 1, buf);
}

/* list: print every key under ${pfx} with its size. */
static int
keys_cb(void *cookie, const char *key, uint64_t size)
{

	(void)cookie;
	printf("%s %llu\n", key, (unsigned long long)size);
	return (0);
}

int
main(int argc, char *argv[])
{
	struct s3_conf conf;
	struct s3 *s3;
	const char *cred = NULL, *pfx = "s3check/";
	char *akid, *secret;
	int ch;

	log_init(argv[0]);
	memset(&conf, 0, sizeof(conf));
	while ((ch = getopt(argc, argv, "e:b:c:p:t:r:v")) != -1) {
		switch (ch) {
		case 'e':
			conf.endpoint = optarg;
			break;
		case 'b':
			conf.bucket = optarg;
			break;
		case 'c':
			cred = optarg;
			break;
		case 'p':
			pfx = optarg;
			break;
		case 't':
			conf.timeout_ms = atol(optarg);
			break;
		case 'r':
			conf.retries = atoi(optarg);
			break;
		case 'v':
			log_set_verbosity(1);
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc - 1 || conf.endpoint == NULL || conf.bucket == NULL)
		goto usage;
	if ((cred ? s3_creds_load(cred, &akid, &secret) :
	    s3_creds_env(&akid, &secret)) != 0)
		exit(1);
	conf.akid = akid;
	conf.secret = secret;
	conf.backoff_ms = 20;
	if ((s3 = s3_open(&conf)) == NULL)
		exit(1);
	free(akid);
	free(secret);

	if (strcmp(argv[optind], "list") == 0) {
		ch = s3_list(s3, pfx, 0, keys_cb, NULL);
		s3_close(s3);
		exit(ch ? 1 : 0);
	}
	if (strcmp(argv[optind], "basic") == 0)
		basic(s3, pfx);
	else if (strcmp(argv[optind], "retry") == 0)
		retry(s3, pfx);
	else if (strcmp(argv[optind], "corrupt") == 0)
		corrupt(s3, pfx);
	else if (strcmp(argv[optind], "ping") == 0)
		ping(s3, pfx);
	else if (strcmp(argv[optind], "bench") == 0)
		bench(s3, pfx);
	else
		goto usage;
	print_stats(s3);
	s3_close(s3);
	printf("%s: %d failed\n", argv[optind], failures);
	exit(failures ? 1 : 0);

usage:
	fprintf(stderr, "usage: s3check -e ENDPOINT -b BUCKET [-c CREDFILE] "
	    "[-p PREFIX] [-t MS] [-r N] [-v] basic|retry|corrupt|ping|bench|list\n");
	exit(2);
}
