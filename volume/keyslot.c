// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * volume/keyslot.c - make a volume's key hierarchy and change its
 * keyslots: generate the KEK, wrap it with a provider into a keyslot,
 * re-MAC and store the config.  Adding or rewrapping a keyslot rewraps
 * the KEK only: its cost does not depend on the volume's size.
 * Owns the KEK it generates (kek_free() before return); borrows the
 * caller's.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../crypto/msg.h"
#include "volume_private.h"

int volkey_wrap_slot(const struct volkey_src *src, const char *provider,
		     const struct vol_config *cfg, const struct kek *kek,
		     struct vol_keyslot *ks, char *msg, size_t msglen)
{
	char uuid[VOL_UUID_STR_LEN + 1];
	uint8_t aad[VOL_SLOT_AAD_MAX];
	struct keyprov_paramset ps;
	struct keyprov_desc desc;
	struct keyprov_req req;
	struct keyprov *kp;
	int err;

	vol_uuid_str(cfg->uuid, uuid);
	err = volkey_open(src, provider, uuid, 1, &kp, msg, msglen);
	if (err)
		return err;
	err = volkey_describe(kp, provider, &desc, msg, msglen);
	if (err) {
		if (err != -EPROTO)
			snprintf(msg, msglen, "key provider %s cannot "
				 "describe its key", provider);
		goto out_close;
	}
	memset(ks, 0, sizeof(*ks));
	ks->number = vol_slot_free(cfg);
	snprintf(ks->provider, sizeof(ks->provider), "%s", provider);
	snprintf(ks->key_id, sizeof(ks->key_id), "%s", desc.key_id);
	ks->key_version = desc.key_version ? desc.key_version : 1;
	snprintf(ks->algorithm, sizeof(ks->algorithm), "%s", desc.algorithm);
	keyprov_params_init(&ps, 1);
	memset(&req, 0, sizeof(req));
	req.aad = aad;
	req.aad_len = vol_slot_aad(cfg, ks, aad);
	req.params = &ps.p;
	req.msg = msg;
	req.msglen = msglen;
	err = keyprov_wrap(kp, &req, kek->key, KEK_LEN, ks->wrapped,
			   &ks->wrapped_len);
	if (!err && ps.n > VOL_MAX_PARAMS)
		err = -E2BIG;
	if (!err)
		volkey_params_to_slot(&ps, ks);
	/* Callers hand a trusted @cfg: their own (init) or one verified. */
	if (!err)
		err = volkey_audit(cfg, "root_key_wrap", ks, 0, msg, msglen);
out_close:
	keyprov_close(kp);
	return err;
}

int volkey_commit(int dirfd, struct vol_config *cfg, const struct kek *kek,
		  char *msg, size_t msglen)
{
	uint32_t was = cfg->generation;
	uint8_t mac[sizeof(cfg->mac)];
	int err;

	/* Wrapping to 0 would make the next copy look older than every other. */
	if (was == UINT32_MAX)
		return msg_fail(msg, msglen, -EOVERFLOW, VOL_CONF_NAME
				" is at generation %u, the last one", was);
	memcpy(mac, cfg->mac, sizeof(mac));
	cfg->generation = was + 1;
	err = vol_mac(kek, cfg, cfg->mac);
	if (err)
		msg_fail(msg, msglen, err, "cannot MAC " VOL_CONF_NAME ": %s",
			 strerror(-err));
	else
		err = volconf_store(dirfd, cfg, false, msg, msglen);
	if (err) {
		/* Not stored: @cfg stays the config on disk. */
		cfg->generation = was;
		memcpy(cfg->mac, mac, sizeof(mac));
	}
	return err;
}

int volkey_create(int dirfd, const struct volkey_src *src,
		  const char *provider, uint32_t extent_size,
		  const uint8_t uuid[VOL_UUID_LEN],
		  const struct vol_options *opt, struct vol_config *cfg,
		  struct kek **kekp, char *msg, size_t msglen)
{
	struct kek *kek;
	int err;

	memset(cfg, 0, sizeof(*cfg));
	if (opt)
		cfg->opt = *opt;
	cfg->format_version = VOL_FORMAT_VERSION;
	cfg->generation = 1;
	memcpy(cfg->uuid, uuid, VOL_UUID_LEN);
	cfg->extent_size = extent_size;
	err = kek_generate(cfg->uuid, &kek);
	if (err)
		return err;
	memcpy(cfg->kek_id, kek->id, KEK_ID_LEN);
	err = volkey_wrap_slot(src, provider, cfg, kek, &cfg->slots[0], msg,
			       msglen);
	if (err) {
		/* As for unlock: what the provider says is about the key. */
		if (err != -ENOMEM)
			err = -ENOKEY;
		goto out_kek;
	}
	cfg->nslots = 1;
	err = vol_mac(kek, cfg, cfg->mac);
	if (!err)
		err = volconf_store(dirfd, cfg, true, msg, msglen);
	if (!err && kekp) {
		*kekp = kek;
		return 0;
	}
out_kek:
	kek_free(kek);
	return err;
}
