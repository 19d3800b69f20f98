// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * crypto/verrec.c - seal and open version records and state records.
 * Owns both byte layouts (verrec.h).  Borrows the DEK and the state key;
 * plaintext on the stack is cleansed before return.
 */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "verrec.h"

#define VER_AAD_LEN	(1 + FILE_ID_LEN)
#define STATE_MSG_LEN	(FILE_ID_LEN + 8)
#define STATE_MAC_LEN	(VERREC_STATE_LEN - STATE_MSG_LEN)

static void put_le64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void ver_aad(const struct file_key *fk, uint8_t aad[VER_AAD_LEN])
{
	aad[0] = 'V';
	memcpy(aad + 1, fk->file_id, FILE_ID_LEN);
}

static bool zero(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/* A record both ends agree on: counting from 1, dirty ones bare. */
static bool ver_ok(const struct verrec *v)
{
	if (v->counter == 0 || v->flags & ~VERREC_F_KNOWN)
		return false;
	return !(v->flags & (VERREC_F_DIRTY | VERREC_F_CUT)) ||
	       (v->size == 0 && zero(v->tag, AEAD_TAG_LEN));
}

bool verrec_older(const struct verrec *v, uint64_t seen)
{
	return v->counter < seen ||
	       (v->flags & VERREC_F_DIRTY && v->counter == seen);
}

int verrec_seal(const struct file_key *fk, const struct verrec *v,
		uint8_t rec[VERREC_LEN])
{
	return verrec_seal_ctx(NULL, fk, v, rec);
}

int verrec_seal_ctx(struct aead_ctx *ac, const struct file_key *fk,
		    const struct verrec *v, uint8_t rec[VERREC_LEN])
{
	uint8_t aad[VER_AAD_LEN], pt[VERREC_PLAIN_LEN];
	int err;

	if (!ver_ok(v))
		return -EINVAL;
	put_le64(pt, v->counter);
	put_le64(pt + 8, v->size);
	memcpy(pt + 16, v->tag, AEAD_TAG_LEN);
	pt[16 + AEAD_TAG_LEN] = v->flags;
	ver_aad(fk, aad);
	err = aead_box_seal_ctx(ac, fk->dek, aad, sizeof(aad), pt, sizeof(pt),
				rec);
	OPENSSL_cleanse(pt, sizeof(pt));
	return err;
}

int verrec_open(const struct file_key *fk, const void *rec, size_t len,
		struct verrec *v)
{
	uint8_t aad[VER_AAD_LEN], pt[VERREC_PLAIN_LEN];
	int err;

	if (len != VERREC_LEN)
		return -EBADMSG;
	ver_aad(fk, aad);
	err = aead_box_open(fk->dek, aad, sizeof(aad), rec, len, pt);
	if (err)
		return err;
	v->counter = get_le64(pt);
	v->size = get_le64(pt + 8);
	memcpy(v->tag, pt + 16, AEAD_TAG_LEN);
	v->flags = pt[16 + AEAD_TAG_LEN];
	OPENSSL_cleanse(pt, sizeof(pt));
	return ver_ok(v) ? 0 : -EBADMSG;
}

static void end_aad(const struct file_key *fk, uint8_t aad[VER_AAD_LEN])
{
	aad[0] = 'E';	/* no version record passes for one of these */
	memcpy(aad + 1, fk->file_id, FILE_ID_LEN);
}

int verrec_end_seal(struct aead_ctx *ac, const struct file_key *fk,
		    const struct verrec_end *e, uint8_t rec[VERREC_END_LEN])
{
	uint8_t aad[VER_AAD_LEN], pt[VERREC_END_PLAIN_LEN];
	int err;

	if (e->counter == 0)
		return -EINVAL;
	put_le64(pt, e->counter);
	put_le64(pt + 8, e->backing_size);
	put_le64(pt + 16, e->index);
	memcpy(pt + 24, e->tag, AEAD_TAG_LEN);
	end_aad(fk, aad);
	err = aead_box_seal_ctx(ac, fk->dek, aad, sizeof(aad), pt, sizeof(pt),
				rec);
	OPENSSL_cleanse(pt, sizeof(pt));
	return err;
}

int verrec_end_open(const struct file_key *fk,
		    const uint8_t rec[VERREC_END_LEN], struct verrec_end *e)
{
	uint8_t aad[VER_AAD_LEN], pt[VERREC_END_PLAIN_LEN];
	int err;

	end_aad(fk, aad);
	err = aead_box_open(fk->dek, aad, sizeof(aad), rec, VERREC_END_LEN, pt);
	if (err)
		return err;
	e->counter = get_le64(pt);
	e->backing_size = get_le64(pt + 8);
	e->index = get_le64(pt + 16);
	memcpy(e->tag, pt + 24, AEAD_TAG_LEN);
	OPENSSL_cleanse(pt, sizeof(pt));
	return e->counter ? 0 : -EBADMSG;
}

int verrec_state_key(const struct kek *kek, const uint8_t uuid[VOL_UUID_LEN],
		     uint8_t key[VERREC_STATE_KEY_LEN])
{
	return kdf_hkdf(kek->key, KEK_LEN, uuid, VOL_UUID_LEN,
			"atrestfs v1 file state", key, VERREC_STATE_KEY_LEN);
}

static int state_mac(const uint8_t key[VERREC_STATE_KEY_LEN],
		     struct kdf_hmac_batch *b,
		     const uint8_t msg[STATE_MSG_LEN],
		     uint8_t mac[STATE_MAC_LEN])
{
	uint8_t full[32];
	int err = b ? kdf_hmac_next(b, msg, STATE_MSG_LEN, full) :
		      kdf_hmac(key, msg, STATE_MSG_LEN, full);

	memcpy(mac, full, STATE_MAC_LEN);
	return err;
}

int verrec_state_seal(const uint8_t key[VERREC_STATE_KEY_LEN],
		      struct kdf_hmac_batch *b, const uint8_t id[FILE_ID_LEN],
		      uint64_t counter, uint8_t rec[VERREC_STATE_LEN])
{
	memcpy(rec, id, FILE_ID_LEN);
	put_le64(rec + FILE_ID_LEN, counter);
	return state_mac(key, b, rec, rec + STATE_MSG_LEN);
}

int verrec_state_open(const uint8_t key[VERREC_STATE_KEY_LEN],
		      struct kdf_hmac_batch *b,
		      const uint8_t rec[VERREC_STATE_LEN],
		      uint8_t id[FILE_ID_LEN], uint64_t *counter)
{
	uint8_t mac[STATE_MAC_LEN];
	int err = state_mac(key, b, rec, mac);

	if (err)
		return err;
	if (ct_memcmp(mac, rec + STATE_MSG_LEN, STATE_MAC_LEN))
		return -EBADMSG;
	memcpy(id, rec, FILE_ID_LEN);
	*counter = get_le64(rec + FILE_ID_LEN);
	return 0;
}

/*
 * Its own text in the MAC, so that no record of the files journal, nor
 * a state record (whose MAC input has "atrestfs state v1" after its
 * name), passes for one of these.
 */
#define DONE_DOMAIN	"atrestfs rekey v1\n"

static int done_mac(const uint8_t key[32], const uint8_t id[FILE_ID_LEN],
		    uint8_t mac[32])
{
	uint8_t msg[sizeof(DONE_DOMAIN) - 1 + FILE_ID_LEN];

	memcpy(msg, DONE_DOMAIN, sizeof(DONE_DOMAIN) - 1);
	memcpy(msg + sizeof(DONE_DOMAIN) - 1, id, FILE_ID_LEN);
	return kdf_hmac(key, msg, sizeof(msg), mac);
}

int verrec_done_seal(const uint8_t key[32], const uint8_t id[FILE_ID_LEN],
		     uint8_t rec[VERREC_DONE_LEN])
{
	uint8_t mac[32];
	int err = done_mac(key, id, mac);

	if (err)
		return err;
	memcpy(rec, id, FILE_ID_LEN);
	memcpy(rec + FILE_ID_LEN, mac, VERREC_DONE_LEN - FILE_ID_LEN);
	return 0;
}

int verrec_done_open(const uint8_t key[32], const uint8_t rec[VERREC_DONE_LEN],
		     uint8_t id[FILE_ID_LEN])
{
	uint8_t mac[32];
	int err = done_mac(key, rec, mac);

	if (err)
		return err;
	if (ct_memcmp(mac, rec + FILE_ID_LEN, VERREC_DONE_LEN - FILE_ID_LEN))
		return -EBADMSG;
	memcpy(id, rec, FILE_ID_LEN);
	return 0;
}
