// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/unit/test_names.c - crypto/names.c and the primitives under it:
 * AES-SIV against RFC 5297, unpadded base64url against RFC 4648, and
 * encrypted names: every length and byte value round trips, and a
 * changed, moved or truncated name is refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "../../crypto/aead.h"
#include "../../crypto/codec.h"
#include "../../crypto/names.h"

static const uint8_t key[NAMES_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
static const uint8_t dir_a[NAMES_DIRID_LEN] = { 0xa };
static const uint8_t dir_b[NAMES_DIRID_LEN] = { 0xb };
/* One context for every test, as a daemon thread keeps one (fs/tls.c). */
static struct aead_ctx *ac;

/* RFC 5297 A.1: deterministic AES-SIV (AES-128 halves), one AAD. */
static void test_siv_rfc5297_a1(void **state)
{
	static const uint8_t k[32] = {
		0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa, 0xf9, 0xf8,
		0xf7, 0xf6, 0xf5, 0xf4, 0xf3, 0xf2, 0xf1, 0xf0,
		0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7,
		0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff };
	static const uint8_t ad[24] = {
		0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
		0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
		0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27 };
	static const uint8_t pt[14] = {
		0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
		0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee };
	static const uint8_t want[30] = {
		0x85, 0x63, 0x2d, 0x07, 0xc6, 0xe8, 0xf3, 0x7f,
		0x95, 0x0a, 0xcd, 0x32, 0x0a, 0x2e, 0xcc, 0x93,
		0x40, 0xc0, 0x2b, 0x96, 0x90, 0xc4, 0xdc, 0x04,
		0xda, 0xef, 0x7f, 0x6a, 0xfe, 0x5c };
	uint8_t out[30], back[14];

	(void)state;
	assert_int_equal(aead_siv_seal(k, sizeof(k), ad, sizeof(ad), pt,
				       sizeof(pt), out), 0);
	assert_memory_equal(out, want, sizeof(want));
	assert_int_equal(aead_siv_open(k, sizeof(k), ad, sizeof(ad), out,
				       sizeof(out), back), 0);
	assert_memory_equal(back, pt, sizeof(pt));
	out[20] ^= 1;
	assert_int_equal(aead_siv_open(k, sizeof(k), ad, sizeof(ad), out,
				       sizeof(out), back), -EBADMSG);
	out[20] ^= 1;
	assert_int_equal(aead_siv_open(k, sizeof(k), ad, sizeof(ad) - 1, out,
				       sizeof(out), back), -EBADMSG);
	assert_int_equal(aead_siv_seal(k, 31, ad, sizeof(ad), pt, sizeof(pt),
				       out), -EINVAL);
	/* Through a context, keyed once, then again after another key. */
	for (int i = 0; i < 3; i++) {
		memset(out, 0, sizeof(out));
		assert_int_equal(aead_siv_seal_ctx(ac, k, sizeof(k), ad,
						   sizeof(ad), pt, sizeof(pt),
						   out), 0);
		assert_memory_equal(out, want, sizeof(want));
		assert_int_equal(aead_siv_open_ctx(ac, k, sizeof(k), ad,
						   sizeof(ad), out, sizeof(out),
						   back), 0);
		assert_memory_equal(back, pt, sizeof(pt));
		out[3] ^= 0x80;		/* the synthetic IV */
		assert_int_equal(aead_siv_open_ctx(ac, k, sizeof(k), ad,
						   sizeof(ad), out, sizeof(out),
						   back), -EBADMSG);
		assert_int_equal(aead_siv_seal_ctx(ac, key, sizeof(key), ad,
						   sizeof(ad), pt, sizeof(pt),
						   out), 0);
	}
}

/* OpenSSL's own AES-SIV, one AAD: the reference for aead_siv_*. */
static void openssl_siv(const uint8_t *k, size_t klen, const uint8_t *ad,
			size_t adlen, const uint8_t *pt, size_t len,
			uint8_t *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	EVP_CIPHER *siv = EVP_CIPHER_fetch(NULL, klen == 64 ? "AES-256-SIV" :
					   "AES-128-SIV", NULL);
	int n;

	assert_non_null(c);
	assert_non_null(siv);
	assert_int_equal(EVP_EncryptInit_ex2(c, siv, k, NULL, NULL), 1);
	assert_int_equal(EVP_EncryptUpdate(c, NULL, &n, ad, (int)adlen), 1);
	assert_int_equal(EVP_EncryptUpdate(c, out + 16, &n, pt, (int)len), 1);
	assert_int_equal(EVP_EncryptFinal_ex(c, out + 16 + n, &n), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16,
					     out), 1);
	EVP_CIPHER_CTX_free(c);
	EVP_CIPHER_free(siv);
}

/*
 * Every plaintext length 1..300 (under, at and over one block, which S2V
 * treats apart; OpenSSL's EVP refuses an empty one) and AAD lengths about
 * a block, with both key sizes and
 * keys that change between calls: equal to OpenSSL's AES-SIV, through a
 * kept context and without one, and opened back.
 */
static void test_siv_matches_openssl(void **state)
{
	static const size_t adlens[] = { 0, 1, 15, 16, 17, 32, 40 };
	uint8_t k[3][64], ad[40], pt[300], want[316], got[316], back[300];
	size_t len, a, klen;
	int i;

	(void)state;
	for (i = 0; i < 3; i++)
		for (a = 0; a < 64; a++)
			k[i][a] = (uint8_t)(i * 64 + a * 7);
	for (a = 0; a < sizeof(ad); a++)
		ad[a] = (uint8_t)(a * 13);
	for (len = 0; len < sizeof(pt); len++)
		pt[len] = (uint8_t)(len * 31 + 1);
	for (len = 1; len <= sizeof(pt); len++) {
		for (a = 0; a < sizeof(adlens) / sizeof(adlens[0]); a++) {
			i = (int)((len + a) % 3);
			klen = i == 2 ? 32 : 64;
			openssl_siv(k[i], klen, ad, adlens[a], pt, len, want);
			assert_int_equal(aead_siv_seal_ctx(ac, k[i], klen, ad,
							   adlens[a], pt, len,
							   got), 0);
			assert_memory_equal(got, want, len + 16);
			assert_int_equal(aead_siv_seal(k[i], klen, ad,
						       adlens[a], pt, len,
						       got), 0);
			assert_memory_equal(got, want, len + 16);
			assert_int_equal(aead_siv_open_ctx(ac, k[i], klen, ad,
							   adlens[a], want,
							   len + 16, back), 0);
			assert_memory_equal(back, pt, len);
			/* Again, from the AAD's kept S2V state. */
			assert_int_equal(aead_siv_seal_ctx(ac, k[i], klen, ad,
							   adlens[a], pt, len,
							   got), 0);
			assert_memory_equal(got, want, len + 16);
			want[len + 15] ^= 1;
			assert_int_equal(aead_siv_open_ctx(ac, k[i], klen, ad,
							   adlens[a], want,
							   len + 16, back),
					 -EBADMSG);
		}
	}
}

/* RFC 4648 section 10 vectors, unpadded, and what strictness refuses. */
static void test_b64url(void **state)
{
	static const char *const v[][2] = {
		{ "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" },
		{ "foobar", "Zm9vYmFy" } };
	static const char *const bad[] = { "Z", "Zh", "Zm9", "Zm8=", "Zm+v",
		"Zm/v", "Zm9v.", "Zm 9v", "Zm9vY" };
	static const uint8_t hi[3] = { 0xfb, 0xff, 0xbf };
	char enc[16];
	uint8_t out[16];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		b64url_encode((const uint8_t *)v[i][0], strlen(v[i][0]), enc);
		assert_string_equal(enc, v[i][1]);
		assert_int_equal(b64url_enc_len(strlen(v[i][0])),
				 strlen(v[i][1]));
		assert_int_equal(b64url_decode(enc, strlen(enc), out,
					       sizeof(out)),
				 strlen(v[i][0]));
		assert_memory_equal(out, v[i][0], strlen(v[i][0]));
	}
	b64url_encode(hi, 3, enc);
	assert_string_equal(enc, "-_-_");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(b64url_decode(bad[i], strlen(bad[i]), out,
					       sizeof(out)), -EINVAL);
	/* More bytes than the caller has room for. */
	assert_int_equal(b64url_decode("Zm9vYmFy", 8, out, 5), -EINVAL);
}

/* A name of @len bytes cycling through every byte value but NUL and '/'. */
static void make_name(char *name, size_t len, unsigned int start)
{
	size_t i;
	unsigned int c = start;

	for (i = 0; i < len; i++) {
		do
			c = c % 255 + 1;
		while (c == '/');
		name[i] = (char)c;
	}
	name[len] = '\0';
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		name[0] = 'x';
}

static int open_backing(const struct names_enc *e, const uint8_t *dirid,
			char *out)
{
	if (e->is_long && names_long_check(e->backing, e->full,
					   strlen(e->full)))
		return -EBADMSG;
	return names_decrypt(ac, key, dirid, e->full, strlen(e->full), out);
}

static void test_round_trip_every_length(void **state)
{
	char name[NAMES_PLAIN_MAX + 1], back[NAMES_PLAIN_MAX + 1];
	struct names_enc e, e2;
	size_t len;
	unsigned int start;

	(void)state;
	for (len = 1; len <= NAMES_PLAIN_MAX; len++) {
		for (start = 0; start < 255; start += 51) {
			make_name(name, len, start + (unsigned int)len);
			assert_int_equal(names_encrypt(ac, key, dir_a, name, &e), 0);
			assert_true(strlen(e.backing) <= NAMES_BACKING_MAX);
			assert_null(strchr(e.backing, '/'));
			assert_null(strchr(e.full, '.'));
			assert_int_equal(e.is_long, names_is_long(e.backing));
			assert_false(names_is_sidecar(e.backing));
			assert_int_equal(open_backing(&e, dir_a, back), 0);
			assert_string_equal(back, name);
			/* Deterministic in one directory, not across two. */
			assert_int_equal(names_encrypt(ac, key, dir_a, name, &e2), 0);
			assert_string_equal(e2.backing, e.backing);
			assert_int_equal(names_encrypt(ac, key, dir_b, name, &e2), 0);
			assert_string_not_equal(e2.full, e.full);
		}
	}
	/* Short up to 160 bytes (235 characters), hashed from 161. */
	memset(name, 'a', 161);
	name[160] = '\0';
	assert_int_equal(names_encrypt(ac, key, dir_a, name, &e), 0);
	assert_false(e.is_long);
	name[160] = 'a';
	name[161] = '\0';
	assert_int_equal(names_encrypt(ac, key, dir_a, name, &e), 0);
	assert_true(e.is_long);
}

static void test_refused_names(void **state)
{
	char name[NAMES_PLAIN_MAX + 2];
	struct names_enc e;

	(void)state;
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(names_encrypt(ac, key, dir_a, name, &e), -ENAMETOOLONG);
	assert_int_equal(names_encrypt(ac, key, dir_a, "", &e), -EINVAL);
	assert_int_equal(names_encrypt(ac, key, dir_a, ".", &e), -EINVAL);
	assert_int_equal(names_encrypt(ac, key, dir_a, "..", &e), -EINVAL);
	assert_int_equal(names_encrypt(ac, key, dir_a, "a/b", &e), -EINVAL);
}

/* Every character of a short name and of a long record, changed. */
static void test_changed_byte(void **state)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char name[NAMES_PLAIN_MAX + 1], back[NAMES_PLAIN_MAX + 1];
	struct names_enc e;
	size_t len, i, n;

	(void)state;
	for (len = 5; len <= NAMES_PLAIN_MAX; len += 250) {
		make_name(name, len, 7);
		assert_int_equal(names_encrypt(ac, key, dir_a, name, &e), 0);
		n = strlen(e.full);
		for (i = 0; i < n; i++) {
			char saved = e.full[i];

			e.full[i] = alphabet[(strchr(alphabet, saved) -
					      alphabet + 1) % 64];
			assert_int_equal(names_decrypt(ac, key, dir_a, e.full, n,
						       back), -EBADMSG);
			if (e.is_long)
				assert_int_equal(names_long_check(e.backing,
						 e.full, n), -EBADMSG);
			e.full[i] = saved;
		}
		/* Another key refuses it too. */
		{
			uint8_t k2[NAMES_KEY_LEN] = { 2 };

			assert_int_equal(names_decrypt(ac, k2, dir_a, e.full, n,
						       back), -EBADMSG);
		}
	}
	/* Planted garbage: not base64url, too short, not padded. */
	assert_int_equal(names_decrypt(ac, key, dir_a, "hello.txt", 9, back),
			 -EBADMSG);
	assert_int_equal(names_decrypt(ac, key, dir_a, "AAAA", 4, back), -EBADMSG);
	memset(back, 'A', 50);
	assert_int_equal(names_decrypt(ac, key, dir_a, back, 50, back), -EBADMSG);
}

/* A backing name moved into another directory does not decrypt there. */
static void test_moved_name(void **state)
{
	char back[NAMES_PLAIN_MAX + 1], name[NAMES_PLAIN_MAX + 1];
	struct names_enc e;

	(void)state;
	assert_int_equal(names_encrypt(ac, key, dir_a, "payroll-2026-11.log", &e),
			 0);
	assert_int_equal(names_decrypt(ac, key, dir_b, e.full, strlen(e.full),
				       back), -EBADMSG);
	make_name(name, 200, 3);
	assert_int_equal(names_encrypt(ac, key, dir_a, name, &e), 0);
	assert_true(e.is_long);
	assert_int_equal(names_long_check(e.backing, e.full, strlen(e.full)),
			 0);
	assert_int_equal(names_decrypt(ac, key, dir_b, e.full, strlen(e.full),
				       back), -EBADMSG);
}

/* A long name's record cut short, or the record of another long name. */
static void test_truncated_long_record(void **state)
{
	char name[NAMES_PLAIN_MAX + 1], back[NAMES_PLAIN_MAX + 1];
	char side[NAMES_BACKING_MAX + 1];
	struct names_enc e, other;
	size_t n, cut;

	(void)state;
	make_name(name, NAMES_PLAIN_MAX, 1);
	assert_int_equal(names_encrypt(ac, key, dir_a, name, &e), 0);
	assert_true(e.is_long);
	n = strlen(e.full);
	for (cut = 0; cut < n; cut++)
		assert_int_equal(names_long_check(e.backing, e.full, cut),
				 -EBADMSG);
	/* Truncated in whole 16-byte blocks, it fails SIV as well. */
	assert_int_equal(names_decrypt(ac, key, dir_a, e.full, n - 64, back),
			 -EBADMSG);
	make_name(name, 180, 9);
	assert_int_equal(names_encrypt(ac, key, dir_a, name, &other), 0);
	assert_int_equal(names_long_check(e.backing, other.full,
					  strlen(other.full)), -EBADMSG);
	names_sidecar(e.backing, side);
	assert_true(names_is_sidecar(side));
	assert_false(names_is_long(side));
	assert_int_equal(names_long_check(side, e.full, n), -EBADMSG);
}

/* Lengths leak only to 16 bytes. */
static void test_padding(void **state)
{
	struct names_enc a, b;

	(void)state;
	assert_int_equal(names_encrypt(ac, key, dir_a, "a", &a), 0);
	assert_int_equal(names_encrypt(ac, key, dir_a, "abcdefghijklmnop", &b), 0);
	assert_int_equal(strlen(a.backing), strlen(b.backing));
	assert_int_equal(names_encrypt(ac, key, dir_a, "abcdefghijklmnopq", &b), 0);
	assert_true(strlen(a.backing) < strlen(b.backing));
}

static void test_key_wrap(void **state)
{
	static const uint8_t uuid[VOL_UUID_LEN] = { 5 }, uuid2[VOL_UUID_LEN];
	struct kek *kek;
	uint8_t w[NAMES_WRAPPED_LEN], back[NAMES_KEY_LEN];

	(void)state;
	assert_int_equal(kek_generate(uuid, &kek), 0);
	assert_int_equal(names_key_wrap(kek, uuid, key, w), 0);
	assert_int_equal(names_key_unwrap(kek, uuid, w, back), 0);
	assert_memory_equal(back, key, sizeof(key));
	assert_int_equal(names_key_unwrap(kek, uuid2, w, back), -EBADMSG);
	w[20] ^= 1;
	assert_int_equal(names_key_unwrap(kek, uuid, w, back), -EBADMSG);
	kek_free(kek);
}

/* Xattr names: one fixed-length backing name per name, keyed. */
static void test_xattr_names(void **state)
{
	uint8_t xkey[NAMES_XKEY_LEN], xkey2[NAMES_XKEY_LEN];
	char a[NAMES_XATTR_LEN + 1], b[NAMES_XATTR_LEN + 1], name[251];

	(void)state;
	assert_int_equal(names_xattr_key(key, xkey), 0);
	memcpy(xkey2, xkey, sizeof(xkey2));
	xkey2[0] ^= 1;
	assert_int_equal(names_xattr_name(xkey, "colour", a), 0);
	assert_int_equal(strlen(a), NAMES_XATTR_LEN);
	assert_true(NAMES_XATTR_LEN <= 255);
	assert_int_equal(strncmp(a, NAMES_XATTR_PREFIX,
				 strlen(NAMES_XATTR_PREFIX)), 0);
	assert_int_equal(names_xattr_name(xkey, "colour", b), 0);
	assert_string_equal(a, b);
	assert_int_equal(names_xattr_name(xkey, "colous", b), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(names_xattr_name(xkey2, "colour", b), 0);
	assert_string_not_equal(a, b);
	memset(name, 'x', 250);
	name[250] = '\0';
	assert_int_equal(names_xattr_name(xkey, name, b), 0);
	assert_int_equal(strlen(b), NAMES_XATTR_LEN);
	assert_null(strstr(b, "colour"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siv_rfc5297_a1),
		cmocka_unit_test(test_siv_matches_openssl),
		cmocka_unit_test(test_b64url),
		cmocka_unit_test(test_round_trip_every_length),
		cmocka_unit_test(test_refused_names),
		cmocka_unit_test(test_changed_byte),
		cmocka_unit_test(test_moved_name),
		cmocka_unit_test(test_truncated_long_record),
		cmocka_unit_test(test_padding),
		cmocka_unit_test(test_key_wrap),
		cmocka_unit_test(test_xattr_names),
	};

	int failed;

	ac = aead_ctx_new();
	if (!ac)
		return 1;
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	aead_ctx_free(ac);
	return failed;
}
