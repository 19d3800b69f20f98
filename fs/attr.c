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

int attr_procname(struct atr_inode *ai, char buf[64])
{
	int fd = ino_fd_get(ai);

	if (fd >= 0)
		fd_procname(fd, buf);
	return fd;
}

int attr_reopen_fd(int pfd, int flags)
{
	char proc[64];
	int fd;

	fd_procname(pfd, proc);
	fd = open(proc, (flags & ~O_NOFOLLOW) | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int attr_reopen(struct atr_inode *ai, int flags)
{
	int pfd = ino_fd_get(ai), fd;

	if (pfd < 0)
		return pfd;
	fd = attr_reopen_fd(pfd, flags);
	ino_fd_put(ai);
	return fd;
}

void attr_fix(const struct atr_mount *m, struct atr_inode *ai,
	      struct stat *st)
{
	char target[PATH_MAX];
	uint64_t size;
	ssize_t n;
	int fd;

	if (S_ISREG(st->st_mode)) {
		/*
		 * An impossible backing size (tampering) shows its whole
		 * extents; reads of the file fail and log why.
		 */
		extent_plain_size(m->extent_size, (uint64_t)st->st_size, &size);
		st->st_size = (off_t)size;
	} else if (S_ISLNK(st->st_mode)) {
		fd = ino_fd_get(ai);
		n = fd < 0 ? fd : readlinkat(fd, "", target, sizeof(target));
		if (fd >= 0)
			ino_fd_put(ai);
		if (n >= 0) {
			n = meta_link_len(target, (size_t)n);
			st->st_size = n < 0 ? 0 : n;
		}
	}
}

int attr_get(struct atr_mount *m, struct atr_inode *ai, struct stat *st)
{
	int fd = ino_fd_get(ai), err = 0;

	if (fd < 0)
		return fd;
	if (fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		err = -errno;
	ino_fd_put(ai);
	if (err)
		return err;
	attr_fix(m, ai, st);
	return 0;
}
