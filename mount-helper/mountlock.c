// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mount-helper/mountlock.c - one daemon per volume on this machine.  Two
 * daemons serving one backing directory would each seal extents under
 * their own view of its files and overwrite each other's.
 *
 * The lock is a flock(2) on RUNDIR/backing-DEV-INO.lock (the backing
 * directory's device and inode, so no spelling of its path, symlink or
 * bind mount escapes it), taken before unlocking and held by the daemon
 * for its life: it inherits the descriptor across its fork.  The kernel drops a
 * flock with its last descriptor, so a daemon killed with SIGKILL leaves
 * a file behind but no lock: nothing stale blocks the next mount.  The
 * directory itself cannot carry it: volconf_lock() flocks it for every
 * change of atrestfs.conf, which must stay possible while mounted.
 *
 * /proc/self/mountinfo names the existing mount point; it also catches a
 * mount by another user, whose RUNDIR differs.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define LOCK_WAIT_US	100000	/* between tries of a held lock */
#define LOCK_TRIES	50	/* 5 s: a stopping daemon lets go long before */

/* RUNDIR: /run/atrestfs for root, else $XDG_RUNTIME_DIR/atrestfs. */
static int lock_path(const struct stat *st, char *path, size_t len)
{
	char dir[PATH_MAX], msg[128];
	int err;

	err = state_run_base(geteuid(), dir, sizeof(dir), msg, sizeof(msg));
	if (err)
		return err;
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	if ((size_t)snprintf(path, len, "%s/backing-%lu-%lu.lock", dir,
			     (unsigned long)st->st_dev,
			     (unsigned long)st->st_ino) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/*
 * 1 (said on stderr) if a live mount of @st is listed, else 0.  @why: a
 * command that needs the volume unmounted says why; NULL: a mount.
 */
static int listed(const char *dir, const struct stat *st, const char *why)
{
	char mp[PATH_MAX];

	if (mountinfo_backing(st->st_dev, st->st_ino, mp, sizeof(mp)) <= 0)
		return 0;
	if (why)
		cli_err("volume %s is mounted at %s: unmount it first "
			"('atrestfs unmount %s'); %s", dir, mp, mp, why);
	else
		cli_err("volume %s is already mounted at %s: two daemons on "
			"one volume would overwrite each other's files "
			"(unmount it first: atrestfs unmount %s)", dir, mp, mp);
	return 1;
}

/* The lock of @dir (open as @dirfd) for the caller to hold, as below. */
static int exclusive(const char *dir, int dirfd, const char *why,
		     int *lockfd)
{
	char path[PATH_MAX];
	struct stat st;
	int fd, tries;

	*lockfd = -1;
	if (fstat(dirfd, &st)) {
		cli_err("%s: %s", dir, strerror(errno));
		return EXIT_VOLUME;
	}
	if (listed(dir, &st, why))
		return EXIT_MOUNT;
	/*
	 * Without a run directory (a container without /run, a user without
	 * XDG_RUNTIME_DIR) the mountinfo check above is all there is.
	 */
	if (lock_path(&st, path, sizeof(path)))
		return 0;
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return 0;
	/*
	 * A held lock with no mount listed is a daemon starting, or one
	 * still finishing after umount(8) returned: "umount; mount" must
	 * work, so wait a little for it before refusing.
	 */
	for (tries = 0;; tries++) {
		if (!flock(fd, LOCK_EX | LOCK_NB)) {
			*lockfd = fd;
			return 0;
		}
		if (errno != EWOULDBLOCK) {
			close(fd);
			return 0;	/* no locks here: as without a run dir */
		}
		if (listed(dir, &st, why)) {
			close(fd);
			return EXIT_MOUNT;
		}
		if (tries == LOCK_TRIES)
			break;
		usleep(LOCK_WAIT_US);
	}
	close(fd);
	if (why)
		cli_err("volume %s is mounted, or being mounted, by another "
			"atrestfs process on this machine (it holds %s; a mount "
			"in another mount namespace is not listed here): "
			"unmount it first; %s", dir, path, why);
	else
		cli_err("volume %s is already mounted, or being mounted, by "
			"another atrestfs process on this machine (it holds %s; "
			"a mount in another mount namespace is not listed "
			"here): two daemons on one volume would overwrite each "
			"other's files", dir, path);
	return EXIT_MOUNT;
}

int cli_mount_exclusive(const char *dir, int dirfd, int *lockfd)
{
	return exclusive(dir, dirfd, NULL, lockfd);
}

/* The lock a command holds until it exits, so that no mount starts. */
static int held_fd = -1;

int cli_refuse_served(const char *dir, int dirfd, const char *why)
{
	return held_fd >= 0 ? 0 : exclusive(dir, dirfd, why, &held_fd);
}
