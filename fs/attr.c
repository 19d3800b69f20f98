// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/attr.c - attributes as the user sees them.  Sizes are the one thing
 * that differs from the backing inode: a file's is its plaintext size, a
 * symlink's its plaintext target length.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "../crypto/meta.h"
#include "fs_private.h"

static void fd_procname(int fd, char buf[64])
{
	snprintf(buf, 64, "/proc/self/fd/%d", fd);
}

void attr_procname(const struct atr_inode *ai, char buf[64])
{
	fd_procname(ai->fd, buf);
}

int attr_reopen_fd(int pfd, int flags)
{
	char proc[64];
	int fd;

	fd_procname(pfd, proc);
	fd = open(proc, (flags & ~O_NOFOLLOW) | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int attr_reopen(const struct atr_inode *ai, int flags)
{
	return attr_reopen_fd(ai->fd, flags);
}

void attr_fix(const struct atr_mount *m, const struct atr_inode *ai,
	      struct stat *st)
{
	char target[PATH_MAX];
	uint64_t size;
	ssize_t n;

	if (S_ISREG(st->st_mode)) {
		/*
		 * An impossible backing size (tampering) shows its whole
		 * extents; reads of the file fail and log why.
		 */
		extent_plain_size(m->extent_size, (uint64_t)st->st_size, &size);
		st->st_size = (off_t)size;
	} else if (S_ISLNK(st->st_mode)) {
		n = readlinkat(ai->fd, "", target, sizeof(target));
		if (n >= 0) {
			n = meta_link_len(target, (size_t)n);
			st->st_size = n < 0 ? 0 : n;
		}
	}
}

int attr_get(struct atr_mount *m, struct atr_inode *ai, struct stat *st)
{
	if (fstatat(ai->fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return -errno;
	attr_fix(m, ai, st);
	return 0;
}
