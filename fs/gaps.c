// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/gaps.c - the list of holes a file may have that its sparse record
 * does not cover yet (fs/gaps.h).  Owns the array; the inode holds the
 * pointer and the lock (ai->lock).  Tested by tests/unit/test_holes.c.
 *
 * A fixed array: over io_uring the two CPU queues leave many ranges at
 * once, and past GAPS_MAX the two nearest merge rather than grow the
 * list, which the contract of gaps.h allows.
 */
#include <errno.h>
#include <stdlib.h>

#include "gaps.h"

struct gaps {
	unsigned int n;
	struct {
		uint64_t lo, hi;	/* extents [lo, hi) */
	} r[GAPS_MAX];
};

/* Extents between [lo, hi) and range @i of @g. */
static uint64_t gap_distance(const struct gaps *g, unsigned int i,
			     uint64_t lo, uint64_t hi)
{
	if (lo >= g->r[i].hi)
		return lo - g->r[i].hi;
	return g->r[i].lo > hi ? g->r[i].lo - hi : 0;
}

int gaps_add(struct gaps **gp, uint64_t lo, uint64_t hi)
{
	struct gaps *g = *gp;
	unsigned int i, near = 0;

	if (!g)
		g = *gp = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	if (g->n < GAPS_MAX) {
		g->r[g->n].lo = lo;
		g->r[g->n].hi = hi;
		g->n++;
		return 0;
	}
	for (i = 1; i < g->n; i++)
		if (gap_distance(g, i, lo, hi) < gap_distance(g, near, lo, hi))
			near = i;
	g->r[near].lo = g->r[near].lo < lo ? g->r[near].lo : lo;
	g->r[near].hi = g->r[near].hi > hi ? g->r[near].hi : hi;
	return 0;
}

void gaps_remove(struct gaps **gp, uint64_t lo, uint64_t hi)
{
	struct gaps *g = *gp;
	unsigned int i = 0;

	while (g && i < g->n) {
		uint64_t *rlo = &g->r[i].lo, *rhi = &g->r[i].hi;

		if (hi <= *rlo || lo >= *rhi) {
			i++;
			continue;
		}
		if (lo <= *rlo && hi >= *rhi) {
			g->r[i] = g->r[--g->n];
			continue;
		}
		if (lo <= *rlo) {
			*rlo = hi;
		} else if (hi >= *rhi) {
			*rhi = lo;
		} else if (g->n < GAPS_MAX) {
			g->r[g->n].lo = hi;
			g->r[g->n].hi = *rhi;
			g->n++;
			*rhi = lo;
		}
		i++;
	}
	if (g && !g->n) {
		free(g);
		*gp = NULL;
	}
}

bool gaps_has(const struct gaps *g, uint64_t idx)
{
	unsigned int i;

	for (i = 0; g && i < g->n; i++)
		if (idx >= g->r[i].lo && idx < g->r[i].hi)
			return true;
	return false;
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
	free(*gp);
	*gp = NULL;
}
