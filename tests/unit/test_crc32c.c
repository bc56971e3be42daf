/*
 * Unit tests for lib/crc32c: the protocol's vectors on every
 * implementation, and the SSE4.2 path against the table at every length
 * 0..1000 and every misalignment.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c/crc32c.h"

#include "unit.h"

struct vec {
	const char *in;
	size_t len;
	uint8_t wire[4];
};

static const uint8_t zeros[32];

/* From the kvlds protocol: input -> the 4 bytes on the wire. */
static const struct vec vecs[] = {
	{ "", 0, { 0x78, 0x3b, 0xf6, 0x82 } },
	{ "hello world", 11, { 0xca, 0x13, 0x0b, 0xaa } },
	{ "123456789", 9, { 0x04, 0x91, 0xfc, 0x22 } },
	{ NULL, 12, { 0x18, 0xea, 0xb8, 0x18 } },
	{ NULL, 32, { 0x1d, 0x53, 0x25, 0x9c } },
};

static void
check_vectors(uint32_t (*fn)(uint32_t, const void *, size_t))
{
	const uint8_t *in;
	uint8_t out[4];
	size_t i, cut;
	uint32_t s;

	for (i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		in = vecs[i].in ? (const uint8_t *)vecs[i].in : zeros;
		crc32c_le32enc(out, fn(CRC32C_INIT, in, vecs[i].len));
		CU_ASSERT(memcmp(out, vecs[i].wire, 4) == 0);

		/* Chaining over any split gives the same state. */
		for (cut = 0; cut <= vecs[i].len; cut++) {
			s = fn(CRC32C_INIT, in, cut);
			s = fn(s, in + cut, vecs[i].len - cut);
			crc32c_le32enc(out, s);
			CU_ASSERT(memcmp(out, vecs[i].wire, 4) == 0);
		}
	}
}

static void
test_vectors_dispatch(void)
{
	uint8_t out[4];
	size_t i;

	check_vectors(crc32c_update);
	for (i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		crc32c_wire(vecs[i].in ? vecs[i].in : (const void *)zeros,
		    vecs[i].len, out);
		CU_ASSERT(memcmp(out, vecs[i].wire, 4) == 0);
	}
	CU_ASSERT(crc32c(NULL, 0) == CRC32C_INIT);
	CU_ASSERT(crc32c_impl() != NULL);
	if (crc32c_hw_available())
		CU_ASSERT_STRING_EQUAL(crc32c_impl(), "sse4.2");
}

static void
test_vectors_sw(void)
{

	check_vectors(crc32c_update_sw);
}

static void
test_vectors_hw(void)
{

	if (!crc32c_hw_available())
		return;
	check_vectors(crc32c_update_hw);
}

/* Deterministic pseudo-random bytes (xorshift). */
static void
fill(uint8_t *buf, size_t len, uint64_t seed)
{
	size_t i;

	for (i = 0; i < len; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		buf[i] = (uint8_t)(seed >> 32);
	}
}

static void
test_random_paths(void)
{
	uint8_t *buf;
	size_t len, off;
	uint32_t a, b;
	int bad = 0;

	if (!crc32c_hw_available())
		return;
	CU_ASSERT_FATAL((buf = malloc(1000 + 16)) != NULL);
	fill(buf, 1000 + 16, 42);
	for (off = 0; off < 16; off++) {
		for (len = 0; len <= 1000; len++) {
			a = crc32c_update_sw(CRC32C_INIT, buf + off, len);
			b = crc32c_update_hw(CRC32C_INIT, buf + off, len);
			if (a != b)
				bad++;
			/* Any starting state, too. */
			a = crc32c_update_sw((uint32_t)len * 2654435761U,
			    buf + off, len);
			b = crc32c_update_hw((uint32_t)len * 2654435761U,
			    buf + off, len);
			if (a != b)
				bad++;
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	free(buf);
}

/* Lengths that reach the long three-way blocks and their remainders. */
static void
test_long_buffers(void)
{
	static const size_t lens[] = { 767, 768, 769, 24575, 24576, 24577,
	    65536, 65536 + 3, 3 * 24576 + 768 + 13, 200000 };
	uint8_t *buf;
	size_t i, off;
	uint32_t a, b, c;

	CU_ASSERT_FATAL((buf = malloc(200000 + 8)) != NULL);
	fill(buf, 200000 + 8, 7);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (off = 0; off < 8; off += 3) {
			a = crc32c_update_sw(CRC32C_INIT, buf + off, lens[i]);
			c = crc32c_update(CRC32C_INIT, buf + off, lens[i]);
			CU_ASSERT_EQUAL(a, c);
			if (!crc32c_hw_available())
				continue;
			b = crc32c_update_hw(CRC32C_INIT, buf + off, lens[i]);
			CU_ASSERT_EQUAL(a, b);
		}
	}
	free(buf);
}

UNIT_MAIN("crc32c",
    { "spec vectors (dispatch)", test_vectors_dispatch },
    { "spec vectors (table)", test_vectors_sw },
    { "spec vectors (sse4.2)", test_vectors_hw },
    { "paths agree, lengths 0..1000, misaligned", test_random_paths },
    { "paths agree, long buffers", test_long_buffers })
