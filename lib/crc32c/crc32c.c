/*
 * CRC32C: runtime dispatch and the portable slicing-by-8 fallback.  The
 * SSE4.2 path lives in crc32c_sse42.c, compiled with -msse4.2.
 */

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "crc32c.h"
#include "crc32c_sse42.h"

/* The bit-reflected Castagnoli polynomial. */
#define POLY	0x82F63B78U

/*
 * table[0][b] is the state after feeding byte b into state 0; table[k][b]
 * is the state after feeding byte b then k zero bytes, so that eight
 * bytes can be folded at once (slicing-by-8).
 */
static uint32_t table[8][256];
static uint32_t (*update_fn)(uint32_t, const void *, size_t);
static const char *impl_name;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void
init(void)
{
	uint32_t c;
	int b, i, k;

	for (b = 0; b < 256; b++) {
		c = (uint32_t)b;
		for (i = 0; i < 8; i++)
			c = (c >> 1) ^ ((c & 1) ? POLY : 0);
		table[0][b] = c;
	}
	for (b = 0; b < 256; b++)
		for (k = 1; k < 8; k++)
			table[k][b] = (table[k - 1][b] >> 8) ^
			    table[0][table[k - 1][b] & 0xff];

	if (crc32c_sse42_available()) {
		crc32c_sse42_init();
		update_fn = crc32c_sse42_update;
		impl_name = "sse4.2";
	} else {
		update_fn = crc32c_update_sw;
		impl_name = "table";
	}
}

/**
 * crc32c_update_sw(state, buf, len):
 * As crc32c_update(), always using the portable table-driven code.
 */
uint32_t
crc32c_update_sw(uint32_t state, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t lo, hi;

	pthread_once(&once, init);

	/* Single bytes until p is 4-byte aligned, for cheap word loads. */
	while (len > 0 && ((uintptr_t)p & 3) != 0) {
		state = (state >> 8) ^ table[0][(state ^ *p++) & 0xff];
		len--;
	}
	while (len >= 8) {
		/* Little-endian loads, independent of the host order. */
		lo = state ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
		    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
		hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 |
		    (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
		state = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^
		    table[5][(lo >> 16) & 0xff] ^ table[4][lo >> 24] ^
		    table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^
		    table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len > 0) {
		state = (state >> 8) ^ table[0][(state ^ *p++) & 0xff];
		len--;
	}
	return (state);
}

/**
 * crc32c_update(state, buf, len):
 * Feed ${len} bytes at ${buf} into ${state}; return the new state.
 */
uint32_t
crc32c_update(uint32_t state, const void *buf, size_t len)
{

	pthread_once(&once, init);
	return (update_fn(state, buf, len));
}

/**
 * crc32c(buf, len):
 * Return crc32c_update(CRC32C_INIT, buf, len).
 */
uint32_t
crc32c(const void *buf, size_t len)
{

	return (crc32c_update(CRC32C_INIT, buf, len));
}

/**
 * crc32c_le32enc(out, state):
 * Store ${state} least-significant byte first.
 */
void
crc32c_le32enc(uint8_t out[4], uint32_t state)
{

	out[0] = (uint8_t)state;
	out[1] = (uint8_t)(state >> 8);
	out[2] = (uint8_t)(state >> 16);
	out[3] = (uint8_t)(state >> 24);
}

/**
 * crc32c_wire(buf, len, out):
 * Store crc32c(buf, len) in ${out}, least-significant byte first.
 */
void
crc32c_wire(const void *buf, size_t len, uint8_t out[4])
{

	crc32c_le32enc(out, crc32c(buf, len));
}

/**
 * crc32c_hw_available():
 * Return non-zero if crc32c_update_hw() may be called.
 */
int
crc32c_hw_available(void)
{

	return (crc32c_sse42_available());
}

/**
 * crc32c_update_hw(state, buf, len):
 * As crc32c_update(), always with SSE4.2; only if crc32c_hw_available().
 */
uint32_t
crc32c_update_hw(uint32_t state, const void *buf, size_t len)
{

	pthread_once(&once, init);
	return (crc32c_sse42_update(state, buf, len));
}

/**
 * crc32c_impl():
 * Return "sse4.2" or "table": the implementation crc32c_update() uses.
 */
const char *
crc32c_impl(void)
{

	pthread_once(&once, init);
	return (impl_name);
}
