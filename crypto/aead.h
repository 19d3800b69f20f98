/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * crypto/aead.h - AES-256-GCM, AES-SIV, HKDF-SHA256, HMAC-SHA256, SHA-256
 * and randomness through OpenSSL 3 EVP.  The one place that talks to
 * OpenSSL's ciphers.
 *
 * Keys are borrowed: callers own and wipe them.  Every function returns 0 or
 * a negative errno; an authentication failure is -EBADMSG, and then the
 * output buffer has been wiped so no unauthenticated plaintext escapes.
 */
#ifndef ATR_AEAD_H
#define ATR_AEAD_H

#include <stddef.h>
#include <stdint.h>

#define AEAD_KEY_LEN	32
#define AEAD_NONCE_LEN	12
#define AEAD_TAG_LEN	16
#define AEAD_OVERHEAD	(AEAD_NONCE_LEN + AEAD_TAG_LEN)

/* @in and @out may be the same buffer; @len may be 0. */
int aead_seal(const uint8_t key[AEAD_KEY_LEN],
	      const uint8_t nonce[AEAD_NONCE_LEN],
	      const void *aad, size_t aad_len,
	      const void *in, size_t len, void *out,
	      uint8_t tag[AEAD_TAG_LEN]);
int aead_open(const uint8_t key[AEAD_KEY_LEN],
	      const uint8_t nonce[AEAD_NONCE_LEN],
	      const void *aad, size_t aad_len,
	      const void *in, size_t len, void *out,
	      const uint8_t tag[AEAD_TAG_LEN]);

/*
 * Sealed "box" layout used for every small record (wrapped keys, xattr
 * values, symlink targets): nonce(12) || ciphertext || tag(16).  A fresh
 * random nonce is drawn for each seal.  @box holds len + AEAD_OVERHEAD.
 */
int aead_box_seal(const uint8_t key[AEAD_KEY_LEN], const void *aad,
		  size_t aad_len, const void *in, size_t len, uint8_t *box);
/* @out receives box_len - AEAD_OVERHEAD bytes; -EBADMSG if too short. */
int aead_box_open(const uint8_t key[AEAD_KEY_LEN], const void *aad,
		  size_t aad_len, const uint8_t *box, size_t box_len, void *out);

/*
 * A reusable AES-256-GCM context for one thread: it keeps the key schedule
 * of the last key used in each direction, and a batch of random nonces for
 * its seals (never to be copied or used after fork()).  Not thread-safe; a NULL context
 * makes the *_ctx calls behave as the plain ones.  aead_ctx_free() wipes
 * the schedules and the key copies it holds; NULL is a no-op.
 */
struct aead_ctx;
struct aead_ctx *aead_ctx_new(void);
void aead_ctx_free(struct aead_ctx *a);
/*
 * Wipe the AES-256-GCM key copies and schedules @a holds, keeping the
 * context: for a long-lived thread at the end of each request, so that no
 * file's key stays in it after the file is closed.  The AES-SIV key (the
 * volume's names key, which lives as long as the mount is unlocked) stays
 * until aead_ctx_forget_siv().  NULL is a no-op.
 */
void aead_ctx_forget(struct aead_ctx *a);
/* Wipe @a's AES-SIV key and schedules (a lock); NULL is a no-op. */
void aead_ctx_forget_siv(struct aead_ctx *a);
int aead_box_seal_ctx(struct aead_ctx *a, const uint8_t key[AEAD_KEY_LEN],
		      const void *aad, size_t aad_len, const void *in,
		      size_t len, uint8_t *box);
int aead_box_open_ctx(struct aead_ctx *a, const uint8_t key[AEAD_KEY_LEN],
		      const void *aad, size_t aad_len, const uint8_t *box,
		      size_t box_len, void *out);

/* RFC 5869 HKDF-SHA256.  On failure @out is zeroed so callers need not. */
int kdf_hkdf(const uint8_t *ikm, size_t ikm_len, const void *salt,
	     size_t salt_len, const char *info, uint8_t *out, size_t out_len);

/* HMAC-SHA256 of @msg; @mac receives 32 bytes. */
int kdf_hmac(const uint8_t key[32], const void *msg, size_t len,
	     uint8_t mac[32]);

/*
 * HMAC-SHA256 of many messages under one key, in a loop: kdf_hmac_begin()
 * keys a context once (its state, as secret as the key, sits in
 * OpenSSL's heap until kdf_hmac_end() cleanses and frees it), and each
 * kdf_hmac_next() costs a tenth of a kdf_hmac().  Not thread-safe.
 */
struct kdf_hmac_batch;
int kdf_hmac_begin(const uint8_t key[32], struct kdf_hmac_batch **out);
int kdf_hmac_next(struct kdf_hmac_batch *b, const void *msg, size_t len,
		  uint8_t mac[32]);
void kdf_hmac_end(struct kdf_hmac_batch *b);

/*
 * AES-SIV (RFC 5297) with one associated-data component, deterministic:
 * the same key, AAD and plaintext give the same output, which is what
 * lets an encrypted file name be looked up.  @out of a seal holds
 * AEAD_SIV_LEN + len bytes: synthetic IV || ciphertext.  An open of @len
 * bytes gives len - AEAD_SIV_LEN bytes, or -EBADMSG (and a wiped @out).
 * @key_len is AEAD_SIV_KEY_LEN (AES-256-SIV, what atrestfs uses) or 32
 * (AES-128-SIV, for RFC 5297's test vectors).
 */
#define AEAD_SIV_KEY_LEN	64	/* two AES-256 keys: CMAC and CTR */
#define AEAD_SIV_LEN		16
int aead_siv_seal(const uint8_t *key, size_t key_len, const void *aad,
		  size_t aad_len, const void *in, size_t len, uint8_t *out);
int aead_siv_open(const uint8_t *key, size_t key_len, const void *aad,
		  size_t aad_len, const uint8_t *in, size_t len, void *out);
/*
 * The same through @a, which keeps the key's CMAC and CTR schedules (in
 * secmem and OpenSSL's heap) for the next call with the same key: a name
 * then costs what AES-SIV costs, not a key set-up.  NULL @a: as above.
 */
int aead_siv_seal_ctx(struct aead_ctx *a, const uint8_t *key, size_t key_len,
		      const void *aad, size_t aad_len, const void *in,
		      size_t len, uint8_t *out);
int aead_siv_open_ctx(struct aead_ctx *a, const uint8_t *key, size_t key_len,
		      const void *aad, size_t aad_len, const uint8_t *in,
		      size_t len, void *out);

/* SHA-256 of @in; -EIO if OpenSSL fails. */
int hash_sha256(const void *in, size_t len, uint8_t md[32]);

/* Cryptographically secure random bytes (RAND_bytes). */
int rand_fill(void *buf, size_t len);

/* Constant-time comparison; 0 if equal. */
int ct_memcmp(const void *a, const void *b, size_t len);

#endif
