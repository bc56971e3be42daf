/*
 * The kvlds record codec: exact parsers and encoders for the requests and
 * responses of the kivaloo kvlds protocol.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"

#include "kvproto.h"

/* A bounded reader over a record. */
struct rd {
	const uint8_t *p;
	size_t left;
};

static int
get_u32(struct rd *r, uint32_t *x)
{

	if (r->left < 4)
		return (-1);
	*x = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
	    (uint32_t)r->p[2] << 8 | (uint32_t)r->p[3];
	r->p += 4;
	r->left -= 4;
	return (0);
}

static int
get_u64(struct rd *r, uint64_t *x)
{
	uint32_t hi, lo;

	if (get_u32(r, &hi) || get_u32(r, &lo))
		return (-1);
	*x = (uint64_t)hi << 32 | lo;
	return (0);
}

/* A 1-byte length then that many bytes, at most max of them. */
static int
get_field(struct rd *r, size_t max, const uint8_t **f, size_t *flen)
{
	size_t n;

	if (r->left < 1)
		return (-1);
	n = r->p[0];
	if (n > max || r->left - 1 < n)
		return (-1);
	*f = r->p + 1;
	*flen = n;
	r->p += 1 + n;
	r->left -= 1 + n;
	return (0);
}

static uint8_t *
put_u32(uint8_t *p, uint32_t x)
{

	p[0] = (uint8_t)(x >> 24);
	p[1] = (uint8_t)(x >> 16);
	p[2] = (uint8_t)(x >> 8);
	p[3] = (uint8_t)x;
	return (p + 4);
}

static uint8_t *
put_u64(uint8_t *p, uint64_t x)
{

	return (put_u32(put_u32(p, (uint32_t)(x >> 32)), (uint32_t)x));
}

/* Caller has checked n <= KVPROTO_MAXKV and the room. */
static uint8_t *
put_field(uint8_t *p, const uint8_t *f, size_t n)
{

	*p++ = (uint8_t)n;
	if (n > 0)
		memcpy(p, f, n);
	return (p + n);
}

/**
 * kvproto_req_parse(rec, len, maxkey, maxval, req):
 * Parse a request record exactly into ${req}.  0 or -1 if malformed.
 */
int
kvproto_req_parse(const uint8_t *rec, size_t len, size_t maxkey,
    size_t maxval, struct kvproto_req *req)
{
	struct rd r = { rec, len };

	memset(req, 0, sizeof(*req));
	if (get_u32(&r, &req->type))
		return (-1);
	switch (req->type) {
	case KVPROTO_PARAMS:
		break;
	case KVPROTO_SET:
	case KVPROTO_ADD:
	case KVPROTO_MODIFY:
		if (get_field(&r, maxkey, &req->key, &req->keylen) ||
		    get_field(&r, maxval, &req->value, &req->valuelen))
			return (-1);
		break;
	case KVPROTO_CAS:
		if (get_field(&r, maxkey, &req->key, &req->keylen) ||
		    get_field(&r, maxval, &req->oldval, &req->oldvallen) ||
		    get_field(&r, maxval, &req->value, &req->valuelen))
			return (-1);
		break;
	case KVPROTO_DELETE:
	case KVPROTO_GET:
		if (get_field(&r, maxkey, &req->key, &req->keylen))
			return (-1);
		break;
	case KVPROTO_CAD:
		if (get_field(&r, maxkey, &req->key, &req->keylen) ||
		    get_field(&r, maxval, &req->oldval, &req->oldvallen))
			return (-1);
		break;
	case KVPROTO_RANGE:
		if (get_u32(&r, &req->maxbytes) ||
		    get_field(&r, maxkey, &req->key, &req->keylen) ||
		    get_field(&r, maxkey, &req->end, &req->endlen))
			return (-1);
		break;
	case KVPROTO_SNAPSHOT_OPEN:
		break;
	case KVPROTO_SNAPSHOT_RANGE:
		if (get_u64(&r, &req->snapid) ||
		    get_u32(&r, &req->maxbytes) ||
		    get_field(&r, maxkey, &req->key, &req->keylen) ||
		    get_field(&r, maxkey, &req->end, &req->endlen))
			return (-1);
		break;
	case KVPROTO_SNAPSHOT_CLOSE:
		if (get_u64(&r, &req->snapid))
			return (-1);
		break;
	default:
		return (-1);
	}

	/* Exact: no trailing bytes. */
	if (r.left != 0)
		return (-1);
	return (0);
}

/**
 * kvproto_req_encode(req, buf, buflen):
 * Write the request record ${req} into ${buf}; return its length or -1.
 */
ssize_t
kvproto_req_encode(const struct kvproto_req *req, uint8_t *buf,
    size_t buflen)
{
	size_t need = 4;
	uint8_t *p;

	if (req->keylen > KVPROTO_MAXKV || req->valuelen > KVPROTO_MAXKV ||
	    req->oldvallen > KVPROTO_MAXKV || req->endlen > KVPROTO_MAXKV) {
		warn0("kvproto_req_encode: key or value too long");
		return (-1);
	}
	switch (req->type) {
	case KVPROTO_PARAMS:
		break;
	case KVPROTO_SET:
	case KVPROTO_ADD:
	case KVPROTO_MODIFY:
		need += 2 + req->keylen + req->valuelen;
		break;
	case KVPROTO_CAS:
		need += 3 + req->keylen + req->oldvallen + req->valuelen;
		break;
	case KVPROTO_DELETE:
	case KVPROTO_GET:
		need += 1 + req->keylen;
		break;
	case KVPROTO_CAD:
		need += 2 + req->keylen + req->oldvallen;
		break;
	case KVPROTO_RANGE:
		need += 4 + 2 + req->keylen + req->endlen;
		break;
	case KVPROTO_SNAPSHOT_OPEN:
		break;
	case KVPROTO_SNAPSHOT_RANGE:
		need += 8 + 4 + 2 + req->keylen + req->endlen;
		break;
	case KVPROTO_SNAPSHOT_CLOSE:
		need += 8;
		break;
	default:
		warn0("kvproto_req_encode: unknown request type");
		return (-1);
	}
	if (need > buflen) {
		warn0("kvproto_req_encode: buffer too small");
		return (-1);
	}

	p = put_u32(buf, req->type);
	switch (req->type) {
	case KVPROTO_SET:
	case KVPROTO_ADD:
	case KVPROTO_MODIFY:
		p = put_field(p, req->key, req->keylen);
		p = put_field(p, req->value, req->valuelen);
		break;
	case KVPROTO_CAS:
		p = put_field(p, req->key, req->keylen);
		p = put_field(p, req->oldval, req->oldvallen);
		p = put_field(p, req->value, req->valuelen);
		break;
	case KVPROTO_DELETE:
	case KVPROTO_GET:
		p = put_field(p, req->key, req->keylen);
		break;
	case KVPROTO_CAD:
		p = put_field(p, req->key, req->keylen);
		p = put_field(p, req->oldval, req->oldvallen);
		break;
	case KVPROTO_RANGE:
		p = put_u32(p, req->maxbytes);
		p = put_field(p, req->key, req->keylen);
		p = put_field(p, req->end, req->endlen);
		break;
	case KVPROTO_SNAPSHOT_RANGE:
		p = put_u64(p, req->snapid);
		p = put_u32(p, req->maxbytes);
		p = put_field(p, req->key, req->keylen);
		p = put_field(p, req->end, req->endlen);
		break;
	case KVPROTO_SNAPSHOT_CLOSE:
		p = put_u64(p, req->snapid);
		break;
	}
	return ((ssize_t)(p - buf));
}

/**
 * kvproto_req_ismodifying(type):
 * Non-zero for SET, CAS, ADD, MODIFY, DELETE and CAD.
 */
int
kvproto_req_ismodifying(uint32_t type)
{

	switch (type) {
	case KVPROTO_SET:
	case KVPROTO_CAS:
	case KVPROTO_ADD:
	case KVPROTO_MODIFY:
	case KVPROTO_DELETE:
	case KVPROTO_CAD:
		return (1);
	default:
		return (0);
	}
}

/**
 * kvproto_resp_maxlen(req):
 * Length of the longest valid response record to ${req}; 0 if unknown.
 */
size_t
kvproto_resp_maxlen(const struct kvproto_req *req)
{
	size_t pairs;

	switch (req->type) {
	case KVPROTO_PARAMS:
		return (8);
	case KVPROTO_SET:
	case KVPROTO_CAS:
	case KVPROTO_ADD:
	case KVPROTO_MODIFY:
	case KVPROTO_DELETE:
	case KVPROTO_CAD:
	case KVPROTO_SNAPSHOT_CLOSE:
		return (4);
	case KVPROTO_SNAPSHOT_OPEN:
		return (12);
	case KVPROTO_GET:
		return (KVPROTO_RESP_MAXLEN);
	case KVPROTO_RANGE:
	case KVPROTO_SNAPSHOT_RANGE:
		pairs = req->maxbytes;
		if (pairs < KVPROTO_PAIRLEN(KVPROTO_MAXKV, KVPROTO_MAXKV))
			pairs = KVPROTO_PAIRLEN(KVPROTO_MAXKV, KVPROTO_MAXKV);
		return (KVPROTO_RANGE_HDRMAX + pairs);
	default:
		return (0);
	}
}

/**
 * kvproto_resp_status(buf, status):
 * Write a 4-byte status record.  Return 4.
 */
size_t
kvproto_resp_status(uint8_t *buf, uint32_t status)
{

	put_u32(buf, status);
	return (4);
}

/**
 * kvproto_resp_get(buf, value, valuelen):
 * Write a GET response (status 0 and value, or status 1 if NULL).
 */
size_t
kvproto_resp_get(uint8_t *buf, const uint8_t *value, size_t valuelen)
{

	if (value == NULL)
		return (kvproto_resp_status(buf, 1));
	put_u32(buf, 0);
	put_field(buf + 4, value, valuelen);
	return (5 + valuelen);
}

/**
 * kvproto_resp_params(buf, maxkey, maxval):
 * Write the 8-byte PARAMS response.  Return 8.
 */
size_t
kvproto_resp_params(uint8_t *buf, uint32_t maxkey, uint32_t maxval)
{

	put_u32(put_u32(buf, maxkey), maxval);
	return (8);
}

/**
 * kvproto_resp_snapopen(buf, snapid):
 * Write a SNAPSHOT_OPEN response (status 0, ID).  Return 12.
 */
size_t
kvproto_resp_snapopen(uint8_t *buf, uint64_t snapid)
{

	put_u64(put_u32(buf, 0), snapid);
	return (12);
}

/*
 * A RANGE response under construction.  The pairs are appended from
 * offset KVPROTO_RANGE_HDRMAX of buf; the header (status, count, next),
 * whose length depends on next, is written just before them when the
 * response is finished, so the record never moves.
 */
struct kvproto_range {
	uint8_t *buf;
	size_t cap;		/* Bytes allocated at buf. */
	size_t used;		/* Bytes of pairs. */
	size_t maxbytes;	/* Budget for the pairs. */
	uint32_t count;
};

/**
 * kvproto_range_init(maxbytes):
 * Start a RANGE response with a budget of ${maxbytes}.  NULL on error.
 */
struct kvproto_range *
kvproto_range_init(size_t maxbytes)
{
	struct kvproto_range *r;

	if ((r = malloc(sizeof(*r))) == NULL)
		goto err0;
	r->cap = KVPROTO_RANGE_HDRMAX + 1024;
	if ((r->buf = malloc(r->cap)) == NULL)
		goto err1;
	kvproto_range_reset(r, maxbytes);
	return (r);

err1:
	free(r);
err0:
	warn0("kvproto_range_init: out of memory");
	return (NULL);
}

/**
 * kvproto_range_reset(r, maxbytes):
 * Empty ${r} for a new response bounded by ${maxbytes}.
 */
void
kvproto_range_reset(struct kvproto_range *r, size_t maxbytes)
{

	r->used = 0;
	r->count = 0;
	r->maxbytes = maxbytes;
}

/**
 * kvproto_range_add(r, key, keylen, value, valuelen):
 * Append a pair if it fits or is the first.  0 added, 1 full, -1 error.
 */
int
kvproto_range_add(struct kvproto_range *r, const uint8_t *key,
    size_t keylen, const uint8_t *value, size_t valuelen)
{
	size_t plen = KVPROTO_PAIRLEN(keylen, valuelen);
	size_t ncap;
	uint8_t *nbuf, *p;

	if (keylen > KVPROTO_MAXKV || valuelen > KVPROTO_MAXKV) {
		warn0("kvproto_range_add: key or value too long");
		return (-1);
	}

	/* The first pair always goes in, so that a client progresses. */
	if (r->count > 0 &&
	    (r->used > r->maxbytes || plen > r->maxbytes - r->used))
		return (1);
	if (r->count == UINT32_MAX)
		return (1);

	if (KVPROTO_RANGE_HDRMAX + r->used + plen > r->cap) {
		ncap = r->cap * 2;
		while (KVPROTO_RANGE_HDRMAX + r->used + plen > ncap)
			ncap *= 2;
		if ((nbuf = realloc(r->buf, ncap)) == NULL) {
			warn0("kvproto_range_add: out of memory");
			return (-1);
		}
		r->buf = nbuf;
		r->cap = ncap;
	}
	p = r->buf + KVPROTO_RANGE_HDRMAX + r->used;
	p = put_field(p, key, keylen);
	put_field(p, value, valuelen);
	r->used += plen;
	r->count++;
	return (0);
}

/**
 * kvproto_range_count(r):
 * Number of pairs in ${r}.
 */
uint32_t
kvproto_range_count(const struct kvproto_range *r)
{

	return (r->count);
}

/**
 * kvproto_range_finish(r, next, nextlen, rec, reclen):
 * Write the header with ${next}; point ${rec} at the record.  0 or -1.
 */
int
kvproto_range_finish(struct kvproto_range *r, const uint8_t *next,
    size_t nextlen, const uint8_t **rec, size_t *reclen)
{
	size_t hlen = 4 + 4 + 1 + nextlen;
	uint8_t *p;

	if (nextlen > KVPROTO_MAXKV) {
		warn0("kvproto_range_finish: next key too long");
		return (-1);
	}
	p = r->buf + KVPROTO_RANGE_HDRMAX - hlen;
	*rec = p;
	*reclen = hlen + r->used;
	p = put_u32(p, 0);
	p = put_u32(p, r->count);
	put_field(p, next, nextlen);
	return (0);
}

/**
 * kvproto_range_free(r):
 * Free ${r}; no-op if NULL.
 */
void
kvproto_range_free(struct kvproto_range *r)
{

	if (r == NULL)
		return;
	free(r->buf);
	free(r);
}

/**
 * kvproto_pairs_next(pos, end, key, keylen, value, valuelen):
 * Read one pair at *${pos}.  1 read, 0 at ${end}, -1 malformed.
 */
int
kvproto_pairs_next(const uint8_t **pos, const uint8_t *end,
    const uint8_t **key, size_t *keylen, const uint8_t **value,
    size_t *valuelen)
{
	struct rd r;

	if (*pos == end)
		return (0);
	r.p = *pos;
	r.left = (size_t)(end - *pos);
	if (get_field(&r, KVPROTO_MAXKV, key, keylen) ||
	    get_field(&r, KVPROTO_MAXKV, value, valuelen))
		return (-1);
	*pos = r.p;
	return (1);
}

/**
 * kvproto_resp_parse(type, rec, len, resp):
 * Parse a response to a request of ${type} exactly.  0 or -1.
 */
int
kvproto_resp_parse(uint32_t type, const uint8_t *rec, size_t len,
    struct kvproto_resp *resp)
{
	struct rd r = { rec, len };
	const uint8_t *k, *v;
	size_t kl, vl;
	uint32_t i;

	memset(resp, 0, sizeof(*resp));
	resp->type = type;
	switch (type) {
	case KVPROTO_PARAMS:
		if (get_u32(&r, &resp->maxkey) || get_u32(&r, &resp->maxval))
			return (-1);
		break;
	case KVPROTO_SET:
	case KVPROTO_DELETE:
	case KVPROTO_SNAPSHOT_CLOSE:
		if (get_u32(&r, &resp->status) || resp->status != 0)
			return (-1);
		break;
	case KVPROTO_SNAPSHOT_OPEN:
		if (get_u32(&r, &resp->status) || resp->status > 1)
			return (-1);
		if (resp->status == 0 && get_u64(&r, &resp->snapid))
			return (-1);
		break;
	case KVPROTO_CAS:
	case KVPROTO_ADD:
	case KVPROTO_MODIFY:
	case KVPROTO_CAD:
		if (get_u32(&r, &resp->status) || resp->status > 1)
			return (-1);
		break;
	case KVPROTO_GET:
		if (get_u32(&r, &resp->status) || resp->status > 1)
			return (-1);
		if (resp->status == 0 && get_field(&r, KVPROTO_MAXKV,
		    &resp->value, &resp->valuelen))
			return (-1);
		break;
	case KVPROTO_RANGE:
	case KVPROTO_SNAPSHOT_RANGE:
		if (get_u32(&r, &resp->status) || resp->status > 1 ||
		    (type == KVPROTO_RANGE && resp->status != 0))
			return (-1);
		/* SNAPSHOT_RANGE status 1: unknown snapshot, nothing else. */
		if (resp->status == 1)
			break;
		if (get_u32(&r, &resp->count) ||
		    get_field(&r, KVPROTO_MAXKV, &resp->next, &resp->nextlen))
			return (-1);
		resp->pairs = r.p;
		for (i = 0; i < resp->count; i++)
			if (get_field(&r, KVPROTO_MAXKV, &k, &kl) ||
			    get_field(&r, KVPROTO_MAXKV, &v, &vl))
				return (-1);
		resp->pairslen = (size_t)(r.p - resp->pairs);
		break;
	default:
		return (-1);
	}

	/* Exact: no trailing bytes. */
	if (r.left != 0)
		return (-1);
	return (0);
}
