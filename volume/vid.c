// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * volume/vid.c - a file's or directory's value ID (crypto/meta.h), which
 * binds its xattr values to it, read from the untrusted backing directory
 * and checked, or made at its first value.  The daemon, rotate-kek,
 * rekey and fsck share these.  Also the one reader of an ID kept in an
 * xattr, which the directory ID (names.c) uses too.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>

#include "../crypto/aead.h"
#include "../crypto/meta.h"
#include "volume_private.h"

/* By /proc: the daemon holds its files and directories as O_PATH fds. */
static void proc_name(int fd, char proc[64])
{
	snprintf(proc, 64, "/proc/self/fd/%d", fd);
}

int volvid_read(int fd, const char *name, uint8_t *id, size_t len)
{
	uint8_t buf[64 + 1];	/* a longer one is damaged */
	char proc[64];
	ssize_t n;

	proc_name(fd, proc);
	n = getxattr(proc, name, buf, len + 1);
	if (n < 0 && errno == ENODATA)
		return -ENODATA;
	if (n != (ssize_t)len)
		return -EIO;
	memcpy(id, buf, len);
	return 0;
}

int volvid_get(int fd, uint8_t vid[META_VID_LEN])
{
	return volvid_read(fd, META_VID_XATTR, vid, META_VID_LEN);
}

int volvid_make(int fd, uint8_t vid[META_VID_LEN])
{
	char proc[64];
	int err = volvid_get(fd, vid);

	if (err != -ENODATA)
		return err;
	err = rand_fill(vid, META_VID_LEN);
	if (err)
		return err;
	proc_name(fd, proc);
	if (!setxattr(proc, META_VID_XATTR, vid, META_VID_LEN, XATTR_CREATE))
		return 0;
	/* Another maker was first: its ID is the inode's. */
	return errno == EEXIST ? volvid_get(fd, vid) : -errno;
}
