// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/unit/test_aead.c - crypto/aead.c against published known answers.
 *
 * AES-256-GCM: McGrew-Viega "The Galois/Counter Mode of Operation", test
 * cases 13-16 (the 256-bit-key cases, also in NIST's GCM spec).  HKDF:
 * RFC 5869 A.1-A.3.  HMAC-SHA256: RFC 4231 4.2-4.5 with the key zero-padded
 * to 32 bytes, plus OpenSSL's one-shot HMAC() as an independent reference.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "unit.h"
#include "../../crypto/aead.h"

/* Hex to bytes, parsed here rather than by codec.c, which has its own test. */
static size_t unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = strlen(s) / 2, i;
	unsigned int v;

	assert_true(strlen(s) % 2 == 0);
	assert_true(n <= max);
	for (i = 0; i < n; i++) {
		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

/* ---- AES-256-GCM ---- */

struct gcm_vec {
	const char *name, *key, *iv, *pt, *aad, *ct, *tag;
};

#define GCM_K2	"feffe9928665731c6d6a8f9467308308" \
		"feffe9928665731c6d6a8f9467308308"
#define GCM_P2	"d9313225f88406e5a55909c5aff5269a" \
		"86a7a9531534f7da2e4c303d8a318a72" \
		"1c3c0c95956809532fcf0e2449a6b525" \
		"b16aedf5aa0de657ba637b391aafd255"
#define GCM_C2	"522dc1f099567d07f47f37a32a84427d" \
		"643a8cdcbfe5c0c97598a2bd2555d1aa" \
		"8cb08e48590dbb3da7b08b1056828838" \
		"c5f61e6393ba7a0abcc9f662898015ad"

static const struct gcm_vec gcm_vecs[] = {
	{ "TC13", "0000000000000000000000000000000000000000000000000000000000000000",
	  "000000000000000000000000", "", "", "",
	  "530f8afbc74536b9a963b4f1c4cb738b" },
	{ "TC14", "0000000000000000000000000000000000000000000000000000000000000000",
	  "000000000000000000000000", "00000000000000000000000000000000", "",
	  "cea7403d4d606b6e074ec5d3baf39d18",
	  "d0d1c8a799996bf0265b98b5d48ab919" },
	{ "TC15", GCM_K2, "cafebabefacedbaddecaf888", GCM_P2, "", GCM_C2,
	  "b094dac5d93471bdec1a502270e3cc6c" },
	/* TC16: the first 60 bytes of TC15's text, with AAD. */
	{ "TC16", GCM_K2, "cafebabefacedbaddecaf888",
	  "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	  "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
	  "feedfacedeadbeeffeedfacedeadbeefabaddad2",
	  "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	  "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
	  "76fc6ece0f4e1768cddf8853bb2d551b" },
};

struct gcm_bufs {
	uint8_t key[AEAD_KEY_LEN], iv[AEAD_NONCE_LEN], tag[AEAD_TAG_LEN];
	uint8_t pt[64], aad[64], ct[64];
	size_t pt_len, aad_len;
};

static void gcm_load(const struct gcm_vec *v, struct gcm_bufs *b)
{
	assert_int_equal(unhex(v->key, b->key, sizeof(b->key)), AEAD_KEY_LEN);
	assert_int_equal(unhex(v->iv, b->iv, sizeof(b->iv)), AEAD_NONCE_LEN);
	assert_int_equal(unhex(v->tag, b->tag, sizeof(b->tag)), AEAD_TAG_LEN);
	b->pt_len = unhex(v->pt, b->pt, sizeof(b->pt));
	b->aad_len = unhex(v->aad, b->aad, sizeof(b->aad));
	assert_int_equal(unhex(v->ct, b->ct, sizeof(b->ct)), b->pt_len);
}

static void test_gcm_known_answers(void **state)
{
	uint8_t out[64], tag[AEAD_TAG_LEN];
	struct gcm_bufs b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(gcm_vecs) / sizeof(gcm_vecs[0]); i++) {
		print_message("GCM %s\n", gcm_vecs[i].name);
		gcm_load(&gcm_vecs[i], &b);
		memset(out, 0xa5, sizeof(out));
		assert_int_equal(aead_seal(b.key, b.iv, b.aad, b.aad_len, b.pt,
					   b.pt_len, out, tag), 0);
		assert_memory_equal(out, b.ct, b.pt_len);
		assert_memory_equal(tag, b.tag, AEAD_TAG_LEN);

		memset(out, 0xa5, sizeof(out));
		assert_int_equal(aead_open(b.key, b.iv, b.aad, b.aad_len, b.ct,
					   b.pt_len, out, b.tag), 0);
		assert_memory_equal(out, b.pt, b.pt_len);
	}
}

/* The header promises that @in and @out may be one buffer. */
static void test_gcm_in_place(void **state)
{
	uint8_t buf[64], tag[AEAD_TAG_LEN];
	struct gcm_bufs b;

	(void)state;
	gcm_load(&gcm_vecs[3], &b);
	memcpy(buf, b.pt, b.pt_len);
	assert_int_equal(aead_seal(b.key, b.iv, b.aad, b.aad_len, buf,
				   b.pt_len, buf, tag), 0);
	assert_memory_equal(buf, b.ct, b.pt_len);
	assert_memory_equal(tag, b.tag, AEAD_TAG_LEN);
	assert_int_equal(aead_open(b.key, b.iv, b.aad, b.aad_len, buf,
				   b.pt_len, buf, tag), 0);
	assert_memory_equal(buf, b.pt, b.pt_len);
}

/*
 * Open TC16 with one bit of @field flipped: must fail -EBADMSG and leave
 * @out all zero, so no unauthenticated plaintext reaches the caller.
 */
static void gcm_flip_each(uint8_t *field, size_t len, struct gcm_bufs *b)
{
	uint8_t out[64];
	size_t bit;

	for (bit = 0; bit < 8 * len; bit++) {
		field[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		memset(out, 0xa5, sizeof(out));
		assert_int_equal(aead_open(b->key, b->iv, b->aad, b->aad_len,
					   b->ct, b->pt_len, out, b->tag),
				 -EBADMSG);
		assert_true(all_zero(out, b->pt_len));
		field[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
}

static void test_gcm_tamper(void **state)
{
	uint8_t out[64];
	struct gcm_bufs b;

	(void)state;
	gcm_load(&gcm_vecs[3], &b);
	gcm_flip_each(b.ct, b.pt_len, &b);
	gcm_flip_each(b.tag, AEAD_TAG_LEN, &b);
	gcm_flip_each(b.aad, b.aad_len, &b);
	gcm_flip_each(b.iv, AEAD_NONCE_LEN, &b);
	gcm_flip_each(b.key, AEAD_KEY_LEN, &b);

	/* Dropping the AAD, or one byte of it, must fail as well. */
	memset(out, 0xa5, sizeof(out));
	assert_int_equal(aead_open(b.key, b.iv, NULL, 0, b.ct, b.pt_len, out,
				   b.tag), -EBADMSG);
	assert_true(all_zero(out, b.pt_len));
	assert_int_equal(aead_open(b.key, b.iv, b.aad, b.aad_len - 1, b.ct,
				   b.pt_len, out, b.tag), -EBADMSG);
	/* So must a truncated ciphertext. */
	assert_int_equal(aead_open(b.key, b.iv, b.aad, b.aad_len, b.ct,
				   b.pt_len - 1, out, b.tag), -EBADMSG);

	/* Untouched, it still opens: the failures above were the flips. */
	assert_int_equal(aead_open(b.key, b.iv, b.aad, b.aad_len, b.ct,
				   b.pt_len, out, b.tag), 0);
	assert_memory_equal(out, b.pt, b.pt_len);
}

/* TC13 has no text at all: the tag alone must still authenticate. */
static void test_gcm_empty_tamper(void **state)
{
	struct gcm_bufs b;

	(void)state;
	gcm_load(&gcm_vecs[0], &b);
	assert_int_equal(aead_open(b.key, b.iv, NULL, 0, NULL, 0, NULL, b.tag),
			 0);
	b.tag[AEAD_TAG_LEN - 1] ^= 0x80;
	assert_int_equal(aead_open(b.key, b.iv, NULL, 0, NULL, 0, NULL, b.tag),
			 -EBADMSG);
}

/* ---- sealed boxes ---- */

static void test_box_round_trip(void **state)
{
	static const char aad[] = "box aad";
	uint8_t key[AEAD_KEY_LEN], pt[300], box[300 + AEAD_OVERHEAD];
	uint8_t out[300];
	size_t len;

	(void)state;
	assert_int_equal(rand_fill(key, sizeof(key)), 0);
	assert_int_equal(rand_fill(pt, sizeof(pt)), 0);
	for (len = 0; len <= sizeof(pt); len++) {
		assert_int_equal(aead_box_seal(key, aad, sizeof(aad), pt, len,
					       box), 0);
		memset(out, 0xa5, sizeof(out));
		assert_int_equal(aead_box_open(key, aad, sizeof(aad), box,
					       len + AEAD_OVERHEAD, out), 0);
		assert_memory_equal(out, pt, len);
		/* Wrong AAD. */
		assert_int_equal(aead_box_open(key, aad, sizeof(aad) - 1, box,
					       len + AEAD_OVERHEAD, out),
				 -EBADMSG);
		assert_true(all_zero(out, len));
	}
}

static void test_box_tamper(void **state)
{
	uint8_t key[AEAD_KEY_LEN], pt[40], box[40 + AEAD_OVERHEAD], out[40];
	size_t i;

	(void)state;
	assert_int_equal(rand_fill(key, sizeof(key)), 0);
	assert_int_equal(rand_fill(pt, sizeof(pt)), 0);
	assert_int_equal(aead_box_seal(key, "a", 1, pt, sizeof(pt), box), 0);
	/* Nonce, ciphertext and tag are all covered. */
	for (i = 0; i < sizeof(box); i++) {
		box[i] ^= (uint8_t)(1u << (i % 8));
		assert_int_equal(aead_box_open(key, "a", 1, box, sizeof(box),
					       out), -EBADMSG);
		box[i] ^= (uint8_t)(1u << (i % 8));
	}
	assert_int_equal(aead_box_open(key, "a", 1, box, sizeof(box), out), 0);
	assert_memory_equal(out, pt, sizeof(pt));
}

static void test_box_too_short(void **state)
{
	uint8_t key[AEAD_KEY_LEN] = { 0 }, box[AEAD_OVERHEAD] = { 0 };
	uint8_t out[1];
	size_t len;

	(void)state;
	/* Fewer bytes than nonce + tag cannot be a box. */
	for (len = 0; len < AEAD_OVERHEAD; len++)
		assert_int_equal(aead_box_open(key, NULL, 0, box, len, out),
				 -EBADMSG);
	/* Exactly 28 bytes is an empty plaintext: valid when sealed so. */
	assert_int_equal(aead_box_seal(key, NULL, 0, NULL, 0, box), 0);
	assert_int_equal(aead_box_open(key, NULL, 0, box, sizeof(box), out), 0);
}

/* Each seal draws a fresh nonce: the same text never seals the same way. */
static void test_box_nonces_differ(void **state)
{
	uint8_t key[AEAD_KEY_LEN], pt[32] = { 0 };
	uint8_t a[32 + AEAD_OVERHEAD], b[32 + AEAD_OVERHEAD];

	(void)state;
	assert_int_equal(rand_fill(key, sizeof(key)), 0);
	assert_int_equal(aead_box_seal(key, NULL, 0, pt, sizeof(pt), a), 0);
	assert_int_equal(aead_box_seal(key, NULL, 0, pt, sizeof(pt), b), 0);
	assert_memory_not_equal(a, b, AEAD_NONCE_LEN);
	assert_memory_not_equal(a + AEAD_NONCE_LEN, b + AEAD_NONCE_LEN,
				sizeof(pt));
	assert_memory_not_equal(a + AEAD_NONCE_LEN + sizeof(pt),
				b + AEAD_NONCE_LEN + sizeof(pt), AEAD_TAG_LEN);
}

/* ---- HKDF-SHA256, RFC 5869 appendix A ---- */

static void hkdf_check(const char *ikm_hex, const char *salt_hex,
		       const char *info_hex, const char *okm_hex)
{
	uint8_t ikm[80], salt[80], okm[82], out[82];
	char info[81];
	size_t ikm_len, salt_len, info_len, okm_len;

	ikm_len = unhex(ikm_hex, ikm, sizeof(ikm));
	salt_len = unhex(salt_hex, salt, sizeof(salt));
	info_len = unhex(info_hex, (uint8_t *)info, sizeof(info) - 1);
	info[info_len] = '\0';
	/* kdf_hkdf() takes info as a C string: no vector may hold a NUL. */
	assert_int_equal(strlen(info), info_len);
	okm_len = unhex(okm_hex, okm, sizeof(okm));
	memset(out, 0xa5, sizeof(out));
	assert_int_equal(kdf_hkdf(ikm, ikm_len, salt_len ? salt : NULL,
				  salt_len, info, out, okm_len), 0);
	assert_memory_equal(out, okm, okm_len);
}

static void test_hkdf_rfc5869(void **state)
{
	(void)state;
	/* A.1: basic.  Info f0..f9 holds no NUL. */
	hkdf_check("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
		   "000102030405060708090a0b0c",
		   "f0f1f2f3f4f5f6f7f8f9",
		   "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
		   "34007208d5b887185865");
	/* A.2: longer inputs.  Info b0..ff holds no NUL either. */
	hkdf_check("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		   "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
		   "404142434445464748494a4b4c4d4e4f",
		   "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
		   "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
		   "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
		   "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
		   "d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef"
		   "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
		   "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
		   "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
		   "cc30c58179ec3e87c14c01d5c1f3434f1d87");
	/* A.3: empty salt and empty info. */
	hkdf_check("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "",
		   "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
		   "9d201395faa4b61a96c8");
}

/* RFC 5869 2.2: an absent salt is HashLen zero bytes. */
static void test_hkdf_salt_default(void **state)
{
	uint8_t ikm[22], zeros[32] = { 0 }, a[42], b[42];

	(void)state;
	memset(ikm, 0x0b, sizeof(ikm));
	assert_int_equal(kdf_hkdf(ikm, sizeof(ikm), NULL, 0, "", a, sizeof(a)),
			 0);
	assert_int_equal(kdf_hkdf(ikm, sizeof(ikm), zeros, sizeof(zeros), "",
				  b, sizeof(b)), 0);
	assert_memory_equal(a, b, sizeof(a));
	/* Different info strings separate keys (kek.c relies on this). */
	assert_int_equal(kdf_hkdf(ikm, sizeof(ikm), NULL, 0, "x", b, sizeof(b)),
			 0);
	assert_memory_not_equal(a, b, sizeof(a));
}

/* RFC 5869 2.3: L <= 255 * HashLen; past that, fail and zero @out. */
static void test_hkdf_too_long(void **state)
{
	const size_t len = 255 * 32 + 1;
	uint8_t ikm[32] = { 1 };
	uint8_t *out = malloc(len);

	(void)state;
	assert_non_null(out);
	memset(out, 0xa5, len);
	assert_int_not_equal(kdf_hkdf(ikm, sizeof(ikm), NULL, 0, "i", out, len),
			     0);
	assert_true(all_zero(out, len));
	/* The largest legal length works. */
	assert_int_equal(kdf_hkdf(ikm, sizeof(ikm), NULL, 0, "i", out, len - 1),
			 0);
	free(out);
}

/* ---- HMAC-SHA256 ---- */

/*
 * RFC 4231 has no case with a 32-byte key, but HMAC zero-pads any key
 * shorter than the 64-byte block (RFC 2104 section 2), so cases 1-4 with
 * their keys padded to 32 bytes must give the published MACs unchanged.
 */
static void hmac_check(const char *key_hex, const void *msg, size_t len,
		       const char *mac_hex)
{
	uint8_t key[32] = { 0 }, want[32], mac[32];

	unhex(key_hex, key, sizeof(key));
	assert_int_equal(unhex(mac_hex, want, sizeof(want)), 32);
	assert_int_equal(kdf_hmac(key, msg, len, mac), 0);
	assert_memory_equal(mac, want, sizeof(mac));
}

static void test_hmac_rfc4231(void **state)
{
	uint8_t dd[50], cd[50];

	(void)state;
	memset(dd, 0xdd, sizeof(dd));
	memset(cd, 0xcd, sizeof(cd));
	/* 4.2, test case 1 */
	hmac_check("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There", 8,
		   "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	/* 4.3, test case 2: key "Jefe" */
	hmac_check("4a656665", "what do ya want for nothing?", 28,
		   "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	/* 4.4, test case 3 */
	hmac_check("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", dd, sizeof(dd),
		   "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
	/* 4.5, test case 4 */
	hmac_check("0102030405060708090a0b0c0d0e0f10111213141516171819", cd,
		   sizeof(cd),
		   "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
}

/* Full 32-byte random keys against OpenSSL's one-shot HMAC(). */
static void test_hmac_vs_openssl(void **state)
{
	uint8_t key[32], msg[200], mac[32], ref[32];
	unsigned int ref_len;
	size_t len;

	(void)state;
	for (len = 0; len <= sizeof(msg); len++) {
		assert_int_equal(rand_fill(key, sizeof(key)), 0);
		assert_int_equal(rand_fill(msg, sizeof(msg)), 0);
		assert_int_equal(kdf_hmac(key, msg, len, mac), 0);
		ref_len = 0;
		assert_non_null(HMAC(EVP_sha256(), key, sizeof(key), msg, len,
				     ref, &ref_len));
		assert_int_equal(ref_len, 32);
		assert_memory_equal(mac, ref, sizeof(mac));
		/* A one-bit change of the key changes the MAC. */
		key[len % 32] ^= 1;
		assert_int_equal(kdf_hmac(key, msg, len, ref), 0);
		assert_memory_not_equal(mac, ref, sizeof(mac));
	}
}

/*
 * The batch form: the same MACs as kdf_hmac(), message after message
 * under one key, the RFC 4231 case 2 among them, whatever came before.
 */
static void test_hmac_batch(void **state)
{
	uint8_t key[32], msg[200], mac[32], ref[32], jefe[32] = "Jefe";
	struct kdf_hmac_batch *b;
	size_t len;

	(void)state;
	assert_int_equal(rand_fill(key, sizeof(key)), 0);
	assert_int_equal(kdf_hmac_begin(key, &b), 0);
	for (len = 0; len <= sizeof(msg); len++) {
		assert_int_equal(rand_fill(msg, sizeof(msg)), 0);
		assert_int_equal(kdf_hmac_next(b, msg, len, mac), 0);
		assert_int_equal(kdf_hmac(key, msg, len, ref), 0);
		assert_memory_equal(mac, ref, sizeof(mac));
	}
	kdf_hmac_end(b);
	memset(jefe + 4, 0, sizeof(jefe) - 4);
	assert_int_equal(kdf_hmac_begin(jefe, &b), 0);
	assert_int_equal(kdf_hmac_next(b, "x", 1, mac), 0);
	assert_int_equal(kdf_hmac_next(b, "what do ya want for nothing?", 28,
				       mac), 0);
	assert_int_equal(unhex("5bdcc146bf60754e6a042426089575c75a003f089d2739"
			       "839dec58b964ec3843", ref, sizeof(ref)), 32);
	assert_memory_equal(mac, ref, sizeof(mac));
	kdf_hmac_end(b);
	kdf_hmac_end(NULL);
}

/* ---- ct_memcmp, rand_fill ---- */

static void test_ct_memcmp(void **state)
{
	uint8_t a[33], b[33];
	size_t i;

	(void)state;
	assert_int_equal(rand_fill(a, sizeof(a)), 0);
	memcpy(b, a, sizeof(b));
	assert_int_equal(ct_memcmp(a, b, sizeof(a)), 0);
	assert_int_equal(ct_memcmp(a, b, 0), 0);
	for (i = 0; i < sizeof(a); i++) {
		b[i] ^= 0x80;
		assert_int_not_equal(ct_memcmp(a, b, sizeof(a)), 0);
		/* Bytes past @len do not count. */
		assert_int_equal(ct_memcmp(a, b, i), 0);
		b[i] ^= 0x80;
	}
}

static void test_rand_fill(void **state)
{
	uint8_t a[32] = { 0 }, b[32] = { 0 };

	(void)state;
	assert_int_equal(rand_fill(a, sizeof(a)), 0);
	assert_int_equal(rand_fill(b, sizeof(b)), 0);
	/* Equal with probability 2^-256. */
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(rand_fill(a, 0), 0);
	/* RAND_bytes takes an int: larger requests are refused, not cut. */
	assert_int_equal(rand_fill(a, (size_t)INT_MAX + 1), -EINVAL);
}

/*
 * The per-thread context of the data path: seals under two keys in turn,
 * across several nonce batches.  Every nonce differs, every box opens with
 * and without a context, and a box from the context-free path opens with it.
 */
static void test_box_ctx(void **state)
{
	enum { N = 3 * 64 + 5, LEN = 100 };
	static uint8_t box[N][LEN + AEAD_OVERHEAD];
	uint8_t key[2][AEAD_KEY_LEN], in[LEN], out[LEN], aad[4] = "ctx";
	struct aead_ctx *a = aead_ctx_new();
	int i, k;

	(void)state;
	assert_non_null(a);
	memset(key[0], 0x11, AEAD_KEY_LEN);
	memset(key[1], 0x22, AEAD_KEY_LEN);
	memset(in, 0x5a, LEN);
	for (i = 0; i < N; i++)
		assert_int_equal(aead_box_seal_ctx(a, key[i & 1], aad, sizeof(aad),
						   in, LEN, box[i]), 0);
	for (i = 0; i < N; i++) {
		for (k = 0; k < i; k++)
			assert_memory_not_equal(box[i], box[k], AEAD_NONCE_LEN);
		memset(out, 0, LEN);
		assert_int_equal(aead_box_open_ctx(a, key[i & 1], aad, sizeof(aad),
						   box[i], sizeof(box[i]), out), 0);
		assert_memory_equal(out, in, LEN);
		assert_int_equal(aead_box_open(key[i & 1], aad, sizeof(aad),
					       box[i], sizeof(box[i]), out), 0);
		/* The other key must not open it, cached schedule or not. */
		assert_int_equal(aead_box_open_ctx(a, key[!(i & 1)], aad,
						   sizeof(aad), box[i],
						   sizeof(box[i]), out), -EBADMSG);
	}
	assert_int_equal(aead_box_seal(key[0], aad, sizeof(aad), in, LEN, box[0]), 0);
	assert_int_equal(aead_box_open_ctx(a, key[0], aad, sizeof(aad), box[0],
					   sizeof(box[0]), out), 0);
	assert_memory_equal(out, in, LEN);
	/* Forgetting the keys leaves a context that keys itself again. */
	aead_ctx_forget(a);
	aead_ctx_forget(a);
	memset(out, 0, LEN);
	assert_int_equal(aead_box_open_ctx(a, key[0], aad, sizeof(aad), box[0],
					   sizeof(box[0]), out), 0);
	assert_memory_equal(out, in, LEN);
	assert_int_equal(aead_box_seal_ctx(a, key[1], aad, sizeof(aad), in, LEN,
					   box[1]), 0);
	assert_int_equal(aead_box_open(key[1], aad, sizeof(aad), box[1],
				       sizeof(box[1]), out), 0);
	aead_ctx_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gcm_known_answers),
		cmocka_unit_test(test_gcm_in_place),
		cmocka_unit_test(test_gcm_tamper),
		cmocka_unit_test(test_gcm_empty_tamper),
		cmocka_unit_test(test_box_round_trip),
		cmocka_unit_test(test_box_tamper),
		cmocka_unit_test(test_box_too_short),
		cmocka_unit_test(test_box_nonces_differ),
		cmocka_unit_test(test_box_ctx),
		cmocka_unit_test(test_hkdf_rfc5869),
		cmocka_unit_test(test_hkdf_salt_default),
		cmocka_unit_test(test_hkdf_too_long),
		cmocka_unit_test(test_hmac_rfc4231),
		cmocka_unit_test(test_hmac_vs_openssl),
		cmocka_unit_test(test_hmac_batch),
		cmocka_unit_test(test_ct_memcmp),
		cmocka_unit_test(test_rand_fill),
	};

	return cmocka_run_group_tests_name("aead: AES-256-GCM, HKDF, HMAC",
					   tests, NULL, NULL);
}
