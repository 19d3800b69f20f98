// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/killpriv.c - FUSE_HANDLE_KILLPRIV_V2, which libfuse 3.14 cannot ask for.
 *
 * Without it the kernel asks us for security.capability before every
 * write(2) into the page cache (file_remove_privs()), a round trip that
 * costs far more than the write itself: 128-byte appends ran at a twentieth
 * of the plaintext passthrough, which never answers getxattr.  With it the
 * kernel marks the superblock SB_NOSEC, remembers per inode that there is
 * nothing to remove, and hands the clearing of set-user-ID and
 * set-group-ID bits on write and truncate to us: killpriv_drop().  There
 * is no security.capability to remove: only user.* attributes exist on the
 * mount (ops_xattr.c).  Chown needs nothing: the backing file system
 * clears the bits itself.
 *
 * libfuse builds the INIT reply from the capabilities it knows; handshake.c
 * adds the flag.
 */
#include <fcntl.h>
#include <linux/fuse.h>
#include <string.h>

#include "fs_private.h"

static bool same_gid(gid_t gid, const void *arg)
{
	return gid == *(const gid_t *)arg;
}

/* Is the caller in group @gid, as in_group_p() would say? */
static bool caller_in_group(fuse_req_t req, gid_t gid)
{
	return fuse_req_ctx(req)->gid == gid ||
	       policy_groups_any(req, same_gid, &gid);
}

/*
 * What the kernel does for a caller without CAP_FSETID (see
 * setattr_should_drop_suidgid()): a write or truncate clears set-user-ID,
 * and set-group-ID if the file is group-executable or the caller is not in
 * its group.  The daemon is root, so the backing file system would keep
 * them.  Root callers are taken to hold CAP_FSETID.  The kernel's copy of
 * the mode is dropped as well, because a WRITE reply carries none.
 */
int killpriv_drop(fuse_req_t req, fuse_ino_t ino, struct atr_inode *ai)
{
	mode_t kill = 0;
	char proc[64];
	struct stat st;
	int err, fd;

	/* Without the flag, the kernel clears the bits through SETATTR. */
	if (!atr_mnt(req)->killpriv || ai->type != S_IFREG ||
	    fuse_req_ctx(req)->uid == 0)
		return 0;
	/* Read-held, as for a chmod (atr_setattr()): not the old file of a rekey. */
	pthread_rwlock_rdlock(&ai->lock);
	fd = attr_procname(ai, proc);
	if (fd < 0) {
		err = fd;
		goto out_unlock;
	}
	err = fstatat(fd, "", &st, AT_EMPTY_PATH) ? -errno : 0;
	if (!err) {
		if (st.st_mode & S_ISUID)
			kill |= S_ISUID;
		if ((st.st_mode & S_ISGID) &&
		    ((st.st_mode & S_IXGRP) ||
		     !caller_in_group(req, st.st_gid)))
			kill |= S_ISGID;
	}
	if (!err && kill &&
	    fchmodat(AT_FDCWD, proc, st.st_mode & 07777 & ~kill, 0))
		err = -errno;
	ino_fd_put(ai);
out_unlock:
	pthread_rwlock_unlock(&ai->lock);
	if (kill && !err)
		fuse_lowlevel_notify_inval_inode(atr_mnt(req)->se, ino, -1, 0);
	return err;
}
