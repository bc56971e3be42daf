/*
 * kvlds-bench: a general load generator for kvlds (see usage()).
 * main.c parses the command line; bench.c runs the load; report.c
 * prints and writes the results.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keyfile/keyfile.h"
#include "log/log.h"
#include "parse/parse.h"

#include "bench.h"

static void
usage(FILE *f)
{

	fprintf(f,
"usage: kvlds-bench -t <address> [-K <key file>] [options]\n"
"Load a kvlds server and report throughput and latency.\n"
"\n"
"target\n"
"  -t ADDR            Unix socket path, host:port or [v6]:port (e.g. the\n"
"                     plaintext side of a spiped -e)\n"
"  -K FILE            key file of an encrypted endpoint (see below for\n"
"                     a passphrase-protected one)\n"
"load\n"
"  --mix SPEC         request mix by percentage, e.g. get=90,set=10;\n"
"                     types: get set add modify delete cas cad range\n"
"                     (default get=90,set=10)\n"
"  --dist D           key distribution: uniform (default), sequential,\n"
"                     hotspot[:FRACTION[:PROB]] (PROB of the requests go\n"
"                     to the first FRACTION of the keys; default\n"
"                     0.01:0.9), zipf[:THETA] (default 0.99)\n"
"  --keys N           number of distinct keys (default 1048576)\n"
"  --key-size B       key length, 1-255 (default 40)\n"
"  --value-size B     value length, 0-255 (default 40)\n"
"  --stream           use the keys and values of mkpairs' stream of N\n"
"                     pairs (a store loaded with bulk_insert)\n"
"  --range-bytes B    RANGE max bytes (default 4096)\n"
"  -c, --conns N      connections (default 1; at least one per thread)\n"
"  -T, --threads N    client threads, each with its own event loop and\n"
"                     its share of the connections, the rate and the\n"
"                     request count (default 1)\n"
"  --inflight N       requests in flight per connection (default 64;\n"
"                     open loop 1024)\n"
"  --rate R           open loop: send R requests/s in total on a fixed\n"
"                     schedule; latency counts from the intended send\n"
"                     time (default: closed loop, as fast as answers\n"
"                     come)\n"
"  -d, --duration S   recorded period (default 10 s)\n"
"  -n, --requests N   send N requests instead of running for a duration\n"
"  --warmup S         unrecorded period before (default 0)\n"
"  --drain S          wait at most S for the last answers (default 10)\n"
"  --seed N           seed of the random choices (default 0)\n"
"output\n"
"  --csv FILE         per-second series and latency histogram (CSV)\n"
"  --json FILE        configuration, summary, series and histogram\n"
"  --plot FILE        throughput and latency plots (.png or .svg),\n"
"                     drawn with gnuplot\n"
"  --progress, --no-progress  live line once a second on standard error\n"
"                     (default: when it is a terminal)\n"
"  --help             this text\n"
"key file (-K)\n%s", keyfile_opts_usage);
}

static int
parse_mix(const char *s, struct bench_conf *cf)
{
	char *copy, *tok, *save, *eq;
	uint64_t w;
	int t, any = 0;

	if ((copy = strdup(s)) == NULL)
		return (-1);
	memset(cf->mix, 0, sizeof(cf->mix));
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if ((eq = strchr(tok, '=')) == NULL)
			goto bad;
		*eq = '\0';
		for (t = 0; t < BT_NTYPES; t++)
			if (strcmp(tok, bench_type_name[t]) == 0)
				break;
		if (t == BT_NTYPES || parse_uint64(eq + 1, 0, 100000, &w))
			goto bad;
		cf->mix[t] = (unsigned int)w;
		any |= (w > 0);
	}
	free(copy);
	return (any ? 0 : -1);
bad:
	free(copy);
	return (-1);
}

static int
parse_frac(const char *s, double *x)
{
	char *end;

	errno = 0;
	*x = strtod(s, &end);
	return ((errno || end == s || *end != '\0' || *x < 0) ? -1 : 0);
}

static int
parse_dist(const char *s, struct bench_conf *cf)
{
	char buf[64], *p, *q;

	if (strlen(s) >= sizeof(buf))
		return (-1);
	strcpy(buf, s);
	if ((p = strchr(buf, ':')) != NULL)
		*p++ = '\0';
	if (strcmp(buf, "uniform") == 0 && p == NULL)
		cf->dist = BD_UNIFORM;
	else if (strcmp(buf, "sequential") == 0 && p == NULL)
		cf->dist = BD_SEQUENTIAL;
	else if (strcmp(buf, "hotspot") == 0) {
		cf->dist = BD_HOTSPOT;
		if (p != NULL) {
			if ((q = strchr(p, ':')) != NULL) {
				*q++ = '\0';
				if (parse_frac(q, &cf->hot_prob) ||
				    cf->hot_prob > 1)
					return (-1);
			}
			if (parse_frac(p, &cf->hot_frac) || cf->hot_frac > 1)
				return (-1);
		}
	} else if (strcmp(buf, "zipf") == 0) {
		cf->dist = BD_ZIPF;
		if (p != NULL && (parse_frac(p, &cf->zipf_theta) ||
		    cf->zipf_theta <= 0 || cf->zipf_theta >= 1))
			return (-1);
	} else
		return (-1);
	return (0);
}

int
main(int argc, char *argv[])
{
	enum {
		O_MIX = 256, O_DIST, O_KEYS, O_KSIZE, O_VSIZE, O_STREAM,
		O_RBYTES, O_INFLIGHT, O_RATE, O_WARMUP, O_DRAIN, O_SEED,
		O_CSV, O_JSON, O_PLOT, O_PROGRESS, O_NOPROGRESS, O_HELP,
		O_KEYOPT
	};
	static const struct option longopts[] = {
		{ "mix", required_argument, NULL, O_MIX },
		{ "dist", required_argument, NULL, O_DIST },
		{ "keys", required_argument, NULL, O_KEYS },
		{ "key-size", required_argument, NULL, O_KSIZE },
		{ "value-size", required_argument, NULL, O_VSIZE },
		{ "stream", no_argument, NULL, O_STREAM },
		{ "range-bytes", required_argument, NULL, O_RBYTES },
		{ "conns", required_argument, NULL, 'c' },
		{ "threads", required_argument, NULL, 'T' },
		{ "inflight", required_argument, NULL, O_INFLIGHT },
		{ "rate", required_argument, NULL, O_RATE },
		{ "duration", required_argument, NULL, 'd' },
		{ "requests", required_argument, NULL, 'n' },
		{ "warmup", required_argument, NULL, O_WARMUP },
		{ "drain", required_argument, NULL, O_DRAIN },
		{ "seed", required_argument, NULL, O_SEED },
		{ "csv", required_argument, NULL, O_CSV },
		{ "json", required_argument, NULL, O_JSON },
		{ "plot", required_argument, NULL, O_PLOT },
		{ "progress", no_argument, NULL, O_PROGRESS },
		{ "no-progress", no_argument, NULL, O_NOPROGRESS },
		{ "help", no_argument, NULL, O_HELP },
		{ "passphrase", required_argument, NULL, O_KEYOPT },
		{ "max-memory", required_argument, NULL, O_KEYOPT },
		{ "max-time", required_argument, NULL, O_KEYOPT },
		{ NULL, 0, NULL, 0 }
	};
	struct bench_conf cf;
	struct bench_result res;
	uint64_t u;
	int ch, li, progress = -1, rc = 0;

	log_init(argv[0]);
	memset(&cf, 0, sizeof(cf));
	cf.mix[BT_GET] = 90;
	cf.mix[BT_SET] = 10;
	cf.dist = BD_UNIFORM;
	cf.hot_frac = 0.01;
	cf.hot_prob = 0.9;
	cf.zipf_theta = 0.99;
	cf.nkeys = 1048576;
	cf.keysize = 40;
	cf.valsize = 40;
	cf.range_bytes = 4096;
	cf.conns = 1;
	cf.threads = 1;
	cf.duration = 10;
	cf.drain = 10;

	while ((ch = getopt_long(argc, argv, "t:K:c:T:d:n:", longopts, &li))
	    != -1) {
		switch (ch) {
		case 't':
			cf.target = optarg;
			break;
		case 'K':
			cf.keyfile = optarg;
			break;
		case O_MIX:
			if (parse_mix(optarg, &cf)) {
				warn0("--mix %s: want type=percent,...",
				    optarg);
				goto bad;
			}
			break;
		case O_DIST:
			if (parse_dist(optarg, &cf)) {
				warn0("--dist %s: bad distribution", optarg);
				goto bad;
			}
			break;
		case O_KEYS:
			if (parse_uint64(optarg, 1, (uint64_t)1 << 32, &u)) {
				warnp("--keys %s", optarg);
				goto bad;
			}
			cf.nkeys = u;
			break;
		case O_KSIZE:
			if (parse_uint64(optarg, 1, 255, &u)) {
				warnp("--key-size %s", optarg);
				goto bad;
			}
			cf.keysize = (size_t)u;
			break;
		case O_VSIZE:
			if (parse_uint64(optarg, 0, 255, &u)) {
				warnp("--value-size %s", optarg);
				goto bad;
			}
			cf.valsize = (size_t)u;
			break;
		case O_STREAM:
			cf.stream = 1;
			break;
		case O_RBYTES:
			if (parse_uint64(optarg, 0, UINT32_MAX, &u)) {
				warnp("--range-bytes %s", optarg);
				goto bad;
			}
			cf.range_bytes = (uint32_t)u;
			break;
		case 'c':
			if (parse_uint64(optarg, 1, 10000, &u)) {
				warnp("--conns %s", optarg);
				goto bad;
			}
			cf.conns = (size_t)u;
			break;
		case 'T':
			if (parse_uint64(optarg, 1, 64, &u)) {
				warnp("--threads %s (1 to 64)", optarg);
				goto bad;
			}
			cf.threads = (size_t)u;
			break;
		case O_INFLIGHT:
			if (parse_uint64(optarg, 1, 1 << 20, &u)) {
				warnp("--inflight %s", optarg);
				goto bad;
			}
			cf.inflight = (size_t)u;
			break;
		case O_RATE:
			if (parse_uint64(optarg, 1, 100000000, &u)) {
				warnp("--rate %s", optarg);
				goto bad;
			}
			cf.rate = (double)u;
			break;
		case 'd':
			if (parse_duration(optarg, &cf.duration) ||
			    cf.duration <= 0) {
				warn0("--duration %s: bad duration", optarg);
				goto bad;
			}
			break;
		case 'n':
			if (parse_uint64(optarg, 1, UINT64_MAX, &cf.requests)) {
				warnp("--requests %s", optarg);
				goto bad;
			}
			break;
		case O_WARMUP:
			if (parse_duration(optarg, &cf.warmup)) {
				warnp("--warmup %s", optarg);
				goto bad;
			}
			break;
		case O_DRAIN:
			if (parse_duration(optarg, &cf.drain)) {
				warnp("--drain %s", optarg);
				goto bad;
			}
			break;
		case O_SEED:
			if (parse_uint64(optarg, 0, UINT64_MAX, &cf.seed)) {
				warnp("--seed %s", optarg);
				goto bad;
			}
			break;
		case O_CSV:
			cf.csv = optarg;
			break;
		case O_JSON:
			cf.json = optarg;
			break;
		case O_PLOT:
			cf.plot = optarg;
			break;
		case O_PROGRESS:
			progress = 1;
			break;
		case O_NOPROGRESS:
			progress = 0;
			break;
		case O_KEYOPT:
			if (keyfile_option(&cf.kopts, longopts[li].name,
			    optarg) != 1)
				goto bad;
			break;
		case O_HELP:
			usage(stdout);
			exit(0);
		default:
			goto bad;
		}
	}
	if (optind != argc) {
		warn0("unexpected argument: %s", argv[optind]);
		goto bad;
	}
	if (cf.target == NULL) {
		warn0("no target: -t <address>");
		goto bad;
	}
	if (cf.conns < cf.threads)
		cf.conns = cf.threads;
	if (cf.inflight == 0)
		cf.inflight = (cf.rate > 0) ? 1024 : 64;
	if (cf.stream) {
		cf.keysize = 40;
		cf.valsize = 40;
	}
	cf.progress = (progress >= 0) ? progress : isatty(STDERR_FILENO);

	if (bench_run(&cf, &res))
		exit(1);
	report_summary(&cf, &res);
	if (cf.csv && report_csv(&cf, &res, cf.csv))
		rc = 1;
	if (cf.json && report_json(&cf, &res, cf.json))
		rc = 1;
	if (cf.plot && report_plot(&cf, &res, cf.plot))
		rc = 1;
	bench_result_free(&res);
	return (rc);

bad:
	usage(stderr);
	exit(1);
}
