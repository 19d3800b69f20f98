// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * volume/vid.c - a file's or directory's value ID (crypto/meta.h), which
 * binds its xattr values to it, read from the untrusted backing directory
 * and checked, or made at its first value.  The daemon, rotate-kek,
 * convert, rekey and fsck share these.  Also the one reader of an ID kept
 * in an xattr, which the directory ID (names.c) uses too.
 */
#include <errno.h>
#include <linux/limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include <openssl/crypto.h>

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

	/*
	 * An fd open for reading (a listing's) answers directly, in a
	 * fifth of the time of the path through /proc (1.0 against 5.7 us,
	 * performance.md); an O_PATH fd fails it at once with EBADF.
	 */
	n = fgetxattr(fd, name, buf, len + 1);
	if (n < 0 && errno == EBADF) {
		proc_name(fd, proc);
		n = getxattr(proc, name, buf, len + 1);
	}
	if (n < 0 && errno == ENODATA)
		return -ENODATA;
	if (n != (ssize_t)len)
		return -EIO;
	memcpy(id, buf, len);
	return 0;
}

int volvid_get(int fd, uint8_t vid[META_VID_LEN])
{
	int err = volvid_read(fd, META_VID_XATTR, vid, META_VID_LEN);

	if (err != -ENODATA)
		return err;
	err = volvid_read(fd, META_VID_NEW_XATTR, vid, META_VID_LEN);
	return err ? err : VOLVID_PENDING;
}

int volvid_open(const struct kek *kek, bool bound, int has,
		const uint8_t *vid, const char *name, const void *box,
		size_t box_len, void *out)
{
	int err = has == -ENODATA ? -EBADMSG :
		  meta_xattr_open(kek, vid, name, box, box_len, out);

	/*
	 * The older form only where the inode has no ID (yet), and never on
	 * a bound volume, which has none: else deleting an ID would let an
	 * older value be moved.
	 */
	if (err == -EBADMSG && has != 0 && !bound)
		err = meta_xattr_open(kek, NULL, name, box, box_len, out);
	return err;
}

/*
 * Every sealed value of @proc in the older form re-sealed under @kek,
 * bound to @vid.  One bound already (a conversion resumed) or one that
 * opens in neither form (damaged: readers say so) is left as it is.
 */
static int rebind_values(const char *proc, const struct kek *kek,
			 const uint8_t vid[META_VID_LEN])
{
	char *list = malloc(XATTR_LIST_MAX), *p;
	uint8_t *box = malloc(XATTR_SIZE_MAX), *plain = malloc(XATTR_SIZE_MAX);
	ssize_t len, n;
	int err = -ENOMEM;

	if (!list || !box || !plain)
		goto out_free;
	len = listxattr(proc, list, XATTR_LIST_MAX);
	err = len < 0 ? -errno : 0;
	for (p = list; !err && p < list + len; p += strlen(p) + 1) {
		if (!meta_xattr_sealed(p))
			continue;
		n = getxattr(proc, p, box, XATTR_SIZE_MAX);
		if (n < 0) {
			err = errno == ENODATA ? 0 : -errno;
			continue;
		}
		if (!meta_xattr_open(kek, vid, p, box, (size_t)n, plain) ||
		    meta_xattr_open(kek, NULL, p, box, (size_t)n, plain))
			continue;
		err = meta_xattr_seal(kek, vid, p, plain, (size_t)n -
				      AEAD_OVERHEAD, box);
		OPENSSL_cleanse(plain, (size_t)n - AEAD_OVERHEAD);
		if (!err && setxattr(proc, p, box, (size_t)n, XATTR_REPLACE))
			err = -errno;
	}
out_free:
	free(list);
	free(box);
	free(plain);
	return err;
}

bool volvid_listed(const char *list, ssize_t n)
{
	const char *p;

	for (p = list; p < list + n; p += strlen(p) + 1)
		if (meta_xattr_sealed(p))
			return true;
	return false;
}

int volvid_make(int fd, const struct kek *kek, uint8_t vid[META_VID_LEN])
{
	char proc[64];
	int err = volvid_get(fd, vid);

	proc_name(fd, proc);
	if (err == -ENODATA) {
		err = rand_fill(vid, META_VID_LEN);
		if (!err && setxattr(proc, META_VID_NEW_XATTR, vid,
				     META_VID_LEN, 0))
			err = -errno;
		if (!err)
			err = VOLVID_PENDING;
	}
	if (err != VOLVID_PENDING)
		return err;
	/*
	 * The ID is pending until every older value is bound to it: a crash
	 * in between leaves values of both forms, which a pending ID reads,
	 * and the next maker resumes with the same ID.
	 */
	err = rebind_values(proc, kek, vid);
	if (!err && setxattr(proc, META_VID_XATTR, vid, META_VID_LEN,
			     XATTR_CREATE))
		err = -errno;
	if (!err)
		removexattr(proc, META_VID_NEW_XATTR);
	return err;
}
