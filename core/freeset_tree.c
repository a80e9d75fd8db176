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

/* Largest block in the subtree of node s, from its own size and its children's maxima. */
static uint32_t max_below(const struct sh_region *r, const struct sh_slot *s)
{
	return max2(s->size, max2(subtree_max(r, s->link[0]), subtree_max(r, s->link[1])));
}

/* Recomputes height and maximum of node i from its children. */
static void pull(struct sh_region *r, uint32_t i)
{
	struct sh_slot *s = sh_slot_at(r, i);

	s->height = (uint8_t)(1 + max2(height(r, s->link[0]), height(r, s->link[1])));
	s->max = max_below(r, s);
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

/*
 * Updates walk a struct sh_fs_path back up and stop at the first node whose height and
 * maximum come out unchanged, since nothing above it can change either.
 */
#define path sh_fs_path

static void path_push(struct path *p, uint32_t t, unsigned dir)
{
	p->node[p->n] = t;
	p->dir[p->n] = (uint8_t)dir;
	p->n++;
}

/* Makes sub the subtree at depth k of the path (the root when k is 0). */
static void set_child(struct sh_region *r, const struct path *p, unsigned k, uint32_t sub)
{
	if (k == 0)
		r->free_root = sub;
	else
		sh_slot_at(r, p->node[k - 1])->link[p->dir[k - 1]] = sub;
}

/* Descends to free block i by its offset, recording the path above it. */
static void path_to(struct sh_region *r, uint32_t i, struct path *p)
{
	uint32_t off = sh_slot_at(r, i)->off;

	p->n = 0;
	for (uint32_t t = r->free_root; t != i;) {
		unsigned d = off >= sh_slot_at(r, t)->off;
		path_push(p, t, d);
		t = sh_slot_at(r, t)->link[d];
	}
}

/* The subtree below the path's last node changed: rebalance and refresh upwards. Nodes at
 * depth `from` and below are always refreshed; above it the walk stops once nothing changes. */
static void retrace(struct sh_region *r, const struct path *p, unsigned from)
{
	for (unsigned k = p->n; k-- > 0;) {
		uint32_t t = p->node[k];
		struct sh_slot *s = sh_slot_at(r, t);
		uint8_t old_height = s->height;
		uint32_t old_max = s->max;
		uint32_t top = rebalance(r, t);
		if (top != t)
			set_child(r, p, k, top);
		else if (k < from && s->height == old_height && s->max == old_max)
			return;
	}
}

void sh_fs_insert(struct sh_region *r, uint32_t i)
{
	struct sh_slot *s = sh_slot_at(r, i);
	struct path p;

	p.n = 0;
	s->list = SH_LIST_FREE;
	s->link[0] = s->link[1] = SH_NIL;
	s->height = 1;
	s->max = s->size;
	for (uint32_t t = r->free_root; t != SH_NIL;) {
		unsigned d = s->off >= sh_slot_at(r, t)->off;
		path_push(&p, t, d);
		t = sh_slot_at(r, t)->link[d];
	}
	set_child(r, &p, p.n, i);

	/*
	 * Only one node was added, so an ancestor's maximum can only rise to the new size, and
	 * heights only change up to the first rotation or unchanged height (AVL insertion).
	 */
	bool taller = true;
	for (unsigned k = p.n; k-- > 0;) {
		uint32_t t = p.node[k];
		struct sh_slot *a = sh_slot_at(r, t);
		bool higher_max = s->size > a->max;
		if (higher_max)
			a->max = s->size;
		if (taller) {
			uint8_t old_height = a->height;
			uint32_t top = rebalance(r, t);
			if (top != t)
				set_child(r, &p, k, top);
			taller = top == t && a->height != old_height;
		}
		if (!taller && !higher_max)
			return;
	}
}

/*
 * Removes i. With two children, its in-order successor m (the lowest block of its right
 * subtree) is unlinked and takes i's place, inheriting i's cached height and maximum so that
 * retrace compares against what i's ancestors last saw; everything from m's old place up to
 * i's place is refreshed unconditionally, since i's own size left with it.
 */
void sh_fs_remove(struct sh_region *r, uint32_t i, struct path *found)
{
	struct path local, *p = found;
	struct sh_slot *s = sh_slot_at(r, i);

	if (!p) {
		p = &local;
		path_to(r, i, p);
	}
	unsigned at = p->n;
	if (s->link[1] == SH_NIL) {
		set_child(r, p, p->n, s->link[0]);
	} else {
		path_push(p, i, 1);
		uint32_t m = s->link[1];
		while (L(r, m) != SH_NIL) {
			path_push(p, m, 0);
			m = L(r, m);
		}
		set_child(r, p, p->n, R(r, m));
		struct sh_slot *ms = sh_slot_at(r, m);
		ms->link[0] = s->link[0];
		ms->link[1] = s->link[1];
		ms->height = s->height;
		ms->max = s->max;
		p->node[at] = m;
		set_child(r, p, at, m);
	}
	retrace(r, p, at);
}

void sh_fs_update(struct sh_region *r, uint32_t i, struct path *found)
{
	struct path local, *p = found;

	if (!p) {
		p = &local;
		path_to(r, i, p);
	}
	path_push(p, i, 0);
	for (unsigned k = p->n; k-- > 0;) {
		struct sh_slot *s = sh_slot_at(r, p->node[k]);
		uint32_t m = max_below(r, s);
		if (m == s->max)
			return;
		s->max = m;
	}
}

uint32_t sh_fs_first_fit(struct sh_region *r, uint32_t gran, struct path *p)
{
	uint32_t t = r->free_root;
	struct path scratch;

	if (!p)
		p = &scratch;
	p->n = 0;
	if (subtree_max(r, t) < gran)
		return SH_NIL;
	for (;;) {
		const struct sh_slot *s = sh_slot_at(r, t);
		if (subtree_max(r, s->link[0]) >= gran) {
			path_push(p, t, 0);
			t = s->link[0];
		} else if (s->size >= gran) {
			return t;
		} else {
			path_push(p, t, 1);
			t = s->link[1];
		}
	}
}

/* In-order walk of subtree t that skips every subtree holding no block of gran granules. */
static uint32_t scan_from(const struct sh_region *r, uint32_t t, uint32_t gran,
			  sh_fs_accept accept, void *ctx)
{
	while (t != SH_NIL && subtree_max(r, t) >= gran) {
		const struct sh_slot *s = sh_slot_at(r, t);
		uint32_t x = scan_from(r, s->link[0], gran, accept, ctx);
		if (x != SH_NIL)
			return x;
		if (s->size >= gran && accept(r, t, ctx))
			return t;
		t = s->link[1];
	}
	return SH_NIL;
}

uint32_t sh_fs_scan(const struct sh_region *r, uint32_t gran, sh_fs_accept accept, void *ctx)
{
	return scan_from(r, r->free_root, gran, accept, ctx);
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
