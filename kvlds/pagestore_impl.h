#ifndef PAGESTORE_IMPL_H_
#define PAGESTORE_IMPL_H_

/*
 * pagestore_impl: what a page-store backend provides (internal to
 * pagestore*.c).  A backend's store structure starts with a struct
 * pagestore whose ops point at its functions; pagestore.c's entry points
 * (pagestore.h) call through them, with the same contracts.
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "page.h"
#include "pagestore.h"

/*
 * Log addresses: segment (file or object number) in the high 32 bits,
 * byte offset within it in the low 32.
 */
#define SEG(a)		((uint32_t)((a) >> 32))
#define OFF(a)		((uint32_t)(a))
#define ADDR(s, o)	(((uint64_t)(s) << 32) | (o))

struct pagestore_ops {
	int (*read)(struct pagestore *, uint64_t, uint8_t *, size_t *);
	void (*where)(struct pagestore *, uint64_t, char *, size_t);
	uint64_t (*reserve)(struct pagestore *, size_t);
	int (*write)(struct pagestore *, const uint8_t *, size_t, uint64_t);
	int (*next)(struct pagestore *, uint32_t, uint32_t *, uint64_t *);
	ssize_t (*readraw)(struct pagestore *, uint64_t, uint8_t *, size_t);
	int (*free)(struct pagestore *, uint32_t);
	size_t (*segsize)(struct pagestore *);
	void (*stats)(struct pagestore *, size_t *, uint64_t *);
	void (*statline)(struct pagestore *, char *, size_t);
	void (*close)(struct pagestore *);
	/* Optional (NULL: pagestore_read_nowait always says "would block"). */
	int (*read_nowait)(struct pagestore *, uint64_t, uint8_t *, size_t *);
};

struct pagestore {
	const struct pagestore_ops *ops;
};

/*
 * pagestore_commit_first(c, pagesize, rec):
 * Fill ${c} with commit 0 of a new store (an empty tree, seq 0, its batch
 * being just this record at the start of segment 1, ADDR(1, 0)) for
 * ${pagesize}-byte pages, and encode it into the PAGE_COMMIT_LEN bytes at
 * ${rec}.  Return the record's address.  Both backends start a new store
 * with this record.
 */
uint64_t pagestore_commit_first(struct page_commit *, size_t, uint8_t *);

/*
 * pagestore_file_open(dir, pagesize, segsize, nosync, c):
 * The local-disk backend (pagestore_file.c): as pagestore_open for a
 * data directory, with segments of ${segsize} bytes, without syncs if
 * ${nosync}.
 */
struct pagestore *pagestore_file_open(const char *, size_t, size_t, int,
    struct page_commit *);

/*
 * pagestore_s3_open(url, pagesize, segsize, conf, c):
 * The object-store backend (pagestore_s3.c): as pagestore_open for
 * ${url} = "s3://bucket/prefix", with the options ${conf} (NULL: none
 * were set, which is an error: an endpoint is needed).
 */
struct pagestore *pagestore_s3_open(const char *, size_t, size_t,
    const struct pagestore_s3_conf *, struct page_commit *);

#endif /* !PAGESTORE_IMPL_H_ */
