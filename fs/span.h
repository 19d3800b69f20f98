/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fs/span.h - where a plaintext byte range falls among a file's extents
 * and in its backing file (docs/format.md §6).  Pure arithmetic on a
 * valid extent size @esz (crypto/extent.h), inline since the data path
 * runs it per extent; tests/unit/test_holes.c tries it at every extent
 * size the format allows.
 *
 * Ends are exclusive: a file of @size bytes, a range [off, end).  No
 * function is asked about an empty file or range, or about an extent past
 * the end of its file.
 */
#ifndef ATR_SPAN_H
#define ATR_SPAN_H

#include <stdbool.h>
#include <stdint.h>

#include "../crypto/extent.h"

static inline uint64_t span_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* The extent holding byte @end - 1: the last of a file of @end bytes. */
static inline uint64_t span_last(uint32_t esz, uint64_t end)
{
	return (end - 1) / esz;
}

/* Plaintext bytes of extent @i of a file of @size bytes. */
static inline uint64_t span_ext_len(uint32_t esz, uint64_t size, uint64_t i)
{
	return span_min(esz, size - i * esz);
}

/*
 * Backing bytes of extents @first..@last of a file of @size bytes; they
 * lie together from extent_disk_off(@esz, @first), so one pread or pwrite
 * moves them.
 */
static inline uint64_t span_disk_len(uint32_t esz, uint64_t first,
				     uint64_t last, uint64_t size)
{
	return (last - first) * extent_disk_size(esz) +
	       span_ext_len(esz, size, last) + EXTENT_OVERHEAD;
}

/*
 * The bytes [*s, *e) of extent @i, counted from its start, that the range
 * [off, end) covers in a file of @size bytes (@end <= @size).
 */
static inline void span_cover(uint32_t esz, uint64_t i, uint64_t off,
			      uint64_t end, uint64_t size, uint64_t *s,
			      uint64_t *e)
{
	*s = i * esz < off ? off - i * esz : 0;
	*e = span_min(end - i * esz, span_ext_len(esz, size, i));
}

/*
 * Does [off, end) cover extent @i of a file of @size bytes only in part?
 * Such an extent is read before it is written; only the first and the
 * last extent of a range can be.
 */
static inline bool span_partial(uint32_t esz, uint64_t i, uint64_t off,
				uint64_t end, uint64_t size)
{
	uint64_t s, e;

	span_cover(esz, i, off, end, size, &s, &e);
	return s != 0 || e != span_ext_len(esz, size, i);
}

/*
 * The extents [*a, *b) that lie wholly inside [off, end) (@end <= @size),
 * the last extent of the file excluded: it stays sealed to prove where
 * the file ends.  None when *a >= *b.
 */
static inline void span_inner(uint32_t esz, uint64_t off, uint64_t end,
			      uint64_t size, uint64_t *a, uint64_t *b)
{
	*a = (off + esz - 1) / esz;
	*b = span_min(end / esz, span_last(esz, size));
}

#endif
