/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tests/unit/vol_known.h - one fixed atrestfs.conf and its known answers,
 * shared by test_volume.c (the serialisation and the MAC, crypto/) and
 * test_volconf.c (the file, volume/).
 */
#ifndef ATR_VOL_KNOWN_H
#define ATR_VOL_KNOWN_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "../../crypto/kek.h"
#include "../../crypto/volume.h"

/*
 * A fixed config with every kind of field, optional settings included:
 * a change to either serialisation would make every existing volume fail
 * its MAC, or write text an older atrestfs cannot read.
 */
static inline int vol_known_config(struct vol_config *cfg, struct kek **kek)
{
	uint8_t raw[KEK_LEN];
	struct vol_keyslot *ks;
	unsigned int i;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < KEK_LEN; i++)
		raw[i] = (uint8_t)i;
	cfg->format_version = 1;	/* the known answer is a format 1 config */
	for (i = 0; i < VOL_UUID_LEN; i++)
		cfg->uuid[i] = (uint8_t)(0x10 * (i & 15) + i);
	for (i = 0; i < KEK_ID_LEN; i++)
		cfg->kek_id[i] = (uint8_t)(0xf0 - i);
	cfg->extent_size = 65536;
	cfg->nslots = 2;
	ks = &cfg->slots[0];
	strcpy(ks->provider, "keyfile");
	strcpy(ks->key_id, "kf-0123456789abcdef");
	ks->key_version = 1;
	strcpy(ks->algorithm, "AES-256-GCM");
	ks->wrapped_len = 5;
	memcpy(ks->wrapped, "\x01\x02\x03\x04\x05", 5);
	ks = &cfg->slots[1];
	ks->number = 1;
	strcpy(ks->provider, "passphrase");
	strcpy(ks->key_id, "passphrase");
	ks->key_version = 3000000000u;
	strcpy(ks->algorithm, "scrypt+AES-256-GCM");
	ks->wrapped_len = 3;
	memcpy(ks->wrapped, "abc", 3);
	ks->nparams = 2;
	strcpy(ks->params[0].key, "salt");
	strcpy(ks->params[0].value, "c2FsdA==");
	strcpy(ks->params[1].key, "N");
	strcpy(ks->params[1].value, "32768");
	strcpy(cfg->opt.audit_file, "/var/log/atrestfs/v.audit");
	cfg->opt.audit_syslog = true;
	cfg->opt.nuids = 2;
	cfg->opt.allow_uids[0] = 0;
	cfg->opt.allow_uids[1] = 4294967294u;
	cfg->opt.ngids = 1;
	cfg->opt.allow_gids[0] = 100;
	return kek_derive(raw, cfg->kek_id, cfg->uuid, kek);
}

/* vol_known_config()'s MAC, with and without its optional settings. */
#define VOL_KNOWN_MAC \
	"7d09721eba3b80946966604d2159a05b8ae102e32deec933b7f19fb769131ea4"
#define VOL_KNOWN_MAC_NO_OPT \
	"84c877033efc1386ca1340a33f408e32acefcd64e9e481c1f82d1daf6958bc8d"

/*
 * vol_known_config() at generation VOL_KNOWN_GEN, above INT32_MAX so that
 * the file writes it with "L": its MAC.  Without a generation (0) the MAC
 * is VOL_KNOWN_MAC, as before generations existed.
 */
#define VOL_KNOWN_GEN		3000000000u
#define VOL_KNOWN_MAC_GEN \
	"f99704af944a26a5619c82d4c94dfa9a8cae456c85a0f4731d5bbfa5864028a2"

/* vol_known_config()'s file text: "L" literals, comment header, mac last. */
#define VOL_KNOWN_TEXT \
	"# atrestfs volume configuration.  Not secret, but authenticated by \"mac\":\n" \
	"# any edit makes the volume refuse to mount.\n" \
	"format_version = 1;\n" \
	"volume_uuid = \"00112233-4455-6677-8899-aabbccddeeff\";\n" \
	"extent_size = 65536;\n" \
	"cipher = \"AES-256-GCM\";\n" \
	"kek_id = \"f0efeeedecebeae9e8e7e6e5e4e3e2e1\";\n" \
	"keyslots = (\n" \
	"  {\n" \
	"    provider = \"keyfile\";\n" \
	"    key_id = \"kf-0123456789abcdef\";\n" \
	"    key_version = 1;\n" \
	"    algorithm = \"AES-256-GCM\";\n" \
	"    wrapped_kek = \"AQIDBAU=\";\n" \
	"    params = {\n" \
	"    };\n" \
	"  },\n" \
	"  {\n" \
	"    provider = \"passphrase\";\n" \
	"    key_id = \"passphrase\";\n" \
	"    key_version = 3000000000L;\n" \
	"    algorithm = \"scrypt+AES-256-GCM\";\n" \
	"    wrapped_kek = \"YWJj\";\n" \
	"    params = {\n" \
	"      salt = \"c2FsdA==\";\n" \
	"      N = \"32768\";\n" \
	"    };\n" \
	"  }\n" \
	");\n" \
	"audit = { file = \"/var/log/atrestfs/v.audit\"; syslog = true; };\n" \
	"allow_uids = [ 0L, 4294967294L ];\n" \
	"allow_gids = [ 100 ];\n" \
	"mac = \"7d09721eba3b80946966604d2159a05b8ae102e32deec933b7f19fb769131ea4\";\n"

#endif
