#ifndef CONN_H_
#define CONN_H_

/*
 * conn: the connection options shared by kvlds-dump and kvlds-undump
 * (-t ADDRESS, -K KEYFILE and the key file options of lib/keyfile).
 */

#include "keyfile/keyfile.h"

struct kvclient;

/**
 * conn_open(addr, keypath, kopts):
 * Connect to the kvlds at ${addr}; if ${keypath} is non-NULL, load that
 * key file (with the passphrase options ${kopts}) and go through the
 * encrypted transport.  The key is wiped once the connection is set up.
 * Return the client (with a private event loop), or NULL (printed).
 */
struct kvclient * conn_open(const char *, const char *,
    const struct keyfile_opts *);

#endif /* !CONN_H_ */
