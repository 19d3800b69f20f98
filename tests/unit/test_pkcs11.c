// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/unit/test_pkcs11.c - the pkcs11 provider.  Without a token: the
 * RFC 7512 key ID, the PIN file rules, and every setting refused before
 * any module is loaded (or, for a shared object that is not a PKCS#11
 * module, right after).  With SoftHSM2 installed (skipped otherwise): a
 * private token in a temporary directory, wrap/unwrap round trip, the AAD
 * bound inside the token, and the error code of each failure: wrong PIN
 * -ENOANO, absent token -EAGAIN, missing key -ENOKEY, extractable key
 * -EPERM, another key -EBADMSG.
 */
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

#define SOFTHSM	"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"
#define PIN	"112358"

static char tmp[PATH_MAX];	/* scratch directory */
static char plugdir[PATH_MAX];	/* the loader tests' plugins */
static int have_token;

static void put(const char *name, const char *text, mode_t mode)
{
	char path[PATH_MAX + 64];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static const char *at(const char *name)
{
	static char path[4][PATH_MAX + 64];
	static int i;

	i = (i + 1) % 4;
	snprintf(path[i], sizeof(path[i]), "%s/%s", tmp, name);
	return path[i];
}

/* A SoftHSM2 token "unit" with keys "kek", "kek2" and "loose" (extractable). */
static int make_token(void)
{
	char cmd[3 * PATH_MAX];
	FILE *f;

	if (access(SOFTHSM, R_OK) || system("command -v softhsm2-util "
	    "pkcs11-tool >/dev/null 2>&1"))
		return 0;
	snprintf(cmd, sizeof(cmd), "%s/tokens", tmp);
	if (mkdir(cmd, 0700))
		return 0;
	f = fopen(at("softhsm2.conf"), "w");
	if (!f)
		return 0;
	fprintf(f, "directories.tokendir = %s/tokens\nobjectstore.backend = "
		"file\nlog.level = ERROR\n", tmp);
	fclose(f);
	setenv("SOFTHSM2_CONF", at("softhsm2.conf"), 1);
	snprintf(cmd, sizeof(cmd),
		 "softhsm2-util --init-token --free --label unit --so-pin 87654321 "
		 "--pin " PIN " >/dev/null 2>&1 && "
		 "K='pkcs11-tool --module " SOFTHSM " --token-label unit --login "
		 "--pin " PIN " --keygen --key-type AES:32 --sensitive' && "
		 "$K --label kek --id 01 >/dev/null 2>&1 && "
		 "$K --label kek2 --id 02 >/dev/null 2>&1 && "
		 "$K --label loose --id 03 --extractable >/dev/null 2>&1");
	return system(cmd) == 0;
}

static int setup(void **state)
{
	char exe[PATH_MAX];
	ssize_t n;

	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/atrestfs-p11.XXXXXX");
	if (!mkdtemp(tmp))
		return -1;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -1;
	exe[n] = '\0';
	snprintf(plugdir, sizeof(plugdir), "%s/plugins", dirname(exe));
	have_token = make_token();
	return 0;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) ? -1 : 0;
}

static void test_uri(void **state)
{
	char out[256], tok[P11_LABEL_MAX + 1], obj[P11_OBJECT_MAX + 1];

	(void)state;
	assert_int_equal(keyprov_pkcs11_uri("atr", "kek", out, sizeof(out)), 0);
	assert_string_equal(out, "pkcs11:token=atr;object=kek");
	/* RFC 7512: '%', ';', '/', '?', '#', space and non-ASCII encoded. */
	assert_int_equal(keyprov_pkcs11_uri("My Token", "a;b%c/d?e#\"\xc3\xa9",
					    out, sizeof(out)), 0);
	assert_string_equal(out, "pkcs11:token=My%20Token;"
			    "object=a%3Bb%25c%2Fd%3Fe%23%22%C3%A9");
	assert_int_equal(keyprov_pkcs11_uri("t", "k=1:(x)", out, sizeof(out)),
			 0);
	assert_string_equal(out, "pkcs11:token=t;object=k=1:(x)");
	/* Exactly fits, one byte short, and worst-case labels. */
	assert_int_equal(keyprov_pkcs11_uri("t", "k", out, 24), 0);
	assert_int_equal(keyprov_pkcs11_uri("t", "k", out, 23), -ENAMETOOLONG);
	assert_string_equal(out, "");
	memset(tok, ' ', P11_LABEL_MAX);
	tok[P11_LABEL_MAX] = '\0';
	memset(obj, '%', P11_OBJECT_MAX);
	obj[P11_OBJECT_MAX] = '\0';
	assert_int_equal(keyprov_pkcs11_uri(tok, obj, out, sizeof(out)),
			 -ENAMETOOLONG);
}

static void test_pin_file(void **state)
{
	char pin[P11_PIN_MAX], msg[KEYPROV_MSG_MAX], big[P11_PIN_MAX + 8];
	size_t len;

	(void)state;
	put("pin", "1234\n", 0600);
	assert_int_equal(keyprov_pkcs11_read_pin(at("pin"), pin, sizeof(pin),
						 &len, msg, sizeof(msg)), 0);
	assert_string_equal(pin, "1234");
	assert_int_equal(len, 4);
	put("pin", "1234", 0400);
	assert_int_equal(keyprov_pkcs11_read_pin(at("pin"), pin, sizeof(pin),
						 &len, msg, sizeof(msg)), 0);
	assert_string_equal(pin, "1234");
	put("pin", "1234\n", 0640);
	assert_int_equal(keyprov_pkcs11_read_pin(at("pin"), pin, sizeof(pin),
						 &len, msg, sizeof(msg)), -EPERM);
	assert_non_null(strstr(msg, "chmod 600"));
	assert_int_equal(len, 0);
	assert_string_equal(pin, "");		/* wiped */
	put("pin", "\n", 0600);
	assert_int_equal(keyprov_pkcs11_read_pin(at("pin"), pin, sizeof(pin),
						 &len, msg, sizeof(msg)), -ENOANO);
	assert_non_null(strstr(msg, "is empty"));
	memset(big, '7', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	put("pin", big, 0600);
	assert_int_equal(keyprov_pkcs11_read_pin(at("pin"), pin, sizeof(pin),
						 &len, msg, sizeof(msg)), -EINVAL);
	unlink(at("link"));
	assert_int_equal(symlink(at("pin"), at("link")), 0);
	assert_int_equal(keyprov_pkcs11_read_pin(at("link"), pin, sizeof(pin),
						 &len, msg, sizeof(msg)), -EPERM);
	assert_non_null(strstr(msg, "symbolic link"));
	assert_int_equal(keyprov_pkcs11_read_pin(at("none"), pin, sizeof(pin),
						 &len, msg, sizeof(msg)), -ENOANO);
	assert_non_null(strstr(msg, at("none")));
}

/* keyprov_open("pkcs11") with "k=v" settings; NULL-terminated. */
static int open_with(struct keyprov **kp, char *msg, size_t msglen, ...)
{
	static char buf[16][PATH_MAX + 64];
	struct keyprov_kvlist kv;
	const char *s;
	va_list ap;
	int n = 0;

	keyprov_kv_init(&kv);
	va_start(ap, msglen);
	while ((s = va_arg(ap, const char *)) && n < 16) {
		snprintf(buf[n], sizeof(buf[n]), "%s", s);
		*strchr(buf[n], '=') = '\0';
		keyprov_kv_set(&kv, buf[n], buf[n] + strlen(buf[n]) + 1);
		n++;
	}
	va_end(ap);
	*kp = NULL;
	msg[0] = '\0';
	return keyprov_open("pkcs11", NULL, &kv.kv, kp, msg, msglen);
}

#define REFUSED(err, needle, ...) do {					\
	struct keyprov *kp_;						\
	char m_[KEYPROV_MSG_MAX];					\
	assert_int_equal(open_with(&kp_, m_, sizeof(m_), __VA_ARGS__,	\
				   NULL), err);				\
	assert_null(kp_);						\
	print_message("  %s\n", m_);					\
	if (!strstr(m_, needle))					\
		fail_msg("'%s' not in '%s'", needle, m_);		\
} while (0)

static void test_settings(void **state)
{
	char mod[PATH_MAX + 64], good[PATH_MAX + 64];

	(void)state;
	REFUSED(-EINVAL, "no module given", "token=t", "key=k");
	REFUSED(-EINVAL, "module libsofthsm2.so is not an absolute path",
		"module=libsofthsm2.so", "token=t", "key=k");
	REFUSED(-EINVAL, "token (the token's label", "module=/x.so", "key=k");
	REFUSED(-EINVAL, "token (the token's label", "module=/x.so",
		"token=123456789012345678901234567890123", "key=k");
	REFUSED(-EINVAL, "key (the root key's label", "module=/x.so",
		"token=t");
	REFUSED(-EINVAL, "slot '1x' is not a decimal", "module=/x.so",
		"token=t", "key=k", "slot=1x");
	REFUSED(-EINVAL, "pin_file pin is not an absolute path",
		"module=/x.so", "token=t", "key=k", "pin_file=pin");
	REFUSED(-ENOENT, "PKCS#11 module /nonexistent/p11.so",
		"module=/nonexistent/p11.so", "token=t", "key=k");
	put("p11.so", "", 0666);
	snprintf(mod, sizeof(mod), "module=%s", at("p11.so"));
	REFUSED(-EPERM, "writable by its owner only", mod, "token=t", "key=k");
	snprintf(good, sizeof(good), "module=%s/good.so", plugdir);
	REFUSED(-EINVAL, "is not a PKCS#11 module", good, "token=t", "key=k");
}

/* ---- against SoftHSM2 ---- */

static const uint8_t aad[] = "atrestfs kek v1 unit-test-aad";

static void req_init(struct keyprov_req *req, struct keyprov_paramset *ps,
		     int writable, const uint8_t *a, size_t alen, char *msg,
		     size_t msglen)
{
	keyprov_params_init(ps, writable);
	memset(req, 0, sizeof(*req));
	req->aad = a;
	req->aad_len = alen;
	req->params = &ps->p;
	req->msg = msg;
	req->msglen = msglen;
	msg[0] = '\0';
}

static void test_roundtrip(void **state)
{
	uint8_t kek[32], out[KEYPROV_WRAPPED_MAX], *got;
	char msg[KEYPROV_MSG_MAX], mod[] = "module=" SOFTHSM;
	char pinset[PATH_MAX + 64];
	struct keyprov_paramset ps;
	struct keyprov_desc desc;
	struct keyprov_req req;
	struct keyprov *kp;
	size_t out_len;

	(void)state;
	if (!have_token)
		skip();		/* softhsm2 / opensc not installed */
	put("pin", PIN "\n", 0600);
	snprintf(pinset, sizeof(pinset), "pin_file=%s", at("pin"));
	assert_int_equal(open_with(&kp, msg, sizeof(msg), mod, "token=unit",
				   "key=kek", pinset, "mode=create", NULL), 0);
	assert_int_equal(keyprov_describe(kp, &desc), 0);
	assert_string_equal(desc.key_id, "pkcs11:token=unit;object=kek");
	assert_string_equal(desc.algorithm, "CKM_AES_GCM");
	assert_int_equal(desc.key_version, 1);
	memset(kek, 0x5a, sizeof(kek));
	req_init(&req, &ps, 1, aad, sizeof(aad), msg, sizeof(msg));
	assert_int_equal(keyprov_wrap(kp, &req, kek, sizeof(kek), out,
				      &out_len), 0);
	assert_int_equal(out_len, 12 + 32 + 16);
	assert_null(memmem(out, out_len, kek, 8));	/* not in the clear */
	keyprov_close(kp);

	got = secmem_alloc(sizeof(kek));
	assert_int_equal(open_with(&kp, msg, sizeof(msg), mod, "token=unit",
				   "key=kek", pinset, NULL), 0);
	req_init(&req, &ps, 0, aad, sizeof(aad), msg, sizeof(msg));
	assert_int_equal(keyprov_unwrap(kp, &req, out, out_len, got,
					sizeof(kek)), 0);
	assert_memory_equal(got, kek, sizeof(kek));
	/* The AAD is bound inside the token: one byte off fails. */
	req_init(&req, &ps, 0, aad, sizeof(aad) - 1, msg, sizeof(msg));
	assert_int_equal(keyprov_unwrap(kp, &req, out, out_len, got,
					sizeof(kek)), -EBADMSG);
	assert_non_null(strstr(msg, "does not open this keyslot"));
	req_init(&req, &ps, 0, aad, sizeof(aad), msg, sizeof(msg));
	out[20] ^= 1;
	assert_int_equal(keyprov_unwrap(kp, &req, out, out_len, got,
					sizeof(kek)), -EBADMSG);
	out[20] ^= 1;
	assert_int_equal(keyprov_unwrap(kp, &req, out, out_len - 1, got,
					sizeof(kek)), -EBADMSG);
	keyprov_close(kp);

	/* Another non-extractable key on the same token cannot open it. */
	assert_int_equal(open_with(&kp, msg, sizeof(msg), mod, "token=unit",
				   "key=kek2", pinset, NULL), 0);
	req_init(&req, &ps, 0, aad, sizeof(aad), msg, sizeof(msg));
	assert_int_equal(keyprov_unwrap(kp, &req, out, out_len, got,
					sizeof(kek)), -EBADMSG);
	keyprov_close(kp);
	secmem_free(got, sizeof(kek));
}

static void test_token_errors(void **state)
{
	char mod[] = "module=" SOFTHSM, pinset[PATH_MAX + 64];

	(void)state;
	if (!have_token)
		skip();
	put("pin", PIN "\n", 0600);
	put("badpin", "999999\n", 0600);
	snprintf(pinset, sizeof(pinset), "pin_file=%s", at("badpin"));
	REFUSED(-ENOANO, "wrong PIN for token unit", mod, "token=unit",
		"key=kek", pinset);
	/* The default host has no way to ask: -ENOANO, naming the token. */
	REFUSED(-ENOANO, "PIN for token unit needed", mod, "token=unit",
		"key=kek");
	snprintf(pinset, sizeof(pinset), "pin_file=%s", at("pin"));
	REFUSED(-EAGAIN, "token absent not present", mod, "token=absent",
		"key=kek", pinset);
	REFUSED(-EAGAIN, "token unit not present in slot 4242", mod,
		"token=unit", "key=kek", "slot=4242", pinset);
	REFUSED(-ENOKEY, "no AES key labelled nokey on token unit", mod,
		"token=unit", "key=nokey", pinset);
	REFUSED(-EPERM, "key loose on token unit is extractable", mod,
		"token=unit", "key=loose", pinset, "mode=create");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uri),
		cmocka_unit_test(test_pin_file),
		cmocka_unit_test(test_settings),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_token_errors),
	};

	return cmocka_run_group_tests_name("pkcs11", tests, setup, teardown);
}
