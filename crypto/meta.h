/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * crypto/meta.h - sealing of small metadata written through the mount:
 * user xattr values and symlink targets.  Both are user data and must not
 * reach the backing store in plaintext.  Sealed with the KEK's metadata key;
 * an xattr value is bound to its inode by the inode's value ID (below),
 * not its file ID: directories have none, and a file's changes (rekey, a
 * file emptied and written again).
 */
#ifndef ATR_META_H
#define ATR_META_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "kek.h"
#include "names.h"

/* Backing symlink targets start with this, then base64 of the sealed box. */
#define META_LINK_PREFIX	"atrestfs1:"
/* Longest target sealed into the backing target itself (PATH_MAX). */
#define META_LINK_SHORT_MAX	3000
/* Longest target of all: PATH_MAX - 1, as ext4 allows. */
#define META_LINK_MAX		4095
/*
 * A longer target's backing target: this, its random link ID in hex, ':'
 * and its length in decimal (the head); bound, also ':' and a tag (the
 * base64 of an AEAD box of nothing) binding the head to the link's
 * place.  Its sealed box is a record in the volume's link store
 * (volume/links.c), bound to the ID; a move re-tags the link only.
 */
#define META_LINK_LONG_PREFIX	"atrestfs2:"
#define META_LINK_ID_LEN	16
#define META_LINK_TAG_LEN	40	/* b64_enc_len(AEAD_OVERHEAD) */
/* The longest head, and the longest long form, without its NUL. */
#define META_LINK_HEAD_LEN	(sizeof(META_LINK_LONG_PREFIX) - 1 + \
				 2 * META_LINK_ID_LEN + 1 + 4)
#define META_LINK_LONG_LEN	(META_LINK_HEAD_LEN + 1 + META_LINK_TAG_LEN)

/*
 * The value ID: 16 random bytes in this xattr of a file or directory,
 * made at the first setxattr through the mount (volume/vid.c).  Values
 * sealed since are bound to it, so a value copied onto another inode
 * does not open there.
 */
#define META_VID_XATTR		"user.atrestfs.vid"
#define META_VID_LEN		16
/*
 * A value ID being made: its inode's older values are re-sealed bound to
 * it, then it becomes META_VID_XATTR (volume/vid.c).
 */
#define META_VID_NEW_XATTR	META_VID_XATTR "new"

/*
 * xattr: @out receives len + AEAD_OVERHEAD bytes; the value is bound to
 * @name and, with @vid (META_VID_LEN bytes), to its inode through the
 * AAD; a NULL @vid seals the form before value IDs (name only), for an
 * inode without one.  Open: @out receives box_len - AEAD_OVERHEAD; with
 * @vid it takes the bound form only, with NULL only the older one
 * (volvid_open() chooses for an inode).
 */
int meta_xattr_seal(const struct kek *kek, const uint8_t *vid,
		    const char *name, const void *val, size_t len, void *out);
/* Both opens also try @kek's retiring KEK, if it has one (rotation). */
int meta_xattr_open(const struct kek *kek, const uint8_t *vid,
		    const char *name, const void *box, size_t box_len,
		    void *out);

/*
 * Does the backing xattr @name hold a sealed user value: a user.* name
 * outside the reserved user.atrestfs., or a hidden user name (names.h)?
 * What a rotation re-seals, a rekey copies and fsck checks.
 */
bool meta_xattr_sealed(const char *name);

/*
 * Where a symlink is, on a volume whose targets are bound (the config's
 * "bound", docs/format.md 3.6): its directory's ID and its backing name.
 * A backing symlink carries no xattr, so its place is its only identity;
 * the backing name stands for the name (on encrypted volumes it is the
 * name's SIV ciphertext under that same ID), and needs no names key.
 * NULL for an @at below: the unbound form of older volumes.
 */
struct meta_link_at {
	uint8_t dirid[NAMES_DIRID_LEN];
	const char *name;		/* the backing name */
};

/*
 * Symlink target (a C string) to the backing target: *out is malloc()ed,
 * caller frees.  -ENAMETOOLONG past META_LINK_SHORT_MAX: a longer one
 * takes the long form (volume/links.c).
 */
int meta_link_seal(const struct kek *kek, const struct meta_link_at *at,
		   const char *target, char **out);
/*
 * Backing target to plaintext; *out malloc()ed, NUL-terminated.  The long
 * form is not opened here (its box is elsewhere): -EBADMSG.  -EBADMSG too
 * for a target sealed for another place (or form) than @at.
 */
int meta_link_open(const struct kek *kek, const struct meta_link_at *at,
		   const char *backing, char **out);
/*
 * Plaintext length from the backing target alone (for lstat st_size),
 * either form; -EBADMSG for anything else.
 */
ssize_t meta_link_len(const char *backing, size_t len);

/*
 * The long form.  meta_link_long_name() writes the head of a target of
 * @len bytes (META_LINK_SHORT_MAX < @len <= META_LINK_MAX) with link ID
 * @id into @out (META_LINK_LONG_LEN + 1).  _parse() takes exactly that
 * canonical text back, with or without a tag (1, with @id and *@len), and
 * answers 0 for the short form and -EBADMSG for anything else.
 */
void meta_link_long_name(const uint8_t id[META_LINK_ID_LEN], size_t len,
			 char *out);
int meta_link_long_parse(const char *backing, size_t blen,
			 uint8_t id[META_LINK_ID_LEN], size_t *len);
/*
 * The long form @backing (parsed) checked for @at: with @at, its tag must
 * open for this place; without, it must have none.  0 or -EBADMSG.
 */
int meta_link_long_check(const struct kek *kek, const struct meta_link_at *at,
			 const char *backing, size_t blen);
/*
 * The long form of @backing (parsed) for @at into *@out (malloc()ed): its
 * head, tagged for @at if @at is not NULL.
 */
int meta_link_long_bind(const struct kek *kek, const struct meta_link_at *at,
			const char *backing, size_t blen, char **out);
/* @box receives strlen(@target) + AEAD_OVERHEAD bytes, bound to @id. */
int meta_link_long_seal(const struct kek *kek,
			const uint8_t id[META_LINK_ID_LEN], const char *target,
			void *box);
/*
 * A record of @box_len bytes for a target of @len bytes with link ID @id
 * to the target: *out malloc()ed, NUL-terminated.  -EBADMSG if its length
 * is not @len + AEAD_OVERHEAD, it does not open (also under a retiring
 * KEK), or the target holds a NUL.
 */
int meta_link_long_open(const struct kek *kek,
			const uint8_t id[META_LINK_ID_LEN], size_t len,
			const void *box, size_t box_len, char **out);

#endif
