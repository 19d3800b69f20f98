/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fs/gaps.h - the list of extent ranges that may be holes not yet recorded
 * (fs/holes.c says why such a list exists).  Pure: no FUSE, no fds, no
 * locks; the caller serialises (ai->lock write-held for changes).
 *
 * The list is exact: an extent is listed if and only if it was added and
 * not removed since.  Listing more would let the daemon take an extent an
 * attacker zeroed for a hole of the program's and sign a sparse record
 * over data.  When exactness would need more than GAPS_MAX ranges or more
 * memory, the call fails and changes nothing; the caller then records the
 * holes (they are real: listed extents were never written).
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

/* Ranges at most (16 bytes each): a bound on one file's list. */
#define GAPS_MAX	65536

/*
 * List extents [lo, hi) (lo < hi), joined with ranges they overlap or
 * touch.  0, or -ENOSPC (GAPS_MAX) or -ENOMEM with nothing changed.
 */
int gaps_add(struct gaps **gp, uint64_t lo, uint64_t hi);
/*
 * Extents [lo, hi) are no longer listed.  0, or -ENOSPC or -ENOMEM with
 * nothing changed, when a range would split in two with no room.
 */
int gaps_remove(struct gaps **gp, uint64_t lo, uint64_t hi);
/* Is extent @idx listed?  @g may be NULL. */
bool gaps_has(const struct gaps *g, uint64_t idx);
/* The ranges, in ascending order: @i below gaps_count(); @g may be NULL. */
unsigned int gaps_count(const struct gaps *g);
void gaps_range(const struct gaps *g, unsigned int i, uint64_t *lo,
		uint64_t *hi);
/* Free the list, if any, and set *@gp to NULL. */
void gaps_free(struct gaps **gp);

#endif
