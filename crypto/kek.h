/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * crypto/kek.h - the volume key-encryption key and the keys derived from it.
 *
 * Key hierarchy: root key (held by a key provider) wraps the KEK; the KEK
 * wraps each file's DEK and, through HKDF-SHA256 with the volume UUID as
 * salt, yields the config MAC key, the metadata key (xattr values,
 * symlink targets) and the MAC key of the records a machine keeps about
 * the volume outside it (its state directory).  A struct kek lives in
 * secmem and leaves through kek_free(), which wipes it.
 */
#ifndef ATR_KEK_H
#define ATR_KEK_H

#include <stdint.h>

#define KEK_LEN		32
#define KEK_ID_LEN	16
#define VOL_UUID_LEN	16
/* The retiring KEK boxed under the current one: nonce, key, tag. */
#define KEK_RETIRING_LEN	(12 + KEK_LEN + 16)

struct kek {
	uint8_t key[KEK_LEN];		/* wraps DEKs (AES-256-GCM) */
	uint8_t id[KEK_ID_LEN];		/* names this KEK in file headers */
	uint8_t conf_mac_key[32];	/* HMAC-SHA256 of atrestfs.conf */
	uint8_t meta_key[32];		/* xattr values, symlink targets */
	uint8_t state_mac_key[32];	/* HMAC-SHA256 of this machine's
					 * records of the volume (volume/state.c) */
	/*
	 * Owned, secmem, or NULL: the KEK a rotation (volume/rotate.c) is
	 * retiring, set only while the config still holds it.  Readers fall
	 * back to it for what is not yet rewrapped or re-sealed; nothing is
	 * ever wrapped, sealed or MACed with it.
	 */
	struct kek *retiring;
};

/*
 * Both return a new struct kek in *out (caller owns; kek_free()).
 * kek_derive() copies @raw; the caller still owns and wipes @raw.
 */
int kek_generate(const uint8_t uuid[VOL_UUID_LEN], struct kek **out);
int kek_derive(const uint8_t raw[KEK_LEN], const uint8_t id[KEK_ID_LEN],
	       const uint8_t uuid[VOL_UUID_LEN], struct kek **out);
/* Wipes @kek and its retiring KEK; NULL is a no-op. */
void kek_free(struct kek *kek);

/*
 * A rotation keeps the old KEK @old in the config boxed under @kek, with
 * AAD "atrestfs retiring kek v1" || uuid || kek->id || old->id, so that
 * any keyslot (which wraps @kek) reaches both.  kek_open_retiring()
 * unboxes it into kek->retiring: -EBADMSG if it does not authenticate.
 */
int kek_wrap_retiring(const struct kek *kek, const struct kek *old,
		      const uint8_t uuid[VOL_UUID_LEN],
		      uint8_t out[KEK_RETIRING_LEN]);
int kek_open_retiring(struct kek *kek, const uint8_t old_id[KEK_ID_LEN],
		      const uint8_t uuid[VOL_UUID_LEN],
		      const uint8_t box[KEK_RETIRING_LEN]);

/*
 * A value that recognises @raw without revealing it: HKDF-SHA256(raw,
 * uuid, "atrestfs v1 lock check").  A locked mount keeps only this, and
 * takes a KEK handed back to it only if it yields the same.  0 or -errno.
 */
#define KEK_CHECK_LEN	32
int kek_check(const uint8_t raw[KEK_LEN], const uint8_t uuid[VOL_UUID_LEN],
	      uint8_t out[KEK_CHECK_LEN]);

#endif
