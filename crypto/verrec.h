/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * crypto/verrec.h - the records that let a rolled-back file be recognised:
 * a file's version record, kept on the file (an xattr, sealed under its
 * DEK), and this machine's record of the last version it saw (a state
 * journal entry outside the volume, MACed with a KEK subkey).
 *
 * Version record, VERREC_LEN bytes (docs/format.md 6.3):
 *	box(DEK, aad = 'V' || file_id, plaintext of VERREC_PLAIN_LEN)
 *	plaintext: le64 counter || le64 size || tag(16) || u8 flags
 * A clean record (flags 0) names the file's plaintext size and the GCM
 * tag of its last extent as on disk (zeros for size 0); a dirty one
 * (VERREC_F_DIRTY) says the file is being changed and carries neither.
 *
 * State record, VERREC_STATE_LEN bytes:
 *	file_id(16) || le64 counter || first 16 bytes of
 *	HMAC(state key, file_id || le64 counter)
 * with the state key HKDF(KEK, salt = volume uuid, "atrestfs v1 file
 * state").  Counter 0 drops what was recorded of the file.
 * These functions are the only readers and writers of both layouts.
 */
#ifndef ATR_VERREC_H
#define ATR_VERREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "extent.h"
#include "kek.h"

#define VERREC_PLAIN_LEN	(8 + 8 + AEAD_TAG_LEN + 1)
#define VERREC_LEN		(VERREC_PLAIN_LEN + AEAD_OVERHEAD)
/* Written before a change, replaced by a clean record once it settles. */
#define VERREC_F_DIRTY		0x01
/*
 * The daemon found the file changed in the backing directory while it was
 * open: the file stays refused after a remount, until trusted or removed.
 */
#define VERREC_F_CUT		0x02
#define VERREC_F_KNOWN		(VERREC_F_DIRTY | VERREC_F_CUT)

struct verrec {
	uint64_t counter;		/* 1 for a file's first version */
	uint64_t size;			/* plaintext bytes; 0 when dirty */
	uint8_t tag[AEAD_TAG_LEN];	/* of the last extent; zeros when dirty */
	uint8_t flags;			/* VERREC_F_* */
};

/*
 * Seal @v into @rec under the file's DEK.  -EINVAL for a bad @v.  @ac: a
 * thread's reusable context (aead.h), or NULL.
 */
int verrec_seal(const struct file_key *fk, const struct verrec *v,
		uint8_t rec[VERREC_LEN]);
int verrec_seal_ctx(struct aead_ctx *ac, const struct file_key *fk,
		    const struct verrec *v, uint8_t rec[VERREC_LEN]);
/*
 * Open @len bytes of @rec into @v: -EBADMSG if it is not exactly a record
 * of this file that authenticates and is well formed (counter 0, unknown
 * flags, or a dirty record with a size or tag).
 */
int verrec_open(const struct file_key *fk, const void *rec, size_t len,
		struct verrec *v);
/*
 * Is @v older than version @seen, the last this machine saw settle?  A
 * change settles under its dirty record's counter, so a dirty record of
 * counter @seen is from before that settle.
 */
bool verrec_older(const struct verrec *v, uint64_t seen);

#define VERREC_STATE_LEN	(FILE_ID_LEN + 8 + 16)
#define VERREC_STATE_KEY_LEN	32

/* The state key of the volume @uuid.  @key is the caller's to wipe. */
int verrec_state_key(const struct kek *kek, const uint8_t uuid[VOL_UUID_LEN],
		     uint8_t key[VERREC_STATE_KEY_LEN]);
/*
 * @b: a batch keyed with @key (aead.h), for a loop over many records, or
 * NULL.  verrec_state_open() is -EBADMSG if the MAC does not verify.
 */
int verrec_state_seal(const uint8_t key[VERREC_STATE_KEY_LEN],
		      struct kdf_hmac_batch *b, const uint8_t id[FILE_ID_LEN],
		      uint64_t counter, uint8_t rec[VERREC_STATE_LEN]);
int verrec_state_open(const uint8_t key[VERREC_STATE_KEY_LEN],
		      struct kdf_hmac_batch *b,
		      const uint8_t rec[VERREC_STATE_LEN],
		      uint8_t id[FILE_ID_LEN], uint64_t *counter);

/*
 * End copy record (docs/format.md 6.4), the head of a file's entry in the
 * state directory's ends/ (fs/endcopy.c), followed there by the sealed
 * bytes of one extent as they were before a write rewrote it in place:
 *	box(DEK, aad = 'E' || file_id, plaintext of VERREC_END_PLAIN_LEN)
 *	plaintext: le64 counter || le64 backing size || le64 index || tag(16)
 * @counter is that of the file's dirty version record at the write, the
 * backing size the file's before it, @tag the GCM tag of the copied
 * extent, which binds its bytes to this record.
 */
#define VERREC_END_PLAIN_LEN	(8 + 8 + 8 + AEAD_TAG_LEN)
#define VERREC_END_LEN		(VERREC_END_PLAIN_LEN + AEAD_OVERHEAD)

struct verrec_end {
	uint64_t counter;		/* the dirty record's, at least 1 */
	uint64_t backing_size;		/* before the write */
	uint64_t index;			/* the extent copied */
	uint8_t tag[AEAD_TAG_LEN];	/* of the copied extent */
};

int verrec_end_seal(struct aead_ctx *ac, const struct file_key *fk,
		    const struct verrec_end *e, uint8_t rec[VERREC_END_LEN]);
/* -EBADMSG if @rec is not a record of this file that authenticates. */
int verrec_end_open(const struct file_key *fk,
		    const uint8_t rec[VERREC_END_LEN], struct verrec_end *e);

/*
 * A file ID that a run of atrestfs rekey --all has made, in this
 * machine's record of the run (docs/format.md 12):
 *	file_id(16) || first 16 bytes of HMAC(state_mac_key,
 *	"atrestfs rekey v1\n" || file_id)
 * verrec_done_open() is -EBADMSG if the MAC does not verify.
 */
#define VERREC_DONE_LEN		(FILE_ID_LEN + 16)
int verrec_done_seal(const uint8_t key[32], const uint8_t id[FILE_ID_LEN],
		     uint8_t rec[VERREC_DONE_LEN]);
int verrec_done_open(const uint8_t key[32], const uint8_t rec[VERREC_DONE_LEN],
		     uint8_t id[FILE_ID_LEN]);

#endif
