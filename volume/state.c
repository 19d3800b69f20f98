// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * volume/state.c - what this machine remembers of a volume, kept outside
 * it: where the state directory is, that nobody else can write it, and
 * its records, each a small file authenticated with the volume's KEK.
 * Owns the state directory's descriptor (state_open() to state_close())
 * and the descriptors of one call.  What a record says is its user's
 * business (confgen.c: the config's generation).
 *
 * The backing directory is untrusted, so the record of what was seen in
 * it must live elsewhere.  The MAC keeps whoever can write the state
 * directory from forging a record; nothing keeps them from deleting one
 * or putting back an older one, which is why the directory must be ours
 * alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../crypto/aead.h"
#include "../crypto/codec.h"
#include "../crypto/msg.h"
#include "volume_private.h"

#define STATE_MAGIC	"atrestfs state v1\n"
#define MAC_LINE_LEN	(4 + 64 + 1)	/* "mac " HEX "\n" */

int state_base(const char *base, uid_t euid, char *out, size_t outlen,
	       char *msg, size_t msglen)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	int n;

	if (base && *base) {
		if (base[0] != '/')
			return msg_fail(msg, msglen, -EINVAL, "state directory "
					"%s is not an absolute path", base);
		n = snprintf(out, outlen, "%s", base);
	} else if (euid == 0) {
		n = snprintf(out, outlen, "%s", STATE_ROOT_BASE);
	} else if (xdg && xdg[0] == '/') {	/* XDG: relative ones are invalid */
		n = snprintf(out, outlen, "%s/atrestfs", xdg);
	} else if (home && home[0] == '/') {
		n = snprintf(out, outlen, "%s/.local/state/atrestfs", home);
	} else {
		return msg_fail(msg, msglen, -ENOENT, "no state directory: "
				"neither $XDG_STATE_HOME nor $HOME is an "
				"absolute path");
	}
	if (n < 0 || (size_t)n >= outlen - VOL_UUID_STR_LEN - 1)
		return msg_fail(msg, msglen, -ENAMETOOLONG,
				"state directory path too long");
	return 0;
}

/* mkdir -p: each missing directory made with @mode. */
static int mkdir_p(const char *path, mode_t mode)
{
	char buf[STATE_PATH_MAX], *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

/*
 * A directory or file of the state must be ours and writable by nobody
 * else: another user who could replace a record could put back an old
 * one.  @fd is open on @path; -EPERM with @msg if it is unsafe.
 */
static int check_owned(int fd, const char *path, bool dir, char *msg,
		       size_t msglen)
{
	const char *what = dir ? "state directory" : "state record";
	struct stat st;

	if (fstat(fd, &st))
		return msg_fail(msg, msglen, -errno, "%s %s: %s", what, path,
				strerror(errno));
	if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
		return msg_fail(msg, msglen, -EPERM, "%s %s is not a %s", what,
				path, dir ? "directory" : "regular file");
	if (st.st_uid != geteuid())
		return msg_fail(msg, msglen, -EPERM, "%s %s belongs to uid %u, "
				"not to uid %u running atrestfs", what, path,
				(unsigned int)st.st_uid,
				(unsigned int)geteuid());
	if (st.st_mode & 022)
		return msg_fail(msg, msglen, -EPERM, "%s %s is writable by "
				"group or others (mode %04o): run chmod go-w %s",
				what, path, (unsigned int)(st.st_mode & 07777),
				path);
	return 0;
}

/*
 * Open directory @name in @atfd (@path names it in messages) without
 * following a symbolic link, and check it.  The descriptor, or -errno.
 */
static int open_dir(int atfd, const char *name, const char *path, char *msg,
		    size_t msglen)
{
	struct stat st;
	int fd, err;

	if (!fstatat(atfd, name, &st, AT_SYMLINK_NOFOLLOW) &&
	    S_ISLNK(st.st_mode))
		return msg_fail(msg, msglen, -EPERM, "state directory %s is a "
				"symbolic link", path);
	fd = openat(atfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		/* Swapped for a link or a file since the fstatat(). */
		if (err == -ELOOP || err == -ENOTDIR)
			err = -EPERM;
		return msg_fail(msg, msglen, err, "cannot open state directory "
				"%s: %s", path, strerror(errno));
	}
	err = check_owned(fd, path, true, msg, msglen);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

int state_open(struct state_dir *sd, const char *base,
	       const uint8_t uuid[VOL_UUID_LEN], char *msg, size_t msglen)
{
	char dir[STATE_PATH_MAX], uuid_str[VOL_UUID_STR_LEN + 1];
	int basefd, err;

	sd->fd = -1;
	memcpy(sd->uuid, uuid, VOL_UUID_LEN);
	err = state_base(base, geteuid(), dir, sizeof(dir), msg, msglen);
	if (err)
		return err;
	vol_uuid_str(uuid, uuid_str);
	if ((size_t)snprintf(sd->path, sizeof(sd->path), "%s/%s", dir,
			     uuid_str) >= sizeof(sd->path))
		return -ENAMETOOLONG;	/* state_base() leaves room */
	err = mkdir_p(dir, 0700);
	if (err)
		return msg_fail(msg, msglen, err, "cannot make state directory "
				"%s: %s", dir, strerror(-err));
	basefd = open_dir(AT_FDCWD, dir, dir, msg, msglen);
	if (basefd < 0)
		return basefd;
	if (mkdirat(basefd, uuid_str, 0700) && errno != EEXIST) {
		err = msg_fail(msg, msglen, -errno, "cannot make state "
			       "directory %s: %s", sd->path, strerror(errno));
		goto out_close;
	}
	sd->fd = open_dir(basefd, uuid_str, sd->path, msg, msglen);
	err = sd->fd < 0 ? sd->fd : 0;
out_close:
	close(basefd);
	if (err)
		sd->fd = -1;
	return err;
}

void state_close(struct state_dir *sd)
{
	if (sd->fd >= 0)
		close(sd->fd);
	sd->fd = -1;
}

int state_lock(const struct state_dir *sd)
{
	int r;

	do
		r = flock(sd->fd, LOCK_EX);
	while (r && errno == EINTR);
	return r ? -errno : 0;
}

void state_unlock(const struct state_dir *sd)
{
	flock(sd->fd, LOCK_UN);
}

/* Record names become file names: a plain word, never a path. */
static bool name_ok(const char *name)
{
	size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-");

	return n && n <= STATE_NAME_MAX && !name[n];
}

/* A body is lines of printable ASCII, each ended by a line feed. */
static bool body_ok(const char *body, size_t len)
{
	size_t i;

	if (len && body[len - 1] != '\n')
		return false;
	for (i = 0; i < len; i++)
		if (body[i] != '\n' && (body[i] < 0x20 || body[i] > 0x7e))
			return false;
	return true;
}

/* HMAC(state_mac_key, @name "\n" @text): the name binds record to file. */
static int record_mac(const struct kek *kek, const char *name,
		      const char *text, size_t len, uint8_t mac[32])
{
	size_t nlen = strlen(name);
	char *in = malloc(nlen + 1 + len);
	int err;

	if (!in)
		return -ENOMEM;
	memcpy(in, name, nlen);
	in[nlen] = '\n';
	memcpy(in + nlen + 1, text, len);
	err = kdf_hmac(kek->state_mac_key, in, nlen + 1 + len, mac);
	free(in);
	return err;
}

/* The record's text, at most STATE_RECORD_MAX bytes; caller frees *text. */
static int read_record(const struct state_dir *sd, const char *name,
		       char **text, size_t *len, char *msg, size_t msglen)
{
	char path[STATE_PATH_MAX + STATE_NAME_MAX + 2];
	struct stat st;
	ssize_t n;
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", sd->path, name);
	/* O_NONBLOCK: a FIFO put there is refused, not waited on. */
	fd = openat(sd->fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
		    O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		if (err == -ENOENT)
			return err;
		if (err == -ELOOP)
			return msg_fail(msg, msglen, -EPERM, "state record %s "
					"is a symbolic link", path);
		return msg_fail(msg, msglen, err, "cannot open state record "
				"%s: %s", path, strerror(-err));
	}
	err = check_owned(fd, path, false, msg, msglen);
	if (err)
		goto out_close;
	err = -EBADMSG;
	if (fstat(fd, &st) || st.st_size > STATE_RECORD_MAX) {
		msg_fail(msg, msglen, err, "state record %s is larger than "
			 "%d bytes", path, STATE_RECORD_MAX);
		goto out_close;
	}
	*text = malloc((size_t)st.st_size + 1);
	err = -ENOMEM;
	if (!*text)
		goto out_close;
	n = pread(fd, *text, (size_t)st.st_size, 0);
	err = 0;
	if (n != st.st_size) {
		free(*text);
		err = msg_fail(msg, msglen, -EIO, "short read of state record "
			       "%s", path);
		goto out_close;
	}
	(*text)[n] = '\0';
	*len = (size_t)n;
out_close:
	close(fd);
	return err;
}

/* Magic, a body of printable lines, a mac line: -EBADMSG with @msg if not. */
static int check_layout(const struct state_dir *sd, const char *name,
			const char *text, size_t len, char *msg, size_t msglen)
{
	const size_t magic = strlen(STATE_MAGIC);

	if (len < magic + MAC_LINE_LEN || memcmp(text, STATE_MAGIC, magic) ||
	    memcmp(text + len - MAC_LINE_LEN, "mac ", 4) ||
	    text[len - 1] != '\n' ||
	    !body_ok(text + magic, len - magic - MAC_LINE_LEN))
		return msg_fail(msg, msglen, -EBADMSG, "state record %s/%s is "
				"not an atrestfs state record", sd->path, name);
	return 0;
}

int state_get(const struct state_dir *sd, const struct kek *kek,
	      const char *name, char *body, size_t bodylen, char *msg,
	      size_t msglen)
{
	const size_t magic = strlen(STATE_MAGIC);
	uint8_t mac[32], want[32];
	char *text = NULL;
	size_t len = 0, blen;
	int err;

	if (!name_ok(name))
		return msg_fail(msg, msglen, -EINVAL, "bad state record name");
	err = read_record(sd, name, &text, &len, msg, msglen);
	if (err)
		return err;
	/*
	 * Only the layout is looked at before the MAC; the body is handed
	 * out only once it verifies.
	 */
	err = check_layout(sd, name, text, len, msg, msglen);
	if (err)
		goto out_free;
	err = -EBADMSG;
	text[len - 1] = '\0';
	if (hex_decode(text + len - MAC_LINE_LEN + 4, mac, sizeof(mac))) {
		msg_fail(msg, msglen, err, "state record %s/%s has no valid "
			 "mac", sd->path, name);
		goto out_free;
	}
	err = record_mac(kek, name, text, len - MAC_LINE_LEN, want);
	/* During a KEK rotation a record may still be under the old key. */
	if (!err && ct_memcmp(mac, want, sizeof(mac)) && kek->retiring)
		err = record_mac(kek->retiring, name, text, len - MAC_LINE_LEN,
				 want);
	if (err)
		goto out_free;
	if (ct_memcmp(mac, want, sizeof(mac))) {
		/*
		 * Its key comes from the KEK: a config from before a rotation
		 * (another KEK) fails here too, and must be named as such.
		 */
		err = msg_fail(msg, msglen, -EBADMSG, "state record %s/%s fails "
			       "its MAC check: it was changed outside atrestfs, "
			       "or " VOL_CONF_NAME " is an old one, from before "
			       "a rotation of the volume key", sd->path, name);
		goto out_free;
	}
	blen = len - magic - MAC_LINE_LEN;
	if (blen >= bodylen) {
		err = msg_fail(msg, msglen, -ENOSPC, "state record %s/%s is "
			       "too long", sd->path, name);
		goto out_free;
	}
	memcpy(body, text + magic, blen);
	body[blen] = '\0';
out_free:
	free(text);
	return err;
}

/* Write @len bytes to a new @name in @dirfd, fsynced.  0 or -errno. */
static int write_new(int dirfd, const char *name, const char *text,
		     size_t len)
{
	ssize_t n;
	int fd, err = 0;

	/* Whatever sits at the name (a link put there) goes, unopened. */
	if (unlinkat(dirfd, name, 0) && errno != ENOENT)
		return -errno;
	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	n = write(fd, text, len);
	if (n != (ssize_t)len)
		err = n < 0 ? -errno : -EIO;
	else if (fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	return err;
}

int state_put(const struct state_dir *sd, const struct kek *kek,
	      const char *name, const char *body, char *msg, size_t msglen)
{
	const size_t magic = strlen(STATE_MAGIC), blen = strlen(body);
	char tmp[STATE_NAME_MAX + 6], hex[65], *text;
	size_t len = magic + blen + MAC_LINE_LEN;
	uint8_t mac[32];
	int err;

	if (!name_ok(name) || !body_ok(body, blen) || len > STATE_RECORD_MAX)
		return msg_fail(msg, msglen, -EINVAL, "bad state record");
	text = malloc(len + 1);
	if (!text)
		return -ENOMEM;
	memcpy(text, STATE_MAGIC, magic);
	memcpy(text + magic, body, blen);
	err = record_mac(kek, name, text, magic + blen, mac);
	if (err)
		goto out_free;
	hex_encode(mac, sizeof(mac), hex);
	snprintf(text + magic + blen, MAC_LINE_LEN + 1, "mac %s\n", hex);
	/* A leading dot: never a record's name (name_ok()). */
	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	err = write_new(sd->fd, tmp, text, len);
	if (!err && renameat(sd->fd, tmp, sd->fd, name))
		err = -errno;
	if (err)
		unlinkat(sd->fd, tmp, 0);
	else if (fsync(sd->fd))
		err = -errno;
	if (err)
		msg_fail(msg, msglen, err, "cannot write state record %s/%s: %s",
			 sd->path, name, strerror(-err));
out_free:
	free(text);
	return err;
}

int state_run_base(uid_t euid, char *out, size_t outlen, char *msg,
		   size_t msglen)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n;

	if (euid == 0)
		n = snprintf(out, outlen, "%s", STATE_RUN_BASE);
	else if (xdg && xdg[0] == '/')
		n = snprintf(out, outlen, "%s/atrestfs", xdg);
	else
		return msg_fail(msg, msglen, -ENOENT, "no runtime directory: "
				"$XDG_RUNTIME_DIR is not an absolute path");
	if (n < 0 || (size_t)n >= outlen - VOL_UUID_STR_LEN - 1)
		return msg_fail(msg, msglen, -ENAMETOOLONG,
				"runtime directory path too long");
	return 0;
}

int state_peek(const char *base, const uint8_t uuid[VOL_UUID_LEN],
	       const char *name, char *body, size_t bodylen, char *msg,
	       size_t msglen)
{
	const size_t magic = strlen(STATE_MAGIC);
	char uuid_str[VOL_UUID_STR_LEN + 1], *text = NULL;
	struct state_dir sd = { .fd = -1 };
	size_t len = 0, blen;
	int basefd, err;

	if (!name_ok(name) || base[0] != '/')
		return msg_fail(msg, msglen, -EINVAL, "bad state record name");
	vol_uuid_str(uuid, uuid_str);
	if ((size_t)snprintf(sd.path, sizeof(sd.path), "%s/%s", base,
			     uuid_str) >= sizeof(sd.path))
		return -ENAMETOOLONG;
	/* Nothing is made: a reader leaves no trace. */
	basefd = open_dir(AT_FDCWD, base, base, msg, msglen);
	if (basefd < 0)
		return basefd == -ENOENT ? -ENOENT : basefd;
	sd.fd = open_dir(basefd, uuid_str, sd.path, msg, msglen);
	close(basefd);
	if (sd.fd < 0)
		return sd.fd;
	err = read_record(&sd, name, &text, &len, msg, msglen);
	if (err)
		goto out_close;
	err = check_layout(&sd, name, text, len, msg, msglen);
	if (err)
		goto out_free;
	blen = len - magic - MAC_LINE_LEN;
	if (blen >= bodylen) {
		err = msg_fail(msg, msglen, -ENOSPC, "state record %s/%s is "
			       "too long", sd.path, name);
		goto out_free;
	}
	memcpy(body, text + magic, blen);
	body[blen] = '\0';
out_free:
	free(text);
out_close:
	close(sd.fd);
	return err;
}
