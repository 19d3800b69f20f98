// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/unit/test_plugin.c - keyprov_open_dir() on real shared objects,
 * built by the Makefile into <build>/tests/plugins/ next to this binary:
 * a good plugin, a wrong ABI version, a missing entry symbol, a name
 * mismatch, what the version script leaves exported, and the example
 * plugin of atrestfs-keyprov(7).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../crypto/secmem.h"
#include "../../keyprov/keyprov_private.h"

static char plugdir[PATH_MAX];

static int find_plugins(void **state)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	(void)state;
	if (n < 0)
		return -1;
	exe[n] = '\0';
	snprintf(plugdir, sizeof(plugdir), "%s/plugins", dirname(exe));
	return 0;
}

static int open_plugin(const char *name, struct keyprov_kvlist *kv,
		       struct keyprov **kp, char *msg, size_t msglen)
{
	*kp = NULL;
	msg[0] = '\0';
	return keyprov_open_dir(plugdir, name, NULL, &kv->kv, kp, msg, msglen);
}

static void expect_refused(const char *name, int err, const char *needle)
{
	char msg[KEYPROV_MSG_MAX];
	struct keyprov_kvlist kv;
	struct keyprov *kp;

	keyprov_kv_init(&kv);
	assert_int_equal(open_plugin(name, &kv, &kp, msg, sizeof(msg)), err);
	assert_null(kp);
	print_message("  %s: %s\n", name, msg);
	if (!strstr(msg, needle))
		fail_msg("'%s' not in '%s'", needle, msg);
}

static void expect_loaded(const char *name)
{
	char msg[KEYPROV_MSG_MAX];
	struct keyprov_kvlist kv;
	struct keyprov *kp;

	keyprov_kv_init(&kv);
	if (open_plugin(name, &kv, &kp, msg, sizeof(msg)))
		fail_msg("%s not loaded: %s", name, msg);
	keyprov_close(kp);
}

static void test_wrong_abi(void **state)
{
	(void)state;
	expect_refused("badabi", -EPROTONOSUPPORT, "ABI version 99");
}

static void test_no_entry(void **state)
{
	(void)state;
	expect_refused("noentry", -EINVAL, "does not export " KEYPROV_ENTRY_SYMBOL);
}

static void test_misnamed(void **state)
{
	(void)state;
	expect_refused("misnamed", -EINVAL, "calls itself 'other'");
}

static void test_bad_names(void **state)
{
	(void)state;
	/* good.so exists, but no spelling of a path reaches it. */
	expect_refused("./good", -EINVAL, "not a valid key provider name");
	expect_refused("../plugins/good", -EINVAL, "not a valid key provider name");
	expect_refused("good.so", -EINVAL, "not a valid key provider name");
	expect_refused("/tmp/good", -EINVAL, "not a valid key provider name");
}

/*
 * keyprov-plugin.sym exports the entry point and nothing else: a function
 * the plugin shares between its files (testplug_internal, not static) is
 * not in its dynamic symbol table, whichever way it was built.
 */
static void test_exports(void **state)
{
	static const char *const builds[] = { "good", "noentry" };
	char path[PATH_MAX + 16];
	size_t i;
	void *dl;

	(void)state;
	for (i = 0; i < sizeof(builds) / sizeof(builds[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s.so", plugdir, builds[i]);
		dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		assert_non_null(dl);
		if (dlsym(dl, "testplug_internal"))
			fail_msg("%s exports testplug_internal", path);
		if (!i)
			assert_non_null(dlsym(dl, KEYPROV_ENTRY_SYMBOL));
		if (i && dlsym(dl, "not_the_entry"))
			fail_msg("%s exports not_the_entry", path);
		dlclose(dl);
	}
}

/* A plugin's init failure comes back as its errno and its sentence. */
static void test_init_fails(void **state)
{
	char msg[KEYPROV_MSG_MAX];
	struct keyprov_kvlist kv;
	struct keyprov *kp;

	(void)state;
	keyprov_kv_init(&kv);
	keyprov_kv_set(&kv, "fail", "token absent");
	assert_int_equal(open_plugin("good", &kv, &kp, msg, sizeof(msg)),
			 -EAGAIN);
	assert_null(kp);
	assert_non_null(strstr(msg, "token absent"));
}

static void round_trip(const char *name, struct keyprov_kvlist *kv)
{
	static const uint8_t aad[] = "volume uuid + key id";
	uint8_t wrapped[KEYPROV_WRAPPED_MAX], *key, *out;
	char msg[KEYPROV_MSG_MAX];
	struct keyprov_paramset wp, up;
	struct keyprov_req req = { .aad = aad, .aad_len = sizeof(aad),
		.msg = msg, .msglen = sizeof(msg) };
	struct keyprov_desc d;
	struct keyprov *kp;
	size_t wlen, i;

	key = secmem_alloc(32);
	out = secmem_alloc(32);
	assert_true(key && out);
	for (i = 0; i < 32; i++)
		key[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(open_plugin(name, kv, &kp, msg, sizeof(msg)), 0);
	assert_string_equal(keyprov_name(kp), name);
	assert_int_equal(keyprov_describe(kp, &d), 0);
	assert_true(strlen(d.key_id) < sizeof(d.key_id));
	keyprov_params_init(&wp, 1);
	req.params = &wp.p;
	assert_int_equal(keyprov_wrap(kp, &req, key, 32, wrapped, &wlen), 0);
	assert_true(wp.n >= 1);			/* it recorded a parameter */
	/* Unwrap sees the parameters read-only. */
	up = wp;
	up.p.set = NULL;
	req.params = &up.p;
	req.key_id = d.key_id;
	req.key_version = d.key_version;
	assert_int_equal(keyprov_unwrap(kp, &req, wrapped, wlen, out, 32), 0);
	assert_memory_equal(out, key, 32);
	/* Other AAD: refused, and the host wiped what the plugin wrote. */
	req.aad_len--;
	memset(out, 0x5a, 32);
	assert_int_equal(keyprov_unwrap(kp, &req, wrapped, wlen, out, 32),
			 -EBADMSG);
	assert_memory_equal(out, (uint8_t[32]){ 0 }, 32);
	/* No AAD at all: the host refuses before the plugin is called. */
	req.aad_len = 0;
	assert_int_equal(keyprov_unwrap(kp, &req, wrapped, wlen, out, 32),
			 -EINVAL);
	keyprov_close(kp);
	secmem_free(out, 32);
	secmem_free(key, 32);
}

static void test_good(void **state)
{
	struct keyprov_kvlist kv;

	(void)state;
	keyprov_kv_init(&kv);
	round_trip("good", &kv);
}

/*
 * Whatever a plugin calls its key goes into atrestfs.conf as a quoted
 * string: the host refuses a name the config loader would refuse.
 */
static void test_bad_key_name(void **state)
{
	static const char *const bad[] = { "a\"b", "a\\b", "tab\there" };
	char msg[KEYPROV_MSG_MAX];
	struct keyprov_kvlist kv;
	struct keyprov_desc d;
	struct keyprov *kp;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		keyprov_kv_init(&kv);
		keyprov_kv_set(&kv, "key_id", bad[i]);
		assert_int_equal(open_plugin("good", &kv, &kp, msg, sizeof(msg)), 0);
		assert_int_equal(keyprov_describe(kp, &d), -EPROTO);
		keyprov_close(kp);
	}
	keyprov_kv_init(&kv);
	keyprov_kv_set(&kv, "key_id", "alias/ok-1");
	assert_int_equal(open_plugin("good", &kv, &kp, msg, sizeof(msg)), 0);
	assert_int_equal(keyprov_describe(kp, &d), 0);
	assert_string_equal(d.key_id, "alias/ok-1");
	keyprov_close(kp);
}

/*
 * A plugin others may rewrite is not loaded: it would run as the daemon.
 * Tried on a copy in a directory of our own, so that any user can run it
 * on a build tree that is not theirs (make unit).
 */
static void test_writable(void **state)
{
	char dir[] = "/tmp/atrestfs-plug.XXXXXX", src[PATH_MAX + 16];
	char dst[sizeof(dir) + 16], saved[sizeof(plugdir)];
	int in, out;
	ssize_t n;
	char buf[65536];

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0755), 0);
	snprintf(src, sizeof(src), "%s/good.so", plugdir);
	snprintf(dst, sizeof(dst), "%s/good.so", dir);
	in = open(src, O_RDONLY | O_CLOEXEC);
	assert_true(in >= 0);
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	assert_true(out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	assert_int_equal(n, 0);
	close(in);
	close(out);
	memcpy(saved, plugdir, sizeof(saved));
	snprintf(plugdir, sizeof(plugdir), "%s", dir);
	expect_loaded("good");
	assert_int_equal(chmod(dst, 0775), 0);
	expect_refused("good", -EPERM, "writable by its owner only");
	assert_int_equal(chmod(dst, 0757), 0);
	expect_refused("good", -EPERM, "writable by its owner only");
	memcpy(plugdir, saved, sizeof(plugdir));
	assert_int_equal(unlink(dst), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* The example in atrestfs-keyprov(7), built from keyprov/example/. */
static void test_example(void **state)
{
	struct keyprov_kvlist kv;
	char msg[KEYPROV_MSG_MAX];
	struct keyprov *kp;

	(void)state;
	keyprov_kv_init(&kv);
	assert_int_equal(open_plugin("example", &kv, &kp, msg, sizeof(msg)),
			 -EINVAL);
	assert_non_null(strstr(msg, "root_hex"));
	keyprov_kv_set(&kv, "root_hex",
		       "000102030405060708090a0b0c0d0e0f"
		       "101112131415161718191a1b1c1d1e1f");
	round_trip("example", &kv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad_key_name),
		cmocka_unit_test(test_wrong_abi),
		cmocka_unit_test(test_no_entry),
		cmocka_unit_test(test_misnamed),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_init_fails),
		cmocka_unit_test(test_exports),
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_writable),
	};

	return cmocka_run_group_tests_name("keyprov: real plugin objects",
					   tests, find_plugins, NULL);
}
