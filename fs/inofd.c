// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/inofd.c - an inode's O_PATH fd, lent to one backing operation at a
 * time.  Owns the file handle of every inode (name_to_handle_at) and a
 * bounded cache of open fds, least recently used first out, so the
 * daemon's fds do not grow with the number of inodes the kernel
 * remembers (issue 20; virtiofsd's inode_file_handles does the same).
 * Without handles that open (-o nohandles, no CAP_DAC_READ_SEARCH, a
 * backing file system that has none, or an inode on another mount) an
 * inode keeps its parent and backing name instead, and a closed fd is
 * reopened by openat(2) there; the file found must be the inode's own
 * (st_dev, st_ino and, where the file system has handles, the handle,
 * which carries the generation), or the request fails with ESTALE: the
 * name was renamed or replaced in the backing directory behind the
 * daemon's back.  Unlink, rmdir and rename through the mount move the
 * names they change (ino_name_*()).  An inode whose name goes while the
 * kernel still knows it (a file unlinked while open, a directory
 * removed) keeps its fd open from then on, as one without handles did
 * before: such inodes are few and the kernel forgets them soon.
 *
 * Locking: mnt->fd_lock, innermost (taken under itable_lock, ai->lock
 * and path_lock, nothing under it), protects every cached inode's ->fd,
 * ->fd_users, the LRU links and mnt->fd_open.  No syscall but close(2)
 * runs under it.  mnt->path_lock (see struct atr_mount) orders reopens
 * by name against the unlinks and renames that change names.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
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
	pthread_rwlock_init(&m->path_lock, NULL);
	m->mount_fd = -1;
	m->fd_max = INO_FD_CACHE;
	/* open_by_handle_at needs CAP_DAC_READ_SEARCH: try it on the root. */
	fh->handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(m->root.fd, "", fh, &m->mount_id,
			      AT_EMPTY_PATH)) {
		atr_log(LOG_NOTICE, "%s: the backing file system has no file "
			"handles: inodes are reopened by parent and name",
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
			"needs CAP_DAC_READ_SEARCH): inodes are reopened by "
			"parent and name", m->backing, strerror(errno));
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
	/* Before serving: no inode but the root (which has no handle) yet. */
	if (m->opt_mnt.nohandles && m->handles) {
		m->handles = false;
		atr_log(LOG_NOTICE, "%s: -o nohandles: inodes are reopened by "
			"parent and name", m->backing);
	}
}

void ino_fd_teardown(struct atr_mount *m)
{
	if (m->mount_fd >= 0)
		close(m->mount_fd);
	pthread_rwlock_destroy(&m->path_lock);
	pthread_mutex_destroy(&m->fd_lock);
}

/* Is @ai's fd cached (closed when unused and old), under fd_lock? */
static bool cached(const struct atr_inode *ai)
{
	return ai->fh || ai->name;
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

/* A copy of @fd's handle and its mount's ID, or NULL: none. */
static struct file_handle *handle_of(int fd, int *mount_id)
{
	union fh_buf u;
	struct file_handle *fh = &u.fh, *copy;

	fh->handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(fd, "", fh, mount_id, AT_EMPTY_PATH))
		return NULL;
	copy = malloc(sizeof(*fh) + fh->handle_bytes);
	if (copy)
		memcpy(copy, fh, sizeof(*fh) + fh->handle_bytes);
	return copy;
}

/* Can @fh, of mount @mount_id, be opened through the root's mount? */
static bool opens(const struct atr_mount *m, const struct file_handle *fh,
		  int mount_id)
{
	/* On another mount, the root's fd cannot open it. */
	return fh && m->handles && mount_id == m->mount_id;
}

void ino_fd_adopt(struct atr_mount *m, struct atr_inode *ai, int fd,
		  struct atr_inode *dir, const char *name)
{
	int mount_id;
	struct file_handle *fh = handle_of(fd, &mount_id);

	ai->mnt = m;
	ai->fd = fd;
	if (opens(m, fh, mount_id)) {
		ai->fh = fh;
	} else if (dir && name && (ai->name = strdup(name))) {
		ai->ident = fh;
		ai->parent = dir;
		dir->nlookup++;		/* the caller holds itable_lock */
		__atomic_add_fetch(&m->nnamed, 1, __ATOMIC_RELAXED);
	} else {
		free(fh);	/* kept open for good */
	}
	if (!cached(ai))
		return;
	pthread_mutex_lock(&m->fd_lock);
	m->fd_open++;
	lru_push(m, ai);
	evict(m, m->fd_max);
	pthread_mutex_unlock(&m->fd_lock);
}

/*
 * A lookup found @ai as @name in @dir: if it is reopened by another name
 * (a hard link's, or one renamed or replaced in the backing directory),
 * by this one from now on, which is good now, while the other may be
 * gone (readdirplus may hand the kernel @ai under @name, which it then
 * uses without a lookup).
 */
static void rename_found(struct atr_mount *m, struct atr_inode *ai,
			 struct atr_inode *dir, const char *name)
{
	struct atr_inode *drop = NULL;
	bool other;
	char *copy;

	pthread_rwlock_rdlock(&m->path_lock);
	other = ai->name && (ai->parent != dir || strcmp(ai->name, name));
	pthread_rwlock_unlock(&m->path_lock);
	if (!other || !(copy = strdup(name)))
		return;
	itable_hold(m, dir);
	pthread_rwlock_wrlock(&m->path_lock);
	if (ai->name) {
		drop = ai->parent;
		ai->parent = dir;
		free(ai->name);
		ai->name = copy;
	} else {
		drop = dir;	/* its name went meanwhile: fd kept open */
		free(copy);
	}
	pthread_rwlock_unlock(&m->path_lock);
	itable_put(m, drop, 1);
}

void ino_fd_offer(struct atr_inode *ai, int fd, struct atr_inode *dir,
		  const char *name)
{
	struct atr_mount *m = ai->mnt;

	if (dir && name)
		rename_found(m, ai, dir, name);
	if (fd < 0)
		return;
	pthread_mutex_lock(&m->fd_lock);
	if (cached(ai) && ai->fd < 0) {
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

struct atr_inode *ino_fd_release(struct atr_inode *ai)
{
	struct atr_mount *m = ai->mnt;

	pthread_mutex_lock(&m->fd_lock);
	/* The kernel forgot it: no request holds its fd. */
	if (cached(ai) && ai->fd >= 0) {
		lru_unlink(m, ai);
		m->fd_open--;
	}
	pthread_mutex_unlock(&m->fd_lock);
	if (ai->fd >= 0)
		close(ai->fd);
	free(ai->fh);
	free(ai->ident);
	if (!ai->name)
		return NULL;
	free(ai->name);
	__atomic_sub_fetch(&m->nnamed, 1, __ATOMIC_RELAXED);
	return ai->parent;
}

/* Take @ai's open fd, under fd_lock. */
static int take(struct atr_mount *m, struct atr_inode *ai)
{
	if (ai->fd_users++ == 0 && cached(ai))
		lru_unlink(m, ai);
	return ai->fd;
}

/* Once per inode: the file behind it is gone or another; @fmt says how. */
static void stale_log(struct atr_inode *ai, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void stale_log(struct atr_inode *ai, const char *fmt, ...)
{
	char what[PATH_MAX + 128];
	va_list ap;

	if (__atomic_exchange_n(&ai->stale_logged, true, __ATOMIC_RELAXED))
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	atr_log(LOG_WARNING, "%s: %s", ai->mnt->backing, what);
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
	stale_log(ai, "inode %llu is gone from the backing directory "
		  "(deleted or replaced there while mounted); requests on it "
		  "fail with ENOENT", (unsigned long long)ai->ino);
	return -ENOENT;
}

/*
 * Is @fd, just opened by @ai's name, @ai's file?  Its identity, not its
 * name: a file renamed or replaced in the backing directory must not be
 * read or written as another one.
 */
static bool same_file(struct atr_inode *ai, int fd)
{
	struct atr_mount *m = ai->mnt;
	union fh_buf want, got;
	bool ident = false;
	struct stat st;
	int mount_id;

	if (fstat(fd, &st) || st.st_dev != ai->dev || st.st_ino != ai->ino)
		return false;
	/* A copy: a rekey may replace it meanwhile (ino_fd_rebind()). */
	pthread_mutex_lock(&m->fd_lock);
	if (ai->ident) {
		memcpy(&want, ai->ident,
		       sizeof(*ai->ident) + ai->ident->handle_bytes);
		ident = true;
	}
	pthread_mutex_unlock(&m->fd_lock);
	if (!ident)
		return true;
	/* The inode number may have been reused; the generation tells. */
	got.fh.handle_bytes = MAX_HANDLE_SZ;
	return !name_to_handle_at(fd, "", &got.fh, &mount_id, AT_EMPTY_PATH) &&
	       got.fh.handle_type == want.fh.handle_type &&
	       got.fh.handle_bytes == want.fh.handle_bytes &&
	       !memcmp(got.fh.f_handle, want.fh.f_handle,
		       want.fh.handle_bytes);
}

static int get(struct atr_inode *ai, bool path_held);

/* Reopen @ai by its parent and name, with path_lock read-held. */
static int reopen(struct atr_mount *m, struct atr_inode *ai)
{
	struct atr_inode *dir = ai->parent;
	int dfd = get(dir, true), fd;

	if (dfd < 0)
		return dfd;
	fd = openat(dfd, ai->name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
		pthread_mutex_lock(&m->fd_lock);
		evict(m, 0);
		pthread_mutex_unlock(&m->fd_lock);
		fd = openat(dfd, ai->name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		fd = -errno;
	ino_fd_put(dir);
	if (fd == -ENOENT)
		stale_log(ai, "%s (inode %llu) is gone from the backing "
			  "directory (deleted or renamed there while "
			  "mounted); requests on it fail with ENOENT",
			  ai->name, (unsigned long long)ai->ino);
	if (fd < 0 || same_file(ai, fd))
		return fd;
	close(fd);
	stale_log(ai, "%s is no longer inode %llu (renamed or replaced in the "
		  "backing directory while mounted); requests on that inode "
		  "fail with ESTALE", ai->name, (unsigned long long)ai->ino);
	return -ESTALE;
}

/* ino_fd_get(), with @path_held: path_lock read-held by the caller. */
static int get(struct atr_inode *ai, bool path_held)
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
	if (!ai->fh && !path_held) {
		/*
		 * Closed, so it has a name, which path_lock keeps from
		 * changing: look again with it held.  (An unlink may have
		 * taken the name meanwhile, holding the fd open, which it
		 * keeps open from then on: ino_name_move().)
		 */
		pthread_mutex_unlock(&m->fd_lock);
		pthread_rwlock_rdlock(&m->path_lock);
		fd = get(ai, true);
		pthread_rwlock_unlock(&m->path_lock);
		return fd;
	}
	if (ai->fh) {
		/* Open a copy of the handle unlocked. */
		memcpy(&u, ai->fh, sizeof(*ai->fh) + ai->fh->handle_bytes);
		pthread_mutex_unlock(&m->fd_lock);
		fd = open_handle(m, ai, &u.fh);
	} else {
		pthread_mutex_unlock(&m->fd_lock);
		fd = ai->name ? reopen(m, ai) : -ESTALE;
	}
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

int ino_fd_get(struct atr_inode *ai)
{
	return get(ai, false);
}

void ino_fd_put(struct atr_inode *ai)
{
	struct atr_mount *m = ai->mnt;
	int err = errno;

	pthread_mutex_lock(&m->fd_lock);
	if (--ai->fd_users == 0 && cached(ai)) {
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
 * file or the new), and its handle the new file's; without one that
 * opens, the fd is cached if the inode has a name (the rekey kept it:
 * the new file took the old one's) and kept open from now on if not.
 * Nothing here opens a file, so once the rename is done only dup3() can
 * fail.
 */
int ino_fd_rebind(struct atr_inode *ai, int nfd)
{
	struct atr_mount *m = ai->mnt;
	int mount_id, err = 0;
	struct file_handle *h = handle_of(nfd, &mount_id), *fh = NULL;
	struct file_handle *old, *ident = NULL;
	bool was, now;

	if (opens(m, h, mount_id))
		fh = h;
	else
		ident = h;
	pthread_mutex_lock(&m->fd_lock);
	old = ai->fh;
	was = cached(ai);
	now = fh || ai->name;
	if (ai->fd >= 0) {
		if (dup3(nfd, ai->fd, O_CLOEXEC) < 0) {
			err = -errno;
		} else if (was && !now) {	/* kept open from now on */
			if (ai->fd_users == 0)
				lru_unlink(m, ai);
			m->fd_open--;
		} else if (!was && now) {	/* cached from now on */
			if (ai->fd_users == 0)
				lru_push(m, ai);
			m->fd_open++;
		}
	} else if (!now) {
		ai->fd = nfd;	/* closed, so it was cached and unused */
		nfd = -1;
	}
	if (err) {
		old = fh;	/* the old file's stays; the new one's goes */
	} else {
		ai->fh = fh;
		/* Only a name needs it; the old file's goes. */
		if (ai->name) {
			h = ident;
			ident = ai->ident;
			ai->ident = h;
		} else {
			free(ai->ident);
			ai->ident = NULL;
		}
	}
	pthread_mutex_unlock(&m->fd_lock);
	if (nfd >= 0)
		close(nfd);
	free(old);
	free(ident);
	return err;
}

bool ino_fd_gone(struct atr_inode *ai)
{
	int fd = ino_fd_get(ai);
	struct stat st;
	bool gone;

	/*
	 * A handle that no longer opens names a file deleted; a name that
	 * leads nowhere, or to another file, one deleted or replaced.
	 */
	if (fd < 0)
		return fd == -ENOENT || fd == -ESTALE;
	gone = fstat(fd, &st) == 0 && st.st_nlink == 0;
	ino_fd_put(ai);
	return gone;
}

struct atr_inode *ino_name_hold(struct atr_mount *m, struct atr_inode *dir,
				const char *name)
{
	struct atr_inode *ai;
	struct stat st;
	bool named;

	/* Nothing to move with handles: unlink and rename pay nothing. */
	if (!__atomic_load_n(&m->nnamed, __ATOMIC_RELAXED) ||
	    ino_fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) ||
	    !(ai = itable_find(m, &st)))
		return NULL;
	pthread_rwlock_rdlock(&m->path_lock);
	named = ai->name && ai->parent == dir && !strcmp(ai->name, name);
	pthread_rwlock_unlock(&m->path_lock);
	/* Its fd open and held: reopened by this name, it could not be. */
	if (named && ino_fd_get(ai) >= 0)
		return ai;
	itable_put(m, ai, 1);
	return NULL;
}

struct atr_inode *ino_last_hold(struct atr_mount *m, const struct stat *st)
{
	struct atr_inode *ai;
	bool handle;

	if (!m->handles || !st ||
	    (st->st_nlink != 1 && !S_ISDIR(st->st_mode)) ||
	    !(ai = itable_find(m, st)))
		return NULL;
	pthread_mutex_lock(&m->fd_lock);
	handle = ai->fh != NULL;
	pthread_mutex_unlock(&m->fd_lock);
	if (handle && ino_fd_get(ai) >= 0)
		return ai;
	itable_put(m, ai, 1);
	return NULL;
}

void ino_last_gone(struct atr_inode *ai)
{
	struct atr_mount *m = ai->mnt;
	struct file_handle *fh;

	/* Held, so not in the LRU; without a handle it is not cached. */
	pthread_mutex_lock(&m->fd_lock);
	fh = ai->fh;
	ai->fh = NULL;
	if (fh && !ai->name)
		m->fd_open--;
	pthread_mutex_unlock(&m->fd_lock);
	free(fh);
}

void ino_names_lock(struct atr_mount *m)
{
	pthread_rwlock_wrlock(&m->path_lock);
}

void ino_names_unlock(struct atr_mount *m)
{
	pthread_rwlock_unlock(&m->path_lock);
}

struct atr_inode *ino_name_move(struct atr_inode *ai, struct atr_inode *from,
				const char *fromname, struct atr_inode **to,
				const char *toname)
{
	struct atr_mount *m = ai->mnt;
	struct atr_inode *drop = ai->parent;
	char *copy = NULL;

	/* Another rename moved it meanwhile: not this name's any more. */
	if (!ai->name || ai->parent != from || strcmp(ai->name, fromname))
		return NULL;
	if (*to && (copy = strdup(toname))) {
		free(ai->name);
		ai->name = copy;
		ai->parent = *to;
		*to = NULL;	/* its lookup is the inode's now */
		return drop;
	}
	/* The name is gone (or no memory for the new one): keep the fd. */
	pthread_mutex_lock(&m->fd_lock);
	free(ai->name);
	ai->name = NULL;
	ai->parent = NULL;
	free(ai->ident);
	ai->ident = NULL;
	/* Held open by ino_name_hold(), so not in the LRU. */
	if (!cached(ai))
		m->fd_open--;
	pthread_mutex_unlock(&m->fd_lock);
	__atomic_sub_fetch(&m->nnamed, 1, __ATOMIC_RELAXED);
	return drop;
}

void ino_name_done(struct atr_mount *m, struct atr_inode *ai)
{
	if (!ai)
		return;
	ino_fd_put(ai);
	itable_put(m, ai, 1);
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
