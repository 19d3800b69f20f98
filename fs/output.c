// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/output.c - failure-atomic output: where the sealed bytes of one
 * request go, written so that running out of space (a full disk, a quota)
 * leaves the file exactly as it was and the caller gets ENOSPC.  Owns
 * nothing; borrows the request's fd and buffers (struct fio_out).
 *
 * Writing in request order instead re-sealed the old last extent in place
 * first, and a disk that filled up behind it left a torn extent, which
 * reads as tampering and fails every later append.
 *
 * Everything at or past @dend, the backing size before the request, goes
 * first (fio_out_past(), which a large write calls chunk by chunk while
 * the rest is still being sealed): if any of it fails, fio_out_end() cuts
 * the file back to @dend before anything below was touched.  Below @dend
 * bytes are overwritten in place (fio_out_below()), which needs no new
 * space, except over the holes of a sparse file: those are allocated first
 * (as zeros, which is still a hole), so a write into a hole fails whole or
 * not at all.
 *
 * What this cannot cover: a backing file system that copies on write
 * (btrfs, ZFS, reflinked XFS) needs space for in-place writes too, and a
 * network or FUSE one may accept the pwrite and fail at its writeback.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <string.h>
#include <unistd.h>

#include "fs_private.h"

static int pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pwrite(fd, (const char *)buf + done, len - done,
			   (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return 0;
}

/*
 * Allocate @len bytes at @off of the backing file without changing its
 * size or data.  A backing file system without fallocate gets no
 * reservation, which is what it had before.
 */
static int reserve(int fd, uint64_t off, uint64_t len)
{
	int r;

	do
		r = fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len);
	while (r && errno == EINTR);
	if (r && errno != EOPNOTSUPP && errno != ENOSYS)
		return -errno;
	return 0;
}

/* The part of @len sealed bytes for backing offset @off at or past dend. */
int fio_out_past(struct fio_out *o, const uint8_t *buf, uint64_t len,
		 uint64_t off)
{
	uint64_t cut;

	if (off + len <= o->dend)
		return 0;
	cut = off < o->dend ? o->dend - off : 0;
	o->grew = true;
	return pwrite_full(o->fd, buf + cut, len - cut, off + cut);
}

/*
 * The part below dend; only once everything past it is written.  @hole:
 * it may lie over holes (not so for a retired last extent, which was just
 * read).
 */
int fio_out_below(struct fio_out *o, const uint8_t *buf, uint64_t len,
		  uint64_t off, bool hole)
{
	int err;

	if (off >= o->dend)
		return 0;
	len = min_u64(len, o->dend - off);
	if (hole && (o->ai->sparse || o->ai->gaps)) {
		err = reserve(o->fd, off, len);
		if (err)
			return err;
	}
	return pwrite_full(o->fd, buf, len, off);
}

/*
 * The end of a request's writes, with its first error.  Only a write that
 * grew the file is cut back: on a same-size truncate, file systems drop
 * blocks reserved past the end.
 */
int fio_out_end(struct fio_out *o, int err)
{
	if (err && o->grew && ftruncate(o->fd, (off_t)o->dend)) {
		int terr = errno;

		atr_log_inode(LOG_ERR, o->ai, "a failed write (%s) could not "
			      "be cut back (%s); the end of the file is damaged",
			      strerror(-err), strerror(terr));
		return -EIO;
	}
	return err;
}

