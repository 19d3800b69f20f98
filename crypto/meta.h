/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * crypto/meta.h - sealing of small metadata written through the mount:
 * user xattr values and symlink targets.  Both are user data and must not
 * reach the backing store in plaintext.  Sealed with the KEK's metadata key
 * (not bound to one file: directories have no file ID in format v1).
 */
#ifndef ATR_META_H
#define ATR_META_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "kek.h"

/* Backing symlink targets start with this, then base64 of the sealed box. */
#define META_LINK_PREFIX	"atrestfs1:"
/* Longest target that still fits the backing PATH_MAX once sealed. */
#define META_LINK_MAX		3000

/*
 * xattr: @out receives len + AEAD_OVERHEAD bytes; the value is bound to
 * @name through the AAD.  Open: @out receives box_len - AEAD_OVERHEAD.
 */
int meta_xattr_seal(const struct kek *kek, const char *name,
		    const void *val, size_t len, void *out);
/* Both opens also try @kek's retiring KEK, if it has one (rotation). */
int meta_xattr_open(const struct kek *kek, const char *name,
		    const void *box, size_t box_len, void *out);

/*
 * Does the backing xattr @name hold a sealed user value: a user.* name
 * outside the reserved user.atrestfs., or a hidden user name (names.h)?
 * What a rotation re-seals, a rekey copies and fsck checks.
 */
bool meta_xattr_sealed(const char *name);

/*
 * Symlink target (a C string) to the backing target: *out is malloc()ed,
 * caller frees.  -ENAMETOOLONG past META_LINK_MAX.
 */
int meta_link_seal(const struct kek *kek, const char *target, char **out);
/* Backing target to plaintext; *out malloc()ed, NUL-terminated. */
int meta_link_open(const struct kek *kek, const char *backing, char **out);
/* Plaintext length from the backing target alone (for lstat st_size). */
ssize_t meta_link_len(const char *backing, size_t len);

#endif
