// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * volume/conf_parse.c - atrestfs.conf's text to a struct vol_config: the
 * libconfig parse and the validation of every field.
 * Owns the libconfig tree, for one call.  Reads no file (conf_io.c does)
 * and trusts nothing: the text comes from the untrusted backing directory,
 * and only vol_verify() afterwards says whether the fields are the ones
 * atrestfs wrote.  Every setting is whitelisted: an unknown one would be
 * unauthenticated input.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "../crypto/codec.h"
#include "../crypto/extent.h"
#include "../crypto/msg.h"
#include "volume_private.h"

/* Provider and param names are checked with name_valid(). */
_Static_assert(VOL_NAME_MAX == NAME_LEN_MAX, "one limit for names");

/* Only @names may appear in @grp. */
static int check_names(const config_setting_t *grp, const char *const *names,
		       const char *where, char *msg, size_t msglen)
{
	int i, n = config_setting_length(grp);
	const char *const *p;
	const char *name;

	for (i = 0; i < n; i++) {
		name = config_setting_name(config_setting_get_elem(grp, (unsigned)i));
		for (p = names; *p; p++)
			if (name && !strcmp(name, *p))
				break;
		if (!*p)
			return msg_fail(msg, msglen, -EINVAL,
				    "unknown setting '%s' in %s",
				    name ? name : "(unnamed)", where);
	}
	return 0;
}

static const char *get_str(const config_setting_t *grp, const char *name)
{
	const config_setting_t *s = config_setting_get_member(grp, name);

	if (!s || config_setting_type(s) != CONFIG_TYPE_STRING)
		return NULL;
	return config_setting_get_string(s);
}

static int get_int(const config_setting_t *grp, const char *name,
		   long long min, long long max, uint32_t *out)
{
	const config_setting_t *s = config_setting_get_member(grp, name);
	long long v;

	if (!s)
		return -ENOENT;
	if (config_setting_type(s) == CONFIG_TYPE_INT)
		v = config_setting_get_int(s);
	else if (config_setting_type(s) == CONFIG_TYPE_INT64)
		v = config_setting_get_int64(s);
	else
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

static int load_params(const config_setting_t *grp, struct vol_keyslot *ks,
		       unsigned int idx, char *msg, size_t msglen)
{
	int i, n = config_setting_length(grp);
	const config_setting_t *p;
	const char *name, *val;

	if (!config_setting_is_group(grp))
		return msg_fail(msg, msglen, -EINVAL,
			    "keyslots[%u].params must be a group", idx);
	if (n > VOL_MAX_PARAMS)
		return msg_fail(msg, msglen, -EINVAL,
			    "keyslots[%u].params has more than %d settings",
			    idx, VOL_MAX_PARAMS);
	for (i = 0; i < n; i++) {
		p = config_setting_get_elem(grp, (unsigned)i);
		name = config_setting_name(p);
		val = config_setting_type(p) == CONFIG_TYPE_STRING ?
		      config_setting_get_string(p) : NULL;
		if (!name || !name_valid(name) || !val ||
		    !str_valid(val, VOL_STR_MAX))
			return msg_fail(msg, msglen, -EINVAL,
				    "keyslots[%u].params.%s is not a valid string setting",
				    idx, name ? name : "?");
		strcpy(ks->params[i].key, name);
		strcpy(ks->params[i].value, val);
	}
	ks->nparams = (unsigned int)n;
	return 0;
}

/*
 * The optional lifecycle settings of a keyslot: absent, it is numbered by
 * its index, unlabelled, enabled and never expires.
 */
static int load_slot_extra(const config_setting_t *grp, struct vol_keyslot *ks,
			   unsigned int idx, const char *where, char *msg,
			   size_t msglen)
{
	const char *s;
	int err;

	ks->number = idx;
	err = get_int(grp, "number", 0, VOL_MAX_SLOTS - 1, &ks->number);
	if (err && err != -ENOENT)
		return msg_fail(msg, msglen, -EINVAL,
			    "%s.number must be an integer from 0 to %d", where,
			    VOL_MAX_SLOTS - 1);
	if (config_setting_get_member(grp, "label")) {
		s = get_str(grp, "label");
		if (!s || !*s || !str_valid(s, VOL_NAME_MAX))
			return msg_fail(msg, msglen, -EINVAL,
				    "%s.label must be 1 to %d printable characters "
				    "other than '\"' and '\\'", where, VOL_NAME_MAX);
		strcpy(ks->label, s);
	}
	if (config_setting_get_member(grp, "state")) {
		s = get_str(grp, "state");
		if (s && !strcmp(s, "disabled"))
			ks->state = VOL_SLOT_DISABLED;
		else if (s && !strcmp(s, "removed"))
			ks->state = VOL_SLOT_REMOVED;
		else
			return msg_fail(msg, msglen, -EINVAL,
				    "%s.state must be \"disabled\" or \"removed\"",
				    where);
	}
	if (config_setting_get_member(grp, "expires")) {
		s = get_str(grp, "expires");
		if (!s || vol_time_parse(s, &ks->expires))
			return msg_fail(msg, msglen, -EINVAL,
				    "%s.expires must be a UTC time "
				    "\"YYYY-MM-DDTHH:MM:SSZ\"", where);
	}
	return 0;
}

static int load_slot(const config_setting_t *grp, struct vol_keyslot *ks,
		     unsigned int idx, char *msg, size_t msglen)
{
	static const char *const names[] = { "provider", "key_id",
		"key_version", "algorithm", "wrapped_kek", "params", "number",
		"label", "state", "expires", NULL };
	const config_setting_t *params;
	const char *s;
	uint8_t *buf;
	ssize_t n;
	char where[32];
	int err;

	snprintf(where, sizeof(where), "keyslots[%u]", idx);
	if (!config_setting_is_group(grp))
		return msg_fail(msg, msglen, -EINVAL, "%s must be a group", where);
	err = check_names(grp, names, where, msg, msglen);
	if (err)
		return err;
	s = get_str(grp, "provider");
	if (!s || !name_valid(s))
		return msg_fail(msg, msglen, -EINVAL,
			    "%s.provider must be a name of [A-Za-z0-9_-], at most %d characters",
			    where, VOL_NAME_MAX);
	strcpy(ks->provider, s);
	s = get_str(grp, "key_id");
	if (!s || !*s || !str_valid(s, VOL_STR_MAX))
		return msg_fail(msg, msglen, -EINVAL,
			    "%s.key_id is missing or not printable", where);
	strcpy(ks->key_id, s);
	if (get_int(grp, "key_version", 1, UINT32_MAX, &ks->key_version))
		return msg_fail(msg, msglen, -EINVAL,
			    "%s.key_version must be an integer >= 1", where);
	s = get_str(grp, "algorithm");
	if (!s || !*s || !str_valid(s, VOL_NAME_MAX))
		return msg_fail(msg, msglen, -EINVAL,
			    "%s.algorithm is missing or not printable", where);
	strcpy(ks->algorithm, s);
	s = get_str(grp, "wrapped_kek");
	n = s ? b64_dec_len(s, strlen(s)) : -EINVAL;
	if (n <= 0 || n > VOL_WRAPPED_MAX)
		return msg_fail(msg, msglen, -EINVAL,
			    "%s.wrapped_kek must be base64 of 1..%d bytes",
			    where, VOL_WRAPPED_MAX);
	buf = malloc((size_t)n + 2);
	if (!buf)
		return -ENOMEM;
	n = b64_decode(s, strlen(s), buf);
	if (n > 0)
		memcpy(ks->wrapped, buf, (size_t)n);
	free(buf);
	if (n <= 0)
		return msg_fail(msg, msglen, -EINVAL, "%s.wrapped_kek is not base64",
			    where);
	ks->wrapped_len = (size_t)n;
	err = load_slot_extra(grp, ks, idx, where, msg, msglen);
	if (err)
		return err;
	params = config_setting_get_member(grp, "params");
	ks->nparams = 0;
	if (params)
		return load_params(params, ks, idx, msg, msglen);
	return 0;
}

/* allow_uids / allow_gids: an array of 1..VOL_MAX_IDS integers. */
static int load_ids(const config_setting_t *root, const char *name,
		    uint32_t *ids, unsigned int *n, char *msg, size_t msglen)
{
	const config_setting_t *arr = config_setting_get_member(root, name);
	const config_setting_t *e;
	long long v;
	int i, len;

	*n = 0;
	if (!arr)
		return 0;
	len = config_setting_is_array(arr) ? config_setting_length(arr) : -1;
	if (len < 1 || len > VOL_MAX_IDS)
		return msg_fail(msg, msglen, -EINVAL,
			    "%s must be an array [ ... ] of 1 to %d integers",
			    name, VOL_MAX_IDS);
	for (i = 0; i < len; i++) {
		e = config_setting_get_elem(arr, (unsigned int)i);
		if (config_setting_type(e) == CONFIG_TYPE_INT)
			v = config_setting_get_int(e);
		else if (config_setting_type(e) == CONFIG_TYPE_INT64)
			v = config_setting_get_int64(e);
		else
			v = -1;
		if (v < 0 || v > VOL_ID_MAX)
			return msg_fail(msg, msglen, -EINVAL,
				    "%s[%d] must be an integer from 0 to %u",
				    name, i, VOL_ID_MAX);
		ids[i] = (uint32_t)v;
	}
	*n = (unsigned int)len;
	return 0;
}

int volconf_options_check(const struct vol_options *o, char *msg, size_t msglen)
{
	const char *p = o->audit_file;
	size_t len = strlen(p);

	/* Relative paths would depend on the daemon's working directory. */
	if (len && (p[0] != '/' || !str_valid(p, VOL_PATH_MAX) ||
		    strstr(p, "/../") ||
		    (len >= 3 && !strcmp(p + len - 3, "/.."))))
		return msg_fail(msg, msglen, -EINVAL,
			    "audit.file must be an absolute path of printable "
			    "characters without '\\', '\"' or '..', at most %d",
			    VOL_PATH_MAX);
	if (o->nuids > VOL_MAX_IDS || o->ngids > VOL_MAX_IDS)
		return msg_fail(msg, msglen, -EINVAL, "at most %d allowed IDs",
			    VOL_MAX_IDS);
	return 0;
}

/* audit = { file = "/abs/path"; syslog = true; }: at least one of them. */
static int load_audit(const config_setting_t *root, struct vol_options *o,
		      char *msg, size_t msglen)
{
	static const char *const names[] = { "file", "syslog", NULL };
	const config_setting_t *grp = config_setting_get_member(root, "audit");
	const config_setting_t *sl;
	const char *s;
	int err;

	if (!grp)
		return 0;
	if (!config_setting_is_group(grp))
		return msg_fail(msg, msglen, -EINVAL, "audit must be a group { ... }");
	err = check_names(grp, names, "audit", msg, msglen);
	if (err)
		return err;
	if (config_setting_get_member(grp, "file")) {
		s = get_str(grp, "file");
		if (!s || !*s || strlen(s) > VOL_PATH_MAX)
			return msg_fail(msg, msglen, -EINVAL,
				    "audit.file must be an absolute path");
		strcpy(o->audit_file, s);
	}
	sl = config_setting_get_member(grp, "syslog");
	if (sl) {
		if (config_setting_type(sl) != CONFIG_TYPE_BOOL)
			return msg_fail(msg, msglen, -EINVAL,
				    "audit.syslog must be true or false");
		o->audit_syslog = config_setting_get_bool(sl);
	}
	if (!vol_has_audit(o))
		return msg_fail(msg, msglen, -EINVAL, "audit names no destination "
			    "(want file = \"/path\"; or syslog = true;)");
	return volconf_options_check(o, msg, msglen);
}

/*
 * names = { cipher = "AES-256-SIV"; key = "<base64>"; }: encrypted names
 * and the wrapped names key.  Absent: plain names.
 */
static int load_names(const config_setting_t *root, struct vol_options *o,
		      char *msg, size_t msglen)
{
	static const char *const names[] = { "cipher", "key", NULL };
	const config_setting_t *grp = config_setting_get_member(root, "names");
	uint8_t key[NAMES_WRAPPED_LEN + 2];
	const char *s;
	int err;

	if (!grp)
		return 0;
	if (!config_setting_is_group(grp))
		return msg_fail(msg, msglen, -EINVAL, "names must be a group { ... }");
	err = check_names(grp, names, "names", msg, msglen);
	if (err)
		return err;
	s = get_str(grp, "cipher");
	if (!s || strcmp(s, VOL_NAMES_CIPHER))
		return msg_fail(msg, msglen, -EINVAL,
			    "names.cipher must be \"%s\"", VOL_NAMES_CIPHER);
	s = get_str(grp, "key");
	if (!s || b64_dec_len(s, strlen(s)) != NAMES_WRAPPED_LEN ||
	    b64_decode(s, strlen(s), key) != NAMES_WRAPPED_LEN)
		return msg_fail(msg, msglen, -EINVAL,
			    "names.key must be %d bytes in base64",
			    NAMES_WRAPPED_LEN);
	memcpy(o->names_key, key, NAMES_WRAPPED_LEN);
	o->names_encrypted = true;
	return 0;
}

/* keyslots: 1 to VOL_MAX_SLOTS groups, their numbers unique. */
static int load_slots(const config_setting_t *root, struct vol_config *cfg,
		      char *msg, size_t msglen)
{
	const config_setting_t *slots = config_setting_get_member(root, "keyslots");
	unsigned int i, j;
	int n, err;

	n = slots && config_setting_is_list(slots) ?
	    config_setting_length(slots) : 0;
	if (n < 1 || n > VOL_MAX_SLOTS)
		return msg_fail(msg, msglen, -EINVAL,
			    "keyslots must be a list of 1 to %d groups",
			    VOL_MAX_SLOTS);
	cfg->nslots = (unsigned int)n;
	for (i = 0; i < cfg->nslots; i++) {
		err = load_slot(config_setting_get_elem(slots, i),
				&cfg->slots[i], i, msg, msglen);
		if (err)
			return err;
		for (j = 0; j < i; j++)
			if (cfg->slots[j].number == cfg->slots[i].number)
				return msg_fail(msg, msglen, -EINVAL,
					    "keyslots[%u] and keyslots[%u] are "
					    "both keyslot number %u", j, i,
					    cfg->slots[i].number);
	}
	return 0;
}

/* kek_id, mac and the keyslots: what a config and an export both hold. */
static int load_keys(const config_setting_t *root, struct vol_config *cfg,
		     char *msg, size_t msglen)
{
	const char *s;

	s = get_str(root, "kek_id");
	if (!s || hex_decode(s, cfg->kek_id, KEK_ID_LEN))
		return msg_fail(msg, msglen, -EINVAL,
			    "kek_id must be %d hex digits", 2 * KEK_ID_LEN);
	s = get_str(root, "mac");
	if (!s || hex_decode(s, cfg->mac, sizeof(cfg->mac)))
		return msg_fail(msg, msglen, -EINVAL, "mac must be 64 hex digits");
	return load_slots(root, cfg, msg, msglen);
}

/*
 * kek_retiring = { kek_id = "HEX"; wrapped_kek = "B64"; }: a KEK rotation
 * under way.  Its box is opened only after the MAC verifies (unlock.c).
 */
static int load_retiring(const config_setting_t *root, struct vol_config *cfg,
			 char *msg, size_t msglen)
{
	static const char *const names[] = { "kek_id", "wrapped_kek", NULL };
	const config_setting_t *grp = config_setting_get_member(root,
								"kek_retiring");
	struct vol_retiring *r = &cfg->retiring;
	uint8_t buf[KEK_RETIRING_LEN + 2];
	const char *s;
	int err;

	if (!grp)
		return 0;
	if (!config_setting_is_group(grp))
		return msg_fail(msg, msglen, -EINVAL,
			    "kek_retiring must be a group { ... }");
	err = check_names(grp, names, "kek_retiring", msg, msglen);
	if (err)
		return err;
	s = get_str(grp, "kek_id");
	if (!s || hex_decode(s, r->kek_id, KEK_ID_LEN) ||
	    !memcmp(r->kek_id, cfg->kek_id, KEK_ID_LEN))
		return msg_fail(msg, msglen, -EINVAL, "kek_retiring.kek_id must "
			    "be %d hex digits, not the kek_id", 2 * KEK_ID_LEN);
	s = get_str(grp, "wrapped_kek");
	if (!s || b64_dec_len(s, strlen(s)) != KEK_RETIRING_LEN ||
	    b64_decode(s, strlen(s), buf) != KEK_RETIRING_LEN)
		return msg_fail(msg, msglen, -EINVAL, "kek_retiring.wrapped_kek "
			    "must be base64 of %d bytes", KEK_RETIRING_LEN);
	memcpy(r->wrapped, buf, KEK_RETIRING_LEN);
	r->present = true;
	return 0;
}

static int load_root(config_t *cf, struct vol_config *cfg, char *msg,
		     size_t msglen)
{
	static const char *const names[] = { "format_version", "generation",
		"volume_uuid", "extent_size", "cipher", "kek_id", "keyslots",
		"mac", "audit", "allow_uids", "allow_gids", "kek_retiring",
		"names", "bound", NULL };
	config_setting_t *root = config_root_setting(cf);
	const config_setting_t *sb;
	const char *s;
	int err;

	if (get_int(root, "format_version", 0, UINT32_MAX, &cfg->format_version))
		return msg_fail(msg, msglen, -EINVAL,
			    "format_version is missing or not an integer");
	if (cfg->format_version < VOL_FORMAT_MIN ||
	    cfg->format_version > VOL_FORMAT_VERSION)
		return msg_fail(msg, msglen, -EPROTONOSUPPORT,
			    "format_version %u is not supported (this atrestfs reads versions %d to %d)",
			    cfg->format_version, VOL_FORMAT_MIN,
			    VOL_FORMAT_VERSION);
	err = check_names(root, names, "atrestfs.conf", msg, msglen);
	if (err)
		return err;
	/*
	 * Absent: a config from before generations (0).  Present, never 0:
	 * two spellings of one config would otherwise share a MAC.
	 */
	err = get_int(root, "generation", 1, UINT32_MAX, &cfg->generation);
	if (err && err != -ENOENT)
		return msg_fail(msg, msglen, -EINVAL,
			    "generation must be an integer from 1 to %u",
			    UINT32_MAX);
	s = get_str(root, "volume_uuid");
	if (!s || vol_uuid_parse(s, cfg->uuid))
		return msg_fail(msg, msglen, -EINVAL,
			    "volume_uuid is missing or not a UUID");
	if (get_int(root, "extent_size", 0, UINT32_MAX, &cfg->extent_size) ||
	    !extent_size_valid(cfg->extent_size))
		return msg_fail(msg, msglen, -EINVAL,
			    "extent_size must be a power of two from 4096 to 1048576");
	s = get_str(root, "cipher");
	if (!s || strcmp(s, VOL_CIPHER))
		return msg_fail(msg, msglen, -EINVAL, "cipher must be \"%s\"",
			    VOL_CIPHER);
	err = load_keys(root, cfg, msg, msglen);
	if (err)
		return err;
	err = load_audit(root, &cfg->opt, msg, msglen);
	if (!err)
		err = load_ids(root, "allow_uids", cfg->opt.allow_uids,
			       &cfg->opt.nuids, msg, msglen);
	if (!err)
		err = load_ids(root, "allow_gids", cfg->opt.allow_gids,
			       &cfg->opt.ngids, msg, msglen);
	if (!err)
		err = load_retiring(root, cfg, msg, msglen);
	if (!err)
		err = load_names(root, &cfg->opt, msg, msglen);
	/* Only "true": absent is the other value, and one spelling each. */
	sb = config_setting_get_member(root, "bound");
	if (!err && sb && (config_setting_type(sb) != CONFIG_TYPE_BOOL ||
			   !config_setting_get_bool(sb)))
		err = msg_fail(msg, msglen, -EINVAL, "bound must be true "
			       "(or absent, on volumes made before it)");
	if (!err)
		cfg->opt.bound = sb != NULL;
	return err;
}

/* A keyslot export (docs/format.md 3.8): the header, keyslots and MAC. */
static int load_export(config_t *cf, struct vol_config *cfg, char *msg,
		       size_t msglen)
{
	static const char *const names[] = { "export_version", "generation",
		"volume_uuid", "kek_id", "keyslots", "mac", NULL };
	config_setting_t *root = config_root_setting(cf);
	uint32_t version;
	const char *s;
	int err;

	if (get_int(root, "export_version", 0, UINT32_MAX, &version) ||
	    version != 1)
		return msg_fail(msg, msglen, -EPROTONOSUPPORT,
			    "not an atrestfs keyslot export of version 1 "
			    "(export_version)");
	err = check_names(root, names, "the export", msg, msglen);
	if (err)
		return err;
	if (get_int(root, "generation", 0, UINT32_MAX, &cfg->generation))
		return msg_fail(msg, msglen, -EINVAL,
			    "generation is missing or not an integer");
	s = get_str(root, "volume_uuid");
	if (!s || vol_uuid_parse(s, cfg->uuid))
		return msg_fail(msg, msglen, -EINVAL,
			    "volume_uuid is missing or not a UUID");
	return load_keys(root, cfg, msg, msglen);
}

static int parse_text(const char *text, size_t len, struct vol_config *cfg,
		      bool export, char *msg, size_t msglen)
{
	config_t cf;
	int err;

	memset(cfg, 0, sizeof(*cfg));
	/*
	 * libconfig 1.5 obeys @include, which would let whoever can write the
	 * backing directory make us read any file; no valid field holds '@'.
	 */
	if (strchr(text, '@') || strlen(text) != len)
		return msg_fail(msg, msglen, -EINVAL, "%s contains '@' or a "
			    "NUL byte, which no valid one has",
			    export ? "the export" : VOL_CONF_NAME);
	config_init(&cf);
	if (config_read_string(&cf, text) != CONFIG_TRUE) {
		err = msg_fail(msg, msglen, -EINVAL, "%s line %d: %s",
			   export ? "the export" : VOL_CONF_NAME,
			   config_error_line(&cf), config_error_text(&cf));
		goto out_destroy;
	}
	err = export ? load_export(&cf, cfg, msg, msglen) :
		       load_root(&cf, cfg, msg, msglen);
out_destroy:
	config_destroy(&cf);
	return err;
}

int volconf_parse(const char *text, size_t len, struct vol_config *cfg,
		  char *msg, size_t msglen)
{
	return parse_text(text, len, cfg, false, msg, msglen);
}

int volconf_parse_export(const char *text, size_t len, struct vol_config *cfg,
			 char *msg, size_t msglen)
{
	return parse_text(text, len, cfg, true, msg, msglen);
}
