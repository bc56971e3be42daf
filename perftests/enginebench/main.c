/*
 * enginebench: a micro-benchmark of the kvlds storage engine without the
 * daemon.  It loads the standard pair stream (40-byte keys and values,
 * spec/benchmarks.md "mkpairs") into a fresh store and prints one line per
 * workload: bulk_insert, disk use, random_read, random_mixed, bulk_update,
 * bulk_extract, restart time.
 *
 * Group commit works as in the daemon: once -g mutations are pending and
 * no commit is in flight, btree_commit_begin freezes them and a worker
 * thread runs btree_commit_write (append + fdatasync) while this thread
 * keeps applying mutations.
 *
 * usage: enginebench [-n log2 pairs] [-b pagesize] [-g group] [-t secs]
 *     [-N] [-d dir] [-o rmue] [-S costratio] [-c cache MiB]
 * -o picks the workloads after bulk_insert: r(andom_read), R (random_read
 * through btree_get_batch, 64 keys a call), m(ixed), u(pdate), e(xtract).
 * -N skips fdatasync (to separate CPU cost from sync latency).
 */

#include <sys/stat.h>

#include <dirent.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "kvlds/btree.h"
#include "kvlds/pagestore.h"

static uint8_t *pairs;		/* N x (40-byte key, 40-byte value) */
static size_t npairs;
static size_t group = 1000;

/* Commit worker. */
static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int go, quit;
static atomic_int done;
static int inflight;
static struct btree *bt;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* CPU time of this thread, in seconds. */
static double
cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static void *
worker(void *arg)
{

	(void)arg;
	pthread_mutex_lock(&mtx);
	for (;;) {
		while (!go && !quit)
			pthread_cond_wait(&cv, &mtx);
		if (quit)
			break;
		go = 0;
		pthread_mutex_unlock(&mtx);
		if (btree_commit_write(bt)) {
			fprintf(stderr, "enginebench: commit write failed\n");
			exit(1);
		}
		atomic_store(&done, 1);
		pthread_mutex_lock(&mtx);
	}
	pthread_mutex_unlock(&mtx);
	return (NULL);
}

/* Finish a completed commit; start one if enough is pending. */
static void
poll_commit(size_t min)
{

	if (inflight && atomic_load(&done)) {
		btree_commit_end(bt);
		inflight = 0;
	}
	if (!inflight && btree_pending(bt) >= min && btree_pending(bt) > 0) {
		if (btree_commit_begin(bt)) {
			fprintf(stderr, "enginebench: commit_begin failed\n");
			exit(1);
		}
		atomic_store(&done, 0);
		inflight = 1;
		pthread_mutex_lock(&mtx);
		go = 1;
		pthread_cond_signal(&cv);
		pthread_mutex_unlock(&mtx);
	}
}

/* Wait until everything applied so far is committed. */
static void
drain(void)
{

	while (inflight || btree_pending(bt) > 0) {
		poll_commit(1);
		if (inflight && !atomic_load(&done))
			usleep(50);
	}
}

static int
cmp40(const void *a, const void *b)
{

	return (memcmp(a, b, 40));
}

/* The standard pair stream, sorted by key. */
static void
mkpairs(size_t n)
{
	uint8_t in[17], h[32];
	uint64_t i, x, y;
	size_t j, start;

	if ((pairs = malloc(n * 80)) == NULL) {
		perror("malloc");
		exit(1);
	}
	for (i = 0; i < n; i++) {
		x = i >> 16;
		y = i & 0xffff;
		in[0] = 0;
		for (j = 0; j < 8; j++) {
			in[1 + j] = (uint8_t)(x >> (56 - 8 * j));
			in[9 + j] = (uint8_t)(y >> (56 - 8 * j));
		}
		SHA256(in, 17, h);
		memcpy(&pairs[i * 80], &in[1], 8);
		memcpy(&pairs[i * 80 + 8], h, 32);
		for (j = 0; j < 8; j++)
			pairs[i * 80 + 40 + j] = (uint8_t)(i >> (56 - 8 * j));
		memcpy(&pairs[i * 80 + 48], h, 32);
	}
	/* Pairs of one X sort by their hash. */
	for (start = 0; start < n; start += 65536)
		qsort(&pairs[start * 80], (n - start < 65536) ? n - start :
		    65536, 80, cmp40);
	npairs = n;
}

static uint64_t rng = 88172645463325252ULL;

static uint64_t
rnd(void)
{

	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (rng);
}

static int
count_cb(void *cookie, const uint8_t *k, size_t kl, const uint8_t *v,
    size_t vl)
{

	(void)k;
	(void)kl;
	(void)v;
	(void)vl;
	(*(size_t *)cookie)++;
	return (0);
}

static uint64_t
du(const char *dir)
{
	DIR *d;
	struct dirent *de;
	struct stat sb;
	char p[1024];
	uint64_t t = 0;

	if ((d = opendir(dir)) == NULL)
		return (0);
	while ((de = readdir(d)) != NULL) {
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (de->d_name[0] != '.' && stat(p, &sb) == 0)
			t += (uint64_t)sb.st_size;
	}
	closedir(d);
	return (t);
}

static void
rmstore(const char *dir)
{
	DIR *d;
	struct dirent *de;
	char p[1024];

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (de->d_name[0] != '.')
			unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

int
main(int argc, char *argv[])
{
	struct btree_opts o;
	pthread_t th;
	const uint8_t *v, *bk[64], *bv[64];
	size_t bkl[64], bvl[64];
	int bres[64];
	uint8_t val[40], next[255], start[255];
	size_t vl, i, n, cnt, sl, nl, logn = 20;
	double t0, t1, c0, secs = 2;
	char dirbuf[] = "/tmp/enginebench.XXXXXX", stats[512];
	const char *dir = NULL;
	const char *only = "rmue";
	int ch, keep = 0;

	memset(&o, 0, sizeof(o));
	o.pagesize = 4096;
	while ((ch = getopt(argc, argv, "n:b:g:t:Nd:o:S:c:")) != -1) {
		switch (ch) {
		case 'n':
			logn = strtoul(optarg, NULL, 10);
			break;
		case 'b':
			o.pagesize = strtoul(optarg, NULL, 10);
			break;
		case 'g':
			group = strtoul(optarg, NULL, 10);
			break;
		case 't':
			secs = strtod(optarg, NULL);
			break;
		case 'N':
			pagestore_set_nosync(1);
			break;
		case 'o':
			only = optarg;
			break;
		case 'S':
			o.costratio = strtod(optarg, NULL);
			break;
		case 'c':
			o.cachebytes = strtoull(optarg, NULL, 10) << 20;
			break;
		case 'd':
			dir = optarg;
			keep = 1;
			break;
		default:
			fprintf(stderr, "usage: enginebench [-n log2pairs] "
			    "[-b pagesize] [-g group] [-t secs] [-N] "
			    "[-d dir] [-o rmue] [-S ratio] [-c MiB]\n");
			exit(1);
		}
	}
	if (dir == NULL) {
		if ((dir = mkdtemp(dirbuf)) == NULL) {
			perror("mkdtemp");
			exit(1);
		}
		rmdir(dir);
	}
	o.dir = dir;
	mkpairs((size_t)1 << logn);
	if ((bt = btree_open(&o)) == NULL)
		exit(1);
	if (pthread_create(&th, NULL, worker, NULL)) {
		fprintf(stderr, "pthread_create failed\n");
		exit(1);
	}

	/* bulk_insert */
	t0 = now();
	c0 = cpu();
	for (i = 0; i < npairs; i++) {
		if (btree_set(bt, &pairs[i * 80], 40, &pairs[i * 80 + 40],
		    40) != 0)
			exit(1);
		poll_commit(group);
	}
	drain();
	t1 = now();
	printf("bulk_insert %zu pairs: %.0f pairs/s (%.0f per loop-thread "
	    "CPU second)\n", npairs, npairs / (t1 - t0), npairs / (cpu() - c0));
	printf("disk: %.1f MiB for %.1f MiB of pairs (%.2fx)\n",
	    du(dir) / 1048576.0, npairs * 80 / 1048576.0,
	    (double)du(dir) / (npairs * 80));

	/* random_read */
	t0 = now();
	c0 = cpu();
	for (n = 0; strchr(only, 'r') != NULL &&
	    ((n & 1023) != 0 || now() - t0 < secs); n++) {
		i = rnd() % npairs;
		if (btree_get(bt, &pairs[i * 80], 40, &v, &vl) != 0 ||
		    vl != 40) {
			fprintf(stderr, "GET failed\n");
			exit(1);
		}
	}
	printf("random_read: %.0f GETs/s (%.0f per CPU second)\n",
	    n / (now() - t0), n / (cpu() - c0 + 1e-9));

	/* random_read, batched. */
	t0 = now();
	c0 = cpu();
	for (n = 0; strchr(only, 'R') != NULL &&
	    ((n & 1023) != 0 || now() - t0 < secs); n += 64) {
		for (cnt = 0; cnt < 64; cnt++) {
			i = rnd() % npairs;
			bk[cnt] = &pairs[i * 80];
			bkl[cnt] = 40;
		}
		if (btree_get_batch(bt, 64, bk, bkl, bv, bvl, bres)) {
			fprintf(stderr, "GET failed\n");
			exit(1);
		}
		for (cnt = 0; cnt < 64; cnt++) {
			if (bres[cnt] != 0 || bvl[cnt] != 40 ||
			    memcmp(bv[cnt], bk[cnt] + 40, 40) != 0) {
				fprintf(stderr, "GET failed\n");
				exit(1);
			}
		}
	}
	if (strchr(only, 'R') != NULL)
		printf("random_read batched: %.0f GETs/s (%.0f per CPU "
		    "second)\n", n / (now() - t0), n / (cpu() - c0 + 1e-9));

	/* random_mixed: alternate GET and SET. */
	t0 = now();
	c0 = cpu();
	for (n = 0; strchr(only, 'm') != NULL &&
	    ((n & 1023) != 0 || now() - t0 < secs); n++) {
		i = rnd() % npairs;
		if (n & 1) {
			memcpy(val, &pairs[i * 80 + 40], 40);
			val[39] ^= (uint8_t)n;
			if (btree_set(bt, &pairs[i * 80], 40, val, 40))
				exit(1);
			poll_commit(group);
		} else if (btree_get(bt, &pairs[i * 80], 40, &v, &vl) < 0)
			exit(1);
	}
	drain();
	printf("random_mixed (group %zu): %.0f requests/s (%.0f per loop-thread "
	    "CPU second)\n", group, n / (now() - t0), n / (cpu() - c0 + 1e-9));

	/* bulk_update: every key in order, new values. */
	t0 = now();
	c0 = cpu();
	for (n = 0; strchr(only, 'u') != NULL &&
	    ((n & 1023) != 0 || now() - t0 < secs); n++) {
		i = n % npairs;
		memcpy(val, &pairs[i * 80 + 40], 40);
		val[0] ^= (uint8_t)(n / npairs + 1);
		if (btree_set(bt, &pairs[i * 80], 40, val, 40))
			exit(1);
		poll_commit(group);
	}
	drain();
	printf("bulk_update: %.0f SETs/s (%.0f per loop-thread CPU second)\n",
	    n / (now() - t0), n / (cpu() - c0 + 1e-9));
	printf("disk: %.1f MiB\n", du(dir) / 1048576.0);

	/* bulk_extract: RANGE over everything, 64 KiB per call. */
	t0 = now();
	for (n = 0; strchr(only, 'e') != NULL &&
	    (n == 0 || now() - t0 < secs);) {
		sl = 0;
		do {
			cnt = 0;
			if (btree_range(bt, start, sl, NULL, 0, 65536,
			    count_cb, &cnt, next, &nl))
				exit(1);
			n += cnt;
			memcpy(start, next, nl);
			sl = nl;
		} while (nl > 0);
	}
	printf("bulk_extract: %.0f pairs/s\n", n / (now() - t0));

	btree_stats(bt, stats, sizeof(stats));
	printf("stats: %s\n", stats);

	pthread_mutex_lock(&mtx);
	quit = 1;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mtx);
	pthread_join(th, NULL);
	btree_close(bt);

	/* Restart: open and answer one GET. */
	t0 = now();
	if ((bt = btree_open(&o)) == NULL ||
	    btree_get(bt, &pairs[(npairs / 2) * 80], 40, &v, &vl) != 0)
		exit(1);
	printf("restart to first GET: %.3f ms\n", (now() - t0) * 1e3);
	btree_close(bt);

	if (!keep)
		rmstore(dir);
	free(pairs);
	return (0);
}
