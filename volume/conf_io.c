// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * volume/conf_io.c - atrestfs.conf on disk: read it safely from the
 * untrusted backing directory, replace it atomically, and lock it against
 * other atrestfs commands.
 * Owns the file descriptors it opens, for one call.  The text is made by
 * vol_text() (crypto/volume.c, the one serialisation, shared with the MAC)
 * and read by volconf_parse().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../crypto/msg.h"
#include "volume_private.h"

/*
 * Reads at most VOL_CONF_MAX bytes of a regular file, never a symlink:
 * *text (caller frees) is NUL-terminated after its *len bytes.
 */
static int read_conf(int dirfd, char **text, size_t *len, char *msg,
		     size_t msglen)
{
	struct stat st;
	ssize_t n;
	char *buf;
	int fd, err;

	/* O_NONBLOCK: a FIFO put there must be refused, not waited on. */
	fd = openat(dirfd, VOL_CONF_NAME,
		    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		err = -errno;
		if (err == -ENOENT)
			return msg_fail(msg, msglen, err, "no " VOL_CONF_NAME);
		return msg_fail(msg, msglen, err, "cannot open " VOL_CONF_NAME ": %s",
			    strerror(-err));
	}
	err = -EINVAL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > VOL_CONF_MAX) {
		msg_fail(msg, msglen, err, VOL_CONF_NAME
		     " is not a regular file of at most %d bytes", VOL_CONF_MAX);
		goto out_close;
	}
	buf = malloc((size_t)st.st_size + 1);
	err = -ENOMEM;
	if (!buf)
		goto out_close;
	n = pread(fd, buf, (size_t)st.st_size, 0);
	if (n != st.st_size) {
		free(buf);
		err = msg_fail(msg, msglen, -EIO, "short read of " VOL_CONF_NAME);
		goto out_close;
	}
	buf[n] = '\0';
	*text = buf;
	*len = (size_t)n;
	err = 0;
out_close:
	close(fd);
	return err;
}

int volconf_load(int dirfd, struct vol_config *cfg, char *msg, size_t msglen)
{
	char *text = NULL;
	size_t len = 0;
	int err;

	memset(cfg, 0, sizeof(*cfg));
	err = read_conf(dirfd, &text, &len, msg, msglen);
	if (err)
		return err;
	err = volconf_parse(text, len, cfg, msg, msglen);
	free(text);
	return err;
}

int volconf_lock(int dirfd, bool wait)
{
	int r;

	if (!wait)
		r = flock(dirfd, LOCK_EX | LOCK_NB);
	else
		do
			r = flock(dirfd, LOCK_EX);
		while (r && errno == EINTR);
	if (r && errno == EWOULDBLOCK && !wait)
		return -EWOULDBLOCK;
	/* NFS may refuse a lock on a directory: then no lock, as before. */
	return r && errno != ENOLCK && errno != EBADF && errno != EOPNOTSUPP ?
	       -errno : 0;
}

int volconf_store(int dirfd, const struct vol_config *cfg, bool create,
		  char *msg, size_t msglen)
{
	char *text = vol_text(cfg, false);
	size_t len;
	ssize_t n;
	int fd, err = 0;

	if (msglen)
		msg[0] = '\0';
	if (!text) {
		err = -ENOMEM;
		goto out_free;
	}
	if (create && faccessat(dirfd, VOL_CONF_NAME, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		err = -EEXIST;
		goto out_free;
	}
	len = strlen(text);
	/*
	 * A fresh file: whatever is at the temporary name (a FIFO, a hard
	 * link to some other file, put there by whoever can write the
	 * directory) is removed, not opened.
	 */
	if (unlinkat(dirfd, VOL_CONF_TMP, 0) && errno != ENOENT) {
		err = -errno;
		goto out_free;
	}
	/*
	 * 0600, as an export: the wrapped keys are no secret from their
	 * root keys, but a passphrase's can be guessed at offline.
	 */
	fd = openat(dirfd, VOL_CONF_TMP, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		goto out_free;
	}
	n = write(fd, text, len);
	if (n != (ssize_t)len)
		err = n < 0 ? -errno : -EIO;	/* a short write sets no errno */
	else if (fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && renameat(dirfd, VOL_CONF_TMP, dirfd, VOL_CONF_NAME))
		err = -errno;
	if (err)
		unlinkat(dirfd, VOL_CONF_TMP, 0);
	/*
	 * The change is made once renamed: a failed directory sync must not
	 * report it as not made (a retry would add a keyslot twice), only
	 * that it may not survive a crash.
	 */
	else if (fsync(dirfd))
		snprintf(msg, msglen, VOL_CONF_NAME " replaced, but its "
			 "directory could not be synced (%s): the change may "
			 "not survive a crash", strerror(errno));
out_free:
	free(text);
	if (err)
		msg_fail(msg, msglen, err, "cannot write " VOL_CONF_NAME ": %s",
			 strerror(-err));
	return err;
}
