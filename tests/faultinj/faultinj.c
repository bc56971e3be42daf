/*
 * faultinj.so: an LD_PRELOAD fault-injection layer for the files of one
 * directory, in the manner of SQLite's crash and I/O-error tests.
 *
 * It interposes write, pwrite, writev, pwritev, fsync, fdatasync, read,
 * pread, preadv, preadv2 (and their *64 and fortified aliases), ftruncate,
 * rename, unlink and close.  A call is "tracked" when its file lies inside $FAULTINJ_DIR
 * (the directory itself included, for directory fsyncs); every other file
 * descriptor (sockets, pipes, logs) passes straight through.
 *
 * Tracked calls are numbered from 1 in the order they happen, per class:
 * "write" (write, pwrite, writev, pwritev), "sync" (fsync, fdatasync),
 * "read" (read, pread, preadv, preadv2), "truncate", "rename", "unlink".  $FAULTINJ_OPS
 * (default "write,sync") names the classes that count towards
 * $FAULTINJ_AT; at the ${FAULTINJ_AT}th counted call $FAULTINJ_MODE acts:
 *
 *   count     (default; also when FAULTINJ_AT is unset) nothing.
 *   eio       the call fails with EIO, and so does every later counted
 *             call of the same class (a failed fsync keeps failing),
 *             unless FAULTINJ_ONCE=1.  A failed fsync/fdatasync also
 *             loses the file's writes since its last good sync (they are
 *             undone), as Linux does when write-back fails: the dirty
 *             pages are dropped and a later fsync may even succeed.  So a
 *             daemon that acknowledges after a failed fsync, or retries
 *             it, loses acknowledged data, which the checkers then see.
 *             FAULTINJ_KEEP=1 keeps the data instead.
 *   enospc    the same with ENOSPC.
 *   powerloss every write made to a tracked file since that file's last
 *             completed fsync/fdatasync is undone (old bytes put back,
 *             size restored), the triggering call is not performed, and
 *             the process kills itself with SIGKILL.
 *   torn      unsynced writes are kept (as if the page cache had flushed
 *             them), the triggering write is performed only for its first
 *             $FAULTINJ_TORN bytes (default: half of it), then SIGKILL.
 *   reorder   of the unsynced writes (the triggering one included), a
 *             random subset chosen by $FAULTINJ_SEED reaches the disk, in
 *             order, each possibly torn at a 512-byte boundary; the rest
 *             is lost; then SIGKILL.  This models a page cache that writes
 *             back dirty data in any order within an fsync window.
 *   snapshot  the tracked directory is copied, as it stands (unsynced
 *             writes included), into $FAULTINJ_SNAP (created), the
 *             triggering write is saved to $FAULTINJ_SNAP.write as a
 *             header line "<relative path> <offset> <length>\n" followed
 *             by the bytes, then SIGKILL.  A driver then replays every
 *             torn prefix of that write without rerunning the workload.
 *
 * $FAULTINJ_LOG, if set, is a file to which one line per tracked call is
 * appended: "<n> <class> <relative path> <offset> <length> <result>",
 * where n is the counted-call number (0 for calls of uncounted classes);
 * drivers use it to learn how many writes and syncs a workload makes and
 * how long each write is.
 *
 * What it models: the durability contract of fsync for file contents, per
 * file, at byte granularity (powerloss), torn appends (torn), and
 * arbitrary write-back order within an fsync window (reorder).
 * What it does NOT model: directory entries (creat, rename, unlink take
 * effect at once and are never rolled back, even without a directory
 * fsync); data written through mmap or through stdio's internal write
 * (not interposable); sync_file_range, syncfs, sync, O_SYNC/O_DSYNC
 * files (treated as ordinary writes); file systems that lose a file's
 * data written *before* its last fsync; bit rot (see the corruption
 * scenario); ENOSPC as a short write rather than a failure.
 */

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

/* Classes of tracked calls. */
enum { C_WRITE, C_SYNC, C_READ, C_TRUNC, C_RENAME, C_UNLINK, C_N };
static const char *cnames[C_N] = {
	"write", "sync", "read", "truncate", "rename", "unlink"
};

enum { M_COUNT, M_EIO, M_ENOSPC, M_POWERLOSS, M_TORN, M_REORDER,
    M_SNAPSHOT };

/* A file of the tracked directory, known by inode. */
struct finfo {
	dev_t dev;
	ino_t ino;
	int tracked;
	char rel[PATH_MAX];	/* path relative to the directory */
};

/* One unsynced change: a write (or a truncation) and what it replaced. */
struct change {
	struct finfo *f;
	int trunc;		/* 1: ftruncate to newsize */
	off_t off;
	off_t oldsize;		/* file size before the change */
	off_t newsize;
	uint8_t *olddata;	/* bytes [off, min(off+len, oldsize)) before */
	size_t oldlen;
	uint8_t *newdata;	/* bytes written */
	size_t len;
	uint64_t seq;
};

/* Real functions. */
static ssize_t (*r_write)(int, const void *, size_t);
static ssize_t (*r_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*r_pwrite64)(int, const void *, size_t, off64_t);
static ssize_t (*r_writev)(int, const struct iovec *, int);
static ssize_t (*r_pwritev)(int, const struct iovec *, int, off_t);
static ssize_t (*r_pwritev64)(int, const struct iovec *, int, off64_t);
static int (*r_fsync)(int);
static int (*r_fdatasync)(int);
static ssize_t (*r_read)(int, void *, size_t);
static ssize_t (*r_pread)(int, void *, size_t, off_t);
static ssize_t (*r_pread64)(int, void *, size_t, off64_t);
static ssize_t (*r_preadv2)(int, const struct iovec *, int, off_t, int);
static ssize_t (*r_preadv64v2)(int, const struct iovec *, int, off64_t, int);
static int (*r_ftruncate)(int, off_t);
static int (*r_ftruncate64)(int, off64_t);
static int (*r_rename)(const char *, const char *);
static int (*r_unlink)(const char *);
static int (*r_close)(int);

static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static char dir[PATH_MAX];	/* realpath of FAULTINJ_DIR; "" = off */
static size_t dirlen;
static int mode = M_COUNT;
static unsigned long long at;	/* 0 = never */
static int counted[C_N];
static int failonce;
static int keepdata;
static long long tornlen = -1;
static unsigned long long seed = 1;
static const char *snapdir;
static int logfd = -1;

static unsigned long long ncounted;	/* counted calls so far */
static unsigned long long nclass[C_N];
static int failing[C_N];		/* sticky error per class */
static uint64_t seqno;

static struct finfo **files;
static size_t nfiles, afiles;
static struct change *chg;
static size_t nchg, achg;

static void *
sym(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (p == NULL) {
		fprintf(stderr, "faultinj: cannot find %s\n", name);
		_exit(126);
	}
	return (p);
}

static void
init(void)
{
	const char *s;
	char *p, *tok, *save;

	r_write = sym("write");
	r_pwrite = sym("pwrite");
	r_pwrite64 = sym("pwrite64");
	r_writev = sym("writev");
	r_pwritev = sym("pwritev");
	r_pwritev64 = sym("pwritev64");
	r_fsync = sym("fsync");
	r_fdatasync = sym("fdatasync");
	r_read = sym("read");
	r_pread = sym("pread");
	r_pread64 = sym("pread64");
	r_preadv2 = sym("preadv2");
	r_preadv64v2 = sym("preadv64v2");
	r_ftruncate = sym("ftruncate");
	r_ftruncate64 = sym("ftruncate64");
	r_rename = sym("rename");
	r_unlink = sym("unlink");
	r_close = sym("close");

	if ((s = getenv("FAULTINJ_DIR")) == NULL || *s == '\0')
		return;
	if (realpath(s, dir) == NULL) {
		/* The directory may not exist yet: use the name as given. */
		snprintf(dir, sizeof(dir), "%s", s);
	}
	dirlen = strlen(dir);
	while (dirlen > 1 && dir[dirlen - 1] == '/')
		dir[--dirlen] = '\0';

	if ((s = getenv("FAULTINJ_MODE")) != NULL) {
		if (strcmp(s, "eio") == 0)
			mode = M_EIO;
		else if (strcmp(s, "enospc") == 0)
			mode = M_ENOSPC;
		else if (strcmp(s, "powerloss") == 0)
			mode = M_POWERLOSS;
		else if (strcmp(s, "torn") == 0)
			mode = M_TORN;
		else if (strcmp(s, "reorder") == 0)
			mode = M_REORDER;
		else if (strcmp(s, "snapshot") == 0)
			mode = M_SNAPSHOT;
		else if (strcmp(s, "count") == 0)
			mode = M_COUNT;
		else {
			fprintf(stderr, "faultinj: unknown FAULTINJ_MODE %s\n",
			    s);
			_exit(126);
		}
	}
	if ((s = getenv("FAULTINJ_AT")) != NULL)
		at = strtoull(s, NULL, 10);
	if ((s = getenv("FAULTINJ_ONCE")) != NULL)
		failonce = (strcmp(s, "1") == 0);
	if ((s = getenv("FAULTINJ_KEEP")) != NULL)
		keepdata = (strcmp(s, "1") == 0);
	if ((s = getenv("FAULTINJ_TORN")) != NULL)
		tornlen = strtoll(s, NULL, 10);
	if ((s = getenv("FAULTINJ_SEED")) != NULL)
		seed = strtoull(s, NULL, 10) * 2654435761ULL + 1;
	snapdir = getenv("FAULTINJ_SNAP");
	if ((s = getenv("FAULTINJ_OPS")) == NULL)
		s = "write,sync";
	if ((p = strdup(s)) == NULL)
		_exit(126);
	for (tok = strtok_r(p, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		for (int c = 0; c < C_N; c++)
			if (strcmp(tok, cnames[c]) == 0)
				counted[c] = 1;
	}
	free(p);
	if ((s = getenv("FAULTINJ_LOG")) != NULL) {
		logfd = open(s, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
		    0644);
		if (logfd == -1) {
			fprintf(stderr, "faultinj: cannot open %s\n", s);
			_exit(126);
		}
	}
}

static void
ensure(void)
{

	pthread_once(&once, init);
}

static unsigned long long
rnd(void)
{

	/* xorshift64*: deterministic for a given FAULTINJ_SEED. */
	seed ^= seed >> 12;
	seed ^= seed << 25;
	seed ^= seed >> 27;
	return (seed * 2685821657736338717ULL);
}

/* Is ${path} (absolute) the tracked directory or inside it? */
static int
inside(const char *path)
{

	if (dirlen == 0 || strncmp(path, dir, dirlen) != 0)
		return (0);
	return (path[dirlen] == '\0' || path[dirlen] == '/');
}

/*
 * Look up the file behind ${fd}: NULL when it is not tracked.  Called
 * with the mutex held.  Sockets and pipes are rejected by one fstat.
 */
static struct finfo *
lookup(int fd)
{
	struct stat st;
	struct finfo *f;
	char link[64], path[PATH_MAX];
	ssize_t n;
	size_t i;

	if (dirlen == 0 || fstat(fd, &st) != 0)
		return (NULL);
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return (NULL);
	for (i = 0; i < nfiles; i++) {
		f = files[i];
		if (f->dev == st.st_dev && f->ino == st.st_ino)
			return (f->tracked ? f : NULL);
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, path, sizeof(path) - 1)) < 0)
		return (NULL);
	path[n] = '\0';
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return (NULL);
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->tracked = inside(path);
	if (f->tracked)
		snprintf(f->rel, sizeof(f->rel), "%s", path + dirlen +
		    (path[dirlen] == '/'));
	if (nfiles == afiles) {
		size_t na = afiles ? afiles * 2 : 64;
		struct finfo **nf = realloc(files, na * sizeof(*nf));

		if (nf == NULL) {
			free(f);
			return (NULL);
		}
		files = nf;
		afiles = na;
	}
	files[nfiles++] = f;
	return (f->tracked ? f : NULL);
}

/* Forget what we know about the inode behind ${fd} if it is untracked:
 * an untracked inode number may later be reused inside the directory. */
static void
forget(int fd)
{
	struct stat st;
	size_t i;

	if (dirlen == 0 || fstat(fd, &st) != 0)
		return;
	for (i = 0; i < nfiles; i++) {
		if (files[i]->dev == st.st_dev && files[i]->ino == st.st_ino &&
		    !files[i]->tracked) {
			free(files[i]);
			files[i] = files[--nfiles];
			return;
		}
	}
}

static void
logline(unsigned long long n, int c, const struct finfo *f, long long off,
    long long len, long long res)
{
	char buf[PATH_MAX + 128];
	int l;

	if (logfd == -1)
		return;
	l = snprintf(buf, sizeof(buf), "%llu %s %s %lld %lld %lld\n", n,
	    cnames[c], (f != NULL && f->rel[0]) ? f->rel : ".", off, len,
	    res);
	if (l > 0 && (size_t)l < sizeof(buf))
		(void)r_write(logfd, buf, (size_t)l);
}

/* Open a tracked file by its relative name for repair at power loss. */
static int
openrel(const struct finfo *f)
{
	char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/%s", dir, f->rel);
	return (open(path, O_WRONLY | O_CLOEXEC));
}

static void
pwriteall(int fd, const uint8_t *p, size_t len, off_t off)
{
	ssize_t n;

	while (len > 0) {
		if ((n = r_pwrite(fd, p, len, off)) <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			fprintf(stderr, "faultinj: repair write: %s\n",
			    strerror(errno));
			return;
		}
		p += n;
		len -= (size_t)n;
		off += n;
	}
}

/* Undo change ${c}. */
static void
undo(const struct change *c)
{
	int fd;

	if ((fd = openrel(c->f)) == -1)
		return;
	if (c->oldlen > 0)
		pwriteall(fd, c->olddata, c->oldlen, c->off);
	(void)r_ftruncate(fd, c->oldsize);
	(void)r_close(fd);
}

/* Apply the first ${keep} bytes of change ${c} again. */
static void
redo(const struct change *c, size_t keep)
{
	int fd;

	if ((fd = openrel(c->f)) == -1)
		return;
	if (c->trunc)
		(void)r_ftruncate(fd, c->newsize);
	else
		pwriteall(fd, c->newdata, keep < c->len ? keep : c->len,
		    c->off);
	(void)r_close(fd);
}

static void
die(void)
{

	if (logfd != -1)
		(void)r_close(logfd);
	kill(getpid(), SIGKILL);
	_exit(137);
}

static int
copyfile(const char *from, const char *to)
{
	uint8_t buf[65536];
	int in, out;
	ssize_t n;

	if ((in = open(from, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	if ((out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1) {
		(void)r_close(in);
		return (-1);
	}
	while ((n = r_read(in, buf, sizeof(buf))) > 0)
		if (r_write(out, buf, (size_t)n) != n)
			break;
	(void)r_close(in);
	(void)r_close(out);
	return (n == 0 ? 0 : -1);
}

static void
copytree(const char *from, const char *to)
{
	DIR *d;
	struct dirent *de;
	struct stat st;
	char a[PATH_MAX * 2], b[PATH_MAX * 2];

	(void)mkdir(to, 0700);
	if ((d = opendir(from)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(a, sizeof(a), "%s/%s", from, de->d_name);
		snprintf(b, sizeof(b), "%s/%s", to, de->d_name);
		if (lstat(a, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			copytree(a, b);
		else if (S_ISREG(st.st_mode) && copyfile(a, b) != 0)
			fprintf(stderr, "faultinj: cannot copy %s\n", a);
	}
	closedir(d);
}

/*
 * The triggering call for the power-loss modes.  ${f}, ${buf}, ${len},
 * ${off} describe the triggering write (f NULL: it was a sync).  Called
 * with the mutex held; never returns.
 */
static void
crash(const struct finfo *f, const void *buf, size_t len, off_t off)
{
	size_t i, keep;
	int fd;

	switch (mode) {
	case M_POWERLOSS:
		for (i = nchg; i > 0; i--)
			undo(&chg[i - 1]);
		break;
	case M_TORN:
		if (f != NULL) {
			keep = (tornlen < 0) ? len / 2 : (size_t)tornlen;
			if (keep > len)
				keep = len;
			if ((fd = openrel(f)) != -1) {
				pwriteall(fd, buf, keep, off);
				(void)r_close(fd);
			}
		}
		break;
	case M_REORDER:
		for (i = nchg; i > 0; i--)
			undo(&chg[i - 1]);
		for (i = 0; i < nchg; i++) {
			if (rnd() % 2)
				continue;
			keep = chg[i].len;
			if (keep > 512 && rnd() % 4 == 0)
				keep = (size_t)(rnd() % (keep / 512)) * 512;
			redo(&chg[i], keep);
		}
		if (f != NULL && rnd() % 2 && (fd = openrel(f)) != -1) {
			keep = len;
			if (keep > 512 && rnd() % 2)
				keep = (size_t)(rnd() % (keep / 512)) * 512;
			pwriteall(fd, buf, keep, off);
			(void)r_close(fd);
		}
		break;
	case M_SNAPSHOT:
		if (snapdir != NULL) {
			char wpath[PATH_MAX + 16], hdr[PATH_MAX + 64];
			int l;

			copytree(dir, snapdir);
			snprintf(wpath, sizeof(wpath), "%s.write", snapdir);
			if (f != NULL && (fd = open(wpath, O_WRONLY | O_CREAT |
			    O_TRUNC | O_CLOEXEC, 0600)) != -1) {
				l = snprintf(hdr, sizeof(hdr), "%s %lld %zu\n",
				    f->rel, (long long)off, len);
				(void)r_write(fd, hdr, (size_t)l);
				(void)r_write(fd, buf, len);
				(void)r_close(fd);
			}
		}
		break;
	}
	die();
}

static void synced(const struct finfo *, uint64_t);

/* A failed sync of ${f}: its unsynced writes are lost (undone). */
static void
lose(const struct finfo *f)
{
	size_t i;

	if (keepdata || f == NULL)
		return;
	for (i = nchg; i > 0; i--)
		if (chg[i - 1].f == f)
			undo(&chg[i - 1]);
	synced(f, UINT64_MAX);
}

/*
 * Count a tracked call of class ${c}; return 0 to perform it, or -1 with
 * errno set to fail it.  May not return (power-loss modes).  Called with
 * the mutex held.  ${f}/${buf}/${len}/${off} describe a write.
 */
static int
account(int c, const struct finfo *f, const void *buf, size_t len, off_t off,
    unsigned long long *np)
{
	unsigned long long n = 0;

	nclass[c]++;
	if (counted[c])
		n = ++ncounted;
	*np = n;
	if (failing[c] && (mode == M_EIO || mode == M_ENOSPC)) {
		if (c == C_SYNC)
			lose(f);
		errno = (mode == M_EIO) ? EIO : ENOSPC;
		return (-1);
	}
	if (n == 0 || at == 0 || n != at)
		return (0);
	switch (mode) {
	case M_EIO:
	case M_ENOSPC:
		if (!failonce)
			failing[c] = 1;
		if (c == C_SYNC)
			lose(f);
		errno = (mode == M_EIO) ? EIO : ENOSPC;
		return (-1);
	case M_POWERLOSS:
	case M_TORN:
	case M_REORDER:
	case M_SNAPSHOT:
		logline(n, c, f, (long long)off, (long long)len, -9);
		crash(c == C_WRITE ? f : NULL, buf, len, off);
	}
	return (0);
}

static void
record(struct finfo *f, int trunc, off_t off, off_t oldsize, off_t newsize,
    const void *buf, size_t len, int fd)
{
	struct change *c;
	ssize_t n;

	if (mode != M_POWERLOSS && mode != M_REORDER && mode != M_EIO &&
	    mode != M_ENOSPC)
		return;
	if ((mode == M_EIO || mode == M_ENOSPC) && (keepdata || !counted[C_SYNC]))
		return;
	if (nchg == achg) {
		size_t na = achg ? achg * 2 : 256;
		struct change *nc = realloc(chg, na * sizeof(*nc));

		if (nc == NULL)
			return;
		chg = nc;
		achg = na;
	}
	c = &chg[nchg];
	memset(c, 0, sizeof(*c));
	c->f = f;
	c->trunc = trunc;
	c->off = off;
	c->oldsize = oldsize;
	c->newsize = newsize;
	c->seq = ++seqno;
	/* Bytes the change overwrites or cuts off. */
	if (off < oldsize) {
		off_t end = trunc ? oldsize : off + (off_t)len;

		if (end > oldsize)
			end = oldsize;
		c->oldlen = (size_t)(end - off);
		if ((c->olddata = malloc(c->oldlen + 1)) == NULL)
			return;
		n = r_pread(fd, c->olddata, c->oldlen, off);
		if (n < 0 || (size_t)n != c->oldlen) {
			free(c->olddata);
			return;
		}
	}
	if (!trunc && len > 0) {
		if ((c->newdata = malloc(len)) == NULL) {
			free(c->olddata);
			return;
		}
		memcpy(c->newdata, buf, len);
		c->len = len;
	}
	nchg++;
}

/* Drop the changes of ${f} made before sequence number ${upto}. */
static void
synced(const struct finfo *f, uint64_t upto)
{
	size_t i, j;

	for (i = j = 0; i < nchg; i++) {
		if (chg[i].f == f && chg[i].seq <= upto) {
			free(chg[i].olddata);
			free(chg[i].newdata);
			continue;
		}
		chg[j++] = chg[i];
	}
	nchg = j;
}

static off_t
fsize(int fd)
{
	struct stat st;

	return (fstat(fd, &st) == 0 ? st.st_size : 0);
}

/*
 * The common write path: ${off} < 0 means "at the file offset".  Data
 * from ${iov} (when non-NULL) is gathered first.
 */
static ssize_t
dowrite(int fd, const void *buf, size_t len, off_t off,
    const struct iovec *iov, int iovcnt, int use64)
{
	struct finfo *f;
	uint8_t *gather = NULL;
	unsigned long long n;
	off_t oldsize, where;
	ssize_t rc;
	int saved, fl;

	ensure();
	pthread_mutex_lock(&mtx);
	if ((f = lookup(fd)) == NULL) {
		pthread_mutex_unlock(&mtx);
		if (iov != NULL)
			return (off < 0 ? r_writev(fd, iov, iovcnt) :
			    use64 ? r_pwritev64(fd, iov, iovcnt, off) :
			    r_pwritev(fd, iov, iovcnt, off));
		return (off < 0 ? r_write(fd, buf, len) :
		    use64 ? r_pwrite64(fd, buf, len, off) :
		    r_pwrite(fd, buf, len, off));
	}
	if (iov != NULL) {
		len = 0;
		for (int i = 0; i < iovcnt; i++)
			len += iov[i].iov_len;
		if ((gather = malloc(len + 1)) == NULL) {
			pthread_mutex_unlock(&mtx);
			errno = ENOMEM;
			return (-1);
		}
		len = 0;
		for (int i = 0; i < iovcnt; i++) {
			memcpy(gather + len, iov[i].iov_base, iov[i].iov_len);
			len += iov[i].iov_len;
		}
		buf = gather;
	}
	oldsize = fsize(fd);
	where = off;
	if (off < 0) {
		fl = fcntl(fd, F_GETFL);
		where = (fl != -1 && (fl & O_APPEND)) ? oldsize :
		    lseek(fd, 0, SEEK_CUR);
	}
	if (account(C_WRITE, f, buf, len, where, &n) != 0) {
		saved = errno;
		logline(n, C_WRITE, f, (long long)where, (long long)len, -1);
		pthread_mutex_unlock(&mtx);
		free(gather);
		errno = saved;
		return (-1);
	}
	record(f, 0, where, oldsize, 0, buf, len, fd);
	rc = (off < 0) ? r_write(fd, buf, len) : r_pwrite(fd, buf, len, off);
	saved = errno;
	logline(n, C_WRITE, f, (long long)where, (long long)len,
	    (long long)rc);
	pthread_mutex_unlock(&mtx);
	free(gather);
	errno = saved;
	return (rc);
}

static int
dosync(int fd, int data)
{
	struct finfo *f;
	unsigned long long n;
	uint64_t upto;
	int rc, saved;

	ensure();
	pthread_mutex_lock(&mtx);
	if ((f = lookup(fd)) == NULL) {
		pthread_mutex_unlock(&mtx);
		return (data ? r_fdatasync(fd) : r_fsync(fd));
	}
	if (account(C_SYNC, f, NULL, 0, 0, &n) != 0) {
		saved = errno;
		logline(n, C_SYNC, f, 0, 0, -1);
		pthread_mutex_unlock(&mtx);
		errno = saved;
		return (-1);
	}
	upto = seqno;
	pthread_mutex_unlock(&mtx);
	rc = data ? r_fdatasync(fd) : r_fsync(fd);
	saved = errno;
	pthread_mutex_lock(&mtx);
	if (rc == 0)
		synced(f, upto);
	logline(n, C_SYNC, f, 0, 0, rc);
	pthread_mutex_unlock(&mtx);
	errno = saved;
	return (rc);
}

/*
 * read_begin(fd, len, off, fp, np): account one "read" call of ${len}
 * bytes at ${off} (-1: the file position) on ${fd}.  Return 1 if ${fd} is
 * not watched (make the real call), -1 with errno set if this call is
 * the one to fail (logged), else 0 with the file and call number in
 * *${fp} and *${np} for read_end.  The mutex is released in every case.
 */
static int
read_begin(int fd, size_t len, off_t off, struct finfo **fp,
    unsigned long long *np)
{
	int saved;

	ensure();
	pthread_mutex_lock(&mtx);
	if ((*fp = lookup(fd)) == NULL) {
		pthread_mutex_unlock(&mtx);
		return (1);
	}
	if (account(C_READ, *fp, NULL, len, off, np) != 0) {
		saved = errno;
		logline(*np, C_READ, *fp, (long long)off, (long long)len, -1);
		pthread_mutex_unlock(&mtx);
		errno = saved;
		return (-1);
	}
	pthread_mutex_unlock(&mtx);
	return (0);
}

/* read_end(f, n, len, off, rc): log the result of call ${n}, errno kept. */
static void
read_end(struct finfo *f, unsigned long long n, size_t len, off_t off,
    ssize_t rc)
{
	int saved;

	if (logfd == -1 || n == 0)
		return;
	saved = errno;
	pthread_mutex_lock(&mtx);
	logline(n, C_READ, f, (long long)off, (long long)len, (long long)rc);
	pthread_mutex_unlock(&mtx);
	errno = saved;
}

static ssize_t
doread(int fd, void *buf, size_t len, off_t off, int use64)
{
	struct finfo *f;
	unsigned long long n;
	ssize_t rc;
	int b;

	if ((b = read_begin(fd, len, off, &f, &n)) < 0)
		return (-1);
	rc = (off < 0) ? r_read(fd, buf, len) :
	    use64 ? r_pread64(fd, buf, len, off) : r_pread(fd, buf, len, off);
	if (b == 0)
		read_end(f, n, len, off, rc);
	return (rc);
}

/*
 * preadv/preadv2 (one "read" call whatever the number of buffers); the
 * flags (RWF_NOWAIT...) go to the real call.
 */
static ssize_t
doreadv(int fd, const struct iovec *iov, int cnt, off_t off, int flags,
    int use64)
{
	struct finfo *f;
	unsigned long long n;
	size_t len = 0;
	ssize_t rc;
	int b, i;

	for (i = 0; i < cnt; i++)
		len += iov[i].iov_len;
	if ((b = read_begin(fd, len, off, &f, &n)) < 0)
		return (-1);
	rc = use64 ? r_preadv64v2(fd, iov, cnt, off, flags) :
	    r_preadv2(fd, iov, cnt, off, flags);
	if (b == 0)
		read_end(f, n, len, off, rc);
	return (rc);
}

static int
dotrunc(int fd, off_t len)
{
	struct finfo *f;
	unsigned long long n;
	int rc, saved;
	off_t oldsize;

	ensure();
	pthread_mutex_lock(&mtx);
	if ((f = lookup(fd)) == NULL) {
		pthread_mutex_unlock(&mtx);
		return (r_ftruncate(fd, len));
	}
	if (account(C_TRUNC, f, NULL, 0, len, &n) != 0) {
		saved = errno;
		pthread_mutex_unlock(&mtx);
		errno = saved;
		return (-1);
	}
	oldsize = fsize(fd);
	record(f, 1, len, oldsize, len, NULL, 0, fd);
	rc = r_ftruncate(fd, len);
	saved = errno;
	logline(n, C_TRUNC, f, (long long)len, 0, rc);
	pthread_mutex_unlock(&mtx);
	errno = saved;
	return (rc);
}

/* Absolute form of ${path} (its directory resolved), for matching. */
static void
abspath(const char *path, char *out, size_t outlen)
{
	char d[PATH_MAX], r[PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (slash == NULL) {
		if (getcwd(r, sizeof(r)) == NULL)
			r[0] = '\0';
		snprintf(out, outlen, "%s/%s", r, path);
		return;
	}
	snprintf(d, sizeof(d), "%.*s", (int)(slash - path), path);
	if (d[0] == '\0')
		snprintf(d, sizeof(d), "/");
	if (realpath(d, r) == NULL)
		snprintf(r, sizeof(r), "%s", d);
	snprintf(out, outlen, "%s/%s", strcmp(r, "/") ? r : "", slash + 1);
}

/* Find the tracked file whose relative name is ${rel}, or NULL. */
static struct finfo *
byname(const char *rel)
{
	size_t i;

	for (i = 0; i < nfiles; i++)
		if (files[i]->tracked && strcmp(files[i]->rel, rel) == 0)
			return (files[i]);
	return (NULL);
}

/* ------------------------------------------------------------ exports */

ssize_t
write(int fd, const void *buf, size_t len)
{

	return (dowrite(fd, buf, len, -1, NULL, 0, 0));
}

ssize_t
pwrite(int fd, const void *buf, size_t len, off_t off)
{

	return (dowrite(fd, buf, len, off, NULL, 0, 0));
}

ssize_t
pwrite64(int fd, const void *buf, size_t len, off64_t off)
{

	return (dowrite(fd, buf, len, (off_t)off, NULL, 0, 1));
}

ssize_t
writev(int fd, const struct iovec *iov, int iovcnt)
{

	return (dowrite(fd, NULL, 0, -1, iov, iovcnt, 0));
}

ssize_t
pwritev(int fd, const struct iovec *iov, int iovcnt, off_t off)
{

	return (dowrite(fd, NULL, 0, off, iov, iovcnt, 0));
}

ssize_t
pwritev64(int fd, const struct iovec *iov, int iovcnt, off64_t off)
{

	return (dowrite(fd, NULL, 0, (off_t)off, iov, iovcnt, 1));
}

int
fsync(int fd)
{

	return (dosync(fd, 0));
}

int
fdatasync(int fd)
{

	return (dosync(fd, 1));
}

ssize_t
read(int fd, void *buf, size_t len)
{

	return (doread(fd, buf, len, -1, 0));
}

ssize_t
pread(int fd, void *buf, size_t len, off_t off)
{

	return (doread(fd, buf, len, off, 0));
}

ssize_t
pread64(int fd, void *buf, size_t len, off64_t off)
{

	return (doread(fd, buf, len, (off_t)off, 1));
}

ssize_t
preadv(int fd, const struct iovec *iov, int cnt, off_t off)
{

	return (doreadv(fd, iov, cnt, off, 0, 0));
}

ssize_t
preadv64(int fd, const struct iovec *iov, int cnt, off64_t off)
{

	return (doreadv(fd, iov, cnt, (off_t)off, 0, 1));
}

ssize_t
preadv2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{

	return (doreadv(fd, iov, cnt, off, flags, 0));
}

ssize_t
preadv64v2(int fd, const struct iovec *iov, int cnt, off64_t off, int flags)
{

	return (doreadv(fd, iov, cnt, (off_t)off, flags, 1));
}

/* Fortified entry points (-D_FORTIFY_SOURCE) go through the same paths. */
ssize_t __read_chk(int, void *, size_t, size_t);
ssize_t __pread_chk(int, void *, size_t, off_t, size_t);
ssize_t __pread64_chk(int, void *, size_t, off64_t, size_t);

ssize_t
__read_chk(int fd, void *buf, size_t len, size_t buflen)
{

	if (len > buflen)
		abort();
	return (doread(fd, buf, len, -1, 0));
}

ssize_t
__pread_chk(int fd, void *buf, size_t len, off_t off, size_t buflen)
{

	if (len > buflen)
		abort();
	return (doread(fd, buf, len, off, 0));
}

ssize_t
__pread64_chk(int fd, void *buf, size_t len, off64_t off, size_t buflen)
{

	if (len > buflen)
		abort();
	return (doread(fd, buf, len, (off_t)off, 1));
}

int
ftruncate(int fd, off_t len)
{

	return (dotrunc(fd, len));
}

int
ftruncate64(int fd, off64_t len)
{

	return (dotrunc(fd, (off_t)len));
}

int
rename(const char *from, const char *to)
{
	char a[PATH_MAX * 2], b[PATH_MAX * 2];
	struct finfo *f;
	unsigned long long n;
	int rc, saved, ta, tb;

	ensure();
	abspath(from, a, sizeof(a));
	abspath(to, b, sizeof(b));
	ta = inside(a);
	tb = inside(b);
	if (!ta && !tb)
		return (r_rename(from, to));
	pthread_mutex_lock(&mtx);
	if (account(C_RENAME, NULL, NULL, 0, 0, &n) != 0) {
		saved = errno;
		pthread_mutex_unlock(&mtx);
		errno = saved;
		return (-1);
	}
	rc = r_rename(from, to);
	saved = errno;
	if (rc == 0 && ta && (f = byname(a + dirlen + 1)) != NULL) {
		if (tb)
			snprintf(f->rel, sizeof(f->rel), "%s", b + dirlen + 1);
		else
			f->tracked = 0;
	}
	logline(n, C_RENAME, NULL, 0, 0, rc);
	pthread_mutex_unlock(&mtx);
	errno = saved;
	return (rc);
}

int
unlink(const char *path)
{
	char a[PATH_MAX * 2];
	struct finfo *f;
	unsigned long long n;
	int rc, saved;

	ensure();
	abspath(path, a, sizeof(a));
	if (!inside(a))
		return (r_unlink(path));
	pthread_mutex_lock(&mtx);
	if (account(C_UNLINK, NULL, NULL, 0, 0, &n) != 0) {
		saved = errno;
		pthread_mutex_unlock(&mtx);
		errno = saved;
		return (-1);
	}
	rc = r_unlink(path);
	saved = errno;
	if (rc == 0 && (f = byname(a + dirlen + 1)) != NULL) {
		/* Unlinks are durable at once: its changes no longer matter. */
		synced(f, UINT64_MAX);
		f->rel[0] = '\0';
		f->tracked = 0;
		f->ino = 0;
	}
	logline(n, C_UNLINK, NULL, 0, 0, rc);
	pthread_mutex_unlock(&mtx);
	errno = saved;
	return (rc);
}

int
close(int fd)
{

	ensure();
	if (dirlen != 0) {
		pthread_mutex_lock(&mtx);
		forget(fd);
		pthread_mutex_unlock(&mtx);
	}
	return (r_close(fd));
}
