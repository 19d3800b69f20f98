// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/unit/test_keyprov.c - keyprov/keyprov.c and the built-in keyfile
 * provider, reached the way the daemon reaches them: keyprov_open_dir().
 *
 * Name validation and the missing-plugin error here; real plugin objects
 * in test_plugin.c.  Everything else goes through the keyfile provider in
 * a temp directory.
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
#include "../../keyprov/keyprov_private.h"

struct fixture {
	char dir[32];			/* temp dir: key files, no plugins */
	char key[64];			/* dir/root.key */
	size_t live;
	struct keyprov_kvlist kv;
	char msg[KEYPROV_MSG_MAX];
};

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	f.live = secmem_live();
	strcpy(f.dir, "/tmp/atr-kp-XXXXXX");
	if (!mkdtemp(f.dir))
		return -1;
	snprintf(f.key, sizeof(f.key), "%s/root.key", f.dir);
	keyprov_kv_init(&f.kv);
	if (keyprov_kv_set(&f.kv, "path", f.key) ||
	    keyprov_kv_set(&f.kv, "volume",
			   "00112233-4455-6677-8899-aabbccddeeff"))
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	static const char *const names[] = { "root.key", "other.key",
		"link.key", "nosuch.so" };
	struct fixture *f = *state;
	char path[96];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", f->dir, names[i]);
		unlink(path);
	}
	if (rmdir(f->dir))
		return -1;
	return secmem_live() == f->live ? 0 : -1;
}

static int kp_open(struct fixture *f, const char *mode, struct keyprov **kp)
{
	keyprov_kv_set(&f->kv, "mode", mode);
	f->msg[0] = '\0';
	*kp = NULL;
	return keyprov_open_dir(f->dir, "keyfile", NULL, &f->kv.kv, kp, f->msg,
				sizeof(f->msg));
}

static int kwrap(struct fixture *f, struct keyprov *kp, const uint8_t *aad,
		 size_t aad_len, const uint8_t *key, size_t key_len,
		 uint8_t *out, size_t *out_len)
{
	struct keyprov_paramset ps;
	struct keyprov_req req = { .aad = aad, .aad_len = aad_len,
		.params = &ps.p, .msg = f->msg, .msglen = sizeof(f->msg) };

	keyprov_params_init(&ps, 1);
	return keyprov_wrap(kp, &req, key, key_len, out, out_len);
}

static int kunwrap(struct fixture *f, struct keyprov *kp, const uint8_t *aad,
		   size_t aad_len, const uint8_t *in, size_t in_len,
		   uint8_t *key, size_t key_len)
{
	struct keyprov_paramset ps;
	struct keyprov_req req = { .aad = aad, .aad_len = aad_len,
		.key_id = "kf", .key_version = 1, .params = &ps.p,
		.msg = f->msg, .msglen = sizeof(f->msg) };

	keyprov_params_init(&ps, 0);
	return keyprov_unwrap(kp, &req, in, in_len, key, key_len);
}

/* Open must fail with @err, leave *kp alone and say why. */
static void kp_open_fails(struct fixture *f, const char *mode, int err,
			  const char *needle)
{
	struct keyprov *kp;

	assert_int_equal(kp_open(f, mode, &kp), err);
	assert_null(kp);
	print_message("  msg: %s\n", f->msg);
	assert_true(strlen(f->msg) > 0);
	if (needle && !strstr(f->msg, needle))
		fail_msg("'%s' not in message '%s'", needle, f->msg);
}

static void write_file(const char *path, size_t len, mode_t mode)
{
	uint8_t buf[64] = { 0 };
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

/* ---- names and the loader ---- */

static void test_name_valid(void **state)
{
	char name[KEYPROV_NAME_MAX + 2];

	(void)state;
	assert_true(keyprov_name_valid("keyfile"));
	assert_true(keyprov_name_valid("pkcs11"));
	assert_true(keyprov_name_valid("kms_aws-2"));
	memset(name, 'a', KEYPROV_NAME_MAX);
	name[KEYPROV_NAME_MAX] = '\0';
	assert_true(keyprov_name_valid(name));
	name[KEYPROV_NAME_MAX] = 'a';
	name[KEYPROV_NAME_MAX + 1] = '\0';
	assert_false(keyprov_name_valid(name));
	assert_false(keyprov_name_valid(""));
	assert_false(keyprov_name_valid("a/b"));
	assert_false(keyprov_name_valid("../x"));
	assert_false(keyprov_name_valid("a.b"));
	assert_false(keyprov_name_valid("keyfile.so"));
	assert_false(keyprov_name_valid("/keyfile"));
	assert_false(keyprov_name_valid("a b"));
	assert_false(keyprov_name_valid("a\n"));
}

/* A name that could leave the plugin directory never reaches dlopen(). */
static void test_open_bad_names(void **state)
{
	struct fixture *f = *state;
	char long_name[KEYPROV_NAME_MAX + 2];
	const char *bad[] = { "a/b", "../x", "a.b", "", long_name };
	struct keyprov *kp;
	size_t i;

	memset(long_name, 'a', KEYPROV_NAME_MAX + 1);
	long_name[KEYPROV_NAME_MAX + 1] = '\0';
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		kp = NULL;
		f->msg[0] = '\0';
		assert_int_equal(keyprov_open_dir(f->dir, bad[i], NULL, &f->kv.kv,
						  &kp, f->msg, sizeof(f->msg)),
				 -EINVAL);
		assert_null(kp);
		assert_non_null(strstr(f->msg,
				       "not a valid key provider name"));
	}
}

static void test_open_unknown(void **state)
{
	struct fixture *f = *state;
	struct keyprov *kp = NULL;
	char path[96];

	assert_int_equal(keyprov_open_dir(f->dir, "nosuch", NULL, &f->kv.kv, &kp,
					  f->msg, sizeof(f->msg)), -ENOENT);
	assert_null(kp);
	print_message("  msg: %s\n", f->msg);
	assert_non_null(strstr(f->msg, "nosuch"));
	/* A file that is not a shared object is refused the same way. */
	snprintf(path, sizeof(path), "%s/nosuch.so", f->dir);
	write_file(path, 10, 0644);
	assert_int_equal(keyprov_open_dir(f->dir, "nosuch", NULL, &f->kv.kv, &kp,
					  f->msg, sizeof(f->msg)), -ENOENT);
	assert_null(kp);
}

static void test_kv(void **state)
{
	static const char *const keys[] = {
		"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9",
		"k10", "k11", "k12", "k13", "k14", "k15", "k16", "k17", "k18",
		"k19", "k20", "k21", "k22", "k23", "k24",
	};
	struct keyprov_kvlist l;
	size_t i;

	(void)state;
	keyprov_kv_init(&l);
	assert_null(l.kv.get(&l.kv, "path"));
	assert_int_equal(keyprov_kv_set(&l, "path", "/a"), 0);
	assert_int_equal(keyprov_kv_set(&l, "path", "/b"), 0);
	assert_string_equal(l.kv.get(&l.kv, "path"), "/b");
	assert_int_equal(l.n, 1);
	for (i = 1; i < KEYPROV_KV_MAX; i++)
		assert_int_equal(keyprov_kv_set(&l, keys[i], "v"), 0);
	assert_int_equal(keyprov_kv_set(&l, keys[KEYPROV_KV_MAX], "v"),
			 -ENOSPC);
	/* Full, but an existing key can still be replaced. */
	assert_int_equal(keyprov_kv_set(&l, "path", "/c"), 0);
	assert_string_equal(l.kv.get(&l.kv, "path"), "/c");
	assert_string_equal(l.kv.get(&l.kv, keys[KEYPROV_KV_MAX - 1]), "v");
}

/* ---- the keyfile provider ---- */

static void test_keyfile_create(void **state)
{
	struct fixture *f = *state;
	struct keyprov *kp;
	struct stat st;
	mode_t old = umask(0);	/* 0600 must not depend on the umask */

	assert_int_equal(kp_open(f, "create", &kp), 0);
	umask(old);
	assert_non_null(kp);
	assert_string_equal(keyprov_name(kp), "keyfile");
	/* The provider holds its root key in secmem while open. */
	assert_true(secmem_live() > f->live);
	keyprov_close(kp);
	assert_int_equal(secmem_live(), f->live);

	assert_int_equal(lstat(f->key, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 32);

	/* Opened again (and "create" on an existing file reads it). */
	assert_int_equal(kp_open(f, "open", &kp), 0);
	keyprov_close(kp);
	assert_int_equal(kp_open(f, "create", &kp), 0);
	keyprov_close(kp);
	assert_int_equal(lstat(f->key, &st), 0);
	assert_int_equal(st.st_size, 32);
}

static void test_keyfile_missing(void **state)
{
	struct fixture *f = *state;
	struct keyprov_kvlist nopath;
	struct keyprov *kp = NULL;

	kp_open_fails(f, "open", -ENOENT, f->key);
	keyprov_kv_init(&nopath);
	assert_int_equal(keyprov_open_dir(f->dir, "keyfile", NULL, &nopath.kv, &kp,
					  f->msg, sizeof(f->msg)), -EINVAL);
	assert_null(kp);
	assert_true(strlen(f->msg) > 0);
}

static void test_keyfile_mode(void **state)
{
	static const mode_t bad[] = { 0644, 0640, 0604, 0660, 0601, 0610 };
	struct fixture *f = *state;
	struct keyprov *kp;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(f->key, 32, bad[i]);
		kp_open_fails(f, "open", -EPERM, "chmod");
	}
	/* Owner-only modes are fine, read-only included. */
	write_file(f->key, 32, 0400);
	assert_int_equal(kp_open(f, "open", &kp), 0);
	keyprov_close(kp);
}

static void test_keyfile_size(void **state)
{
	static const size_t bad[] = { 0, 1, 31, 33, 64 };
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(f->key, bad[i], 0600);
		kp_open_fails(f, "open", -EINVAL, "32");
	}
}

static void test_keyfile_symlink(void **state)
{
	struct fixture *f = *state;
	char other[96];
	struct keyprov *kp;

	/* A valid key file, reached through a symlink: refused. */
	snprintf(other, sizeof(other), "%s/other.key", f->dir);
	write_file(other, 32, 0600);
	assert_int_equal(symlink(other, f->key), 0);
	kp_open_fails(f, "open", -EINVAL, NULL);
	/* Nor does "create" write through a dangling one. */
	unlink(other);
	assert_int_not_equal(kp_open(f, "create", &kp), 0);
	assert_null(kp);
	assert_int_equal(access(other, F_OK), -1);
}

static void test_keyfile_not_regular(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(mkdir(f->key, 0700), 0);
	kp_open_fails(f, "open", -EINVAL, NULL);
	assert_int_equal(rmdir(f->key), 0);
	/* A FIFO is refused too, not waited on (the alarm ends a hang). */
	assert_int_equal(mkfifo(f->key, 0600), 0);
	alarm(10);
	kp_open_fails(f, "open", -EINVAL, NULL);
	alarm(0);
	assert_int_equal(unlink(f->key), 0);
}

static void test_keyfile_wrap_unwrap(void **state)
{
	static const uint8_t aad[] = "atrestfs kek v1 + uuid + kek id + keyfile";
	struct fixture *f = *state;
	uint8_t wrapped[KEYPROV_WRAPPED_MAX], w2[KEYPROV_WRAPPED_MAX];
	uint8_t *kek, *out;
	struct keyprov *kp;
	size_t wlen, w2len, i;

	kek = secmem_alloc(32);
	out = secmem_alloc(32);
	assert_true(kek && out);
	assert_int_equal(rand_fill(kek, 32), 0);
	assert_int_equal(kp_open(f, "create", &kp), 0);

	assert_int_equal(kwrap(f, kp, aad, sizeof(aad), kek, 32, wrapped,
				      &wlen), 0);
	assert_int_equal(wlen, 32 + AEAD_OVERHEAD);
	assert_int_equal(kunwrap(f, kp, aad, sizeof(aad), wrapped, wlen,
					out, 32), 0);
	assert_memory_equal(out, kek, 32);

	/* Other AAD (another volume or provider): refused, key wiped. */
	memset(out, 0xa5, 32);
	f->msg[0] = '\0';
	assert_int_equal(kunwrap(f, kp, aad, sizeof(aad) - 1, wrapped, wlen,
					out, 32),
			 -EBADMSG);
	assert_memory_equal(out, (uint8_t[32]){ 0 }, 32);
	assert_non_null(strstr(f->msg, f->key));
	/* Every byte of the wrapped key. */
	for (i = 0; i < wlen; i++) {
		wrapped[i] ^= (uint8_t)(1u << (i % 8));
		assert_int_equal(kunwrap(f, kp, aad, sizeof(aad), wrapped,
						wlen, out, 32), -EBADMSG);
		wrapped[i] ^= (uint8_t)(1u << (i % 8));
	}
	/* Wrong length, either way. */
	assert_int_equal(kunwrap(f, kp, aad, sizeof(aad), wrapped, wlen - 1,
					out, 32),
			 -EBADMSG);
	assert_int_equal(kunwrap(f, kp, aad, sizeof(aad), wrapped, wlen,
					out, 31),
			 -EBADMSG);
	/* Two wraps of one key differ (fresh nonce), both open. */
	assert_int_equal(kwrap(f, kp, aad, sizeof(aad), kek, 32, w2, &w2len), 0);
	assert_memory_not_equal(w2, wrapped, wlen);
	assert_int_equal(kunwrap(f, kp, aad, sizeof(aad), w2, w2len, out,
					32), 0);
	assert_memory_equal(out, kek, 32);
	keyprov_close(kp);

	/* Reopened from the file, it still unwraps. */
	assert_int_equal(kp_open(f, "open", &kp), 0);
	memset(out, 0, 32);
	assert_int_equal(kunwrap(f, kp, aad, sizeof(aad), wrapped, wlen,
					out, 32), 0);
	assert_memory_equal(out, kek, 32);
	keyprov_close(kp);
	secmem_free(out, 32);
	secmem_free(kek, 32);
}

/* Another root key does not open the wrapped key. */
static void test_keyfile_other_key(void **state)
{
	struct fixture *f = *state;
	uint8_t wrapped[KEYPROV_WRAPPED_MAX], kek[32] = { 1 }, out[32];
	char other[96];
	struct keyprov *kp;
	size_t wlen;

	assert_int_equal(kp_open(f, "create", &kp), 0);
	assert_int_equal(kwrap(f, kp, (const uint8_t *)"a", 1, kek, 32, wrapped, &wlen), 0);
	keyprov_close(kp);
	snprintf(other, sizeof(other), "%s/other.key", f->dir);
	keyprov_kv_set(&f->kv, "path", other);
	assert_int_equal(kp_open(f, "create", &kp), 0);
	assert_int_equal(kunwrap(f, kp, (const uint8_t *)"a", 1, wrapped, wlen, out, 32), -EBADMSG);
	keyprov_close(kp);
	keyprov_kv_set(&f->kv, "path", f->key);
}

static void check_key_id(const struct keyprov_desc *d)
{
	size_t i;

	assert_int_equal(strlen(d->key_id), 3 + 16);
	assert_memory_equal(d->key_id, "kf-", 3);
	for (i = 3; i < 19; i++)
		assert_non_null(strchr("0123456789abcdef", d->key_id[i]));
	assert_int_equal(d->key_version, 1);
	assert_string_equal(d->algorithm, "AES-256-GCM");
}

static void test_keyfile_describe(void **state)
{
	struct fixture *f = *state;
	struct keyprov_desc a, b, c;
	struct keyprov *kp;
	char other[96];

	assert_int_equal(kp_open(f, "create", &kp), 0);
	assert_int_equal(keyprov_describe(kp, &a), 0);
	check_key_id(&a);
	keyprov_close(kp);
	/* Stable: the same file gives the same ID after a reopen. */
	assert_int_equal(kp_open(f, "open", &kp), 0);
	assert_int_equal(keyprov_describe(kp, &b), 0);
	keyprov_close(kp);
	assert_string_equal(a.key_id, b.key_id);
	/* Another key, another ID. */
	snprintf(other, sizeof(other), "%s/other.key", f->dir);
	keyprov_kv_set(&f->kv, "path", other);
	assert_int_equal(kp_open(f, "create", &kp), 0);
	assert_int_equal(keyprov_describe(kp, &c), 0);
	keyprov_close(kp);
	keyprov_kv_set(&f->kv, "path", f->key);
	check_key_id(&c);
	assert_string_not_equal(a.key_id, c.key_id);
}

#define T(fn)	cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_valid),
		T(test_open_bad_names),
		T(test_open_unknown),
		cmocka_unit_test(test_kv),
		T(test_keyfile_create),
		T(test_keyfile_missing),
		T(test_keyfile_mode),
		T(test_keyfile_size),
		T(test_keyfile_symlink),
		T(test_keyfile_not_regular),
		T(test_keyfile_wrap_unwrap),
		T(test_keyfile_other_key),
		T(test_keyfile_describe),
	};

	return cmocka_run_group_tests_name("keyprov: loader names, keyfile provider",
					   tests, NULL, NULL);
}
