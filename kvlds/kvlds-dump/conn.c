#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>

#include "keyfile/keyfile.h"
#include "kvclient/kvclient.h"
#include "log/log.h"

#include "conn.h"

const char conn_usage_target[] =
    "  -t ADDRESS         Unix socket path, host:port or [v6]:port\n"
    "  -K KEYFILE         key of an encrypted endpoint\n";

const char conn_usage[] =
    "  --no-pfs                 with -K: skip Diffie-Hellman (as spiped -f)\n"
    "  --require-pfs            with -K: refuse a server that skips it\n"
    "                           (as spiped -g)\n";

/**
 * conn_getopt(co, ch, arg):
 * Record the option ${ch} (argument ${arg}) in ${co}: 1, 0 if not one of
 * ours, -1 (printed) if ${arg} is invalid.
 */
int
conn_getopt(struct conn_opts *co, int ch, const char *arg)
{

	switch (ch) {
	case 't':
		co->addr = arg;
		return (1);
	case 'K':
		co->keypath = arg;
		return (1);
	case CONN_OPT_NOPFS:
		co->nopfs = 1;
		return (1);
	case CONN_OPT_REQUIREPFS:
		co->requirepfs = 1;
		return (1);
	case CONN_OPT_PASSPHRASE:
		return (keyfile_option(&co->kopts, "passphrase", arg));
	case CONN_OPT_MAXMEMORY:
		return (keyfile_option(&co->kopts, "max-memory", arg));
	case CONN_OPT_MAXTIME:
		return (keyfile_option(&co->kopts, "max-time", arg));
	default:
		return (0);
	}
}

/**
 * conn_open(co):
 * Connect to ${co}->addr, encrypted if ${co}->keypath is set.  Return the
 * client, or NULL (printed).
 */
struct kvclient *
conn_open(const struct conn_opts *co)
{
	struct kvclient_opts copts;
	struct kvclient *K;
	uint8_t key[32];

	memset(&copts, 0, sizeof(copts));
	if (co->nopfs && co->requirepfs) {
		warn0("--no-pfs and --require-pfs contradict each other");
		return (NULL);
	}
	if ((co->nopfs || co->requirepfs) && (co->keypath == NULL)) {
		warn0("--no-pfs and --require-pfs need -K");
		return (NULL);
	}
	if (co->keypath != NULL) {
		if (keyfile_load(co->keypath, &co->kopts, key))
			return (NULL);
		copts.key = key;
		copts.nopfs = co->nopfs;
		copts.requirepfs = co->requirepfs;
	}
	K = kvclient_open(NULL, co->addr, &copts);
	OPENSSL_cleanse(key, sizeof(key));
	return (K);
}
