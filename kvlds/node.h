#ifndef NODE_H_
#define NODE_H_

/*
 * node: in-memory B+tree nodes of the kvlds engine (internal to the engine:
 * btree.c, page.c and the unit tests use it; the daemon never does).
 *
 * A node holds n keys.  A leaf (level 0) holds n (key, value) pairs; an
 * internal node (level > 0) holds n separator keys and n + 1 children,
 * child i covering the keys k with key[i-1] <= k < key[i].
 *
 * Entries live in a per-node arena: a leaf entry is (klen, key, vlen,
 * value), an internal entry is (klen, key); off[i] is the arena offset of
 * entry i.  Replaced or removed entries leave garbage in the arena, which
 * is compacted when it would otherwise grow.
 *
 * States (the copy-on-write invariant):
 * - mutable: node->gen equals the tree's current generation.  Only nodes
 *   created (new or cloned) since the last commit_begin are mutable, and
 *   they are referenced by the pending tree only.  Their addr is 0.
 * - frozen/clean: any other node.  It may be shared by the committed,
 *   in-flight and pending trees and is never modified, except that a
 *   child slot may be filled in (kids[i].n) when the child is loaded from
 *   disk, which changes no content.
 *
 * Reference counts: node->refcnt counts the child slots (kids[].n) and
 * tree roots that point at the node; node_unref() frees it at zero and
 * unrefs its loaded children.
 *
 * node->size is always the number of bytes page_encode() would write.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Serialized sizes (see page.h for the layout). */
#define NODE_HDR	20	/* page header */
#define NODE_LEAF_ENT(kl, vl)	(2 + (kl) + (vl))
#define NODE_INT_BASE	8	/* child 0 */
#define NODE_INT_ENT(kl)	(9 + (kl))
#define NODE_MAXLEVEL	32

/*
 * A reference to a child (or a tree root): disk address and/or memory.
 * Invariant (btree.c): addr is 0 exactly when the child is dirty (then n
 * is set); otherwise addr is the child's address, loaded (n set) or not.
 */
struct bt_child {
	uint64_t addr;		/* 0 = not on disk (yet) */
	struct node *n;		/* NULL = not loaded */
};

struct node {
	/* Read by every lookup: kept in the first cache line. */
	uint8_t level;		/* 0 = leaf */
	uint8_t used;		/* touched since the last eviction sweep */
	uint32_t n;		/* keys */
	uint32_t hmask;
	uint32_t *hidx;		/* frozen leaves: hash -> arena offset + 1 */
	uint8_t *arena;
	uint32_t *off;		/* n entry offsets into arena */
	struct bt_child *kids;	/* n + 1 children (internal only) */
	uint64_t addr;		/* log address; 0 = dirty */

	uint32_t refcnt;
	uint32_t offcap;
	uint32_t alen, acap, agarb;
	uint32_t kidcap;
	uint64_t gen;		/* generation that created it */
	size_t size;		/* serialized size */
	size_t memacct;		/* bytes counted in node_memory() */
	uint8_t hinl;		/* 1: hs[] holds the hash index */
	uint8_t hwarm;		/* looked up once (by binary search) */

	/*
	 * Leaves only: an inline hash index (arena offset + 1 per slot) for
	 * frozen leaves of up to NODE_HINL_MAXN entries; its slot for a key
	 * is known before the node is read, so a lookup can prefetch it.
	 */
	uint16_t hs[];
};

#define NODE_HINL	128	/* slots of the inline hash index */
#define NODE_HINL_MAXN	96	/* entries it can index */

/* node_hash(key, kl): the hash node_hfind uses, for prefetching. */
uint32_t node_hash(const uint8_t *, size_t);

/*
 * node_hprefetch(node, h):
 * Prefetch the cache lines a lookup of a key of hash ${h} in leaf ${node}
 * is about to read (the node header and its inline index slot).
 */
static inline void
node_hprefetch(const struct node *nd, uint32_t h)
{

	__builtin_prefetch(nd);
	__builtin_prefetch(&nd->hs[h & (NODE_HINL - 1)]);
}

/*
 * node_arena_alloc(cap):
 * Return an arena buffer of at least *cap bytes and set *cap to its
 * actual size (rounded up; possibly a block freed earlier).  It must be
 * given back with node_arena_release (node_unref does so for a node's
 * arena, whose acap must be that size).  NULL on ENOMEM.
 */
uint8_t *node_arena_alloc(size_t *);

/*
 * node_arena_release(p, cap):
 * Give back an arena buffer of ${cap} bytes (its size as set by
 * node_arena_alloc, or any malloc'd block): kept for reuse if there is
 * room (see node_arena_keep), else freed.  NULL is a no-op.
 */
void node_arena_release(uint8_t *, size_t);

/*
 * node_arena_keep(bytes):
 * Keep at most ${bytes} of released arenas for reuse (8 MiB until set;
 * counted in node_memory), freeing any excess now; 0 frees them all.
 */
void node_arena_keep(size_t);

/* node_count(): number of nodes currently allocated (all trees). */
size_t node_count(void);

/*
 * node_memory(): bytes of memory held by all nodes (structures, arenas,
 * offset, child and hash arrays).  Nodes are only touched by the loop
 * thread, so plain counters suffice.
 */
size_t node_memory(void);

/*
 * node_dirty_gen(gen):
 * From now on, count in node_dirty_memory() the memory of the nodes of
 * generation ${gen} (0: none), starting from 0: call it when the
 * generation of mutable nodes changes, before any node of ${gen} exists.
 *
 * node_dirty_memory():
 * Bytes held by the nodes of that generation (the dirty nodes of the
 * pending tree, for the engine), a part of node_memory().
 */
void node_dirty_gen(uint64_t);
size_t node_dirty_memory(void);

/*
 * node_reacct(node):
 * Recount ${node}'s memory after its arrays were allocated or resized
 * outside node.c (page_decode).
 */
void node_reacct(struct node *);

/*
 * node_new(level, gen):
 * Return a new empty node at ${level} of generation ${gen}, refcnt 1 (an
 * internal node starts with no children: the caller adds kids[0] with
 * node_int_setkid0).  NULL on allocation failure (logged).
 */
struct node *node_new(uint8_t, uint64_t);

/*
 * node_clone(node, gen):
 * Return a compacted mutable copy of ${node} with generation ${gen},
 * addr 0, refcnt 1; loaded children gain a reference.  NULL on error.
 */
struct node *node_clone(const struct node *, uint64_t);

/*
 * node_compact(node):
 * Shrink a mutable node's arrays to fit its entries (a node about to be
 * frozen will not grow again).  Failure to reallocate is harmless.
 */
void node_compact(struct node *);

/*
 * node_copy_entries(node, dst, newoff):
 * Copy the arena entries of ${node} in key order to ${dst} (a leaf's
 * entries are exactly its page body), coalescing entries that already
 * lie in order into single copies; if ${newoff} is not NULL, store each
 * entry's new offset there.  Return the bytes written.
 */
size_t node_copy_entries(const struct node *, uint8_t *, uint32_t *);

/* node_ref(node): add a reference. */
void node_ref(struct node *);

/*
 * node_unref(node):
 * Drop a reference; at zero free the node and unref its loaded children.
 * node_unref(NULL) does nothing.
 */
void node_unref(struct node *);

/* node_key(node, i, kl): pointer to key ${i}, its length in *kl. */
static inline const uint8_t *
node_key(const struct node *nd, uint32_t i, size_t *kl)
{
	const uint8_t *p = &nd->arena[nd->off[i]];

	*kl = p[0];
	return (p + 1);
}

/* node_val(node, i, vl): pointer to value ${i} of a leaf, length in *vl. */
static inline const uint8_t *
node_val(const struct node *nd, uint32_t i, size_t *vl)
{
	const uint8_t *p = &nd->arena[nd->off[i]];

	p += 1 + p[0];
	*vl = p[0];
	return (p + 1);
}

/* node_cmp(a, al, b, bl): compare byte strings (memcmp, then length). */
static inline int
node_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	size_t m = al < bl ? al : bl, i;
	uint64_t x, y;

	/* Eight bytes at a time, as big-endian words. */
	for (i = 0; i + 8 <= m; i += 8) {
		memcpy(&x, &a[i], 8);
		memcpy(&y, &b[i], 8);
		if (x != y) {
			x = __builtin_bswap64(x);
			y = __builtin_bswap64(y);
			return (x < y ? -1 : 1);
		}
	}
	for (; i < m; i++)
		if (a[i] != b[i])
			return (a[i] < b[i] ? -1 : 1);
	return ((al > bl) - (al < bl));
}

/*
 * node_hfind(node, key, kl, h, vl):
 * For a frozen leaf (never modified again), find ${key} (whose
 * node_hash is ${h}) through a hash
 * index built on first use (it maps to arena offsets, so one probe
 * touches one entry); return a pointer to the value and its length in
 * *vl, or NULL if absent.  If the index cannot be allocated, fall back to
 * a binary search.
 */
const uint8_t *node_hfind(struct node *, const uint8_t *, size_t,
    uint32_t, size_t *);

/*
 * node_lower(node, key, kl, eq):
 * Return the first index i with key[i] >= ${key} (n if none); set *eq to
 * 1 if key[i] equals ${key}, else 0.
 */
uint32_t node_lower(const struct node *, const uint8_t *, size_t, int *);

/*
 * node_childidx(node, key, kl):
 * For an internal node, the index of the child whose range holds ${key}
 * (the number of separators <= key).
 */
uint32_t node_childidx(const struct node *, const uint8_t *, size_t);

/*
 * node_leaf_insert(node, i, k, kl, v, vl):
 * Insert the pair at index ${i} of a mutable leaf.  -1 on ENOMEM.
 */
int node_leaf_insert(struct node *, uint32_t, const uint8_t *, size_t,
    const uint8_t *, size_t);

/* node_leaf_setval(node, i, v, vl): replace value ${i}.  -1 on ENOMEM. */
int node_leaf_setval(struct node *, uint32_t, const uint8_t *, size_t);

/* node_leaf_remove(node, i): remove pair ${i} of a mutable leaf. */
void node_leaf_remove(struct node *, uint32_t);

/*
 * node_int_setkid0(node, c):
 * Set the first child of an empty internal node (taking over the slot's
 * reference).  -1 on ENOMEM.
 */
int node_int_setkid0(struct node *, struct bt_child);

/*
 * node_int_insert(node, i, k, kl, c):
 * Insert separator ${k} at key index ${i} and child ${c} at child index
 * i + 1 of a mutable internal node; the node takes over the reference
 * held by ${c}.  -1 on ENOMEM.
 */
int node_int_insert(struct node *, uint32_t, const uint8_t *, size_t,
    struct bt_child);

/*
 * node_int_remove(node, i):
 * Remove separator ${i} and child i + 1 of a mutable internal node and
 * return that child slot (the caller owns its reference).
 */
struct bt_child node_int_remove(struct node *, uint32_t);

/* node_int_setkey(node, i, k, kl): replace separator ${i}.  -1 ENOMEM. */
int node_int_setkey(struct node *, uint32_t, const uint8_t *, size_t);

/*
 * node_split(node, cap, rightedge, gen, right, sep, seplen):
 * Split the mutable ${node} (whose size exceeds ${cap}) into itself and a
 * new node *right (generation ${gen}) that follows it, each of size <=
 * ${cap}; write the separator to sep[0..*seplen) (<= 255 bytes): for a
 * leaf the shortest key s with last-left < s <= first-right, for an
 * internal node the middle key, which leaves both halves.  If
 * ${rightedge}, pack the left node as full as possible (sequential
 * appends then fill pages completely); otherwise balance the halves.
 * -1 on error (ENOMEM, or no split fits: logged).
 */
int node_split(struct node *, size_t, int, uint64_t, struct node **,
    uint8_t *, size_t *);

/*
 * node_merge(left, sep, seplen, right):
 * Append the entries of ${right} (not modified; its loaded children gain
 * a reference) to the mutable ${left}; for internal nodes ${sep} goes
 * between them.  -1 on ENOMEM.
 */
int node_merge(struct node *, const uint8_t *, size_t, const struct node *);

#endif /* !NODE_H_ */
