// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * volume/names.c - the file I/O of encrypted names (crypto/names.h) that
 * the daemon (fs/dirnames.c) and the command line (atrestfs path) share:
 * a directory's ID and a long name's record, read from the untrusted
 * backing directory and checked before use.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../crypto/names.h"
#include "volume.h"

int volnames_dirid(int fd, uint8_t id[NAMES_DIRID_LEN])
{
	uint8_t buf[NAMES_DIRID_LEN + 1];	/* a longer one is damaged */
	char proc[64];
	ssize_t n;

	/* By /proc: the daemon holds its directories as O_PATH fds. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = getxattr(proc, NAMES_DIRID_XATTR, buf, sizeof(buf));
	if (n < 0 && errno == ENODATA)
		return -ENODATA;
	if (n != NAMES_DIRID_LEN)
		return -EIO;
	memcpy(id, buf, NAMES_DIRID_LEN);
	return 0;
}

int volnames_record(int dirfd, const char *bname,
		    char rec[NAMES_ENC_MAX + 1], size_t *len)
{
	char side[NAME_MAX + 1];
	ssize_t n;
	int fd;

	names_sidecar(bname, side);
	/* Not a FIFO's open that never returns, not a symlink followed. */
	fd = openat(dirfd, side, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
		    O_CLOEXEC);
	if (fd < 0)
		return -EBADMSG;
	n = read(fd, rec, NAMES_ENC_MAX + 1);
	close(fd);
	if (n < 0 || names_long_check(bname, rec, (size_t)n))
		return -EBADMSG;
	*len = (size_t)n;
	return 0;
}
