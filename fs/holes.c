// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/holes.c - a file's holes: which all-zero extents may read as zeros,
 * the sparse record that lets them, punching them, and SEEK_DATA and
 * SEEK_HOLE over them.  Owns ai->gaps (the list itself is gaps.c); the
 * record is key.c's.  Locking as fs_private.h says at holes.c.
 *
 * ai->gaps lists the holes that WRITEs past the end of a file without a
 * sparse record left, not filled yet.  Why not record them at once: the kernel sends a file's
 * writeback as several requests at once, and now and then one lands
 * before the one below it even after worder.c has ordered those already
 * received (over io_uring, gaps of up to 27 MiB were seen), leaving a gap
 * that the late one fills a moment later.  A sparse record is for good,
 * and in a file with one any extent can be zeroed by an attacker without
 * an error (design.md §6); written at once, almost every file that went
 * through writeback got one.  So reads and SEEK_HOLE take the extents
 * listed here as holes, writes strike them off, and fio_settle() writes
 * the record at fsync, a mode change, the last close or when the daemon
 * stops, if a hole is left on disk then: a late request's, or one the
 * program meant (a write past the end).  The list (gaps.c) is exact: an
 * extent this daemon wrote is never listed, so an attacker who zeroes it
 * while the file is open cannot have it taken for a hole; and only an
 * all-zero extent is ever taken as one.  Holes made any other way
 * (truncate up, punching) are recorded at once, before they exist.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs_private.h"
#include "span.h"

/* May extent @idx (not the last) be a hole? */
bool fio_hole_ok(const struct atr_inode *ai, uint64_t idx)
{
	return ai->sparse || gaps_has(ai->gaps, idx);
}

/* The sparse record: it covers every hole, listed ones included. */
static int mark_sparse(struct atr_inode *ai, int fd)
{
	int err = key_mark_sparse(ai, fd);

	if (!err)
		gaps_free(&ai->gaps);
	return err;
}

/* Extents [lo, hi) become holes; @pending: a WRITE's, listed for now. */
int fio_gap_open(struct atr_inode *ai, int fd, uint64_t lo, uint64_t hi,
		 bool pending)
{
	if (ai->sparse)
		return 0;
	/* Without memory for the list, the record covers the holes. */
	if (!pending || gaps_add(&ai->gaps, lo, hi))
		return mark_sparse(ai, fd);
	return 0;
}

/*
 * Extents [lo, hi) hold data now, or no longer exist.  A list that cannot
 * split without more room gives way to the record: what stays listed is
 * holes still, never written.
 */
int fio_gap_close(struct atr_inode *ai, int fd, uint64_t lo, uint64_t hi)
{
	if (gaps_remove(&ai->gaps, lo, hi))
		return mark_sparse(ai, fd);
	return 0;
}

/*
 * Is any of extents [lo, hi) a hole on disk?  Read a span's worth at a
 * time into @buf (FIO_SPAN bytes, at least one extent).  A short read
 * means the file was cut behind our back: that is no hole, and granting
 * holes for it would only help whoever cut it.
 */
static int any_hole(int fd, uint64_t dsz, uint64_t lo, uint64_t hi,
		    uint8_t *buf, size_t buflen)
{
	uint64_t per = buflen / dsz, i, n, k;
	ssize_t got;

	for (i = lo; i < hi; i += n) {
		n = min_u64(per, hi - i);
		got = fio_pread_full(fd, buf, n * dsz, i * dsz);
		if (got < 0)
			return (int)got;
		for (k = 0; (k + 1) * dsz <= (uint64_t)got; k++)
			if (extent_is_hole(buf + k * dsz, dsz))
				return 1;
		if ((uint64_t)got < n * dsz)
			return 0;
	}
	return 0;
}

/*
 * What is listed was never written, but may have been cut off by a
 * truncate or a failed write, so the extents are checked on disk first:
 * only a real hole gets the record.  1 if it was written.
 */
int fio_holes_settle(struct atr_mount *m, struct atr_inode *ai, int fd)
{
	uint32_t esz = m->extent_size;
	uint64_t dsz = extent_disk_size(esz), fsize, lastidx, hi;
	size_t buflen = FIO_SPAN > dsz ? FIO_SPAN : dsz;
	const struct gaps *g = ai->gaps;
	uint64_t lo;
	uint8_t *buf = NULL;
	unsigned int r;
	int err, hole = 0;

	if (!g)
		return 0;
	err = fio_size(m, fd, &fsize);
	if (err)
		return err;
	lastidx = fsize ? span_last(esz, fsize) : 0;	/* never a hole */
	for (r = 0; r < gaps_count(g) && !hole; r++) {
		gaps_range(g, r, &lo, &hi);
		hi = min_u64(hi, lastidx);
		if (lo >= hi)
			continue;
		if (!buf)
			buf = malloc(buflen);
		hole = buf ? any_hole(fd, dsz, lo, hi, buf, buflen) : -ENOMEM;
	}
	free(buf);
	if (hole < 0)
		return hole;
	if (!hole) {
		gaps_free(&ai->gaps);
		return 0;
	}
	err = mark_sparse(ai, fd);
	return err ? err : 1;
}

static int zero_range(struct atr_mount *m, struct atr_inode *ai, int fd,
		      uint64_t from, uint64_t to)
{
	ssize_t n;

	if (from >= to)
		return 0;
	n = fio_write(m, ai, fd, NULL, (size_t)(to - from), from, NULL);
	return n < 0 ? (int)n : 0;
}

/*
 * Whole extents inside the range become backing holes; the partial extents
 * at its edges, and the last extent (which must stay sealed to prove where
 * the file ends), are rewritten with zeros.
 */
int fio_punch(struct atr_mount *m, struct atr_inode *ai, int fd,
	      uint64_t off, uint64_t len)
{
	uint32_t esz = m->extent_size;
	uint64_t dsz = extent_disk_size(esz), fsize, end, a, b;
	int err;

	err = fio_data_size(m, ai, fd, &fsize);
	if (err)
		return err;
	end = min_u64(off + len, fsize);
	if (off >= end)
		return 0;
	err = rollback_touch(m, ai, fd);
	if (err)
		return err;
	span_inner(esz, off, end, fsize, &a, &b);
	if (a >= b)
		return zero_range(m, ai, fd, off, end);
	err = mark_sparse(ai, fd);
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

/* An unwritten extent reads as zeros on disk. */
static int disk_hole(struct atr_mount *m, struct atr_inode *ai, int fd,
		     uint64_t idx, uint8_t *disk)
{
	uint64_t dsz = extent_disk_size(m->extent_size);
	ssize_t n = fio_pread_full(fd, disk, dsz, extent_disk_off(m->extent_size, idx));

	if (n < 0)
		return (int)n;
	return fio_hole_ok(ai, idx) && (uint64_t)n == dsz && extent_is_hole(disk, dsz);
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

	err = fio_data_size(m, ai, fd, &fsize);
	if (err)
		return err;
	if (off >= fsize)
		return -ENXIO;
	/* No sparse record, no holes (docs/format.md): nothing to read. */
	if (!ai->sparse && !ai->gaps)
		return whence == SEEK_DATA ? (int64_t)off : (int64_t)fsize;
	lastidx = span_last(esz, fsize);
	disk = malloc(dsz);
	if (!disk)
		return -ENOMEM;
	/*
	 * The backing fs finds allocated ranges; we check extent by extent.
	 * Allocated zeros (fallocate, or a hole's neighbour sharing its
	 * blocks) are data to the backing fs but holes to us, so SEEK_HOLE
	 * first looks at the extent in hand and the next one itself.
	 */
	for (i = off / esz; i < lastidx; i = j + 1) {
		for (j = i; whence == SEEK_HOLE && j < i + 2 && j < lastidx; j++) {
			hole = disk_hole(m, ai, fd, j, disk);
			ret = hole;
			if (hole < 0)
				goto out_free;
			if (hole) {
				ret = (int64_t)(j * esz > off ? j * esz : off);
				goto out_free;
			}
		}
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
