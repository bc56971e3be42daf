#ifndef PACKET_H_
#define PACKET_H_

#include <stddef.h>
#include <stdint.h>

struct evbuffer;

/*
 * kvlds packet framing (both directions):
 *
 *	offset	size	field
 *	0	8	request ID, big-endian
 *	8	4	record length L, big-endian
 *	12	4	CRC32C of bytes 0..11 (crc32c.h, least-significant
 *			byte first)
 *	16	L	record
 *	16+L	4	CRC32C of the record XOR the 4 bytes at offset 12,
 *			byte by byte
 *
 * Parsing never logs: a protocol error is the peer's fault, and the
 * caller decides what to say before it drops the connection.
 */

/* Bytes before the record, and total bytes of framing per packet. */
#define PACKET_HDRLEN		16
#define PACKET_OVERHEAD		20

/* Return values of packet_parse() and packet_evpeek(). */
#define PACKET_OK		1	/* A whole, valid packet. */
#define PACKET_NEEDMORE		0	/* A valid prefix; wait for more. */
#define PACKET_EHDRCRC		(-1)	/* Header CRC does not check. */
#define PACKET_ETOOLONG		(-2)	/* Record length over the maximum. */
#define PACKET_ERECCRC		(-3)	/* Record CRC does not check. */
#define PACKET_ENOMEM		(-4)	/* packet_evpeek(): out of memory. */

/**
 * packet_encode(buf, id, rec, reclen):
 * Write the packet carrying request ID ${id} and the ${reclen}-byte record
 * ${rec} into ${buf}, which must have room for ${reclen} + PACKET_OVERHEAD
 * bytes.  ${rec} may point anywhere, including ${buf} + PACKET_HDRLEN
 * (a record already in place is then left untouched) or inside ${buf}
 * (it is moved).  Return the packet length, ${reclen} + PACKET_OVERHEAD.
 * ${reclen} must be below 2^32.  Cannot fail.
 */
size_t packet_encode(uint8_t *, uint64_t, const uint8_t *, size_t);

/**
 * packet_parse(buf, len, maxrec, id, rec, reclen):
 * Look at the ${len} bytes at ${buf}, which start at a packet boundary.
 * If they begin with a whole valid packet whose record is at most
 * ${maxrec} bytes long, set ${id} to its request ID, ${rec} to point at
 * its record (inside ${buf}; nothing is copied) and ${reclen} to the
 * record length, and return PACKET_OK; the packet then occupies the first
 * ${reclen} + PACKET_OVERHEAD bytes of ${buf}.  Return PACKET_NEEDMORE if
 * the bytes are a valid proper prefix of such a packet (in particular any
 * length below PACKET_HDRLEN), or a negative PACKET_E* value on a
 * protocol error: the header is checked (CRC, then length) as soon as its
 * 16 bytes are present, the record CRC once the whole packet is.  Output
 * arguments are written only on PACKET_OK.
 */
int packet_parse(const uint8_t *, size_t, size_t, uint64_t *,
    const uint8_t **, size_t *);

/**
 * packet_evpeek(in, maxrec, id, rec, reclen):
 * As packet_parse() over the bytes at the head of the evbuffer ${in}.  On
 * PACKET_OK, ${rec} points into ${in}'s own memory (the packet is made
 * contiguous with evbuffer_pullup() if it straddles chunks, which copies
 * only that packet) and stays valid until ${in} is next modified; the
 * caller consumes the packet with packet_evdrain() when done with it.
 * Nothing is removed from ${in} by this function.  Call it in a loop from
 * a read callback to take every whole packet that has arrived.  Besides
 * packet_parse()'s values it may return PACKET_ENOMEM (with a warning) if
 * making the packet contiguous failed.
 */
int packet_evpeek(struct evbuffer *, size_t, uint64_t *, const uint8_t **,
    size_t *);

/**
 * packet_evdrain(in, reclen):
 * Remove from the head of ${in} the packet that packet_evpeek() just
 * returned with record length ${reclen}.
 */
void packet_evdrain(struct evbuffer *, size_t);

/**
 * packet_evread(in, maxrec, cb, cookie):
 * Take every whole packet at the head of ${in} in order: for each, call
 * ${cb}(${cookie}, id, rec, reclen), where ${rec} points into ${in} and is
 * valid only during the call.  If the callback returns 0 the packet is
 * drained and the loop goes on; if it returns 1 the packet is drained and
 * packet_evread() returns 1 at once (e.g. to stop reading under
 * back-pressure); if it returns anything else, packet_evread() returns -1
 * at once WITHOUT touching ${in} again (so the callback may free the
 * connection that owns ${in}).  Otherwise return 0 when the remaining
 * bytes are an incomplete packet, or -1 on a protocol error or
 * PACKET_ENOMEM (nothing more is drained; the caller should drop the
 * connection).  The callback must
 * not modify ${in}.
 */
int packet_evread(struct evbuffer *, size_t,
    int (*)(void *, uint64_t, const uint8_t *, size_t), void *);

/**
 * packet_evwrite(out, id, rec, reclen):
 * Append to the evbuffer ${out} the packet carrying ${id} and the
 * ${reclen}-byte record ${rec}, encoded straight into ${out}'s reserved
 * space (one copy of the record).  Return 0 on success, or -1 (with a
 * warning) if memory could not be allocated; ${out} is then unchanged.
 */
int packet_evwrite(struct evbuffer *, uint64_t, const uint8_t *, size_t);

#endif /* !PACKET_H_ */
