// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/unit/test_volconf.c - volume/conf_io.c and volume/conf_parse.c:
 * atrestfs.conf on disk.
 *
 * Each test gets a fresh directory under /tmp holding a config written the
 * way "atrestfs init" does (kek_generate, fill, vol_mac, volconf_store),
 * then edits the file's text as an attacker with write access to the
 * backing directory would, and checks that volconf_load() or vol_verify()
 * refuses it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../crypto/aead.h"
#include "../../crypto/secmem.h"
#include "../../crypto/codec.h"
#include "../../volume/volume.h"
#include "vol_known.h"

struct fixture {
	char dir[32];
	int dirfd;
	size_t live;
	struct kek *kek;
	struct vol_config cfg;	/* what was stored */
	struct vol_config got;	/* what volconf_load() returned */
	char msg[256];
};

static void fill_slot(struct vol_keyslot *ks, const char *provider)
{
	snprintf(ks->provider, sizeof(ks->provider), "%s", provider);
	strcpy(ks->key_id, "kf-0123456789abcdef");
	ks->key_version = 1;
	strcpy(ks->algorithm, "AES-256-GCM");
	ks->wrapped_len = 60;
	assert_int_equal(rand_fill(ks->wrapped, ks->wrapped_len), 0);
	ks->nparams = 2;
	strcpy(ks->params[0].key, "path");
	strcpy(ks->params[0].value, "/etc/atrestfs/root.key");
	strcpy(ks->params[1].key, "comment");
	strcpy(ks->params[1].value, "test volume, not secret");
}

static int setup(void **state)
{
	static struct fixture f;
	struct vol_config *cfg = &f.cfg;

	memset(&f, 0, sizeof(f));
	f.live = secmem_live();
	strcpy(f.dir, "/tmp/atr-vol-XXXXXX");
	if (!mkdtemp(f.dir))
		return -1;
	f.dirfd = open(f.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f.dirfd < 0)
		return -1;

	cfg->format_version = VOL_FORMAT_VERSION;
	if (rand_fill(cfg->uuid, VOL_UUID_LEN) ||
	    kek_generate(cfg->uuid, &f.kek))
		return -1;
	cfg->extent_size = 4096;
	memcpy(cfg->kek_id, f.kek->id, KEK_ID_LEN);
	cfg->nslots = 1;
	fill_slot(&cfg->slots[0], "keyfile");
	if (vol_mac(f.kek, cfg, cfg->mac))
		return -1;
	if (volconf_store(f.dirfd, cfg, true, f.msg, sizeof(f.msg)))
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int err = 0;

	unlinkat(f->dirfd, VOL_CONF_NAME, 0);
	unlinkat(f->dirfd, VOL_CONF_NAME ".tmp", 0);
	unlinkat(f->dirfd, "other", 0);
	unlinkat(f->dirfd, VOL_CONF_NAME, AT_REMOVEDIR);
	close(f->dirfd);
	if (rmdir(f->dir))
		err = -1;	/* a test left something behind */
	kek_free(f->kek);
	if (secmem_live() != f->live)
		err = -1;
	return err;
}

/* ---- editing the file's text ---- */

static char *conf_read(struct fixture *f)
{
	char *buf = malloc(VOL_CONF_MAX + 1);
	ssize_t n;
	int fd;

	assert_non_null(buf);
	fd = openat(f->dirfd, VOL_CONF_NAME, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, buf, VOL_CONF_MAX);
	assert_true(n > 0);
	buf[n] = '\0';
	close(fd);
	return buf;
}

static void conf_write(struct fixture *f, const char *text)
{
	size_t len = strlen(text);
	int fd;

	fd = openat(f->dirfd, VOL_CONF_NAME,
		    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

/* Replace the first @old in the config with @new; @old must be there. */
static void conf_edit(struct fixture *f, const char *old, const char *new)
{
	char *text = conf_read(f), *p = strstr(text, old), *out;
	size_t head;

	if (!p)
		fail_msg("'%s' not in config:\n%s", old, text);
	head = (size_t)(p - text);
	out = malloc(strlen(text) - strlen(old) + strlen(new) + 1);
	assert_non_null(out);
	memcpy(out, text, head);
	strcpy(out + head, new);
	strcat(out, p + strlen(old));
	conf_write(f, out);
	free(out);
	free(text);
}

static int load(struct fixture *f)
{
	f->msg[0] = '\0';
	return volconf_load(f->dirfd, &f->got, f->msg, sizeof(f->msg));
}

/* volconf_store() f->cfg; on success there is no warning to pass on. */
static int store(struct fixture *f, bool create)
{
	int err;

	strcpy(f->msg, "stale");
	err = volconf_store(f->dirfd, &f->cfg, create, f->msg, sizeof(f->msg));
	if (!err)
		assert_string_equal(f->msg, "");
	return err;
}

/* volconf_load() fails with @err and says something. */
static void load_fails(struct fixture *f, int err, const char *needle)
{
	assert_int_equal(load(f), err);
	print_message("  msg: %s\n", f->msg);
	assert_true(strlen(f->msg) > 0);
	if (needle && !strstr(f->msg, needle))
		fail_msg("'%s' not in message '%s'", needle, f->msg);
}

/* ---- round trip ---- */

static void slot_equal(const struct vol_keyslot *a,
		       const struct vol_keyslot *b)
{
	unsigned int i;

	assert_string_equal(a->provider, b->provider);
	assert_string_equal(a->key_id, b->key_id);
	assert_int_equal(a->key_version, b->key_version);
	assert_string_equal(a->algorithm, b->algorithm);
	assert_int_equal(a->wrapped_len, b->wrapped_len);
	assert_memory_equal(a->wrapped, b->wrapped, a->wrapped_len);
	assert_int_equal(a->nparams, b->nparams);
	assert_int_equal(a->number, b->number);
	assert_string_equal(a->label, b->label);
	assert_int_equal(a->state, b->state);
	assert_int_equal(a->expires, b->expires);
	for (i = 0; i < a->nparams; i++) {
		assert_string_equal(a->params[i].key, b->params[i].key);
		assert_string_equal(a->params[i].value, b->params[i].value);
	}
}

static void cfg_equal(const struct vol_config *a, const struct vol_config *b)
{
	unsigned int i;

	assert_int_equal(a->format_version, b->format_version);
	assert_int_equal(a->generation, b->generation);
	assert_memory_equal(a->uuid, b->uuid, VOL_UUID_LEN);
	assert_int_equal(a->extent_size, b->extent_size);
	assert_memory_equal(a->kek_id, b->kek_id, KEK_ID_LEN);
	assert_int_equal(a->nslots, b->nslots);
	for (i = 0; i < a->nslots; i++)
		slot_equal(&a->slots[i], &b->slots[i]);
	assert_memory_equal(a->mac, b->mac, sizeof(a->mac));
}

static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct stat st;

	assert_int_equal(load(f), 0);
	cfg_equal(&f->cfg, &f->got);
	assert_int_equal(vol_verify(f->kek, &f->got), 0);
	/* Atomic store: the temporary file is gone. */
	assert_int_equal(fstatat(f->dirfd, VOL_CONF_NAME ".tmp", &st, 0), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_round_trip_slots(void **state)
{
	struct fixture *f = *state;
	unsigned int i;

	/* Every slot (eight) and a full params list in the last one. */
	for (i = 1; i < VOL_MAX_SLOTS; i++) {
		fill_slot(&f->cfg.slots[i], i & 1 ? "pkcs11" : "kms_aws-2");
		f->cfg.slots[i].number = i;
		f->cfg.slots[i].key_version = 1000 * i;
		f->cfg.slots[i].wrapped_len = 1 + 100 * i;
		assert_int_equal(rand_fill(f->cfg.slots[i].wrapped,
					   f->cfg.slots[i].wrapped_len), 0);
	}
	f->cfg.nslots = VOL_MAX_SLOTS;
	for (i = 0; i < VOL_MAX_PARAMS; i++) {
		snprintf(f->cfg.slots[7].params[i].key, VOL_NAME_MAX + 1,
			 "p%u", i);
		snprintf(f->cfg.slots[7].params[i].value, VOL_STR_MAX + 1,
			 "value %u", i);
	}
	f->cfg.slots[7].nparams = VOL_MAX_PARAMS;
	/* Largest that survives today; see test_key_version_u32. */
	f->cfg.slots[7].key_version = INT32_MAX;
	f->cfg.slots[6].wrapped_len = VOL_WRAPPED_MAX;
	assert_int_equal(vol_mac(f->kek, &f->cfg, f->cfg.mac), 0);
	assert_int_equal(store(f, false), 0);
	assert_int_equal(load(f), 0);
	cfg_equal(&f->cfg, &f->got);
	assert_int_equal(vol_verify(f->kek, &f->got), 0);
}

/*
 * key_version is a uint32_t; libconfig 1.5 wraps a plain literal of
 * 2147483648 or more to a negative int, so volconf_store() must write such
 * values as 64-bit ("L") literals for volconf_load() to read them back.
 */
static void test_key_version_u32(void **state)
{
	struct fixture *f = *state;

	f->cfg.slots[0].key_version = (uint32_t)INT32_MAX + 1;
	assert_int_equal(vol_mac(f->kek, &f->cfg, f->cfg.mac), 0);
	assert_int_equal(store(f, false), 0);
	assert_int_equal(load(f), 0);
	cfg_equal(&f->cfg, &f->got);
	f->cfg.slots[0].key_version = UINT32_MAX;
	assert_int_equal(vol_mac(f->kek, &f->cfg, f->cfg.mac), 0);
	assert_int_equal(store(f, false), 0);
	assert_int_equal(load(f), 0);
	cfg_equal(&f->cfg, &f->got);
}

/* The MAC covers the fields, not the bytes: comments do not matter. */
static void test_comments_ignored(void **state)
{
	struct fixture *f = *state;

	conf_edit(f, "extent_size", "# a comment\n\n  extent_size");
	assert_int_equal(load(f), 0);
	assert_int_equal(vol_verify(f->kek, &f->got), 0);
}

static void test_verify_other_kek(void **state)
{
	struct fixture *f = *state;
	struct kek *other;

	assert_int_equal(load(f), 0);
	assert_int_equal(kek_generate(f->cfg.uuid, &other), 0);
	assert_int_equal(vol_verify(other, &f->got), -EBADMSG);
	kek_free(other);
}

/* ---- edits that load but must not verify ---- */

static void test_tamper_extent_size(void **state)
{
	struct fixture *f = *state;

	conf_edit(f, "extent_size = 4096;", "extent_size = 8192;");
	assert_int_equal(load(f), 0);
	assert_int_equal(f->got.extent_size, 8192);
	assert_int_equal(vol_verify(f->kek, &f->got), -EBADMSG);
}

static void test_tamper_kek_id(void **state)
{
	struct fixture *f = *state;
	char *text = conf_read(f), *p = strstr(text, "kek_id = \"");

	assert_non_null(p);
	p += strlen("kek_id = \"");
	*p = *p == '0' ? '1' : '0';
	conf_write(f, text);
	free(text);
	assert_int_equal(load(f), 0);
	assert_memory_not_equal(f->got.kek_id, f->cfg.kek_id, KEK_ID_LEN);
	assert_int_equal(vol_verify(f->kek, &f->got), -EBADMSG);
}

static void test_tamper_wrapped(void **state)
{
	struct fixture *f = *state;
	char *text = conf_read(f), *p = strstr(text, "wrapped_kek = \"");

	assert_non_null(p);
	p += strlen("wrapped_kek = \"");
	*p = *p == 'A' ? 'B' : 'A';
	conf_write(f, text);
	free(text);
	assert_int_equal(load(f), 0);
	assert_memory_not_equal(f->got.slots[0].wrapped,
				f->cfg.slots[0].wrapped,
				f->cfg.slots[0].wrapped_len);
	assert_int_equal(vol_verify(f->kek, &f->got), -EBADMSG);
}

static void test_tamper_params(void **state)
{
	struct fixture *f = *state;

	conf_edit(f, "/etc/atrestfs/root.key", "/tmp/evil.key");
	assert_int_equal(load(f), 0);
	assert_int_equal(vol_verify(f->kek, &f->got), -EBADMSG);
}

static void test_tamper_mac(void **state)
{
	struct fixture *f = *state;
	char *text = conf_read(f), *p = strstr(text, "mac = \"");

	assert_non_null(p);
	p += strlen("mac = \"") + 63;
	*p = *p == '0' ? '1' : '0';
	conf_write(f, text);
	free(text);
	assert_int_equal(load(f), 0);
	assert_int_equal(vol_verify(f->kek, &f->got), -EBADMSG);
}

/* ---- edits that must not load ---- */

static void test_unknown_setting(void **state)
{
	struct fixture *f = *state;

	conf_edit(f, "extent_size", "evil_setting = 1;\nextent_size");
	load_fails(f, -EINVAL, "evil_setting");
}

static void test_unknown_slot_setting(void **state)
{
	struct fixture *f = *state;

	conf_edit(f, "key_version", "evil_slot = \"x\";\n    key_version");
	load_fails(f, -EINVAL, "evil_slot");
}

/* libconfig would obey @include and read any file the daemon can read. */
static void test_include(void **state)
{
	struct fixture *f = *state;

	conf_edit(f, "format_version", "@include \"/etc/passwd\"\nformat_version");
	load_fails(f, -EINVAL, NULL);
}

static void test_format_version(void **state)
{
	struct fixture *f = *state;

	char want[64];

	snprintf(want, sizeof(want), "format_version = %d;", VOL_FORMAT_VERSION);
	conf_edit(f, want, "format_version = 3;");
	load_fails(f, -EPROTONOSUPPORT, "3");
	conf_edit(f, "format_version = 3;", "format_version = 0;");
	load_fails(f, -EPROTONOSUPPORT, "0");
}

static void test_missing(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(unlinkat(f->dirfd, VOL_CONF_NAME, 0), 0);
	load_fails(f, -ENOENT, NULL);
}

static void test_bad_extent_size(void **state)
{
	struct fixture *f = *state;

	conf_edit(f, "extent_size = 4096;", "extent_size = 3000;");
	load_fails(f, -EINVAL, "extent_size");
}

static void test_zero_keyslots(void **state)
{
	struct fixture *f = *state;
	char *text = conf_read(f), *from = strstr(text, "keyslots = (");
	char *to = strstr(text, "\n);\n");

	assert_non_null(from);
	assert_non_null(to);
	memmove(from + strlen("keyslots = ( );\n"), to + strlen("\n);\n"),
		strlen(to + strlen("\n);\n")) + 1);
	memcpy(from, "keyslots = ( );\n", strlen("keyslots = ( );\n"));
	conf_write(f, text);
	free(text);
	load_fails(f, -EINVAL, "keyslots");
}

static void test_too_big(void **state)
{
	struct fixture *f = *state;
	char *text = conf_read(f), *big;
	size_t len = strlen(text);

	/* A comment pads the valid config to 70000 bytes. */
	big = malloc(70000 + 1);
	assert_non_null(big);
	memcpy(big, text, len);
	big[len] = '#';
	memset(big + len + 1, 'x', 70000 - len - 2);
	big[70000 - 1] = '\n';
	big[70000] = '\0';
	conf_write(f, big);
	load_fails(f, -EINVAL, NULL);
	/* Padded to exactly VOL_CONF_MAX it is still a config. */
	big[VOL_CONF_MAX - 1] = '\n';
	big[VOL_CONF_MAX] = '\0';
	conf_write(f, big);
	assert_int_equal(load(f), 0);
	assert_int_equal(vol_verify(f->kek, &f->got), 0);
	free(big);
	free(text);
}

static void test_syntax_error(void **state)
{
	struct fixture *f = *state;
	char *text = conf_read(f), *p = strstr(text, "extent_size = 4096;");
	char want[32];
	int line = 1;

	assert_non_null(p);
	for (; p > text; p--)
		line += p[-1] == '\n';
	free(text);
	snprintf(want, sizeof(want), "line %d", line);
	conf_edit(f, "extent_size = 4096;", "extent_size = = 4096;");
	load_fails(f, -EINVAL, want);
}

static void test_evil_provider(void **state)
{
	struct fixture *f = *state;

	conf_edit(f, "provider = \"keyfile\"", "provider = \"../evil\"");
	load_fails(f, -EINVAL, "provider");
}

static void test_nul_byte(void **state)
{
	struct fixture *f = *state;
	int fd;

	/* A NUL would hide the rest of the file from libconfig. */
	fd = openat(f->dirfd, VOL_CONF_NAME, O_WRONLY | O_APPEND | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\0evil = 1;\n", 11), 11);
	close(fd);
	load_fails(f, -EINVAL, NULL);
}

/* The backing directory is untrusted: no following symlinks out of it. */
static void test_symlink_refused(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(renameat(f->dirfd, VOL_CONF_NAME, f->dirfd, "other"),
			 0);
	assert_int_equal(symlinkat("other", f->dirfd, VOL_CONF_NAME), 0);
	assert_int_equal(load(f), -ELOOP);
}

static void test_not_regular(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(unlinkat(f->dirfd, VOL_CONF_NAME, 0), 0);
	assert_int_equal(mkdirat(f->dirfd, VOL_CONF_NAME, 0700), 0);
	load_fails(f, -EINVAL, "regular");
}

/* ---- store ---- */

static void test_store_create_exists(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(store(f, true), -EEXIST);
	assert_non_null(strstr(f->msg, "cannot write " VOL_CONF_NAME));
	/* The existing config is left alone. */
	assert_int_equal(load(f), 0);
	cfg_equal(&f->cfg, &f->got);
	/* Rewriting (create == false) replaces it. */
	f->cfg.slots[0].key_version = 2;
	assert_int_equal(vol_mac(f->kek, &f->cfg, f->cfg.mac), 0);
	assert_int_equal(store(f, false), 0);
	assert_int_equal(load(f), 0);
	cfg_equal(&f->cfg, &f->got);
	assert_int_equal(vol_verify(f->kek, &f->got), 0);
}

/* ---- optional settings: audit, allow_uids, allow_gids, names ---- */

/* Store f->cfg with @o as its optional settings, MAC'd. */
static void store_opts(struct fixture *f, const struct vol_options *o)
{
	f->cfg.opt = *o;
	assert_int_equal(vol_mac(f->kek, &f->cfg, f->cfg.mac), 0);
	assert_int_equal(store(f, false), 0);
}

static void test_options_round_trip(void **state)
{
	struct fixture *f = *state;
	struct vol_options o = { .audit_syslog = true, .nuids = 3, .ngids = 1,
				 .allow_uids = { 0, 1000, 4294967294u },
				 .allow_gids = { 100 } };
	uint8_t none_mac[32];

	memcpy(none_mac, f->cfg.mac, sizeof(none_mac));
	strcpy(o.audit_file, "/var/log/atrestfs/v.audit");
	store_opts(f, &o);
	/* Present settings are in the MAC: it changed. */
	assert_memory_not_equal(none_mac, f->cfg.mac, sizeof(none_mac));
	assert_int_equal(load(f), 0);
	cfg_equal(&f->cfg, &f->got);
	assert_memory_equal(&f->got.opt, &o, sizeof(o));
	assert_int_equal(vol_verify(f->kek, &f->got), 0);
	/* A big ID makes every element an "L" literal (one type per array). */
	conf_edit(f, "allow_uids = [ 0L, 1000L, 4294967294L ];",
		  "allow_uids = [ 0L, 1000L, 4294967294L ];");
	conf_edit(f, "allow_gids = [ 100 ];", "allow_gids = [ 0x64 ];");
	assert_int_equal(load(f), 0);
	assert_int_equal(vol_verify(f->kek, &f->got), 0);
	/* Removed again: the MAC is the one without them, byte for byte. */
	memset(&o, 0, sizeof(o));
	store_opts(f, &o);
	assert_memory_equal(none_mac, f->cfg.mac, sizeof(none_mac));
}

/* Each edit of a present setting, or its removal, fails the MAC. */
static void test_options_tamper(void **state)
{
	static const char *const edits[][2] = {
		{ "/var/log/v.audit", "/tmp/evil.audit" },
		{ "allow_uids = [ 1000 ];", "allow_uids = [ 1000, 0 ];" },
		{ "allow_uids = [ 1000 ];", "" },
		{ "audit = { file = \"/var/log/v.audit\"; };", "" },
		{ "audit = { file = \"/var/log/v.audit\"; };",
		  "audit = { file = \"/var/log/v.audit\"; syslog = true; };" },
	};
	struct fixture *f = *state;
	struct vol_options o = { .nuids = 1, .allow_uids = { 1000 } };
	size_t i;

	strcpy(o.audit_file, "/var/log/v.audit");
	for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		store_opts(f, &o);
		conf_edit(f, edits[i][0], edits[i][1]);
		assert_int_equal(load(f), 0);
		assert_int_equal(vol_verify(f->kek, &f->got), -EBADMSG);
	}
	/* And adding one to a config without any. */
	memset(&o, 0, sizeof(o));
	store_opts(f, &o);
	conf_edit(f, "mac = ", "allow_uids = [ 0 ];\nmac = ");
	assert_int_equal(load(f), 0);
	assert_int_equal(vol_verify(f->kek, &f->got), -EBADMSG);
}

static void test_options_invalid(void **state)
{
	static const char *const bad[] = {
		"audit = { file = \"relative/path\"; };",
		"audit = { file = \"\"; };",
		"audit = { file = \"/var/log/../../etc/passwd\"; };",
		"audit = { file = \"/a\\tb\"; };",
		"audit = { syslog = \"yes\"; };",
		"audit = { syslog = false; };",
		"audit = { };",
		"audit = { file = \"/x\"; program = \"/bin/sh\"; };",
		"audit = \"/var/log/x\";",
		"allow_uids = [ ];",
		"allow_uids = [ -1 ];",
		"allow_uids = [ 4294967295L ];",
		"allow_uids = ( 1, 2 );",
		"allow_uids = [ \"root\" ];",
		"allow_uids = 1000;",
		"allow_gids = [ 1.5 ];",
		"allow_gid = [ 1 ];",
		"names = { cipher = \"AES-256-GCM\"; key = \"AAAA\"; };",
		"names = { key = \"AAAA\"; };",
		"names = { cipher = \"AES-256-SIV\"; };",
		"names = { cipher = \"AES-256-SIV\"; key = \"AAAA\"; };",
		"names = { cipher = \"AES-256-SIV\"; key = 1; };",
		"names = \"encrypted\";",
		"names = { cipher = \"AES-256-SIV\"; key = \"AAAA\"; pad = 1; };",
	};
	struct fixture *f = *state;
	char many[1024] = "allow_gids = [ 0";
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *text = conf_read(f), *out = malloc(strlen(text) + 256);

		assert_non_null(out);
		sprintf(out, "%s%s\n", text, bad[i]);
		conf_write(f, out);
		if (load(f) != -EINVAL)
			fail_msg("accepted '%s'", bad[i]);
		conf_write(f, text);
		free(out);
		free(text);
	}
	/* One more than VOL_MAX_IDS. */
	for (i = 1; i <= VOL_MAX_IDS; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many),
			 ", %zu", i);
	strcat(many, " ];\nmac = ");
	conf_edit(f, "mac = ", many);
	load_fails(f, -EINVAL, "allow_gids");
}

/* ---- names = { cipher; key; }: encrypted names ---- */

static void test_names_round_trip(void **state)
{
	struct fixture *f = *state;
	struct vol_options o = { .names_encrypted = true };
	uint8_t none_mac[32], key[NAMES_KEY_LEN] = { 7 }, back[NAMES_KEY_LEN];

	memcpy(none_mac, f->cfg.mac, sizeof(none_mac));
	assert_int_equal(names_key_wrap(f->kek, f->cfg.uuid, key, o.names_key),
			 0);
	store_opts(f, &o);
	assert_memory_not_equal(none_mac, f->cfg.mac, sizeof(none_mac));
	assert_int_equal(load(f), 0);
	assert_true(f->got.opt.names_encrypted);
	assert_memory_equal(f->got.opt.names_key, o.names_key,
			    NAMES_WRAPPED_LEN);
	assert_int_equal(vol_verify(f->kek, &f->got), 0);
	assert_int_equal(names_key_unwrap(f->kek, f->got.uuid,
					  f->got.opt.names_key, back), 0);
	assert_memory_equal(back, key, sizeof(key));
	/* Plain names: the MAC of a config that never had the setting. */
	memset(&o, 0, sizeof(o));
	store_opts(f, &o);
	assert_memory_equal(none_mac, f->cfg.mac, sizeof(none_mac));
}

/* Dropping the setting (plain names) or swapping the key fails the MAC. */
static void test_names_tamper(void **state)
{
	struct fixture *f = *state;
	struct vol_options o = { .names_encrypted = true };
	char *text, *p;

	memset(o.names_key, 0x41, sizeof(o.names_key));
	store_opts(f, &o);
	text = conf_read(f);
	p = strstr(text, "\nnames = ");
	assert_non_null(p);
	memmove(p + 1, strchr(p + 1, '\n') + 1, strlen(strchr(p + 1, '\n')));
	conf_write(f, text);
	free(text);
	assert_int_equal(load(f), 0);
	assert_false(f->got.opt.names_encrypted);
	assert_int_equal(vol_verify(f->kek, &f->got), -EBADMSG);
	store_opts(f, &o);
	conf_edit(f, "QUFB", "QUFC");
	assert_int_equal(load(f), 0);
	assert_int_equal(vol_verify(f->kek, &f->got), -EBADMSG);
}

/* ---- bound = true;: targets and values in their bound forms only ---- */

static void test_bound(void **state)
{
	struct fixture *f = *state;
	struct vol_options o = { .bound = true };
	uint8_t none_mac[32];
	char *text, *p;

	memcpy(none_mac, f->cfg.mac, sizeof(none_mac));
	store_opts(f, &o);
	assert_memory_not_equal(none_mac, f->cfg.mac, sizeof(none_mac));
	assert_int_equal(load(f), 0);
	assert_true(f->got.opt.bound);
	assert_int_equal(vol_verify(f->kek, &f->got), 0);
	/* Dropped (a downgrade) it fails the MAC. */
	text = conf_read(f);
	p = strstr(text, "\nbound = true;");
	assert_non_null(p);
	memmove(p, p + 14, strlen(p + 14) + 1);
	conf_write(f, text);
	free(text);
	assert_int_equal(load(f), 0);
	assert_false(f->got.opt.bound);
	assert_int_equal(vol_verify(f->kek, &f->got), -EBADMSG);
	/* One spelling: false, or another type, is refused. */
	store_opts(f, &o);
	conf_edit(f, "bound = true;", "bound = false;");
	load_fails(f, -EINVAL, "bound");
	store_opts(f, &o);
	conf_edit(f, "bound = true;", "bound = 1;");
	load_fails(f, -EINVAL, "bound");
	/* Absent: the MAC of a config that never had the setting. */
	memset(&o, 0, sizeof(o));
	store_opts(f, &o);
	assert_memory_equal(none_mac, f->cfg.mac, sizeof(none_mac));
}

static void test_options_check(void **state)
{
	struct vol_options o = { .nuids = 0 };

	(void)state;
	assert_int_equal(volconf_options_check(&o, NULL, 0), 0);
	strcpy(o.audit_file, "/var/log/atrestfs/x.audit");
	assert_int_equal(volconf_options_check(&o, NULL, 0), 0);
	strcpy(o.audit_file, "x.audit");
	assert_int_equal(volconf_options_check(&o, NULL, 0), -EINVAL);
	strcpy(o.audit_file, "/a/..");
	assert_int_equal(volconf_options_check(&o, NULL, 0), -EINVAL);
	strcpy(o.audit_file, "/a\"b");
	assert_int_equal(volconf_options_check(&o, NULL, 0), -EINVAL);
}

/* ---- generation ---- */

/* Store f->cfg at generation @gen, MAC'd. */
static void store_gen(struct fixture *f, uint32_t gen)
{
	f->cfg.generation = gen;
	assert_int_equal(vol_mac(f->kek, &f->cfg, f->cfg.mac), 0);
	assert_int_equal(store(f, false), 0);
}

/* Every uint32 but 0 survives the file, "L" literals included. */
static void test_generation_round_trip(void **state)
{
	static const uint32_t gens[] = { 1, 2, INT32_MAX, (uint32_t)INT32_MAX + 1,
					 UINT32_MAX };
	struct fixture *f = *state;
	char *text;
	size_t i;

	/* setup() stored a config without one, as before generations. */
	text = conf_read(f);
	assert_null(strstr(text, "generation"));
	free(text);
	assert_int_equal(load(f), 0);
	assert_int_equal(f->got.generation, 0);
	assert_int_equal(vol_verify(f->kek, &f->got), 0);
	for (i = 0; i < sizeof(gens) / sizeof(gens[0]); i++) {
		store_gen(f, gens[i]);
		assert_int_equal(load(f), 0);
		cfg_equal(&f->cfg, &f->got);
		assert_int_equal(vol_verify(f->kek, &f->got), 0);
	}
}

/* The generation is under the MAC: edited, removed or added, it fails. */
static void test_generation_tamper(void **state)
{
	struct fixture *f = *state;

	store_gen(f, 5);
	conf_edit(f, "generation = 5;", "generation = 6;");
	assert_int_equal(load(f), 0);
	assert_int_equal(f->got.generation, 6);
	assert_int_equal(vol_verify(f->kek, &f->got), -EBADMSG);
	store_gen(f, 5);
	conf_edit(f, "generation = 5;\n", "");
	assert_int_equal(load(f), 0);
	assert_int_equal(f->got.generation, 0);
	assert_int_equal(vol_verify(f->kek, &f->got), -EBADMSG);
	/* Another spelling of the same value is the same config. */
	store_gen(f, 5);
	conf_edit(f, "generation = 5;", "generation = 0x5L;");
	assert_int_equal(load(f), 0);
	assert_int_equal(vol_verify(f->kek, &f->got), 0);
	/* Added to a config from before generations. */
	store_gen(f, 0);
	conf_edit(f, "extent_size", "generation = 1;\nextent_size");
	assert_int_equal(load(f), 0);
	assert_int_equal(vol_verify(f->kek, &f->got), -EBADMSG);
}

/*
 * kek_retiring round-trips, is under the MAC (edited, removed or added,
 * the config fails it), and a malformed one is refused by the parser.
 */
#define RET_ID		"a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
#define RET_BOX		"WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpa" \
			"WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpa"
#define RET_LINE(id, box) \
	"\nkek_retiring = { kek_id = \"" id "\"; wrapped_kek = \"" box "\"; };"

static void test_retiring(void **state)
{
	struct fixture *f = *state;
	char *text;
	unsigned int i;

	store_gen(f, 3);
	text = conf_read(f);
	assert_null(strstr(text, "kek_retiring"));
	free(text);
	f->cfg.retiring.present = true;
	for (i = 0; i < KEK_ID_LEN; i++)
		f->cfg.retiring.kek_id[i] = (uint8_t)(0xa0 + i);
	memset(f->cfg.retiring.wrapped, 0x5a, KEK_RETIRING_LEN);
	store_gen(f, 4);
	text = conf_read(f);
	assert_non_null(strstr(text, RET_LINE(RET_ID, RET_BOX)));
	free(text);
	assert_int_equal(load(f), 0);
	assert_true(f->got.retiring.present);
	assert_memory_equal(f->got.retiring.kek_id, f->cfg.retiring.kek_id,
			    KEK_ID_LEN);
	assert_memory_equal(f->got.retiring.wrapped, f->cfg.retiring.wrapped,
			    KEK_RETIRING_LEN);
	assert_int_equal(vol_verify(f->kek, &f->got), 0);
	conf_edit(f, "a0a1a2", "a0a1a3");
	assert_int_equal(load(f), 0);
	assert_int_equal(vol_verify(f->kek, &f->got), -EBADMSG);
	store_gen(f, 4);
	conf_edit(f, RET_LINE(RET_ID, RET_BOX), "");
	assert_int_equal(load(f), 0);
	assert_false(f->got.retiring.present);
	assert_int_equal(vol_verify(f->kek, &f->got), -EBADMSG);
	f->cfg.retiring.present = false;
	store_gen(f, 4);
	conf_edit(f, "\nmac", RET_LINE(RET_ID, RET_BOX) "\nmac");
	assert_int_equal(load(f), 0);
	assert_true(f->got.retiring.present);
	assert_int_equal(vol_verify(f->kek, &f->got), -EBADMSG);
	/* Malformed: the kek_id, a short box, an unknown setting. */
	store_gen(f, 4);
	conf_edit(f, "\nmac", RET_LINE("a0a1", RET_BOX) "\nmac");
	load_fails(f, -EINVAL, "kek_retiring.kek_id");
	store_gen(f, 4);
	conf_edit(f, "\nmac", RET_LINE(RET_ID, "WlpaWlpa") "\nmac");
	load_fails(f, -EINVAL, "kek_retiring.wrapped_kek");
	store_gen(f, 4);
	conf_edit(f, "\nmac", "\nkek_retiring = { x = 1; };\nmac");
	load_fails(f, -EINVAL, "unknown setting 'x' in kek_retiring");
}

static void test_generation_invalid(void **state)
{
	static const char *const bad[] = {
		"generation = 0;",
		"generation = -1;",
		"generation = 4294967296L;",
		"generation = 2147483648;",	/* libconfig wraps it negative */
		"generation = \"5\";",
		"generation = 1.5;",
		"generation = true;",
		"generation = [ 5 ];",
		"generation = { n = 5; };",
	};
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *text = conf_read(f), *out = malloc(strlen(text) + 64);

		assert_non_null(out);
		sprintf(out, "%s%s\n", text, bad[i]);
		conf_write(f, out);
		if (load(f) != -EINVAL || !strstr(f->msg, "generation"))
			fail_msg("'%s': %s", bad[i], f->msg);
		conf_write(f, text);
		free(out);
		free(text);
	}
	/* Twice is a libconfig error. */
	store_gen(f, 3);
	conf_edit(f, "extent_size", "generation = 3;\nextent_size");
	load_fails(f, -EINVAL, NULL);
}


/* ---- keyslot lifecycle settings (docs/format.md 3.2) ---- */

/* Two keyslots, the second numbered 5, labelled, disabled, expiring. */
static void store_lifecycle(struct fixture *f)
{
	fill_slot(&f->cfg.slots[1], "passphrase");
	f->cfg.slots[1].number = 5;
	strcpy(f->cfg.slots[1].label, "recovery 2026");
	f->cfg.slots[1].state = VOL_SLOT_DISABLED;
	assert_int_equal(vol_time_parse("2027-01-31T12:00:00Z",
					&f->cfg.slots[1].expires), 0);
	f->cfg.nslots = 2;
	assert_int_equal(vol_mac(f->kek, &f->cfg, f->cfg.mac), 0);
	assert_int_equal(store(f, false), 0);
}

static void test_lifecycle_round_trip(void **state)
{
	struct fixture *f = *state;
	char *text;

	store_lifecycle(f);
	text = conf_read(f);
	assert_non_null(strstr(text, "    number = 5;\n    label = \"recovery "
				     "2026\";\n    state = \"disabled\";\n"
				     "    expires = \"2027-01-31T12:00:00Z\";\n"));
	/* Slot 0 is number 0, its index: nothing is written for it. */
	assert_null(strstr(text, "number = 0"));
	free(text);
	assert_int_equal(load(f), 0);
	cfg_equal(&f->cfg, &f->got);
	assert_int_equal(vol_verify(f->kek, &f->got), 0);
	assert_int_equal(vol_slot_find(&f->got, 5), 1);
	assert_int_equal(vol_slot_find(&f->got, 1), -1);
	assert_int_equal(vol_slot_free(&f->got), 1);
	assert_false(vol_slot_active(&f->got.slots[1], 0));
	assert_true(vol_slot_active(&f->got.slots[0], 0));
	f->got.slots[1].state = VOL_SLOT_ENABLED;
	assert_true(vol_slot_active(&f->got.slots[1],
				    f->got.slots[1].expires - 1));
	assert_false(vol_slot_active(&f->got.slots[1],
				     f->got.slots[1].expires));
}

/* Each lifecycle setting is under the MAC: changed or dropped, it fails. */
static void test_lifecycle_tamper(void **state)
{
	static const char *const edits[][2] = {
		{ "    state = \"disabled\";\n", "" },
		{ "\"disabled\"", "\"removed\"" },
		{ "    expires = \"2027-01-31T12:00:00Z\";\n", "" },
		{ "2027-01-31T12:00:00Z", "2099-01-31T12:00:00Z" },
		{ "number = 5;", "number = 6;" },
		{ "recovery 2026", "recovery 2027" },
	};
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		store_lifecycle(f);
		conf_edit(f, edits[i][0], edits[i][1]);
		assert_int_equal(load(f), 0);
		assert_int_equal(vol_verify(f->kek, &f->got), -EBADMSG);
	}
	/* Disabling an enabled keyslot by hand fails it as well. */
	store_lifecycle(f);
	conf_edit(f, "    params = {", "    state = \"disabled\";\n    params = {");
	assert_int_equal(load(f), 0);
	assert_int_equal(vol_verify(f->kek, &f->got), -EBADMSG);
}

static void test_lifecycle_invalid(void **state)
{
	static const char *const bad[][2] = {
		{ "number = 5;", "number = 0;" },	/* slot 0's */
		{ "number = 5;", "number = 8;" },
		{ "number = 5;", "number = -1;" },
		{ "number = 5;", "number = \"5\";" },
		{ "\"disabled\"", "\"enabled\"" },
		{ "\"disabled\"", "true" },
		{ "2027-01-31T12:00:00Z", "2027-02-30T12:00:00Z" },
		{ "2027-01-31T12:00:00Z", "2027-01-31" },
		{ "2027-01-31T12:00:00Z", "2027-01-31T12:00:00+01:00" },
		{ "2027-01-31T12:00:00Z", "1969-12-31T23:59:59Z" },
		{ "\"recovery 2026\"", "\"\"" },
		{ "label = ", "colour = " },
	};
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		store_lifecycle(f);
		conf_edit(f, bad[i][0], bad[i][1]);
		if (load(f) != -EINVAL)
			fail_msg("accepted '%s'", bad[i][1]);
		print_message("  msg: %s\n", f->msg);
	}
}

static void test_time_parse(void **state)
{
	char s[VOL_TIME_LEN + 1];
	int64_t t;

	(void)state;
	assert_int_equal(vol_time_parse("1970-01-01T00:00:01Z", &t), 0);
	assert_int_equal(t, 1);
	assert_int_equal(vol_time_parse("9999-12-31T23:59:59Z", &t), 0);
	vol_time_str(t, s);
	assert_string_equal(s, "9999-12-31T23:59:59Z");
	assert_int_equal(vol_time_parse("2028-02-29T00:00:00Z", &t), 0);
	assert_int_equal(vol_time_parse("2027-02-29T00:00:00Z", &t), -EINVAL);
	assert_int_equal(vol_time_parse("2027-1-31T00:00:00Z", &t), -EINVAL);
	assert_int_equal(vol_time_parse("2027-01-31T00:00:00z", &t), -EINVAL);
	assert_int_equal(vol_time_parse(" 2027-01-31T00:00:00Z", &t), -EINVAL);
}

/* ---- keyslot export (docs/format.md 3.8) ---- */

static void test_export_round_trip(void **state)
{
	struct fixture *f = *state;
	struct vol_config got;
	uint8_t mac[32];
	char *text, *canon, *p;

	store_lifecycle(f);
	f->cfg.generation = 7;
	assert_int_equal(vol_export_mac(f->kek, &f->cfg, f->cfg.mac), 0);
	text = vol_export_text(&f->cfg, false);
	assert_non_null(text);
	assert_int_equal(volconf_parse_export(text, strlen(text), &got, f->msg,
					      sizeof(f->msg)), 0);
	assert_int_equal(got.generation, 7);
	assert_memory_equal(got.uuid, f->cfg.uuid, VOL_UUID_LEN);
	assert_memory_equal(got.kek_id, f->cfg.kek_id, KEK_ID_LEN);
	assert_int_equal(got.nslots, 2);
	slot_equal(&got.slots[1], &f->cfg.slots[1]);
	assert_int_equal(vol_export_mac(f->kek, &got, mac), 0);
	assert_memory_equal(mac, got.mac, sizeof(mac));
	/* Not the config's MAC: one cannot pass for the other. */
	assert_int_equal(vol_mac(f->kek, &got, mac), 0);
	assert_memory_not_equal(mac, got.mac, sizeof(mac));
	canon = vol_export_text(&f->cfg, true);
	assert_non_null(canon);
	assert_int_equal(strncmp(canon, "atrestfs keyslots export canonical v1\n",
				 38), 0);
	free(canon);
	/* A changed record fails the MAC; a config is not an export. */
	p = strstr(text, "recovery 2026");
	assert_non_null(p);
	p[9] = '3';
	assert_int_equal(volconf_parse_export(text, strlen(text), &got, f->msg,
					      sizeof(f->msg)), 0);
	assert_int_equal(vol_export_mac(f->kek, &got, mac), 0);
	assert_memory_not_equal(mac, got.mac, sizeof(mac));
	free(text);
	text = conf_read(f);
	assert_int_equal(volconf_parse_export(text, strlen(text), &got, f->msg,
					      sizeof(f->msg)), -EPROTONOSUPPORT);
	free(text);
}

/* ---- known answer: the file's text never changes ---- */

static void test_store_known_text(void **state)
{
	struct fixture *f = *state;
	struct kek *kek;
	char *text;

	assert_int_equal(vol_known_config(&f->cfg, &kek), 0);
	assert_int_equal(vol_mac(kek, &f->cfg, f->cfg.mac), 0);
	kek_free(kek);
	assert_int_equal(store(f, false), 0);
	text = conf_read(f);
	assert_string_equal(text, VOL_KNOWN_TEXT);
	free(text);
	assert_int_equal(load(f), 0);
	cfg_equal(&f->cfg, &f->got);
	assert_memory_equal(&f->got.opt, &f->cfg.opt, sizeof(f->cfg.opt));
}

#define T(fn)	cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_round_trip),
		T(test_round_trip_slots),
		T(test_key_version_u32),
		T(test_comments_ignored),
		T(test_verify_other_kek),
		T(test_tamper_extent_size),
		T(test_tamper_kek_id),
		T(test_tamper_wrapped),
		T(test_tamper_params),
		T(test_tamper_mac),
		T(test_unknown_setting),
		T(test_unknown_slot_setting),
		T(test_include),
		T(test_format_version),
		T(test_missing),
		T(test_bad_extent_size),
		T(test_zero_keyslots),
		T(test_too_big),
		T(test_syntax_error),
		T(test_evil_provider),
		T(test_nul_byte),
		T(test_symlink_refused),
		T(test_not_regular),
		T(test_store_create_exists),
		T(test_options_round_trip),
		T(test_options_tamper),
		T(test_options_invalid),
		T(test_names_round_trip),
		T(test_names_tamper),
		T(test_bound),
		T(test_generation_round_trip),
		T(test_retiring),
		T(test_generation_tamper),
		T(test_generation_invalid),
		T(test_store_known_text),
		cmocka_unit_test(test_options_check),
		T(test_lifecycle_round_trip),
		T(test_lifecycle_tamper),
		T(test_lifecycle_invalid),
		cmocka_unit_test(test_time_parse),
		T(test_export_round_trip),
	};

	return cmocka_run_group_tests_name("volconf: atrestfs.conf load, store, tampering",
					   tests, NULL, NULL);
}
