// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/mount.c - the operation table, session set-up and the serve loop.
 *
 * Detaching is done here rather than by fuse_daemonize(): the parent must
 * exit with the real outcome of the mount, and the child must lock its key
 * pages again because mlock() does not survive fork().
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "../crypto/secmem.h"
#include "../volume/volume.h"
#include "fs_private.h"

static void atr_init(void *userdata, struct fuse_conn_info *conn)
{
	struct atr_mount *m = userdata;

	/*
	 * The writeback cache turns small appends into page-sized writes and
	 * lets the kernel order O_APPEND writers; we never cache size.  Its
	 * cost: a write's error (ENOSPC) reaches the application at fsync or
	 * close, not at write(2).  -o writethrough trades the speed for that.
	 * -o shared goes without: dirty pages written back later, as whole
	 * pages, would carry stale bytes of records another host changed
	 * meanwhile, and outside any byte-range lock.
	 */
	if ((conn->capable & FUSE_CAP_WRITEBACK_CACHE) &&
	    !m->opt_mnt.writethrough && !m->opt_mnt.shared)
		conn->want |= FUSE_CAP_WRITEBACK_CACHE;
	m->wb_cache = conn->want & FUSE_CAP_WRITEBACK_CACHE;
	conn->max_write = 1 << 20;
}

const struct fuse_lowlevel_ops atr_ops = {
	.init		= atr_init,
	.lookup		= atr_lookup,
	.forget		= atr_forget,
	.forget_multi	= atr_forget_multi,
	.getattr	= atr_getattr,
	.access		= atr_access,
	.setattr	= atr_setattr,
	.readlink	= atr_readlink,
	.mknod		= atr_mknod,
	.mkdir		= atr_mkdir,
	.unlink		= atr_unlink,
	.rmdir		= atr_rmdir,
	.symlink	= atr_symlink,
	.rename		= atr_rename,
	.link		= atr_link,
	.statfs		= atr_statfs,
	.create		= atr_create,
	.open		= atr_open,
	.read		= atr_read,
	.write		= atr_write,
	.flush		= atr_flush,
	.release	= atr_release,
	.fsync		= atr_fsync,
	.fallocate	= atr_fallocate,
	.lseek		= atr_lseek,
	.opendir	= atr_opendir,
	.readdir	= atr_readdir,
	.readdirplus	= atr_readdirplus,
	.releasedir	= atr_releasedir,
	.fsyncdir	= atr_fsyncdir,
	.setxattr	= atr_setxattr,
	.getxattr	= atr_getxattr,
	.listxattr	= atr_listxattr,
	.removexattr	= atr_removexattr,
	/*
	 * No copy_file_range: the kernel must fall back to read and write
	 * through us, or plaintext offsets would reach the backing files.
	 * No getlk/setlk/flock: the kernel keeps locks for this mount.
	 */
};

/*
 * Does close(2) on this backing file system report nothing, because it has
 * no flush method?  True of the local file systems below; NFS, CIFS, FUSE
 * and f2fs, among others, do work or report errors at close.
 */
static bool close_reports_nothing(int root_fd)
{
	struct statfs sfs;

	if (fstatfs(root_fd, &sfs))
		return false;
	switch (sfs.f_type) {
	case EXT4_SUPER_MAGIC:		/* also ext2 and ext3 */
	case TMPFS_MAGIC:
	case XFS_SUPER_MAGIC:
	case BTRFS_SUPER_MAGIC:
		return true;
	default:
		return false;
	}
}

struct atr_mount *atr_mount_new(const char *backing, int root_fd,
				struct kek **kek, uint32_t extent_size)
{
	struct atr_mount *m = calloc(1, sizeof(*m));
	struct stat st;

	if (!m || fstatat(root_fd, "", &st, AT_EMPTY_PATH)) {
		free(m);
		return NULL;
	}
	m->backing = strdup(backing);
	if (!m->backing) {
		free(m);
		return NULL;
	}
	m->kek = *kek;
	*kek = NULL;
	m->extent_size = extent_size;
	m->timeout = 1.0;
	m->chown_new = geteuid() == 0;
	m->flush_noop = close_reports_nothing(root_fd);
	m->opt_mnt = (struct atr_mount_opts)ATR_MOUNT_OPTS_INIT;
	m->root.fd = root_fd;
	m->root.mnt = m;
	m->long_links = !faccessat(root_fd, VOLLINKS_DIR, F_OK,
				   AT_SYMLINK_NOFOLLOW);
	m->ends_fd = -1;
	pthread_mutex_init(&m->ends_lock, NULL);
	m->root.ino = st.st_ino;
	m->root.dev = st.st_dev;
	m->root.type = S_IFDIR;
	m->root.nlookup = 2;
	pthread_rwlock_init(&m->root.lock, NULL);
	pthread_mutex_init(&m->itable_lock, NULL);
	pthread_rwlock_init(&m->kek_lock, NULL);
	pthread_rwlock_init(&m->ns_lock, NULL);
	pthread_rwlock_init(&m->gate, NULL);
	pthread_mutex_init(&m->worder_lock, NULL);
	pthread_mutex_init(&m->fileids_lock, NULL);
	pthread_mutex_init(&m->shared_rd_lock, NULL);
	ino_fd_setup(m);
	return m;
}

int atr_mount_configure(struct atr_mount *m, const struct vol_config *cfg,
			unsigned int slot, char *msg, size_t msglen)
{
	int err;

	m->hdr_always = cfg->format_version >= 2;
	m->bound = cfg->opt.bound;
	memcpy(m->uuid, cfg->uuid, VOL_UUID_LEN);
	/* What unlock checks a KEK against once this one is wiped. */
	memcpy(m->kek_id, m->kek->id, KEK_ID_LEN);
	err = kek_check(m->kek->key, m->uuid, m->kek_check);
	if (!err)
		err = dname_key(m, cfg, msg, msglen);
	return err ? err : policy_configure(m, cfg, slot, msg, msglen);
}

int atr_mount_state(struct atr_mount *m, int dirfd, const char *dirpath,
		    char *msg, size_t msglen)
{
	int err = fstate_open(dirfd, dirpath, m->kek, m->uuid, &m->fstate, msg,
			     msglen);

	/* No copies of ends without it: a torn end then reads as EIO. */
	int eerr;

	/*
	 * Nor in shared mode: a copy put back after a crash here would undo
	 * what other hosts wrote to the file since (design.md, "Shared
	 * mode").
	 */
	if (err >= 0 && m->opt_mnt.shared)
		return err;
	if (err >= 0 && (eerr = endcopy_dir_open(m, dirfd)))
		atr_log(LOG_WARNING, "%s/ends cannot be made or read (%s): a "
			"daemon killed during a write may leave a file's last "
			"extent torn", dirpath, strerror(-eerr));
	return err;
}

int atr_mount_runtime(struct atr_mount *m, int dirfd, const char *dirpath,
		      const char *options, const char *log_path)
{
	return runtime_new(dirfd, dirpath, m->uuid, m, options, log_path,
			   &m->run);
}

int atr_files_reset(int dirfd)
{
	return fstate_reset(dirfd);
}

int atr_files_rekey(int dirfd, const char *dirpath, const struct kek *kek,
		    const uint8_t uuid[VOL_UUID_LEN], char *msg, size_t msglen)
{
	struct fstate *s;
	int err;

	/* None yet: the first mount makes it, under the key it has then. */
	if (faccessat(dirfd, ATR_FILES_NAME, F_OK, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT ? 0 : -errno;
	/* Read with either key, it is rewritten under @kek. */
	err = fstate_open(dirfd, dirpath, kek, uuid, &s, msg, msglen);
	if (err < 0)
		return err;
	fstate_free(s);
	return 0;
}

int atr_files_open(int dirfd, const char *dirpath, const struct kek *kek,
		   const uint8_t *uuid, struct fstate **out,
		   char *msg, size_t msglen)
{
	int err = fstate_open(dirfd, dirpath, kek, uuid, out, msg, msglen);

	return err > 0 ? 0 : err;
}

uint64_t atr_files_get(struct fstate *s, const uint8_t *id)
{
	return fstate_get(s, id);
}

void atr_files_put(struct fstate *s, const uint8_t *id,
		   uint64_t counter)
{
	fstate_put(s, id, counter);
}

int atr_files_close(struct fstate *s)
{
	int err = s ? fstate_compact(s) : 0;

	fstate_free(s);
	return err;
}

void atr_mount_options(struct atr_mount *m, const struct atr_mount_opts *o)
{
	m->opt_mnt = *o;
}

void atr_mount_free(struct atr_mount *m)
{
	if (!m)
		return;
	itable_clear(m);
	pthread_mutex_destroy(&m->itable_lock);
	pthread_rwlock_destroy(&m->gate);
	pthread_mutex_destroy(&m->worder_lock);
	pthread_mutex_destroy(&m->fileids_lock);
	pthread_mutex_destroy(&m->shared_rd_lock);
	ncache_free(m, &m->root);
	pthread_rwlock_destroy(&m->root.lock);
	close(m->root.fd);
	ino_fd_teardown(m);
	kek_free(m->kek);
	/* Threads still alive (the main one) keep its schedule otherwise. */
	fio_tls_wipe_all();
	if (m->names_key)
		secmem_free(m->names_key, NAMES_KEY_LEN + NAMES_XKEY_LEN);
	fstate_free(m->fstate);
	endcopy_free(m);
	runtime_free(m->run);
	audit_close(m->audit);
	free(m->opt);
	free(m->backing);
	free(m);
}

#define ATR_WORKER_STACK	(1u << 20)

/*
 * Workers are long-lived: libfuse starts one whenever none is idle (at most
 * its default of 10 in all) and, with this many idle ones allowed, never
 * ends one before unmount, so each keeps its preallocated buffers and key
 * schedules (tls.c) instead of making them again.  Where INIT
 * negotiated io_uring, the ring threads (uring.c) serve beside them; they
 * use the helpers, so they stop first.  The helper pool puts the other
 * cores on large reads and writes; it stops, and its threads wipe their
 * keys, before the inodes are freed.  Then what files still open left
 * pending is written (itable_settle()), and this machine's record of the
 * volume's files rewritten.  The control socket and idle timer (ctl.c)
 * live as long as the session loop.  @real: the mount point's realpath.
 */
static int serve(struct atr_mount *m, struct fuse_session *se,
		 const char *real)
{
	struct fuse_loop_config cfg = { .clone_fd = 0, .max_idle_threads = 64 };
	pthread_attr_t attr;
	int ret;

	/*
	 * libfuse makes its workers with default attributes.  When the daemon
	 * locks all its memory (harden.c), each default 8 MiB stack is
	 * resident; no handler needs more than a few KiB of it.
	 */
	if (!pthread_attr_init(&attr)) {
		if (!pthread_attr_setstacksize(&attr, ATR_WORKER_STACK))
			pthread_setattr_default_np(&attr);
		pthread_attr_destroy(&attr);
	}
	if (fio_pool_start(m))
		atr_log(LOG_WARNING, "no helper threads; large requests use one core");
	if (m->uring_payload && (ret = uring_start(m, se, real))) {
		/* The kernel would hold every request for rings that never come. */
		atr_log(LOG_ERR, "FUSE over io_uring was agreed with the kernel "
			"but cannot start (%s); unmounting (mount with -o "
			"nouring to serve over /dev/fuse)", strerror(-ret));
		fio_pool_stop(m);
		return ret;
	}
	if (!m->uring_payload && !m->opt_mnt.nouring)
		uring_explain();
	/*
	 * Without a state directory there is no socket (no rotation, lock
	 * or unlock to serve), only the idle timer.
	 */
	ret = ctl_start(m, m->fstate ? fstate_dirfd(m->fstate) : -1);
	if (ret)
		atr_log(LOG_WARNING, "no control socket (%s): rotate-kek must "
			"run on the unmounted volume, and \"atrestfs lock\" and "
			"-o idle= do not work on this mount", strerror(-ret));
	else if (!m->fstate)
		atr_log(LOG_WARNING, "no state directory, so no control "
			"socket: rotate-kek must run on the unmounted volume and "
			"\"atrestfs lock\" cannot reach this mount");
	ret = fuse_session_loop_mt(se, &cfg);
	ctl_stop(m);
	uring_stop(m);
	fio_pool_stop(m);
	/* Locked, everything was settled and no key is left to do it with. */
	if (!revoke_locked(m)) {
		itable_settle(m);
		fstate_compact(m->fstate);
	}
	return ret;
}

/* In the detached child: tell the waiting parent how the mount went. */
static void report(int fd, int status)
{
	if (fd < 0)
		return;
	if (write(fd, &status, sizeof(status)) != sizeof(status))
		atr_log(LOG_ERR, "cannot report mount status to parent");
	close(fd);
}

static void detach_stdio(void)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
}

/*
 * Without file handles (inofd.c) every inode the kernel knows holds an
 * O_PATH fd, as in passthrough_ll, so the common soft limit of 1024 would
 * fail a tree of a thousand files with EMFILE; with them, open files still
 * take one fd each.  Root may go up to fs.nr_open; anyone may reach the
 * hard limit.
 */
static void raise_nofile(void)
{
	struct rlimit rl;
	unsigned long nr_open = 0;
	FILE *f;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (geteuid() == 0) {
		f = fopen("/proc/sys/fs/nr_open", "re");
		if (f) {
			if (fscanf(f, "%lu", &nr_open) == 1 && nr_open > rl.rlim_max)
				rl.rlim_max = nr_open;
			fclose(f);
		}
	}
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) && getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/*
 * The kernel reads a FUSE mount ahead by its bdi's default, 128 KiB (the
 * INIT reply can only lower it), so a sequential read reaches us as
 * 128 KiB requests: eight round trips, and eight jobs too small to share
 * between cores, per MiB.  Up to the largest request (max_write, 1 MiB),
 * sequential reads ran about 25% faster (docs/performance.md).  Set after
 * INIT, which would cut it back; by default never lowered, and set as
 * given with -o readahead=KB (@want >= 0).  Only root may write it; anyone
 * else keeps the kernel's default.  @real is the mount point's realpath,
 * taken before mounting: stat(2) of it now would be a request to this
 * very thread.
 */
#define ATR_READAHEAD_KB	1024

static void set_readahead(const char *real, int want)
{
	char path[64], type[64];
	unsigned long kb = 0;
	dev_t dev;
	FILE *f;

	/*
	 * Only our own mount: FUSE, on an anonymous device, not whatever may
	 * have been mounted over it since.
	 */
	if (!*real || mountinfo_find(real, 0, type, sizeof(type), &dev, NULL) != 1 ||
	    strncmp(type, "fuse", 4) || major(dev) != 0) {
		atr_log(LOG_INFO, "read-ahead stays at the kernel's default "
			"(the mount is not in /proc/self/mountinfo)");
		return;
	}
	snprintf(path, sizeof(path), "/sys/class/bdi/%u:%u/read_ahead_kb",
		 major(dev), minor(dev));
	f = fopen(path, "r+e");
	if (!f) {
		atr_log(LOG_INFO, "read-ahead stays at the kernel's default "
			"(%s: %m)", path);
		return;
	}
	if (fscanf(f, "%lu", &kb) == 1 &&
	    (want < 0 ? kb < ATR_READAHEAD_KB : kb != (unsigned long)want) &&
	    (fseek(f, 0, SEEK_SET) ||
	     fprintf(f, "%d\n", want < 0 ? ATR_READAHEAD_KB : want) < 0 ||
	     fflush(f)))
		atr_log(LOG_INFO, "read-ahead stays at %lu KiB (%s: %m)", kb,
			path);
	fclose(f);
}

/* The trial parse's complaints: the caller names the option itself. */
static void quiet_log(enum fuse_log_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
}

bool atr_fs_opt_known(const char *opt)
{
	char *argv[] = { "atrestfs", "-o", (char *)opt, NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, argv);
	struct fuse_lowlevel_ops ops;
	struct fuse_session *se;

	/* libfuse is the one judge of its options: ask it, mounting nothing. */
	memset(&ops, 0, sizeof(ops));
	fuse_set_log_func(quiet_log);
	se = fuse_session_new(&args, &ops, sizeof(ops), NULL);
	fuse_set_log_func(NULL);
	fuse_opt_free_args(&args);
	if (!se)
		return false;
	fuse_session_destroy(se);
	return true;
}

int atr_fs_run(struct atr_mount *m, int argc, char **argv,
	       const char *mountpoint, bool foreground)
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_session *se;
	struct fuse_lowlevel_ops ops;	/* atr_ops, behind policy.c's wrappers */
	int pfd[2] = { -1, -1 }, status = 1, ret;
	char real[PATH_MAX];
	pid_t pid;

	if (!foreground) {
		if (pipe(pfd))
			return -errno;
		pid = fork();
		if (pid < 0)
			return -errno;
		if (pid > 0) {
			close(pfd[1]);
			if (read(pfd[0], &status, sizeof(status)) != sizeof(status))
				status = 1;
			close(pfd[0]);
			return status;
		}
		close(pfd[0]);
		setsid();
		secmem_relock();
	}
	/* Here, in the process that serves, before any worker thread. */
	harden_daemon(m);
	/*
	 * The kernel applied the caller's umask to the modes it sends; ours
	 * on top would mask them twice (a group directory made 0755, not
	 * 0775).  Everything the daemon creates for itself has an explicit
	 * mode.
	 */
	umask(0);
	raise_nofile();
	ino_fd_bound(m);
	if (policy_ops(m, &ops))
		goto out_report;
	if (m->opt_mnt.noxattr) {
		/* libfuse answers ENOSYS; the kernel then never asks again. */
		ops.setxattr = NULL;
		ops.getxattr = NULL;
		ops.listxattr = NULL;
		ops.removexattr = NULL;
	}
	se = fuse_session_new(&args, &ops, sizeof(ops), m);
	if (!se)
		goto out_report;
	m->se = se;
	if (fuse_set_signal_handlers(se))
		goto out_destroy;
	if (!realpath(mountpoint, real))
		real[0] = '\0';
	if (fuse_session_mount(se, mountpoint)) {
		policy_audit(m, "mount", NULL, -EIO);
		goto out_signals;
	}
	policy_audit(m, "mount", NULL, 0);
	/*
	 * Before the parent is told: once mount(8) or "atrestfs mount"
	 * returns, status finds the daemon.  mountinfo only: nothing here
	 * may touch the mount before the handshake.
	 */
	if (m->run)
		runtime_start(m->run, m->backing, real);
	if (!foreground) {
		atr_log_init(false);
		report(pfd[1], 0);
		pfd[1] = -1;
		detach_stdio();
		if (chdir("/"))
			atr_log(LOG_WARNING, "chdir /: %m");
	}
	atr_log(LOG_INFO, "mounted %s on %s", m->backing, mountpoint);
	harden_report(m);
	ret = handshake_init(m, se);
	if (ret == -ENODEV) {
		/* The user's unmount came first: nothing was served or lost. */
		atr_log(LOG_INFO, "%s was unmounted before its first request",
			mountpoint);
		ret = 0;
	} else if (ret) {
		atr_log(LOG_ERR, "FUSE handshake on %s: %s", mountpoint,
			strerror(-ret));
	} else {
		set_readahead(real, m->opt_mnt.readahead_kb);
		ret = serve(m, se, real);
	}
	runtime_stop(m->run);
	status = ret < 0 ? 1 : 0;
	fuse_session_unmount(se);
	atr_log(LOG_INFO, "unmounted %s", mountpoint);
	policy_audit(m, "unmount", NULL, ret < 0 ? ret : 0);
out_signals:
	fuse_remove_signal_handlers(se);
out_destroy:
	fuse_session_destroy(se);
out_report:
	fuse_opt_free_args(&args);
	report(pfd[1], status);
	return status;
}
