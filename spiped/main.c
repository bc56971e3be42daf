/*
 * spiped: option parsing and start-up; the work is in dispatch.c (the
 * listener) and conn.c (one connection).
 */
#include <sys/stat.h>

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon/daemon.h"
#include "keyfile/keyfile.h"
#include "log/log.h"
#include "parse/parse.h"
#include "pcrypt/pcrypt.h"
#include "proto/proto_handshake.h"
#include "sock/sock.h"

#include "conn.h"
#include "dispatch.h"

#define SPIPED_VERSION	"1.6.3-kvsuite"

/* Everything main needs after parsing. */
struct spiped_main {
	const char *src, *tgt, *keypath, *bindaddr, *pidfile, *user;
	int mode_e, mode_d, daemon_dns, fast, reqpfs, foreground;
	int nokeepalive, syslog_on, norr;
	int nmax;
	double timeout, rtime;
	int proxy;
	int unix_mode;			/* -m, or -1 */
	struct keyfile_opts kopts;
	struct conn_opts co;
	struct event_base *base;
	struct dispatch *d;
	struct event *rrtimer;
	int s;				/* listening socket, -1 once closed */
};

static void
usage(void)
{

	fprintf(stderr,
	    "usage: spiped {-e | -d} -s <source socket> -t <target socket> "
	    "-k <key file>\n"
	    "    [-b <bind address>] [-DFj] [-f | -g] "
	    "[-n <max # connections>]\n"
	    "    [-o <connection timeout>] [-p <pidfile>] "
	    "[-r <rtime> | -R] [--syslog]\n"
	    "    [-u <username> | <:groupname> | <username:groupname>]\n"
	    "    [-P v1 | v2] [-m <socket mode>] [--passphrase <method:arg>]\n"
	    "    [--max-memory <size>] [--max-time <seconds>]\n"
	    "       spiped -v\n");
	exit(1);
}

static void
help(void)
{

	printf("spiped: secure pipe daemon (spiped 1.6 protocol)\n\n"
	    "  -e / -d         encrypt connections from the source to the "
	    "target / decrypt them\n"
	    "  -s <address>    listen here: /unix/path, host:port, "
	    "[v4 or v6 address]:port\n"
	    "  -t <address>    connect here (same formats)\n"
	    "  -k <key file>   the shared key (- = standard input)\n"
	    "  -b <address>    bind outgoing connections to this local "
	    "address\n"
	    "  -D              daemonize first, then retry DNS until it "
	    "resolves\n"
	    "  -f              fast handshake, no forward secrecy\n"
	    "  -g              require forward secrecy (drop -f peers)\n"
	    "  -F              stay in the foreground\n"
	    "  -j              no TCP keep-alives\n"
	    "  -n <number>     at most this many connections (100; 0 = no "
	    "limit)\n"
	    "  -o <seconds>    connect and handshake timeout (5)\n"
	    "  -p <pidfile>    pid file (<source>.pid; none with -F unless "
	    "given)\n"
	    "  -r <seconds>    re-resolve the target this often (60)\n"
	    "  -R              never re-resolve the target\n"
	    "  -u <user>[:<group>] | :<group>   drop privileges after "
	    "binding\n"
	    "  -P v1 | v2      with -d, send a PROXY protocol header to the "
	    "target\n"
	    "  -m <mode>       octal permissions of a Unix source socket\n"
	    "  --syslog        log to syslog (also with -F)\n"
	    "  -v              print the version\n"
	    "%s", keyfile_opts_usage);
	exit(0);
}

/* Fail on a repeated option, as spiped does. */
static void
once(int *seen, int ch)
{

	if (*seen) {
		warn0("-%c may be given only once", ch);
		usage();
	}
	*seen = 1;
}

static void
parse_args(struct spiped_main *m, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "syslog", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ "passphrase", required_argument, NULL, 'K' },
		{ "max-memory", required_argument, NULL, 'M' },
		{ "max-time", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 }
	};
	int seen[128];
	int ch, li;
	mode_t mode;

	memset(seen, 0, sizeof(seen));
	while ((ch = getopt_long(argc, argv,
	    "b:dDefFgjk:m:n:o:p:P:r:Rs:t:u:v", longopts, &li)) != -1) {
		if (ch > 0 && ch < 128 && ch != 'K' && ch != 'M' && ch != 'T')
			once(&seen[ch], ch);
		switch (ch) {
		case 'b':
			m->bindaddr = optarg;
			break;
		case 'd':
			m->mode_d = 1;
			break;
		case 'D':
			m->daemon_dns = 1;
			break;
		case 'e':
			m->mode_e = 1;
			break;
		case 'f':
			m->fast = 1;
			break;
		case 'F':
			m->foreground = 1;
			break;
		case 'g':
			m->reqpfs = 1;
			break;
		case 'j':
			m->nokeepalive = 1;
			break;
		case 'k':
			m->keypath = optarg;
			break;
		case 'm':
			if (parse_mode(optarg, &mode)) {
				warnp("-m %s", optarg);
				usage();
			}
			m->unix_mode = (int)mode;
			break;
		case 'n':
			if (parse_int(optarg, 0, 500000, &m->nmax)) {
				warnp("-n %s", optarg);
				usage();
			}
			break;
		case 'o':
			if (parse_duration(optarg, &m->timeout) ||
			    m->timeout <= 0) {
				warn0("-o %s: need a positive duration",
				    optarg);
				usage();
			}
			break;
		case 'p':
			m->pidfile = optarg;
			break;
		case 'P':
			if (strcmp(optarg, "v1") == 0 ||
			    strcmp(optarg, "1") == 0)
				m->proxy = 1;
			else if (strcmp(optarg, "v2") == 0 ||
			    strcmp(optarg, "2") == 0)
				m->proxy = 2;
			else {
				warn0("-P %s: must be v1 or v2", optarg);
				usage();
			}
			break;
		case 'r':
			if (parse_duration(optarg, &m->rtime) ||
			    m->rtime <= 0) {
				warn0("-r %s: need a positive duration",
				    optarg);
				usage();
			}
			break;
		case 'R':
			m->norr = 1;
			break;
		case 's':
			m->src = optarg;
			break;
		case 't':
			m->tgt = optarg;
			break;
		case 'u':
			m->user = optarg;
			break;
		case 'v':
			printf("spiped %s\n", SPIPED_VERSION);
			exit(0);
		case 'S':
			m->syslog_on = 1;
			break;
		case 'h':
			help();
			break;
		case 'K':
			if (keyfile_option(&m->kopts, "passphrase", optarg) != 1)
				usage();
			break;
		case 'M':
			if (keyfile_option(&m->kopts, "max-memory", optarg) != 1)
				usage();
			break;
		case 'T':
			if (keyfile_option(&m->kopts, "max-time", optarg) != 1)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc) {
		warn0("unexpected argument: %s", argv[optind]);
		usage();
	}
	if (m->mode_e == m->mode_d) {
		warn0("exactly one of -e and -d is required");
		usage();
	}
	if (m->src == NULL || m->tgt == NULL || m->keypath == NULL) {
		warn0("-s, -t and -k are required");
		usage();
	}
	if (m->fast && m->reqpfs) {
		warn0("-f and -g are mutually exclusive");
		usage();
	}
	if (seen['r'] && m->norr) {
		warn0("-r and -R are mutually exclusive");
		usage();
	}
	if (m->proxy && !m->mode_d) {
		warn0("-P is only meaningful with -d");
		usage();
	}
	if (m->unix_mode != -1 && !sock_spec_is_unix(m->src)) {
		warn0("-m applies only to a Unix socket source");
		usage();
	}
}

/* Resolve ${addr}; with -D, retry every second until it works. */
static struct sock_addr **
resolve(const char *addr, int retry)
{
	struct sock_addr **sas;

	while ((sas = sock_resolve(addr)) == NULL && retry)
		sleep(1);
	return (sas);
}

static void
callback_reresolve(evutil_socket_t fd, short what, void *cookie)
{
	struct spiped_main *m = cookie;
	struct conn_targets *t;
	struct sock_addr **sas;

	/* Keep the old addresses if the lookup fails now. */
	if ((sas = sock_resolve(m->tgt)) == NULL)
		return;
	if ((t = malloc(sizeof(*t))) == NULL) {
		sock_addr_freelist(sas);
		return;
	}
	t->addrs = sas;
	t->refs = 1;
	dispatch_set_targets(m->d, t);
}

static void
callback_signal(void *cookie, int signo)
{
	struct spiped_main *m = cookie;

	/* SIGTERM drains; SIGINT (or a second signal) ends at once. */
	if (signo == SIGTERM && m->d != NULL) {
		if (m->rrtimer != NULL)
			event_del(m->rrtimer);
		dispatch_shutdown(m->d);

		/* New clients are refused at once rather than left waiting. */
		if (m->s != -1) {
			close(m->s);
			m->s = -1;
		}
		return;
	}
	exit(0);
}

int
main(int argc, char **argv)
{
	struct spiped_main m;
	struct sock_addr **srcs = NULL, **bas = NULL;
	struct conn_targets *targets;
	struct daemon_signals *ds;
	struct timeval tv;
	char *pidpath = NULL;
	mode_t um;

	log_init(argv[0]);
	memset(&m, 0, sizeof(m));
	m.nmax = 100;
	m.timeout = 5.0;
	m.rtime = 60.0;
	m.unix_mode = -1;
	parse_args(&m, argc, argv);

	if (keyfile_load(m.keypath, &m.kopts, m.co.K))
		exit(1);
	m.co.decrypt = m.mode_d;
	m.co.hsflags = (m.fast ? PROTO_HS_NOPFS : 0) |
	    (m.reqpfs ? PROTO_HS_REQPFS : 0);
	m.co.keepalive = !m.nokeepalive;
	m.co.timeout = m.timeout;
	m.co.proxy = m.proxy;
	if (pcrypt_dh_init())
		exit(1);

	/* -D: daemonize before any lookup, and retry lookups. */
	if (m.daemon_dns) {
		if (daemon_prepare(m.foreground) || daemon_ready())
			exit(1);
	}
	if ((srcs = resolve(m.src, m.daemon_dns)) == NULL)
		exit(1);
	if ((targets = malloc(sizeof(*targets))) == NULL) {
		warnp("malloc");
		exit(1);
	}
	targets->refs = 1;
	if ((targets->addrs = resolve(m.tgt, m.daemon_dns)) == NULL)
		exit(1);
	if (m.bindaddr != NULL) {
		while ((bas = sock_resolve_bind(m.bindaddr)) == NULL) {
			if (!m.daemon_dns)
				exit(1);
			sleep(1);
		}
		m.co.bindaddr = bas[0];
	}
	if (!m.daemon_dns && daemon_prepare(m.foreground))
		exit(1);

	/* Without -m a Unix socket gets what the umask leaves, as in spiped. */
	if (m.unix_mode == -1) {
		um = umask(0);
		umask(um);
		m.unix_mode = (int)(0777 & ~um);
	}
	if ((m.s = sock_listen(srcs[0], m.unix_mode)) == -1)
		exit(1);

	if (m.pidfile != NULL) {
		if (daemon_pidfile_write(m.pidfile))
			exit(1);
	} else if (!m.foreground) {
		if (asprintf(&pidpath, "%s.pid", m.src) == -1) {
			warnp("asprintf");
			exit(1);
		}
		if (daemon_pidfile_write(pidpath))
			exit(1);
	}
	if (m.user != NULL && daemon_drop_privs(m.user))
		exit(1);

	if ((m.base = event_base_new()) == NULL) {
		warn0("event_base_new");
		exit(1);
	}
	if ((ds = daemon_signals_init(m.base, callback_signal, &m)) == NULL)
		exit(1);
	if ((m.d = dispatch_start(m.base, m.s, &m.co, targets, m.nmax)) ==
	    NULL)
		exit(1);
	if (!m.norr) {
		m.rrtimer = event_new(m.base, -1, EV_PERSIST,
		    callback_reresolve, &m);
		tv.tv_sec = (time_t)m.rtime;
		tv.tv_usec = (suseconds_t)((m.rtime - (double)tv.tv_sec) *
		    1e6);
		if (m.rrtimer == NULL || event_add(m.rrtimer, &tv)) {
			warn0("cannot start the re-resolution timer");
			exit(1);
		}
	}

	if (!m.daemon_dns && daemon_ready())
		exit(1);
	if (m.syslog_on)
		log_syslog(1);

	if (event_base_dispatch(m.base) == -1) {
		warn0("event loop failed");
		exit(1);
	}

	/* SIGTERM drained every connection. */
	if (m.rrtimer != NULL)
		event_free(m.rrtimer);
	dispatch_free(m.d);
	daemon_signals_free(ds);
	event_base_free(m.base);
	if (m.s != -1)
		close(m.s);
	sock_addr_freelist(srcs);
	sock_addr_freelist(bas);
	free(pidpath);
	pcrypt_cleanse(m.co.K, sizeof(m.co.K));
	return (0);
}
