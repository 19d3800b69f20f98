// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/dirnames.c - the backing name of each name the kernel asks for, on
 * volumes with encrypted names (crypto/names.h, docs/format.md 15): the
 * directory IDs, cached per inode, and the sidecar records of long names.
 * On plain volumes every function passes the name through untouched.
 *
 * A long name's sidecar is made before its entry and removed after it,
 * so an entry never lacks its record but after a crash between the two;
 * a record without an entry is only a leftover, never shown.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../crypto/secmem.h"
#include "../crypto/volume.h"
#include "../volume/volume.h"
#include "fs_private.h"

/*
 * The ID of directory @dir, read once from its xattr and kept while the
 * inode is in the table (the xattr is never changed by the mount).  A
 * missing or damaged one is -EIO, logged once per inode.  @rfd, if not
 * -1, is @dir open for reading (a listing's), which reads the xattr
 * without the path through /proc that the inode's O_PATH fd needs.
 */
static int dirid_get(struct atr_inode *dir, int rfd,
		     uint8_t id[NAMES_DIRID_LEN])
{
	int err = 0, fd;
	bool ok;

	pthread_rwlock_rdlock(&dir->lock);
	ok = dir->dirid_ok;
	if (ok)
		memcpy(id, dir->dirid, NAMES_DIRID_LEN);
	pthread_rwlock_unlock(&dir->lock);
	if (ok)
		return 0;
	pthread_rwlock_wrlock(&dir->lock);
	if (!dir->dirid_ok) {
		fd = rfd >= 0 ? rfd : ino_fd_get(dir);
		err = fd < 0 ? fd : volnames_dirid(fd, dir->dirid);
		if (fd >= 0 && rfd < 0)
			ino_fd_put(dir);
		if (!err) {
			dir->dirid_ok = true;
		} else {
			if (!dir->dirid_logged)
				atr_log_inode(LOG_ERR, dir, "directory ID (xattr "
					      NAMES_DIRID_XATTR ") is %s: its "
					      "entries cannot be named; restore "
					      "the directory from a backup",
					      err == -ENODATA ? "missing" :
					      "damaged");
			dir->dirid_logged = true;
			err = -EIO;
		}
	}
	if (!err)
		memcpy(id, dir->dirid, NAMES_DIRID_LEN);
	pthread_rwlock_unlock(&dir->lock);
	return err;
}

/*
 * The thread's AEAD context (fs/tls.c), which keeps the names key's AES-SIV
 * schedule from one name to the next; NULL without memory, and then each
 * name sets the key up on its own.
 */
static struct aead_ctx *names_ctx(struct atr_mount *m)
{
	struct fio_tls *t = fio_tls_get(m);

	return t ? t->ac : NULL;
}

int dname_get(struct atr_mount *m, struct atr_inode *dir, const char *name,
	      struct dname *d)
{
	uint8_t id[NAMES_DIRID_LEN];
	int err;

	d->enc.is_long = false;
	if (!m->names_key) {
		d->name = name;
		return 0;
	}
	err = dirid_get(dir, -1, id);
	if (!err)
		err = names_encrypt(names_ctx(m), m->names_key, id, name,
				    &d->enc);
	if (err)
		return err == -EINVAL ? -ENOENT : err;
	d->name = d->enc.backing;
	return 0;
}

int dname_make(struct atr_inode *dir, const struct dname *d, bool *made)
{
	char side[NAME_MAX + 1];
	size_t len = strlen(d->enc.full);
	ssize_t n;
	int dfd, fd, err = 0;

	*made = false;
	if (!d->enc.is_long)
		return 0;
	names_sidecar(d->name, side);
	dfd = ino_fd_get(dir);
	if (dfd < 0)
		return dfd;
	fd = openat(dfd, side, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0400);
	/* Another link or creator of this name made it: its content is ours. */
	if (fd < 0) {
		err = errno == EEXIST ? 0 : -errno;
		ino_fd_put(dir);
		return err;
	}
	n = write(fd, d->enc.full, len);
	if (n != (ssize_t)len)
		err = n < 0 ? -errno : -ENOSPC;
	if (!err && fsync(fd))
		err = -errno;
	close(fd);
	if (err)
		unlinkat(dfd, side, 0);
	else
		*made = true;
	ino_fd_put(dir);
	return err;
}

void dname_drop(struct atr_inode *dir, const struct dname *d)
{
	char side[NAME_MAX + 1];
	struct stat st;
	int dfd;

	if (!d->enc.is_long)
		return;
	dfd = ino_fd_get(dir);
	if (dfd < 0)
		return;
	/* Still there (a rename between two links of one file): keep it. */
	if (fstatat(dfd, d->name, &st, AT_SYMLINK_NOFOLLOW)) {
		names_sidecar(d->name, side);
		unlinkat(dfd, side, 0);
	}
	ino_fd_put(dir);
}

int dname_read(struct atr_mount *m, struct atr_inode *dir, int rfd,
	       const char *bname, char out[NAMES_PLAIN_MAX + 1])
{
	uint8_t id[NAMES_DIRID_LEN];
	char rec[NAMES_ENC_MAX + 1];
	size_t len = strlen(bname);
	int err, fd;

	if (entry_reserved(m, dir, bname) ||
	    (m->names_key && names_is_sidecar(bname)))
		return 1;
	if (!m->names_key || !strcmp(bname, ".") || !strcmp(bname, "..")) {
		memcpy(out, bname, len + 1);
		return 0;
	}
	err = dirid_get(dir, rfd, id);
	if (err)
		return err;
	if (ncache_get(dir, bname, out))
		return 0;
	if (names_is_long(bname)) {
		fd = ino_fd_get(dir);
		err = fd < 0 ? fd : volnames_record(fd, bname, rec, &len);
		if (fd >= 0)
			ino_fd_put(dir);
	} else
		memcpy(rec, bname, len);
	if (!err)
		err = names_decrypt(names_ctx(m), m->names_key, id, rec, len,
				    out);
	if (!err)
		ncache_put(m, dir, bname, out);
	if (err)
		atr_log_inode(LOG_WARNING, dir, "%s%s is not a name of this "
			      "directory (planted, moved from another one, or "
			      "its record is damaged); left out of the listing",
			      bname, names_is_long(bname) ? " (long name)" : "");
	return err;
}

int dname_mkdir(struct atr_mount *m, struct atr_inode *dir, const char *bname,
		mode_t mode)
{
	uint8_t id[NAMES_DIRID_LEN];
	int dfd, fd, err;

	dfd = ino_fd_get(dir);
	if (dfd < 0)
		return dfd;
	err = 0;
	if (!m->names_key) {
		if (mkdirat(dfd, bname, mode))
			err = -errno;
		goto out_put;
	}
	err = rand_fill(id, sizeof(id));
	if (err)
		goto out_put;
	/* Writable by us until its ID is set: a user xattr needs that. */
	if (mkdirat(dfd, bname, mode | S_IRWXU)) {
		err = -errno;
		goto out_put;
	}
	fd = openat(dfd, bname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto out_rm;
	}
	if (fsetxattr(fd, NAMES_DIRID_XATTR, id, sizeof(id), XATTR_CREATE) ||
	    ((mode & S_IRWXU) != S_IRWXU && fchmod(fd, mode & 07777)))
		err = -errno;
	close(fd);
	if (!err)
		goto out_put;
out_rm:
	unlinkat(dfd, bname, AT_REMOVEDIR);
out_put:
	ino_fd_put(dir);
	return err;
}

/* Unwrap @cfg's names key with @kek into m->names_key, and derive the xattr key. */
static int key_unwrap(struct atr_mount *m, const struct kek *kek,
		      const struct vol_config *cfg, char *msg, size_t msglen)
{
	int err = names_key_unwrap(kek, cfg->uuid, cfg->opt.names_key,
				   m->names_key);

	if (err) {
		snprintf(msg, msglen, "the names key in " VOL_CONF_NAME
			 " does not open with this volume's key");
		err = -EBADMSG;
	} else {
		err = names_xattr_key(m->names_key, m->xname_key);
		if (err)
			snprintf(msg, msglen, "cannot derive the xattr names key");
	}
	if (err)
		secmem_wipe(m->names_key, NAMES_KEY_LEN + NAMES_XKEY_LEN);
	return err;
}

int dname_key(struct atr_mount *m, const struct vol_config *cfg, char *msg,
	      size_t msglen)
{
	int err;

	if (!cfg->opt.names_encrypted)
		return 0;
	/* The xattr key lives right after the names key: one locked block. */
	m->names_key = secmem_alloc(NAMES_KEY_LEN + NAMES_XKEY_LEN);
	if (!m->names_key)
		return -ENOMEM;
	m->xname_key = m->names_key + NAMES_KEY_LEN;
	err = key_unwrap(m, m->kek, cfg, msg, msglen);
	if (err) {
		secmem_free(m->names_key, NAMES_KEY_LEN + NAMES_XKEY_LEN);
		m->names_key = m->xname_key = NULL;
	}
	return err;
}

/*
 * The block stays allocated (m->names_key non-NULL still says "encrypted
 * names"); only its bytes go.  Every request is held off meanwhile.
 */
void dname_key_wipe(struct atr_mount *m)
{
	if (m->names_key)
		secmem_wipe(m->names_key, NAMES_KEY_LEN + NAMES_XKEY_LEN);
}

int dname_key_reload(struct atr_mount *m, const struct kek *kek,
		     const struct vol_config *cfg, char *msg, size_t msglen)
{
	if (!m->names_key)
		return 0;
	if (!cfg->opt.names_encrypted) {
		snprintf(msg, msglen, VOL_CONF_NAME " no longer has a names key");
		return -EBADMSG;
	}
	return key_unwrap(m, kek, cfg, msg, msglen);
}
