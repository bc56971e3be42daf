#ifndef CONN_H_
#define CONN_H_

/*
 * conn: the connection options shared by kvlds-cli, kvlds-dump and
 * kvlds-undump (-t ADDRESS, -K KEYFILE, --no-pfs, --require-pfs and the
 * key file options of lib/keyfile).
 */

#include "keyfile/keyfile.h"

struct kvclient;

/* Connection options: all-zero means plaintext. */
struct conn_opts {
	const char *keypath;	/* -K: key file, or NULL. */
	struct keyfile_opts kopts;	/* How to decrypt it. */
	int nopfs;		/* --no-pfs: skip Diffie-Hellman. */
	int requirepfs;		/* --require-pfs: refuse a server without. */
};

/* The --help lines of the options conn_option() takes. */
extern const char conn_usage[];

/**
 * conn_option(co, name, arg):
 * If the long option ${name} (with argument ${arg}, or NULL) is one of
 * --no-pfs, --require-pfs, --passphrase, --max-memory or --max-time,
 * record it in ${co} and return 1; return 0 if it is none of them, or -1
 * after printing why ${arg} is invalid.
 */
int conn_option(struct conn_opts *, const char *, const char *);

/**
 * conn_open(addr, co):
 * Connect to the kvlds at ${addr}; if ${co}->keypath is non-NULL, load
 * that key file (with ${co}->kopts) and go through the encrypted
 * transport (spiped protocol, with or without perfect forward secrecy as
 * ${co} says).  The key is wiped once the connection is set up.  Return
 * the client (with a private event loop), or NULL (printed).
 */
struct kvclient * conn_open(const char *, const struct conn_opts *);

#endif /* !CONN_H_ */
