/* SPDX-License-Identifier: MIT */
/*
 * The free index: an AVL tree of free blocks keyed by address, kept in the slots (link[0] and
 * link[1] are the children, parent the way back up). Each node also records the largest block
 * size in its subtree, which turns "lowest-addressed block of at least n granules" into one
 * descent:
 *
 *   at node t: if the left subtree holds a big enough block, go left (lower addresses first);
 *              else if t itself fits, t is the answer; else go right.
 *
 * Height is at most 1.44 log2(n + 2), so every operation is O(log n) with n free blocks.
 * Merges and splits move a block's start or size without changing its order among free
 * blocks (full consolidation leaves no free block in between), so they only refresh cached
 * maxima upwards from the block, and stop at the first ancestor whose maximum is unchanged:
 * that is why the nodes keep parent links rather than having callers record search paths.
 */

#include "sh_internal.h"

#if !SH_LINEAR

#define NODE(r, i) sh_slot_at(r, i)

static uint32_t max2(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

static uint32_t height(const struct sh_region *r, uint32_t i)
{
	return i == SH_NIL ? 0 : NODE(r, i)->height;
}

static uint32_t subtree_max(const struct sh_region *r, uint32_t i)
{
	return i == SH_NIL ? 0 : NODE(r, i)->max;
}

/* Largest block in the subtree of node s, from its own size and its children's maxima. */
static uint32_t max_below(const struct sh_region *r, const struct sh_slot *s)
{
	return max2(s->size, max2(subtree_max(r, s->link[0]), subtree_max(r, s->link[1])));
}

/* Sets node s's height and maximum from its children's heights hl, hr and their maxima. */
static void refresh(const struct sh_region *r, struct sh_slot *s, uint32_t hl, uint32_t hr)
{
	s->height = (1 + max2(hl, hr)) & 63u;
	s->max = max_below(r, s);
}

/* Recomputes height and maximum of node i from its children. */
static void pull(struct sh_region *r, uint32_t i)
{
	struct sh_slot *s = NODE(r, i);

	refresh(r, s, height(r, s->link[0]), height(r, s->link[1]));
}

/* Makes sub take old's place under parent p (or at the root). */
static void replace_child(struct sh_region *r, uint32_t p, uint32_t old, uint32_t sub)
{
	if (p == SH_NIL)
		r->free_root = sub;
	else
		NODE(r, p)->link[NODE(r, p)->link[1] == old] = sub;
	if (sub != SH_NIL)
		sh_set_parent(NODE(r, sub), p);
}

static void set_link(struct sh_region *r, uint32_t i, unsigned dir, uint32_t child)
{
	NODE(r, i)->link[dir] = child;
	if (child != SH_NIL)
		sh_set_parent(NODE(r, child), i);
}

/* Rotates i's child on side dir up into i's place; returns that child. */
static uint32_t rotate(struct sh_region *r, uint32_t i, unsigned dir)
{
	uint32_t c = NODE(r, i)->link[dir];

	replace_child(r, sh_parent_of(NODE(r, i)), i, c);
	set_link(r, i, dir, NODE(r, c)->link[!dir]);
	set_link(r, c, !dir, i);
	pull(r, i);
	pull(r, c);
	return c;
}

/* Restores the AVL balance at i (its children are balanced); returns the subtree's root. */
static uint32_t rebalance(struct sh_region *r, uint32_t i)
{
	uint32_t hl = height(r, NODE(r, i)->link[0]), hr = height(r, NODE(r, i)->link[1]);
	unsigned dir;

	if (hl > hr + 1)
		dir = 0;
	else if (hr > hl + 1)
		dir = 1;
	else {
		refresh(r, NODE(r, i), hl, hr);
		return i;
	}
	uint32_t c = NODE(r, i)->link[dir];
	if (height(r, NODE(r, c)->link[dir]) < height(r, NODE(r, c)->link[!dir]))
		rotate(r, c, !dir);
	return rotate(r, i, dir);
}

/* Node i's maximum has become m: carries it upwards while it changes anything. Going up,
 * only the sibling's maximum is new to each node. */
static void raise_or_lower_max(struct sh_region *r, uint32_t i, uint32_t m)
{
	struct sh_slot *s = NODE(r, i);

	/* A maximum that rises only needs comparing with each ancestor's own. */
	if (m > s->max) {
		do {
			s->max = m;
			if (s->parent == SH_PARENT_NIL)
				return;
			s = NODE(r, s->parent);
		} while (m > s->max);
		return;
	}
	while (m != s->max) {
		s->max = m;
		uint32_t p = s->parent;
		if (p == SH_PARENT_NIL)
			return;
		struct sh_slot *ps = NODE(r, p);
		m = max2(m, max2(ps->size, subtree_max(r, ps->link[ps->link[0] == i])));
		i = p;
		s = ps;
	}
}

/*
 * Rebalances and refreshes from node t up to the root. Up to and including node `until` every
 * node is refreshed; above it, once a node keeps its height without a rotation, only maxima
 * can still change, and they stop at the first node whose maximum comes out unchanged.
 */
static void retrace(struct sh_region *r, uint32_t t, uint32_t until)
{
	bool forced = until != SH_NIL;

	while (t != SH_NIL) {
		struct sh_slot *s = NODE(r, t);
		unsigned old_height = s->height;
		uint32_t old_max = s->max, up = sh_parent_of(s);
		uint32_t top = rebalance(r, t);

		if (t == until) {
			forced = false;
		} else if (!forced && top == t && s->height == old_height) {
			/* Only maxima can still change: hand the new one to the upward walk,
			 * which compares it with the old. */
			uint32_t m = s->max;
			s->max = old_max;
			raise_or_lower_max(r, t, m);
			return;
		}
		t = up;
	}
}

void sh_fs_insert(struct sh_region *r, uint32_t i)
{
	struct sh_slot *s = NODE(r, i);
	uint32_t p = SH_NIL;
	unsigned dir = 0;

	/* One node is added, so an ancestor's maximum can only rise to the new size: raise it on
	 * the way down. */
	for (uint32_t t = r->free_root; t != SH_NIL;) {
		struct sh_slot *ts = NODE(r, t);
		if (ts->max < s->size)
			ts->max = s->size;
		p = t;
		dir = s->off >= ts->off;
		t = ts->link[dir];
	}
	s->list = SH_LIST_FREE;
	s->link[0] = s->link[1] = SH_NIL;
	s->height = 1;
	s->max = s->size;
	sh_set_parent(s, p);
	if (p == SH_NIL)
		r->free_root = i;
	else
		NODE(r, p)->link[dir] = i;

	/* AVL insertion: heights change only up to the first rotation or unchanged height, and
	 * the maxima on the way are already right, so a balanced node only needs its height. */
	for (p &= SH_PARENT_NIL; p != SH_PARENT_NIL;) {
		struct sh_slot *ps = NODE(r, p);
		uint32_t hl = height(r, ps->link[0]), hr = height(r, ps->link[1]);
		if (hl > hr + 1 || hr > hl + 1) {
			rebalance(r, p);
			return;
		}
		uint32_t h = 1 + max2(hl, hr);
		if (h == ps->height)
			return;
		ps->height = h & 63u;
		p = ps->parent;
	}
}

/*
 * Removes i. With two children, its in-order successor m (the lowest block of its right
 * subtree) is unlinked and takes i's place; every node from m's old place up to i's place is
 * then refreshed unconditionally, since i's own size left with it.
 */
void sh_fs_remove(struct sh_region *r, uint32_t i)
{
	struct sh_slot *s = NODE(r, i);
	uint32_t p = sh_parent_of(s);

	if (s->link[0] == SH_NIL || s->link[1] == SH_NIL) {
		replace_child(r, p, i, s->link[s->link[0] == SH_NIL]);
		retrace(r, p, SH_NIL);
		return;
	}
	uint32_t m = s->link[1];
	while (NODE(r, m)->link[0] != SH_NIL)
		m = NODE(r, m)->link[0];
	struct sh_slot *ms = NODE(r, m);
	uint32_t from = m;
	if (sh_parent_of(ms) != i) {
		from = sh_parent_of(ms);
		set_link(r, from, 0, ms->link[1]);
		set_link(r, m, 1, s->link[1]);
	}
	set_link(r, m, 0, s->link[0]);
	replace_child(r, p, i, m);
	retrace(r, from, m);
}

void sh_fs_update(struct sh_region *r, uint32_t i)
{
	raise_or_lower_max(r, i, max_below(r, NODE(r, i)));
}

/* The lowest-addressed block of subtree t with at least gran granules; t's maximum says
 * there is one. */
static uint32_t lowest_fit(const struct sh_region *r, uint32_t t, uint32_t gran)
{
	for (;;) {
		const struct sh_slot *s = NODE(r, t);
		if (s->link[0] != SH_NIL && NODE(r, s->link[0])->max >= gran)
			t = s->link[0];
		else if (s->size >= gran)
			return t;
		else
			t = s->link[1];
	}
}

uint32_t sh_fs_first_fit(const struct sh_region *r, uint32_t gran)
{
	if (subtree_max(r, r->free_root) < gran)
		return SH_NIL;
	return lowest_fit(r, r->free_root, gran);
}

/* The next block above block t, in address order, with at least gran granules, or SH_NIL:
 * the lowest fit of t's right subtree, else the first ancestor reached from its left side
 * that fits itself or has a right subtree that does. */
static uint32_t next_fit(const struct sh_region *r, uint32_t t, uint32_t gran)
{
	const struct sh_slot *s = NODE(r, t);

	if (subtree_max(r, s->link[1]) >= gran)
		return lowest_fit(r, s->link[1], gran);
	for (uint32_t p = sh_parent_of(s); p != SH_NIL; t = p, p = sh_parent_of(NODE(r, p))) {
		const struct sh_slot *ps = NODE(r, p);
		if (ps->link[0] != t)
			continue;
		if (ps->size >= gran)
			return p;
		if (subtree_max(r, ps->link[1]) >= gran)
			return lowest_fit(r, ps->link[1], gran);
	}
	return SH_NIL;
}

uint32_t sh_fs_scan(const struct sh_region *r, uint32_t gran, sh_fs_accept accept, void *ctx)
{
	uint32_t t = sh_fs_first_fit(r, gran);

	while (t != SH_NIL && !accept(r, t, ctx))
		t = next_fit(r, t, gran);
	return t;
}

uint32_t sh_fs_find(const struct sh_region *r, uint32_t off)
{
	uint32_t t = r->free_root;

	while (t != SH_NIL && NODE(r, t)->off != off)
		t = NODE(r, t)->link[off > NODE(r, t)->off];
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
	uintptr_t a =
		i < w->r->nslots ? w->r->arena + (uintptr_t)NODE(w->r, i)->off * SH_GRANULE : 0;
	sh_check_fail(w->rep, SH_I6_INDEX, w->ri, i, a, what);
	w->failures++;
	return false;
}

/* In-order walk; stops at the first structural fault, since links can no longer be trusted.
 * Returns the subtree's height through *h and its maximum through *m. */
static bool tree_visit(struct tree_walk *w, uint32_t t, uint32_t parent, unsigned depth,
		       uint32_t *h, uint32_t *m)
{
	*h = 0;
	*m = 0;
	if (t == SH_NIL)
		return true;
	if (t >= w->r->nslots)
		return tree_fail(w, t, "free tree link out of range");
	if (depth > SH_MAX_HEIGHT || ++w->visited > w->r->nslots)
		return tree_fail(w, t, "free tree deeper than possible: a cycle");

	const struct sh_slot *s = NODE(w->r, t);
	uint32_t hl, hr, ml, mr;
	if (sh_parent_of(s) != parent)
		return tree_fail(w, t, "free tree parent link disagrees");
	if (!tree_visit(w, s->link[0], t, depth + 1, &hl, &ml))
		return false;
	if (s->list != SH_LIST_FREE)
		return tree_fail(w, t, "free tree holds a slot that is not free");
	if (w->have_prev && s->off <= w->prev_off)
		return tree_fail(w, t, "free tree out of address order");
	w->have_prev = true;
	w->prev_off = s->off;
	if (!tree_visit(w, s->link[1], t, depth + 1, &hr, &mr))
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

	tree_visit(&w, r->free_root, SH_NIL, 0, &h, &m);
	*nodes = w.visited;
	return w.failures;
}

#endif /* !SH_LINEAR */
