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

/* The common command line of the workload programs. */
struct kvbench_opts {
	double warmup;		/* --warmup S */
	double seconds;		/* --seconds S */
	size_t inflight;	/* --inflight N: requests in flight. */
	uint64_t seed;		/* --seed N: PRNG seed. */
	uint64_t count;		/* --count N (tokyo). */
	const char *keyfile;	/* -K FILE: encrypted endpoint. */
	int quiet;		/* -q: no per-second lines. */
	const char *addr;	/* <socket>: first positional argument. */
	uint64_t n;		/* N: second positional argument. */
};

/* What kvbench_getopts() expects after the options. */
#define KVBENCH_ARGS_NONE	0	/* (mkpairs: N only, see below) */
#define KVBENCH_ARGS_ADDR	1	/* <socket> */
#define KVBENCH_ARGS_ADDR_N	2	/* <socket> N */
#define KVBENCH_ARGS_N		3	/* N */

/**
 * kvbench_getopts(argc, argv, opts, args, usage, warmup, seconds,
 *     inflight):
 * Parse the command line into ${opts}: the options --warmup S,
 * --seconds S (durations, lib/parse syntax), --inflight N, --seed N,
 * --count N, -K FILE, -q and --help, then the positional arguments
 * ${args} says.  ${warmup}, ${seconds} and ${inflight} are the defaults.
 * ${usage} is the synopsis printed (with the option list) by --help (to
 * standard output, then exit 0) or on an error (to standard error, then
 * exit 1): this function does not return on those.  Returns 0.
 */
int kvbench_getopts(int, char **, struct kvbench_opts *, int, const char *,
    double, double, size_t);

/**
 * kvbench_connect(base, opts):
 * Connect to ${opts}->addr (with the key file ${opts}->keyfile, if any)
 * in ${base}.  Return the client, or NULL (printed).
 */
struct kvclient * kvbench_connect(struct event_base *,
    const struct kvbench_opts *);

#endif /* !KVBENCH_H_ */
