// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/unit/test_filestate.c - fs/filestate.c: this machine's journal of
 * the versions of a volume's files, in a state directory of the test's.
 *
 * What is recorded must come back after a reopen (the last record of an
 * ID wins, counter 0 drops it), compacted; a record changed outside
 * atrestfs, or made with another volume's key, must refuse the journal;
 * what a power failure leaves at its end (a partial record, zeros) must
 * not.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../crypto/secmem.h"
#include "../../crypto/verrec.h"
#include "../../fs/fs_private.h"

#define HDR	16
#define REC	VERREC_STATE_LEN

struct fixture {
	char dir[64];
	int dirfd;
	struct kek *kek;
	uint8_t uuid[VOL_UUID_LEN];
	size_t live;
	char msg[512];
};

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	f.live = secmem_live();
	strcpy(f.dir, "/tmp/atr-fstate.XXXXXX");
	if (!mkdtemp(f.dir))
		return -1;
	f.dirfd = open(f.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f.dirfd < 0 || rand_fill(f.uuid, sizeof(f.uuid)) ||
	    kek_generate(f.uuid, &f.kek))
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char path[128];

	snprintf(path, sizeof(path), "%s/" FSTATE_NAME, f->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/.files.tmp", f->dir);
	unlink(path);
	close(f->dirfd);
	rmdir(f->dir);
	kek_free(f->kek);
	return secmem_live() == f->live ? 0 : -1;
}

static int open_state(struct fixture *f, struct fstate **s)
{
	f->msg[0] = '\0';
	return fstate_open(f->dirfd, f->dir, f->kek, f->uuid, s, f->msg,
			   sizeof(f->msg));
}

static void id_of(unsigned int n, uint8_t id[FILE_ID_LEN])
{
	memset(id, 0, FILE_ID_LEN);
	memcpy(id, &n, sizeof(n));
	id[15] = 0x5a;
}

static off_t journal_size(struct fixture *f)
{
	struct stat st;

	if (fstatat(f->dirfd, FSTATE_NAME, &st, 0))
		return -1;
	return st.st_size;
}

/* Raw bytes into the journal at @off (the attacker's, or a crash's). */
static void poke(struct fixture *f, off_t off, const void *buf, size_t len)
{
	int fd = openat(f->dirfd, FSTATE_NAME, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, buf, len, off), (ssize_t)len);
	close(fd);
}

static void test_new_then_reopen(void **state)
{
	struct fixture *f = *state;
	uint8_t a[FILE_ID_LEN], b[FILE_ID_LEN], c[FILE_ID_LEN];
	struct fstate *s;

	id_of(1, a);
	id_of(2, b);
	id_of(3, c);
	/* Nothing recorded yet: 1, and an empty journal is made. */
	assert_int_equal(open_state(f, &s), 1);
	assert_int_equal(journal_size(f), HDR);
	assert_int_equal(fstate_get(s, a), 0);
	fstate_put(s, a, 1);
	fstate_put(s, a, 2);
	fstate_put(s, b, 7);
	fstate_put(s, c, 3);
	fstate_put(s, c, 0);		/* deleted through the mount */
	assert_int_equal(fstate_get(s, a), 2);
	assert_int_equal(fstate_get(s, b), 7);
	assert_int_equal(fstate_get(s, c), 0);
	/* Appended one by one, as a kill -9 would leave them. */
	assert_int_equal(journal_size(f), HDR + 5 * REC);
	fstate_free(s);

	assert_int_equal(open_state(f, &s), 0);
	assert_int_equal(fstate_get(s, a), 2);
	assert_int_equal(fstate_get(s, b), 7);
	assert_int_equal(fstate_get(s, c), 0);
	/* Compacted at open: one record per file still recorded. */
	assert_int_equal(journal_size(f), HDR + 2 * REC);
	/* The same counter again is not written again. */
	fstate_put(s, b, 7);
	assert_int_equal(journal_size(f), HDR + 2 * REC);
	fstate_put(s, b, 8);
	assert_int_equal(journal_size(f), HDR + 3 * REC);
	assert_int_equal(fstate_compact(s), 0);
	assert_int_equal(journal_size(f), HDR + 2 * REC);
	fstate_free(s);
	assert_int_equal(open_state(f, &s), 0);
	assert_int_equal(fstate_get(s, b), 8);
	fstate_free(s);
}

/*
 * A KEK rotation: a journal under the old KEK opens through the new one's
 * ->retiring (and is rewritten under the new), and a mount's journal
 * rekeyed in place keeps its records and appends under the new key.
 */
static void test_rotation(void **state)
{
	struct fixture *f = *state;
	uint8_t a[FILE_ID_LEN], b[FILE_ID_LEN];
	struct kek *cur, *old = f->kek;
	struct fstate *s;

	id_of(1, a);
	id_of(2, b);
	assert_int_equal(open_state(f, &s), 1);
	fstate_put(s, a, 5);
	fstate_free(s);
	assert_int_equal(kek_generate(f->uuid, &cur), 0);
	f->kek = cur;
	assert_int_equal(open_state(f, &s), -EBADMSG);
	cur->retiring = old;
	assert_int_equal(open_state(f, &s), 0);
	assert_int_equal(fstate_get(s, a), 5);
	fstate_free(s);
	cur->retiring = NULL;
	assert_int_equal(open_state(f, &s), 0);	/* rewritten under cur */
	assert_int_equal(fstate_get(s, a), 5);
	/* Online: rekeyed back to @old while open, then appended to. */
	assert_int_equal(fstate_rekey(s, old, f->uuid), 0);
	fstate_put(s, b, 9);
	fstate_free(s);
	f->kek = old;
	assert_int_equal(open_state(f, &s), 0);
	assert_int_equal(fstate_get(s, a), 5);
	assert_int_equal(fstate_get(s, b), 9);
	fstate_free(s);
	kek_free(cur);
}

static ino_t journal_ino(struct fixture *f)
{
	struct stat st;

	assert_int_equal(fstatat(f->dirfd, FSTATE_NAME, &st, 0), 0);
	return st.st_ino;
}

/* A journal with one record per file is left as it is, at open and end. */
static void test_compact_only_when_loose(void **state)
{
	struct fixture *f = *state;
	uint8_t a[FILE_ID_LEN], b[FILE_ID_LEN];
	struct fstate *s;
	ino_t ino;

	id_of(1, a);
	id_of(2, b);
	assert_int_equal(open_state(f, &s), 1);
	fstate_put(s, a, 1);
	fstate_put(s, b, 1);
	ino = journal_ino(f);
	assert_int_equal(fstate_compact(s), 0);
	assert_int_equal(journal_ino(f), ino);		/* two, both live */
	fstate_free(s);
	assert_int_equal(open_state(f, &s), 0);
	assert_int_equal(journal_ino(f), ino);
	assert_int_equal(fstate_compact(s), 0);		/* nothing added */
	assert_int_equal(journal_ino(f), ino);
	fstate_put(s, a, 2);				/* a twice now */
	assert_int_equal(fstate_compact(s), 0);
	assert_int_not_equal(journal_ino(f), ino);
	assert_int_equal(journal_size(f), HDR + 2 * REC);
	ino = journal_ino(f);
	fstate_free(s);
	/* A torn end is cut at open. */
	poke(f, HDR + 2 * REC, "\0\0\0", 3);
	assert_int_equal(open_state(f, &s), 0);
	assert_int_not_equal(journal_ino(f), ino);
	assert_int_equal(journal_size(f), HDR + 2 * REC);
	assert_int_equal(fstate_get(s, a), 2);
	fstate_free(s);
}

static void test_many(void **state)
{
	struct fixture *f = *state;
	uint8_t id[FILE_ID_LEN];
	struct fstate *s;
	unsigned int i;

	assert_int_equal(open_state(f, &s), 1);
	for (i = 1; i <= 5000; i++) {
		id_of(i, id);
		fstate_put(s, id, i);
	}
	for (i = 1; i <= 5000; i += 2) {
		id_of(i, id);
		fstate_put(s, id, 0);
	}
	fstate_free(s);
	assert_int_equal(open_state(f, &s), 0);
	for (i = 1; i <= 5000; i++) {
		id_of(i, id);
		assert_int_equal(fstate_get(s, id), i % 2 ? 0 : i);
	}
	assert_int_equal(journal_size(f), HDR + 2500 * REC);
	fstate_free(s);
}

/* An ID whose hash slot is @home (mod 1024), unique by @n. */
static void id_at(unsigned int n, unsigned int home, uint8_t id[FILE_ID_LEN])
{
	uint64_t h = home;

	memset(id, 0, FILE_ID_LEN);
	memcpy(id, &h, sizeof(h));
	memcpy(id + 8, &n, sizeof(n));
}

/*
 * Dropping IDs out of long clusters, one wrapping round the end of the
 * table: every ID kept is still found, every one dropped is gone.
 */
static void test_drop_in_clusters(void **state)
{
	struct fixture *f = *state;
	uint8_t id[FILE_ID_LEN];
	struct fstate *s;
	unsigned int i, kept = 0;

	assert_int_equal(open_state(f, &s), 1);
	for (i = 1; i <= 700; i++) {
		id_at(i, (1000 + i % 37) & 1023, id);
		fstate_put(s, id, i);
	}
	for (i = 1; i <= 700; i++) {
		id_at(i, (1000 + i % 37) & 1023, id);
		if ((i * 7) % 3 == 0 || i % 5 == 0)
			fstate_put(s, id, 0);
		else
			kept++;
	}
	assert_int_equal(fstate_count(s), kept);
	for (i = 1; i <= 700; i++) {
		id_at(i, (1000 + i % 37) & 1023, id);
		assert_int_equal(fstate_get(s, id),
				 (i * 7) % 3 == 0 || i % 5 == 0 ? 0 : i);
	}
	fstate_free(s);
}

/*
 * Files made and removed while mounted leave nothing behind: the table
 * holds the files that exist, not every file ever made (an untar and
 * rm -rf, again and again).
 */
static void test_drop_frees(void **state)
{
	struct fixture *f = *state;
	uint8_t id[FILE_ID_LEN];
	struct fstate *s;
	unsigned int round, i;

	assert_int_equal(open_state(f, &s), 1);
	for (round = 0; round < 100; round++) {
		for (i = 0; i < 500; i++) {
			id_of(round * 500 + i + 1, id);
			fstate_put(s, id, 1);
		}
		for (i = 0; i < 500; i++) {
			id_of(round * 500 + i + 1, id);
			fstate_put(s, id, 0);
		}
	}
	assert_int_equal(fstate_count(s), 0);
	fstate_free(s);
}

/* One bit of any record changed: the journal is refused, named. */
static void test_bad_mac(void **state)
{
	struct fixture *f = *state;
	uint8_t id[FILE_ID_LEN], byte;
	struct fstate *s;
	unsigned int i;
	off_t off;

	assert_int_equal(open_state(f, &s), 1);
	for (i = 1; i <= 3; i++) {
		id_of(i, id);
		fstate_put(s, id, 10 + i);
	}
	fstate_free(s);
	/* A counter raised or lowered, an ID, the MAC: record 1 each time. */
	for (off = HDR + REC; off < HDR + 2 * REC; off += 7) {
		int fd = openat(f->dirfd, FSTATE_NAME, O_RDONLY);

		assert_int_equal(pread(fd, &byte, 1, off), 1);
		close(fd);
		byte ^= 0x10;
		poke(f, off, &byte, 1);
		assert_int_equal(open_state(f, &s), -EBADMSG);
		assert_null(s);
		assert_non_null(strstr(f->msg, "record 1 of"));
		assert_non_null(strstr(f->msg, "fails its MAC check"));
		byte ^= 0x10;
		poke(f, off, &byte, 1);
	}
	assert_int_equal(open_state(f, &s), 0);
	fstate_free(s);
}

/* Records of another volume (same KEK bytes, other UUID) do not verify. */
static void test_other_volume(void **state)
{
	struct fixture *f = *state;
	uint8_t id[FILE_ID_LEN];
	struct fstate *s;

	assert_int_equal(open_state(f, &s), 1);
	id_of(9, id);
	fstate_put(s, id, 4);
	fstate_free(s);
	f->uuid[0] ^= 1;
	assert_int_equal(open_state(f, &s), -EBADMSG);
	f->uuid[0] ^= 1;
	assert_int_equal(open_state(f, &s), 0);
	fstate_free(s);
}

/* What a power failure leaves: a partial record, or zeros. */
static void test_torn_tail(void **state)
{
	struct fixture *f = *state;
	uint8_t id[FILE_ID_LEN], zero[2 * REC] = { 0 }, one = 1;
	struct fstate *s;

	assert_int_equal(open_state(f, &s), 1);
	id_of(1, id);
	fstate_put(s, id, 5);
	fstate_free(s);
	poke(f, HDR + REC, zero, 13);
	assert_int_equal(open_state(f, &s), 0);
	assert_int_equal(fstate_get(s, id), 5);
	fstate_free(s);
	poke(f, HDR + REC, zero, sizeof(zero));
	assert_int_equal(open_state(f, &s), 0);
	assert_int_equal(fstate_get(s, id), 5);
	assert_int_equal(journal_size(f), HDR + REC);
	fstate_free(s);
	/* Zeros followed by anything else were not left by a crash. */
	poke(f, HDR + REC, zero, sizeof(zero));
	poke(f, HDR + 2 * REC + 3, &one, 1);
	assert_int_equal(open_state(f, &s), -EBADMSG);
	assert_non_null(strstr(f->msg, "record 2 of"));
}

static void test_bad_header(void **state)
{
	struct fixture *f = *state;
	struct fstate *s;
	uint8_t b = 'X';
	int fd;

	assert_int_equal(open_state(f, &s), 1);
	fstate_free(s);
	poke(f, 0, &b, 1);
	assert_int_equal(open_state(f, &s), -EBADMSG);
	assert_non_null(strstr(f->msg, "is not an atrestfs record of files"));
	fd = openat(f->dirfd, FSTATE_NAME, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 3), 0);
	close(fd);
	assert_int_equal(open_state(f, &s), -EBADMSG);
}

/* Writable by others, or not a regular file: -EPERM, nothing read. */
static void test_not_ours_alone(void **state)
{
	struct fixture *f = *state;
	char target[128];
	struct fstate *s;

	assert_int_equal(open_state(f, &s), 1);
	fstate_free(s);
	assert_int_equal(fchmodat(f->dirfd, FSTATE_NAME, 0622, 0), 0);
	assert_int_equal(open_state(f, &s), -EPERM);
	assert_non_null(strstr(f->msg, "writable by others"));
	assert_int_equal(fchmodat(f->dirfd, FSTATE_NAME, 0600, 0), 0);
	snprintf(target, sizeof(target), "%s/elsewhere", f->dir);
	assert_int_equal(renameat(f->dirfd, FSTATE_NAME, f->dirfd, "elsewhere"),
			 0);
	assert_int_equal(symlinkat(target, f->dirfd, FSTATE_NAME), 0);
	assert_int_equal(open_state(f, &s), -EPERM);
	assert_int_equal(unlinkat(f->dirfd, FSTATE_NAME, 0), 0);
	assert_int_equal(mkfifoat(f->dirfd, FSTATE_NAME, 0600), 0);
	assert_int_equal(open_state(f, &s), -EPERM);
	assert_int_equal(unlinkat(f->dirfd, FSTATE_NAME, 0), 0);
	assert_int_equal(unlinkat(f->dirfd, "elsewhere", 0), 0);
}

/* atrestfs trust: the records go; the next open finds an empty journal. */
static void test_reset(void **state)
{
	struct fixture *f = *state;
	uint8_t id[FILE_ID_LEN];
	struct fstate *s;

	/* For init, with nothing there yet. */
	assert_int_equal(fstate_reset(f->dirfd), 0);
	assert_int_equal(journal_size(f), HDR);
	assert_int_equal(open_state(f, &s), 0);
	id_of(1, id);
	fstate_put(s, id, 3);
	fstate_free(s);
	/* A forged journal goes too, unread. */
	poke(f, HDR + 3, "X", 1);
	assert_int_equal(fstate_reset(f->dirfd), 0);
	assert_int_equal(journal_size(f), HDR);
	assert_int_equal(open_state(f, &s), 0);
	assert_int_equal(fstate_get(s, id), 0);
	fstate_free(s);
}

/* No state directory: nothing recorded, nothing refused. */
static void test_null(void **state)
{
	uint8_t id[FILE_ID_LEN] = { 1 };

	(void)state;
	fstate_put(NULL, id, 3);
	assert_int_equal(fstate_get(NULL, id), 0);
	assert_int_equal(fstate_compact(NULL), 0);
	fstate_free(NULL);
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_new_then_reopen),
		T(test_rotation),
		T(test_compact_only_when_loose),
		T(test_many),
		T(test_drop_in_clusters),
		T(test_drop_frees),
		T(test_bad_mac),
		T(test_other_volume),
		T(test_torn_tail),
		T(test_bad_header),
		T(test_not_ours_alone),
		T(test_reset),
		cmocka_unit_test(test_null),
	};

	return cmocka_run_group_tests_name("filestate: the journal of file "
					   "versions", tests, NULL, NULL);
}
