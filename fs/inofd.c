// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/inofd.c - an inode's O_PATH fd, lent to one backing operation at a
 * time.  Owns the file handle of every inode (name_to_handle_at) and a
 * bounded cache of open fds, least recently used first out, so the
 * daemon's fds do not grow with the number of inodes the kernel
 * remembers (issue 20; virtiofsd's inode_file_handles does the same).
 * Without handles (no CAP_DAC_READ_SEARCH, a backing file system that has
 * none, or an inode on another mount) an inode keeps the fd it was looked
 * up with, as passthrough_ll does.
 *
 * Locking: mnt->fd_lock, innermost (taken under itable_lock and ai->lock,
 * nothing under it), protects every handle inode's ->fd, ->fd_users, the
 * LRU links and mnt->fd_open.  No syscall but close(2) runs under it.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fs_private.h"

/* Cached fds at most; fewer if RLIMIT_NOFILE is low (a quarter of it). */
#define INO_FD_CACHE 1024

/* Room for the largest handle, aligned for struct file_handle. */
union fh_buf {
	struct file_handle fh;
	char buf[sizeof(struct file_handle) + MAX_HANDLE_SZ];
};

void ino_fd_setup(struct atr_mount *m)
{
	union fh_buf u;
	struct file_handle *fh = &u.fh;
	int fd;

	pthread_mutex_init(&m->fd_lock, NULL);
	m->mount_fd = -1;
	m->fd_max = INO_FD_CACHE;
	/* open_by_handle_at needs CAP_DAC_READ_SEARCH: try it on the root. */
	fh->handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(m->root.fd, "", fh, &m->mount_id,
			      AT_EMPTY_PATH)) {
		atr_log(LOG_NOTICE, "%s: the backing file system has no file "
			"handles: one open file per inode the kernel knows",
			m->backing);
		return;
	}
	/* The mount's fd must not be O_PATH (fdget() refuses those). */
	m->mount_fd = openat(m->root.fd, ".", O_RDONLY | O_DIRECTORY |
			     O_CLOEXEC);
	fd = m->mount_fd < 0 ? -1 :
	     open_by_handle_at(m->mount_fd, fh, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		atr_log(LOG_NOTICE, "%s: file handles cannot be opened (%s; "
			"needs CAP_DAC_READ_SEARCH): one open file per inode "
			"the kernel knows", m->backing, strerror(errno));
		if (m->mount_fd >= 0)
			close(m->mount_fd);
		m->mount_fd = -1;
		return;
	}
	close(fd);
	m->handles = true;
}

void ino_fd_bound(struct atr_mount *m)
{
	struct rlimit rl;

	m->fd_max = INO_FD_CACHE;
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur / 4 < m->fd_max)
		m->fd_max = rl.rlim_cur / 4 > 16 ? rl.rlim_cur / 4 : 16;
}

void ino_fd_teardown(struct atr_mount *m)
{
	if (m->mount_fd >= 0)
		close(m->mount_fd);
	pthread_mutex_destroy(&m->fd_lock);
}

static void lru_unlink(struct atr_mount *m, struct atr_inode *ai)
{
	if (ai->lru_prev)
		ai->lru_prev->lru_next = ai->lru_next;
	else
		m->lru_head = ai->lru_next;
	if (ai->lru_next)
		ai->lru_next->lru_prev = ai->lru_prev;
	else
		m->lru_tail = ai->lru_prev;
	ai->lru_prev = ai->lru_next = NULL;
}

static void lru_push(struct atr_mount *m, struct atr_inode *ai)
{
	ai->lru_prev = NULL;
	ai->lru_next = m->lru_head;
	if (m->lru_head)
		m->lru_head->lru_prev = ai;
	else
		m->lru_tail = ai;
	m->lru_head = ai;
}

/* Close unused fds, oldest first, down to @keep open.  Under fd_lock. */
static void evict(struct atr_mount *m, size_t keep)
{
	struct atr_inode *ai;

	while (m->fd_open > keep && m->lru_tail) {
		ai = m->lru_tail;
		lru_unlink(m, ai);
		close(ai->fd);
		ai->fd = -1;
		m->fd_open--;
	}
}

/* A copy of @fd's handle, if the root's mount can open it; else NULL. */
static struct file_handle *handle_of(struct atr_mount *m, int fd)
{
	union fh_buf u;
	struct file_handle *fh = &u.fh, *copy;
	int mount_id;

	fh->handle_bytes = MAX_HANDLE_SZ;
	/* On another mount, the root's fd cannot open it: keep the fd. */
	if (!m->handles ||
	    name_to_handle_at(fd, "", fh, &mount_id, AT_EMPTY_PATH) ||
	    mount_id != m->mount_id)
		return NULL;
	copy = malloc(sizeof(*fh) + fh->handle_bytes);
	if (copy)
		memcpy(copy, fh, sizeof(*fh) + fh->handle_bytes);
	return copy;
}

void ino_fd_adopt(struct atr_mount *m, struct atr_inode *ai, int fd)
{
	ai->mnt = m;
	ai->fd = fd;
	ai->fh = handle_of(m, fd);
	if (!ai->fh)
		return;
	pthread_mutex_lock(&m->fd_lock);
	m->fd_open++;
	lru_push(m, ai);
	evict(m, m->fd_max);
	pthread_mutex_unlock(&m->fd_lock);
}

void ino_fd_offer(struct atr_inode *ai, int fd)
{
	struct atr_mount *m = ai->mnt;

	pthread_mutex_lock(&m->fd_lock);
	if (ai->fh && ai->fd < 0) {
		ai->fd = fd;
		fd = -1;
		m->fd_open++;
		lru_push(m, ai);
		evict(m, m->fd_max);
	}
	pthread_mutex_unlock(&m->fd_lock);
	if (fd >= 0)
		close(fd);
}

void ino_fd_release(struct atr_inode *ai)
{
	struct atr_mount *m = ai->mnt;

	pthread_mutex_lock(&m->fd_lock);
	/* The kernel forgot it: no request holds its fd. */
	if (ai->fh && ai->fd >= 0) {
		lru_unlink(m, ai);
		m->fd_open--;
	}
	pthread_mutex_unlock(&m->fd_lock);
	if (ai->fd >= 0)
		close(ai->fd);
	free(ai->fh);
}

/* Take @ai's open fd, under fd_lock. */
static int take(struct atr_mount *m, struct atr_inode *ai)
{
	if (ai->fd_users++ == 0 && ai->fh)
		lru_unlink(m, ai);
	return ai->fd;
}

/* Open @fh (a copy: a rekey may replace the inode's meanwhile). */
static int open_handle(struct atr_mount *m, struct atr_inode *ai,
		       struct file_handle *fh)
{
	int fd = open_by_handle_at(m->mount_fd, fh, O_PATH | O_CLOEXEC);

	if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
		/* A lowered RLIMIT_NOFILE: give back every unused fd. */
		pthread_mutex_lock(&m->fd_lock);
		evict(m, 0);
		pthread_mutex_unlock(&m->fd_lock);
		fd = open_by_handle_at(m->mount_fd, fh, O_PATH | O_CLOEXEC);
	}
	if (fd >= 0)
		return fd;
	if (errno != ESTALE)
		return -errno;
	/* Deleted, or replaced by another file, in the backing directory. */
	if (!__atomic_exchange_n(&ai->stale_logged, true, __ATOMIC_RELAXED))
		atr_log(LOG_WARNING, "%s: inode %llu is gone from the backing "
			"directory (deleted or replaced there while mounted); "
			"requests on it fail with ENOENT",
			m->backing, (unsigned long long)ai->ino);
	return -ENOENT;
}

int ino_fd_get(struct atr_inode *ai)
{
	struct atr_mount *m = ai->mnt;
	union fh_buf u;
	int fd, old = -1;

	pthread_mutex_lock(&m->fd_lock);
	if (ai->fd >= 0) {
		fd = take(m, ai);
		pthread_mutex_unlock(&m->fd_lock);
		return fd;
	}
	/* Closed, so it has a handle: open a copy of it unlocked. */
	memcpy(&u, ai->fh, sizeof(*ai->fh) + ai->fh->handle_bytes);
	pthread_mutex_unlock(&m->fd_lock);
	fd = open_handle(m, ai, &u.fh);
	if (fd < 0)
		return fd;
	pthread_mutex_lock(&m->fd_lock);
	if (ai->fd >= 0) {
		old = fd;	/* another thread, or a rekey, set one meanwhile */
		fd = take(m, ai);
	} else {
		ai->fd = fd;
		ai->fd_users++;	/* not in the LRU: it had no fd */
		m->fd_open++;
		evict(m, m->fd_max);
	}
	pthread_mutex_unlock(&m->fd_lock);
	if (old >= 0)
		close(old);
	return fd;
}

void ino_fd_put(struct atr_inode *ai)
{
	struct atr_mount *m = ai->mnt;
	int err = errno;

	pthread_mutex_lock(&m->fd_lock);
	if (--ai->fd_users == 0 && ai->fh) {
		lru_push(m, ai);
		evict(m, m->fd_max);
	}
	pthread_mutex_unlock(&m->fd_lock);
	errno = err;
}

/*
 * Online rekey (rekeyd.c): the inode is now the file of @nfd, an O_PATH
 * fd opened by its name, which this takes.  The inode's fd, if open,
 * becomes @nfd in place (dup3: a thread using it meanwhile sees the old
 * file or the new), and its handle the new file's; without one, the fd
 * is kept open from now on.  Nothing here opens a file, so once the
 * rename is done only dup3() can fail.
 */
int ino_fd_rebind(struct atr_inode *ai, int nfd)
{
	struct atr_mount *m = ai->mnt;
	struct file_handle *fh = handle_of(m, nfd), *old;
	int err = 0;

	pthread_mutex_lock(&m->fd_lock);
	old = ai->fh;
	if (ai->fd >= 0) {
		if (dup3(nfd, ai->fd, O_CLOEXEC) < 0) {
			err = -errno;
		} else if (old && !fh) {	/* kept open from now on */
			if (ai->fd_users == 0)
				lru_unlink(m, ai);
			m->fd_open--;
		} else if (!old && fh) {	/* cached from now on */
			if (ai->fd_users == 0)
				lru_push(m, ai);
			m->fd_open++;
		}
	} else if (!fh) {
		ai->fd = nfd;	/* closed, so it had a handle and no user */
		nfd = -1;
	}
	if (err)
		old = fh;	/* the old file's stays; the new one's goes */
	else
		ai->fh = fh;
	pthread_mutex_unlock(&m->fd_lock);
	if (nfd >= 0)
		close(nfd);
	free(old);
	return err;
}

bool ino_fd_gone(struct atr_inode *ai)
{
	int fd = ino_fd_get(ai);
	struct stat st;
	bool gone;

	/* A handle that no longer opens names a file deleted. */
	if (fd < 0)
		return fd == -ENOENT;
	gone = fstat(fd, &st) == 0 && st.st_nlink == 0;
	ino_fd_put(ai);
	return gone;
}

/*
 * The *at(2) calls on one name in a directory inode, as drop-in
 * replacements: -1 with errno set, also when the fd cannot be had.
 */
int ino_openat(struct atr_inode *dir, const char *name, int flags,
	       mode_t mode)
{
	int dfd = ino_fd_get(dir), fd;

	if (dfd < 0)
		return errno = -dfd, -1;
	fd = openat(dfd, name, flags, mode);
	ino_fd_put(dir);
	return fd;
}

int ino_unlinkat(struct atr_inode *dir, const char *name, int flags)
{
	int dfd = ino_fd_get(dir), r;

	if (dfd < 0)
		return errno = -dfd, -1;
	r = unlinkat(dfd, name, flags);
	ino_fd_put(dir);
	return r;
}

int ino_fstatat(struct atr_inode *dir, const char *name, struct stat *st,
		int flags)
{
	int dfd = ino_fd_get(dir), r;

	if (dfd < 0)
		return errno = -dfd, -1;
	r = fstatat(dfd, name, st, flags);
	ino_fd_put(dir);
	return r;
}

int ino_symlinkat(const char *target, struct atr_inode *dir,
		  const char *name)
{
	int dfd = ino_fd_get(dir), r;

	if (dfd < 0)
		return errno = -dfd, -1;
	r = symlinkat(target, dfd, name);
	ino_fd_put(dir);
	return r;
}

int ino_mknodat(struct atr_inode *dir, const char *name, mode_t mode,
		dev_t rdev)
{
	int dfd = ino_fd_get(dir), r;

	if (dfd < 0)
		return errno = -dfd, -1;
	r = mknodat(dfd, name, mode, rdev);
	ino_fd_put(dir);
	return r;
}

/* A duplicate of @ai's fd that outlives the request, or -1. */
int ino_fd_dup(struct atr_inode *ai)
{
	int fd = ino_fd_get(ai), dup;

	if (fd < 0)
		return -1;
	dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	ino_fd_put(ai);
	return dup;
}
