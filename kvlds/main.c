#include <sys/resource.h>

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon/daemon.h"
#include "keyfile/keyfile.h"
#include "log/log.h"
#include "parse/parse.h"
#include "proto/proto_handshake.h"
#include "sock/sock.h"

#include "btree.h"
#include "dispatch.h"
#include "pagestore.h"

#define KVLDS_VERSION	"kvlds 1.0"

#define MAXSOCKS	64		/* -s given at most this often. */
#define FD_RESERVE	256		/* Descriptors besides connections. */
#define MIN_CACHE_PAGES	16		/* Smallest page cache accepted. */
#define DEF_CACHE	(128 * 1024 * 1024)
#define DEF_PAGESIZE	4096
#define DEF_MAXCONNS	1024
#define MAX_DELAY	3600.0		/* -w at most an hour. */
#define HS_TIMEOUT	5.0		/* Handshake deadline, s. */

/* Long options without a short form. */
#define OPT_S3_ENDPOINT		256
#define OPT_S3_REGION		257
#define OPT_S3_CREDENTIALS	258
#define OPT_S3_OWNER		259
#define OPT_CRYPTO_THREAD	260

static void
usage(FILE *f)
{

	fprintf(f,
	    "usage: kvlds -s <socket> [-s <socket> ...] -d <data directory>\n"
	    "             [-b <page size>] [-C <pages> | -c <cache bytes>]\n"
	    "             [-k <max key>] [-v <max value>] [-p <pidfile>]\n"
	    "             [-S <storage:I/O cost>] [-w <commit delay>]\n"
	    "             [-g <forced commit size>] [-n <max connections>]\n"
	    "             [-1] [-F] [-u <user:group>] [--syslog]\n"
	    "             [-K <key file> [--passphrase <method:arg>]\n"
	    "              [--max-memory <size>] [--max-time <seconds>]\n"
	    "              [--no-pfs | --require-pfs] [--crypto-thread]]\n"
	    "             [-d s3://<bucket>/<prefix> --s3-endpoint <URL>\n"
	    "              [--s3-region <region>] [--s3-credentials <file>]\n"
	    "              [--s3-owner <name>]]\n"
	    "       kvlds --help | --version\n");
	if (f != stdout)
		return;
	fprintf(f, "\n"
	    "  -s <socket>    a Unix socket path (contains '/'; mode 0600,\n"
	    "                 plaintext) or host:port (TCP: needs -K)\n"
	    "  -K <key file>  serve TCP listeners with the spiped protocol\n"
	    "                 (spiped -e, kvlds-cli -K, libkvlds) under this\n"
	    "                 key; Unix sockets stay plaintext\n"
	    "  --no-pfs       handshakes without Diffie-Hellman (spiped -f)\n"
	    "  --require-pfs  refuse peers without forward secrecy "
	    "(spiped -g)\n"
	    "  --crypto-thread  encrypt and decrypt on a thread of their "
	    "own\n"
	    "                 rather than the event loop's thread\n"
	    "  -d s3://<bucket>/<prefix>\n"
	    "                 keep the pages in an S3-compatible object store\n"
	    "  --s3-endpoint <URL>       http(s)://host[:port] of the store\n"
	    "  --s3-region <region>      signing region (us-east-1)\n"
	    "  --s3-credentials <file>   AWS_ACCESS_KEY_ID=, "
	    "AWS_SECRET_ACCESS_KEY=\n"
	    "                            lines (default: the environment)\n"
	    "  --s3-owner <name>         lease owner (default: the host "
	    "name)\n"
	    "%s", keyfile_opts_usage);
}

/* Strict non-negative finite decimal number (for -S). */
static int
parse_ratio(const char *s, double *out)
{
	char *end;
	double d;

	if (*s == '\0' || !(*s == '.' || (*s >= '0' && *s <= '9')))
		goto bad;
	errno = 0;
	d = strtod(s, &end);
	if (errno || *end != '\0' || !isfinite(d) || d < 0 ||
	    strpbrk(s, "xXeEnNiI") != NULL)
		goto bad;
	*out = d;
	return (0);
bad:
	errno = EINVAL;
	return (-1);
}

/* Make room for ${n} descriptors; -1 (printed) if the hard limit forbids. */
static int
raise_nofile(rlim_t n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl)) {
		warnp("getrlimit");
		return (-1);
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= n)
		return (0);
	if (rl.rlim_cur == RLIM_INFINITY)
		return (0);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < n) {
		warn0("-n %ju needs %ju file descriptors, but the limit is "
		    "%ju", (uintmax_t)(n - FD_RESERVE), (uintmax_t)n,
		    (uintmax_t)rl.rlim_max);
		return (-1);
	}
	rl.rlim_cur = n;
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		warnp("setrlimit(RLIMIT_NOFILE, %ju)", (uintmax_t)n);
		return (-1);
	}
	return (0);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{"syslog", no_argument, NULL, 'L'},
		{"passphrase", required_argument, NULL, 'P'},
		{"max-memory", required_argument, NULL, 'P'},
		{"max-time", required_argument, NULL, 'P'},
		{"no-pfs", no_argument, NULL, 'f'},
		{"require-pfs", no_argument, NULL, 'R'},
		{"crypto-thread", no_argument, NULL, OPT_CRYPTO_THREAD},
		{"s3-endpoint", required_argument, NULL, OPT_S3_ENDPOINT},
		{"s3-region", required_argument, NULL, OPT_S3_REGION},
		{"s3-credentials", required_argument, NULL,
		    OPT_S3_CREDENTIALS},
		{"s3-owner", required_argument, NULL, OPT_S3_OWNER},
		{"help", no_argument, NULL, 'H'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0}
	};
	const char *socks[MAXSOCKS];
	size_t nsocks = 0;
	const char *opt_d = NULL, *opt_p = NULL, *opt_u = NULL;
	const char *opt_C = NULL, *opt_c = NULL, *opt_k = NULL, *opt_v = NULL;
	uint64_t pagesize = DEF_PAGESIZE, cachebytes = DEF_CACHE, u64;
	uint64_t force = 0;
	double costratio = 1.0, delay = 0;
	int maxconns = DEF_MAXCONNS, once = 0, foreground = 0, use_syslog = 0;
	size_t maxkey, maxval, pmaxkey, pmaxval;
	struct sock_addr **addrs[MAXSOCKS];
	int lfds[MAXSOCKS];
	size_t nl = 0, nres = 0, i;
	int owned = 1;
	char *pidfile = NULL;
	struct btree_opts bo;
	struct btree *bt;
	struct event_base *base;
	struct dispatch_opts dopts;
	struct dispatch *D;
	struct daemon_signals *ds;
	struct keyfile_opts kopts;
	struct pagestore_s3_conf s3c;
	const char *opt_K = NULL;
	uint8_t *key = NULL;
	int lenc[MAXSOCKS];
	int nopfs = 0, reqpfs = 0, cthread = 0, ntcp = 0, li;
	int ch, rc = 1;

	log_init(argv[0]);
	memset(&kopts, 0, sizeof(kopts));
	memset(&s3c, 0, sizeof(s3c));

	while ((ch = getopt_long(argc, argv, "s:d:b:C:c:k:v:p:S:w:g:n:1Fu:K:",
	    longopts, &li)) != -1) {
		switch (ch) {
		case 'K':
			opt_K = optarg;
			break;
		case 'P':
			if (keyfile_option(&kopts, longopts[li].name,
			    optarg) != 1)
				exit(1);
			break;
		case 'f':
			nopfs = 1;
			break;
		case 'R':
			reqpfs = 1;
			break;
		case OPT_CRYPTO_THREAD:
			cthread = 1;
			break;
		case 's':
			if (nsocks == MAXSOCKS) {
				warn0("-s: at most %d sockets", MAXSOCKS);
				exit(1);
			}
			socks[nsocks++] = optarg;
			break;
		case 'd':
			opt_d = optarg;
			break;
		case 'b':
			if (parse_size(optarg, &pagesize) ||
			    pagesize < 512 || pagesize > 131072) {
				warn0("-b %s: the page size must be from 512 "
				    "to 131072 bytes", optarg);
				exit(1);
			}
			break;
		case 'C':
			opt_C = optarg;
			break;
		case 'c':
			opt_c = optarg;
			break;
		case 'k':
			opt_k = optarg;
			break;
		case 'v':
			opt_v = optarg;
			break;
		case 'p':
			opt_p = optarg;
			break;
		case 'S':
			if (parse_ratio(optarg, &costratio)) {
				warn0("-S %s: expected a non-negative number "
				    "(0 disables cleaning)", optarg);
				exit(1);
			}
			break;
		case 'w':
			if (parse_duration(optarg, &delay) ||
			    delay > MAX_DELAY) {
				warn0("-w %s: expected a commit delay from 0 "
				    "to %.0f seconds", optarg, MAX_DELAY);
				exit(1);
			}
			break;
		case 'g':
			if (parse_uint64(optarg, 1, UINT32_MAX, &force)) {
				warn0("-g %s: expected a number of pending "
				    "operations from 1 to %u", optarg,
				    (unsigned)UINT32_MAX);
				exit(1);
			}
			break;
		case 'n':
			if (parse_int(optarg, 1, 1000000, &maxconns)) {
				warn0("-n %s: expected a number of connections "
				    "from 1 to 1000000", optarg);
				exit(1);
			}
			break;
		case '1':
			once = 1;
			break;
		case 'F':
			foreground = 1;
			break;
		case 'u':
			opt_u = optarg;
			break;
		case 'L':
			use_syslog = 1;
			break;
		case OPT_S3_ENDPOINT:
			s3c.endpoint = optarg;
			break;
		case OPT_S3_REGION:
			s3c.region = optarg;
			break;
		case OPT_S3_CREDENTIALS:
			s3c.credentials = optarg;
			break;
		case OPT_S3_OWNER:
			s3c.owner = optarg;
			break;
		case 'H':
			usage(stdout);
			exit(0);
		case 'V':
			printf("%s\n", KVLDS_VERSION);
			exit(0);
		default:
			usage(stderr);
			exit(1);
		}
	}
	if (optind != argc) {
		warn0("unexpected argument: %s", argv[optind]);
		usage(stderr);
		exit(1);
	}
	if (nsocks == 0 || opt_d == NULL) {
		warn0("%s", nsocks == 0 ? "a socket (-s) is required" :
		    "a data directory (-d) is required");
		usage(stderr);
		exit(1);
	}

	/* An object store (-d s3://...) needs its endpoint, nothing else. */
	if (pagestore_is_s3(opt_d)) {
		if (s3c.endpoint == NULL) {
			warn0("-d %s: an object store needs --s3-endpoint",
			    opt_d);
			exit(1);
		}
		pagestore_set_s3(&s3c);
	} else if (s3c.endpoint != NULL || s3c.region != NULL ||
	    s3c.credentials != NULL || s3c.owner != NULL) {
		warn0("--s3-* options apply only to -d s3://<bucket>/<prefix>");
		exit(1);
	}

	/* Key and value limits follow from the page size. */
	if (btree_maxsizes(pagesize, &pmaxkey, &pmaxval)) {
		warn0("-b %ju: unsupported page size", (uintmax_t)pagesize);
		exit(1);
	}
	maxkey = pmaxkey;
	maxval = pmaxval;
	if (opt_k != NULL) {
		if (parse_uint64(opt_k, 0, 255, &u64)) {
			warn0("-k %s: expected a key length from 0 to 255",
			    opt_k);
			exit(1);
		}
		if (u64 > pmaxkey) {
			warn0("-k %s: pages of %ju bytes (-b) hold keys of at "
			    "most %zu bytes", opt_k, (uintmax_t)pagesize,
			    pmaxkey);
			exit(1);
		}
		maxkey = (size_t)u64;
	}
	if (opt_v != NULL) {
		if (parse_uint64(opt_v, 0, 255, &u64)) {
			warn0("-v %s: expected a value length from 0 to 255",
			    opt_v);
			exit(1);
		}
		if (u64 > pmaxval) {
			warn0("-v %s: pages of %ju bytes (-b) hold values of "
			    "at most %zu bytes", opt_v, (uintmax_t)pagesize,
			    pmaxval);
			exit(1);
		}
		maxval = (size_t)u64;
	}

	/* The page cache: -C pages or -c bytes, not both. */
	if (opt_C != NULL && opt_c != NULL) {
		warn0("-C and -c both set the cache size: give only one");
		exit(1);
	}
	if (opt_C != NULL) {
		if (parse_uint64(opt_C, 1, UINT64_MAX / pagesize, &u64)) {
			warn0("-C %s: expected a number of pages", opt_C);
			exit(1);
		}
		cachebytes = u64 * pagesize;
	}
	if (opt_c != NULL && parse_size(opt_c, &cachebytes)) {
		warn0("-c %s: expected a size in bytes (e.g. 128M)", opt_c);
		exit(1);
	}
	if (cachebytes < MIN_CACHE_PAGES * pagesize || cachebytes > SIZE_MAX) {
		warn0("the cache (%ju bytes) must hold at least %d pages of "
		    "%ju bytes", (uintmax_t)cachebytes, MIN_CACHE_PAGES,
		    (uintmax_t)pagesize);
		exit(1);
	}

	/* Sockets: Unix ones are plaintext, TCP ones encrypted (-K). */
	for (i = 0; i < nsocks; i++) {
		lenc[i] = !sock_spec_is_unix(socks[i]);
		if (lenc[i] && opt_K == NULL) {
			warn0("-s %s: TCP requires a key (-K): kvlds serves "
			    "TCP only with the spiped protocol", socks[i]);
			exit(1);
		}
		ntcp += lenc[i];
	}
	if (opt_K == NULL && (nopfs || reqpfs || cthread ||
	    kopts.passphrase != NULL || kopts.max_memory != 0 ||
	    kopts.max_time != 0)) {
		warn0("--no-pfs, --require-pfs, --crypto-thread, --passphrase, "
		    "--max-memory and --max-time need -K");
		exit(1);
	}
	if (nopfs && reqpfs) {
		warn0("--no-pfs and --require-pfs contradict each other");
		exit(1);
	}
	if (opt_K != NULL && ntcp == 0) {
		warn0("-K applies to TCP listeners only, and no -s "
		    "host:port was given");
		exit(1);
	}
	if (raise_nofile((rlim_t)maxconns + FD_RESERVE))
		exit(1);

	/* The pid file: -p, or <first Unix socket>.pid when daemonizing. */
	if (opt_p != NULL) {
		if ((pidfile = strdup(opt_p)) == NULL) {
			warnp("strdup");
			exit(1);
		}
	} else if (!foreground) {
		for (i = 0; i < nsocks && lenc[i]; i++)
			continue;
		if (i == nsocks) {
			warn0("-p is required to daemonize without a Unix "
			    "socket (or use -F)");
			exit(1);
		}
		if (asprintf(&pidfile, "%s.pid", socks[i]) == -1) {
			warnp("asprintf");
			exit(1);
		}
	}

	/* The key: loaded once, before daemonizing (it may ask a tty). */
	if (opt_K != NULL) {
		if ((key = keyfile_secmem_alloc(PROTO_KEYLEN)) == NULL)
			exit(1);
		if (keyfile_load(opt_K, &kopts, key)) {
			keyfile_secmem_free(key);
			exit(1);
		}
	}

	/* From here on, the daemon. */
	if (daemon_prepare(foreground))
		exit(1);

	bo.dir = opt_d;
	bo.pagesize = (size_t)pagesize;
	bo.cachebytes = (size_t)cachebytes;
	bo.costratio = costratio;
	if ((bt = btree_open(&bo)) == NULL)
		goto err0;

	for (nres = 0; nres < nsocks; nres++) {
		if ((addrs[nres] = sock_resolve(socks[nres])) == NULL)
			goto err1;
	}
	for (nl = 0; nl < nsocks; nl++) {
		if ((lfds[nl] = sock_listen(addrs[nl][0], -1)) == -1)
			goto err1;
	}
	if (pidfile != NULL && daemon_pidfile_write(pidfile))
		goto err1;
	if (opt_u != NULL && daemon_drop_privs(opt_u))
		goto err1;

	if ((base = event_base_new()) == NULL) {
		warn0("event_base_new");
		goto err1;
	}
	dopts.maxkey = maxkey;
	dopts.maxval = maxval;
	dopts.maxconns = (size_t)maxconns;
	dopts.once = once;
	dopts.commit_delay = delay;
	dopts.commit_force = force;
	dopts.lenc = lenc;
	dopts.key = key;
	dopts.hsflags = nopfs ? PROTO_HS_NOPFS : reqpfs ? PROTO_HS_REQPFS : 0;
	dopts.hs_timeout = HS_TIMEOUT;
	dopts.crypto_thread = cthread;
	if ((D = dispatch_init(base, bt, lfds, nl, &dopts)) == NULL)
		goto err2;
	owned = 0;		/* The listeners are the dispatcher's now. */
	if ((ds = daemon_signals_init(base, dispatch_signal, D)) == NULL)
		goto err3;
	if (daemon_ready())
		goto err4;
	if (use_syslog)
		log_syslog(1);
	for (i = 0; i < nsocks; i++)
		log_info("serving on %s (%s)", socks[i], lenc[i] ?
		    (nopfs ? "spiped protocol, no forward secrecy" : reqpfs ?
		    "spiped protocol, forward secrecy required" :
		    "spiped protocol") : "plaintext");
	log_info("page size %ju, max key %zu, max value %zu",
	    (uintmax_t)pagesize, maxkey, maxval);

	/*
	 * After a fatal error, leave at once: the store stays exactly as the
	 * failure left it and nothing more is acknowledged.
	 */
	if (dispatch_run(D))
		exit(1);
	rc = 0;

err4:
	daemon_signals_free(ds);
err3:
	dispatch_free(D);
err2:
	event_base_free(base);
err1:
	for (i = 0; i < nl; i++) {
		if (owned)
			close(lfds[i]);
		if (sock_is_unix(addrs[i][0]))
			(void)unlink(sock_addr_unix_path(addrs[i][0]));
	}
	for (i = 0; i < nres; i++)
		sock_addr_freelist(addrs[i]);
	btree_close(bt);
err0:
	keyfile_secmem_free(key);
	free(pidfile);
	exit(rc);
}
