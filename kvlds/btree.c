/*
 * btree: the kvlds engine's entry points (see btree.h): a copy-on-write
 * B+tree over the page store, with committed, in-flight and pending tree
 * versions.
 *
 * Tree versions.  croot is the last committed tree (reads), froot the
 * tree frozen by btree_commit_begin while its batch is written (NULL
 * slot when no commit is in flight), proot the pending tree (mutations).
 * Each root slot holds one reference on its root node.  A mutation
 * shadow-copies (clones) every node on its path that is not mutable
 * (node->gen != bt->gen), so nodes reachable from croot or froot never
 * change.  btree_commit_begin serializes every dirty node of proot,
 * children first, assigns log addresses, freezes proot as froot and bumps
 * bt->gen so that later mutations copy again.  btree_commit_end makes
 * froot the committed tree; unreferenced nodes of the old one are freed.
 *
 * Nodes are loaded lazily: a child slot with n == NULL is read from the
 * log on first use, checked (page_decode, then level and key bounds
 * against the parent) and cached in the slot.
 */

#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crc32c/crc32c.h"
#include "log/log.h"

#include "btree.h"
#include "node.h"
#include "page.h"
#include "pagestore.h"
#include "reader.h"

struct pathent {
	struct node *nd;
	uint32_t idx;
};

struct btree {
	struct pagestore *ps;
	size_t pagesize;
	size_t maxk, maxv;
	struct bt_child croot, froot, proot;
	uint64_t gen;		/* generation of mutable nodes */
	uint64_t seq;		/* sequence number of croot */
	size_t npending;
	int inflight;
	int failed;		/* a mutation failed halfway: refuse more */

	/* The frozen batch. */
	uint8_t *batch;
	size_t batchlen, batchcap;
	uint64_t batchaddr;
	struct node **dirty;
	size_t ndirty, dirtycap;

	/* Scratch page buffer for reads. */
	uint8_t *rbuf;

	/*
	 * Reads off the loop (btree_io_start): with nowait set, a page that
	 * is not in memory is queued on the reader and the lookup fails
	 * with again set (BTREE_AGAIN); its bytes wait in the reader's
	 * table, by address, until a lookup takes them.  Commit-time and
	 * fix-up loads clear nowait (see load).
	 */
	struct reader *rd;
	int nowait;
	int again;
	uint64_t lastwait;	/* the page the last BTREE_AGAIN waits for */
	uint64_t pagesasync;	/* pages taken from the reader */
	uint64_t pagesnowait;	/* read at once, from the OS page cache */
	int trycache;		/* try pagestore_read_nowait first */
	int incommit;		/* in btree_commit_begin (the cleaner) */
	uint64_t pagescommit;	/* read at once by the cleaner */

	/*
	 * The finger: the path to the last mutated leaf, all mutable, and
	 * the key range that leads to that leaf.  Sequential mutations skip
	 * the descent.  Valid only while nothing restructured the pending
	 * tree (fixup clears it) and the generation holds (commit_begin
	 * clears it); mutable nodes are never evicted.
	 */
	int fvalid;
	int fdepth;
	struct pathent fpath[NODE_MAXLEVEL + 1];
	struct node *fleaf;
	uint8_t flo[255], fhi[255];
	size_t flol, fhil;
	int fhaslo, fhashi;

	/* The page cache: clean nodes are dropped past cachebytes. */
	size_t cachebytes;	/* 0 = unlimited */
	uint64_t durable;	/* pages below this address are durable */
	uint64_t evicted, sweeps;
	size_t arenakeep;	/* freed arenas kept for reuse, bytes */
	size_t sweepfloor;	/* node memory after the last sweep */
	size_t dirtymax;	/* btree_dirty_bytes's limit; 0 = none */
	struct timespec lasttrim;	/* last malloc_trim */

	/*
	 * Tree bytes: the total length of the pages reachable from the root
	 * of the last frozen tree, and the bytes of on-disk pages the pending
	 * tree has dropped since (copied or merged away).
	 */
	uint64_t treebytes;
	uint64_t killed;

	/* The cleaner (see clean_step). */
	double costratio;
	uint32_t cseg;		/* segment being cleaned; 0 = none */
	uint64_t coff, csize;	/* scan position and segment size */
	int cstate;		/* CL_* */
	struct cwait {		/* scanned segments awaiting deletion */
		uint32_t seg;
		uint64_t at;	/* delete once bt->seq reaches this */
		uint64_t size;
	} *cwait;
	size_t ncwait, cwaitcap;
	uint64_t cwaitbytes;	/* their total size */
	uint8_t *cbuf;
	size_t cbufcap;
	uint64_t cmoved;	/* bytes of live pages moved this commit */
	uint64_t userbatch;	/* last batch less what the cleaner moved */

	/*
	 * Live bytes per segment (for the statistics): seglive[s] is the
	 * length of the pages of segment s that the pending tree references,
	 * exact for the segments created since the store was opened (from
	 * segknown on: a commit adds its pages, a page leaving the pending
	 * tree is subtracted); older ones would need a walk of the whole
	 * tree, and the cleaner takes them oldest first anyway.
	 */
	uint64_t *seglive;
	uint32_t nseglive;
	uint32_t segknown;

	/* Open snapshots (btree_snapshot_open), newest first. */
	struct btree_snap *snaps;
	size_t nsnaps;

	/* Statistics. */
	uint64_t commits, pageswritten, byteswritten, pagesread;
	uint64_t cleanedsegs, cleanedpages, cleanscanned;
	size_t lastdirty;
};

/* The cleaner reads segments this many bytes at a time. */
#define CLEAN_CHUNK	(1024 * 1024)

/* Cleaner states. */
#define CL_IDLE		0	/* no victim */
#define CL_SCAN		1	/* scanning cseg from coff */
#define CL_STUCK	3	/* a damaged record: cleaning stopped */

/* A pinned committed tree (btree_snapshot_open). */
struct btree_snap {
	struct bt_child root;	/* holds a reference on root.n */
	uint64_t seq;		/* commit sequence number of root */
	uint32_t lastseg;	/* segment of the end of that commit */
	struct btree_snap *prev, *next;
};

enum op { OP_SET, OP_ADD, OP_MODIFY, OP_CAS, OP_DELETE, OP_CAD };

/**
 * btree_maxsizes(pagesize, maxkey, maxval):
 * Longest key and value pages of ${pagesize} bytes can hold.
 */
int
btree_maxsizes(size_t pagesize, size_t *maxkey, size_t *maxval)
{
	size_t leaf, inner, k;

	if (pagesize < 512 || pagesize > 131072)
		return (-1);

	/* A leaf must hold two maximal pairs. */
	leaf = (pagesize - NODE_HDR) / 2 - 2;
	/* An internal node must hold three maximal separators. */
	inner = (pagesize - NODE_HDR - NODE_INT_BASE) / 3 - 9;
	k = leaf / 2;
	if (k > inner)
		k = inner;
	if (k > 255)
		k = 255;
	*maxkey = k;
	*maxval = (leaf - k > 255) ? 255 : leaf - k;
	return (0);
}

/*
 * Load the child in slot ${c} (of ${parent}, index ${i}; parent NULL for a
 * root) if needed, and check it against the parent's level and key
 * bounds.  Return it or NULL on error (logged with file and offset).
 */
static struct node *
load(struct btree *bt, struct node *parent, uint32_t i, struct bt_child *c)
{
	struct node *nd;
	char where[256], err[128];
	const uint8_t *lo = NULL, *hi = NULL, *k, *buf = bt->rbuf;
	size_t lol = 0, hil = 0, kl, len;
	int taken = 0;

	if (c->n != NULL)
		return (c->n);
	if (bt->rd != NULL) {
		switch (reader_lookup(bt->rd, c->addr, &buf, &len)) {
		case READER_DONE:
			taken = 1;
			bt->pagesasync++;
			break;
		case READER_FAILED:
			/* Logged by the reader; a later lookup reads again. */
			reader_release(bt->rd, c->addr);
			return (NULL);
		case READER_PENDING:
			if (bt->nowait) {
				bt->again = 1;
				bt->lastwait = c->addr;
				return (NULL);
			}
			break;
		default:
			if (!bt->nowait)
				break;
			/* In the OS page cache: no device wait, read it. */
			if (bt->trycache && pagestore_read_nowait(bt->ps,
			    c->addr, bt->rbuf, &len) == 0) {
				buf = bt->rbuf;
				taken = 2;
				bt->pagesnowait++;
				break;
			}
			/* No free slot: wait for a completion. */
			(void)reader_submit(bt->rd, c->addr);
			bt->again = 1;
			bt->lastwait = c->addr;
			return (NULL);
		}
	}
	if (!taken) {
		buf = bt->rbuf;
		if (pagestore_read(bt->ps, c->addr, bt->rbuf, &len))
			return (NULL);
		if (bt->incommit)
			bt->pagescommit++;
	}
	bt->pagesread++;
	nd = page_decode(buf, len, c->addr, bt->pagesize, bt->maxk, bt->maxv,
	    err, sizeof(err));
	if (taken == 1)
		reader_release(bt->rd, c->addr);
	if (nd == NULL)
		goto bad;
	if (parent != NULL) {
		if (nd->level + 1 != parent->level) {
			snprintf(err, sizeof(err), "page level %u under a "
			    "level %u parent", nd->level, parent->level);
			goto bad1;
		}
		if (i > 0)
			lo = node_key(parent, i - 1, &lol);
		if (i < parent->n)
			hi = node_key(parent, i, &hil);
		if (nd->n > 0) {
			k = node_key(nd, 0, &kl);
			if (lo != NULL && node_cmp(k, kl, lo, lol) < 0) {
				snprintf(err, sizeof(err),
				    "first key below its parent's range");
				goto bad1;
			}
			k = node_key(nd, nd->n - 1, &kl);
			if (hi != NULL && node_cmp(k, kl, hi, hil) >= 0) {
				snprintf(err, sizeof(err),
				    "last key above its parent's range");
				goto bad1;
			}
		}
	}
	c->n = nd;
	return (nd);

bad1:
	node_unref(nd);
bad:
	pagestore_where(bt->ps, c->addr, where, sizeof(where));
	warn0("damaged page at %s: %s", where, err);
	return (NULL);
}

/* Child ${i} of ${nd}, loaded, marked as used. */
static inline struct node *
child(struct btree *bt, struct node *nd, uint32_t i)
{
	struct node *c = nd->kids[i].n;

	if (c == NULL && (c = load(bt, nd, i, &nd->kids[i])) == NULL)
		return (NULL);
	/* Do not dirty the cache line when the mark is already set. */
	if (!c->used)
		c->used = 1;
	return (c);
}

/*
 * Drop clean children below ${nd} not used since the last sweep (and
 * clear the mark of the others), deepest first, until node memory is at
 * most ${target}.  Only pages below bt->durable are dropped: they can be
 * read back.  A dropped slot keeps the child's address, so the child is
 * loaded again on its next use.  Dropping a slot of a shared frozen node
 * changes no content, as loading one does.
 */
static void
sweep(struct btree *bt, struct node *nd, size_t target)
{
	struct node *c;
	uint32_t i;

	for (i = 0; i <= nd->n; i++) {
		if ((c = nd->kids[i].n) == NULL)
			continue;
		if (c->level > 0)
			sweep(bt, c, target);
		if (node_memory() <= target)
			return;
		if (c->used) {
			c->used = 0;
			continue;
		}
		if (c->addr == 0 || c->addr >= bt->durable)
			continue;
		nd->kids[i].addr = c->addr;
		nd->kids[i].n = NULL;
		node_unref(c);
		bt->evicted++;
	}
}

/* Sweep the trees pinned by snapshots (their pages are all durable). */
static void
snap_sweep(struct btree *bt, size_t target)
{
	struct btree_snap *s;

	for (s = bt->snaps; s != NULL; s = s->next) {
		if (node_memory() <= target)
			return;
		if (s->root.n != NULL && s->root.n->level > 0)
			sweep(bt, s->root.n, target);
	}
}

/*
 * If nodes hold more than the cache budget, sweep the trees (a clock
 * algorithm: a second pass finds what the first unmarked) down to 90%
 * of the budget.  Called only at the start of an entry point, when no
 * node pointer is held across it.
 */
static void
evict(struct btree *bt)
{
	size_t target;
	int pass;

	if (bt->cachebytes == 0 || node_memory() <= bt->cachebytes)
		return;
	/*
	 * Dirty nodes cannot be dropped: if the last sweep could not get
	 * below the budget, sweep again only once memory has grown by a
	 * thirty-second of it (or a commit made pages droppable), rather
	 * than walking the whole tree on every request.
	 */
	if (node_memory() <= bt->sweepfloor + bt->cachebytes / 32)
		return;
	target = bt->cachebytes - bt->cachebytes / 10;
	/*
	 * Free the arenas kept for reuse first, and keep none of those the
	 * sweep releases (they would count without the memory going down).
	 */
	node_arena_keep(0);
	for (pass = 0; pass < 2 && node_memory() > target; pass++) {
		bt->sweeps++;
		if (bt->croot.n != NULL && bt->croot.n->level > 0)
			sweep(bt, bt->croot.n, target);
		if (bt->proot.n != NULL && bt->proot.n != bt->croot.n &&
		    bt->proot.n->level > 0)
			sweep(bt, bt->proot.n, target);
		snap_sweep(bt, target);
	}
	node_arena_keep(bt->arenakeep);
	bt->sweepfloor = node_memory();
}

/**
 * btree_open(opts):
 * Lock, recover and return the store.
 */
struct btree *
btree_open(const struct btree_opts *opts)
{
	struct btree *bt;
	struct page_commit c;
	unsigned long long segsize;
	const char *env;

	if ((bt = calloc(1, sizeof(*bt))) == NULL) {
		warnp("calloc");
		goto err0;
	}
	if (btree_maxsizes(opts->pagesize, &bt->maxk, &bt->maxv)) {
		warn0("page size %zu is outside 512..131072", opts->pagesize);
		goto err1;
	}
	bt->pagesize = opts->pagesize;
	bt->costratio = opts->costratio;
	bt->cachebytes = opts->cachebytes;
	bt->gen = 1;
	node_dirty_gen(bt->gen);
	/*
	 * Under a budget below the default, large buffers (a commit's
	 * batch, the cleaner's reads) come from mmap and go back to the
	 * system when freed (glibc otherwise raises this threshold as they
	 * are freed, and the heap keeps tens of MiB the budget does not
	 * see).  It costs page faults per commit, hence not by default.
	 */
	if (opts->cachebytes != 0 && opts->cachebytes < (128 << 20))
		(void)mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
	/* Freed arenas kept for reuse: a sixteenth of the cache at most. */
	bt->arenakeep = bt->cachebytes != 0 && bt->cachebytes < (128 << 20) ?
	    bt->cachebytes / 16 : 8 << 20;
	node_arena_keep(bt->arenakeep);
	/* Dirty nodes of a batch: a quarter of the cache, at least 1 MiB. */
	if (bt->cachebytes != 0) {
		bt->dirtymax = bt->cachebytes / 4;
		if (bt->dirtymax < 1024 * 1024)
			bt->dirtymax = 1024 * 1024;
	}
	if ((bt->rbuf = malloc(bt->pagesize)) == NULL) {
		warnp("malloc");
		goto err1;
	}
	/*
	 * KVLDS_SEGMENT_SIZE (bytes, at least 64 KiB) lets tests exercise the
	 * cleaner on small stores; it is not an operator setting.
	 */
	if ((env = getenv("KVLDS_SEGMENT_SIZE")) != NULL &&
	    (segsize = strtoull(env, NULL, 10)) >= 65536 &&
	    segsize <= (1ULL << 31))
		pagestore_set_segsize((size_t)segsize);
	if ((bt->ps = pagestore_open(opts->dir, opts->pagesize, &c)) == NULL)
		goto err1;
	bt->seq = c.seq;
	bt->treebytes = c.treebytes;
	/*
	 * Segments created from now on have exact live counts (all of them
	 * if the tree is empty: no page is live anywhere).
	 */
	bt->segknown = c.root == 0 ? 1 : (uint32_t)(c.bend >> 32) + 1;
	bt->durable = c.bend;
	bt->croot.addr = c.root;
	if (c.root != 0 && load(bt, NULL, 0, &bt->croot) == NULL) {
		warn0("%s: cannot read the root page of commit %llu",
		    opts->dir, (unsigned long long)c.seq);
		goto err2;
	}
	bt->proot = bt->croot;
	if (bt->proot.n != NULL)
		node_ref(bt->proot.n);
	return (bt);

err2:
	pagestore_close(bt->ps);
err1:
	free(bt->rbuf);
	free(bt);
err0:
	return (NULL);
}

/**
 * btree_close(bt):
 * Free everything and unlock.
 */
void
btree_close(struct btree *bt)
{
	struct btree_snap *snap, *snapnext;

	if (bt == NULL)
		return;
	reader_free(bt->rd);
	for (snap = bt->snaps; snap != NULL; snap = snapnext) {
		snapnext = snap->next;
		node_unref(snap->root.n);
		free(snap);
	}
	bt->snaps = NULL;
	node_unref(bt->croot.n);
	node_unref(bt->froot.n);
	node_unref(bt->proot.n);
	pagestore_close(bt->ps);
	free(bt->batch);
	free(bt->dirty);
	free(bt->rbuf);
	free(bt->cbuf);
	free(bt->cwait);
	free(bt->seglive);
	free(bt);
	node_arena_keep(0);
	node_arena_keep(8 << 20);
}

static int range_in(struct btree *, struct bt_child *, const uint8_t *,
    size_t, const uint8_t *, size_t, size_t, btree_range_cb *, void *,
    uint8_t [255], size_t *);

/* Find ${key} in the tree at ${root}: leaf and index, *eq if present. */
static struct node *
find(struct btree *bt, struct bt_child *root, const uint8_t *key, size_t kl,
    uint32_t *idx, int *eq)
{
	struct node *nd;

	if ((nd = root->n) == NULL) {
		*eq = 0;
		*idx = 0;
		return (NULL);
	}
	while (nd->level > 0) {
		if ((nd = child(bt, nd, node_childidx(nd, key, kl))) == NULL)
			return (NULL);
	}
	*idx = node_lower(nd, key, kl, eq);
	return (nd);
}

/**
 * btree_get(bt, key, klen, val, vlen):
 * Look up a key in the committed tree.
 */
int
btree_get(struct btree *bt, const uint8_t *key, size_t klen,
    const uint8_t **val, size_t *vlen)
{
	struct node *nd, *c;
	uint32_t h, i;

	evict(bt);
	if ((nd = bt->croot.n) == NULL)
		return (1);
	bt->again = 0;
	h = node_hash(key, klen);
	while (nd->level > 0) {
		i = node_childidx(nd, key, klen);
		/* Fetch a leaf's header and index slot together. */
		if ((c = nd->kids[i].n) != NULL && nd->level == 1)
			node_hprefetch(c, h);
		if ((nd = child(bt, nd, i)) == NULL)
			return (bt->again ? BTREE_AGAIN : -1);
	}
	/* Committed leaves never change: look them up by hash. */
	if ((*val = node_hfind(nd, key, klen, h, vlen)) == NULL)
		return (1);
	return (0);
}

/* Lookups interleaved by btree_get_batch. */
#define GET_GROUP	16

/*
 * Look up the ${n} <= GET_GROUP keys of a group level by level: at each
 * level every lookup picks its child and prefetches it, then the next
 * level reads the children (by then in cache, or on their way) while
 * the other lookups' misses are outstanding.  The leaf step does the
 * same for the inline hash slot and then for the entry it points to.
 */
static int
get_group(struct btree *bt, size_t n, const uint8_t *const *keys,
    const size_t *klens, const uint8_t **vals, size_t *vlens, int *res,
    uint64_t *waits)
{
	struct node *nd[GET_GROUP], *c;
	uint32_t h[GET_GROUP], i, x;
	size_t j;
	int level, rc = 0;

	for (j = 0; j < n; j++) {
		nd[j] = bt->croot.n;
		h[j] = node_hash(keys[j], klens[j]);
		res[j] = 1;
	}
	for (level = bt->croot.n->level; level > 0; level--) {
		for (j = 0; j < n; j++) {
			if (nd[j] == NULL)
				continue;
			if (!nd[j]->used)
				nd[j]->used = 1;
			i = node_childidx(nd[j], keys[j], klens[j]);
			if ((c = nd[j]->kids[i].n) == NULL) {
				/* Not cached: read it now (or queue it). */
				bt->again = 0;
				if ((c = load(bt, nd[j], i,
				    &nd[j]->kids[i])) == NULL) {
					if (bt->again) {
						res[j] = BTREE_AGAIN;
						if (waits != NULL)
							waits[j] = nd[j]->
							    kids[i].addr;
					} else {
						res[j] = -1;
						rc = -1;
					}
				}
			} else if (level == 1)
				node_hprefetch(c, h[j]);
			else
				__builtin_prefetch(c);
			nd[j] = c;
		}
	}

	/* Leaves: fetch the entry each inline hash slot points to. */
	for (j = 0; j < n; j++) {
		if ((c = nd[j]) == NULL)
			continue;
		if (!c->used)
			c->used = 1;
		if (c->hinl &&
		    (x = c->hs[h[j] & (NODE_HINL - 1)]) != 0) {
			__builtin_prefetch(&c->arena[x - 1]);
			__builtin_prefetch(&c->arena[x - 1 + 64]);
		}
	}
	for (j = 0; j < n; j++) {
		if (nd[j] == NULL)
			continue;
		if ((vals[j] = node_hfind(nd[j], keys[j], klens[j], h[j],
		    &vlens[j])) != NULL)
			res[j] = 0;
	}
	return (rc);
}

/**
 * btree_get_batch(bt, n, keys, klens, vals, vlens, res):
 * Look up ${n} keys in the committed tree, interleaved.
 */
int
btree_get_batch(struct btree *bt, size_t n, const uint8_t *const *keys,
    const size_t *klens, const uint8_t **vals, size_t *vlens, int *res)
{

	return (btree_get_batch_wait(bt, n, keys, klens, vals, vlens, res,
	    NULL));
}

/**
 * btree_get_batch_wait(bt, n, keys, klens, vals, vlens, res, waits):
 * btree_get_batch, with the address each BTREE_AGAIN waits for.
 */
int
btree_get_batch_wait(struct btree *bt, size_t n, const uint8_t *const *keys,
    const size_t *klens, const uint8_t **vals, size_t *vlens, int *res,
    uint64_t *waits)
{
	size_t j, m;
	int rc = 0;

	evict(bt);
	if (bt->croot.n == NULL) {
		for (j = 0; j < n; j++)
			res[j] = 1;
		return (0);
	}
	for (j = 0; j < n; j += m) {
		m = n - j < GET_GROUP ? n - j : GET_GROUP;
		if (get_group(bt, m, &keys[j], &klens[j], &vals[j],
		    &vlens[j], &res[j], waits != NULL ? &waits[j] : NULL))
			rc = -1;
	}
	return (rc);
}

/**
 * btree_range(bt, start, slen, end, elen, maxbytes, cb, cookie, next,
 *     nextlen):
 * Iterate over [start, end) in the committed tree.
 */
int
btree_range(struct btree *bt, const uint8_t *start, size_t slen,
    const uint8_t *end, size_t elen, size_t maxbytes,
    btree_range_cb *cb, void *cookie, uint8_t next[255], size_t *nextlen)
{

	return (range_in(bt, &bt->croot, start, slen, end, elen, maxbytes,
	    cb, cookie, next, nextlen));
}

/**
 * btree_snapshot_open(bt, seq):
 * Pin the committed tree.
 */
struct btree_snap *
btree_snapshot_open(struct btree *bt, uint64_t *seq)
{
	struct btree_snap *s;

	if ((s = malloc(sizeof(*s))) == NULL) {
		warnp("malloc");
		return (NULL);
	}
	s->root = bt->croot;
	if (s->root.n != NULL)
		node_ref(s->root.n);
	s->seq = bt->seq;
	s->lastseg = (uint32_t)(bt->durable >> 32);
	s->prev = NULL;
	s->next = bt->snaps;
	if (bt->snaps != NULL)
		bt->snaps->prev = s;
	bt->snaps = s;
	bt->nsnaps++;
	if (seq != NULL)
		*seq = s->seq;
	return (s);
}

/**
 * btree_snapshot_range(bt, snap, start, slen, end, elen, maxbytes, cb,
 *     cookie, next, nextlen):
 * Iterate over [start, end) in the pinned tree.
 */
int
btree_snapshot_range(struct btree *bt, struct btree_snap *snap,
    const uint8_t *start, size_t slen, const uint8_t *end, size_t elen,
    size_t maxbytes, btree_range_cb *cb, void *cookie, uint8_t next[255],
    size_t *nextlen)
{

	return (range_in(bt, &snap->root, start, slen, end, elen, maxbytes,
	    cb, cookie, next, nextlen));
}

/**
 * btree_snapshot_close(bt, snap):
 * Release a pinned tree.
 */
void
btree_snapshot_close(struct btree *bt, struct btree_snap *snap)
{

	if (snap == NULL)
		return;
	if (snap->prev != NULL)
		snap->prev->next = snap->next;
	else
		bt->snaps = snap->next;
	if (snap->next != NULL)
		snap->next->prev = snap->prev;
	bt->nsnaps--;
	node_unref(snap->root.n);
	free(snap);
}

/**
 * btree_snapshot_count(bt):
 * Open snapshots.
 */
size_t
btree_snapshot_count(struct btree *bt)
{

	return (bt->nsnaps);
}

/* btree_range over the tree at ${root}. */
static int
range_in(struct btree *bt, struct bt_child *root, const uint8_t *start,
    size_t slen, const uint8_t *end, size_t elen, size_t maxbytes,
    btree_range_cb *cb, void *cookie, uint8_t next[255], size_t *nextlen)
{
	struct pathent path[NODE_MAXLEVEL + 1];
	struct node *nd;
	const uint8_t *k, *v;
	size_t kl, vl, total = 0, count = 0, cost;
	uint32_t i;
	int d, depth, eq;

	*nextlen = 0;
	evict(bt);
	if ((nd = root->n) == NULL)
		return (0);
	bt->again = 0;

	/* Descend to the first key >= start. */
	for (depth = 0; nd->level > 0; depth++) {
		path[depth].nd = nd;
		path[depth].idx = node_childidx(nd, start, slen);
		if ((nd = child(bt, nd, path[depth].idx)) == NULL)
			return (bt->again ? BTREE_AGAIN : -1);
	}
	i = node_lower(nd, start, slen, &eq);

	for (;;) {
		/* Past this leaf: climb to the next subtree, go leftmost. */
		while (i >= nd->n) {
			for (d = depth - 1; d >= 0; d--)
				if (path[d].idx < path[d].nd->n)
					break;
			if (d < 0)
				return (0);
			path[d].idx++;
			nd = path[d].nd;
			for (; d < depth; d++) {
				path[d].nd = nd;
				if ((nd = child(bt, nd, path[d].idx)) == NULL)
					return (bt->again ? BTREE_AGAIN : -1);
				if (d + 1 < depth)
					path[d + 1].idx = 0;
			}
			i = 0;
		}
		k = node_key(nd, i, &kl);
		if (elen > 0 && node_cmp(k, kl, end, elen) >= 0)
			return (0);
		v = node_val(nd, i, &vl);
		cost = 2 + kl + vl;
		if (count > 0 && total + cost > maxbytes) {
			memcpy(next, k, kl);
			*nextlen = kl;
			return (0);
		}
		if (cb(cookie, k, kl, v, vl))
			return (-1);
		total += cost;
		count++;
		i++;
	}
}

/*
 * Add ${len} bytes (negative: remove) to the live bytes of the segment
 * of ${addr}, if that segment's count is known.
 */
static void
seglive_add(struct btree *bt, uint64_t addr, int64_t len)
{
	uint32_t seg = (uint32_t)(addr >> 32);
	uint64_t *nl;
	uint32_t ncap;

	if (seg < bt->segknown)
		return;
	if (seg >= bt->nseglive) {
		ncap = bt->nseglive ? bt->nseglive : 64;
		while (ncap <= seg)
			ncap *= 2;
		/* Without memory the counts are only statistics: skip. */
		if ((nl = realloc(bt->seglive, ncap * sizeof(*nl))) == NULL)
			return;
		memset(&nl[bt->nseglive], 0,
		    (ncap - bt->nseglive) * sizeof(*nl));
		bt->seglive = nl;
		bt->nseglive = ncap;
	}
	bt->seglive[seg] += (uint64_t)len;
}

/* The on-disk page of ${nd} leaves the pending tree. */
static void
page_dropped(struct btree *bt, const struct node *nd)
{

	bt->killed += nd->size;
	seglive_add(bt, nd->addr, -(int64_t)nd->size);
}

/* Make the node in slot ${c} mutable (clone it); return it or NULL. */
static struct node *
mutable(struct btree *bt, struct node *parent, uint32_t i, struct bt_child *c)
{
	struct node *nd, *cl;

	if ((nd = load(bt, parent, i, c)) == NULL)
		return (NULL);
	if (nd->gen == bt->gen)
		return (nd);
	if ((cl = node_clone(nd, bt->gen)) == NULL)
		return (NULL);
	/* The on-disk page leaves the pending tree. */
	if (nd->addr != 0)
		page_dropped(bt, nd);
	c->addr = 0;
	c->n = cl;
	node_unref(nd);
	return (cl);
}

/*
 * Restore the size invariants on the path after a change to the node at
 * depth ${d} (path[0..d) are its mutable ancestors).  ${rightedge}: the
 * change was an insertion at the node's last position.  ${shrunk}: the
 * node may have become smaller (only then is it merged with a sibling: a
 * node that just grew, such as the one-pair right half of a packed split,
 * is left alone).
 */
static int
fixup(struct btree *bt, struct pathent *path, int d, struct node *nd,
    int rightedge, int shrunk)
{
	struct node *par, *l, *r, *nr, *root;
	struct bt_child c;
	uint8_t sep[255];
	size_t seplen, kl;
	const uint8_t *k;
	uint32_t i, li;

	for (;;) {
		if (nd->size > bt->pagesize) {
			bt->fvalid = 0;
			if (node_split(nd, bt->pagesize, rightedge, bt->gen,
			    &nr, sep, &seplen))
				return (-1);
			if (d == 0) {
				/* A new root above the old one. */
				if ((root = node_new(nd->level + 1, bt->gen))
				    == NULL)
					goto err1;
				c.addr = 0;
				c.n = nd;
				if (node_int_setkid0(root, c))
					goto err2;
				c.n = nr;
				if (node_int_insert(root, 0, sep, seplen, c))
					goto err3;
				bt->proot.addr = 0;
				bt->proot.n = root;
				return (0);
			}
			par = path[d - 1].nd;
			i = path[d - 1].idx;
			c.addr = 0;
			c.n = nr;
			if (node_int_insert(par, i, sep, seplen, c))
				goto err1;
			rightedge = (i + 1 == par->n);
			shrunk = 0;
			nd = par;
			d--;
			continue;
		}
		if (d == 0) {
			/* Collapse a root left with one child or no pair. */
			if ((nd->level > 0 && nd->n == 0) ||
			    (nd->level == 0 && nd->n == 0))
				bt->fvalid = 0;
			while (nd->level > 0 && nd->n == 0) {
				c = nd->kids[0];
				nd->kids[0].n = NULL;
				/*
				 * Unreadable child: the root keeps it as its
				 * only child, which is a valid tree.
				 */
				if (c.n == NULL && load(bt, NULL, 0, &c) == NULL)
					return (0);
				node_unref(nd);
				bt->proot = c;
				nd = c.n;
			}
			if (nd->level == 0 && nd->n == 0) {
				node_unref(nd);
				bt->proot.addr = 0;
				bt->proot.n = NULL;
			}
			return (0);
		}
		if (nd->level == 0 && nd->n == 0) {
			/*
			 * An empty leaf must never reach a page (it is
			 * refused when read back).  It leaves its parent at
			 * once, which needs no sibling: a merge with one that
			 * cannot be read would leave it in the tree.  A
			 * parent left with no child goes the same way.
			 */
			bt->fvalid = 0;
			while (d > 0 && path[d - 1].nd->n == 0)
				nd = path[--d].nd;
			if (d == 0) {
				/* Nothing is left in the tree. */
				node_unref(bt->proot.n);
				bt->proot.addr = 0;
				bt->proot.n = NULL;
				return (0);
			}
			par = path[d - 1].nd;
			i = path[d - 1].idx;
			if (i > 0) {
				c = node_int_remove(par, i - 1);
			} else {
				c = par->kids[0];
				par->kids[0] = node_int_remove(par, 0);
			}
			node_unref(c.n);
			rightedge = 0;
			shrunk = 1;
			nd = par;
			d--;
			continue;
		}
		if (!shrunk || (nd->size >= bt->pagesize / 4 && nd->n > 0))
			return (0);

		/* Underfull: merge with a sibling, or share with it. */
		bt->fvalid = 0;
		par = path[d - 1].nd;
		i = path[d - 1].idx;
		if (par->n == 0) {
			nd = par;
			d--;
			continue;
		}
		li = (i > 0) ? i - 1 : 0;
		if ((l = mutable(bt, par, li, &par->kids[li])) == NULL ||
		    (r = load(bt, par, li + 1, &par->kids[li + 1])) == NULL) {
			/* Leave the node underfull; the tree stays valid. */
			return (0);
		}
		k = node_key(par, li, &kl);
		memcpy(sep, k, kl);
		seplen = kl;
		if (node_merge(l, sep, seplen, r))
			return (-1);
		c = node_int_remove(par, li);
		if (c.n->addr != 0)
			page_dropped(bt, c.n);
		node_unref(c.n);
		if (l->size > bt->pagesize) {
			if (node_split(l, bt->pagesize, 0, bt->gen, &nr, sep,
			    &seplen))
				return (-1);
			c.addr = 0;
			c.n = nr;
			if (node_int_insert(par, li, sep, seplen, c))
				goto err1;
		}
		rightedge = 0;
		shrunk = 1;
		nd = par;
		d--;
	}

err3:
	root->kids[0].n = NULL;
err2:
	node_unref(root);
err1:
	node_unref(nr);
	return (-1);
}

/* Remember the path to leaf ${nd} as the finger. */
static void
finger_set(struct btree *bt, const struct pathent *path, int d,
    struct node *nd)
{
	const uint8_t *k;
	size_t kl;
	int j;

	bt->fhaslo = bt->fhashi = 0;
	for (j = d - 1; j >= 0 && !(bt->fhaslo && bt->fhashi); j--) {
		if (!bt->fhaslo && path[j].idx > 0) {
			k = node_key(path[j].nd, path[j].idx - 1, &kl);
			memcpy(bt->flo, k, kl);
			bt->flol = kl;
			bt->fhaslo = 1;
		}
		if (!bt->fhashi && path[j].idx < path[j].nd->n) {
			k = node_key(path[j].nd, path[j].idx, &kl);
			memcpy(bt->fhi, k, kl);
			bt->fhil = kl;
			bt->fhashi = 1;
		}
	}
	memcpy(bt->fpath, path, (size_t)d * sizeof(*path));
	bt->fdepth = d;
	bt->fleaf = nd;
	bt->fvalid = 1;
}

/* Does the finger lead to the leaf for ${k}? */
static int
finger_ok(struct btree *bt, const uint8_t *k, size_t kl)
{

	return (bt->fvalid && bt->fleaf->gen == bt->gen &&
	    (!bt->fhaslo || node_cmp(k, kl, bt->flo, bt->flol) >= 0) &&
	    (!bt->fhashi || node_cmp(k, kl, bt->fhi, bt->fhil) < 0));
}

/*
 * A mutation's descent failed before changing anything: BTREE_AGAIN if
 * a page is being read (the mutation is not counted), else -1.
 */
static int
mutate_again(struct btree *bt)
{

	if (!bt->again)
		return (-1);
	bt->npending--;
	return (BTREE_AGAIN);
}

/* Apply one mutation to the pending tree. */
static int
mutate(struct btree *bt, enum op op, const uint8_t *k, size_t kl,
    const uint8_t *v, size_t vl, const uint8_t *ov, size_t ol)
{
	struct pathent path[NODE_MAXLEVEL + 1];
	struct node *nd;
	const uint8_t *cv = NULL;
	size_t cvl = 0;
	uint32_t i;
	int d, eq, change, rightedge = 0, shrink = 0, nowait, rc;

	if (bt->failed) {
		warn0("the store refuses writes after an earlier failure");
		return (-1);
	}
	if (kl > bt->maxk || vl > bt->maxv || ol > bt->maxv) {
		warn0("key or value too long for %zu-byte pages",
		    bt->pagesize);
		return (-1);
	}
	bt->npending++;
	evict(bt);
	bt->again = 0;

	/* Decide the status on a read-only descent first (not for SET). */
	eq = 0;
	if (op != OP_SET && bt->proot.n != NULL) {
		if (finger_ok(bt, k, kl)) {
			nd = bt->fleaf;
			i = node_lower(nd, k, kl, &eq);
		} else if ((nd = find(bt, &bt->proot, k, kl, &i, &eq)) ==
		    NULL)
			return (mutate_again(bt));
		if (eq)
			cv = node_val(nd, i, &cvl);
	}
	switch (op) {
	case OP_SET:
		change = 1;
		break;
	case OP_ADD:
		if (eq)
			return (1);
		change = 1;
		break;
	case OP_MODIFY:
		if (!eq)
			return (1);
		change = 1;
		break;
	case OP_CAS:
		if (!eq || cvl != ol || memcmp(cv, ov, ol) != 0)
			return (1);
		change = 1;
		break;
	case OP_DELETE:
		change = eq;
		break;
	case OP_CAD:
		if (!eq || cvl != ol || memcmp(cv, ov, ol) != 0)
			return (1);
		change = 1;
		break;
	default:
		return (-1);
	}
	if (!change)
		return (0);
	/* Unchanged value: nothing to write. */
	if (op != OP_DELETE && op != OP_CAD && op != OP_SET && eq &&
	    cvl == vl && memcmp(cv, v, vl) == 0)
		return (0);

	/* Copy-on-write descent, unless the finger leads there. */
	if (finger_ok(bt, k, kl)) {
		d = bt->fdepth;
		memcpy(path, bt->fpath, (size_t)d * sizeof(*path));
		nd = bt->fleaf;
	} else {
		if (bt->proot.n == NULL) {
			if ((nd = node_new(0, bt->gen)) == NULL)
				return (-1);
			bt->proot.addr = 0;
			bt->proot.n = nd;
		} else if ((nd = mutable(bt, NULL, 0, &bt->proot)) == NULL) {
			return (mutate_again(bt));
		}
		/*
		 * A page not in memory stops the descent (BTREE_AGAIN): the
		 * copies made above it are harmless, nothing has changed.
		 */
		for (d = 0; nd->level > 0; d++) {
			path[d].nd = nd;
			path[d].idx = i = node_childidx(nd, k, kl);
			if ((nd = mutable(bt, nd, i, &nd->kids[i])) == NULL)
				return (mutate_again(bt));
		}
		finger_set(bt, path, d, nd);
	}
	i = node_lower(nd, k, kl, &eq);

	/* The leaf change itself. */
	if (op == OP_DELETE || op == OP_CAD) {
		node_leaf_remove(nd, i);
		shrink = 1;
	} else if (eq) {
		(void)node_val(nd, i, &cvl);
		shrink = (vl < cvl);
		if (node_leaf_setval(nd, i, v, vl))
			return (-1);
		/* Same length: the size is unchanged. */
		if (cvl == vl)
			return (0);
	} else {
		if (node_leaf_insert(nd, i, k, kl, v, vl))
			return (-1);
		rightedge = (i + 1 == nd->n);
	}
	/* The change is made: the fix-up reads what it needs at once. */
	nowait = bt->nowait;
	bt->nowait = 0;
	rc = fixup(bt, path, d, nd, rightedge, shrink);
	bt->nowait = nowait;
	if (rc) {
		bt->failed = 1;
		return (-1);
	}
	return (0);
}

int
btree_set(struct btree *bt, const uint8_t *k, size_t kl,
    const uint8_t *v, size_t vl)
{

	return (mutate(bt, OP_SET, k, kl, v, vl, NULL, 0));
}

int
btree_add(struct btree *bt, const uint8_t *k, size_t kl,
    const uint8_t *v, size_t vl)
{

	return (mutate(bt, OP_ADD, k, kl, v, vl, NULL, 0));
}

int
btree_modify(struct btree *bt, const uint8_t *k, size_t kl,
    const uint8_t *v, size_t vl)
{

	return (mutate(bt, OP_MODIFY, k, kl, v, vl, NULL, 0));
}

int
btree_cas(struct btree *bt, const uint8_t *k, size_t kl,
    const uint8_t *oldv, size_t ol, const uint8_t *newv, size_t nl)
{

	return (mutate(bt, OP_CAS, k, kl, newv, nl, oldv, ol));
}

int
btree_delete(struct btree *bt, const uint8_t *k, size_t kl)
{

	return (mutate(bt, OP_DELETE, k, kl, NULL, 0, NULL, 0));
}

int
btree_cad(struct btree *bt, const uint8_t *k, size_t kl,
    const uint8_t *oldv, size_t ol)
{

	return (mutate(bt, OP_CAD, k, kl, NULL, 0, oldv, ol));
}

/**
 * btree_pending(bt):
 * Mutations applied since the last commit_begin.
 */
size_t
btree_pending(struct btree *bt)
{

	return (bt->npending);
}

/* Reader slots: enough for many reads in flight, at most ~4 MiB. */
#define IO_SLOTS_MAX	256
#define IO_SLOTS_MIN	16

/**
 * btree_io_start(bt, nthreads):
 * Read missing pages off the loop from now on.
 */
int
btree_io_start(struct btree *bt, int nthreads)
{
	const char *env;
	size_t nslots;
	long delayms = 0;

	if (bt->rd != NULL)
		return (0);
	nslots = (4 << 20) / bt->pagesize;
	if (nslots > IO_SLOTS_MAX)
		nslots = IO_SLOTS_MAX;
	if (nslots < IO_SLOTS_MIN)
		nslots = IO_SLOTS_MIN;
	/*
	 * KVLDS_READ_DELAY_MS delays every off-loop read (tests: a slow
	 * disk); it is not an operator setting.
	 */
	if ((env = getenv("KVLDS_READ_DELAY_MS")) != NULL)
		delayms = strtol(env, NULL, 10);
	/* A slow disk is simulated by not trying the OS cache either. */
	bt->trycache = (delayms <= 0);
	if ((bt->rd = reader_init(bt->ps, bt->pagesize, nslots,
	    nthreads > 0 ? nthreads : 1, delayms)) == NULL)
		return (-1);
	bt->nowait = 1;
	return (0);
}

/**
 * btree_io_nowait(bt, on):
 * Lookups queue missing pages (on) or read them at once (off).
 */
void
btree_io_nowait(struct btree *bt, int on)
{

	bt->nowait = (bt->rd != NULL && on);
}

/**
 * btree_io_fd(bt):
 * The descriptor that becomes readable when off-loop reads complete.
 */
int
btree_io_fd(struct btree *bt)
{

	return (bt->rd != NULL ? reader_fd(bt->rd) : -1);
}

/**
 * btree_io_poll(bt):
 * Reads completed since the last call.
 */
uint64_t
btree_io_poll(struct btree *bt)
{

	return (bt->rd != NULL ? reader_poll(bt->rd) : 0);
}

/**
 * btree_io_lastwait(bt):
 * The page the last call that returned BTREE_AGAIN waits for.
 */
uint64_t
btree_io_lastwait(struct btree *bt)
{

	return (bt->lastwait);
}

/**
 * btree_io_pending(bt, addr):
 * Is the read of ${addr} queued or in progress?
 */
int
btree_io_pending(struct btree *bt, uint64_t addr)
{
	const uint8_t *buf;
	size_t len;

	return (bt->rd != NULL &&
	    reader_lookup(bt->rd, addr, &buf, &len) == READER_PENDING);
}

/**
 * btree_prefetch(bt, key, klen, pending):
 * Queue the reads a lookup of ${key} would need.
 */
int
btree_prefetch(struct btree *bt, const uint8_t *key, size_t klen,
    int pending)
{
	struct node *nd;

	if (!bt->nowait)
		return (0);
	if ((nd = (pending ? bt->proot.n : bt->croot.n)) == NULL)
		return (0);
	bt->again = 0;
	while (nd->level > 0) {
		if ((nd = child(bt, nd, node_childidx(nd, key, klen))) ==
		    NULL)
			return (bt->again ? BTREE_AGAIN : -1);
	}
	return (0);
}

/**
 * btree_dirty_bytes(bt, cap):
 * Memory of the pending tree's dirty nodes, and the limit for it.
 */
size_t
btree_dirty_bytes(struct btree *bt, size_t *cap)
{

	*cap = bt->dirtymax;
	return (node_dirty_memory());
}

/*
 * The first key of the page ${rec} (level ${level}, at ${addr}), into
 * key[0..*kl): an internal page with no separator is followed down to its
 * first child.  0 on success, 1 if the page holds no key, -1 on error.
 */
static int
page_firstkey(struct btree *bt, const uint8_t *rec, size_t len, uint8_t *key,
    size_t *kl)
{
	uint8_t *buf = NULL;
	uint64_t a;
	size_t got, l;
	int level, rc = 1;

	for (;;) {
		level = rec[17];
		l = NODE_HDR + (level > 0 ? 8 : 0);
		if (((uint32_t)rec[18] << 8 | rec[19]) > 0) {
			if (len < l + 1 || len < l + 1 + rec[l])
				break;
			*kl = rec[l];
			memcpy(key, &rec[l + 1], *kl);
			rc = 0;
			break;
		}
		if (level == 0 || len < NODE_HDR + 8)
			break;
		/* No separator: use the first key of the first child. */
		a = page_be64dec(&rec[NODE_HDR]);
		if (buf == NULL && (buf = malloc(bt->pagesize)) == NULL) {
			rc = -1;
			break;
		}
		if (pagestore_read(bt->ps, a, buf, &got)) {
			rc = -1;
			break;
		}
		rec = buf;
		len = got < page_be32dec(&buf[4]) ? got :
		    page_be32dec(&buf[4]);
	}
	free(buf);
	return (rc);
}

/*
 * The cleaner's test for one page record of the victim segment: if the
 * pending tree still references the page at ${addr}, copy it (and its
 * path) into the pending tree so that this commit writes it anew.  A page
 * is found from its first key and level: the node of that level on the
 * key's path is the only one that can be it.  0 dead or moved, -1 error.
 */
static int
clean_page(struct btree *bt, const uint8_t *rec, size_t len, uint64_t addr)
{
	struct node *nd;
	uint8_t key[255];
	size_t kl;
	uint32_t i;
	int level, rc;

	level = rec[17];
	if ((rc = page_firstkey(bt, rec, len, key, &kl)) != 0)
		return (rc == 1 ? 0 : -1);
	if ((nd = bt->proot.n) == NULL || nd->level < level)
		return (0);
	/*
	 * Live if the slot that would hold it names its address (a dirty
	 * slot has address 0): found from its parent, without loading it.
	 */
	if (nd->level == level) {
		if (bt->proot.addr != addr)
			return (0);
	} else {
		while (nd->level > level + 1) {
			if ((nd = child(bt, nd, node_childidx(nd, key, kl))) ==
			    NULL)
				return (-1);
		}
		if (nd->kids[node_childidx(nd, key, kl)].addr != addr)
			return (0);
	}

	/* Live: copy the path down to it. */
	bt->cmoved += len;
	if ((nd = mutable(bt, NULL, 0, &bt->proot)) == NULL)
		return (-1);
	while (nd->level > level) {
		i = node_childidx(nd, key, kl);
		if ((nd = mutable(bt, nd, i, &nd->kids[i])) == NULL)
			return (-1);
	}
	bt->cleanedpages++;
	return (0);
}

/*
 * One step of the cleaner, run as a commit begins (so what it moves goes
 * into that commit).  While the log, less the segments already scanned,
 * holds more than treebytes * (1 + 1 / (2 * costratio)), segments are
 * scanned
 * oldest first, up to a budget of bytes per commit (three times the last
 * batch, at least 1 MiB, so the cleaner outpaces the writes, plus half
 * of any excess over the limit), and the
 * pages the tree still references are copied into the pending tree.  A
 * scanned segment is deleted once the commit after the one that moved
 * its last page is durable (so both checkpoint slots name trees that do
 * not reference it): see clean_finish.
 */
static void
clean_step(struct btree *bt)
{
	struct cwait *nw;
	uint64_t logbytes, limit, budget, a, chunk, excess, maxmoved;
	size_t nseg, pos, got, rlen, ncap;
	ssize_t r;
	uint8_t *nb;

	if (bt->costratio <= 0 || bt->cstate == CL_STUCK)
		return;
	limit = bt->treebytes + (uint64_t)((double)bt->treebytes / 2 /
	    bt->costratio) + pagestore_segsize(bt->ps) / 2;
	/*
	 * The budget follows the mutations' share of the last batch: basing
	 * it on the whole batch, moved pages included, fed back on itself.
	 */
	budget = 3 * bt->userbatch;
	if (budget < 1024 * 1024)
		budget = 1024 * 1024;
	/*
	 * Behind (old segments still mostly live, so moving them costs
	 * writes too): scan half the excess as well, up to 64 MiB per
	 * commit, so the log cannot run away.
	 */
	pagestore_stats(bt->ps, &nseg, &logbytes);
	if (logbytes - bt->cwaitbytes > limit) {
		excess = (logbytes - bt->cwaitbytes - limit) / 2;
		budget += excess < 64 * 1024 * 1024 ? excess :
		    64 * 1024 * 1024;
	}

	/* Moving live pages costs writes: at most twice the mutations'. */
	maxmoved = 2 * bt->userbatch;
	if (maxmoved < 1024 * 1024)
		maxmoved = 1024 * 1024;
	/*
	 * Moved pages are dirty nodes of this batch too, on top of the
	 * mutations' (btree_dirty_bytes): under a cache budget, at most half
	 * the dirty limit, so that a frozen batch stays within about 1.5
	 * times that limit.
	 */
	if (bt->dirtymax > 0 && maxmoved > bt->dirtymax / 2)
		maxmoved = bt->dirtymax / 2;

	while (budget > 0 && bt->cmoved < maxmoved) {
		if (bt->cstate == CL_IDLE) {
			pagestore_stats(bt->ps, &nseg, &logbytes);
			if (logbytes - bt->cwaitbytes <= limit)
				return;
			if (pagestore_next(bt->ps, bt->cseg, &bt->cseg,
			    &bt->csize))
				return;
			bt->coff = 0;
			bt->cstate = CL_SCAN;
		}

		chunk = bt->csize - bt->coff;
		if (chunk > budget)
			chunk = budget;
		/* A bounded buffer, reused: no large allocation per commit. */
		if (chunk > CLEAN_CHUNK)
			chunk = CLEAN_CHUNK;
		if (chunk + bt->pagesize > bt->cbufcap) {
			if ((nb = realloc(bt->cbuf, chunk + bt->pagesize)) ==
			    NULL)
				return;
			bt->cbuf = nb;
			bt->cbufcap = chunk + bt->pagesize;
		}
		/* Read the chunk plus a page, so the last record is whole. */
		a = ((uint64_t)bt->cseg << 32) | bt->coff;
		if ((r = pagestore_readraw(bt->ps, a, bt->cbuf, chunk +
		    bt->pagesize)) == -1)
			goto stuck;
		got = (size_t)r;
		for (pos = 0; pos < chunk && pos + NODE_HDR <= got &&
		    bt->cmoved < maxmoved; pos += rlen) {
			rlen = page_be32dec(&bt->cbuf[pos + 4]);
			if (rlen < NODE_HDR || rlen > got - pos ||
			    page_be64dec(&bt->cbuf[pos + 8]) != a + pos ||
			    page_be32dec(&bt->cbuf[pos]) !=
			    crc32c(&bt->cbuf[pos + 4], rlen - 4))
				goto damaged;
			if (bt->cbuf[pos + 16] == PAGE_TYPE_NODE &&
			    clean_page(bt, &bt->cbuf[pos], rlen, a + pos))
				goto stuck;
		}
		if (pos == 0 && bt->coff < bt->csize)
			goto damaged;
		bt->coff += pos;
		bt->cleanscanned += pos;
		budget = budget > pos ? budget - pos : 0;
		if (bt->coff < bt->csize)
			continue;

		/* Scanned: this commit is seq + 1, the next seq + 2. */
		if (bt->ncwait == bt->cwaitcap) {
			ncap = bt->cwaitcap ? bt->cwaitcap * 2 : 8;
			if ((nw = realloc(bt->cwait, ncap * sizeof(*nw))) ==
			    NULL)
				goto stuck;
			bt->cwait = nw;
			bt->cwaitcap = ncap;
		}
		bt->cwait[bt->ncwait].seg = bt->cseg;
		bt->cwait[bt->ncwait].at = bt->seq + 2;
		bt->cwait[bt->ncwait].size = bt->csize;
		bt->ncwait++;
		bt->cwaitbytes += bt->csize;
		bt->cstate = CL_IDLE;
	}
	return;

damaged:
	{
		char where[256];

		pagestore_where(bt->ps, a + pos, where, sizeof(where));
		warn0("cleaner: damaged record at %s; segment kept, cleaning "
		    "stopped", where);
	}
stuck:
	bt->cstate = CL_STUCK;
}

/*
 * A segment scanned while commit at - 2 was the committed tree (see
 * clean_step) may hold pages of that tree or of any older one; the
 * commits from at - 1 on reference none of its pages.  Is one of those
 * older trees pinned by a snapshot?  Segments are numbered in log order
 * and a tree's pages all lie below the end of its commit, so segment
 * ${seg} can hold pages of a pinned tree only if it is not after the
 * segment that commit ended in.
 */
static int
snap_pins(struct btree *bt, uint64_t at, uint32_t seg)
{
	struct btree_snap *s;

	for (s = bt->snaps; s != NULL; s = s->next)
		if (s->seq + 1 < at && seg <= s->lastseg)
			return (1);
	return (0);
}

/*
 * Delete scanned segments that no recoverable tree, nor a tree pinned by
 * a snapshot, references.
 */
static void
clean_finish(struct btree *bt)
{
	size_t i, j;
	int rc;

	for (i = j = 0; i < bt->ncwait; i++) {
		if (bt->cwait[i].at > bt->seq || snap_pins(bt,
		    bt->cwait[i].at, bt->cwait[i].seg)) {
			bt->cwait[j++] = bt->cwait[i];
			continue;
		}
		bt->cwaitbytes -= bt->cwait[i].size;
		/* Its file is closed: no read may run meanwhile. */
		if (bt->rd != NULL)
			reader_exclude(bt->rd);
		rc = pagestore_free(bt->ps, bt->cwait[i].seg);
		if (bt->rd != NULL)
			reader_include(bt->rd);
		if (rc)
			bt->cstate = CL_STUCK;
		else
			bt->cleanedsegs++;
	}
	bt->ncwait = j;
}

/* Append the dirty nodes under ${nd} (itself dirty), children first. */
static int
collect(struct btree *bt, struct node *nd, size_t *total)
{
	struct node **nw;
	size_t ncap;
	uint32_t i;

	if (nd->level > 0) {
		/*
		 * A slot's address is 0 exactly when its child is dirty
		 * (mutable() and splits store 0; btree_commit_begin fills
		 * it in): no need to touch every child.
		 */
		for (i = 0; i <= nd->n; i++) {
			if (nd->kids[i].addr == 0 &&
			    collect(bt, nd->kids[i].n, total))
				return (-1);
		}
	}
	if (bt->ndirty == bt->dirtycap) {
		ncap = bt->dirtycap ? bt->dirtycap * 2 : 256;
		if ((nw = realloc(bt->dirty, ncap * sizeof(*nw))) == NULL) {
			warnp("realloc");
			return (-1);
		}
		bt->dirty = nw;
		bt->dirtycap = ncap;
	}
	bt->dirty[bt->ndirty++] = nd;
	*total += nd->size;
	return (0);
}

/**
 * btree_commit_begin(bt):
 * Freeze the pending tree into a serialized batch.
 */
int
btree_commit_begin(struct btree *bt)
{
	struct page_commit c;
	struct node *nd;
	uint8_t *nb;
	size_t total = PAGE_COMMIT_LEN, i, pos;
	uint64_t addr;
	uint32_t j;
	int nowait;

	if (bt->inflight || bt->failed) {
		warn0("btree_commit_begin: %s", bt->failed ?
		    "the store failed earlier" : "a commit is in flight");
		return (-1);
	}
	bt->fvalid = 0;
	bt->cmoved = 0;
	/* The cleaner's loads are rare and at commit time: synchronous. */
	nowait = bt->nowait;
	bt->nowait = 0;
	bt->incommit = 1;
	clean_step(bt);
	bt->incommit = 0;
	bt->nowait = nowait;
	bt->ndirty = 0;
	if (bt->proot.n != NULL && bt->proot.n->addr == 0 &&
	    collect(bt, bt->proot.n, &total))
		return (-1);
	if (total > bt->batchcap) {
		if ((nb = realloc(bt->batch, total)) == NULL) {
			warnp("realloc");
			return (-1);
		}
		bt->batch = nb;
		bt->batchcap = total;
	}
	/* A new segment may be opened: no read may run meanwhile. */
	if (bt->rd != NULL)
		reader_exclude(bt->rd);
	addr = pagestore_reserve(bt->ps, total);
	if (bt->rd != NULL)
		reader_include(bt->rd);
	if (addr == 0)
		goto fail;

	/* Children come first, so their addresses are known. */
	for (i = 0, pos = 0; i < bt->ndirty; i++) {
		nd = bt->dirty[i];
		nd->addr = addr + pos;
		if (nd->level > 0)
			for (j = 0; j <= nd->n; j++)
				if (nd->kids[j].addr == 0)
					nd->kids[j].addr = nd->kids[j].n->addr;
		page_encode(nd, nd->addr, &bt->batch[pos]);
		pos += nd->size;
		seglive_add(bt, nd->addr, (int64_t)nd->size);
		/* Frozen from now on: give back the room for growth. */
		node_compact(nd);
	}
	if (bt->proot.n != NULL)
		bt->proot.addr = bt->proot.n->addr;
	c.seq = bt->seq + 1;
	c.root = bt->proot.addr;
	c.bstart = addr;
	c.bend = addr + total;
	c.pagesize = (uint32_t)bt->pagesize;
	bt->treebytes = bt->treebytes + (total - PAGE_COMMIT_LEN) -
	    bt->killed;
	bt->killed = 0;
	c.treebytes = bt->treebytes;
	page_commit_encode(&c, addr + pos, &bt->batch[pos]);
	bt->batchlen = total;
	bt->batchaddr = addr;
	bt->userbatch = total > bt->cmoved ? total - bt->cmoved : 0;
	bt->lastdirty = bt->ndirty;

	/* Freeze. */
	bt->froot = bt->proot;
	if (bt->froot.n != NULL)
		node_ref(bt->froot.n);
	bt->gen++;
	node_dirty_gen(bt->gen);
	bt->npending = 0;
	bt->inflight = 1;
	return (0);

fail:
	bt->failed = 1;
	return (-1);
}

/**
 * btree_commit_write(bt):
 * (worker thread) Write and sync the frozen batch.
 */
int
btree_commit_write(struct btree *bt)
{

	return (pagestore_write(bt->ps, bt->batch, bt->batchlen,
	    bt->batchaddr));
}

/**
 * btree_commit_end(bt):
 * Publish the frozen tree as committed.
 */
void
btree_commit_end(struct btree *bt)
{
	struct timespec ts;

	if (!bt->inflight)
		return;
	node_unref(bt->croot.n);
	bt->croot = bt->froot;
	bt->froot.addr = 0;
	bt->froot.n = NULL;
	bt->seq++;
	bt->inflight = 0;
	bt->durable = bt->batchaddr + bt->batchlen;
	/* The batch's pages and the old tree's can go: sweep again. */
	bt->sweepfloor = 0;
	/*
	 * Under a budget below the default, give the pages of freed nodes
	 * inside the heap back to the system (glibc only trims its top), at
	 * most four times a second: otherwise resident memory stays at the
	 * heap's high-water mark, far above what the nodes hold.  Trimming
	 * costs page faults when the memory is reused, so not by default.
	 */
	if (bt->cachebytes != 0 && bt->cachebytes < (128 << 20)) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if ((ts.tv_sec > bt->lasttrim.tv_sec + 1 ||
		    (ts.tv_sec - bt->lasttrim.tv_sec) * 1000000000L +
		    (ts.tv_nsec - bt->lasttrim.tv_nsec) >= 250000000L)) {
			bt->lasttrim = ts;
			(void)malloc_trim(0);
		}
	}
	/* Do not keep the memory of one huge batch (or cleaner scan). */
	if (bt->batchcap > 2 * 1024 * 1024) {
		free(bt->batch);
		bt->batch = NULL;
		bt->batchcap = 0;
	}
	if (bt->cbufcap > 2 * 1024 * 1024) {
		free(bt->cbuf);
		bt->cbuf = NULL;
		bt->cbufcap = 0;
	}
	bt->commits++;
	bt->pageswritten += bt->lastdirty;
	bt->byteswritten += bt->batchlen;
	clean_finish(bt);
}

/*
 * Describe the live bytes of the closed segments whose counts are known
 * (see seglive): how many, their live and total bytes, the emptiest.
 */
static void
seglive_summary(struct btree *bt, char *buf, size_t len)
{
	uint64_t size, live, tlive = 0, tsize = 0, mlive = 0, msize = 0;
	uint32_t seg, n = 0, mseg = 0, cur;
	size_t used;

	for (seg = bt->segknown - 1;
	    pagestore_next(bt->ps, seg, &seg, &size) == 0; ) {
		live = seg < bt->nseglive ? bt->seglive[seg] : 0;
		tlive += live;
		tsize += size;
		n++;
		/* live / size < mlive / msize */
		if (mseg == 0 || live * msize < mlive * size) {
			mseg = seg;
			mlive = live;
			msize = size;
		}
	}
	if (n == 0)
		used = (size_t)snprintf(buf, len, "live bytes known for no "
		    "closed segment");
	else
		used = (size_t)snprintf(buf, len, "live bytes in the %u closed "
		    "segments from %u: %llu of %llu, emptiest %u (%llu of "
		    "%llu)", (unsigned)n, (unsigned)bt->segknown,
		    (unsigned long long)tlive, (unsigned long long)tsize,
		    (unsigned)mseg, (unsigned long long)mlive,
		    (unsigned long long)msize);
	/* The segment being appended to: the end of the last batch. */
	cur = (uint32_t)((bt->inflight ? bt->batchaddr : bt->durable) >> 32);
	if (used < len && cur >= bt->segknown)
		snprintf(buf + used, len - used, ", current %u: %llu live",
		    (unsigned)cur, (unsigned long long)(cur < bt->nseglive ?
		    bt->seglive[cur] : 0));
}

/**
 * btree_stats(bt, buf, len):
 * One-line summary.
 */
void
btree_stats(struct btree *bt, char *buf, size_t len)
{
	char sbuf[512], lbuf[160];
	struct mallinfo2 mi;
	size_t nseg, dirty, dcap;
	uint64_t bytes;

	pagestore_stats(bt->ps, &nseg, &bytes);
	seglive_summary(bt, lbuf, sizeof(lbuf));
	mi = mallinfo2();
	dirty = btree_dirty_bytes(bt, &dcap);
	snprintf(buf, len, "commit %llu, nodes in memory %zu (%zu bytes, "
	    "%llu evicted in %llu sweeps; %zu dirty, at most %zu), heap "
	    "%zu bytes (%zu free) + %zu mapped, pending mutations %zu, "
	    "segments %zu, log bytes %llu, tree bytes %llu, "
	    "commits %llu (%llu pages, %llu bytes written), pages read %llu "
	    "(%llu off the loop, %llu from the OS cache, %llu by the cleaner), "
	    "cleaner: %s segment %u at %llu, %llu segments freed, %llu "
	    "bytes scanned, %llu pages moved; %s",
	    (unsigned long long)bt->seq, node_count(), node_memory(),
	    (unsigned long long)bt->evicted, (unsigned long long)bt->sweeps,
	    dirty, dcap,
	    mi.arena, mi.fordblks, mi.hblkhd, bt->npending, nseg,
	    (unsigned long long)bytes, (unsigned long long)bt->treebytes,
	    (unsigned long long)bt->commits,
	    (unsigned long long)bt->pageswritten,
	    (unsigned long long)bt->byteswritten,
	    (unsigned long long)bt->pagesread,
	    (unsigned long long)bt->pagesasync,
	    (unsigned long long)bt->pagesnowait,
	    (unsigned long long)bt->pagescommit,
	    bt->cstate == CL_IDLE ? "idle" : bt->cstate == CL_SCAN ?
	    "scanning" : "stopped", (unsigned)bt->cseg,
	    (unsigned long long)bt->coff,
	    (unsigned long long)bt->cleanedsegs,
	    (unsigned long long)bt->cleanscanned,
	    (unsigned long long)bt->cleanedpages, lbuf);
	/* The backend's own counters (object store), on a line of their own. */
	pagestore_statline(bt->ps, sbuf, sizeof(sbuf));
	if (sbuf[0] != '\0')
		log_info("store: %s", sbuf);
}
