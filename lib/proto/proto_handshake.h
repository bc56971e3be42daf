#ifndef PROTO_HANDSHAKE_H_
#define PROTO_HANDSHAKE_H_

/*
 * The spiped handshake, as a state machine that touches no file
 * descriptor (so that tests, the fd driver below, and any other transport
 * can drive it), plus an asynchronous driver for a socket.
 *
 * Messages (the client is the side that connected):
 *	client -> server: nonce_C (32 bytes)
 *	server -> client: nonce_S (32 bytes)	(both sent at once)
 *	client -> server: y_C (256) || HMAC(dhmac_C, y_C) (32)
 *	server -> client: y_S (256) || HMAC(dhmac_S, y_S) (32),
 *		sent only after y_C checked.
 *
 * States of one side:
 *
 *	NONCE_WAIT --peer nonce--> DH_WAIT --peer y, MAC ok--> KEYS
 *	KEYS --y_SC computed, keys derived--> DONE (at once, unless split)
 *	   any state --bad MAC, y >= p, PFS refused--> FAILED
 *
 * On entering DH_WAIT the client queues y_C; the server queues y_S when
 * it leaves DH_WAIT.  Output queued by the machine must reach the peer
 * before the session's first data packet (the driver flushes it first).
 */

#include <stddef.h>
#include <stdint.h>

#include "proto_crypt.h"

struct event_base;

#define PROTO_HS_SERVER	0x1	/* we accepted the connection */
#define PROTO_HS_NOPFS	0x2	/* -f: send y = 1, skip Diffie-Hellman */
#define PROTO_HS_REQPFS	0x4	/* -g: refuse a peer whose y is 1 */

/*
 * Why a handshake failed: proto_hs_error() and the driver's callback give
 * one of these, proto_handshake_strerror() a sentence for it.  A peer
 * holding another key fails our check of its MAC (PROTO_HS_EMAC) if it
 * speaks first, and otherwise fails its own check of ours and closes the
 * connection (PROTO_HS_ECLOSED): the client of a server with another key
 * sees the latter.
 */
enum proto_hs_err {
	PROTO_HS_OK = 0,	/* no failure */
	PROTO_HS_EMAC,		/* the peer's DH MAC does not check: it
				   holds another key, or is not spiped */
	PROTO_HS_EPFS,		/* the peer sent y = 1 (no forward secrecy)
				   under PROTO_HS_REQPFS */
	PROTO_HS_EGARBAGE,	/* the peer's y is not a DH value (y >= p),
				   or it sent more than the handshake */
	PROTO_HS_ECLOSED,	/* the peer closed or reset the connection
				   before the handshake completed */
	PROTO_HS_ETIMEOUT,	/* no complete handshake within the time */
	PROTO_HS_EIO,		/* another read or write error */
	PROTO_HS_EINTERNAL	/* a local failure: memory, crypto library */
};

/**
 * proto_handshake_strerror(err):
 * Return a static sentence describing the proto_hs_err ${err}, starting
 * with "handshake failed: " (for PROTO_HS_OK: "handshake succeeded"),
 * for messages and logs; an unknown value gets a generic sentence.
 */
const char *proto_handshake_strerror(int err);

/* One side of one handshake. */
struct proto_hs;

/**
 * proto_hs_new(K, flags):
 * Start one side of a handshake under the protocol key ${K} (copied),
 * with ${flags} a combination of PROTO_HS_*.  Picks the nonce and queues
 * it for output.  Returns NULL on failure.  Free with proto_hs_free.
 */
struct proto_hs *proto_hs_new(const uint8_t K[PROTO_KEYLEN], int flags);

/**
 * proto_hs_set_nonce(hs, nonce):
 * Replace the random nonce with ${nonce}; for known-answer tests only,
 * and only before any output has been taken.
 */
void proto_hs_set_nonce(struct proto_hs *hs,
    const uint8_t nonce[PROTO_NONCELEN]);

/**
 * proto_hs_prepare(hs):
 * Pick the Diffie-Hellman secret and compute y now (the costly step), if
 * not done yet.  A pair precomputed ahead of need is used if there is
 * one (proto_handshake_start refills it from its event loop after each
 * handshake with forward secrecy); each pair serves one handshake only.
 * Optional: a driver calls it after sending its nonce so that the work
 * overlaps the wait for the peer; otherwise it happens when y is first
 * needed.
 */
int proto_hs_prepare(struct proto_hs *hs);

/**
 * proto_hs_split(hs):
 * Make the machine stop once it has checked the peer's y (and, as the
 * server, queued its own answer), before the costly shared-value
 * exponentiation: proto_hs_need and proto_hs_done then return 0 until
 * proto_hs_derive is called.  A driver that sends the queued answer first
 * lets both sides exponentiate at the same time.  Without it,
 * proto_hs_input does everything at once.
 */
void proto_hs_split(struct proto_hs *hs);

/**
 * proto_hs_derive(hs):
 * If the machine stopped after checking the peer's y (proto_hs_split),
 * compute the shared value and the session keys now.  Returns 0 (also
 * when nothing was pending), or -1 if the handshake failed.
 */
int proto_hs_derive(struct proto_hs *hs);

/**
 * proto_hs_need(hs):
 * The number of peer bytes the machine needs before it can move on
 * (1..288), or 0 when it is done or has failed.
 */
size_t proto_hs_need(const struct proto_hs *hs);

/**
 * proto_hs_input(hs, buf, len):
 * Feed ${len} bytes received from the peer, at most proto_hs_need(hs).
 * Once a whole message is in, it is processed (this may queue output).
 * Returns 0, or -1 if the handshake failed (bad MAC, y >= p, a peer
 * without forward secrecy under PROTO_HS_REQPFS, too many bytes, or a
 * crypto failure); the connection must then be dropped, and
 * proto_hs_error() says which.  Prints nothing for protocol failures (the
 * driver decides what to log).
 */
int proto_hs_input(struct proto_hs *hs, const uint8_t *buf, size_t len);

/**
 * proto_hs_error(hs):
 * Once proto_hs_input() or proto_hs_derive() has failed, the reason (a
 * proto_hs_err: PROTO_HS_EMAC, PROTO_HS_EPFS, PROTO_HS_EGARBAGE or
 * PROTO_HS_EINTERNAL); PROTO_HS_OK before that.
 */
int proto_hs_error(const struct proto_hs *hs);

/**
 * proto_hs_output(hs, len):
 * Return a pointer to the queued output and store its length in ${len}
 * (0 if none).  The pointer stays valid until the next call on ${hs}.
 */
const uint8_t *proto_hs_output(struct proto_hs *hs, size_t *len);

/**
 * proto_hs_consumed(hs, n):
 * Mark ${n} bytes of the queued output as sent.
 */
void proto_hs_consumed(struct proto_hs *hs, size_t n);

/**
 * proto_hs_done(hs):
 * Return 1 if the handshake has completed (keys derived) and 0 if not.
 * Output may still be queued: flush it before any data packet.
 */
int proto_hs_done(const struct proto_hs *hs);

/**
 * proto_hs_session(hs):
 * Once done, return the session (ownership passes to the caller; later
 * calls return NULL).
 */
struct proto_session *proto_hs_session(struct proto_hs *hs);

/**
 * proto_hs_free(hs):
 * Wipe and free ${hs} (and its session if not taken).  No-op if NULL.
 */
void proto_hs_free(struct proto_hs *hs);

/* A handshake running on a socket inside an event loop. */
struct proto_handshake;

/**
 * proto_handshake_start(base, fd, K, flags, timeout, callback, cookie):
 * Run the handshake (PROTO_HS_* ${flags}, key ${K}) on the non-blocking
 * socket ${fd} in the event loop ${base}, giving up after ${timeout}
 * seconds (0 = never).  The driver reads exactly the handshake's bytes,
 * so data the peer sends after it stays in the socket.  When it ends,
 * ${callback}(${cookie}, session, err) is called once: session is the new
 * session (owned by the callback) and err PROTO_HS_OK on success, or
 * session is NULL and err the proto_hs_err saying why (the machine's
 * reason, PROTO_HS_ECLOSED on end of file or a reset, PROTO_HS_ETIMEOUT,
 * PROTO_HS_EIO); the handle is freed just before the call.
 * ${fd} stays owned by the caller and is never closed here.  Returns the
 * handle, or NULL on failure (the callback is then never called).
 */
struct proto_handshake *proto_handshake_start(struct event_base *base,
    int fd, const uint8_t K[PROTO_KEYLEN], int flags, double timeout,
    void (*callback)(void *, struct proto_session *, int), void *cookie);

/**
 * proto_handshake_cancel(h):
 * Stop the handshake ${h} without calling its callback, and free it.
 * No-op if NULL.
 */
void proto_handshake_cancel(struct proto_handshake *h);

/**
 * proto_handshake_blocking(fd, K, flags, err):
 * Run the handshake on the blocking descriptor ${fd} (read and written
 * directly; a timeout, if any, is the caller's business, e.g. SO_RCVTIMEO,
 * and a read that times out counts as PROTO_HS_ETIMEOUT).  Returns the
 * session, or NULL on failure with the proto_hs_err in *${err} (if ${err}
 * is not NULL).
 */
struct proto_session *proto_handshake_blocking(int fd,
    const uint8_t K[PROTO_KEYLEN], int flags, int *err);

#endif /* !PROTO_HANDSHAKE_H_ */
