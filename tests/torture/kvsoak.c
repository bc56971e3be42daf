/*
 * kvsoak: a sustained-load driver for kvlds (make torture's soak).
 *
 * kvsoak -s <socket> [-c <connections>] [-d <depth>] [-t <seconds>]
 *        [-r <requests/s>] [-k <keys>] [-p <pid>] [-q]
 *
 * Opens ${connections} connections (default 200) and keeps a 50/50 mix of
 * GET and SET on uniformly random keys (${keys}, default 100000; each key
 * belongs to one connection, so the last SET sent on a key is the value
 * it must end with), with at most ${depth} requests (default 4) in flight
 * per connection.  With -r the requests are paced to that total rate;
 * without it they go as fast as the server answers (to measure the peak).
 * Every second it prints a line "t ops/s p50 p99 max RSS" (latencies in
 * microseconds, RSS of ${pid} in KiB), and at the end a summary line
 * "kvsoak: ..." including the figures of the first and last minute (to
 * show drift), and then reads back every key it wrote and counts the
 * acknowledged writes that are missing or wrong ("lost").  Exit status 0
 * when no request failed and nothing was lost.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "kvclient/kvclient.h"
#include "log/log.h"

struct soak;

struct conn {
	struct soak *S;
	struct kvclient *K;
	int id;
	int inflight;
};

struct req {
	struct conn *C;
	uint64_t t0;
	uint32_t key;
	int isset;
};

struct soak {
	struct event_base *base;
	struct event *tick;
	struct conn *conns;
	int nconns;
	int depth;
	uint32_t nkeys;
	uint32_t *lastset;	/* per key: 1 + sequence of the last SET sent */
	double rate;		/* 0 = as fast as possible */
	double secs;
	long pid;
	int quiet;
	uint64_t start, lastsec;
	uint64_t issued, done, fails;
	uint64_t rng;
	uint32_t seq;
	int rr;
	int stopping;
	/* This second's latencies. */
	uint32_t *lat;
	size_t nlat, alat;
	/* Per-second figures. */
	double *sops, *sp99;
	long *srss;
	size_t nsec;
};

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
}

static uint64_t
rnd(struct soak *S)
{

	S->rng ^= S->rng << 13;
	S->rng ^= S->rng >> 7;
	S->rng ^= S->rng << 17;
	return (S->rng);
}

static long
rss_kib(long pid)
{
	char path[64], line[256];
	FILE *f;
	long v = -1;

	if (pid <= 0)
		return (-1);
	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			v = strtol(line + 6, NULL, 10);
	fclose(f);
	return (v);
}

static void
keyname(uint32_t k, uint8_t *buf, size_t *len)
{

	*len = (size_t)snprintf((char *)buf, 32, "soak%08" PRIu32, k);
}

static void
valname(uint32_t k, uint32_t seq, uint8_t *buf, size_t *len)
{

	*len = (size_t)snprintf((char *)buf, 64, "v%08" PRIu32 ".%010" PRIu32
	    "................", k, seq);
}

static int issue(struct soak *);

static void
finish(struct req *R, int status)
{
	struct soak *S = R->C->S;
	uint64_t t = now_us() - R->t0;

	R->C->inflight--;
	S->done++;
	if (status == KVCLIENT_FAIL)
		S->fails++;
	if (S->nlat == S->alat) {
		size_t na = S->alat ? S->alat * 2 : 65536;
		uint32_t *nl = realloc(S->lat, na * sizeof(*nl));

		if (nl != NULL) {
			S->lat = nl;
			S->alat = na;
		}
	}
	if (S->nlat < S->alat)
		S->lat[S->nlat++] = (t > UINT32_MAX) ? UINT32_MAX : (uint32_t)t;
	free(R);
	if (!S->stopping)
		(void)issue(S);
}

static void
setcb(void *cookie, int status)
{

	finish(cookie, status);
}

static void
getcb(void *cookie, int status, const uint8_t *v, size_t vl)
{

	(void)v;
	(void)vl;
	finish(cookie, status);
}

/* Issue one request on the next connection with room; 1 if none had. */
static int
issue1(struct soak *S)
{
	struct conn *C = NULL;
	struct req *R;
	uint8_t k[32], v[64];
	size_t kl, vl;
	uint32_t key;
	int i, rc;

	for (i = 0; i < S->nconns; i++) {
		C = &S->conns[(S->rr + i) % S->nconns];
		if (C->inflight < S->depth && !kvclient_failed(C->K))
			break;
		C = NULL;
	}
	if (C == NULL)
		return (1);
	S->rr = (C->id + 1) % S->nconns;
	if ((R = malloc(sizeof(*R))) == NULL)
		return (1);
	/* A key of this connection's share: key % nconns == id. */
	key = (uint32_t)(rnd(S) % ((S->nkeys + (uint32_t)S->nconns - 1 -
	    (uint32_t)C->id) / (uint32_t)S->nconns)) * (uint32_t)S->nconns +
	    (uint32_t)C->id;
	R->C = C;
	R->key = key;
	R->isset = (int)(rnd(S) & 1);
	R->t0 = now_us();
	keyname(key, k, &kl);
	if (R->isset) {
		S->lastset[key] = ++S->seq;
		valname(key, S->seq, v, &vl);
		rc = kvclient_set(C->K, k, kl, v, vl, setcb, R);
	} else
		rc = kvclient_get(C->K, k, kl, getcb, R);
	if (rc) {
		free(R);
		S->fails++;
		return (1);
	}
	C->inflight++;
	S->issued++;
	return (0);
}

static int
issue(struct soak *S)
{

	if (S->rate == 0) {
		while (issue1(S) == 0)
			continue;
		return (0);
	}
	while ((double)S->issued < S->rate * (double)(now_us() - S->start) /
	    1e6) {
		if (issue1(S))
			break;
	}
	return (0);
}

static int
cmpu32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return ((x > y) - (x < y));
}

static void
second(struct soak *S, uint64_t t)
{
	double p50 = 0, p99 = 0, mx = 0;
	long rss = rss_kib(S->pid);
	size_t n = S->nlat;
	double *a, *b;
	long *c;

	if (n > 0) {
		qsort(S->lat, n, sizeof(uint32_t), cmpu32);
		p50 = S->lat[n / 2];
		p99 = S->lat[(n * 99) / 100];
		mx = S->lat[n - 1];
	}
	a = realloc(S->sops, (S->nsec + 1) * sizeof(*a));
	b = realloc(S->sp99, (S->nsec + 1) * sizeof(*b));
	c = realloc(S->srss, (S->nsec + 1) * sizeof(*c));
	if (a != NULL)
		S->sops = a;
	if (b != NULL)
		S->sp99 = b;
	if (c != NULL)
		S->srss = c;
	if (a != NULL && b != NULL && c != NULL) {
		S->sops[S->nsec] = (double)n;
		S->sp99[S->nsec] = p99;
		S->srss[S->nsec] = rss;
		S->nsec++;
	}
	if (!S->quiet)
		printf("t=%zu ops/s=%zu p50=%.0fus p99=%.0fus "
		    "max=%.0fus rss=%ldKiB fails=%" PRIu64 "%s\n",
		    S->nsec, n, p50, p99, mx, rss, S->fails,
		    (t - S->lastsec > 1100000) ? " (driver late)" : "");
	fflush(stdout);
	S->nlat = 0;
}

static void
tickcb(evutil_socket_t fd, short what, void *cookie)
{
	struct soak *S = cookie;
	uint64_t t = now_us();

	(void)fd;
	(void)what;
	if (t - S->lastsec >= 1000000) {
		S->lastsec += 1000000;
		second(S, t);
	}
	if ((double)(t - S->start) >= S->secs * 1e6) {
		S->stopping = 1;
		event_base_loopbreak(S->base);
		return;
	}
	(void)issue(S);
}

static void
stats(const double *v, size_t from, size_t to, double *mean, double *mn,
    double *mx)
{
	size_t i;

	*mean = 0;
	*mn = 1e300;
	*mx = 0;
	for (i = from; i < to; i++) {
		*mean += v[i];
		if (v[i] < *mn)
			*mn = v[i];
		if (v[i] > *mx)
			*mx = v[i];
	}
	*mean = (to > from) ? *mean / (double)(to - from) : 0;
	if (to <= from)
		*mn = 0;
}

/* Read back every key SET during the run; return the number wrong. */
static uint64_t
verify(struct soak *S, uint64_t *checked)
{
	struct kvclient *K = S->conns[0].K;
	uint8_t k[32], want[64], got[256];
	size_t kl, wl, gl;
	uint64_t bad = 0;
	uint32_t key;
	int st;

	*checked = 0;
	for (key = 0; key < S->nkeys; key++) {
		if (S->lastset[key] == 0)
			continue;
		keyname(key, k, &kl);
		valname(key, S->lastset[key], want, &wl);
		st = kvclient_get_b(K, k, kl, got, &gl);
		(*checked)++;
		if (st != KVCLIENT_OK || gl != wl || memcmp(got, want, wl)) {
			if (bad < 5)
				fprintf(stderr, "kvsoak: key %s: %s\n", k,
				    st == KVCLIENT_FAIL ? "request failed" :
				    st == KVCLIENT_NO ? "absent" : "wrong value");
			bad++;
		}
	}
	return (bad);
}

static void
usage(void)
{

	fprintf(stderr, "usage: kvsoak -s <socket> [-c <connections>] "
	    "[-d <depth>] [-t <seconds>] [-r <requests/s>] [-k <keys>] "
	    "[-p <pid>] [-q]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct soak S;
	struct timeval tv = { 0, 1000 };
	const char *sock = NULL;
	double m1, n1, x1, m2, n2, x2, p1, p2, pn, px, mall, nall, xall;
	uint64_t lost, checked;
	size_t w, w2, slow;
	long rss0;
	int ch, i;

	log_init("kvsoak");
	memset(&S, 0, sizeof(S));
	S.nconns = 200;
	S.depth = 4;
	S.secs = 10;
	S.nkeys = 100000;
	S.rng = 0x9E3779B97F4A7C15ULL ^ (uint64_t)getpid();
	while ((ch = getopt(argc, argv, "s:c:d:t:r:k:p:q")) != -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 'c':
			S.nconns = atoi(optarg);
			break;
		case 'd':
			S.depth = atoi(optarg);
			break;
		case 't':
			S.secs = atof(optarg);
			break;
		case 'r':
			S.rate = atof(optarg);
			break;
		case 'k':
			S.nkeys = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'p':
			S.pid = atol(optarg);
			break;
		case 'q':
			S.quiet = 1;
			break;
		default:
			usage();
		}
	}
	if (sock == NULL || S.nconns < 1 || S.depth < 1 ||
	    S.nkeys < (uint32_t)S.nconns || S.secs <= 0 || S.rate < 0)
		usage();
	if ((S.base = event_base_new()) == NULL ||
	    (S.lastset = calloc(S.nkeys, sizeof(uint32_t))) == NULL ||
	    (S.conns = calloc((size_t)S.nconns, sizeof(*S.conns))) == NULL) {
		warnp("allocation");
		exit(1);
	}
	for (i = 0; i < S.nconns; i++) {
		S.conns[i].S = &S;
		S.conns[i].id = i;
		if ((S.conns[i].K = kvclient_open(S.base, sock, NULL)) == NULL) {
			warn0("connection %d to %s failed", i, sock);
			exit(1);
		}
	}
	if ((S.tick = event_new(S.base, -1, EV_PERSIST, tickcb, &S)) == NULL ||
	    event_add(S.tick, &tv)) {
		warn0("event_new");
		exit(1);
	}
	rss0 = rss_kib(S.pid);
	S.start = S.lastsec = now_us();
	(void)issue(&S);
	event_base_dispatch(S.base);
	event_del(S.tick);
	/* Let what is in flight finish. */
	for (i = 0; i < S.nconns; i++)
		while (S.conns[i].inflight > 0 && !kvclient_failed(S.conns[i].K))
			event_base_loop(S.base, EVLOOP_ONCE);
	lost = verify(&S, &checked);

	w = S.nsec < 60 ? (S.nsec + 1) / 2 : 60;
	stats(S.sops, 0, w, &m1, &n1, &x1);
	stats(S.sops, S.nsec - w, S.nsec, &m2, &n2, &x2);
	stats(S.sp99, 0, w, &p1, &pn, &px);
	stats(S.sp99, S.nsec - w, S.nsec, &p2, &pn, &px);
	stats(S.sops, 0, S.nsec, &mall, &nall, &xall);
	stats(S.sp99, 0, S.nsec, &pn, &pn, &px);
	for (slow = 0, w2 = 0; w2 < S.nsec; w2++)
		if (S.sops[w2] < mall / 2)
			slow++;
	printf("kvsoak: %zu s, %d connections, rate %s%.0f/s: mean %.0f "
	    "ops/s (min %.0f, max %.0f); first %zu s %.0f ops/s p99 %.0fus, "
	    "last %zu s %.0f ops/s p99 %.0fus; worst p99 %.0fus; seconds "
	    "under half the mean %zu; RSS %ld -> %ld KiB; failed requests %"
	    PRIu64 "; keys verified %" PRIu64 ", lost acknowledged writes %"
	    PRIu64 "\n", S.nsec, S.nconns, S.rate > 0 ? "" : "max ", S.rate,
	    mall, nall, xall, w, m1, p1, w, m2, p2, px, slow, rss0,
	    S.nsec ? S.srss[S.nsec - 1] : -1, S.fails, checked, lost);
	for (i = 0; i < S.nconns; i++)
		kvclient_free(S.conns[i].K);
	event_free(S.tick);
	event_base_free(S.base);
	free(S.lastset);
	free(S.conns);
	free(S.lat);
	free(S.sops);
	free(S.sp99);
	free(S.srss);
	return ((S.fails || lost) ? 1 : 0);
}
