/*
 * The spiped handshake state machine and its socket drivers (see
 * proto_handshake.h for the messages and states).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log/log.h"
#include "pcrypt/pcrypt.h"

#include "proto_crypt.h"
#include "proto_handshake.h"

#define DHLEN	PCRYPT_DH_PUBLEN			/* 256 */
#define DHMSG	(PCRYPT_DH_PUBLEN + PCRYPT_SHA256_LEN)	/* 288 */

enum hs_state {
	NONCE_WAIT,	/* our nonce queued; waiting for the peer's */
	DH_WAIT,	/* dhmac known; waiting for the peer's y || MAC */
	KEYS,		/* peer's y checked (server: answer queued); y_SC and
			   the keys not computed yet (proto_hs_split) */
	DONE,		/* keys derived; session ready */
	FAILED		/* protocol or crypto failure; drop the connection */
};

struct proto_hs {
	int flags;
	int split;				/* stop in KEYS */
	enum hs_state state;
	int err;				/* proto_hs_err, once FAILED */
	uint8_t K[PROTO_KEYLEN];
	uint8_t nonce[PROTO_NONCELEN];		/* ours */
	uint8_t nonce_peer[PROTO_NONCELEN];
	uint8_t dhmac[PROTO_DHMACLEN];		/* dhmac_C || dhmac_S */
	int dh_ready;				/* x and y computed */
	uint8_t x[PCRYPT_DH_PRIVLEN];		/* secret; unused if NOPFS */
	uint8_t y[DHLEN];			/* 2^x mod p, or 1 */
	uint8_t in[DHMSG];			/* peer message so far */
	size_t inlen;
	uint8_t out[PROTO_NONCELEN + DHMSG];	/* queued output */
	size_t outoff, outlen;
	struct proto_session *sess;
};

/*
 * One Diffie-Hellman pair computed ahead of need: the socket driver
 * refills it from the event loop once a handshake has finished, so that
 * the next handshake starts without an exponentiation on its critical
 * path.  Each pair is used once and wiped when taken.
 */
static struct {
	pthread_mutex_t mtx;
	int ready;
	uint8_t x[PCRYPT_DH_PRIVLEN];
	uint8_t y[DHLEN];
} dhpool = { PTHREAD_MUTEX_INITIALIZER, 0, { 0 }, { 0 } };

/* Take the precomputed pair into ${x}, ${y}; 0 if there was one. */
static int
dhpool_take(uint8_t x[PCRYPT_DH_PRIVLEN], uint8_t y[DHLEN])
{
	int rc = -1;

	pthread_mutex_lock(&dhpool.mtx);
	if (dhpool.ready) {
		memcpy(x, dhpool.x, PCRYPT_DH_PRIVLEN);
		memcpy(y, dhpool.y, DHLEN);
		pcrypt_cleanse(dhpool.x, sizeof(dhpool.x));
		dhpool.ready = 0;
		rc = 0;
	}
	pthread_mutex_unlock(&dhpool.mtx);
	return (rc);
}

/* Fill the pool if it is empty. */
static void
dhpool_fill(void)
{
	uint8_t x[PCRYPT_DH_PRIVLEN], y[DHLEN];
	int ready;

	pthread_mutex_lock(&dhpool.mtx);
	ready = dhpool.ready;
	pthread_mutex_unlock(&dhpool.mtx);
	if (ready || pcrypt_dh_generate(x, y))
		return;
	pthread_mutex_lock(&dhpool.mtx);
	if (!dhpool.ready) {
		memcpy(dhpool.x, x, sizeof(x));
		memcpy(dhpool.y, y, sizeof(y));
		dhpool.ready = 1;
	}
	pthread_mutex_unlock(&dhpool.mtx);
	pcrypt_cleanse(x, sizeof(x));
}

static void
dhpool_callback(evutil_socket_t fd, short what, void *cookie)
{

	(void)fd;
	(void)what;
	(void)cookie;
	dhpool_fill();
}

/**
 * proto_handshake_strerror(err):
 * A static sentence for the proto_hs_err ${err}.
 */
const char *
proto_handshake_strerror(int err)
{

	switch (err) {
	case PROTO_HS_OK:
		return ("handshake succeeded");
	case PROTO_HS_EMAC:
		return ("handshake failed: wrong key (the peer's MAC does not "
		    "check), or the peer is not spiped");
	case PROTO_HS_EPFS:
		return ("handshake failed: the peer skipped Diffie-Hellman "
		    "(spiped -f, --no-pfs) and forward secrecy is required");
	case PROTO_HS_EGARBAGE:
		return ("handshake failed: the peer sent garbage (an invalid "
		    "Diffie-Hellman value): not spiped");
	case PROTO_HS_ECLOSED:
		return ("handshake failed: the peer closed the connection: "
		    "wrong key? (or it refuses our forward secrecy setting, "
		    "or is not spiped)");
	case PROTO_HS_ETIMEOUT:
		return ("handshake failed: timed out");
	case PROTO_HS_EIO:
		return ("handshake failed: connection error");
	case PROTO_HS_EINTERNAL:
		return ("handshake failed: internal error (memory or crypto)");
	default:
		return ("handshake failed");
	}
}

/**
 * proto_hs_new(K, flags):
 * Start one side of a handshake under ${K} with PROTO_HS_* ${flags}.
 */
struct proto_hs *
proto_hs_new(const uint8_t K[PROTO_KEYLEN], int flags)
{
	struct proto_hs *hs;

	if ((hs = calloc(1, sizeof(*hs))) == NULL) {
		warn0("calloc failed");
		return (NULL);
	}
	hs->flags = flags;
	hs->state = NONCE_WAIT;
	memcpy(hs->K, K, PROTO_KEYLEN);
	if (pcrypt_rand(hs->nonce, PROTO_NONCELEN)) {
		proto_hs_free(hs);
		return (NULL);
	}
	memcpy(hs->out, hs->nonce, PROTO_NONCELEN);
	hs->outlen = PROTO_NONCELEN;
	return (hs);
}

/**
 * proto_hs_set_nonce(hs, nonce):
 * Replace our nonce (known-answer tests only, before any output is taken).
 */
void
proto_hs_set_nonce(struct proto_hs *hs, const uint8_t nonce[PROTO_NONCELEN])
{

	memcpy(hs->nonce, nonce, PROTO_NONCELEN);
	memcpy(hs->out, nonce, PROTO_NONCELEN);
}

/**
 * proto_hs_prepare(hs):
 * Pick the DH secret and compute y, if not done yet.
 */
int
proto_hs_prepare(struct proto_hs *hs)
{

	if (hs->dh_ready)
		return (0);
	if (hs->flags & PROTO_HS_NOPFS) {
		/* x = 0, so y = 2^0 = 1. */
		memset(hs->y, 0, DHLEN);
		hs->y[DHLEN - 1] = 1;
	} else if (dhpool_take(hs->x, hs->y) &&
	    pcrypt_dh_generate(hs->x, hs->y)) {
		return (-1);
	}
	hs->dh_ready = 1;
	return (0);
}

/* Queue y || HMAC(our dhmac, y). */
static int
queue_dh(struct proto_hs *hs)
{
	const uint8_t *key;
	uint8_t *p;

	if (proto_hs_prepare(hs))
		return (-1);
	key = hs->dhmac + ((hs->flags & PROTO_HS_SERVER) ? 32 : 0);
	if (hs->outoff == hs->outlen)
		hs->outoff = hs->outlen = 0;
	p = hs->out + hs->outlen;
	memcpy(p, hs->y, DHLEN);
	if (pcrypt_hmac_sha256(key, 32, hs->y, DHLEN, p + DHLEN))
		return (-1);
	hs->outlen += DHMSG;
	return (0);
}

/* The peer's nonce is in: derive the DH MAC keys. */
static int
got_nonce(struct proto_hs *hs)
{
	int server = hs->flags & PROTO_HS_SERVER;

	memcpy(hs->nonce_peer, hs->in, PROTO_NONCELEN);
	hs->err = PROTO_HS_EINTERNAL;
	if (proto_crypt_dhmac(hs->K, server ? hs->nonce_peer : hs->nonce,
	    server ? hs->nonce : hs->nonce_peer, hs->dhmac))
		return (-1);
	hs->state = DH_WAIT;

	/* The client speaks first. */
	if (!server && queue_dh(hs))
		return (-1);
	hs->err = PROTO_HS_OK;
	return (0);
}

/* Is the big-endian DH value ${y} equal to 1? */
static int
is_one(const uint8_t y[DHLEN])
{
	size_t i;

	for (i = 0; i < DHLEN - 1; i++)
		if (y[i] != 0)
			return (0);
	return (y[DHLEN - 1] == 1);
}

/* KEYS: compute y_SC from the peer's y (still in hs->in), derive keys. */
static int
derive(struct proto_hs *hs)
{
	int server = hs->flags & PROTO_HS_SERVER;
	const uint8_t *ypeer = hs->in;
	uint8_t ysc[DHLEN];
	uint8_t dk[PROTO_DKLEN];
	int rc = -1;

	if (proto_hs_prepare(hs))
		goto done;

	/* A side without forward secrecy takes y_SC = 1 (its x is 0). */
	if (hs->flags & PROTO_HS_NOPFS) {
		memset(ysc, 0, DHLEN);
		ysc[DHLEN - 1] = 1;
	} else if (pcrypt_dh_compute(ypeer, hs->x, ysc)) {
		goto done;
	}
	if (proto_crypt_keys(hs->K, server ? hs->nonce_peer : hs->nonce,
	    server ? hs->nonce : hs->nonce_peer, ysc, dk))
		goto done;
	if ((hs->sess = proto_session_new(dk, server)) == NULL)
		goto done;
	hs->state = DONE;
	rc = 0;

done:
	if (rc != 0)
		hs->err = PROTO_HS_EINTERNAL;
	pcrypt_cleanse(ysc, sizeof(ysc));
	pcrypt_cleanse(dk, sizeof(dk));
	pcrypt_cleanse(hs->x, sizeof(hs->x));
	return (rc);
}

/* The peer's y || MAC is in: check it, answer (server), derive keys. */
static int
got_dh(struct proto_hs *hs)
{
	int server = hs->flags & PROTO_HS_SERVER;
	const uint8_t *ypeer = hs->in;
	uint8_t mac[PCRYPT_SHA256_LEN];

	/* The peer's MAC key is the other half of dhmac. */
	hs->err = PROTO_HS_EINTERNAL;
	if (pcrypt_hmac_sha256(hs->dhmac + (server ? 0 : 32), 32, ypeer,
	    DHLEN, mac))
		goto fail;
	hs->err = PROTO_HS_EMAC;
	if (pcrypt_memcmp(mac, hs->in + DHLEN, sizeof(mac)))
		goto fail;
	hs->err = PROTO_HS_EGARBAGE;
	if (pcrypt_dh_check(ypeer))
		goto fail;
	hs->err = PROTO_HS_EPFS;
	if ((hs->flags & PROTO_HS_REQPFS) && is_one(ypeer))
		goto fail;

	/* The server answers only a client whose y checked. */
	hs->err = PROTO_HS_EINTERNAL;
	if (server && queue_dh(hs))
		goto fail;
	hs->err = PROTO_HS_OK;
	hs->state = KEYS;
	if (hs->split)
		return (0);
	return (derive(hs));

fail:
	pcrypt_cleanse(hs->x, sizeof(hs->x));
	return (-1);
}

/**
 * proto_hs_split(hs):
 * Stop after checking the peer's y (and queueing the server's answer),
 * until proto_hs_derive.
 */
void
proto_hs_split(struct proto_hs *hs)
{

	hs->split = 1;
}

/**
 * proto_hs_derive(hs):
 * Compute the shared value and the keys if they are pending.
 */
int
proto_hs_derive(struct proto_hs *hs)
{

	if (hs->state != KEYS)
		return (hs->state == FAILED ? -1 : 0);
	if (derive(hs)) {
		hs->state = FAILED;
		return (-1);
	}
	return (0);
}

/**
 * proto_hs_need(hs):
 * The number of peer bytes needed to move on, or 0.
 */
size_t
proto_hs_need(const struct proto_hs *hs)
{

	switch (hs->state) {
	case NONCE_WAIT:
		return (PROTO_NONCELEN - hs->inlen);
	case DH_WAIT:
		return (DHMSG - hs->inlen);
	default:
		return (0);
	}
}

/**
 * proto_hs_input(hs, buf, len):
 * Feed ${len} peer bytes (at most proto_hs_need).
 */
int
proto_hs_input(struct proto_hs *hs, const uint8_t *buf, size_t len)
{
	size_t need = proto_hs_need(hs);

	if (hs->state == FAILED)
		return (-1);
	if (len > need) {
		hs->err = PROTO_HS_EGARBAGE;
		goto fail;
	}
	memcpy(hs->in + hs->inlen, buf, len);
	hs->inlen += len;
	if (len < need)
		return (0);

	/* A whole message is in. */
	hs->inlen = 0;
	if (hs->state == NONCE_WAIT) {
		if (got_nonce(hs))
			goto fail;
	} else if (got_dh(hs)) {
		goto fail;
	}
	return (0);

fail:
	hs->state = FAILED;
	return (-1);
}

/**
 * proto_hs_error(hs):
 * Why the machine failed, or PROTO_HS_OK.
 */
int
proto_hs_error(const struct proto_hs *hs)
{

	if (hs->state != FAILED)
		return (PROTO_HS_OK);
	return (hs->err != PROTO_HS_OK ? hs->err : PROTO_HS_EINTERNAL);
}

/**
 * proto_hs_output(hs, len):
 * Return the queued output and its length.
 */
const uint8_t *
proto_hs_output(struct proto_hs *hs, size_t *len)
{

	*len = hs->outlen - hs->outoff;
	return (hs->out + hs->outoff);
}

/**
 * proto_hs_consumed(hs, n):
 * Mark ${n} bytes of queued output as sent.
 */
void
proto_hs_consumed(struct proto_hs *hs, size_t n)
{

	hs->outoff += n;
	if (hs->outoff >= hs->outlen)
		hs->outoff = hs->outlen = 0;
}

/**
 * proto_hs_done(hs):
 * 1 if the handshake completed, else 0.
 */
int
proto_hs_done(const struct proto_hs *hs)
{

	return (hs->state == DONE);
}

/**
 * proto_hs_session(hs):
 * Take the session of a completed handshake.
 */
struct proto_session *
proto_hs_session(struct proto_hs *hs)
{
	struct proto_session *s = hs->sess;

	hs->sess = NULL;
	return (s);
}

/**
 * proto_hs_free(hs):
 * Wipe and free ${hs}.  No-op if NULL.
 */
void
proto_hs_free(struct proto_hs *hs)
{

	if (hs == NULL)
		return;
	proto_session_free(hs->sess);
	pcrypt_cleanse(hs, sizeof(*hs));
	free(hs);
}

/* ---------------------------------------------------------------- */

struct proto_handshake {
	struct event_base *base;
	struct proto_hs *hs;
	int fd;
	struct event *rev;	/* readable */
	struct event *wev;	/* writable, added only while output waits */
	struct event *timer;
	void (*callback)(void *, struct proto_session *, int);
	void *cookie;
};

/* The proto_hs_err of a failed read or write (errno). */
static int
io_error(void)
{

	if (errno == ECONNRESET || errno == EPIPE)
		return (PROTO_HS_ECLOSED);
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return (PROTO_HS_ETIMEOUT);
	return (PROTO_HS_EIO);
}

/* Write what we can; 0 if all written, 1 if more waits, -1 on error. */
static int
hs_flush(struct proto_handshake *h)
{
	const uint8_t *p;
	size_t len;
	ssize_t w;

	for (;;) {
		p = proto_hs_output(h->hs, &len);
		if (len == 0)
			return (0);
		w = write(h->fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return (1);
			return (-1);
		}
		proto_hs_consumed(h->hs, (size_t)w);
	}
}

/*
 * End the handshake, which succeeded if ${err} is PROTO_HS_OK: free the
 * handle, then tell the owner.
 */
static void
hs_finish(struct proto_handshake *h, int err)
{
	void (*callback)(void *, struct proto_session *, int) = h->callback;
	void *cookie = h->cookie;
	struct proto_session *s = (err == PROTO_HS_OK) ?
	    proto_hs_session(h->hs) : NULL;
	struct timeval zero = { 0, 0 };
	int pfs = !(h->hs->flags & PROTO_HS_NOPFS);

	/* Compute the next handshake's pair once this loop is idle. */
	if (pfs)
		event_base_once(h->base, -1, EV_TIMEOUT, dhpool_callback,
		    NULL, &zero);
	proto_handshake_cancel(h);
	callback(cookie, s, err);
}

/* Read what the machine needs, flush its answers, finish when done. */
static void
hs_step(struct proto_handshake *h)
{
	uint8_t buf[DHMSG];
	size_t need;
	ssize_t r;
	int f, err;

	while ((need = proto_hs_need(h->hs)) > 0) {
		r = read(h->fd, buf, need);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			err = io_error();
			goto fail;
		}
		if (r == 0) {
			err = PROTO_HS_ECLOSED;
			goto fail;
		}
		if (proto_hs_input(h->hs, buf, (size_t)r))
			goto failhs;
	}
	/* Our answer goes out before the exponentiation, not after it. */
	if ((f = hs_flush(h)) < 0) {
		err = io_error();
		goto fail;
	}
	if (proto_hs_derive(h->hs))
		goto failhs;
	if (f == 1) {
		if (event_add(h->wev, NULL)) {
			err = PROTO_HS_EINTERNAL;
			goto fail;
		}
		return;
	}
	event_del(h->wev);
	if (proto_hs_done(h->hs))
		hs_finish(h, PROTO_HS_OK);
	return;

failhs:
	err = proto_hs_error(h->hs);
fail:
	hs_finish(h, err);
}

static void
hs_callback_io(evutil_socket_t fd, short what, void *cookie)
{

	(void)fd;
	(void)what;
	hs_step(cookie);
}

static void
hs_callback_timeout(evutil_socket_t fd, short what, void *cookie)
{

	(void)fd;
	(void)what;
	hs_finish(cookie, PROTO_HS_ETIMEOUT);
}

/**
 * proto_handshake_start(base, fd, K, flags, timeout, callback, cookie):
 * Run the handshake on the non-blocking socket ${fd} within ${base}.
 */
struct proto_handshake *
proto_handshake_start(struct event_base *base, int fd,
    const uint8_t K[PROTO_KEYLEN], int flags, double timeout,
    void (*callback)(void *, struct proto_session *, int), void *cookie)
{
	struct proto_handshake *h;
	struct timeval tv;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		goto err0;
	h->base = base;
	h->fd = fd;
	h->callback = callback;
	h->cookie = cookie;
	if ((h->hs = proto_hs_new(K, flags)) == NULL)
		goto err1;
	proto_hs_split(h->hs);
	h->rev = event_new(base, fd, EV_READ | EV_PERSIST, hs_callback_io, h);
	h->wev = event_new(base, fd, EV_WRITE | EV_PERSIST, hs_callback_io,
	    h);
	h->timer = evtimer_new(base, hs_callback_timeout, h);
	if (h->rev == NULL || h->wev == NULL || h->timer == NULL)
		goto err1;

	/* Send our nonce, then compute y while the peer's is on its way. */
	if (hs_flush(h) < 0)
		goto err1;
	if (proto_hs_prepare(h->hs))
		goto err1;

	if (event_add(h->rev, NULL))
		goto err1;
	if (timeout > 0) {
		/* Count from now, not from when this loop iteration began. */
		event_base_update_cache_time(base);
		tv.tv_sec = (time_t)timeout;
		tv.tv_usec = (suseconds_t)((timeout - (double)tv.tv_sec) *
		    1e6);
		if (evtimer_add(h->timer, &tv))
			goto err1;
	}
	return (h);

err1:
	proto_handshake_cancel(h);
	return (NULL);
err0:
	warn0("calloc failed");
	return (NULL);
}

/**
 * proto_handshake_cancel(h):
 * Stop and free ${h} without calling its callback.  No-op if NULL.
 */
void
proto_handshake_cancel(struct proto_handshake *h)
{

	if (h == NULL)
		return;
	if (h->rev != NULL)
		event_free(h->rev);
	if (h->wev != NULL)
		event_free(h->wev);
	if (h->timer != NULL)
		event_free(h->timer);
	proto_hs_free(h->hs);
	free(h);
}

/**
 * proto_handshake_blocking(fd, K, flags, err):
 * Run the handshake on the blocking descriptor ${fd}; on failure, the
 * reason in *${err}.
 */
struct proto_session *
proto_handshake_blocking(int fd, const uint8_t K[PROTO_KEYLEN], int flags,
    int *err)
{
	struct proto_hs *hs;
	struct proto_session *s = NULL;
	uint8_t buf[DHMSG];
	const uint8_t *p;
	size_t len, need;
	ssize_t r;
	int prepared = 0, e = PROTO_HS_EINTERNAL;

	if ((hs = proto_hs_new(K, flags)) == NULL)
		goto fail;
	proto_hs_split(hs);
	for (;;) {
		while ((p = proto_hs_output(hs, &len)), len > 0) {
			if ((r = write(fd, p, len)) < 0) {
				if (errno == EINTR)
					continue;
				e = io_error();
				goto done;
			}
			proto_hs_consumed(hs, (size_t)r);
		}
		if (proto_hs_derive(hs))
			goto donehs;
		if (!prepared) {
			if (proto_hs_prepare(hs))
				goto done;
			prepared = 1;
		}
		if (proto_hs_done(hs))
			break;
		need = proto_hs_need(hs);
		if ((r = read(fd, buf, need)) < 0) {
			if (errno == EINTR)
				continue;
			e = io_error();
			goto done;
		}
		if (r == 0) {
			e = PROTO_HS_ECLOSED;
			goto done;
		}
		if (proto_hs_input(hs, buf, (size_t)r))
			goto donehs;
	}
	s = proto_hs_session(hs);
	e = PROTO_HS_OK;
	goto done;

donehs:
	e = proto_hs_error(hs);
done:
	proto_hs_free(hs);
fail:
	if (err != NULL)
		*err = e;
	return (s);
}
