// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/unit/test_volume.c - crypto/volume.c: atrestfs.conf's one
 * serialisation, its MAC, the keyslot AAD and the UUID text form.
 *
 * No file here: test_volconf.c reads and writes atrestfs.conf.  The known
 * answers pin the canonical form, on which every existing volume's MAC
 * depends.
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

#include <cmocka.h>

#include "../../crypto/aead.h"
#include "../../crypto/secmem.h"
#include "../../crypto/codec.h"
#include "../../crypto/volume.h"
#include "vol_known.h"

struct fixture {
	size_t live;
	struct kek *kek;
	struct vol_config cfg;
};

static void fill_slot(struct vol_keyslot *ks, const char *provider)
{
	snprintf(ks->provider, sizeof(ks->provider), "%s", provider);
	strcpy(ks->key_id, "kf-0123456789abcdef");
	ks->key_version = 1;
	strcpy(ks->algorithm, "AES-256-GCM");
	ks->wrapped_len = 60;
	assert_int_equal(rand_fill(ks->wrapped, ks->wrapped_len), 0);
	ks->nparams = 2;
	strcpy(ks->params[0].key, "path");
	strcpy(ks->params[0].value, "/etc/atrestfs/root.key");
	strcpy(ks->params[1].key, "comment");
	strcpy(ks->params[1].value, "test volume, not secret");
}

static int setup(void **state)
{
	static struct fixture f;
	struct vol_config *cfg = &f.cfg;

	memset(&f, 0, sizeof(f));
	f.live = secmem_live();
	cfg->format_version = VOL_FORMAT_VERSION;
	if (rand_fill(cfg->uuid, VOL_UUID_LEN) ||
	    kek_generate(cfg->uuid, &f.kek))
		return -1;
	cfg->extent_size = 4096;
	memcpy(cfg->kek_id, f.kek->id, KEK_ID_LEN);
	cfg->nslots = 1;
	fill_slot(&cfg->slots[0], "keyfile");
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	kek_free(f->kek);
	return secmem_live() == f->live ? 0 : -1;
}

/* ---- known answers: the MAC input and the file's text never change ---- */

static void test_mac_known_answer(void **state)
{
	struct vol_config cfg;
	struct kek *kek;
	char hex[65];

	(void)state;
	assert_int_equal(vol_known_config(&cfg, &kek), 0);
	assert_int_equal(vol_mac(kek, &cfg, cfg.mac), 0);
	hex_encode(cfg.mac, sizeof(cfg.mac), hex);
	assert_string_equal(hex, VOL_KNOWN_MAC);
	assert_int_equal(vol_verify(kek, &cfg), 0);
	/* Without the optional settings: the MAC of a config before them. */
	memset(&cfg.opt, 0, sizeof(cfg.opt));
	assert_int_equal(vol_mac(kek, &cfg, cfg.mac), 0);
	hex_encode(cfg.mac, sizeof(cfg.mac), hex);
	assert_string_equal(hex, VOL_KNOWN_MAC_NO_OPT);
	kek_free(kek);
}

/* The file's text comes from the same serialisation as the MAC input. */
static void test_text_known_answer(void **state)
{
	struct vol_config cfg;
	struct kek *kek;
	char *text;

	(void)state;
	assert_int_equal(vol_known_config(&cfg, &kek), 0);
	assert_int_equal(vol_mac(kek, &cfg, cfg.mac), 0);
	kek_free(kek);
	text = vol_text(&cfg, false);
	assert_non_null(text);
	assert_string_equal(text, VOL_KNOWN_TEXT);
	free(text);
}

/*
 * The generation is in the MAC input only when set: a config without one
 * keeps the MAC it had before generations, and each value has its own.
 */
static void test_generation_known_answer(void **state)
{
	uint8_t mac0[32], mac1[32], mac2[32];
	struct vol_config cfg;
	struct kek *kek;
	char hex[65], *canon, *text;

	(void)state;
	assert_int_equal(vol_known_config(&cfg, &kek), 0);
	cfg.generation = VOL_KNOWN_GEN;
	assert_int_equal(vol_mac(kek, &cfg, cfg.mac), 0);
	hex_encode(cfg.mac, sizeof(cfg.mac), hex);
	assert_string_equal(hex, VOL_KNOWN_MAC_GEN);
	canon = vol_text(&cfg, true);
	text = vol_text(&cfg, false);
	assert_non_null(canon);
	assert_non_null(text);
	assert_non_null(strstr(canon, "\nformat_version = 1;\n"
			       "generation = 3000000000;\nvolume_uuid = "));
	assert_non_null(strstr(text, "\nformat_version = 1;\n"
			       "generation = 3000000000L;\nvolume_uuid = "));
	free(canon);
	free(text);

	cfg.generation = 0;
	assert_int_equal(vol_mac(kek, &cfg, mac0), 0);
	hex_encode(mac0, sizeof(mac0), hex);
	assert_string_equal(hex, VOL_KNOWN_MAC);
	canon = vol_text(&cfg, true);
	text = vol_text(&cfg, false);
	assert_non_null(canon);
	assert_non_null(text);
	assert_null(strstr(canon, "generation"));
	assert_null(strstr(text, "generation"));
	free(canon);
	free(text);

	cfg.generation = 1;
	assert_int_equal(vol_mac(kek, &cfg, mac1), 0);
	cfg.generation = 2;
	assert_int_equal(vol_mac(kek, &cfg, mac2), 0);
	assert_memory_not_equal(mac0, mac1, sizeof(mac0));
	assert_memory_not_equal(mac1, mac2, sizeof(mac1));
	/* A config of generation 2 does not verify as generation 1. */
	memcpy(cfg.mac, mac2, sizeof(mac2));
	assert_int_equal(vol_verify(kek, &cfg), 0);
	cfg.generation = 1;
	assert_int_equal(vol_verify(kek, &cfg), -EBADMSG);
	kek_free(kek);
}

static void test_slot_aad(void **state)
{
	struct fixture *f = *state;
	uint8_t a[VOL_SLOT_AAD_MAX], b[VOL_SLOT_AAD_MAX];
	struct vol_keyslot other = f->cfg.slots[0];
	size_t alen, blen;

	alen = vol_slot_aad(&f->cfg, &f->cfg.slots[0], a);
	assert_int_equal(alen, 15 + VOL_UUID_LEN + KEK_ID_LEN + 7);
	assert_memory_equal(a, "atrestfs kek v1", 15);
	assert_memory_equal(a + 15, f->cfg.uuid, VOL_UUID_LEN);
	assert_memory_equal(a + 15 + VOL_UUID_LEN, f->cfg.kek_id, KEK_ID_LEN);
	assert_memory_equal(a + 15 + VOL_UUID_LEN + KEK_ID_LEN, "keyfile", 7);

	strcpy(other.provider, "pkcs11");
	blen = vol_slot_aad(&f->cfg, &other, b);
	assert_int_equal(blen, alen - 1);
	assert_memory_not_equal(a + alen - 7, b + blen - 6, 6);

	/* Same length, one letter apart. */
	strcpy(other.provider, "keyfilf");
	blen = vol_slot_aad(&f->cfg, &other, b);
	assert_int_equal(blen, alen);
	assert_memory_not_equal(a, b, alen);

	/* A 64-character provider fills VOL_SLOT_AAD_MAX exactly. */
	memset(other.provider, 'p', VOL_NAME_MAX);
	other.provider[VOL_NAME_MAX] = '\0';
	assert_int_equal(vol_slot_aad(&f->cfg, &other, b), VOL_SLOT_AAD_MAX);
}

static void test_uuid(void **state)
{
	static const uint8_t known[VOL_UUID_LEN] = {
		0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
		0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
	};
	static const char *const bad[] = {
		"", "00112233-4455-6677-8899-aabbccddeef",
		"00112233-4455-6677-8899-aabbccddeeff0",
		"00112233-4455-6677-8899-AABBCCDDEEFF",
		"00112233x4455-6677-8899-aabbccddeeff",
		"0011223-34455-6677-8899-aabbccddeeff",
		"00112233-4455-6677-8899_aabbccddeeff",
		"0011223g-4455-6677-8899-aabbccddeeff",
		"00112233-4455-6677-8899-aabbccddeef ",
		"001122334455667788990aabbccddeeff012",
		"{0112233-4455-6677-8899-aabbccddeeff}",
	};
	uint8_t u[VOL_UUID_LEN], back[VOL_UUID_LEN];
	char s[VOL_UUID_STR_LEN + 1];
	size_t i;

	(void)state;
	vol_uuid_str(known, s);
	assert_string_equal(s, "00112233-4455-6677-8899-aabbccddeeff");
	assert_int_equal(vol_uuid_parse(s, back), 0);
	assert_memory_equal(back, known, VOL_UUID_LEN);
	for (i = 0; i < 64; i++) {
		assert_int_equal(rand_fill(u, sizeof(u)), 0);
		vol_uuid_str(u, s);
		assert_int_equal(strlen(s), VOL_UUID_STR_LEN);
		assert_int_equal(vol_uuid_parse(s, back), 0);
		assert_memory_equal(back, u, VOL_UUID_LEN);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (vol_uuid_parse(bad[i], back) != -EINVAL)
			fail_msg("accepted UUID '%s'", bad[i]);
}

static void test_name_valid(void **state)
{
	char name[VOL_NAME_MAX + 2];

	(void)state;
	assert_true(name_valid("keyfile"));
	assert_true(name_valid("a"));
	assert_true(name_valid("kms_aws-2"));
	assert_true(name_valid("AZaz09_-"));
	memset(name, 'n', VOL_NAME_MAX);
	name[VOL_NAME_MAX] = '\0';
	assert_true(name_valid(name));
	name[VOL_NAME_MAX] = 'n';
	name[VOL_NAME_MAX + 1] = '\0';
	assert_false(name_valid(name));
	assert_false(name_valid(""));
	assert_false(name_valid("a/b"));
	assert_false(name_valid("../x"));
	assert_false(name_valid("a.b"));
	assert_false(name_valid("a b"));
	assert_false(name_valid("a\n"));
	assert_false(name_valid("caf\xc3\xa9"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_slot_aad, setup, teardown),
		cmocka_unit_test(test_mac_known_answer),
		cmocka_unit_test(test_text_known_answer),
		cmocka_unit_test(test_generation_known_answer),
		cmocka_unit_test(test_uuid),
		cmocka_unit_test(test_name_valid),
	};

	return cmocka_run_group_tests_name("volume: atrestfs.conf serialisation, MAC, AAD",
					   tests, NULL, NULL);
}
