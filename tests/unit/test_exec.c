// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/unit/test_exec.c - the exec provider: reply parsing, a wrap/unwrap
 * round trip through a fake helper (fixed argv, minimal environment, the
 * request it saw), wrong AAD, a helper that sleeps past the timeout, one
 * that answers garbage, one that exits non-zero with an error line,
 * children that leave the group of a helper that times out (setsid), and
 * helpers refused before they run.  The fake helpers are shell scripts in
 * a scratch directory; the "KMS" is the identity.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../crypto/secmem.h"
#include "../../keyprov/keyprov_private.h"

static char dir[64];
static char logged[4096];

static void capture_log(const struct keyprov_host *host, int level,
			const char *line)
{
	size_t n = strlen(logged);

	(void)host;
	(void)level;
	snprintf(logged + n, sizeof(logged) - n, "%s\n", line);
}

static struct keyprov_host host;

/* Reads the request into $DIR/req.$1 and its fields into variables. */
static const char *const prologue =
	"#!/bin/sh\n"
	"D=%s\n"
	"echo \"$1\" >$D/argv.$1\n"
	"tr '\\000' '\\n' </proc/$$/environ >$D/env\n"
	": >$D/req.$1\n"
	"while IFS= read -r line; do\n"
	"  [ -z \"$line\" ] && break\n"
	"  echo \"$line\" >>$D/req.$1\n"
	"  case $line in data\\ *) data=${line#data };; esac\n"
	"done\n"
	"if [ \"$1\" = describe ]; then\n"
	"  printf 'ok\\nkey_id fake-1\\nalgorithm FAKE\\n'; exit 0\n"
	"fi\n";

static void helper(const char *name, const char *body, mode_t mode)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, prologue, dir);
	fputs(body, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_exec.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	host = *keyprov_host_default();
	host.log = capture_log;
	helper("good", "printf 'ok\\ndata %s\\n' \"$data\"\n", 0755);
	helper("slow", "sleep 30\n", 0755);
	helper("garbage", "echo 'hello there'\n", 0755);
	helper("fails", "echo 'remote said no' >&2\n"
		"echo 'error ENOKEY key kek-7 is not on the server'\nexit 3\n",
		0755);
	helper("mute", "exit 3\n", 0755);
	helper("shortkey", "printf 'ok\\ndata QUJD\\n'\n", 0755);
	helper("groupw", "exit 0\n", 0775);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) ? -1 : 0;
}

static int open_exec(const char *name, const char *timeout,
		     struct keyprov **kp, char *msg)
{
	struct keyprov_kvlist kv;
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	keyprov_kv_init(&kv);
	keyprov_kv_set(&kv, "helper", name[0] == '/' || name[0] == '.' ?
		       name : path);
	keyprov_kv_set(&kv, "timeout", timeout);
	keyprov_kv_set(&kv, "volume", "0123-uuid");
	keyprov_kv_set(&kv, "mode", "create");
	keyprov_kv_set(&kv, "config", "/etc/atrestfs/fake.conf");
	return keyprov_open("exec", &host, &kv.kv, kp, msg, KEYPROV_MSG_MAX);
}

static void req_init(struct keyprov_req *req, struct keyprov_paramset *ps,
		     const char *aad, char *msg)
{
	memset(req, 0, sizeof(*req));
	keyprov_params_init(ps, 1);
	req->aad = (const uint8_t *)aad;
	req->aad_len = strlen(aad);
	req->params = &ps->p;
	req->msg = msg;
	req->msglen = KEYPROV_MSG_MAX;
}

/*
 * Open helper @name, wrap a KEK once with AAD "aad" and close: the result
 * of the wrap (the open must work).  @out, if not NULL, receives the
 * wrapped key (KEYPROV_WRAPPED_MAX bytes) and @out_len its length.
 */
static int wrap_once(const char *name, const char *timeout, char *msg,
		     uint8_t *out, size_t *out_len)
{
	uint8_t kek[32] = { 1 }, buf[KEYPROV_WRAPPED_MAX];
	struct keyprov_paramset ps;
	struct keyprov_req req;
	struct keyprov *kp;
	size_t len;
	int err;

	assert_int_equal(open_exec(name, timeout, &kp, msg), 0);
	req_init(&req, &ps, "aad", msg);
	err = keyprov_wrap(kp, &req, kek, sizeof(kek), out ? out : buf,
			   out_len ? out_len : &len);
	keyprov_close(kp);
	return err;
}

static int file_has(const char *name, const char *text)
{
	char path[128], buf[8192];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, text) != NULL;
}

static void test_status(void **state)
{
	char msg[KEYPROV_MSG_MAX] = "";
	const char *s;

	(void)state;
	assert_int_equal(keyprov_exec_status("ok\n", 3, msg, sizeof(msg)), 0);
	assert_int_equal(keyprov_exec_status("ok", 2, msg, sizeof(msg)), 0);
	s = "error ENOKEY key k1 is gone\n";
	assert_int_equal(keyprov_exec_status(s, strlen(s), msg, sizeof(msg)),
			 -ENOKEY);
	assert_string_equal(msg, "key k1 is gone");
	s = "error ETIMEDOUT\n";
	assert_int_equal(keyprov_exec_status(s, strlen(s), msg, sizeof(msg)),
			 -ETIMEDOUT);
	s = "error EWHATEVER odd\n";
	assert_int_equal(keyprov_exec_status(s, strlen(s), msg, sizeof(msg)),
			 -EIO);
	s = "okay\n";
	assert_int_equal(keyprov_exec_status(s, strlen(s), msg, sizeof(msg)),
			 -EPROTO);
	s = "ok\r\n";
	assert_int_equal(keyprov_exec_status(s, strlen(s), msg, sizeof(msg)),
			 -EPROTO);
	assert_int_equal(keyprov_exec_status("", 0, msg, sizeof(msg)),
			 -EPROTO);
	assert_int_equal(keyprov_exec_errno("EBADMSG", 7), -EBADMSG);
	assert_int_equal(keyprov_exec_errno("EAGAIN", 6), -EAGAIN);
}

static void test_fields(void **state)
{
	const char *r = "ok\ndata QUJD\nkey_id kmip:abc\n\nlater x\n";
	const char *v;
	size_t n;

	(void)state;
	assert_int_equal(keyprov_exec_field(r, strlen(r), "data", &v, &n), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(v, "QUJD", 4);
	assert_int_equal(keyprov_exec_field(r, strlen(r), "key_id", &v, &n), 0);
	assert_int_equal(n, 8);
	/* After the blank line, and the status line itself, are not fields. */
	assert_int_equal(keyprov_exec_field(r, strlen(r), "later", &v, &n),
			 -ENOENT);
	assert_int_equal(keyprov_exec_field(r, strlen(r), "ok", &v, &n),
			 -ENOENT);
	assert_int_equal(keyprov_exec_field(r, strlen(r), "dat", &v, &n),
			 -ENOENT);
	r = "ok\nx \x01\ndata QUJD\n";
	assert_int_equal(keyprov_exec_field(r, strlen(r), "data", &v, &n),
			 -EPROTO);
	r = "ok\ndata QUJD";		/* no final newline */
	assert_int_equal(keyprov_exec_field(r, strlen(r), "data", &v, &n), 0);
	assert_int_equal(n, 4);
}

static void test_roundtrip(void **state)
{
	uint8_t kek[32], out[KEYPROV_WRAPPED_MAX], back[32];
	char msg[KEYPROV_MSG_MAX] = "";
	struct keyprov_paramset ps;
	struct keyprov_desc desc;
	struct keyprov_req req;
	size_t live = secmem_live(), out_len = 0;
	struct keyprov *kp;
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(kek); i++)
		kek[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(open_exec("good", "5", &kp, msg), 0);
	assert_int_equal(keyprov_describe(kp, &desc), 0);
	assert_string_equal(desc.key_id, "fake-1");
	assert_int_equal(desc.key_version, 1);
	assert_string_equal(desc.algorithm, "FAKE+AES-256-GCM");
	assert_true(file_has("req.describe", "atrestfs-exec 1\nop describe\n"
			     "volume 0123-uuid\nmode create\n"
			     "config /etc/atrestfs/fake.conf\n"));

	req_init(&req, &ps, "volume aad", msg);
	assert_int_equal(keyprov_wrap(kp, &req, kek, sizeof(kek), out,
				      &out_len), 0);
	/* version, length, the helper's 32 bytes, the GCM box */
	assert_int_equal(out_len, 3 + 32 + 32 + 28);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1] << 8 | out[2], 32);
	assert_true(file_has("argv.wrap", "wrap\n"));
	assert_true(file_has("req.wrap", "op wrap\n"));
	assert_true(file_has("req.wrap", "aad dm9sdW1lIGFhZA==\n"));
	/* Only what spawn() passes: no secret, nothing of ours. */
	assert_true(file_has("env", "PATH=/usr/local/sbin:"));
	assert_true(file_has("env", "LC_ALL=C.UTF-8\n"));
	assert_false(file_has("env", "ASAN") || file_has("env", "VALGRIND") ||
		     file_has("env", "PWD=") || file_has("env", "TERM="));

	req_init(&req, &ps, "volume aad", msg);
	req.key_id = "fake-1";
	req.key_version = 1;
	req.params->set = NULL;
	memset(back, 0, sizeof(back));
	assert_int_equal(keyprov_unwrap(kp, &req, out, out_len, back,
					sizeof(back)), 0);
	assert_memory_equal(back, kek, sizeof(kek));
	assert_true(file_has("req.unwrap", "op unwrap\n"));
	assert_true(file_has("req.unwrap", "key_id fake-1\nkey_version 1\n"));

	/* Another volume's AAD: the GCM tag says no. */
	req_init(&req, &ps, "other aad", msg);
	assert_int_equal(keyprov_unwrap(kp, &req, out, out_len, back,
					sizeof(back)), -EBADMSG);
	assert_non_null(strstr(msg, "does not open this keyslot"));
	/* A flipped bit anywhere in the record, and a bad envelope. */
	req_init(&req, &ps, "volume aad", msg);
	out[out_len - 1] ^= 1;
	assert_int_equal(keyprov_unwrap(kp, &req, out, out_len, back,
					sizeof(back)), -EBADMSG);
	out[out_len - 1] ^= 1;
	out[0] = 2;
	assert_int_equal(keyprov_unwrap(kp, &req, out, out_len, back,
					sizeof(back)), -EBADMSG);
	out[0] = 1;
	assert_int_equal(keyprov_unwrap(kp, &req, out, out_len - 1, back,
					sizeof(back)), -EBADMSG);
	keyprov_close(kp);
	assert_int_equal(secmem_live(), live);
}

static void test_timeout(void **state)
{
	char msg[KEYPROV_MSG_MAX] = "";
	struct timespec a, b;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(wrap_once("slow", "1", msg, NULL, NULL), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_true(b.tv_sec - a.tv_sec < 4);
	assert_non_null(strstr(msg, "did not answer within 1 s"));
}

static void test_garbage(void **state)
{
	uint8_t kek[32] = { 1 }, out[KEYPROV_WRAPPED_MAX];
	char msg[KEYPROV_MSG_MAX] = "";
	struct keyprov_paramset ps;
	struct keyprov_req req;
	struct keyprov *kp;
	size_t out_len;

	(void)state;
	assert_int_equal(wrap_once("garbage", "5", msg, NULL, NULL), -EIO);
	assert_non_null(strstr(msg, "malformed"));

	/* "ok" but a K1 of 3 bytes. */
	assert_int_equal(wrap_once("good", "5", msg, out, &out_len), 0);
	assert_int_equal(open_exec("shortkey", "5", &kp, msg), 0);
	req_init(&req, &ps, "aad", msg);
	req.params->set = NULL;
	assert_int_equal(keyprov_unwrap(kp, &req, out, out_len, kek,
					sizeof(kek)), -EIO);
	assert_non_null(strstr(msg, "of 3 bytes"));
	keyprov_close(kp);
}

static void test_error_line(void **state)
{
	char msg[KEYPROV_MSG_MAX] = "";

	(void)state;
	logged[0] = '\0';
	assert_int_equal(wrap_once("fails", "5", msg, NULL, NULL), -ENOKEY);
	assert_non_null(strstr(msg, "key kek-7 is not on the server"));
	assert_non_null(strstr(msg, "/fails"));
	assert_non_null(strstr(logged, "/fails: remote said no\n"));

	assert_int_equal(wrap_once("mute", "5", msg, NULL, NULL), -EIO);
	assert_non_null(strstr(msg, "failed (exit 3)"));
}

static void test_refused(void **state)
{
	char msg[KEYPROV_MSG_MAX] = "";
	struct keyprov *kp = NULL;

	(void)state;
	assert_int_equal(open_exec("./good", "5", &kp, msg), -EINVAL);
	assert_non_null(strstr(msg, "absolute path"));
	assert_int_equal(open_exec("/nonexistent/helper", "5", &kp, msg),
			 -EINVAL);
	assert_int_equal(open_exec("groupw", "5", &kp, msg), -EPERM);
	assert_non_null(strstr(msg, "writable by others"));
	assert_int_equal(open_exec("good", "0", &kp, msg), -EINVAL);
	assert_int_equal(open_exec("good", "10s", &kp, msg), -EINVAL);
	assert_int_equal(open_exec("good", "601", &kp, msg), -EINVAL);
	assert_int_equal(open_exec("good", "+5", &kp, msg), -EINVAL);
	assert_int_equal(open_exec("good", " 5", &kp, msg), -EINVAL);
	assert_int_equal(open_exec("good", "", &kp, msg), -EINVAL);
	assert_null(kp);
}

/*
 * A helper that runs @prelude (shell lines), then answers "ok" and @fields
 * verbatim.
 */
static int open_helper(const char *prelude, const char *fields,
		       struct keyprov **kp, char *msg)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/described", dir);
	unlink(path);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\ncat >/dev/null\n%scat <<'EOF'\nok\n%sEOF\n",
		prelude, fields);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
	*kp = NULL;
	return open_exec("described", "5", kp, msg);
}

static int open_described(const char *fields, struct keyprov **kp, char *msg)
{
	return open_helper("", fields, kp, msg);
}

/* The same, after starting a child that holds stdout, its PID in @pidf. */
static int open_background(const char *fields, const char *pidf,
			   struct keyprov **kp, char *msg)
{
	char prelude[256];

	snprintf(prelude, sizeof(prelude), "sleep 30 &\necho $! >%s\n", pidf);
	return open_helper(prelude, fields, kp, msg);
}

/* A helper whose describe answers "key_version @v" (@v verbatim). */
static int open_versioned(const char *v, struct keyprov **kp, char *msg)
{
	char fields[160];

	snprintf(fields, sizeof(fields), "key_id v\nkey_version %s\n", v);
	return open_described(fields, kp, msg);
}

/* key_version goes through the strict decimal parser, as a uint32_t. */
static void test_key_version(void **state)
{
	static const char *const bad[] = { "", "x", "7x", "+7", "-1", " 7",
		"0x10", "4294967296", "99999999999999999999999999999999" };
	char msg[KEYPROV_MSG_MAX] = "";
	struct keyprov_desc desc;
	struct keyprov *kp;
	size_t i;

	(void)state;
	assert_int_equal(open_versioned("7", &kp, msg), 0);
	assert_int_equal(keyprov_describe(kp, &desc), 0);
	assert_int_equal(desc.key_version, 7);
	keyprov_close(kp);
	assert_int_equal(open_versioned("4294967295", &kp, msg), 0);
	assert_int_equal(keyprov_describe(kp, &desc), 0);
	assert_int_equal(desc.key_version, UINT32_MAX);
	keyprov_close(kp);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		msg[0] = '\0';
		assert_int_equal(open_versioned(bad[i], &kp, msg), -EIO);
		assert_null(kp);
		assert_non_null(strstr(msg, "key_version"));
	}
}

/*
 * Key names and algorithms go into atrestfs.conf as quoted strings: a
 * quote or a backslash there made a volume that nothing could open.
 */
static void test_describe_names(void **state)
{
	static const char *const bad[] = { "key_id a\"b\n", "key_id a\\b\n",
		"key_id k\nalgorithm x\"y\n", "key_id k\nalgorithm \n" };
	char msg[KEYPROV_MSG_MAX] = "";
	struct keyprov_desc desc;
	struct keyprov *kp;
	size_t i;

	(void)state;
	assert_int_equal(open_described("key_id alias/k-1:2\nalgorithm KMIP\n",
					&kp, msg), 0);
	assert_int_equal(keyprov_describe(kp, &desc), 0);
	assert_string_equal(desc.key_id, "alias/k-1:2");
	assert_string_equal(desc.algorithm, "KMIP+AES-256-GCM");
	keyprov_close(kp);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		msg[0] = '\0';
		assert_int_equal(open_described(bad[i], &kp, msg), -EIO);
		assert_null(kp);
		assert_non_null(strstr(msg, "described"));
		assert_non_null(strstr(msg, "named its"));
	}
}

/*
 * An answer that fills the buffer exactly is whole; one byte more is too
 * long.  Before, the end of file after a full buffer counted as more.
 */
static void test_answer_size(void **state)
{
	static const char head[] = "key_id v\npad ";
	size_t fit = EXEC_OUT_MAX - 1 - 3 - (sizeof(head) - 1) - 1;
	char msg[KEYPROV_MSG_MAX] = "";
	struct keyprov *kp;
	char *fields = malloc(EXEC_OUT_MAX + 8);
	size_t n;

	(void)state;
	assert_non_null(fields);
	for (n = fit; n <= fit + 1; n++) {
		memcpy(fields, head, sizeof(head) - 1);
		memset(fields + sizeof(head) - 1, 'x', n);
		strcpy(fields + sizeof(head) - 1 + n, "\n");
		/* "ok\n" + fields: EXEC_OUT_MAX - 1 bytes, then one more */
		assert_int_equal(3 + strlen(fields), EXEC_OUT_MAX - 1 + (n - fit));
		msg[0] = '\0';
		if (n == fit) {
			assert_int_equal(open_described(fields, &kp, msg), 0);
			keyprov_close(kp);
		} else {
			assert_int_equal(open_described(fields, &kp, msg), -EIO);
			assert_non_null(strstr(msg, "answered more than"));
		}
	}
	free(fields);
}

/*
 * A helper that leaves a child holding its stdout: the answer counts as
 * soon as the helper exits, and the child is killed with its group.
 */
/* Running, not a zombie waiting for whoever inherited it to reap it. */
static bool alive(pid_t pid)
{
	char path[64], buf[256], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

static void test_background_child(void **state)
{
	char msg[KEYPROV_MSG_MAX] = "", path[128];
	struct timespec a, b;
	struct keyprov *kp;
	pid_t child = 0;
	FILE *f;
	int i;

	(void)state;
	snprintf(path, sizeof(path), "%s/child.pid", dir);
	unlink(path);
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(open_background("key_id v\n", path, &kp, msg), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	keyprov_close(kp);
	assert_true(b.tv_sec - a.tv_sec < 3);	/* its timeout is 5 s */
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &child), 1);
	fclose(f);
	assert_true(child > 0);
	for (i = 0; i < 100 && alive(child); i++)
		usleep(10000);
	assert_false(alive(child));
}

/* The PID a helper wrote to @name in the scratch directory, or 0. */
static pid_t pid_in(const char *name)
{
	char path[128];
	int pid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%d", &pid) != 1)
		pid = 0;
	fclose(f);
	return pid;
}

/*
 * A helper's children that leave its process group and session with
 * setsid() and hold none of our pipes, one its own child, one given to
 * init by a double fork: killing the helper's group reaches neither, and
 * neither may outlive the timeout.
 */
static void test_setsid_children(void **state)
{
	static const char body[] =
		"setsid sleep 30 </dev/null >/dev/null 2>&1 &\n"
		"echo $! >$D/direct.pid\n"
		"( setsid sleep 30 </dev/null >/dev/null 2>&1 &\n"
		"  echo $! >$D/orphan.pid )\n"
		"sleep 30\n";
	static const char *const names[] = { "direct.pid", "orphan.pid" };
	char msg[KEYPROV_MSG_MAX] = "", path[128];
	bool survived[2];
	pid_t pid[2];
	int i, j;

	(void)state;
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	helper("escapes", body, 0755);
	assert_int_equal(wrap_once("escapes", "1", msg, NULL, NULL),
			 -ETIMEDOUT);
	for (i = 0; i < 2; i++) {
		pid[i] = pid_in(names[i]);
		assert_true(pid[i] > 0);
	}
	for (i = 0; i < 2; i++) {
		for (j = 0; j < 100 && alive(pid[i]); j++)
			usleep(10000);
		survived[i] = alive(pid[i]);
		if (survived[i])
			kill(pid[i], SIGKILL);	/* no stray sleep 30 */
	}
	if (survived[0] || survived[1])
		fail_msg("outlived the timeout: its own child %s, the orphan %s",
			 survived[0] ? "yes" : "no", survived[1] ? "yes" : "no");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_error_line),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_key_version),
		cmocka_unit_test(test_describe_names),
		cmocka_unit_test(test_answer_size),
		cmocka_unit_test(test_background_child),
		cmocka_unit_test(test_setsid_children),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
