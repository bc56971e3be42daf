#ifndef CONN_H_
#define CONN_H_

/*
 * conn: one spiped connection, from accept to close.
 *
 * States (a connection moves only forward; any failure drops it):
 *
 *	CONNECTING   connecting to the target (bounded by -o); with -d the
 *	             handshake on the accepted socket runs at the same time
 *	HANDSHAKE    with -e, the handshake on the target socket (bounded by
 *	             -o); with -d, waiting for whichever of connect and
 *	             handshake is still running
 *	PUMPING      both ready: with -d -P the PROXY header is written to
 *	             the target first; then the pump moves data until both
 *	             directions have ended (no timeout: an idle connection
 *	             may stay open; keep-alives find dead peers)
 *	CLOSED       sockets closed, secrets wiped, dispatch told
 *
 * Nothing is written to the target before the handshake has succeeded,
 * so a peer with the wrong key, a bad MAC or y >= p reaches nothing.
 */

#include <stdint.h>

#include "proto/proto_crypt.h"

struct event_base;
struct sock_addr;

/* What every connection of one spiped shares (owned by main). */
struct conn_opts {
	int decrypt;			/* -d (else -e) */
	int hsflags;			/* PROTO_HS_NOPFS / PROTO_HS_REQPFS */
	int keepalive;			/* not -j */
	double timeout;			/* -o, seconds */
	int proxy;			/* -P: 0, 1 or 2 */
	const struct sock_addr *bindaddr;	/* -b or NULL */
	uint8_t K[PROTO_KEYLEN];
};

/* A reference-counted list of target addresses (re-resolved with -r). */
struct conn_targets {
	struct sock_addr **addrs;	/* NULL-terminated */
	int refs;
};

/**
 * conn_targets_release(t):
 * Drop one reference to ${t}; free it with the last one.  NULL is a no-op.
 */
void conn_targets_release(struct conn_targets *);

struct conn;

/**
 * conn_create(base, opts, targets, s, done, cookie):
 * Take charge of the accepted non-blocking socket ${s}: connect to the
 * first address of ${targets} that accepts (a reference is taken while
 * connecting), handshake, and pump data, all in ${base}, as ${opts} (which
 * must outlive the connection) says.  When the connection ends, however
 * it ends, its sockets are closed and ${done}(${cookie}) is called once.
 * Returns the connection, or NULL on failure (${s} is then closed and
 * ${done} is not called).
 */
struct conn *conn_create(struct event_base *, const struct conn_opts *,
    struct conn_targets *, int, void (*)(void *), void *);

#endif /* !CONN_H_ */
