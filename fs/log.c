// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/log.c - one line per event, to stderr in the foreground or to syslog
 * (daemon facility) once detached.  Never pass key bytes or file contents.
 */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "../crypto/codec.h"
#include "fs_private.h"

static bool log_stderr = true;

void atr_log_init(bool to_stderr)
{
	log_stderr = to_stderr;
	if (!to_stderr)
		openlog("atrestfs", LOG_PID, LOG_DAEMON);
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

static void vlog(int prio, const char *fmt, va_list ap)
{
	char line[1024], safe[4 * sizeof(line)];

	vsnprintf(line, sizeof(line), fmt, ap);
	escape(line, safe);
	/* One write per line so concurrent threads do not interleave. */
	if (log_stderr)
		fprintf(stderr, "atrestfs: %s\n", safe);
	else
		syslog(prio, "%s", safe);
}

void atr_log(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(prio, fmt, ap);
	va_end(ap);
}

void atr_inode_path(const struct atr_inode *ai, char *buf, size_t len)
{
	char proc[64];
	ssize_t n;

	attr_procname(ai, proc);
	n = readlink(proc, buf, len - 1);
	if (n < 0)
		n = snprintf(buf, len, "inode %llu", (unsigned long long)ai->ino);
	buf[n < (ssize_t)len ? n : (ssize_t)len - 1] = '\0';
}

void atr_log_inode(int prio, const struct atr_inode *ai, const char *fmt, ...)
{
	char path[512], what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	atr_inode_path(ai, path, sizeof(path));
	atr_log(prio, "%s: %s", path, what);
}
