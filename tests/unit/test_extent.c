// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/unit/test_extent.c - crypto/extent.c: size geometry, extent
 * seal/open, holes and the sparse record.
 *
 * The extent AAD binds file ID, index and the is_last flag; each binding
 * gets a must-fail case, and every byte of one sealed extent is flipped.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"
#include "../../crypto/extent.h"
#include "../../crypto/secmem.h"

#define ES	4096u
#define DS	(ES + EXTENT_OVERHEAD)

/* A file key as the header code would make it: secmem, random. */
static struct file_key *fk_new(void)
{
	struct file_key *fk = secmem_alloc(sizeof(*fk));

	assert_non_null(fk);
	assert_int_equal(rand_fill(fk, sizeof(*fk)), 0);
	return fk;
}

/* ---- geometry ---- */

static void test_size_valid(void **state)
{
	(void)state;
	assert_true(extent_size_valid(4096));
	assert_true(extent_size_valid(8192));
	assert_true(extent_size_valid(1 << 16));
	assert_true(extent_size_valid(1 << 20));
	assert_false(extent_size_valid(0));
	assert_false(extent_size_valid(1));
	assert_false(extent_size_valid(2048));
	assert_false(extent_size_valid(4095));
	assert_false(extent_size_valid(4097));
	assert_false(extent_size_valid(12288));
	assert_false(extent_size_valid(1 << 21));
	assert_false(extent_size_valid(1ull << 32));
	assert_false(extent_size_valid((1ull << 32) + 4096));
}

static void geometry_round_trip(uint32_t esize, uint64_t plain)
{
	uint64_t backing = extent_backing_size(esize, plain), back;
	uint64_t full = plain / esize, rem = plain % esize;

	/* Full extents cost esize + 28; a partial last one rem + 28. */
	assert_int_equal(backing, full * (esize + EXTENT_OVERHEAD) +
			 (rem ? rem + EXTENT_OVERHEAD : 0));
	back = ~0ull;
	assert_int_equal(extent_plain_size(esize, backing, &back), 0);
	assert_int_equal(back, plain);
}

static void test_geometry_4k(void **state)
{
	uint64_t plain;

	(void)state;
	assert_int_equal(extent_backing_size(ES, 0), 0);
	assert_int_equal(extent_backing_size(ES, 1), 29);
	assert_int_equal(extent_backing_size(ES, ES), DS);
	assert_int_equal(extent_backing_size(ES, ES + 1), DS + 29);
	assert_int_equal(extent_disk_off(ES, 3), 3 * DS);
	for (plain = 0; plain <= 3 * ES + 5; plain++)
		geometry_round_trip(ES, plain);
}

static void test_geometry_1m(void **state)
{
	static const uint64_t sample[] = {
		0, 1, 28, 29, (1 << 20) - 1, 1 << 20, (1 << 20) + 1,
		5 * (1 << 20) + 12345, (1ull << 40) + 7, (1ull << 40),
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sample) / sizeof(sample[0]); i++)
		geometry_round_trip(1 << 20, sample[i]);
}

/* A tail of 1..28 bytes holds no plaintext: no valid file has that size. */
static void test_geometry_bad_tail(void **state)
{
	uint64_t full, tail, plain;

	(void)state;
	for (full = 0; full < 4; full++) {
		for (tail = 1; tail <= EXTENT_OVERHEAD; tail++)
			assert_int_equal(extent_plain_size(ES, full * DS + tail,
							   &plain), -EBADMSG);
		/* One more byte is a one-byte last extent. */
		assert_int_equal(extent_plain_size(ES, full * DS + 29, &plain),
				 0);
		assert_int_equal(plain, full * ES + 1);
	}
	assert_int_equal(extent_plain_size(1 << 20, 7 * ((1 << 20) + 28) + 5,
					   &plain), -EBADMSG);
}

/* ---- seal and open ---- */

/*
 * Every length a last extent can have, 1..4096, across the
 * one-block/partial-block boundaries of GCM.
 */
static void test_seal_open_every_len(void **state)
{
	static uint8_t pt[ES], disk[DS], out[ES];
	struct file_key *fk;
	size_t live = secmem_live(), len;

	(void)state;
	fk = fk_new();
	assert_int_equal(rand_fill(pt, sizeof(pt)), 0);
	for (len = 1; len <= ES; len++) {
		assert_int_equal(extent_seal(fk, len, len < ES, pt, len, disk),
				 0);
		memset(out, 0, sizeof(out));
		assert_int_equal(extent_open(fk, len, len < ES, disk,
					     len + EXTENT_OVERHEAD, out), 0);
		assert_memory_equal(out, pt, len);
		/* Plaintext does not appear in the backing bytes. */
		if (len >= 16)
			assert_memory_not_equal(disk + AEAD_NONCE_LEN, pt, 16);
	}
	file_key_free(fk);
	assert_int_equal(secmem_live(), live);
}

/* An empty extent is never written, so 0..28 disk bytes never open. */
static void test_open_refuses_empty(void **state)
{
	uint8_t disk[DS] = { 0 }, out[ES];
	struct file_key *fk = fk_new();
	size_t len;

	(void)state;
	/* A correctly sealed empty extent is refused like any other. */
	assert_int_equal(extent_seal(fk, 0, true, NULL, 0, disk), 0);
	for (len = 0; len <= EXTENT_OVERHEAD; len++)
		assert_int_equal(extent_open(fk, 0, true, disk, len, out),
				 -EBADMSG);
	file_key_free(fk);
}

static void test_flip_every_byte(void **state)
{
	static uint8_t pt[ES], disk[DS], out[ES];
	struct file_key *fk = fk_new();
	size_t i, bit;

	(void)state;
	assert_int_equal(rand_fill(pt, sizeof(pt)), 0);
	assert_int_equal(extent_seal(fk, 5, false, pt, ES, disk), 0);
	/*
	 * Nonce (0..11), ciphertext (12..4107), tag (4108..4123): one bit of
	 * every byte, rotating through the eight bit positions, and all eight
	 * bits of each nonce and tag byte.
	 */
	for (i = 0; i < DS; i++) {
		for (bit = 0; bit < 8; bit++) {
			if (bit != i % 8 && i >= AEAD_NONCE_LEN &&
			    i < DS - AEAD_TAG_LEN)
				continue;
			disk[i] ^= (uint8_t)(1u << bit);
			memset(out, 0xa5, sizeof(out));
			assert_int_equal(extent_open(fk, 5, false, disk, DS,
						     out), -EBADMSG);
			assert_true(all_zero(out, ES));
			disk[i] ^= (uint8_t)(1u << bit);
		}
	}
	assert_int_equal(extent_open(fk, 5, false, disk, DS, out), 0);
	assert_memory_equal(out, pt, ES);
	file_key_free(fk);
}

static void test_wrong_position_or_file(void **state)
{
	static uint8_t pt[1000], disk[1000 + EXTENT_OVERHEAD], out[1000];
	struct file_key *fk = fk_new(), *other = fk_new();
	const uint64_t idx = 0x0102030405060708ull;

	(void)state;
	assert_int_equal(rand_fill(pt, sizeof(pt)), 0);
	assert_int_equal(extent_seal(fk, idx, true, pt, sizeof(pt), disk), 0);
	assert_int_equal(extent_open(fk, idx, true, disk, sizeof(disk), out),
			 0);
	assert_memory_equal(out, pt, sizeof(pt));

	/* Moved to a neighbouring index, or one differing in the top byte. */
	assert_int_equal(extent_open(fk, idx + 1, true, disk, sizeof(disk),
				     out), -EBADMSG);
	assert_int_equal(extent_open(fk, idx - 1, true, disk, sizeof(disk),
				     out), -EBADMSG);
	assert_int_equal(extent_open(fk, idx ^ (1ull << 63), true, disk,
				     sizeof(disk), out), -EBADMSG);
	/* A file cut short: a former middle extent read as the last. */
	assert_int_equal(extent_open(fk, idx, false, disk, sizeof(disk), out),
			 -EBADMSG);
	assert_true(all_zero(out, sizeof(out)));

	/* Same DEK, another file ID: an extent copied between files. */
	memcpy(other->dek, fk->dek, sizeof(fk->dek));
	assert_memory_not_equal(other->file_id, fk->file_id, FILE_ID_LEN);
	assert_int_equal(extent_open(other, idx, true, disk, sizeof(disk), out),
			 -EBADMSG);
	/* Same file ID, another DEK. */
	assert_int_equal(rand_fill(other->dek, sizeof(other->dek)), 0);
	memcpy(other->file_id, fk->file_id, FILE_ID_LEN);
	assert_int_equal(extent_open(other, idx, true, disk, sizeof(disk), out),
			 -EBADMSG);
	/* One byte short. */
	assert_int_equal(extent_open(fk, idx, true, disk, sizeof(disk) - 1,
				     out), -EBADMSG);
	file_key_free(other);
	file_key_free(fk);
}

/* ---- holes ---- */

static void test_is_hole(void **state)
{
	static uint8_t disk[DS];
	size_t i;

	(void)state;
	memset(disk, 0, sizeof(disk));
	assert_true(extent_is_hole(disk, sizeof(disk)));
	assert_true(extent_is_hole(disk, 1));
	assert_true(extent_is_hole(disk, 29));
	for (i = 0; i < sizeof(disk); i++) {
		disk[i] = (uint8_t)(1u << (i % 8));
		assert_false(extent_is_hole(disk, sizeof(disk)));
		disk[i] = 0;
	}
	/* 0xff everywhere is data, not a hole. */
	memset(disk, 0xff, sizeof(disk));
	assert_false(extent_is_hole(disk, sizeof(disk)));
}

/* ---- sparse record ---- */

static void test_sparse(void **state)
{
	uint8_t rec[EXTENT_SPARSE_LEN + 1] = { 0 };
	struct file_key *fk = fk_new(), *other = fk_new();
	size_t live, i;

	(void)state;
	live = secmem_live();
	assert_int_equal(extent_sparse_seal(fk, rec), 0);
	assert_false(extent_is_hole(rec, EXTENT_SPARSE_LEN));
	assert_int_equal(extent_sparse_check(fk, rec, EXTENT_SPARSE_LEN), 0);

	/* Wrong length, either way. */
	for (i = 0; i <= EXTENT_SPARSE_LEN + 1; i++)
		if (i != EXTENT_SPARSE_LEN)
			assert_int_equal(extent_sparse_check(fk, rec, i),
					 -EBADMSG);
	/* Every bit of the record. */
	for (i = 0; i < 8 * EXTENT_SPARSE_LEN; i++) {
		rec[i / 8] ^= (uint8_t)(1u << (i % 8));
		assert_int_equal(extent_sparse_check(fk, rec,
						     EXTENT_SPARSE_LEN),
				 -EBADMSG);
		rec[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	/* Copied onto another file with the same DEK. */
	memcpy(other->dek, fk->dek, sizeof(fk->dek));
	assert_int_equal(extent_sparse_check(other, rec, EXTENT_SPARSE_LEN),
			 -EBADMSG);
	/* An all-zero record (what a hole looks like) is not one. */
	memset(rec, 0, sizeof(rec));
	assert_int_equal(extent_sparse_check(fk, rec, EXTENT_SPARSE_LEN),
			 -EBADMSG);
	/* The other file's own record does not authorise this one. */
	assert_int_equal(extent_sparse_seal(other, rec), 0);
	assert_int_equal(extent_sparse_check(other, rec, EXTENT_SPARSE_LEN), 0);
	assert_int_equal(extent_sparse_check(fk, rec, EXTENT_SPARSE_LEN),
			 -EBADMSG);
	assert_int_equal(secmem_live(), live);
	file_key_free(other);
	file_key_free(fk);
}

/* The extent and sparse AAD domains are disjoint even under one key. */
static void test_sparse_not_extent(void **state)
{
	uint8_t a[EXTENT_SPARSE_LEN], b[EXTENT_SPARSE_LEN];
	struct file_key *fk = fk_new();

	(void)state;
	assert_int_equal(extent_sparse_seal(fk, a), 0);
	assert_int_equal(extent_sparse_seal(fk, b), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	/* An empty extent sealed at index 0 does not pass as the record. */
	assert_int_equal(extent_seal(fk, 0, true, NULL, 0, a), 0);
	assert_int_equal(extent_sparse_check(fk, a, sizeof(a)), -EBADMSG);
	assert_int_equal(extent_seal(fk, 0, false, NULL, 0, a), 0);
	assert_int_equal(extent_sparse_check(fk, a, sizeof(a)), -EBADMSG);
	file_key_free(fk);
}

static int check_no_leak(void **state)
{
	(void)state;
	/* Every test gives back the keys it took. */
	return secmem_live() == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size_valid),
		cmocka_unit_test(test_geometry_4k),
		cmocka_unit_test(test_geometry_1m),
		cmocka_unit_test(test_geometry_bad_tail),
		cmocka_unit_test(test_seal_open_every_len),
		cmocka_unit_test(test_open_refuses_empty),
		cmocka_unit_test(test_flip_every_byte),
		cmocka_unit_test(test_wrong_position_or_file),
		cmocka_unit_test(test_is_hole),
		cmocka_unit_test(test_sparse),
		cmocka_unit_test(test_sparse_not_extent),
	};

	return cmocka_run_group_tests_name("extent: geometry, seal/open, holes, sparse record",
					   tests, NULL, check_no_leak);
}
