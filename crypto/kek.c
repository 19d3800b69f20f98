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
	if (!kek)
		return;
	kek_free(kek->retiring);
	secmem_free(kek, sizeof(*kek));
}

#define RETIRING_AAD		"atrestfs retiring kek v1"
#define RETIRING_AAD_LEN	(sizeof(RETIRING_AAD) - 1 + VOL_UUID_LEN + \
				 2 * KEK_ID_LEN)

static void retiring_aad(const uint8_t uuid[VOL_UUID_LEN],
			 const uint8_t id[KEK_ID_LEN],
			 const uint8_t old_id[KEK_ID_LEN],
			 uint8_t aad[RETIRING_AAD_LEN])
{
	size_t n = sizeof(RETIRING_AAD) - 1;

	memcpy(aad, RETIRING_AAD, n);
	memcpy(aad + n, uuid, VOL_UUID_LEN);
	memcpy(aad + n + VOL_UUID_LEN, id, KEK_ID_LEN);
	memcpy(aad + n + VOL_UUID_LEN + KEK_ID_LEN, old_id, KEK_ID_LEN);
}

int kek_wrap_retiring(const struct kek *kek, const struct kek *old,
		      const uint8_t uuid[VOL_UUID_LEN],
		      uint8_t out[KEK_RETIRING_LEN])
{
	uint8_t aad[RETIRING_AAD_LEN];

	retiring_aad(uuid, kek->id, old->id, aad);
	return aead_box_seal(kek->key, aad, sizeof(aad), old->key, KEK_LEN,
			     out);
}

int kek_open_retiring(struct kek *kek, const uint8_t old_id[KEK_ID_LEN],
		      const uint8_t uuid[VOL_UUID_LEN],
		      const uint8_t box[KEK_RETIRING_LEN])
{
	uint8_t aad[RETIRING_AAD_LEN], *raw;
	struct kek *old = NULL;
	int err;

	raw = secmem_alloc(KEK_LEN);
	if (!raw)
		return -ENOMEM;
	retiring_aad(uuid, kek->id, old_id, aad);
	err = aead_box_open(kek->key, aad, sizeof(aad), box, KEK_RETIRING_LEN,
			    raw);
	if (!err)
		err = kek_derive(raw, old_id, uuid, &old);
	secmem_free(raw, KEK_LEN);
	if (err)
		return err;
	kek_free(kek->retiring);
	kek->retiring = old;
	return 0;
}

int kek_check(const uint8_t raw[KEK_LEN], const uint8_t uuid[VOL_UUID_LEN],
	      uint8_t out[KEK_CHECK_LEN])
{
	return kdf_hkdf(raw, KEK_LEN, uuid, VOL_UUID_LEN,
			"atrestfs v1 lock check", out, KEK_CHECK_LEN);
}
