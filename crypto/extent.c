// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * crypto/extent.c - seal and open one extent (AES-256-GCM).
 * Owns: the extent AAD layout, size geometry, hole and sparse records.
 * Borrows the DEK from struct file_key; whoever made it wipes it.
 */
#include <errno.h>
#include <string.h>

#include "extent.h"
#include "secmem.h"

#define EXTENT_AAD_LEN	(1 + FILE_ID_LEN + 8 + 1)

void file_key_free(struct file_key *fk)
{
	secmem_free(fk, sizeof(*fk));
}

bool extent_size_valid(uint64_t size)
{
	return size >= (1u << EXTENT_MIN_SHIFT) &&
	       size <= (1u << EXTENT_MAX_SHIFT) && !(size & (size - 1));
}

int extent_plain_size(uint32_t esize, uint64_t backing, uint64_t *plain)
{
	uint64_t dsize = extent_disk_size(esize);
	uint64_t full = backing / dsize, rem = backing % dsize;

	*plain = full * esize;
	if (rem == 0)
		return 0;
	/* A tail of 1..28 bytes cannot hold even one byte of plaintext. */
	if (rem <= EXTENT_OVERHEAD)
		return -EBADMSG;
	*plain += rem - EXTENT_OVERHEAD;
	return 0;
}

uint64_t extent_backing_size(uint32_t esize, uint64_t plain)
{
	uint64_t full = plain / esize, rem = plain % esize;

	return full * extent_disk_size(esize) + (rem ? rem + EXTENT_OVERHEAD : 0);
}

static void extent_aad(const struct file_key *fk, uint64_t index, bool last,
		       uint8_t aad[EXTENT_AAD_LEN])
{
	int i;

	aad[0] = 'E';
	memcpy(aad + 1, fk->file_id, FILE_ID_LEN);
	for (i = 0; i < 8; i++)
		aad[1 + FILE_ID_LEN + i] = (uint8_t)(index >> (8 * i));
	aad[EXTENT_AAD_LEN - 1] = last;
}

int extent_seal_ctx(struct aead_ctx *ac, const struct file_key *fk,
		    uint64_t index, bool last, const void *in, size_t len,
		    void *out)
{
	uint8_t aad[EXTENT_AAD_LEN];

	extent_aad(fk, index, last, aad);
	return aead_box_seal_ctx(ac, fk->dek, aad, sizeof(aad), in, len, out);
}

int extent_open_ctx(struct aead_ctx *ac, const struct file_key *fk,
		    uint64_t index, bool last, const void *in,
		    size_t disk_len, void *out)
{
	uint8_t aad[EXTENT_AAD_LEN];

	/* An empty last extent is never written: an empty file has none. */
	if (disk_len <= EXTENT_OVERHEAD)
		return -EBADMSG;
	extent_aad(fk, index, last, aad);
	return aead_box_open_ctx(ac, fk->dek, aad, sizeof(aad), in, disk_len,
				 out);
}

int extent_seal(const struct file_key *fk, uint64_t index, bool last,
		const void *in, size_t len, void *out)
{
	return extent_seal_ctx(NULL, fk, index, last, in, len, out);
}

int extent_open(const struct file_key *fk, uint64_t index, bool last,
		const void *in, size_t disk_len, void *out)
{
	return extent_open_ctx(NULL, fk, index, last, in, disk_len, out);
}

bool extent_is_hole(const void *disk, size_t len)
{
	const uint8_t *p = disk;

	/* Real ciphertext is all zero with probability 2^-(8 * len). */
	return len && p[0] == 0 && !memcmp(p, p + 1, len - 1);
}

int extent_sparse_seal(const struct file_key *fk,
		       uint8_t rec[EXTENT_SPARSE_LEN])
{
	uint8_t aad[1 + FILE_ID_LEN] = { 'S' };

	memcpy(aad + 1, fk->file_id, FILE_ID_LEN);
	return aead_box_seal(fk->dek, aad, sizeof(aad), NULL, 0, rec);
}

int extent_sparse_check(const struct file_key *fk, const void *rec,
			size_t len)
{
	uint8_t aad[1 + FILE_ID_LEN] = { 'S' };

	if (len != EXTENT_SPARSE_LEN)
		return -EBADMSG;
	memcpy(aad + 1, fk->file_id, FILE_ID_LEN);
	return aead_box_open(fk->dek, aad, sizeof(aad), rec, len, NULL);
}
