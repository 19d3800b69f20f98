// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * volume/backup.c - keyslot backups: the export of a volume's wrapped
 * keys, its checks at import, and this machine's record of what was
 * exported, which lets a purge know that the keyslot it destroys has a
 * copy somewhere.
 * Owns nothing past a call: the export's text goes to the caller, who
 * frees it; borrows the caller's trusted config and KEK.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../crypto/aead.h"
#include "../crypto/codec.h"
#include "../crypto/msg.h"
#include "volume_private.h"

char *volkey_export_text(const struct vol_config *cfg, const struct kek *kek)
{
	struct vol_config exp = *cfg;

	if (vol_export_mac(kek, &exp, exp.mac))
		return NULL;
	return vol_export_text(&exp, false);
}

int volkey_import_check(const struct vol_config *cfg, const struct kek *kek,
			const char *text, size_t len, struct vol_config *exp,
			char *msg, size_t msglen)
{
	char uuid[VOL_UUID_STR_LEN + 1], theirs[VOL_UUID_STR_LEN + 1];
	uint8_t mac[32];
	int err;

	err = volconf_parse_export(text, len, exp, msg, msglen);
	if (err)
		return err;
	vol_uuid_str(cfg->uuid, uuid);
	vol_uuid_str(exp->uuid, theirs);
	if (memcmp(exp->uuid, cfg->uuid, VOL_UUID_LEN))
		return msg_fail(msg, msglen, -EXDEV, "it is an export of "
			    "volume %s, not of this volume (%s)", theirs, uuid);
	/* The same volume under another KEK: rotated since, or forged. */
	if (memcmp(exp->kek_id, cfg->kek_id, KEK_ID_LEN))
		return msg_fail(msg, msglen, -EKEYREJECTED, "its keys wrap "
			    "another volume key (KEK ID) than this volume's: "
			    "it was made before a rotation of the volume key, "
			    "and its keyslots can no longer open it");
	err = vol_export_mac(kek, exp, mac);
	if (err)
		return err;
	if (ct_memcmp(mac, exp->mac, sizeof(mac)))
		return msg_fail(msg, msglen, -EBADMSG, "it fails its MAC "
			    "check: it was changed after export (tampering or "
			    "corruption); refusing to import it");
	return 0;
}

/*
 * The record is in the volume already: the same wrapped copy, or the same
 * root key (as keyslot add refuses a second keyslot for a key; a
 * passphrase keyslot's key ID names the keyslot, not its passphrase, so
 * only its copy counts).
 */
static bool same_record(const struct vol_keyslot *a,
			const struct vol_keyslot *b)
{
	if (strcmp(a->provider, b->provider))
		return false;
	if (strcmp(a->provider, "passphrase") && !strcmp(a->key_id, b->key_id))
		return true;
	return a->wrapped_len == b->wrapped_len &&
	       !memcmp(a->wrapped, b->wrapped, a->wrapped_len);
}

int volkey_import_merge(struct vol_config *cfg, const struct vol_config *exp,
			uint32_t *added, char *msg, size_t msglen)
{
	struct vol_keyslot ks;
	unsigned int i, j;

	*added = 0;
	for (i = 0; i < exp->nslots; i++) {
		for (j = 0; j < cfg->nslots; j++)
			if (same_record(&cfg->slots[j], &exp->slots[i]))
				break;
		if (j < cfg->nslots)
			continue;
		if (cfg->nslots == VOL_MAX_SLOTS)
			return msg_fail(msg, msglen, -ENOSPC, "the volume "
				    "has no room for keyslot %u of the export "
				    "(it holds %d keyslots, the most it can): "
				    "purge one first", exp->slots[i].number,
				    VOL_MAX_SLOTS);
		ks = exp->slots[i];
		/* Its number, unless another keyslot has taken it since. */
		if (vol_slot_find(cfg, ks.number) >= 0)
			ks.number = vol_slot_free(cfg);
		cfg->slots[cfg->nslots++] = ks;
		*added |= 1u << ks.number;
	}
	return 0;
}

/*
 * A keyslot's fingerprint in the backup record: keyed with the state MAC
 * key, whose purpose is this machine's records, so it names the wrapped
 * copy without a way to match it against other volumes'.
 */
static int fingerprint(const struct kek *kek, const struct vol_keyslot *ks,
		       char out[33])
{
	uint8_t buf[VOL_NAME_MAX + 1 + VOL_WRAPPED_MAX], mac[32];
	size_t n = strlen(ks->provider) + 1;
	int err;

	memcpy(buf, ks->provider, n);
	memcpy(buf + n, ks->wrapped, ks->wrapped_len);
	err = kdf_hmac(kek->state_mac_key, buf, n + ks->wrapped_len, mac);
	if (!err)
		hex_encode(mac, 16, out);
	return err;
}

int volkey_backup_body(const struct vol_config *cfg, const struct kek *kek,
		       char *body, size_t bodylen)
{
	char fp[33];
	size_t used;
	unsigned int i;
	int err, n;

	n = snprintf(body, bodylen, "generation %u\n", cfg->generation);
	if (n < 0 || (size_t)n >= bodylen)
		return -ENOSPC;
	used = (size_t)n;
	for (i = 0; i < cfg->nslots; i++) {
		err = fingerprint(kek, &cfg->slots[i], fp);
		if (err)
			return err;
		n = snprintf(body + used, bodylen - used, "slot %u %s\n",
			     cfg->slots[i].number, fp);
		if (n < 0 || (size_t)n >= bodylen - used)
			return -ENOSPC;
		used += (size_t)n;
	}
	return 0;
}

bool volkey_backup_covers(const char *body, const struct kek *kek,
			  const struct vol_keyslot *ks)
{
	char fp[33], line[64];
	const char *p;

	if (fingerprint(kek, ks, fp))
		return false;
	/* The body's MAC verified: only its lines need finding. */
	for (p = body; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (sscanf(p, "slot %*u %63s", line) == 1 && !strcmp(line, fp))
			return true;
	}
	return false;
}
