#ifndef SYSENDIAN_H_
#define SYSENDIAN_H_

/*
 * sysendian: fixed-width integers to and from byte strings in big- and
 * little-endian order, whatever the host's order and alignment.  Static
 * inline (they sit on the packet paths); the names are the conventional
 * ones of libcperciva's sysendian.h and of BSD <sys/endian.h>, so this
 * header stands in for either.
 *
 * be32enc(p, x), be64enc(p, x): write ${x} into the 4 or 8 bytes at ${p},
 * most significant byte first.
 * be32dec(p), be64dec(p): read the 4 or 8 bytes at ${p}, most significant
 * first.
 * le32dec(p): read the 4 bytes at ${p}, least significant first.
 */

#include <stdint.h>

static inline void
be32enc(uint8_t *p, uint32_t x)
{

	p[0] = (uint8_t)(x >> 24);
	p[1] = (uint8_t)(x >> 16);
	p[2] = (uint8_t)(x >> 8);
	p[3] = (uint8_t)x;
}

static inline void
be64enc(uint8_t *p, uint64_t x)
{

	be32enc(p, (uint32_t)(x >> 32));
	be32enc(p + 4, (uint32_t)x);
}

static inline uint32_t
be32dec(const uint8_t *p)
{

	return (((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | (uint32_t)p[3]);
}

static inline uint64_t
be64dec(const uint8_t *p)
{

	return (((uint64_t)be32dec(p) << 32) | be32dec(p + 4));
}

static inline uint32_t
le32dec(const uint8_t *p)
{

	return ((uint32_t)p[0] | ((uint32_t)p[1] << 8) |
	    ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24));
}

#endif /* !SYSENDIAN_H_ */
