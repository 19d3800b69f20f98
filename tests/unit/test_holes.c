// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/unit/test_holes.c - the pure parts of hole handling: the list of
 * holes not yet recorded (fs/gaps.c) and the extent arithmetic of byte
 * ranges (fs/span.h), which decides what a read opens, what a write reads
 * first and what a punch leaves to the backing file.
 *
 * The list is exact (fs/gaps.h): an extent is listed if and only if it was
 * added and not removed since, checked against a plain bitmap over random
 * changes; at GAPS_MAX ranges a change that needs another fails and
 * changes nothing.  The arithmetic is tried at every extent size the
 * format allows, on both sides of each extent boundary.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"
#include "../../crypto/extent.h"
#include "../../fs/gaps.h"
#include "../../fs/span.h"

/* FUSE's largest request, the data path's FIO_SPAN. */
#define REQ_MAX		(1u << 20)

/* Every extent size docs/format.md allows, smallest first. */
#define for_each_esz(esz, shift)					\
	for ((shift) = EXTENT_MIN_SHIFT, (esz) = 1u << (shift);	\
	     (shift) <= EXTENT_MAX_SHIFT;				\
	     (shift)++, (esz) = 1u << (shift))

/* ---- the gap list ---- */

/* Is every extent of [lo, hi) listed?  Is none? */
static bool all_listed(const struct gaps *g, uint64_t lo, uint64_t hi)
{
	for (; lo < hi; lo++)
		if (!gaps_has(g, lo))
			return false;
	return true;
}

static bool none_listed(const struct gaps *g, uint64_t lo, uint64_t hi)
{
	for (; lo < hi; lo++)
		if (gaps_has(g, lo))
			return false;
	return true;
}

/* GAPS_MAX ranges [10k, 10k + 2), k = 0.., the list then full. */
static struct gaps *full_list(void)
{
	struct gaps *g = NULL;
	unsigned int k;

	for (k = 0; k < GAPS_MAX; k++)
		assert_int_equal(gaps_add(&g, 10 * k, 10 * k + 2), 0);
	assert_int_equal(gaps_count(g), GAPS_MAX);
	return g;
}

static void test_gaps_empty(void **state)
{
	struct gaps *g = NULL;

	(void)state;
	assert_false(gaps_has(NULL, 0));
	assert_int_equal(gaps_count(NULL), 0);
	gaps_remove(&g, 0, UINT64_MAX);
	assert_null(g);
	gaps_free(&g);
	assert_null(g);
}

static void test_gaps_add(void **state)
{
	struct gaps *g = NULL;
	uint64_t lo, hi;

	(void)state;
	assert_int_equal(gaps_add(&g, 2, 5), 0);
	assert_non_null(g);
	assert_int_equal(gaps_count(g), 1);
	gaps_range(g, 0, &lo, &hi);
	assert_int_equal(lo, 2);
	assert_int_equal(hi, 5);
	/* [lo, hi): both ends exact. */
	assert_false(gaps_has(g, 1));
	assert_true(all_listed(g, 2, 5));
	assert_false(gaps_has(g, 5));
	/* Below GAPS_MAX nothing merges: the extents between stay out. */
	assert_int_equal(gaps_add(&g, 9, 10), 0);
	assert_int_equal(gaps_count(g), 2);
	assert_true(none_listed(g, 5, 9));
	assert_true(gaps_has(g, 9));
	/* Overlapping and adjacent ranges are listed too. */
	assert_int_equal(gaps_add(&g, 4, 7), 0);
	assert_int_equal(gaps_add(&g, 10, 11), 0);
	assert_true(all_listed(g, 2, 7));
	assert_true(none_listed(g, 7, 9));
	assert_true(all_listed(g, 9, 11));
	assert_false(gaps_has(g, 11));
	gaps_free(&g);
	assert_null(g);
}

/* The top of the index space: no overflow at either end. */
static void test_gaps_top(void **state)
{
	struct gaps *g = NULL;

	(void)state;
	assert_int_equal(gaps_add(&g, UINT64_MAX - 2, UINT64_MAX), 0);
	assert_false(gaps_has(g, UINT64_MAX - 3));
	assert_true(gaps_has(g, UINT64_MAX - 2));
	assert_true(gaps_has(g, UINT64_MAX - 1));
	assert_false(gaps_has(g, UINT64_MAX));
	gaps_remove(&g, UINT64_MAX - 1, UINT64_MAX);
	assert_true(gaps_has(g, UINT64_MAX - 2));
	assert_false(gaps_has(g, UINT64_MAX - 1));
	gaps_remove(&g, 0, UINT64_MAX);
	assert_null(g);
}

static void test_gaps_remove(void **state)
{
	struct gaps *g = NULL;

	(void)state;
	assert_int_equal(gaps_add(&g, 10, 20), 0);
	/* Disjoint or touching: nothing changes. */
	gaps_remove(&g, 0, 10);
	gaps_remove(&g, 20, 30);
	assert_true(all_listed(g, 10, 20));
	/* The front, then the back. */
	gaps_remove(&g, 5, 12);
	assert_true(none_listed(g, 5, 12));
	assert_true(all_listed(g, 12, 20));
	gaps_remove(&g, 18, 25);
	assert_true(all_listed(g, 12, 18));
	assert_true(none_listed(g, 18, 25));
	assert_int_equal(gaps_count(g), 1);
	/* The middle: a slot is free, so the range splits. */
	gaps_remove(&g, 14, 16);
	assert_int_equal(gaps_count(g), 2);
	assert_true(all_listed(g, 12, 14));
	assert_true(none_listed(g, 14, 16));
	assert_true(all_listed(g, 16, 18));
	/* The last range gone, the list is freed. */
	gaps_remove(&g, 12, 14);
	assert_int_equal(gaps_count(g), 1);
	gaps_remove(&g, 16, 18);
	assert_null(g);
}

/* One removal over several ranges, the last one moved into a freed slot. */
static void test_gaps_remove_several(void **state)
{
	struct gaps *g = NULL;

	(void)state;
	assert_int_equal(gaps_add(&g, 0, 2), 0);
	assert_int_equal(gaps_add(&g, 10, 12), 0);
	assert_int_equal(gaps_add(&g, 20, 22), 0);
	assert_int_equal(gaps_add(&g, 30, 32), 0);
	gaps_remove(&g, 0, 12);
	assert_int_equal(gaps_count(g), 2);
	assert_true(none_listed(g, 0, 20));
	assert_true(all_listed(g, 20, 22));
	assert_true(all_listed(g, 30, 32));
	gaps_remove(&g, 21, 31);
	assert_true(gaps_has(g, 20));
	assert_true(none_listed(g, 21, 31));
	assert_true(gaps_has(g, 31));
	gaps_remove(&g, 0, UINT64_MAX);
	assert_null(g);
}

/*
 * The pattern of issue 16: extent 0 written, then 2, 4, ..., 66 (33
 * one-extent gaps), then 1, 3, ..., 65.  A list that merged its nearest
 * ranges once full kept data extents listed as holes; this one lists
 * exactly the gaps left at every step, and nothing at the end.
 */
static void test_gaps_many_filled(void **state)
{
	struct gaps *g = NULL;
	uint64_t i;

	(void)state;
	for (i = 2; i <= 66; i += 2) {
		assert_int_equal(gaps_add(&g, i - 1, i), 0);
		assert_int_equal(gaps_count(g), i / 2);
	}
	for (i = 1; i <= 65; i += 2) {
		assert_int_equal(gaps_remove(&g, i, i + 1), 0);
		assert_true(none_listed(g, 0, i + 2));
		if (i < 65)
			assert_true(gaps_has(g, i + 2));
	}
	assert_null(g);
}

/* Ranges that overlap or touch join into one; ranges apart stay apart. */
static void test_gaps_join(void **state)
{
	struct gaps *g = NULL;
	uint64_t lo, hi;

	(void)state;
	assert_int_equal(gaps_add(&g, 10, 12), 0);
	assert_int_equal(gaps_add(&g, 20, 22), 0);
	assert_int_equal(gaps_add(&g, 30, 32), 0);
	assert_int_equal(gaps_count(g), 3);
	assert_int_equal(gaps_add(&g, 12, 20), 0);	/* touches both */
	assert_int_equal(gaps_count(g), 2);
	gaps_range(g, 0, &lo, &hi);
	assert_int_equal(lo, 10);
	assert_int_equal(hi, 22);
	assert_int_equal(gaps_add(&g, 5, 40), 0);	/* covers all */
	assert_int_equal(gaps_count(g), 1);
	assert_true(all_listed(g, 5, 40));
	assert_false(gaps_has(g, 4));
	assert_false(gaps_has(g, 40));
	/* A removal that touches but does not overlap changes nothing. */
	assert_int_equal(gaps_remove(&g, 0, 5), 0);
	assert_int_equal(gaps_remove(&g, 40, 50), 0);
	assert_true(all_listed(g, 5, 40));
	gaps_free(&g);
}

/*
 * At GAPS_MAX ranges a range apart, or a split, fails with -ENOSPC and
 * changes nothing (the caller then records the holes); joins and trims,
 * which need no slot, still work.
 */
static void test_gaps_full(void **state)
{
	struct gaps *g = full_list();
	uint64_t top = 10ull * GAPS_MAX;

	(void)state;
	assert_int_equal(gaps_add(&g, top + 5, top + 6), -ENOSPC);
	assert_false(gaps_has(g, top + 5));
	assert_int_equal(gaps_remove(&g, 20, 21), 0);	/* trim: [21, 22) */
	assert_int_equal(gaps_add(&g, 2, 4), 0);	/* joins [0, 2) */
	assert_true(all_listed(g, 0, 4));
	assert_int_equal(gaps_count(g), GAPS_MAX);
	assert_int_equal(gaps_add(&g, 0, 3), 0);	/* inside */
	assert_int_equal(gaps_remove(&g, 1, 2), -ENOSPC);	/* split */
	assert_true(all_listed(g, 0, 4));
	/* A range fewer, and the split happens. */
	assert_int_equal(gaps_remove(&g, 30, 32), 0);
	assert_int_equal(gaps_remove(&g, 1, 2), 0);
	assert_true(gaps_has(g, 0));
	assert_false(gaps_has(g, 1));
	assert_true(all_listed(g, 2, 4));
	assert_int_equal(gaps_count(g), GAPS_MAX);
	gaps_free(&g);
}

/* Random adds and removes against a bitmap: exact, sorted, apart. */
static void test_gaps_model(void **state)
{
	enum { N = 512 };
	bool model[N] = { false };
	struct gaps *g = NULL;
	uint64_t lo, hi, plo = 0, phi = 0;
	unsigned int seed = 6, op, i, r;

	(void)state;
	for (op = 0; op < 20000; op++) {
		seed = seed * 1103515245u + 12345u;
		lo = (seed >> 8) % N;
		seed = seed * 1103515245u + 12345u;
		hi = lo + 1 + (seed >> 8) % 24;
		if (hi > N)
			hi = N;
		if ((seed >> 4) & 1) {
			assert_int_equal(gaps_add(&g, lo, hi), 0);
			for (i = lo; i < hi; i++)
				model[i] = true;
		} else {
			assert_int_equal(gaps_remove(&g, lo, hi), 0);
			for (i = lo; i < hi; i++)
				model[i] = false;
		}
		for (i = 0; i < N; i++)
			assert_int_equal(gaps_has(g, i), model[i]);
		for (r = 0; r < gaps_count(g); r++) {
			gaps_range(g, r, &lo, &hi);
			assert_true(lo < hi);
			/* Apart: a touching pair would have joined. */
			if (r)
				assert_true(lo > phi);
			plo = lo;
			phi = hi;
		}
		(void)plo;
	}
	gaps_free(&g);
}

/* ---- extent arithmetic ---- */

/* The sizes tried below are the format's, all of them. */
static void test_span_sizes(void **state)
{
	unsigned int shift, n = 0;
	uint32_t esz;

	(void)state;
	for_each_esz(esz, shift) {
		assert_true(extent_size_valid(esz));
		assert_false(extent_size_valid(esz - 1));
		n++;
	}
	assert_int_equal(n, 9);
	assert_false(extent_size_valid(1u << (EXTENT_MIN_SHIFT - 1)));
	assert_false(extent_size_valid(1u << (EXTENT_MAX_SHIFT + 1)));
}

static void test_span_last(void **state)
{
	static const uint64_t ks[] = { 1, 2, 3, 1000, 1ull << 30 };
	unsigned int shift, n;
	uint32_t esz;

	(void)state;
	for_each_esz(esz, shift) {
		assert_int_equal(span_last(esz, 1), 0);
		for (n = 0; n < sizeof(ks) / sizeof(ks[0]); n++) {
			uint64_t k = ks[n];

			assert_int_equal(span_last(esz, k * esz - 1), k - 1);
			assert_int_equal(span_last(esz, k * esz), k - 1);
			assert_int_equal(span_last(esz, k * esz + 1), k);
		}
		/* The largest size: no overflow. */
		assert_int_equal(span_last(esz, UINT64_MAX), UINT64_MAX >> shift);
	}
}

static void test_span_ext_len(void **state)
{
	unsigned int shift;
	uint32_t esz;

	(void)state;
	for_each_esz(esz, shift) {
		assert_int_equal(span_ext_len(esz, 1, 0), 1);
		assert_int_equal(span_ext_len(esz, esz - 1, 0), esz - 1);
		assert_int_equal(span_ext_len(esz, esz, 0), esz);
		/* A file of whole extents: the last is full too. */
		assert_int_equal(span_ext_len(esz, 3ull * esz, 0), esz);
		assert_int_equal(span_ext_len(esz, 3ull * esz, 2), esz);
		/* One byte short, one byte over. */
		assert_int_equal(span_ext_len(esz, 3ull * esz - 1, 1), esz);
		assert_int_equal(span_ext_len(esz, 3ull * esz - 1, 2), esz - 1);
		assert_int_equal(span_ext_len(esz, 3ull * esz + 1, 2), esz);
		assert_int_equal(span_ext_len(esz, 3ull * esz + 1, 3), 1);
	}
}

/* The backing bytes of a run agree with the format's own geometry. */
static void test_span_disk_len(void **state)
{
	unsigned int shift, n;
	uint64_t dsz, size, last, first, plain;
	uint32_t esz;

	(void)state;
	for_each_esz(esz, shift) {
		const uint64_t sizes[] = {
			1, esz - 1, esz, esz + 1, 2ull * esz, 3ull * esz - 1,
			5ull * esz + 7, (uint64_t)REQ_MAX + 1,
		};

		dsz = extent_disk_size(esz);
		for (n = 0; n < sizeof(sizes) / sizeof(sizes[0]); n++) {
			size = sizes[n];
			last = span_last(esz, size);
			assert_int_equal(span_disk_len(esz, 0, last, size),
					 extent_backing_size(esz, size));
			assert_int_equal(extent_plain_size(esz,
					 span_disk_len(esz, 0, last, size),
					 &plain), 0);
			assert_int_equal(plain, size);
			/* From any first extent: the tail of the file. */
			for (first = 0; first <= last; first++)
				assert_int_equal(span_disk_len(esz, first, last, size),
						 extent_backing_size(esz, size) -
						 extent_disk_off(esz, first));
		}
		/* A run that stops before the last extent is whole extents. */
		assert_int_equal(span_disk_len(esz, 1, 3, 5ull * esz + 7), 3 * dsz);
		assert_int_equal(span_disk_len(esz, 2, 2, 5ull * esz + 7), dsz);
		assert_int_equal(span_disk_len(esz, 5, 5, 5ull * esz + 7),
				 7 + EXTENT_OVERHEAD);
	}
}

static void assert_cover(uint32_t esz, uint64_t i, uint64_t off,
			 uint64_t end, uint64_t size, uint64_t s, uint64_t e,
			 bool partial)
{
	uint64_t gs, ge;

	span_cover(esz, i, off, end, size, &gs, &ge);
	assert_int_equal(gs, s);
	assert_int_equal(ge, e);
	assert_int_equal(span_partial(esz, i, off, end, size), partial);
}

static void test_span_cover(void **state)
{
	unsigned int shift;
	uint64_t E, size;
	uint32_t esz;

	(void)state;
	for_each_esz(esz, shift) {
		E = esz;
		/* Five extents, the last half full. */
		size = 4 * E + E / 2;
		/* Exactly one extent, then a byte off at either end. */
		assert_cover(esz, 1, E, 2 * E, size, 0, E, false);
		assert_cover(esz, 1, E + 1, 2 * E, size, 1, E, true);
		assert_cover(esz, 1, E, 2 * E - 1, size, 0, E - 1, true);
		/* Across two boundaries, one byte into each outer extent. */
		assert_cover(esz, 0, E - 1, 2 * E + 1, size, E - 1, E, true);
		assert_cover(esz, 1, E - 1, 2 * E + 1, size, 0, E, false);
		assert_cover(esz, 2, E - 1, 2 * E + 1, size, 0, 1, true);
		/* One byte inside an extent. */
		assert_cover(esz, 2, 2 * E + 5, 2 * E + 6, size, 5, 6, true);
		/* To the end of the file: a short last extent is whole. */
		assert_cover(esz, 4, 4 * E, size, size, 0, E / 2, false);
		assert_cover(esz, 4, 4 * E + 1, size, size, 1, E / 2, true);
		assert_cover(esz, 4, 4 * E, size - 1, size, 0, E / 2 - 1, true);
		/* A write that makes the file: its new last extent is whole. */
		assert_cover(esz, 3, 3 * E, 3 * E + 10, 3 * E + 10, 0, 10, false);
		assert_cover(esz, 0, 0, 1, 1, 0, 1, false);
		/* Into an old extent that a write grows. */
		assert_cover(esz, 3, 3 * E + 10, 3 * E + 20, 3 * E + 20, 10, 20,
			     true);
	}
}

/* What a punch hands to the backing file: whole extents, never the last. */
static void test_span_inner(void **state)
{
	unsigned int shift;
	uint64_t E, a, b, size;
	uint32_t esz;

	(void)state;
	for_each_esz(esz, shift) {
		E = esz;
		size = 10 * E + 3;	/* extent 10, of 3 bytes, is last */
		span_inner(esz, 0, size, size, &a, &b);
		assert_int_equal(a, 0);
		assert_int_equal(b, 10);
		span_inner(esz, 1, size, size, &a, &b);
		assert_int_equal(a, 1);
		assert_int_equal(b, 10);
		span_inner(esz, E, 3 * E, size, &a, &b);
		assert_int_equal(a, 1);
		assert_int_equal(b, 3);
		span_inner(esz, E - 1, 3 * E + 1, size, &a, &b);
		assert_int_equal(a, 1);
		assert_int_equal(b, 3);
		span_inner(esz, E + 1, 3 * E - 1, size, &a, &b);
		assert_int_equal(a, 2);
		assert_int_equal(b, 2);
		span_inner(esz, E, 2 * E, size, &a, &b);
		assert_int_equal(a, 1);
		assert_int_equal(b, 2);
		/* Inside one extent: none. */
		span_inner(esz, E + 1, 2 * E - 1, size, &a, &b);
		assert_true(a >= b);
		/* A file of whole extents keeps its last one too. */
		size = 10 * E;
		span_inner(esz, 0, size, size, &a, &b);
		assert_int_equal(a, 0);
		assert_int_equal(b, 9);
		span_inner(esz, 9 * E, size, size, &a, &b);
		assert_true(a >= b);
	}
}

/*
 * A request of up to REQ_MAX bytes at any offset touches at most
 * REQ_MAX / esz + 1 extents: what the per-thread buffers are sized for.
 */
static void test_span_request(void **state)
{
	unsigned int shift;
	uint64_t offs[4], off, first, last;
	uint32_t esz;
	unsigned int n;

	(void)state;
	for_each_esz(esz, shift) {
		offs[0] = 0;
		offs[1] = 1;
		offs[2] = esz - 1;
		offs[3] = 7ull * esz + esz / 2;
		for (n = 0; n < 4; n++) {
			off = offs[n];
			first = off / esz;
			last = span_last(esz, off + REQ_MAX);
			assert_true(last - first + 1 <= REQ_MAX / esz + 1);
			/* Aligned: one fewer. */
			assert_int_equal(last - first + 1,
					 REQ_MAX / esz + (off % esz ? 1 : 0));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gaps_empty),
		cmocka_unit_test(test_gaps_add),
		cmocka_unit_test(test_gaps_top),
		cmocka_unit_test(test_gaps_remove),
		cmocka_unit_test(test_gaps_remove_several),
		cmocka_unit_test(test_gaps_many_filled),
		cmocka_unit_test(test_gaps_join),
		cmocka_unit_test(test_gaps_full),
		cmocka_unit_test(test_gaps_model),
		cmocka_unit_test(test_span_sizes),
		cmocka_unit_test(test_span_last),
		cmocka_unit_test(test_span_ext_len),
		cmocka_unit_test(test_span_disk_len),
		cmocka_unit_test(test_span_cover),
		cmocka_unit_test(test_span_inner),
		cmocka_unit_test(test_span_request),
	};

	return cmocka_run_group_tests_name("holes: gap list, extent arithmetic",
					   tests, NULL, NULL);
}
