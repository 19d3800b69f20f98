// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/inofd.c - an inode's O_PATH fd, lent to one backing operation at a
 * time.  Every user takes it with ino_fd_get() and gives it back with
 * ino_fd_put(), so the fd need not stay open while the kernel merely
 * remembers the inode.
 */
#include <fcntl.h>
#include <unistd.h>

#include "fs_private.h"

int ino_fd_get(struct atr_inode *ai)
{
	return ai->fd;
}

void ino_fd_put(struct atr_inode *ai)
{
	(void)ai;
}

bool ino_fd_gone(struct atr_inode *ai)
{
	int fd = ino_fd_get(ai);
	struct stat st;
	bool gone;

	/* A handle that no longer opens names a file deleted. */
	if (fd < 0)
		return fd == -ENOENT;
	gone = fstat(fd, &st) == 0 && st.st_nlink == 0;
	ino_fd_put(ai);
	return gone;
}

/*
 * The *at(2) calls on one name in a directory inode, as drop-in
 * replacements: -1 with errno set, also when the fd cannot be had.
 */
int ino_openat(struct atr_inode *dir, const char *name, int flags,
	       mode_t mode)
{
	int dfd = ino_fd_get(dir), fd;

	if (dfd < 0)
		return errno = -dfd, -1;
	fd = openat(dfd, name, flags, mode);
	ino_fd_put(dir);
	return fd;
}

int ino_unlinkat(struct atr_inode *dir, const char *name, int flags)
{
	int dfd = ino_fd_get(dir), r;

	if (dfd < 0)
		return errno = -dfd, -1;
	r = unlinkat(dfd, name, flags);
	ino_fd_put(dir);
	return r;
}

int ino_fstatat(struct atr_inode *dir, const char *name, struct stat *st,
		int flags)
{
	int dfd = ino_fd_get(dir), r;

	if (dfd < 0)
		return errno = -dfd, -1;
	r = fstatat(dfd, name, st, flags);
	ino_fd_put(dir);
	return r;
}

int ino_symlinkat(const char *target, struct atr_inode *dir,
		  const char *name)
{
	int dfd = ino_fd_get(dir), r;

	if (dfd < 0)
		return errno = -dfd, -1;
	r = symlinkat(target, dfd, name);
	ino_fd_put(dir);
	return r;
}

int ino_mknodat(struct atr_inode *dir, const char *name, mode_t mode,
		dev_t rdev)
{
	int dfd = ino_fd_get(dir), r;

	if (dfd < 0)
		return errno = -dfd, -1;
	r = mknodat(dfd, name, mode, rdev);
	ino_fd_put(dir);
	return r;
}

/* A duplicate of @ai's fd that outlives the request, or -1. */
int ino_fd_dup(struct atr_inode *ai)
{
	int fd = ino_fd_get(ai), dup;

	if (fd < 0)
		return -1;
	dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	ino_fd_put(ai);
	return dup;
}
