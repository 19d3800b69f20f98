// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/ops_entry.c - names and attributes: lookup, forget, getattr, setattr,
 * the node makers (mkdir, mknod, symlink, link), unlink, rmdir, rename,
 * readlink, statfs.  Handlers decode, call a helper that returns 0/-errno
 * and reply exactly once.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "../crypto/codec.h"
#include "../crypto/meta.h"
#include "../crypto/volume.h"
#include "../volume/rekey.h"
#include "../volume/volume.h"
#include "fs_private.h"

/*
 * atrestfs.conf and its temporaries (volconf_store(), rotate-kek's re-sealed
 * link, which a crash may leave) must not be reachable through the mount;
 * other names that start the same are ordinary.  In
 * every directory, a rekey's new copy (volume/rekey.h) or, on a bound
 * volume, a rename's re-sealed link (volume/links.c) that a crash left
 * named is not a user's file: the old one beside it is the one.  (An
 * older volume's renames make none, and its users' names stay theirs.)
 */
bool entry_reserved(struct atr_mount *m, struct atr_inode *parent,
		    const char *name)
{
	if (!strncmp(name, REKEY_TMP_PREFIX, strlen(REKEY_TMP_PREFIX)) ||
	    (m->bound && !strncmp(name, VOLLINKS_TMP_PREFIX,
				  strlen(VOLLINKS_TMP_PREFIX))))
		return true;
	return parent == &m->root &&
	       (!strcmp(name, VOL_CONF_NAME) ||
		!strcmp(name, VOL_CONF_TMP) ||
		!strcmp(name, VOL_CONF_LINK_TMP) ||
		(!strcmp(name, VOLLINKS_DIR) &&
		 (m->names_key || vollinks_ours(m->root.fd))));
}

int entry_pin(struct atr_inode *dir, const char *name, struct stat *st)
{
	int fd = ino_openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0), err;

	if (fd < 0)
		return -errno;
	if (fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/*
 * The place @bname in @dir, where a link is made or moved to, into @at,
 * the directory's ID made first if names are plain: 0, -EIO (a damaged
 * ID, or none with encrypted names), -errno.
 */
static int link_dest(struct atr_mount *m, struct atr_inode *dir,
		     const char *bname, struct meta_link_at *at)
{
	int dfd = ino_fd_get(dir), err;

	if (dfd < 0)
		return dfd;
	err = vollinks_at(dfd, bname, !m->names_key, at);
	ino_fd_put(dir);
	return err == -ENODATA ? -EIO : err;
}

/*
 * The place of the link @bname in @dir into @at, its directory's ID made
 * first if @make and names are plain: 0; -EIO (no or a damaged ID),
 * -errno.  On an unbound volume new links are sealed with no place (1
 * with @make), and a place is found only where a conversion to bound
 * that is not finished (volume/convert.c) may have bound a link: 1
 * where the directory has no ID.
 */
static int link_place(struct atr_mount *m, struct atr_inode *dir,
		      const char *bname, bool make, struct meta_link_at *at)
{
	int dfd, err;

	if (make)
		return m->bound ? link_dest(m, dir, bname, at) : 1;
	dfd = ino_fd_get(dir);
	if (dfd < 0)
		return dfd;
	err = vollinks_at(dfd, bname, false, at);
	ino_fd_put(dir);
	if (!m->bound && (err == -ENODATA || err == -EIO))
		return 1;
	return err == -ENODATA ? -EIO : err;
}

/*
 * A symlink looked up at @bname in @dir, with @nlink backing names: its
 * place is kept (readlink opens its target there).  Found at another
 * place while it has a second name, it has a name the mount never made
 * (a link copies), so a target could be shown at a name it was not
 * sealed for; found in a directory without an ID, it has no place:
 * either way it reads as EIO.  With one name, the place it is found at
 * is its only one, and replaces the kept one: the inode number may be a
 * new link's (the old one renamed over and its fd closed), or a second
 * name may have gone.  A failure to read the place (EMFILE, ENOMEM)
 * changes nothing: the next lookup tries again.
 */
static void link_seen(struct atr_mount *m, struct atr_inode *dir,
		      const char *bname, nlink_t nlink, struct atr_inode *ai)
{
	struct meta_link_at at, *keep = NULL;
	size_t n = strlen(bname);
	int err = link_place(m, dir, bname, false, &at);
	bool same;

	if (err == 1 || (err && err != -EIO))
		return;		/* unbound link, or try again */
	if (!err)
		keep = malloc(sizeof(*keep) + n + 1);
	if (keep) {
		memcpy(keep->dirid, at.dirid, NAMES_DIRID_LEN);
		keep->name = memcpy((char *)(keep + 1), bname, n + 1);
	}
	pthread_rwlock_wrlock(&ai->lock);
	same = !err && ai->link_at &&
	       !memcmp(ai->link_at->dirid, at.dirid, NAMES_DIRID_LEN) &&
	       !strcmp(ai->link_at->name, bname);
	if (err) {
		ai->link_moved = true;	/* no place to open it at */
	} else if (nlink == 1 && keep) {
		ai->link_moved = false;
		if (!same) {
			free(ai->link_at);
			ai->link_at = keep;
			keep = NULL;
		}
	} else if (ai->link_at && !same) {
		ai->link_moved = true;
	} else if (!ai->link_at && keep) {
		ai->link_at = keep;
		keep = NULL;
	}
	pthread_rwlock_unlock(&ai->lock);
	free(keep);
}

/*
 * @name's inode, if the table has it, found by one fstatat(2) with no fd
 * opened: a lookup of a name the kernel knew and let expire, or
 * readdirplus of a directory listed before (rm -rf reads each directory
 * twice), cost an openat and a close each.  Only with file handles, which
 * reopen the inode in one call when it needs its fd (an unlink takes it
 * while the name is there: ino_last_hold()); and only where the last try
 * in @dir found one, or one lookup in 16 (a cold directory, untar or a
 * first listing, would pay an fstatat more per name).  The inode is the
 * one of the stat's (st_dev, st_ino), as itable_get() finds it.  NULL
 * with *@err 0: look it up by opening it.
 */
static struct atr_inode *entry_known(struct atr_mount *m,
				     struct atr_inode *dir, const char *name,
				     struct stat *st, int *err)
{
	struct atr_inode *ai;

	*err = 0;
	if (!m->handles ||
	    (!__atomic_load_n(&dir->lookups_hit, __ATOMIC_RELAXED) &&
	     __atomic_fetch_add(&dir->lookups_n, 1, __ATOMIC_RELAXED) % 16))
		return NULL;
	if (ino_fstatat(dir, name, st, AT_SYMLINK_NOFOLLOW)) {
		*err = errno == ENOENT ? -ENOENT : 0;
		return NULL;
	}
	ai = itable_find(m, st);
	__atomic_store_n(&dir->lookups_hit, ai != NULL, __ATOMIC_RELAXED);
	if (ai)
		ino_fd_offer(ai, -1, dir, name);
	return ai;
}

int entry_lookup(struct atr_mount *m, struct atr_inode *dir, const char *name,
		 struct fuse_entry_param *e)
{
	struct atr_inode *ai;
	uint64_t epoch;
	int fd;

	memset(e, 0, sizeof(*e));
	e->attr_timeout = m->timeout;
	e->entry_timeout = m->timeout;
	if (entry_reserved(m, dir, name))
		return -ENOENT;
	epoch = endcopy_epoch(m);	/* before the stat */
	ai = entry_known(m, dir, name, &e->attr, &fd);
	if (!ai && fd)
		return fd;
	if (!ai) {
		fd = entry_pin(dir, name, &e->attr);
		if (fd < 0)
			return fd;
		ai = itable_get(m, fd, &e->attr, dir, name);
		if (!ai)
			return -ENOMEM;
	}
	if (S_ISLNK(e->attr.st_mode))
		link_seen(m, dir, name, e->attr.st_nlink, ai);
	endcopy_lookup(m, ai, &e->attr, epoch);
	attr_fix(m, ai, &e->attr);
	e->ino = (fuse_ino_t)(uintptr_t)ai;
	return 0;
}

/* Unless @err, look @name up and reply with its entry: lookup and makers. */
static void reply_entry(fuse_req_t req, struct atr_inode *dir,
			const char *name, int err)
{
	struct fuse_entry_param e;

	if (!err)
		err = entry_lookup(atr_mnt(req), dir, name, &e);
	if (err)
		fuse_reply_err(req, -err);
	else
		fuse_reply_entry(req, &e);
}

void atr_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct atr_mount *m = atr_mnt(req);
	struct atr_inode *dir = itable_ino(m, parent);
	struct dname d;
	int err = dname_get(m, dir, name, &d);

	reply_entry(req, dir, err ? NULL : d.name, err);
}

void atr_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct atr_mount *m = atr_mnt(req);

	itable_put(m, itable_ino(m, ino), nlookup);
	fuse_reply_none(req);
}

void atr_forget_multi(fuse_req_t req, size_t count,
		      struct fuse_forget_data *forgets)
{
	struct atr_mount *m = atr_mnt(req);
	size_t i;

	for (i = 0; i < count; i++)
		itable_put(m, itable_ino(m, forgets[i].ino), forgets[i].nlookup);
	fuse_reply_none(req);
}

/*
 * access(2) and chdir, asked only without default_permissions: then no
 * other user is let in (cmd_mount.c), the daemon runs as the caller, and
 * the backing file system's answer to it is the answer.
 */
void atr_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	struct atr_inode *ai = itable_ino(atr_mnt(req), ino);
	char proc[64];
	int err = attr_procname(ai, proc);

	if (err >= 0) {
		err = faccessat(AT_FDCWD, proc, mask, AT_EACCESS) ? -errno : 0;
		ino_fd_put(ai);
	}
	fuse_reply_err(req, -err);
}

void atr_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct atr_mount *m = atr_mnt(req);
	struct stat st;
	int err;

	(void)fi;
	err = attr_get(m, itable_ino(m, ino), &st);
	if (err)
		fuse_reply_err(req, -err);
	else
		fuse_reply_attr(req, &st, m->timeout);
}

static int set_size(struct atr_mount *m, struct atr_inode *ai,
		    struct fuse_file_info *fi, off_t size)
{
	int fd, err;

	if (ai->type != S_IFREG)
		return ai->type == S_IFDIR ? -EISDIR : -EINVAL;
	if (size < 0)
		return -EINVAL;
	fd = fi ? (int)fi->fh : attr_reopen(ai, O_RDWR);
	if (fd < 0)
		return fd;
	pthread_rwlock_wrlock(&ai->lock);
	/* An online rekey may have moved the inode since @fd was opened. */
	err = fi ? 0 : rekeyd_follow(ai, fd);
	if (!err)
		err = key_ref(m, ai, fd);
	if (!err) {
		struct shared_lk lk;

		/* From the extent that becomes last, the one holding size - 1. */
		err = shared_lock(m, ai, fd, F_WRLCK,
				  size ? (uint64_t)size - 1 : 0, 0, true, &lk);
		if (!err) {
			ssize_t n;

			do
				n = fio_truncate(m, ai, fd, (uint64_t)size);
			while (shared_hole_again(ai, fd, &n));
			err = (int)n;
		}
		shared_unlock(&lk);
		/* No handle is left to settle it: truncate(2) by name. */
		if (ai->nkeyref == 1)
			fio_settle_late(m, ai, fd);
		key_unref(m, ai);
	}
	pthread_rwlock_unlock(&ai->lock);
	if (!fi)
		close(fd);
	return err;
}

/*
 * The kernel's write-back of times after an unlink (fuse_flush_times() on
 * every unlinked regular file, with the writeback cache): an mtime for a
 * file with no name left.  No name can come back to it, and the kernel
 * keeps the times of a cached regular file itself (fuse_get_cache_mask()),
 * so nothing can see what the backing file's would be: the utimensat(2)
 * is skipped, one system call less per file removed.  Sets *@st (fixed)
 * when it says so.
 */
static bool times_unseen(struct atr_mount *m, struct atr_inode *ai, int valid,
			 struct stat *st)
{
	if (!m->wb_cache || ai->type != S_IFREG ||
	    (valid & ~(FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_CTIME)) ||
	    attr_get(m, ai, st))
		return false;
	return st->st_nlink == 0;
}

static int set_times(struct atr_inode *ai, const struct stat *attr, int valid,
		     struct fuse_file_info *fi)
{
	struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_nsec = UTIME_OMIT } };
	int res, fd;

	if (valid & FUSE_SET_ATTR_ATIME_NOW)
		ts[0].tv_nsec = UTIME_NOW;
	else if (valid & FUSE_SET_ATTR_ATIME)
		ts[0] = attr->st_atim;
	if (valid & FUSE_SET_ATTR_MTIME_NOW)
		ts[1].tv_nsec = UTIME_NOW;
	else if (valid & FUSE_SET_ATTR_MTIME)
		ts[1] = attr->st_mtim;
	/* The O_PATH fd itself: no walk through /proc, no symlink followed. */
	pthread_rwlock_rdlock(&ai->lock);	/* see atr_setattr() */
	if (fi) {
		res = futimens((int)fi->fh, ts) ? -errno : 0;
	} else {
		fd = ino_fd_get(ai);
		res = fd < 0 ? fd :
		      utimensat(fd, "", ts, AT_EMPTY_PATH) ? -errno : 0;
		if (fd >= 0)
			ino_fd_put(ai);
	}
	pthread_rwlock_unlock(&ai->lock);
	return res;
}

/*
 * Holes listed but not recorded (holes.c) are recorded before a mode
 * change: once the owner may no longer write the file, a daemon that does
 * not run as root could not set the record at close (xattrs follow the
 * mode, not the open fd), and the holes would read as errors after a
 * remount.
 */
static int settle(struct atr_mount *m, struct atr_inode *ai,
		  struct fuse_file_info *fi)
{
	int err;

	if (ai->type != S_IFREG)
		return 0;
	pthread_rwlock_wrlock(&ai->lock);
	err = fio_settle(m, ai, fi ? (int)fi->fh : -1);
	if (err >= 0)
		rollback_commit(m, ai);
	pthread_rwlock_unlock(&ai->lock);
	return err < 0 ? err : 0;
}

/*
 * A symlink renamed on a bound volume is a new backing link (its target
 * re-sealed for its new place), but the kernel may hold the old one under
 * the new name until its entry times out.  A change made to that one
 * would be lost with it: -ESTALE makes the kernel look the name up again
 * and retry (chown, utimensat).  The kernel holds the link's inode lock
 * from the setattr to its reply, so no rename comes between.
 */
static int link_stale(struct atr_mount *m, struct atr_inode *ai)
{
	struct stat st;
	int fd;

	if (!m->bound || ai->type != S_IFLNK)
		return 0;
	fd = ino_fd_get(ai);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st))
		st.st_nlink = 1;	/* not ours to judge: the change says */
	ino_fd_put(ai);
	return st.st_nlink ? 0 : -ESTALE;
}

void atr_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int valid,
		 struct fuse_file_info *fi)
{
	struct atr_mount *m = atr_mnt(req);
	struct atr_inode *ai = itable_ino(m, ino);
	char proc[64];
	struct stat st;
	int err = link_stale(m, ai), fd = -1;

	/* Only a mode without u+w stops the records at close. */
	if ((valid & FUSE_SET_ATTR_MODE) && !(attr->st_mode & S_IWUSR))
		err = settle(m, ai, fi);
	/*
	 * Mode and owner (and times, set_times()) under the inode's read
	 * lock: an online rekey write-holds it from its check that the file
	 * is unchanged to the move of the inode's fd and the handles' fds,
	 * so a change cannot reach the old file after the check and be lost
	 * with it.
	 */
	pthread_rwlock_rdlock(&ai->lock);
	if (!err && (valid & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID |
			      FUSE_SET_ATTR_GID))) {
		fd = attr_procname(ai, proc);
		if (fd < 0)
			err = fd;
	}
	if (!err && (valid & FUSE_SET_ATTR_MODE) &&
	    (fi ? fchmod((int)fi->fh, attr->st_mode) :
		  fchmodat(AT_FDCWD, proc, attr->st_mode, 0)))
		err = -errno;
	if (!err && (valid & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) &&
	    fchownat(fd, "",
		     valid & FUSE_SET_ATTR_UID ? attr->st_uid : (uid_t)-1,
		     valid & FUSE_SET_ATTR_GID ? attr->st_gid : (gid_t)-1,
		     AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		err = -errno;
	if (fd >= 0)
		ino_fd_put(ai);
	pthread_rwlock_unlock(&ai->lock);
	if (!err && (valid & FUSE_SET_ATTR_SIZE))
		err = set_size(m, ai, fi, attr->st_size);
	if (!err && (valid & FUSE_SET_ATTR_SIZE))
		err = killpriv_drop(req, ino, ai);
	if (!err && (valid & FUSE_SET_ATTR_MTIME) &&
	    times_unseen(m, ai, valid, &st)) {
		fuse_reply_attr(req, &st, m->timeout);
		return;
	}
	if (!err && (valid & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)))
		err = set_times(ai, attr, valid, fi);
	if (!err)
		err = attr_get(m, ai, &st);
	if (err)
		fuse_reply_err(req, atr_errno(err));
	else
		fuse_reply_attr(req, &st, m->timeout);
}

/*
 * A root daemon (allow_other) creates nodes as root; hand them to the
 * caller, keeping the group of a setgid directory as the kernel would.
 */
int entry_give(fuse_req_t req, struct atr_inode *dir, int fd)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	gid_t gid = ctx->gid;
	struct stat dst;

	if (!atr_mnt(req)->chown_new)
		return 0;
	if (ino_fstatat(dir, "", &dst, AT_EMPTY_PATH) == 0 &&
	    (dst.st_mode & S_ISGID))
		gid = (gid_t)-1;
	return fchownat(fd, "", ctx->uid, gid,
			AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) ? -errno : 0;
}

/*
 * A node just made by name (mkdir, mknod, symlink), handed to its creator
 * through an O_PATH fd of what is at the name now, and only if that is of
 * the type made: the name is in the untrusted backing directory, and a
 * chown by name followed whatever was renamed over it.
 */
static int give_new(fuse_req_t req, struct atr_inode *dir, const char *name,
		    mode_t type)
{
	struct stat st;
	int pfd, err;

	if (!atr_mnt(req)->chown_new)
		return 0;
	pfd = entry_pin(dir, name, &st);
	if (pfd < 0)
		return pfd;
	err = (st.st_mode & S_IFMT) != type ? -EIO : entry_give(req, dir, pfd);
	close(pfd);
	if (err == -EIO)
		atr_log_inode(LOG_ERR, dir, "%s was replaced while it was "
			      "being created (a change in the backing "
			      "directory)", name);
	return err;
}

/*
 * A regular file made by mknod(2) gets its header at once, as a created
 * one does: on a format 2 volume a file without one is tampering.  0, or
 * -1 with errno.
 */
static int make_file(struct atr_mount *m, struct atr_inode *dir,
		     const char *name, mode_t mode)
{
	struct file_key *fk = NULL;
	int fd, err;

	fd = ino_openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
			O_NOFOLLOW, mode & 07777);
	if (fd < 0)
		return -1;
	err = key_new(m, fd, &fk);
	file_key_free(fk);
	close(fd);
	if (err) {
		ino_unlinkat(dir, name, 0);
		errno = -err;
		return -1;
	}
	return 0;
}

/* @name: the backing name. */
static int make_node(fuse_req_t req, struct atr_inode *dir, const char *name,
		     mode_t mode, dev_t rdev, const char *link)
{
	struct atr_mount *m = atr_mnt(req);
	struct meta_link_at at;
	char *sealed = NULL;
	int res, err;

	if (entry_reserved(m, dir, name))
		return -EPERM;
	if (S_ISDIR(mode)) {
		err = dname_mkdir(m, dir, name, mode);
		if (err)
			return err;
		res = 0;
	} else if (link) {
		err = link_place(m, dir, name, true, &at);
		if (err < 0)
			return err;
		/* The KEK held until the link is made: see write_header(). */
		err = vollinks_seal(m->root.fd, kek_get(m), err ? NULL : &at,
				    link, &sealed);
		if (err == -EEXIST) {
			atr_log(LOG_ERR, "%s: a symbolic link target of %zu "
				"bytes needs the root's " VOLLINKS_DIR ", which is "
				"a directory of the user's (made before long "
				"targets): rename it to make such links",
				m->backing, strlen(link));
			err = -ENAMETOOLONG;
		}
		res = err ? 0 : ino_symlinkat(sealed, dir, name);
		err = err ? err : res ? -errno : 0;
		kek_put(m);
		if (err)
			goto out_drop;
		if (strlen(link) > META_LINK_SHORT_MAX)
			__atomic_store_n(&m->long_links, true,
					 __ATOMIC_RELAXED);
	} else if (S_ISREG(mode)) {
		res = make_file(m, dir, name, mode);
	} else {
		res = ino_mknodat(dir, name, mode, rdev);
	}
	if (res)
		return -errno;
	err = give_new(req, dir, name, mode & S_IFMT);
	/* Not by name if it was replaced: that is someone else's. */
	if (err && err != -EIO)
		ino_unlinkat(dir, name, S_ISDIR(mode) ? AT_REMOVEDIR : 0);
out_drop:
	/* A long target's record goes if its link is not there. */
	if (err && err != -EIO && sealed)
		vollinks_drop(m->root.fd, sealed);
	free(sealed);
	return err;
}

static void reply_new(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, dev_t rdev, const char *link)
{
	struct atr_mount *m = atr_mnt(req);
	struct atr_inode *dir = itable_ino(m, parent);
	struct dname d;
	bool made = false;
	int err = dname_get(m, dir, name, &d);

	if (!err)
		err = dname_make(dir, &d, &made);
	if (!err)
		err = make_node(req, dir, d.name, mode, rdev, link);
	if (err && made)
		dname_drop(dir, &d);
	reply_entry(req, dir, err ? NULL : d.name, err);
}

void atr_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
	       mode_t mode, dev_t rdev)
{
	reply_new(req, parent, name, mode, rdev, NULL);
}

void atr_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
	       mode_t mode)
{
	reply_new(req, parent, name, S_IFDIR | mode, 0, NULL);
}

void atr_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		 const char *name)
{
	reply_new(req, parent, name, S_IFLNK | 0777, 0, link);
}

static int link_read(struct atr_mount *m, struct atr_inode *ai,
		     char **target, bool *bound);

/*
 * link(2) of a symlink whose target is bound (every one on a bound
 * volume, one a conversion bound on an unbound volume): a new symlink with
 * the same @target, sealed for its own place (and a long target stored
 * afresh), as POSIX allows a link to a symlink to be; a second name of one
 * backing symlink could carry only one place.  Wipes and frees @target.
 */
static int link_copy(fuse_req_t req, struct atr_inode *dir, const char *bname,
		     char *target)
{
	size_t len = strlen(target);
	int err = make_node(req, dir, bname, S_IFLNK | 0777, 0, target);

	OPENSSL_cleanse(target, len);
	free(target);
	return err;
}

void atr_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t parent,
	      const char *name)
{
	struct atr_mount *m = atr_mnt(req);
	struct atr_inode *dir = itable_ino(m, parent);
	struct atr_inode *ai = itable_ino(m, ino);
	struct dname d;
	char proc[64], *target = NULL;
	bool made = false, bound = m->bound;
	int err = dname_get(m, dir, name, &d), fd = -1, dfd = -1;

	if (!err && entry_reserved(m, dir, d.name))
		err = -EPERM;
	if (!err)
		err = dname_make(dir, &d, &made);
	/*
	 * A symlink's target, read once: bound, the link is copied (on an
	 * unbound volume too, where a conversion bound it: a second name of
	 * it would open nowhere); an unbound one is linked as it is.
	 */
	if (!err && ai->type == S_IFLNK) {
		int rerr = link_read(m, ai, &target, &bound);

		if (rerr && m->bound)
			err = rerr;
		else if (rerr)
			bound = false;
		else if (!bound) {
			OPENSSL_cleanse(target, strlen(target));
			free(target);
		}
	}
	if (!err && bound && ai->type == S_IFLNK) {
		err = link_copy(req, dir, d.name, target);
		if (err && made)
			dname_drop(dir, &d);
		reply_entry(req, dir, err ? NULL : d.name, err);
		return;
	}
	/* Read-held: not a name for the old file of an online rekey. */
	pthread_rwlock_rdlock(&ai->lock);
	if (!err && (fd = attr_procname(ai, proc)) < 0)
		err = fd;
	if (!err && (dfd = ino_fd_get(dir)) < 0)
		err = dfd;
	if (!err && linkat(AT_FDCWD, proc, dfd, d.name, AT_SYMLINK_FOLLOW))
		err = -errno;
	if (dfd >= 0)
		ino_fd_put(dir);
	if (fd >= 0)
		ino_fd_put(ai);
	pthread_rwlock_unlock(&ai->lock);
	if (err && made)
		dname_drop(dir, &d);
	reply_entry(req, dir, err ? NULL : d.name, err);
}

/*
 * A long symlink's record (volume/links.c) goes with the link's last
 * name.  Before a name is taken away (unlink, rename over it), the inode
 * at it is pinned if it is such a link; after, the pin tells whether a
 * name is left (a hard link, or one made meanwhile keeps the record).
 */
struct link_pin {
	int fd;					/* O_PATH, or -1 */
	char target[META_LINK_LONG_LEN + 1];	/* its backing target */
};

static void link_pinning(struct atr_mount *m, struct atr_inode *dir,
			 const char *name, struct link_pin *lp)
{
	uint8_t id[META_LINK_ID_LEN];
	struct stat st;
	size_t len;
	ssize_t n;

	lp->fd = -1;
	/* No store, no long link: unlink pays nothing for them. */
	if (!__atomic_load_n(&m->long_links, __ATOMIC_RELAXED))
		return;
	lp->fd = entry_pin(dir, name, &st);
	if (lp->fd < 0 || !S_ISLNK(st.st_mode))
		goto out_unpin;
	n = readlinkat(lp->fd, "", lp->target, sizeof(lp->target));
	if (n <= 0 || n >= (ssize_t)sizeof(lp->target) ||
	    meta_link_long_parse(lp->target, (size_t)n, id, &len) != 1)
		goto out_unpin;
	lp->target[n] = '\0';
	return;
out_unpin:
	if (lp->fd >= 0)
		close(lp->fd);
	lp->fd = -1;
}

static void link_unpinned(struct atr_mount *m, struct link_pin *lp, int err)
{
	struct stat st;

	if (lp->fd < 0)
		return;
	if (!err && !fstat(lp->fd, &st) && st.st_nlink == 0)
		vollinks_drop(m->root.fd, lp->target);
	close(lp->fd);
}

/*
 * unlinkat(2) of backing @name in @dir, whose stat is @st (NULL: none):
 * 0 or an errno.  An inode reopened by that name (fs/inofd.c), or by its
 * handle if it was its last name, keeps its fd open from then on.
 */
static int unlink_named(struct atr_mount *m, struct atr_inode *dir,
			const char *name, const struct stat *st, int flags)
{
	struct atr_inode *ai = ino_name_hold(m, dir, name), *drop = NULL;
	struct atr_inode *last = ai ? NULL : ino_last_hold(m, st);
	struct atr_inode *gone = NULL;	/* no directory: the name goes */
	int dfd = ino_fd_get(dir), err;

	if (dfd < 0) {
		ino_name_done(m, ai);
		ino_name_done(m, last);
		return -dfd;
	}
	ino_names_lock(m);
	err = unlinkat(dfd, name, flags) ? errno : 0;
	if (!err && ai)
		drop = ino_name_move(ai, dir, name, &gone, NULL);
	if (!err && last)
		ino_last_gone(last);
	ino_names_unlock(m);
	ino_fd_put(dir);
	if (drop)
		itable_put(m, drop, 1);
	ino_name_done(m, ai);
	ino_name_done(m, last);
	return err;
}

static void remove_entry(fuse_req_t req, fuse_ino_t parent, const char *name,
			 int flags)
{
	struct atr_mount *m = atr_mnt(req);
	struct atr_inode *dir = itable_ino(m, parent);
	struct rollback_unlink ul;
	struct stat st, *stp = &st;
	struct link_pin lp;
	struct dname d;
	int err = -dname_get(m, dir, name, &d);

	if (!err && entry_reserved(m, dir, d.name))
		err = ENOENT;
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	/* One stat of the name for the records and the inode's fd. */
	if ((!m->fstate && !m->handles) ||
	    ino_fstatat(dir, d.name, &st, AT_SYMLINK_NOFOLLOW))
		stp = NULL;
	if (flags & AT_REMOVEDIR) {
		err = unlink_named(m, dir, d.name, stp, flags);
	} else {
		rollback_unlinking(m, stp, &ul);
		link_pinning(m, dir, d.name, &lp);
		pthread_rwlock_rdlock(&m->ns_lock);
		err = unlink_named(m, dir, d.name, stp, flags);
		pthread_rwlock_unlock(&m->ns_lock);
		link_unpinned(m, &lp, err);
		rollback_unlinked(m, &ul, err);
	}
	if (!err) {
		dname_drop(dir, &d);
		ncache_drop(m, dir, d.name);
	}
	fuse_reply_err(req, err);
}

void atr_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_entry(req, parent, name, 0);
}

void atr_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_entry(req, parent, name, AT_REMOVEDIR);
}

/*
 * renameat2(2) of backing names: 0 or an errno.  Inodes reopened by the
 * names (fs/inofd.c) follow: the one renamed to its new name, the one at
 * the new name to the old one if exchanged, else it keeps its fd open, as
 * one reopened by its handle does if @nname was its last name (@nst: its
 * stat; NULL: nothing there, or not taken).
 */
static int rename_named(struct atr_mount *m, struct atr_inode *dir,
			const char *name, struct atr_inode *ndir,
			const char *nname, const struct stat *nst,
			unsigned int flags)
{
	struct atr_inode *src = ino_name_hold(m, dir, name);
	struct atr_inode *dst = ino_name_hold(m, ndir, nname);
	struct atr_inode *last = dst || (flags & RENAME_EXCHANGE) ? NULL :
				 ino_last_hold(m, nst);
	struct atr_inode *to = NULL, *back = NULL, *drop[2] = { NULL };
	int ofd, nfd, err;

	/* Lookups for the names' new directories, taken unlocked. */
	if (src)
		itable_hold(m, to = ndir);
	if (dst && (flags & RENAME_EXCHANGE))
		itable_hold(m, back = dir);
	ofd = ino_fd_get(dir);
	nfd = ofd < 0 ? ofd : ino_fd_get(ndir);
	if (ofd < 0 || nfd < 0) {
		err = -(ofd < 0 ? ofd : nfd);
	} else {
		ino_names_lock(m);
		err = renameat2(ofd, name, nfd, nname, flags) ? errno : 0;
		/* Hard links of one inode: nothing moved. */
		if (!err && src && src != dst)
			drop[0] = ino_name_move(src, dir, name, &to, nname);
		if (!err && dst && src != dst)
			drop[1] = ino_name_move(dst, ndir, nname, &back, name);
		if (!err && last && last != src)
			ino_last_gone(last);
		ino_names_unlock(m);
	}
	if (ofd >= 0)
		ino_fd_put(dir);
	if (ofd >= 0 && nfd >= 0)
		ino_fd_put(ndir);
	if (to)
		itable_put(m, to, 1);
	if (back)
		itable_put(m, back, 1);
	if (drop[0])
		itable_put(m, drop[0], 1);
	if (drop[1])
		itable_put(m, drop[1], 1);
	ino_name_done(m, src);
	ino_name_done(m, dst);
	ino_name_done(m, last);
	return err;
}

/*
 * A symlink renamed on a bound volume is re-sealed for its new place: the
 * new link is made at a reserved name in its new directory before the
 * rename, and renamed over the moved one after it, so the name changes
 * atomically twice and always holds a link.  A crash between the two
 * leaves the moved link sealed for its old place (EIO) and the new one
 * beside it, which fsck lists.
 */
struct link_move {
	int dfd;		/* the new directory, a dup; -1: nothing to do */
	const char *name;	/* the backing name it moves to */
	char tmp[sizeof(VOLLINKS_TMP_PREFIX) + 16];
};

/* The new link for @bname in @dir about to be @nbname in @ndir, if a link. */
static int link_move_prep(struct atr_mount *m, struct atr_inode *dir,
			  const char *bname, struct atr_inode *ndir,
			  const char *nbname, struct link_move *lm)
{
	struct timespec ts[2];
	struct meta_link_at from, to;
	char backing[PATH_MAX], *sealed = NULL;
	uint8_t rnd[8];
	struct stat st;
	ssize_t n = -1;
	int fd, err;

	lm->dfd = -1;
	lm->name = nbname;
	fd = ino_fd_get(dir);
	if (fd < 0)
		return fd;
	if (!fstatat(fd, bname, &st, AT_SYMLINK_NOFOLLOW) && S_ISLNK(st.st_mode))
		n = readlinkat(fd, bname, backing, sizeof(backing) - 1);
	ino_fd_put(dir);
	if (n < 0)
		return 0;	/* not a symlink; or gone, as the rename says */
	backing[n] = '\0';
	err = link_place(m, dir, bname, false, &from);
	if (err == 1)
		return 0;	/* an unbound link moves as it is */
	/*
	 * On an unbound volume too: a link a conversion bound (the move
	 * finds an unbound one does not open at @from, and leaves it).
	 */
	if (!err)
		err = link_dest(m, ndir, nbname, &to);
	if (!err) {
		err = vollinks_move(m->root.fd, kek_get(m), &from, &to, backing,
				    &sealed);
		kek_put(m);
	}
	/* One that does not open reads as EIO wherever it goes. */
	if (err == -EBADMSG || err == -EIO)
		return 0;
	if (!err)
		err = rand_fill(rnd, sizeof(rnd));
	if (err)
		goto out_free;
	memcpy(lm->tmp, VOLLINKS_TMP_PREFIX, sizeof(VOLLINKS_TMP_PREFIX) - 1);
	hex_encode(rnd, sizeof(rnd), lm->tmp + sizeof(VOLLINKS_TMP_PREFIX) - 1);
	lm->dfd = ino_fd_dup(ndir);
	err = lm->dfd < 0 ? lm->dfd : 0;
	if (!err && symlinkat(sealed, lm->dfd, lm->tmp))
		err = -errno;
	if (err)
		goto out_close;
	/* The owner and times a rename keeps. */
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;
	if (fchownat(lm->dfd, lm->tmp, st.st_uid, st.st_gid,
		     AT_SYMLINK_NOFOLLOW) && errno != EPERM)
		err = -errno;
	if (!err && utimensat(lm->dfd, lm->tmp, ts, AT_SYMLINK_NOFOLLOW))
		err = -errno;
	if (!err)
		goto out_free;
	unlinkat(lm->dfd, lm->tmp, 0);
out_close:
	if (lm->dfd >= 0)
		close(lm->dfd);
	lm->dfd = -1;
out_free:
	free(sealed);
	return err;
}

/* After the rename (@err): the new link over the moved one, or away. */
static void link_move_done(struct atr_mount *m, struct link_move *lm, int err)
{
	if (lm->dfd < 0)
		return;
	if (!err && renameat(lm->dfd, lm->tmp, lm->dfd, lm->name)) {
		err = -errno;	/* before the log line can change errno */
		atr_log(LOG_ERR, "%s: a renamed symlink (now %s) could not be "
			"re-sealed for its new name (%s): it reads as EIO",
			m->backing, lm->name, strerror(-err));
	}
	if (err)
		unlinkat(lm->dfd, lm->tmp, 0);
	close(lm->dfd);
}

void atr_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	struct atr_mount *m = atr_mnt(req);
	struct atr_inode *dir = itable_ino(m, parent);
	struct atr_inode *ndir = itable_ino(m, newparent);
	struct rollback_unlink ul;
	struct stat nst, *nstp = NULL;	/* what is at @newname, if anything */
	struct link_pin lp = { .fd = -1 };
	struct link_move lm, lmx;
	struct dname d, nd;
	bool made = false;
	char *nname, *oname;
	int err, nfd, ofd;

	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	err = -dname_get(m, dir, name, &d);
	if (!err)
		err = -dname_get(m, ndir, newname, &nd);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	if (entry_reserved(m, dir, d.name) || entry_reserved(m, ndir, nd.name)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	/* The new name's record first: an entry never lacks one. */
	err = -dname_make(ndir, &nd, &made);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	/* Links moved are re-sealed for their new names. */
	err = -link_move_prep(m, dir, d.name, ndir, nd.name, &lm);
	lmx.dfd = -1;
	if (!err && (flags & RENAME_EXCHANGE))
		err = -link_move_prep(m, ndir, nd.name, dir, d.name, &lmx);
	if (err) {
		link_move_done(m, &lm, -err);
		if (made)
			dname_drop(ndir, &nd);
		fuse_reply_err(req, err);
		return;
	}
	/* Renamed over, the file at @newname loses a link. */
	memset(&ul, 0, sizeof(ul));
	if (!(flags & RENAME_EXCHANGE)) {
		if ((m->fstate || m->handles) &&
		    !ino_fstatat(ndir, nd.name, &nst, AT_SYMLINK_NOFOLLOW))
			nstp = &nst;
		rollback_unlinking(m, nstp, &ul);
		link_pinning(m, ndir, nd.name, &lp);
	}
	pthread_rwlock_rdlock(&m->ns_lock);
	err = rename_named(m, dir, d.name, ndir, nd.name, nstp, flags);
	link_move_done(m, &lm, -err);
	link_move_done(m, &lmx, -err);
	pthread_rwlock_unlock(&m->ns_lock);
	link_unpinned(m, &lp, err);
	rollback_unlinked(m, &ul, err);
	/* Exchanged, both names still have their entries. */
	if (!err && !(flags & RENAME_EXCHANGE)) {
		dname_drop(dir, &d);
		ncache_drop(m, dir, d.name);
	}
	if (err && made)
		dname_drop(ndir, &nd);
	if (err || !m->ctl) {
		fuse_reply_err(req, err);
		return;
	}
	/* The request's names and directories may go with the reply. */
	nfd = ino_fd_dup(ndir);
	ofd = flags & RENAME_EXCHANGE ? ino_fd_dup(dir) : -1;
	nname = strdup(nd.name);
	oname = ofd >= 0 ? strdup(d.name) : NULL;
	fuse_reply_err(req, 0);
	if (nfd >= 0 && nname)
		ctl_renamed(m, nfd, nname);
	if (ofd >= 0 && oname)
		ctl_renamed(m, ofd, oname);
	if (nfd >= 0)
		close(nfd);
	if (ofd >= 0)
		close(ofd);
	free(nname);
	free(oname);
}

/*
 * The target of the symlink @ai into *@target (malloc()ed): opened for the
 * place it was looked up at on a bound volume.  0, -EBADMSG (logged).
 * *@bound (unless NULL): whether it opened in the bound form.
 */
static int link_read(struct atr_mount *m, struct atr_inode *ai,
		     char **target, bool *bound)
{
	struct meta_link_at at = { .name = NULL };
	char backing[PATH_MAX], name[NAME_MAX + 1];
	const struct kek *kek;
	bool moved = false;
	ssize_t n;
	int err, fd;

	fd = ino_fd_get(ai);
	n = fd < 0 ? fd : readlinkat(fd, "", backing, sizeof(backing) - 1);
	if (n < 0 && fd >= 0)
		n = -errno;
	if (fd >= 0)
		ino_fd_put(ai);
	if (n < 0)
		return (int)n;
	backing[n] = '\0';
	/* A copy: a lookup may replace ->link_at (link_seen()). */
	pthread_rwlock_rdlock(&ai->lock);
	if (ai->link_at && strlen(ai->link_at->name) < sizeof(name)) {
		memcpy(at.dirid, ai->link_at->dirid, NAMES_DIRID_LEN);
		at.name = strcpy(name, ai->link_at->name);
	}
	moved = ai->link_moved;
	pthread_rwlock_unlock(&ai->lock);
	if (m->bound && (moved || !at.name)) {
		atr_log_inode(LOG_ERR, ai, "symlink target does not "
			      "authenticate: the link has a second name the "
			      "mount did not make, or its directory's ID (xattr "
			      NAMES_DIRID_XATTR ") is missing or damaged");
		return -EBADMSG;
	}
	kek = kek_get(m);
	err = vollinks_open(m->root.fd, kek, m->bound ? &at : NULL, backing,
			    target);
	if (bound)
		*bound = m->bound;
	/* Unbound volume: either form, while a conversion is unfinished. */
	if (err == -EBADMSG && !m->bound && at.name && !moved) {
		err = vollinks_open(m->root.fd, kek, &at, backing, target);
		if (bound)
			*bound = !err;
	}
	kek_put(m);
	if (err == -EBADMSG)
		atr_log_inode(LOG_ERR, ai, "symlink target does not "
			      "authenticate (tampered, or copied from another "
			      "link)");
	return err;
}

void atr_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct atr_mount *m = atr_mnt(req);
	char *target;
	int err = link_read(m, itable_ino(m, ino), &target, NULL);

	if (err) {
		fuse_reply_err(req, atr_errno(err));
		return;
	}
	fuse_reply_readlink(req, target);
	free(target);
}

void atr_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct atr_mount *m = atr_mnt(req);
	struct atr_inode *ai = itable_ino(m, ino);
	struct statvfs sv;
	int fd = ino_fd_get(ai), err;

	if (fd < 0)
		return (void)fuse_reply_err(req, -fd);
	err = fstatvfs(fd, &sv) ? errno : 0;
	ino_fd_put(ai);
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_statfs(req, &sv);
}
