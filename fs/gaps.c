// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/gaps.c - the list of holes a file may have that its sparse record
 * does not cover yet (fs/gaps.h).  Owns the array; the inode holds the
 * pointer and the lock (ai->lock).  Tested by tests/unit/test_holes.c.
 *
 * A sorted array of disjoint ranges that never touch, grown on demand:
 * lookups are a binary search, and writes in order strike off the first
 * range, so the common case moves nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gaps.h"

struct gap_range {
	uint64_t lo, hi;		/* extents [lo, hi), lo < hi */
};

struct gaps {
	unsigned int n, cap;
	struct gap_range *r;		/* n ranges, ascending, apart */
};

/* The first range whose hi is at or above @idx: where @idx would go. */
static unsigned int gap_find(const struct gaps *g, uint64_t idx)
{
	unsigned int a = 0, b = g->n, mid;

	while (a < b) {
		mid = a + (b - a) / 2;
		if (g->r[mid].hi < idx)
			a = mid + 1;
		else
			b = mid;
	}
	return a;
}

/* Room for @n ranges; the list is left as it was on failure. */
static int gap_reserve(struct gaps *g, unsigned int n)
{
	unsigned int cap;
	struct gap_range *r;

	if (n <= g->cap)
		return 0;
	if (n > GAPS_MAX)
		return -ENOSPC;
	cap = g->cap ? g->cap * 2 : 4;
	if (cap > GAPS_MAX)
		cap = GAPS_MAX;
	r = realloc(g->r, cap * sizeof(*r));
	if (!r)
		return -ENOMEM;
	g->r = r;
	g->cap = cap;
	return 0;
}

int gaps_add(struct gaps **gp, uint64_t lo, uint64_t hi)
{
	struct gaps *g = *gp;
	unsigned int i, j;
	int err;

	if (!g) {
		g = calloc(1, sizeof(*g));
		if (!g)
			return -ENOMEM;
		err = gap_reserve(g, 1);
		if (err) {
			free(g);
			return err;
		}
		*gp = g;
	}
	/* Ranges i..j-1 overlap or touch [lo, hi): they join it. */
	i = gap_find(g, lo);
	for (j = i; j < g->n && g->r[j].lo <= hi; j++)
		;
	if (i == j) {
		err = gap_reserve(g, g->n + 1);
		if (err)
			return err;
		memmove(&g->r[i + 1], &g->r[i], (g->n - i) * sizeof(*g->r));
		g->r[i] = (struct gap_range){ lo, hi };
		g->n++;
		return 0;
	}
	if (g->r[i].lo < lo)
		lo = g->r[i].lo;
	if (g->r[j - 1].hi > hi)
		hi = g->r[j - 1].hi;
	g->r[i] = (struct gap_range){ lo, hi };
	memmove(&g->r[i + 1], &g->r[j], (g->n - j) * sizeof(*g->r));
	g->n -= j - i - 1;
	return 0;
}

int gaps_remove(struct gaps **gp, uint64_t lo, uint64_t hi)
{
	struct gaps *g = *gp;
	unsigned int i, j, keep;
	struct gap_range first, last;
	int err;

	if (!g || lo >= hi)
		return 0;
	/* Ranges i..j-1 overlap [lo, hi); touching ones are not hit. */
	i = gap_find(g, lo + 1);
	for (j = i; j < g->n && g->r[j].lo < hi; j++)
		;
	if (i == j)
		return 0;
	first = g->r[i];
	last = g->r[j - 1];
	/* What is left of them: a piece below lo, a piece from hi. */
	keep = (first.lo < lo) + (last.hi > hi);
	if (keep > j - i) {
		err = gap_reserve(g, g->n + 1);
		if (err)
			return err;
	}
	memmove(&g->r[i + keep], &g->r[j], (g->n - j) * sizeof(*g->r));
	g->n = g->n - (j - i) + keep;
	if (first.lo < lo)
		g->r[i++] = (struct gap_range){ first.lo, lo };
	if (last.hi > hi)
		g->r[i] = (struct gap_range){ hi, last.hi };
	if (!g->n)
		gaps_free(gp);
	return 0;
}

bool gaps_has(const struct gaps *g, uint64_t idx)
{
	unsigned int i;

	if (!g || idx == UINT64_MAX)
		return false;
	i = gap_find(g, idx + 1);
	return i < g->n && g->r[i].lo <= idx;
}

unsigned int gaps_count(const struct gaps *g)
{
	return g ? g->n : 0;
}

void gaps_range(const struct gaps *g, unsigned int i, uint64_t *lo,
		uint64_t *hi)
{
	*lo = g->r[i].lo;
	*hi = g->r[i].hi;
}

void gaps_free(struct gaps **gp)
{
	if (*gp)
		free((*gp)->r);
	free(*gp);
	*gp = NULL;
}
