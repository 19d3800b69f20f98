// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/unit/test_hdr.c - crypto/hdr.c: the per-file header.
 *
 * The header comes from an xattr an attacker can rewrite, so besides the
 * round trip every malformed form must be refused, and no single flipped
 * bit may get through both hdr_parse() and hdr_unwrap().
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../crypto/hdr.h"
#include "../../crypto/secmem.h"

struct fixture {
	size_t live;		/* secmem_live() before the test */
	struct kek *kek;
	struct hdr h;
	struct file_key *fk;	/* from hdr_create() */
	uint8_t raw[HDR_SIZE];	/* hdr_build() of h */
};

static int setup(void **state)
{
	static struct fixture f;
	uint8_t uuid[VOL_UUID_LEN];

	memset(&f, 0, sizeof(f));
	f.live = secmem_live();
	if (rand_fill(uuid, sizeof(uuid)) || kek_generate(uuid, &f.kek))
		return -1;
	if (hdr_create(f.kek, 4096, 0, &f.h, &f.fk))
		return -1;
	hdr_build(&f.h, f.raw);
	*state = &f;
	return 0;
}

/* A teardown failure fails the test: keys must all be given back. */
static int teardown(void **state)
{
	struct fixture *f = *state;

	file_key_free(f->fk);
	kek_free(f->kek);
	return secmem_live() == f->live ? 0 : -1;
}

static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct file_key *fk2 = NULL;
	struct hdr h2;

	assert_int_equal(hdr_parse(f->raw, HDR_SIZE, &h2), 0);
	assert_int_equal(h2.version, HDR_VERSION);
	assert_int_equal(h2.extent_size, 4096);
	assert_memory_equal(h2.file_id, f->h.file_id, FILE_ID_LEN);
	assert_memory_equal(h2.kek_id, f->kek->id, KEK_ID_LEN);
	assert_memory_equal(h2.nonce, f->h.nonce, AEAD_NONCE_LEN);
	assert_memory_equal(h2.wrapped_dek, f->h.wrapped_dek, AEAD_KEY_LEN);
	assert_memory_equal(h2.tag, f->h.tag, AEAD_TAG_LEN);

	assert_int_equal(hdr_unwrap(f->kek, &h2, &fk2), 0);
	assert_non_null(fk2);
	assert_memory_equal(fk2->dek, f->fk->dek, AEAD_KEY_LEN);
	assert_memory_equal(fk2->file_id, f->fk->file_id, FILE_ID_LEN);
	assert_memory_equal(fk2->file_id, f->h.file_id, FILE_ID_LEN);
	/* The DEK is stored wrapped, never in the clear. */
	assert_memory_not_equal(h2.wrapped_dek, f->fk->dek, AEAD_KEY_LEN);
	file_key_free(fk2);
}

/* The byte layout documented in hdr.h, little-endian. */
static void test_layout(void **state)
{
	static const uint8_t zero[7];
	struct fixture *f = *state;

	assert_memory_equal(f->raw, "ATRH", 4);
	assert_int_equal(f->raw[4], 1);
	assert_int_equal(f->raw[5], 0);
	assert_int_equal(f->raw[6], 0);
	assert_int_equal(f->raw[7], 0);
	assert_int_equal(f->raw[8], 12);
	assert_memory_equal(f->raw + 9, zero, 7);
	assert_memory_equal(f->raw + 16, f->h.file_id, FILE_ID_LEN);
	assert_memory_equal(f->raw + 32, f->kek->id, KEK_ID_LEN);
	assert_memory_equal(f->raw + 48, f->h.nonce, AEAD_NONCE_LEN);
	assert_memory_equal(f->raw + 60, f->h.wrapped_dek, AEAD_KEY_LEN);
	assert_memory_equal(f->raw + 92, f->h.tag, AEAD_TAG_LEN);
}

static void test_every_extent_size(void **state)
{
	struct fixture *f = *state;
	struct file_key *fk, *fk2;
	uint8_t raw[HDR_SIZE];
	struct hdr h, h2;
	unsigned int shift;

	for (shift = EXTENT_MIN_SHIFT; shift <= EXTENT_MAX_SHIFT; shift++) {
		assert_int_equal(hdr_create(f->kek, 1u << shift, 0, &h, &fk), 0);
		hdr_build(&h, raw);
		assert_int_equal(raw[8], shift);
		assert_int_equal(hdr_parse(raw, sizeof(raw), &h2), 0);
		assert_int_equal(h2.extent_size, 1u << shift);
		assert_int_equal(hdr_unwrap(f->kek, &h2, &fk2), 0);
		assert_memory_equal(fk2->dek, fk->dek, AEAD_KEY_LEN);
		/* Each file gets its own DEK and file ID. */
		assert_memory_not_equal(fk->dek, f->fk->dek, AEAD_KEY_LEN);
		assert_memory_not_equal(fk->file_id, f->fk->file_id,
					FILE_ID_LEN);
		file_key_free(fk2);
		file_key_free(fk);
	}
}

static void test_create_bad_extent_size(void **state)
{
	struct fixture *f = *state;
	struct file_key *fk = NULL;
	size_t live = secmem_live();
	struct hdr h;

	assert_int_equal(hdr_create(f->kek, 2048, 0, &h, &fk), -EINVAL);
	assert_int_equal(hdr_create(f->kek, 12288, 0, &h, &fk), -EINVAL);
	assert_int_equal(hdr_create(f->kek, 1u << 21, 0, &h, &fk), -EINVAL);
	assert_null(fk);
	assert_int_equal(secmem_live(), live);
}

static void test_parse_bad_length(void **state)
{
	struct fixture *f = *state;
	uint8_t big[200];
	struct hdr h;
	size_t len;

	/* Every truncation of a valid header. */
	for (len = 0; len < HDR_SIZE; len++)
		assert_int_equal(hdr_parse(f->raw, len, &h), -EBADMSG);
	memset(big, 0, sizeof(big));
	memcpy(big, f->raw, HDR_SIZE);
	assert_int_equal(hdr_parse(big, HDR_SIZE + 1, &h), -EBADMSG);
	assert_int_equal(hdr_parse(big, sizeof(big), &h), -EBADMSG);
	assert_int_equal(hdr_parse(big, HDR_SIZE, &h), 0);
}

/* Parse f->raw with byte @off set to @val. */
static int parse_with(struct fixture *f, size_t off, uint8_t val)
{
	uint8_t raw[HDR_SIZE];
	struct hdr h;

	memcpy(raw, f->raw, HDR_SIZE);
	raw[off] = val;
	return hdr_parse(raw, HDR_SIZE, &h);
}

static void test_parse_bad_fields(void **state)
{
	struct fixture *f = *state;
	size_t i;

	/* Magic. */
	assert_int_equal(parse_with(f, 0, 'a'), -EBADMSG);
	assert_int_equal(parse_with(f, 3, 'h'), -EBADMSG);
	assert_int_equal(parse_with(f, 3, 0), -EBADMSG);
	/* Unknown flags, either byte (0x0004 is the lowest unknown). */
	assert_int_equal(parse_with(f, 6, 4), -EBADMSG);
	assert_int_equal(parse_with(f, 6, 0x81), -EBADMSG);
	assert_int_equal(parse_with(f, 7, 0x80), -EBADMSG);
	/* Each reserved byte. */
	for (i = 9; i < 16; i++)
		assert_int_equal(parse_with(f, i, 1), -EBADMSG);
	/* Extent shift outside 12..20. */
	assert_int_equal(parse_with(f, 8, 11), -EBADMSG);
	assert_int_equal(parse_with(f, 8, 21), -EBADMSG);
	assert_int_equal(parse_with(f, 8, 0), -EBADMSG);
	assert_int_equal(parse_with(f, 8, 255), -EBADMSG);
	assert_int_equal(parse_with(f, 8, 12), 0);
	assert_int_equal(parse_with(f, 8, 20), 0);
}

/*
 * The data flag is rewrapped with the same file ID and DEK, read back, and
 * bound to the DEK: cleared or set by hand, the header fails to unwrap.
 */
static void test_data_flag(void **state)
{
	struct fixture *f = *state;
	struct file_key *fk2 = NULL;
	uint8_t raw[HDR_SIZE];
	struct hdr h, h2;

	assert_int_equal(f->h.flags, 0);
	assert_int_equal(hdr_rewrap(f->kek, 4096, f->fk, HDR_F_DATA, &h), 0);
	assert_memory_equal(h.file_id, f->h.file_id, FILE_ID_LEN);
	assert_memory_not_equal(h.nonce, f->h.nonce, AEAD_NONCE_LEN);
	hdr_build(&h, raw);
	assert_int_equal(raw[6], 1);
	assert_int_equal(raw[7], 0);
	assert_int_equal(hdr_parse(raw, HDR_SIZE, &h2), 0);
	assert_int_equal(h2.flags, HDR_F_DATA);
	assert_int_equal(hdr_unwrap(f->kek, &h2, &fk2), 0);
	assert_memory_equal(fk2->dek, f->fk->dek, AEAD_KEY_LEN);
	assert_memory_equal(fk2->file_id, f->fk->file_id, FILE_ID_LEN);
	file_key_free(fk2);
	fk2 = NULL;

	/* An attacker clearing the flag (to hide a cut) breaks the unwrap. */
	raw[6] = 0;
	assert_int_equal(hdr_parse(raw, HDR_SIZE, &h2), 0);
	assert_int_equal(h2.flags, 0);
	assert_int_equal(hdr_unwrap(f->kek, &h2, &fk2), -EBADMSG);
	assert_null(fk2);
	/* And setting it on a header made without it. */
	memcpy(raw, f->raw, HDR_SIZE);
	raw[6] = 1;
	assert_int_equal(hdr_parse(raw, HDR_SIZE, &h2), 0);
	assert_int_equal(hdr_unwrap(f->kek, &h2, &fk2), -EBADMSG);
	/* Unknown flags are never written. */
	assert_int_equal(hdr_rewrap(f->kek, 4096, f->fk, 4, &h), -EINVAL);
	assert_int_equal(hdr_rewrap(f->kek, 1000, f->fk, 0, &h), -EINVAL);
}

/*
 * The version flag (a version record exists) is bound the same way: an
 * attacker who drops it to hide a removed record breaks the unwrap.
 */
static void test_ver_flag(void **state)
{
	struct fixture *f = *state;
	struct file_key *fk2 = NULL;
	uint8_t raw[HDR_SIZE];
	struct hdr h, h2;

	assert_int_equal(hdr_rewrap(f->kek, 4096, f->fk,
				    HDR_F_DATA | HDR_F_VER, &h), 0);
	hdr_build(&h, raw);
	assert_int_equal(raw[6], 3);
	assert_int_equal(raw[7], 0);
	assert_int_equal(hdr_parse(raw, HDR_SIZE, &h2), 0);
	assert_int_equal(h2.flags, HDR_F_DATA | HDR_F_VER);
	assert_int_equal(hdr_unwrap(f->kek, &h2, &fk2), 0);
	assert_memory_equal(fk2->dek, f->fk->dek, AEAD_KEY_LEN);
	file_key_free(fk2);
	fk2 = NULL;
	/* VER alone, as on a file emptied through the mount. */
	assert_int_equal(hdr_rewrap(f->kek, 4096, f->fk, HDR_F_VER, &h), 0);
	hdr_build(&h, raw);
	assert_int_equal(raw[6], 2);
	raw[6] = 0;
	assert_int_equal(hdr_parse(raw, HDR_SIZE, &h2), 0);
	assert_int_equal(hdr_unwrap(f->kek, &h2, &fk2), -EBADMSG);
	assert_null(fk2);
	raw[6] = 1;
	assert_int_equal(hdr_parse(raw, HDR_SIZE, &h2), 0);
	assert_int_equal(hdr_unwrap(f->kek, &h2, &fk2), -EBADMSG);
	assert_null(fk2);
}

/*
 * A new file's header can carry HDR_F_VER from the start (format 2): the
 * flag is under the AAD and unwraps; an unknown flag is refused, with no
 * key left behind.
 */
static void test_create_with_flags(void **state)
{
	struct fixture *f = *state;
	struct file_key *fk = NULL, *fk2 = NULL;
	uint8_t raw[HDR_SIZE];
	struct hdr h, h2;

	assert_int_equal(hdr_create(f->kek, 4096, HDR_F_VER, &h, &fk), 0);
	hdr_build(&h, raw);
	assert_int_equal(raw[6], HDR_F_VER);
	assert_int_equal(hdr_parse(raw, HDR_SIZE, &h2), 0);
	assert_int_equal(h2.flags, HDR_F_VER);
	assert_int_equal(hdr_unwrap(f->kek, &h2, &fk2), 0);
	assert_memory_equal(fk2->dek, fk->dek, AEAD_KEY_LEN);
	assert_memory_equal(fk2->file_id, fk->file_id, FILE_ID_LEN);
	file_key_free(fk2);
	fk2 = NULL;
	raw[6] = 0;
	assert_int_equal(hdr_parse(raw, HDR_SIZE, &h2), 0);
	assert_int_equal(hdr_unwrap(f->kek, &h2, &fk2), -EBADMSG);
	file_key_free(fk);
	fk = NULL;
	assert_int_equal(hdr_create(f->kek, 4096, 4, &h, &fk), -EINVAL);
	assert_null(fk);
}

/*
 * Through a thread's context (the daemon's create path): the header is
 * the same format, unwraps to the same key, and each takes its own nonce
 * from the context's batch.
 */
static void test_create_ctx(void **state)
{
	struct fixture *f = *state;
	struct aead_ctx *ac = aead_ctx_new();
	struct file_key *fk[2] = { NULL, NULL }, *fk2 = NULL;
	uint8_t raw[HDR_SIZE];
	struct hdr h[2], h2;
	int i;

	assert_non_null(ac);
	for (i = 0; i < 2; i++) {
		assert_int_equal(hdr_create_ctx(ac, f->kek, 4096, HDR_F_VER,
						&h[i], &fk[i]), 0);
		hdr_build(&h[i], raw);
		assert_int_equal(hdr_parse(raw, HDR_SIZE, &h2), 0);
		assert_int_equal(h2.flags, HDR_F_VER);
		assert_int_equal(hdr_unwrap(f->kek, &h2, &fk2), 0);
		assert_memory_equal(fk2->dek, fk[i]->dek, AEAD_KEY_LEN);
		assert_memory_equal(fk2->file_id, fk[i]->file_id, FILE_ID_LEN);
		file_key_free(fk2);
		fk2 = NULL;
	}
	assert_memory_not_equal(h[0].nonce, h[1].nonce, AEAD_NONCE_LEN);
	assert_memory_not_equal(fk[0]->dek, fk[1]->dek, AEAD_KEY_LEN);
	file_key_free(fk[0]);
	file_key_free(fk[1]);
	aead_ctx_free(ac);
}

/* Another version is named as such, whatever its length. */
static void test_parse_other_version(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[200];
	struct hdr h;

	memset(buf, 0, sizeof(buf));
	memcpy(buf, f->raw, HDR_SIZE);
	buf[4] = 2;
	assert_int_equal(hdr_parse(buf, HDR_SIZE, &h), -EPROTONOSUPPORT);
	assert_int_equal(hdr_parse(buf, 6, &h), -EPROTONOSUPPORT);
	assert_int_equal(hdr_parse(buf, 64, &h), -EPROTONOSUPPORT);
	assert_int_equal(hdr_parse(buf, sizeof(buf), &h), -EPROTONOSUPPORT);
	/* Little-endian: bytes 00 01 are version 256, not 1. */
	buf[4] = 0;
	buf[5] = 1;
	assert_int_equal(hdr_parse(buf, HDR_SIZE, &h), -EPROTONOSUPPORT);
	/* Wrong magic beats the version: junk is junk. */
	buf[4] = 2;
	buf[5] = 0;
	buf[0] = 'X';
	assert_int_equal(hdr_parse(buf, HDR_SIZE, &h), -EBADMSG);
}

static void test_every_bit_flip(void **state)
{
	struct fixture *f = *state;
	struct file_key *fk;
	uint8_t raw[HDR_SIZE];
	struct hdr h;
	size_t bit;
	int err;

	for (bit = 0; bit < 8 * HDR_SIZE; bit++) {
		memcpy(raw, f->raw, HDR_SIZE);
		raw[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		fk = NULL;
		err = hdr_parse(raw, HDR_SIZE, &h);
		if (!err)
			err = hdr_unwrap(f->kek, &h, &fk);
		if (!err) {
			print_error("bit %zu flipped and accepted\n", bit);
			file_key_free(fk);
		}
		assert_true(err == -EBADMSG || err == -EPROTONOSUPPORT ||
			    err == -ENOKEY);
		assert_null(fk);
	}
}

static void test_unwrap_wrong_kek(void **state)
{
	struct fixture *f = *state;
	struct file_key *fk = NULL;
	uint8_t uuid[VOL_UUID_LEN] = { 0 };
	struct kek *other;
	size_t live = secmem_live();

	assert_int_equal(kek_generate(uuid, &other), 0);
	/* Another volume's KEK: named by ID before any crypto. */
	assert_memory_not_equal(other->id, f->kek->id, KEK_ID_LEN);
	assert_int_equal(hdr_unwrap(other, &f->h, &fk), -ENOKEY);
	assert_null(fk);
	/* Same ID, wrong key bytes: the tag must catch it. */
	memcpy(other->id, f->kek->id, KEK_ID_LEN);
	assert_int_equal(hdr_unwrap(other, &f->h, &fk), -EBADMSG);
	assert_null(fk);
	kek_free(other);
	assert_int_equal(secmem_live(), live);
}

/*
 * During a KEK rotation a header under the old KEK opens through the new
 * one's ->retiring, and a rewrap names the new KEK; without ->retiring
 * it is another KEK's header.
 */
static void test_unwrap_retiring(void **state)
{
	struct fixture *f = *state;
	struct file_key *fk = NULL;
	uint8_t uuid[VOL_UUID_LEN] = { 0 };
	struct kek *cur;
	struct hdr h2;
	size_t live = secmem_live();

	assert_int_equal(kek_generate(uuid, &cur), 0);
	assert_int_equal(hdr_unwrap(cur, &f->h, &fk), -ENOKEY);
	cur->retiring = f->kek;
	assert_int_equal(hdr_unwrap(cur, &f->h, &fk), 0);
	assert_memory_equal(fk->dek, f->fk->dek, AEAD_KEY_LEN);
	assert_int_equal(hdr_rewrap(cur, 4096, fk, HDR_F_DATA, &h2), 0);
	file_key_free(fk);
	fk = NULL;
	assert_memory_equal(h2.kek_id, cur->id, KEK_ID_LEN);
	assert_memory_equal(h2.file_id, f->h.file_id, FILE_ID_LEN);
	/* The old KEK alone no longer opens the rewrapped header. */
	assert_int_equal(hdr_unwrap(f->kek, &h2, &fk), -ENOKEY);
	assert_int_equal(hdr_unwrap(cur, &h2, &fk), 0);
	assert_memory_equal(fk->dek, f->fk->dek, AEAD_KEY_LEN);
	file_key_free(fk);
	cur->retiring = NULL;		/* the fixture's; it frees it */
	kek_free(cur);
	assert_int_equal(secmem_live(), live);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unwrap_retiring, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_extent_size, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_create_bad_extent_size,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_bad_length, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_parse_bad_fields, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_data_flag, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ver_flag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_with_flags, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_create_ctx, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_parse_other_version, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_every_bit_flip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unwrap_wrong_kek, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("hdr: per-file header parse, build, wrap",
					   tests, NULL, NULL);
}
