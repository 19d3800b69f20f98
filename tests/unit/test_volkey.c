// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/unit/test_volkey.c - volume/keyslot.c, volume/unlock.c and
 * volume/provider.c: a volume's key hierarchy through the library alone,
 * as the daemon will call it, with no command-line types.
 *
 * Each test makes a volume in a fresh directory under /tmp with the
 * built-in keyfile provider, whose settings come from the test's own
 * volkey_settings_fn, then unlocks, rewraps or tampers with it.
 */
#include <errno.h>
#include <fcntl.h>
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
#include "../../volume/volume.h"

/* What the settings callback was asked, and the key file it names. */
struct settings_ctx {
	char path[64];
	char uuid[VOL_UUID_STR_LEN + 1];
	int create;
	unsigned int calls;
	int fail;		/* nonzero: fail with this, saying so */
};

struct fixture {
	char dir[32];
	int dirfd;
	size_t live;
	struct settings_ctx sc;
	struct volkey_src src;
	struct vol_config cfg;	/* as volkey_create() wrote it */
	char msg[KEYPROV_MSG_MAX];
};

static int settings(void *ctx, const char *provider, const char *uuid,
		    int create, struct keyprov_kvlist *kv, char *msg,
		    size_t msglen)
{
	struct settings_ctx *sc = ctx;

	keyprov_kv_init(kv);
	sc->calls++;
	sc->create = create;
	snprintf(sc->uuid, sizeof(sc->uuid), "%s", uuid);
	if (sc->fail) {
		snprintf(msg, msglen, "no settings for %s here", provider);
		return sc->fail;
	}
	if (keyprov_kv_set(kv, "path", sc->path) ||
	    keyprov_kv_set(kv, "volume", uuid) ||
	    keyprov_kv_set(kv, "mode", create ? "create" : "open"))
		return -ENOSPC;
	return 0;
}

static void key_path(struct fixture *f, const char *name)
{
	snprintf(f->sc.path, sizeof(f->sc.path), "%s/%s", f->dir, name);
}

static int setup(void **state)
{
	static struct fixture f;
	uint8_t uuid[VOL_UUID_LEN];

	memset(&f, 0, sizeof(f));
	f.live = secmem_live();
	strcpy(f.dir, "/tmp/atr-volkey-XXXXXX");
	if (!mkdtemp(f.dir))
		return -1;
	f.dirfd = open(f.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f.dirfd < 0)
		return -1;
	f.src.settings = settings;
	f.src.ctx = &f.sc;
	f.src.slot = -1;
	key_path(&f, "a.key");
	if (rand_fill(uuid, sizeof(uuid)) ||
	    volkey_create(f.dirfd, &f.src, "keyfile", 4096, uuid, NULL,
			  &f.cfg, NULL, f.msg, sizeof(f.msg)))
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	static const char *const names[] = { VOL_CONF_NAME, "a.key", "b.key",
					     "audit.log", NULL };
	const char *const *n;
	int err = 0;

	for (n = names; *n; n++)
		unlinkat(f->dirfd, *n, 0);
	close(f->dirfd);
	if (rmdir(f->dir))
		err = -1;	/* a test left something behind */
	if (secmem_live() != f->live)
		err = -1;
	return err;
}

static int unlock(struct fixture *f, struct vol_config *cfg,
		  struct kek **kek, unsigned int *slot)
{
	f->msg[0] = '\0';
	return volkey_unlock(f->dirfd, &f->src, cfg, kek, slot, f->msg,
			     sizeof(f->msg));
}

/* volkey_unlock() fails with @err, no KEK, and @needle in its message. */
static void unlock_fails(struct fixture *f, int err, const char *needle)
{
	struct vol_config cfg;
	struct kek *kek = NULL;

	assert_int_equal(unlock(f, &cfg, &kek, NULL), err);
	print_message("  msg: %s\n", f->msg);
	assert_null(kek);
	if (!strstr(f->msg, needle))
		fail_msg("'%s' not in message '%s'", needle, f->msg);
}

static void test_create_unlock(void **state)
{
	struct fixture *f = *state;
	char uuid[VOL_UUID_STR_LEN + 1];
	struct vol_config cfg;
	unsigned int slot = 99;
	struct kek *kek = NULL;

	/* Made: the key file, one keyslot naming it, no warning. */
	assert_string_equal(f->msg, "");
	assert_int_equal(f->cfg.nslots, 1);
	assert_string_equal(f->cfg.slots[0].provider, "keyfile");
	assert_int_equal(strncmp(f->cfg.slots[0].key_id, "kf-", 3), 0);
	assert_int_equal(faccessat(f->dirfd, "a.key", F_OK, 0), 0);
	vol_uuid_str(f->cfg.uuid, uuid);
	assert_string_equal(f->sc.uuid, uuid);
	assert_int_equal(f->sc.create, 1);

	f->sc.calls = 0;
	assert_int_equal(unlock(f, &cfg, &kek, &slot), 0);
	assert_non_null(kek);
	assert_int_equal(slot, 0);
	assert_int_equal(f->sc.calls, 1);
	assert_int_equal(f->sc.create, 0);
	assert_memory_equal(kek->id, f->cfg.kek_id, KEK_ID_LEN);
	assert_memory_equal(cfg.mac, f->cfg.mac, sizeof(cfg.mac));
	assert_int_equal(vol_verify(kek, &cfg), 0);
	/* A new volume is generation 1. */
	assert_int_equal(f->cfg.generation, 1);
	assert_int_equal(cfg.generation, 1);
	kek_free(kek);
}

/* Another key is named as such, not reported as corruption. */
static void test_wrong_key(void **state)
{
	struct fixture *f = *state;
	uint8_t root[32];
	int fd;

	assert_int_equal(rand_fill(root, sizeof(root)), 0);
	fd = openat(f->dirfd, "b.key", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, root, sizeof(root)), (ssize_t)sizeof(root));
	close(fd);
	key_path(f, "b.key");
	unlock_fails(f, -EKEYREJECTED, "does not open volume");
}

static void test_not_a_volume(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(unlinkat(f->dirfd, VOL_CONF_NAME, 0), 0);
	unlock_fails(f, -ENOENT, "no " VOL_CONF_NAME);
	assert_int_equal(f->sc.calls, 1);	/* no provider asked */
}

/* A field changed outside atrestfs: the key opens, the MAC refuses. */
static void test_tampered(void **state)
{
	struct fixture *f = *state;
	struct vol_config cfg = f->cfg;

	cfg.extent_size = 8192;
	assert_int_equal(volconf_store(f->dirfd, &cfg, false, f->msg,
				       sizeof(f->msg)), 0);
	unlock_fails(f, -EBADMSG, "fails its MAC check");
}

/* Only the keyslots asked for are tried, and the message says so. */
static void test_filters(void **state)
{
	struct fixture *f = *state;

	f->src.provider = "passphrase";
	unlock_fails(f, -ENOKEY, "no keyslot for key provider passphrase");
	f->src.provider = "";
	f->src.slot = 3;
	unlock_fails(f, -ENOKEY, "has no keyslot 3");
}

/* The caller's settings failing is the reason given. */
static void test_settings_fail(void **state)
{
	struct fixture *f = *state;

	f->sc.fail = -EINVAL;
	unlock_fails(f, -ENOKEY, "no settings for keyfile here");
}

/*
 * Add a keyslot for another key, as keyslot add and an online rotation
 * do: each key then opens the volume through its own keyslot.
 */
static void test_add_slot(void **state)
{
	struct fixture *f = *state;
	struct vol_config cfg;
	struct kek *kek;
	unsigned int slot;

	assert_int_equal(unlock(f, &cfg, &kek, NULL), 0);
	key_path(f, "b.key");
	assert_int_equal(volkey_wrap_slot(&f->src, "keyfile", &cfg, kek,
					  "keyslot_add", NULL,
					  &cfg.slots[1], f->msg,
					  sizeof(f->msg)), 0);
	assert_int_equal(f->sc.create, 1);
	assert_int_equal(faccessat(f->dirfd, "b.key", F_OK, 0), 0);
	assert_string_not_equal(cfg.slots[1].key_id, cfg.slots[0].key_id);
	cfg.nslots = 2;
	assert_int_equal(volkey_commit(f->dirfd, &cfg, kek, f->msg,
				       sizeof(f->msg)), 0);
	assert_string_equal(f->msg, "");
	assert_int_equal(cfg.generation, 2);
	kek_free(kek);

	assert_int_equal(unlock(f, &cfg, &kek, &slot), 0);
	assert_int_equal(slot, 1);
	kek_free(kek);
	key_path(f, "a.key");
	assert_int_equal(unlock(f, &cfg, &kek, &slot), 0);
	assert_int_equal(slot, 0);
	kek_free(kek);
	/* --slot 1 with key a: that keyslot's key is b. */
	f->src.slot = 1;
	unlock_fails(f, -EKEYREJECTED, cfg.slots[1].key_id);
}

/*
 * Every commit raises the generation by one, from 0 for a config written
 * before generations; at the last one it refuses and leaves all as it was.
 */
static void test_commit_generation(void **state)
{
	struct fixture *f = *state;
	struct vol_config cfg, mem;
	struct kek *kek;

	assert_int_equal(unlock(f, &cfg, &kek, NULL), 0);
	assert_int_equal(volkey_commit(f->dirfd, &cfg, kek, f->msg,
				       sizeof(f->msg)), 0);
	assert_int_equal(cfg.generation, 2);
	kek_free(kek);
	assert_int_equal(unlock(f, &cfg, &kek, NULL), 0);
	assert_int_equal(cfg.generation, 2);

	/* As the fixture: no generation setting at all. */
	cfg.generation = 0;
	assert_int_equal(vol_mac(kek, &cfg, cfg.mac), 0);
	assert_int_equal(volconf_store(f->dirfd, &cfg, false, f->msg,
				       sizeof(f->msg)), 0);
	kek_free(kek);
	assert_int_equal(unlock(f, &cfg, &kek, NULL), 0);
	assert_int_equal(cfg.generation, 0);
	assert_int_equal(volkey_commit(f->dirfd, &cfg, kek, f->msg,
				       sizeof(f->msg)), 0);
	assert_int_equal(cfg.generation, 1);
	kek_free(kek);
	assert_int_equal(unlock(f, &cfg, &kek, NULL), 0);
	assert_int_equal(cfg.generation, 1);

	cfg.generation = UINT32_MAX;
	assert_int_equal(vol_mac(kek, &cfg, cfg.mac), 0);
	assert_int_equal(volconf_store(f->dirfd, &cfg, false, f->msg,
				       sizeof(f->msg)), 0);
	mem = cfg;
	assert_int_equal(volkey_commit(f->dirfd, &cfg, kek, f->msg,
				       sizeof(f->msg)), -EOVERFLOW);
	assert_non_null(strstr(f->msg, "generation 4294967295"));
	assert_memory_equal(&cfg, &mem, sizeof(cfg));
	kek_free(kek);
	assert_int_equal(unlock(f, &cfg, &kek, NULL), 0);
	assert_int_equal(cfg.generation, UINT32_MAX);
	kek_free(kek);
}

/* volkey_create() hands over the KEK it made when asked: it opens the config. */
static void test_create_kek(void **state)
{
	struct fixture *f = *state;
	struct vol_config cfg;
	struct kek *kek = NULL;

	assert_int_equal(unlinkat(f->dirfd, VOL_CONF_NAME, 0), 0);
	assert_int_equal(volkey_create(f->dirfd, &f->src, "keyfile", 4096,
				       f->cfg.uuid, NULL, &cfg, &kek, f->msg,
				       sizeof(f->msg)), 0);
	assert_non_null(kek);
	assert_int_equal(cfg.generation, 1);
	assert_int_equal(vol_verify(kek, &cfg), 0);
	assert_memory_equal(kek->id, cfg.kek_id, KEK_ID_LEN);
	kek_free(kek);
}

/* Wraps and unwraps reach the audit log, the latter only once trusted. */
static void test_audit(void **state)
{
	struct fixture *f = *state;
	struct vol_options opt = { .audit_syslog = false };
	struct vol_config cfg;
	struct kek *kek;
	char log[4096];
	ssize_t n;
	int fd;

	snprintf(opt.audit_file, sizeof(opt.audit_file), "%s/audit.log",
		 f->dir);
	assert_int_equal(unlinkat(f->dirfd, VOL_CONF_NAME, 0), 0);
	assert_int_equal(volkey_create(f->dirfd, &f->src, "keyfile", 4096,
				       f->cfg.uuid, &opt, &cfg, NULL, f->msg,
				       sizeof(f->msg)), 0);
	assert_int_equal(unlock(f, &cfg, &kek, NULL), 0);
	kek_free(kek);
	fd = openat(f->dirfd, "audit.log", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, log, sizeof(log) - 1);
	close(fd);
	assert_true(n > 0);
	log[n] = '\0';
	print_message("%s", log);
	assert_non_null(strstr(log, "\"root_key_wrap\""));
	assert_non_null(strstr(log, "\"root_key_unwrap\""));
	assert_true(strstr(log, "root_key_wrap") < strstr(log, "root_key_unwrap"));
}

/*
 * A disabled, removed or expired keyslot does not unlock, with an error
 * naming it and the command that revives it; inactive_ok lets it.
 */
static void test_inactive_slot(void **state)
{
	static const struct {
		enum vol_slot_state state;
		int64_t expires;
		int err;
		const char *needle;
	} cases[] = {
		{ VOL_SLOT_DISABLED, 0, -EKEYREVOKED,
		  "keyslot 0 \"main\" (keyfile, key kf-" },
		{ VOL_SLOT_DISABLED, 0, -EKEYREVOKED,
		  "): disabled; 'atrestfs keyslot enable CIPHERDIR 0' enables" },
		{ VOL_SLOT_REMOVED, 0, -EKEYREVOKED,
		  "): removed; until it is purged, 'atrestfs keyslot restore "
		  "CIPHERDIR 0' brings it back" },
		{ VOL_SLOT_ENABLED, 1, -EKEYEXPIRED,
		  "): expired at 1970-01-01T00:00:01Z; 'atrestfs keyslot "
		  "expire CIPHERDIR 0 DATE|never' extends it" },
	};
	struct fixture *f = *state;
	struct vol_config cfg;
	struct kek *kek;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(unlock(f, &cfg, &kek, NULL), 0);
		strcpy(cfg.slots[0].label, "main");
		cfg.slots[0].state = cases[i].state;
		cfg.slots[0].expires = cases[i].expires;
		assert_int_equal(volkey_commit(f->dirfd, &cfg, kek, f->msg,
					       sizeof(f->msg)), 0);
		kek_free(kek);
		unlock_fails(f, cases[i].err, cases[i].needle);
		/* Allowed for keyslot 0 only: the one that revives it. */
		f->src.inactive_ok = 1u << 1;
		unlock_fails(f, cases[i].err, "keyslot 0 \"main\"");
		f->src.inactive_ok = 1u << 0;
		assert_int_equal(unlock(f, &cfg, &kek, NULL), 0);
		f->src.inactive_ok = 0;
		cfg.slots[0].state = VOL_SLOT_ENABLED;
		cfg.slots[0].expires = 0;
		assert_int_equal(volkey_commit(f->dirfd, &cfg, kek, f->msg,
					       sizeof(f->msg)), 0);
		kek_free(kek);
	}
	/* A future expiry still unlocks. */
	assert_int_equal(unlock(f, &cfg, &kek, NULL), 0);
	assert_int_equal(vol_time_parse("9999-01-01T00:00:00Z",
					&cfg.slots[0].expires), 0);
	assert_int_equal(volkey_commit(f->dirfd, &cfg, kek, f->msg,
				       sizeof(f->msg)), 0);
	kek_free(kek);
	assert_int_equal(unlock(f, &cfg, &kek, NULL), 0);
	kek_free(kek);
}

#define T(fn)	cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_create_unlock),
		T(test_wrong_key),
		T(test_not_a_volume),
		T(test_tampered),
		T(test_filters),
		T(test_settings_fail),
		T(test_add_slot),
		T(test_inactive_slot),
		T(test_commit_generation),
		T(test_create_kek),
		T(test_audit),
	};

	return cmocka_run_group_tests_name("volkey: make, unlock and rewrap through the library",
					   tests, NULL, NULL);
}
