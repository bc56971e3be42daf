/*
 * wirebench: micro-benchmarks of the wire layer, on one core.
 *
 *	wirebench [-t seconds]
 *
 * prints the CRC32C throughput on 64 KiB buffers (SSE4.2 and table
 * paths), then how many packets per second packet_parse() and the
 * evbuffer reader take apart from a large in-memory buffer of packets with
 * 40-byte records (both CRCs checked for every packet).  Each figure is
 * measured for about the given time (0.5 s by default).
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "crc32c/crc32c.h"
#include "log/log.h"
#include "packet/packet.h"

#define CRCBUF		65536
#define RECLEN		40
#define NPACKETS	100000

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static volatile uint32_t sink;

static double
bench_crc(uint32_t (*fn)(uint32_t, const void *, size_t),
    const uint8_t *buf, double secs)
{
	double start, el;
	uint64_t n = 0;
	uint32_t c = 0;
	int i;

	start = now();
	do {
		for (i = 0; i < 64; i++)
			c ^= fn(CRC32C_INIT, buf, CRCBUF);
		n += 64;
	} while ((el = now() - start) < secs);
	sink = c;
	return ((double)n * CRCBUF / el / 1e9);
}

static double
bench_parse(const uint8_t *buf, size_t len, double secs)
{
	const uint8_t *rec;
	size_t off, reclen;
	double start, el;
	uint64_t id, n = 0;

	start = now();
	do {
		for (off = 0; off < len; off += reclen + PACKET_OVERHEAD) {
			if (packet_parse(buf + off, len - off, 772, &id, &rec,
			    &reclen) != PACKET_OK) {
				warn0("packet_parse failed at %zu", off);
				exit(1);
			}
			sink ^= (uint32_t)id ^ rec[0];
			n++;
		}
	} while ((el = now() - start) < secs);
	return ((double)n / el);
}

static int
count_cb(void *cookie, uint64_t id, const uint8_t *rec, size_t reclen)
{
	uint64_t *n = cookie;

	sink ^= (uint32_t)id ^ rec[0] ^ (uint32_t)reclen;
	(*n)++;
	return (0);
}

static double
bench_evread(const uint8_t *buf, size_t len, double secs)
{
	struct evbuffer *in;
	double el = 0, t;
	uint64_t n = 0;

	if ((in = evbuffer_new()) == NULL) {
		warn0("evbuffer_new failed");
		exit(1);
	}
	do {
		/* Filling the buffer is not timed. */
		if (evbuffer_add(in, buf, len)) {
			warn0("evbuffer_add failed");
			exit(1);
		}
		t = now();
		if (packet_evread(in, 772, count_cb, &n) != 0 ||
		    evbuffer_get_length(in) != 0) {
			warn0("packet_evread failed");
			exit(1);
		}
		el += now() - t;
	} while (el < secs);
	evbuffer_free(in);
	return ((double)n / el);
}

static double
bench_encode(uint8_t *buf, double secs)
{
	uint8_t rec[RECLEN];
	double start, el;
	uint64_t n = 0;
	size_t off;
	int i;

	memset(rec, 'r', sizeof(rec));
	start = now();
	do {
		off = 0;
		for (i = 0; i < NPACKETS; i++)
			off += packet_encode(buf + off, (uint64_t)i, rec,
			    RECLEN);
		n += NPACKETS;
	} while ((el = now() - start) < secs);
	return ((double)n / el);
}

int
main(int argc, char *argv[])
{
	uint8_t *crcbuf, *pkts;
	double secs = 0.5;
	size_t i, len;
	int ch;

	log_init(argv[0]);
	while ((ch = getopt(argc, argv, "t:")) != -1) {
		switch (ch) {
		case 't':
			secs = strtod(optarg, NULL);
			if (secs <= 0) {
				warn0("bad -t: %s", optarg);
				exit(1);
			}
			break;
		default:
			fprintf(stderr, "usage: wirebench [-t seconds]\n");
			exit(1);
		}
	}

	if ((crcbuf = malloc(CRCBUF)) == NULL ||
	    (pkts = malloc((size_t)NPACKETS *
	    (RECLEN + PACKET_OVERHEAD))) == NULL) {
		warnp("malloc");
		exit(1);
	}
	for (i = 0; i < CRCBUF; i++)
		crcbuf[i] = (uint8_t)(i * 2654435761U >> 24);

	printf("crc32c implementation in use: %s\n", crc32c_impl());
	if (crc32c_hw_available())
		printf("crc32c sse4.2, 64 KiB buffers: %.2f GB/s\n",
		    bench_crc(crc32c_update_hw, crcbuf, secs));
	else
		printf("crc32c sse4.2: not available on this CPU\n");
	printf("crc32c table, 64 KiB buffers: %.2f GB/s\n",
	    bench_crc(crc32c_update_sw, crcbuf, secs));

	printf("packet_encode, %d-byte records: %.2f M packets/s\n", RECLEN,
	    bench_encode(pkts, secs) / 1e6);
	len = (size_t)NPACKETS * (RECLEN + PACKET_OVERHEAD);
	printf("packet_parse, %d-byte records: %.2f M packets/s\n", RECLEN,
	    bench_parse(pkts, len, secs) / 1e6);
	printf("packet_evread, %d-byte records: %.2f M packets/s\n", RECLEN,
	    bench_evread(pkts, len, secs) / 1e6);

	free(pkts);
	free(crcbuf);
	return (0);
}
