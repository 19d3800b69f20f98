// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/unit/test_codec.c - crypto/codec.c: decimal, hex and base64.
 *
 * The decoders read untrusted text (atrestfs.conf, backing symlinks, key
 * helper replies, the command line), so besides round trips and the RFC
 * 4648 vectors, every kind of malformed input must be refused.
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

/* ---- decimal ---- */

static void test_dec_table(void **state)
{
	static const struct {
		const char *in;
		uint64_t min, max;
		int err;
		uint64_t want;
	} v[] = {
		{ "0", 0, UINT64_MAX, 0, 0 },
		{ "1", 0, UINT64_MAX, 0, 1 },
		{ "007", 0, UINT64_MAX, 0, 7 },		/* as strtoull */
		{ "4096", 0, UINT64_MAX, 0, 4096 },
		{ "18446744073709551615", 0, UINT64_MAX, 0, UINT64_MAX },
		{ "000018446744073709551615", 0, UINT64_MAX, 0, UINT64_MAX },
		/* Overflow of 64 bits, by one and by far. */
		{ "18446744073709551616", 0, UINT64_MAX, -ERANGE, 0 },
		{ "18446744073709551620", 0, UINT64_MAX, -ERANGE, 0 },
		{ "99999999999999999999999", 0, UINT64_MAX, -ERANGE, 0 },
		/* The bounds are inclusive. */
		{ "4294967295", 0, UINT32_MAX, 0, UINT32_MAX },
		{ "4294967296", 0, UINT32_MAX, -ERANGE, 0 },
		{ "600", 1, 600, 0, 600 },
		{ "601", 1, 600, -ERANGE, 0 },
		{ "1", 1, 600, 0, 1 },
		{ "0", 1, 600, -ERANGE, 0 },
		{ "0", 0, 0, 0, 0 },
		{ "1", 0, 0, -ERANGE, 0 },
		{ "10", 0, 9, -ERANGE, 0 },
		/* Signs, space, prefixes and junk, wherever they are. */
		{ "", 0, UINT64_MAX, -EINVAL, 0 },
		{ "+1", 0, UINT64_MAX, -EINVAL, 0 },
		{ "-1", 0, UINT64_MAX, -EINVAL, 0 },
		{ "-0", 0, UINT64_MAX, -EINVAL, 0 },
		{ " 1", 0, UINT64_MAX, -EINVAL, 0 },
		{ "1 ", 0, UINT64_MAX, -EINVAL, 0 },
		{ "\t1", 0, UINT64_MAX, -EINVAL, 0 },
		{ "1\n", 0, UINT64_MAX, -EINVAL, 0 },
		{ " ", 0, UINT64_MAX, -EINVAL, 0 },
		{ "0x10", 0, UINT64_MAX, -EINVAL, 0 },
		{ "1e3", 0, UINT64_MAX, -EINVAL, 0 },
		{ "1.0", 0, UINT64_MAX, -EINVAL, 0 },
		{ "1,000", 0, UINT64_MAX, -EINVAL, 0 },
		{ "12a", 0, UINT64_MAX, -EINVAL, 0 },
		{ "\xd9\xa1", 0, UINT64_MAX, -EINVAL, 0 },	/* Arabic-Indic 1 */
		/* Junk after too many digits is junk, not overflow. */
		{ "99999999999999999999999x", 0, UINT64_MAX, -EINVAL, 0 },
	};
	uint64_t out;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		out = 12345;
		assert_int_equal(dec_parse_u64(v[i].in, v[i].min, v[i].max,
					       &out), v[i].err);
		/* Written on success only. */
		assert_true(out == (v[i].err ? 12345 : v[i].want));
	}
}

static void test_dec_null(void **state)
{
	uint64_t out = 7;

	(void)state;
	/* A missing setting reads as malformed: callers pass get() results. */
	assert_int_equal(dec_parse_u64(NULL, 0, UINT64_MAX, &out), -EINVAL);
	assert_int_equal(out, 7);
}

/* ---- strings atrestfs.conf holds verbatim ---- */

static void test_str_valid(void **state)
{
	char s[258];

	(void)state;
	assert_true(str_valid("", 0));
	assert_true(str_valid("kms:arn/key-1 v=2 ~!#$%", 64));
	assert_true(str_valid(" ", 1));
	assert_false(str_valid("ab", 1));
	memset(s, 'x', 256);
	s[256] = '\0';
	assert_true(str_valid(s, 256));
	s[256] = 'x', s[257] = '\0';
	assert_false(str_valid(s, 256));
	/* What libconfig would escape, controls, DEL and non-ASCII. */
	assert_false(str_valid("a\"b", 64));
	assert_false(str_valid("a\\b", 64));
	assert_false(str_valid("a\nb", 64));
	assert_false(str_valid("a\tb", 64));
	assert_false(str_valid("a\x7f", 64));
	assert_false(str_valid("caf\xc3\xa9", 64));
}

/* ---- hex ---- */

static void test_hex_known(void **state)
{
	static const uint8_t in[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
	uint8_t out[sizeof(in)];
	char hex[2 * sizeof(in) + 1];

	(void)state;
	memset(hex, 'x', sizeof(hex));
	hex_encode(in, sizeof(in), hex);
	assert_string_equal(hex, "00017f80abff");
	assert_int_equal(hex_decode("00017f80abff", out, sizeof(out)), 0);
	assert_memory_equal(out, in, sizeof(in));
	/* Zero bytes: the empty string, and nothing else. */
	hex_encode(in, 0, hex);
	assert_string_equal(hex, "");
	assert_int_equal(hex_decode("", out, 0), 0);
}

static void test_hex_round_trip(void **state)
{
	uint8_t in[256], out[256];
	char hex[2 * sizeof(in) + 1];
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)i;
	for (len = 0; len <= sizeof(in); len++) {
		hex_encode(in, len, hex);
		assert_int_equal(strlen(hex), 2 * len);
		memset(out, 0, sizeof(out));
		assert_int_equal(hex_decode(hex, out, len), 0);
		assert_memory_equal(out, in, len);
	}
}

static void test_hex_rejects(void **state)
{
	uint8_t out[4];

	(void)state;
	/* Odd length, and lengths that do not match @len. */
	assert_int_equal(hex_decode("abc", out, 1), -EINVAL);
	assert_int_equal(hex_decode("abc", out, 2), -EINVAL);
	assert_int_equal(hex_decode("a", out, 0), -EINVAL);
	assert_int_equal(hex_decode("abcd", out, 1), -EINVAL);
	assert_int_equal(hex_decode("ab", out, 2), -EINVAL);
	assert_int_equal(hex_decode("", out, 1), -EINVAL);
	/* Upper case is not what hex_encode() writes. */
	assert_int_equal(hex_decode("AB", out, 1), -EINVAL);
	assert_int_equal(hex_decode("aB", out, 1), -EINVAL);
	assert_int_equal(hex_decode("0F", out, 1), -EINVAL);
	/* Not hex at all, in either nibble. */
	assert_int_equal(hex_decode("0g", out, 1), -EINVAL);
	assert_int_equal(hex_decode("g0", out, 1), -EINVAL);
	assert_int_equal(hex_decode(" 0", out, 1), -EINVAL);
	assert_int_equal(hex_decode("0x", out, 1), -EINVAL);
	assert_int_equal(hex_decode("00-1", out, 2), -EINVAL);
	assert_int_equal(hex_decode("0:", out, 1), -EINVAL);
	assert_int_equal(hex_decode("`a", out, 1), -EINVAL);
	/* Bad digit at the very end, after good ones. */
	assert_int_equal(hex_decode("0011223z", out, 4), -EINVAL);
}

/* ---- base64 ---- */

/* RFC 4648 section 10. */
static void test_b64_rfc4648(void **state)
{
	static const struct {
		const char *plain, *enc;
	} v[] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
		{ "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	uint8_t out[8 + 2];
	char enc[9];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		n = strlen(v[i].plain);
		assert_int_equal(b64_enc_len(n), strlen(v[i].enc));
		b64_encode((const uint8_t *)v[i].plain, n, enc);
		assert_string_equal(enc, v[i].enc);
		assert_int_equal(b64_dec_len(v[i].enc, strlen(v[i].enc)), n);
		assert_int_equal(b64_decode(v[i].enc, strlen(v[i].enc), out),
				 n);
		assert_memory_equal(out, v[i].plain, n);
	}
}

static void test_b64_round_trip(void **state)
{
	uint8_t in[70], out[70 + 2];
	char enc[4 * 24 + 1];
	size_t len, i;

	(void)state;
	for (len = 0; len <= sizeof(in); len++) {
		assert_int_equal(rand_fill(in, sizeof(in)), 0);
		/* Cover the extreme byte values too. */
		if (len)
			in[0] = 0xff, in[len - 1] = 0;
		b64_encode(in, len, enc);
		assert_int_equal(strlen(enc), b64_enc_len(len));
		assert_int_equal(strlen(enc) % 4, 0);
		for (i = 0; i < strlen(enc); i++)
			assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					       "abcdefghijklmnopqrstuvwxyz"
					       "0123456789+/=", enc[i]));
		assert_int_equal(b64_dec_len(enc, strlen(enc)), len);
		memset(out, 0, sizeof(out));
		assert_int_equal(b64_decode(enc, strlen(enc), out), len);
		assert_memory_equal(out, in, len);
	}
}

static void test_b64_dec_len(void **state)
{
	(void)state;
	/* 0, 1 and 2 padding characters. */
	assert_int_equal(b64_dec_len("", 0), 0);
	assert_int_equal(b64_dec_len("QUJD", 4), 3);
	assert_int_equal(b64_dec_len("QUI=", 4), 2);
	assert_int_equal(b64_dec_len("QQ==", 4), 1);
	assert_int_equal(b64_dec_len("QUJDREVG", 8), 6);
	assert_int_equal(b64_dec_len("QUJDREU=", 8), 5);
	assert_int_equal(b64_dec_len("QUJDRA==", 8), 4);
	/* Only @n characters count: a longer buffer is cut, not read on. */
	assert_int_equal(b64_dec_len("QUJDREVG", 4), 3);

	/* Not a multiple of four. */
	assert_int_equal(b64_dec_len("Q", 1), -EINVAL);
	assert_int_equal(b64_dec_len("QU", 2), -EINVAL);
	assert_int_equal(b64_dec_len("QUJ", 3), -EINVAL);
	assert_int_equal(b64_dec_len("QUJDR", 5), -EINVAL);
	assert_int_equal(b64_dec_len("QUJDREVGx", 9), -EINVAL);

	/* Characters outside the standard alphabet. */
	assert_int_equal(b64_dec_len("QU*D", 4), -EINVAL);
	assert_int_equal(b64_dec_len("QU D", 4), -EINVAL);
	assert_int_equal(b64_dec_len("QU\nD", 4), -EINVAL);
	assert_int_equal(b64_dec_len("QU-D", 4), -EINVAL);	/* base64url */
	assert_int_equal(b64_dec_len("QU_D", 4), -EINVAL);
	assert_int_equal(b64_dec_len("QU\0D", 4), -EINVAL);
	assert_int_equal(b64_dec_len("QU\xc3\xa9", 4), -EINVAL);

	/* Padding anywhere but the last one or two places. */
	assert_int_equal(b64_dec_len("Q=JD", 4), -EINVAL);
	assert_int_equal(b64_dec_len("=UJD", 4), -EINVAL);
	assert_int_equal(b64_dec_len("QU=D", 4), -EINVAL);
	assert_int_equal(b64_dec_len("Q===", 4), -EINVAL);
	assert_int_equal(b64_dec_len("====", 4), -EINVAL);
	assert_int_equal(b64_dec_len("QQ==QUJD", 8), -EINVAL);
}

static void test_b64_decode_rejects(void **state)
{
	uint8_t out[8];

	(void)state;
	assert_int_equal(b64_decode("QU*D", 4, out), -EINVAL);
	assert_int_equal(b64_decode("QUJ", 3, out), -EINVAL);
	assert_int_equal(b64_decode("Q===", 4, out), -EINVAL);
	assert_int_equal(b64_decode("QQ==QUJD", 8, out), -EINVAL);
}

/*
 * codec.h promises decoders accept only what the encoders produce.  In
 * "Zh==" the last character carries bits that padding discards; the
 * canonical spelling of the same byte is "Zg==".  Accepting both would let
 * a backing symlink target change without the MAC noticing.
 */
static void test_b64_rejects_noncanonical(void **state)
{
	uint8_t out[4];

	(void)state;
	assert_int_equal(b64_decode("Zg==", 4, out), 1);
	assert_int_equal(b64_decode("Zh==", 4, out), -EINVAL);
	assert_int_equal(b64_decode("Zm8=", 4, out), 2);
	assert_int_equal(b64_decode("Zm9=", 4, out), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dec_table),
		cmocka_unit_test(test_dec_null),
		cmocka_unit_test(test_str_valid),
		cmocka_unit_test(test_hex_known),
		cmocka_unit_test(test_hex_round_trip),
		cmocka_unit_test(test_hex_rejects),
		cmocka_unit_test(test_b64_rfc4648),
		cmocka_unit_test(test_b64_round_trip),
		cmocka_unit_test(test_b64_dec_len),
		cmocka_unit_test(test_b64_decode_rejects),
		cmocka_unit_test(test_b64_rejects_noncanonical),
	};

	return cmocka_run_group_tests_name("codec: decimal, hex and base64", tests,
					   NULL, NULL);
}
