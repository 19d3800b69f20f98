// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mount-helper/volkey.c - create, unlock and rewrap a volume's key
 * hierarchy: provider -> KEK (keyslots in atrestfs.conf) -> config MAC.
 * The raw KEK exists only in secmem (struct kek), between unwrap and
 * kek_free().  Adding or changing a keyslot rewraps the KEK only: its cost
 * does not depend on the volume's size.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../crypto/msg.h"
#include "../crypto/secmem.h"
#include "../fs/audit.h"
#include "cli.h"

/*
 * One root-key event to the volume's audit log.  @cfg must be trusted:
 * its MAC verified, or made by this process (init).  A volume without an
 * audit setting logs nothing.
 */
int volkey_audit(const struct vol_config *cfg, const char *event,
		 const struct vol_keyslot *ks, int result, char *msg,
		 size_t msglen)
{
	struct audit_event ev = { .event = event, .key_id = ks->key_id,
				  .key_version = ks->key_version,
				  .provider = ks->provider, .result = result };
	struct audit *a;
	int err;

	err = audit_open(&cfg->opt, cfg->uuid, &a, msg, msglen);
	if (err || !a)
		return err;
	audit_self(&ev);
	err = audit_log(a, &ev);
	audit_close(a);
	if (err)
		snprintf(msg, msglen, "cannot write audit log %s: %s",
			 cfg->opt.audit_file, strerror(-err));
	return err;
}

/* The copies between a keyslot and a paramset never truncate. */
_Static_assert(KEYPROV_PARAMS_MAX == VOL_MAX_PARAMS, "params per keyslot");
_Static_assert(KEYPROV_NAME_MAX == VOL_NAME_MAX, "param name length");
_Static_assert(KEYPROV_PARAM_MAX == VOL_STR_MAX, "param value length");

static void params_to_slot(const struct keyprov_paramset *ps,
			   struct vol_keyslot *ks)
{
	unsigned int i;

	for (i = 0; i < ps->n && i < VOL_MAX_PARAMS; i++) {
		snprintf(ks->params[i].key, sizeof(ks->params[i].key), "%s",
			 ps->key[i]);
		snprintf(ks->params[i].value, sizeof(ks->params[i].value), "%s",
			 ps->val[i]);
	}
	ks->nparams = i;
}

static void slot_to_params(const struct vol_keyslot *ks,
			   struct keyprov_paramset *ps)
{
	unsigned int i;

	keyprov_params_init(ps, 0);
	for (i = 0; i < ks->nparams && i < KEYPROV_PARAMS_MAX; i++) {
		snprintf(ps->key[i], sizeof(ps->key[i]), "%s",
			 ks->params[i].key);
		snprintf(ps->val[i], sizeof(ps->val[i]), "%s",
			 ks->params[i].value);
	}
	ps->n = i;
}

/* The provider's key name and algorithm; @msg says why a name is bad. */
static int describe(struct keyprov *kp, const char *provider,
		    struct keyprov_desc *desc, char *msg, size_t msglen)
{
	int err = keyprov_describe(kp, desc);

	if (err == -EPROTO)
		snprintf(msg, msglen, "key provider %s names its key or "
			 "algorithm with an empty string or one that is not "
			 "printable ASCII without quotes and backslashes",
			 provider);
	return err;
}

int volkey_wrap_slot(struct cli_keyopts *o, const char *provider,
		     const struct vol_config *cfg, const struct kek *kek,
		     struct vol_keyslot *ks, char *msg, size_t msglen)
{
	char uuid[VOL_UUID_STR_LEN + 1];
	uint8_t aad[VOL_SLOT_AAD_MAX];
	struct keyprov_paramset ps;
	struct keyprov_kvlist kv;
	struct keyprov_desc desc;
	struct keyprov_req req;
	struct keyprov *kp;
	int err;

	vol_uuid_str(cfg->uuid, uuid);
	err = cli_keyopts_settings(o, provider, uuid, 1, &kv, msg, msglen);
	if (err)
		return err;
	err = keyprov_open(provider, &o->host, &kv.kv, &kp, msg, msglen);
	if (err)
		return err;
	err = describe(kp, provider, &desc, msg, msglen);
	if (err) {
		if (err != -EPROTO)
			snprintf(msg, msglen, "key provider %s cannot "
				 "describe its key", provider);
		goto out_close;
	}
	memset(ks, 0, sizeof(*ks));
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
		params_to_slot(&ps, ks);
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
	int err = vol_mac(kek, cfg, cfg->mac);

	if (err)
		return msg_fail(msg, msglen, err, "cannot MAC " VOL_CONF_NAME
				": %s", strerror(-err));
	return volconf_store(dirfd, cfg, false, msg, msglen);
}

int volkey_create(int dirfd, struct cli_keyopts *o, const char *provider,
		  uint32_t extent_size, const uint8_t uuid[VOL_UUID_LEN],
		  const struct vol_options *opt, struct vol_config *cfg,
		  char *msg, size_t msglen)
{
	struct kek *kek;
	int err;

	memset(cfg, 0, sizeof(*cfg));
	if (opt)
		cfg->opt = *opt;
	cfg->format_version = VOL_FORMAT_VERSION;
	memcpy(cfg->uuid, uuid, VOL_UUID_LEN);
	cfg->extent_size = extent_size;
	err = kek_generate(cfg->uuid, &kek);
	if (err)
		return err;
	memcpy(cfg->kek_id, kek->id, KEK_ID_LEN);
	err = volkey_wrap_slot(o, provider, cfg, kek, &cfg->slots[0], msg,
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
out_kek:
	kek_free(kek);
	return err;
}

static int unwrap_slot(const struct vol_config *cfg,
		       const struct vol_keyslot *ks, struct keyprov *kp,
		       struct kek **kek, char *msg, size_t msglen)
{
	uint8_t aad[VOL_SLOT_AAD_MAX], *raw;
	struct keyprov_paramset ps;
	struct keyprov_req req;
	int err;

	raw = secmem_alloc(KEK_LEN);
	if (!raw)
		return -ENOMEM;
	slot_to_params(ks, &ps);
	memset(&req, 0, sizeof(req));
	req.aad = aad;
	req.aad_len = vol_slot_aad(cfg, ks, aad);
	req.key_id = ks->key_id;
	req.key_version = ks->key_version;
	req.params = &ps.p;
	req.msg = msg;
	req.msglen = msglen;
	err = keyprov_unwrap(kp, &req, ks->wrapped, ks->wrapped_len, raw,
			     KEK_LEN);
	if (!err)
		err = kek_derive(raw, cfg->kek_id, cfg->uuid, kek);
	secmem_free(raw, KEK_LEN);
	return err;
}

/*
 * Try keyslot @i.  Returns 0 with *kek, or -errno with @msg and *stage
 * (how far it got: 1 provider opened, 2 key matched, 3 unwrap tried), so
 * that the most telling failure of several slots is the one reported.
 */
static int try_slot(struct cli_keyopts *o, const struct vol_config *cfg,
		    unsigned int i, struct kek **kek, int *stage, char *msg,
		    size_t msglen)
{
	const struct vol_keyslot *ks = &cfg->slots[i];
	char uuid[VOL_UUID_STR_LEN + 1];
	struct keyprov_kvlist kv;
	struct keyprov_desc desc;
	struct keyprov *kp;
	int err;

	*stage = 0;
	vol_uuid_str(cfg->uuid, uuid);
	err = cli_keyopts_settings(o, ks->provider, uuid, 0, &kv, msg, msglen);
	if (!err)
		err = keyprov_open(ks->provider, &o->host, &kv.kv, &kp, msg,
				   msglen);
	if (err)
		/* "Not a volume" is -ENOENT to callers: this is about a key. */
		return err == -ENOMEM || err == -ENOANO || err == -EAGAIN ||
		       err == -ETIMEDOUT ? err : -ENOKEY;
	*stage = 1;
	err = describe(kp, ks->provider, &desc, msg, msglen);
	if (err)
		goto out_close;
	/* Name the mismatch rather than just failing to decrypt. */
	if (strcmp(ks->key_id, desc.key_id) &&
	    strcmp(ks->provider, "passphrase")) {
		err = -EKEYREJECTED;
		snprintf(msg, msglen, "this key (%s) does not open volume %s "
			 "(it was made with %s)", desc.key_id, uuid, ks->key_id);
		goto out_close;
	}
	*stage = 2;
	err = unwrap_slot(cfg, ks, kp, kek, msg, msglen);
	*stage = 3;
	if (err == -EINVAL)
		err = -EBADMSG;		/* unusable keyslot: a config problem */
	if (err == -EBADMSG && strcmp(ks->provider, "passphrase")) {
		err = -EKEYREJECTED;
		snprintf(msg, msglen, "this key (%s) does not open volume %s "
			 "(its keyslot is corrupt or was tampered with)",
			 desc.key_id, uuid);
	}
out_close:
	keyprov_close(kp);
	return err;
}

int volkey_unlock(int dirfd, struct cli_keyopts *o, struct vol_config *cfg,
		  struct kek **kek, unsigned int *slot, char *msg,
		  size_t msglen)
{
	char uuid[VOL_UUID_STR_LEN + 1], best[KEYPROV_MSG_MAX] = "";
	int err, best_err = -ENOKEY, stage, best_stage = -1;
	int tried[VOL_MAX_SLOTS];	/* result of each unwrap tried */
	unsigned int i, ntried = 0, which[VOL_MAX_SLOTS];

	err = volconf_load(dirfd, cfg, msg, msglen);
	if (err)
		return err;
	vol_uuid_str(cfg->uuid, uuid);
	*kek = NULL;
	err = -ENOKEY;
	for (i = 0; i < cfg->nslots && err; i++) {
		if (o->slot >= 0 && (unsigned int)o->slot != i)
			continue;
		if (o->provider[0] && strcmp(cfg->slots[i].provider, o->provider))
			continue;
		msg[0] = '\0';
		err = try_slot(o, cfg, i, kek, &stage, msg, msglen);
		if (stage >= 3) {
			which[ntried] = i;
			tried[ntried++] = err;
		}
		if (!err && slot)
			*slot = i;
		if (err == -ENOMEM)
			return err;
		if (err && stage > best_stage) {
			best_stage = stage;
			best_err = err;
			snprintf(best, sizeof(best), "%s", msg);
		}
	}
	if (err) {
		if (best_stage < 0 && o->provider[0])
			snprintf(best, sizeof(best), "volume %s has no keyslot "
				 "for key provider %s", uuid, o->provider);
		else if (best_stage < 0)
			snprintf(best, sizeof(best), "volume %s has no keyslot "
				 "%d", uuid, o->slot);
		snprintf(msg, msglen, "%s", best);
		return best_err;
	}
	err = vol_verify(*kek, cfg);
	if (err) {
		kek_free(*kek);
		*kek = NULL;
		snprintf(msg, msglen, VOL_CONF_NAME " of volume %s fails its MAC "
			 "check: it was changed outside atrestfs (tampering or "
			 "corruption); refusing to use it", uuid);
		return -EBADMSG;
	}
	/*
	 * Only now is the audit destination trusted: until the MAC verified,
	 * whoever can write the backing directory could have chosen it.  So
	 * the unwraps are logged here, failed ones before the one that
	 * worked; attempts on a volume that never unlocks are not.
	 */
	for (i = 0; i < ntried && !err; i++)
		err = volkey_audit(cfg, "root_key_unwrap", &cfg->slots[which[i]],
				 tried[i], msg, msglen);
	if (err) {
		kek_free(*kek);
		*kek = NULL;
	}
	return err;
}
