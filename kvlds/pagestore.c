/*
 * pagestore: the engine's entry points, dispatching to the backend that
 * opened the store (pagestore_file.c or pagestore_s3.c; see pagestore.h).
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "page.h"
#include "pagestore.h"
#include "pagestore_impl.h"

static size_t segsize_default = 16 * 1024 * 1024;
static int nosync_default;
static const struct pagestore_s3_conf *s3conf;

/**
 * pagestore_set_segsize(bytes):
 * Set the segment size for stores opened later.
 */
void
pagestore_set_segsize(size_t sz)
{

	segsize_default = sz;
}

/**
 * pagestore_set_nosync(on):
 * Tests only: skip syncs in stores opened later.
 */
void
pagestore_set_nosync(int on)
{

	nosync_default = on;
}

/**
 * pagestore_set_s3(conf):
 * Options for s3:// stores opened later.
 */
void
pagestore_set_s3(const struct pagestore_s3_conf *conf)
{

	s3conf = conf;
}

/**
 * pagestore_is_s3(name):
 * Does ${name} name an object store?
 */
int
pagestore_is_s3(const char *name)
{

	return (strncmp(name, "s3://", 5) == 0);
}

/**
 * pagestore_open(dir, pagesize, c):
 * Open the backend ${dir} names, recover and return the store.
 */
struct pagestore *
pagestore_open(const char *dir, size_t pagesize, struct page_commit *c)
{

	if (pagestore_is_s3(dir))
		return (pagestore_s3_open(dir, pagesize, segsize_default,
		    s3conf, c));
	return (pagestore_file_open(dir, pagesize, segsize_default,
	    nosync_default, c));
}

/**
 * pagestore_read(ps, addr, buf, len):
 * Read up to a page at addr.
 */
int
pagestore_read(struct pagestore *ps, uint64_t addr, uint8_t *buf,
    size_t *len)
{

	return (ps->ops->read(ps, addr, buf, len));
}

/**
 * pagestore_read_nowait(ps, addr, buf, len):
 * Read a page only if no device wait is needed; 1 otherwise.
 */
int
pagestore_read_nowait(struct pagestore *ps, uint64_t addr, uint8_t *buf,
    size_t *len)
{

	if (ps->ops->read_nowait == NULL)
		return (1);
	return (ps->ops->read_nowait(ps, addr, buf, len));
}

/**
 * pagestore_where(ps, addr, buf, len):
 * Describe a log address.
 */
void
pagestore_where(struct pagestore *ps, uint64_t addr, char *buf, size_t len)
{

	ps->ops->where(ps, addr, buf, len);
}

/**
 * pagestore_reserve(ps, len):
 * Place the next batch.
 */
uint64_t
pagestore_reserve(struct pagestore *ps, size_t len)
{

	return (ps->ops->reserve(ps, len));
}

/**
 * pagestore_write(ps, buf, len, addr):
 * Write a batch durably.
 */
int
pagestore_write(struct pagestore *ps, const uint8_t *buf, size_t len,
    uint64_t addr)
{

	return (ps->ops->write(ps, buf, len, addr));
}

/**
 * pagestore_next(ps, after, seg, size):
 * The oldest segment above ${after} other than the current one.
 */
int
pagestore_next(struct pagestore *ps, uint32_t after, uint32_t *seg,
    uint64_t *size)
{

	return (ps->ops->next(ps, after, seg, size));
}

/**
 * pagestore_readraw(ps, addr, buf, len):
 * Read raw log bytes.
 */
ssize_t
pagestore_readraw(struct pagestore *ps, uint64_t addr, uint8_t *buf,
    size_t len)
{

	return (ps->ops->readraw(ps, addr, buf, len));
}

/**
 * pagestore_free(ps, seg):
 * Delete a segment the cleaner emptied.
 */
int
pagestore_free(struct pagestore *ps, uint32_t seg)
{

	return (ps->ops->free(ps, seg));
}

/**
 * pagestore_segsize(ps):
 * The segment size.
 */
size_t
pagestore_segsize(struct pagestore *ps)
{

	return (ps->ops->segsize(ps));
}

/**
 * pagestore_stats(ps, nseg, bytes):
 * Segment count and log bytes.
 */
void
pagestore_stats(struct pagestore *ps, size_t *nseg, uint64_t *bytes)
{

	ps->ops->stats(ps, nseg, bytes);
}

/**
 * pagestore_statline(ps, buf, len):
 * The backend's own counters.
 */
void
pagestore_statline(struct pagestore *ps, char *buf, size_t len)
{

	if (len > 0)
		buf[0] = '\0';
	if (ps->ops->statline != NULL)
		ps->ops->statline(ps, buf, len);
}

/**
 * pagestore_close(ps):
 * Close the store.
 */
void
pagestore_close(struct pagestore *ps)
{

	if (ps == NULL)
		return;
	ps->ops->close(ps);
}

uint64_t
pagestore_commit_first(struct page_commit *c, size_t pagesize, uint8_t *rec)
{
	uint64_t addr = ADDR(1, 0);

	c->seq = 0;
	c->root = 0;
	c->bstart = addr;
	c->bend = addr + PAGE_COMMIT_LEN;
	c->pagesize = (uint32_t)pagesize;
	c->treebytes = 0;
	page_commit_encode(c, addr, rec);
	return (addr);
}
