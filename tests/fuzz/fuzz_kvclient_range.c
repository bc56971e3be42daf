/*
 * Fuzz target: the client library reading whatever a server sends.  A
 * client connected over a socketpair gets a valid PARAMS answer, sends a
 * GET, a RANGE walk (kvclient_range_all), a SET and a CAS, and then reads
 * the fuzz input as the server's byte stream followed by end of file.
 * Whatever the bytes, every callback must fire exactly once (with a
 * result or KVCLIENT_FAIL) and nothing may crash or leak.
 *
 * Request IDs are (sequence << 32) | slot, so the seeds can answer them:
 * PARAMS 0x100000000, then (PARAMS's slot 0 being free again) GET
 * 0x200000000, RANGE 0x300000001, SET 0x400000002, CAS 0x500000003, and
 * a RANGE continuation 0x600000001.
 */
// SOURCES: lib/kvclient/kvclient.c lib/kvclient/kvclient_transport.c
// SOURCES: lib/kvproto/kvproto.c lib/packet/packet.c
// SOURCES: lib/crc32c/crc32c.c lib/crc32c/crc32c_sse42.c lib/log/log.c
// SOURCES: lib/sock/sock.c lib/parse/parse.c lib/proto/proto_crypt.c
// SOURCES: lib/proto/proto_handshake.c lib/proto/proto_pump.c
// SOURCES: lib/pcrypt/pcrypt_aes.c lib/pcrypt/pcrypt_dh.c
// SOURCES: lib/pcrypt/pcrypt_hash.c
// LIBS: -levent -lcrypto -lpthread
#include <sys/socket.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "kvclient/kvclient.h"
#include "kvproto/kvproto.h"
#include "packet/packet.h"

#define MAXIN	65536

static int ncalls[5];

static void
statuscb(void *cookie, int status)
{
	int *n = cookie;

	if (status != KVCLIENT_OK && status != KVCLIENT_NO &&
	    status != KVCLIENT_FAIL)
		abort();
	(*n)++;
}

static void
getcb(void *cookie, int status, const uint8_t *v, size_t vl)
{
	volatile uint8_t x = 0;
	size_t i;

	if ((status == KVCLIENT_OK) != (v != NULL) && vl > 0)
		abort();
	for (i = 0; v != NULL && i < vl; i++)
		x ^= v[i];
	statuscb(cookie, status);
}

static int
paircb(void *cookie, const uint8_t *k, size_t kl, const uint8_t *v,
    size_t vl)
{
	volatile uint8_t x = 0;
	size_t i;

	(void)cookie;
	if (kl > 255 || vl > 255)
		abort();
	for (i = 0; i < kl; i++)
		x ^= k[i];
	for (i = 0; i < vl; i++)
		x ^= v[i];
	return (0);
}

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	uint8_t pkt[64], rec[8];
	struct event_base *base;
	struct kvclient *K;
	size_t n, off;
	ssize_t w;
	int fd[2], i;

	if (len > MAXIN)
		return (0);
	memset(ncalls, 0, sizeof(ncalls));
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fd))
		abort();
	/* The PARAMS answer, then the input, then end of file. */
	n = kvproto_resp_params(rec, 255, 255);
	n = packet_encode(pkt, (uint64_t)1 << 32, rec, n);
	if (write(fd[1], pkt, n) != (ssize_t)n)
		abort();
	base = event_base_new();
	if ((K = kvclient_open_fd(base, fd[0], NULL)) == NULL)
		abort();
	if (kvclient_get(K, (const uint8_t *)"k", 1, getcb, &ncalls[0]) ||
	    kvclient_range_all(K, NULL, 0, NULL, 0, 4096, paircb, statuscb,
	    &ncalls[1]) ||
	    kvclient_set(K, (const uint8_t *)"k", 1, (const uint8_t *)"v", 1,
	    statuscb, &ncalls[2]) ||
	    kvclient_cas(K, (const uint8_t *)"k", 1, (const uint8_t *)"v", 1,
	    (const uint8_t *)"w", 1, statuscb, &ncalls[3]))
		abort();
	fcntl(fd[1], F_SETFL, O_NONBLOCK);
	for (off = 0; off < len; off += (size_t)w) {
		if ((w = write(fd[1], data + off, len - off)) <= 0)
			break;
	}
	shutdown(fd[1], SHUT_WR);
	(void)kvclient_wait(K, 0);
	if (kvclient_pending(K) != 0)
		abort();
	for (i = 0; i < 4; i++)
		if (ncalls[i] != 1)
			abort();
	kvclient_free(K);
	event_base_free(base);
	close(fd[1]);
	return (0);
}
