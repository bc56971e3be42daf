/*
 * CRC32C with the SSE4.2 crc32 instruction.
 *
 * The instruction has a latency of three cycles but a throughput of one
 * per cycle, so a single dependent chain of 8-byte steps runs at a third
 * of the possible speed.  Long buffers are therefore cut into three
 * consecutive blocks of equal length whose CRCs are computed as three
 * independent chains (the first from the incoming state, the other two
 * from 0) and then combined: since the raw update is linear,
 *
 *	crc(s, A || B) = shift(crc(s, A), |B|) ^ crc(0, B)
 *
 * where shift(c, n) is the state after feeding n zero bytes into c, a
 * linear map of c applied here with four 256-entry tables (one per byte
 * of c) for each of the two block lengths used.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "crc32c_sse42.h"

#if defined(__x86_64__) || defined(__i386__)

#include <nmmintrin.h>

#define TARGET	__attribute__((target("sse4.2")))

/* Block lengths of the three streams (multiples of 8). */
#define LONGBLK		((size_t)8192)
#define SHORTBLK	((size_t)256)

static uint32_t shift_long[4][256];
static uint32_t shift_short[4][256];

/* Feed one little-endian 8-byte word. */
static inline TARGET uint32_t
step64(uint32_t c, const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
	return ((uint32_t)_mm_crc32_u64(c, w));
}

static inline uint32_t
shift(const uint32_t t[4][256], uint32_t c)
{

	return (t[0][c & 0xff] ^ t[1][(c >> 8) & 0xff] ^
	    t[2][(c >> 16) & 0xff] ^ t[3][c >> 24]);
}

/* Build the tables of c -> shift(c, n) for n a multiple of 8. */
static TARGET void
build_shift(uint32_t t[4][256], size_t n)
{
	uint32_t img[32];
	uint32_t c;
	size_t i;
	int b, k, v;

	/* The image of each single bit: the map is linear. */
	for (b = 0; b < 32; b++) {
		c = (uint32_t)1 << b;
		for (i = 0; i < n; i += 8)
			c = (uint32_t)_mm_crc32_u64(c, 0);
		img[b] = c;
	}
	for (k = 0; k < 4; k++) {
		for (v = 0; v < 256; v++) {
			c = 0;
			for (b = 0; b < 8; b++)
				if (v & (1 << b))
					c ^= img[8 * k + b];
			t[k][v] = c;
		}
	}
}

/**
 * crc32c_sse42_available():
 * Return non-zero if the CPU has the SSE4.2 crc32 instruction.
 */
int
crc32c_sse42_available(void)
{

	__builtin_cpu_init();
	return (__builtin_cpu_supports("sse4.2"));
}

/**
 * crc32c_sse42_init():
 * Build the stream-combining tables.
 */
void
crc32c_sse42_init(void)
{

	build_shift(shift_long, LONGBLK);
	build_shift(shift_short, SHORTBLK);
}

/* Three interleaved streams over 3 * blk bytes at p. */
static inline TARGET uint32_t
three_way(uint32_t c0, const uint8_t *p, size_t blk,
    const uint32_t t[4][256])
{
	const uint8_t *end = p + blk;
	uint32_t c1 = 0, c2 = 0;

	do {
		c0 = step64(c0, p);
		c1 = step64(c1, p + blk);
		c2 = step64(c2, p + 2 * blk);
		p += 8;
	} while (p < end);
	c0 = shift(t, c0) ^ c1;
	return (shift(t, c0) ^ c2);
}

/**
 * crc32c_sse42_update(state, buf, len):
 * As crc32c_update(), with the crc32 instruction.
 */
TARGET uint32_t
crc32c_sse42_update(uint32_t c, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	/* Bytes until p is 8-byte aligned (for speed only). */
	while (len > 0 && ((uintptr_t)p & 7) != 0) {
		c = _mm_crc32_u8(c, *p++);
		len--;
	}
	while (len >= 3 * LONGBLK) {
		c = three_way(c, p, LONGBLK, shift_long);
		p += 3 * LONGBLK;
		len -= 3 * LONGBLK;
	}
	while (len >= 3 * SHORTBLK) {
		c = three_way(c, p, SHORTBLK, shift_short);
		p += 3 * SHORTBLK;
		len -= 3 * SHORTBLK;
	}
	while (len >= 8) {
		c = step64(c, p);
		p += 8;
		len -= 8;
	}
	while (len > 0) {
		c = _mm_crc32_u8(c, *p++);
		len--;
	}
	return (c);
}

#else /* !x86 */

int
crc32c_sse42_available(void)
{

	return (0);
}

void
crc32c_sse42_init(void)
{

}

uint32_t
crc32c_sse42_update(uint32_t c, const void *buf, size_t len)
{

	(void)buf;
	(void)len;
	return (c);
}

#endif
