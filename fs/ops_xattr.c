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
 *
 * Values are bound to their inode by its value ID (crypto/meta.h), made at
 * its first setxattr, which binds its older values too, and cached in the
 * inode; an inode without one (its values all older) reads the older
 * form, bound to the name only, and one with an ID only the bound form.
 *
 * On a volume with encrypted names the user's names are hidden too: each
 * is stored under a keyed hash of it (crypto/names.h), and the name is
 * sealed with the value, ahead of it, as "name NUL value".  The value is
 * bound to the hashed name, and the name in it is checked on every read.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "../crypto/hdr.h"
#include "../crypto/meta.h"
#include "../volume/volume.h"
#include "fs_private.h"

#define XATTR_MAX	(64 * 1024)

/* The backing name of the user's @name into @out (XATTR_NAME_MAX + 1). */
static int backing_name(const struct atr_mount *m, const char *name,
			char *out)
{
	if (!m->xname_key) {
		snprintf(out, XATTR_NAME_MAX + 1, "%s", name);
		return 0;
	}
	return names_xattr_name(m->xname_key, name + 5, out);
}

/*
 * The sealed plaintext of an xattr: the value, after "name NUL" with
 * encrypted names.  Its length, or -E2BIG past what a value may hold.
 */
static ssize_t xattr_plain(const struct atr_mount *m, const char *name,
			   const char *value, size_t size, uint8_t *out)
{
	size_t head = m->xname_key ? strlen(name + 5) + 1 : 0;

	if (head + size + AEAD_OVERHEAD > XATTR_MAX)
		return -E2BIG;
	memcpy(out, name + 5, head);
	memcpy(out + head, value, size);
	return (ssize_t)(head + size);
}

/*
 * Where the user's value starts in an opened plaintext of @len bytes: 0
 * on plain volumes; with encrypted names, after the name, which must be
 * @name (NULL: any, put in @found for listxattr).  -EBADMSG otherwise.
 */
static ssize_t xattr_value_at(const struct atr_mount *m, const char *name,
			      const uint8_t *plain, size_t len,
			      const char **found)
{
	const uint8_t *nul;

	if (!m->xname_key)
		return 0;
	nul = memchr(plain, '\0', len);
	if (!nul || nul == plain)
		return -EBADMSG;
	if (name && strcmp((const char *)plain, name + 5))
		return -EBADMSG;
	if (found)
		*found = (const char *)plain;
	return nul + 1 - plain;
}

/*
 * The value ID of @ai into @vid: volvid_get()'s answer, cached once the
 * inode has one.  With @kek (->lock write-held then) it is made first,
 * and the older values bound to it (volvid_make()).  -EIO if it is
 * damaged (logged: no value of the inode opens).
 */
static int vid_get(struct atr_inode *ai, const struct kek *kek,
		   uint8_t vid[META_VID_LEN])
{
	bool ok;
	int err = 0, fd;

	if (!kek) {
		pthread_rwlock_rdlock(&ai->lock);
		ok = ai->vid_ok;
		if (ok)
			memcpy(vid, ai->vid, META_VID_LEN);
		pthread_rwlock_unlock(&ai->lock);
		if (ok)
			return 0;
		pthread_rwlock_wrlock(&ai->lock);
	}
	if (!ai->vid_ok) {
		fd = ino_fd_get(ai);
		err = fd < 0 ? fd : kek ? volvid_make(fd, kek, ai->vid) :
		      volvid_get(fd, ai->vid);
		if (fd >= 0)
			ino_fd_put(ai);
		ai->vid_ok = !err;
	}
	if (!err || err == VOLVID_PENDING)
		memcpy(vid, ai->vid, META_VID_LEN);
	if (!kek)
		pthread_rwlock_unlock(&ai->lock);
	if (err == -EIO)
		atr_log_inode(LOG_ERR, ai, "value ID (xattr " META_VID_XATTR
			      ") is damaged: its xattr values cannot be read");
	return err;
}

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
	char proc[64], bname[XATTR_NAME_MAX + 1];
	uint8_t *box, *plain = NULL, vid[META_VID_LEN];
	const struct kek *kek;
	ssize_t n;
	int err, pfd;

	if (reserved(name) || ai->type == S_IFLNK) {
		fuse_reply_err(req, EPERM);
		return;
	}
	if (!user_ns(name)) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	box = malloc(XATTR_MAX);
	plain = malloc(XATTR_MAX);
	err = -ENOMEM;
	if (!box || !plain)
		goto out;
	n = xattr_plain(m, name, value, size, plain);
	err = n < 0 ? (int)n : backing_name(m, name, bname);
	pfd = err ? -1 : attr_procname(ai, proc);
	if (pfd < 0 && !err)
		err = pfd;
	/*
	 * ->lock before the KEK, held from the seal to the write: an online
	 * rotation re-seals values under ->lock (ctl.c), so a value sealed
	 * under the old KEK is written before the walk reaches the inode.
	 */
	pthread_rwlock_wrlock(&ai->lock);
	kek = kek_get(m);
	if (!err)
		err = vid_get(ai, kek, vid);
	if (!err)
		err = meta_xattr_seal(kek, vid, bname, plain, (size_t)n, box);
	kek_put(m);
	if (!err && setxattr(proc, bname, box, (size_t)n + AEAD_OVERHEAD,
			     flags))
		err = -errno;
	pthread_rwlock_unlock(&ai->lock);
	if (pfd >= 0)
		ino_fd_put(ai);
out:
	free(box);
	free(plain);
	fuse_reply_err(req, atr_errno(err));
}

void atr_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		  size_t size)
{
	struct atr_mount *m = atr_mnt(req);
	struct atr_inode *ai = itable_ino(m, ino);
	uint8_t *box = NULL, *val = NULL, vid[META_VID_LEN];
	char proc[64], bname[XATTR_NAME_MAX + 1];
	ssize_t n, at;
	int err, has;

	if (!user_ns(name) || ai->type == S_IFLNK) {
		fuse_reply_err(req, unserved(name));
		return;
	}
	err = backing_name(m, name, bname);
	if (err) {
		fuse_reply_err(req, atr_errno(err));
		return;
	}
	err = attr_procname(ai, proc);
	if (err < 0) {
		fuse_reply_err(req, -err);
		return;
	}
	box = malloc(XATTR_MAX);
	val = malloc(XATTR_MAX);
	n = box && val ? getxattr(proc, bname, box, XATTR_MAX) : -1;
	err = box && val ? -errno : -ENOMEM;
	ino_fd_put(ai);
	if (n < 0)
		goto out_reply;
	has = vid_get(ai, NULL, vid);
	err = has;
	if (has < 0 && has != -ENODATA)
		goto out_reply;
	err = volvid_open(kek_get(m), m->bound, has, vid, bname, box, (size_t)n, val);
	kek_put(m);
	n -= AEAD_OVERHEAD;
	at = err ? 0 : xattr_value_at(m, name, val, (size_t)n, NULL);
	if (at < 0)
		err = (int)at;
	if (err == -EBADMSG)
		atr_log_inode(LOG_ERR, ai, "xattr %s does not authenticate", bname);
	if (err)
		goto out_reply;
	n -= at;
	if (size == 0)
		fuse_reply_xattr(req, (size_t)n);
	else if (size < (size_t)n)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, (char *)val + at, (size_t)n);
	free(box);
	free(val);
	return;
out_reply:
	free(box);
	free(val);
	fuse_reply_err(req, atr_errno(err));
}

/*
 * With encrypted names: the user's names of the backing list @names (@n
 * bytes), opened from their values, into @out (XATTR_LIST_MAX); its
 * length, or -errno.  A value that does not open is left out and logged.
 */
static ssize_t list_hidden(struct atr_mount *m, struct atr_inode *ai,
			   const char *proc, const char *names, size_t n,
			   char *out)
{
	uint8_t *box = malloc(XATTR_MAX), *val = malloc(XATTR_MAX);
	uint8_t vid[META_VID_LEN];
	const char *p, *found = NULL;
	size_t len = 0, nl;
	ssize_t vn = -ENOMEM, at;
	int has;

	if (!box || !val)
		goto out;
	has = vid_get(ai, NULL, vid);
	vn = has;
	if (has < 0 && has != -ENODATA)
		goto out;
	for (p = names; p < names + n; p += strlen(p) + 1) {
		if (strncmp(p, NAMES_XATTR_PREFIX,
			    sizeof(NAMES_XATTR_PREFIX) - 1)) {
			if (user_ns(p))
				atr_log_inode(LOG_WARNING, ai, "xattr %s is not "
					      "one atrestfs made; left out", p);
			continue;
		}
		vn = getxattr(proc, p, box, XATTR_MAX);
		if (vn < 0) {
			if (errno == ENODATA)
				continue;	/* removed meanwhile */
			vn = -errno;
			goto out;
		}
		at = -EBADMSG;
		if (!volvid_open(kek_get(m), m->bound, has, vid, p, box, (size_t)vn,
				 val))
			at = xattr_value_at(m, NULL, val, (size_t)vn -
					    AEAD_OVERHEAD, &found);
		kek_put(m);
		if (at < 0) {
			atr_log_inode(LOG_ERR, ai, "xattr %s does not "
				      "authenticate; left out", p);
			continue;
		}
		nl = strlen(found);
		vn = -E2BIG;
		if (len + 5 + nl + 1 > XATTR_LIST_MAX)
			goto out;
		memcpy(out + len, "user.", 5);
		memcpy(out + len + 5, found, nl + 1);
		len += 5 + nl + 1;
	}
	vn = (ssize_t)len;
out:
	free(box);
	free(val);
	return vn;
}

void atr_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct atr_mount *m = atr_mnt(req);
	struct atr_inode *ai = itable_ino(m, ino);
	char proc[64], *names = NULL, *p, *hidden = NULL;
	size_t len = 0, name_len;
	ssize_t n;
	int pfd = -1, err;

	if (ai->type == S_IFLNK)
		goto out_reply;
	pfd = attr_procname(ai, proc);
	if (pfd < 0) {
		fuse_reply_err(req, -pfd);
		return;
	}
	/*
	 * One call into a buffer of the largest list Linux makes: asking for
	 * the size first raced with anyone changing the backing file's
	 * xattrs in between (an empty list then a longer one overran).
	 */
	names = malloc(XATTR_LIST_MAX + 1);
	err = ENOMEM;
	if (!names)
		goto out_err;
	n = listxattr(proc, names, XATTR_LIST_MAX);
	err = errno;
	if (n < 0)
		goto out_err;
	names[n] = '\0';
	if (m->xname_key) {
		hidden = malloc(XATTR_LIST_MAX);
		n = hidden ? list_hidden(m, ai, proc, names, (size_t)n, hidden) :
		    -ENOMEM;
		err = (int)-n;
		if (n < 0) {
			free(hidden);
			goto out_err;
		}
		free(names);
		names = hidden;
		len = (size_t)n;
		goto out_reply;
	}
	/* The user's names, moved down in place: the kept never overtake. */
	for (p = names; p < names + n; p += name_len + 1) {
		name_len = strlen(p);
		if (!user_ns(p))
			continue;
		memmove(names + len, p, name_len + 1);
		len += name_len + 1;
	}
out_reply:
	/* Before the reply: after it the kernel may forget the inode. */
	if (pfd >= 0)
		ino_fd_put(ai);
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (size < len)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, names, len);
	free(names);
	return;
out_err:
	ino_fd_put(ai);
	fuse_reply_err(req, err);
	free(names);
}

void atr_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct atr_mount *m = atr_mnt(req);
	struct atr_inode *ai = itable_ino(m, ino);
	char proc[64], bname[XATTR_NAME_MAX + 1];
	int err;

	if (!user_ns(name) || ai->type == S_IFLNK) {
		fuse_reply_err(req, reserved(name) ? ENODATA : EOPNOTSUPP);
		return;
	}
	err = backing_name(m, name, bname);
	if (err) {
		fuse_reply_err(req, atr_errno(err));
		return;
	}
	err = attr_procname(ai, proc);
	if (err < 0)
		return (void)fuse_reply_err(req, -err);
	pthread_rwlock_wrlock(&ai->lock);
	err = removexattr(proc, bname) ? errno : 0;
	pthread_rwlock_unlock(&ai->lock);
	ino_fd_put(ai);
	fuse_reply_err(req, err);
}
