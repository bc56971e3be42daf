/*
 * node: in-memory B+tree nodes (see node.h).
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c/crc32c.h"
#include "log/log.h"

#include "node.h"

static size_t nodes_allocated;
static size_t nodes_memory;

/* Memory of the nodes of generation dirty_gen (0: not counted). */
static uint64_t dirty_gen;
static size_t dirty_memory;

/*
 * Arena blocks.  Their sizes are rounded up to ARENA_GRAIN, and freed
 * blocks of up to ARENA_NCLASS grains wait on per-size free lists (up to
 * arena_keep bytes in all, counted in node_memory) for the next arena of
 * that size: under random updates thousands of leaf clones of nearly the
 * same size come and go each commit, and glibc's bins for chunks of that
 * size (split, coalesce) cost a quarter of the loop thread's CPU.
 */
#define ARENA_GRAIN	256
#define ARENA_NCLASS	64
static void *arena_free[ARENA_NCLASS + 1];	/* linked through word 0 */
static size_t arena_freebytes;
static size_t arena_keep = 8 * 1024 * 1024;

/**
 * node_arena_alloc(cap):
 * Allocate an arena of at least *cap bytes; set *cap to its size.
 */
uint8_t *
node_arena_alloc(size_t *cap)
{
	size_t c = (*cap + ARENA_GRAIN - 1) / ARENA_GRAIN;
	void *p;

	if (c == 0)
		c = 1;
	if (c <= ARENA_NCLASS && (p = arena_free[c]) != NULL) {
		memcpy(&arena_free[c], p, sizeof(arena_free[c]));
		arena_freebytes -= c * ARENA_GRAIN;
		*cap = c * ARENA_GRAIN;
		return (p);
	}
	if ((p = malloc(c * ARENA_GRAIN)) == NULL)
		return (NULL);
	*cap = c * ARENA_GRAIN;
	return (p);
}

/**
 * node_arena_release(p, cap):
 * Free an arena of ${cap} bytes, or keep it for reuse.
 */
void
node_arena_release(uint8_t *p, size_t cap)
{
	size_t c = cap / ARENA_GRAIN;

	if (p == NULL)
		return;
	if (cap % ARENA_GRAIN == 0 && c >= 1 && c <= ARENA_NCLASS &&
	    arena_freebytes + cap <= arena_keep) {
		memcpy(p, &arena_free[c], sizeof(arena_free[c]));
		arena_free[c] = p;
		arena_freebytes += cap;
		return;
	}
	free(p);
}

/**
 * node_arena_keep(bytes):
 * Keep at most ${bytes} of freed arenas for reuse; free the excess.
 */
void
node_arena_keep(size_t bytes)
{
	size_t c;
	void *p;

	arena_keep = bytes;
	for (c = 1; c <= ARENA_NCLASS && arena_freebytes > arena_keep; c++) {
		while (arena_freebytes > arena_keep &&
		    (p = arena_free[c]) != NULL) {
			memcpy(&arena_free[c], p, sizeof(arena_free[c]));
			arena_freebytes -= c * ARENA_GRAIN;
			free(p);
		}
	}
}

/**
 * node_count():
 * Number of nodes currently allocated.
 */
size_t
node_count(void)
{

	return (nodes_allocated);
}

/**
 * node_memory():
 * Bytes held by all nodes.
 */
size_t
node_memory(void)
{

	return (nodes_memory + arena_freebytes);
}

/**
 * node_reacct(node):
 * Recount a node's memory.
 */
void
node_reacct(struct node *nd)
{
	size_t m;

	m = sizeof(*nd) + (nd->level == 0 ? NODE_HINL * sizeof(uint16_t) : 0) +
	    nd->acap + nd->offcap * sizeof(uint32_t) +
	    nd->kidcap * sizeof(struct bt_child) +
	    (nd->hidx != NULL ? (nd->hmask + 1) * sizeof(uint32_t) : 0);
	nodes_memory = nodes_memory - nd->memacct + m;
	if (nd->gen == dirty_gen && dirty_gen != 0)
		dirty_memory = dirty_memory - nd->memacct + m;
	nd->memacct = m;
}

/**
 * node_dirty_gen(gen):
 * Count the memory of the nodes of generation ${gen} from now on.
 */
void
node_dirty_gen(uint64_t gen)
{

	dirty_gen = gen;
	dirty_memory = 0;
}

/**
 * node_dirty_memory():
 * Bytes held by the nodes of the generation given to node_dirty_gen.
 */
size_t
node_dirty_memory(void)
{

	return (dirty_memory);
}

/* Entry length in the arena of entry ${i}. */
static inline size_t
entlen(const struct node *nd, uint32_t i)
{
	const uint8_t *p = &nd->arena[nd->off[i]];

	if (nd->level > 0)
		return (1 + (size_t)p[0]);
	return (2 + (size_t)p[0] + p[1 + p[0]]);
}

/* Serialized size of entry ${i}. */
static inline size_t
entsize(const struct node *nd, uint32_t i)
{
	size_t kl;

	if (nd->level > 0) {
		(void)node_key(nd, i, &kl);
		return (NODE_INT_ENT(kl));
	}
	return (entlen(nd, i));
}

/**
 * node_new(level, gen):
 * Return a new empty node; NULL on allocation failure.
 */
struct node *
node_new(uint8_t level, uint64_t gen)
{
	struct node *nd;

	if ((nd = calloc(1, sizeof(*nd) +
	    (level == 0 ? NODE_HINL * sizeof(uint16_t) : 0))) == NULL) {
		warnp("calloc");
		return (NULL);
	}
	nd->refcnt = 1;
	nd->level = level;
	nd->gen = gen;
	nd->size = NODE_HDR + (level > 0 ? NODE_INT_BASE : 0);
	nodes_allocated++;
	node_reacct(nd);
	return (nd);
}

/*
 * Move ${nd}'s live entries, packed in key order, into the new arena
 * ${na} of ${cap} bytes (from node_arena_alloc, large enough), release
 * the old one and leave no garbage.
 */
static void
arena_move(struct node *nd, uint8_t *na, size_t cap)
{
	uint32_t i, pos;
	size_t l;

	for (i = 0, pos = 0; i < nd->n; i++) {
		l = entlen(nd, i);
		memcpy(&na[pos], &nd->arena[nd->off[i]], l);
		nd->off[i] = pos;
		pos += (uint32_t)l;
	}
	node_arena_release(nd->arena, nd->acap);
	nd->arena = na;
	nd->alen = pos;
	nd->acap = (uint32_t)cap;
	nd->agarb = 0;
}

/* Make room for ${need} more arena bytes, compacting or growing. */
static int
arena_reserve(struct node *nd, size_t need)
{
	uint8_t *na;
	size_t ncap;

	if ((size_t)nd->alen + need <= nd->acap)
		return (0);

	/* Compact into a new buffer if garbage would pay for the growth. */
	ncap = nd->acap;
	if ((size_t)nd->alen - nd->agarb + need > ncap / 2 || ncap == 0) {
		ncap = ncap * 2;
		if (ncap < (size_t)nd->alen - nd->agarb + need + 64)
			ncap = (size_t)nd->alen - nd->agarb + need + 64;
	}
	if (ncap > UINT32_MAX - ARENA_GRAIN) {
		warn0("node arena too large");
		return (-1);
	}
	if ((na = node_arena_alloc(&ncap)) == NULL) {
		warnp("malloc");
		return (-1);
	}
	arena_move(nd, na, ncap);
	node_reacct(nd);
	return (0);
}

/* Make room for one more offset (and child, for internal nodes). */
static int
slots_reserve(struct node *nd)
{
	uint32_t *no;
	struct bt_child *nk;
	uint32_t ncap;

	if (nd->n + 1 > nd->offcap) {
		ncap = nd->offcap ? nd->offcap * 2 : 16;
		if ((no = realloc(nd->off, ncap * sizeof(*no))) == NULL) {
			warnp("realloc");
			return (-1);
		}
		nd->off = no;
		nd->offcap = ncap;
	}
	if (nd->level > 0 && nd->n + 2 > nd->kidcap) {
		ncap = nd->kidcap ? nd->kidcap * 2 : 16;
		if ((nk = realloc(nd->kids, ncap * sizeof(*nk))) == NULL) {
			warnp("realloc");
			return (-1);
		}
		nd->kids = nk;
		nd->kidcap = ncap;
	}
	node_reacct(nd);
	return (0);
}

/* Append raw entry bytes (the pieces a then b) to the arena; return offset. */
static uint32_t
arena_put(struct node *nd, const uint8_t *k, size_t kl, const uint8_t *v,
    size_t vl, int leaf)
{
	uint32_t pos = nd->alen;
	uint8_t *p = &nd->arena[pos];

	*p++ = (uint8_t)kl;
	memcpy(p, k, kl);
	p += kl;
	if (leaf) {
		*p++ = (uint8_t)vl;
		memcpy(p, v, vl);
		p += vl;
	}
	nd->alen = (uint32_t)(p - nd->arena);
	return (pos);
}

/**
 * node_copy_entries(node, dst, newoff):
 * Copy entries in order, coalescing runs.
 */
size_t
node_copy_entries(const struct node *nd, uint8_t *dst, uint32_t *newoff)
{
	size_t pos = 0, run, l;
	uint32_t i, start;

	for (i = 0; i < nd->n;) {
		start = nd->off[i];
		run = 0;
		do {
			l = entlen(nd, i);
			if (newoff != NULL)
				newoff[i] = (uint32_t)(pos + run);
			run += l;
			i++;
		} while (i < nd->n && nd->off[i] == start + run);
		memcpy(&dst[pos], &nd->arena[start], run);
		pos += run;
	}
	return (pos);
}

/**
 * node_clone(node, gen):
 * Return a compacted mutable copy of ${node}.
 */
struct node *
node_clone(const struct node *src, uint64_t gen)
{
	struct node *nd;
	size_t cap;
	uint32_t i;

	if ((nd = node_new(src->level, gen)) == NULL)
		goto err0;
	nd->offcap = src->n + 8;
	if ((nd->off = malloc(nd->offcap * sizeof(uint32_t))) == NULL)
		goto err1;
	cap = src->alen - src->agarb + 600;
	if ((nd->arena = node_arena_alloc(&cap)) == NULL)
		goto err1;
	nd->acap = (uint32_t)cap;
	nd->alen = (uint32_t)node_copy_entries(src, nd->arena, nd->off);
	if (src->level > 0) {
		nd->kidcap = src->n + 9;
		if ((nd->kids = malloc(nd->kidcap * sizeof(*nd->kids))) == NULL)
			goto err1;
		memcpy(nd->kids, src->kids, (src->n + 1) * sizeof(*nd->kids));
		for (i = 0; i <= src->n; i++)
			if (nd->kids[i].n != NULL)
				node_ref(nd->kids[i].n);
	}
	nd->n = src->n;
	nd->size = src->size;
	node_reacct(nd);

	/* Success! */
	return (nd);

err1:
	warnp("malloc");
	node_unref(nd);
err0:
	/* Failure! */
	return (NULL);
}

/**
 * node_compact(node):
 * Shrink a node's arrays to fit.
 */
void
node_compact(struct node *nd)
{
	uint8_t *na;
	uint32_t *no;
	struct bt_child *nk;
	uint32_t live = nd->alen - nd->agarb;
	size_t cap = live;

	/* A clone's modest slack (see node_clone) is not worth a copy. */
	if (nd->acap > live + live / 4 + 64 + ARENA_GRAIN &&
	    (na = node_arena_alloc(&cap)) != NULL)
		arena_move(nd, na, cap);
	if (nd->offcap > nd->n + 4 && nd->n > 0 &&
	    (no = realloc(nd->off, nd->n * sizeof(uint32_t))) != NULL) {
		nd->off = no;
		nd->offcap = nd->n;
	}
	if (nd->level > 0 && nd->kidcap > nd->n + 4 &&
	    (nk = realloc(nd->kids, (nd->n + 1) * sizeof(*nk))) != NULL) {
		nd->kids = nk;
		nd->kidcap = nd->n + 1;
	}
	node_reacct(nd);
}

/**
 * node_ref(node):
 * Add a reference.
 */
void
node_ref(struct node *nd)
{

	nd->refcnt++;
}

/**
 * node_unref(node):
 * Drop a reference; free at zero.
 */
void
node_unref(struct node *nd)
{
	uint32_t i;

	if (nd == NULL)
		return;
	if (--nd->refcnt > 0)
		return;
	if (nd->level > 0 && nd->kids != NULL) {
		for (i = 0; i <= nd->n; i++)
			node_unref(nd->kids[i].n);
	}
	nodes_memory -= nd->memacct;
	if (nd->gen == dirty_gen && dirty_gen != 0)
		dirty_memory -= nd->memacct;
	free(nd->hidx);
	free(nd->kids);
	free(nd->off);
	node_arena_release(nd->arena, nd->acap);
	free(nd);
	nodes_allocated--;
}

/**
 * node_lower(node, key, kl, eq):
 * First index with key[i] >= key.
 */
uint32_t
node_lower(const struct node *nd, const uint8_t *key, size_t kl, int *eq)
{
	uint32_t lo = 0, hi = nd->n, mid;
	const uint8_t *k;
	size_t l;
	int c;

	*eq = 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		k = node_key(nd, mid, &l);
		c = node_cmp(k, l, key, kl);
		if (c < 0) {
			lo = mid + 1;
		} else {
			if (c == 0) {
				*eq = 1;
				return (mid);
			}
			hi = mid;
		}
	}
	return (lo);
}

/**
 * node_childidx(node, key, kl):
 * Number of separators <= key.
 */
uint32_t
node_childidx(const struct node *nd, const uint8_t *key, size_t kl)
{
	uint32_t i;
	int eq;

	i = node_lower(nd, key, kl, &eq);
	return (eq ? i + 1 : i);
}

/**
 * node_leaf_insert(node, i, k, kl, v, vl):
 * Insert a pair at index i.
 */
int
node_leaf_insert(struct node *nd, uint32_t i, const uint8_t *k, size_t kl,
    const uint8_t *v, size_t vl)
{
	uint32_t pos;

	if (slots_reserve(nd) || arena_reserve(nd, 2 + kl + vl))
		return (-1);
	pos = arena_put(nd, k, kl, v, vl, 1);
	memmove(&nd->off[i + 1], &nd->off[i], (nd->n - i) * sizeof(uint32_t));
	nd->off[i] = pos;
	nd->n++;
	nd->size += NODE_LEAF_ENT(kl, vl);
	return (0);
}

/**
 * node_leaf_setval(node, i, v, vl):
 * Replace the value of pair i.
 */
int
node_leaf_setval(struct node *nd, uint32_t i, const uint8_t *v, size_t vl)
{
	uint8_t *p = &nd->arena[nd->off[i]];
	uint8_t kbuf[255];
	size_t kl = p[0], ovl = p[1 + kl];

	/* Same length: overwrite in place. */
	if (ovl == vl) {
		memcpy(&p[2 + kl], v, vl);
		return (0);
	}
	memcpy(kbuf, &p[1], kl);
	if (arena_reserve(nd, 2 + kl + vl))
		return (-1);
	nd->agarb += (uint32_t)(2 + kl + ovl);
	nd->off[i] = arena_put(nd, kbuf, kl, v, vl, 1);
	nd->size = nd->size - ovl + vl;
	return (0);
}

/**
 * node_leaf_remove(node, i):
 * Remove pair i.
 */
void
node_leaf_remove(struct node *nd, uint32_t i)
{
	size_t l = entlen(nd, i);

	nd->agarb += (uint32_t)l;
	nd->size -= l;
	memmove(&nd->off[i], &nd->off[i + 1],
	    (nd->n - i - 1) * sizeof(uint32_t));
	nd->n--;
}

/**
 * node_int_setkid0(node, c):
 * Set the first child of an empty internal node.
 */
int
node_int_setkid0(struct node *nd, struct bt_child c)
{

	if (slots_reserve(nd))
		return (-1);
	nd->kids[0] = c;
	return (0);
}

/**
 * node_int_insert(node, i, k, kl, c):
 * Insert separator i and child i + 1.
 */
int
node_int_insert(struct node *nd, uint32_t i, const uint8_t *k, size_t kl,
    struct bt_child c)
{
	uint32_t pos;

	if (slots_reserve(nd) || arena_reserve(nd, 1 + kl))
		return (-1);
	pos = arena_put(nd, k, kl, NULL, 0, 0);
	memmove(&nd->off[i + 1], &nd->off[i], (nd->n - i) * sizeof(uint32_t));
	nd->off[i] = pos;
	memmove(&nd->kids[i + 2], &nd->kids[i + 1],
	    (nd->n - i) * sizeof(*nd->kids));
	nd->kids[i + 1] = c;
	nd->n++;
	nd->size += NODE_INT_ENT(kl);
	return (0);
}

/**
 * node_int_remove(node, i):
 * Remove separator i and child i + 1; return the child slot.
 */
struct bt_child
node_int_remove(struct node *nd, uint32_t i)
{
	struct bt_child c = nd->kids[i + 1];
	size_t l = entlen(nd, i);

	nd->agarb += (uint32_t)l;
	nd->size -= NODE_INT_ENT(l - 1);
	memmove(&nd->off[i], &nd->off[i + 1],
	    (nd->n - i - 1) * sizeof(uint32_t));
	memmove(&nd->kids[i + 1], &nd->kids[i + 2],
	    (nd->n - i - 1) * sizeof(*nd->kids));
	nd->n--;
	return (c);
}

/**
 * node_int_setkey(node, i, k, kl):
 * Replace separator i.
 */
int
node_int_setkey(struct node *nd, uint32_t i, const uint8_t *k, size_t kl)
{
	size_t ol = nd->arena[nd->off[i]];

	if (arena_reserve(nd, 1 + kl))
		return (-1);
	nd->agarb += (uint32_t)(1 + ol);
	nd->off[i] = arena_put(nd, k, kl, NULL, 0, 0);
	nd->size = nd->size - ol + kl;
	return (0);
}

/* Append entry ${i} of ${src} to ${dst} (mutable, same kind). */
static int
copy_entry(struct node *dst, const struct node *src, uint32_t i)
{
	size_t l = entlen(src, i);

	if (slots_reserve(dst) || arena_reserve(dst, l))
		return (-1);
	memcpy(&dst->arena[dst->alen], &src->arena[src->off[i]], l);
	dst->off[dst->n] = dst->alen;
	dst->alen += (uint32_t)l;
	dst->n++;
	dst->size += entsize(src, i);
	return (0);
}

/**
 * node_split(node, cap, rightedge, gen, right, sep, seplen):
 * Split an oversized node in two.
 */
int
node_split(struct node *nd, size_t cap, int rightedge, uint64_t gen,
    struct node **rightp, uint8_t *sep, size_t *seplen)
{
	struct node *r;
	size_t base = NODE_HDR + (nd->level > 0 ? NODE_INT_BASE : 0);
	size_t total = nd->size - base, left, rsz, best, m, es;
	size_t lkl, rkl, cpl;
	const uint8_t *lk, *rk;
	uint32_t i, k, kbest, kmin, kmax, j;

	/*
	 * A leaf split at k keeps entries [0, k) and moves [k, n).  An
	 * internal split at k keeps keys [0, k), moves key k up and keys
	 * (k, n) right.  Find the k wanted among those whose halves fit.
	 */
	/*
	 * Both halves keep at least one key: an internal node with no key
	 * could leave an empty leaf below it that no sibling can absorb.
	 */
	if (nd->n < (nd->level > 0 ? 3U : 2U)) {
		warn0("cannot split a node of %u entries", (unsigned)nd->n);
		return (-1);
	}
	kmin = 1;
	kmax = (nd->level > 0) ? nd->n - 2 : nd->n - 1;
	kbest = 0;
	best = SIZE_MAX;
	left = 0;
	for (i = 0; i < kmin; i++)
		left += entsize(nd, i);
	for (k = kmin; k <= kmax; k++) {
		es = entsize(nd, k);
		rsz = total - left - (nd->level > 0 ? es : 0);
		if (base + left <= cap && base + rsz <= cap) {
			if (rightedge) {
				kbest = k;	/* Largest fitting k wins. */
			} else {
				m = left > rsz ? left : rsz;
				if (m < best) {
					best = m;
					kbest = k;
				}
			}
		}
		left += es;
	}
	if (kbest == 0) {
		warn0("no split of a %zu-byte node fits %zu-byte pages",
		    nd->size, cap);
		return (-1);
	}
	k = kbest;

	/* Separator. */
	if (nd->level > 0) {
		lk = node_key(nd, k, &lkl);
		memcpy(sep, lk, lkl);
		*seplen = lkl;
	} else {
		lk = node_key(nd, k - 1, &lkl);
		rk = node_key(nd, k, &rkl);
		for (cpl = 0; cpl < lkl && cpl < rkl && lk[cpl] == rk[cpl];
		    cpl++)
			continue;
		/* rk is longer than cpl since lk < rk. */
		*seplen = cpl + 1;
		memcpy(sep, rk, *seplen);
	}

	/* Build the right node. */
	if ((r = node_new(nd->level, gen)) == NULL)
		return (-1);
	if (nd->level > 0) {
		if (node_int_setkid0(r, nd->kids[k + 1]))
			goto err;
		for (j = k + 1; j < nd->n; j++) {
			if (copy_entry(r, nd, j))
				goto err;
			r->kids[r->n] = nd->kids[j + 1];
		}
	} else {
		for (j = k; j < nd->n; j++)
			if (copy_entry(r, nd, j))
				goto err;
	}

	/* Truncate the left node; its moved children belong to r now. */
	for (j = k; j < nd->n; j++) {
		nd->agarb += (uint32_t)entlen(nd, j);
		nd->size -= entsize(nd, j);
	}
	nd->n = k;
	*rightp = r;
	return (0);

err:
	/* r holds no child references of its own yet. */
	if (r->level > 0)
		r->n = 0, r->kids[0].n = NULL;
	node_unref(r);
	return (-1);
}

/**
 * node_merge(left, sep, seplen, right):
 * Append right's entries to left.
 */
int
node_merge(struct node *l, const uint8_t *sep, size_t seplen,
    const struct node *r)
{
	uint32_t j;

	if (l->level > 0) {
		if (node_int_insert(l, l->n, sep, seplen, r->kids[0]))
			return (-1);
		if (r->kids[0].n != NULL)
			node_ref(r->kids[0].n);
		for (j = 0; j < r->n; j++) {
			if (copy_entry(l, r, j))
				return (-1);
			l->kids[l->n] = r->kids[j + 1];
			if (l->kids[l->n].n != NULL)
				node_ref(l->kids[l->n].n);
		}
	} else {
		for (j = 0; j < r->n; j++)
			if (copy_entry(l, r, j))
				return (-1);
	}
	return (0);
}

/**
 * node_hash(key, kl):
 * The lookup hash of a key.
 */
uint32_t
node_hash(const uint8_t *key, size_t kl)
{

	return (crc32c_update(0, key, kl));
}

/**
 * node_hfind(node, key, kl, h, vl):
 * Hash lookup in a frozen leaf.
 */
const uint8_t *
node_hfind(struct node *nd, const uint8_t *key, size_t kl, uint32_t hk,
    size_t *vl)
{
	const uint8_t *k;
	size_t l;
	uint32_t h, i, sz, x;
	int eq;

	/*
	 * A leaf read once (a cold read just loaded it) is searched; the
	 * index is built on its second lookup.
	 */
	if (!nd->hwarm) {
		nd->hwarm = 1;
		i = node_lower(nd, key, kl, &eq);
		return (eq ? node_val(nd, i, vl) : NULL);
	}

	/* Small leaves: the inline index. */
	if (nd->n <= NODE_HINL_MAXN && nd->alen < UINT16_MAX) {
		if (!nd->hinl) {
			for (i = 0; i < nd->n; i++) {
				k = node_key(nd, i, &l);
				h = node_hash(k, l) & (NODE_HINL - 1);
				while (nd->hs[h] != 0)
					h = (h + 1) & (NODE_HINL - 1);
				nd->hs[h] = (uint16_t)(nd->off[i] + 1);
			}
			nd->hinl = 1;
		}
		h = hk & (NODE_HINL - 1);
		while ((x = nd->hs[h]) != 0) {
			k = &nd->arena[x - 1];
			if (k[0] == kl && memcmp(&k[1], key, kl) == 0) {
				*vl = k[1 + kl];
				return (&k[2 + kl]);
			}
			h = (h + 1) & (NODE_HINL - 1);
		}
		return (NULL);
	}

	if (nd->hidx == NULL) {
		for (sz = 8; sz < 2 * nd->n; sz *= 2)
			continue;
		if ((nd->hidx = calloc(sz, sizeof(uint32_t))) == NULL) {
			i = node_lower(nd, key, kl, &eq);
			return (eq ? node_val(nd, i, vl) : NULL);
		}
		nd->hmask = sz - 1;
		for (i = 0; i < nd->n; i++) {
			k = node_key(nd, i, &l);
			h = node_hash(k, l) & nd->hmask;
			while (nd->hidx[h] != 0)
				h = (h + 1) & nd->hmask;
			nd->hidx[h] = nd->off[i] + 1;
		}
		node_reacct(nd);
	}
	h = hk & nd->hmask;
	while ((x = nd->hidx[h]) != 0) {
		k = &nd->arena[x - 1];
		if (k[0] == kl && memcmp(&k[1], key, kl) == 0) {
			*vl = k[1 + kl];
			return (&k[2 + kl]);
		}
		h = (h + 1) & nd->hmask;
	}
	return (NULL);
}
