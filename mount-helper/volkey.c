// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mount-helper/volkey.c - create and unlock a volume's key hierarchy:
 * provider -> KEK (keyslot in atrestfs.conf) -> config MAC.
 * The raw KEK exists only in secmem, between unwrap and kek_derive().
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../crypto/secmem.h"
#include "cli.h"

int volkey_create(int dirfd, const char *provider,
		  struct keyprov_kvlist *settings, uint32_t extent_size,
		  const uint8_t uuid[VOL_UUID_LEN], struct vol_config *cfg,
		  char *msg, size_t msglen)
{
	struct vol_keyslot *ks = &cfg->slots[0];
	uint8_t aad[VOL_SLOT_AAD_MAX];
	struct keyprov_desc desc;
	struct keyprov *kp;
	struct kek *kek;
	size_t aad_len;
	int err;

	memset(cfg, 0, sizeof(*cfg));
	cfg->format_version = VOL_FORMAT_VERSION;
	memcpy(cfg->uuid, uuid, VOL_UUID_LEN);
	cfg->extent_size = extent_size;
	err = kek_generate(cfg->uuid, &kek);
	if (err)
		return err;
	memcpy(cfg->kek_id, kek->id, KEK_ID_LEN);
	keyprov_kv_set(settings, "mode", "create");
	err = keyprov_open(provider, &settings->kv, &kp, msg, msglen);
	if (err)
		goto out_kek;
	err = keyprov_describe(kp, &desc);
	if (err) {
		snprintf(msg, msglen, "key provider %s cannot describe its key",
			 provider);
		goto out_close;
	}
	cfg->nslots = 1;
	snprintf(ks->provider, sizeof(ks->provider), "%s", provider);
	snprintf(ks->key_id, sizeof(ks->key_id), "%s", desc.key_id);
	ks->key_version = desc.key_version ? desc.key_version : 1;
	snprintf(ks->algorithm, sizeof(ks->algorithm), "%s", desc.algorithm);
	aad_len = vol_slot_aad(cfg, ks, aad);
	err = keyprov_wrap(kp, aad, aad_len, kek->key, KEK_LEN, ks->wrapped,
			   &ks->wrapped_len, msg, msglen);
	if (!err)
		err = vol_mac(kek, cfg, cfg->mac);
	if (!err) {
		err = vol_store(dirfd, cfg, true);
		if (err)
			snprintf(msg, msglen, "cannot write " VOL_CONF_NAME ": %s",
				 strerror(-err));
	}
out_close:
	keyprov_close(kp);
out_kek:
	kek_free(kek);
	return err;
}

static int unwrap_slot(const struct vol_config *cfg,
		       const struct vol_keyslot *ks, struct keyprov *kp,
		       struct kek **kek, char *msg, size_t msglen)
{
	uint8_t aad[VOL_SLOT_AAD_MAX], *raw;
	size_t aad_len = vol_slot_aad(cfg, ks, aad);
	int err;

	raw = secmem_alloc(KEK_LEN);
	if (!raw)
		return -ENOMEM;
	err = keyprov_unwrap(kp, aad, aad_len, ks->wrapped, ks->wrapped_len,
			     raw, KEK_LEN, msg, msglen);
	if (!err)
		err = kek_derive(raw, cfg->kek_id, cfg->uuid, kek);
	secmem_free(raw, KEK_LEN);
	return err;
}

int volkey_unlock(int dirfd, const char *provider,
		  struct keyprov_kvlist *settings, struct vol_config *cfg,
		  struct kek **kek, char *msg, size_t msglen)
{
	char uuid[VOL_UUID_STR_LEN + 1];
	struct keyprov_desc desc;
	struct keyprov *kp;
	unsigned int i;
	int err;

	err = vol_load(dirfd, cfg, msg, msglen);
	if (err)
		return err;
	vol_uuid_str(cfg->uuid, uuid);
	keyprov_kv_set(settings, "mode", "open");
	keyprov_kv_set(settings, "volume", uuid);
	/*
	 * Callers read -ENOENT/-EINVAL as "not a volume" or "bad config";
	 * whatever the provider says is about the key: -ENOKEY.
	 */
	err = keyprov_open(provider, &settings->kv, &kp, msg, msglen);
	if (err)
		return err == -ENOMEM ? err : -ENOKEY;
	err = keyprov_describe(kp, &desc);
	if (err)
		goto out_close;
	err = -ENOKEY;
	snprintf(msg, msglen, "volume %s has no keyslot for key provider %s",
		 uuid, provider);
	for (i = 0; i < cfg->nslots && err; i++) {
		if (strcmp(cfg->slots[i].provider, provider))
			continue;
		/* Name the mismatch rather than just failing to decrypt. */
		if (strcmp(cfg->slots[i].key_id, desc.key_id)) {
			err = -EKEYREJECTED;
			snprintf(msg, msglen, "this key (%s) does not open volume %s "
				 "(it was made with %s)", desc.key_id, uuid,
				 cfg->slots[i].key_id);
			continue;
		}
		err = unwrap_slot(cfg, &cfg->slots[i], kp, kek, msg, msglen);
		if (err == -EBADMSG)
			err = -EKEYREJECTED;
		if (err == -EKEYREJECTED)
			snprintf(msg, msglen, "this key (%s) does not open volume %s "
				 "(its keyslot is corrupt or was tampered with)",
				 desc.key_id, uuid);
	}
	if (err)
		goto out_close;
	err = vol_verify(*kek, cfg);
	if (err) {
		kek_free(*kek);
		*kek = NULL;
		snprintf(msg, msglen, VOL_CONF_NAME " of volume %s fails its MAC "
			 "check: it was changed outside atrestfs (tampering or "
			 "corruption); refusing to use it", uuid);
		err = -EBADMSG;
	}
out_close:
	keyprov_close(kp);
	return err;
}
