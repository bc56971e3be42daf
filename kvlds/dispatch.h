#ifndef DISPATCH_H_
#define DISPATCH_H_

/*
 * dispatch: the connections of kvlds.
 *
 * Accepts on every listening socket, reads any number of pipelined
 * request packets per read, answers PARAMS, GET and RANGE at once from the
 * committed tree, applies modifying requests to the store in arrival
 * order and holds their responses until the group commit containing them
 * is durable (commit.h), then sends each connection's responses for that
 * batch together.  Output is written at most once per connection per
 * event-loop turn.  A malformed request drops its connection only.
 *
 * Listeners may be encrypted (opts->lenc): a connection accepted there
 * first runs the spiped handshake as the server (proto_handshake.h), which
 * must finish within opts->hs_timeout seconds; it then carries the kvlds
 * protocol inside spiped packets.  Every whole packet read is decrypted
 * at once, and a connection's output of one loop turn (all its responses)
 * is encrypted in one call, filling 1024-byte packets, and written with
 * one send(2).  A failed handshake, a bad packet MAC or a stream ending
 * inside a packet drops that connection only.  Connections still in the
 * handshake count against opts->maxconns.
 *
 * A connection goes through these states:
 *
 *	READING --(output + held answers >= high water)--> BLOCKED
 *	    --(output + held answers <= low water)--> READING
 *	READING/BLOCKED --(peer closed its side)--> DRAINING: held
 *	    responses and output still go out; closed once both are empty
 *	any --(protocol error, write error)--> CLOSED (freed once no batch
 *	    list refers to it)
 */

#include <stddef.h>
#include <stdint.h>

struct btree;
struct event_base;

/* Dispatcher state: opaque. */
struct dispatch;

/* Options of the dispatcher. */
struct dispatch_opts {
	size_t maxkey;		/* Longest key accepted (PARAMS). */
	size_t maxval;		/* Longest value accepted (PARAMS). */
	size_t maxconns;	/* Connections served at once. */
	int once;		/* Shut down after the first connection closes. */
	double commit_delay;	/* Seconds to wait before a group commit. */
	uint64_t commit_force;	/* Commit once so many are pending (0: off). */
	/*
	 * Encryption.  lenc: NULL (every listener plaintext) or one flag per
	 * listener, non-zero for an encrypted one.  key: the 32-byte spiped
	 * protocol key K, kept by pointer (it must outlive the dispatcher;
	 * it is never logged); required if any lenc flag is set.  hsflags:
	 * PROTO_HS_NOPFS or PROTO_HS_REQPFS (PROTO_HS_SERVER is implied).
	 * hs_timeout: seconds a handshake may take (0: no limit).
	 * crypto_thread: encrypt and decrypt on a thread of their own
	 * rather than on the loop thread (cryptow.h).
	 */
	const int *lenc;
	const uint8_t *key;
	int hsflags;
	double hs_timeout;
	int crypto_thread;
};

/**
 * dispatch_init(base, bt, lfds, nlfds, opts):
 * Serve the store ${bt} to connections accepted on the ${nlfds} listening,
 * non-blocking sockets ${lfds} (owned and closed by the dispatcher once
 * this succeeds; still the caller's on failure), with the event loop
 * ${base}; ${opts} is copied (opts->lenc too; opts->key is kept by
 * pointer).  Starts
 * group commit (and its worker thread) and watches SIGUSR1 (log the store
 * statistics).  Return the state, or NULL on error (logged).
 */
struct dispatch *dispatch_init(struct event_base *, struct btree *,
    const int *, size_t, const struct dispatch_opts *);

/**
 * dispatch_run(D):
 * Run the event loop until the dispatcher has shut down.  Return 0 after a
 * clean shutdown (dispatch_shutdown(), or the first connection closing
 * under opts->once): every mutation applied was committed and its response
 * sent (or its client was gone).  Return -1 after a fatal error (a commit
 * failed, the store reported an error on a mutation): nothing more was
 * acknowledged and the caller must exit non-zero.
 */
int dispatch_run(struct dispatch *);

/**
 * dispatch_shutdown(D):
 * Stop accepting and reading requests, commit every mutation applied,
 * send the held responses (giving clients that do not read a few seconds)
 * and make dispatch_run() return 0.  Safe to call more than once.
 */
void dispatch_shutdown(struct dispatch *);

/**
 * dispatch_signal(cookie, signo):
 * The daemon_signals_init() callback: the first SIGTERM or SIGINT calls
 * dispatch_shutdown(${cookie}); a second one exits at once (status 1)
 * without acknowledging anything more.
 */
void dispatch_signal(void *, int);

/**
 * dispatch_free(D):
 * Close every connection and listening socket and free the dispatcher
 * (after stopping the commit worker).  The store is not closed.  NULL is
 * a no-op.
 */
void dispatch_free(struct dispatch *);

#endif /* !DISPATCH_H_ */
