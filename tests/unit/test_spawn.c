// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/unit/test_spawn.c - spawn_run(), the one way atrestfs runs a
 * program: stdin fed and stdout captured, stderr handed back by line, the
 * exit status (SIGCHLD ignored too), a deadline that kills, no deadline at
 * all, output beyond the buffer killed or read to its end, the process
 * group and the environment each mode gives; and what the program
 * started: killed with it at the deadline even after setsid(), killed when
 * it holds our pipes after the program ended, killed when we go away,
 * left alone when the program ended well without it.  The programs are
 * /bin/sh one-liners.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../keyprov/keyprov_private.h"

static char lines[4096];

static void save_line(void *arg, const char *line)
{
	size_t n = strlen(lines);

	(void)arg;
	snprintf(lines + n, sizeof(lines) - n, "%s|", line);
}

/* Run "sh -c @script" with @cmd's other settings; 0 or -errno. */
static int run_sh(struct spawn_cmd *cmd, const char *script,
		  struct spawn_result *res)
{
	static char *argv[4];

	argv[0] = "sh";
	argv[1] = "-c";
	argv[2] = (char *)script;
	argv[3] = NULL;
	cmd->path = "/bin/sh";
	cmd->argv = argv;
	return spawn_run(cmd, res);
}

/* Running, not a zombie nor gone. */
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

/* Wait up to a second for @pid to go; kill it if it does not.  Gone? */
static bool gone(pid_t pid)
{
	int i;

	for (i = 0; i < 100 && alive(pid); i++)
		usleep(10000);
	if (!alive(pid))
		return true;
	kill(pid, SIGKILL);
	return false;
}

static long long elapsed_ms(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a->tv_sec) * 1000LL +
	       (b.tv_nsec - a->tv_nsec) / 1000000;
}

static void test_exchange(void **state)
{
	char out[64];
	struct spawn_cmd cmd = { .flags = SPAWN_ISOLATE, .timeout_ms = 5000,
				 .in = "hello\n", .in_len = 6, .out = out,
				 .out_cap = sizeof(out),
				 .err_line = save_line };
	struct spawn_result res;

	(void)state;
	lines[0] = '\0';
	assert_int_equal(run_sh(&cmd, "read l; echo \"got $l\"; "
				"printf 'one\\n\\ntwo\\001\\n' >&2; exit 3",
				&res), 0);
	assert_string_equal(out, "got hello\n");
	assert_int_equal(res.out_len, 10);
	assert_true(res.status_known);
	assert_true(WIFEXITED(res.status));
	assert_int_equal(WEXITSTATUS(res.status), 3);
	assert_false(res.timed_out);
	assert_false(res.overflow);
	/* Empty lines dropped, control characters made '?'. */
	assert_string_equal(lines, "one|two?|");
}

static void test_not_started(void **state)
{
	char out[8], *argv[] = { "nothing", NULL };
	struct spawn_cmd cmd = { .path = "/nonexistent/program", .argv = argv,
				 .flags = SPAWN_ISOLATE, .timeout_ms = 5000,
				 .out = out, .out_cap = sizeof(out) };
	struct spawn_result res;
	int err;

	(void)state;
	/* Under valgrind, whose posix_spawn forks: the child's exit 127. */
	err = spawn_run(&cmd, &res);
	if (err != -ENOENT) {
		assert_int_equal(err, 0);
		assert_true(res.status_known && WIFEXITED(res.status) &&
			    WEXITSTATUS(res.status) == 127);
	}
}

static void test_deadline(void **state)
{
	char out[64];
	struct spawn_cmd cmd = { .flags = SPAWN_ISOLATE, .timeout_ms = 300,
				 .out = out, .out_cap = sizeof(out) };
	struct spawn_result res;
	struct timespec a;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(run_sh(&cmd, "echo early; sleep 30", &res), 0);
	assert_true(elapsed_ms(&a) < 3000);
	assert_true(res.timed_out);
	assert_string_equal(out, "early\n");
	assert_true(res.status_known);
	assert_true(WIFSIGNALED(res.status));
	assert_int_equal(WTERMSIG(res.status), SIGKILL);
}

/* No deadline: as long as it takes (here a second), never killed. */
static void test_no_deadline(void **state)
{
	char out[64];
	struct spawn_cmd cmd = { .out = out, .out_cap = sizeof(out) };
	struct spawn_result res;

	(void)state;
	assert_int_equal(run_sh(&cmd, "sleep 1; echo late", &res), 0);
	assert_false(res.timed_out);
	assert_string_equal(out, "late\n");
	assert_true(res.status_known);
	assert_int_equal(res.status, 0);
}

/* More than fits, nothing to skip: killed at once, not at the deadline. */
static void test_too_long(void **state)
{
	char out[16];
	struct spawn_cmd cmd = { .flags = SPAWN_ISOLATE, .timeout_ms = 20000,
				 .out = out, .out_cap = sizeof(out) };
	struct spawn_result res;
	struct timespec a;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(run_sh(&cmd, "while :; do echo 0123456789; done",
				&res), 0);
	assert_true(elapsed_ms(&a) < 5000);
	assert_true(res.overflow);
	assert_false(res.timed_out);
	assert_int_equal(res.out_len, sizeof(out) - 1);
	assert_int_equal(strlen(out), sizeof(out) - 1);
}

/*
 * An answer that fills the buffer exactly is whole; skipped output is
 * read to its end, so that the program ends well, not of SIGPIPE; past
 * out_skip we stop reading, and then it may.
 */
static void test_skip(void **state)
{
	char out[8];
	struct spawn_cmd cmd = { .out = out, .out_cap = sizeof(out),
				 .out_skip = 1 << 20 };
	struct spawn_result res;

	(void)state;
	assert_int_equal(run_sh(&cmd, "printf 1234567", &res), 0);
	assert_false(res.overflow);
	assert_string_equal(out, "1234567");
	assert_int_equal(run_sh(&cmd, "echo secret; head -c 300000 /dev/zero",
				&res), 0);
	assert_true(res.overflow);
	assert_string_equal(out, "secret\n");
	assert_true(res.status_known);
	assert_int_equal(res.status, 0);
	cmd.out_skip = 10;
	assert_int_equal(run_sh(&cmd, "echo secret; head -c 300000 /dev/zero",
				&res), 0);
	assert_true(res.overflow);
	assert_true(res.status_known);
	assert_false(WIFEXITED(res.status) && !WEXITSTATUS(res.status));
}

/*
 * SPAWN_ISOLATE: a group of its own, nothing of ours but the environment
 * given.  Without: our group (a terminal's foreground job may prompt on
 * it) and our environment.
 */
static void test_isolate(void **state)
{
	char out[128], *env[] = { "ONLY=this", NULL };
	struct spawn_cmd cmd = { .flags = SPAWN_ISOLATE, .envp = env,
				 .timeout_ms = 5000, .out = out,
				 .out_cap = sizeof(out) };
	const char *script = "echo $$ $(awk '{print $5}' /proc/$$/stat) "
			     "\"$ONLY\" \"$SPAWN_TEST\"";
	struct spawn_result res;
	long pid, pgid;
	char only[32], mine[32];

	(void)state;
	setenv("SPAWN_TEST", "ours", 1);
	assert_int_equal(run_sh(&cmd, script, &res), 0);
	only[0] = mine[0] = '\0';
	assert_true(sscanf(out, "%ld %ld %31s %31s", &pid, &pgid, only,
			   mine) == 3);
	assert_int_equal(pid, pgid);
	assert_string_equal(only, "this");

	cmd.flags = 0;
	cmd.envp = NULL;
	assert_int_equal(run_sh(&cmd, script, &res), 0);
	assert_int_equal(sscanf(out, "%ld %ld %31s", &pid, &pgid, mine), 3);
	assert_int_equal(pgid, (long)getpgrp());
	assert_string_equal(mine, "ours");
	unsetenv("SPAWN_TEST");
}

/* SIGCHLD ignored (inherited so): the reaper still learns how it ended. */
static void test_sigchld_ignored(void **state)
{
	char out[16];
	struct spawn_cmd cmd = { .out = out, .out_cap = sizeof(out) };
	struct spawn_result res;
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;

	(void)state;
	sigemptyset(&ign.sa_mask);
	assert_int_equal(sigaction(SIGCHLD, &ign, &old), 0);
	assert_int_equal(run_sh(&cmd, "exit 3", &res), 0);
	sigaction(SIGCHLD, &old, NULL);
	assert_true(res.status_known);
	assert_true(WIFEXITED(res.status));
	assert_int_equal(WEXITSTATUS(res.status), 3);
}

/*
 * Children that leave the program's group and session (setsid), with
 * none of our pipes, its own and one a double fork gave away: gone once
 * the deadline has passed.
 */
static void test_setsid_at_deadline(void **state)
{
	char out[64];
	struct spawn_cmd cmd = { .flags = SPAWN_ISOLATE, .timeout_ms = 500,
				 .out = out, .out_cap = sizeof(out) };
	struct spawn_result res;
	long a = 0, b = 0;

	(void)state;
	assert_int_equal(run_sh(&cmd,
		"setsid sleep 30 </dev/null >/dev/null 2>&1 & echo $!; "
		"(setsid sleep 30 </dev/null >/dev/null 2>&1 & echo $!); "
		"sleep 30", &res), 0);
	assert_true(res.timed_out);
	assert_int_equal(sscanf(out, "%ld %ld", &a, &b), 2);
	assert_true(gone((pid_t)a));
	assert_true(gone((pid_t)b));
}

/*
 * It ended, but what it started holds our stdout: the run is over at
 * once, deadline or not, and that is killed, setsid() or not.
 */
static void test_holder_killed(void **state)
{
	char out[64];
	struct spawn_cmd cmd = { .out = out, .out_cap = sizeof(out) };
	struct spawn_result res;
	struct timespec t;
	long a = 0;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &t);
	assert_int_equal(run_sh(&cmd, "setsid sleep 30 & echo $!; exit 0",
				&res), 0);
	assert_true(elapsed_ms(&t) < 5000);
	assert_false(res.timed_out);
	assert_true(res.status_known);
	assert_int_equal(res.status, 0);
	assert_int_equal(sscanf(out, "%ld", &a), 1);
	assert_true(gone((pid_t)a));
}

/* Ended well, and what it started holds none of our pipes: left alone. */
static void test_left_alone(void **state)
{
	char out[64];
	struct spawn_cmd cmd = { .flags = SPAWN_ISOLATE, .timeout_ms = 5000,
				 .out = out, .out_cap = sizeof(out) };
	struct spawn_result res;
	long a = 0;
	bool lives;

	(void)state;
	assert_int_equal(run_sh(&cmd, "sleep 30 </dev/null >/dev/null 2>&1 & "
				"echo $!", &res), 0);
	assert_int_equal(sscanf(out, "%ld", &a), 1);
	usleep(200000);
	lives = alive((pid_t)a);
	kill((pid_t)a, SIGKILL);
	assert_true(lives);
}

/*
 * We die mid-run (no deadline, as for --extpass): the program and what it
 * started, setsid() included, die with us.
 */
static void test_runner_dies(void **state)
{
	char path[] = "/tmp/test_spawn.XXXXXX", script[256];
	long a = 0, b = 0;
	pid_t runner;
	FILE *f;
	int fd, i, status;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	snprintf(script, sizeof(script), "setsid sleep 30 </dev/null "
		 ">/dev/null 2>&1 & echo $$ $! >%s.tmp; mv %s.tmp %s; sleep 30",
		 path, path, path);
	runner = fork();
	assert_true(runner >= 0);
	if (runner == 0) {
		char out[16];
		struct spawn_cmd cmd = { .out = out, .out_cap = sizeof(out) };
		struct spawn_result res;

		run_sh(&cmd, script, &res);
		_exit(0);
	}
	for (i = 0; i < 500; i++) {
		f = fopen(path, "r");
		if (f && fscanf(f, "%ld %ld", &a, &b) == 2) {
			fclose(f);
			break;
		}
		if (f)
			fclose(f);
		usleep(10000);
	}
	kill(runner, SIGKILL);
	waitpid(runner, &status, 0);
	unlink(path);
	assert_true(a > 0 && b > 0);
	assert_true(gone((pid_t)a));
	assert_true(gone((pid_t)b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exchange),
		cmocka_unit_test(test_not_started),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_no_deadline),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_skip),
		cmocka_unit_test(test_isolate),
		cmocka_unit_test(test_sigchld_ignored),
		cmocka_unit_test(test_setsid_at_deadline),
		cmocka_unit_test(test_holder_killed),
		cmocka_unit_test(test_left_alone),
		cmocka_unit_test(test_runner_dies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
