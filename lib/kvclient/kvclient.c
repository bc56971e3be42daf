#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "kvproto/kvproto.h"
#include "log/log.h"
#include "packet/packet.h"
#include "proto/proto_handshake.h"
#include "sock/sock.h"

#include "kvclient_transport.h"
#include "kvclient.h"

/*
 * Request slots.  Every request in flight owns one slot; its request ID
 * is (sequence number << 32) | slot index, so that a response is matched
 * to its slot in O(1) and a stale or forged ID (a slot since reused)
 * does not match.  Free slots are kept on a stack of indices.
 */
/* The callback of a request; which member is set follows its type. */
union anycb {
	kvclient_status_cb *status;
	kvclient_get_cb *get;
	kvclient_range_cb *range;
	kvclient_snapopen_cb *snapopen;
	void (*params)(struct kvclient *, int, uint32_t, uint32_t);
};

struct slot {
	uint64_t id;		/* 0: the slot is free. */
	uint32_t type;
	size_t maxresp;		/* Longest valid response record. */
	union anycb cb;
	void *cookie;
};

/*
 * Lifecycle: OPENING (waiting for PARAMS) -> OPEN -> FAILED.  "busy"
 * counts nested callback invocations; kvclient_free() while busy only
 * marks the client "doomed" and the outermost caller frees it.
 */
struct kvclient {
	struct event_base *base;
	int ownbase;
	struct kvclient_transport *t;
	struct slot *slots;
	uint32_t *freelist;
	size_t nslots;
	size_t nfree;
	size_t pending;
	uint64_t seq;
	size_t maxresp;		/* Bound for any response in flight. */
	size_t maxkey;
	size_t maxval;
	int gotparams;
	int failed;
	const char *failwhy;	/* Static description of the failure. */
	int busy;
	int doomed;
};

static void kvclient_destroy(struct kvclient *);

/* Grow the slot table (double it) and push the new slots as free. */
static int
slots_grow(struct kvclient *K)
{
	size_t n = K->nslots ? K->nslots * 2 : 64;
	struct slot *s;
	uint32_t *f;
	size_t i;

	if (n > UINT32_MAX) {
		errno = ENOMEM;
		return (-1);
	}
	if ((s = realloc(K->slots, n * sizeof(*s))) == NULL)
		return (-1);
	K->slots = s;
	if ((f = realloc(K->freelist, n * sizeof(*f))) == NULL)
		return (-1);
	K->freelist = f;
	for (i = K->nslots; i < n; i++)
		s[i].id = 0;
	/* Push in reverse so that low indices are used first. */
	for (i = n; i > K->nslots; i--)
		f[K->nfree++] = (uint32_t)(i - 1);
	K->nslots = n;
	return (0);
}

/*
 * Fail the connection: free the transport, call every outstanding
 * callback with KVCLIENT_FAIL in request order.  Idempotent.
 */
static int
cmpid(const void *a, const void *b)
{
	const struct slot *x = a, *y = b;

	return ((x->id > y->id) - (x->id < y->id));
}

static void
fire(struct kvclient *K, const struct slot *s, int status,
    const struct kvproto_resp *resp)
{
	struct kvclient_range r;

	switch (s->type) {
	case KVPROTO_PARAMS:
		s->cb.params(K, status, resp ? resp->maxkey : 0,
		    resp ? resp->maxval : 0);
		break;
	case KVPROTO_GET:
		if (status == KVCLIENT_OK)
			s->cb.get(s->cookie, status, resp->value,
			    resp->valuelen);
		else
			s->cb.get(s->cookie, status, NULL, 0);
		break;
	case KVPROTO_RANGE:
	case KVPROTO_SNAPSHOT_RANGE:
		if (status == KVCLIENT_OK) {
			r.count = resp->count;
			r.next = resp->next;
			r.nextlen = resp->nextlen;
			r.pairs = resp->pairs;
			r.pairslen = resp->pairslen;
			s->cb.range(s->cookie, status, &r);
		} else
			s->cb.range(s->cookie, status, NULL);
		break;
	case KVPROTO_SNAPSHOT_OPEN:
		s->cb.snapopen(s->cookie, status, status == KVCLIENT_OK ?
		    resp->snapid : 0);
		break;
	default:
		s->cb.status(s->cookie, status);
		break;
	}
}

static void
fail(struct kvclient *K, const char *why)
{
	struct slot *v;
	size_t i, n;

	if (K->failed)
		return;
	K->failed = 1;
	K->failwhy = why;
	if (K->gotparams && !K->doomed)
		warn0("kvlds connection failed: %s", why);

	/* Take the outstanding requests out of the table first. */
	if ((v = malloc((K->pending + 1) * sizeof(*v))) == NULL) {
		warnp("malloc");
		v = NULL;
	}
	for (i = n = 0; i < K->nslots; i++) {
		if (K->slots[i].id == 0)
			continue;
		if (v != NULL)
			v[n++] = K->slots[i];
		K->slots[i].id = 0;
		K->freelist[K->nfree++] = (uint32_t)i;
	}
	K->pending = 0;
	if (v == NULL)
		return;
	qsort(v, n, sizeof(*v), cmpid);

	K->busy++;
	for (i = 0; i < n && !K->doomed; i++)
		fire(K, &v[i], KVCLIENT_FAIL, NULL);
	K->busy--;
	free(v);
}

static void
transport_failcb(void *cookie, const char *why)
{
	struct kvclient *K = cookie;

	K->busy++;
	fail(K, why);
	K->busy--;
	if (K->doomed && K->busy == 0)
		kvclient_destroy(K);
}

/* Dispatch one response; return 0, or -1 on a protocol error. */
static int
response(struct kvclient *K, uint64_t id, const uint8_t *rec, size_t len)
{
	struct kvproto_resp resp;
	struct slot s;
	size_t idx = (size_t)(id & 0xffffffffU);

	if ((idx >= K->nslots) || (K->slots[idx].id != id) || (id == 0))
		return (-1);
	s = K->slots[idx];
	if (len > s.maxresp)
		return (-1);
	if (kvproto_resp_parse(s.type, rec, len, &resp))
		return (-1);

	/* Release the slot before the callback, which may send more. */
	K->slots[idx].id = 0;
	K->freelist[K->nfree++] = (uint32_t)idx;
	K->pending--;

	fire(K, &s, (s.type == KVPROTO_PARAMS) ? KVCLIENT_OK :
	    (int)resp.status, &resp);
	return (0);
}

/*
 * Take every whole response from the input buffer.  Packets are parsed
 * in place from the first contiguous chunk and drained in one go; only a
 * packet that straddles two chunks is made contiguous (packet_evpeek).
 * The input buffer is left alone once the client is doomed (a callback
 * freed it) or failed.
 */
static void
transport_readcb(void *cookie)
{
	struct kvclient *K = cookie;
	struct evbuffer *in = kvclient_transport_input(K->t);
	struct evbuffer_iovec v;
	const uint8_t *rec;
	uint64_t id;
	size_t len, off;
	int rc;

	K->busy++;
	while (!K->failed && !K->doomed) {
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		for (off = 0; !K->failed && !K->doomed; ) {
			rc = packet_parse((const uint8_t *)v.iov_base + off,
			    v.iov_len - off, K->maxresp, &id, &rec, &len);
			if (rc == PACKET_NEEDMORE)
				break;
			if (rc != PACKET_OK) {
				fail(K, "malformed packet from server");
				break;
			}
			off += len + PACKET_OVERHEAD;
			if (response(K, id, rec, len))
				fail(K, "malformed or unexpected response "
				    "from server");
		}
		if (K->failed || K->doomed)
			break;
		if (off > 0) {
			evbuffer_drain(in, off);
			continue;
		}

		/* A packet across chunks, or not all there yet. */
		rc = packet_evpeek(in, K->maxresp, &id, &rec, &len);
		if (rc == PACKET_NEEDMORE)
			break;
		if (rc != PACKET_OK) {
			fail(K, "malformed packet from server");
			break;
		}
		if (response(K, id, rec, len)) {
			fail(K, "malformed or unexpected response from "
			    "server");
			break;
		}
		if (K->doomed)
			break;
		packet_evdrain(in, len);
	}
	K->busy--;
	if (K->doomed && K->busy == 0)
		kvclient_destroy(K);
}

/*
 * Check, encode and queue the request ${req}, whose response will go to
 * ${cb} (the member its type calls for) with ${cookie}; the one path of
 * every request.  Return 0 or -1 (errno set).
 */
static int
send_req(struct kvclient *K, const struct kvproto_req *req, union anycb cb,
    void *cookie)
{
	uint8_t buf[KVPROTO_REQ_MAXLEN];
	struct slot *s;
	ssize_t len;
	uint32_t idx;

	if (K->failed || K->doomed) {
		errno = EPIPE;
		return (-1);
	}
	if ((req->keylen > K->maxkey) || (req->endlen > K->maxkey)) {
		warn0("key too long (%zu bytes; the server allows %zu)",
		    (req->keylen > req->endlen) ? req->keylen : req->endlen,
		    K->maxkey);
		errno = EINVAL;
		return (-1);
	}
	if ((req->valuelen > K->maxval) || (req->oldvallen > K->maxval)) {
		warn0("value too long (%zu bytes; the server allows %zu)",
		    (req->valuelen > req->oldvallen) ? req->valuelen :
		    req->oldvallen, K->maxval);
		errno = EINVAL;
		return (-1);
	}
	if ((len = kvproto_req_encode(req, buf, sizeof(buf))) < 0) {
		errno = EINVAL;
		return (-1);
	}
	if ((K->nfree == 0) && slots_grow(K)) {
		warnp("realloc");
		return (-1);
	}
	idx = K->freelist[K->nfree - 1];
	s = &K->slots[idx];
	K->seq++;
	s->id = (K->seq << 32) | idx;
	if (packet_evwrite(kvclient_transport_output(K->t), s->id, buf,
	    (size_t)len)) {
		s->id = 0;
		errno = ENOMEM;
		return (-1);
	}
	K->nfree--;
	K->pending++;
	s->type = req->type;
	s->maxresp = kvproto_resp_maxlen(req);
	if (s->maxresp > K->maxresp)
		K->maxresp = s->maxresp;
	s->cookie = cookie;
	s->cb = cb;
	return (0);
}


static void
params_cb(struct kvclient *K, int status, uint32_t maxkey, uint32_t maxval)
{

	if (status != KVCLIENT_OK)
		return;
	K->maxkey = (maxkey < KVPROTO_MAXKV) ? maxkey : KVPROTO_MAXKV;
	K->maxval = (maxval < KVPROTO_MAXKV) ? maxval : KVPROTO_MAXKV;
	K->gotparams = 1;
}

/*
 * A write to a connection the server closed must fail with EPIPE, not
 * kill the process: ignore SIGPIPE unless the program handles it.
 */
static int
ignore_sigpipe(void)
{
	struct sigaction sa;

	if (sigaction(SIGPIPE, NULL, &sa)) {
		warnp("sigaction");
		return (-1);
	}
	if (sa.sa_handler != SIG_DFL)
		return (0);
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	if (sigaction(SIGPIPE, &sa, NULL)) {
		warnp("sigaction");
		return (-1);
	}
	return (0);
}

/* No PARAMS answer in time: fail the connection (and its PARAMS). */
static void
open_timeout(evutil_socket_t fd, short what, void *cookie)
{
	struct kvclient *K = cookie;

	(void)fd;
	(void)what;
	K->busy++;
	fail(K, "no PARAMS answer in time");
	K->busy--;
}

/**
 * kvclient_open_fd(base, fd, opts):
 * As kvclient_open(), over the already connected stream socket ${fd},
 * which the client owns from then on (closed on failure).
 */
struct kvclient *
kvclient_open_fd(struct event_base *base, int fd,
    const struct kvclient_opts *opts)
{
	static const struct kvclient_transport_cbs cbs = {
		transport_readcb, transport_failcb
	};
	struct timeval tv = { KVCLIENT_OPEN_TIMEOUT, 0 };
	struct kvclient *K;
	struct event *tmo;

	if (ignore_sigpipe())
		goto err0;
	if ((K = calloc(1, sizeof(*K))) == NULL) {
		warnp("calloc");
		goto err0;
	}
	K->maxkey = K->maxval = KVPROTO_MAXKV;
	K->maxresp = KVPROTO_RESP_MAXLEN;
	if (base == NULL) {
		if ((base = event_base_new()) == NULL) {
			warn0("event_base_new failed");
			goto err1;
		}
		K->ownbase = 1;
	}
	K->base = base;
	if (slots_grow(K)) {
		warnp("malloc");
		goto err2;
	}
	if ((opts != NULL) && (opts->key != NULL))
		K->t = kvclient_transport_spiped(base, fd, opts->key,
		    (opts->nopfs ? PROTO_HS_NOPFS : 0) |
		    (opts->requirepfs ? PROTO_HS_REQPFS : 0), &cbs, K);
	else
		K->t = kvclient_transport_plain(base, fd, &cbs, K);
	if (K->t == NULL)
		goto err3;

	/* Ask for the server's limits and wait for them. */
	if (send_req(K, &(struct kvproto_req){ .type = KVPROTO_PARAMS },
	    (union anycb){ .params = params_cb }, NULL)) {
		warnp("cannot send PARAMS");
		goto err4;
	}
	if ((tmo = evtimer_new(K->base, open_timeout, K)) == NULL) {
		warn0("evtimer_new failed");
		goto err4;
	}
	if (evtimer_add(tmo, &tv)) {
		warn0("evtimer_add failed");
		event_free(tmo);
		goto err4;
	}
	while (!K->gotparams && !K->failed) {
		if (event_base_loop(K->base, EVLOOP_ONCE) != 0) {
			warn0("event loop failed");
			event_free(tmo);
			goto err4;
		}
	}
	event_free(tmo);
	if (!K->gotparams) {
		warn0("cannot open the kvlds connection: %s", K->failwhy);
		goto err4;
	}
	return (K);

err4:
	kvclient_transport_free(K->t);
err3:
	free(K->slots);
	free(K->freelist);
err2:
	if (K->ownbase)
		event_base_free(base);
err1:
	free(K);
	return (NULL);
err0:
	close(fd);
	return (NULL);
}

/**
 * kvclient_open(base, addr, opts):
 * Connect to the server at ${addr} (Unix path, host:port, [v6]:port) and
 * fetch its PARAMS, blocking; see kvclient.h.  Return the client or NULL
 * after printing why.
 */
struct kvclient *
kvclient_open(struct event_base *base, const char *addr,
    const struct kvclient_opts *opts)
{
	struct sock_addr **sas;
	int fd;

	if ((sas = sock_resolve(addr)) == NULL)
		return (NULL);
	if ((fd = sock_connect(sas)) == -1) {
		warnp("cannot connect to %s", addr);
		sock_addr_freelist(sas);
		return (NULL);
	}
	if (!sock_is_unix(sas[0]))
		(void)sock_set_nodelay(fd, 1);
	sock_addr_freelist(sas);
	return (kvclient_open_fd(base, fd, opts));
}

static void
kvclient_destroy(struct kvclient *K)
{

	kvclient_transport_free(K->t);
	if (K->ownbase)
		event_base_free(K->base);
	free(K->slots);
	free(K->freelist);
	free(K);
}

/**
 * kvclient_free(K):
 * Close the connection and free ${K}; outstanding callbacks are not
 * called.  Deferred until the current callback returns when called from
 * one.  NULL is a no-op.
 */
void
kvclient_free(struct kvclient *K)
{

	if (K == NULL)
		return;
	if (K->busy) {
		/* Stop all I/O now; free when the callback unwinds. */
		K->doomed = 1;
		return;
	}
	kvclient_destroy(K);
}

/**
 * kvclient_base(K):
 * Return the event_base ${K} runs in.
 */
struct event_base *
kvclient_base(struct kvclient *K)
{

	return (K->base);
}

/**
 * kvclient_maxkey(K), kvclient_maxval(K):
 * Return the server's key and value limits.
 */
size_t
kvclient_maxkey(const struct kvclient *K)
{

	return (K->maxkey);
}

size_t
kvclient_maxval(const struct kvclient *K)
{

	return (K->maxval);
}

/**
 * kvclient_pending(K):
 * Return the number of requests not yet answered.
 */
size_t
kvclient_pending(const struct kvclient *K)
{

	return (K->pending);
}

/**
 * kvclient_failed(K):
 * Return non-zero if the connection has failed.
 */
int
kvclient_failed(const struct kvclient *K)
{

	return (K->failed);
}

/*
 * The requests below each name their fields in one compound literal (the
 * others are zero) and go through send_req(), which checks, encodes and
 * queues them and records the callback for the response's type.
 */

/**
 * kvclient_set(K, key, keylen, value, valuelen, cb, cookie):
 * Send SET.
 */
int
kvclient_set(struct kvclient *K, const uint8_t *key, size_t keylen,
    const uint8_t *value, size_t valuelen, kvclient_status_cb *cb,
    void *cookie)
{

	return (send_req(K, &(struct kvproto_req){ .type = KVPROTO_SET,
	    .key = key, .keylen = keylen, .value = value,
	    .valuelen = valuelen }, (union anycb){ .status = cb }, cookie));
}

/**
 * kvclient_cas(K, key, keylen, oldval, oldvallen, value, valuelen, cb,
 *     cookie):
 * Send CAS.
 */
int
kvclient_cas(struct kvclient *K, const uint8_t *key, size_t keylen,
    const uint8_t *oldval, size_t oldvallen, const uint8_t *value,
    size_t valuelen, kvclient_status_cb *cb, void *cookie)
{

	return (send_req(K, &(struct kvproto_req){ .type = KVPROTO_CAS,
	    .key = key, .keylen = keylen, .oldval = oldval,
	    .oldvallen = oldvallen, .value = value, .valuelen = valuelen },
	    (union anycb){ .status = cb }, cookie));
}

/**
 * kvclient_add(K, key, keylen, value, valuelen, cb, cookie):
 * Send ADD.
 */
int
kvclient_add(struct kvclient *K, const uint8_t *key, size_t keylen,
    const uint8_t *value, size_t valuelen, kvclient_status_cb *cb,
    void *cookie)
{

	return (send_req(K, &(struct kvproto_req){ .type = KVPROTO_ADD,
	    .key = key, .keylen = keylen, .value = value,
	    .valuelen = valuelen }, (union anycb){ .status = cb }, cookie));
}

/**
 * kvclient_modify(K, key, keylen, value, valuelen, cb, cookie):
 * Send MODIFY.
 */
int
kvclient_modify(struct kvclient *K, const uint8_t *key, size_t keylen,
    const uint8_t *value, size_t valuelen, kvclient_status_cb *cb,
    void *cookie)
{

	return (send_req(K, &(struct kvproto_req){ .type = KVPROTO_MODIFY,
	    .key = key, .keylen = keylen, .value = value,
	    .valuelen = valuelen }, (union anycb){ .status = cb }, cookie));
}

/**
 * kvclient_delete(K, key, keylen, cb, cookie):
 * Send DELETE.
 */
int
kvclient_delete(struct kvclient *K, const uint8_t *key, size_t keylen,
    kvclient_status_cb *cb, void *cookie)
{

	return (send_req(K, &(struct kvproto_req){ .type = KVPROTO_DELETE,
	    .key = key, .keylen = keylen }, (union anycb){ .status = cb },
	    cookie));
}

/**
 * kvclient_cad(K, key, keylen, oldval, oldvallen, cb, cookie):
 * Send CAD.
 */
int
kvclient_cad(struct kvclient *K, const uint8_t *key, size_t keylen,
    const uint8_t *oldval, size_t oldvallen, kvclient_status_cb *cb,
    void *cookie)
{

	return (send_req(K, &(struct kvproto_req){ .type = KVPROTO_CAD,
	    .key = key, .keylen = keylen, .oldval = oldval,
	    .oldvallen = oldvallen }, (union anycb){ .status = cb }, cookie));
}

/**
 * kvclient_get(K, key, keylen, cb, cookie):
 * Send GET.
 */
int
kvclient_get(struct kvclient *K, const uint8_t *key, size_t keylen,
    kvclient_get_cb *cb, void *cookie)
{

	return (send_req(K, &(struct kvproto_req){ .type = KVPROTO_GET,
	    .key = key, .keylen = keylen }, (union anycb){ .get = cb },
	    cookie));
}

/**
 * kvclient_range(K, start, startlen, end, endlen, maxbytes, cb, cookie):
 * Send one RANGE request.
 */
int
kvclient_range(struct kvclient *K, const uint8_t *start, size_t startlen,
    const uint8_t *end, size_t endlen, uint32_t maxbytes,
    kvclient_range_cb *cb, void *cookie)
{

	return (send_req(K, &(struct kvproto_req){ .type = KVPROTO_RANGE,
	    .maxbytes = maxbytes, .key = start, .keylen = startlen,
	    .end = end, .endlen = endlen }, (union anycb){ .range = cb },
	    cookie));
}

/**
 * kvclient_range_pair(pos, end, key, keylen, value, valuelen):
 * Step through the serialized pairs of a RANGE response.
 */
int
kvclient_range_pair(const uint8_t **pos, const uint8_t *end,
    const uint8_t **key, size_t *keylen, const uint8_t **value,
    size_t *valuelen)
{

	return (kvproto_pairs_next(pos, end, key, keylen, value, valuelen) ==
	    1);
}

/**
 * kvclient_snapshot_open(K, cb, cookie):
 * Send SNAPSHOT_OPEN.
 */
int
kvclient_snapshot_open(struct kvclient *K, kvclient_snapopen_cb *cb,
    void *cookie)
{

	return (send_req(K, &(struct kvproto_req){
	    .type = KVPROTO_SNAPSHOT_OPEN }, (union anycb){ .snapopen = cb },
	    cookie));
}

/**
 * kvclient_snapshot_range(K, snapid, start, startlen, end, endlen,
 *     maxbytes, cb, cookie):
 * Send one SNAPSHOT_RANGE request.
 */
int
kvclient_snapshot_range(struct kvclient *K, uint64_t snapid,
    const uint8_t *start, size_t startlen, const uint8_t *end, size_t endlen,
    uint32_t maxbytes, kvclient_range_cb *cb, void *cookie)
{

	return (send_req(K, &(struct kvproto_req){
	    .type = KVPROTO_SNAPSHOT_RANGE, .snapid = snapid,
	    .maxbytes = maxbytes, .key = start, .keylen = startlen,
	    .end = end, .endlen = endlen }, (union anycb){ .range = cb },
	    cookie));
}

/**
 * kvclient_snapshot_close(K, snapid, cb, cookie):
 * Send SNAPSHOT_CLOSE.
 */
int
kvclient_snapshot_close(struct kvclient *K, uint64_t snapid,
    kvclient_status_cb *cb, void *cookie)
{

	return (send_req(K, &(struct kvproto_req){
	    .type = KVPROTO_SNAPSHOT_CLOSE, .snapid = snapid },
	    (union anycb){ .status = cb }, cookie));
}

/* State of one kvclient_range_all() walk. */
struct rangeall {
	struct kvclient *K;
	int snap;		/* Over the snapshot snapid. */
	uint64_t snapid;
	uint8_t start[KVPROTO_MAXKV];
	size_t startlen;
	uint8_t end[KVPROTO_MAXKV];
	size_t endlen;
	uint32_t maxbytes;
	kvclient_pair_cb *paircb;
	kvclient_status_cb *donecb;
	void *cookie;
};

/* Compare byte strings as keys sort (a proper prefix first). */
static int
keycmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int c;

	if ((c = memcmp(a, b, (alen < blen) ? alen : blen)) != 0)
		return (c);
	return ((alen > blen) - (alen < blen));
}

static void rangeall_cb(void *, int, const struct kvclient_range *);

/* Send the next request of the walk ${ra}. */
static int
rangeall_send(struct rangeall *ra)
{

	if (ra->snap)
		return (kvclient_snapshot_range(ra->K, ra->snapid, ra->start,
		    ra->startlen, ra->end, ra->endlen, ra->maxbytes,
		    rangeall_cb, ra));
	return (kvclient_range(ra->K, ra->start, ra->startlen, ra->end,
	    ra->endlen, ra->maxbytes, rangeall_cb, ra));
}

static void
rangeall_cb(void *cookie, int status, const struct kvclient_range *r)
{
	struct rangeall *ra = cookie;
	const uint8_t *pos, *end, *k, *v;
	size_t kl, vl;
	int rc = KVCLIENT_FAIL;

	if (status == KVCLIENT_NO)
		warn0("the server knows no snapshot %llu",
		    (unsigned long long)ra->snapid);
	if (status != KVCLIENT_OK)
		goto done;
	pos = r->pairs;
	end = r->pairs + r->pairslen;
	while (kvclient_range_pair(&pos, end, &k, &kl, &v, &vl)) {
		if (ra->paircb(ra->cookie, k, kl, v, vl)) {
			rc = KVCLIENT_NO;
			goto done;
		}
	}
	if ((r->nextlen == 0) || ((ra->endlen > 0) &&
	    (keycmp(r->next, r->nextlen, ra->end, ra->endlen) >= 0))) {
		rc = KVCLIENT_OK;
		goto done;
	}
	/* The protocol guarantees progress; refuse to loop forever. */
	if (keycmp(r->next, r->nextlen, ra->start, ra->startlen) <= 0) {
		warn0("RANGE response does not make progress");
		goto done;
	}
	memcpy(ra->start, r->next, r->nextlen);
	ra->startlen = r->nextlen;
	if (rangeall_send(ra))
		goto done;
	return;

done:
	ra->donecb(ra->cookie, rc);
	free(ra);
}

/* Start a walk, over the snapshot ${snapid} if ${snap}. */
static int
rangeall_start(struct kvclient *K, int snap, uint64_t snapid,
    const uint8_t *start, size_t startlen, const uint8_t *end, size_t endlen,
    uint32_t maxbytes, kvclient_pair_cb *paircb, kvclient_status_cb *donecb,
    void *cookie)
{
	struct rangeall *ra;

	if ((startlen > KVPROTO_MAXKV) || (endlen > KVPROTO_MAXKV)) {
		warn0("key too long (%zu bytes)",
		    (startlen > endlen) ? startlen : endlen);
		errno = EINVAL;
		return (-1);
	}
	if ((ra = malloc(sizeof(*ra))) == NULL)
		return (-1);
	ra->K = K;
	ra->snap = snap;
	ra->snapid = snapid;
	if (startlen > 0)
		memcpy(ra->start, start, startlen);
	ra->startlen = startlen;
	if (endlen > 0)
		memcpy(ra->end, end, endlen);
	ra->endlen = endlen;
	ra->maxbytes = maxbytes;
	ra->paircb = paircb;
	ra->donecb = donecb;
	ra->cookie = cookie;
	if (rangeall_send(ra)) {
		free(ra);
		return (-1);
	}
	return (0);
}

/**
 * kvclient_range_all(K, start, startlen, end, endlen, maxbytes, paircb,
 *     donecb, cookie):
 * Walk every pair in [start, end) with consecutive RANGE requests.
 */
int
kvclient_range_all(struct kvclient *K, const uint8_t *start,
    size_t startlen, const uint8_t *end, size_t endlen, uint32_t maxbytes,
    kvclient_pair_cb *paircb, kvclient_status_cb *donecb, void *cookie)
{

	return (rangeall_start(K, 0, 0, start, startlen, end, endlen,
	    maxbytes, paircb, donecb, cookie));
}

/**
 * kvclient_snapshot_range_all(K, snapid, start, startlen, end, endlen,
 *     maxbytes, paircb, donecb, cookie):
 * Walk every pair in [start, end) of a snapshot.
 */
int
kvclient_snapshot_range_all(struct kvclient *K, uint64_t snapid,
    const uint8_t *start, size_t startlen, const uint8_t *end, size_t endlen,
    uint32_t maxbytes, kvclient_pair_cb *paircb, kvclient_status_cb *donecb,
    void *cookie)
{

	return (rangeall_start(K, 1, snapid, start, startlen, end, endlen,
	    maxbytes, paircb, donecb, cookie));
}

/* ---------------------------------------------------------------- */
/* Blocking wrappers. */

struct bwait {
	int done;
	int status;
	uint8_t *value;
	size_t *valuelen;
};

static void
bstatus_cb(void *cookie, int status)
{
	struct bwait *w = cookie;

	w->status = status;
	w->done = 1;
}

static void
bget_cb(void *cookie, int status, const uint8_t *value, size_t len)
{
	struct bwait *w = cookie;

	if (status == KVCLIENT_OK) {
		memcpy(w->value, value, len);
		*w->valuelen = len;
	}
	w->status = status;
	w->done = 1;
}

/* Run the loop until ${w} is done; return its status. */
static int
bwait(struct kvclient *K, struct bwait *w)
{

	while (!w->done) {
		if (event_base_loop(K->base, EVLOOP_ONCE) != 0)
			return (KVCLIENT_FAIL);
	}
	return (w->status);
}

#define BLOCKING(call) do {						\
	struct bwait w = { 0, KVCLIENT_FAIL, NULL, NULL };		\
									\
	if (call)							\
		return (KVCLIENT_FAIL);					\
	return (bwait(K, &w));						\
} while (0)

/**
 * kvclient_set_b(K, key, keylen, value, valuelen):
 * Blocking kvclient_set().
 */
int
kvclient_set_b(struct kvclient *K, const uint8_t *key, size_t keylen,
    const uint8_t *value, size_t valuelen)
{

	BLOCKING(kvclient_set(K, key, keylen, value, valuelen, bstatus_cb,
	    &w));
}

/**
 * kvclient_cas_b(K, key, keylen, oldval, oldvallen, value, valuelen):
 * Blocking kvclient_cas().
 */
int
kvclient_cas_b(struct kvclient *K, const uint8_t *key, size_t keylen,
    const uint8_t *oldval, size_t oldvallen, const uint8_t *value,
    size_t valuelen)
{

	BLOCKING(kvclient_cas(K, key, keylen, oldval, oldvallen, value,
	    valuelen, bstatus_cb, &w));
}

/**
 * kvclient_add_b(K, key, keylen, value, valuelen):
 * Blocking kvclient_add().
 */
int
kvclient_add_b(struct kvclient *K, const uint8_t *key, size_t keylen,
    const uint8_t *value, size_t valuelen)
{

	BLOCKING(kvclient_add(K, key, keylen, value, valuelen, bstatus_cb,
	    &w));
}

/**
 * kvclient_modify_b(K, key, keylen, value, valuelen):
 * Blocking kvclient_modify().
 */
int
kvclient_modify_b(struct kvclient *K, const uint8_t *key, size_t keylen,
    const uint8_t *value, size_t valuelen)
{

	BLOCKING(kvclient_modify(K, key, keylen, value, valuelen,
	    bstatus_cb, &w));
}

/**
 * kvclient_delete_b(K, key, keylen):
 * Blocking kvclient_delete().
 */
int
kvclient_delete_b(struct kvclient *K, const uint8_t *key, size_t keylen)
{

	BLOCKING(kvclient_delete(K, key, keylen, bstatus_cb, &w));
}

/**
 * kvclient_cad_b(K, key, keylen, oldval, oldvallen):
 * Blocking kvclient_cad().
 */
int
kvclient_cad_b(struct kvclient *K, const uint8_t *key, size_t keylen,
    const uint8_t *oldval, size_t oldvallen)
{

	BLOCKING(kvclient_cad(K, key, keylen, oldval, oldvallen, bstatus_cb,
	    &w));
}

/**
 * kvclient_get_b(K, key, keylen, value, valuelen):
 * Blocking kvclient_get(); the value is copied into ${value}.
 */
int
kvclient_get_b(struct kvclient *K, const uint8_t *key, size_t keylen,
    uint8_t *value, size_t *valuelen)
{
	struct bwait w = { 0, KVCLIENT_FAIL, value, valuelen };

	if (kvclient_get(K, key, keylen, bget_cb, &w))
		return (KVCLIENT_FAIL);
	return (bwait(K, &w));
}

struct brange {
	struct bwait w;
	kvclient_pair_cb *paircb;
	void *cookie;
};

static int
brange_pair(void *cookie, const uint8_t *k, size_t kl, const uint8_t *v,
    size_t vl)
{
	struct brange *b = cookie;

	return (b->paircb(b->cookie, k, kl, v, vl));
}

static void
brange_done(void *cookie, int status)
{
	struct brange *b = cookie;

	bstatus_cb(&b->w, status);
}

/**
 * kvclient_range_all_b(K, start, startlen, end, endlen, maxbytes, paircb,
 *     cookie):
 * Blocking kvclient_range_all().
 */
int
kvclient_range_all_b(struct kvclient *K, const uint8_t *start,
    size_t startlen, const uint8_t *end, size_t endlen, uint32_t maxbytes,
    kvclient_pair_cb *paircb, void *cookie)
{
	struct brange b = { { 0, KVCLIENT_FAIL, NULL, NULL }, paircb, cookie };

	if (kvclient_range_all(K, start, startlen, end, endlen, maxbytes,
	    brange_pair, brange_done, &b))
		return (KVCLIENT_FAIL);
	return (bwait(K, &b.w));
}

/**
 * kvclient_snapshot_range_all_b(K, snapid, start, startlen, end, endlen,
 *     maxbytes, paircb, cookie):
 * Blocking kvclient_snapshot_range_all().
 */
int
kvclient_snapshot_range_all_b(struct kvclient *K, uint64_t snapid,
    const uint8_t *start, size_t startlen, const uint8_t *end, size_t endlen,
    uint32_t maxbytes, kvclient_pair_cb *paircb, void *cookie)
{
	struct brange b = { { 0, KVCLIENT_FAIL, NULL, NULL }, paircb, cookie };

	if (kvclient_snapshot_range_all(K, snapid, start, startlen, end,
	    endlen, maxbytes, brange_pair, brange_done, &b))
		return (KVCLIENT_FAIL);
	return (bwait(K, &b.w));
}

struct bsnap {
	struct bwait w;
	uint64_t *snapid;
};

static void
bsnap_cb(void *cookie, int status, uint64_t snapid)
{
	struct bsnap *b = cookie;

	if (status == KVCLIENT_OK)
		*b->snapid = snapid;
	bstatus_cb(&b->w, status);
}

/**
 * kvclient_snapshot_open_b(K, snapid):
 * Blocking kvclient_snapshot_open().
 */
int
kvclient_snapshot_open_b(struct kvclient *K, uint64_t *snapid)
{
	struct bsnap b = { { 0, KVCLIENT_FAIL, NULL, NULL }, snapid };

	if (kvclient_snapshot_open(K, bsnap_cb, &b))
		return (KVCLIENT_FAIL);
	return (bwait(K, &b.w));
}

/**
 * kvclient_snapshot_close_b(K, snapid):
 * Blocking kvclient_snapshot_close().
 */
int
kvclient_snapshot_close_b(struct kvclient *K, uint64_t snapid)
{

	BLOCKING(kvclient_snapshot_close(K, snapid, bstatus_cb, &w));
}

/**
 * kvclient_wait(K, npending):
 * Run the loop until at most ${npending} requests are outstanding.
 */
int
kvclient_wait(struct kvclient *K, size_t npending)
{

	while (!K->failed && (K->pending > npending)) {
		if (event_base_loop(K->base, EVLOOP_ONCE) != 0)
			return (-1);
	}
	return (K->failed ? -1 : 0);
}
