// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/ops_xattr.c - user extended attributes, with sealed values.
 *
 * Only the user namespace is offered: its values are user data and are
 * sealed (crypto/meta.c); security.* and trusted.* values would have to
 * stay plaintext for the kernel to use them, and POSIX ACLs are not
 * supported.  Every other namespace answers EOPNOTSUPP, as a filesystem
 * mounted without ACLs or labels does.  Names under
 * HDR_XATTR_PREFIX are the filesystem's own and do not exist as far as the
 * mount is concerned: not listed, not readable, not writable, not removable.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "../crypto/hdr.h"
#include "../crypto/meta.h"
#include "fs_private.h"

#define XATTR_MAX	(64 * 1024)

static bool reserved(const char *name)
{
	return !strncmp(name, HDR_XATTR_PREFIX, sizeof(HDR_XATTR_PREFIX) - 1);
}

static bool user_ns(const char *name)
{
	return !strncmp(name, "user.", 5) && !reserved(name);
}

/*
 * The answer for a name we do not serve.  EOPNOTSUPP rather than ENODATA
 * outside the user namespace is also what spares a round trip per file:
 * ls -l asks for security.selinux and system.posix_acl_access of every
 * file, and coreutils stops asking a device once it says EOPNOTSUPP, but
 * never after ENODATA (the kernel caches no xattr answer for FUSE).
 */
static int unserved(const char *name)
{
	return strncmp(name, "user.", 5) ? EOPNOTSUPP : ENODATA;
}

void atr_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		  const char *value, size_t size, int flags)
{
	struct atr_mount *m = atr_mnt(req);
	struct atr_inode *ai = itable_ino(m, ino);
	char proc[64];
	uint8_t *box;
	int err;

	if (reserved(name) || ai->type == S_IFLNK) {
		fuse_reply_err(req, EPERM);
		return;
	}
	if (!user_ns(name)) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	box = malloc(size + AEAD_OVERHEAD);
	if (!box) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	err = meta_xattr_seal(kek_get(m), name, value, size, box);
	kek_put(m);
	attr_procname(ai, proc);
	/* ->lock: an online rotation re-seals values under it (ctl.c). */
	pthread_rwlock_wrlock(&ai->lock);
	if (!err && setxattr(proc, name, box, size + AEAD_OVERHEAD, flags))
		err = -errno;
	pthread_rwlock_unlock(&ai->lock);
	free(box);
	fuse_reply_err(req, atr_errno(err));
}

void atr_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		  size_t size)
{
	struct atr_mount *m = atr_mnt(req);
	struct atr_inode *ai = itable_ino(m, ino);
	uint8_t *box = NULL, *val = NULL;
	char proc[64];
	ssize_t n;
	int err;

	if (!user_ns(name) || ai->type == S_IFLNK) {
		fuse_reply_err(req, unserved(name));
		return;
	}
	attr_procname(ai, proc);
	box = malloc(XATTR_MAX);
	val = malloc(XATTR_MAX);
	err = -ENOMEM;
	if (!box || !val)
		goto out_reply;
	n = getxattr(proc, name, box, XATTR_MAX);
	err = -errno;
	if (n < 0)
		goto out_reply;
	err = meta_xattr_open(kek_get(m), name, box, (size_t)n, val);
	kek_put(m);
	if (err == -EBADMSG)
		atr_log_inode(LOG_ERR, ai, "xattr %s does not authenticate", name);
	if (err)
		goto out_reply;
	n -= AEAD_OVERHEAD;
	if (size == 0)
		fuse_reply_xattr(req, (size_t)n);
	else if (size < (size_t)n)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, (char *)val, (size_t)n);
	free(box);
	free(val);
	return;
out_reply:
	free(box);
	free(val);
	fuse_reply_err(req, atr_errno(err));
}

void atr_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct atr_inode *ai = itable_ino(atr_mnt(req), ino);
	char proc[64], *names = NULL, *p;
	size_t len = 0, name_len;
	ssize_t n;

	if (ai->type == S_IFLNK)
		goto out_reply;
	attr_procname(ai, proc);
	/*
	 * One call into a buffer of the largest list Linux makes: asking for
	 * the size first raced with anyone changing the backing file's
	 * xattrs in between (an empty list then a longer one overran).
	 */
	names = malloc(XATTR_LIST_MAX + 1);
	if (!names) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	n = listxattr(proc, names, XATTR_LIST_MAX);
	if (n < 0) {
		fuse_reply_err(req, errno);
		goto out_free;
	}
	names[n] = '\0';
	/* The user's names, moved down in place: the kept never overtake. */
	for (p = names; p < names + n; p += name_len + 1) {
		name_len = strlen(p);
		if (!user_ns(p))
			continue;
		memmove(names + len, p, name_len + 1);
		len += name_len + 1;
	}
out_reply:
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (size < len)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, names, len);
out_free:
	free(names);
}

void atr_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct atr_inode *ai = itable_ino(atr_mnt(req), ino);
	char proc[64];
	int err;

	if (!user_ns(name) || ai->type == S_IFLNK) {
		fuse_reply_err(req, reserved(name) ? ENODATA : EOPNOTSUPP);
		return;
	}
	attr_procname(ai, proc);
	pthread_rwlock_wrlock(&ai->lock);
	err = removexattr(proc, name) ? errno : 0;
	pthread_rwlock_unlock(&ai->lock);
	fuse_reply_err(req, err);
}
