// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/unit/test_kek.c - crypto/kek.c: the KEK's subkeys and lock check.
 *
 * The known answers are those of docs/format.md §3.5 (KEK = 00 01 ... 1f,
 * UUID 00112233-4455-4677-8899-aabbccddeeff): every existing config MAC,
 * sealed xattr and state record depends on them.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../crypto/aead.h"
#include "../../crypto/codec.h"
#include "../../crypto/kek.h"
#include "../../crypto/secmem.h"

static void test_subkeys_known_answer(void **state)
{
	static const uint8_t uuid[VOL_UUID_LEN] = {
		0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x46, 0x77,
		0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
	};
	uint8_t raw[KEK_LEN], id[KEK_ID_LEN];
	struct kek *kek;
	char hex[65];
	unsigned int i;

	(void)state;
	for (i = 0; i < KEK_LEN; i++)
		raw[i] = (uint8_t)i;
	for (i = 0; i < KEK_ID_LEN; i++)
		id[i] = (uint8_t)(0x10 + i);
	assert_int_equal(kek_derive(raw, id, uuid, &kek), 0);
	assert_memory_equal(kek->key, raw, KEK_LEN);
	assert_memory_equal(kek->id, id, KEK_ID_LEN);
	hex_encode(kek->conf_mac_key, 32, hex);
	assert_string_equal(hex, "0f72afad939815d8420002107e823293"
			    "cbca667efa971a96a5f25251434149a8");
	hex_encode(kek->meta_key, 32, hex);
	assert_string_equal(hex, "3605f846fdc93da1414d159756ef30d0"
			    "f047e736d3632743821e4165e1b4b0f8");
	hex_encode(kek->state_mac_key, 32, hex);
	assert_string_equal(hex, "942b7bf678a09d706f83b38bdd59993a"
			    "8b8f18291a314d7999cdc87efa1cb398");
	kek_free(kek);
}

/* Another volume's UUID gives other subkeys from the same KEK bytes. */
static void test_subkeys_per_volume(void **state)
{
	uint8_t raw[KEK_LEN] = { 1 }, id[KEK_ID_LEN] = { 2 };
	uint8_t u1[VOL_UUID_LEN] = { 3 }, u2[VOL_UUID_LEN] = { 4 };
	struct kek *a, *b;
	size_t live = secmem_live();

	(void)state;
	assert_int_equal(kek_derive(raw, id, u1, &a), 0);
	assert_int_equal(kek_derive(raw, id, u2, &b), 0);
	assert_memory_not_equal(a->conf_mac_key, b->conf_mac_key, 32);
	assert_memory_not_equal(a->meta_key, b->meta_key, 32);
	assert_memory_not_equal(a->state_mac_key, b->state_mac_key, 32);
	/* No subkey serves two purposes. */
	assert_memory_not_equal(a->state_mac_key, a->conf_mac_key, 32);
	assert_memory_not_equal(a->state_mac_key, a->meta_key, 32);
	kek_free(a);
	kek_free(b);
	assert_int_equal(secmem_live(), live);
}

/*
 * The retiring KEK boxed under the current one opens back into
 * ->retiring with its subkeys, only for this volume and these two IDs.
 */
static void test_retiring(void **state)
{
	uint8_t uuid[VOL_UUID_LEN] = { 5 }, other[VOL_UUID_LEN] = { 6 };
	uint8_t box[KEK_RETIRING_LEN], id[KEK_ID_LEN];
	struct kek *cur, *old;
	size_t live = secmem_live();

	(void)state;
	assert_int_equal(kek_generate(uuid, &cur), 0);
	assert_int_equal(kek_generate(uuid, &old), 0);
	assert_int_equal(kek_wrap_retiring(cur, old, uuid, box), 0);
	assert_memory_not_equal(box + 12, old->key, KEK_LEN);
	assert_int_equal(kek_open_retiring(cur, old->id, other, box), -EBADMSG);
	memcpy(id, old->id, KEK_ID_LEN);
	id[0] ^= 1;
	assert_int_equal(kek_open_retiring(cur, id, uuid, box), -EBADMSG);
	box[20] ^= 1;
	assert_int_equal(kek_open_retiring(cur, old->id, uuid, box), -EBADMSG);
	box[20] ^= 1;
	assert_null(cur->retiring);
	assert_int_equal(kek_open_retiring(cur, old->id, uuid, box), 0);
	assert_non_null(cur->retiring);
	assert_memory_equal(cur->retiring->key, old->key, KEK_LEN);
	assert_memory_equal(cur->retiring->id, old->id, KEK_ID_LEN);
	assert_memory_equal(cur->retiring->meta_key, old->meta_key, 32);
	assert_memory_equal(cur->retiring->state_mac_key, old->state_mac_key,
			    32);
	kek_free(old);
	/* kek_free() takes the retiring KEK with it. */
	kek_free(cur);
	assert_int_equal(secmem_live(), live);
}

/*
 * The value a locked mount keeps to recognise its KEK: a known answer
 * (HKDF-SHA256 with info "atrestfs v1 lock check", as computed apart from
 * this code), and none of the keys the lock wipes.
 */
static void test_lock_check(void **state)
{
	static const uint8_t uuid[VOL_UUID_LEN] = {
		0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x46, 0x77,
		0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
	};
	uint8_t raw[KEK_LEN], id[KEK_ID_LEN] = { 0 }, c[KEK_CHECK_LEN];
	uint8_t other[VOL_UUID_LEN] = { 1 }, c2[KEK_CHECK_LEN];
	struct kek *kek;
	char hex[65];
	unsigned int i;

	(void)state;
	for (i = 0; i < KEK_LEN; i++)
		raw[i] = (uint8_t)i;
	assert_int_equal(kek_check(raw, uuid, c), 0);
	hex_encode(c, KEK_CHECK_LEN, hex);
	assert_string_equal(hex, "1210da7f7a54c56da5d1245357ac4981"
			    "54cb91950e93efb3b15d8f74602f1f2b");
	assert_int_equal(kek_derive(raw, id, uuid, &kek), 0);
	assert_memory_not_equal(c, kek->key, KEK_CHECK_LEN);
	assert_memory_not_equal(c, kek->conf_mac_key, KEK_CHECK_LEN);
	assert_memory_not_equal(c, kek->meta_key, KEK_CHECK_LEN);
	assert_memory_not_equal(c, kek->state_mac_key, KEK_CHECK_LEN);
	kek_free(kek);
	assert_int_equal(kek_check(raw, other, c2), 0);
	assert_memory_not_equal(c, c2, KEK_CHECK_LEN);
	raw[0] ^= 1;
	assert_int_equal(kek_check(raw, uuid, c2), 0);
	assert_memory_not_equal(c, c2, KEK_CHECK_LEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retiring),
		cmocka_unit_test(test_subkeys_known_answer),
		cmocka_unit_test(test_subkeys_per_volume),
		cmocka_unit_test(test_lock_check),
	};

	return cmocka_run_group_tests_name("kek: the KEK's subkeys", tests,
					   NULL, NULL);
}
