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

struct kek {
	uint8_t key[KEK_LEN];		/* wraps DEKs (AES-256-GCM) */
	uint8_t id[KEK_ID_LEN];		/* names this KEK in file headers */
	uint8_t conf_mac_key[32];	/* HMAC-SHA256 of atrestfs.conf */
	uint8_t meta_key[32];		/* xattr values, symlink targets */
	uint8_t state_mac_key[32];	/* HMAC-SHA256 of this machine's
					 * records of the volume (volume/state.c) */
};

/*
 * Both return a new struct kek in *out (caller owns; kek_free()).
 * kek_derive() copies @raw; the caller still owns and wipes @raw.
 */
int kek_generate(const uint8_t uuid[VOL_UUID_LEN], struct kek **out);
int kek_derive(const uint8_t raw[KEK_LEN], const uint8_t id[KEK_ID_LEN],
	       const uint8_t uuid[VOL_UUID_LEN], struct kek **out);
void kek_free(struct kek *kek);

#endif
