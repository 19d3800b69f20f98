// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * crypto/kek.c - volume KEK: generation and subkey derivation.
 * Owns struct kek; every copy of key bytes here is in secmem.
 */
#include <errno.h>
#include <string.h>

#include "aead.h"
#include "kek.h"
#include "secmem.h"

/*
 * Subkeys are separated by HKDF info strings (RFC 5869 3.2) so that no key
 * is ever used for two purposes; the UUID salt makes them volume-specific
 * even if a KEK were (wrongly) shared.
 */
int kek_derive(const uint8_t raw[KEK_LEN], const uint8_t id[KEK_ID_LEN],
	       const uint8_t uuid[VOL_UUID_LEN], struct kek **out)
{
	struct kek *kek = secmem_alloc(sizeof(*kek));
	int err;

	if (!kek)
		return -ENOMEM;
	memcpy(kek->key, raw, KEK_LEN);
	memcpy(kek->id, id, KEK_ID_LEN);
	err = kdf_hkdf(raw, KEK_LEN, uuid, VOL_UUID_LEN,
		       "atrestfs v1 config mac", kek->conf_mac_key, 32);
	if (!err)
		err = kdf_hkdf(raw, KEK_LEN, uuid, VOL_UUID_LEN,
			       "atrestfs v1 metadata", kek->meta_key, 32);
	if (!err)
		err = kdf_hkdf(raw, KEK_LEN, uuid, VOL_UUID_LEN,
			       "atrestfs v1 state mac", kek->state_mac_key, 32);
	if (err) {
		kek_free(kek);
		return err;
	}
	*out = kek;
	return 0;
}

int kek_generate(const uint8_t uuid[VOL_UUID_LEN], struct kek **out)
{
	uint8_t *raw = secmem_alloc(KEK_LEN);
	uint8_t id[KEK_ID_LEN];
	int err;

	if (!raw)
		return -ENOMEM;
	err = rand_fill(raw, KEK_LEN);
	if (!err)
		err = rand_fill(id, sizeof(id));
	if (!err)
		err = kek_derive(raw, id, uuid, out);
	secmem_free(raw, KEK_LEN);
	return err;
}

void kek_free(struct kek *kek)
{
	secmem_free(kek, sizeof(*kek));
}
