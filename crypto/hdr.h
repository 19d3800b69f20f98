/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * crypto/hdr.h - the per-file header, stored in one xattr on the backing
 * file (shared by hard links, which share the inode).
 *
 * Layout v1, HDR_SIZE bytes, little-endian (see docs/format.md):
 *	0   magic "ATRH"
 *	4   le16 version (1)
 *	6   le16 flags (HDR_F_*; an unknown bit is refused)
 *	8   u8   extent shift (12..20)
 *	9   7 bytes reserved, zero
 *	16  file ID (16)
 *	32  KEK ID (16)      which volume KEK wrapped the DEK
 *	48  nonce (12)       \
 *	60  wrapped DEK (32)  > AES-256-GCM under the KEK, AAD = bytes 0..47
 *	92  tag (16)         /
 * hdr_parse() is the only reader of these bytes.
 */
#ifndef ATR_HDR_H
#define ATR_HDR_H

#include <stddef.h>
#include <stdint.h>

#include "extent.h"
#include "kek.h"

#define HDR_XATTR		"user.atrestfs.hdr"
#define HDR_SPARSE_XATTR	"user.atrestfs.sparse"
#define HDR_VER_XATTR		"user.atrestfs.ver"	/* crypto/verrec.h */
/* Every xattr under this prefix is the filesystem's, hidden from users. */
#define HDR_XATTR_PREFIX	"user.atrestfs."
#define HDR_MAGIC		"ATRH"
#define HDR_VERSION		1
#define HDR_SIZE		108
#define HDR_AAD_LEN		48
/*
 * The file has held data since this header was written, so a backing size
 * of 0 means it was cut outside the mount.  Set once the data is written
 * (never before it: a crash then leaves a header that still says empty).
 */
#define HDR_F_DATA		0x0001
/*
 * The file carries a version record (HDR_VER_XATTR): one that is missing
 * or does not authenticate is tampering.  Set once the first record is
 * written: at creation on a format 2 volume (the record first), or at the
 * rewrap that sets HDR_F_DATA.  With it, HDR_F_DATA adds nothing (the
 * record says how long the file is) and is not set.
 */
#define HDR_F_VER		0x0002
#define HDR_F_KNOWN		(HDR_F_DATA | HDR_F_VER)

struct hdr {
	uint16_t version;
	uint16_t flags;			/* HDR_F_*, under the DEK's AAD */
	uint32_t extent_size;
	uint8_t file_id[FILE_ID_LEN];
	uint8_t kek_id[KEK_ID_LEN];
	uint8_t nonce[AEAD_NONCE_LEN];
	uint8_t wrapped_dek[AEAD_KEY_LEN];
	uint8_t tag[AEAD_TAG_LEN];
};

/*
 * Returns 0, -EBADMSG for bytes that are not a valid v1 header (size,
 * magic, unknown flags, reserved bytes, extent shift), or -EPROTONOSUPPORT for
 * a well-formed header of another version.
 */
int hdr_parse(const void *buf, size_t len, struct hdr *h);
void hdr_build(const struct hdr *h, uint8_t out[HDR_SIZE]);

/*
 * Make a header for a new file: random file ID and DEK, the DEK wrapped
 * under @kek, with @flags.  *fk receives the file's key (caller owns;
 * file_key_free()).
 */
int hdr_create(const struct kek *kek, uint32_t extent_size, uint16_t flags,
	       struct hdr *h, struct file_key **fk);
/*
 * The same through a thread's reusable context (crypto/aead.h), which
 * gives the nonce from its batch and is left keyed with the KEK until the
 * caller makes it forget.  @ac may be NULL.
 */
int hdr_create_ctx(struct aead_ctx *ac, const struct kek *kek,
		   uint32_t extent_size, uint16_t flags, struct hdr *h,
		   struct file_key **fk);
/*
 * Unwrap the DEK, with @kek or its retiring KEK, whichever the header
 * names.  -ENOKEY if it names another KEK, -EBADMSG if
 * the header does not authenticate.  *fk as for hdr_create().
 */
int hdr_unwrap(const struct kek *kek, const struct hdr *h,
	       struct file_key **fk);
/*
 * A header for the key @fk already has, with @flags: a fresh nonce, the
 * same file ID and DEK.  Changing a flag needs this, as flags are AAD.
 */
int hdr_rewrap(const struct kek *kek, uint32_t extent_size,
	       const struct file_key *fk, uint16_t flags, struct hdr *h);

#endif
