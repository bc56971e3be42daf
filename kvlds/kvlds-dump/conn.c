#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>

#include "keyfile/keyfile.h"
#include "kvclient/kvclient.h"
#include "log/log.h"

#include "conn.h"

const char conn_usage[] =
    "  --no-pfs                 with -K: skip Diffie-Hellman (as spiped -f)\n"
    "  --require-pfs            with -K: refuse a server that skips it\n"
    "                           (as spiped -g)\n";

/**
 * conn_option(co, name, arg):
 * Record the connection option ${name} (argument ${arg}) in ${co}: 1, 0
 * if not one of ours, -1 (printed) if ${arg} is invalid.
 */
int
conn_option(struct conn_opts *co, const char *name, const char *arg)
{

	if (strcmp(name, "no-pfs") == 0) {
		co->nopfs = 1;
		return (1);
	}
	if (strcmp(name, "require-pfs") == 0) {
		co->requirepfs = 1;
		return (1);
	}
	return (keyfile_option(&co->kopts, name, arg));
}

/**
 * conn_open(addr, co):
 * Connect to ${addr}, encrypted if ${co}->keypath is set.  Return the
 * client, or NULL (printed).
 */
struct kvclient *
conn_open(const char *addr, const struct conn_opts *co)
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
	K = kvclient_open(NULL, addr, &copts);
	OPENSSL_cleanse(key, sizeof(key));
	return (K);
}
