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

#include <sys/xattr.h>

#include "../crypto/aead.h"
#include "../crypto/codec.h"
#include "../crypto/msg.h"
#include "../crypto/secmem.h"
#include "volume_private.h"

/*
 * Every passphrase keyslot's provider says "passphrase": a random suffix
 * that no other keyslot of @cfg has tells them apart in the audit log and
 * in keyslot list.
 */
static int passphrase_id(const struct vol_config *cfg, const char *op,
			 struct vol_keyslot *ks, const struct vol_keyslot *old)
{
	uint8_t r[4];
	char hex[2 * sizeof(r) + 1];
	unsigned int i;
	int err;

	if (old && !strcmp(old->provider, ks->provider)) {
		/*
		 * passwd, rotate-root: the same keyslot with a new secret, a
		 * new version; rotate-kek wraps a new KEK with the same one.
		 */
		memcpy(ks->key_id, old->key_id, sizeof(ks->key_id));
		ks->key_version = old->key_version;
		if (strcmp(op, "rotate_kek") && old->key_version < UINT32_MAX)
			ks->key_version++;
		return 0;
	}
again:
	err = rand_fill(r, sizeof(r));
	if (err)
		return err;
	hex_encode(r, sizeof(r), hex);
	snprintf(ks->key_id, sizeof(ks->key_id), "passphrase-%s", hex);
	for (i = 0; i < cfg->nslots; i++)
		if (!strcmp(cfg->slots[i].key_id, ks->key_id))
			goto again;
	return 0;
}

int volkey_wrap_slot(const struct volkey_src *src, const char *provider,
		     const struct vol_config *cfg, const struct kek *kek,
		     const char *op, const struct vol_keyslot *old,
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
	if (old) {
		ks->number = old->number;
		memcpy(ks->label, old->label, sizeof(ks->label));
		ks->state = old->state;
		ks->expires = old->expires;
	} else {
		ks->number = vol_slot_free(cfg);
	}
	snprintf(ks->provider, sizeof(ks->provider), "%s", provider);
	snprintf(ks->key_id, sizeof(ks->key_id), "%s", desc.key_id);
	ks->key_version = desc.key_version ? desc.key_version : 1;
	snprintf(ks->algorithm, sizeof(ks->algorithm), "%s", desc.algorithm);
	/* Not in the AAD: the unwrap of a passphrase keyslot ignores it. */
	if (!strcmp(provider, "passphrase")) {
		err = passphrase_id(cfg, op, ks, old);
		if (err)
			goto out_close;
	}
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
		err = volkey_audit(cfg, "root_key_wrap", op, ks, 0, msg,
				   msglen);
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

/*
 * A names key for a new volume, wrapped into @o, and the root's directory
 * ID: before the config exists, so a volume whose config says encrypted
 * names always has both.
 */
static int names_create(int dirfd, const struct kek *kek,
			const uint8_t uuid[VOL_UUID_LEN],
			struct vol_options *o, char *msg, size_t msglen)
{
	uint8_t *key = secmem_alloc(NAMES_KEY_LEN), dirid[NAMES_DIRID_LEN];
	int err;

	if (!key)
		return -ENOMEM;
	err = rand_fill(key, NAMES_KEY_LEN);
	if (!err)
		err = rand_fill(dirid, sizeof(dirid));
	if (!err)
		err = names_key_wrap(kek, uuid, key, o->names_key);
	secmem_free(key, NAMES_KEY_LEN);
	if (err)
		return msg_fail(msg, msglen, err, "cannot make the names key: %s",
				strerror(-err));
	if (fsetxattr(dirfd, NAMES_DIRID_XATTR, dirid, sizeof(dirid), 0))
		return msg_fail(msg, msglen, -errno, "cannot set the directory "
				"ID (xattr " NAMES_DIRID_XATTR ") of the backing "
				"directory: %s", strerror(errno));
	return 0;
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
	if (cfg->opt.names_encrypted) {
		err = names_create(dirfd, kek, cfg->uuid, &cfg->opt, msg,
				   msglen);
		if (err)
			goto out_kek;
	}
	err = volkey_wrap_slot(src, provider, cfg, kek, "init", NULL,
			       &cfg->slots[0], msg, msglen);
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
