/*
 * kvlds packet framing: encoding, parsing from a flat buffer, and the
 * evbuffer reader and writer built on them.
 */

#include <stdint.h>
#include <string.h>

#include <event2/buffer.h>

#include "crc32c/crc32c.h"
#include "log/log.h"
#include "sysendian/sysendian.h"

#include "packet.h"

/* Write header and trailer around a record already at buf + 16. */
static void
seal(uint8_t *buf, uint64_t id, size_t reclen)
{
	uint32_t hcrc;

	be64enc(buf, id);
	buf[8] = (uint8_t)(reclen >> 24);
	buf[9] = (uint8_t)(reclen >> 16);
	buf[10] = (uint8_t)(reclen >> 8);
	buf[11] = (uint8_t)reclen;
	hcrc = crc32c(buf, 12);
	crc32c_le32enc(&buf[12], hcrc);
	crc32c_le32enc(&buf[PACKET_HDRLEN + reclen],
	    crc32c(&buf[PACKET_HDRLEN], reclen) ^ hcrc);
}

/**
 * packet_encode(buf, id, rec, reclen):
 * Write the packet (${id}, ${rec}) into ${buf}; return its length.
 */
size_t
packet_encode(uint8_t *buf, uint64_t id, const uint8_t *rec, size_t reclen)
{

	if (reclen > 0 && rec != buf + PACKET_HDRLEN)
		memmove(buf + PACKET_HDRLEN, rec, reclen);
	seal(buf, id, reclen);
	return (reclen + PACKET_OVERHEAD);
}

/* Check the header at buf (16 bytes); set *reclen.  0 or PACKET_E*. */
static int
check_header(const uint8_t *buf, size_t maxrec, uint32_t *hcrc,
    size_t *reclen)
{

	*hcrc = crc32c(buf, 12);
	if (*hcrc != le32dec(&buf[12]))
		return (PACKET_EHDRCRC);
	*reclen = be32dec(&buf[8]);
	if (*reclen > maxrec)
		return (PACKET_ETOOLONG);
	return (0);
}

/**
 * packet_parse(buf, len, maxrec, id, rec, reclen):
 * Parse the packet at the head of ${buf}: PACKET_OK, PACKET_NEEDMORE or a
 * negative PACKET_E* protocol error.
 */
int
packet_parse(const uint8_t *buf, size_t len, size_t maxrec, uint64_t *id,
    const uint8_t **rec, size_t *reclen)
{
	uint32_t hcrc;
	size_t rlen;
	int rc;

	if (len < PACKET_HDRLEN)
		return (PACKET_NEEDMORE);
	if ((rc = check_header(buf, maxrec, &hcrc, &rlen)) != 0)
		return (rc);
	if (len - PACKET_HDRLEN < rlen + 4)
		return (PACKET_NEEDMORE);
	if ((crc32c(&buf[PACKET_HDRLEN], rlen) ^ hcrc) !=
	    le32dec(&buf[PACKET_HDRLEN + rlen]))
		return (PACKET_ERECCRC);
	*id = be64dec(buf);
	*rec = &buf[PACKET_HDRLEN];
	*reclen = rlen;
	return (PACKET_OK);
}

/**
 * packet_evpeek(in, maxrec, id, rec, reclen):
 * As packet_parse() over the head of ${in}, without removing anything.
 */
int
packet_evpeek(struct evbuffer *in, size_t maxrec, uint64_t *id,
    const uint8_t **rec, size_t *reclen)
{
	uint8_t hdr[PACKET_HDRLEN];
	struct evbuffer_iovec v;
	const uint8_t *p;
	size_t have, rlen, plen;
	uint32_t hcrc;
	int rc;

	if ((have = evbuffer_get_length(in)) < PACKET_HDRLEN)
		return (PACKET_NEEDMORE);
	v.iov_base = NULL;
	v.iov_len = 0;

	/* Look at the header where it lies, or copy its 16 bytes out. */
	if (evbuffer_peek(in, PACKET_HDRLEN, NULL, &v, 1) == 1 &&
	    v.iov_len >= PACKET_HDRLEN)
		p = v.iov_base;
	else {
		if (evbuffer_copyout(in, hdr, PACKET_HDRLEN) != PACKET_HDRLEN)
			return (PACKET_NEEDMORE);
		p = hdr;
	}
	if ((rc = check_header(p, maxrec, &hcrc, &rlen)) != 0)
		return (rc);
	plen = rlen + PACKET_OVERHEAD;
	if (have < plen)
		return (PACKET_NEEDMORE);

	/* Make the packet contiguous: free unless it straddles chunks. */
	if (v.iov_len < plen) {
		if ((p = evbuffer_pullup(in, (ev_ssize_t)plen)) == NULL) {
			warn0("packet_evpeek: out of memory");
			return (PACKET_ENOMEM);
		}
	} else
		p = v.iov_base;
	if ((crc32c(&p[PACKET_HDRLEN], rlen) ^ hcrc) !=
	    le32dec(&p[PACKET_HDRLEN + rlen]))
		return (PACKET_ERECCRC);
	*id = be64dec(p);
	*rec = &p[PACKET_HDRLEN];
	*reclen = rlen;
	return (PACKET_OK);
}

/**
 * packet_evdrain(in, reclen):
 * Remove the packet with record length ${reclen} from the head of ${in}.
 */
void
packet_evdrain(struct evbuffer *in, size_t reclen)
{

	evbuffer_drain(in, reclen + PACKET_OVERHEAD);
}

/**
 * packet_evread(in, maxrec, cb, cookie):
 * Hand every whole packet at the head of ${in} to ${cb}.
 */
int
packet_evread(struct evbuffer *in, size_t maxrec,
    int (*cb)(void *, uint64_t, const uint8_t *, size_t), void *cookie)
{
	const uint8_t *rec;
	uint64_t id;
	size_t reclen;
	int rc;

	for (;;) {
		rc = packet_evpeek(in, maxrec, &id, &rec, &reclen);
		if (rc == PACKET_NEEDMORE)
			return (0);
		if (rc < 0)
			return (-1);
		rc = cb(cookie, id, rec, reclen);
		if (rc != 0 && rc != 1)
			return (-1);
		packet_evdrain(in, reclen);
		if (rc == 1)
			return (1);
	}
}

/**
 * packet_evwrite(out, id, rec, reclen):
 * Append the packet (${id}, ${rec}) to ${out}.  0 or -1.
 */
int
packet_evwrite(struct evbuffer *out, uint64_t id, const uint8_t *rec,
    size_t reclen)
{
	struct evbuffer_iovec v;
	size_t plen = reclen + PACKET_OVERHEAD;

	if (evbuffer_reserve_space(out, (ev_ssize_t)plen, &v, 1) != 1 ||
	    v.iov_len < plen) {
		warn0("packet_evwrite: out of memory");
		return (-1);
	}
	packet_encode(v.iov_base, id, rec, reclen);
	v.iov_len = plen;
	if (evbuffer_commit_space(out, &v, 1) != 0) {
		warn0("packet_evwrite: commit failed");
		return (-1);
	}
	return (0);
}
