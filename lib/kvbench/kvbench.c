#include <sys/mman.h>
#include <sys/resource.h>

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "keyfile/keyfile.h"
#include "kvclient/kvclient.h"
#include "log/log.h"
#include "parse/parse.h"
#include "sysendian/sysendian.h"

#include "kvbench.h"

#define HUGEPAGE	((size_t)2 << 20)

/**
 * kvbench_pair(i, pair):
 * Write pair number ${i} (key then value) into ${pair}.
 */
void
kvbench_pair(uint64_t i, uint8_t *pair)
{
	uint8_t buf[17];
	uint8_t h[32];

	buf[0] = 0;
	be64enc(&buf[1], i >> 16);
	be64enc(&buf[9], i & 0xffff);
	SHA256(buf, sizeof(buf), h);
	memcpy(pair, &buf[1], 8);
	memcpy(pair + 8, h, 32);
	be64enc(pair + KVBENCH_KEYLEN, i);
	memcpy(pair + KVBENCH_KEYLEN + 8, h, 32);
}

static int
paircmp(const void *a, const void *b)
{

	return (memcmp(a, b, KVBENCH_KEYLEN));
}

/**
 * kvbench_block(x, ny, out):
 * Write the sorted pairs of block ${x} with Y < ${ny} into ${out}.
 */
void
kvbench_block(uint64_t x, size_t ny, uint8_t *out)
{
	size_t y;

	for (y = 0; y < ny; y++)
		kvbench_pair((x << 16) | y, out + y * KVBENCH_PAIRLEN);
	qsort(out, ny, KVBENCH_PAIRLEN, paircmp);
}

/**
 * kvbench_pairs(n):
 * Return the stream of ${n} pairs, in stream order.
 */
uint8_t *
kvbench_pairs(uint64_t n)
{
	uint8_t *pairs;
	uint64_t x, i;
	size_t ny, len;

	if ((n == 0) || (n > SIZE_MAX / KVBENCH_PAIRLEN)) {
		warn0("bad number of pairs: %ju", (uintmax_t)n);
		return (NULL);
	}
	/*
	 * Random lookups into a table of tens of megabytes miss the TLB on
	 * every request with 4 kB pages: ask for transparent huge pages.
	 */
	len = n * KVBENCH_PAIRLEN;
	len = (len + HUGEPAGE - 1) / HUGEPAGE * HUGEPAGE;
	if ((pairs = aligned_alloc(HUGEPAGE, len)) == NULL) {
		warnp("aligned_alloc");
		return (NULL);
	}
	(void)madvise(pairs, len, MADV_HUGEPAGE);
	for (x = 0, i = 0; i < n; x++) {
		ny = (n - i > KVBENCH_BLOCK) ? KVBENCH_BLOCK : (size_t)(n - i);
		kvbench_block(x, ny, pairs + i * KVBENCH_PAIRLEN);
		i += ny;
	}
	return (pairs);
}

static uint64_t
splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31));
}

/**
 * kvbench_rng_seed(r, seed):
 * Seed ${r} from ${seed}.
 */
void
kvbench_rng_seed(struct kvbench_rng *r, uint64_t seed)
{
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = splitmix(&seed);
}

static uint64_t
rotl(uint64_t x, int k)
{

	return ((x << k) | (x >> (64 - k)));
}

/**
 * kvbench_rng_next(r):
 * Return the next 64 random bits of ${r}.
 */
uint64_t
kvbench_rng_next(struct kvbench_rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return (res);
}

/**
 * kvbench_rng_below(r, n):
 * Return a uniform integer in [0, ${n}).
 */
uint64_t
kvbench_rng_below(struct kvbench_rng *r, uint64_t n)
{
	uint64_t x, lim = UINT64_MAX - (UINT64_MAX % n);

	do {
		x = kvbench_rng_next(r);
	} while (x >= lim);
	return (x % n);
}

/**
 * kvbench_uniform_init(u, pairs, n, seed):
 * Start ${u} drawing among the ${n} pairs of ${pairs}.
 */
void
kvbench_uniform_init(struct kvbench_uniform *u, const uint8_t *pairs,
    uint64_t n, uint64_t seed)
{
	size_t i;

	kvbench_rng_seed(&u->rng, seed);
	u->pairs = pairs;
	u->n = n;
	for (i = 0; i < KVBENCH_AHEAD; i++)
		u->next[i] = kvbench_rng_below(&u->rng, n);
	u->pos = 0;
}

/**
 * kvbench_uniform_next(u):
 * Return the next random pair.
 */
const uint8_t *
kvbench_uniform_next(struct kvbench_uniform *u)
{
	const uint8_t *p = u->pairs + u->next[u->pos] * KVBENCH_PAIRLEN;

	u->next[u->pos] = kvbench_rng_below(&u->rng, u->n);
	__builtin_prefetch(u->pairs + u->next[u->pos] * KVBENCH_PAIRLEN);
	u->pos = (u->pos + 1) % KVBENCH_AHEAD;
	return (p);
}

static int
u64cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return ((x > y) - (x < y));
}

/**
 * kvbench_median(v, n):
 * Return the median of the ${n} values ${v} (sorted in place).
 */
uint64_t
kvbench_median(uint64_t *v, size_t n)
{

	if (n == 0)
		return (0);
	qsort(v, n, sizeof(*v), u64cmp);
	if (n % 2)
		return (v[n / 2]);
	return (v[n / 2 - 1] / 2 + v[n / 2] / 2 +
	    ((v[n / 2 - 1] % 2) + (v[n / 2] % 2)) / 2);
}

/* ---------------------------------------------------------------- */

struct kvbench_meter {
	struct event_base *base;
	struct event *tick;
	double warmup, seconds;
	FILE *out;
	int style;
	double start, last;
	uint64_t total, lasttotal;
	uint64_t *rates;
	size_t nrates, cap;
	unsigned int sec;
	int done;
	int recording;
	double prev_t, prev_cpu, last_cpu;
	double rec_t0, rec_cpu0;	/* Start of the recording period. */
	double rec_t1, rec_cpu1;	/* Its end. */
	uint64_t (*pull)(void *);	/* The count's source, if set. */
	void *pullcookie;
};

static double
cputime(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return (0);
	return ((double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	    ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) *
	    1e-6);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec * 1e-9);
}

static int
record(struct kvbench_meter *m, uint64_t rate)
{
	uint64_t *p;

	if (m->nrates == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 128;
		if ((p = realloc(m->rates, m->cap * sizeof(*p))) == NULL) {
			warnp("realloc");
			return (-1);
		}
		m->rates = p;
	}
	m->rates[m->nrates++] = rate;
	return (0);
}

static void
finish(struct kvbench_meter *m)
{

	m->rec_t1 = now();
	m->rec_cpu1 = cputime();
	m->done = 1;
	event_del(m->tick);
	event_base_loopbreak(m->base);
}

static void
tickcb(evutil_socket_t fd, short what, void *cookie)
{
	struct kvbench_meter *m = cookie;
	double t = now();
	uint64_t n, rate;
	int warm = (t - m->start) < m->warmup + 0.5;

	if (m->pull != NULL)
		m->total = m->pull(m->pullcookie);
	n = m->total - m->lasttotal;
	rate = (uint64_t)((double)n / (t - m->last) + 0.5);
	(void)fd;
	(void)what;
	m->prev_t = m->last;
	m->prev_cpu = m->last_cpu;
	m->last_cpu = cputime();
	m->last = t;
	m->lasttotal = m->total;
	m->sec++;
	if (m->out != NULL) {
		if (m->style == KVBENCH_PRINT_SIZERATE)
			fprintf(m->out, "%ju %ju\n", (uintmax_t)m->total,
			    (uintmax_t)rate);
		else
			fprintf(m->out, "%s%u %ju\n", warm ? "w" : "",
			    m->sec, (uintmax_t)rate);
		fflush(m->out);
	}
	if (warm)
		return;
	if (!m->recording) {
		/* The first recorded second started at the previous tick. */
		m->recording = 1;
		m->rec_t0 = m->prev_t;
		m->rec_cpu0 = m->prev_cpu;
	}
	if (record(m, rate)) {
		finish(m);
		return;
	}
	if ((m->seconds > 0) && (m->nrates >= (size_t)(m->seconds + 0.5)))
		finish(m);
}

/**
 * kvbench_meter_new(base, warmup, seconds, out, style):
 * Create a meter in ${base}, started now.
 */
struct kvbench_meter *
kvbench_meter_new(struct event_base *base, double warmup, double seconds,
    FILE *out, int style)
{
	struct kvbench_meter *m;
	struct timeval tv = { 1, 0 };

	if ((m = calloc(1, sizeof(*m))) == NULL) {
		warnp("calloc");
		return (NULL);
	}
	m->base = base;
	m->warmup = warmup;
	m->seconds = seconds;
	m->out = out;
	m->style = style;
	m->start = m->last = now();
	m->last_cpu = cputime();
	if (warmup <= 0) {
		m->recording = 1;
		m->rec_t0 = m->start;
		m->rec_cpu0 = m->last_cpu;
	}
	if ((m->tick = event_new(base, -1, EV_PERSIST, tickcb, m)) == NULL) {
		warn0("event_new failed");
		free(m);
		return (NULL);
	}
	if (event_add(m->tick, &tv)) {
		warn0("event_add failed");
		event_free(m->tick);
		free(m);
		return (NULL);
	}
	return (m);
}

/**
 * kvbench_meter_add(m, n):
 * Count ${n} completions.
 */
void
kvbench_meter_add(struct kvbench_meter *m, uint64_t n)
{

	m->total += n;
}

/**
 * kvbench_meter_pull(m, fn, cookie):
 * Take the count from ${fn}(${cookie}) at every tick.
 */
void
kvbench_meter_pull(struct kvbench_meter *m, uint64_t (*fn)(void *),
    void *cookie)
{

	m->pull = fn;
	m->pullcookie = cookie;
}

/**
 * kvbench_meter_done(m):
 * Return non-zero once the recording period is over.
 */
int
kvbench_meter_done(const struct kvbench_meter *m)
{

	return (m->done);
}

/**
 * kvbench_meter_stop(m):
 * End the measurement now.
 */
void
kvbench_meter_stop(struct kvbench_meter *m)
{
	double t = now();
	uint64_t n;

	if (m->done)
		return;
	if (m->pull != NULL)
		m->total = m->pull(m->pullcookie);
	n = m->total - m->lasttotal;
	if ((m->nrates == 0) && (t > m->last))
		(void)record(m, (uint64_t)((double)n / (t - m->last) + 0.5));
	finish(m);
}

/**
 * kvbench_meter_total(m):
 * Return the completions counted since the meter started.
 */
uint64_t
kvbench_meter_total(const struct kvbench_meter *m)
{

	return (m->total);
}

/**
 * kvbench_meter_median(m):
 * Return the median of the recorded per-second rates.
 */
uint64_t
kvbench_meter_median(struct kvbench_meter *m)
{

	return (kvbench_median(m->rates, m->nrates));
}

/**
 * kvbench_meter_cpu(m):
 * Return the CPU time used during the recording period as a fraction of
 * its wall-clock time.
 */
double
kvbench_meter_cpu(const struct kvbench_meter *m)
{

	if (!m->recording || !m->done || m->rec_t1 <= m->rec_t0)
		return (0);
	return ((m->rec_cpu1 - m->rec_cpu0) / (m->rec_t1 - m->rec_t0));
}

/**
 * kvbench_meter_report(m, quiet):
 * Print the client CPU line (unless ${quiet}) and the median.
 */
void
kvbench_meter_report(struct kvbench_meter *m, int quiet)
{

	if (!quiet)
		printf("client-cpu %.1f%%\n", 100 * kvbench_meter_cpu(m));
	printf("%ju\n", (uintmax_t)kvbench_meter_median(m));
}

/**
 * kvbench_meter_free(m):
 * Free ${m}.  NULL is a no-op.
 */
void
kvbench_meter_free(struct kvbench_meter *m)
{

	if (m == NULL)
		return;
	event_free(m->tick);
	free(m->rates);
	free(m);
}

/* ---------------------------------------------------------------- */

static void
usage(FILE *f, const char *prog, const struct kvbench_cmdline *cl)
{

	fprintf(f, "usage: %s [options] %s\n"
	    "options:\n"
	    "  --warmup S     warm-up period, not recorded (default %g s)\n"
	    "  --seconds S    recording period (default %g s)\n"
	    "  --inflight N   %s (default %zu)\n",
	    prog, cl->synopsis, cl->warmup, cl->seconds,
	    cl->inflight_help ? cl->inflight_help : cl->threads ?
	    "requests in flight in total, split between the\n"
	    "                 threads' connections" :
	    "requests in flight on the connection", cl->inflight);
	if (cl->threads > 0)
		fprintf(f, "  -T, --threads N  client threads, each with its "
		    "own event loop and\n"
		    "                 connection (default %zu); the figure is "
		    "their total\n", cl->threads);
	fprintf(f,
	    "  --seed N       seed of the random key choice (default 0)\n"
	    "  --count N      number of requests (tokyo)\n"
	    "  -K FILE        key file of an encrypted endpoint\n"
	    "%s"
	    "  -q             no per-second lines, only the figure\n"
	    "  --help         this text\n"
	    "<socket> is a Unix socket path, host:port or [v6addr]:port.\n"
	    "Prints per-second figures, then as the last line the median of "
	    "the\nper-second completion counts over the recording period.\n",
	    keyfile_opts_usage);
}

/**
 * kvbench_getopts(argc, argv, opts, cl):
 * Parse the common command line into ${opts}; exits on --help or error.
 */
int
kvbench_getopts(int argc, char **argv, struct kvbench_opts *opts,
    const struct kvbench_cmdline *cl)
{
	static const struct option longopts[] = {
		{ "warmup", required_argument, NULL, 'w' },
		{ "seconds", required_argument, NULL, 's' },
		{ "inflight", required_argument, NULL, 'i' },
		{ "threads", required_argument, NULL, 'T' },
		{ "seed", required_argument, NULL, 'S' },
		{ "count", required_argument, NULL, 'c' },
		{ "passphrase", required_argument, NULL, 'k' },
		{ "max-memory", required_argument, NULL, 'k' },
		{ "max-time", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *prog = argv[0];
	uint64_t u;
	int ch, npos, li;

	log_init(argv[0]);
	memset(opts, 0, sizeof(*opts));
	opts->warmup = cl->warmup;
	opts->seconds = cl->seconds;
	opts->inflight = cl->inflight;
	opts->threads = cl->threads ? cl->threads : 1;
	while ((ch = getopt_long(argc, argv, "K:qT:", longopts, &li)) != -1) {
		switch (ch) {
		case 'w':
			if (parse_duration(optarg, &opts->warmup)) {
				warnp("--warmup %s", optarg);
				goto bad;
			}
			break;
		case 's':
			if (parse_duration(optarg, &opts->seconds) ||
			    (opts->seconds < 1)) {
				warn0("--seconds %s: need at least 1 s",
				    optarg);
				goto bad;
			}
			break;
		case 'i':
			if (parse_uint64(optarg, 1, 1 << 20, &u)) {
				warnp("--inflight %s", optarg);
				goto bad;
			}
			opts->inflight = (size_t)u;
			break;
		case 'T':
			if (cl->threads == 0) {
				warn0("-T: this program runs one connection");
				goto bad;
			}
			if (parse_uint64(optarg, 1, 64, &u)) {
				warnp("-T %s (1 to 64)", optarg);
				goto bad;
			}
			opts->threads = (size_t)u;
			break;
		case 'S':
			if (parse_uint64(optarg, 0, UINT64_MAX, &opts->seed)) {
				warnp("--seed %s", optarg);
				goto bad;
			}
			break;
		case 'c':
			if (parse_uint64(optarg, 1, UINT64_MAX, &opts->count)) {
				warnp("--count %s", optarg);
				goto bad;
			}
			break;
		case 'k':
			if (keyfile_option(&opts->kopts, longopts[li].name,
			    optarg) != 1)
				goto bad;
			break;
		case 'K':
			opts->keyfile = optarg;
			break;
		case 'q':
			opts->quiet = 1;
			break;
		case 'h':
			usage(stdout, prog, cl);
			exit(0);
		default:
			goto bad;
		}
	}
	argc -= optind;
	argv += optind;
	npos = (cl->args == KVBENCH_ARGS_ADDR_N) ? 2 :
	    (cl->args == KVBENCH_ARGS_NONE) ? 0 : 1;
	if (argc != npos) {
		warn0("wrong number of arguments");
		goto bad;
	}
	if ((cl->args == KVBENCH_ARGS_ADDR) ||
	    (cl->args == KVBENCH_ARGS_ADDR_N))
		opts->addr = argv[0];
	if ((cl->args == KVBENCH_ARGS_ADDR_N) || (cl->args == KVBENCH_ARGS_N)) {
		if (parse_uint64(argv[npos - 1], 1, (uint64_t)1 << 40,
		    &opts->n)) {
			warnp("N = %s", argv[npos - 1]);
			goto bad;
		}
	}
	if (opts->inflight < opts->threads)
		opts->inflight = opts->threads;
	return (0);

bad:
	usage(stderr, prog, cl);
	exit(1);
}

/**
 * kvbench_connect(base, opts):
 * Connect to ${opts}->addr in ${base}.
 */
struct kvclient *
kvbench_connect(struct event_base *base, const struct kvbench_opts *opts)
{
	struct kvclient_opts ko;
	struct kvclient *K;
	uint8_t key[32];

	memset(&ko, 0, sizeof(ko));
	if (opts->keyfile != NULL) {
		if (keyfile_load(opts->keyfile, &opts->kopts, key))
			return (NULL);
		ko.key = key;
	}
	K = kvclient_open(base, opts->addr, &ko);
	OPENSSL_cleanse(key, sizeof(key));
	return (K);
}
