// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/unit/test_secmem.c - crypto/secmem.c: locked, non-dumpable memory.
 *
 * Besides zeroing and distinctness, the kernel is asked directly whether
 * the memory is what secmem.h promises: VmLck in /proc/self/status and the
 * "lo" (locked) and "dd" (don't dump) flags of the mapping in smaps.
 * Under ASan mlock() is a no-op interceptor; test_locked then skips.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "unit.h"
#include "../../crypto/secmem.h"

static int check_live(void **state)
{
	(void)state;
	/* Every test gives back what it took. */
	return secmem_live() == 0 ? 0 : -1;
}

static void test_sizes(void **state)
{
	static const size_t sizes[] = { 1, 32, 64, 65, 5000 };
	const size_t n = sizeof(sizes) / sizeof(sizes[0]);
	uint8_t *p[sizeof(sizes) / sizeof(sizes[0])];
	size_t i, j;

	(void)state;
	assert_int_equal(secmem_live(), 0);
	for (i = 0; i < n; i++) {
		p[i] = secmem_alloc(sizes[i]);
		assert_non_null(p[i]);
		assert_true(all_zero(p[i], sizes[i]));
		assert_int_equal(secmem_live(), i + 1);
	}
	/* Distinct: no two ranges overlap. */
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			if (i != j)
				assert_true(p[i] + sizes[i] <= p[j] ||
					    p[j] + sizes[j] <= p[i]);
	/* Writable to the last byte, and no write reaches another block. */
	for (i = 0; i < n; i++)
		memset(p[i], (int)(0x10 + i), sizes[i]);
	for (i = 0; i < n; i++)
		for (j = 0; j < sizes[i]; j++)
			assert_int_equal(p[i][j], 0x10 + i);
	for (i = 0; i < n; i++) {
		secmem_free(p[i], sizes[i]);
		assert_int_equal(secmem_live(), n - i - 1);
	}
}

static void test_zero_len_and_null(void **state)
{
	void *p;

	(void)state;
	p = secmem_alloc(0);
	assert_non_null(p);
	assert_int_equal(secmem_live(), 1);
	secmem_free(p, 0);
	assert_int_equal(secmem_live(), 0);
	/* Freeing NULL is a no-op, as free() is. */
	secmem_free(NULL, 32);
	assert_int_equal(secmem_live(), 0);
}

/* secmem_wipe() zeroes exactly the bytes asked, in any memory; NULL is a no-op. */
static void test_wipe(void **state)
{
	uint8_t buf[64];
	size_t i;

	(void)state;
	memset(buf, 0xa5, sizeof(buf));
	secmem_wipe(buf + 8, 32);
	for (i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], i >= 8 && i < 40 ? 0 : 0xa5);
	secmem_wipe(NULL, 32);
}

/*
 * secmem_free() wipes before the slot goes back.  An anchor allocation
 * keeps the arena mapped, so the freed slot can still be read here (white
 * box: the memory is ours, just unowned), and the allocator's first-fit
 * search hands that same slot out again.
 */
static void test_free_wipes_slot(void **state)
{
	uint8_t *anchor, *p, *q;

	(void)state;
	anchor = secmem_alloc(32);
	assert_non_null(anchor);
	p = secmem_alloc(32);
	assert_non_null(p);
	memset(p, 0xa5, 64);	/* the whole 64-byte slot */
	secmem_free(p, 32);
	assert_true(all_zero(p, 64));
	q = secmem_alloc(32);
	assert_ptr_equal(q, p);
	assert_true(all_zero(q, 32));
	secmem_free(q, 32);
	secmem_free(anchor, 32);
}

static bool mapped(const void *p)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	unsigned char v;

	return mincore((void *)((uintptr_t)p & ~(pg - 1)), pg, &v) == 0;
}

/*
 * Emptied arenas: one stays mapped (wiped) for the next key, so opening
 * and closing one file at a time maps nothing; the others are unmapped.
 */
static void test_empty_arena_kept(void **state)
{
	enum { N = 3 * 1024 + 1, LEN = 32 };	/* four 64 KiB arenas */
	uint8_t **p = calloc(N, sizeof(*p));
	size_t i, still = 0;

	(void)state;
	assert_non_null(p);
	for (i = 0; i < N; i++) {
		p[i] = secmem_alloc(LEN);
		assert_non_null(p[i]);
		memset(p[i], 0x5a, LEN);
	}
	for (i = 0; i < N; i++)
		secmem_free(p[i], LEN);
	for (i = 0; i < N; i++) {
		if (!mapped(p[i]))
			continue;
		still++;
		assert_true(all_zero(p[i], LEN));
	}
	assert_true(still > 0);
	assert_true(still <= 1024);
	free(p);
}

/* A large block gets its own pages: released ones come back zeroed. */
static void test_realloc_big_zeroed(void **state)
{
	uint8_t *p;
	int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		p = secmem_alloc(5000);
		assert_non_null(p);
		assert_true(all_zero(p, 5000));
		memset(p, 0xa5, 5000);
		secmem_free(p, 5000);
	}
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

/* 2000 slots of 64 bytes need more than one 64 KiB arena. */
static void test_many(void **state)
{
	enum { N = 2000, LEN = 48 };
	uint8_t **p = calloc(N, sizeof(*p));
	uintptr_t *sorted = calloc(N, sizeof(*sorted));
	size_t i;

	(void)state;
	assert_true(p && sorted);
	for (i = 0; i < N; i++) {
		p[i] = secmem_alloc(LEN);
		assert_non_null(p[i]);
		assert_true(all_zero(p[i], LEN));
		memset(p[i], (int)(i & 0xff), LEN);
		sorted[i] = (uintptr_t)p[i];
	}
	assert_int_equal(secmem_live(), N);
	qsort(sorted, N, sizeof(*sorted), cmp_ptr);
	for (i = 1; i < N; i++)
		assert_true(sorted[i] - sorted[i - 1] >= LEN);
	for (i = 0; i < N; i++) {
		assert_int_equal(p[i][0], i & 0xff);
		assert_int_equal(p[i][LEN - 1], i & 0xff);
	}
	/* Free in an interleaved order so arenas empty out of turn. */
	for (i = 0; i < N; i += 2)
		secmem_free(p[i], LEN);
	assert_int_equal(secmem_live(), N / 2);
	for (i = 1; i < N; i += 2)
		secmem_free(p[i], LEN);
	assert_int_equal(secmem_live(), 0);
	free(sorted);
	free(p);
}

/* ---- what the kernel says ---- */

static long vm_lck_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	fclose(f);
	assert_true(kb >= 0);
	return kb;
}

/* The VmFlags line of the smaps entry that contains @p. */
static void vm_flags(const void *p, char *out, size_t outlen)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	unsigned long lo, hi;
	bool in = false;
	char line[512];

	assert_non_null(f);
	out[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
			continue;
		}
		if (in && !strncmp(line, "VmFlags:", 8)) {
			snprintf(out, outlen, "%s", line + 8);
			break;
		}
	}
	fclose(f);
	assert_true(out[0] != '\0');
}

static bool has_flag(const char *flags, const char *flag)
{
	char pad[520];
	char want[8];

	snprintf(pad, sizeof(pad), " %s ", flags);
	pad[strcspn(pad, "\n")] = ' ';
	snprintf(want, sizeof(want), " %s ", flag);
	return strstr(pad, want) != NULL;
}

/*
 * Does mlock() really lock here?  It can be refused (no root, no
 * RLIMIT_MEMLOCK room), and under ASan it is intercepted and does nothing,
 * so ask the kernel about a probe page rather than trusting the return.
 */
static bool mlock_works(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char flags[512];
	bool ok;

	assert_true(p != MAP_FAILED);
	ok = mlock(p, (size_t)pg) == 0;
	if (ok) {
		vm_flags(p, flags, sizeof(flags));
		ok = has_flag(flags, "lo");
	}
	munmap(p, (size_t)pg);
	return ok;
}

static void test_locked(void **state)
{
	uint8_t *small, *big;
	long before, mid, after;
	char flags[512];

	(void)state;
	if (!mlock_works()) {
		print_message("mlock() not permitted or not effective here "
			      "(uid %d; ASan makes it a no-op): memory locking "
			      "not checked\n", (int)geteuid());
		skip();
	}
	assert_int_equal(secmem_live(), 0);
	before = vm_lck_kb();		/* an emptied arena, kept, or none */
	assert_true(before == 0 || before == 64);
	small = secmem_alloc(32);	/* in that arena, or a fresh one */
	assert_non_null(small);
	mid = vm_lck_kb();
	assert_int_equal(mid, 64);
	big = secmem_alloc(5000);	/* two pages of its own */
	assert_non_null(big);
	after = vm_lck_kb();
	assert_true(after >= mid + 8);
	print_message("VmLck %ld -> %ld -> %ld kB\n", before, mid, after);

	vm_flags(small, flags, sizeof(flags));
	assert_true(has_flag(flags, "lo"));
	vm_flags(big, flags, sizeof(flags));
	assert_true(has_flag(flags, "lo"));

	/* What a child does after fork(): locks are not inherited. */
	assert_int_equal(munlockall(), 0);
	assert_int_equal(vm_lck_kb(), 0);
	secmem_relock();
	assert_int_equal(vm_lck_kb(), after);
	vm_flags(small, flags, sizeof(flags));
	assert_true(has_flag(flags, "lo"));

	secmem_free(big, 5000);
	secmem_free(small, 32);
	/*
	 * Released memory is unlocked and unmapped, but for the one emptied
	 * arena kept for the next key.
	 */
	assert_false(mapped(big));
	assert_true(mapped(small));
	assert_int_equal(vm_lck_kb(), 64);
}

/* MADV_DONTDUMP: keys never reach a core file. */
static void test_dontdump(void **state)
{
	uint8_t *small, *big;
	char flags[512];

	(void)state;
	small = secmem_alloc(32);
	big = secmem_alloc(5000);
	assert_true(small && big);
	vm_flags(small, flags, sizeof(flags));
	assert_true(has_flag(flags, "dd"));
	vm_flags(big, flags, sizeof(flags));
	assert_true(has_flag(flags, "dd"));
	secmem_free(big, 5000);
	secmem_free(small, 32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_zero_len_and_null),
		cmocka_unit_test(test_wipe),
		cmocka_unit_test(test_free_wipes_slot),
		cmocka_unit_test(test_realloc_big_zeroed),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_empty_arena_kept),
		cmocka_unit_test(test_locked),
		cmocka_unit_test(test_dontdump),
	};

	return cmocka_run_group_tests_name("secmem: locked key memory", tests,
					   NULL, check_live);
}
