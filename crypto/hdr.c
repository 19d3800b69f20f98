// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * crypto/hdr.c - parse, build and (un)wrap per-file headers.
 * Owns the header byte layout; wrapped DEKs are opened straight into secmem.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "hdr.h"
#include "secmem.h"

struct hdr_disk {
	uint8_t magic[4];
	uint8_t version[2];
	uint8_t flags[2];
	uint8_t extent_shift;
	uint8_t reserved[7];
	uint8_t file_id[FILE_ID_LEN];
	uint8_t kek_id[KEK_ID_LEN];
	uint8_t nonce[AEAD_NONCE_LEN];
	uint8_t wrapped_dek[AEAD_KEY_LEN];
	uint8_t tag[AEAD_TAG_LEN];
};

_Static_assert(sizeof(struct hdr_disk) == HDR_SIZE, "on-disk ABI");
_Static_assert(offsetof(struct hdr_disk, nonce) == HDR_AAD_LEN, "AAD span");

int hdr_parse(const void *buf, size_t len, struct hdr *h)
{
	const struct hdr_disk *d = buf;
	static const uint8_t zero[sizeof(d->reserved)];
	unsigned int shift;

	/* Version first, so a newer header is named as such, not as junk. */
	if (len < offsetof(struct hdr_disk, flags) ||
	    memcmp(d->magic, HDR_MAGIC, 4))
		return -EBADMSG;
	h->version = (uint16_t)(d->version[0] | d->version[1] << 8);
	if (h->version != HDR_VERSION)
		return -EPROTONOSUPPORT;
	if (len != HDR_SIZE || memcmp(d->reserved, zero, sizeof(zero)))
		return -EBADMSG;
	h->flags = (uint16_t)(d->flags[0] | d->flags[1] << 8);
	if (h->flags & ~HDR_F_KNOWN)
		return -EBADMSG;
	shift = d->extent_shift;
	if (shift < EXTENT_MIN_SHIFT || shift > EXTENT_MAX_SHIFT)
		return -EBADMSG;
	h->extent_size = 1u << shift;
	memcpy(h->file_id, d->file_id, FILE_ID_LEN);
	memcpy(h->kek_id, d->kek_id, KEK_ID_LEN);
	memcpy(h->nonce, d->nonce, AEAD_NONCE_LEN);
	memcpy(h->wrapped_dek, d->wrapped_dek, AEAD_KEY_LEN);
	memcpy(h->tag, d->tag, AEAD_TAG_LEN);
	return 0;
}

void hdr_build(const struct hdr *h, uint8_t out[HDR_SIZE])
{
	struct hdr_disk *d = (struct hdr_disk *)out;

	memset(out, 0, HDR_SIZE);
	memcpy(d->magic, HDR_MAGIC, 4);
	d->version[0] = (uint8_t)h->version;
	d->version[1] = (uint8_t)(h->version >> 8);
	d->flags[0] = (uint8_t)h->flags;
	d->flags[1] = (uint8_t)(h->flags >> 8);
	d->extent_shift = (uint8_t)__builtin_ctz(h->extent_size);
	memcpy(d->file_id, h->file_id, FILE_ID_LEN);
	memcpy(d->kek_id, h->kek_id, KEK_ID_LEN);
	memcpy(d->nonce, h->nonce, AEAD_NONCE_LEN);
	memcpy(d->wrapped_dek, h->wrapped_dek, AEAD_KEY_LEN);
	memcpy(d->tag, h->tag, AEAD_TAG_LEN);
}

/*
 * Wrap @fk's DEK into @h under @kek; the AAD is the header's own bytes.
 * Nonce, wrapped DEK and tag follow the AAD in the box layout, so the
 * box is sealed in place, through @ac where the caller has one.
 */
static int seal(struct aead_ctx *ac, const struct kek *kek,
		uint32_t extent_size, const struct file_key *fk,
		uint16_t flags, struct hdr *h)
{
	uint8_t raw[HDR_SIZE];
	int err;

	if (!extent_size_valid(extent_size) || flags & ~HDR_F_KNOWN)
		return -EINVAL;
	memset(h, 0, sizeof(*h));
	h->version = HDR_VERSION;
	h->flags = flags;
	h->extent_size = extent_size;
	memcpy(h->file_id, fk->file_id, FILE_ID_LEN);
	memcpy(h->kek_id, kek->id, KEK_ID_LEN);
	hdr_build(h, raw);
	err = aead_box_seal_ctx(ac, kek->key, raw, HDR_AAD_LEN, fk->dek,
				AEAD_KEY_LEN, raw + HDR_AAD_LEN);
	if (err)
		return err;
	return hdr_parse(raw, HDR_SIZE, h);
}

int hdr_create(const struct kek *kek, uint32_t extent_size, uint16_t flags,
	       struct hdr *h, struct file_key **fkp)
{
	return hdr_create_ctx(NULL, kek, extent_size, flags, h, fkp);
}

int hdr_create_ctx(struct aead_ctx *ac, const struct kek *kek,
		   uint32_t extent_size, uint16_t flags, struct hdr *h,
		   struct file_key **fkp)
{
	struct file_key *fk;
	int err;

	if (!extent_size_valid(extent_size))
		return -EINVAL;
	fk = secmem_alloc(sizeof(*fk));
	if (!fk)
		return -ENOMEM;
	/*
	 * DEK and file ID in one draw: each DRBG call has a fixed cost about
	 * that of sealing the header, and one draw is as random as two.
	 */
	err = rand_fill(fk, sizeof(*fk));
	if (!err)
		err = seal(ac, kek, extent_size, fk, flags, h);
	if (err) {
		file_key_free(fk);
		return err;
	}
	*fkp = fk;
	return 0;
}

int hdr_rewrap(const struct kek *kek, uint32_t extent_size,
	       const struct file_key *fk, uint16_t flags, struct hdr *h)
{
	return seal(NULL, kek, extent_size, fk, flags, h);
}

int hdr_unwrap(const struct kek *kek, const struct hdr *h,
	       struct file_key **fkp)
{
	uint8_t raw[HDR_SIZE];
	struct file_key *fk;
	int err;

	/* During a rotation a header not yet rewrapped names the old KEK. */
	if (memcmp(h->kek_id, kek->id, KEK_ID_LEN) && kek->retiring &&
	    !memcmp(h->kek_id, kek->retiring->id, KEK_ID_LEN))
		kek = kek->retiring;
	if (memcmp(h->kek_id, kek->id, KEK_ID_LEN))
		return -ENOKEY;
	fk = secmem_alloc(sizeof(*fk));
	if (!fk)
		return -ENOMEM;
	hdr_build(h, raw);
	err = aead_open(kek->key, h->nonce, raw, HDR_AAD_LEN, h->wrapped_dek,
			AEAD_KEY_LEN, fk->dek, h->tag);
	if (err) {
		file_key_free(fk);
		return err;
	}
	memcpy(fk->file_id, h->file_id, FILE_ID_LEN);
	*fkp = fk;
	return 0;
}
