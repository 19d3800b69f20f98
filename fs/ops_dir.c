// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/ops_dir.c - directory handles: opendir, readdir(plus), releasedir,
 * fsyncdir.  The volume's own files at the root are never listed.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs_private.h"

struct atr_dir {
	DIR *dp;
	struct dirent *entry;	/* read but not yet returned */
	off_t offset;
};

static struct atr_dir *dir_handle(struct fuse_file_info *fi)
{
	return (struct atr_dir *)(uintptr_t)fi->fh;
}

void atr_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct atr_inode *ai = itable_ino(atr_mnt(req), ino);
	struct atr_dir *d = calloc(1, sizeof(*d));
	int pfd, fd, err;

	if (!d) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	pfd = ino_fd_get(ai);
	if (pfd < 0) {
		errno = -pfd;
		goto out_err;
	}
	fd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ino_fd_put(ai);
	if (fd < 0)
		goto out_err;
	d->dp = fdopendir(fd);
	if (!d->dp) {
		err = errno;
		close(fd);
		errno = err;
		goto out_err;
	}
	fi->fh = (uint64_t)(uintptr_t)d;
	fuse_reply_open(req, fi);
	return;
out_err:
	err = errno;
	free(d);
	fuse_reply_err(req, err);
}

static bool dot_or_dotdot(const char *name)
{
	return name[0] == '.' &&
	       (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

/*
 * Add one entry, named @name (the backing one is de->d_name); returns its
 * size, or > @rem if it did not fit.
 */
static size_t add_entry(fuse_req_t req, struct atr_inode *dir, char *p,
			size_t rem, struct dirent *de, const char *name,
			bool plus, int *err)
{
	struct atr_mount *m = atr_mnt(req);
	struct fuse_entry_param e;
	size_t n;

	*err = 0;
	if (!plus) {
		struct stat st = { .st_ino = de->d_ino,
				   .st_mode = (mode_t)de->d_type << 12 };

		return fuse_add_direntry(req, p, rem, name, &st, de->d_off);
	}
	if (dot_or_dotdot(de->d_name)) {
		memset(&e, 0, sizeof(e));
		e.attr.st_ino = de->d_ino;
		e.attr.st_mode = (mode_t)de->d_type << 12;
	} else {
		*err = entry_lookup(m, dir, de->d_name, &e);
		if (*err)
			return 0;
		/*
		 * A file with another name is listed by name only, as . and
		 * ..: its size, taken now, may reach the kernel after an
		 * append through the other name and after that name was
		 * unlinked and the inode forgotten, and would set the inode up
		 * again, for good with the writeback cache, without the append
		 * (the kernel takes a size from the daemon only for an inode
		 * it makes).  A lookup of the name then takes the size afresh.
		 * Files with one name keep their attributes: rm -rf and ls -l
		 * then need no lookup per file (design.md §5).
		 */
		if (S_ISREG(e.attr.st_mode) && e.attr.st_nlink > 1) {
			itable_put(m, itable_ino(m, e.ino), 1);
			memset(&e, 0, sizeof(e));
			e.attr.st_ino = de->d_ino;
			e.attr.st_mode = S_IFREG;
		}
	}
	n = fuse_add_direntry_plus(req, p, rem, name, &e, de->d_off);
	/* Did not fit: the kernel never saw it, so undo the lookup. */
	if (n > rem && e.ino)
		itable_put(m, itable_ino(m, e.ino), 1);
	return n;
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
		       off_t offset, struct fuse_file_info *fi, bool plus)
{
	struct atr_mount *m = atr_mnt(req);
	struct atr_inode *dir = itable_ino(m, ino);
	struct atr_dir *d = dir_handle(fi);
	char *buf = calloc(1, size), *p = buf;
	char name[NAMES_PLAIN_MAX + 1];
	size_t rem = size, n;
	int err = 0, res;

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (offset != d->offset) {
		seekdir(d->dp, offset);
		d->entry = NULL;
		d->offset = offset;
	}
	for (;;) {
		if (!d->entry) {
			errno = 0;
			d->entry = readdir(d->dp);
			if (!d->entry) {
				err = errno;
				break;
			}
		}
		/* Own files and names that are not this directory's: left out. */
		res = dname_read(m, dir, dirfd(d->dp), d->entry->d_name,
				 name);
		if (res == -EIO) {
			err = EIO;
			break;
		}
		if (!res) {
			n = add_entry(req, dir, p, rem, d->entry, name, plus,
				      &err);
			if (err == -ENOENT) {
				err = 0;	/* removed meanwhile: skip */
			} else if (err) {
				err = -err;
				break;
			} else if (n > rem) {
				break;
			} else {
				p += n;
				rem -= n;
			}
		}
		d->offset = d->entry->d_off;
		d->entry = NULL;
	}
	/* An error after some entries: return those; the next call retries. */
	if (err && rem == size)
		fuse_reply_err(req, err);
	else
		fuse_reply_buf(req, buf, size - rem);
	free(buf);
}

void atr_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset,
		 struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, offset, fi, false);
}

void atr_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
		     off_t offset, struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, offset, fi, true);
}

void atr_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct atr_dir *d = dir_handle(fi);

	(void)ino;
	closedir(d->dp);
	free(d);
	fuse_reply_err(req, 0);
}

void atr_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
		  struct fuse_file_info *fi)
{
	int fd = dirfd(dir_handle(fi)->dp);

	(void)ino;
	fuse_reply_err(req, (datasync ? fdatasync(fd) : fsync(fd)) ? errno : 0);
}
