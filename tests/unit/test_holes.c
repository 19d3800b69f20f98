// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/unit/test_holes.c - the pure parts of hole handling: the list of
 * holes not yet recorded (fs/gaps.c).
 *
 * The list may list more than was added, never less (fs/gaps.h); the
 * overflow cases pin down today's merging past GAPS_MAX ranges, which an
 * exact list would replace.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"
#include "../../fs/gaps.h"

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

/* Past GAPS_MAX a new range merges with the nearest: lossy, never short. */
static void test_gaps_overflow_nearest(void **state)
{
	struct gaps *g = full_list();
	unsigned int k;

	(void)state;
	/* 23 extents past [310, 312), the last range: they merge. */
	assert_int_equal(gaps_add(&g, 335, 336), 0);
	assert_int_equal(gaps_count(g), GAPS_MAX);
	assert_true(all_listed(g, 310, 336));
	assert_false(gaps_has(g, 336));
	/* 2 extents from [0, 2), 5 from [10, 12): the first takes it. */
	assert_int_equal(gaps_add(&g, 4, 5), 0);
	assert_int_equal(gaps_count(g), GAPS_MAX);
	assert_true(all_listed(g, 0, 5));
	assert_true(none_listed(g, 5, 10));
	/* Everything added is still listed. */
	for (k = 0; k < GAPS_MAX; k++)
		assert_true(all_listed(g, 10 * k, 10 * k + 2));
	gaps_free(&g);
}

static void test_gaps_overflow_touching(void **state)
{
	struct gaps *g = full_list();

	(void)state;
	/* Overlapping [100, 102): distance 0, nothing else listed. */
	assert_int_equal(gaps_add(&g, 101, 104), 0);
	assert_true(all_listed(g, 100, 104));
	assert_true(none_listed(g, 104, 110));
	/* Adjacent to [200, 202) is distance 0 too. */
	assert_int_equal(gaps_add(&g, 202, 203), 0);
	assert_true(all_listed(g, 200, 203));
	assert_true(none_listed(g, 203, 210));
	assert_true(none_listed(g, 195, 200));
	/* Adjacent below [50, 52). */
	assert_int_equal(gaps_add(&g, 49, 50), 0);
	assert_true(all_listed(g, 49, 52));
	assert_true(none_listed(g, 42, 49));
	assert_int_equal(gaps_count(g), GAPS_MAX);
	gaps_free(&g);
}

/* Equally near two ranges: the one listed first takes it. */
static void test_gaps_overflow_tie(void **state)
{
	struct gaps *g = full_list();

	(void)state;
	/* [65, 67): 3 from [60, 62), 3 from [70, 72). */
	assert_int_equal(gaps_add(&g, 65, 67), 0);
	assert_true(all_listed(g, 60, 67));
	assert_true(none_listed(g, 67, 70));
	gaps_free(&g);
}

/* A full list cannot split a range: it stays whole, its middle listed. */
static void test_gaps_split_full(void **state)
{
	struct gaps *g = NULL;
	unsigned int k;

	(void)state;
	for (k = 0; k < GAPS_MAX; k++)
		assert_int_equal(gaps_add(&g, 10 * k, 10 * k + 5), 0);
	gaps_remove(&g, 12, 13);
	assert_int_equal(gaps_count(g), GAPS_MAX);
	assert_true(all_listed(g, 10, 15));
	/* Trimming an end needs no slot. */
	gaps_remove(&g, 10, 12);
	assert_true(none_listed(g, 10, 12));
	assert_true(all_listed(g, 12, 15));
	gaps_remove(&g, 14, 20);
	assert_true(all_listed(g, 12, 14));
	assert_false(gaps_has(g, 14));
	/* One range fewer, and the split happens. */
	gaps_remove(&g, 300, 310);
	assert_int_equal(gaps_count(g), GAPS_MAX - 1);
	gaps_remove(&g, 21, 23);
	assert_int_equal(gaps_count(g), GAPS_MAX);
	assert_true(all_listed(g, 20, 21));
	assert_true(none_listed(g, 21, 23));
	assert_true(all_listed(g, 23, 25));
	gaps_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gaps_empty),
		cmocka_unit_test(test_gaps_add),
		cmocka_unit_test(test_gaps_top),
		cmocka_unit_test(test_gaps_remove),
		cmocka_unit_test(test_gaps_remove_several),
		cmocka_unit_test(test_gaps_overflow_nearest),
		cmocka_unit_test(test_gaps_overflow_touching),
		cmocka_unit_test(test_gaps_overflow_tie),
		cmocka_unit_test(test_gaps_split_full),
	};

	return cmocka_run_group_tests_name("holes: the gap list", tests,
					   NULL, NULL);
}
