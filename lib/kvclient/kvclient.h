#ifndef KVCLIENT_H_
#define KVCLIENT_H_

/*
 * kvclient: the client library of the kvlds protocol.
 *
 * One struct kvclient is one connection to a kvlds server (or anything
 * speaking its protocol).  Requests are asynchronous: each call encodes
 * the request, queues it for sending and returns at once; any number of
 * requests may be in flight on one connection (each gets its own request
 * ID), and when the response to one arrives its callback is called from
 * the event loop with the result.  Responses may arrive in any order.
 *
 * The connection is driven by a libevent event_base: either the caller's
 * own (kvclient_open(base, ...)), so that the client runs inside the
 * caller's loop, or a private one created by kvclient_open(NULL, ...),
 * which the blocking wrappers (kvclient_*_b) run as needed.  The blocking
 * wrappers work with either kind of base, but must not be called from
 * inside a callback of that base (libevent does not allow re-entering a
 * running loop).
 *
 * Status values passed to callbacks and returned by blocking calls:
 *	KVCLIENT_OK (0)		done / found / added / replaced
 *	KVCLIENT_NO (1)		the request's condition did not hold: CAS or
 *				CAD old value differed, ADD key existed,
 *				MODIFY key absent, GET key absent
 *	KVCLIENT_FAIL (-1)	the request failed: the connection was
 *				dropped, the server broke the protocol, or
 *				the client was closed.  Whether a modifying
 *				request took effect is then unknown.
 *
 * Limits: at connection time the client asks the server for its PARAMS
 * (longest key and value) and checks every request against them before
 * sending: a request with a key or value over the limit is refused by
 * the call (return -1, errno EINVAL, a message printed), instead of
 * getting the connection dropped by the server.
 *
 * Failure: when the connection fails (EOF, socket error, malformed
 * response) every outstanding callback is called with KVCLIENT_FAIL, in
 * request order, and every later request call returns -1 (errno EPIPE).
 * kvclient_failed() tells whether that happened.
 *
 * Layers: requests and responses (lib/kvproto) are framed into packets
 * (lib/packet) carried over a byte transport: a plain Unix or TCP
 * socket, or the spiped protocol (lib/proto) when kvclient_opts gives a
 * key; the calls below are the same either way.
 *
 * Buffers passed to request calls (keys, values) are copied before the
 * call returns.  Buffers passed to callbacks (values, RANGE results) are
 * valid only during the callback.
 *
 * Signals: if SIGPIPE has its default disposition, kvclient_open() sets
 * it to be ignored, so that writing to a closed connection fails the
 * connection instead of killing the process.
 *
 * Not thread-safe: one connection is used from the thread running its
 * event_base.
 */

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct kvclient;

/* Seconds kvclient_open() waits for the connection to be usable. */
#define KVCLIENT_OPEN_TIMEOUT	30

/* Status values (see above). */
#define KVCLIENT_OK	0
#define KVCLIENT_NO	1
#define KVCLIENT_FAIL	(-1)

/*
 * Connection options.  A NULL pointer, or an all-zero structure, means a
 * plaintext connection.
 */
struct kvclient_opts {
	/*
	 * 32-byte spiped key K (as keyfile_load() returns it) for an
	 * encrypted endpoint (kvlds's native encrypted listener, or a
	 * spiped -d in front of a kvlds), or NULL for plaintext.  The
	 * client then runs the spiped handshake and protocol itself; a
	 * wrong key makes kvclient_open() fail with a message saying so.
	 * The key is copied; the caller may wipe it after kvclient_open().
	 */
	const uint8_t *key;
	/* With a key: skip Diffie-Hellman (spiped -f)... */
	int nopfs;
	/* ... or refuse a server that skips it (spiped -g). */
	int requirepfs;
};

/*
 * Callback for requests answered by a status (SET, CAS, ADD, MODIFY,
 * DELETE, CAD): ${status} is KVCLIENT_OK, KVCLIENT_NO or KVCLIENT_FAIL.
 */
typedef void kvclient_status_cb(void *, int);

/*
 * Callback for GET: ${status} is KVCLIENT_OK (the value is ${value},
 * ${valuelen} bytes, valid during the call), KVCLIENT_NO (absent; value
 * NULL) or KVCLIENT_FAIL (value NULL).
 */
typedef void kvclient_get_cb(void *, int, const uint8_t *, size_t);

/*
 * One RANGE response: ${count} pairs with start <= key < end, in key
 * order, then the key ${next} to continue from (${nextlen} == 0: the
 * range is exhausted).  Walk the pairs with kvclient_range_pair().
 * Everything points into the response and is valid only during the
 * callback that received it.
 */
struct kvclient_range {
	uint32_t count;
	const uint8_t *next;
	size_t nextlen;
	const uint8_t *pairs;	/* ${count} serialized pairs. */
	size_t pairslen;
};

/*
 * Callback for one RANGE request: ${status} is KVCLIENT_OK with ${r} the
 * response, or KVCLIENT_FAIL with ${r} NULL.
 */
typedef void kvclient_range_cb(void *, int, const struct kvclient_range *);

/*
 * Per-pair callback of kvclient_range_all(): key and value are valid
 * only during the call.  Return 0 to go on, non-zero to stop the
 * iteration (its done callback then gets KVCLIENT_NO).
 */
typedef int kvclient_pair_cb(void *, const uint8_t *, size_t,
    const uint8_t *, size_t);

/**
 * kvclient_open(base, addr, opts):
 * Connect to the server at ${addr}: a Unix socket path (anything with a
 * '/'), "host:port" or "[v6addr]:port" (lib/sock syntax), with the
 * options ${opts} (NULL = plaintext).  If ${base} is NULL a private
 * event_base is created (and freed by kvclient_free()); otherwise the
 * connection runs in ${base}, which must outlive it.  Blocks until the
 * connection is up and the server's PARAMS are known: while waiting it
 * runs ${base} (event_base_loop(EVLOOP_ONCE)), so other events of a
 * caller's base may fire; do not call it from a callback of ${base}.
 * Gives up after KVCLIENT_OPEN_TIMEOUT seconds without an answer (a
 * server that accepts but is hung); requests sent later have no time
 * limit.  Return the client, or NULL after printing why (address,
 * connection refused, handshake failed, timed out, no PARAMS answer).
 */
struct kvclient * kvclient_open(struct event_base *, const char *,
    const struct kvclient_opts *);

/**
 * kvclient_open_fd(base, fd, opts):
 * As kvclient_open(), over the already connected stream socket ${fd}
 * (made non-blocking here), which the client owns from then on (even on
 * failure: it is closed).  For socketpairs, inherited descriptors and
 * tests.
 */
struct kvclient * kvclient_open_fd(struct event_base *, int,
    const struct kvclient_opts *);

/**
 * kvclient_free(K):
 * Close the connection and free ${K} (and its private event_base, if
 * kvclient_open() created one).  Callbacks of requests still outstanding
 * are NOT called.  May be called from inside one of ${K}'s callbacks; the
 * memory is then released when the callback returns.  NULL is a no-op.
 */
void kvclient_free(struct kvclient *);

/**
 * kvclient_base(K):
 * Return the event_base ${K} runs in (the caller's or its private one).
 */
struct event_base * kvclient_base(struct kvclient *);

/**
 * kvclient_maxkey(K), kvclient_maxval(K):
 * Return the longest key / value the server accepts (from PARAMS).
 */
size_t kvclient_maxkey(const struct kvclient *);
size_t kvclient_maxval(const struct kvclient *);

/**
 * kvclient_pending(K):
 * Return the number of requests sent (or queued) and not yet answered.
 */
size_t kvclient_pending(const struct kvclient *);

/**
 * kvclient_failed(K):
 * Return non-zero if the connection has failed (every outstanding
 * request was then failed, and new ones are refused).
 */
int kvclient_failed(const struct kvclient *);

/**
 * kvclient_set(K, key, keylen, value, valuelen, cb, cookie):
 * Send SET: store ${value} under ${key}.  ${cb}(${cookie}, status) is
 * called later with KVCLIENT_OK or KVCLIENT_FAIL.  Return 0 if the
 * request was queued, or -1 (with errno set, and ${cb} never called) if
 * a field is over the server's limits (EINVAL, printed), the connection
 * has failed (EPIPE) or memory ran out (ENOMEM).  The same return
 * convention holds for every request call below.
 */
int kvclient_set(struct kvclient *, const uint8_t *, size_t,
    const uint8_t *, size_t, kvclient_status_cb *, void *);

/**
 * kvclient_cas(K, key, keylen, oldval, oldvallen, value, valuelen, cb,
 *     cookie):
 * Send CAS: if ${key} holds ${oldval}, replace it by ${value}.  ${cb}
 * gets KVCLIENT_OK (replaced), KVCLIENT_NO (not) or KVCLIENT_FAIL.
 */
int kvclient_cas(struct kvclient *, const uint8_t *, size_t,
    const uint8_t *, size_t, const uint8_t *, size_t,
    kvclient_status_cb *, void *);

/**
 * kvclient_add(K, key, keylen, value, valuelen, cb, cookie):
 * Send ADD: store ${value} under ${key} if the key is absent.  ${cb}
 * gets KVCLIENT_OK (added), KVCLIENT_NO (key existed) or KVCLIENT_FAIL.
 */
int kvclient_add(struct kvclient *, const uint8_t *, size_t,
    const uint8_t *, size_t, kvclient_status_cb *, void *);

/**
 * kvclient_modify(K, key, keylen, value, valuelen, cb, cookie):
 * Send MODIFY: replace the value of ${key} if the key is present.  ${cb}
 * gets KVCLIENT_OK (replaced), KVCLIENT_NO (absent) or KVCLIENT_FAIL.
 */
int kvclient_modify(struct kvclient *, const uint8_t *, size_t,
    const uint8_t *, size_t, kvclient_status_cb *, void *);

/**
 * kvclient_delete(K, key, keylen, cb, cookie):
 * Send DELETE: remove ${key} (present or not).  ${cb} gets KVCLIENT_OK
 * or KVCLIENT_FAIL.
 */
int kvclient_delete(struct kvclient *, const uint8_t *, size_t,
    kvclient_status_cb *, void *);

/**
 * kvclient_cad(K, key, keylen, oldval, oldvallen, cb, cookie):
 * Send CAD: remove ${key} if it holds ${oldval}.  ${cb} gets KVCLIENT_OK
 * (deleted), KVCLIENT_NO (not) or KVCLIENT_FAIL.
 */
int kvclient_cad(struct kvclient *, const uint8_t *, size_t,
    const uint8_t *, size_t, kvclient_status_cb *, void *);

/**
 * kvclient_get(K, key, keylen, cb, cookie):
 * Send GET for ${key}; ${cb} is a kvclient_get_cb (see above).
 */
int kvclient_get(struct kvclient *, const uint8_t *, size_t,
    kvclient_get_cb *, void *);

/**
 * kvclient_range(K, start, startlen, end, endlen, maxbytes, cb, cookie):
 * Send one RANGE request for the pairs with ${start} <= key < ${end}
 * (${endlen} == 0: no end), asking for at most ${maxbytes} bytes of
 * serialized pairs (the server returns at least one pair if any remain,
 * and may return fewer bytes).  ${cb} is a kvclient_range_cb; continue
 * from its "next" key, or use kvclient_range_all().
 */
int kvclient_range(struct kvclient *, const uint8_t *, size_t,
    const uint8_t *, size_t, uint32_t, kvclient_range_cb *, void *);

/**
 * kvclient_range_pair(pos, end, key, keylen, value, valuelen):
 * Iterate over the serialized pairs of a struct kvclient_range r: start
 * with *${pos} = r->pairs and ${end} = r->pairs + r->pairslen; each call
 * sets the key and value pointers and lengths to the next pair, advances
 * *${pos} and returns 1, or returns 0 when no pair is left.
 */
int kvclient_range_pair(const uint8_t **, const uint8_t *,
    const uint8_t **, size_t *, const uint8_t **, size_t *);

/**
 * kvclient_range_all(K, start, startlen, end, endlen, maxbytes, paircb,
 *     donecb, cookie):
 * Walk every pair with ${start} <= key < ${end} (${endlen} == 0: to the
 * end of the store), in key order, by sending RANGE requests of
 * ${maxbytes} bytes one after the other, each continuing from the "next"
 * key of the previous response.  ${paircb}(${cookie}, key, keylen,
 * value, valuelen) is called for every pair; when the range is exhausted
 * ${donecb}(${cookie}, KVCLIENT_OK) is called, or KVCLIENT_NO if
 * ${paircb} asked to stop, or KVCLIENT_FAIL if a request failed.  Other
 * requests may be sent meanwhile; the walk is not a snapshot (pairs
 * changed during it may or may not be seen).  Return 0, or -1 as the
 * request calls (and then no callback is ever called).
 */
int kvclient_range_all(struct kvclient *, const uint8_t *, size_t,
    const uint8_t *, size_t, uint32_t, kvclient_pair_cb *,
    kvclient_status_cb *, void *);

/*
 * Snapshot reads (the kvlds extension of kvlds/PROTOCOL.md; a kivaloo
 * server does not know these requests and drops the connection, so send
 * them only to a server known to be kvlds).  A snapshot pins the newest
 * durable commit; reads through it see that commit's state however many
 * writes follow.  It belongs to the connection that opened it and is
 * released by kvclient_snapshot_close() or when the connection ends.
 */

/*
 * Callback for SNAPSHOT_OPEN: ${status} is KVCLIENT_OK with ${snapid} the
 * snapshot's ID, KVCLIENT_NO (the server has no snapshot to give: limit
 * reached; snapid 0) or KVCLIENT_FAIL (snapid 0).
 */
typedef void kvclient_snapopen_cb(void *, int, uint64_t);

/**
 * kvclient_snapshot_open(K, cb, cookie):
 * Send SNAPSHOT_OPEN; ${cb} is a kvclient_snapopen_cb.  Return 0, or -1
 * as the request calls above.
 */
int kvclient_snapshot_open(struct kvclient *, kvclient_snapopen_cb *,
    void *);

/**
 * kvclient_snapshot_range(K, snapid, start, startlen, end, endlen,
 *     maxbytes, cb, cookie):
 * As kvclient_range(), over the snapshot ${snapid}: ${cb} gets
 * KVCLIENT_OK with the response, KVCLIENT_NO with NULL if the server
 * knows no such snapshot on this connection (closed, or expired), or
 * KVCLIENT_FAIL with NULL.
 */
int kvclient_snapshot_range(struct kvclient *, uint64_t, const uint8_t *,
    size_t, const uint8_t *, size_t, uint32_t, kvclient_range_cb *, void *);

/**
 * kvclient_snapshot_range_all(K, snapid, start, startlen, end, endlen,
 *     maxbytes, paircb, donecb, cookie):
 * As kvclient_range_all(), over the snapshot ${snapid}: every pair of
 * [start, end) in the pinned commit, in key order.  An unknown snapshot
 * ends the walk with KVCLIENT_FAIL (and a warning).
 */
int kvclient_snapshot_range_all(struct kvclient *, uint64_t,
    const uint8_t *, size_t, const uint8_t *, size_t, uint32_t,
    kvclient_pair_cb *, kvclient_status_cb *, void *);

/**
 * kvclient_snapshot_close(K, snapid, cb, cookie):
 * Send SNAPSHOT_CLOSE for ${snapid} (an unknown ID is not an error);
 * ${cb} is a kvclient_status_cb, called with KVCLIENT_OK or
 * KVCLIENT_FAIL.
 */
int kvclient_snapshot_close(struct kvclient *, uint64_t,
    kvclient_status_cb *, void *);

/*
 * Blocking wrappers.  Each sends its request and runs ${K}'s event_base
 * until the answer is in; it returns KVCLIENT_OK, KVCLIENT_NO or
 * KVCLIENT_FAIL (-1, also when the request could not be sent).  Other
 * requests already in flight keep being served (their callbacks fire)
 * while a blocking call waits.  Never call these from a callback of
 * ${K}'s base.
 */

/**
 * kvclient_set_b(K, key, keylen, value, valuelen):
 * Blocking kvclient_set().
 */
int kvclient_set_b(struct kvclient *, const uint8_t *, size_t,
    const uint8_t *, size_t);

/**
 * kvclient_cas_b(K, key, keylen, oldval, oldvallen, value, valuelen):
 * Blocking kvclient_cas().
 */
int kvclient_cas_b(struct kvclient *, const uint8_t *, size_t,
    const uint8_t *, size_t, const uint8_t *, size_t);

/**
 * kvclient_add_b(K, key, keylen, value, valuelen):
 * Blocking kvclient_add().
 */
int kvclient_add_b(struct kvclient *, const uint8_t *, size_t,
    const uint8_t *, size_t);

/**
 * kvclient_modify_b(K, key, keylen, value, valuelen):
 * Blocking kvclient_modify().
 */
int kvclient_modify_b(struct kvclient *, const uint8_t *, size_t,
    const uint8_t *, size_t);

/**
 * kvclient_delete_b(K, key, keylen):
 * Blocking kvclient_delete().
 */
int kvclient_delete_b(struct kvclient *, const uint8_t *, size_t);

/**
 * kvclient_cad_b(K, key, keylen, oldval, oldvallen):
 * Blocking kvclient_cad().
 */
int kvclient_cad_b(struct kvclient *, const uint8_t *, size_t,
    const uint8_t *, size_t);

/**
 * kvclient_get_b(K, key, keylen, value, valuelen):
 * Blocking kvclient_get(): on KVCLIENT_OK the value is copied into
 * ${value}, which must have room for kvclient_maxval(K) bytes (255
 * always suffice), and its length stored in *${valuelen}.
 */
int kvclient_get_b(struct kvclient *, const uint8_t *, size_t, uint8_t *,
    size_t *);

/**
 * kvclient_range_all_b(K, start, startlen, end, endlen, maxbytes, paircb,
 *     cookie):
 * Blocking kvclient_range_all(): returns once the walk is over, with the
 * status its done callback would have received.
 */
int kvclient_range_all_b(struct kvclient *, const uint8_t *, size_t,
    const uint8_t *, size_t, uint32_t, kvclient_pair_cb *, void *);

/**
 * kvclient_snapshot_open_b(K, snapid):
 * Blocking kvclient_snapshot_open(): on KVCLIENT_OK the ID is stored in
 * *${snapid}.
 */
int kvclient_snapshot_open_b(struct kvclient *, uint64_t *);

/**
 * kvclient_snapshot_range_all_b(K, snapid, start, startlen, end, endlen,
 *     maxbytes, paircb, cookie):
 * Blocking kvclient_snapshot_range_all().
 */
int kvclient_snapshot_range_all_b(struct kvclient *, uint64_t,
    const uint8_t *, size_t, const uint8_t *, size_t, uint32_t,
    kvclient_pair_cb *, void *);

/**
 * kvclient_snapshot_close_b(K, snapid):
 * Blocking kvclient_snapshot_close().
 */
int kvclient_snapshot_close_b(struct kvclient *, uint64_t);

/**
 * kvclient_wait(K, npending):
 * Run ${K}'s event_base until at most ${npending} requests are
 * outstanding (0: all answered) or the connection fails.  Return 0, or
 * -1 if the connection has failed.  Never call it from a callback of
 * ${K}'s base.
 */
int kvclient_wait(struct kvclient *, size_t);

#endif /* !KVCLIENT_H_ */
