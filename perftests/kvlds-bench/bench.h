#ifndef BENCH_H_
#define BENCH_H_

/*
 * kvlds-bench internals: the load generator (bench.c) and its reports
 * (report.c).  main.c parses the command line into a struct bench_conf.
 */

#include <stddef.h>
#include <stdint.h>

#include "keyfile/keyfile.h"
#include "kvbench/kvbench_hist.h"

/* Request types of the mix, in this order everywhere. */
enum bench_type {
	BT_GET, BT_SET, BT_ADD, BT_MODIFY, BT_DELETE, BT_CAS, BT_CAD,
	BT_RANGE, BT_NTYPES
};

/* Key distributions. */
enum bench_dist {
	BD_UNIFORM, BD_SEQUENTIAL, BD_HOTSPOT, BD_ZIPF
};

struct bench_conf {
	const char *target;		/* -t */
	const char *keyfile;		/* -K */
	struct keyfile_opts kopts;	/* --passphrase etc. */
	unsigned int mix[BT_NTYPES];	/* --mix weights (percent) */
	enum bench_dist dist;		/* --dist */
	double hot_frac, hot_prob;	/* hotspot:F:P */
	double zipf_theta;		/* zipf:THETA */
	uint64_t nkeys;			/* --keys */
	size_t keysize, valsize;	/* --key-size, --value-size */
	int stream;			/* --stream: mkpairs keys */
	uint32_t range_bytes;		/* --range-bytes */
	size_t conns;			/* -c, --conns */
	size_t threads;			/* -T, --threads */
	size_t inflight;		/* --inflight (per connection) */
	double rate;			/* --rate (total/s; 0: closed loop) */
	double duration;		/* -d, --duration */
	uint64_t requests;		/* -n, --requests */
	double warmup;			/* --warmup */
	double drain;			/* --drain: wait for last answers */
	uint64_t seed;			/* --seed */
	const char *csv, *json, *plot;	/* outputs */
	int progress;			/* live progress line */
};

/* One second of the run. */
struct bench_sec {
	uint64_t requests;	/* completed in that second */
	uint64_t errors;
	uint64_t p50, p99, max;	/* ns */
	int warmup;
};

/* What a run produced. */
struct bench_result {
	double seconds;			/* measured period */
	uint64_t ok[BT_NTYPES], no[BT_NTYPES], errors[BT_NTYPES];
	uint64_t unanswered;		/* still outstanding after --drain */
	struct kvbench_hist all;
	struct kvbench_hist type[BT_NTYPES];
	struct bench_sec *secs;
	size_t nsecs;
	struct kvbench_hist *sechist;	/* Per second (threads only). */
};

/* Names of the request types, for the command line and the reports. */
extern const char * const bench_type_name[BT_NTYPES];

/**
 * bench_run(conf, res):
 * Run the benchmark ${conf} describes and fill ${res} (whose arrays the
 * caller frees with bench_result_free()).  With ${conf}->threads > 1 the
 * connections (at least one per thread), the rate and the request count
 * are divided between that many threads, each with its own event loop;
 * their results are merged (the per-second series second by second).
 * Return 0, or -1 on error (printed): connection failure at start, out
 * of memory.  Failures of requests during the run are counted, not
 * fatal.
 */
int bench_run(const struct bench_conf *, struct bench_result *);

/**
 * bench_result_free(res):
 * Free what bench_run() allocated in ${res}.
 */
void bench_result_free(struct bench_result *);

/**
 * report_summary(conf, res):
 * Print the summary table of ${res} on standard output.
 */
void report_summary(const struct bench_conf *, const struct bench_result *);

/**
 * report_csv(conf, res, path):
 * Write the per-second series and the histogram of ${res} to ${path} as
 * two comma-separated blocks (each with a header row), separated by two
 * blank lines (gnuplot's "index").  Return 0 or -1 (printed).
 */
int report_csv(const struct bench_conf *, const struct bench_result *,
    const char *);

/**
 * report_json(conf, res, path):
 * Write configuration, summary, per-second series and histogram of
 * ${res} to ${path} as one JSON object.  Return 0 or -1 (printed).
 */
int report_json(const struct bench_conf *, const struct bench_result *,
    const char *);

/**
 * report_plot(conf, res, path):
 * Draw throughput and p99 over time, and the latency distribution, into
 * ${path} (.png or .svg) with gnuplot.  Return 0 or -1 (printed).
 */
int report_plot(const struct bench_conf *, const struct bench_result *,
    const char *);

#endif /* !BENCH_H_ */
