// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * volume/unlock.c - open a volume: unwrap the KEK through the first
 * keyslot whose provider opens it, verify the config MAC, and write the
 * unwraps to the volume's audit log.
 * Owns the raw KEK between unwrap and kek_derive(), in secmem; the struct
 * kek goes to the caller.  Providers get their settings and services from
 * the caller's struct volkey_src, never from the volume.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../crypto/msg.h"
#include "../crypto/secmem.h"
#include "../fs/audit.h"
#include "volume_private.h"

/*
 * One event to the volume's audit log.  @cfg must be trusted: its MAC
 * verified, or made by this process (init).  A volume without an audit
 * setting logs nothing.
 */
static int audit_one(const struct vol_config *cfg, struct audit_event *ev,
		     char *msg, size_t msglen)
{
	struct audit *a;
	int err;

	err = audit_open(&cfg->opt, cfg->uuid, &a, msg, msglen);
	if (err || !a)
		return err;
	audit_self(ev);
	err = audit_log(a, ev);
	audit_close(a);
	if (err)
		snprintf(msg, msglen, "cannot write audit log %s: %s",
			 cfg->opt.audit_file, strerror(-err));
	return err;
}

/* One root-key event about keyslot @ks, named by its number. */
int volkey_audit(const struct vol_config *cfg, const char *event,
		 const char *op, const struct vol_keyslot *ks, int result,
		 char *msg, size_t msglen)
{
	struct audit_event ev = { .event = event, .key_id = ks->key_id,
				  .key_version = ks->key_version,
				  .provider = ks->provider, .op = op,
				  .has_slot = true, .slot = ks->number,
				  .result = result };

	return audit_one(cfg, &ev, msg, msglen);
}

int volkey_audit_event(const struct vol_config *cfg, const char *event,
		       const char *op, const char *key_id,
		       const char *provider, int result, char *msg,
		       size_t msglen)
{
	struct audit_event ev = { .event = event, .op = op, .key_id = key_id,
				  .provider = provider, .result = result };

	return audit_one(cfg, &ev, msg, msglen);
}

int volkey_audit_check(const struct vol_options *opt,
		       const uint8_t uuid[VOL_UUID_LEN], char *msg,
		       size_t msglen)
{
	struct audit *a;
	int err = audit_open(opt, uuid, &a, msg, msglen);

	audit_close(a);
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
	volkey_slot_to_params(ks, &ps);
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
 * A disabled, removed or expired keyslot opens nothing (unless the caller
 * revives it): -EKEYREVOKED or -EKEYEXPIRED, @msg saying which and
 * the command that makes it usable again.  Its state is read before the
 * MAC is checked, which is safe: it can only refuse.  The clock is
 * trusted.
 */
static int slot_usable(const struct volkey_src *src,
		       const struct vol_keyslot *ks, char *msg, size_t msglen)
{
	char when[VOL_TIME_LEN + 1];

	if (vol_slot_active(ks, (int64_t)time(NULL)) ||
	    (src->inactive_ok & (1u << ks->number)))
		return 0;
	switch (ks->state) {
	case VOL_SLOT_DISABLED:
		return msg_fail(msg, msglen, -EKEYREVOKED, "disabled; 'atrestfs "
			    "keyslot enable CIPHERDIR %u' enables it again (with "
			    "another keyslot's key, or this one's)", ks->number);
	case VOL_SLOT_REMOVED:
		return msg_fail(msg, msglen, -EKEYREVOKED, "removed; until it is "
			    "purged, 'atrestfs keyslot restore CIPHERDIR %u' "
			    "brings it back", ks->number);
	default:
		vol_time_str(ks->expires, when);
		return msg_fail(msg, msglen, -EKEYEXPIRED, "expired at %s; "
			    "'atrestfs keyslot expire CIPHERDIR %u DATE|never' "
			    "extends it", when, ks->number);
	}
}

/*
 * Try keyslot @i.  Returns 0 with *kek, or -errno with @msg and *stage
 * (how far it got: 1 provider opened, 2 key matched, 3 unwrap tried), so
 * that the most telling failure of several slots is the one reported.
 */
static int try_slot(const struct volkey_src *src,
		    const struct vol_config *cfg, unsigned int i,
		    struct kek **kek, int *stage, char *msg, size_t msglen)
{
	const struct vol_keyslot *ks = &cfg->slots[i];
	char uuid[VOL_UUID_STR_LEN + 1];
	struct keyprov_desc desc;
	struct keyprov *kp;
	int err;

	*stage = 0;
	vol_uuid_str(cfg->uuid, uuid);
	err = volkey_open(src, ks->provider, uuid, 0, &kp, msg, msglen);
	if (err)
		/* "Not a volume" is -ENOENT to callers: this is about a key. */
		return err == -ENOMEM || err == -ENOANO || err == -EAGAIN ||
		       err == -ETIMEDOUT ? err : -ENOKEY;
	*stage = 1;
	err = volkey_describe(kp, ks->provider, &desc, msg, msglen);
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
	err = slot_usable(src, ks, msg, msglen);
	if (err)
		goto out_close;
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

/*
 * Whether a keyslot tried that reached stage @stage (try_slot()) with
 * @err goes into the log of an unlock that worked: an unwrap tried, or an
 * inactive keyslot refused.  A key that names another is not the
 * keyslot's key and is left out; a failed unlock keeps every attempt.
 */
static bool unwrap_audited(int stage, int err)
{
	return stage >= 3 || err == -EKEYREVOKED || err == -EKEYEXPIRED;
}

/*
 * One line per keyslot tried to @out: its number, provider, key ID and why
 * it failed, so that a token that is absent is not hidden behind the
 * passphrase slot tried after it.
 */
static void report_slot(char *out, size_t outlen, const struct vol_keyslot *ks,
			const char *why)
{
	size_t used = strlen(out);

	if (used + 1 < outlen)
		snprintf(out + used, outlen - used, "%skeyslot %u%s%s%s (%s, key "
			 "%s): %s", used ? "\n  " : "", ks->number,
			 *ks->label ? " \"" : "", ks->label,
			 *ks->label ? "\"" : "", ks->provider, ks->key_id,
			 *why ? why : "failed");
}

int volkey_unlock(int dirfd, const struct volkey_src *src,
		  struct vol_config *cfg, struct kek **kek, unsigned int *slot,
		  char *msg, size_t msglen)
{
	const char *only = src->provider ? src->provider : "";
	char uuid[VOL_UUID_STR_LEN + 1], why[KEYPROV_MSG_MAX];
	char report[VOLKEY_MSG_MAX] = "";
	int err, best_err = -ENOKEY, stage, best_stage = -1;
	int tried[VOL_MAX_SLOTS];	/* result of each keyslot tried */
	int stages[VOL_MAX_SLOTS];	/* how far each got (try_slot()) */
	unsigned int i, ntried = 0, nfailed = 0, which[VOL_MAX_SLOTS];
	unsigned int used = 0;

	err = volconf_load(dirfd, cfg, msg, msglen);
	if (err)
		return err;
	vol_uuid_str(cfg->uuid, uuid);
	*kek = NULL;
	err = -ENOKEY;
	for (i = 0; i < cfg->nslots && err; i++) {
		if (src->slot >= 0 &&
		    (unsigned int)src->slot != cfg->slots[i].number)
			continue;
		if (*only && strcmp(cfg->slots[i].provider, only))
			continue;
		why[0] = '\0';
		err = try_slot(src, cfg, i, kek, &stage, why, sizeof(why));
		/* A provider that opened was asked for the key: an attempt. */
		if (stage >= 1) {
			which[ntried] = i;
			stages[ntried] = stage;
			tried[ntried++] = err;
		}
		if (!err)
			used = i;
		if (err == -ENOMEM)
			return err;
		if (err) {
			report_slot(report, sizeof(report), &cfg->slots[i],
				    why);
			nfailed++;
		}
		if (err && stage > best_stage) {
			best_stage = stage;
			best_err = err;
		}
	}
	if (err) {
		if (best_stage < 0 && *only)
			snprintf(msg, msglen, "volume %s has no keyslot "
				 "for key provider %s", uuid, only);
		else if (best_stage < 0)
			snprintf(msg, msglen, "volume %s has no keyslot "
				 "%d", uuid, src->slot);
		else if (nfailed == 1)
			snprintf(msg, msglen, "%s", report);
		else
			snprintf(msg, msglen, "no keyslot opens volume %s:\n  %s",
				 uuid, report);
		if (src->pending)
			auditpend_refused(src->state_base, cfg, which, tried,
					  ntried);
		return best_err;
	}
	msg[0] = '\0';
	err = vol_verify(*kek, cfg);
	if (err) {
		kek_free(*kek);
		*kek = NULL;
		snprintf(msg, msglen, VOL_CONF_NAME " of volume %s fails its MAC "
			 "check: it was changed outside atrestfs (tampering or "
			 "corruption); refusing to use it", uuid);
		if (src->pending) {
			err = -EBADMSG;
			auditpend_refused(src->state_base, cfg, &used, &err, 1);
		}
		return -EBADMSG;
	}
	/* A KEK rotation under way: the old KEK, boxed under the new. */
	if (cfg->retiring.present) {
		err = kek_open_retiring(*kek, cfg->retiring.kek_id, cfg->uuid,
					cfg->retiring.wrapped);
		if (err) {
			kek_free(*kek);
			*kek = NULL;
			return msg_fail(msg, msglen, err == -ENOMEM ? err :
					-EBADMSG, VOL_CONF_NAME " of volume %s: "
					"kek_retiring does not open with the "
					"volume key; refusing to use it", uuid);
		}
	}
	if (slot)
		*slot = used;
	/*
	 * Only now is the audit destination trusted: until the MAC verified,
	 * whoever can write the backing directory could have chosen it.  So
	 * the unwraps are logged here, failed ones before the one that
	 * worked, after the failed unlocks kept since the last that did.
	 */
	if (src->pending)
		err = auditpend_flush(src->state_base, cfg, msg, msglen);
	for (i = 0; i < ntried && !err; i++)
		if (unwrap_audited(stages[i], tried[i]))
			err = volkey_audit(cfg, "root_key_unwrap", NULL,
					   &cfg->slots[which[i]], tried[i], msg,
					   msglen);
	if (err && src->audit_warn_only)
		return 0;
	if (err) {
		kek_free(*kek);
		*kek = NULL;
		/* Fail closed, but say how the owner gets out of it. */
		snprintf(why, sizeof(why), "%s", msg);
		snprintf(msg, msglen, "%s: key use on volume %s must be "
			 "audited, so it is not opened; mend the log (its "
			 "directory, owner, mode), or change the setting with "
			 "atrestfs config CIPHERDIR --audit-file PATH or "
			 "--no-audit (config works without the log)", why,
			 uuid);
		return -VOLKEY_EAUDIT;
	}
	return 0;
}
