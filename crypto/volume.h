/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * crypto/volume.h - atrestfs.conf: the volume's non-secret description,
 * its one serialisation and its authentication.
 *
 * The file sits at the root of the backing directory, which is untrusted:
 * volconf_load() (volume/) validates every field and refuses anything it
 * does not know, and vol_verify() checks the HMAC that covers every field,
 * keyed from the KEK, so the config can only be trusted once a key
 * provider has unwrapped the KEK from one of its keyslots.  Format in
 * docs/format.md.
 */
#ifndef ATR_VOLUME_H
#define ATR_VOLUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kek.h"
#include "names.h"

#define VOL_CONF_NAME		"atrestfs.conf"
#define VOL_CONF_TMP		VOL_CONF_NAME ".tmp"	/* volconf_store() renames it */
/* The re-sealed link rotate-kek and convert swap in through. */
#define VOL_CONF_LINK_TMP	VOL_CONF_NAME ".rotate-link"
/*
 * Format 1 let a regular file get its header lazily, so an empty file
 * without one was an empty file.  From format 2 every regular file has a
 * header from its creation, and a file without one has been tampered with
 * (an attacker who emptied a file could otherwise also remove its header).
 * Both are read; new volumes are made in the newest.
 */
#define VOL_FORMAT_MIN		1
#define VOL_FORMAT_VERSION	2
#define VOL_CIPHER		"AES-256-GCM"
#define VOL_CONF_MAX		(64 * 1024)
#define VOL_MAX_SLOTS		8
#define VOL_MAX_PARAMS		16
#define VOL_NAME_MAX		64	/* provider, algorithm, param names: NAME_LEN_MAX */
#define VOL_STR_MAX		256	/* key IDs, param values */
#define VOL_WRAPPED_MAX		1024	/* wrapped KEK bytes */
#define VOL_UUID_STR_LEN	36
#define VOL_MAX_IDS		64	/* allow_uids, allow_gids entries */
#define VOL_ID_MAX		4294967294u	/* (uid_t)-1 is no one */
#define VOL_PATH_MAX		1024	/* audit file */

struct vol_param {
	char key[VOL_NAME_MAX + 1];
	char value[VOL_STR_MAX + 1];
};

/*
 * A keyslot's lifecycle, as key vaults have it: a disabled or removed
 * (soft-deleted) keyslot opens nothing but stays until it is purged.
 */
enum vol_slot_state {
	VOL_SLOT_ENABLED = 0,		/* no state setting */
	VOL_SLOT_DISABLED,
	VOL_SLOT_REMOVED,
};

/*
 * One wrapped copy of the KEK.  A volume may hold several (HSM plus a
 * recovery passphrase, say); any one of them opens it.
 */
struct vol_keyslot {
	char provider[VOL_NAME_MAX + 1];
	char key_id[VOL_STR_MAX + 1];	/* the provider's root key name */
	uint32_t key_version;
	char algorithm[VOL_NAME_MAX + 1];
	uint8_t wrapped[VOL_WRAPPED_MAX];
	size_t wrapped_len;
	struct vol_param params[VOL_MAX_PARAMS];	/* public only */
	unsigned int nparams;
	/*
	 * What the user calls it: 0 to VOL_MAX_SLOTS - 1, unique, kept when
	 * other keyslots go.  Written only when it differs from the index,
	 * so a config from before numbers keeps its text and MAC.
	 */
	unsigned int number;
	char label[VOL_NAME_MAX + 1];	/* "" if none */
	enum vol_slot_state state;
	int64_t expires;		/* UTC seconds since 1970; 0: never */
};

/*
 * Optional settings (docs/format.md 3.6).  Absent ones leave the canonical
 * form, and so the MAC, of a config exactly as it was without them.  Like
 * every field they may be acted on only after vol_verify() succeeds: the
 * backing directory is untrusted, and an unverified audit path would let
 * whoever can write it choose where the daemon appends.
 */
struct vol_options {
	char audit_file[VOL_PATH_MAX + 1];	/* absolute; "" if none */
	bool audit_syslog;			/* also (or only) to syslog */
	uint32_t allow_uids[VOL_MAX_IDS];
	unsigned int nuids;			/* 0: no allow_uids setting */
	uint32_t allow_gids[VOL_MAX_IDS];
	unsigned int ngids;			/* 0: no allow_gids setting */
	/*
	 * names = { cipher = "AES-256-SIV"; key = "..."; }: file names are
	 * encrypted (crypto/names.h) under the names key, wrapped by the KEK.
	 * Absent: plain names, as every volume before it had.
	 */
	bool names_encrypted;
	uint8_t names_key[NAMES_WRAPPED_LEN];	/* wrapped, while names_encrypted */
	/*
	 * bound = true;: every symlink target is bound to its place and every
	 * xattr value to its inode's value ID; the unbound forms of older
	 * volumes are refused.  Set by init, so an attacker cannot downgrade
	 * one thing by deleting what binds it.  Absent: both forms read.
	 */
	bool bound;
};

#define VOL_NAMES_CIPHER	"AES-256-SIV"

/* An audit destination is configured. */
static inline bool vol_has_audit(const struct vol_options *o)
{
	return o->audit_file[0] || o->audit_syslog;
}

/* An access policy is configured. */
static inline bool vol_has_policy(const struct vol_options *o)
{
	return o->nuids || o->ngids;
}

/*
 * A KEK rotation under way (docs/format.md 3.9): the old KEK, boxed
 * under the current one (kek_wrap_retiring()), until every header,
 * xattr value and symlink target is rewrapped or re-sealed.  Optional:
 * absent, the config's canonical form (and MAC) is what it was without.
 */
struct vol_retiring {
	bool present;
	uint8_t kek_id[KEK_ID_LEN];
	uint8_t wrapped[KEK_RETIRING_LEN];
};

struct vol_config {
	uint32_t format_version;
	/*
	 * Raised by one at every store (init writes 1), so that an older copy
	 * of the config can be told from the newest (volume/confgen.c).  0: a
	 * config from before generations, which has no such setting.
	 */
	uint32_t generation;
	uint8_t uuid[VOL_UUID_LEN];
	uint32_t extent_size;
	uint8_t kek_id[KEK_ID_LEN];
	struct vol_keyslot slots[VOL_MAX_SLOTS];
	unsigned int nslots;
	struct vol_options opt;
	struct vol_retiring retiring;
	uint8_t mac[32];
};

/*
 * The one serialisation: @canonical gives the MAC input (every field, one
 * per line, mac excluded), else the file's text.  A malloc()ed string the
 * caller frees, or NULL when out of memory.
 */
char *vol_text(const struct vol_config *cfg, bool canonical);
/* HMAC over the canonical serialisation of every field but mac itself. */
int vol_mac(const struct kek *kek, const struct vol_config *cfg,
	    uint8_t mac[32]);
/* 0 if cfg->mac is right, -EBADMSG otherwise. */
int vol_verify(const struct kek *kek, const struct vol_config *cfg);

/*
 * AAD that binds a wrapped KEK to its volume, KEK ID and provider:
 * "atrestfs kek v1" || uuid || kek_id || provider.  @aad holds
 * VOL_SLOT_AAD_MAX bytes; returns the length used.
 */
#define VOL_SLOT_AAD_MAX	(15 + VOL_UUID_LEN + KEK_ID_LEN + VOL_NAME_MAX)
size_t vol_slot_aad(const struct vol_config *cfg,
		    const struct vol_keyslot *slot, uint8_t *aad);

/*
 * The index of keyslot number @number in @cfg, or -1 if there is none.
 */
int vol_slot_find(const struct vol_config *cfg, unsigned int number);
/* The lowest keyslot number @cfg does not use (VOL_MAX_SLOTS if full). */
unsigned int vol_slot_free(const struct vol_config *cfg);
/* Enabled and, at @now, not expired: the keyslot may unlock. */
bool vol_slot_active(const struct vol_keyslot *ks, int64_t now);

/*
 * Expiry times: "YYYY-MM-DDTHH:MM:SSZ" (UTC), years 1970 to 9999, the one
 * spelling; vol_time_parse() refuses any other (-EINVAL).
 */
#define VOL_TIME_LEN		20
int vol_time_parse(const char *s, int64_t *t);
void vol_time_str(int64_t t, char out[VOL_TIME_LEN + 1]);

/*
 * A backup of the keyslots (docs/format.md 3.8): @cfg's UUID, KEK ID,
 * generation and keyslots, and in @cfg->mac the export MAC, a HMAC with
 * the config MAC key over a canonical form whose first line differs from
 * the config's, so that neither can pass for the other.
 */
char *vol_export_text(const struct vol_config *cfg, bool canonical);
int vol_export_mac(const struct kek *kek, const struct vol_config *cfg,
		   uint8_t mac[32]);

void vol_uuid_str(const uint8_t uuid[VOL_UUID_LEN],
		  char out[VOL_UUID_STR_LEN + 1]);
int vol_uuid_parse(const char *s, uint8_t uuid[VOL_UUID_LEN]);

#endif
