/*
 * spipe: one encrypted connection to a spiped -d (or compatible) server,
 * bridged to standard input and output.  Option parsing, connect and
 * handshake here; the data phase is in bridge.c.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "keyfile/keyfile.h"
#include "log/log.h"
#include "parse/parse.h"
#include "pcrypt/pcrypt.h"
#include "proto/proto_handshake.h"
#include "sock/sock.h"

#include "bridge.h"

#define SPIPE_VERSION	"1.6.3-kvsuite"

static void
usage(void)
{

	fprintf(stderr,
	    "usage: spipe -t <target socket> -k <key file> [-b <bind address>]\n"
	    "    [-f | -g] [-j] [-o <connection timeout>] "
	    "[--passphrase <method:arg>]\n"
	    "    [--max-memory <size>] [--max-time <seconds>]\n"
	    "       spipe -v\n");
	exit(1);
}

static void
help(void)
{

	printf("spipe: connect standard input and output to a spiped "
	    "server\n\n"
	    "  -t <address>    the spiped -d to connect to: /unix/path, "
	    "host:port,\n"
	    "                  [v4 or v6 address]:port\n"
	    "  -k <key file>   the shared key (- = standard input, which "
	    "then sends nothing)\n"
	    "  -b <address>    bind the connection to this local address\n"
	    "  -f              fast handshake, no forward secrecy\n"
	    "  -g              require forward secrecy\n"
	    "  -j              no TCP keep-alives\n"
	    "  -o <seconds>    connect and handshake timeout (5)\n"
	    "  -v              print the version\n"
	    "%s", keyfile_opts_usage);
	exit(0);
}

/* Connect to one of ${sas} within ${timeout} seconds; blocking socket. */
static int
connect_timeout(struct sock_addr **sas, const struct sock_addr *ba,
    double timeout)
{
	struct pollfd pfd;
	int s, inprogress, fl, r;
	size_t i;

	for (i = 0; sas[i] != NULL; i++) {
		if ((s = sock_connect_nb(sas[i], ba, &inprogress)) == -1)
			continue;
		if (inprogress) {
			pfd.fd = s;
			pfd.events = POLLOUT;
			do {
				r = poll(&pfd, 1, (int)(timeout * 1000));
			} while (r == -1 && errno == EINTR);
			if (r == 0)
				errno = ETIMEDOUT;
			if (r != 1 || sock_connect_finish(s)) {
				close(s);
				continue;
			}
		}
		if ((fl = fcntl(s, F_GETFL)) == -1 ||
		    fcntl(s, F_SETFL, fl & ~O_NONBLOCK) == -1) {
			close(s);
			continue;
		}
		return (s);
	}
	return (-1);
}

/* Bound the blocking handshake by ${timeout} (0 clears the bound). */
static int
set_timeouts(int s, double timeout)
{
	struct timeval tv;

	tv.tv_sec = (time_t)timeout;
	tv.tv_usec = (suseconds_t)((timeout - (double)tv.tv_sec) * 1e6);
	if (setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv))) {
		warnp("setsockopt");
		return (-1);
	}
	return (0);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "passphrase", required_argument, NULL, 'K' },
		{ "max-memory", required_argument, NULL, 'M' },
		{ "max-time", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 }
	};
	const char *tgt = NULL, *keypath = NULL, *bindaddr = NULL;
	struct keyfile_opts kopts;
	struct sock_addr **sas, **bas = NULL;
	struct proto_session *session;
	uint8_t K[PROTO_KEYLEN];
	int fast = 0, reqpfs = 0, nokeepalive = 0, ch, s, hserr;
	double timeout = 5.0;

	log_init(argv[0]);
	memset(&kopts, 0, sizeof(kopts));
	while ((ch = getopt_long(argc, argv, "b:fgjk:o:t:v", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'b':
			bindaddr = optarg;
			break;
		case 'f':
			fast = 1;
			break;
		case 'g':
			reqpfs = 1;
			break;
		case 'j':
			nokeepalive = 1;
			break;
		case 'k':
			keypath = optarg;
			break;
		case 'o':
			if (parse_duration(optarg, &timeout) || timeout <= 0) {
				warn0("-o %s: need a positive duration",
				    optarg);
				usage();
			}
			break;
		case 't':
			tgt = optarg;
			break;
		case 'v':
			printf("spipe %s\n", SPIPE_VERSION);
			exit(0);
		case 'h':
			help();
			break;
		case 'K':
			if (keyfile_option(&kopts, "passphrase", optarg) != 1)
				usage();
			break;
		case 'M':
			if (keyfile_option(&kopts, "max-memory", optarg) != 1)
				usage();
			break;
		case 'T':
			if (keyfile_option(&kopts, "max-time", optarg) != 1)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc || tgt == NULL || keypath == NULL)
		usage();
	if (fast && reqpfs) {
		warn0("-f and -g are mutually exclusive");
		usage();
	}
	if (daemon_ignore_sigpipe())
		exit(1);

	if (keyfile_load(keypath, &kopts, K))
		exit(1);
	if ((sas = sock_resolve(tgt)) == NULL)
		exit(1);
	if (bindaddr != NULL && (bas = sock_resolve_bind(bindaddr)) == NULL)
		exit(1);
	if ((s = connect_timeout(sas, bas ? bas[0] : NULL, timeout)) == -1) {
		warnp("cannot connect to %s", tgt);
		exit(1);
	}
	if (!nokeepalive && sock_set_keepalive(s, 1))
		exit(1);
	if (sock_set_nodelay(s, 1))
		exit(1);

	if (set_timeouts(s, timeout))
		exit(1);
	session = proto_handshake_blocking(s, K, (fast ? PROTO_HS_NOPFS : 0) |
	    (reqpfs ? PROTO_HS_REQPFS : 0), &hserr);
	pcrypt_cleanse(K, sizeof(K));
	if (session == NULL) {
		warn0("%s: %s", tgt, proto_handshake_strerror(hserr));
		exit(1);
	}
	if (set_timeouts(s, 0))
		exit(1);

	if (bridge_run(0, 1, s, session))
		exit(1);
	proto_session_free(session);
	close(s);
	sock_addr_freelist(sas);
	sock_addr_freelist(bas);
	return (0);
}
