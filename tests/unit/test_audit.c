// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/unit/test_audit.c - fs/audit.c and fs/policy.c: the JSON line, the
 * log file's creation (mode 0600, no symlinks, appends, one chain across
 * two writers), and that the policy wraps every operation but the exempt
 * ones.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../crypto/auditchain.h"
#include "../../fs/fs_private.h"

static void test_format(void **state)
{
	static const uint8_t fid[FILE_ID_LEN] = { 0x01, 0x23, 0x45, 0x67, 0x89,
		0xab, 0xcd, 0xef, 0, 1, 2, 3, 4, 5, 6, 7 };
	struct audit_event ev = { .event = "dek_unwrap", .file_id = fid,
				  .key_id = "k\"\\\n", .key_version = 7,
				  .provider = "keyfile", .host = "h\x01",
				  .has_slot = true, .slot = 3, .uid = 1000,
				  .gid = 100, .pid = 42, .result = -EACCES };
	char line[1024];
	const char *tail;
	size_t n;

	(void)state;
	n = audit_format("00112233-4455-6677-8899-aabbccddeeff", &ev, line,
			 sizeof(line));
	assert_int_equal(n, strlen(line));
	print_message("  %s\n", line);
	assert_memory_equal(line, "{\"time\":\"", 9);
	/* 2024-01-02T03:04:05.678Z */
	assert_int_equal(line[9 + 23], 'Z');
	assert_int_equal(line[9 + 10], 'T');
	tail = line + 9 + 25;
	assert_string_equal(tail, ",\"event\":\"dek_unwrap\","
		"\"volume\":\"00112233-4455-6677-8899-aabbccddeeff\","
		"\"host\":\"h\\u0001\","
		"\"file_id\":\"0123456789abcdef0001020304050607\","
		"\"key_id\":\"k\\\"\\\\\\u000a\",\"key_version\":7,"
		"\"provider\":\"keyfile\",\"slot\":3,\"uid\":1000,\"gid\":100,\"pid\":42,"
		"\"result\":\"EACCES\"}");
	ev = (struct audit_event){ .event = "mount" };
	n = audit_format("u", &ev, line, sizeof(line));
	assert_non_null(strstr(line, "\"uid\":0,\"gid\":0,\"pid\":0,\"result\":\"ok\"}"));
	/* Too small: no line rather than a cut one. */
	assert_int_equal(audit_format("u", &ev, line, 40), 0);
}

static void test_file(void **state)
{
	char dir[] = "/tmp/atr-audit-XXXXXX", path[64], link[64], buf[4096];
	struct vol_options o = { .audit_syslog = false };
	uint8_t uuid[VOL_UUID_LEN] = { 0 };
	struct audit_event ev = { .event = "mount" };
	struct achain_result res;
	struct audit *a, *b;
	char msg[256];
	struct stat st;
	ssize_t n;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/v.audit", dir);
	snprintf(link, sizeof(link), "%s/link.audit", dir);
	/* None configured: no handle, and logging to NULL is a no-op. */
	assert_int_equal(audit_open(&o, uuid, &a, msg, sizeof(msg)), 0);
	assert_null(a);
	assert_int_equal(audit_log(NULL, &ev), 0);

	strcpy(o.audit_file, path);
	assert_int_equal(audit_open(&o, uuid, &a, msg, sizeof(msg)), 0);
	assert_non_null(a);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	audit_self(&ev);
	assert_int_equal(audit_log(a, &ev), 0);
	/* A second writer (another process) in between: one chain still. */
	assert_int_equal(audit_open(&o, uuid, &b, msg, sizeof(msg)), 0);
	assert_int_equal(audit_log(b, &ev), 0);
	assert_int_equal(audit_log(a, &ev), 0);
	assert_int_equal(audit_log(b, &ev), 0);
	audit_close(b);
	audit_close(a);
	fd = open(path, O_RDONLY);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strchr(buf, '\n'));
	assert_non_null(strchr(strchr(buf, '\n') + 1, '\n'));	/* appended */
	assert_int_equal(achain_verify(buf, (size_t)n, NULL, NULL, NULL, &res), 0);
	assert_int_equal(res.records, 4);
	assert_int_equal(res.lines, 4);
	assert_int_equal(res.problems, 0);
	assert_non_null(strstr(buf, "\"seq\":4,\"prev\":\""));

	/* Never through a symlink; never a file others may write. */
	assert_int_equal(symlink(path, link), 0);
	strcpy(o.audit_file, link);
	assert_int_equal(audit_open(&o, uuid, &a, msg, sizeof(msg)), -ELOOP);
	chmod(path, 0622);
	strcpy(o.audit_file, path);
	assert_int_equal(audit_open(&o, uuid, &a, msg, sizeof(msg)), -EPERM);
	strcpy(o.audit_file, "relative.audit");
	assert_int_equal(audit_open(&o, uuid, &a, msg, sizeof(msg)), -EINVAL);
	unlink(link);
	unlink(path);
	rmdir(dir);
}

struct writer {
	struct audit *a;
	int err;
};

static void *write_one(void *arg)
{
	struct audit_event ev = { .event = "mount" };
	struct writer *w = arg;

	audit_self(&ev);
	w->err = audit_log(w->a, &ev);
	return NULL;
}

/*
 * Another process holds the log's lock, has read its last record and is
 * about to append: a writer that starts meanwhile must wait, then chain
 * to that record.  Without the lock both would take the same number (the
 * pause only makes that likely; with the lock the test cannot fail).
 */
static void test_lock(void **state)
{
	char dir[] = "/tmp/atr-audit-XXXXXX", path[64], buf[4096];
	struct vol_options o = { .audit_syslog = false };
	uint8_t uuid[VOL_UUID_LEN] = { 0 };
	struct achain_link link;
	struct achain_result res;
	struct writer w;
	pthread_t t;
	char rec[512];
	char msg[256];
	ssize_t n;
	size_t k;
	bool nl;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/v.audit", dir);
	strcpy(o.audit_file, path);
	assert_int_equal(audit_open(&o, uuid, &w.a, msg, sizeof(msg)), 0);
	write_one(&w);
	assert_int_equal(w.err, 0);
	fd = open(path, O_RDWR | O_APPEND);
	assert_true(fd >= 0);
	/* The other writer: lock, read the last record, (pause,) append. */
	assert_int_equal(flock(fd, LOCK_EX), 0);
	n = pread(fd, buf, sizeof(buf), 0);
	assert_true(n > 0);
	assert_int_equal(achain_next(buf, (size_t)n, true, &link, &nl), 0);
	k = (size_t)snprintf(rec, sizeof(rec), "{\"event\":\"other\"}");
	k = achain_seal(rec, k, sizeof(rec) - 1, &link);
	rec[k++] = '\n';
	assert_int_equal(pthread_create(&t, NULL, write_one, &w), 0);
	usleep(200000);
	assert_int_equal(write(fd, rec, k), (ssize_t)k);
	flock(fd, LOCK_UN);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(w.err, 0);
	audit_close(w.a);
	n = pread(fd, buf, sizeof(buf), 0);
	close(fd);
	assert_true(n > 0);
	assert_int_equal(achain_verify(buf, (size_t)n, NULL, NULL, NULL, &res), 0);
	assert_int_equal(res.records, 3);
	assert_int_equal(res.problems, 0);
	unlink(path);
	rmdir(dir);
}

/*
 * Every handler but set-up, teardown and the forgets is a wrapper, with a
 * policy or without: the wrappers are also where a locked mount refuses
 * requests (fs/revoke.c), and the releases pass through that gate too.
 */
static void test_policy_complete(void **state)
{
	static const size_t exempt[] = {
		offsetof(struct fuse_lowlevel_ops, init),
		offsetof(struct fuse_lowlevel_ops, destroy),
		offsetof(struct fuse_lowlevel_ops, forget),
		offsetof(struct fuse_lowlevel_ops, forget_multi),
	};
	struct fuse_lowlevel_ops with;
	struct vol_options o = { .nuids = 1, .allow_uids = { 1000 } };
	struct atr_mount m = { .opt = &o };
	struct fuse_lowlevel_ops ops;
	void (*a)(void), (*b)(void);
	size_t off, i, wrapped = 0;
	bool ex;

	(void)state;
	assert_int_equal(policy_ops(&m, &ops), 0);
	for (off = 0; off + sizeof(a) <= sizeof(ops); off += sizeof(a)) {
		memcpy(&a, (const char *)&atr_ops + off, sizeof(a));
		memcpy(&b, (const char *)&ops + off, sizeof(b));
		for (ex = false, i = 0; i < sizeof(exempt) / sizeof(exempt[0]); i++)
			ex |= exempt[i] == off;
		if (!a)
			assert_null(b);		/* nothing invented */
		else if (ex)
			assert_ptr_equal(a, b);
		else
			assert_ptr_not_equal(a, b), wrapped++;
	}
	assert_true(wrapped >= 30);
	/* No policy and no audit: the same wrappers. */
	with = ops;
	m.opt = NULL;
	assert_int_equal(policy_ops(&m, &ops), 0);
	assert_memory_equal(&ops, &with, sizeof(ops));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_lock),
		cmocka_unit_test(test_policy_complete),
	};

	return cmocka_run_group_tests_name("audit and policy", tests, NULL, NULL);
}
