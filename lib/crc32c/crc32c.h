#ifndef CRC32C_H_
#define CRC32C_H_

#include <stddef.h>
#include <stdint.h>

/*
 * CRC32C as the kvlds protocol uses it: the Castagnoli polynomial
 * 0x1EDC6F41 in bit-reflected form (0x82F63B78), the per-byte update of
 * the SSE4.2 crc32 instruction, an initial state of 0x82F63B78 (as if a
 * single 1 bit had been fed in first) and no final XOR.  On the wire the
 * 32-bit state is written least-significant byte first.
 *
 * The "raw" update below neither inverts nor XORs anything, so it is
 * linear: crc32c_update(s, A || B) == crc32c_update(crc32c_update(s, A), B)
 * and states computed over pieces may be chained freely.
 *
 * The implementation is chosen once at run time: the SSE4.2 instruction
 * (three interleaved streams) when the CPU has it, else a portable
 * slicing-by-8 table.  Every function is thread-safe.
 */

/* The initial state of the protocol's CRC. */
#define CRC32C_INIT	0x82F63B78U

/**
 * crc32c_update(state, buf, len):
 * Feed the ${len} bytes at ${buf} into the CRC state ${state} and return
 * the new state.  No initial or final transformation is applied; start
 * from CRC32C_INIT for the protocol's CRC.  ${buf} may be NULL when ${len}
 * is 0.  Cannot fail.
 */
uint32_t crc32c_update(uint32_t, const void *, size_t);

/**
 * crc32c(buf, len):
 * Return the protocol CRC state of the ${len} bytes at ${buf}, that is
 * crc32c_update(CRC32C_INIT, buf, len).
 */
uint32_t crc32c(const void *, size_t);

/**
 * crc32c_wire(buf, len, out):
 * Compute crc32c(buf, len) and store it in ${out} as it goes on the
 * wire: least-significant byte first.
 */
void crc32c_wire(const void *, size_t, uint8_t[4]);

/**
 * crc32c_le32enc(out, state):
 * Store ${state} in ${out} least-significant byte first.
 */
void crc32c_le32enc(uint8_t[4], uint32_t);

/**
 * crc32c_update_sw(state, buf, len):
 * As crc32c_update(), always using the portable table-driven code.
 * Exposed for tests and benchmarks.
 */
uint32_t crc32c_update_sw(uint32_t, const void *, size_t);

/**
 * crc32c_hw_available():
 * Return non-zero if this CPU can run crc32c_update_hw().
 */
int crc32c_hw_available(void);

/**
 * crc32c_update_hw(state, buf, len):
 * As crc32c_update(), always using the SSE4.2 instruction.  Must only be
 * called when crc32c_hw_available() returned non-zero (the result is
 * undefined, most likely SIGILL, otherwise).  Exposed for tests and
 * benchmarks.
 */
uint32_t crc32c_update_hw(uint32_t, const void *, size_t);

/**
 * crc32c_impl():
 * Return a static string naming the implementation crc32c_update() uses:
 * "sse4.2" or "table".
 */
const char * crc32c_impl(void);

#endif /* !CRC32C_H_ */
