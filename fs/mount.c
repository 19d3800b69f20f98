// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/mount.c - the operation table, session set-up and the serve loop.
 *
 * Detaching is done here rather than by fuse_daemonize(): the parent must
 * exit with the real outcome of the mount, and the child must lock its key
 * pages again because mlock() does not survive fork().
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../crypto/secmem.h"
#include "fs_private.h"

static void atr_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	/*
	 * The writeback cache turns small appends into page-sized writes and
	 * lets the kernel order O_APPEND writers; we never cache size.
	 */
	if (conn->capable & FUSE_CAP_WRITEBACK_CACHE)
		conn->want |= FUSE_CAP_WRITEBACK_CACHE;
	conn->max_write = 1 << 20;
}

const struct fuse_lowlevel_ops atr_ops = {
	.init		= atr_init,
	.lookup		= atr_lookup,
	.forget		= atr_forget,
	.forget_multi	= atr_forget_multi,
	.getattr	= atr_getattr,
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
	m->root.fd = root_fd;
	m->root.ino = st.st_ino;
	m->root.dev = st.st_dev;
	m->root.type = S_IFDIR;
	m->root.nlookup = 2;
	pthread_rwlock_init(&m->root.lock, NULL);
	pthread_mutex_init(&m->itable_lock, NULL);
	return m;
}

void atr_mount_free(struct atr_mount *m)
{
	if (!m)
		return;
	itable_clear(m);
	pthread_mutex_destroy(&m->itable_lock);
	pthread_rwlock_destroy(&m->root.lock);
	close(m->root.fd);
	kek_free(m->kek);
	free(m->backing);
	free(m);
}

static int serve(struct fuse_session *se)
{
	struct fuse_loop_config cfg = { .clone_fd = 0, .max_idle_threads = 10 };

	return fuse_session_loop_mt(se, &cfg);
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

int atr_fs_run(struct atr_mount *m, int argc, char **argv,
	       const char *mountpoint, bool foreground)
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_session *se;
	int pfd[2] = { -1, -1 }, status = 1, ret;
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
	se = fuse_session_new(&args, &atr_ops, sizeof(atr_ops), m);
	if (!se)
		goto out_report;
	m->se = se;
	if (fuse_set_signal_handlers(se))
		goto out_destroy;
	if (fuse_session_mount(se, mountpoint))
		goto out_signals;
	if (!foreground) {
		atr_log_init(false);
		report(pfd[1], 0);
		pfd[1] = -1;
		detach_stdio();
		if (chdir("/"))
			atr_log(LOG_WARNING, "chdir /: %m");
	}
	atr_log(LOG_INFO, "mounted %s on %s", m->backing, mountpoint);
	ret = serve(se);
	status = ret < 0 ? 1 : 0;
	fuse_session_unmount(se);
	atr_log(LOG_INFO, "unmounted %s", mountpoint);
out_signals:
	fuse_remove_signal_handlers(se);
out_destroy:
	fuse_session_destroy(se);
out_report:
	fuse_opt_free_args(&args);
	report(pfd[1], status);
	return status;
}
