// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/rekeyd.c - "atrestfs rekey MOUNTPOINT": the daemon rekeys files of
 * its own volume with volume/rekey.c, on the control socket's thread
 * (ctl.c), and moves each live inode over to the new file.
 *
 * While a file is rekeyed its inode's lock is write-held, so no request
 * reads or changes it; what its writes left pending is settled first.
 * Before the new file is renamed over the old one, every fd the inode
 * and its handles will need is opened on it (or the file is left as it
 * was); once renamed, they replace the inode's O_PATH fd and every open
 * handle's fd in place (dup3), the table entry moves to the new (dev,
 * ino), and the key is wiped and loaded again from the new header.  An
 * application holding the file open goes on reading and writing, under
 * the new DEK, and no byte goes to the old file.  Owns nothing past a
 * call; the mount's KEK is only changed on this same thread.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../crypto/msg.h"
#include "../volume/fsck.h"
#include "../volume/rekey.h"
#include "../volume/volume.h"
#include "fs_private.h"

struct rekeyd {
	struct atr_mount *m;
	const struct rekeyd_cb *cb;
	struct rekeyd_stats *st;
	char **paths;			/* --all: the walk's, owned */
	size_t npaths, cap;
	bool swapped;			/* the inode in hand moved: tell the kernel */
	/*
	 * cb_prepare()'s fds of the new file, owned until cb_swapped()
	 * puts them in place or cb_leave() closes them: [0] for the
	 * inode's O_PATH fd, [1 + i] for its handle hfds[i] (the inode's
	 * lock is write-held throughout, so hfds does not change).
	 */
	int *nfd;
	unsigned int nnfd;
};

/* ---- open handles (ops_file.c), all with ai->lock write-held ---- */

int rekeyd_handle_add(struct atr_inode *ai, int fd)
{
	int *n;

	if (ai->nhfds == ai->hfds_cap) {
		n = realloc(ai->hfds, (ai->hfds_cap ? ai->hfds_cap * 2 : 4) *
			    sizeof(*n));
		if (!n)
			return -ENOMEM;
		ai->hfds = n;
		ai->hfds_cap = ai->hfds_cap ? ai->hfds_cap * 2 : 4;
	}
	ai->hfds[ai->nhfds++] = fd;
	return 0;
}

void rekeyd_handle_del(struct atr_inode *ai, int fd)
{
	unsigned int i;

	for (i = 0; i < ai->nhfds; i++)
		if (ai->hfds[i] == fd) {
			ai->hfds[i] = ai->hfds[--ai->nhfds];
			return;
		}
}

/* @fd in place of a new fd of the file @pfd holds, with @fd's flags. */
static int replace_fd(int pfd, int fd)
{
	int fl = fcntl(fd, F_GETFL), nfd;

	if (fl < 0)
		return -errno;
	nfd = fl & O_PATH ? attr_reopen_fd(pfd, O_PATH | O_NOFOLLOW) :
			    attr_reopen_fd(pfd, fl);
	if (nfd < 0)
		return nfd;
	/* One step: a thread using @fd meanwhile sees the old or the new. */
	if (dup3(nfd, fd, O_CLOEXEC) < 0) {
		close(nfd);
		return -errno;
	}
	close(nfd);
	return 0;
}

int rekeyd_follow(struct atr_inode *ai, int fd)
{
	struct stat st;
	int pfd, err;

	if (fstat(fd, &st))
		return -errno;
	if (st.st_dev == ai->dev && st.st_ino == ai->ino)
		return 0;
	/* Opened before a rekey moved the inode: the file is the new one. */
	pfd = ino_fd_get(ai);
	if (pfd < 0)
		return pfd;
	err = replace_fd(pfd, fd);
	ino_fd_put(ai);
	return err;
}

/* ---- volume/rekey.c's callbacks ---- */

static uint64_t cb_seen(void *ctx, const uint8_t id[FILE_ID_LEN])
{
	return fstate_get(((struct rekeyd *)ctx)->m->fstate, id);
}

static void cb_record(void *ctx, const uint8_t id[FILE_ID_LEN],
		      uint64_t counter)
{
	fstate_put(((struct rekeyd *)ctx)->m->fstate, id, counter);
}

/* The inode pinned and write-locked, its pending state on the disk. */
static int cb_enter(void *ctx, int fd, const struct stat *st, void **cookie)
{
	struct rekeyd *d = ctx;
	struct atr_mount *m = d->m;
	struct atr_inode *ai;
	int err = itable_pin(m, fd, st, &ai);

	if (err)
		return err;
	pthread_rwlock_wrlock(&ai->lock);
	if (ai->fk) {
		err = fio_settle(m, ai, -1);
		if (err >= 0)
			rollback_commit(m, ai);
	}
	if (err < 0) {
		pthread_rwlock_unlock(&ai->lock);
		itable_put(m, ai, 1);
		return err;
	}
	d->swapped = false;
	*cookie = ai;
	return 0;
}

/*
 * After ai->lock, like the unlink and rename that read-hold it around
 * their syscall only: nothing takes an inode's lock under it.
 */
static void cb_naming(void *ctx, bool begin)
{
	struct rekeyd *d = ctx;

	if (begin)
		pthread_rwlock_wrlock(&d->m->ns_lock);
	else
		pthread_rwlock_unlock(&d->m->ns_lock);
}

static void drop_prepared(struct rekeyd *d)
{
	while (d->nnfd)
		if (d->nfd[--d->nnfd] >= 0)
			close(d->nfd[d->nnfd]);
	free(d->nfd);
	d->nfd = NULL;
}

/*
 * Every fd the inode and its handles will need, opened by the new file's
 * name beside the old one, before the rename: once renamed, nothing can
 * fail but dup3().  (Through its name, not /proc of the O_TMPFILE fd, so
 * the O_PATH fd's path is the file's own from the rename on.)  A handle
 * that cannot be opened again (EMFILE; a file made 0444 while held open
 * for writing, with a daemon that is not root) leaves the old file.
 */
static int cb_prepare(void *ctx, void *cookie, int parent, const char *name,
		      int newfd)
{
	struct rekeyd *d = ctx;
	struct atr_inode *ai = cookie;
	struct stat want, st;
	unsigned int i;
	int fl, fd, err = 0;

	if (fstat(newfd, &want))
		return -errno;
	d->nfd = calloc(ai->nhfds + 1, sizeof(*d->nfd));
	if (!d->nfd)
		return -ENOMEM;
	for (i = 0; !err && i <= ai->nhfds; i++) {
		fl = i ? fcntl(ai->hfds[i - 1], F_GETFL) : O_PATH;
		if (fl < 0) {
			err = -errno;
			break;
		}
		fl = fl & O_PATH ? O_PATH : fl & ~(O_CREAT | O_EXCL | O_TRUNC);
		fd = openat(parent, name, fl | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			err = -errno;
			break;
		}
		d->nfd[d->nnfd++] = fd;
		if (fstat(fd, &st))
			err = -errno;
		else if (st.st_dev != want.st_dev || st.st_ino != want.st_ino)
			err = -ESTALE;
	}
	if (err)
		drop_prepared(d);
	return err;
}

static void cb_swapped(void *ctx, void *cookie, int newfd)
{
	struct rekeyd *d = ctx;
	struct atr_mount *m = d->m;
	struct atr_inode *ai = cookie;
	struct stat st;
	unsigned int i;
	int err = 0;

	/* The inode's own fd first: with it, (dev, ino) move to the new file. */
	if (fstat(newfd, &st)) {
		err = -errno;
	} else {
		err = ino_fd_rebind(ai, d->nfd[0]);
		d->nfd[0] = -1;		/* ino_fd_rebind() took it */
	}
	if (!err)
		itable_move(m, ai, &st);
	/* One step each: a thread using a handle sees the old or the new. */
	for (i = 0; !err && i < ai->nhfds; i++)
		if (dup3(d->nfd[i + 1], ai->hfds[i], O_CLOEXEC) < 0)
			err = -errno;
	drop_prepared(d);
	/* The old DEK goes now, whatever happens next. */
	if (ai->fk)
		key_wipe(m, ai);
	fileid_release(m, ai);
	d->swapped = true;
	if (err) {
		/* EIO for them (revoke_handle()), rather than writes lost. */
		atr_log_inode(LOG_ERR, ai, "rekeyed, but its open files could "
			      "not be moved to the new file (%s): they get "
			      "EIO until closed", strerror(-err));
		return;
	}
	/* The handles get the new file's key, checked as at an open. */
	if (ai->nkeyref)
		(void)key_reload(m, ai);	/* logged; EIO for its handles */
}

static void cb_leave(void *ctx, void *cookie)
{
	struct rekeyd *d = ctx;
	struct atr_inode *ai = cookie;

	drop_prepared(d);	/* prepared, but no rename came */
	pthread_rwlock_unlock(&ai->lock);
	/* Its inode number and ctime: attributes only, the pages are right. */
	if (d->swapped)
		fuse_lowlevel_notify_inval_inode(d->m->se,
						 (fuse_ino_t)(uintptr_t)ai,
						 -1, 0);
	itable_put(d->m, ai, 1);
}

/* ---- which files ---- */

static int add_path(struct rekeyd *d, const char *path)
{
	char **n, *p;

	if (d->npaths == d->cap) {
		n = realloc(d->paths, (d->cap ? d->cap * 2 : 64) * sizeof(*n));
		if (!n)
			return -ENOMEM;
		d->paths = n;
		d->cap = d->cap ? d->cap * 2 : 64;
	}
	p = strdup(path);
	if (!p)
		return -ENOMEM;
	d->paths[d->npaths++] = p;
	return 0;
}

/* fsck_walk(): every regular file, and away with a crash's leftovers. */
static int walk_one(void *ctx, int parent, const char *name,
		    const char *path, const struct stat *st, int err)
{
	struct rekeyd *d = ctx;
	char what[256];

	if (err) {
		snprintf(what, sizeof(what), "cannot be read: %s; it is not "
			 "rekeyed", strerror(-err));
		d->cb->warn(d->cb->ctx, path, what);
		d->st->failed++;
		return 0;
	}
	if (rekey_leftover(parent, name, &err)) {
		if (err)
			d->cb->warn(d->cb->ctx, path, "cannot remove this "
				    "leftover of an interrupted rekey");
		return 0;
	}
	if (!S_ISREG(st->st_mode))
		return 0;
	if (st->st_nlink > 1) {
		d->cb->warn(d->cb->ctx, path, "has hard links, so it is not "
			    "rekeyed (a rename would split them)");
		d->st->failed++;
		return 0;
	}
	return add_path(d, path);
}

/*
 * The backing path, relative to the volume root, of the file the kernel
 * knows as backing inode @ino (a PATH the command looked up in the mount
 * and holds open), into @out: 0, or -ENOENT.  The path must name that
 * very inode now: /proc shows an unlinked file as "PATH (deleted)".
 */
static int path_of(struct atr_mount *m, uint64_t ino, char *out, size_t len)
{
	struct stat st = { .st_dev = m->root.dev, .st_ino = (ino_t)ino };
	char proc[64], root[PATH_MAX], full[PATH_MAX];
	struct atr_inode *ai = itable_find(m, &st);
	struct stat now;
	ssize_t n = -1, r;

	if (!ai)
		return -ENOENT;
	if (attr_procname(ai, proc) >= 0) {
		n = readlink(proc, full, sizeof(full) - 1);
		ino_fd_put(ai);
	}
	itable_put(m, ai, 1);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", m->root.fd);
	r = readlink(proc, root, sizeof(root) - 1);
	if (n <= 0 || r <= 0)
		return -ENOENT;
	full[n] = root[r] = '\0';
	if (strncmp(full, root, (size_t)r) || full[r] != '/' ||
	    (size_t)(n - r) >= len)
		return -ENOENT;
	memcpy(out, full + r + 1, (size_t)(n - r));
	if (fstatat(m->root.fd, out, &now, AT_SYMLINK_NOFOLLOW) ||
	    now.st_dev != st.st_dev || now.st_ino != st.st_ino)
		return -ENOENT;
	return 0;
}

/* ---- the run ---- */

static int run_files(struct rekeyd *d, struct rekey *r)
{
	struct rekey_info info;
	char msg[1024];
	size_t i;
	int err;

	for (i = 0; i < d->npaths; i++) {
		if (d->cb->progress(d->cb->ctx, i, d->npaths))
			return -ECANCELED;
		msg[0] = '\0';
		err = rekey_file(r, d->paths[i], &info, msg, sizeof(msg));
		if (err) {
			d->cb->warn(d->cb->ctx, NULL, msg);
			if (err == -EBADMSG)
				d->st->damaged++;
			else
				d->st->failed++;
			continue;
		}
		if (*msg)
			d->cb->warn(d->cb->ctx, NULL, msg);
		if (info.skipped)
			d->st->empty++;
		else if (info.done_before)
			d->st->before++;
		else
			d->st->rekeyed++;
	}
	d->cb->progress(d->cb->ctx, d->npaths, d->npaths);
	return 0;
}

/*
 * The config, checked against the mount's KEK (not locked: ctl.c checked):
 * 0 or -errno with @msg.
 */
static int load_config(struct atr_mount *m, struct vol_config *cfg,
		       char *msg, size_t msglen)
{
	int err;

	if (m->kek->retiring)
		return msg_fail(msg, msglen, -EBUSY, "a rotation of the volume "
				"key of %s is under way: finish it (atrestfs "
				"rotate-kek) first", m->backing);
	err = volconf_load(m->root.fd, cfg, msg, msglen);
	if (!err && (vol_verify(m->kek, cfg) ||
		     memcmp(cfg->kek_id, m->kek->id, KEK_ID_LEN)))
		err = msg_fail(msg, msglen, -EKEYREJECTED, VOL_CONF_NAME
			       " of %s is not under the mount's volume key",
			       m->backing);
	return err;
}

int rekeyd_run(struct atr_mount *m, bool all, uint64_t ino,
	       const struct rekeyd_cb *cb, struct rekeyd_stats *st,
	       char *msg, size_t msglen)
{
	struct rekeyd d = { .m = m, .cb = cb, .st = st };
	struct rekey_cb rcb = { .seen = cb_seen, .record = cb_record,
				.enter = cb_enter, .naming = cb_naming,
				.prepare = cb_prepare, .swapped = cb_swapped,
				.leave = cb_leave,
				.ctx = &d };
	struct state_dir sd = { .fd = fstate_dirfd(m->fstate) };
	struct vol_config *cfg = malloc(sizeof(*cfg));
	struct rekey *r = NULL;
	char path[PATH_MAX];
	int dirfd = -1, err;
	size_t i;

	memset(st, 0, sizeof(*st));
	if (!cfg)
		return -ENOMEM;
	err = load_config(m, cfg, msg, msglen);
	if (!err) {
		dirfd = openat(m->root.fd, ".", O_RDONLY | O_DIRECTORY |
			       O_CLOEXEC);
		if (dirfd < 0)
			err = msg_fail(msg, msglen, -errno, "%s: %s",
				       m->backing, strerror(errno));
	}
	if (!err && all)
		err = fsck_walk(dirfd, walk_one, &d);
	else if (!err && (err = path_of(m, ino, path, sizeof(path))))
		msg_fail(msg, msglen, err, "the file to rekey is not one the "
			 "mount of %s knows (another file system mounted "
			 "inside, or gone meanwhile)", m->backing);
	else if (!err)
		err = add_path(&d, path);
	if (!err)
		err = rekey_open_audit(dirfd, cfg, m->kek, m->audit, &rcb, &r);
	if (!err && all) {
		snprintf(sd.path, sizeof(sd.path), "%s",
			 fstate_dirpath(m->fstate));
		err = rekey_run_open(r, &sd, &st->resumed, msg, msglen);
	}
	if (!err)
		err = run_files(&d, r);
	/* Every file was tried: the next --all is a new run. */
	if (!err && all && rekey_run_end(r))
		d.cb->warn(cb->ctx, NULL, "cannot remove the record of this "
			   "run: the next rekey --all leaves the files this "
			   "one rekeyed");
	if (err && !*msg)
		snprintf(msg, msglen, "%s", strerror(-err));
	rekey_close(r);
	for (i = 0; i < d.npaths; i++)
		free(d.paths[i]);
	free(d.paths);
	if (dirfd >= 0)
		close(dirfd);
	free(cfg);
	return err;
}
