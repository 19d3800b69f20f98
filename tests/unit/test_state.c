// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/unit/test_state.c - volume/state.c: where a volume's state
 * directory is, that nobody else can write it, and its authenticated
 * records.
 *
 * Each test gets a fresh directory under /tmp as BASE (the --state-dir
 * of the command line), a fixed KEK and UUID (docs/format.md 3.5), and
 * then edits records and modes as someone else who can write the state
 * directory would.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../crypto/secmem.h"
#include "../../volume/volume.h"

/* docs/format.md 3.5's KEK and UUID; state_mac_key 942b7bf6... */
static const uint8_t uuid[VOL_UUID_LEN] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x46, 0x77,
	0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
};
#define UUID_STR	"00112233-4455-4677-8899-aabbccddeeff"

/* The record "config" with body "generation 7\n", byte for byte. */
#define KNOWN_RECORD \
	"atrestfs state v1\n" \
	"generation 7\n" \
	"mac a2dba9f9b03e43374369410206b9ad572a3ce4b82a9804d497d3b5340dc97883\n"

struct fixture {
	char top[32];		/* mkdtemp; removed with all below it */
	char base[64];		/* top/base: BASE, made by state_open() */
	char dir[128];		/* base/UUID */
	size_t live;
	struct kek *kek;
	struct state_dir sd;
	char body[STATE_RECORD_MAX + 1];
	char msg[512];
};

static int setup(void **state)
{
	static struct fixture f;
	uint8_t raw[KEK_LEN], id[KEK_ID_LEN] = { 0 };
	unsigned int i;

	memset(&f, 0, sizeof(f));
	f.sd.fd = -1;
	f.live = secmem_live();
	strcpy(f.top, "/tmp/atr-state-XXXXXX");
	if (!mkdtemp(f.top))
		return -1;
	snprintf(f.base, sizeof(f.base), "%s/base", f.top);
	snprintf(f.dir, sizeof(f.dir), "%s/" UUID_STR, f.base);
	for (i = 0; i < KEK_LEN; i++)
		raw[i] = (uint8_t)i;
	if (kek_derive(raw, id, uuid, &f.kek))
		return -1;
	*state = &f;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int err = 0;

	state_close(&f->sd);
	if (nftw(f->top, rm_one, 16, FTW_DEPTH | FTW_PHYS))
		err = -1;
	kek_free(f->kek);
	if (secmem_live() != f->live)
		err = -1;
	return err;
}

static int open_sd(struct fixture *f)
{
	state_close(&f->sd);
	f->msg[0] = '\0';
	return state_open(&f->sd, f->base, uuid, f->msg, sizeof(f->msg));
}

/* state_open() fails with @err, closed, and @needle in its message. */
static void open_fails(struct fixture *f, int err, const char *needle)
{
	assert_int_equal(open_sd(f), err);
	print_message("  msg: %s\n", f->msg);
	assert_int_equal(f->sd.fd, -1);
	if (!strstr(f->msg, needle))
		fail_msg("'%s' not in message '%s'", needle, f->msg);
}

static int get(struct fixture *f, const char *name)
{
	f->msg[0] = '\0';
	return state_get(&f->sd, f->kek, name, f->body, sizeof(f->body),
			 f->msg, sizeof(f->msg));
}

/* state_get() fails with @err and @needle in its message. */
static void get_fails(struct fixture *f, const char *name, int err,
		      const char *needle)
{
	assert_int_equal(get(f, name), err);
	print_message("  msg: %s\n", f->msg);
	if (!strstr(f->msg, needle))
		fail_msg("'%s' not in message '%s'", needle, f->msg);
}

static int put(struct fixture *f, const char *name, const char *body)
{
	return state_put(&f->sd, f->kek, name, body, f->msg, sizeof(f->msg));
}

/* f->dir/@name; the last four results stay valid. */
static char *path_in(struct fixture *f, const char *name)
{
	static char path[4][256];
	static unsigned int next;
	char *p = path[next++ % 4];

	snprintf(p, sizeof(path[0]), "%s/%s", f->dir, name);
	return p;
}

static void write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static size_t read_file(const char *path, char *buf, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, max - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	return (size_t)n;
}

static unsigned int mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

/* ---- where ---- */

static void test_base(void **state)
{
	char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char out[STATE_PATH_MAX], msg[256], *long_base;

	(void)state;
	xdg = xdg ? strdup(xdg) : NULL;
	home = home ? strdup(home) : NULL;
	assert_int_equal(state_base("/srv/st", 1000, out, sizeof(out), msg,
				    sizeof(msg)), 0);
	assert_string_equal(out, "/srv/st");
	assert_int_equal(state_base("/srv/st", 0, out, sizeof(out), msg,
				    sizeof(msg)), 0);
	assert_string_equal(out, "/srv/st");
	assert_int_equal(state_base("st", 0, out, sizeof(out), msg,
				    sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "absolute"));

	/* Root: /var/lib, whatever the environment says. */
	setenv("XDG_STATE_HOME", "/x", 1);
	setenv("HOME", "/home/u", 1);
	assert_int_equal(state_base(NULL, 0, out, sizeof(out), msg,
				    sizeof(msg)), 0);
	assert_string_equal(out, "/var/lib/atrestfs");
	assert_int_equal(state_base("", 0, out, sizeof(out), msg,
				    sizeof(msg)), 0);
	assert_string_equal(out, "/var/lib/atrestfs");
	/* Others: XDG_STATE_HOME if absolute, else ~/.local/state. */
	assert_int_equal(state_base(NULL, 1000, out, sizeof(out), msg,
				    sizeof(msg)), 0);
	assert_string_equal(out, "/x/atrestfs");
	setenv("XDG_STATE_HOME", "relative", 1);
	assert_int_equal(state_base(NULL, 1000, out, sizeof(out), msg,
				    sizeof(msg)), 0);
	assert_string_equal(out, "/home/u/.local/state/atrestfs");
	unsetenv("XDG_STATE_HOME");
	assert_int_equal(state_base(NULL, 1000, out, sizeof(out), msg,
				    sizeof(msg)), 0);
	assert_string_equal(out, "/home/u/.local/state/atrestfs");
	unsetenv("HOME");
	assert_int_equal(state_base(NULL, 1000, out, sizeof(out), msg,
				    sizeof(msg)), -ENOENT);
	assert_non_null(strstr(msg, "HOME"));
	/* Room is left for "/UUID". */
	long_base = malloc(STATE_PATH_MAX);
	assert_non_null(long_base);
	memset(long_base, 'a', STATE_PATH_MAX - 30);
	long_base[0] = '/';
	long_base[STATE_PATH_MAX - 30] = '\0';
	assert_int_equal(state_base(long_base, 0, out, sizeof(out), msg,
				    sizeof(msg)), -ENAMETOOLONG);
	free(long_base);

	if (xdg)
		setenv("XDG_STATE_HOME", xdg, 1);
	if (home)
		setenv("HOME", home, 1);
	free(xdg);
	free(home);
}

/* BASE and BASE/UUID are made 0700, missing parents too. */
static void test_open_makes(void **state)
{
	struct fixture *f = *state;

	snprintf(f->base, sizeof(f->base), "%s/a/b", f->top);
	snprintf(f->dir, sizeof(f->dir), "%s/" UUID_STR, f->base);
	assert_int_equal(open_sd(f), 0);
	assert_true(f->sd.fd >= 0);
	assert_string_equal(f->sd.path, f->dir);
	assert_memory_equal(f->sd.uuid, uuid, VOL_UUID_LEN);
	assert_int_equal(mode_of(f->dir), 0700);
	assert_int_equal(mode_of(f->base), 0700);
	snprintf(f->body, sizeof(f->body), "%s/a", f->top);
	assert_int_equal(mode_of(f->body), 0700);
	/* Opened again as it is. */
	assert_int_equal(open_sd(f), 0);
	/* An existing directory that is ours and not writable by others. */
	assert_int_equal(chmod(f->dir, 0755), 0);
	assert_int_equal(open_sd(f), 0);
	state_close(&f->sd);
	state_close(&f->sd);	/* twice is harmless */
}

/* ---- records ---- */

static void test_known_record(void **state)
{
	struct fixture *f = *state;
	char text[512];
	struct stat st;

	assert_int_equal(open_sd(f), 0);
	assert_int_equal(put(f, "config", "generation 7\n"), 0);
	read_file(path_in(f, "config"), text, sizeof(text));
	assert_string_equal(text, KNOWN_RECORD);
	assert_int_equal(mode_of(path_in(f, "config")), 0600);
	assert_int_equal(lstat(path_in(f, ".config.tmp"), &st), -1);
	assert_int_equal(get(f, "config"), 0);
	assert_string_equal(f->body, "generation 7\n");
	/* Replaced whole; an empty body is a body. */
	assert_int_equal(put(f, "config", "generation 8\nother x y\n"), 0);
	assert_int_equal(get(f, "config"), 0);
	assert_string_equal(f->body, "generation 8\nother x y\n");
	assert_int_equal(put(f, "empty", ""), 0);
	assert_int_equal(get(f, "empty"), 0);
	assert_string_equal(f->body, "");
}

static void test_missing(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(open_sd(f), 0);
	strcpy(f->msg, "untouched");
	assert_int_equal(get(f, "config"), -ENOENT);
}

/* Replace @old by @new in record @name, as someone without the key. */
static void edit(struct fixture *f, const char *name, const char *old,
		 const char *new)
{
	char text[STATE_RECORD_MAX + 512], out[sizeof(text) + 512], *p;

	read_file(path_in(f, name), text, sizeof(text));
	p = strstr(text, old);
	if (!p)
		fail_msg("'%s' not in:\n%s", old, text);
	snprintf(out, sizeof(out), "%.*s%s%s", (int)(p - text), text, new,
		 p + strlen(old));
	write_file(path_in(f, name), out, strlen(out));
}

/* Each edit without the key is refused, and the body is not handed out. */
static void test_tamper(void **state)
{
	static const char *const edits[][2] = {
		{ "generation 7", "generation 9" },
		{ "generation 7\n", "generation 7\ngeneration 9\n" },
		{ "generation 7\n", "" },
		{ "mac a2", "mac b2" },
		{ "mac a2dba9f9b03e43374369410206b9ad572a3ce4b82a9804d497d3b5340dc97883\n",
		  "" },
		{ "mac a2", "mac A2" },
		{ "83\n", "83" },
		{ "83\n", "83\n\n" },
		{ "atrestfs state v1", "atrestfs state v2" },
		{ "atrestfs state v1\n", "" },
		{ "generation 7", "generation\t7" },
	};
	struct fixture *f = *state;
	size_t i;

	assert_int_equal(open_sd(f), 0);
	for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		assert_int_equal(put(f, "config", "generation 7\n"), 0);
		edit(f, "config", edits[i][0], edits[i][1]);
		strcpy(f->body, "untouched");
		if (get(f, "config") != -EBADMSG)
			fail_msg("edit %zu accepted: %s", i, f->msg);
		assert_string_equal(f->body, "untouched");
		assert_non_null(strstr(f->msg, f->dir));
	}
	/* A NUL byte, an empty file, a huge one. */
	write_file(path_in(f, "config"), "atrestfs state v1\n\0", 19);
	get_fails(f, "config", -EBADMSG, "not an atrestfs state record");
	write_file(path_in(f, "config"), "", 0);
	get_fails(f, "config", -EBADMSG, "not an atrestfs state record");
	memset(f->body, '\n', sizeof(f->body));
	write_file(path_in(f, "config"), f->body, sizeof(f->body));
	get_fails(f, "config", -EBADMSG, "larger than");
}

/* A record is bound to its name and to the volume's KEK. */
static void test_bound(void **state)
{
	struct fixture *f = *state;
	uint8_t raw[KEK_LEN] = { 1 }, id[KEK_ID_LEN] = { 0 };
	struct kek *other;
	char text[512];

	assert_int_equal(open_sd(f), 0);
	assert_int_equal(put(f, "config", "generation 7\n"), 0);
	read_file(path_in(f, "config"), text, sizeof(text));
	write_file(path_in(f, "files"), text, strlen(text));
	get_fails(f, "files", -EBADMSG, "fails its MAC check");
	assert_int_equal(kek_derive(raw, id, uuid, &other), 0);
	assert_int_equal(state_get(&f->sd, other, "config", f->body,
				   sizeof(f->body), f->msg, sizeof(f->msg)),
			 -EBADMSG);
	kek_free(other);
	assert_int_equal(get(f, "config"), 0);
}

/*
 * During a KEK rotation a record MACed under the old KEK verifies through
 * the new one's ->retiring, and is then rewritten under the new key.
 */
static void test_retiring(void **state)
{
	struct fixture *f = *state;
	uint8_t raw[KEK_LEN] = { 1 }, id[KEK_ID_LEN] = { 2 };
	struct kek *cur;

	assert_int_equal(open_sd(f), 0);
	assert_int_equal(put(f, "config", "generation 7\n"), 0);
	assert_int_equal(kek_derive(raw, id, uuid, &cur), 0);
	assert_int_equal(state_get(&f->sd, cur, "config", f->body,
				   sizeof(f->body), f->msg, sizeof(f->msg)),
			 -EBADMSG);
	cur->retiring = f->kek;
	assert_int_equal(state_get(&f->sd, cur, "config", f->body,
				   sizeof(f->body), f->msg, sizeof(f->msg)), 0);
	assert_string_equal(f->body, "generation 7\n");
	assert_int_equal(state_put(&f->sd, cur, "config", "generation 8\n",
				   f->msg, sizeof(f->msg)), 0);
	cur->retiring = NULL;		/* the fixture's */
	assert_int_equal(state_get(&f->sd, cur, "config", f->body,
				   sizeof(f->body), f->msg, sizeof(f->msg)), 0);
	assert_int_equal(get(f, "config"), -EBADMSG);
	kek_free(cur);
}

/* A record must be a regular file of ours that no one else may write. */
static void test_record_unsafe(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(open_sd(f), 0);
	assert_int_equal(put(f, "config", "generation 7\n"), 0);
	assert_int_equal(rename(path_in(f, "config"), path_in(f, "real")), 0);
	assert_int_equal(symlink("real", path_in(f, "config")), 0);
	get_fails(f, "config", -EPERM, "symbolic link");
	assert_int_equal(unlink(path_in(f, "config")), 0);
	assert_int_equal(rename(path_in(f, "real"), path_in(f, "config")), 0);
	assert_int_equal(chmod(path_in(f, "config"), 0620), 0);
	get_fails(f, "config", -EPERM, "chmod go-w");
	assert_int_equal(chmod(path_in(f, "config"), 0602), 0);
	get_fails(f, "config", -EPERM, "writable by group or others");
	/* Readable by others is no harm: a record is not secret. */
	assert_int_equal(chmod(path_in(f, "config"), 0644), 0);
	assert_int_equal(get(f, "config"), 0);
	assert_int_equal(unlink(path_in(f, "config")), 0);
	assert_int_equal(mkfifo(path_in(f, "config"), 0600), 0);
	get_fails(f, "config", -EPERM, "not a regular file");
	assert_int_equal(unlink(path_in(f, "config")), 0);
	assert_int_equal(mkdir(path_in(f, "config"), 0700), 0);
	get_fails(f, "config", -EPERM, "not a regular file");
}

/* BASE and BASE/UUID: never a link, never writable by others. */
static void test_dir_unsafe(void **state)
{
	struct fixture *f = *state;
	char real[128];

	assert_int_equal(open_sd(f), 0);
	assert_int_equal(chmod(f->dir, 0770), 0);
	open_fails(f, -EPERM, "chmod go-w");
	assert_int_equal(chmod(f->dir, 0707), 0);
	open_fails(f, -EPERM, "writable by group or others (mode 0707)");
	assert_int_equal(chmod(f->dir, 0700), 0);
	assert_int_equal(chmod(f->base, 0777), 0);
	open_fails(f, -EPERM, f->base);
	assert_int_equal(chmod(f->base, 0700), 0);
	assert_int_equal(open_sd(f), 0);

	/* A symbolic link at BASE/UUID, then at BASE. */
	snprintf(real, sizeof(real), "%s/real", f->base);
	assert_int_equal(rename(f->dir, real), 0);
	assert_int_equal(symlink("real", f->dir), 0);
	open_fails(f, -EPERM, "symbolic link");
	assert_int_equal(unlink(f->dir), 0);
	assert_int_equal(rename(real, f->dir), 0);
	snprintf(real, sizeof(real), "%s/realbase", f->top);
	assert_int_equal(rename(f->base, real), 0);
	assert_int_equal(symlink("realbase", f->base), 0);
	open_fails(f, -EPERM, "symbolic link");
	assert_int_equal(unlink(f->base), 0);
	assert_int_equal(rename(real, f->base), 0);
	/* A file where the directory should be. */
	assert_int_equal(rmdir(f->dir), 0);
	write_file(f->dir, "x", 1);
	open_fails(f, -EPERM, f->dir);
	assert_int_equal(unlink(f->dir), 0);
	assert_int_equal(open_sd(f), 0);
}

/* Another user's directory is refused even when no one else may write it. */
static void test_dir_not_ours(void **state)
{
	struct fixture *f = *state;

	if (geteuid() == 0) {
		assert_int_equal(open_sd(f), 0);
		assert_int_equal(chown(f->dir, 65534, 65534), 0);
		open_fails(f, -EPERM, "belongs to uid 65534, not to uid 0");
		assert_int_equal(chown(f->dir, 0, 0), 0);
		assert_int_equal(open_sd(f), 0);
		assert_int_equal(put(f, "config", "generation 7\n"), 0);
		assert_int_equal(chown(path_in(f, "config"), 65534, 65534), 0);
		get_fails(f, "config", -EPERM, "belongs to uid 65534");
	} else {
		/* / belongs to root, mode 0755. */
		strcpy(f->base, "/");
		open_fails(f, -EPERM, "belongs to uid 0");
	}
}

static void test_names(void **state)
{
	static const char *const bad[] = { "", ".config", "../config", "a/b",
					   "Config", "a b", "con.fig" };
	struct fixture *f = *state;
	char longname[STATE_NAME_MAX + 2];
	size_t i;

	assert_int_equal(open_sd(f), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(put(f, bad[i], "x\n"), -EINVAL);
		assert_int_equal(get(f, bad[i]), -EINVAL);
	}
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(put(f, longname, "x\n"), -EINVAL);
	longname[STATE_NAME_MAX] = '\0';
	assert_int_equal(put(f, longname, "x\n"), 0);
	assert_int_equal(put(f, "ok_name-1", "x\n"), 0);
	/* Bodies: lines of printable ASCII. */
	assert_int_equal(put(f, "config", "no newline"), -EINVAL);
	assert_int_equal(put(f, "config", "tab\there\n"), -EINVAL);
	assert_int_equal(put(f, "config", "caf\xc3\xa9\n"), -EINVAL);
	memset(f->body, 'x', STATE_RECORD_MAX);
	f->body[STATE_RECORD_MAX - 1] = '\n';
	f->body[STATE_RECORD_MAX] = '\0';
	assert_int_equal(put(f, "config", f->body), -EINVAL);
	assert_int_equal(get(f, "config"), -ENOENT);
}

/* Whatever sits at the names is replaced, never written through. */
static void test_put_over_links(void **state)
{
	struct fixture *f = *state;
	char victim[128], text[64];

	assert_int_equal(open_sd(f), 0);
	snprintf(victim, sizeof(victim), "%s/victim", f->top);
	write_file(victim, "victim", 6);
	assert_int_equal(symlink(victim, path_in(f, ".config.tmp")), 0);
	assert_int_equal(put(f, "config", "generation 7\n"), 0);
	assert_int_equal(symlink(victim, path_in(f, "other")), 0);
	assert_int_equal(put(f, "other", "generation 7\n"), 0);
	read_file(victim, text, sizeof(text));
	assert_string_equal(text, "victim");
	assert_int_equal(get(f, "config"), 0);
	assert_int_equal(get(f, "other"), 0);
}

static void test_small_buffer(void **state)
{
	struct fixture *f = *state;
	char body[8];

	assert_int_equal(open_sd(f), 0);
	assert_int_equal(put(f, "config", "generation 7\n"), 0);
	assert_int_equal(state_get(&f->sd, f->kek, "config", body,
				   sizeof(body), f->msg, sizeof(f->msg)),
			 -ENOSPC);
}

/* The lock keeps out another process's read and write of a record. */
static void test_lock(void **state)
{
	struct fixture *f = *state;
	int fd;

	assert_int_equal(open_sd(f), 0);
	fd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(state_lock(&f->sd), 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), -1);
	assert_int_equal(errno, EWOULDBLOCK);
	state_unlock(&f->sd);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	close(fd);
}

/* ---- reading without the key (atrestfs status) ---- */

static int peek(struct fixture *f, const char *name)
{
	f->msg[0] = '\0';
	return state_peek(f->base, uuid, name, f->body, sizeof(f->body),
			  f->msg, sizeof(f->msg));
}

/*
 * state_peek() hands out a body without its MAC checked, but only of a
 * record laid out as one, and makes nothing that is missing.
 */
static void test_peek(void **state)
{
	struct fixture *f = *state;
	struct stat st;

	assert_int_equal(peek(f, "config"), -ENOENT);
	assert_int_equal(lstat(f->base, &st), -1);
	assert_int_equal(open_sd(f), 0);
	assert_int_equal(peek(f, "config"), -ENOENT);
	assert_int_equal(put(f, "config", "generation 7\n"), 0);
	assert_int_equal(peek(f, "config"), 0);
	assert_string_equal(f->body, "generation 7\n");
	/* Not authenticated: an edit shows, as status warns. */
	edit(f, "config", "generation 7", "generation 9");
	assert_int_equal(peek(f, "config"), 0);
	assert_string_equal(f->body, "generation 9\n");
	/* Not a record, someone else's or writable by others: refused. */
	edit(f, "config", "atrestfs state v1", "atrestfs state v2");
	assert_int_equal(peek(f, "config"), -EBADMSG);
	assert_int_equal(put(f, "config", "generation 7\n"), 0);
	assert_int_equal(chmod(path_in(f, "config"), 0622), 0);
	assert_int_equal(peek(f, "config"), -EPERM);
	assert_non_null(strstr(f->msg, "writable by group or others"));
	assert_int_equal(chmod(path_in(f, "config"), 0600), 0);
	assert_int_equal(chmod(f->dir, 0777), 0);
	assert_int_equal(peek(f, "config"), -EPERM);
	assert_int_equal(chmod(f->dir, 0700), 0);
	assert_int_equal(peek(f, "../config"), -EINVAL);
	assert_int_equal(peek(f, "Config"), -EINVAL);
}

static void test_run_base(void **state)
{
	char *xdg = getenv("XDG_RUNTIME_DIR"), out[STATE_PATH_MAX], msg[256];

	(void)state;
	xdg = xdg ? strdup(xdg) : NULL;
	assert_int_equal(state_run_base(0, out, sizeof(out), msg, sizeof(msg)),
			 0);
	assert_string_equal(out, STATE_RUN_BASE);
	setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
	assert_int_equal(state_run_base(1000, out, sizeof(out), msg,
					sizeof(msg)), 0);
	assert_string_equal(out, "/run/user/1000/atrestfs");
	setenv("XDG_RUNTIME_DIR", "run/user/1000", 1);
	assert_int_equal(state_run_base(1000, out, sizeof(out), msg,
					sizeof(msg)), -ENOENT);
	unsetenv("XDG_RUNTIME_DIR");
	assert_int_equal(state_run_base(1000, out, sizeof(out), msg,
					sizeof(msg)), -ENOENT);
	assert_non_null(strstr(msg, "XDG_RUNTIME_DIR"));
	if (xdg)
		setenv("XDG_RUNTIME_DIR", xdg, 1);
	free(xdg);
}

#define T(fn)	cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base),
		T(test_open_makes),
		T(test_known_record),
		T(test_missing),
		T(test_tamper),
		T(test_bound),
		T(test_retiring),
		T(test_record_unsafe),
		T(test_dir_unsafe),
		T(test_dir_not_ours),
		T(test_names),
		T(test_put_over_links),
		T(test_small_buffer),
		T(test_lock),
		T(test_peek),
		cmocka_unit_test(test_run_base),
	};

	return cmocka_run_group_tests_name("state: this machine's records of a volume",
					   tests, NULL, NULL);
}
