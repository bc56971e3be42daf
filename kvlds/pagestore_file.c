/*
 * pagestore_file: the local-disk backend of the page store: log segment
 * files, checkpoint slots and recovery in a data directory (see
 * pagestore.h).
 */

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crc32c/crc32c.h"
#include "log/log.h"

#include "node.h"
#include "page.h"
#include "pagestore.h"
#include "pagestore_impl.h"

#define SLOTSIZE	4096
#define SEGNAMELEN	32

struct psfile {
	struct pagestore base;	/* First: the ops. */
	char *dir;
	int dirfd;
	int lockfd;
	int ckfd;
	size_t pagesize;
	size_t segsize;
	/*
	 * Indexed by segment number; -1 = none.  Atomic: read by
	 * pagestore_read on any thread (getfd): setfd publishes a new table,
	 * then its size, with release stores.
	 */
	_Atomic(int *) fds;
	_Atomic uint32_t nfds;	/* entries in fds */
	int **oldfds;		/* Tables replaced by larger ones. */
	size_t noldfds;
	uint32_t nsegs;		/* segment files present */
	uint32_t curseg;	/* segment of end */
	uint64_t end;		/* where the next batch goes */
	int newseg;		/* the directory needs an fsync */
	int nosync;		/* tests: skip syncs */
	uint64_t bytes;		/* total log bytes */
};

static void file_close(struct pagestore *);
static const struct pagestore_ops file_ops;

/* fdatasync unless syncs are disabled. */
static int
datasync(struct psfile *ps, int fd)
{

	if (ps->nosync)
		return (0);
	return (fdatasync(fd));
}

static void
segname(char *buf, uint32_t seg)
{

	snprintf(buf, SEGNAMELEN, "seg-%08" PRIx32, seg);
}

/*
 * file_where(ps, addr, buf, len):
 * Describe a log address.
 */
static void
file_where(struct pagestore *base, uint64_t addr, char *buf, size_t len)
{
	struct psfile *ps = (struct psfile *)base;
	char name[SEGNAMELEN];

	segname(name, SEG(addr));
	snprintf(buf, len, "%s/%s offset %" PRIu32, ps->dir, name, OFF(addr));
}

/*
 * Record fd for segment ${seg}, growing the table.  pagestore_read may run
 * on other threads at the same time (getfd): a grown table is a new array
 * published before its size, and the old one stays allocated until the
 * store is closed (sizes double, so the old ones add up to less than the
 * current one).
 */
static int
setfd(struct psfile *ps, uint32_t seg, int fd)
{
	int *nf, **nold;
	int *of = atomic_load_explicit(&ps->fds, memory_order_relaxed);
	uint32_t n, i;
	uint32_t on = atomic_load_explicit(&ps->nfds, memory_order_relaxed);

	if (seg >= on) {
		n = seg + 16;
		if (n < 2 * on)
			n = 2 * on;
		if ((nold = realloc(ps->oldfds, (ps->noldfds + 1) *
		    sizeof(*nold))) == NULL) {
			warnp("realloc");
			return (-1);
		}
		ps->oldfds = nold;
		if ((nf = malloc(n * sizeof(int))) == NULL) {
			warnp("malloc");
			return (-1);
		}
		for (i = 0; i < n; i++)
			nf[i] = i < on ? of[i] : -1;
		atomic_store_explicit(&ps->fds, nf, memory_order_release);
		atomic_store_explicit(&ps->nfds, n, memory_order_release);
		if (of != NULL)
			ps->oldfds[ps->noldfds++] = of;
	}
	atomic_load_explicit(&ps->fds, memory_order_relaxed)[seg] = fd;
	return (0);
}

/* The fd of segment ${seg} or -1; any thread (see setfd). */
static int
getfd(struct psfile *ps, uint32_t seg)
{

	if (seg >= atomic_load_explicit(&ps->nfds, memory_order_acquire))
		return (-1);
	return (atomic_load_explicit(&ps->fds, memory_order_acquire)[seg]);
}

/* Write all of buf at off. */
static int
pwrite_all(int fd, const uint8_t *buf, size_t len, off_t off)
{
	ssize_t w;

	while (len > 0) {
		if ((w = pwrite(fd, buf, len, off)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		buf += w;
		len -= (size_t)w;
		off += w;
	}
	return (0);
}

/* Read up to len bytes at off; return bytes read or -1. */
static ssize_t
pread_all(int fd, uint8_t *buf, size_t len, off_t off)
{
	size_t got = 0;
	ssize_t r;

	while (got < len) {
		if ((r = pread(fd, buf + got, len - got, off + got)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return ((ssize_t)got);
}

/* Open every seg-* file; note the highest. */
static int
scan_segments(struct psfile *ps, uint32_t *maxseg)
{
	DIR *d;
	struct dirent *de;
	char name[SEGNAMELEN];
	unsigned long v;
	char *e;
	int fd, dfd;

	*maxseg = 0;
	if ((dfd = dup(ps->dirfd)) == -1) {
		warnp("dup");
		return (-1);
	}
	if ((d = fdopendir(dfd)) == NULL) {
		warnp("opendir %s", ps->dir);
		close(dfd);
		return (-1);
	}
	rewinddir(d);
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "seg-", 4) != 0)
			continue;
		v = strtoul(&de->d_name[4], &e, 16);
		if (*e != '\0' || v == 0 || v > UINT32_MAX)
			continue;
		segname(name, (uint32_t)v);
		if (strcmp(name, de->d_name) != 0)
			continue;
		if ((fd = openat(ps->dirfd, name, O_RDWR | O_CLOEXEC)) == -1) {
			warnp("open %s/%s", ps->dir, name);
			goto err;
		}
		if (setfd(ps, (uint32_t)v, fd)) {
			close(fd);
			goto err;
		}
		ps->nsegs++;
		if (v > *maxseg)
			*maxseg = (uint32_t)v;
	}
	if (errno != 0) {
		warnp("readdir %s", ps->dir);
		goto err;
	}
	closedir(d);
	return (0);

err:
	closedir(d);
	return (-1);
}

/* Create segment ${seg} (must not exist). */
static int
create_segment(struct psfile *ps, uint32_t seg)
{
	char name[SEGNAMELEN];
	int fd;

	segname(name, seg);
	if ((fd = openat(ps->dirfd, name, O_RDWR | O_CREAT | O_EXCL |
	    O_CLOEXEC, 0600)) == -1) {
		warnp("create %s/%s", ps->dir, name);
		return (-1);
	}
	if (setfd(ps, seg, fd)) {
		close(fd);
		return (-1);
	}
	ps->nsegs++;
	return (0);
}

/* Store seq 0 in a new, empty data directory. */
static int
create_store(struct psfile *ps, struct page_commit *c)
{
	uint8_t slots[2 * SLOTSIZE];
	int fd;

	/* Segment 1 starts with commit 0: an empty tree. */
	if (getfd(ps, 1) == -1 && create_segment(ps, 1))
		return (-1);
	memset(slots, 0, sizeof(slots));
	(void)pagestore_commit_first(c, ps->pagesize, slots);
	if (ftruncate(getfd(ps, 1), 0) ||
	    pwrite_all(getfd(ps, 1), slots, PAGE_COMMIT_LEN, 0) ||
	    fdatasync(getfd(ps, 1))) {
		warnp("write %s/seg-00000001", ps->dir);
		return (-1);
	}

	/* Then the checkpoint, made visible atomically by rename. */
	if ((fd = openat(ps->dirfd, "checkpoint.tmp", O_RDWR | O_CREAT |
	    O_TRUNC | O_CLOEXEC, 0600)) == -1) {
		warnp("create %s/checkpoint.tmp", ps->dir);
		return (-1);
	}
	if (pwrite_all(fd, slots, sizeof(slots), 0) || fsync(fd) ||
	    renameat(ps->dirfd, "checkpoint.tmp", ps->dirfd, "checkpoint") ||
	    fsync(ps->dirfd)) {
		warnp("write %s/checkpoint", ps->dir);
		close(fd);
		return (-1);
	}
	ps->ckfd = fd;
	ps->bytes = PAGE_COMMIT_LEN;
	return (0);
}

/* Size of segment ${seg}, or -1. */
static off_t
segsize_of(struct psfile *ps, uint32_t seg)
{
	struct stat sb;
	int fd;

	if ((fd = getfd(ps, seg)) == -1)
		return (-1);
	if (fstat(fd, &sb)) {
		warnp("fstat");
		return (-1);
	}
	return (sb.st_size);
}

/*
 * Scan the batch that may follow commit ${c}: if a complete valid batch
 * with commit c->seq + 1 follows, replace *c with it and return 1; return
 * 0 if not (a torn or absent tail); -1 on I/O error.
 */
static int
scan_tail(struct psfile *ps, struct page_commit *c)
{
	struct page_commit nc;
	uint8_t *buf;
	uint64_t start = c->bend, ca;
	uint32_t seg = SEG(start);
	size_t pos, len, rlen, maxrec;
	off_t sz;
	ssize_t got;
	int type, found = 0;

	if ((sz = segsize_of(ps, seg)) == -1)
		return (0);
	if (sz <= (off_t)OFF(start)) {
		/* The batch may have opened the next segment. */
		seg++;
		start = ADDR(seg, 0);
		if ((sz = segsize_of(ps, seg)) <= 0)
			return (0);
	}
	len = (size_t)(sz - OFF(start));
	if ((buf = malloc(len)) == NULL) {
		warnp("malloc");
		return (-1);
	}
	if ((got = pread_all(getfd(ps, seg), buf, len, OFF(start))) == -1) {
		warnp("read %s", ps->dir);
		free(buf);
		return (-1);
	}
	len = (size_t)got;
	maxrec = ps->pagesize > PAGE_COMMIT_LEN ? ps->pagesize :
	    PAGE_COMMIT_LEN;

	/* Walk the records; the first invalid one ends the log. */
	for (pos = 0; pos + NODE_HDR <= len; pos += rlen) {
		rlen = be32dec(&buf[pos + 4]);
		type = buf[pos + 16];
		if (rlen < NODE_HDR || rlen > len - pos || rlen > maxrec)
			break;
		if (be64dec(&buf[pos + 8]) != start + pos)
			break;
		if (be32dec(&buf[pos]) !=
		    crc32c(&buf[pos + 4], rlen - 4))
			break;
		if (type == PAGE_TYPE_COMMIT) {
			if (page_commit_decode(&buf[pos], len - pos, &nc, &ca))
				break;
			if (nc.seq == c->seq + 1 && nc.bstart == start &&
			    nc.pagesize == c->pagesize) {
				*c = nc;
				found = 1;
			}
			break;
		}
		if (type != PAGE_TYPE_NODE)
			break;
	}
	free(buf);
	return (found);
}

/* Read both checkpoint slots; newest valid into *c.  -1 if none. */
static int
read_checkpoint(struct psfile *ps, struct page_commit *c, int *damaged)
{
	uint8_t slots[2 * SLOTSIZE];
	struct page_commit sc[2];
	uint64_t ca;
	ssize_t got;
	int ok[2], i, z;
	size_t j;

	memset(slots, 0, sizeof(slots));
	if ((got = pread_all(ps->ckfd, slots, sizeof(slots), 0)) == -1) {
		warnp("read %s/checkpoint", ps->dir);
		return (-1);
	}
	*damaged = 0;
	for (i = 0; i < 2; i++) {
		ok[i] = (page_commit_decode(&slots[i * SLOTSIZE], SLOTSIZE,
		    &sc[i], &ca) == 0 && (int)(sc[i].seq % 2) == i);
		if (!ok[i]) {
			for (z = 1, j = 0; j < PAGE_COMMIT_LEN; j++)
				if (slots[i * SLOTSIZE + j] != 0)
					z = 0;
			if (!z) {
				warn0("%s/checkpoint: slot %d is damaged",
				    ps->dir, i);
				*damaged = 1;
			}
		}
	}
	if (!ok[0] && !ok[1]) {
		warn0("%s/checkpoint: no valid commit record; the store is "
		    "damaged", ps->dir);
		return (-1);
	}
	if (ok[0] && (!ok[1] || sc[0].seq > sc[1].seq))
		*c = sc[0];
	else
		*c = sc[1];
	return (0);
}

/* Write commit record ${crec} into its slot and sync. */
static int
write_slot(struct psfile *ps, const uint8_t *crec)
{
	uint64_t seq = be64dec(&crec[20]);

	if (pwrite_all(ps->ckfd, crec, PAGE_COMMIT_LEN,
	    (off_t)(seq % 2) * SLOTSIZE) || datasync(ps, ps->ckfd)) {
		warnp("write %s/checkpoint", ps->dir);
		return (-1);
	}
	return (0);
}

/**
 * pagestore_file_open(dir, pagesize, segsize, nosync, c):
 * Lock, recover and return the store.
 */
struct pagestore *
pagestore_file_open(const char *dir, size_t pagesize, size_t segsize,
    int nosync, struct page_commit *c)
{
	struct psfile *ps;
	uint8_t crec[PAGE_COMMIT_LEN];
	char name[SEGNAMELEN];
	uint32_t maxseg, seg, s;
	off_t sz;
	int damaged, r;

	if ((ps = calloc(1, sizeof(*ps))) == NULL) {
		warnp("calloc");
		goto err0;
	}
	ps->dirfd = ps->lockfd = ps->ckfd = -1;
	ps->pagesize = pagesize;
	ps->base.ops = &file_ops;
	ps->segsize = segsize;
	ps->nosync = nosync;
	if ((ps->dir = strdup(dir)) == NULL) {
		warnp("strdup");
		goto err1;
	}
	if (mkdir(dir, 0700) && errno != EEXIST) {
		warnp("mkdir %s", dir);
		goto err1;
	}
	if ((ps->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		warnp("open %s", dir);
		goto err1;
	}
	if ((ps->lockfd = openat(ps->dirfd, "lock", O_RDWR | O_CREAT |
	    O_CLOEXEC, 0600)) == -1) {
		warnp("open %s/lock", dir);
		goto err1;
	}
	if (flock(ps->lockfd, LOCK_EX | LOCK_NB)) {
		if (errno == EWOULDBLOCK)
			warn0("data directory %s is in use by another "
			    "process (lock held on %s/lock)", dir, dir);
		else
			warnp("flock %s/lock", dir);
		goto err1;
	}
	if (scan_segments(ps, &maxseg))
		goto err1;

	if ((ps->ckfd = openat(ps->dirfd, "checkpoint", O_RDWR | O_CLOEXEC))
	    == -1) {
		if (errno != ENOENT) {
			warnp("open %s/checkpoint", dir);
			goto err1;
		}
		/* A new store, or one whose creation was interrupted. */
		if (ps->nsegs > 1 || maxseg > 1 || segsize_of(ps, 1) >
		    PAGE_COMMIT_LEN) {
			warn0("%s: log segments exist but the checkpoint "
			    "file is missing; refusing to open", dir);
			goto err1;
		}
		if (create_store(ps, c))
			goto err1;
		ps->curseg = 1;
		ps->end = c->bend;
		return (&ps->base);
	}

	if (read_checkpoint(ps, c, &damaged))
		goto err1;
	if (c->pagesize != pagesize) {
		warn0("%s: the store was made with %u-byte pages, not %zu",
		    dir, (unsigned)c->pagesize, pagesize);
		goto err1;
	}
	if (getfd(ps, SEG(c->bend)) == -1) {
		warn0("%s: log segment %08x of commit %llu is missing", dir,
		    (unsigned)SEG(c->bend), (unsigned long long)c->seq);
		goto err1;
	}

	/* At most one batch can follow the newest checkpointed commit. */
	if ((r = scan_tail(ps, c)) == -1)
		goto err1;
	if (r == 1) {
		if (damaged)
			warn0("%s: recovered commit %llu from the log", dir,
			    (unsigned long long)c->seq);
		page_commit_encode(c, c->bend - PAGE_COMMIT_LEN, crec);
		if (write_slot(ps, crec))
			goto err1;
	}

	seg = SEG(c->bend);
	if ((sz = segsize_of(ps, seg)) == -1)
		goto err1;
	if (sz < (off_t)OFF(c->bend)) {
		warn0("%s: the log ends before the end of commit %llu; the "
		    "store is damaged", dir, (unsigned long long)c->seq);
		goto err1;
	}

	/*
	 * A damaged slot may have held the newest commit.  If so, its batch
	 * follows the commit we found; if that batch did not check out, the
	 * newest acknowledged commit is lost in both copies: refuse.
	 */
	if (damaged && r == 0 && (sz > (off_t)OFF(c->bend) ||
	    segsize_of(ps, seg + 1) > 0)) {
		warn0("%s: a checkpoint slot is damaged and the log after "
		    "commit %llu holds no valid commit; the newest commit is "
		    "damaged in both copies, refusing to open", dir,
		    (unsigned long long)c->seq);
		goto err1;
	}

	/* Anything after the newest commit is a torn tail. */
	if (sz > (off_t)OFF(c->bend)) {
		warn0("%s: discarding %lld bytes of torn tail after commit "
		    "%llu", dir, (long long)(sz - OFF(c->bend)),
		    (unsigned long long)c->seq);
		if (ftruncate(getfd(ps, seg), OFF(c->bend)) ||
		    fsync(getfd(ps, seg))) {
			warnp("truncate %s", dir);
			goto err1;
		}
	}
	for (s = seg + 1; s <= maxseg; s++) {
		if (getfd(ps, s) == -1)
			continue;
		if (s > seg + 1) {
			warn0("%s: log segment %08x lies beyond the newest "
			    "commit; the store is damaged", dir, (unsigned)s);
			goto err1;
		}
		segname(name, s);
		warn0("%s: removing torn segment %s", dir, name);
		close(ps->fds[s]);
		ps->fds[s] = -1;
		ps->nsegs--;
		if (unlinkat(ps->dirfd, name, 0) || fsync(ps->dirfd)) {
			warnp("unlink %s/%s", dir, name);
			goto err1;
		}
	}
	for (s = 0; s < ps->nfds; s++)
		if (ps->fds[s] != -1 && (sz = segsize_of(ps, s)) > 0)
			ps->bytes += (uint64_t)sz;
	ps->curseg = seg;
	ps->end = c->bend;
	return (&ps->base);

err1:
	file_close(&ps->base);
err0:
	return (NULL);
}

/*
 * file_read(ps, addr, buf, len):
 * Read up to a page at addr.
 */
static int
file_read(struct pagestore *base, uint64_t addr, uint8_t *buf,
    size_t *len)
{
	struct psfile *ps = (struct psfile *)base;
	char where[256];
	ssize_t got;
	int fd;

	if ((fd = getfd(ps, SEG(addr))) == -1) {
		file_where(&ps->base, addr, where, sizeof(where));
		warn0("%s: no such log segment", where);
		return (-1);
	}
	if ((got = pread_all(fd, buf, ps->pagesize, OFF(addr))) == -1) {
		file_where(&ps->base, addr, where, sizeof(where));
		warnp("read %s", where);
		return (-1);
	}
	if (got < NODE_HDR) {
		file_where(&ps->base, addr, where, sizeof(where));
		warn0("%s: page lies beyond the end of the file", where);
		return (-1);
	}
	*len = (size_t)got;
	return (0);
}

/*
 * file_read_nowait(ps, addr, buf, len):
 * One preadv2(RWF_NOWAIT): the page if it is whole in the OS page cache,
 * else 1 (including errors, which the blocking read reports).
 */
static int
file_read_nowait(struct pagestore *base, uint64_t addr, uint8_t *buf,
    size_t *len)
{
	struct psfile *ps = (struct psfile *)base;
	struct iovec iov;
	ssize_t got;
	int fd;

	if ((fd = getfd(ps, SEG(addr))) == -1)
		return (1);
	iov.iov_base = buf;
	iov.iov_len = ps->pagesize;
	if ((got = preadv2(fd, &iov, 1, (off_t)OFF(addr), RWF_NOWAIT)) <
	    NODE_HDR)
		return (1);
	/* Short (partly cached, or the end of the file): whole record? */
	if ((size_t)got < ps->pagesize && be32dec(&buf[4]) > (size_t)got)
		return (1);
	*len = (size_t)got;
	return (0);
}

/*
 * file_reserve(ps, len):
 * Place the next batch.
 */
static uint64_t
file_reserve(struct pagestore *base, size_t len)
{
	struct psfile *ps = (struct psfile *)base;
	uint64_t addr;

	if (OFF(ps->end) > 0 && (uint64_t)OFF(ps->end) + len > ps->segsize) {
		if (create_segment(ps, ps->curseg + 1))
			return (0);
		ps->curseg++;
		ps->end = ADDR(ps->curseg, 0);
		ps->newseg = 1;
	}
	if ((uint64_t)OFF(ps->end) + len > UINT32_MAX) {
		warn0("commit batch of %zu bytes is too large", len);
		return (0);
	}
	addr = ps->end;
	ps->end += len;
	ps->bytes += len;
	return (addr);
}

/*
 * file_write(ps, buf, len, addr):
 * Append a batch durably, then checkpoint its commit record.
 */
static int
file_write(struct pagestore *base, const uint8_t *buf, size_t len,
    uint64_t addr)
{
	struct psfile *ps = (struct psfile *)base;
	char where[256];
	int fd = getfd(ps, SEG(addr));

	if (fd == -1 || pwrite_all(fd, buf, len, OFF(addr)) ||
	    datasync(ps, fd)) {
		file_where(&ps->base, addr, where, sizeof(where));
		warnp("write %s", where);
		return (-1);
	}
	if (ps->newseg) {
		if (datasync(ps, ps->dirfd)) {
			warnp("fsync %s", ps->dir);
			return (-1);
		}
		ps->newseg = 0;
	}
	return (write_slot(ps, &buf[len - PAGE_COMMIT_LEN]));
}

/*
 * file_next(ps, after, seg, size):
 * The oldest segment above ${after} other than the current one.
 */
static int
file_next(struct pagestore *base, uint32_t after, uint32_t *seg,
    uint64_t *size)
{
	struct psfile *ps = (struct psfile *)base;
	uint32_t s;
	off_t sz;

	for (s = after + 1; s < ps->curseg && s < ps->nfds; s++) {
		if (ps->fds[s] == -1)
			continue;
		if ((sz = segsize_of(ps, s)) == -1)
			return (-1);
		*seg = s;
		*size = (uint64_t)sz;
		return (0);
	}
	return (-1);
}

/*
 * file_readraw(ps, addr, buf, len):
 * Read raw log bytes.
 */
static ssize_t
file_readraw(struct pagestore *base, uint64_t addr, uint8_t *buf,
    size_t len)
{
	struct psfile *ps = (struct psfile *)base;
	char where[256];
	ssize_t got;
	int fd;

	if ((fd = getfd(ps, SEG(addr))) == -1 ||
	    (got = pread_all(fd, buf, len, OFF(addr))) == -1) {
		file_where(&ps->base, addr, where, sizeof(where));
		warnp("read %s", where);
		return (-1);
	}
	return (got);
}

/*
 * file_free(ps, seg):
 * Delete a segment the cleaner emptied.
 */
static int
file_free(struct pagestore *base, uint32_t seg)
{
	struct psfile *ps = (struct psfile *)base;
	char name[SEGNAMELEN];
	off_t sz;

	if (seg >= ps->curseg || getfd(ps, seg) == -1) {
		warn0("pagestore_free: segment %08x is not free", (unsigned)seg);
		return (-1);
	}
	if ((sz = segsize_of(ps, seg)) == -1)
		return (-1);
	segname(name, seg);
	if (unlinkat(ps->dirfd, name, 0)) {
		warnp("unlink %s/%s", ps->dir, name);
		return (-1);
	}
	close(ps->fds[seg]);
	ps->fds[seg] = -1;
	ps->nsegs--;
	ps->bytes -= (uint64_t)sz;
	return (0);
}

/*
 * file_segsize(ps):
 * The segment size.
 */
static size_t
file_segsize(struct pagestore *base)
{
	struct psfile *ps = (struct psfile *)base;

	return (ps->segsize);
}

/*
 * file_stats(ps, nseg, bytes):
 * Segment count and log bytes.
 */
static void
file_stats(struct pagestore *base, size_t *nseg, uint64_t *bytes)
{
	struct psfile *ps = (struct psfile *)base;

	*nseg = ps->nsegs;
	*bytes = ps->bytes;
}

/*
 * file_close(ps):
 * Close files and unlock.
 */
static void
file_close(struct pagestore *base)
{
	struct psfile *ps = (struct psfile *)base;
	uint32_t i;

	if (ps == NULL)
		return;
	for (i = 0; i < ps->nfds; i++)
		if (ps->fds[i] != -1)
			close(ps->fds[i]);
	free(ps->fds);
	for (i = 0; i < ps->noldfds; i++)
		free(ps->oldfds[i]);
	free(ps->oldfds);
	if (ps->ckfd != -1)
		close(ps->ckfd);
	if (ps->lockfd != -1)
		close(ps->lockfd);
	if (ps->dirfd != -1)
		close(ps->dirfd);
	free(ps->dir);
	free(ps);
}

static const struct pagestore_ops file_ops = {
	.read = file_read,
	.where = file_where,
	.reserve = file_reserve,
	.write = file_write,
	.next = file_next,
	.readraw = file_readraw,
	.free = file_free,
	.segsize = file_segsize,
	.stats = file_stats,
	.statline = NULL,
	.close = file_close,
	.read_nowait = file_read_nowait
};
