// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/unit/test_verrec.c - crypto/verrec.c: a file's version record and
 * this machine's state record of it.
 *
 * The version record sits in an xattr an attacker can rewrite, the state
 * record in a directory the attacker may be able to write: the layout of
 * each is pinned, every bit of each is flipped, and a record of another
 * file (or key) must fail.  The state key and record are known answers
 * (docs/format.md 12, KEK 00 01 ... 1f and the UUID of format.md 3.5),
 * and so is a rekey run's record of a file ID it made.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/crypto.h>

#include "unit.h"
#include "../../crypto/codec.h"
#include "../../crypto/secmem.h"
#include "../../crypto/verrec.h"

static struct file_key *fk_new(void)
{
	struct file_key *fk = secmem_alloc(sizeof(*fk));

	assert_non_null(fk);
	assert_int_equal(rand_fill(fk, sizeof(*fk)), 0);
	return fk;
}

static const struct verrec clean = {
	.counter = 0x0102030405060708ull,
	.size = 0x1112131415161718ull,
	.tag = { 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
		 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf },
};

/* The plaintext, opened by hand: le64, le64, tag, flags, in that order. */
static void test_layout(void **state)
{
	struct file_key *fk = fk_new();
	uint8_t rec[VERREC_LEN], pt[VERREC_PLAIN_LEN], aad[1 + FILE_ID_LEN];
	static const uint8_t want[VERREC_PLAIN_LEN] = {
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
		0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11,
		0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
		0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
		0x00,
	};
	struct verrec v;

	(void)state;
	assert_int_equal(VERREC_LEN, 61);
	assert_int_equal(verrec_seal(fk, &clean, rec), 0);
	aad[0] = 'V';
	memcpy(aad + 1, fk->file_id, FILE_ID_LEN);
	assert_int_equal(aead_box_open(fk->dek, aad, sizeof(aad), rec,
				       sizeof(rec), pt), 0);
	assert_memory_equal(pt, want, sizeof(want));
	assert_int_equal(verrec_open(fk, rec, sizeof(rec), &v), 0);
	assert_int_equal(v.counter, clean.counter);
	assert_int_equal(v.size, clean.size);
	assert_memory_equal(v.tag, clean.tag, AEAD_TAG_LEN);
	assert_int_equal(v.flags, 0);
	file_key_free(fk);
}

/* Through a thread's context: the same record, a nonce of its batch. */
static void test_seal_ctx(void **state)
{
	struct file_key *fk = fk_new(), *other = fk_new();
	struct aead_ctx *ac = aead_ctx_new();
	uint8_t rec[VERREC_LEN], rec2[VERREC_LEN];
	struct verrec v;

	(void)state;
	assert_non_null(ac);
	assert_int_equal(verrec_seal_ctx(ac, fk, &clean, rec), 0);
	assert_int_equal(verrec_seal_ctx(ac, fk, &clean, rec2), 0);
	assert_memory_not_equal(rec, rec2, AEAD_NONCE_LEN);
	assert_int_equal(verrec_open(fk, rec, sizeof(rec), &v), 0);
	assert_int_equal(v.counter, clean.counter);
	assert_memory_equal(v.tag, clean.tag, AEAD_TAG_LEN);
	/* The context re-keys for another file's DEK and ID. */
	assert_int_equal(verrec_seal_ctx(ac, other, &clean, rec2), 0);
	assert_int_equal(verrec_open(fk, rec2, sizeof(rec2), &v), -EBADMSG);
	assert_int_equal(verrec_open(other, rec2, sizeof(rec2), &v), 0);
	aead_ctx_free(ac);
	file_key_free(other);
	file_key_free(fk);
}

static void test_dirty(void **state)
{
	struct file_key *fk = fk_new();
	struct verrec d = { .counter = 7, .flags = VERREC_F_DIRTY }, v;
	uint8_t rec[VERREC_LEN];

	(void)state;
	assert_int_equal(verrec_seal(fk, &d, rec), 0);
	assert_int_equal(verrec_open(fk, rec, sizeof(rec), &v), 0);
	assert_int_equal(v.counter, 7);
	assert_int_equal(v.flags, VERREC_F_DIRTY);
	assert_int_equal(v.size, 0);
	assert_true(all_zero(v.tag, AEAD_TAG_LEN));
	file_key_free(fk);
}

/* Fields no writer makes: refused at seal, and at open once sealed. */
static void test_bad_fields(void **state)
{
	struct file_key *fk = fk_new();
	uint8_t rec[VERREC_LEN], pt[VERREC_PLAIN_LEN], aad[1 + FILE_ID_LEN];
	struct verrec bad, v;
	size_t i;
	static const struct {
		size_t off;
		uint8_t val;
	} cases[] = {
		{ 0, 0 },			/* counter 0 (with byte 0..7 zero) */
		{ 32, 0x02 },			/* an unknown flag */
		{ 32, 0x80 },
		{ 32, 0x01 },			/* dirty, with a size and a tag */
	};

	(void)state;
	bad = clean;
	bad.counter = 0;
	assert_int_equal(verrec_seal(fk, &bad, rec), -EINVAL);
	bad = clean;
	bad.flags = 2;
	assert_int_equal(verrec_seal(fk, &bad, rec), -EINVAL);
	bad = clean;
	bad.flags = VERREC_F_DIRTY;
	assert_int_equal(verrec_seal(fk, &bad, rec), -EINVAL);

	aad[0] = 'V';
	memcpy(aad + 1, fk->file_id, FILE_ID_LEN);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(verrec_seal(fk, &clean, rec), 0);
		assert_int_equal(aead_box_open(fk->dek, aad, sizeof(aad), rec,
					       sizeof(rec), pt), 0);
		if (cases[i].off == 0)
			memset(pt, 0, 8);
		else
			pt[cases[i].off] = cases[i].val;
		assert_int_equal(aead_box_seal(fk->dek, aad, sizeof(aad), pt,
					       sizeof(pt), rec), 0);
		assert_int_equal(verrec_open(fk, rec, sizeof(rec), &v),
				 -EBADMSG);
	}
	file_key_free(fk);
}

static void test_flip_every_bit(void **state)
{
	struct file_key *fk = fk_new();
	uint8_t rec[VERREC_LEN];
	struct verrec v;
	size_t i, bit;

	(void)state;
	assert_int_equal(verrec_seal(fk, &clean, rec), 0);
	for (i = 0; i < sizeof(rec); i++)
		for (bit = 0; bit < 8; bit++) {
			rec[i] ^= (uint8_t)(1u << bit);
			assert_int_equal(verrec_open(fk, rec, sizeof(rec), &v),
					 -EBADMSG);
			rec[i] ^= (uint8_t)(1u << bit);
		}
	assert_int_equal(verrec_open(fk, rec, sizeof(rec), &v), 0);
	/* Any other length, the right bytes included. */
	for (i = 0; i < sizeof(rec); i++)
		assert_int_equal(verrec_open(fk, rec, i, &v), -EBADMSG);
	file_key_free(fk);
}

/* Another file's record (same DEK, other ID), or under another DEK. */
static void test_other_file(void **state)
{
	struct file_key *fk = fk_new(), *other = fk_new();
	uint8_t rec[VERREC_LEN], sparse[EXTENT_SPARSE_LEN];
	struct verrec v;

	(void)state;
	assert_int_equal(verrec_seal(fk, &clean, rec), 0);
	memcpy(other->dek, fk->dek, AEAD_KEY_LEN);
	assert_int_equal(verrec_open(other, rec, sizeof(rec), &v), -EBADMSG);
	assert_int_equal(rand_fill(other->dek, AEAD_KEY_LEN), 0);
	memcpy(other->file_id, fk->file_id, FILE_ID_LEN);
	assert_int_equal(verrec_open(other, rec, sizeof(rec), &v), -EBADMSG);
	/* Two seals of one record differ (fresh nonce). */
	{
		uint8_t rec2[VERREC_LEN];

		assert_int_equal(verrec_seal(fk, &clean, rec2), 0);
		assert_memory_not_equal(rec, rec2, sizeof(rec));
	}
	/* The sparse record is not a version record, nor the reverse. */
	assert_int_equal(extent_sparse_seal(fk, sparse), 0);
	assert_int_equal(verrec_open(fk, sparse, sizeof(sparse), &v), -EBADMSG);
	assert_int_equal(extent_sparse_check(fk, rec, sizeof(rec)), -EBADMSG);
	file_key_free(other);
	file_key_free(fk);
}

/* ---- state records ---- */

static struct kek *known_kek(void)
{
	uint8_t raw[KEK_LEN], id[KEK_ID_LEN] = { 0 };
	static const uint8_t uuid[VOL_UUID_LEN] = {
		0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x46, 0x77,
		0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
	};
	struct kek *kek = NULL;
	unsigned int i;

	for (i = 0; i < KEK_LEN; i++)
		raw[i] = (uint8_t)i;
	assert_int_equal(kek_derive(raw, id, uuid, &kek), 0);
	return kek;
}

static const uint8_t known_uuid[VOL_UUID_LEN] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x46, 0x77,
	0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
};

static void test_state_known_answer(void **state)
{
	struct kek *kek = known_kek();
	uint8_t key[VERREC_STATE_KEY_LEN], id[FILE_ID_LEN], got[FILE_ID_LEN];
	uint8_t rec[VERREC_STATE_LEN];
	char hex[2 * VERREC_STATE_LEN + 1];
	uint64_t ctr;
	unsigned int i;

	(void)state;
	assert_int_equal(verrec_state_key(kek, known_uuid, key), 0);
	hex_encode(key, sizeof(key), hex);
	assert_string_equal(hex, "73e9db259d7eb9dd7c9edc3f3cfec293"
			    "0b237f33a358cf565c02d283aceebc07");
	for (i = 0; i < FILE_ID_LEN; i++)
		id[i] = (uint8_t)(0x20 + i);
	assert_int_equal(verrec_state_seal(key, NULL, id, 0x0102030405060708ull,
					   rec), 0);
	hex_encode(rec, sizeof(rec), hex);
	assert_string_equal(hex, "202122232425262728292a2b2c2d2e2f"
			    "0807060504030201"
			    "9bd106d7968855e02c8e6c7a1e7727e6");
	assert_int_equal(verrec_state_open(key, NULL, rec, got, &ctr), 0);
	assert_memory_equal(got, id, FILE_ID_LEN);
	assert_int_equal(ctr, 0x0102030405060708ull);
	/* Counter 0, the record that drops a file. */
	assert_int_equal(verrec_state_seal(key, NULL, id, 0, rec), 0);
	hex_encode(rec, sizeof(rec), hex);
	assert_string_equal(hex, "202122232425262728292a2b2c2d2e2f"
			    "0000000000000000"
			    "08362d45b1b35eb7bbad039451945762");
	/* The same through a batch, as a journal is read and written. */
	{
		struct kdf_hmac_batch *b;
		uint8_t rec2[VERREC_STATE_LEN];

		assert_int_equal(kdf_hmac_begin(key, &b), 0);
		assert_int_equal(verrec_state_seal(key, b, id, 0, rec2), 0);
		assert_memory_equal(rec2, rec, sizeof(rec));
		assert_int_equal(verrec_state_open(key, b, rec2, got, &ctr), 0);
		rec2[30] ^= 1;
		assert_int_equal(verrec_state_open(key, b, rec2, got, &ctr),
				 -EBADMSG);
		kdf_hmac_end(b);
	}
	OPENSSL_cleanse(key, sizeof(key));
	kek_free(kek);
}

static void test_state_flip_and_key(void **state)
{
	uint8_t key[VERREC_STATE_KEY_LEN], other[VERREC_STATE_KEY_LEN];
	uint8_t id[FILE_ID_LEN], got[FILE_ID_LEN], rec[VERREC_STATE_LEN];
	uint8_t uuid2[VOL_UUID_LEN] = { 1 };
	struct kek *kek = known_kek();
	uint64_t ctr;
	size_t i, bit;

	(void)state;
	assert_int_equal(verrec_state_key(kek, known_uuid, key), 0);
	assert_int_equal(rand_fill(id, sizeof(id)), 0);
	assert_int_equal(verrec_state_seal(key, NULL, id, 42, rec), 0);
	for (i = 0; i < sizeof(rec); i++)
		for (bit = 0; bit < 8; bit++) {
			rec[i] ^= (uint8_t)(1u << bit);
			assert_int_equal(verrec_state_open(key, NULL, rec, got, &ctr),
					 -EBADMSG);
			rec[i] ^= (uint8_t)(1u << bit);
		}
	/* Another volume's key (same KEK, other UUID) does not verify it. */
	assert_int_equal(verrec_state_key(kek, uuid2, other), 0);
	assert_memory_not_equal(key, other, sizeof(key));
	assert_int_equal(verrec_state_open(other, NULL, rec, got, &ctr), -EBADMSG);
	assert_int_equal(verrec_state_open(key, NULL, rec, got, &ctr), 0);
	assert_int_equal(ctr, 42);
	/* The subkey is none of the KEK's others. */
	assert_memory_not_equal(key, kek->conf_mac_key, sizeof(key));
	assert_memory_not_equal(key, kek->meta_key, sizeof(key));
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(other, sizeof(other));
	kek_free(kek);
}

/*
 * A rekey run's record of a file ID: a known answer (format.md 12), every
 * bit flipped, and neither a files-journal record nor another key's
 * record of the same ID passes for one.
 */
static void test_done(void **state)
{
	uint8_t id[FILE_ID_LEN], got[FILE_ID_LEN], rec[VERREC_DONE_LEN];
	uint8_t skey[VERREC_STATE_KEY_LEN], srec[VERREC_STATE_LEN];
	char hex[2 * VERREC_DONE_LEN + 1];
	struct kek *kek = known_kek();
	size_t i, bit;

	(void)state;
	for (i = 0; i < FILE_ID_LEN; i++)
		id[i] = (uint8_t)(0x20 + i);
	assert_int_equal(verrec_done_seal(kek->state_mac_key, id, rec), 0);
	hex_encode(rec, sizeof(rec), hex);
	assert_string_equal(hex, "202122232425262728292a2b2c2d2e2f"
			    "12f727ff0c7ae71d0fc85910223a5ce4");
	assert_int_equal(verrec_done_open(kek->state_mac_key, rec, got), 0);
	assert_memory_equal(got, id, FILE_ID_LEN);
	for (i = 0; i < sizeof(rec); i++)
		for (bit = 0; bit < 8; bit++) {
			rec[i] ^= (uint8_t)(1u << bit);
			assert_int_equal(verrec_done_open(kek->state_mac_key,
							  rec, got), -EBADMSG);
			rec[i] ^= (uint8_t)(1u << bit);
		}
	assert_int_equal(verrec_done_open(kek->meta_key, rec, got), -EBADMSG);
	/* The files journal's record of the ID, first 32 bytes, and key. */
	assert_int_equal(verrec_state_key(kek, known_uuid, skey), 0);
	assert_int_equal(verrec_state_seal(skey, NULL, id, 1, srec), 0);
	memcpy(rec + FILE_ID_LEN, srec + FILE_ID_LEN + 8,
	       VERREC_DONE_LEN - FILE_ID_LEN);
	assert_int_equal(verrec_done_open(skey, rec, got), -EBADMSG);
	assert_int_equal(verrec_done_open(kek->state_mac_key, rec, got),
			 -EBADMSG);
	OPENSSL_cleanse(skey, sizeof(skey));
	kek_free(kek);
}

static int check_no_leak(void **state)
{
	(void)state;
	return secmem_live() == 0 ? 0 : -1;
}

/*
 * Older than what settled here: a lower counter, or a dirty record of the
 * very counter that settled (a change settles under its dirty counter).
 */
static void test_older(void **state)
{
	struct verrec clean = { .counter = 3 };
	struct verrec dirty = { .counter = 3, .flags = VERREC_F_DIRTY };

	(void)state;
	assert_false(verrec_older(&clean, 0));
	assert_false(verrec_older(&dirty, 0));
	assert_false(verrec_older(&clean, 3));
	assert_true(verrec_older(&dirty, 3));
	assert_false(verrec_older(&dirty, 2));	/* a crash mid-change */
	assert_true(verrec_older(&clean, 4));
	assert_true(verrec_older(&dirty, 4));
}

/*
 * The end copy record (format.md 6.4): its layout, every bit flipped, a
 * version record or another file's end record refused, counter 0 refused.
 */
static void test_end(void **state)
{
	struct file_key *fk = fk_new(), *other = fk_new();
	struct aead_ctx *ac = aead_ctx_new();
	const struct verrec_end e = { .counter = 0x0102030405060708ull,
				      .backing_size = 0x1112131415161718ull,
				      .index = 0x2122232425262728ull,
				      .tag = { 0xa0, 0xa1, 0xa2, 0xa3, 0xa4,
					       0xa5, 0xa6, 0xa7, 0xa8, 0xa9,
					       0xaa, 0xab, 0xac, 0xad, 0xae,
					       0xaf } };
	static const uint8_t want[VERREC_END_PLAIN_LEN] = {
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
		0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11,
		0x28, 0x27, 0x26, 0x25, 0x24, 0x23, 0x22, 0x21,
		0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
		0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
	};
	uint8_t rec[VERREC_END_LEN], pt[VERREC_END_PLAIN_LEN];
	uint8_t aad[1 + FILE_ID_LEN], vrec[VERREC_LEN];
	struct verrec_end got, zero = e;
	size_t bit;

	(void)state;
	assert_non_null(ac);
	assert_int_equal(VERREC_END_LEN, 68);
	assert_int_equal(verrec_end_seal(ac, fk, &e, rec), 0);
	aad[0] = 'E';
	memcpy(aad + 1, fk->file_id, FILE_ID_LEN);
	assert_int_equal(aead_box_open(fk->dek, aad, sizeof(aad), rec,
				       sizeof(rec), pt), 0);
	assert_memory_equal(pt, want, sizeof(want));
	assert_int_equal(verrec_end_open(fk, rec, &got), 0);
	assert_int_equal(got.counter, e.counter);
	assert_int_equal(got.backing_size, e.backing_size);
	assert_int_equal(got.index, e.index);
	assert_memory_equal(got.tag, e.tag, AEAD_TAG_LEN);
	for (bit = 0; bit < 8 * sizeof(rec); bit++) {
		rec[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(verrec_end_open(fk, rec, &got), -EBADMSG);
		rec[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	assert_int_equal(verrec_end_open(other, rec, &got), -EBADMSG);
	/* A version record's box (aad 'V') never opens as one of these. */
	assert_int_equal(verrec_seal(fk, &clean, vrec), 0);
	memset(rec, 0, sizeof(rec));
	memcpy(rec, vrec, sizeof(vrec) < sizeof(rec) ? sizeof(vrec) :
	       sizeof(rec));
	assert_int_equal(verrec_end_open(fk, rec, &got), -EBADMSG);
	zero.counter = 0;
	assert_int_equal(verrec_end_seal(ac, fk, &zero, rec), -EINVAL);
	aead_ctx_free(ac);
	file_key_free(other);
	file_key_free(fk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_seal_ctx),
		cmocka_unit_test(test_dirty),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_flip_every_bit),
		cmocka_unit_test(test_other_file),
		cmocka_unit_test(test_state_known_answer),
		cmocka_unit_test(test_state_flip_and_key),
		cmocka_unit_test(test_done),
		cmocka_unit_test(test_older),
		cmocka_unit_test(test_end),
	};

	return cmocka_run_group_tests_name("verrec: version and state records",
					   tests, NULL, check_no_leak);
}
