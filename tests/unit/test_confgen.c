// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/unit/test_confgen.c - volume/confgen.c: an older atrestfs.conf
 * is refused once a newer one was seen on this machine.
 *
 * Each test gets a fresh state directory under /tmp and a config whose
 * generation it sets, as mount and the commands that store would hand it
 * over after the MAC verified; the record is edited as someone who can
 * write the state directory but has no key would.
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../crypto/aead.h"
#include "../../crypto/secmem.h"
#include "../../volume/volume.h"

struct fixture {
	char top[32];		/* mkdtemp: BASE */
	char record[160];	/* BASE/UUID/config */
	size_t live;
	struct kek *kek;
	struct state_dir sd;
	struct vol_config cfg;
	struct confgen_seen seen;
	char msg[512];
};

static int setup(void **state)
{
	static struct fixture f;
	char uuid[VOL_UUID_STR_LEN + 1];

	memset(&f, 0, sizeof(f));
	f.live = secmem_live();
	strcpy(f.top, "/tmp/atr-confgen-XXXXXX");
	if (!mkdtemp(f.top))
		return -1;
	if (rand_fill(f.cfg.uuid, VOL_UUID_LEN) ||
	    kek_generate(f.cfg.uuid, &f.kek))
		return -1;
	vol_uuid_str(f.cfg.uuid, uuid);
	snprintf(f.record, sizeof(f.record), "%s/%s/" CONFGEN_RECORD, f.top,
		 uuid);
	if (state_open(&f.sd, f.top, f.cfg.uuid, f.msg, sizeof(f.msg)))
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

/* confgen_check() of a config at generation @gen. */
static int check(struct fixture *f, uint32_t gen)
{
	strcpy(f->msg, "stale");
	f->cfg.generation = gen;
	return confgen_check(&f->sd, &f->cfg, f->kek, &f->seen, f->msg,
			     sizeof(f->msg));
}

/* The generation recorded, read back through state.c; -1 if none. */
static long long recorded(struct fixture *f)
{
	char body[64], msg[256];
	int err = state_get(&f->sd, f->kek, CONFGEN_RECORD, body, sizeof(body),
			    msg, sizeof(msg));

	if (err == -ENOENT)
		return -1;
	assert_int_equal(err, 0);
	assert_int_equal(strncmp(body, "generation ", 11), 0);
	return strtoll(body + 11, NULL, 10);
}

/* First time here: accepted and recorded; then raised, never lowered. */
static void test_first_then_raise(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(check(f, 3), 0);
	assert_string_equal(f->msg, "");
	assert_int_equal(f->seen.err, -ENOENT);
	assert_int_equal(recorded(f), 3);

	assert_int_equal(check(f, 3), 0);
	assert_int_equal(f->seen.err, 0);
	assert_int_equal(f->seen.gen, 3);
	assert_string_equal(f->msg, "");
	assert_int_equal(recorded(f), 3);

	assert_int_equal(check(f, 7), 0);
	assert_int_equal(f->seen.gen, 3);
	assert_int_equal(recorded(f), 7);
	assert_int_equal(check(f, UINT32_MAX), 0);
	assert_int_equal(recorded(f), UINT32_MAX);
}

/* An older config is refused, saying both generations and where. */
static void test_older_refused(void **state)
{
	struct fixture *f = *state;
	char want[64];

	assert_int_equal(check(f, 7), 0);
	assert_int_equal(check(f, 5), -ESTALE);
	print_message("  msg: %s\n", f->msg);
	assert_int_equal(f->seen.err, 0);
	assert_int_equal(f->seen.gen, 7);
	assert_non_null(strstr(f->msg, "generation 5, but generation 7 was seen"));
	assert_non_null(strstr(f->msg, f->record));
	assert_int_equal(recorded(f), 7);
	snprintf(want, sizeof(want), "generation %u", 6u);
	assert_int_equal(check(f, 6), -ESTALE);
	assert_non_null(strstr(f->msg, want));
	assert_int_equal(check(f, 7), 0);
}

/* A config from before generations is generation 0, like any other. */
static void test_generation_zero(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(check(f, 0), 0);
	assert_int_equal(f->seen.err, -ENOENT);
	assert_int_equal(recorded(f), 0);
	assert_int_equal(check(f, 0), 0);
	assert_int_equal(check(f, 1), 0);
	assert_int_equal(check(f, 0), -ESTALE);
}

/* A record changed without the key: refused, and left for the user. */
static void test_forged_record(void **state)
{
	struct fixture *f = *state;
	char text[256];
	ssize_t n;
	int fd;

	assert_int_equal(check(f, 7), 0);
	fd = open(f->record, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	n = pread(fd, text, sizeof(text) - 1, 0);
	assert_true(n > 0);
	text[n] = '\0';
	/* The attacker wants an older config accepted: "7" to "1". */
	*strchr(text, '7') = '1';
	assert_int_equal(pwrite(fd, text, (size_t)n, 0), n);
	close(fd);
	assert_int_equal(check(f, 5), -EBADMSG);
	print_message("  msg: %s\n", f->msg);
	assert_int_equal(f->seen.err, -EBADMSG);
	assert_non_null(strstr(f->msg, f->record));
	assert_non_null(strstr(f->msg, "fails its MAC check"));
	/* Not overwritten, even by a newer config: the user decides. */
	assert_int_equal(check(f, 9), -EBADMSG);
	assert_int_equal(confgen_trust(&f->sd, &f->cfg, f->kek, &f->seen,
				       f->msg, sizeof(f->msg)), 0);
	assert_int_equal(f->seen.err, -EBADMSG);
	assert_int_equal(recorded(f), 9);
}

/* Authentic, but not a generation: refused the same way. */
static void test_malformed_body(void **state)
{
	static const char *const bad[] = {
		"", "generation\n", "generation x\n", "generation -1\n",
		"generation 4294967296\n", "gen 5\n", "generation 5\nmore 1\n",
		"generation 5 \n", "generation  5\n",
		"generation 123456789012345678901234567890\n",
	};
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(state_put(&f->sd, f->kek, CONFGEN_RECORD,
					   bad[i], f->msg, sizeof(f->msg)), 0);
		if (check(f, 5) != -EBADMSG)
			fail_msg("record body '%s' accepted", bad[i]);
		assert_non_null(strstr(f->msg, "does not hold a config generation"));
	}
	assert_int_equal(state_put(&f->sd, f->kek, CONFGEN_RECORD,
				   "generation 0005\n", f->msg,
				   sizeof(f->msg)), 0);
	assert_int_equal(check(f, 5), 0);
	assert_int_equal(f->seen.gen, 5);
}

/* An unsafe record is refused with the fix; trust replaces it. */
static void test_unsafe_record(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(check(f, 3), 0);
	assert_int_equal(chmod(f->record, 0666), 0);
	assert_int_equal(check(f, 3), -EPERM);
	assert_non_null(strstr(f->msg, "chmod go-w"));
	assert_int_equal(confgen_trust(&f->sd, &f->cfg, f->kek, &f->seen,
				       f->msg, sizeof(f->msg)), 0);
	assert_int_equal(f->seen.err, -EPERM);
	assert_int_equal(check(f, 3), 0);
}

/* The config is fine even if its record cannot be written: a warning. */
static void test_write_fails(void **state)
{
	struct fixture *f = *state;
	char tmp[200];

	/* A directory at the temporary name: state_put() cannot replace it. */
	snprintf(tmp, sizeof(tmp), "%.*s/.config.tmp",
		 (int)(strrchr(f->record, '/') - f->record), f->record);
	assert_int_equal(mkdir(tmp, 0700), 0);
	assert_int_equal(check(f, 3), 0);
	print_message("  msg: %s\n", f->msg);
	assert_non_null(strstr(f->msg, "cannot write state record"));
	assert_int_equal(recorded(f), -1);
	/* Nothing to write when the record already says as much. */
	assert_int_equal(rmdir(tmp), 0);
	assert_int_equal(check(f, 3), 0);
	assert_int_equal(mkdir(tmp, 0700), 0);
	assert_int_equal(check(f, 3), 0);
	assert_string_equal(f->msg, "");
	assert_int_equal(rmdir(tmp), 0);
}

/* trust records the config as it is, lower than what was seen too. */
static void test_trust(void **state)
{
	struct fixture *f = *state;

	f->cfg.generation = 2;
	assert_int_equal(confgen_trust(&f->sd, &f->cfg, f->kek, &f->seen,
				       f->msg, sizeof(f->msg)), 0);
	assert_int_equal(f->seen.err, -ENOENT);
	assert_int_equal(recorded(f), 2);
	assert_int_equal(check(f, 7), 0);
	assert_int_equal(check(f, 2), -ESTALE);
	assert_int_equal(confgen_trust(&f->sd, &f->cfg, f->kek, &f->seen,
				       f->msg, sizeof(f->msg)), 0);
	assert_int_equal(f->seen.err, 0);
	assert_int_equal(f->seen.gen, 7);
	assert_int_equal(recorded(f), 2);
	assert_int_equal(check(f, 2), 0);
}

/* Another volume's KEK does not read this volume's record. */
static void test_other_kek(void **state)
{
	struct fixture *f = *state;
	struct kek *mine = f->kek, *other;

	assert_int_equal(check(f, 4), 0);
	assert_int_equal(kek_generate(f->cfg.uuid, &other), 0);
	f->kek = other;
	assert_int_equal(check(f, 9), -EBADMSG);
	f->kek = mine;
	kek_free(other);
	assert_int_equal(recorded(f), 4);
}

#define T(fn)	cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_first_then_raise),
		T(test_older_refused),
		T(test_generation_zero),
		T(test_forged_record),
		T(test_malformed_body),
		T(test_unsafe_record),
		T(test_write_fails),
		T(test_trust),
		T(test_other_kek),
	};

	return cmocka_run_group_tests_name("confgen: an older atrestfs.conf refused",
					   tests, NULL, NULL);
}
