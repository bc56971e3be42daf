/*
 * Locked, wiped memory for secrets.  Each allocation gets its own pages
 * (mmap) so that unlocking one never unlocks another's page: mlock does
 * not nest.  The first 16 bytes of the mapping record its size.
 */
#include <sys/mman.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>

#include "keyfile.h"
#include "keyfile_priv.h"

#define SECMEM_PREFIX	16

/**
 * keyfile_secmem_alloc(len):
 * Return ${len} zeroed bytes (len may be 0) in their own pages, locked in
 * RAM (mlock; best effort, silently skipped where not permitted) and
 * excluded from core dumps, or NULL on failure (error printed).
 */
void *
keyfile_secmem_alloc(size_t len)
{
	size_t total;
	uint8_t *base;

	if (len > SIZE_MAX - SECMEM_PREFIX) {
		keyfile_warnx("secure memory: %zu bytes is too much", len);
		return (NULL);
	}
	total = len + SECMEM_PREFIX;
	base = mmap(NULL, total, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED) {
		keyfile_warnx("secure memory: mmap of %zu bytes: %s", total,
		    strerror(errno));
		return (NULL);
	}
	/* Best effort: RLIMIT_MEMLOCK may forbid it for ordinary users. */
	(void)mlock(base, total);
#ifdef MADV_DONTDUMP
	(void)madvise(base, total, MADV_DONTDUMP);
#endif
	memcpy(base, &total, sizeof(total));
	return (base + SECMEM_PREFIX);
}

/**
 * keyfile_secmem_free(p):
 * Wipe (OPENSSL_cleanse), unlock and release memory from
 * keyfile_secmem_alloc.  keyfile_secmem_free(NULL) does nothing.
 */
void
keyfile_secmem_free(void *p)
{
	uint8_t *base;
	size_t total;

	if (p == NULL)
		return;
	base = (uint8_t *)p - SECMEM_PREFIX;
	memcpy(&total, base, sizeof(total));
	OPENSSL_cleanse(base, total);
	(void)munlock(base, total);
	(void)munmap(base, total);
}
