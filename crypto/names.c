// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * crypto/names.c - the byte layout of encrypted names (docs/format.md 15).
 *
 * SIV is deterministic, which a name needs (lookup encrypts the name asked
 * for and opens that), and misuse-resistant: equal names are equal only
 * within one directory, because its random ID is the associated data.
 * Names are padded with NULs (which no name holds) to a multiple of 16
 * bytes, so the backing name tells the length to 16 bytes, not to one.
 */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "codec.h"
#include "names.h"
#include "secmem.h"

#define NAME_AAD	"atrestfs name v1"
#define NAME_AAD_LEN	(sizeof(NAME_AAD) - 1)
#define KEY_AAD		"atrestfs names key v1"
#define KEY_AAD_LEN	(sizeof(KEY_AAD) - 1)

static void name_aad(const uint8_t dirid[NAMES_DIRID_LEN], uint8_t *aad)
{
	memcpy(aad, NAME_AAD, NAME_AAD_LEN);
	memcpy(aad + NAME_AAD_LEN, dirid, NAMES_DIRID_LEN);
}

static void hash_form(const char *full, size_t n, char *out)
{
	uint8_t md[32];

	/* SHA-256 fails only without memory; the name then matches nothing. */
	if (hash_sha256(full, n, md))
		memset(md, 0, sizeof(md));
	memcpy(out, NAMES_LONG_PREFIX, sizeof(NAMES_LONG_PREFIX) - 1);
	b64url_encode(md, sizeof(md), out + sizeof(NAMES_LONG_PREFIX) - 1);
}

int names_encrypt(struct aead_ctx *a, const uint8_t key[NAMES_KEY_LEN],
		  const uint8_t dirid[NAMES_DIRID_LEN], const char *name,
		  struct names_enc *out)
{
	uint8_t pt[NAMES_PLAIN_MAX + NAMES_PAD] = { 0 }, ct[NAMES_CT_MAX];
	uint8_t aad[NAME_AAD_LEN + NAMES_DIRID_LEN];
	size_t len = strlen(name), padded;
	int err;

	if (len > NAMES_PLAIN_MAX)
		return -ENAMETOOLONG;
	if (!len || strchr(name, '/') || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		return -EINVAL;
	padded = (len + NAMES_PAD - 1) / NAMES_PAD * NAMES_PAD;
	memcpy(pt, name, len);
	name_aad(dirid, aad);
	err = aead_siv_seal_ctx(a, key, NAMES_KEY_LEN, aad, sizeof(aad), pt,
				padded, ct);
	OPENSSL_cleanse(pt, sizeof(pt));
	if (err)
		return err;
	b64url_encode(ct, AEAD_SIV_LEN + padded, out->full);
	out->is_long = strlen(out->full) > NAMES_BACKING_MAX;
	if (out->is_long)
		hash_form(out->full, strlen(out->full), out->backing);
	else
		memcpy(out->backing, out->full, strlen(out->full) + 1);
	return 0;
}

int names_decrypt(struct aead_ctx *a, const uint8_t key[NAMES_KEY_LEN],
		  const uint8_t dirid[NAMES_DIRID_LEN], const char *enc,
		  size_t n, char out[NAMES_PLAIN_MAX + 1])
{
	uint8_t ct[NAMES_CT_MAX], pt[NAMES_CT_MAX];
	uint8_t aad[NAME_AAD_LEN + NAMES_DIRID_LEN];
	ssize_t clen;
	size_t len, padded;
	int err = -EBADMSG;

	clen = b64url_decode(enc, n, ct, sizeof(ct));
	if (clen < AEAD_SIV_LEN + NAMES_PAD ||
	    (clen - AEAD_SIV_LEN) % NAMES_PAD)
		return -EBADMSG;
	padded = (size_t)clen - AEAD_SIV_LEN;
	name_aad(dirid, aad);
	if (aead_siv_open_ctx(a, key, NAMES_KEY_LEN, aad, sizeof(aad), ct,
			      (size_t)clen, pt))
		return -EBADMSG;
	/* Canonical: the least padding, and no NUL or '/' in the name. */
	len = strnlen((char *)pt, padded);
	if (!len || len > NAMES_PLAIN_MAX || padded - len >= NAMES_PAD ||
	    memchr(pt, '/', len))
		goto out;
	for (size_t i = len; i < padded; i++)
		if (pt[i])
			goto out;
	memcpy(out, pt, len);
	out[len] = '\0';
	err = (!strcmp(out, ".") || !strcmp(out, "..")) ? -EBADMSG : 0;
out:
	OPENSSL_cleanse(pt, sizeof(pt));
	return err;
}

bool names_is_long(const char *backing)
{
	return strlen(backing) == NAMES_LONG_LEN &&
	       !strncmp(backing, NAMES_LONG_PREFIX,
			sizeof(NAMES_LONG_PREFIX) - 1);
}

bool names_is_sidecar(const char *backing)
{
	size_t n = strlen(backing);

	return n == NAMES_LONG_LEN + sizeof(NAMES_LONG_SUFFIX) - 1 &&
	       !strncmp(backing, NAMES_LONG_PREFIX,
			sizeof(NAMES_LONG_PREFIX) - 1) &&
	       !strcmp(backing + NAMES_LONG_LEN, NAMES_LONG_SUFFIX);
}

void names_sidecar(const char *backing, char *out)
{
	memcpy(out, backing, NAMES_LONG_LEN);
	memcpy(out + NAMES_LONG_LEN, NAMES_LONG_SUFFIX,
	       sizeof(NAMES_LONG_SUFFIX));
}

int names_long_check(const char *backing, const char *rec, size_t n)
{
	char want[NAMES_LONG_LEN + 1];

	/* Only a name too long to be short has a hash form. */
	if (!names_is_long(backing) || n <= NAMES_BACKING_MAX ||
	    n > NAMES_ENC_MAX)
		return -EBADMSG;
	hash_form(rec, n, want);
	return memcmp(want, backing, NAMES_LONG_LEN) ? -EBADMSG : 0;
}

static void key_aad(const struct kek *kek, const uint8_t uuid[VOL_UUID_LEN],
		    uint8_t *aad)
{
	memcpy(aad, KEY_AAD, KEY_AAD_LEN);
	memcpy(aad + KEY_AAD_LEN, uuid, VOL_UUID_LEN);
	memcpy(aad + KEY_AAD_LEN + VOL_UUID_LEN, kek->id, KEK_ID_LEN);
}

int names_key_wrap(const struct kek *kek, const uint8_t uuid[VOL_UUID_LEN],
		   const uint8_t key[NAMES_KEY_LEN],
		   uint8_t out[NAMES_WRAPPED_LEN])
{
	uint8_t aad[KEY_AAD_LEN + VOL_UUID_LEN + KEK_ID_LEN];

	key_aad(kek, uuid, aad);
	return aead_box_seal(kek->key, aad, sizeof(aad), key, NAMES_KEY_LEN,
			     out);
}

int names_key_unwrap(const struct kek *kek, const uint8_t uuid[VOL_UUID_LEN],
		     const uint8_t in[NAMES_WRAPPED_LEN],
		     uint8_t key[NAMES_KEY_LEN])
{
	uint8_t aad[KEY_AAD_LEN + VOL_UUID_LEN + KEK_ID_LEN];

	key_aad(kek, uuid, aad);
	return aead_box_open(kek->key, aad, sizeof(aad), in,
			     NAMES_WRAPPED_LEN, key);
}

int names_key_rewrap(const struct kek *old, const struct kek *kek,
		     const uint8_t uuid[VOL_UUID_LEN],
		     uint8_t box[NAMES_WRAPPED_LEN])
{
	uint8_t *key = secmem_alloc(NAMES_KEY_LEN), next[NAMES_WRAPPED_LEN];
	int err;

	if (!key)
		return -ENOMEM;
	err = names_key_unwrap(old, uuid, box, key);
	if (!err)
		err = names_key_wrap(kek, uuid, key, next);
	secmem_free(key, NAMES_KEY_LEN);
	if (!err)
		memcpy(box, next, NAMES_WRAPPED_LEN);
	return err;
}

int names_xattr_key(const uint8_t key[NAMES_KEY_LEN],
		    uint8_t xkey[NAMES_XKEY_LEN])
{
	return kdf_hkdf(key, NAMES_KEY_LEN, NULL, 0, NAMES_XATTR_INFO, xkey,
			NAMES_XKEY_LEN);
}

int names_xattr_name(const uint8_t xkey[NAMES_XKEY_LEN], const char *name,
		     char *out)
{
	uint8_t mac[32];
	int err = kdf_hmac(xkey, name, strlen(name), mac);

	if (err)
		return err;
	memcpy(out, NAMES_XATTR_PREFIX, sizeof(NAMES_XATTR_PREFIX) - 1);
	/* 24 bytes: 32 characters, and 192 bits against collisions. */
	b64url_encode(mac, 24, out + sizeof(NAMES_XATTR_PREFIX) - 1);
	return 0;
}
