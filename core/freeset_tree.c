/* SPDX-License-Identifier: MIT */
/*
 * The free index: an AVL tree of free blocks keyed by address, kept in the slots (link[0] and
 * link[1] are the children). Each node also records the largest block size in its subtree,
 * which turns "lowest-addressed block of at least n granules" into one descent:
 *
 *   at node t: if the left subtree holds a big enough block, go left (lower addresses first);
 *              else if t itself fits, t is the answer; else go right.
 *
 * Height is at most 1.44 log2(n + 2), so every operation is O(log n) with n free blocks.
 * Merges and splits move a block's start or size without changing its order among free
 * blocks (full consolidation leaves no free block in between), so they only refresh the
 * subtree maxima on one path.
 */

#include "sh_internal.h"

#if !SH_LINEAR

#define L(r, i) (sh_slot_at(r, i)->link[0])
#define R(r, i) (sh_slot_at(r, i)->link[1])

static uint32_t height(const struct sh_region *r, uint32_t i)
{
	return i == SH_NIL ? 0 : sh_slot_at(r, i)->height;
}

static uint32_t subtree_max(const struct sh_region *r, uint32_t i)
{
	return i == SH_NIL ? 0 : sh_slot_at(r, i)->max;
}

static uint32_t max2(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

/* Recomputes height and maximum of node i from its children. */
static void pull(struct sh_region *r, uint32_t i)
{
	struct sh_slot *s = sh_slot_at(r, i);

	s->height = (uint8_t)(1 + max2(height(r, s->link[0]), height(r, s->link[1])));
	s->max = max2(s->size, max2(subtree_max(r, s->link[0]), subtree_max(r, s->link[1])));
}

static uint32_t rotate_right(struct sh_region *r, uint32_t i)
{
	uint32_t l = L(r, i);

	L(r, i) = R(r, l);
	R(r, l) = i;
	pull(r, i);
	pull(r, l);
	return l;
}

static uint32_t rotate_left(struct sh_region *r, uint32_t i)
{
	uint32_t g = R(r, i);

	R(r, i) = L(r, g);
	L(r, g) = i;
	pull(r, i);
	pull(r, g);
	return g;
}

/* Restores the AVL balance at i (children already balanced); returns the subtree's root. */
static uint32_t rebalance(struct sh_region *r, uint32_t i)
{
	uint32_t l = L(r, i), g = R(r, i);
	uint32_t hl = height(r, l), hr = height(r, g);

	if (hl > hr + 1) {
		if (height(r, L(r, l)) < height(r, R(r, l)))
			L(r, i) = rotate_left(r, l);
		return rotate_right(r, i);
	}
	if (hr > hl + 1) {
		if (height(r, R(r, g)) < height(r, L(r, g)))
			R(r, i) = rotate_right(r, g);
		return rotate_left(r, i);
	}
	pull(r, i);
	return i;
}

static uint32_t insert_at(struct sh_region *r, uint32_t t, uint32_t i)
{
	if (t == SH_NIL)
		return i;
	if (sh_slot_at(r, i)->off < sh_slot_at(r, t)->off)
		L(r, t) = insert_at(r, L(r, t), i);
	else
		R(r, t) = insert_at(r, R(r, t), i);
	return rebalance(r, t);
}

void sh_fs_insert(struct sh_region *r, uint32_t i)
{
	struct sh_slot *s = sh_slot_at(r, i);

	s->list = SH_LIST_FREE;
	s->link[0] = s->link[1] = SH_NIL;
	s->height = 1;
	s->max = s->size;
	r->free_root = insert_at(r, r->free_root, i);
}

static uint32_t remove_min(struct sh_region *r, uint32_t t, uint32_t *min)
{
	if (L(r, t) == SH_NIL) {
		*min = t;
		return R(r, t);
	}
	L(r, t) = remove_min(r, L(r, t), min);
	return rebalance(r, t);
}

static uint32_t remove_at(struct sh_region *r, uint32_t t, uint32_t off)
{
	uint32_t key = sh_slot_at(r, t)->off;

	if (off < key) {
		L(r, t) = remove_at(r, L(r, t), off);
	} else if (off > key) {
		R(r, t) = remove_at(r, R(r, t), off);
	} else {
		uint32_t l = L(r, t), g = R(r, t), m;
		if (g == SH_NIL)
			return l;
		g = remove_min(r, g, &m);
		L(r, m) = l;
		R(r, m) = g;
		return rebalance(r, m);
	}
	return rebalance(r, t);
}

void sh_fs_remove(struct sh_region *r, uint32_t i)
{
	r->free_root = remove_at(r, r->free_root, sh_slot_at(r, i)->off);
}

void sh_fs_update(struct sh_region *r, uint32_t i)
{
	uint32_t path[SH_MAX_HEIGHT];
	uint32_t off = sh_slot_at(r, i)->off;
	unsigned n = 0;

	for (uint32_t t = r->free_root; t != i;) {
		path[n++] = t;
		t = off < sh_slot_at(r, t)->off ? L(r, t) : R(r, t);
	}
	pull(r, i);
	while (n)
		pull(r, path[--n]);
}

uint32_t sh_fs_first_fit(struct sh_region *r, uint32_t gran)
{
	uint32_t t = r->free_root;

	if (subtree_max(r, t) < gran)
		return SH_NIL;
	for (;;) {
		uint32_t l = L(r, t);
		if (subtree_max(r, l) >= gran)
			t = l;
		else if (sh_slot_at(r, t)->size >= gran)
			return t;
		else
			t = R(r, t);
	}
}

/* Lowest node of subtree t with offset above lo (any offset if !bounded) and size >= gran. */
static uint32_t fit_above(const struct sh_region *r, uint32_t t, bool bounded, uint32_t lo,
			  uint32_t gran)
{
	while (t != SH_NIL && subtree_max(r, t) >= gran) {
		const struct sh_slot *s = sh_slot_at(r, t);
		if (!bounded || s->off > lo) {
			uint32_t x = fit_above(r, s->link[0], bounded, lo, gran);
			if (x != SH_NIL)
				return x;
			if (s->size >= gran)
				return t;
		}
		t = s->link[1];
	}
	return SH_NIL;
}

uint32_t sh_fs_next_fit(struct sh_region *r, uint32_t from, uint32_t gran)
{
	if (from == SH_NIL)
		return sh_fs_first_fit(r, gran);
	return fit_above(r, r->free_root, true, sh_slot_at(r, from)->off, gran);
}

uint32_t sh_fs_find(const struct sh_region *r, uint32_t off)
{
	uint32_t t = r->free_root;

	while (t != SH_NIL && sh_slot_at(r, t)->off != off)
		t = off < sh_slot_at(r, t)->off ? L(r, t) : R(r, t);
	return t;
}

uint32_t sh_fs_largest(const struct sh_region *r)
{
	return subtree_max(r, r->free_root);
}

/* ---- I6: the tree against the free blocks ---- */

struct tree_walk {
	const struct sh_region *r;
	unsigned ri;
	struct sh_check_report *rep;
	unsigned failures;
	uint32_t visited;
	bool have_prev;
	uint32_t prev_off;
};

static bool tree_fail(struct tree_walk *w, uint32_t i, const char *what)
{
	uintptr_t a = i < w->r->nslots
			      ? w->r->arena + (uintptr_t)sh_slot_at(w->r, i)->off * SH_GRANULE
			      : 0;
	sh_check_fail(w->rep, SH_I6_INDEX, w->ri, i, a, what);
	w->failures++;
	return false;
}

/* In-order walk; stops at the first structural fault, since links can no longer be trusted.
 * Returns the subtree's height through *h and its maximum through *m. */
static bool tree_visit(struct tree_walk *w, uint32_t t, unsigned depth, uint32_t *h,
		       uint32_t *m)
{
	*h = 0;
	*m = 0;
	if (t == SH_NIL)
		return true;
	if (t >= w->r->nslots)
		return tree_fail(w, t, "free tree link out of range");
	if (depth > SH_MAX_HEIGHT || ++w->visited > w->r->nslots)
		return tree_fail(w, t, "free tree deeper than possible: a cycle");

	const struct sh_slot *s = sh_slot_at(w->r, t);
	uint32_t hl, hr, ml, mr;
	if (!tree_visit(w, s->link[0], depth + 1, &hl, &ml))
		return false;
	if (s->list != SH_LIST_FREE)
		return tree_fail(w, t, "free tree holds a slot that is not free");
	if (w->have_prev && s->off <= w->prev_off)
		return tree_fail(w, t, "free tree out of address order");
	w->have_prev = true;
	w->prev_off = s->off;
	if (!tree_visit(w, s->link[1], depth + 1, &hr, &mr))
		return false;

	*h = 1 + max2(hl, hr);
	*m = max2(s->size, max2(ml, mr));
	if (s->height != *h)
		tree_fail(w, t, "free tree node height is wrong");
	if (s->max != *m)
		tree_fail(w, t, "free tree subtree maximum is wrong");
	if (hl > hr + 1 || hr > hl + 1)
		tree_fail(w, t, "free tree is out of balance");
	return true;
}

unsigned sh_fs_check(const struct sh_region *r, unsigned ri, struct sh_check_report *rep,
		     uint32_t *nodes)
{
	struct tree_walk w = {.r = r, .ri = ri, .rep = rep};
	uint32_t h, m;

	tree_visit(&w, r->free_root, 0, &h, &m);
	*nodes = w.visited;
	return w.failures;
}

#endif /* !SH_LINEAR */
