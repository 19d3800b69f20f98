/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * crypto/names.h - encrypted file names (docs/format.md 15): AES-256-SIV
 * under the volume's names key with the parent directory's ID as
 * associated data, padded to 16 bytes, encoded as unpadded base64url; a
 * name whose encoding is longer than a backing name may be is stored
 * under a hash of it, with the encoding in a sidecar file beside it.
 * Works on buffers; the daemon (fs/dirnames.c) does the file I/O.
 */
#ifndef ATR_NAMES_H
#define ATR_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aead.h"
#include "kek.h"

#define NAMES_KEY_LEN		AEAD_SIV_KEY_LEN
#define NAMES_DIRID_LEN		16
#define NAMES_DIRID_XATTR	"user.atrestfs.dirid"
#define NAMES_PAD		16
#define NAMES_PLAIN_MAX		255	/* NAME_MAX of the mount */
#define NAMES_BACKING_MAX	255	/* NAME_MAX of the backing directory */
#define NAMES_CT_MAX		(AEAD_SIV_LEN + 256)
#define NAMES_ENC_MAX		363	/* b64url_enc_len(NAMES_CT_MAX) */
#define NAMES_LONG_PREFIX	"atrestfs.long."
#define NAMES_LONG_SUFFIX	".name"
#define NAMES_HASH_ENC_LEN	43	/* b64url_enc_len(32) */
#define NAMES_LONG_LEN		(sizeof(NAMES_LONG_PREFIX) - 1 + NAMES_HASH_ENC_LEN)
#define NAMES_WRAPPED_LEN	(AEAD_OVERHEAD + NAMES_KEY_LEN)

/* The backing form of one name. */
struct names_enc {
	char backing[NAMES_BACKING_MAX + 1];	/* the backing entry's name */
	bool is_long;				/* backing is the hash form */
	char full[NAMES_ENC_MAX + 1];		/* the whole encoding: for a
						   long name, the sidecar's
						   content */
};

/*
 * Encrypt @name (1 to NAMES_PLAIN_MAX bytes, no '/') in the directory
 * @dirid into @out.  -ENAMETOOLONG, -EINVAL for "", ".", ".." or a '/'.
 * @a: the calling thread's context, which keeps @key's schedule for the
 * next name (the daemon's, fs/tls.c), or NULL for a one-off set-up.
 */
int names_encrypt(struct aead_ctx *a, const uint8_t key[NAMES_KEY_LEN],
		  const uint8_t dirid[NAMES_DIRID_LEN], const char *name,
		  struct names_enc *out);
/*
 * Decrypt the encoding @enc (@n characters: a short backing name or a
 * sidecar's content) of a name in @dirid into @out (NUL-terminated):
 * 0, or -EBADMSG if it is not one atrestfs made for this directory.
 */
int names_decrypt(struct aead_ctx *a, const uint8_t key[NAMES_KEY_LEN],
		  const uint8_t dirid[NAMES_DIRID_LEN], const char *enc,
		  size_t n, char out[NAMES_PLAIN_MAX + 1]);

/* @backing is a hash form (not its sidecar). */
bool names_is_long(const char *backing);
/* @backing is the sidecar of a hash form. */
bool names_is_sidecar(const char *backing);
/* The sidecar's name of the hash form @backing into @out (NAME_MAX + 1). */
void names_sidecar(const char *backing, char *out);
/*
 * Is @rec (@n bytes, a sidecar's content) the record of the hash form
 * @backing: 0, or -EBADMSG (truncated, changed, another name's).
 */
int names_long_check(const char *backing, const char *rec, size_t n);

/*
 * User xattr names (the part after "user.") on a volume with encrypted
 * names: the backing name is NAMES_XATTR_PREFIX || b64url(the first 24
 * bytes of HMAC-SHA256(xattr key, name)), whatever the name's length, and
 * the name itself is sealed in the value, ahead of it (fs/ops_xattr.c).
 * The xattr key is HKDF-SHA256(names key, no salt, NAMES_XATTR_INFO).
 */
#define NAMES_XATTR_PREFIX	"user.atrestfs.x."
#define NAMES_XATTR_INFO	"atrestfs xattr names v1"
#define NAMES_XKEY_LEN		32
#define NAMES_XATTR_LEN		(sizeof(NAMES_XATTR_PREFIX) - 1 + 32)
int names_xattr_key(const uint8_t key[NAMES_KEY_LEN],
		    uint8_t xkey[NAMES_XKEY_LEN]);
/* @out holds NAMES_XATTR_LEN + 1 bytes. */
int names_xattr_name(const uint8_t xkey[NAMES_XKEY_LEN], const char *name,
		     char *out);

/*
 * The names key, wrapped by the KEK as a DEK is (AES-256-GCM box) with
 * "atrestfs names key v1" || uuid || kek_id as AAD, so a KEK rotation
 * rewraps it and renames nothing.
 */
int names_key_wrap(const struct kek *kek, const uint8_t uuid[VOL_UUID_LEN],
		   const uint8_t key[NAMES_KEY_LEN],
		   uint8_t out[NAMES_WRAPPED_LEN]);
/*
 * A KEK rotation: @box, the names key wrapped by @old, wrapped by @kek
 * instead, in place (unchanged on failure).  The key itself stays.
 */
int names_key_rewrap(const struct kek *old, const struct kek *kek,
		     const uint8_t uuid[VOL_UUID_LEN],
		     uint8_t box[NAMES_WRAPPED_LEN]);
/* -EBADMSG if @in is not this volume's names key under @kek. */
int names_key_unwrap(const struct kek *kek, const uint8_t uuid[VOL_UUID_LEN],
		     const uint8_t in[NAMES_WRAPPED_LEN],
		     uint8_t key[NAMES_KEY_LEN]);

#endif
