// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * crypto/aead.c - AES-256-GCM and the KDFs, on OpenSSL 3 EVP only.
 *
 * Two ways to call AES-256-GCM.  Without a context (aead_seal, aead_box_*),
 * an EVP context is made and freed per call, which suits the rare seals of
 * headers, xattrs and keys.  The data path instead owns one struct aead_ctx
 * per thread (fs/fileio.c): it keeps its EVP contexts and the key schedule
 * of the last key it saw, so a run of extents of one file costs one key
 * set-up, not one per extent; aead_ctx_forget() drops them at the end of
 * each request, so no key outlives the file's use.  The copy of the key kept to recognise it is
 * a key like any other, so the context lives in secmem (locked, not
 * dumped); aead_ctx_free() wipes it, and EVP_CIPHER_CTX_free cleanses the
 * schedule, which OpenSSL keeps in its own heap.
 *
 * The same context keeps the AES-SIV key of encrypted names (below), which
 * a request's end does not drop: it is the volume's, not a file's, and a
 * lock wipes it (aead_ctx_forget_siv()).
 *
 * The data path also draws its nonces in batches: one RAND_bytes() call
 * costs about as much as sealing a 4 KiB extent (CTR-DRBG's fixed work per
 * call), and a batch from the DRBG is as random as single draws.  Each
 * nonce is used once; a context is never shared between threads or
 * inherited across fork() (the daemon makes them in its workers).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "aead.h"
#include "secmem.h"

/* One direction's EVP context, and the key its schedule was made from. */
struct aead_dir {
	EVP_CIPHER_CTX *ctx;
	uint8_t key[AEAD_KEY_LEN];
	bool keyed;
};

#define NONCE_BATCH	64

/*
 * AES-SIV's two keyed halves (RFC 5297): AES under K1 for S2V's CMAC, under
 * K2 for CTR, each a bare block cipher (ECB, no padding).  Made at the
 * first SIV call, kept while the key is the same.
 */
#define SIV_BLOCK	16
#define SIV_AD_KEEP	64		/* longest AAD whose S2V state is kept */
#define SIV_CTR_RUN	16		/* keystream blocks made per AES call */
struct aead_siv {
	EVP_CIPHER_CTX *k1;		/* AES-ECB keyed with K1; OpenSSL's heap */
	EVP_CIPHER_CTX *k2;		/* AES-ECB keyed with K2 */
	size_t key_len;			/* of @key; 0 while not keyed */
	uint8_t key[AEAD_SIV_KEY_LEN];	/* what both were keyed from */
	uint8_t sub[2][SIV_BLOCK];	/* CMAC's subkeys K1, K2 (RFC 4493) */
	uint8_t d0[SIV_BLOCK];		/* CMAC(K1, <zero>): as secret */
	/*
	 * S2V's state after the last AAD (a directory's, for names: the
	 * next name is most often in the same one), kept with that AAD.
	 */
	bool ad_ok;
	size_t ad_len;
	uint8_t ad[SIV_AD_KEEP];
	uint8_t d1[SIV_BLOCK];		/* dbl(d0) ^ CMAC(K1, @ad) */
};

struct aead_ctx {
	EVP_CIPHER *cipher;		/* fetched once, not per call */
	struct aead_dir dir[2];		/* [0] open, [1] seal */
	unsigned int nonce_next;	/* next unused in @nonces */
	uint8_t nonces[NONCE_BATCH * AEAD_NONCE_LEN];
	struct aead_siv siv;		/* the names key's (crypto/names.c) */
};

static void siv_forget(struct aead_siv *s);

struct aead_ctx *aead_ctx_new(void)
{
	struct aead_ctx *a = secmem_alloc(sizeof(*a));

	if (!a)
		return NULL;
	a->nonce_next = NONCE_BATCH;	/* empty: drawn at first seal */
	a->cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	a->dir[0].ctx = EVP_CIPHER_CTX_new();
	a->dir[1].ctx = EVP_CIPHER_CTX_new();
	if (!a->cipher || !a->dir[0].ctx || !a->dir[1].ctx) {
		aead_ctx_free(a);
		return NULL;
	}
	return a;
}

void aead_ctx_free(struct aead_ctx *a)
{
	if (!a)
		return;
	EVP_CIPHER_CTX_free(a->dir[0].ctx);	/* cleanses the key schedule */
	EVP_CIPHER_CTX_free(a->dir[1].ctx);
	EVP_CIPHER_free(a->cipher);
	siv_forget(&a->siv);
	secmem_free(a, sizeof(*a));		/* wipes our copies of the keys */
}

void aead_ctx_forget(struct aead_ctx *a)
{
	int i;

	if (!a)
		return;
	for (i = 0; i < 2; i++) {
		/* Even unkeyed: a failed re-key may have left the old schedule. */
		EVP_CIPHER_CTX_reset(a->dir[i].ctx);	/* cleanses the schedule */
		OPENSSL_cleanse(a->dir[i].key, AEAD_KEY_LEN);
		a->dir[i].keyed = false;
	}
}

/*
 * Point @d at @key and @nonce.  The schedule is kept when the key is the
 * one it was made from (compared in constant time: it is secret), so only
 * the nonce is set: OpenSSL's GCM keeps the key when re-initialised with a
 * NULL key.
 */
static int dir_init(struct aead_ctx *a, struct aead_dir *d, int enc,
		    const uint8_t *key, const uint8_t *nonce)
{
	if (d->keyed && !CRYPTO_memcmp(d->key, key, AEAD_KEY_LEN))
		return EVP_CipherInit_ex2(d->ctx, NULL, NULL, nonce, enc,
					  NULL) == 1 ? 0 : -EIO;
	d->keyed = false;
	if (EVP_CipherInit_ex2(d->ctx, a->cipher, key, nonce, enc, NULL) != 1)
		return -EIO;
	memcpy(d->key, key, AEAD_KEY_LEN);
	d->keyed = true;
	return 0;
}

static int gcm_crypt(struct aead_ctx *a, int enc, const uint8_t *key,
		     const uint8_t *nonce, const void *aad, size_t aad_len,
		     const void *in, size_t len, void *out, uint8_t *tag)
{
	EVP_CIPHER_CTX *ctx;
	uint8_t fin[AEAD_TAG_LEN];	/* GCM's final step emits nothing */
	int n, err = -EIO;

	if (len > INT_MAX || aad_len > INT_MAX)
		return -EINVAL;
	if (a) {
		ctx = a->dir[enc].ctx;
		if (dir_init(a, &a->dir[enc], enc, key, nonce))
			goto out_free_ctx;
	} else {
		ctx = EVP_CIPHER_CTX_new();
		if (!ctx)
			return -ENOMEM;
		if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce,
				      enc) != 1)
			goto out_free_ctx;
	}
	if (aad_len &&
	    EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1)
		goto out_free_ctx;
	if (len && EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1)
		goto out_free_ctx;
	if (!enc) {
		if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, AEAD_TAG_LEN,
					tag) != 1)
			goto out_free_ctx;
		err = -EBADMSG;
		if (EVP_CipherFinal_ex(ctx, fin, &n) != 1)
			goto out_free_ctx;
	} else {
		if (EVP_CipherFinal_ex(ctx, fin, &n) != 1)
			goto out_free_ctx;
		if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, AEAD_TAG_LEN,
					tag) != 1)
			goto out_free_ctx;
	}
	err = 0;
out_free_ctx:
	if (!a)
		EVP_CIPHER_CTX_free(ctx);
	if (err && len)
		OPENSSL_cleanse(out, len);	/* caller need not */
	return err;
}

int aead_seal(const uint8_t key[AEAD_KEY_LEN],
	      const uint8_t nonce[AEAD_NONCE_LEN], const void *aad,
	      size_t aad_len, const void *in, size_t len, void *out,
	      uint8_t tag[AEAD_TAG_LEN])
{
	return gcm_crypt(NULL, 1, key, nonce, aad, aad_len, in, len, out, tag);
}

int aead_open(const uint8_t key[AEAD_KEY_LEN],
	      const uint8_t nonce[AEAD_NONCE_LEN], const void *aad,
	      size_t aad_len, const void *in, size_t len, void *out,
	      const uint8_t tag[AEAD_TAG_LEN])
{
	return gcm_crypt(NULL, 0, key, nonce, aad, aad_len, in, len, out,
			 (uint8_t *)tag);
}

/* The next nonce of the context's batch, drawing a new batch when empty. */
static int ctx_nonce(struct aead_ctx *a, uint8_t *nonce)
{
	int err;

	if (a->nonce_next == NONCE_BATCH) {
		err = rand_fill(a->nonces, sizeof(a->nonces));
		if (err)
			return err;
		a->nonce_next = 0;
	}
	memcpy(nonce, a->nonces + a->nonce_next * AEAD_NONCE_LEN,
	       AEAD_NONCE_LEN);
	a->nonce_next++;
	return 0;
}

int aead_box_seal_ctx(struct aead_ctx *a, const uint8_t key[AEAD_KEY_LEN],
		      const void *aad, size_t aad_len, const void *in,
		      size_t len, uint8_t *box)
{
	int err = a ? ctx_nonce(a, box) : rand_fill(box, AEAD_NONCE_LEN);

	if (err)
		return err;
	return gcm_crypt(a, 1, key, box, aad, aad_len, in, len,
			 box + AEAD_NONCE_LEN, box + AEAD_NONCE_LEN + len);
}

int aead_box_open_ctx(struct aead_ctx *a, const uint8_t key[AEAD_KEY_LEN],
		      const void *aad, size_t aad_len, const uint8_t *box,
		      size_t box_len, void *out)
{
	size_t len;

	if (box_len < AEAD_OVERHEAD)
		return -EBADMSG;
	len = box_len - AEAD_OVERHEAD;
	return gcm_crypt(a, 0, key, box, aad, aad_len, box + AEAD_NONCE_LEN,
			 len, out, (uint8_t *)box + AEAD_NONCE_LEN + len);
}

int aead_box_seal(const uint8_t key[AEAD_KEY_LEN], const void *aad,
		  size_t aad_len, const void *in, size_t len, uint8_t *box)
{
	int err = rand_fill(box, AEAD_NONCE_LEN);

	if (err)
		return err;
	return aead_seal(key, box, aad, aad_len, in, len, box + AEAD_NONCE_LEN,
			 box + AEAD_NONCE_LEN + len);
}

int aead_box_open(const uint8_t key[AEAD_KEY_LEN], const void *aad,
		  size_t aad_len, const uint8_t *box, size_t box_len, void *out)
{
	size_t len;

	if (box_len < AEAD_OVERHEAD)
		return -EBADMSG;
	len = box_len - AEAD_OVERHEAD;
	return aead_open(key, box, aad, aad_len, box + AEAD_NONCE_LEN, len,
			 out, box + AEAD_NONCE_LEN + len);
}

int kdf_hkdf(const uint8_t *ikm, size_t ikm_len, const void *salt,
	     size_t salt_len, const char *info, uint8_t *out, size_t out_len)
{
	EVP_KDF *kdf;
	EVP_KDF_CTX *kctx;
	OSSL_PARAM params[5], *p = params;
	int err = -EIO;

	kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	if (!kdf)
		return -ENOSYS;
	kctx = EVP_KDF_CTX_new(kdf);
	EVP_KDF_free(kdf);
	if (!kctx)
		return -ENOMEM;
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						(char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
						 (void *)ikm, ikm_len);
	if (salt_len)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
							 (void *)salt, salt_len);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
						 (void *)info, strlen(info));
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out, out_len, params) == 1)
		err = 0;
	EVP_KDF_CTX_free(kctx);
	if (err)
		OPENSSL_cleanse(out, out_len);
	return err;
}

/*
 * The HMAC method, fetched once: a fetch looks OpenSSL's method store up
 * under its locks, and costs more than a short MAC (one per state record
 * a settle appends).  It holds no key; it lives as long as the process.
 */
static EVP_MAC *hmac_method;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;

static void hmac_fetch(void)
{
	hmac_method = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

static EVP_MAC *hmac_get(void)
{
	pthread_once(&hmac_once, hmac_fetch);
	return hmac_method;
}

int kdf_hmac(const uint8_t key[32], const void *msg, size_t len,
	     uint8_t mac[32])
{
	EVP_MAC *hmac = hmac_get();
	EVP_MAC_CTX *mctx;
	OSSL_PARAM params[2];
	size_t outl = 0;
	int err = -EIO;

	if (!hmac)
		return -ENOSYS;
	mctx = EVP_MAC_CTX_new(hmac);
	if (!mctx)
		return -ENOMEM;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(mctx, key, 32, params) == 1 &&
	    EVP_MAC_update(mctx, msg, len) == 1 &&
	    EVP_MAC_final(mctx, mac, &outl, 32) == 1 && outl == 32)
		err = 0;
	EVP_MAC_CTX_free(mctx);
	return err;
}

struct kdf_hmac_batch {
	EVP_MAC_CTX *ctx;		/* keyed; holds the key's pads */
};

int kdf_hmac_begin(const uint8_t key[32], struct kdf_hmac_batch **out)
{
	struct kdf_hmac_batch *b;
	EVP_MAC *hmac = hmac_get();
	OSSL_PARAM params[2];
	int err = -EIO;

	*out = NULL;
	if (!hmac)
		return -ENOSYS;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->ctx = EVP_MAC_CTX_new(hmac);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (b->ctx && EVP_MAC_init(b->ctx, key, 32, params) == 1)
		err = 0;
	if (err) {
		kdf_hmac_end(b);
		return err;
	}
	*out = b;
	return 0;
}

int kdf_hmac_next(struct kdf_hmac_batch *b, const void *msg, size_t len,
		  uint8_t mac[32])
{
	size_t outl = 0;

	/* A NULL key re-initialises with the key already set. */
	if (EVP_MAC_init(b->ctx, NULL, 0, NULL) == 1 &&
	    EVP_MAC_update(b->ctx, msg, len) == 1 &&
	    EVP_MAC_final(b->ctx, mac, &outl, 32) == 1 && outl == 32)
		return 0;
	return -EIO;
}

void kdf_hmac_end(struct kdf_hmac_batch *b)
{
	if (!b)
		return;
	EVP_MAC_CTX_free(b->ctx);	/* cleanses the key's state */
	free(b);
}

int rand_fill(void *buf, size_t len)
{
	if (len > INT_MAX)
		return -EINVAL;
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -EIO;
}

int ct_memcmp(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) ? 1 : 0;
}

/*
 * AES-SIV (RFC 5297), built on AES alone, with exactly one associated-data
 * component.  OpenSSL 3.0's own "AES-256-SIV" cannot be re-used once keyed
 * (one operation per key set-up) and fetches CMAC, CBC and CTR by name at
 * every set-up, about 7 to 17 us per name; its CMAC and CTR, even kept
 * keyed, re-initialise per use through the provider's parameter handling,
 * which cost more than the AES.  Here a context keeps two keyed AES-ECB
 * contexts and does CMAC (RFC 4493) and CTR over them by the block, so a
 * one-block name costs two AES calls: S2V's first step, CMAC(K1, <zero>),
 * depends on the key alone and is kept with it, and its step over the AAD
 * is kept for the last AAD (names in one directory share it).  RFC 5297's
 * vector and a comparison with OpenSSL's own SIV check it (tests/unit/
 * test_names.c).
 */
static pthread_once_t siv_once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *siv_ecb[2];		/* AES-128-ECB, AES-256-ECB */

/* Fetched once: a fetch takes OpenSSL's store lock, lookups are hot. */
static void siv_fetch(void)
{
	siv_ecb[0] = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
	siv_ecb[1] = EVP_CIPHER_fetch(NULL, "AES-256-ECB", NULL);
}

/* Drop @s's key: OpenSSL cleanses the schedules as it frees them. */
static void siv_forget(struct aead_siv *s)
{
	EVP_CIPHER_CTX_free(s->k1);
	EVP_CIPHER_CTX_free(s->k2);
	s->k1 = NULL;
	s->k2 = NULL;
	s->key_len = 0;
	OPENSSL_cleanse(s->key, sizeof(s->key));
	OPENSSL_cleanse(s->sub, sizeof(s->sub));
	OPENSSL_cleanse(s->d0, sizeof(s->d0));
	OPENSSL_cleanse(s->d1, sizeof(s->d1));
	s->ad_ok = false;
}

/* @n bytes (whole blocks) of @in through the bare AES of @c, into @out. */
static int siv_aes(EVP_CIPHER_CTX *c, const uint8_t *in, size_t n,
		   uint8_t *out)
{
	int outl = 0;

	if (EVP_EncryptUpdate(c, out, &outl, in, (int)n) != 1 ||
	    outl != (int)n)
		return -EIO;
	return 0;
}

static void siv_dbl(uint8_t b[SIV_BLOCK]);

/* @n bytes at @off of @a (@alen bytes) followed by @b, into @out. */
static void siv_gather(const uint8_t *a, size_t alen, const uint8_t *b,
		       size_t off, size_t n, uint8_t *out)
{
	size_t k = off < alen ? alen - off : 0;

	if (k > n)
		k = n;
	if (k)
		memcpy(out, a + off, k);
	if (n > k)
		memcpy(out + k, b + (off + k - alen), n - k);
}

/*
 * CMAC (RFC 4493) under K1 of @a (@alen bytes) then @b (@blen), into
 * @mac: CBC-MAC whose last block is masked with a subkey, the first if
 * it is whole, the second after padding it with 10*.
 */
static int siv_cmac2(struct aead_siv *s, const void *a, size_t alen,
		     const void *b, size_t blen, uint8_t mac[SIV_BLOCK])
{
	uint8_t x[SIV_BLOCK] = { 0 }, m[SIV_BLOCK];
	size_t n = alen + blen, last = n ? (n - 1) % SIV_BLOCK + 1 : 0;
	size_t off, i;
	int err = 0;

	for (off = 0; off + last < n && !err; off += SIV_BLOCK) {
		siv_gather(a, alen, b, off, SIV_BLOCK, m);
		for (i = 0; i < SIV_BLOCK; i++)
			x[i] ^= m[i];
		err = siv_aes(s->k1, x, SIV_BLOCK, x);
	}
	if (!err) {
		memset(m, 0, SIV_BLOCK);
		siv_gather(a, alen, b, off, last, m);
		if (last < SIV_BLOCK)
			m[last] = 0x80;
		for (i = 0; i < SIV_BLOCK; i++)
			x[i] ^= m[i] ^ s->sub[last < SIV_BLOCK][i];
		err = siv_aes(s->k1, x, SIV_BLOCK, mac);
	}
	OPENSSL_cleanse(x, sizeof(x));
	OPENSSL_cleanse(m, sizeof(m));	/* may hold plaintext */
	return err;
}

/* Key @s with @key unless it holds it already (compared in constant time). */
static int siv_key(struct aead_siv *s, const uint8_t *key, size_t key_len)
{
	static const uint8_t zero[SIV_BLOCK];
	size_t half = key_len / 2;
	EVP_CIPHER *ecb;

	if (s->key_len == key_len && !CRYPTO_memcmp(s->key, key, key_len))
		return 0;
	siv_forget(s);
	pthread_once(&siv_once, siv_fetch);
	ecb = siv_ecb[half == 32];
	if (!ecb)
		return -EIO;
	s->k1 = EVP_CIPHER_CTX_new();
	s->k2 = EVP_CIPHER_CTX_new();
	if (!s->k1 || !s->k2 ||
	    EVP_EncryptInit_ex2(s->k1, ecb, key, NULL, NULL) != 1 ||
	    EVP_EncryptInit_ex2(s->k2, ecb, key + half, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(s->k1, 0) != 1 ||
	    EVP_CIPHER_CTX_set_padding(s->k2, 0) != 1)
		goto out_forget;
	/* RFC 4493's subkeys: dbl(AES(K1, <zero>)), and dbl of that. */
	if (siv_aes(s->k1, zero, SIV_BLOCK, s->sub[0]))
		goto out_forget;
	siv_dbl(s->sub[0]);
	memcpy(s->sub[1], s->sub[0], SIV_BLOCK);
	siv_dbl(s->sub[1]);
	s->key_len = key_len;
	if (siv_cmac2(s, zero, sizeof(zero), NULL, 0, s->d0))
		goto out_forget;
	memcpy(s->key, key, key_len);
	return 0;
out_forget:
	siv_forget(s);
	return -EIO;
}

/* RFC 5297 dbl(): doubling in GF(2^128). */
static void siv_dbl(uint8_t b[SIV_BLOCK])
{
	uint8_t carry = b[0] >> 7;
	int i;

	for (i = 0; i < SIV_BLOCK - 1; i++)
		b[i] = (uint8_t)(b[i] << 1 | b[i + 1] >> 7);
	b[SIV_BLOCK - 1] = (uint8_t)(b[SIV_BLOCK - 1] << 1 ^ (carry * 0x87));
}

/* S2V(K1, @aad, @p) of RFC 5297 2.4, into @v. */
static int siv_s2v(struct aead_siv *s, const void *aad, size_t aad_len,
		   const uint8_t *p, size_t len, uint8_t v[SIV_BLOCK])
{
	uint8_t d[SIV_BLOCK], t[SIV_BLOCK];
	size_t i, head;
	int err;

	if (s->ad_ok && s->ad_len == aad_len &&
	    (!aad_len || !memcmp(s->ad, aad, aad_len))) {
		memcpy(d, s->d1, SIV_BLOCK);
	} else {
		memcpy(d, s->d0, SIV_BLOCK);
		err = siv_cmac2(s, aad, aad_len, NULL, 0, t);
		if (err)
			goto out;
		siv_dbl(d);
		for (i = 0; i < SIV_BLOCK; i++)
			d[i] ^= t[i];
		s->ad_ok = aad_len <= SIV_AD_KEEP;
		if (s->ad_ok) {
			if (aad_len)
				memcpy(s->ad, aad, aad_len);
			s->ad_len = aad_len;
			memcpy(s->d1, d, SIV_BLOCK);
		}
	}
	if (len >= SIV_BLOCK) {
		/* xorend: D into the last block, the rest as it is. */
		head = len - SIV_BLOCK;
		for (i = 0; i < SIV_BLOCK; i++)
			t[i] = p[head + i] ^ d[i];
		err = siv_cmac2(s, p, head, t, SIV_BLOCK, v);
	} else {
		siv_dbl(d);
		memset(t, 0, SIV_BLOCK);
		memcpy(t, p, len);
		t[len] = 0x80;
		for (i = 0; i < SIV_BLOCK; i++)
			t[i] ^= d[i];
		err = siv_cmac2(s, t, SIV_BLOCK, NULL, 0, v);
	}
out:
	OPENSSL_cleanse(d, sizeof(d));
	OPENSSL_cleanse(t, sizeof(t));	/* holds plaintext */
	return err;
}

/*
 * CTR under K2 from the synthetic IV @v, its bits 63 and 31 cleared: the
 * keystream is AES of the counter blocks, SIV_CTR_RUN of them per call,
 * the counter a 128-bit big-endian number (as OpenSSL's CTR).
 */
static int siv_ctr_crypt(struct aead_siv *s, const uint8_t v[SIV_BLOCK],
			 const uint8_t *in, size_t len, uint8_t *out)
{
	uint8_t q[SIV_BLOCK], ks[SIV_CTR_RUN * SIV_BLOCK];
	size_t off, run, i;
	int j, err = 0;

	memcpy(q, v, SIV_BLOCK);
	q[8] &= 0x7f;
	q[12] &= 0x7f;
	for (off = 0; off < len && !err; off += run) {
		run = len - off < sizeof(ks) ? len - off : sizeof(ks);
		for (i = 0; i < run; i += SIV_BLOCK) {
			memcpy(ks + i, q, SIV_BLOCK);
			for (j = SIV_BLOCK - 1; j >= 0 && !++q[j]; j--)
				;
		}
		err = siv_aes(s->k2, ks, (run + SIV_BLOCK - 1) / SIV_BLOCK *
			      SIV_BLOCK, ks);
		for (i = 0; i < run && !err; i++)
			out[off + i] = in[off + i] ^ ks[i];
	}
	OPENSSL_cleanse(ks, sizeof(ks));
	return err;
}

/*
 * Seal or open through @s, keyed first if need be.  An open decrypts,
 * then checks the synthetic IV over the plaintext, wiping it on mismatch.
 */
static int siv_crypt(struct aead_siv *s, int enc, const uint8_t *key,
		     size_t key_len, const void *aad, size_t aad_len,
		     const uint8_t *in, size_t len, uint8_t *out, uint8_t *siv)
{
	uint8_t v[SIV_BLOCK];
	int err;

	if (key_len != AEAD_SIV_KEY_LEN && key_len != 32)
		return -EINVAL;
	if (aad_len > INT_MAX || len > INT_MAX)
		return -EINVAL;
	err = siv_key(s, key, key_len);
	if (err)
		return err;
	if (enc) {
		err = siv_s2v(s, aad, aad_len, in, len, siv);
		if (!err)
			err = siv_ctr_crypt(s, siv, in, len, out);
	} else {
		err = siv_ctr_crypt(s, siv, in, len, out);
		if (!err)
			err = siv_s2v(s, aad, aad_len, out, len, v);
		if (!err && CRYPTO_memcmp(v, siv, SIV_BLOCK))
			err = -EBADMSG;
	}
	if (err && len)
		OPENSSL_cleanse(out, len);
	return err;
}

/* Through @a's keyed SIV, or a set-up for this call alone. */
static int siv_call(struct aead_ctx *a, int enc, const uint8_t *key,
		    size_t key_len, const void *aad, size_t aad_len,
		    const uint8_t *in, size_t len, uint8_t *out, uint8_t *siv)
{
	struct aead_siv once = { 0 };
	int err;

	if (a)
		return siv_crypt(&a->siv, enc, key, key_len, aad, aad_len, in,
				 len, out, siv);
	err = siv_crypt(&once, enc, key, key_len, aad, aad_len, in, len, out,
			siv);
	siv_forget(&once);
	return err;
}

int aead_siv_seal_ctx(struct aead_ctx *a, const uint8_t *key, size_t key_len,
		      const void *aad, size_t aad_len, const void *in,
		      size_t len, uint8_t *out)
{
	return siv_call(a, 1, key, key_len, aad, aad_len, in, len,
			out + AEAD_SIV_LEN, out);
}

int aead_siv_open_ctx(struct aead_ctx *a, const uint8_t *key, size_t key_len,
		      const void *aad, size_t aad_len, const uint8_t *in,
		      size_t len, void *out)
{
	if (len < AEAD_SIV_LEN)
		return -EBADMSG;
	return siv_call(a, 0, key, key_len, aad, aad_len, in + AEAD_SIV_LEN,
			len - AEAD_SIV_LEN, out, (uint8_t *)in);
}

int aead_siv_seal(const uint8_t *key, size_t key_len, const void *aad,
		  size_t aad_len, const void *in, size_t len, uint8_t *out)
{
	return aead_siv_seal_ctx(NULL, key, key_len, aad, aad_len, in, len,
				 out);
}

int aead_siv_open(const uint8_t *key, size_t key_len, const void *aad,
		  size_t aad_len, const uint8_t *in, size_t len, void *out)
{
	return aead_siv_open_ctx(NULL, key, key_len, aad, aad_len, in, len,
				 out);
}

void aead_ctx_forget_siv(struct aead_ctx *a)
{
	if (a)
		siv_forget(&a->siv);
}

int hash_sha256(const void *in, size_t len, uint8_t md[32])
{
	return EVP_Digest(in, len, md, NULL, EVP_sha256(), NULL) == 1 ? 0 :
	       -EIO;
}
