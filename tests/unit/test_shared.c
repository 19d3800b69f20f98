// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/unit/test_shared.c - the byte-range locks of -o shared
 * (fs/shared.c), with real OFD locks on a local file: what shared_lock()
 * holds is asked of the kernel with F_OFD_GETLK through a second open
 * file description, as another host's daemon would feel it.
 *
 * A write inside the file locks the backing bytes of its extents only; one
 * that reaches the last extent, grows the file or moves its end locks from
 * its first extent (or the old last one, if lower) to infinity; reads take
 * read locks, which other reads pass, and which one read's end does not
 * take from another through the same handle; without -o shared nothing is
 * held.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "unit.h"
#include "../../fs/fs_private.h"

#define ESZ	4096u

struct fix {
	struct atr_mount m;
	struct atr_inode ai;
	char path[64];
	int fd, other;
	uint64_t dsz;
};

/* A backing file of @extents full extents (plaintext @extents * ESZ). */
static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->m.extent_size = ESZ;
	f->m.opt_mnt.shared = true;
	f->ai.mnt = &f->m;
	f->ai.fd = -1;
	f->dsz = extent_disk_size(ESZ);
	snprintf(f->path, sizeof(f->path), "/tmp/atr-shared.XXXXXX");
	f->fd = mkstemp(f->path);
	assert_true(f->fd >= 0);
	f->other = open(f->path, O_RDWR);
	assert_true(f->other >= 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	close(f->fd);
	close(f->other);
	unlink(f->path);
	free(f);
	return 0;
}

/* Plaintext of @n full extents. */
static void grow(struct fix *f, uint64_t n)
{
	assert_int_equal(ftruncate(f->fd, (off_t)(n * f->dsz)), 0);
}

/* Would another open file description's lock of @type on [s, s+l) wait? */
static bool blocked(struct fix *f, short type, uint64_t s, uint64_t l)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET,
			    .l_start = (off_t)s, .l_len = (off_t)l };

	assert_int_equal(fcntl(f->other, F_OFD_GETLK, &fl), 0);
	return fl.l_type != F_UNLCK;
}

static void test_write_inside(void **state)
{
	struct fix *f = *state;
	struct shared_lk lk;

	grow(f, 10);
	/* Bytes 100..200 of extent 3: that extent only. */
	assert_int_equal(shared_lock(&f->m, &f->ai, f->fd, F_WRLCK,
				     3 * ESZ + 100, 100, false, &lk), 0);
	assert_true(lk.held);
	assert_true(blocked(f, F_RDLCK, 3 * f->dsz, 1));
	assert_true(blocked(f, F_RDLCK, 4 * f->dsz - 1, 1));
	assert_false(blocked(f, F_RDLCK, 3 * f->dsz - 1, 1));
	assert_false(blocked(f, F_WRLCK, 4 * f->dsz, 1));
	shared_unlock(&lk);
	assert_false(lk.held);
	assert_false(blocked(f, F_WRLCK, 0, 0));
}

static void test_write_spanning(void **state)
{
	struct fix *f = *state;
	struct shared_lk lk;

	grow(f, 10);
	/* Across the boundary of extents 2 and 3. */
	assert_int_equal(shared_lock(&f->m, &f->ai, f->fd, F_WRLCK,
				     3 * ESZ - 10, 20, false, &lk), 0);
	assert_true(blocked(f, F_RDLCK, 2 * f->dsz, 1));
	assert_true(blocked(f, F_RDLCK, 4 * f->dsz - 1, 1));
	assert_false(blocked(f, F_RDLCK, 4 * f->dsz, 1));
	shared_unlock(&lk);
}

static void test_write_end(void **state)
{
	struct fix *f = *state;
	struct shared_lk lk;

	grow(f, 10);
	/* Into the last extent (9): from extent 9 to infinity. */
	assert_int_equal(shared_lock(&f->m, &f->ai, f->fd, F_WRLCK,
				     9 * ESZ + 5, 10, false, &lk), 0);
	assert_true(blocked(f, F_RDLCK, 9 * f->dsz, 1));
	assert_true(blocked(f, F_RDLCK, 1000 * f->dsz, 1));
	assert_false(blocked(f, F_RDLCK, 9 * f->dsz - 1, 1));
	shared_unlock(&lk);
	/* Far past the end: from the old last extent, which it retires. */
	assert_int_equal(shared_lock(&f->m, &f->ai, f->fd, F_WRLCK,
				     50 * ESZ, 10, false, &lk), 0);
	assert_true(blocked(f, F_RDLCK, 9 * f->dsz, 1));
	assert_false(blocked(f, F_RDLCK, 8 * f->dsz, 1));
	shared_unlock(&lk);
}

static void test_to_end(void **state)
{
	struct fix *f = *state;
	struct shared_lk lk;

	grow(f, 10);
	/* A truncate to 2 * ESZ: from extent 1, which becomes last. */
	assert_int_equal(shared_lock(&f->m, &f->ai, f->fd, F_WRLCK,
				     2 * ESZ - 1, 0, true, &lk), 0);
	assert_true(blocked(f, F_RDLCK, f->dsz, 1));
	assert_true(blocked(f, F_RDLCK, 9 * f->dsz, 1));
	assert_false(blocked(f, F_RDLCK, f->dsz - 1, 1));
	shared_unlock(&lk);
}

static void test_empty_file(void **state)
{
	struct fix *f = *state;
	struct shared_lk lk;

	/* Nothing yet: the first write locks everything. */
	assert_int_equal(shared_lock(&f->m, &f->ai, f->fd, F_WRLCK,
				     3 * ESZ, 10, false, &lk), 0);
	assert_true(blocked(f, F_RDLCK, 0, 1));
	shared_unlock(&lk);
}

static void test_readers_share(void **state)
{
	struct fix *f = *state;
	struct shared_lk lk;

	grow(f, 10);
	assert_int_equal(shared_lock(&f->m, &f->ai, f->fd, F_RDLCK,
				     ESZ, ESZ, false, &lk), 0);
	assert_false(blocked(f, F_RDLCK, f->dsz, f->dsz));
	assert_true(blocked(f, F_WRLCK, f->dsz, f->dsz));
	shared_unlock(&lk);
}

/*
 * Two reads through one handle at once: the kernel keeps one set of locks
 * per open file description, so the first read's unlock must not give back
 * what the second still reads (here both reach the last extent, so both
 * ranges run to infinity).
 */
static void test_readers_one_fd(void **state)
{
	struct fix *f = *state;
	struct shared_lk a, b;

	grow(f, 10);
	assert_int_equal(shared_lock(&f->m, &f->ai, f->fd, F_RDLCK,
				     8 * ESZ, 2 * ESZ, false, &a), 0);
	assert_int_equal(shared_lock(&f->m, &f->ai, f->fd, F_RDLCK,
				     9 * ESZ, ESZ, false, &b), 0);
	shared_unlock(&a);
	assert_true(blocked(f, F_WRLCK, 9 * f->dsz, f->dsz));
	shared_unlock(&b);
	assert_false(blocked(f, F_WRLCK, 0, 0));
	assert_null(f->m.shared_rd);
	/* The same, released in the other order, on ranges inside the file. */
	assert_int_equal(shared_lock(&f->m, &f->ai, f->fd, F_RDLCK,
				     ESZ, 2 * ESZ, false, &a), 0);
	assert_int_equal(shared_lock(&f->m, &f->ai, f->fd, F_RDLCK,
				     2 * ESZ, ESZ, false, &b), 0);
	shared_unlock(&b);
	assert_true(blocked(f, F_WRLCK, f->dsz, f->dsz));
	assert_true(blocked(f, F_WRLCK, 2 * f->dsz, f->dsz));
	shared_unlock(&a);
	assert_false(blocked(f, F_WRLCK, 0, 0));
	assert_null(f->m.shared_rd);
}

/*
 * A read that ends gives back what no other read in flight through its
 * handle still holds, at once: a handle always reading (read-ahead keeps
 * several in flight) must not keep every range it ever read locked until
 * it happens to have none in flight, or another host's write of an
 * extent read long ago would wait for the lock, and fail after
 * SHARED_LOCK_WAIT_MS.
 */
static void test_reader_gives_back(void **state)
{
	struct fix *f = *state;
	struct shared_lk a, b, c;

	grow(f, 10);
	assert_int_equal(shared_lock(&f->m, &f->ai, f->fd, F_RDLCK,
				     ESZ, 2 * ESZ, false, &a), 0);
	assert_int_equal(shared_lock(&f->m, &f->ai, f->fd, F_RDLCK,
				     2 * ESZ, 2 * ESZ, false, &b), 0);
	shared_unlock(&a);
	assert_false(blocked(f, F_WRLCK, f->dsz, f->dsz));
	assert_true(blocked(f, F_WRLCK, 2 * f->dsz, f->dsz));
	assert_true(blocked(f, F_WRLCK, 3 * f->dsz, f->dsz));
	/* A read after b's, disjoint: b's end frees b's range, not c's. */
	assert_int_equal(shared_lock(&f->m, &f->ai, f->fd, F_RDLCK,
				     6 * ESZ, ESZ, false, &c), 0);
	shared_unlock(&b);
	assert_false(blocked(f, F_WRLCK, 0, 6 * f->dsz));
	assert_true(blocked(f, F_WRLCK, 6 * f->dsz, f->dsz));
	assert_false(blocked(f, F_WRLCK, 7 * f->dsz, 0));
	/* One to infinity (the last extent) and one inside, ended first. */
	assert_int_equal(shared_lock(&f->m, &f->ai, f->fd, F_RDLCK,
				     9 * ESZ, ESZ, false, &a), 0);
	shared_unlock(&c);
	assert_false(blocked(f, F_WRLCK, 0, 9 * f->dsz));
	assert_true(blocked(f, F_WRLCK, 9 * f->dsz, 0));
	shared_unlock(&a);
	assert_false(blocked(f, F_WRLCK, 0, 0));
	assert_null(f->m.shared_rd);
}

static void test_not_shared(void **state)
{
	struct fix *f = *state;
	struct shared_lk lk;

	grow(f, 10);
	f->m.opt_mnt.shared = false;
	assert_int_equal(shared_lock(&f->m, &f->ai, f->fd, F_WRLCK,
				     0, 0, true, &lk), 0);
	assert_false(lk.held);
	assert_false(blocked(f, F_WRLCK, 0, 0));
	shared_unlock(&lk);
}

/* An impossible backing size (not that of any file): everything locked. */
static void test_bad_size(void **state)
{
	struct fix *f = *state;
	struct shared_lk lk;

	assert_int_equal(ftruncate(f->fd, 5), 0);
	assert_int_equal(shared_lock(&f->m, &f->ai, f->fd, F_RDLCK,
				     5 * ESZ, 10, false, &lk), 0);
	assert_true(blocked(f, F_WRLCK, 0, 1));
	shared_unlock(&lk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_inside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_spanning, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_to_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readers_share, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readers_one_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_gives_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_shared, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_size, setup, teardown),
	};

	return cmocka_run_group_tests_name("shared: byte-range locks of -o shared",
					   tests, NULL, NULL);
}
