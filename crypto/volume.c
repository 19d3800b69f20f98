// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * crypto/volume.c - authenticate atrestfs.conf: its one serialisation, the
 * MAC over it, and the AAD that binds a keyslot to its volume.
 * Owns no file: volume/conf_io.c reads and writes atrestfs.conf and
 * volume/conf_parse.c validates it.
 *
 * The MAC is computed over a canonical text form rebuilt from the parsed
 * fields, never over the file's bytes, so comments and whitespace do not
 * matter and no field can be both parsed and left outside the MAC.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aead.h"
#include "codec.h"
#include "volume.h"

void vol_uuid_str(const uint8_t u[VOL_UUID_LEN], char out[VOL_UUID_STR_LEN + 1])
{
	char hex[2 * VOL_UUID_LEN + 1];

	hex_encode(u, VOL_UUID_LEN, hex);
	snprintf(out, VOL_UUID_STR_LEN + 1, "%.8s-%.4s-%.4s-%.4s-%.12s", hex,
		 hex + 8, hex + 12, hex + 16, hex + 20);
}

int vol_uuid_parse(const char *s, uint8_t u[VOL_UUID_LEN])
{
	char hex[2 * VOL_UUID_LEN + 1];
	size_t i, j = 0;

	if (strlen(s) != VOL_UUID_STR_LEN)
		return -EINVAL;
	for (i = 0; i < VOL_UUID_STR_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -EINVAL;
			continue;
		}
		hex[j++] = s[i];
	}
	hex[j] = '\0';
	return hex_decode(hex, u, VOL_UUID_LEN);
}

/*
 * The config's text, built in memory: crypto/ writes to no stream.  A
 * failed allocation is remembered and reported once, at the end.
 */
struct text {
	char *p;			/* NUL-terminated, owned */
	size_t len, cap;
	bool failed;
};

static void put(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	size_t need;
	char *np;
	int n;

	if (t->failed)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->p ? t->p + t->len : NULL,
		      t->p ? t->cap - t->len : 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		t->failed = true;
		return;
	}
	need = t->len + (size_t)n + 1;
	if (need > t->cap) {
		np = realloc(t->p, need * 2);
		if (!np) {
			t->failed = true;
			return;
		}
		t->p = np;
		t->cap = need * 2;
		va_start(ap, fmt);
		vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
	}
	t->len += (size_t)n;
}

static void ids_text(struct text *f, const char *name, const uint32_t *ids,
		     unsigned int n, bool canonical)
{
	bool big = false;
	unsigned int i;

	/* libconfig wants one element type per array: all "L" or none. */
	for (i = 0; i < n; i++)
		big |= ids[i] > INT32_MAX;
	put(f, "\n%s = [ ", name);
	for (i = 0; i < n; i++)
		put(f, "%s%u%s", i ? ", " : "", ids[i],
			big && !canonical ? "L" : "");
	put(f, " ];");
}

/*
 * The optional settings, each as "\n" and one line, only when present: a
 * config without them keeps the canonical form (and MAC) it always had.
 */
static void options_text(struct text *f, const struct vol_options *o,
			 bool canonical)
{
	if (vol_has_audit(o)) {
		put(f, "\naudit = { ");
		if (o->audit_file[0])
			put(f, "file = \"%s\"; ", o->audit_file);
		if (o->audit_syslog)
			put(f, "syslog = true; ");
		put(f, "};");
	}
	if (o->nuids)
		ids_text(f, "allow_uids", o->allow_uids, o->nuids, canonical);
	if (o->ngids)
		ids_text(f, "allow_gids", o->allow_gids, o->ngids, canonical);
	if (o->names_encrypted) {
		char key[b64_enc_len(NAMES_WRAPPED_LEN) + 1];

		b64_encode(o->names_key, NAMES_WRAPPED_LEN, key);
		put(f, "\nnames = { cipher = \"%s\"; key = \"%s\"; };",
		    VOL_NAMES_CIPHER, key);
	}
	if (o->bound)
		put(f, "\nbound = true;");
}

/*
 * The optional keyslot settings, each as one line only when present (and
 * the number only when it is not the index): a keyslot without them
 * keeps the canonical form it had before they existed.
 */
static void slot_extra_text(struct text *f, const struct vol_keyslot *ks,
			    unsigned int i)
{
	static const char *const states[] = { "", "disabled", "removed" };
	char when[VOL_TIME_LEN + 1];

	if (ks->number != i)
		put(f, "    number = %u;\n", ks->number);
	if (ks->label[0])
		put(f, "    label = \"%s\";\n", ks->label);
	if (ks->state != VOL_SLOT_ENABLED)
		put(f, "    state = \"%s\";\n", states[ks->state]);
	if (ks->expires) {
		vol_time_str(ks->expires, when);
		put(f, "    expires = \"%s\";\n", when);
	}
}

/* "keyslots = (" and every keyslot, as both the config and an export have them. */
static void slots_text(struct text *f, const struct vol_config *cfg,
		       bool canonical)
{
	const struct vol_keyslot *ks;
	unsigned int i, j;
	char *wrapped;

	put(f, "keyslots = %s\n", canonical ? "" : "(");
	for (i = 0; i < cfg->nslots; i++) {
		ks = &cfg->slots[i];
		wrapped = malloc(b64_enc_len(ks->wrapped_len) + 1);
		if (!wrapped) {
			f->failed = true;
			return;
		}
		b64_encode(ks->wrapped, ks->wrapped_len, wrapped);
		/*
		 * libconfig 1.5 wraps a plain integer literal above INT32_MAX;
		 * an "L" literal is read as 64-bit.  The canonical form has none.
		 */
		put(f, "%s{\n    provider = \"%s\";\n    key_id = \"%s\";\n"
			"    key_version = %u%s;\n    algorithm = \"%s\";\n"
			"    wrapped_kek = \"%s\";\n    params = {\n",
			i ? ",\n  " : "  ", ks->provider, ks->key_id,
			ks->key_version,
			!canonical && ks->key_version > INT32_MAX ? "L" : "",
			ks->algorithm, wrapped);
		free(wrapped);
		for (j = 0; j < ks->nparams; j++)
			put(f, "      %s = \"%s\";\n", ks->params[j].key,
				ks->params[j].value);
		put(f, "    };\n");
		slot_extra_text(f, ks, i);
		put(f, "  }");
	}
	if (!canonical)
		put(f, "\n);");
}

/* Only during a KEK rotation, so that other configs keep their MAC. */
static void retiring_text(struct text *f, const struct vol_retiring *r)
{
	char id[2 * KEK_ID_LEN + 1], box[4 * ((KEK_RETIRING_LEN + 2) / 3) + 1];

	if (!r->present)
		return;
	hex_encode(r->kek_id, KEK_ID_LEN, id);
	b64_encode(r->wrapped, KEK_RETIRING_LEN, box);
	put(f, "\nkek_retiring = { kek_id = \"%s\"; wrapped_kek = \"%s\"; };",
	    id, box);
}

static char *text_done(struct text *t)
{
	if (!t->failed && t->p)
		return t->p;
	free(t->p);
	return NULL;
}

static void mac_text(struct text *f, const uint8_t m[32])
{
	char mac[65];

	hex_encode(m, 32, mac);
	put(f, "\nmac = \"%s\";\n", mac);
}

/*
 * Both texts start with @canon (the MAC input's first line, which tells
 * them apart) or, in the file, @comment; @uuid and @kek_id get the
 * config's in text form.
 */
static void text_head(struct text *f, const struct vol_config *cfg,
		      bool canonical, const char *canon, const char *comment,
		      char uuid[VOL_UUID_STR_LEN + 1],
		      char kek_id[2 * KEK_ID_LEN + 1])
{
	vol_uuid_str(cfg->uuid, uuid);
	hex_encode(cfg->kek_id, KEK_ID_LEN, kek_id);
	put(f, "%s", canonical ? canon : comment);
}

char *vol_text(const struct vol_config *cfg, bool canonical)
{
	char uuid[VOL_UUID_STR_LEN + 1], kek_id[2 * KEK_ID_LEN + 1];
	struct text t = { 0 }, *f = &t;

	text_head(f, cfg, canonical, "atrestfs.conf canonical v1\n",
		  "# atrestfs volume configuration.  Not secret, but "
		  "authenticated by \"mac\":\n# any edit makes the volume "
		  "refuse to mount.\n", uuid, kek_id);
	put(f, "format_version = %u;\n", cfg->format_version);
	/* Only when set: a config from before generations keeps its MAC. */
	if (cfg->generation)
		put(f, "generation = %u%s;\n", cfg->generation,
			!canonical && cfg->generation > INT32_MAX ? "L" : "");
	put(f, "volume_uuid = \"%s\";\nextent_size = %u;\n"
		"cipher = \"%s\";\nkek_id = \"%s\";\n", uuid,
		cfg->extent_size, VOL_CIPHER, kek_id);
	slots_text(f, cfg, canonical);
	options_text(f, &cfg->opt, canonical);
	retiring_text(f, &cfg->retiring);
	if (!canonical)
		mac_text(f, cfg->mac);
	return text_done(f);
}

char *vol_export_text(const struct vol_config *cfg, bool canonical)
{
	char uuid[VOL_UUID_STR_LEN + 1], kek_id[2 * KEK_ID_LEN + 1];
	struct text t = { 0 }, *f = &t;

	text_head(f, cfg, canonical, "atrestfs keyslots export canonical v1\n",
		  "# atrestfs keyslot backup (atrestfs keyslot import).  "
		  "Wrapped keys only:\n# useless without a root key, "
		  "authenticated by \"mac\".\nexport_version = 1;\n", uuid,
		  kek_id);
	put(f, "generation = %u%s;\nvolume_uuid = \"%s\";\n"
		"kek_id = \"%s\";\n", cfg->generation,
		!canonical && cfg->generation > INT32_MAX ? "L" : "", uuid,
		kek_id);
	slots_text(f, cfg, canonical);
	if (!canonical)
		mac_text(f, cfg->mac);
	return text_done(f);
}

static int text_mac(const struct kek *kek, char *text, uint8_t mac[32])
{
	int err;

	if (!text)
		return -ENOMEM;
	err = kdf_hmac(kek->conf_mac_key, text, strlen(text), mac);
	free(text);
	return err;
}

int vol_export_mac(const struct kek *kek, const struct vol_config *cfg,
		   uint8_t mac[32])
{
	return text_mac(kek, vol_export_text(cfg, true), mac);
}

int vol_slot_find(const struct vol_config *cfg, unsigned int number)
{
	unsigned int i;

	for (i = 0; i < cfg->nslots; i++)
		if (cfg->slots[i].number == number)
			return (int)i;
	return -1;
}

unsigned int vol_slot_free(const struct vol_config *cfg)
{
	unsigned int n;

	for (n = 0; n < VOL_MAX_SLOTS; n++)
		if (vol_slot_find(cfg, n) < 0)
			break;
	return n;
}

bool vol_slot_active(const struct vol_keyslot *ks, int64_t now)
{
	return ks->state == VOL_SLOT_ENABLED &&
	       (!ks->expires || now < ks->expires);
}

void vol_time_str(int64_t t, char out[VOL_TIME_LEN + 1])
{
	time_t tt = (time_t)t;
	char buf[96];
	struct tm tm;

	if (!gmtime_r(&tt, &tm))
		memset(&tm, 0, sizeof(tm));
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec);
	/* Years up to 9999 (vol_time_parse()) fit exactly. */
	memcpy(out, buf, VOL_TIME_LEN);
	out[VOL_TIME_LEN] = '\0';
}

int vol_time_parse(const char *s, int64_t *t)
{
	char again[VOL_TIME_LEN + 1];
	struct tm tm;
	time_t tt;
	int n = 0;

	memset(&tm, 0, sizeof(tm));
	if (strlen(s) != VOL_TIME_LEN ||
	    sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
	    n != VOL_TIME_LEN || tm.tm_year < 1970)
		return -EINVAL;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tt = timegm(&tm);
	if (tt <= 0)
		return -EINVAL;
	/* 2027-02-30 would normalise to March: only the one spelling. */
	vol_time_str((int64_t)tt, again);
	if (strcmp(again, s))
		return -EINVAL;
	*t = (int64_t)tt;
	return 0;
}

int vol_mac(const struct kek *kek, const struct vol_config *cfg,
	    uint8_t mac[32])
{
	return text_mac(kek, vol_text(cfg, true), mac);
}

int vol_verify(const struct kek *kek, const struct vol_config *cfg)
{
	uint8_t mac[32];
	int err = vol_mac(kek, cfg, mac);

	if (err)
		return err;
	return ct_memcmp(mac, cfg->mac, sizeof(mac)) ? -EBADMSG : 0;
}

size_t vol_slot_aad(const struct vol_config *cfg,
		    const struct vol_keyslot *slot, uint8_t *aad)
{
	size_t n = strlen(slot->provider);

	memcpy(aad, "atrestfs kek v1", 15);
	memcpy(aad + 15, cfg->uuid, VOL_UUID_LEN);
	memcpy(aad + 15 + VOL_UUID_LEN, cfg->kek_id, KEK_ID_LEN);
	memcpy(aad + 15 + VOL_UUID_LEN + KEK_ID_LEN, slot->provider, n);
	return 15 + VOL_UUID_LEN + KEK_ID_LEN + n;
}
