// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * volume/convert.c - a volume made before "bound" converted to bound
 * symlink targets and xattr values (atrestfs convert --bound), offline.
 *
 * Two steps, each leaving a volume that mounts and reads everything:
 *  1. the walk: every symlink target of the unbound form re-sealed for
 *     its place (a new link renamed over it, as rotate-kek does; a long
 *     target keeps its record and gains its tag), every inode with
 *     values given a value ID, which binds its older values first
 *     (volvid_make()).  An unbound volume reads both forms, so a walk cut
 *     short loses nothing, and walking again skips what is bound.
 *  2. the commit that sets "bound", under the config MAC: from then on
 *     readers refuse the unbound forms.
 * Anything that opens in neither form stops the walk before the commit:
 * bound, it would be refused for good, and the user is told to run fsck.
 * Borrows the KEK and the config; owns nothing past a call.
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
#include "../crypto/meta.h"
#include "../crypto/msg.h"
#include "../crypto/names.h"
#include "fsck.h"
#include "volume_private.h"

/* One conversion, single-threaded. */
struct conv {
	int rootfd;			/* the volume's directory; borrowed */
	const struct vol_config *cfg;	/* borrowed */
	const struct kek *kek;		/* borrowed */
	struct convert_stats *st;	/* the caller's */
	const char *dir;		/* how the volume is named in messages */
	uint8_t *box, *plain;		/* XATTR_SIZE_MAX each, owned */
	char *msg;
	size_t msglen;
};

/* Stop at @path, which readers would refuse once bound: fsck says more. */
static int damaged(struct conv *c, const char *path, const char *what)
{
	return msg_fail(c->msg, c->msglen, -EBADMSG, "%s/%s: %s; nothing is "
			"bound yet: run atrestfs fsck on the volume, mend or "
			"remove what it lists, then convert again", c->dir,
			path, what);
}

static int io_fail(struct conv *c, const char *path, int err,
		   const char *what)
{
	return msg_fail(c->msg, c->msglen, err, "%s/%s: cannot %s: %s", c->dir,
			path, what, strerror(-err));
}

/*
 * The values of file or directory @fd bound to its value ID, made (and
 * its older values re-sealed) if it has none; each then opens bound.
 */
static int bind_values(struct conv *c, int fd, const char *path)
{
	uint8_t vid[META_VID_LEN];
	ssize_t len = flistxattr(fd, NULL, 0), n;
	char *list, *p;
	int err = 0, has;

	if (len <= 0)
		return len < 0 && errno != ENOTSUP ?
		       io_fail(c, path, -errno, "list its xattrs") : 0;
	list = malloc((size_t)len);
	if (!list)
		return -ENOMEM;
	len = flistxattr(fd, list, (size_t)len);
	if (len < 0) {
		err = io_fail(c, path, -errno, "list its xattrs");
		goto out;
	}
	if (!volvid_listed(list, len))
		goto out;
	has = volvid_get(fd, vid);
	if (has == -ENODATA || has == VOLVID_PENDING)
		has = volvid_make(fd, c->kek, vid);
	if (has == -EIO) {
		err = damaged(c, path, "its value ID (xattr " META_VID_XATTR
			      ") is damaged");
		goto out;
	}
	if (has) {
		err = io_fail(c, path, has, "make its value ID");
		goto out;
	}
	for (p = list; !err && p < list + len; p += strlen(p) + 1) {
		if (!meta_xattr_sealed(p))
			continue;
		n = fgetxattr(fd, p, c->box, XATTR_SIZE_MAX);
		if (n < 0 && errno == ENODATA)
			continue;
		if (n < 0) {
			err = io_fail(c, path, -errno, "read an xattr");
			continue;
		}
		/* volvid_make() leaves what opens in neither form. */
		if (meta_xattr_open(c->kek, vid, p, c->box, (size_t)n,
				    c->plain)) {
			char what[XATTR_NAME_MAX + 128];

			snprintf(what, sizeof(what), "xattr %s: its value does "
				 "not authenticate (tampered, or copied from "
				 "another file)", p);
			err = damaged(c, path, what);
			continue;
		}
		OPENSSL_cleanse(c->plain, (size_t)n - AEAD_OVERHEAD);
		c->st->values++;
	}
out:
	free(list);
	return err;
}

/* The unbound target @backing sealed afresh for @at into *@out. */
static int reseal(struct conv *c, const struct meta_link_at *at,
		  const char *backing, char **out)
{
	char *target;
	int err = vollinks_open(c->rootfd, c->kek, NULL, backing, &target);

	if (err)
		return err;
	err = vollinks_seal(c->rootfd, c->kek, at, target, out);
	OPENSSL_cleanse(target, strlen(target));
	free(target);
	return err;
}

/* Symlink @name in @dfd re-sealed for its place, if it is not yet. */
static int bind_link(struct conv *c, int dfd, const char *name,
		     const char *path, const struct stat *st)
{
	char buf[PATH_MAX], *out = NULL;
	struct meta_link_at at;
	struct stat dst;
	ssize_t n = readlinkat(dfd, name, buf, sizeof(buf) - 1);
	int err;

	if (n < 0)
		return io_fail(c, path, -errno, "read the symbolic link");
	buf[n] = '\0';
	/* A plain-names directory gets its ID here, as at its first link. */
	err = vollinks_at(dfd, name, !c->cfg->opt.names_encrypted, &at);
	if (err == -ENODATA || err == -EIO)
		return damaged(c, path, "its directory's ID (xattr "
			       NAMES_DIRID_XATTR ") is missing or damaged");
	if (err)
		return io_fail(c, path, err, "give its directory an ID");
	/* Bound already: a conversion resumed. */
	if (!vollinks_open(c->rootfd, c->kek, &at, buf, &out)) {
		OPENSSL_cleanse(out, strlen(out));
		free(out);
		return 0;
	}
	/*
	 * Each name of a backing link with several gets a link of its own,
	 * as link(2) makes on a bound volume: one link carries one place,
	 * and a long target then needs a record of its own too, since a
	 * record goes with its link's last name.
	 */
	if (st->st_nlink > 1)
		err = reseal(c, &at, buf, &out);
	else
		err = vollinks_move(c->rootfd, c->kek, NULL, &at, buf, &out);
	if (err == -EBADMSG)
		return damaged(c, path, "symbolic link target does not "
			       "authenticate (tampered, or a long target's "
			       "record in " VOLLINKS_DIR " missing or "
			       "damaged)");
	if (err)
		return io_fail(c, path, err, "re-seal the symbolic link");
	/* The replaced link touches its directory: its times stay. */
	if (fstat(dfd, &dst))
		err = io_fail(c, path, -errno, "stat its directory");
	if (!err) {
		err = vollinks_replace(c->rootfd, dfd, name, st, out);
		if (err)
			err = io_fail(c, path, err, "replace the symbolic link");
	}
	free(out);
	if (!err && futimens(dfd, (struct timespec[2]){ dst.st_atim,
							dst.st_mtim }))
		err = io_fail(c, path, -errno, "restore its directory's times");
	if (!err)
		c->st->links++;
	return err;
}

static int convert_entry(void *ctx, int parent, const char *name,
			 const char *path, const struct stat *st, int err)
{
	struct conv *c = ctx;
	int fd;

	if (err == -EXDEV)
		return msg_fail(c->msg, c->msglen, err, "%s/%s: another file "
				"system is mounted there: unmount it, then "
				"convert again", c->dir, path);
	if (err)
		return io_fail(c, *path ? path : ".", err, "read it");
	/* Reserved on a bound volume: the mount would hide it. */
	if (!strncmp(name, VOLLINKS_TMP_PREFIX, strlen(VOLLINKS_TMP_PREFIX)))
		return msg_fail(c->msg, c->msglen, -EEXIST, "%s/%s: a bound "
				"volume reserves names starting with "
				VOLLINKS_TMP_PREFIX ": rename it through the "
				"mount, then convert again", c->dir, path);
	if (S_ISLNK(st->st_mode)) {
		err = bind_link(c, parent, name, path, st);
	} else if (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode)) {
		/* O_NONBLOCK: a FIFO swapped in since the stat is not waited on. */
		fd = openat(parent, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
			    O_CLOEXEC | (S_ISDIR(st->st_mode) ? O_DIRECTORY : 0));
		if (fd < 0)
			return io_fail(c, path, -errno, "open it");
		err = bind_values(c, fd, path);
		close(fd);
	}
	c->st->done++;
	return err;
}

int convert_bound(int dirfd, const char *dir, struct vol_config *cfg,
		  const struct kek *kek, struct convert_stats *st, char *msg,
		  size_t msglen)
{
	struct conv c = { .rootfd = dirfd, .cfg = cfg, .kek = kek,
			  .st = st, .dir = dir, .msg = msg, .msglen = msglen };
	int err = -ENOMEM;

	memset(st, 0, sizeof(*st));
	if (cfg->opt.bound)
		return -EALREADY;
	/* Re-sealed under the new KEK only, not mixed with a rotation's. */
	if (cfg->retiring.present || kek->retiring)
		return msg_fail(msg, msglen, -EBUSY, "a KEK rotation is under "
				"way: finish it first (atrestfs rotate-kek), "
				"then convert");
	if (unlinkat(dirfd, VOL_CONF_LINK_TMP, 0) && errno != ENOENT)
		return io_fail(&c, VOL_CONF_LINK_TMP, -errno, "remove it");
	c.box = malloc(XATTR_SIZE_MAX);
	c.plain = malloc(XATTR_SIZE_MAX);
	if (!c.box || !c.plain)
		goto out;
	err = bind_values(&c, dirfd, ".");
	if (!err)
		err = fsck_walk(dirfd, convert_entry, &c);
	if (err)
		goto out;
	/*
	 * Every re-sealed link and value on disk before the config that
	 * refuses their old form: its own fsync may persist that file alone.
	 */
	if (syncfs(dirfd)) {
		err = msg_fail(msg, msglen, -errno, "cannot flush the re-sealed "
			       "links and values to disk: %s", strerror(errno));
		goto out;
	}
	cfg->opt.bound = true;
	err = volkey_commit(dirfd, cfg, kek, msg, msglen);
	if (err)
		cfg->opt.bound = false;
out:
	free(c.box);
	/* A value that failed to open may have left a part of its text. */
	if (c.plain)
		OPENSSL_cleanse(c.plain, XATTR_SIZE_MAX);
	free(c.plain);
	return err;
}
