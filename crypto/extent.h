/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * crypto/extent.h - the extent codec: one extent of plaintext sealed with
 * AES-256-GCM under its file's DEK, and the geometry that maps plaintext
 * offsets to backing offsets.
 *
 * On disk an extent is nonce(12) || ciphertext || tag(16).  Every extent
 * but the last holds exactly extent_size bytes of plaintext; the last holds
 * 1..extent_size.  The AAD is
 *	'E' || file_id(16) || le64(index) || u8(is_last)
 * so an extent cannot move to another position or file, and a file cut
 * short at an extent boundary fails: its new last extent was sealed with
 * is_last = 0.
 */
#ifndef ATR_EXTENT_H
#define ATR_EXTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aead.h"

#define FILE_ID_LEN		16
#define EXTENT_OVERHEAD		AEAD_OVERHEAD
#define EXTENT_MIN_SHIFT	12	/* 4 KiB */
#define EXTENT_MAX_SHIFT	20	/* 1 MiB */
#define EXTENT_DEFAULT_SIZE	4096
/* Record that authorises holes in one file: nonce || tag, see extent.c. */
#define EXTENT_SPARSE_LEN	AEAD_OVERHEAD

/*
 * A file's data key.  Lives in secmem; made by hdr_create()/hdr_unwrap(),
 * released by file_key_free(), which wipes it.
 */
struct file_key {
	uint8_t dek[AEAD_KEY_LEN];
	uint8_t file_id[FILE_ID_LEN];
};

void file_key_free(struct file_key *fk);

/* True if @size is a power of two within [4 KiB, 1 MiB]. */
bool extent_size_valid(uint64_t size);

static inline uint64_t extent_disk_size(uint32_t esize)
{
	return (uint64_t)esize + EXTENT_OVERHEAD;
}

static inline uint64_t extent_disk_off(uint32_t esize, uint64_t index)
{
	return index * extent_disk_size(esize);
}

/* Plaintext size of a backing file; -EBADMSG if no valid file has it. */
int extent_plain_size(uint32_t esize, uint64_t backing, uint64_t *plain);
uint64_t extent_backing_size(uint32_t esize, uint64_t plain);

/*
 * @len is 1..esize (the last extent) or esize; @out receives
 * len + EXTENT_OVERHEAD bytes with a fresh random nonce.
 */
int extent_seal(const struct file_key *fk, uint64_t index, bool last,
		const void *in, size_t len, void *out);
/*
 * @disk_len is the on-disk length (plaintext + EXTENT_OVERHEAD).  Returns
 * -EBADMSG if the extent does not authenticate at this position; then
 * @out is wiped.
 */
int extent_open(const struct file_key *fk, uint64_t index, bool last,
		const void *in, size_t disk_len, void *out);

/*
 * The same through a thread's reusable context (crypto/aead.h), which keeps
 * the DEK's key schedule between extents of one file.  @ac may be NULL.
 */
int extent_seal_ctx(struct aead_ctx *ac, const struct file_key *fk,
		    uint64_t index, bool last, const void *in, size_t len,
		    void *out);
int extent_open_ctx(struct aead_ctx *ac, const struct file_key *fk,
		    uint64_t index, bool last, const void *in,
		    size_t disk_len, void *out);

/* All-zero backing bytes: an unwritten extent (a hole), see docs/format.md. */
bool extent_is_hole(const void *disk, size_t len);

/*
 * The sparse record is stored once in a file's HDR_SPARSE_XATTR before the
 * first hole is made.  Only files carrying a valid one may read all-zero
 * extents as holes; elsewhere they are tampering.
 */
int extent_sparse_seal(const struct file_key *fk,
		       uint8_t rec[EXTENT_SPARSE_LEN]);
int extent_sparse_check(const struct file_key *fk, const void *rec,
			size_t len);

#endif
