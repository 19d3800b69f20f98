// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/fileio.c - the encrypted data path: plaintext reads, writes, truncates,
 * fallocate and SEEK_DATA/SEEK_HOLE in terms of sealed extents.
 *
 * Invariants (docs/format.md): every extent but the last holds extent_size
 * bytes of plaintext and is sealed with is_last = 0; the last holds the
 * remainder and is sealed with is_last = 1; an all-zero extent other than
 * the last is a hole, legal only in files with a sparse record.  Any
 * operation that changes which extent is last re-seals both.
 *
 * The plaintext size is always derived from the backing size, never cached,
 * so there is no second copy to fall out of step.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs_private.h"

#define OVH	EXTENT_OVERHEAD

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static ssize_t pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

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

int fio_size(const struct atr_mount *m, int fd, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	return extent_plain_size(m->extent_size, (uint64_t)st.st_size, size);
}

/*
 * The kernel retries a failed read page by page; one line per bad extent
 * is what the administrator needs, not one per retry.  Readers share the
 * inode lock, hence the atomic.
 */
static bool first_report(struct atr_inode *ai, uint64_t idx)
{
	return __atomic_exchange_n(&ai->last_bad, idx + 1, __ATOMIC_RELAXED) !=
	       idx + 1;
}

/* fio_size() for the data path: a bad size is tampering, logged once here. */
static int data_size(struct atr_mount *m, struct atr_inode *ai, int fd,
		     uint64_t *size)
{
	int err = fio_size(m, fd, size);

	if (err == -EBADMSG && first_report(ai, UINT64_MAX - 1))
		atr_log_inode(LOG_ERR, ai, "backing size is not that of any "
			      "valid file (truncated or extended?)");
	return err;
}

/* Open one on-disk extent of @dlen bytes into @out, holes included. */
static int ext_open(struct atr_inode *ai, uint64_t idx, bool last,
		    const uint8_t *disk, size_t dlen, uint8_t *out)
{
	int err;

	if (extent_is_hole(disk, dlen)) {
		if (!last && ai->sparse) {
			memset(out, 0, dlen - OVH);
			return 0;
		}
		if (first_report(ai, idx))
			atr_log_inode(LOG_ERR, ai, "extent %llu is zeroed in a "
				      "file without holes (tampered?)",
				      (unsigned long long)idx);
		return -EBADMSG;
	}
	err = extent_open(ai->fk, idx, last, disk, dlen, out);
	if (err == -EBADMSG && first_report(ai, idx))
		atr_log_inode(LOG_ERR, ai, "extent %llu fails authentication "
			      "(tampered, moved from elsewhere, or cut short)",
			      (unsigned long long)idx);
	return err;
}

/*
 * Plaintext of extent @idx of a file of @size bytes into @plain, zero-padded
 * to the extent size (zeros entirely past EOF).  @disk: extent_disk_size().
 */
static int ext_load(struct atr_mount *m, struct atr_inode *ai, int fd,
		    uint64_t idx, uint64_t size, uint8_t *plain, uint8_t *disk)
{
	uint32_t esz = m->extent_size;
	uint64_t start = idx * esz;
	size_t len;
	ssize_t n;
	int err;

	memset(plain, 0, esz);
	if (start >= size)
		return 0;
	len = (size_t)min_u64(esz, size - start);
	n = pread_full(fd, disk, len + OVH, extent_disk_off(esz, idx));
	if (n < 0)
		return (int)n;
	if ((size_t)n != len + OVH) {
		atr_log_inode(LOG_ERR, ai, "extent %llu is cut short",
			      (unsigned long long)idx);
		return -EBADMSG;
	}
	err = ext_open(ai, idx, idx == (size - 1) / esz, disk, len + OVH, plain);
	return err;
}

ssize_t fio_read(struct atr_mount *m, struct atr_inode *ai, int fd,
		 char *buf, size_t size, uint64_t off)
{
	uint32_t esz = m->extent_size;
	uint64_t dsz = extent_disk_size(esz), fsize, end, first, last, i;
	uint64_t lastidx, dstart, dlen, ilen, s, e;
	uint8_t *disk, *scratch;
	ssize_t n, ret;
	int err;

	err = data_size(m, ai, fd, &fsize);
	if (err)
		return err;
	if (off >= fsize || size == 0)
		return 0;
	end = min_u64(off + size, fsize);
	first = off / esz;
	last = (end - 1) / esz;
	lastidx = (fsize - 1) / esz;
	dstart = first * dsz;
	dlen = (last - first) * dsz + min_u64(esz, fsize - last * esz) + OVH;
	disk = malloc(dlen);
	scratch = malloc(esz);
	ret = -ENOMEM;
	if (!disk || !scratch)
		goto out_free;
	/* One read for the whole span: extents are contiguous on disk. */
	n = pread_full(fd, disk, dlen, dstart);
	ret = n;
	if (n < 0)
		goto out_free;
	ret = -EBADMSG;
	if ((uint64_t)n != dlen) {
		atr_log_inode(LOG_ERR, ai, "backing file shrank during a read");
		goto out_free;
	}
	for (i = first; i <= last; i++) {
		ilen = min_u64(esz, fsize - i * esz);
		s = i == first ? off - i * esz : 0;
		e = min_u64(end - i * esz, ilen);
		if (s == 0 && e == ilen) {
			err = ext_open(ai, i, i == lastidx, disk + (i - first) * dsz,
				       ilen + OVH, (uint8_t *)buf + (i * esz - off));
		} else {
			err = ext_open(ai, i, i == lastidx, disk + (i - first) * dsz,
				       ilen + OVH, scratch);
			memcpy(buf + (i * esz + s - off), scratch + s, e - s);
		}
		ret = err;
		if (err)
			goto out_free;
	}
	ret = (ssize_t)(end - off);
out_free:
	free(disk);
	free(scratch);
	return ret;
}

/*
 * The old last extent stops being last: re-seal it full and with
 * is_last = 0.  If extents are skipped after it, they become holes.
 */
static int retire_last(struct atr_mount *m, struct atr_inode *ai, int fd,
		       uint64_t size, uint64_t next, uint8_t *plain,
		       uint8_t *disk)
{
	uint32_t esz = m->extent_size;
	uint64_t oldlast;
	int err;

	if (size == 0)
		return next > 0 ? key_mark_sparse(ai, fd) : 0;
	oldlast = (size - 1) / esz;
	if (oldlast >= next)
		return 0;
	if (next > oldlast + 1) {
		err = key_mark_sparse(ai, fd);
		if (err)
			return err;
	}
	err = ext_load(m, ai, fd, oldlast, size, plain, disk);
	if (!err)
		err = extent_seal(ai->fk, oldlast, false, plain, esz, disk);
	if (!err)
		err = pwrite_full(fd, disk, extent_disk_size(esz),
				  extent_disk_off(esz, oldlast));
	return err;
}

/* @buf NULL writes zeros (truncate up, hole punching at the edges). */
ssize_t fio_write(struct atr_mount *m, struct atr_inode *ai, int fd,
		  const char *buf, size_t size, uint64_t off)
{
	uint32_t esz = m->extent_size;
	uint64_t dsz = extent_disk_size(esz), fsize, nsize, first, last, i;
	uint64_t newlast, ilen, s, e, outlen;
	uint8_t *out = NULL, *plain, *disk, *src;
	ssize_t ret;
	int err;

	if (size == 0)
		return 0;
	err = data_size(m, ai, fd, &fsize);
	if (err)
		return err;
	nsize = off + size > fsize ? off + size : fsize;
	first = off / esz;
	last = (off + size - 1) / esz;
	newlast = (nsize - 1) / esz;
	plain = malloc(esz);
	disk = malloc(dsz);
	ret = -ENOMEM;
	if (!plain || !disk)
		goto out_free;
	ret = retire_last(m, ai, fd, fsize, first, plain, disk);
	if (ret)
		goto out_free;
	out = malloc((last - first + 1) * dsz);
	ret = -ENOMEM;
	if (!out)
		goto out_free;
	for (i = first; i <= last; i++) {
		ilen = min_u64(esz, nsize - i * esz);
		s = (i == first ? off : i * esz) - i * esz;
		e = min_u64(off + size - i * esz, ilen);
		if (buf && s == 0 && e == ilen) {
			/* Whole extent rewritten: no need to read it. */
			src = (uint8_t *)buf + (i * esz - off);
		} else {
			ret = ext_load(m, ai, fd, i, fsize, plain, disk);
			if (ret)
				goto out_free;
			if (buf)
				memcpy(plain + s, buf + (i * esz + s - off), e - s);
			else
				memset(plain + s, 0, e - s);
			src = plain;
		}
		ret = extent_seal(ai->fk, i, i == newlast, src, ilen,
				  out + (i - first) * dsz);
		if (ret)
			goto out_free;
	}
	outlen = (last - first) * dsz + min_u64(esz, nsize - last * esz) + OVH;
	ret = pwrite_full(fd, out, outlen, first * dsz);
	if (!ret)
		ret = (ssize_t)size;
out_free:
	free(out);
	free(plain);
	free(disk);
	return ret;
}

int fio_truncate(struct atr_mount *m, struct atr_inode *ai, int fd,
		 uint64_t size)
{
	uint32_t esz = m->extent_size;
	uint64_t fsize, last, ilen;
	uint8_t *plain, *disk;
	ssize_t n;
	int err;

	err = data_size(m, ai, fd, &fsize);
	if (err)
		return err;
	if (size == fsize)
		return 0;
	if (size > fsize) {
		n = fio_write(m, ai, fd, NULL, 1, size - 1);
		return n < 0 ? (int)n : 0;
	}
	if (size == 0)
		return ftruncate(fd, 0) ? -errno : 0;
	/* The extent holding the new end becomes last: re-seal it so. */
	last = (size - 1) / esz;
	ilen = size - last * esz;
	plain = malloc(esz);
	disk = malloc(extent_disk_size(esz));
	err = -ENOMEM;
	if (!plain || !disk)
		goto out_free;
	err = ext_load(m, ai, fd, last, fsize, plain, disk);
	if (!err)
		err = extent_seal(ai->fk, last, true, plain, ilen, disk);
	if (!err)
		err = pwrite_full(fd, disk, ilen + OVH,
				  extent_disk_off(esz, last));
	if (!err && ftruncate(fd, (off_t)(extent_disk_off(esz, last) + ilen + OVH)))
		err = -errno;
out_free:
	free(plain);
	free(disk);
	return err;
}

static int zero_range(struct atr_mount *m, struct atr_inode *ai, int fd,
		      uint64_t from, uint64_t to)
{
	ssize_t n;

	if (from >= to)
		return 0;
	n = fio_write(m, ai, fd, NULL, (size_t)(to - from), from);
	return n < 0 ? (int)n : 0;
}

/*
 * Whole extents inside the range become backing holes; the partial extents
 * at its edges, and the last extent (which must stay sealed to prove where
 * the file ends), are rewritten with zeros.
 */
static int punch(struct atr_mount *m, struct atr_inode *ai, int fd,
		 uint64_t off, uint64_t len)
{
	uint32_t esz = m->extent_size;
	uint64_t dsz = extent_disk_size(esz), fsize, end, a, b;
	int err;

	err = data_size(m, ai, fd, &fsize);
	if (err)
		return err;
	end = min_u64(off + len, fsize);
	if (off >= end)
		return 0;
	a = (off + esz - 1) / esz;
	b = min_u64(end / esz, (fsize - 1) / esz);
	if (a >= b)
		return zero_range(m, ai, fd, off, end);
	err = key_mark_sparse(ai, fd);
	if (err)
		return err;
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)(a * dsz), (off_t)((b - a) * dsz)))
		return -errno;
	err = zero_range(m, ai, fd, off, a * esz);
	if (!err)
		err = zero_range(m, ai, fd, b * esz, end);
	return err;
}

int fio_fallocate(struct atr_mount *m, struct atr_inode *ai, int fd,
		  int mode, uint64_t off, uint64_t len)
{
	uint32_t esz = m->extent_size;
	uint64_t dsz = extent_disk_size(esz), fsize, first, last;
	int err;

	if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE))
		return -EOPNOTSUPP;
	if (len == 0)
		return -EINVAL;
	if (mode & FALLOC_FL_PUNCH_HOLE)
		return punch(m, ai, fd, off, len);
	err = data_size(m, ai, fd, &fsize);
	if (err)
		return err;
	/* Reserve the backing space of every extent the range touches. */
	first = off / esz;
	last = (off + len - 1) / esz;
	if (fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)(first * dsz),
		      (off_t)((last - first + 1) * dsz)))
		return -errno;
	if (!(mode & FALLOC_FL_KEEP_SIZE) && off + len > fsize)
		return fio_truncate(m, ai, fd, off + len);
	return 0;
}

/* An unwritten extent reads as zeros on disk. */
static int disk_hole(struct atr_mount *m, struct atr_inode *ai, int fd,
		     uint64_t idx, uint8_t *disk)
{
	uint64_t dsz = extent_disk_size(m->extent_size);
	ssize_t n = pread_full(fd, disk, dsz, extent_disk_off(m->extent_size, idx));

	if (n < 0)
		return (int)n;
	return ai->sparse && (uint64_t)n == dsz && extent_is_hole(disk, dsz);
}

int64_t fio_seek(struct atr_mount *m, struct atr_inode *ai, int fd,
		 uint64_t off, int whence)
{
	uint32_t esz = m->extent_size;
	uint64_t dsz = extent_disk_size(esz), fsize, lastidx, i, j;
	uint8_t *disk;
	int64_t ret;
	off_t b;
	int err, hole;

	err = data_size(m, ai, fd, &fsize);
	if (err)
		return err;
	if (off >= fsize)
		return -ENXIO;
	lastidx = (fsize - 1) / esz;
	disk = malloc(dsz);
	if (!disk)
		return -ENOMEM;
	/* The backing fs finds allocated ranges; we check extent by extent. */
	for (i = off / esz; i < lastidx; i = j + 1) {
		b = lseek(fd, (off_t)(i * dsz), whence);
		ret = -errno;
		if (b < 0)
			goto out_free;
		j = (uint64_t)b / dsz;
		if (j >= lastidx)
			break;
		hole = disk_hole(m, ai, fd, j, disk);
		ret = hole;
		if (hole < 0)
			goto out_free;
		if ((whence == SEEK_DATA) != hole) {
			ret = (int64_t)(j * esz > off ? j * esz : off);
			goto out_free;
		}
		/* A backing hole may start inside a data extent: try the next. */
		if (whence == SEEK_HOLE && j + 1 < lastidx) {
			hole = disk_hole(m, ai, fd, j + 1, disk);
			ret = hole;
			if (hole < 0)
				goto out_free;
			if (hole) {
				ret = (int64_t)((j + 1) * esz > off ? (j + 1) * esz : off);
				goto out_free;
			}
		}
	}
	/* Only the last extent is left: always data; EOF is the hole. */
	if (whence == SEEK_DATA)
		ret = (int64_t)(lastidx * esz > off ? lastidx * esz : off);
	else
		ret = (int64_t)fsize;
out_free:
	free(disk);
	return ret;
}
