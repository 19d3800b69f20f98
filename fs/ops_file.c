// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/ops_file.c - open files: create, open, read, write, flush, release,
 * fsync, fallocate, lseek.  The backing fd is the file handle.  Data goes
 * through fileio.c under the inode's lock: readers share it, anything that
 * changes bytes or size holds it alone, so concurrent writers never see a
 * half-rewritten extent.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs_private.h"
#include "transport.h"

/*
 * Backing open flags: always readable (a partial-extent write reads the
 * extent first, and the writeback cache writes through any handle); no
 * O_APPEND (the kernel places appends and we write at explicit offsets),
 * no O_DIRECT (our I/O is not block-aligned); O_TRUNC done under the lock.
 */
static int backing_flags(int flags)
{
	/* O_RDONLY | O_TRUNC truncates too, as on Linux file systems. */
	if ((flags & O_ACCMODE) == O_WRONLY || (flags & O_TRUNC))
		flags = (flags & ~O_ACCMODE) | O_RDWR;
	/* O_NOCTTY: the detached daemon must never get a terminal. */
	return (flags & ~(O_APPEND | O_DIRECT | O_TRUNC | O_CREAT | O_EXCL)) |
	       O_NOCTTY;
}

/*
 * An O_APPEND handle in shared mode bypasses the page cache: through it,
 * the kernel cuts a write(2) that crosses a page it does not hold whole
 * into two WRITEs, and another host's append could land between them.
 * Direct, each write(2) up to max_write (1 MiB) is one request, placed
 * whole at the end by shared_write().
 */
static void shared_append(const struct atr_mount *m, struct fuse_file_info *fi)
{
	if (m->opt_mnt.shared && (fi->flags & O_APPEND))
		fi->direct_io = 1;
}

/*
 * Open the regular file @name that another creator made first.  The name
 * is in the untrusted backing directory: whatever is there now is looked
 * at before it is opened, so a FIFO put there is not waited on (the open
 * blocked for good, and with it the caller and the unmount) and a device
 * is not opened at all.
 */
static int open_existing(struct atr_inode *dir, const char *name, int flags)
{
	struct stat st;
	int pfd, fd;

	pfd = entry_pin(dir, name, &st);
	if (pfd < 0)
		return pfd;
	if (!S_ISREG(st.st_mode))
		fd = S_ISDIR(st.st_mode) ? -EISDIR : -EEXIST;
	else	/* The very inode looked at: /proc/self/fd cannot be swapped. */
		fd = attr_reopen_fd(pfd, flags);
	close(pfd);
	return fd;
}

/* Is the entry just looked up the file @fd has open? */
static bool same_file(int fd, const struct stat *st)
{
	struct stat fst;

	return !fstat(fd, &fst) && fst.st_dev == st->st_dev &&
	       fst.st_ino == st->st_ino;
}

/*
 * Take the key for a new handle (@fk: a new file's), truncating if asked,
 * which clears setuid and setgid as a truncate does.
 */
static int handle_start(fuse_req_t req, fuse_ino_t ino, struct atr_inode *ai,
			int fd, int flags, struct file_key *fk)
{
	struct atr_mount *m = atr_mnt(req);
	bool trunc = flags & O_TRUNC, held;
	int err = trunc ? killpriv_drop(req, ino, ai) : 0;

	if (err) {
		file_key_free(fk);
		return err;
	}
	pthread_rwlock_wrlock(&ai->lock);
	/* An online rekey may have moved the inode since @fd was opened. */
	err = rekeyd_follow(ai, fd);
	if (err) {
		pthread_rwlock_unlock(&ai->lock);
		file_key_free(fk);
		return err;
	}
	if (fk)
		key_attach(m, ai, fk);
	else
		err = key_ref(m, ai, fd);
	held = !err;
	if (!err && trunc) {
		struct shared_lk lk;

		err = shared_lock(m, ai, fd, F_WRLCK, 0, 0, true, &lk);
		if (!err)
			err = fio_truncate(m, ai, fd, 0);	/* reads nothing */
		shared_unlock(&lk);
	}
	if (!err)
		err = rekeyd_handle_add(ai, fd);
	if (err && held)
		key_unref(m, ai);
	pthread_rwlock_unlock(&ai->lock);
	return err;
}

void atr_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		mode_t mode, struct fuse_file_info *fi)
{
	struct atr_mount *m = atr_mnt(req);
	struct atr_inode *dir = itable_ino(m, parent), *ai;
	int flags = backing_flags(fi->flags) | O_CLOEXEC | O_NOFOLLOW;
	struct file_key *fk = NULL;
	struct fuse_entry_param e;
	bool created = true, made = false;
	struct dname d;
	int fd, err;

	err = dname_get(m, dir, name, &d);
	if (!err && entry_reserved(m, dir, d.name))
		err = -EPERM;
	if (!err)
		err = dname_make(dir, &d, &made);
	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	name = d.name;	/* from here on, the backing name */
	fd = ino_openat(dir, name, flags | O_CREAT | O_EXCL, mode);
	if (fd < 0)
		fd = -errno;
	if (fd == -EEXIST && !(fi->flags & O_EXCL)) {
		/* Lost a race with another creator: open what it made. */
		created = false;
		fd = open_existing(dir, name, flags);
	}
	if (fd < 0) {
		if (made)
			dname_drop(dir, &d);
		fuse_reply_err(req, -fd);
		return;
	}
	err = 0;
	if (created) {
		/*
		 * Header and owner go on before anything stats the new file.
		 * The backing file system stamps changes after a stat with
		 * fine-grained times (multigrain timestamps, Linux 6.13), and
		 * a ctime finer than the kernel's clock makes our first write
		 * dirty the inode's times: one more SETATTR per new file.
		 */
		err = key_new(m, fd, &fk);
		if (err == -EEXIST)
			err = 0;	/* an opener's header: key_ref() reads it */
		if (!err)
			err = entry_give(req, dir, fd);
		/* A root daemon's chown cleared them; the caller asked. */
		if (!err && (mode & (S_ISUID | S_ISGID)) &&
		    atr_mnt(req)->chown_new && fchmod(fd, mode & 07777))
			err = -errno;
	}
	if (!err)
		err = entry_lookup(m, dir, name, &e);
	if (err)
		goto out_fail;
	ai = itable_ino(m, e.ino);
	/*
	 * The name is looked up again for the entry: if someone renamed
	 * another file over it meanwhile, this handle and that entry would
	 * be two files, and the handle's key would seal the other's data.
	 */
	if (!same_file(fd, &e.attr)) {
		atr_log_inode(LOG_ERR, dir, "%s was replaced while it was "
			      "being created (a change in the backing "
			      "directory)", name);
		itable_put(m, ai, 1);
		created = false;	/* the name is not ours to unlink */
		err = -EIO;
		goto out_fail;
	}
	/*
	 * A file just made is empty: no truncate, which would also drop the
	 * set-ID bits just put back (Linux drops O_TRUNC for a new file too).
	 */
	err = handle_start(req, e.ino, ai, fd,
			   created ? fi->flags & ~O_TRUNC : fi->flags, fk);
	fk = NULL;
	if (err) {
		itable_put(m, ai, 1);
		goto out_fail;
	}
	shared_append(m, fi);
	fi->fh = (uint64_t)fd;
	fuse_reply_create(req, &e, fi);
	return;
out_fail:
	file_key_free(fk);
	close(fd);
	if (created)
		ino_unlinkat(dir, name, 0);
	if (made)
		dname_drop(dir, &d);
	fuse_reply_err(req, atr_errno(err));
}

void atr_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct atr_mount *m = atr_mnt(req);
	struct atr_inode *ai = itable_ino(m, ino);
	int fd, err;

	fd = attr_reopen(ai, backing_flags(fi->flags));
	if (fd < 0) {
		fuse_reply_err(req, -fd);
		return;
	}
	err = handle_start(req, ino, ai, fd, fi->flags, NULL);
	if (err) {
		close(fd);
		fuse_reply_err(req, atr_errno(err));
		return;
	}
	/*
	 * Close-to-open, as NFS: what another host wrote before this open
	 * is seen.  The page cache goes at every open (no keep_cache); the
	 * attributes go here (offset -1: those only, no page is waited on),
	 * so the next stat, or read past the size the kernel had, asks.
	 */
	if (m->opt_mnt.shared)
		fuse_lowlevel_notify_inval_inode(m->se, ino, -1, 0);
	shared_append(m, fi);
	fi->fh = (uint64_t)fd;
	fuse_reply_open(req, fi);
}

void atr_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	      struct fuse_file_info *fi)
{
	struct atr_mount *m = atr_mnt(req);
	struct atr_inode *ai = itable_ino(m, ino);
	/* The thread's own buffer: the read path does not allocate. */
	char *buf = fio_reply_buf(m, size), *own = NULL;
	struct shared_lk lk;
	ssize_t n;

	if (!buf)
		buf = own = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	pthread_rwlock_rdlock(&ai->lock);
	n = shared_lock(m, ai, (int)fi->fh, F_RDLCK, (uint64_t)off, size,
			false, &lk);
	if (!n)
		do
			n = fio_read(m, ai, (int)fi->fh, buf, size,
				     (uint64_t)off);
		while (shared_hole_again(ai, (int)fi->fh, &n));
	shared_unlock(&lk);
	pthread_rwlock_unlock(&ai->lock);
	if (n < 0)
		fuse_reply_err(req, atr_errno((int)n));
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(own);
}

/*
 * A write in shared mode, under a byte-range lock.  No write order
 * (worder.c): without the writeback cache, writes come as programs make
 * them.  An O_APPEND write goes where the file ends now, read under the
 * lock, not where this host's kernel last saw it end: appends from
 * several hosts then each land whole.
 */
static ssize_t shared_write(struct atr_mount *m, struct atr_inode *ai,
			    const struct fuse_file_info *fi, const char *buf,
			    size_t size, uint64_t off)
{
	bool append = fi->flags & O_APPEND;
	int fd = (int)fi->fh;
	struct shared_lk lk;
	uint64_t end;
	ssize_t n;

	pthread_rwlock_wrlock(&ai->lock);
	n = shared_lock(m, ai, fd, F_WRLCK, off, size, append, &lk);
	if (!n && append) {
		n = fio_size(m, fd, &end);
		off = end;
	}
	if (!n)
		do
			n = fio_write(m, ai, fd, buf, size, off, NULL);
		while (shared_hole_again(ai, fd, &n));
	shared_unlock(&lk);
	pthread_rwlock_unlock(&ai->lock);
	return n;
}

void atr_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
	       off_t off, struct fuse_file_info *fi)
{
	struct atr_mount *m = atr_mnt(req);
	struct atr_inode *ai = itable_ino(m, ino);
	struct worder w;
	ssize_t n;

	/*
	 * Writeback from the page cache needs no check: the kernel writes
	 * through instead whenever setuid or setgid bits must go.
	 */
	if (!fi->writepage) {
		n = killpriv_drop(req, ino, ai);
		if (n < 0) {
			fuse_reply_err(req, atr_errno((int)n));
			return;
		}
	}
	if (m->opt_mnt.shared) {
		n = shared_write(m, ai, fi, buf, size, (uint64_t)off);
		goto out;
	}
	worder_enter(m, ai, &w, (uint64_t)off, size);
	pthread_rwlock_wrlock(&ai->lock);
	n = fio_write(m, ai, (int)fi->fh, buf, size, (uint64_t)off, &w);
	pthread_rwlock_unlock(&ai->lock);
	worder_leave(m, ai, &w);
out:
	if (n < 0)
		fuse_reply_err(req, atr_errno((int)n));
	else
		fuse_reply_write(req, (size_t)n);
}

/*
 * Closing a duplicate reports deferred write errors of the backing fs, on
 * those that defer (NFS).  Where close(2) reports nothing, FLUSH is a round
 * trip per close for nothing: ENOSYS and the kernel sends no more.  No
 * write error is lost that way: WRITE replies after its pwrite(2), and the
 * kernel writes dirty pages back and checks them before it would send
 * FLUSH.
 */
void atr_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int fd;

	(void)ino;
	if (atr_mnt(req)->flush_noop) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	fd = dup((int)fi->fh);
	fuse_reply_err(req, fd < 0 || close(fd) ? errno : 0);
}

/*
 * Holes that writeback left are recorded while the handle still holds the
 * key (fio_settle()).  close(2) has returned by now, so a failure can only
 * be logged: the holes then read as errors after a remount.
 */
void atr_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct atr_mount *m = atr_mnt(req);
	struct atr_inode *ai = itable_ino(m, ino);

	pthread_rwlock_wrlock(&ai->lock);
	/* The last handle: another's writeback may still fill a gap. */
	if (ai->nkeyref == 1 && ai->fk)	/* locked: settled by the lock */
		fio_settle_late(m, ai, (int)fi->fh);
	key_unref(m, ai);
	/* Under the lock: a rekey must never move a number reused since. */
	rekeyd_handle_del(ai, (int)fi->fh);
	close((int)fi->fh);
	pthread_rwlock_unlock(&ai->lock);
	fuse_reply_err(req, 0);
}

/*
 * What fsync makes durable includes the file's records (holes, version,
 * header flags): while one is not yet synced, fdatasync is not enough (it
 * need not sync xattrs).  This machine's record of the version follows
 * the backing fsync, so that it never names a version a power failure
 * could still take from the file.
 */
void atr_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
	       struct fuse_file_info *fi)
{
	struct atr_mount *m = atr_mnt(req);
	struct atr_inode *ai = itable_ino(m, ino);
	int fd = (int)fi->fh;
	bool listed, unsynced, commit = false;
	int r = 0;

	/* Readers go on beside a database's frequent fsyncs, most of them. */
	pthread_rwlock_rdlock(&ai->lock);
	listed = ai->gaps != NULL || ai->data_pending || ai->ver_changed;
	unsynced = ai->xattr_unsynced;
	pthread_rwlock_unlock(&ai->lock);
	if (listed) {
		pthread_rwlock_wrlock(&ai->lock);
		r = fio_settle(m, ai, fd);
		unsynced = ai->xattr_unsynced;
		commit = ai->ver_commit != 0;
		pthread_rwlock_unlock(&ai->lock);
	}
	if (r < 0) {
		fuse_reply_err(req, atr_errno(r));
		return;
	}
	if (unsynced)
		datasync = 0;
	if (datasync ? fdatasync(fd) : fsync(fd)) {
		fuse_reply_err(req, errno);
		return;
	}
	if (unsynced || commit) {
		pthread_rwlock_wrlock(&ai->lock);
		if (unsynced)
			ai->xattr_unsynced = false;
		rollback_commit(m, ai);
		pthread_rwlock_unlock(&ai->lock);
	}
	fuse_reply_err(req, 0);
}

/* fio_fallocate(), again if another host's holes were met (shared mode). */
static int shared_fallocate(struct atr_mount *m, struct atr_inode *ai, int fd,
			    int mode, uint64_t off, uint64_t len)
{
	ssize_t n;

	do
		n = fio_fallocate(m, ai, fd, mode, off, len);
	while (shared_hole_again(ai, fd, &n));
	return (int)n;
}

void atr_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off,
		   off_t len, struct fuse_file_info *fi)
{
	struct atr_mount *m = atr_mnt(req);
	struct atr_inode *ai = itable_ino(m, ino);
	struct shared_lk lk;
	int err;

	if (off < 0 || len <= 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	pthread_rwlock_wrlock(&ai->lock);
	err = shared_lock(m, ai, (int)fi->fh, F_WRLCK, (uint64_t)off,
			  (uint64_t)len, true, &lk);
	if (!err)
		err = shared_fallocate(m, ai, (int)fi->fh, mode, (uint64_t)off,
				       (uint64_t)len);
	shared_unlock(&lk);
	pthread_rwlock_unlock(&ai->lock);
	fuse_reply_err(req, atr_errno(err));
}

void atr_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
	       struct fuse_file_info *fi)
{
	struct atr_mount *m = atr_mnt(req);
	struct atr_inode *ai = itable_ino(m, ino);
	int64_t res;

	if ((whence != SEEK_DATA && whence != SEEK_HOLE) || off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	/*
	 * The kernel asks before writing back its dirty pages, so the
	 * backing file may lack data the caller wrote: a hole reported over
	 * it would make a sparse copy skip real data.  Invalidating the
	 * inode writes the pages back first (through other worker threads;
	 * we hold no lock here).
	 */
	if (!xport_nested_begin()) {
		xport_nested_end();
		fuse_reply_err(req, EIO);
		return;
	}
	fuse_lowlevel_notify_inval_inode(m->se, ino, 0, 0);
	xport_nested_end();
	pthread_rwlock_rdlock(&ai->lock);
	res = fio_seek(m, ai, (int)fi->fh, (uint64_t)off, whence);
	pthread_rwlock_unlock(&ai->lock);
	if (res < 0)
		fuse_reply_err(req, atr_errno((int)res));
	else
		fuse_reply_lseek(req, (off_t)res);
}
