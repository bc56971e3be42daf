/*
 * Unit tests for the page-store interface (kvlds/pagestore.c) and its
 * local-disk backend (kvlds/pagestore_file.c): pagestore_read from other
 * threads while the loop appends batches that open new segments (the
 * segment table grows under the readers), and the s3:// dispatch refusing
 * a store without an endpoint.  The object-store backend itself is tested
 * against a real server by tests/integration/701-kvlds-s3.sh.
 */

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

#include "kvlds/node.h"
#include "kvlds/page.h"
#include "kvlds/pagestore.h"

#define PAGESIZE	4096
#define REC		200	/* Bytes of the record in each batch. */
#define NBATCH		3000
#define NREADERS	3

static struct pagestore *ps;
static uint64_t addrs[NBATCH];
static _Atomic size_t nwritten;
static _Atomic int stopping;
static _Atomic int badreads;
static _Atomic size_t nreads;

/* The record of batch ${i}: a header-sized prefix, then a pattern. */
static void
fillrec(uint8_t *p, size_t i, uint64_t addr)
{
	size_t j;

	memset(p, 0, REC);
	be32enc(&p[4], REC);
	be64enc(&p[8], addr);
	p[16] = PAGE_TYPE_NODE;
	for (j = NODE_HDR; j < REC; j++)
		p[j] = (uint8_t)(i * 31 + j);
}

/* Read random earlier batches' records and check them. */
static void *
reader(void *cookie)
{
	uint8_t *buf, want[REC];
	size_t n, i, len;
	unsigned int seed = (unsigned int)(uintptr_t)cookie;

	if ((buf = malloc(PAGESIZE)) == NULL)
		return (NULL);
	while (!stopping) {
		if ((n = nwritten) == 0)
			continue;
		i = (size_t)rand_r(&seed) % n;
		if (pagestore_read(ps, addrs[i], buf, &len) != 0 ||
		    len < REC) {
			badreads++;
			continue;
		}
		fillrec(want, i, addrs[i]);
		if (memcmp(buf, want, REC) != 0)
			badreads++;
		nreads++;
	}
	free(buf);
	return (NULL);
}

static void
test_concurrent_reads(void)
{
	char dir[] = "/tmp/test_pagestore.XXXXXX", cmd[128];
	struct page_commit c;
	pthread_t thr[NREADERS];
	uint8_t batch[REC + PAGE_COMMIT_LEN];
	size_t i, nseg, seen, spins;
	uint64_t addr, bytes;
	int t;

	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	pagestore_set_nosync(1);
	/* 8 KiB segments: a new one every 30 batches, 100 in all. */
	pagestore_set_segsize(8 * 1024);
	CU_ASSERT_FATAL((ps = pagestore_open(dir, PAGESIZE, &c)) != NULL);
	for (t = 0; t < NREADERS; t++)
		CU_ASSERT_FATAL(pthread_create(&thr[t], NULL, reader,
		    (void *)(uintptr_t)(t + 1)) == 0);
	for (i = 0; i < NBATCH; i++) {
		CU_ASSERT_FATAL((addr = pagestore_reserve(ps, sizeof(batch)))
		    != 0);
		fillrec(batch, i, addr);
		c.seq++;
		c.root = addr;
		c.bstart = addr;
		c.bend = addr + sizeof(batch);
		page_commit_encode(&c, addr + REC, &batch[REC]);
		CU_ASSERT_FATAL(pagestore_write(ps, batch, sizeof(batch),
		    addr) == 0);
		addrs[i] = addr;
		nwritten = i + 1;
		/* Let the readers in now and then (a loaded machine). */
		if (i % 100 == 99) {
			seen = nreads;
			for (spins = 0; nreads == seen && spins < 100000;
			    spins++)
				sched_yield();
		}
	}
	stopping = 1;
	for (t = 0; t < NREADERS; t++)
		pthread_join(thr[t], NULL);
	CU_ASSERT(badreads == 0);
	CU_ASSERT(nreads > 0);
	pagestore_stats(ps, &nseg, &bytes);
	CU_ASSERT(nseg > 90);
	pagestore_close(ps);
	pagestore_set_segsize(16 * 1024 * 1024);
	pagestore_set_nosync(0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CU_ASSERT(system(cmd) == 0);
}

static void
test_s3_needs_endpoint(void)
{
	struct page_commit c;

	CU_ASSERT(pagestore_is_s3("s3://bucket/prefix"));
	CU_ASSERT(!pagestore_is_s3("/var/db/kvlds"));
	pagestore_set_s3(NULL);
	CU_ASSERT(pagestore_open("s3://bucket/prefix", PAGESIZE, &c) ==
	    NULL);
}

UNIT_MAIN("pagestore",
    { "pagestore_read from other threads while segments are added",
	test_concurrent_reads },
    { "an s3:// store needs an endpoint", test_s3_needs_endpoint })
