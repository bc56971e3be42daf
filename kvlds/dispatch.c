#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "kvproto/kvproto.h"
#include "log/log.h"
#include "packet/packet.h"
#include "proto/proto_crypt.h"
#include "proto/proto_handshake.h"
#include "sock/sock.h"

#include "btree.h"
#include "commit.h"
#include "cryptow.h"
#include "dispatch.h"

/*
 * Sizes.  One shared read buffer serves every connection: a read lands
 * there after the connection's carried-over partial packet, the whole
 * packets are handled in place, and only the incomplete tail (shorter than
 * one packet) is copied back into the connection.
 */
#define RBUFSZ		(256 * 1024)	/* Shared read buffer. */
#define PKT_MAX		(KVPROTO_REQ_MAXLEN + PACKET_OVERHEAD)
#define OUT_HIGH	(512 * 1024)	/* Stop reading at this much queued. */
#define OUT_LOW		(128 * 1024)	/* Read again once below this. */
#define OUT_KEEP	(1024 * 1024)	/* Free an idle buffer bigger. */
#define RANGE_MAXBYTES	(1024 * 1024)	/* Our cap on RANGE max bytes. */
#define ACCEPT_BURST	64		/* Accepts per listener callback. */
#define SNAP_MAX	64		/* Open snapshots, all connections. */
#define SNAP_PERCONN	16		/* Open snapshots per connection. */
#define SHUTDOWN_GRACE	3		/* Seconds given to slow readers. */
#define DGET_MAX	64		/* GETs waiting for reads, per conn. */
#define IO_LOOKAHEAD	32		/* Requests prefetched past a stop. */
#define IO_RETRIES	8		/* Then the request reads at once. */
#define IO_THREADS	2		/* The engine's reader threads. */

/*
 * Encrypted connections: a read takes at most WPKTS packets, which go to
 * the crypto worker as one decrypt job, and a readiness event reads again
 * while reads come back full, up to RJOBS_MAX jobs in flight per
 * connection.  Small jobs keep a burst of requests flowing: the answers
 * to the first packets are encrypted and sent while the rest are handled
 * (and, with the worker's own thread, the next packets are decrypted
 * meanwhile), rather than a client's whole window moving through each
 * stage as one block while the other stages wait.
 */
#define WPKTS		32
#define WBUFSZ		(WPKTS * PROTO_PKT_LEN)
#define RJOBS_MAX	16	/* Decrypt jobs in flight per connection. */
#define JFREE_MAX	32	/* Idle crypto jobs kept, of each kind. */

/* A byte buffer: data in p[off..len). */
struct buf {
	uint8_t *p;
	size_t off;
	size_t len;
	size_t cap;
};

/* A vector of connections. */
struct cvec {
	struct conn **v;
	size_t n;
	size_t cap;
};

struct conn {
	struct dispatch *D;
	uint64_t serial;		/* For log lines. */
	int fd;
	struct event *ev_read;
	struct event *ev_write;
	size_t idx;			/* Position in D->conns. */

	struct buf carry;		/* Input not yet handled. */
	struct buf out;			/* Output not yet written. */
	struct buf held[2];		/* Responses awaiting a commit. */
	int inlist[2];			/* In D->batch[i]. */
	int dirty;			/* In D->dirty. */
	size_t refs;			/* Lists (batch, dirty) holding us. */

	int reading;			/* ev_read is added. */
	int writing;			/* ev_write is added. */
	int blocked;			/* Output over the high water. */
	int parked;			/* A mutation waits for a commit. */
	int iowait;			/* A request waits for a page read. */
	int inio;			/* In D->io. */
	unsigned ioretries;		/* Of the request it waits at. */
	uint64_t iowaddr;		/* The page it waits for; 0: any. */
	struct dget *dgets;		/* GETs waiting for page reads. */
	size_t ndgets;
	size_t dgetcap;
	int eof;			/* Peer closed; draining. */
	int dead;			/* Closed; freed when refs == 0. */
	struct conn *nextdead;		/* In D->graveyard. */

	/* Encrypted connections only (sess != NULL). */
	struct proto_session *sess;
	struct buf wout;		/* Packets not yet written. */
	size_t wclen;			/* Partial packet read. */
	uint8_t wcarry[PROTO_PKT_LEN];
	size_t njobs;			/* Crypto jobs in flight. */
	size_t nrjobs;			/* ... of which decrypt jobs. */
	size_t encq;			/* Plaintext in encrypt jobs. */
	int rend;			/* Read EOF seen: WIRE_EOF/TRUNC. */

	size_t nsnaps;			/* Its entries in D->snaps. */
};

/* A GET whose pages are being read (btree_get_batch said BTREE_AGAIN). */
struct dget {
	uint64_t id;
	uint64_t waddr;			/* The page it waits for. */
	size_t klen;
	uint8_t key[KVPROTO_MAXKV];
};

/* An open snapshot (SNAPSHOT_OPEN), owned by one connection. */
struct snapent {
	struct conn *c;
	uint64_t id;
	struct btree_snap *s;
};

/*
 * A crypto job of an encrypted connection: the worker decrypts in.p (whole
 * packets) into out.p + PKT_MAX (room to put the connection's carried-over
 * partial request in front), or encrypts in (plaintext answers) into out.
 */
struct cjob {
	struct cryptow_job j;		/* First: the worker hands it back. */
	struct conn *c;
	struct buf in;
	struct buf out;
	struct cjob *nextfree;
};

/* A connection accepted on an encrypted listener, in its handshake. */
struct pend {
	struct dispatch *D;
	int fd;
	uint64_t serial;
	struct proto_handshake *h;
	struct pend *prev;
	struct pend *next;
};

struct dispatch {
	struct event_base *base;
	struct btree *bt;
	struct commit *C;
	struct dispatch_opts opts;

	/* Listeners. */
	int *lfds;
	struct event **lev;
	size_t nl;
	int lowned;			/* lfds are ours to close. */
	int *lenc;			/* Encrypted listener flags. */
	struct pend *pend;		/* Handshakes in progress. */
	size_t npend;
	int accepting;
	struct event *ev_pause;		/* Resume accepting after EMFILE. */

	/* Connections. */
	struct cvec conns;
	uint64_t nextserial;
	int closed_one;

	/*
	 * Held responses: batch[open & 1] collects the responses of the
	 * open batch; batch[(open - 1) & 1] those of the batch being
	 * written, if any.
	 */
	struct cvec batch[2];
	uint64_t open;
	size_t nopen;			/* Responses held in the open batch. */

	struct cvec dirty;		/* Connections with output to write. */

	/*
	 * Connections stopped at a mutation while the pending batch's dirty
	 * nodes pass the engine's limit (see mut_must_wait); resumed once
	 * the next commit has begun (unpark set by commit_began).
	 */
	struct cvec parked;
	struct cvec parked2;		/* Spare, swapped in while resuming. */
	int unpark;

	/*
	 * Connections waiting for the engine's reader threads (deferred
	 * GETs, or stopped at a request): retried when reads complete.
	 */
	struct cvec io;
	struct cvec io2;		/* Spare, swapped in while retrying. */
	struct event *ev_io;
	struct conn *graveyard;		/* Closed during this turn. */
	uint8_t *rbuf;

	/* The crypto worker (if a listener is encrypted), idle jobs. */
	struct cryptow *cw;
	struct cjob *jfree[2];		/* [op - 1]: buffers differ. */
	size_t njfree[2];
	int freeing;			/* In dispatch_free. */
	struct kvproto_range *range;

	/* Open snapshots: snaps[0..nsnaps), in no order. */
	struct snapent snaps[SNAP_MAX];
	size_t nsnaps;
	uint64_t nextsnap;		/* ID of the next one. */

	/* Shutdown. */
	int shutting;
	int grace_over;
	struct event *ev_grace;
	int fatal;
	struct event *ev_usr1;

	/* Statistics. */
	uint64_t nreq;
	uint64_t nmut;
	uint64_t nconns_total;
	uint64_t nhsfail;
	uint64_t nparks;		/* Connections parked (conn_park). */
	uint64_t ndeferred;		/* GETs deferred for a read. */
	uint64_t niostops;		/* Stops at a request for a read. */
};

static void conn_close(struct conn *, const char *);
static void conn_write(struct conn *);
static void conn_unblock(struct conn *);
static int dget_push(struct conn *, uint64_t, const uint8_t *, size_t,
    uint64_t);
static int conn_iostop(struct conn *, const uint8_t *, size_t);
static int conn_encrypt(struct conn *);
static void accept_enable(struct dispatch *, int);

/* ---------------------------------------------------------------- buffers */

/* Make room for ${n} more bytes at the end of ${b}; NULL on ENOMEM. */
static uint8_t *
buf_reserve(struct buf *b, size_t n)
{
	size_t ncap;
	uint8_t *p;

	if (b->cap - b->len >= n)
		return (b->p + b->len);
	if (b->off > 0) {
		memmove(b->p, b->p + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		if (b->cap - b->len >= n)
			return (b->p + b->len);
	}
	ncap = b->cap ? b->cap : 4096;
	while (ncap - b->len < n)
		ncap *= 2;
	if ((p = realloc(b->p, ncap)) == NULL)
		return (NULL);
	b->p = p;
	b->cap = ncap;
	return (b->p + b->len);
}

/* Append ${len} bytes; -1 on ENOMEM. */
static int
buf_append(struct buf *b, const uint8_t *data, size_t len)
{
	uint8_t *p;

	if ((p = buf_reserve(b, len)) == NULL)
		return (-1);
	memcpy(p, data, len);
	b->len += len;
	return (0);
}

static size_t
buf_avail(const struct buf *b)
{

	return (b->len - b->off);
}

/* Empty ${b}; give its memory back if it grew large. */
static void
buf_reset(struct buf *b)
{

	b->off = b->len = 0;
	if (b->cap > OUT_KEEP) {
		free(b->p);
		b->p = NULL;
		b->cap = 0;
	}
}

static void
buf_free(struct buf *b)
{

	free(b->p);
	b->p = NULL;
	b->off = b->len = b->cap = 0;
}

static int
cvec_push(struct cvec *cv, struct conn *c)
{
	struct conn **v;
	size_t ncap;

	if (cv->n == cv->cap) {
		ncap = cv->cap ? 2 * cv->cap : 64;
		if ((v = realloc(cv->v, ncap * sizeof(*v))) == NULL)
			return (-1);
		cv->v = v;
		cv->cap = ncap;
	}
	cv->v[cv->n++] = c;
	return (0);
}

/* ---------------------------------------------------------------- output */

/* Free ${c} if it is closed and no list refers to it any more. */
static void
conn_unref(struct conn *c)
{

	if (--c->refs == 0 && c->dead)
		free(c);
}

/* Queue ${c} for the end-of-turn write. */
static void
conn_dirty(struct conn *c)
{

	if (c->dirty || c->dead)
		return;
	if (cvec_push(&c->D->dirty, c)) {
		/* Without the list, write now rather than never. */
		conn_write(c);
		return;
	}
	c->dirty = 1;
	c->refs++;
}

/* Append to ${b} the packet of status ${status} answering ${id}. */
static int
resp_status(struct buf *b, uint64_t id, uint32_t status)
{
	uint8_t *p;
	size_t reclen;

	if ((p = buf_reserve(b, 4 + PACKET_OVERHEAD)) == NULL)
		return (-1);
	reclen = kvproto_resp_status(p + PACKET_HDRLEN, status);
	b->len += packet_encode(p, id, p + PACKET_HDRLEN, reclen);
	return (0);
}

/* Hold the status response of a modifying request until its commit. */
static int
hold_status(struct conn *c, uint64_t id, uint32_t status)
{
	struct dispatch *D = c->D;
	int i = (int)(D->open & 1);

	if (!c->inlist[i]) {
		if (cvec_push(&D->batch[i], c))
			return (-1);
		c->inlist[i] = 1;
		c->refs++;
	}
	if (resp_status(&c->held[i], id, status))
		return (-1);
	D->nopen++;
	return (0);
}

/*
 * Answers queued for ${c}: output not yet written and answers held for a
 * commit.  Reading stops at OUT_HIGH, so that neither a client that does
 * not read nor one that sends mutations faster than commits complete
 * (e.g. under a long -w) makes the daemon buffer without bound.
 */
static size_t
conn_queued(const struct conn *c)
{

	return (buf_avail(&c->out) + buf_avail(&c->wout) + c->encq +
	    buf_avail(&c->held[0]) + buf_avail(&c->held[1]));
}

/* Output of ${c} not yet written (plaintext or packets). */
static size_t
conn_unsent(const struct conn *c)
{

	return (buf_avail(&c->out) + buf_avail(&c->wout) + c->encq);
}

/* Connections served or in their handshake. */
static size_t
dispatch_nconns(const struct dispatch *D)
{

	return (D->conns.n + D->npend);
}

/* Close ${c} once it is draining and has nothing left to send. */
static void
conn_maybe_finish(struct conn *c)
{

	if (c->eof && !c->dead && conn_unsent(c) == 0 &&
	    !c->inlist[0] && !c->inlist[1] && c->ndgets == 0 &&
	    !c->parked && !c->iowait)
		conn_close(c, NULL);
}

/* ---------------------------------------------------------------- requests */

/* Pass one pair of a RANGE to the response under construction. */
struct rangectx {
	struct kvproto_range *r;
	int full;			/* The builder refused a pair. */
	uint8_t next[KVPROTO_MAXKV];	/* That pair's key. */
	size_t nextlen;
};

static int
range_cb(void *cookie, const uint8_t *key, size_t klen, const uint8_t *val,
    size_t vlen)
{
	struct rangectx *rc = cookie;
	int r;

	if ((r = kvproto_range_add(rc->r, key, klen, val, vlen)) == 0)
		return (0);
	if (r == 1) {
		/* Budget reached: continue from this key. */
		rc->full = 1;
		memcpy(rc->next, key, klen);
		rc->nextlen = klen;
	}
	return (-1);
}

/*
 * RANGE, or SNAPSHOT_RANGE over ${snap} if not NULL.  Return 0, -1 on
 * error, or BTREE_AGAIN (nothing answered) if a page is being read.
 */
static int
do_range(struct conn *c, uint64_t id, const struct kvproto_req *req,
    struct btree_snap *snap)
{
	struct dispatch *D = c->D;
	struct rangectx rc;
	uint8_t next[KVPROTO_MAXKV];
	size_t nextlen, maxbytes;
	const uint8_t *rec;
	size_t reclen;
	uint8_t *p;
	int r;

	maxbytes = req->maxbytes;
	if (maxbytes > RANGE_MAXBYTES)
		maxbytes = RANGE_MAXBYTES;
	kvproto_range_reset(D->range, maxbytes);
	rc.r = D->range;
	rc.full = 0;
	rc.nextlen = 0;
	if ((r = (snap == NULL ? btree_range(D->bt, req->key, req->keylen,
	    req->end, req->endlen, maxbytes, range_cb, &rc, next, &nextlen) :
	    btree_snapshot_range(D->bt, snap, req->key, req->keylen,
	    req->end, req->endlen, maxbytes, range_cb, &rc, next,
	    &nextlen))) != 0) {
		/* A page is being read: the pairs passed so far go. */
		if (r == BTREE_AGAIN)
			return (BTREE_AGAIN);
		if (!rc.full)
			return (-1);
		memcpy(next, rc.next, rc.nextlen);
		nextlen = rc.nextlen;
	}
	if (kvproto_range_finish(D->range, next, nextlen, &rec, &reclen))
		return (-1);
	if ((p = buf_reserve(&c->out, reclen + PACKET_OVERHEAD)) == NULL)
		return (-1);
	c->out.len += packet_encode(p, id, rec, reclen);
	return (0);
}

/* The entry of the snapshot ${snapid} of ${c}, or NULL. */
static struct snapent *
snap_find(struct conn *c, uint64_t snapid)
{
	struct dispatch *D = c->D;
	size_t i;

	for (i = 0; i < D->nsnaps; i++)
		if (D->snaps[i].id == snapid && D->snaps[i].c == c)
			return (&D->snaps[i]);
	return (NULL);
}

/* Release the snapshot entry ${e}. */
static void
snap_release(struct dispatch *D, struct snapent *e)
{

	btree_snapshot_close(D->bt, e->s);
	e->c->nsnaps--;
	*e = D->snaps[--D->nsnaps];
}

/* Release every snapshot of ${c}. */
static void
snap_release_conn(struct conn *c)
{
	struct dispatch *D = c->D;
	size_t i;

	for (i = 0; i < D->nsnaps && c->nsnaps > 0; ) {
		if (D->snaps[i].c == c)
			snap_release(D, &D->snaps[i]);
		else
			i++;
	}
}

/*
 * SNAPSHOT_OPEN, SNAPSHOT_RANGE, SNAPSHOT_CLOSE (kvlds/PROTOCOL.md).
 * Return 0, 1 if a page must be read first (nothing done), or -1 if ${c}
 * was closed.
 */
static int
do_snapshot(struct conn *c, uint64_t id, const struct kvproto_req *req)
{
	struct dispatch *D = c->D;
	struct snapent *e;
	struct btree_snap *s;
	uint8_t *p;
	size_t len;
	int r;

	switch (req->type) {
	case KVPROTO_SNAPSHOT_OPEN:
		if ((p = buf_reserve(&c->out, 12 + PACKET_OVERHEAD)) == NULL)
			goto nomem;
		if (D->nsnaps == SNAP_MAX || c->nsnaps == SNAP_PERCONN) {
			len = kvproto_resp_status(p + PACKET_HDRLEN, 1);
		} else {
			if ((s = btree_snapshot_open(D->bt, NULL)) == NULL)
				goto nomem;
			e = &D->snaps[D->nsnaps++];
			e->c = c;
			e->id = D->nextsnap++;
			e->s = s;
			c->nsnaps++;
			len = kvproto_resp_snapopen(p + PACKET_HDRLEN, e->id);
		}
		c->out.len += packet_encode(p, id, p + PACKET_HDRLEN, len);
		return (0);
	case KVPROTO_SNAPSHOT_RANGE:
		if ((e = snap_find(c, req->snapid)) != NULL) {
			if ((r = do_range(c, id, req, e->s)) == BTREE_AGAIN)
				return (1);
			if (r) {
				conn_close(c, "store error on SNAPSHOT_RANGE");
				return (-1);
			}
			return (0);
		}
		if ((p = buf_reserve(&c->out, 4 + PACKET_OVERHEAD)) == NULL)
			goto nomem;
		len = kvproto_resp_status(p + PACKET_HDRLEN, 1);
		c->out.len += packet_encode(p, id, p + PACKET_HDRLEN, len);
		return (0);
	case KVPROTO_SNAPSHOT_CLOSE:
		if ((e = snap_find(c, req->snapid)) != NULL)
			snap_release(D, e);
		if ((p = buf_reserve(&c->out, 4 + PACKET_OVERHEAD)) == NULL)
			goto nomem;
		len = kvproto_resp_status(p + PACKET_HDRLEN, 0);
		c->out.len += packet_encode(p, id, p + PACKET_HDRLEN, len);
		return (0);
	}
	conn_close(c, "unknown request type");
	return (-1);

nomem:
	conn_close(c, "out of memory");
	return (-1);
}

/*
 * Queue on ${c} the answer to the GET ${id} whose lookup returned ${r}:
 * if 0, the value *${val} (*${vlen} bytes; read only then), else "not
 * found".  Return 0, or -1 if memory ran out (${c} is then closed).
 */
static int
out_get(struct conn *c, uint64_t id, int r, const uint8_t *const *val,
    const size_t *vlen)
{
	uint8_t *p;
	size_t len;

	if ((p = buf_reserve(&c->out,
	    KVPROTO_RESP_MAXLEN + PACKET_OVERHEAD)) == NULL) {
		conn_close(c, "out of memory");
		return (-1);
	}
	len = kvproto_resp_get(p + PACKET_HDRLEN, r == 0 ? *val : NULL,
	    r == 0 ? *vlen : 0);
	c->out.len += packet_encode(p, id, p + PACKET_HDRLEN, len);
	return (0);
}

/*
 * Handle one request.  Return 0, 1 if a page it needs is being read
 * (nothing was done: handle it again later), or -1 if the connection was
 * closed (or the dispatcher failed for good): the caller must not touch
 * ${c} again.
 */
static int
handle(struct conn *c, uint64_t id, const uint8_t *rec, size_t reclen)
{
	struct dispatch *D = c->D;
	struct kvproto_req req;
	const uint8_t *val;
	size_t vlen, len;
	uint8_t *p;
	int r;

	if (kvproto_req_parse(rec, reclen, D->opts.maxkey, D->opts.maxval,
	    &req)) {
		/* Tell an over-limit field from plain garbage, for the log. */
		if (kvproto_req_parse(rec, reclen, KVPROTO_MAXKV,
		    KVPROTO_MAXKV, &req) == 0)
			conn_close(c, "key or value longer than the limit");
		else
			conn_close(c, "malformed request");
		return (-1);
	}
	D->nreq++;

	switch (req.type) {
	case KVPROTO_PARAMS:
		if ((p = buf_reserve(&c->out, 8 + PACKET_OVERHEAD)) == NULL)
			goto nomem;
		len = kvproto_resp_params(p + PACKET_HDRLEN,
		    (uint32_t)D->opts.maxkey, (uint32_t)D->opts.maxval);
		c->out.len += packet_encode(p, id, p + PACKET_HDRLEN, len);
		return (0);
	case KVPROTO_GET:
		if ((r = btree_get(D->bt, req.key, req.keylen, &val,
		    &vlen)) == BTREE_AGAIN)
			return (1);
		if (r == -1) {
			conn_close(c, "store error on GET");
			return (-1);
		}
		return (out_get(c, id, r, &val, &vlen));
	case KVPROTO_RANGE:
		if ((r = do_range(c, id, &req, NULL)) == BTREE_AGAIN)
			return (1);
		if (r) {
			conn_close(c, "store error on RANGE");
			return (-1);
		}
		return (0);
	case KVPROTO_SNAPSHOT_OPEN:
	case KVPROTO_SNAPSHOT_RANGE:
	case KVPROTO_SNAPSHOT_CLOSE:
		return (do_snapshot(c, id, &req));
	case KVPROTO_SET:
		r = btree_set(D->bt, req.key, req.keylen, req.value,
		    req.valuelen);
		break;
	case KVPROTO_CAS:
		r = btree_cas(D->bt, req.key, req.keylen, req.oldval,
		    req.oldvallen, req.value, req.valuelen);
		break;
	case KVPROTO_ADD:
		r = btree_add(D->bt, req.key, req.keylen, req.value,
		    req.valuelen);
		break;
	case KVPROTO_MODIFY:
		r = btree_modify(D->bt, req.key, req.keylen, req.value,
		    req.valuelen);
		break;
	case KVPROTO_DELETE:
		r = btree_delete(D->bt, req.key, req.keylen);
		break;
	case KVPROTO_CAD:
		r = btree_cad(D->bt, req.key, req.keylen, req.oldval,
		    req.oldvallen);
		break;
	default:
		/* kvproto_req_parse() knows no other type. */
		conn_close(c, "unknown request type");
		return (-1);
	}

	/* A page is being read: nothing changed, try again later. */
	if (r == BTREE_AGAIN)
		return (1);

	/*
	 * A failed mutation may have left the pending tree half-changed:
	 * committing it is not safe, so nothing more is acknowledged.
	 */
	if (r < 0) {
		warn0("store error on a modifying request; "
		    "no further request will be acknowledged");
		D->fatal = 1;
		event_base_loopbreak(D->base);
		return (-1);
	}
	D->nmut++;

	/*
	 * Even "not done" (status 1) waits: it may reflect mutations of
	 * other clients that are not durable yet.
	 */
	if (hold_status(c, id, (uint32_t)r))
		goto nomem;
	return (0);

nomem:
	conn_close(c, "out of memory");
	return (-1);
}

/*
 * handle(), with the page reads done at once (on the loop) if the request
 * was already sent back IO_RETRIES times: with a tiny cache its pages
 * can be evicted again before its turn comes.
 */
static int
handle_io(struct conn *c, uint64_t id, const uint8_t *rec, size_t reclen)
{
	int r;

	if (c->ioretries < IO_RETRIES)
		return (handle(c, id, rec, reclen));
	btree_io_nowait(c->D->bt, 0);
	r = handle(c, id, rec, reclen);
	btree_io_nowait(c->D->bt, 1);
	return (r);
}

/* Consecutive GETs of one read, answered by one btree_get_batch call. */
#define GET_BATCH	64

struct getbatch {
	size_t n;
	uint64_t id[GET_BATCH];
	const uint8_t *key[GET_BATCH];
	size_t klen[GET_BATCH];
};

/*
 * Answer the GETs collected in ${gb} (their lookups interleaved, so that
 * their cache misses overlap) and empty it.  Return 0, or -1 if ${c} was
 * closed.
 */
static int
gets_flush(struct conn *c, struct getbatch *gb)
{
	const uint8_t *val[GET_BATCH];
	size_t vlen[GET_BATCH], i;
	uint64_t waits[GET_BATCH];
	int res[GET_BATCH];

	if (gb->n == 0)
		return (0);
	if (btree_get_batch_wait(c->D->bt, gb->n, gb->key, gb->klen, val,
	    vlen, res, waits)) {
		conn_close(c, "store error on GET");
		return (-1);
	}
	for (i = 0; i < gb->n; i++) {
		if (res[i] == BTREE_AGAIN) {
			if (dget_push(c, gb->id[i], gb->key[i], gb->klen[i],
			    waits[i]))
				return (-1);
			continue;
		}
		if (out_get(c, gb->id[i], res[i], &val[i], &vlen[i]))
			return (-1);
	}
	c->D->nreq += gb->n;
	gb->n = 0;
	return (0);
}

/* ------------------------------------------------ reads off the loop */

/*
 * The engine reads pages that are not in memory on its own threads
 * (btree_io_start): a lookup that needs one returns BTREE_AGAIN.  A GET
 * then waits in its connection's deferred list (the connection goes on:
 * answers may come in any order, and the GET is ordered when it is
 * answered); any other request stops its connection there (conn_iostop)
 * so that the connection's mutations keep their order.  When reads
 * complete, every waiting connection is retried (io_resume).
 */

/* Put ${c} on the list of connections waiting for reads. */
static int
conn_iolist(struct conn *c)
{

	if (c->inio)
		return (0);
	if (cvec_push(&c->D->io, c))
		return (-1);
	c->inio = 1;
	c->refs++;
	return (0);
}

/*
 * Defer GET ${id} of ${key}, waiting for the page at ${waddr}.  Return 0,
 * or -1 if ${c} was closed.
 */
static int
dget_push(struct conn *c, uint64_t id, const uint8_t *key, size_t klen,
    uint64_t waddr)
{
	struct dget *nd;
	size_t ncap;

	if (c->ndgets == c->dgetcap) {
		ncap = c->dgetcap ? 2 * c->dgetcap : 16;
		if ((nd = realloc(c->dgets, ncap * sizeof(*nd))) == NULL)
			goto nomem;
		c->dgets = nd;
		c->dgetcap = ncap;
	}
	if (conn_iolist(c))
		goto nomem;
	c->dgets[c->ndgets].id = id;
	c->dgets[c->ndgets].waddr = waddr;
	c->dgets[c->ndgets].klen = klen;
	memcpy(c->dgets[c->ndgets].key, key, klen);
	c->ndgets++;
	c->D->ndeferred++;
	return (0);

nomem:
	conn_close(c, "out of memory");
	return (-1);
}

/*
 * Answer the deferred GETs of ${c} whose pages are in memory now; keep
 * the others.  Only those whose read is no longer in progress are looked
 * up again.  Return 0, or -1 if ${c} was closed.
 */
static int
dgets_retry(struct conn *c)
{
	struct btree *bt = c->D->bt;
	const uint8_t *key[GET_BATCH], *val[GET_BATCH];
	size_t klen[GET_BATCH], vlen[GET_BATCH];
	size_t i, j, m, keep;
	uint64_t waits[GET_BATCH];
	int res[GET_BATCH];
	struct dget *g, cand[GET_BATCH];

	for (i = keep = 0; i < c->ndgets; ) {
		/* Up to GET_BATCH whose reads are done; keep the others. */
		for (m = 0; i < c->ndgets && m < GET_BATCH; i++) {
			g = &c->dgets[i];
			if (btree_io_pending(bt, g->waddr)) {
				c->dgets[keep++] = *g;
				continue;
			}
			/* Copied out: the kept ones are compacted meanwhile. */
			cand[m] = *g;
			key[m] = cand[m].key;
			klen[m] = cand[m].klen;
			waits[m] = cand[m].waddr;
			m++;
		}
		if (m == 0)
			break;
		if (btree_get_batch_wait(bt, m, key, klen, val, vlen, res,
		    waits)) {
			conn_close(c, "store error on GET");
			return (-1);
		}
		for (j = 0; j < m; j++) {
			g = &cand[j];
			if (res[j] == BTREE_AGAIN) {
				g->waddr = waits[j];
				c->dgets[keep++] = *g;
				continue;
			}
			if (out_get(c, g->id, res[j], &val[j], &vlen[j]))
				return (-1);
		}
	}
	c->ndgets = keep;
	if (buf_avail(&c->out) > 0)
		conn_dirty(c);
	return (0);
}

/*
 * Stop ${c} at its next request (the packets at buf[0..len), if any)
 * until reads complete, and queue the reads of the requests behind it
 * (up to IO_LOOKAHEAD) so that they overlap.  Return 0, or -1 if ${c}
 * was closed.
 */
static int
conn_iostop(struct conn *c, const uint8_t *buf, size_t len)
{
	struct kvproto_req req;
	const uint8_t *rec;
	size_t pos = 0, reclen;
	uint64_t id;
	int n;

	if (conn_iolist(c)) {
		conn_close(c, "out of memory");
		return (-1);
	}
	c->iowait = 1;
	c->D->niostops++;
	/* Sent back once more (not for a stop behind deferred GETs). */
	c->iowaddr = 0;
	if (buf != NULL) {
		c->ioretries++;
		c->iowaddr = btree_io_lastwait(c->D->bt);
	}
	for (n = 0; n <= IO_LOOKAHEAD && pos < len; n++) {
		if (packet_parse(buf + pos, len - pos, KVPROTO_REQ_MAXLEN,
		    &id, &rec, &reclen) != PACKET_OK)
			break;
		pos += reclen + PACKET_OVERHEAD;
		/* The first one's read is queued already. */
		if (n == 0 || kvproto_req_parse(rec, reclen,
		    c->D->opts.maxkey, c->D->opts.maxval, &req))
			continue;
		if (req.type == KVPROTO_GET)
			(void)btree_prefetch(c->D->bt, req.key, req.keylen, 0);
		else if (kvproto_req_ismodifying(req.type))
			(void)btree_prefetch(c->D->bt, req.key, req.keylen, 1);
	}
	return (0);
}

/*
 * Reads completed: answer the deferred GETs that can be, and handle the
 * input of the connections stopped at a request again (see handle_io).
 * Some wait again.
 */
static void
io_resume(struct dispatch *D)
{
	struct cvec cv;
	struct conn *c;
	size_t i;

	cv = D->io;
	D->io = D->io2;
	D->io.n = 0;
	for (i = 0; i < cv.n; i++) {
		c = cv.v[i];
		c->inio = 0;
		if (c->dead)
			goto next;
		if (c->ndgets > 0) {
			if (dgets_retry(c))
				goto next;
			if (c->ndgets > 0 && conn_iolist(c)) {
				conn_close(c, "out of memory");
				goto next;
			}
		}
		if (c->iowait && c->iowaddr != 0 &&
		    btree_io_pending(D->bt, c->iowaddr)) {
			/* Its own read is not over: wait on. */
			if (conn_iolist(c)) {
				conn_close(c, "out of memory");
				goto next;
			}
		} else if (c->iowait) {
			c->iowait = 0;
			if (!c->blocked)
				conn_unblock(c);
		}
		if (!c->dead)
			conn_maybe_finish(c);
next:
		conn_unref(c);
	}
	cv.n = 0;
	D->io2 = cv;
}

/* The engine's readers completed reads. */
static void
iocb(evutil_socket_t fd, short what, void *cookie)
{
	struct dispatch *D = cookie;

	(void)fd;
	(void)what;
	if (btree_io_poll(D->bt) > 0)
		io_resume(D);
}

/* ------------------------------------------------------------ parking */

/*
 * Must mutations wait?  While the dirty nodes of the pending batch pass
 * the engine's limit (btree_dirty_bytes), none is applied: they come on
 * top of the page cache, and with 4096 requests in flight one batch
 * could dirty tens of MiB.  Never when nothing is pending, so a batch
 * always takes at least one mutation and the cycle cannot stall.
 */
static int
mut_must_wait(struct dispatch *D)
{
	size_t cap, dirty;

	dirty = btree_dirty_bytes(D->bt, &cap);
	return (cap > 0 && dirty > cap && btree_pending(D->bt) > 0);
}

/*
 * If mutations must wait, park ${c} at its next request: it is not
 * handled (nor anything after it on ${c}, so the connection's order
 * holds) and ${c} is not read until the next commit has begun.  Other
 * connections go on being served.  Return 1 if parked.
 */
static int
conn_park(struct conn *c)
{
	struct dispatch *D = c->D;

	if (!mut_must_wait(D))
		return (0);
	if (!c->parked) {
		/* Without the list, apply it: memory over liveness. */
		if (cvec_push(&D->parked, c))
			return (0);
		c->parked = 1;
		c->refs++;
		D->nparks++;
	}
	return (1);
}

/*
 * A commit began: the pending batch is empty again.  Handle the input
 * of the parked connections (in the order they parked) and read them
 * again; some may park anew.
 */
static void
parked_resume(struct dispatch *D)
{
	struct cvec cv;
	struct conn *c;
	size_t i;

	D->unpark = 0;
	cv = D->parked;
	D->parked = D->parked2;
	D->parked.n = 0;
	for (i = 0; i < cv.n; i++) {
		c = cv.v[i];
		if (!c->dead && c->parked) {
			c->parked = 0;
			/* A blocked one resumes once its output drains. */
			if (!c->blocked)
				conn_unblock(c);
			if (!c->dead)
				conn_maybe_finish(c);
		}
		conn_unref(c);
	}
	cv.n = 0;
	D->parked2 = cv;
}

/*
 * Handle the whole packets among the ${len} bytes at ${buf}, stopping
 * early when the output passes the high water (the connection is then
 * marked blocked) or at a mutation that must wait (marked parked).
 * Return the bytes consumed, or -1 if ${c} is gone.
 */
static ssize_t
conn_process(struct conn *c, const uint8_t *buf, size_t len)
{
	struct getbatch gb;
	struct kvproto_req req;
	const uint8_t *rec;
	size_t pos = 0, reclen;
	uint64_t id;
	int r;

	gb.n = 0;
	while (pos < len) {
		if (conn_queued(c) >= OUT_HIGH) {
			c->blocked = 1;
			break;
		}
		/* Enough GETs wait for reads: wait with them. */
		if (c->ndgets >= DGET_MAX) {
			if (conn_iostop(c, NULL, 0))
				return (-1);
			break;
		}
		r = packet_parse(buf + pos, len - pos, KVPROTO_REQ_MAXLEN, &id,
		    &rec, &reclen);
		if (r == PACKET_NEEDMORE)
			break;
		if (r != PACKET_OK) {
			conn_close(c, r == PACKET_ETOOLONG ?
			    "request packet too long" : "bad packet CRC");
			return (-1);
		}
		/* Collect GETs; anything else first answers those before. */
		if ((r = kvproto_req_parse(rec, reclen, c->D->opts.maxkey,
		    c->D->opts.maxval, &req)) == 0 &&
		    req.type == KVPROTO_GET) {
			gb.id[gb.n] = id;
			gb.key[gb.n] = req.key;
			gb.klen[gb.n] = req.keylen;
			if (++gb.n == GET_BATCH && gets_flush(c, &gb))
				return (-1);
		} else if (r == 0 && kvproto_req_ismodifying(req.type) &&
		    conn_park(c)) {
			/* Left in the input until the next commit begins. */
			break;
		} else if (gets_flush(c, &gb) ||
		    (r = handle_io(c, id, rec, reclen)) == -1) {
			return (-1);
		} else if (r == 1) {
			/* Its page is being read: stop here until it is. */
			if (conn_iostop(c, buf + pos, len - pos))
				return (-1);
			break;
		}
		c->ioretries = 0;
		pos += reclen + PACKET_OVERHEAD;
	}
	if (gets_flush(c, &gb))
		return (-1);
	if (buf_avail(&c->out) > 0)
		conn_dirty(c);
	return ((ssize_t)pos);
}

/* Stop reading ${c}. */
static void
conn_stop_reading(struct conn *c)
{

	if (c->reading) {
		event_del(c->ev_read);
		c->reading = 0;
	}
}

/* Read ${c} again if nothing stops it. */
static void
conn_resume_reading(struct conn *c)
{

	if (c->reading || c->blocked || c->parked || c->iowait || c->eof ||
	    c->dead || c->D->shutting || c->rend || c->nrjobs >= RJOBS_MAX)
		return;
	if (event_add(c->ev_read, NULL)) {
		conn_close(c, "cannot watch the connection");
		return;
	}
	c->reading = 1;
}

/* The output went below the low water: handle the input carried over. */
static void
conn_unblock(struct conn *c)
{
	ssize_t used;

	c->blocked = 0;
	if (c->D->shutting || c->parked || c->iowait)
		return;
	if (buf_avail(&c->carry) > 0) {
		if ((used = conn_process(c, c->carry.p + c->carry.off,
		    buf_avail(&c->carry))) < 0)
			return;
		c->carry.off += (size_t)used;
		if (buf_avail(&c->carry) == 0)
			c->carry.off = c->carry.len = 0;
	}
	conn_resume_reading(c);
}

/* ------------------------------------------------- encrypted connections */

/*
 * The crypto of encrypted connections goes through the crypto worker
 * (cryptow.h), which runs it on the loop thread at submission or, with
 * --crypto-thread, on its own thread pipelined with the loop thread;
 * either way its completions come back through the event loop.  A read's
 * whole packets go to it as one decrypt job (up to RJOBS_MAX per
 * connection in flight), the answers to each decrypt job's requests go
 * back as one encrypt job as soon as they are handled, and its packets are
 * sent the moment it comes back.  Jobs complete in submission order, so
 * each direction's packets stay in order; each holds a reference to its
 * connection, whose session is freed only once no job uses it.
 */

/* How the encrypted input of a connection ended (conn->rend). */
#define WIRE_EOF	1		/* At a packet boundary. */
#define WIRE_TRUNC	2		/* Inside a packet. */

/* An idle crypto job for ${c}, or NULL on ENOMEM. */
static struct cjob *
cjob_get(struct conn *c, int op)
{
	struct dispatch *D = c->D;
	struct cjob *cj;

	if ((cj = D->jfree[op - 1]) != NULL) {
		D->jfree[op - 1] = cj->nextfree;
		D->njfree[op - 1]--;
	} else if ((cj = calloc(1, sizeof(*cj))) == NULL)
		return (NULL);
	cj->c = c;
	cj->j.op = op;
	cj->j.s = c->sess;
	return (cj);
}

/*
 * Keep ${cj} for reuse, or free it.  Each kind has its own list: an
 * encrypt job's input buffer becomes a connection's output buffer, and
 * must not be a decrypt job's 270 KiB one.
 */
static void
cjob_put(struct dispatch *D, struct cjob *cj)
{
	int k = cj->j.op - 1;

	cj->c = NULL;
	if (D->njfree[k] >= JFREE_MAX) {
		buf_free(&cj->in);
		buf_free(&cj->out);
		free(cj);
		return;
	}
	buf_reset(&cj->in);
	buf_reset(&cj->out);
	cj->nextfree = D->jfree[k];
	D->jfree[k] = cj;
	D->njfree[k]++;
}

/* Hand ${cj} to the worker. */
static void
cjob_submit(struct conn *c, struct cjob *cj)
{

	c->njobs++;
	c->refs++;
	cryptow_submit(c->D->cw, &cj->j);
}

/* The input of ${c} ended (c->rend) and every packet read was handled. */
static void
conn_read_end(struct conn *c)
{

	if (c->rend == WIRE_TRUNC) {
		conn_close(c, "encrypted stream ended inside a packet");
		return;
	}
	/* The client is done sending: answer what it sent, close. */
	c->eof = 1;
	conn_stop_reading(c);
	conn_maybe_finish(c);
}

/*
 * One read of the encrypted connection ${c}: hand every whole packet read
 * (after the partial packet kept from the previous read) to the worker as
 * one decrypt job, keep the trailing partial packet.  Returns 1 if the
 * read filled its buffer (more may be waiting), else 0 (also when ${c}
 * was closed or the input ended).
 */
static int
conn_read_enc(struct conn *c)
{
	struct cjob *cj;
	uint8_t *w;
	size_t want, total, npkts, left;
	ssize_t n;

	if ((cj = cjob_get(c, CRYPTOW_DECRYPT)) == NULL ||
	    (w = buf_reserve(&cj->in, WBUFSZ)) == NULL ||
	    buf_reserve(&cj->out, PKT_MAX + PROTO_DECRYPT_ROOM(WPKTS)) ==
	    NULL) {
		if (cj != NULL)
			cjob_put(c->D, cj);
		conn_close(c, "out of memory");
		return (0);
	}
	memcpy(w, c->wcarry, c->wclen);
	want = WBUFSZ - c->wclen;
	n = read(c->fd, w + c->wclen, want);
	if (n <= 0) {
		cjob_put(c->D, cj);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				return (0);
			conn_close(c, errno == ECONNRESET ? NULL :
			    "read error");
			return (0);
		}
		/* End of file: once the packets in flight are handled. */
		c->rend = c->wclen > 0 ? WIRE_TRUNC : WIRE_EOF;
		conn_stop_reading(c);
		if (c->nrjobs == 0)
			conn_read_end(c);
		return (0);
	}
	total = c->wclen + (size_t)n;
	npkts = total / PROTO_PKT_LEN;
	left = total - npkts * PROTO_PKT_LEN;
	memcpy(c->wcarry, w + npkts * PROTO_PKT_LEN, left);
	c->wclen = left;
	if (npkts == 0) {
		cjob_put(c->D, cj);
		return (0);
	}
	cj->in.len = npkts * PROTO_PKT_LEN;
	cj->j.in = w;
	cj->j.n = npkts;
	cj->j.out = cj->out.p + PKT_MAX;
	c->nrjobs++;
	cjob_submit(c, cj);
	return ((size_t)n == want);
}

/*
 * Read the encrypted connection ${c} while reads come back full, up to
 * RJOBS_MAX decrypt jobs in flight.
 */
static void
conn_readcb_enc(struct conn *c)
{

	while (conn_read_enc(c) == 1 && c->nrjobs < RJOBS_MAX)
		continue;
	if (!c->dead && c->nrjobs >= RJOBS_MAX)
		conn_stop_reading(c);
}

/* The decrypt job ${cj} of ${c} is back: handle its plaintext. */
static void
conn_decrypted(struct conn *c, struct cjob *cj)
{
	uint8_t *p;
	size_t clen, total, left;
	ssize_t used;

	c->nrjobs--;
	if (cj->j.result < 0) {
		conn_close(c, "bad packet (wrong key or corrupted stream)");
		return;
	}
	/* Shutting down: requests not yet handled are not read. */
	if (c->D->shutting)
		return;
	p = cj->out.p + PKT_MAX;
	total = (size_t)cj->j.result;
	clen = buf_avail(&c->carry);
	if (c->blocked || c->parked || c->iowait || clen > PKT_MAX) {
		/* Behind input already waiting: queue it there. */
		if (buf_append(&c->carry, p, total)) {
			conn_close(c, "out of memory");
			return;
		}
		if (!c->blocked)
			conn_unblock(c);
	} else {
		/* The carried-over partial request goes in front. */
		if (clen > 0) {
			p -= clen;
			memcpy(p, c->carry.p + c->carry.off, clen);
			total += clen;
			c->carry.off = c->carry.len = 0;
		}
		if ((used = conn_process(c, p, total)) < 0)
			return;
		if ((left = total - (size_t)used) > 0 &&
		    buf_append(&c->carry, p + used, left)) {
			conn_close(c, "out of memory");
			return;
		}
	}
	/* Answer as soon as handled, while the next jobs are decrypted. */
	if (c->dead || conn_encrypt(c))
		return;
	if (c->blocked)
		conn_stop_reading(c);
	else
		conn_resume_reading(c);
	if (c->rend && c->nrjobs == 0)
		conn_read_end(c);
}

/* The encrypt job ${cj} of ${c} is back: send its packets. */
static void
conn_encrypted(struct conn *c, struct cjob *cj)
{
	struct buf tmp;

	c->encq -= cj->j.n;
	if (cj->j.result < 0) {
		conn_close(c, "encryption failed");
		return;
	}
	cj->out.len = (size_t)cj->j.result;
	if (buf_avail(&c->wout) == 0) {
		/* Take the job's buffer rather than copy it. */
		tmp = c->wout;
		c->wout = cj->out;
		cj->out = tmp;
	} else if (buf_append(&c->wout, cj->out.p, cj->out.len)) {
		conn_close(c, "out of memory");
		return;
	}
	conn_write(c);
}

/* The crypto worker's done callback. */
static void
cjob_done(void *cookie, struct cryptow_job *j)
{
	struct dispatch *D = cookie;
	struct cjob *cj = (struct cjob *)j;
	struct conn *c = cj->c;

	c->njobs--;
	if (c->dead || D->freeing) {
		if (c->dead && c->njobs == 0) {
			proto_session_free(c->sess);
			c->sess = NULL;
		}
	} else if (j->op == CRYPTOW_DECRYPT)
		conn_decrypted(c, cj);
	else
		conn_encrypted(c, cj);
	cjob_put(D, cj);
	conn_unref(c);
}

static void
conn_readcb(evutil_socket_t fd, short what, void *cookie)
{
	struct conn *c = cookie;
	struct dispatch *D = c->D;
	size_t clen, total, left;
	ssize_t n, used;

	(void)what;

	if (c->sess != NULL) {
		conn_readcb_enc(c);
		return;
	}

	/* While reading, the carry is shorter than one packet. */
	clen = buf_avail(&c->carry);
	if (clen > 0)
		memcpy(D->rbuf, c->carry.p + c->carry.off, clen);
	c->carry.off = c->carry.len = 0;

	n = read(fd, D->rbuf + clen, RBUFSZ - clen);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			(void)buf_append(&c->carry, D->rbuf, clen);
			return;
		}
		if (errno == ECONNRESET)
			conn_close(c, NULL);
		else
			conn_close(c, "read error");
		return;
	}
	if (n == 0) {
		/* The client is done sending: answer what it sent, close. */
		c->eof = 1;
		conn_stop_reading(c);
		conn_maybe_finish(c);
		return;
	}
	total = clen + (size_t)n;
	if ((used = conn_process(c, D->rbuf, total)) < 0)
		return;
	if ((left = total - (size_t)used) > 0 &&
	    buf_append(&c->carry, D->rbuf + used, left)) {
		conn_close(c, "out of memory");
		return;
	}
	if (c->blocked || c->parked || c->iowait)
		conn_stop_reading(c);
}

/* ---------------------------------------------------------------- writing */

/*
 * Hand all the plaintext output of ${c} to the crypto worker as one job:
 * full packets of 1024 bytes from the response stream, only the last one
 * partial.  Return 0, or -1 if ${c} was closed.
 */
static int
conn_encrypt(struct conn *c)
{
	struct cjob *cj;
	struct buf tmp;
	size_t avail;

	if ((avail = buf_avail(&c->out)) == 0)
		return (0);
	if ((cj = cjob_get(c, CRYPTOW_ENCRYPT)) == NULL ||
	    buf_reserve(&cj->out, PROTO_WIRELEN(avail)) == NULL) {
		if (cj != NULL)
			cjob_put(c->D, cj);
		conn_close(c, "out of memory");
		return (-1);
	}
	/* The job takes the output; the connection its empty buffer. */
	tmp = cj->in;
	cj->in = c->out;
	c->out = tmp;
	cj->j.in = cj->in.p + cj->in.off;
	cj->j.n = avail;
	cj->j.out = cj->out.p;
	c->encq += avail;
	cjob_submit(c, cj);
	return (0);
}

/* Write what ${c} has to send (one send(2)). */
static void
conn_write(struct conn *c)
{
	struct buf *o = &c->out;
	size_t avail;
	ssize_t n;

	if (c->dead)
		return;
	if (c->sess != NULL) {
		if (conn_encrypt(c))
			return;
		o = &c->wout;
	}
	if ((avail = buf_avail(o)) > 0) {
		/* MSG_NOSIGNAL: a vanished client is EPIPE, never SIGPIPE. */
		do {
			n = send(c->fd, o->p + o->off, avail,
			    MSG_NOSIGNAL);
		} while (n == -1 && errno == EINTR);
		if (n == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				conn_close(c, (errno == EPIPE ||
				    errno == ECONNRESET) ? NULL :
				    "write error");
				return;
			}
			n = 0;
		}
		o->off += (size_t)n;
		avail -= (size_t)n;
	}
	if (avail == 0) {
		buf_reset(o);
		if (c->writing) {
			event_del(c->ev_write);
			c->writing = 0;
		}
	} else if (!c->writing) {
		if (event_add(c->ev_write, NULL)) {
			conn_close(c, "cannot watch the connection");
			return;
		}
		c->writing = 1;
	}
	if (c->blocked && conn_queued(c) <= OUT_LOW) {
		conn_unblock(c);
		if (c->dead)
			return;
	}
	conn_maybe_finish(c);
}

static void
conn_writecb(evutil_socket_t fd, short what, void *cookie)
{
	struct conn *c = cookie;

	(void)fd;
	(void)what;
	conn_write(c);
}

/* End of a loop turn: one write for every connection with output. */
static void
dispatch_flush(struct dispatch *D)
{
	struct conn *c;
	size_t i;

	/* conn_write() may queue more connections: D->dirty can grow. */
	for (i = 0; i < D->dirty.n; i++) {
		c = D->dirty.v[i];
		c->dirty = 0;
		if (!c->dead)
			conn_write(c);
		conn_unref(c);
	}
	D->dirty.n = 0;
}

/* ---------------------------------------------------------------- batches */

/* Move the responses held in batch list ${i} to their connections. */
static void
release_batch(struct dispatch *D, int i)
{
	struct cvec *cv = &D->batch[i];
	struct conn *c;
	size_t k;

	for (k = 0; k < cv->n; k++) {
		c = cv->v[k];
		c->inlist[i] = 0;
		if (!c->dead) {
			if (buf_avail(&c->out) == 0 && c->out.cap == 0) {
				/* Take the held buffer whole: no copy. */
				c->out = c->held[i];
				memset(&c->held[i], 0, sizeof(c->held[i]));
			} else if (buf_append(&c->out,
			    c->held[i].p + c->held[i].off,
			    buf_avail(&c->held[i]))) {
				conn_close(c, "out of memory");
				conn_unref(c);
				continue;
			} else {
				c->held[i].off = c->held[i].len = 0;
			}
			conn_dirty(c);
			/* A draining connection may be done now. */
			if (buf_avail(&c->out) == 0)
				conn_maybe_finish(c);
		}
		conn_unref(c);
	}
	cv->n = 0;
}

static void
commit_began(void *cookie)
{
	struct dispatch *D = cookie;

	/* The open batch is now the one being written. */
	D->open++;
	D->nopen = 0;
	/* Parked mutations fit in the new batch (see parked_resume). */
	if (D->parked.n > 0)
		D->unpark = 1;
}

static void
commit_done(void *cookie, int status)
{
	struct dispatch *D = cookie;

	if (status != 0) {
		D->fatal = 1;
		event_base_loopbreak(D->base);
		return;
	}
	release_batch(D, (int)((D->open - 1) & 1));
}

static const struct commit_cbs dispatch_commit_cbs = {
	.began = commit_began,
	.done = commit_done
};

/*
 * Responses held in the open batch while nothing is pending (requests that
 * changed nothing) depend only on committed state once no commit is in
 * flight: send them without a commit.
 */
static void
release_idle(struct dispatch *D)
{

	if (D->nopen > 0 && !commit_inflight(D->C) &&
	    btree_pending(D->bt) == 0) {
		release_batch(D, (int)(D->open & 1));
		D->nopen = 0;
	}
}

/* ---------------------------------------------------------- connections */

/*
 * Close ${c}: stop its events and close its socket; ${why}, if not NULL,
 * is logged (rate-limited).  The structure lives on until the end of the
 * turn and while lists refer to it.
 */
static void
conn_close(struct conn *c, const char *why)
{
	struct dispatch *D = c->D;
	struct conn *last;

	if (c->dead)
		return;
	if (why != NULL)
		log_ratelimited("connection %ju dropped: %s",
		    (uintmax_t)c->serial, why);
	event_free(c->ev_read);
	event_free(c->ev_write);
	close(c->fd);
	buf_free(&c->carry);
	buf_free(&c->out);
	buf_free(&c->held[0]);
	buf_free(&c->held[1]);
	buf_free(&c->wout);
	free(c->dgets);
	c->dgets = NULL;
	c->ndgets = c->dgetcap = 0;
	/* Jobs in flight still use the session: the last one frees it. */
	if (c->njobs == 0) {
		proto_session_free(c->sess);
		c->sess = NULL;
	}
	c->dead = 1;
	snap_release_conn(c);

	/* Remove from D->conns by moving the last one into our slot. */
	last = D->conns.v[--D->conns.n];
	last->idx = c->idx;
	D->conns.v[c->idx] = last;

	/*
	 * Callers up the stack may still hold ${c}: it is freed at the end
	 * of the turn (dispatch_reap), once no list refers to it either.
	 */
	c->refs++;
	c->nextdead = D->graveyard;
	D->graveyard = c;

	if (D->opts.once && !D->closed_one) {
		D->closed_one = 1;
		dispatch_shutdown(D);
	}
	if (!D->shutting && dispatch_nconns(D) < D->opts.maxconns)
		accept_enable(D, 1);
}

/*
 * Serve the accepted socket ${fd} (numbered ${serial}), with the session
 * ${sess} (owned from now on) if it is encrypted.
 */
static void
conn_new(struct dispatch *D, int fd, uint64_t serial,
    struct proto_session *sess)
{
	struct conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto err0;
	c->D = D;
	c->fd = fd;
	c->serial = serial;
	c->sess = sess;
	if ((c->ev_read = event_new(D->base, fd, EV_READ | EV_PERSIST,
	    conn_readcb, c)) == NULL)
		goto err1;
	if ((c->ev_write = event_new(D->base, fd, EV_WRITE | EV_PERSIST,
	    conn_writecb, c)) == NULL)
		goto err2;
	if (event_add(c->ev_read, NULL))
		goto err3;
	c->reading = 1;
	c->idx = D->conns.n;
	if (cvec_push(&D->conns, c))
		goto err4;
	D->nconns_total++;
	return;

err4:
	event_del(c->ev_read);
err3:
	event_free(c->ev_write);
err2:
	event_free(c->ev_read);
err1:
	free(c);
err0:
	log_ratelimited("cannot serve a new connection: out of memory");
	proto_session_free(sess);
	close(fd);
}

/* ---------------------------------------------------------- handshakes */

/* Unlink ${p} from the handshakes in progress and free it. */
static void
pend_free(struct pend *p)
{
	struct dispatch *D = p->D;

	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		D->pend = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	D->npend--;
	free(p);
}

/* The handshake of ${cookie} ended: serve it, or drop it. */
static void
pend_done(void *cookie, struct proto_session *sess, int err)
{
	struct pend *p = cookie;
	struct dispatch *D = p->D;
	int fd = p->fd;
	uint64_t serial = p->serial;

	/* The driver freed its handle before calling us. */
	pend_free(p);
	if (sess == NULL) {
		D->nhsfail++;
		log_ratelimited("connection %ju dropped: spiped %s",
		    (uintmax_t)serial, proto_handshake_strerror(err));
		close(fd);
	} else if (D->shutting) {
		proto_session_free(sess);
		close(fd);
	} else
		conn_new(D, fd, serial, sess);
	if (!D->shutting && dispatch_nconns(D) < D->opts.maxconns)
		accept_enable(D, 1);
}

/* Start the server side of the spiped handshake on ${fd}. */
static void
pend_new(struct dispatch *D, int fd)
{
	struct pend *p;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		log_ratelimited("cannot serve a new connection: out of "
		    "memory");
		close(fd);
		return;
	}
	p->D = D;
	p->fd = fd;
	p->serial = D->nextserial++;
	if ((p->h = proto_handshake_start(D->base, fd, D->opts.key,
	    PROTO_HS_SERVER | D->opts.hsflags, D->opts.hs_timeout, pend_done,
	    p)) == NULL) {
		log_ratelimited("cannot start a handshake");
		free(p);
		close(fd);
		return;
	}
	p->next = D->pend;
	if (p->next != NULL)
		p->next->prev = p;
	D->pend = p;
	D->npend++;
}

/* Abandon every handshake in progress. */
static void
pend_cancel_all(struct dispatch *D)
{
	struct pend *p, *next;

	for (p = D->pend; p != NULL; p = next) {
		next = p->next;
		proto_handshake_cancel(p->h);
		close(p->fd);
		free(p);
	}
	D->pend = NULL;
	D->npend = 0;
}

/* ---------------------------------------------------------------- accepting */

static void
accept_enable(struct dispatch *D, int on)
{
	size_t i;

	if (D->accepting == on)
		return;
	for (i = 0; i < D->nl; i++) {
		if (on)
			event_add(D->lev[i], NULL);
		else
			event_del(D->lev[i]);
	}
	D->accepting = on;
}

static void
pausecb(evutil_socket_t fd, short what, void *cookie)
{
	struct dispatch *D = cookie;

	(void)fd;
	(void)what;
	if (!D->shutting && dispatch_nconns(D) < D->opts.maxconns)
		accept_enable(D, 1);
}

static void
acceptcb(evutil_socket_t lfd, short what, void *cookie)
{
	struct dispatch *D = cookie;
	struct timeval tv = {0, 100000};
	int i, fd, enc = 0;
	size_t k;

	(void)what;
	for (k = 0; k < D->nl; k++) {
		if (D->lfds[k] == lfd)
			enc = D->lenc[k];
	}
	for (i = 0; i < ACCEPT_BURST; i++) {
		if (dispatch_nconns(D) >= D->opts.maxconns) {
			accept_enable(D, 0);
			return;
		}
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			switch (errno) {
			case EAGAIN:
#if EWOULDBLOCK != EAGAIN
			case EWOULDBLOCK:
#endif
			case EINTR:
			case ECONNABORTED:
				return;
			case EMFILE:
			case ENFILE:
			case ENOBUFS:
			case ENOMEM:
				/* Out of resources: pause rather than spin. */
				log_ratelimitedp("accept");
				accept_enable(D, 0);
				evtimer_add(D->ev_pause, &tv);
				return;
			default:
				log_ratelimitedp("accept");
				return;
			}
		}
		if (enc) {
			/* Requests and answers are small: no Nagle delay. */
			(void)sock_set_nodelay(fd, 1);
			pend_new(D, fd);
		} else
			conn_new(D, fd, D->nextserial++, NULL);
	}
}

/* ---------------------------------------------------------------- signals */

static void
usr1cb(evutil_socket_t fd, short what, void *cookie)
{
	struct dispatch *D = cookie;
	char buf[1024];

	(void)fd;
	(void)what;
	btree_stats(D->bt, buf, sizeof(buf));
	log_info("%s; %zu connections (%ju since start), %ju requests, "
	    "%ju modifying, %ju commits, %zu handshakes in progress, "
	    "%ju failed; mutations waited for a commit %ju times; "
	    "%ju GETs and %ju other requests waited for a page read", buf,
	    D->conns.n,
	    (uintmax_t)D->nconns_total, (uintmax_t)D->nreq,
	    (uintmax_t)D->nmut, (uintmax_t)commit_count(D->C), D->npend,
	    (uintmax_t)D->nhsfail, (uintmax_t)D->nparks,
	    (uintmax_t)D->ndeferred, (uintmax_t)D->niostops);
}

static void
gracecb(evutil_socket_t fd, short what, void *cookie)
{
	struct dispatch *D = cookie;

	(void)fd;
	(void)what;
	D->grace_over = 1;
}

/**
 * dispatch_shutdown(D):
 * Stop accepting and reading requests, commit every mutation applied,
 * send the held responses (giving clients that do not read a few seconds)
 * and make dispatch_run() return 0.  Safe to call more than once.
 */
void
dispatch_shutdown(struct dispatch *D)
{
	struct timeval tv = {SHUTDOWN_GRACE, 0};
	size_t i;

	if (D->shutting)
		return;
	D->shutting = 1;
	accept_enable(D, 0);
	evtimer_del(D->ev_pause);
	pend_cancel_all(D);
	for (i = 0; i < D->conns.n; i++)
		conn_stop_reading(D->conns.v[i]);
	evtimer_add(D->ev_grace, &tv);
}

/**
 * dispatch_signal(cookie, signo):
 * The daemon_signals_init() callback: the first SIGTERM or SIGINT calls
 * dispatch_shutdown(${cookie}); a second one exits at once (status 1)
 * without acknowledging anything more.
 */
void
dispatch_signal(void *cookie, int signo)
{
	struct dispatch *D = cookie;

	if (D->shutting) {
		warn0("signal %d during shutdown: exiting now", signo);
		exit(1);
	}
	log_info("signal %d: finishing the batch in progress, then exiting",
	    signo);
	dispatch_shutdown(D);
}

/* Shutting down: is everything committed and sent? */
static int
shutdown_done(struct dispatch *D)
{
	size_t i;

	if (commit_inflight(D->C) || btree_pending(D->bt) > 0 ||
	    D->nopen > 0)
		return (0);
	if (D->grace_over)
		return (1);
	for (i = 0; i < D->conns.n; i++) {
		if (conn_unsent(D->conns.v[i]) > 0 ||
		    D->conns.v[i]->ndgets > 0)
			return (0);
	}
	return (1);
}

/* ---------------------------------------------------------------- life */

/**
 * dispatch_init(base, bt, lfds, nlfds, opts):
 * Serve the store ${bt} to connections accepted on the ${nlfds} listening,
 * non-blocking sockets ${lfds} (owned and closed by the dispatcher once
 * this succeeds; still the caller's on failure), with the event loop
 * ${base}; ${opts} is copied.  Starts
 * group commit (and its worker thread) and watches SIGUSR1 (log the store
 * statistics).  Return the state, or NULL on error (logged).
 */
struct dispatch *
dispatch_init(struct event_base *base, struct btree *bt, const int *lfds,
    size_t nlfds, const struct dispatch_opts *opts)
{
	struct dispatch *D;
	size_t i;

	if ((D = calloc(1, sizeof(*D))) == NULL) {
		warnp("calloc");
		return (NULL);
	}
	D->base = base;
	D->bt = bt;
	D->opts = *opts;
	if ((D->lfds = calloc(nlfds, sizeof(int))) == NULL ||
	    (D->lev = calloc(nlfds, sizeof(struct event *))) == NULL) {
		warnp("calloc");
		goto err;
	}
	for (i = 0; i < nlfds; i++)
		D->lfds[i] = lfds[i];
	D->nl = nlfds;
	D->opts.lenc = NULL;
	if ((D->lenc = calloc(nlfds, sizeof(int))) == NULL) {
		warnp("calloc");
		goto err;
	}
	for (i = 0; i < nlfds; i++) {
		if (opts->lenc != NULL && opts->lenc[i]) {
			if (opts->key == NULL) {
				warn0("an encrypted listener needs a key");
				goto err;
			}
			D->lenc[i] = 1;
		}
	}
	if ((D->rbuf = malloc(RBUFSZ)) == NULL) {
		warnp("malloc");
		goto err;
	}
	for (i = 0; i < nlfds; i++) {
		if (D->lenc[i] && D->cw == NULL &&
		    (D->cw = cryptow_new(base, opts->crypto_thread, cjob_done,
		    D)) == NULL)
			goto err;
	}
	D->nextsnap = 1;
	if ((D->range = kvproto_range_init(RANGE_MAXBYTES)) == NULL)
		goto err;
	for (i = 0; i < nlfds; i++) {
		if ((D->lev[i] = event_new(base, lfds[i], EV_READ | EV_PERSIST,
		    acceptcb, D)) == NULL) {
			warn0("event_new");
			goto err;
		}
	}
	if ((D->ev_pause = evtimer_new(base, pausecb, D)) == NULL ||
	    (D->ev_grace = evtimer_new(base, gracecb, D)) == NULL ||
	    (D->ev_usr1 = evsignal_new(base, SIGUSR1, usr1cb, D)) == NULL) {
		warn0("event_new");
		goto err;
	}
	if (evsignal_add(D->ev_usr1, NULL)) {
		warn0("evsignal_add");
		goto err;
	}
	if ((D->C = commit_init(base, bt, opts->commit_delay,
	    opts->commit_force, &dispatch_commit_cbs, D)) == NULL)
		goto err;
	/* Pages not in memory are read off the loop (IO_THREADS readers). */
	if (btree_io_start(bt, IO_THREADS))
		goto err;
	if ((D->ev_io = event_new(base, btree_io_fd(bt), EV_READ | EV_PERSIST,
	    iocb, D)) == NULL || event_add(D->ev_io, NULL)) {
		warn0("event_new");
		goto err;
	}
	accept_enable(D, 1);
	D->lowned = 1;
	return (D);

err:
	dispatch_free(D);
	return (NULL);
}

/* End of a turn: drop the references of the connections closed in it. */
static void
dispatch_reap(struct dispatch *D)
{
	struct conn *c;

	while ((c = D->graveyard) != NULL) {
		D->graveyard = c->nextdead;
		conn_unref(c);
	}
}

/**
 * dispatch_run(D):
 * Run the event loop until the dispatcher has shut down.  Return 0 after a
 * clean shutdown (dispatch_shutdown(), or the first connection closing
 * under opts->once): every mutation applied was committed and its response
 * sent (or its client was gone).  Return -1 after a fatal error (a commit
 * failed, the store reported an error on a mutation): nothing more was
 * acknowledged and the caller must exit non-zero.
 */
int
dispatch_run(struct dispatch *D)
{

	for (;;) {
		if (D->fatal)
			return (-1);

		/* End of a loop turn: write, then maybe start a commit. */
		dispatch_flush(D);
		/* Parked mutations wait for a commit: no delay then. */
		commit_poke(D->C, D->shutting || D->parked.n > 0);
		if (D->fatal)
			return (-1);
		if (D->unpark)
			parked_resume(D);
		release_idle(D);
		if (D->dirty.n > 0)
			dispatch_flush(D);
		dispatch_reap(D);
		if (D->shutting && shutdown_done(D))
			return (0);

		if (event_base_loop(D->base, EVLOOP_ONCE) == -1) {
			warn0("event loop failed");
			return (-1);
		}
	}
}

/**
 * dispatch_free(D):
 * Close every connection and listening socket and free the dispatcher
 * (after stopping the commit worker).  The store is not closed.  NULL is
 * a no-op.
 */
void
dispatch_free(struct dispatch *D)
{
	struct conn *c;
	struct cjob *cj;
	size_t i;
	int k;

	if (D == NULL)
		return;
	commit_free(D->C);

	/* Stop the crypto worker; its jobs only drop their references. */
	D->freeing = 1;
	cryptow_free(D->cw);
	for (k = 0; k < 2; k++) {
		while ((cj = D->jfree[k]) != NULL) {
			D->jfree[k] = cj->nextfree;
			buf_free(&cj->in);
			buf_free(&cj->out);
			free(cj);
		}
	}

	/* Drop list references, then close what is left. */
	for (k = 0; k < 2; k++) {
		for (i = 0; i < D->batch[k].n; i++) {
			c = D->batch[k].v[i];
			c->inlist[k] = 0;
			conn_unref(c);
		}
		free(D->batch[k].v);
	}
	for (i = 0; i < D->dirty.n; i++) {
		c = D->dirty.v[i];
		c->dirty = 0;
		conn_unref(c);
	}
	free(D->dirty.v);
	for (i = 0; i < D->parked.n; i++) {
		c = D->parked.v[i];
		c->parked = 0;
		conn_unref(c);
	}
	free(D->parked.v);
	free(D->parked2.v);
	for (i = 0; i < D->io.n; i++) {
		c = D->io.v[i];
		c->inio = 0;
		conn_unref(c);
	}
	free(D->io.v);
	free(D->io2.v);
	if (D->ev_io != NULL)
		event_free(D->ev_io);
	D->opts.once = 0;
	D->shutting = 1;
	pend_cancel_all(D);
	while (D->conns.n > 0)
		conn_close(D->conns.v[D->conns.n - 1], NULL);
	free(D->conns.v);
	dispatch_reap(D);

	for (i = 0; i < D->nl; i++) {
		if (D->lev[i] != NULL)
			event_free(D->lev[i]);
		if (D->lowned)
			close(D->lfds[i]);
	}
	free(D->lev);
	free(D->lfds);
	free(D->lenc);
	if (D->ev_pause != NULL)
		event_free(D->ev_pause);
	if (D->ev_grace != NULL)
		event_free(D->ev_grace);
	if (D->ev_usr1 != NULL)
		event_free(D->ev_usr1);
	kvproto_range_free(D->range);
	free(D->rbuf);
	free(D);
}
