#ifndef CRC32C_SSE42_H_
#define CRC32C_SSE42_H_

#include <stddef.h>
#include <stdint.h>

/*
 * Internal to lib/crc32c: the SSE4.2 implementation, in its own file so
 * that only it is compiled for SSE4.2.  On other architectures
 * crc32c_sse42_available() returns 0 and the others must not be called.
 */

/**
 * crc32c_sse42_available():
 * Return non-zero if the CPU has the SSE4.2 crc32 instruction.
 */
int crc32c_sse42_available(void);

/**
 * crc32c_sse42_init():
 * Build the stream-combining tables.  Called once (under pthread_once by
 * crc32c.c) before crc32c_sse42_update(), and only if available.
 */
void crc32c_sse42_init(void);

/**
 * crc32c_sse42_update(state, buf, len):
 * As crc32c_update(), with the crc32 instruction over three interleaved
 * streams.
 */
uint32_t crc32c_sse42_update(uint32_t, const void *, size_t);

#endif /* !CRC32C_SSE42_H_ */
