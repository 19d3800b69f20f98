// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/unit/test_passphrase.c - the passphrase provider: RFC 7914 scrypt
 * known answers, the cost policy, a wrap/unwrap round trip with the
 * parameters it records, wrong passphrase, and tampered parameters
 * refused before the passphrase is even asked for.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../crypto/codec.h"
#include "../../crypto/secmem.h"
#include "../../keyprov/keyprov_private.h"

/* RFC 7914 section 12. */
static void kat(const char *pass, const char *salt, uint64_t n, uint32_t r,
		uint32_t p, const char *hex)
{
	uint8_t want[64], got[64];

	assert_int_equal(hex_decode(hex, want, sizeof(want)), 0);
	assert_int_equal(keyprov_scrypt(pass, strlen(pass),
					(const uint8_t *)salt, strlen(salt),
					n, r, p, got, sizeof(got)), 0);
	assert_memory_equal(got, want, sizeof(want));
}

static void test_rfc7914(void **state)
{
	(void)state;
	kat("", "", 16, 1, 1,
	    "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
	    "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906");
	kat("password", "NaCl", 1024, 8, 16,
	    "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
	    "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640");
	kat("pleaseletmein", "SodiumChloride", 16384, 8, 1,
	    "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2"
	    "d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887");
}

static void test_policy(void **state)
{
	(void)state;
	assert_int_equal(keyprov_scrypt_check(PP_N_DEFAULT, 8, 1), 0);
	assert_int_equal(keyprov_scrypt_check(PP_N_MIN, 8, 1), 0);
	assert_int_equal(keyprov_scrypt_check(PP_N_MIN / 2, 8, 1), -EINVAL);
	assert_int_equal(keyprov_scrypt_check(PP_N_MIN + 1, 8, 1), -EINVAL);
	assert_int_equal(keyprov_scrypt_check(PP_N_MAX * 2, 8, 1), -EINVAL);
	assert_int_equal(keyprov_scrypt_check(PP_N_DEFAULT, 1, 1), -EINVAL);
	assert_int_equal(keyprov_scrypt_check(PP_N_DEFAULT, 8, 0), -EINVAL);
	assert_int_equal(keyprov_scrypt_check(PP_N_DEFAULT, 8, 17), -EINVAL);
	/* Each within bounds, together over 1 GiB. */
	assert_int_equal(keyprov_scrypt_check(PP_N_MAX, 32, 16), -EINVAL);
	assert_int_equal(keyprov_scrypt_check(0, 8, 1), -EINVAL);
}

/* A host whose "user" types @pass; counts how often it was asked. */
static const char *typed;
static int asked;

static int fake_ask(const struct keyprov_host *host, const char *prompt,
		    unsigned int flags, char *buf, size_t buflen, size_t *len)
{
	(void)host;
	(void)prompt;
	(void)flags;
	asked++;
	if (!typed)
		return -ENOANO;
	snprintf(buf, buflen, "%s", typed);
	*len = strlen(buf);
	return 0;
}

static struct keyprov *open_pp(struct keyprov_host *h, const char *n)
{
	struct keyprov_kvlist kv;
	char msg[KEYPROV_MSG_MAX] = "";
	struct keyprov *kp = NULL;

	*h = *keyprov_host_default();
	h->ask_secret = fake_ask;
	keyprov_kv_init(&kv);
	keyprov_kv_set(&kv, "volume", "00112233-4455-6677-8899-aabbccddeeff");
	if (n)
		keyprov_kv_set(&kv, "scrypt_n", n);
	assert_int_equal(keyprov_open_dir("/nonexistent", "passphrase", h,
					  &kv.kv, &kp, msg, sizeof(msg)), 0);
	return kp;
}

static void test_weak_setting(void **state)
{
	struct keyprov_kvlist kv;
	char msg[KEYPROV_MSG_MAX] = "";
	struct keyprov *kp = NULL;

	(void)state;
	keyprov_kv_init(&kv);
	keyprov_kv_set(&kv, "scrypt_n", "1024");
	assert_int_equal(keyprov_open_dir("/nonexistent", "passphrase", NULL,
					  &kv.kv, &kp, msg, sizeof(msg)),
			 -EINVAL);
	assert_null(kp);
	assert_non_null(strstr(msg, "scrypt N"));
}

static void set_param(struct keyprov_paramset *ps, const char *k,
		      const char *v)
{
	unsigned int i;

	for (i = 0; i < ps->n; i++)
		if (!strcmp(ps->key[i], k))
			snprintf(ps->val[i], sizeof(ps->val[i]), "%s", v);
}

static void test_round_trip(void **state)
{
	static const uint8_t aad[] = "atrestfs kek v1 ... passphrase";
	uint8_t wrapped[KEYPROV_WRAPPED_MAX], *key, *out;
	char msg[KEYPROV_MSG_MAX], n[16];
	struct keyprov_paramset wp, up;
	struct keyprov_req req = { .aad = aad, .aad_len = sizeof(aad),
		.msg = msg, .msglen = sizeof(msg) };
	struct keyprov_host h;
	struct keyprov *kp;
	size_t wlen;

	(void)state;
	snprintf(n, sizeof(n), "%u", PP_N_MIN);	/* fast, still allowed */
	kp = open_pp(&h, n);
	key = secmem_alloc(32);
	out = secmem_alloc(32);
	assert_true(key && out);
	memset(key, 0x42, 32);
	keyprov_params_init(&wp, 1);
	req.params = &wp.p;
	typed = "correct horse";
	assert_int_equal(keyprov_wrap(kp, &req, key, 32, wrapped, &wlen), 0);
	assert_string_equal(wp.p.get(&wp.p, "kdf"), "scrypt");
	assert_string_equal(wp.p.get(&wp.p, "n"), n);
	assert_string_equal(wp.p.get(&wp.p, "r"), "8");
	assert_string_equal(wp.p.get(&wp.p, "p"), "1");
	assert_int_equal(strlen(wp.p.get(&wp.p, "salt")), 2 * PP_SALT_LEN);

	up = wp;
	up.p.set = NULL;
	req.params = &up.p;
	assert_int_equal(keyprov_unwrap(kp, &req, wrapped, wlen, out, 32), 0);
	assert_memory_equal(out, key, 32);

	typed = "wrong horse";
	assert_int_equal(keyprov_unwrap(kp, &req, wrapped, wlen, out, 32),
			 -ENOANO);
	assert_non_null(strstr(msg, "wrong passphrase"));
	assert_memory_equal(out, (uint8_t[32]){ 0 }, 32);
	typed = NULL;
	assert_int_equal(keyprov_unwrap(kp, &req, wrapped, wlen, out, 32),
			 -ENOANO);

	/* Tampered parameters: refused before anyone is asked. */
	typed = "correct horse";
	asked = 0;
	set_param(&up, "n", "1024");
	assert_int_equal(keyprov_unwrap(kp, &req, wrapped, wlen, out, 32),
			 -EINVAL);
	set_param(&up, "n", "1073741824");
	assert_int_equal(keyprov_unwrap(kp, &req, wrapped, wlen, out, 32),
			 -EINVAL);
	set_param(&up, "n", n);
	set_param(&up, "r", "1");
	assert_int_equal(keyprov_unwrap(kp, &req, wrapped, wlen, out, 32),
			 -EINVAL);
	set_param(&up, "r", "8");
	set_param(&up, "kdf", "pbkdf2");
	assert_int_equal(keyprov_unwrap(kp, &req, wrapped, wlen, out, 32),
			 -EINVAL);
	set_param(&up, "kdf", "scrypt");
	set_param(&up, "salt", "00");
	assert_int_equal(keyprov_unwrap(kp, &req, wrapped, wlen, out, 32),
			 -EINVAL);
	assert_non_null(strstr(msg, "unsafe scrypt parameters"));
	assert_int_equal(asked, 0);
	keyprov_close(kp);
	secmem_free(out, 32);
	secmem_free(key, 32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7914),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_weak_setting),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests_name("keyprov: passphrase provider",
					   tests, NULL, NULL);
}
