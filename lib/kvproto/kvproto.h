#ifndef KVPROTO_H_
#define KVPROTO_H_

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * The kvlds record codec: request and response records of the kivaloo
 * kvlds protocol (the payload of a packet, see packet.h).  All integers
 * are big-endian; keys and values are a 1-byte length then that many
 * bytes.
 *
 *	request	type		after the type		response
 *	PARAMS	0x00000100	-			maxkey(4) maxval(4)
 *	SET	0x00000110	key value		status 0
 *	CAS	0x00000111	key oldval value	status 0 done / 1 not
 *	ADD	0x00000112	key value		status 0 added / 1 existed
 *	MODIFY	0x00000113	key value		status 0 done / 1 absent
 *	DELETE	0x00000120	key			status 0
 *	CAD	0x00000121	key oldval		status 0 done / 1 not
 *	GET	0x00000130	key			status 0 value / status 1
 *	RANGE	0x00000131	maxbytes(4) start end	status 0, count(4),
 *							next, count x (key value)
 *
 * and the snapshot extension (kvlds/PROTOCOL.md; never sent to a kivaloo
 * server unless the caller asks):
 *
 *	SNAPSHOT_OPEN	0x00000200	-		status 0 snapid(8) /
 *							status 1 (limit reached)
 *	SNAPSHOT_RANGE	0x00000201	snapid(8) maxbytes(4) start end
 *							as RANGE / status 1
 *							(unknown snapshot)
 *	SNAPSHOT_CLOSE	0x00000202	snapid(8)	status 0
 *
 * Status codes are 4 bytes.  Parsers are exact: a record that is short,
 * has trailing bytes, an unknown type, an out-of-range status or a field
 * over the limits is malformed.  Parsed structures point into the record
 * they were parsed from (nothing is copied; the record must outlive them).
 * Parsers never log: malformed input is the peer's fault and the caller
 * drops the connection.
 */

/* Request types. */
#define KVPROTO_PARAMS	0x00000100U
#define KVPROTO_SET	0x00000110U
#define KVPROTO_CAS	0x00000111U
#define KVPROTO_ADD	0x00000112U
#define KVPROTO_MODIFY	0x00000113U
#define KVPROTO_DELETE	0x00000120U
#define KVPROTO_CAD	0x00000121U
#define KVPROTO_GET	0x00000130U
#define KVPROTO_RANGE	0x00000131U
#define KVPROTO_SNAPSHOT_OPEN	0x00000200U
#define KVPROTO_SNAPSHOT_RANGE	0x00000201U
#define KVPROTO_SNAPSHOT_CLOSE	0x00000202U

/* Longest key or value the encoding can carry. */
#define KVPROTO_MAXKV	255

/* Longest valid request record: CAS with three 255-byte fields. */
#define KVPROTO_REQ_MAXLEN	(4 + 3 * (1 + KVPROTO_MAXKV))

/* Longest response record other than RANGE (GET: status, value). */
#define KVPROTO_RESP_MAXLEN	(4 + 1 + KVPROTO_MAXKV)

/* RANGE response: bytes before the pairs (status, count, next key). */
#define KVPROTO_RANGE_HDRMAX	(4 + 4 + 1 + KVPROTO_MAXKV)

/* Serialized size of one pair; the unit RANGE's max bytes counts in. */
#define KVPROTO_PAIRLEN(klen, vlen)	(2 + (size_t)(klen) + (size_t)(vlen))

/*
 * A request, parsed or to be encoded.  Which fields are meaningful
 * depends on the type:
 *	PARAMS	-
 *	SET, ADD, MODIFY	key, value
 *	CAS	key, oldval, value (the new value)
 *	DELETE, GET	key
 *	CAD	key, oldval
 *	RANGE	maxbytes, key (the start key), end (empty = no end)
 *	SNAPSHOT_OPEN	-
 *	SNAPSHOT_RANGE	snapid, maxbytes, key, end (as RANGE)
 *	SNAPSHOT_CLOSE	snapid
 * The others are zeroed by kvproto_req_parse() and ignored by
 * kvproto_req_encode().  A pointer may be NULL when its length is 0.
 */
struct kvproto_req {
	uint32_t type;
	uint32_t maxbytes;
	const uint8_t *key;
	size_t keylen;
	const uint8_t *value;
	size_t valuelen;
	const uint8_t *oldval;
	size_t oldvallen;
	const uint8_t *end;
	size_t endlen;
	uint64_t snapid;
};

/*
 * A response, parsed by a client.  Fields by request type:
 *	PARAMS	maxkey, maxval (status is 0)
 *	SET, DELETE	status (always 0)
 *	CAS, ADD, MODIFY, CAD	status (0 or 1)
 *	GET	status; value, valuelen when status is 0
 *	RANGE	status (0), count, next, nextlen, pairs, pairslen (the
 *		count serialized pairs; walk them with kvproto_pairs_next())
 *	SNAPSHOT_OPEN	status (0 or 1); snapid when status is 0
 *	SNAPSHOT_RANGE	status (0 or 1); as RANGE when status is 0
 *	SNAPSHOT_CLOSE	status (always 0)
 */
struct kvproto_resp {
	uint32_t type;
	uint32_t status;
	uint32_t maxkey;
	uint32_t maxval;
	const uint8_t *value;
	size_t valuelen;
	uint32_t count;
	const uint8_t *next;
	size_t nextlen;
	const uint8_t *pairs;
	size_t pairslen;
	uint64_t snapid;
};

/* An opaque RANGE response under construction (server side). */
struct kvproto_range;

/**
 * kvproto_req_parse(rec, len, maxkey, maxval, req):
 * Parse the ${len}-byte request record ${rec} into ${req}, whose pointers
 * then point into ${rec}.  Keys (including RANGE's start and end) longer
 * than ${maxkey} and values (including CAS/CAD old values) longer than
 * ${maxval} are errors: pass the limits this server reports in PARAMS
 * (at most KVPROTO_MAXKV).  Return 0 on success or -1 if the record is
 * malformed (unknown type, short field, trailing bytes, over a limit);
 * ${req} is then unspecified.  Does not log.
 */
int kvproto_req_parse(const uint8_t *, size_t, size_t, size_t,
    struct kvproto_req *);

/**
 * kvproto_req_encode(req, buf, buflen):
 * Write the request record described by ${req} into the ${buflen} bytes at
 * ${buf} (KVPROTO_REQ_MAXLEN always suffice).  Return the record length,
 * or -1 (with a warning) if the type is unknown, a key or value is longer
 * than KVPROTO_MAXKV, or the buffer is too small.
 */
ssize_t kvproto_req_encode(const struct kvproto_req *, uint8_t *, size_t);

/**
 * kvproto_req_ismodifying(type):
 * Return non-zero if request ${type} modifies the store (SET, CAS, ADD,
 * MODIFY, DELETE, CAD), zero otherwise (the SNAPSHOT_* requests pin and
 * read a committed tree: they modify nothing).
 */
int kvproto_req_ismodifying(uint32_t);

/**
 * kvproto_resp_maxlen(req):
 * Return the length of the longest valid response record to the request
 * ${req}: the bound a client passes to packet_parse() for that response.
 * For RANGE this is KVPROTO_RANGE_HDRMAX plus the larger of maxbytes and
 * one largest pair (the server always returns at least one pair), and so
 * is SNAPSHOT_RANGE.
 * Returns 0 for an unknown type.
 */
size_t kvproto_resp_maxlen(const struct kvproto_req *);

/**
 * kvproto_resp_status(buf, status):
 * Write the 4-byte response record holding ${status} into ${buf}
 * (4 bytes).  Return 4.
 */
size_t kvproto_resp_status(uint8_t *, uint32_t);

/**
 * kvproto_resp_get(buf, value, valuelen):
 * Write a GET response record into ${buf} (KVPROTO_RESP_MAXLEN bytes
 * suffice): if ${value} is non-NULL, status 0 then the ${valuelen}-byte
 * value (${valuelen} <= KVPROTO_MAXKV); if NULL, status 1 (absent).
 * Return the record length.
 */
size_t kvproto_resp_get(uint8_t *, const uint8_t *, size_t);

/**
 * kvproto_resp_params(buf, maxkey, maxval):
 * Write the 8-byte PARAMS response record into ${buf}.  Return 8.
 */
size_t kvproto_resp_params(uint8_t *, uint32_t, uint32_t);

/**
 * kvproto_resp_snapopen(buf, snapid):
 * Write the 12-byte SNAPSHOT_OPEN response record (status 0, then the
 * 8-byte ${snapid}) into ${buf}.  Return 12.  (Status 1, no snapshot
 * available, is kvproto_resp_status(buf, 1).)
 */
size_t kvproto_resp_snapopen(uint8_t *, uint64_t);

/**
 * kvproto_range_init(maxbytes):
 * Start a RANGE response (status 0) whose pairs may total at most
 * ${maxbytes} serialized bytes (KVPROTO_PAIRLEN each), except that the
 * first pair is always accepted.  The caller has already capped
 * ${maxbytes} at its own limit.  Return the builder, which the caller
 * frees with kvproto_range_free(), or NULL (with a warning) on allocation
 * failure.
 */
struct kvproto_range * kvproto_range_init(size_t);

/**
 * kvproto_range_reset(r, maxbytes):
 * Empty the builder ${r} for a new response bounded by ${maxbytes},
 * keeping its memory.
 */
void kvproto_range_reset(struct kvproto_range *, size_t);

/**
 * kvproto_range_add(r, key, keylen, value, valuelen):
 * Append a pair (${keylen}, ${valuelen} <= KVPROTO_MAXKV) to the response
 * ${r} if it fits in the budget or is the first pair.  Return 0 if added;
 * 1 if it did not fit and was not added (the response is full: the caller
 * finishes with this key as "next"); -1 (with a warning) on allocation
 * failure or a field over KVPROTO_MAXKV.
 */
int kvproto_range_add(struct kvproto_range *, const uint8_t *, size_t,
    const uint8_t *, size_t);

/**
 * kvproto_range_count(r):
 * Return the number of pairs added to ${r} since it was started.
 */
uint32_t kvproto_range_count(const struct kvproto_range *);

/**
 * kvproto_range_finish(r, next, nextlen, rec, reclen):
 * Complete the response ${r} with the key ${next} (${nextlen} <=
 * KVPROTO_MAXKV; empty when the range is exhausted) and set ${rec} and
 * ${reclen} to the whole response record, which lives inside ${r} and
 * stays valid until ${r} is reset, added to or freed.  Return 0, or -1
 * (with a warning) if ${nextlen} is too long.
 */
int kvproto_range_finish(struct kvproto_range *, const uint8_t *, size_t,
    const uint8_t **, size_t *);

/**
 * kvproto_range_free(r):
 * Free the builder ${r}.  Does nothing if ${r} is NULL.
 */
void kvproto_range_free(struct kvproto_range *);

/**
 * kvproto_resp_parse(type, rec, len, resp):
 * Parse the ${len}-byte response record ${rec} to a request of type
 * ${type} into ${resp} (whose pointers then point into ${rec}).  The
 * status must be one the request can return; RANGE pairs must exactly
 * fill the record after the next key.  Callers should have bounded ${len}
 * with kvproto_resp_maxlen() at the framing layer.  Return 0 on success
 * or -1 if the record is malformed.  Does not log.
 */
int kvproto_resp_parse(uint32_t, const uint8_t *, size_t,
    struct kvproto_resp *);

/**
 * kvproto_pairs_next(pos, end, key, keylen, value, valuelen):
 * Read the pair at *${pos} (no further than ${end}), set the key and
 * value pointers and lengths, and advance *${pos} past it.  Return 1 if a
 * pair was read, 0 if *${pos} == ${end}, -1 if the bytes are not a whole
 * pair (cannot happen over the pairs of a parsed RANGE response).
 */
int kvproto_pairs_next(const uint8_t **, const uint8_t *, const uint8_t **,
    size_t *, const uint8_t **, size_t *);

#endif /* !KVPROTO_H_ */
