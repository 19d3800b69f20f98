// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * keyprov/spawn.c - run a program and talk to it: stdin fed from a
 * buffer, stdout captured, stderr handed back line by line, the whole run
 * bounded by an optional deadline.  The one way atrestfs runs a program
 * that holds or makes a secret: the exec provider's key helpers and the
 * --extpass command.
 *
 * Owns: the pipes and the child, until spawn_run() returns.  Borrows
 * cmd->in and cmd->out, which may be secure memory: nothing of either is
 * copied anywhere but into the other's program, and the scratch buffer
 * that drops surplus output is wiped.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "keyprov_private.h"

#define EXIT_POLL_MS	50		/* a look whether the program exited */

extern char **environ;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Close-on-exec pipes for the program's stdin, stdout, stderr: p[i][0]
 * is the read end.  Those we do not redirect stay -1; our ends do not
 * block.
 */
static int open_pipes(const struct spawn_cmd *cmd, int p[3][2])
{
	int i, err;

	for (i = 0; i < 3; i++)
		p[i][0] = p[i][1] = -1;
	for (i = 0; i < 3; i++) {
		if ((i == 0 && !cmd->in) || (i == 2 && !cmd->err_line))
			continue;
		if (pipe2(p[i], O_CLOEXEC))
			goto out_close;
	}
	if (p[0][1] >= 0)
		fcntl(p[0][1], F_SETFL, O_NONBLOCK);
	fcntl(p[1][0], F_SETFL, O_NONBLOCK);
	if (p[2][0] >= 0)
		fcntl(p[2][0], F_SETFL, O_NONBLOCK);
	return 0;
out_close:
	err = -errno;
	while (i--) {
		if (p[i][0] >= 0)
			close(p[i][0]);
		if (p[i][1] >= 0)
			close(p[i][1]);
	}
	return err;
}

static int start(const struct spawn_cmd *cmd, int p[3][2], pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	int err;

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	if (p[0][0] >= 0)
		posix_spawn_file_actions_adddup2(&fa, p[0][0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, p[1][1], STDOUT_FILENO);
	if (p[2][1] >= 0)
		posix_spawn_file_actions_adddup2(&fa, p[2][1], STDERR_FILENO);
	if (cmd->flags & SPAWN_ISOLATE) {
		sigemptyset(&none);
		sigfillset(&all);
		/* Nothing else of ours: not /dev/fuse, not a key file. */
		posix_spawn_file_actions_addclosefrom_np(&fa,
							 STDERR_FILENO + 1);
		/* Own group, so that a timeout kills what it started too. */
		posix_spawnattr_setpgroup(&at, 0);
		posix_spawnattr_setsigmask(&at, &none);
		posix_spawnattr_setsigdefault(&at, &all);
		posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP |
					 POSIX_SPAWN_SETSIGMASK |
					 POSIX_SPAWN_SETSIGDEF);
	}
	err = posix_spawn(pid, cmd->path, &fa, &at, cmd->argv,
			  cmd->envp ? cmd->envp : environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return -err;
}

struct xchg {
	const struct spawn_cmd *cmd;
	size_t in_off;
	size_t out_len;
	size_t skipped;			/* output dropped past out_cap */
	char errbuf[SPAWN_ERR_MAX + 1];
	size_t err_len;
	int fd[3];			/* our ends; -1 once closed */
	int overflow;			/* more output than out_cap - 1 */
	int exited;			/* the program has exited */
	int moved;			/* the last round read or wrote something */
};

static void xclose(struct xchg *x, int i)
{
	if (x->fd[i] >= 0)
		close(x->fd[i]);
	x->fd[i] = -1;
}

static void feed(struct xchg *x)
{
	const struct spawn_cmd *cmd = x->cmd;
	ssize_t r;

	r = write(x->fd[0], cmd->in + x->in_off, cmd->in_len - x->in_off);
	if (r > 0)
		x->in_off += (size_t)r;
	/* A program that stops reading may still have answered. */
	if ((r < 0 && errno != EAGAIN && errno != EINTR) ||
	    x->in_off == cmd->in_len)
		xclose(x, 0);
}

/* Its stdout.  1 when it wrote more than fits and we stop here. */
static int collect(struct xchg *x, char *sink, size_t sinklen)
{
	const struct spawn_cmd *cmd = x->cmd;
	size_t room = cmd->out_cap - 1 - x->out_len;
	ssize_t r;

	if (room) {
		r = read(x->fd[1], cmd->out + x->out_len, room);
		if (r > 0) {
			x->out_len += (size_t)r;
			x->moved = 1;
		}
	} else if (!cmd->out_skip) {
		/*
		 * Full: one byte more (into the terminator's place) tells an
		 * answer that fills the buffer from a longer one.
		 */
		r = read(x->fd[1], cmd->out + x->out_len, 1);
		if (r > 0) {
			x->overflow = 1;
			return 1;
		}
	} else {
		if (sinklen > cmd->out_skip - x->skipped)
			sinklen = cmd->out_skip - x->skipped;
		r = read(x->fd[1], sink, sinklen);
		if (r > 0) {
			x->overflow = 1;
			x->moved = 1;
			x->skipped += (size_t)r;
			if (x->skipped == cmd->out_skip)
				xclose(x, 1);
		}
	}
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
		xclose(x, 1);
	return 0;
}

static void collect_err(struct xchg *x)
{
	char sink[512];
	ssize_t r;

	r = read(x->fd[2], sink, sizeof(sink));
	if (r > 0)
		x->moved = 1;
	if (r > 0 && x->err_len < SPAWN_ERR_MAX) {
		if ((size_t)r > SPAWN_ERR_MAX - x->err_len)
			r = (ssize_t)(SPAWN_ERR_MAX - x->err_len);
		memcpy(x->errbuf + x->err_len, sink, (size_t)r);
		x->err_len += (size_t)r;
	} else if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
		xclose(x, 2);
	}
}

/* One poll round.  Returns 1 when stdout and stderr are both at EOF. */
static int pump(struct xchg *x, int timeout)
{
	struct pollfd pfd[3];
	char sink[4096];
	int i, full = 0;

	for (i = 0; i < 3; i++) {
		pfd[i].fd = x->fd[i];
		pfd[i].events = i ? POLLIN : POLLOUT;
		pfd[i].revents = 0;
	}
	x->moved = 0;
	if (poll(pfd, 3, timeout) < 0 && errno != EINTR)
		return -errno;
	if (pfd[0].revents)
		feed(x);
	if (pfd[1].revents)
		full = collect(x, sink, sizeof(sink));
	/* What is dropped may be the rest of a secret. */
	OPENSSL_cleanse(sink, sizeof(sink));
	if (full)
		return 1;
	if (pfd[2].revents)
		collect_err(x);
	return x->fd[1] < 0 && x->fd[2] < 0;
}

/* Has child @pid exited?  It stays unreaped (WNOWAIT). */
static int exited(pid_t pid)
{
	siginfo_t si = { 0 };

	return !waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) &&
	       si.si_pid == pid;
}

/*
 * Reap @pid by @deadline (0: now; -1: however long it takes), else
 * SIGKILL it, with its group if it has its own.  1 if it had to.
 */
static int reap(const struct spawn_cmd *cmd, pid_t pid, long long deadline,
		struct spawn_result *res)
{
	pid_t r;

	for (;;) {
		r = waitpid(pid, &res->status, deadline < 0 ? 0 : WNOHANG);
		if (r == pid) {
			res->status_known = true;
			return 0;
		}
		/* SIGCHLD ignored: it was reaped for us, its end unknown. */
		if (r < 0 && errno != EINTR)
			return 0;
		if (deadline >= 0 && now_ms() >= deadline)
			break;
		if (r == 0)
			poll(NULL, 0, 10);
	}
	kill(cmd->flags & SPAWN_ISOLATE ? -pid : pid, SIGKILL);
	while ((r = waitpid(pid, &res->status, 0)) < 0 && errno == EINTR)
		;
	res->status_known = r == pid;
	return 1;
}

/* Each line of its stderr, control characters made '?', to the caller. */
static void err_lines(const struct spawn_cmd *cmd, char *buf, size_t len)
{
	char *p = buf, *nl;
	unsigned int n = 0;
	size_t i;

	buf[len] = '\0';
	for (i = 0; i < len; i++)
		if ((buf[i] < 0x20 && buf[i] != '\n') || buf[i] > 0x7e)
			buf[i] = '?';
	for (; *p && n < SPAWN_ERR_LINES; p = nl + 1, n++) {
		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		if (*p)
			cmd->err_line(cmd->arg, p);
		if (!nl)
			break;
	}
}

int spawn_run(const struct spawn_cmd *cmd, struct spawn_result *res)
{
	struct xchg x = { .cmd = cmd };
	long long deadline = cmd->timeout_ms ? now_ms() + cmd->timeout_ms : -1;
	sigset_t pipe_set, old, pending;
	struct timespec zero = { 0, 0 };
	int p[3][2], done = 0, killed, err, i;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	err = open_pipes(cmd, p);
	if (err)
		return err;
	err = start(cmd, p, &pid);
	for (i = 0; i < 3; i++)
		if (p[i][i ? 1 : 0] >= 0)
			close(p[i][i ? 1 : 0]);
	for (i = 0; i < 3; i++)
		x.fd[i] = p[i][i ? 0 : 1];
	if (err) {
		for (i = 0; i < 3; i++)
			xclose(&x, i);
		return err;
	}
	/* A program that exits early must not kill us with SIGPIPE. */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	while (!done) {
		/* One reading of the clock: a negative poll timeout is forever. */
		int64_t left = deadline < 0 ? EXIT_POLL_MS :
			       (int64_t)deadline - (int64_t)now_ms();

		if (left <= 0)
			break;
		/*
		 * Once it has exited, only what it left is read.  Until then,
		 * a look every EXIT_POLL_MS whether it has (a pidfd would do
		 * without, but valgrind cannot run the tests with one).
		 */
		done = pump(&x, x.exited ? 0 :
			    (int)(left < EXIT_POLL_MS ? left : EXIT_POLL_MS));
		if (done < 0)
			break;
		/*
		 * Exited, its output read, and still no EOF: something it
		 * started holds our pipes.  Done; that is killed below.
		 */
		if (!done && x.exited && !x.moved)
			done = 2;
		if (!done && !x.exited)
			x.exited = exited(pid);
	}
	/* Its group, while the unreaped program keeps the group ID taken. */
	if (done == 2 && (cmd->flags & SPAWN_ISOLATE))
		kill(-pid, SIGKILL);
	if (!sigpending(&pending) && sigismember(&pending, SIGPIPE) &&
	    !sigismember(&old, SIGPIPE))
		sigtimedwait(&pipe_set, NULL, &zero);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	for (i = 0; i < 3; i++)
		xclose(&x, i);
	killed = reap(cmd, pid, done >= 1 && !(x.overflow && !cmd->out_skip) ?
		      deadline : 0, res);
	if (x.err_len)
		err_lines(cmd, x.errbuf, x.err_len);
	cmd->out[x.out_len] = '\0';
	res->out_len = x.out_len;
	res->overflow = x.overflow;
	res->timed_out = killed && !(x.overflow && !cmd->out_skip);
	return 0;
}
