// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/log.c - one line per event, to stderr in the foreground or to syslog
 * (daemon facility) once detached, or to the file of -o log=FILE instead
 * of syslog; warnings and errors also to the tap (runtime.c's record of
 * the last errors).  Never pass key bytes or file contents.
 *
 * The destination is the process's, not a mount's: set before any worker
 * thread starts (atr_log_init(), atr_log_file(), atr_log_tap()) and only
 * read while they run.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../crypto/codec.h"
#include "fs_private.h"

static bool log_stderr = true;
static int log_fd = -1;			/* -o log=FILE; -1: none */
static void (*log_tap)(void *arg, const char *line);
static void *log_tap_arg;

void atr_log_init(bool to_stderr)
{
	log_stderr = to_stderr;
	if (!to_stderr && log_fd < 0)
		openlog("atrestfs", LOG_PID, LOG_DAEMON);
}

int atr_logfile_open(const char *path, const char *what, bool readable,
		     char *msg, size_t msglen)
{
	struct stat st;
	int fd, err;

	fd = open(path, (readable ? O_RDWR : O_WRONLY) | O_APPEND | O_CREAT |
		  O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0) {
		err = -errno;
		snprintf(msg, msglen, "cannot open %s %s: %s", what, path,
			 strerror(-err));
		return err;
	}
	/*
	 * Someone else's file, or one others may write, is not a record; nor
	 * is one with a second name, which may be a file of root's that a
	 * user linked here (where protected_hardlinks is off) to have us
	 * append to it.
	 */
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    (st.st_uid != geteuid() && st.st_uid != 0) ||
	    (st.st_mode & 022) || st.st_nlink != 1) {
		snprintf(msg, msglen, "%s %s must be a regular file of this "
			 "user or root, writable by no one else, with no "
			 "other hard link", what, path);
		close(fd);
		return -EPERM;
	}
	return fd;
}

void atr_log_file(int fd)
{
	if (log_fd >= 0)
		close(log_fd);
	log_fd = fd;
}

void atr_log_tap(void (*fn)(void *arg, const char *line), void *arg)
{
	log_tap = fn;
	log_tap_arg = arg;
}

static const char *prio_name(int prio)
{
	return prio <= LOG_ERR ? "error" : prio == LOG_WARNING ? "warning" :
	       prio == LOG_NOTICE ? "notice" : "info";
}

void atr_log_stamp(char stamp[ATR_LOG_STAMP_LEN])
{
	time_t now = time(NULL);
	struct tm tm;

	if (!gmtime_r(&now, &tm) ||
	    !strftime(stamp, ATR_LOG_STAMP_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm))
		strcpy(stamp, "-");
}

/* "2026-12-07T04:05:06Z atrestfs[PID]: error: ...": one write(2), O_APPEND. */
static void file_line(int prio, const char *safe)
{
	char stamp[ATR_LOG_STAMP_LEN], *out;
	ssize_t w;
	int n;

	atr_log_stamp(stamp);
	n = asprintf(&out, "%s atrestfs[%d]: %s: %s\n", stamp, (int)getpid(),
		     prio_name(prio), safe);
	if (n < 0)
		return;
	/* Nowhere left to say that the log cannot be written. */
	w = write(log_fd, out, (size_t)n);
	(void)w;
	free(out);
}

/*
 * Log lines carry names from the backing directory, which whoever can
 * write it chooses: a newline in one forged a whole line, an escape
 * sequence reached the terminal.  Control bytes and the backslash are
 * written as \xHH.
 */
static void escape(const char *in, char *out)
{
	const unsigned char *p;

	for (p = (const unsigned char *)in; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '\\') {
			*out++ = '\\';
			*out++ = 'x';
			hex_encode(p, 1, out);
			out += 2;
		} else {
			*out++ = (char)*p;
		}
	}
	*out = '\0';
}

/*
 * @daemon_only: only where a detached daemon logs (atr_log_daemon()),
 * never stderr or the tap.
 */
static void vlog(int prio, bool daemon_only, const char *fmt, va_list ap)
{
	char line[1024], safe[4 * sizeof(line)];

	vsnprintf(line, sizeof(line), fmt, ap);
	escape(line, safe);
	if (daemon_only) {
		if (log_fd >= 0) {
			file_line(prio, safe);
		} else {
			openlog("atrestfs", LOG_PID, LOG_DAEMON);
			syslog(prio, "%s", safe);
			closelog();
		}
		return;
	}
	/* One write per line so concurrent threads do not interleave. */
	if (log_stderr)
		fprintf(stderr, "atrestfs: %s\n", safe);
	if (log_fd >= 0)
		file_line(prio, safe);
	else if (!log_stderr)
		syslog(prio, "%s", safe);
	if (log_tap && prio <= LOG_WARNING)
		log_tap(log_tap_arg, safe);
}

void atr_log_daemon(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(prio, true, fmt, ap);
	va_end(ap);
}

void atr_log(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(prio, false, fmt, ap);
	va_end(ap);
}

void atr_inode_path(struct atr_inode *ai, char *buf, size_t len)
{
	char proc[64];
	ssize_t n = -1;

	if (attr_procname(ai, proc) >= 0) {
		n = readlink(proc, buf, len - 1);
		ino_fd_put(ai);
	}
	if (n < 0)
		n = snprintf(buf, len, "inode %llu", (unsigned long long)ai->ino);
	buf[n < (ssize_t)len ? n : (ssize_t)len - 1] = '\0';
}

void atr_log_inode(int prio, struct atr_inode *ai, const char *fmt, ...)
{
	char path[512], what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	atr_inode_path(ai, path, sizeof(path));
	atr_log(prio, "%s: %s", path, what);
}
