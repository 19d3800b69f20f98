/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fs/gaps.h - a list of extent ranges that may be holes not yet recorded
 * (fs/holes.c says why such a list exists).  Pure: no FUSE, no fds, no
 * locks; the caller serialises (ai->lock write-held for changes).
 *
 * The list may hold more than was added, never less: an extent that was
 * added and not removed since is always listed.  Listing too much is
 * safe, since its users look on disk and take only an all-zero extent as
 * a hole.  Callers rely on that contract only, so exact tracking can
 * replace the merging below without touching them.
 *
 * A list is NULL while empty: gaps_add() makes it, and gaps_remove()
 * frees it (and sets the caller's pointer to NULL) when its last range
 * goes.  Its owner frees it with gaps_free().
 */
#ifndef ATR_GAPS_H
#define ATR_GAPS_H

#include <stdbool.h>
#include <stdint.h>

struct gaps;

/*
 * Ranges kept as added.  Past that many the new range merges with the
 * nearest one (by extents between them), which lists the extents between
 * them too.
 */
#define GAPS_MAX	32

/* List extents [lo, hi) (lo < hi).  0, or -ENOMEM with nothing listed. */
int gaps_add(struct gaps **gp, uint64_t lo, uint64_t hi);
/*
 * Extents [lo, hi) are no longer listed, except that a range that would
 * split in two with no slot left stays whole.
 */
void gaps_remove(struct gaps **gp, uint64_t lo, uint64_t hi);
/* Is extent @idx listed?  @g may be NULL. */
bool gaps_has(const struct gaps *g, uint64_t idx);
/* The ranges, in no order: @i below gaps_count(); @g may be NULL. */
unsigned int gaps_count(const struct gaps *g);
void gaps_range(const struct gaps *g, unsigned int i, uint64_t *lo,
		uint64_t *hi);
/* Free the list, if any, and set *@gp to NULL. */
void gaps_free(struct gaps **gp);

#endif
