#ifndef CONN_H_
#define CONN_H_

/*
 * conn: the connection options shared by kvlds-cli, kvlds-dump and
 * kvlds-undump (-t ADDRESS, -K KEYFILE, --no-pfs, --require-pfs and the
 * key file options of lib/keyfile), their parsing and the connection they
 * describe.  A program puts CONN_SHORTOPTS in its optstring and
 * CONN_LONGOPTS in its getopt_long table, hands every option to
 * conn_getopt() before its own switch, and calls conn_open().
 */

#include <getopt.h>

#include "keyfile/keyfile.h"

struct kvclient;

/* Connection options: all-zero means no address yet, plaintext. */
struct conn_opts {
	const char *addr;	/* -t: Unix socket path or host:port. */
	const char *keypath;	/* -K: key file, or NULL. */
	struct keyfile_opts kopts;	/* How to decrypt it. */
	int nopfs;		/* --no-pfs: skip Diffie-Hellman. */
	int requirepfs;		/* --require-pfs: refuse a server without. */
};

/* getopt_long values of the long-only options (above any short one). */
enum conn_longopt {
	CONN_OPT_NOPFS = 0x100,
	CONN_OPT_REQUIREPFS,
	CONN_OPT_PASSPHRASE,
	CONN_OPT_MAXMEMORY,
	CONN_OPT_MAXTIME
};

/* The short options conn_getopt() takes, for a getopt optstring. */
#define CONN_SHORTOPTS	"t:K:"

/* The entries of a getopt_long table for the long ones it takes. */
#define CONN_LONGOPTS							\
	{ "no-pfs", no_argument, NULL, CONN_OPT_NOPFS },		\
	{ "require-pfs", no_argument, NULL, CONN_OPT_REQUIREPFS },	\
	{ "passphrase", required_argument, NULL, CONN_OPT_PASSPHRASE },	\
	{ "max-memory", required_argument, NULL, CONN_OPT_MAXMEMORY },	\
	{ "max-time", required_argument, NULL, CONN_OPT_MAXTIME }

/* The --help lines of -t and -K, and those of the long options. */
extern const char conn_usage_target[];
extern const char conn_usage[];

/**
 * conn_getopt(co, ch, arg):
 * If the getopt_long result ${ch} (with argument ${arg}, or NULL) is one
 * of the options above, record it in ${co} (${arg} is kept by pointer: it
 * must outlive ${co}) and return 1; return 0 if it is none of them, or -1
 * after printing why ${arg} is invalid.
 */
int conn_getopt(struct conn_opts *, int, const char *);

/**
 * conn_open(co):
 * Connect to the kvlds at ${co}->addr (which must be set); if
 * ${co}->keypath is non-NULL, load that key file (with ${co}->kopts) and
 * go through the encrypted transport (spiped protocol, with or without
 * perfect forward secrecy as ${co} says).  The key is wiped once the
 * connection is set up.  Return the client (with a private event loop),
 * or NULL (printed; this includes --no-pfs with --require-pfs, and either
 * without -K).
 */
struct kvclient * conn_open(const struct conn_opts *);

#endif /* !CONN_H_ */
