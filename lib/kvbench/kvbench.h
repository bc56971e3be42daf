#ifndef KVBENCH_H_
#define KVBENCH_H_

/*
 * kvbench: what the standard workload programs (perftests/<name>/) share:
 * the deterministic pair stream of kivaloo's mkpairs, a fast PRNG, the
 * per-second completion meter with its warm-up and recording periods and
 * the median figure, and the common command line.
 *
 * The pair stream (spec: benchmarks.md).  For pair number i, X = i >> 16
 * and Y = i & 0xffff, each as 8 big-endian bytes; h = SHA256(0x00 || X
 * || Y); key = X || h; value = (X * 2^16 + Y) as 8 big-endian bytes || h.
 * A stream of N pairs is written key0 value0 key1 value1 ... in key
 * order: block by block (all pairs of one X), sorted by h inside a block.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "keyfile/keyfile.h"

struct event_base;
struct kvclient;

/* Sizes of one pair of the stream. */
#define KVBENCH_KEYLEN	40
#define KVBENCH_VALLEN	40
#define KVBENCH_PAIRLEN	(KVBENCH_KEYLEN + KVBENCH_VALLEN)

/* Pairs per X block. */
#define KVBENCH_BLOCK	65536

/**
 * kvbench_pair(i, pair):
 * Write pair number ${i} (key then value, KVBENCH_PAIRLEN bytes) into
 * ${pair}.
 */
void kvbench_pair(uint64_t, uint8_t *);

/**
 * kvbench_block(x, ny, out):
 * Write the pairs with X = ${x} and Y = 0 .. ${ny} - 1 (${ny} <=
 * KVBENCH_BLOCK) into ${out} (${ny} * KVBENCH_PAIRLEN bytes), sorted by
 * key, as they appear in the stream.
 */
void kvbench_block(uint64_t, size_t, uint8_t *);

/**
 * kvbench_pairs(n):
 * Return a newly allocated array holding the stream of ${n} pairs, in
 * stream (key) order, KVBENCH_PAIRLEN bytes each (key then value); the
 * caller frees it with free(3).  NULL on error (printed).
 */
uint8_t * kvbench_pairs(uint64_t);

/* A small fast PRNG (xoshiro256**); not for cryptography. */
struct kvbench_rng {
	uint64_t s[4];
};

/**
 * kvbench_rng_seed(r, seed):
 * Seed ${r} from ${seed} (any value, 0 included).
 */
void kvbench_rng_seed(struct kvbench_rng *, uint64_t);

/**
 * kvbench_rng_next(r):
 * Return the next 64 random bits of ${r}.
 */
uint64_t kvbench_rng_next(struct kvbench_rng *);

/**
 * kvbench_rng_below(r, n):
 * Return a uniformly distributed integer in [0, ${n}) (${n} > 0).
 */
uint64_t kvbench_rng_below(struct kvbench_rng *, uint64_t);

/*
 * Uniformly random pairs of a pair table, drawn KVBENCH_AHEAD picks
 * ahead so that each pair is prefetched well before it is used (the
 * table is tens of megabytes: a pair is a cache miss).  The pairs come
 * in the order the PRNG draws them, as if drawn one at a time.
 */
#define KVBENCH_AHEAD	16
struct kvbench_uniform {
	struct kvbench_rng rng;
	const uint8_t *pairs;
	uint64_t n;
	uint64_t next[KVBENCH_AHEAD];
	size_t pos;
};

/**
 * kvbench_uniform_init(u, pairs, n, seed):
 * Start ${u} drawing among the ${n} pairs of ${pairs} (KVBENCH_PAIRLEN
 * bytes each; kept by pointer) with the PRNG seeded from ${seed}.
 */
void kvbench_uniform_init(struct kvbench_uniform *, const uint8_t *,
    uint64_t, uint64_t);

/**
 * kvbench_uniform_next(u):
 * Return the next random pair (key, then value).
 */
const uint8_t * kvbench_uniform_next(struct kvbench_uniform *);

/**
 * kvbench_median(v, n):
 * Return the median of the ${n} values ${v} (sorted in place): the
 * middle one, or the mean of the two middle ones rounded down; 0 if ${n}
 * is 0.
 */
uint64_t kvbench_median(uint64_t *, size_t);

/*
 * The meter: counts completions, and once a second (on a timer in the
 * event_base) turns the count since the last tick into a per-second rate
 * (scaled by the true elapsed time).  The first ${warmup} seconds are
 * printed but not recorded; then ${seconds} seconds are recorded, after
 * which the meter calls event_base_loopbreak() and reports itself done.
 * ${seconds} == 0 records until kvbench_meter_stop().
 *
 * Output, to the FILE given (normally stdout), one line per second:
 *	KVBENCH_PRINT_SECONDS	"<second> <rate>" ("w" before the second
 *				number during the warm-up)
 *	KVBENCH_PRINT_SIZERATE	"<total so far> <rate>" (bulk_insert)
 */
struct kvbench_meter;

#define KVBENCH_PRINT_SECONDS	0
#define KVBENCH_PRINT_SIZERATE	1

/**
 * kvbench_meter_new(base, warmup, seconds, out, style):
 * Create a meter in ${base}, started now, printing to ${out} (NULL:
 * nothing) in ${style}.  Return it, or NULL (printed).
 */
struct kvbench_meter * kvbench_meter_new(struct event_base *, double,
    double, FILE *, int);

/**
 * kvbench_meter_add(m, n):
 * Count ${n} completions.
 */
void kvbench_meter_add(struct kvbench_meter *, uint64_t);

/**
 * kvbench_meter_done(m):
 * Return non-zero once the recording period is over (or the meter was
 * stopped).
 */
int kvbench_meter_done(const struct kvbench_meter *);

/**
 * kvbench_meter_stop(m):
 * End the measurement now (e.g. the input ran out): the partial second
 * since the last tick is recorded too if no whole second was, and the
 * meter is done.
 */
void kvbench_meter_stop(struct kvbench_meter *);

/**
 * kvbench_meter_total(m):
 * Return the number of completions counted since the meter started.
 */
uint64_t kvbench_meter_total(const struct kvbench_meter *);

/**
 * kvbench_meter_median(m):
 * Return the median of the recorded per-second rates (0 if none).
 */
uint64_t kvbench_meter_median(struct kvbench_meter *);

/**
 * kvbench_meter_cpu(m):
 * Return the CPU time (user + system) this process used during the
 * recording period, as a fraction of the period's wall-clock time (1.0 =
 * one core busy all the time): a client far below 1.0 was not the
 * bottleneck.
 */
double kvbench_meter_cpu(const struct kvbench_meter *);

/**
 * kvbench_meter_report(m, quiet):
 * Print the result of ${m} to standard output: unless ${quiet}, a line
 * "client-cpu P%" (kvbench_meter_cpu()); then, always as the last line,
 * the median of the recorded per-second rates.
 */
void kvbench_meter_report(struct kvbench_meter *, int);

/**
 * kvbench_meter_free(m):
 * Free ${m}.  NULL is a no-op.
 */
void kvbench_meter_free(struct kvbench_meter *);

/**
 * kvbench_meter_pull(m, fn, cookie):
 * Make ${m} take its count from ${fn}(${cookie}) at every tick (and at
 * kvbench_meter_stop()): ${fn} returns the number of completions since
 * the meter started, for instance the sum of per-thread counters.  The
 * count then no longer comes from kvbench_meter_add().
 */
void kvbench_meter_pull(struct kvbench_meter *, uint64_t (*)(void *),
    void *);

/* The common command line of the workload programs. */
struct kvbench_opts {
	double warmup;		/* --warmup S */
	double seconds;		/* --seconds S */
	size_t inflight;	/* --inflight N: requests in flight. */
	size_t threads;		/* -T N: client threads. */
	uint64_t seed;		/* --seed N: PRNG seed. */
	uint64_t count;		/* --count N (tokyo). */
	const char *keyfile;	/* -K FILE: encrypted endpoint. */
	struct keyfile_opts kopts; /* --passphrase etc., for -K. */
	int quiet;		/* -q: no per-second lines. */
	const char *addr;	/* <socket>: first positional argument. */
	uint64_t n;		/* N: second positional argument. */
};

/* What kvbench_getopts() expects after the options. */
#define KVBENCH_ARGS_NONE	0	/* (mkpairs: N only, see below) */
#define KVBENCH_ARGS_ADDR	1	/* <socket> */
#define KVBENCH_ARGS_ADDR_N	2	/* <socket> N */
#define KVBENCH_ARGS_N		3	/* N */

/* A program's command line: its synopsis, arguments and defaults. */
struct kvbench_cmdline {
	const char *synopsis;	/* After "usage: prog [options] ". */
	int args;		/* KVBENCH_ARGS_* */
	double warmup;		/* --warmup default. */
	double seconds;		/* --seconds default. */
	size_t inflight;	/* --inflight default. */
	size_t threads;		/* -T default; 0: no -T (one thread). */
	const char *inflight_help; /* What --inflight counts (or NULL). */
};

/**
 * kvbench_getopts(argc, argv, opts, cl):
 * Parse the command line into ${opts}: the options --warmup S,
 * --seconds S (durations, lib/parse syntax), --inflight N, -T/--threads
 * N (if ${cl}->threads > 0), --seed N, --count N, -K FILE,
 * --passphrase, --max-memory and --max-time (lib/keyfile's, for -K), -q
 * and --help, then the positional arguments ${cl}->args says, with the
 * defaults in ${cl}.  ${cl}->synopsis is printed (with the option list)
 * by --help (to standard output, then exit 0) or on an error (to
 * standard error, then exit 1): this function does not return on those.
 * Returns 0.
 */
int kvbench_getopts(int, char **, struct kvbench_opts *,
    const struct kvbench_cmdline *);

/**
 * kvbench_connect(base, opts):
 * Connect to ${opts}->addr (with the key file ${opts}->keyfile, if any,
 * read with ${opts}->kopts) in ${base}.  Return the client, or NULL
 * (printed).
 */
struct kvclient * kvbench_connect(struct event_base *,
    const struct kvbench_opts *);

/* ---------------------------------------------------------------- */
/*
 * The driver of the closed-loop workloads (random_read, random_mixed,
 * bulk_update, hotspot_read, bulk_extract): kvbench_run() parses the
 * command line, builds the pair table, connects, meters, keeps requests
 * in flight, prints the figure and tears everything down.  A program
 * supplies only how to send a request and what to do with its answer.
 *
 * Threads: the load comes from opts.threads client threads (-T), each
 * with its own event loop and its own connection, and --inflight
 * requests in flight in total (split evenly between the connections).
 * Each thread counts its completions in its own counter; the meter
 * (in the first thread, which is the calling thread) adds them up once a
 * second, so the figure is the total completed per second, whatever T.
 * Each thread's callbacks run in that thread only; state shared between
 * threads (the pair table, the tool's ${arg}) must be read-only, or
 * updated atomically.
 */
struct kvbench_thread;

struct kvbench_workload {
	struct kvbench_cmdline cl;
	int pairs;		/* Build the table of the N stream pairs. */
	void *arg;		/* The tool's shared state. */

	/*
	 * setup(opts, arg): once, after the command line and the pair
	 * table, before any connection: check the options, prepare ${arg}.
	 * 0, or -1 (printed) to exit 1.  May be NULL.
	 */
	int (*setup)(const struct kvbench_opts *, void *);

	/*
	 * init(th): per thread, before its first request, with the
	 * thread's state allocated (zeroed, ${statesize} bytes, freed by
	 * kvbench_run()): set it up.  0 or -1 (printed).  May be NULL.
	 */
	size_t statesize;
	int (*init)(struct kvbench_thread *);

	/*
	 * prime(th, n): start the thread's load with ${n} requests in
	 * flight.  NULL: call issue() ${n} times.  0 or -1.
	 */
	int (*prime)(struct kvbench_thread *, size_t);

	/*
	 * issue(th): send one request on kvbench_thread_client(th), with a
	 * callback that calls kvbench_complete() and then, if that returns
	 * non-zero, issue() again (kvbench_getcb and kvbench_statuscb do
	 * just that).  0, or -1 if it could not be sent.  Needed unless
	 * prime() sends everything itself (as bulk_extract's walkers do).
	 */
	int (*issue)(struct kvbench_thread *);

	/* fini(th): free what init() or prime() allocated.  May be NULL. */
	void (*fini)(struct kvbench_thread *);
};

/**
 * kvbench_run(argc, argv, w):
 * Run the workload ${w} as the whole program: parse the command line
 * (kvbench_getopts() with ${w}->cl), build the pair table if
 * ${w}->pairs (N pairs), call ${w}->setup, open one connection per
 * thread, start the meter (per-second lines unless -q), prime each
 * thread, run until the recording period is over, and print the figure
 * (kvbench_meter_report()).  Return the exit status: 0, or 1 after
 * printing "benchmark failed" (a connection failed, a request could not
 * be sent, or setup failed).
 */
int kvbench_run(int, char **, const struct kvbench_workload *);

/**
 * kvbench_complete(th, status, n):
 * Count ${n} completions in ${th} after an answer of status ${status}.
 * Return non-zero if the thread should send another request (the run
 * goes on and the answer was not KVCLIENT_FAIL), 0 otherwise; a failure
 * ends the run with an error.
 */
int kvbench_complete(struct kvbench_thread *, int, uint64_t);

/**
 * kvbench_getcb(cookie, status, value, valuelen),
 *     kvbench_statuscb(cookie, status):
 * Ready-made kvclient callbacks for workloads that count one completion
 * per answer: with the thread as ${cookie}, kvbench_complete(th, status,
 * 1), then the workload's issue() if that says so (a failure to send
 * ends the run with an error).
 */
void kvbench_getcb(void *, int, const uint8_t *, size_t);
void kvbench_statuscb(void *, int);

/**
 * kvbench_uniform_thread(th):
 * A ready-made init() for workloads whose thread state begins with a
 * struct kvbench_uniform: start it on the pair table with the thread's
 * seed.  Returns 0.
 */
int kvbench_uniform_thread(struct kvbench_thread *);

/**
 * kvbench_thread_fail(th):
 * End the run with an error (e.g. issue() failed in a callback).
 */
void kvbench_thread_fail(struct kvbench_thread *);

/**
 * kvbench_thread_client(th), kvbench_thread_opts(th),
 *     kvbench_thread_pairs(th), kvbench_thread_arg(th),
 *     kvbench_thread_index(th), kvbench_thread_seed(th),
 *     kvbench_thread_state(th):
 * The thread's connection; the parsed options (opts->threads threads);
 * the pair table (NULL unless ${w}->pairs); the workload's ${arg}; the
 * thread's number (0 .. threads - 1); a PRNG seed for the thread (the
 * --seed value for thread 0, others derived from it); the state set
 * allocated for it (${w}->statesize bytes) or set with
 * kvbench_thread_setstate().
 */
struct kvclient * kvbench_thread_client(struct kvbench_thread *);
const struct kvbench_opts * kvbench_thread_opts(struct kvbench_thread *);
const uint8_t * kvbench_thread_pairs(struct kvbench_thread *);
void * kvbench_thread_arg(struct kvbench_thread *);
size_t kvbench_thread_index(struct kvbench_thread *);
uint64_t kvbench_thread_seed(struct kvbench_thread *);
void * kvbench_thread_state(struct kvbench_thread *);

/**
 * kvbench_thread_setstate(th, state):
 * Attach ${state} to ${th} instead (freed by the workload's fini;
 * only if ${w}->statesize is 0).
 */
void kvbench_thread_setstate(struct kvbench_thread *, void *);

#endif /* !KVBENCH_H_ */
