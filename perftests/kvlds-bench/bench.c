#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "keyfile/keyfile.h"
#include "kvbench/kvbench.h"
#include "kvbench/kvbench_hist.h"
#include "kvclient/kvclient.h"
#include "log/log.h"

#include "bench.h"

/*
 * The load generator.  Every connection is a kvclient in one event_base.
 *
 * Closed loop: each connection keeps ${inflight} requests outstanding;
 * every answer sends the next request.  A request's latency runs from
 * its actual send time.
 *
 * Open loop: requests are due at fixed times, t0 + k / rate for the k-th
 * request overall, dealt round-robin to the connections.  A 250 us pump
 * timer (and every answer) sends whatever is due, as long as the
 * connection has fewer than ${inflight} outstanding; a request that has
 * to wait for a free place keeps its due time.  Latency runs from the
 * due (intended) time, so a server that stalls is charged for every
 * request it held back, not only for the few in flight ("coordinated
 * omission" is avoided).
 *
 * Requests answered before the end of the warm-up are not recorded.
 * Sending stops at the end of the duration (or after --requests); then
 * the run waits up to --drain seconds for the outstanding answers.
 */

const char * const bench_type_name[BT_NTYPES] = {
	"get", "set", "add", "modify", "delete", "cas", "cad", "range"
};

struct req {
	struct conn *c;
	double intended;
	enum bench_type type;
	uint32_t next;		/* Free-list link. */
};

struct conn {
	struct bench *B;
	struct kvclient *K;
	struct req *reqs;
	uint32_t freehead;
	size_t outstanding;
	uint64_t k;		/* Open loop: index of its next request. */
	int dead;
};

#define NOREQ	UINT32_MAX

/*
 * Keys are picked this many requests ahead, so that with --stream the
 * pair (in a table of tens of megabytes: a cache miss) is prefetched
 * well before its request is encoded.
 */
#define AHEAD	16

/* What the threads of one run share. */
struct shared {
	const uint8_t *pairs;
	pthread_barrier_t start;	/* All connected: start the clock. */
	atomic_int failed;		/* A thread could not start. */
	struct kvclient_opts ko;	/* With the key, loaded once. */
	atomic_uint_fast64_t requests;	/* Completions, for the progress. */
	atomic_uint_fast64_t errors;
};

struct bench {
	const struct bench_conf *cf;
	struct shared *sh;		/* NULL with one thread. */
	uint64_t shown;			/* sh->requests at the last line. */
	struct bench_result *res;
	struct event_base *base;
	struct event *tick, *pump, *drainev;
	struct conn *conns;
	struct kvbench_rng rng;
	unsigned int cummix[BT_NTYPES];
	unsigned int mixtotal;
	uint8_t *pairs;			/* --stream */
	double zetan, zeta2, alpha, eta; /* zipf */
	uint64_t seqnext;
	uint64_t ahead[AHEAD];		/* The keys of the next requests. */
	size_t apos;
	double t0, tmeasure, tend;
	uint64_t sent, limit;
	int stopping;
	size_t outstanding;
	struct kvbench_hist sec;
	uint64_t sec_requests, sec_errors;
	uint64_t errors_total;
	double lastsec;		/* When the series' last second closed. */
	size_t seccap;
	unsigned int nticks;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec * 1e-9);
}

/* ---------------------------------------------------------------- keys */

static void
zipf_init(struct bench *B)
{
	double theta = B->cf->zipf_theta, n = (double)B->cf->nkeys;
	uint64_t i;

	B->zetan = 0;
	for (i = 1; i <= B->cf->nkeys; i++)
		B->zetan += 1.0 / pow((double)i, theta);
	B->zeta2 = 1.0 + 1.0 / pow(2.0, theta);
	B->alpha = 1.0 / (1.0 - theta);
	B->eta = (1.0 - pow(2.0 / n, 1.0 - theta)) /
	    (1.0 - B->zeta2 / B->zetan);
}

/* A double in [0, 1). */
static double
unif(struct bench *B)
{

	return ((double)(kvbench_rng_next(&B->rng) >> 11) * 0x1.0p-53);
}

/* Gray et al.'s zipfian generator (as in YCSB): 0 is the hottest. */
static uint64_t
zipf_next(struct bench *B)
{
	double u = unif(B), uz = u * B->zetan, n = (double)B->cf->nkeys;
	uint64_t v;

	if (uz < 1.0)
		return (0);
	if (uz < 1.0 + pow(0.5, B->cf->zipf_theta))
		return (1);
	v = (uint64_t)(n * pow(B->eta * u - B->eta + 1.0, B->alpha));
	return ((v < B->cf->nkeys) ? v : B->cf->nkeys - 1);
}

static uint64_t
pick(struct bench *B)
{
	uint64_t n = B->cf->nkeys, hot;

	switch (B->cf->dist) {
	case BD_SEQUENTIAL:
		if (B->seqnext == n)
			B->seqnext = 0;
		return (B->seqnext++);
	case BD_HOTSPOT:
		hot = (uint64_t)((double)n * B->cf->hot_frac);
		if (hot < 1)
			hot = 1;
		if ((hot >= n) || (unif(B) < B->cf->hot_prob))
			return (kvbench_rng_below(&B->rng, hot));
		return (hot + kvbench_rng_below(&B->rng, n - hot));
	case BD_ZIPF:
		return (zipf_next(B));
	case BD_UNIFORM:
	default:
		return (kvbench_rng_below(&B->rng, n));
	}
}

/*
 * Key number ${i}: --stream keys, or ${keysize} bytes ending with ${i}
 * big-endian, the rest 'k'.  The value of a key is the stream value, or
 * ${valsize} bytes starting with ${i} big-endian and a filler.
 */
static const uint8_t *
mkkey(struct bench *B, uint64_t i, uint8_t *buf)
{
	size_t n = B->cf->keysize, j;

	if (B->pairs)
		return (B->pairs + i * KVBENCH_PAIRLEN);
	for (j = 0; j < n; j++)
		buf[n - 1 - j] = (j < 8) ? (uint8_t)(i >> (8 * j)) : 'k';
	return (buf);
}

static const uint8_t *
mkval(struct bench *B, uint64_t i, uint8_t *buf)
{
	size_t n = B->cf->valsize, j;

	if (B->pairs)
		return (B->pairs + i * KVBENCH_PAIRLEN + KVBENCH_KEYLEN);
	for (j = 0; j < n; j++)
		buf[j] = (j < 8) ? (uint8_t)(i >> (8 * (7 - j))) :
		    (uint8_t)(i * 31 + j);
	return (buf);
}

/* ------------------------------------------------------------ requests */

static void done(struct req *, int);

static void
statuscb(void *cookie, int status)
{

	done(cookie, status);
}

static void
getcb(void *cookie, int status, const uint8_t *v, size_t vl)
{

	(void)v;
	(void)vl;
	done(cookie, status);
}

static void
rangecb(void *cookie, int status, const struct kvclient_range *r)
{

	(void)r;
	done(cookie, status);
}

static enum bench_type
picktype(struct bench *B)
{
	unsigned int x;
	int t;

	if (B->mixtotal == B->cummix[BT_GET] && B->cummix[BT_GET] > 0)
		return (BT_GET);
	x = (unsigned int)kvbench_rng_below(&B->rng, B->mixtotal);
	for (t = 0; t < BT_NTYPES - 1; t++)
		if (x < B->cummix[t])
			break;
	return ((enum bench_type)t);
}

/* Send one request on ${c}, intended at ${intended}; 0 or -1. */
static int
sendone(struct conn *c, double intended)
{
	struct bench *B = c->B;
	uint8_t kb[KVBENCH_KEYLEN > 255 ? KVBENCH_KEYLEN : 255], vb[255];
	const uint8_t *key, *val;
	size_t kl = B->pairs ? KVBENCH_KEYLEN : B->cf->keysize;
	size_t vl = B->pairs ? KVBENCH_VALLEN : B->cf->valsize;
	struct req *r;
	uint64_t i;
	int rc;

	r = &c->reqs[c->freehead];
	r->intended = intended;
	r->type = picktype(B);
	i = B->ahead[B->apos];
	B->ahead[B->apos] = pick(B);
	if (B->pairs)
		__builtin_prefetch(B->pairs + B->ahead[B->apos] *
		    KVBENCH_PAIRLEN);
	B->apos = (B->apos + 1) % AHEAD;
	key = mkkey(B, i, kb);
	val = mkval(B, i, vb);
	switch (r->type) {
	case BT_GET:
		rc = kvclient_get(c->K, key, kl, getcb, r);
		break;
	case BT_SET:
		rc = kvclient_set(c->K, key, kl, val, vl, statuscb, r);
		break;
	case BT_ADD:
		rc = kvclient_add(c->K, key, kl, val, vl, statuscb, r);
		break;
	case BT_MODIFY:
		rc = kvclient_modify(c->K, key, kl, val, vl, statuscb, r);
		break;
	case BT_DELETE:
		rc = kvclient_delete(c->K, key, kl, statuscb, r);
		break;
	case BT_CAS:
		rc = kvclient_cas(c->K, key, kl, val, vl, val, vl, statuscb,
		    r);
		break;
	case BT_CAD:
		rc = kvclient_cad(c->K, key, kl, val, vl, statuscb, r);
		break;
	case BT_RANGE:
	default:
		rc = kvclient_range(c->K, key, kl, NULL, 0,
		    B->cf->range_bytes, rangecb, r);
		break;
	}
	if (rc) {
		c->dead = 1;
		return (-1);
	}
	c->freehead = r->next;
	c->outstanding++;
	B->outstanding++;
	B->sent++;
	return (0);
}

/* Has sending ended (duration or request count)? */
static int
sending_over(struct bench *B, double t)
{

	if (B->stopping)
		return (1);
	if ((B->limit > 0) && (B->sent >= B->limit))
		return (1);
	if ((B->limit == 0) && (t >= B->tend))
		return (1);
	return (0);
}

static void
stop_sending(struct bench *B)
{
	struct timeval tv;

	if (B->stopping)
		return;
	B->stopping = 1;
	if (B->pump)
		event_del(B->pump);
	if (B->outstanding == 0) {
		event_base_loopbreak(B->base);
		return;
	}
	tv.tv_sec = (time_t)B->cf->drain;
	tv.tv_usec = (suseconds_t)((B->cf->drain - (double)tv.tv_sec) * 1e6);
	event_add(B->drainev, &tv);
}

/* Open loop: the time the k-th request of connection c is due. */
static double
due(struct bench *B, const struct conn *c)
{
	size_t ci = (size_t)(c - B->conns);

	return (B->t0 + ((double)c->k * (double)B->cf->conns + (double)ci) /
	    B->cf->rate);
}

/* Send what ${c} may send now. */
static void
feed(struct conn *c, double t)
{
	struct bench *B = c->B;
	double d;

	while (!c->dead && (c->outstanding < B->cf->inflight)) {
		if (sending_over(B, t)) {
			stop_sending(B);
			return;
		}
		if (B->cf->rate > 0) {
			if ((d = due(B, c)) > t)
				return;
			if ((B->limit == 0) && (d >= B->tend)) {
				stop_sending(B);
				return;
			}
			c->k++;
		} else
			d = t;
		if (sendone(c, d))
			return;
	}
}

static void
done(struct req *r, int status)
{
	struct conn *c = r->c;
	struct bench *B = c->B;
	struct bench_result *res = B->res;
	double t = now();
	uint64_t lat;

	r->next = c->freehead;
	c->freehead = (uint32_t)(r - c->reqs);
	c->outstanding--;
	B->outstanding--;

	if (status == KVCLIENT_FAIL) {
		c->dead = 1;
		B->sec_errors++;
		B->errors_total++;
		if (r->intended >= B->tmeasure)
			res->errors[r->type]++;
	} else {
		lat = (t > r->intended) ?
		    (uint64_t)((t - r->intended) * 1e9) : 0;
		B->sec_requests++;
		kvbench_hist_add(&B->sec, lat);
		if (r->intended >= B->tmeasure) {
			kvbench_hist_add(&res->all, lat);
			kvbench_hist_add(&res->type[r->type], lat);
			if (status == KVCLIENT_OK)
				res->ok[r->type]++;
			else
				res->no[r->type]++;
		}
	}
	if (B->stopping) {
		if (B->outstanding == 0)
			event_base_loopbreak(B->base);
		return;
	}
	feed(c, t);
}

/* ---------------------------------------------------------- timers */

static void
pumpcb(evutil_socket_t fd, short what, void *cookie)
{
	struct bench *B = cookie;
	double t = now();
	size_t i;

	(void)fd;
	(void)what;
	for (i = 0; i < B->cf->conns && !B->stopping; i++)
		feed(&B->conns[i], t);
}

/*
 * Close the current second of the series at time ${t}: its counts are
 * scaled to a rate over ${len} seconds (1 for a whole second).  Return
 * the entry, or NULL on allocation failure (printed).
 */
static struct bench_sec *
record_sec(struct bench *B, double t, double len)
{
	struct bench_result *res = B->res;
	struct kvbench_hist *h;
	struct bench_sec *s;

	if (res->nsecs == B->seccap) {
		B->seccap = B->seccap ? 2 * B->seccap : 64;
		s = realloc(res->secs, B->seccap * sizeof(*s));
		if (s == NULL) {
			warnp("realloc");
			return (NULL);
		}
		res->secs = s;
	}
	s = &res->secs[res->nsecs++];
	s->requests = (uint64_t)((double)B->sec_requests / len + 0.5);
	s->errors = B->sec_errors;
	s->p50 = kvbench_hist_quantile(&B->sec, 0.5);
	s->p99 = kvbench_hist_quantile(&B->sec, 0.99);
	s->max = B->sec.count ? B->sec.max : 0;
	s->warmup = (t - 0.5 < B->tmeasure);
	if (B->sh != NULL) {
		/* Kept so that the threads' seconds can be merged. */
		if ((h = realloc(res->sechist, B->seccap * sizeof(*h))) ==
		    NULL) {
			warnp("realloc");
			return (NULL);
		}
		res->sechist = h;
		h[res->nsecs - 1] = B->sec;
		atomic_fetch_add(&B->sh->requests, B->sec_requests);
		atomic_fetch_add(&B->sh->errors, B->sec_errors);
	}
	kvbench_hist_reset(&B->sec);
	B->sec_requests = B->sec_errors = 0;
	B->lastsec = t;
	return (s);
}

static void
tickcb(evutil_socket_t fd, short what, void *cookie)
{
	struct bench *B = cookie;
	struct bench_result *res = B->res;
	struct bench_sec *s;
	double t = now();
	size_t i, alive = 0;
	uint64_t all, errs;

	(void)fd;
	(void)what;
	B->nticks++;
	if ((s = record_sec(B, t, 1.0)) == NULL) {
		stop_sending(B);
		return;
	}
	if (B->cf->progress && B->sh != NULL) {
		/* Thread 0: every thread's count, its own p99. */
		all = atomic_load(&B->sh->requests);
		errs = atomic_load(&B->sh->errors);
		fprintf(stderr, "\r[%4u s]%s %10ju req/s  p99 %9.3f ms "
		    "(thread 1: so far %9.3f ms)  errors %ju so far  ",
		    B->nticks, s->warmup ? " warm-up" : "",
		    (uintmax_t)(all - B->shown), (double)s->p99 / 1e6,
		    (double)kvbench_hist_quantile(&res->all, 0.99) / 1e6,
		    (uintmax_t)errs);
		fflush(stderr);
		B->shown = all;
	} else if (B->cf->progress) {
		fprintf(stderr, "\r[%4u s]%s %10ju req/s  p99 %9.3f ms "
		    "(so far %9.3f ms)  errors %ju so far  in flight %zu  ",
		    B->nticks, s->warmup ? " warm-up" : "",
		    (uintmax_t)s->requests, (double)s->p99 / 1e6,
		    (double)kvbench_hist_quantile(&res->all, 0.99) / 1e6,
		    (uintmax_t)B->errors_total,
		    B->outstanding);
		fflush(stderr);
	}

	/* Closed loop: the clock may end the run between answers. */
	if (!B->stopping && sending_over(B, t))
		stop_sending(B);
	for (i = 0; i < B->cf->conns; i++)
		if (!B->conns[i].dead)
			alive++;
	if (alive == 0 && !B->stopping) {
		warn0("every connection failed");
		stop_sending(B);
	}
}

static void
draincb(evutil_socket_t fd, short what, void *cookie)
{
	struct bench *B = cookie;

	(void)fd;
	(void)what;
	event_base_loopbreak(B->base);
}

/* ------------------------------------------------------------- run */

static int
conn_open(struct bench *B, struct conn *c, const struct kvclient_opts *ko)
{
	size_t i;

	c->B = B;
	if ((c->K = kvclient_open(B->base, B->cf->target, ko)) == NULL)
		return (-1);
	if (!B->pairs && ((B->cf->keysize > kvclient_maxkey(c->K)) ||
	    (B->cf->valsize > kvclient_maxval(c->K)))) {
		warn0("the server allows keys of %zu and values of %zu bytes",
		    kvclient_maxkey(c->K), kvclient_maxval(c->K));
		return (-1);
	}
	if ((c->reqs = calloc(B->cf->inflight, sizeof(struct req))) == NULL) {
		warnp("calloc");
		return (-1);
	}
	for (i = 0; i < B->cf->inflight; i++) {
		c->reqs[i].c = c;
		c->reqs[i].next = (i + 1 < B->cf->inflight) ?
		    (uint32_t)(i + 1) : NOREQ;
	}
	c->freehead = 0;
	return (0);
}

/* One thread's run (all of it with one thread; ${sh} NULL then). */
static int
run1(const struct bench_conf *cf, struct bench_result *res,
    struct shared *sh)
{
	struct bench *B;
	struct kvclient_opts ko;
	struct timeval sec = { 1, 0 }, ms = { 0, 250 };
	struct event_config *ecf;
	uint8_t key[32];
	double t;
	size_t i;
	int t2, rc = -1, waited = 0;

	memset(res, 0, sizeof(*res));
	kvbench_hist_reset(&res->all);
	for (t2 = 0; t2 < BT_NTYPES; t2++)
		kvbench_hist_reset(&res->type[t2]);
	if ((B = calloc(1, sizeof(*B))) == NULL) {
		warnp("calloc");
		return (-1);
	}
	B->cf = cf;
	B->sh = sh;
	B->res = res;
	kvbench_hist_reset(&B->sec);
	kvbench_rng_seed(&B->rng, cf->seed);
	for (t2 = 0; t2 < BT_NTYPES; t2++) {
		B->mixtotal += cf->mix[t2];
		B->cummix[t2] = B->mixtotal;
	}
	if (sh != NULL)
		B->pairs = (uint8_t *)(uintptr_t)sh->pairs;
	else if (cf->stream && ((B->pairs = kvbench_pairs(cf->nkeys)) ==
	    NULL))
		goto err0;
	if (cf->dist == BD_ZIPF)
		zipf_init(B);
	for (i = 0; i < AHEAD; i++)
		B->ahead[i] = pick(B);
	/* Open loop: a 250 us pump needs timers finer than epoll's 1 ms. */
	if ((ecf = event_config_new()) == NULL) {
		warn0("event_config_new failed");
		goto err0;
	}
	if (cf->rate > 0)
		event_config_set_flag(ecf, EVENT_BASE_FLAG_PRECISE_TIMER);
	B->base = event_base_new_with_config(ecf);
	event_config_free(ecf);
	if (B->base == NULL) {
		warn0("event_base_new failed");
		goto err0;
	}
	if ((B->conns = calloc(cf->conns, sizeof(struct conn))) == NULL) {
		warnp("calloc");
		goto err1;
	}
	memset(&ko, 0, sizeof(ko));
	if (sh != NULL)
		ko = sh->ko;
	else if (cf->keyfile != NULL) {
		if (keyfile_load(cf->keyfile, &cf->kopts, key))
			goto err2;
		ko.key = key;
	}
	for (i = 0; i < cf->conns; i++)
		if (conn_open(B, &B->conns[i], &ko))
			goto err3;
	/* Every thread connected (or failed): start together. */
	if (sh != NULL) {
		waited = 1;
		(void)pthread_barrier_wait(&sh->start);
		if (atomic_load(&sh->failed))
			goto err3;
	}
	if (((B->tick = event_new(B->base, -1, EV_PERSIST, tickcb, B)) ==
	    NULL) || ((B->drainev = evtimer_new(B->base, draincb, B)) ==
	    NULL) || ((cf->rate > 0) && ((B->pump = event_new(B->base, -1,
	    EV_PERSIST, pumpcb, B)) == NULL))) {
		warn0("event_new failed");
		goto err3;
	}

	B->t0 = B->lastsec = now();
	B->tmeasure = B->t0 + cf->warmup;
	B->tend = B->tmeasure + cf->duration;
	B->limit = cf->requests;
	if ((B->limit > 0) && (cf->rate > 0))
		B->tend = B->t0 + cf->warmup + (double)cf->requests /
		    cf->rate;
	if (event_add(B->tick, &sec) || (B->pump && event_add(B->pump, &ms))) {
		warn0("event_add failed");
		goto err3;
	}
	for (i = 0; i < cf->conns; i++)
		feed(&B->conns[i], B->t0);
	if (!(B->stopping && B->outstanding == 0))
		event_base_dispatch(B->base);
	t = now();
	if (cf->progress)
		fprintf(stderr, "\n");
	/* The last, partial second, if it is long enough to mean much. */
	if ((B->sec_requests > 0) && (t - B->lastsec >= 0.5))
		(void)record_sec(B, t, t - B->lastsec);
	res->seconds = ((B->limit > 0) ? t : (t < B->tend ? t : B->tend)) -
	    B->tmeasure;
	res->unanswered = B->outstanding;
	rc = 0;

err3:
	for (i = 0; i < cf->conns; i++) {
		kvclient_free(B->conns[i].K);
		free(B->conns[i].reqs);
	}
	if (B->tick)
		event_free(B->tick);
	if (B->pump)
		event_free(B->pump);
	if (B->drainev)
		event_free(B->drainev);
	OPENSSL_cleanse(key, sizeof(key));
err2:
	free(B->conns);
err1:
	event_base_free(B->base);
err0:
	if (sh == NULL)
		free(B->pairs);
	free(B);
	if ((sh != NULL) && !waited) {
		/* Let the others go, and fail them. */
		atomic_store(&sh->failed, 1);
		(void)pthread_barrier_wait(&sh->start);
	}
	return (rc);
}

/* A thread of a run: its configuration, result and status. */
struct thread {
	struct bench_conf cf;
	struct bench_result res;
	struct shared *sh;
	pthread_t thr;
	int rc;
};

static void *
thread_main(void *cookie)
{
	struct thread *th = cookie;

	th->rc = run1(&th->cf, &th->res, th->sh);
	return (NULL);
}

/* Merge the results of the ${n} threads ${th} into ${res}. */
static int
merge(struct thread *th, size_t n, struct bench_result *res)
{
	struct kvbench_hist *h;
	struct bench_sec *s;
	size_t i, k, nsecs = 0;
	int t;

	if ((h = malloc(sizeof(*h))) == NULL) {
		warnp("malloc");
		return (-1);
	}
	for (i = 0; i < n; i++) {
		for (t = 0; t < BT_NTYPES; t++) {
			res->ok[t] += th[i].res.ok[t];
			res->no[t] += th[i].res.no[t];
			res->errors[t] += th[i].res.errors[t];
			kvbench_hist_merge(&res->type[t], &th[i].res.type[t]);
		}
		kvbench_hist_merge(&res->all, &th[i].res.all);
		res->unanswered += th[i].res.unanswered;
		if (th[i].res.seconds > res->seconds)
			res->seconds = th[i].res.seconds;
		if (th[i].res.nsecs > nsecs)
			nsecs = th[i].res.nsecs;
	}
	if ((nsecs > 0) &&
	    ((res->secs = calloc(nsecs, sizeof(*res->secs))) == NULL)) {
		warnp("calloc");
		free(h);
		return (-1);
	}
	for (k = 0; k < nsecs; k++) {
		s = &res->secs[k];
		kvbench_hist_reset(h);
		s->warmup = 1;
		for (i = 0; i < n; i++) {
			if (k >= th[i].res.nsecs)
				continue;
			s->requests += th[i].res.secs[k].requests;
			s->errors += th[i].res.secs[k].errors;
			s->warmup &= th[i].res.secs[k].warmup;
			kvbench_hist_merge(h, &th[i].res.sechist[k]);
		}
		s->p50 = kvbench_hist_quantile(h, 0.5);
		s->p99 = kvbench_hist_quantile(h, 0.99);
		s->max = h->count ? h->max : 0;
	}
	res->nsecs = nsecs;
	free(h);
	return (0);
}

/**
 * bench_run(conf, res):
 * Run the benchmark ${conf} describes and fill ${res}.
 */
int
bench_run(const struct bench_conf *cf, struct bench_result *res)
{
	struct shared sh;
	struct thread *th;
	uint8_t *pairs = NULL;
	uint8_t key[32];
	size_t T = cf->threads, i;
	uint64_t given = 0;
	int t, rc = -1;

	if (T <= 1)
		return (run1(cf, res, NULL));
	memset(res, 0, sizeof(*res));
	kvbench_hist_reset(&res->all);
	for (t = 0; t < BT_NTYPES; t++)
		kvbench_hist_reset(&res->type[t]);
	memset(&sh, 0, sizeof(sh));
	atomic_init(&sh.requests, 0);
	atomic_init(&sh.errors, 0);
	atomic_init(&sh.failed, 0);
	if ((th = calloc(T, sizeof(*th))) == NULL) {
		warnp("calloc");
		return (-1);
	}
	if (cf->stream && ((pairs = kvbench_pairs(cf->nkeys)) == NULL))
		goto err0;
	sh.pairs = pairs;
	if (cf->keyfile != NULL) {
		if (keyfile_load(cf->keyfile, &cf->kopts, key))
			goto err0;
		sh.ko.key = key;
	}
	if ((errno = pthread_barrier_init(&sh.start, NULL, (unsigned)T))) {
		warnp("pthread_barrier_init");
		goto err1;
	}

	/* Divide the connections, the rate and the request count. */
	for (i = 0; i < T; i++) {
		th[i].cf = *cf;
		th[i].cf.conns = cf->conns / T + (i < cf->conns % T);
		th[i].cf.rate = cf->rate * (double)th[i].cf.conns /
		    (double)cf->conns;
		/* In proportion to the connections, as the rate. */
		th[i].cf.requests = (uint64_t)((double)cf->requests *
		    (double)th[i].cf.conns / (double)cf->conns);
		given += th[i].cf.requests;
		th[i].cf.seed = cf->seed ^
		    ((uint64_t)i * 0x9e3779b97f4a7c15ULL);
		th[i].cf.progress = cf->progress && (i == 0);
		th[i].sh = &sh;
	}
	/* What rounding left goes to the first threads. */
	for (i = 0; given < cf->requests; i = (i + 1) % T, given++)
		th[i].cf.requests++;
	for (i = 0; i < T; i++)
		if ((cf->requests > 0) && (th[i].cf.requests == 0))
			th[i].cf.requests = 1;
	for (i = 0; i < T; i++) {
		if ((errno = pthread_create(&th[i].thr, NULL, thread_main,
		    &th[i])) != 0) {
			/* The others would wait for it forever. */
			warnp("pthread_create");
			exit(1);
		}
	}
	rc = 0;
	for (i = 0; i < T; i++) {
		pthread_join(th[i].thr, NULL);
		if (th[i].rc)
			rc = -1;
	}
	if ((rc == 0) && merge(th, T, res))
		rc = -1;
	for (i = 0; i < T; i++)
		bench_result_free(&th[i].res);
	pthread_barrier_destroy(&sh.start);
err1:
	OPENSSL_cleanse(key, sizeof(key));
err0:
	free(pairs);
	free(th);
	return (rc);
}

/**
 * bench_result_free(res):
 * Free what bench_run() allocated in ${res}.
 */
void
bench_result_free(struct bench_result *res)
{

	free(res->secs);
	res->secs = NULL;
	free(res->sechist);
	res->sechist = NULL;
	res->nsecs = 0;
}
