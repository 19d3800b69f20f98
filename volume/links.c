// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * volume/links.c - symlink targets of any length up to PATH_MAX - 1.
 *
 * A target of up to META_LINK_SHORT_MAX bytes is sealed into the backing
 * target itself (crypto/meta.c).  A longer one no longer fits once sealed
 * and encoded, and Linux allows no user xattr on a symlink, so its box is
 * a record in the volume's link store, VOLLINKS_DIR at the root, named by
 * a random link ID that the backing target carries (and the box's AAD
 * binds).  A store per volume rather than a record beside the link: a
 * symlink may have hard links in several directories, and a rename then
 * moves nothing.  The record is written and fsynced, its entry too (and
 * the store's, when it is made), before the link is made, and removed
 * once the link's last name is gone, so a crash (or a power loss) leaves
 * at worst a record without a link.
 *
 * On a bound volume (crypto/meta.h struct meta_link_at) a link is sealed
 * for its place: its directory's ID (made at the first link in a
 * plain-names directory) and its backing name.  A long target's record
 * stays bound to its link ID only; the link's tag binds the place.
 *
 * The daemon (fs/ops_entry.c), fsck, rotate-kek and convert share these
 * readers.
 * Owns nothing past a call; the KEK is borrowed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "../crypto/aead.h"
#include "../crypto/codec.h"
#include "../crypto/meta.h"
#include "volume.h"

#define BOX_MAX		(META_LINK_MAX + AEAD_OVERHEAD)
#define ID_HEX_LEN	(2 * META_LINK_ID_LEN)

/* fsync the directory @dfd (O_PATH too, so through "."): 0 or -errno. */
static int sync_dir(int dfd)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd))
		err = -errno;
	close(fd);
	return err;
}

/* The root's mark (VOLLINKS_MARK_XATTR), by /proc: @rootfd may be O_PATH. */
static bool marked(int rootfd)
{
	char proc[64], buf[sizeof(VOLLINKS_MARK)];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", rootfd);
	return getxattr(proc, VOLLINKS_MARK_XATTR, buf, sizeof(buf)) ==
	       sizeof(VOLLINKS_MARK) - 1 &&
	       !memcmp(buf, VOLLINKS_MARK, sizeof(VOLLINKS_MARK) - 1);
}

bool vollinks_ours(int rootfd)
{
	return marked(rootfd) ||
	       (faccessat(rootfd, VOLLINKS_DIR, F_OK, AT_SYMLINK_NOFOLLOW) &&
		errno == ENOENT);
}

/*
 * The store below @rootfd, made if @make; an fd, or -errno: -EEXIST if
 * the name is a user's entry.  The root is marked before the store is
 * made, so a crash in between leaves the name the volume's.
 */
static int store_open(int rootfd, bool make)
{
	char proc[64];
	int fd, err;

	if (!marked(rootfd)) {
		if (!vollinks_ours(rootfd))
			return -EEXIST;
		if (!make)
			return -ENOENT;
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", rootfd);
		if (setxattr(proc, VOLLINKS_MARK_XATTR, VOLLINKS_MARK,
			     sizeof(VOLLINKS_MARK) - 1, 0))
			return -errno;
	}
	if (make && !mkdirat(rootfd, VOLLINKS_DIR, 0700)) {
		/* The store's entry (and the mark) before any link needs it. */
		err = sync_dir(rootfd);
		if (err)
			return err;
	} else if (make && errno != EEXIST) {
		return -errno;
	}
	fd = openat(rootfd, VOLLINKS_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/*
 * @box (@len bytes) as the new file @name in @sfd, fsynced with its entry
 * (the link that names it follows): 0 or -errno.
 */
static int record_write(int sfd, const char *name, const uint8_t *box,
			size_t len)
{
	int fd = openat(sfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
			O_CLOEXEC, 0400);
	ssize_t n;
	int err = 0;

	if (fd < 0)
		return -errno;
	n = write(fd, box, len);
	if (n != (ssize_t)len)
		err = n < 0 ? -errno : -ENOSPC;
	if (!err && fsync(fd))
		err = -errno;
	close(fd);
	if (!err)
		err = sync_dir(sfd);
	if (err)
		unlinkat(sfd, name, 0);
	return err;
}

int vollinks_seal(int rootfd, const struct kek *kek,
		  const struct meta_link_at *at, const char *target,
		  char **backing)
{
	uint8_t id[META_LINK_ID_LEN], *box = NULL;
	size_t len = strlen(target);
	char hex[ID_HEX_LEN + 1], *s = NULL;
	int sfd, err;

	if (len <= META_LINK_SHORT_MAX)
		return meta_link_seal(kek, at, target, backing);
	if (len > META_LINK_MAX)
		return -ENAMETOOLONG;
	box = malloc(len + AEAD_OVERHEAD);
	s = malloc(META_LINK_LONG_LEN + 1);
	err = -ENOMEM;
	if (!box || !s)
		goto out_free;
	err = rand_fill(id, sizeof(id));
	if (!err)
		err = meta_link_long_seal(kek, id, target, box);
	if (err)
		goto out_free;
	sfd = store_open(rootfd, true);
	err = sfd;
	if (sfd < 0)
		goto out_free;
	hex_encode(id, sizeof(id), hex);
	err = record_write(sfd, hex, box, len + AEAD_OVERHEAD);
	close(sfd);
	if (err)
		goto out_free;
	meta_link_long_name(id, len, s);
	err = meta_link_long_bind(kek, at, s, strlen(s), backing);
	if (err) {
		vollinks_drop(rootfd, s);
		goto out_free;
	}
out_free:
	free(box);
	free(s);
	return err;
}

/*
 * The record of link ID @id (@hex) into @box (BOX_MAX + 1): its length,
 * or -EBADMSG if it is missing or not a regular file.
 */
static ssize_t record_read(int rootfd, const char *hex, uint8_t *box)
{
	struct stat st;
	ssize_t n;
	int sfd = store_open(rootfd, false), fd;

	if (sfd < 0)
		return -EBADMSG;
	/* Not a FIFO's open that never returns, not a symlink followed. */
	fd = openat(sfd, hex, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	close(sfd);
	if (fd < 0)
		return -EBADMSG;
	n = -EBADMSG;
	if (!fstat(fd, &st) && S_ISREG(st.st_mode))
		n = read(fd, box, BOX_MAX + 1);
	close(fd);
	return n < 0 ? -EBADMSG : n;
}

int vollinks_open(int rootfd, const struct kek *kek,
		  const struct meta_link_at *at, const char *backing, char **out)
{
	uint8_t id[META_LINK_ID_LEN], *box;
	char hex[ID_HEX_LEN + 1];
	size_t len;
	ssize_t n;
	int err = meta_link_long_parse(backing, strlen(backing), id, &len);

	if (err <= 0)
		return err ? err : meta_link_open(kek, at, backing, out);
	err = meta_link_long_check(kek, at, backing, strlen(backing));
	if (err)
		return err;
	box = malloc(BOX_MAX + 1);
	if (!box)
		return -ENOMEM;
	hex_encode(id, sizeof(id), hex);
	n = record_read(rootfd, hex, box);
	err = n < 0 ? (int)n :
	      meta_link_long_open(kek, id, len, box, (size_t)n, out);
	free(box);
	return err;
}

int vollinks_move(int rootfd, const struct kek *kek,
		  const struct meta_link_at *from, const struct meta_link_at *to,
		  const char *backing, char **out)
{
	char *target;
	size_t blen = strlen(backing), len;
	int err = vollinks_open(rootfd, kek, from, backing, &target);

	if (err)
		return err;
	len = strlen(target);
	/* A long target keeps its record: only the link's tag changes. */
	if (len > META_LINK_SHORT_MAX)
		err = meta_link_long_bind(kek, to, backing, blen, out);
	else
		err = meta_link_seal(kek, to, target, out);
	OPENSSL_cleanse(target, len);
	free(target);
	return err;
}

int vollinks_at(int dirfd, const char *name, bool make,
		struct meta_link_at *at)
{
	char proc[64];
	int err = volnames_dirid(dirfd, at->dirid);

	at->name = name;
	if (err != -ENODATA || !make)
		return err;
	/*
	 * A plain-names directory gets an ID at its first bound link; a
	 * racing maker's ID wins (XATTR_CREATE) and is read back.
	 */
	err = rand_fill(at->dirid, NAMES_DIRID_LEN);
	if (err)
		return err;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dirfd);
	if (setxattr(proc, NAMES_DIRID_XATTR, at->dirid, NAMES_DIRID_LEN,
		     XATTR_CREATE) && errno != EEXIST)
		return -errno;
	return volnames_dirid(dirfd, at->dirid);
}

void vollinks_drop(int rootfd, const char *backing)
{
	uint8_t id[META_LINK_ID_LEN];
	char hex[ID_HEX_LEN + 1];
	size_t len;
	int sfd;

	if (meta_link_long_parse(backing, strlen(backing), id, &len) != 1)
		return;
	sfd = store_open(rootfd, false);
	if (sfd < 0)
		return;
	hex_encode(id, sizeof(id), hex);
	unlinkat(sfd, hex, 0);
	close(sfd);
}

int vollinks_reseal(int rootfd, const struct kek *kek, const char *backing)
{
	uint8_t id[META_LINK_ID_LEN], *box;
	char hex[ID_HEX_LEN + 1], tmp[ID_HEX_LEN + 5], *target = NULL;
	size_t len;
	ssize_t n;
	int err = meta_link_long_parse(backing, strlen(backing), id, &len), sfd;

	if (err <= 0)
		return err;
	box = malloc(BOX_MAX + 1);
	if (!box)
		return -ENOMEM;
	hex_encode(id, sizeof(id), hex);
	n = record_read(rootfd, hex, box);
	err = (int)n;
	if (n < 0)
		goto out_free;
	/* Under the new KEK already (a walk resumed): nothing to do. */
	err = kek->retiring ? meta_link_long_open(kek->retiring, id, len, box,
						  (size_t)n, &target) : 1;
	if (err) {
		err = meta_link_long_open(kek, id, len, box, (size_t)n,
					  &target);
		goto out_free;
	}
	err = meta_link_long_seal(kek, id, target, box);
	if (err)
		goto out_free;
	sfd = store_open(rootfd, false);
	err = sfd;
	if (sfd < 0)
		goto out_free;
	/* A new record renamed over the old one: the old box or the new. */
	memcpy(tmp, hex, ID_HEX_LEN);
	memcpy(tmp + ID_HEX_LEN, ".new", 5);
	unlinkat(sfd, tmp, 0);
	err = record_write(sfd, tmp, box, len + AEAD_OVERHEAD);
	if (!err && renameat(sfd, tmp, sfd, hex)) {
		err = -errno;
		unlinkat(sfd, tmp, 0);
	}
	close(sfd);
	if (!err)
		err = 1;
out_free:
	if (target)
		OPENSSL_cleanse(target, len);
	free(target);
	free(box);
	return err;
}

int vollinks_replace(int rootfd, int dfd, const char *name,
		     const struct stat *st, const char *backing)
{
	struct timespec ts[2] = { st->st_atim, st->st_mtim };
	int err = 0;

	unlinkat(rootfd, VOL_CONF_LINK_TMP, 0);
	if (symlinkat(backing, rootfd, VOL_CONF_LINK_TMP) ||
	    (fchownat(rootfd, VOL_CONF_LINK_TMP, st->st_uid, st->st_gid,
		      AT_SYMLINK_NOFOLLOW) && errno != EPERM) ||
	    utimensat(rootfd, VOL_CONF_LINK_TMP, ts, AT_SYMLINK_NOFOLLOW) ||
	    renameat(rootfd, VOL_CONF_LINK_TMP, dfd, name)) {
		err = -errno;
		unlinkat(rootfd, VOL_CONF_LINK_TMP, 0);
	}
	return err;
}
