/*
 * pagestore_s3: the object-store backend of the page store (see
 * pagestore.h).  Not built yet: opening an s3:// store fails.
 */

#include <stddef.h>
#include <stdint.h>

#include "log/log.h"

#include "page.h"
#include "pagestore.h"
#include "pagestore_impl.h"

/**
 * pagestore_s3_open(url, pagesize, segsize, conf, c):
 * Open an object store.
 */
struct pagestore *
pagestore_s3_open(const char *url, size_t pagesize, size_t segsize,
    const struct pagestore_s3_conf *conf, struct page_commit *c)
{

	(void)pagesize;
	(void)segsize;
	(void)conf;
	(void)c;
	warn0("%s: object stores are not supported yet", url);
	return (NULL);
}
