// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * keyprov/spawn.c - run a program and talk to it: stdin fed from a
 * buffer, stdout captured, stderr handed back line by line, the whole run
 * bounded by an optional deadline.  The one way atrestfs runs a program
 * that holds or makes a secret: the exec provider's key helpers and the
 * --extpass command.
 *
 * A deadline must end everything the program started, and its process
 * group does not hold all of that: a child that calls setsid() leaves the
 * group, and one whose parent dies is handed to init, out of our sight.
 * So the program is started by a forked process of ours, the reaper, made
 * a child subreaper (PR_SET_CHILD_SUBREAPER): whatever the program leaves
 * orphaned, however it daemonises, is handed to the reaper and not to
 * init.  Told to kill, the reaper SIGKILLs each of its children and reaps
 * the dead, over and over until it has none; every death hands it the
 * dead one's children, so nothing of the tree is left.  A child is the
 * reaper's alone to reap, so its PID cannot be reused between the look in
 * /proc and the kill.  A cgroup or a PID namespace would do the same
 * without a reaper, but they need privileges we may not have.  The reaper
 * reports the program's end through one pipe and takes orders through
 * another, whose end of file (we went away) also means kill.
 *
 * Owns: the pipes, the reaper and the program, until spawn_run() returns.
 * Borrows cmd->in and cmd->out, which may be secure memory: nothing of
 * either is copied anywhere but to and from the program, and the scratch
 * buffer that drops surplus output is wiped.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "keyprov_private.h"

#define REAP_POLL_MS	10	/* between two rounds of kills */
/*
 * After the program's end, how long our pipes may stay silent before
 * what holds them is taken for something it left behind: a child it
 * started with a redirection holds them from its fork to its exec.
 */
#define GRACE_MS	100

extern char **environ;

/* What the reaper writes: once when it has started the program, once when
 * the program has ended. */
struct report {
	int err;			/* posix_spawn()'s -errno, else 0 */
	int status;			/* the program's wait status */
};

/* The reaper's two orders; an end of file is "kill". */
#define ORDER_RELEASE	'r'		/* it ended well: leave what it left */

/* ---- the reaper (a forked child: async-signal-safe calls only) ---- */

static void on_sigchld(int sig)
{
	(void)sig;			/* only to interrupt ppoll() */
}

/* A /proc entry's name as a PID, or 0 if it is not one. */
static pid_t proc_pid(const char *name)
{
	pid_t pid = 0;
	size_t i;

	for (i = 0; name[i] >= '0' && name[i] <= '9' && i < 9; i++)
		pid = pid * 10 + (name[i] - '0');
	return name[i] ? 0 : pid;
}

/* The parent of process @name (its /proc entry), or -1. */
static pid_t parent_of(const char *name)
{
	char path[32] = "/proc/", buf[512], *p;
	size_t n = strlen(name);
	ssize_t r;
	pid_t ppid = 0;
	int fd;

	memcpy(path + 6, name, n);
	memcpy(path + 6 + n, "/stat", 6);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0)
		return -1;
	buf[r] = '\0';
	/* "pid (comm) S ppid ...": comm may hold anything but ends at ')'. */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2] || p[3] != ' ')
		return -1;
	for (p += 4; *p >= '0' && *p <= '9'; p++)
		ppid = ppid * 10 + (*p - '0');
	return *p == ' ' ? ppid : -1;
}

/* SIGKILL every child of ours.  -errno if /proc cannot be read. */
static int kill_children(void)
{
	char buf[4096];
	pid_t self = getpid();
	struct dirent64 *d;
	ssize_t n, off;
	int dfd;

	dfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	while ((n = getdents64(dfd, buf, sizeof(buf))) > 0) {
		for (off = 0; off < n; off += d->d_reclen) {
			d = (struct dirent64 *)(buf + off);
			if (proc_pid(d->d_name) > 0 &&
			    parent_of(d->d_name) == self)
				kill(proc_pid(d->d_name), SIGKILL);
		}
	}
	close(dfd);
	return 0;
}

static void report(int fd, int err, int status)
{
	struct report rep = { .err = err, .status = status };

	/* Smaller than PIPE_BUF: written whole or not at all. */
	if (write(fd, &rep, sizeof(rep)) < 0)
		return;			/* nobody is listening any more */
}

/* The wait status of a child waitid() saw end. */
static int wait_status(const siginfo_t *si)
{
	if (si->si_code == CLD_EXITED)
		return W_EXITCODE(si->si_status, 0);
	return si->si_status | (si->si_code == CLD_DUMPED ? WCOREFLAG : 0);
}

/*
 * Kill the program @pid (its group too if @group, while the unreaped
 * program keeps the group ID ours) and everything it started, reaping
 * all; report its end on @rep if not done yet.
 */
static void kill_tree(pid_t pid, bool group, int rep, bool reported,
		      const sigset_t *wait_mask)
{
	struct timespec pause = { 0, REAP_POLL_MS * 1000000L };
	bool reaped = false;
	pid_t r;
	int status;

	if (group)
		kill(-pid, SIGKILL);
	for (;;) {
		/* No /proc: the program alone; the rest goes to init. */
		if (kill_children()) {
			if (reaped)
				return;
			kill(pid, SIGKILL);
		}
		while ((r = waitpid(-1, &status, WNOHANG)) > 0) {
			if (r != pid)
				continue;
			reaped = true;
			if (!reported)
				report(rep, 0, status);
			reported = true;
		}
		/* ECHILD: nothing of it is left. */
		if (r < 0 && errno != EINTR)
			return;
		/* A child that died meanwhile wakes us early (SIGCHLD). */
		ppoll(NULL, 0, &pause, wait_mask);
	}
}

struct launch {
	const char *path;
	char *const *argv;
	char *const *envp;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	bool group;			/* the program has its own group */
	/* The pipes' ends, the program's and ours: -1 for none. */
	int fds[8];
};

/*
 * Close every fd above stderr but @a and @b: the pipes' ends by name,
 * which must go (an end we kept would hide an EOF), the rest if
 * close_range() can (Linux 5.9).
 */
static void close_others(const struct launch *l, int a, int b)
{
	unsigned int lo = (unsigned int)(a < b ? a : b);
	unsigned int hi = (unsigned int)(a < b ? b : a);
	size_t i;

	for (i = 0; i < sizeof(l->fds) / sizeof(l->fds[0]); i++)
		if (l->fds[i] >= 0 && l->fds[i] != a && l->fds[i] != b)
			close(l->fds[i]);
	if (lo > STDERR_FILENO + 1)
		close_range(STDERR_FILENO + 1, lo - 1, 0);
	if (hi > lo + 1)
		close_range(lo + 1, hi - 1, 0);
	close_range(hi + 1, ~0U, 0);
}

/*
 * The reaper: start the program, report, wait for it and for an order.
 * Runs with every signal blocked (spawn_run() forked it so).
 */
static _Noreturn void reaper(struct launch *l, int ctl, int rep)
{
	struct sigaction sa = { .sa_handler = on_sigchld,
				.sa_flags = SA_NOCLDSTOP };
	struct pollfd pfd = { .fd = ctl, .events = POLLIN };
	bool reported = false;
	sigset_t wait_mask;
	siginfo_t si;
	pid_t pid;
	char order = 0;
	int err;

	/* A handler, never SIG_IGN, which would reap for us. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	sigfillset(&wait_mask);
	sigdelset(&wait_mask, SIGCHLD);
	/* Without it (Linux < 3.4) orphans still go to init. */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	err = posix_spawn(&pid, l->path, &l->fa, &l->at, l->argv, l->envp);
	/* Not the program's pipes, nor anything else of our parent's. */
	close_others(l, ctl, rep);
	report(rep, -err, 0);
	if (err)
		_exit(0);
	for (;;) {
		memset(&si, 0, sizeof(si));
		if (!reported &&
		    !waitid(P_PID, (id_t)pid, &si,
			    WEXITED | WNOHANG | WNOWAIT) &&
		    si.si_pid == pid) {
			report(rep, 0, wait_status(&si));
			reported = true;
		}
		/* SIGCHLD, blocked outside ppoll(), cannot slip in between. */
		if (ppoll(&pfd, 1, NULL, &wait_mask) > 0)
			break;
	}
	if (read(ctl, &order, 1) == 1 && order == ORDER_RELEASE &&
	    reported) {
		/*
		 * It ended well: what it left running and not holding our
		 * pipes goes on, handed to init when we exit, as it would
		 * have been without us.  The dead are reaped here.
		 */
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		_exit(0);
	}
	kill_tree(pid, l->group, rep, reported, &wait_mask);
	_exit(0);
}

/* ---- the caller's side ---- */

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

/* How the reaper is to start the program.  @mask: the caller's. */
static void launch_init(struct launch *l, const struct spawn_cmd *cmd,
			int p[3][2], const int cp[2], const int rp[2],
			const sigset_t *mask)
{
	sigset_t none, all;
	int i;

	for (i = 0; i < 6; i++)
		l->fds[i] = p[i / 2][i % 2];
	l->fds[6] = cp[1];
	l->fds[7] = rp[0];
	l->path = cmd->path;
	l->argv = cmd->argv;
	l->envp = cmd->envp ? cmd->envp : environ;
	l->group = cmd->flags & SPAWN_ISOLATE;
	posix_spawn_file_actions_init(&l->fa);
	posix_spawnattr_init(&l->at);
	if (p[0][0] >= 0)
		posix_spawn_file_actions_adddup2(&l->fa, p[0][0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&l->fa, p[1][1], STDOUT_FILENO);
	if (p[2][1] >= 0)
		posix_spawn_file_actions_adddup2(&l->fa, p[2][1],
						 STDERR_FILENO);
	if (!l->group) {
		/* The reaper blocks everything; the program gets our mask. */
		posix_spawnattr_setsigmask(&l->at, mask);
		posix_spawnattr_setflags(&l->at, POSIX_SPAWN_SETSIGMASK);
		return;
	}
	sigemptyset(&none);
	sigfillset(&all);
	/* Nothing else of ours: not /dev/fuse, not a key file. */
	posix_spawn_file_actions_addclosefrom_np(&l->fa, STDERR_FILENO + 1);
	posix_spawnattr_setpgroup(&l->at, 0);
	posix_spawnattr_setsigmask(&l->at, &none);
	posix_spawnattr_setsigdefault(&l->at, &all);
	posix_spawnattr_setflags(&l->at, POSIX_SPAWN_SETPGROUP |
				 POSIX_SPAWN_SETSIGMASK |
				 POSIX_SPAWN_SETSIGDEF);
}

static void launch_destroy(struct launch *l)
{
	posix_spawnattr_destroy(&l->at);
	posix_spawn_file_actions_destroy(&l->fa);
}

/* Read one report, waiting for it.  -ECHILD if the reaper died first. */
static int read_report(int fd, struct report *rep)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t r;

	for (;;) {
		r = read(fd, rep, sizeof(*rep));
		if (r == (ssize_t)sizeof(*rep))
			return 0;
		if (r >= 0 || (errno != EAGAIN && errno != EINTR))
			return -ECHILD;
		poll(&pfd, 1, -1);
	}
}

/*
 * Fork the reaper, which starts the program on @p's far ends.  Returns 0
 * with *@pid, *@ctl (our end of the orders) and *@rep (of the reports);
 * -errno if the program could not be started.
 */
static int start(const struct spawn_cmd *cmd, int p[3][2], pid_t *pid,
		 int *ctl, int *rep)
{
	int cp[2], rp[2], err;
	sigset_t all, old;
	struct report first;
	struct launch l;

	if (pipe2(cp, O_CLOEXEC))
		return -errno;
	if (pipe2(rp, O_CLOEXEC)) {
		err = -errno;
		close(cp[0]);
		close(cp[1]);
		return err;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	launch_init(&l, cmd, p, cp, rp, &old);
	/* Blocked from the start, no handler of ours runs in the reaper. */
	*pid = fork();
	if (*pid == 0)
		reaper(&l, cp[0], rp[1]);
	err = *pid < 0 ? -errno : 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	launch_destroy(&l);
	close(cp[0]);
	close(rp[1]);
	if (!err) {
		err = read_report(rp[0], &first);
		if (!err)
			err = first.err;
	}
	if (!err) {
		*ctl = cp[1];
		*rep = rp[0];
		fcntl(*rep, F_SETFL, O_NONBLOCK);
		return 0;
	}
	close(cp[1]);
	close(rp[0]);
	if (*pid > 0)
		while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
			;
	return err;
}

/* fd[] of struct xchg */
enum { X_IN, X_OUT, X_ERR, X_REP, X_N };

struct xchg {
	const struct spawn_cmd *cmd;
	struct spawn_result *res;
	size_t in_off;
	size_t out_len;
	size_t skipped;			/* output dropped past out_cap */
	char errbuf[SPAWN_ERR_MAX + 1];
	size_t err_len;
	int fd[X_N];			/* our ends; -1 once closed */
	int overflow;			/* more output than out_cap - 1 */
	int exited;			/* the program has ended */
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

	r = write(x->fd[X_IN], cmd->in + x->in_off, cmd->in_len - x->in_off);
	if (r > 0)
		x->in_off += (size_t)r;
	/* A program that stops reading may still have answered. */
	if ((r < 0 && errno != EAGAIN && errno != EINTR) ||
	    x->in_off == cmd->in_len)
		xclose(x, X_IN);
}

/* Its stdout.  1 when it wrote more than fits and we stop here. */
static int collect(struct xchg *x, char *sink, size_t sinklen)
{
	const struct spawn_cmd *cmd = x->cmd;
	size_t room = cmd->out_cap - 1 - x->out_len;
	ssize_t r;

	if (room) {
		r = read(x->fd[X_OUT], cmd->out + x->out_len, room);
		if (r > 0) {
			x->out_len += (size_t)r;
			x->moved = 1;
		}
	} else if (!cmd->out_skip) {
		/*
		 * Full: one byte more (into the terminator's place) tells an
		 * answer that fills the buffer from a longer one.
		 */
		r = read(x->fd[X_OUT], cmd->out + x->out_len, 1);
		if (r > 0) {
			x->overflow = 1;
			return 1;
		}
	} else {
		if (sinklen > cmd->out_skip - x->skipped)
			sinklen = cmd->out_skip - x->skipped;
		r = read(x->fd[X_OUT], sink, sinklen);
		if (r > 0) {
			x->overflow = 1;
			x->moved = 1;
			x->skipped += (size_t)r;
			if (x->skipped == cmd->out_skip)
				xclose(x, X_OUT);
		}
	}
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
		xclose(x, X_OUT);
	return 0;
}

static void collect_err(struct xchg *x)
{
	char sink[512];
	ssize_t r;

	r = read(x->fd[X_ERR], sink, sizeof(sink));
	if (r > 0)
		x->moved = 1;
	if (r > 0 && x->err_len < SPAWN_ERR_MAX) {
		if ((size_t)r > SPAWN_ERR_MAX - x->err_len)
			r = (ssize_t)(SPAWN_ERR_MAX - x->err_len);
		memcpy(x->errbuf + x->err_len, sink, (size_t)r);
		x->err_len += (size_t)r;
	} else if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
		xclose(x, X_ERR);
	}
}

/* The reaper's report of the program's end; its silence is "unknown". */
static void collect_end(struct xchg *x)
{
	struct report rep;
	ssize_t r;

	r = read(x->fd[X_REP], &rep, sizeof(rep));
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r == (ssize_t)sizeof(rep)) {
		x->res->status = rep.status;
		x->res->status_known = true;
	}
	x->exited = 1;
	xclose(x, X_REP);
}

/*
 * One poll round.  Returns 1 when it is over: the program ended and
 * stdout and stderr are at EOF, or it said more than we take.
 */
static int pump(struct xchg *x, int timeout)
{
	int open = (x->fd[X_OUT] >= 0) + (x->fd[X_ERR] >= 0);
	struct pollfd pfd[X_N];
	char sink[4096];
	int i, full = 0;

	for (i = 0; i < X_N; i++) {
		pfd[i].fd = x->fd[i];
		pfd[i].events = i == X_IN ? POLLOUT : POLLIN;
		pfd[i].revents = 0;
	}
	x->moved = 0;
	if (poll(pfd, X_N, timeout) < 0 && errno != EINTR)
		return -errno;
	if (pfd[X_IN].revents)
		feed(x);
	if (pfd[X_OUT].revents)
		full = collect(x, sink, sizeof(sink));
	/* What is dropped may be the rest of a secret. */
	OPENSSL_cleanse(sink, sizeof(sink));
	if (full)
		return 1;
	if (pfd[X_ERR].revents)
		collect_err(x);
	if (pfd[X_REP].revents)
		collect_end(x);
	/* An end of file is news too. */
	if ((x->fd[X_OUT] >= 0) + (x->fd[X_ERR] >= 0) < open)
		x->moved = 1;
	return x->exited && x->fd[X_OUT] < 0 && x->fd[X_ERR] < 0;
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

/*
 * Tell the reaper how it ended (@release: leave what the program left;
 * else kill it all) and wait for it.
 */
static void finish(struct xchg *x, pid_t reaper_pid, int ctl, bool release)
{
	int status;
	pid_t r;

	if (release && write(ctl, (char[]){ ORDER_RELEASE }, 1) != 1)
		release = false;	/* then it reads EOF: kill */
	close(ctl);
	if (!x->exited && x->fd[X_REP] >= 0) {
		fcntl(x->fd[X_REP], F_SETFL, 0);
		collect_end(x);
	}
	while ((r = waitpid(reaper_pid, &status, 0)) < 0 && errno == EINTR)
		;
	/* A reaper that failed (valgrind found an error in it, say). */
	if (r == reaper_pid && !(WIFEXITED(status) && !WEXITSTATUS(status)))
		x->res->status_known = false;
}

int spawn_run(const struct spawn_cmd *cmd, struct spawn_result *res)
{
	struct xchg x = { .cmd = cmd, .res = res };
	long long deadline = cmd->timeout_ms ? now_ms() + cmd->timeout_ms : -1;
	sigset_t pipe_set, old, pending;
	struct timespec zero = { 0, 0 };
	int p[3][2], done = 0, ctl = -1, err, i;
	pid_t reaper_pid = -1;

	memset(res, 0, sizeof(*res));
	x.fd[X_REP] = -1;
	err = open_pipes(cmd, p);
	if (err)
		return err;
	err = start(cmd, p, &reaper_pid, &ctl, &x.fd[X_REP]);
	for (i = 0; i < 3; i++) {
		if (p[i][i ? 1 : 0] >= 0)
			close(p[i][i ? 1 : 0]);
		x.fd[i] = p[i][i ? 0 : 1];
	}
	if (err) {
		for (i = 0; i < 3; i++)
			xclose(&x, i);
		return err;
	}
	/*
	 * A program that exits early, or a reaper that died, must not kill
	 * us with SIGPIPE.
	 */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	while (!done) {
		/* One reading of the clock: a negative poll timeout is forever. */
		int64_t left = deadline < 0 ? INT32_MAX :
			       (int64_t)deadline - (int64_t)now_ms();
		int ended = x.exited;

		if (left <= 0)
			break;
		if (ended && left > GRACE_MS)
			left = GRACE_MS;
		done = pump(&x, deadline < 0 && !x.exited ? -1 :
			    left > INT32_MAX ? INT32_MAX : (int)left);
		if (done < 0)
			break;
		/*
		 * Ended, and our pipes silent a while, still not at EOF:
		 * something it started holds them.  Over; that is killed.
		 */
		if (!done && ended && !x.moved)
			done = 2;
	}
	for (i = 0; i < 3; i++)
		xclose(&x, i);
	res->timed_out = done <= 0 && !x.exited;
	/* Over well, not by the deadline nor by too much output: release. */
	finish(&x, reaper_pid, ctl, done == 1 && x.exited &&
	       !(x.overflow && !cmd->out_skip));
	xclose(&x, X_REP);
	if (!sigpending(&pending) && sigismember(&pending, SIGPIPE) &&
	    !sigismember(&old, SIGPIPE))
		sigtimedwait(&pipe_set, NULL, &zero);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (x.err_len)
		err_lines(cmd, x.errbuf, x.err_len);
	cmd->out[x.out_len] = '\0';
	res->out_len = x.out_len;
	res->overflow = x.overflow;
	return 0;
}
