// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/fileio.c - the encrypted data path: plaintext reads, writes, truncates
 * and fallocate in terms of sealed extents.  Beside it: the thread's state
 * (tls.c), the helper threads (pool.c), failure-atomic output (output.c),
 * holes and SEEK_DATA/SEEK_HOLE (holes.c), extent arithmetic (span.h).
 *
 * Invariants (docs/format.md): every extent but the last holds extent_size
 * bytes of plaintext and is sealed with is_last = 0; the last holds the
 * remainder and is sealed with is_last = 1; an all-zero extent other than
 * the last is a hole, legal only in files with a sparse record.  Any
 * operation that changes which extent is last re-seals both.
 *
 * The plaintext size is always derived from the backing size, never cached,
 * so there is no second copy to fall out of step.
 *
 * Speed (docs/performance.md): each thread that serves data owns a struct
 * fio_tls, made on its first request and freed (keys wiped) when it exits:
 * an AEAD context that keeps the DEK's key schedule, and buffers sized for
 * one FIO_SPAN request, so the data path does not allocate.  A read is
 * one pread of the backing span; a write puts what lies past the old end
 * of the backing file first, in pieces as they are sealed, then what lies
 * below it in one pwrite, so that a full disk leaves the file as it was.
 * The extents of a large request are sealed or opened by the caller and
 * the mount's helper threads together, which puts both cores on one write.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../crypto/hdr.h"
#include "fs_private.h"
#include "span.h"

#define OVH	EXTENT_OVERHEAD

ssize_t fio_pread_full(int fd, void *buf, size_t len, uint64_t off)
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

int fio_size(const struct atr_mount *m, int fd, uint64_t *size)
{
	struct stat st;

	if (m->opt_mnt.shared)
		return shared_size(m, fd, size);
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
int fio_data_size(struct atr_mount *m, struct atr_inode *ai, int fd,
		  uint64_t *size)
{
	int err = fio_size(m, fd, size);

	if (err == -EBADMSG && first_report(ai, UINT64_MAX - 1))
		atr_log_inode(LOG_ERR, ai, "backing size is not that of any "
			      "valid file (truncated or extended?)");
	/* This mount is the only writer: nobody else may move the end. */
	if (!err && ai->size_known && *size != ai->size) {
		if (first_report(ai, UINT64_MAX - 2))
			atr_log_inode(LOG_ERR, ai, "its size changed in the "
				      "backing directory while it was open "
				      "(%llu bytes, %llu expected): cut, or an "
				      "older copy put back",
				      (unsigned long long)*size,
				      (unsigned long long)ai->size);
		err = -EBADMSG;
	}
	return err;
}

/*
 * Was the file cut or grown in the backing directory while it was open:
 * a size other than this mount left?  Then its version record says so
 * for good (rollback_cut()).  A size that was impossible already when the
 * file was opened is not ours to judge: the data path refuses it as it
 * always did.  An older last extent put back at the same size needs no
 * read here: the clean record names the tag this mount left, so the
 * file is refused after a remount, and reads of it meanwhile are
 * (ext_open()).  ai->lock write-held.
 */
static bool moved_behind(struct atr_mount *m, struct atr_inode *ai, int fd)
{
	struct stat st;
	uint64_t size;

	if (!ai->size_known || fstat(fd, &st))
		return false;
	return extent_plain_size(m->extent_size, (uint64_t)st.st_size, &size) ||
	       size != ai->size;
}

static int refuse_moved(struct atr_mount *m, struct atr_inode *ai, int fd,
			int err)
{
	if (err == -EBADMSG && moved_behind(m, ai, fd))
		rollback_cut(m, ai, fd);
	return err;
}

/*
 * The header says the file holds data once it does (HDR_F_DATA), and that
 * it has a version record once @ver wrote one (HDR_F_VER), in one rewrap.
 * A header with HDR_F_VER already needs neither: the record says how long
 * the file is (key_check()).
 */
static int settle_header(struct atr_mount *m, struct atr_inode *ai, int fd,
			 bool ver)
{
	uint16_t add = ver ? HDR_F_VER : 0;
	uint64_t fsize;
	int err;

	/* Format 1 headers keep flags 0: older atrestfs refuse any other. */
	if (!m->hdr_always) {
		ai->data_pending = false;
		return 0;
	}
	if (ai->data_pending) {
		/* Checked against the disk by settle_fd() just before. */
		fsize = ai->size;
		err = ai->size_known ? 0 : fio_size(m, fd, &fsize);
		if (err)
			return err;
		if (fsize && !ai->hdr_ver)
			add |= HDR_F_DATA;
		else
			ai->data_pending = false;
	}
	if (!add)
		return 0;
	err = key_add_flags(m, ai, fd, add);
	if (err >= 0 && (add & HDR_F_DATA))
		ai->data_pending = false;
	return err;
}

/* Holes, then the version record, then the header that requires it. */
static int settle_fd(struct atr_mount *m, struct atr_inode *ai, int fd)
{
	uint64_t fsize;
	int holes, ver, hdr;

	/*
	 * Never settle a file changed behind our back: its holes, flags and
	 * version would sign the damage.  Its version record says so instead.
	 */
	holes = fio_data_size(m, ai, fd, &fsize);
	if (holes < 0)
		return refuse_moved(m, ai, fd, holes);
	holes = fio_holes_settle(m, ai, fd);
	if (holes < 0)
		return holes;
	ver = rollback_record(m, ai, fd);
	if (ver < 0)
		return ver;
	hdr = settle_header(m, ai, fd, ver);
	if (hdr < 0)
		return hdr;
	if (ver)
		rollback_settled(ai);
	return holes || ver || hdr;
}

int fio_settle(struct atr_mount *m, struct atr_inode *ai, int fd)
{
	int err, own = -1;

	/*
	 * No key: a settle at the last close failed and was logged; nothing
	 * can be written until the file is opened again.
	 */
	if (!ai->fk || (!ai->gaps && !ai->data_pending && !ai->ver_changed))
		return 0;
	if (fd < 0) {
		fd = own = attr_reopen(ai, O_RDONLY);
		if (fd < 0)
			return fd;
	}
	err = settle_fd(m, ai, fd);
	if (own >= 0)
		close(own);
	fio_tls_forget(m);	/* the version record was sealed with it */
	return err;
}

void fio_settle_late(struct atr_mount *m, struct atr_inode *ai, int fd)
{
	int err = fio_settle(m, ai, fd);

	if (err < 0)
		atr_log_inode(LOG_ERR, ai, "what its writes left pending (holes, "
			      "the header's flags or its version record) could "
			      "not be written (%s); after a remount its holes "
			      "read as errors", strerror(-err));
	else
		rollback_commit(m, ai);
}

/* Open one on-disk extent of @dlen bytes into @out, holes included. */
static int ext_open(struct aead_ctx *ac, struct atr_inode *ai, uint64_t idx,
		    bool last, const uint8_t *disk, size_t dlen, uint8_t *out)
{
	int err;

	if (extent_is_hole(disk, dlen)) {
		if (!last && fio_hole_ok(ai, idx)) {
			memset(out, 0, dlen - OVH);
			return 0;
		}
		/* Shared: another host's holes, recorded since? shared.c asks. */
		if (!last && ai->mnt->opt_mnt.shared)
			return -EAGAIN;
		if (first_report(ai, idx))
			atr_log_inode(LOG_ERR, ai, "extent %llu is zeroed in a "
				      "file without holes (tampered?)",
				      (unsigned long long)idx);
		return -EBADMSG;
	}
	/* The end this mount left, or an older one put back meanwhile. */
	if (last && ai->ver_tag_ok &&
	    ct_memcmp(disk + dlen - AEAD_TAG_LEN, ai->ver_tag, AEAD_TAG_LEN)) {
		if (first_report(ai, idx))
			atr_log_inode(LOG_ERR, ai, "its last extent %llu was "
				      "replaced in the backing directory while "
				      "it was open (an older one put back?)",
				      (unsigned long long)idx);
		return -EBADMSG;
	}
	err = extent_open_ctx(ac, ai->fk, idx, last, disk, dlen, out);
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
static int ext_load(struct atr_mount *m, struct aead_ctx *ac,
		    struct atr_inode *ai, int fd, uint64_t idx, uint64_t size,
		    uint8_t *plain, uint8_t *disk)
{
	uint32_t esz = m->extent_size;
	uint64_t start = idx * esz;
	size_t len;
	ssize_t n;
	int err;

	memset(plain, 0, esz);
	if (start >= size)
		return 0;
	len = (size_t)span_ext_len(esz, size, idx);
	n = fio_pread_full(fd, disk, len + OVH, extent_disk_off(esz, idx));
	if (n < 0)
		return (int)n;
	if ((size_t)n != len + OVH) {
		atr_log_inode(LOG_ERR, ai, "extent %llu is cut short",
			      (unsigned long long)idx);
		return -EBADMSG;
	}
	err = ext_open(ac, ai, idx, idx == span_last(esz, size), disk, len + OVH,
		       plain);
	return err;
}

/* Open extents @lo..@hi of a read into the caller's buffer. */
static int read_chunk(struct fio_job *j, struct aead_ctx *ac, uint64_t lo,
		      uint64_t hi)
{
	uint32_t esz = j->m->extent_size;
	uint64_t dsz = extent_disk_size(esz), fsize = j->size, i, ilen, s, e;
	uint8_t *in, *scratch;
	int err;

	for (i = lo; i <= hi; i++) {
		ilen = span_ext_len(esz, fsize, i);
		span_cover(esz, i, j->off, j->end, fsize, &s, &e);
		in = j->disk + (i - j->first) * dsz;
		if (s == 0 && e == ilen)
			err = ext_open(ac, j->ai, i, i == j->lastidx, in, ilen + OVH,
				       (uint8_t *)j->rbuf + (i * esz - j->off));
		else {
			/* Only the first and last extent can be partial. */
			scratch = j->edge[i == j->first ? 0 : 1];
			err = ext_open(ac, j->ai, i, i == j->lastidx, in, ilen + OVH,
				       scratch);
			if (!err)
				memcpy(j->rbuf + (i * esz + s - j->off), scratch + s,
				       e - s);
		}
		if (err)
			return err;
	}
	return 0;
}

static ssize_t read_span(struct atr_mount *m, struct fio_tls *t,
			 struct atr_inode *ai, int fd, char *buf, size_t size,
			 uint64_t off, uint64_t fsize)
{
	uint32_t esz = m->extent_size;
	uint64_t dsz = extent_disk_size(esz), end, dlen;
	struct fio_job j = { .fn = read_chunk, .m = m, .ai = ai, .rbuf = buf,
			     .disk = t->disk, .edge = { t->edge[0], t->edge[1] },
			     .off = off, .size = fsize };
	ssize_t n;
	int err;

	end = min_u64(off + size, fsize);
	j.end = end;
	j.first = off / esz;
	j.last = span_last(esz, end);
	j.lastidx = span_last(esz, fsize);
	dlen = span_disk_len(esz, j.first, j.last, fsize);
	/* One read for the whole span: extents are contiguous on disk. */
	n = fio_pread_full(fd, t->disk, dlen, j.first * dsz);
	if (n < 0)
		return n;
	if ((uint64_t)n != dlen) {
		atr_log_inode(LOG_ERR, ai, "backing file shrank during a read");
		return -EBADMSG;
	}
	err = fio_pool_run(m, t->ac, &j);
	return err ? err : (ssize_t)(end - off);
}

/* The common start of a data operation: this thread's buffers, the size. */
static int fio_begin(struct atr_mount *m, struct atr_inode *ai, int fd,
		     struct fio_tls **t, uint64_t *fsize)
{
	*t = fio_tls_get(m);
	if (!*t)
		return -ENOMEM;
	return fio_data_size(m, ai, fd, fsize);
}

static ssize_t read_req(struct atr_mount *m, struct atr_inode *ai, int fd,
			char *buf, size_t size, uint64_t off)
{
	struct fio_tls *t;
	uint64_t fsize;
	size_t done = 0, piece;
	ssize_t n;
	int err;

	err = fio_begin(m, ai, fd, &t, &fsize);
	if (err)
		return err;
	if (off >= fsize || size == 0)
		return 0;
	size = (size_t)min_u64(size, fsize - off);
	/* Spans beyond FIO_SPAN (none from FUSE) go piece by piece. */
	while (done < size) {
		piece = (size_t)min_u64(size - done, FIO_SPAN);
		n = read_span(m, t, ai, fd, buf + done, piece, off + done, fsize);
		if (n < 0)
			return n;
		done += piece;
	}
	return (ssize_t)done;
}

/*
 * The old last extent stops being last: re-seal it full and with
 * is_last = 0, into @slot (extent_disk_size bytes).  *retired says whether
 * it did; the caller writes @slot, with its own span when the extent sits
 * right before @next, else on its own with holes between (@pending: a
 * WRITE's holes, which fio_gap_open() lists instead of recording them).
 */
static int retire_last(struct atr_mount *m, struct fio_tls *t,
		       struct atr_inode *ai, int fd, uint64_t size,
		       uint64_t next, uint8_t *slot, bool *retired,
		       bool pending)
{
	uint32_t esz = m->extent_size;
	uint64_t oldlast;
	int err;

	*retired = false;
	if (size == 0)
		return next > 0 ? fio_gap_open(ai, fd, 0, next, pending) : 0;
	oldlast = span_last(esz, size);
	if (oldlast >= next)
		return 0;
	if (next > oldlast + 1) {
		err = fio_gap_open(ai, fd, oldlast + 1, next, pending);
		if (err)
			return err;
	}
	err = ext_load(m, t->ac, ai, fd, oldlast, size, t->edge[0], slot);
	if (!err)
		err = extent_seal_ctx(t->ac, ai->fk, oldlast, false, t->edge[0],
				      esz, slot);
	*retired = !err;
	return err;
}

/* Seal extents @lo..@hi of a write; partial ones were loaded into edge[]. */
static int write_chunk(struct fio_job *j, struct aead_ctx *ac, uint64_t lo,
		       uint64_t hi)
{
	uint32_t esz = j->m->extent_size;
	uint64_t dsz = extent_disk_size(esz), i, ilen;
	const uint8_t *src;
	int err;

	for (i = lo; i <= hi; i++) {
		ilen = span_ext_len(esz, j->end, i);
		if (i == j->first && j->edge_first)
			src = j->edge[0];
		else if (i == j->last && j->edge_last)
			src = j->edge[1];
		else if (j->buf)
			src = (const uint8_t *)j->buf + (i * esz - j->off);
		else
			src = j->zero;
		err = extent_seal_ctx(ac, j->ai->fk, i, i == j->lastidx, src, ilen,
				      j->disk + (i - j->first) * dsz);
		if (err)
			return err;
	}
	return 0;
}

/* Chunks @c0..@c1 - 1 of a write are sealed: what of them is past dend. */
static int write_drain(struct fio_job *j, uint64_t c0, uint64_t c1)
{
	uint32_t esz = j->m->extent_size;
	uint64_t dsz = extent_disk_size(esz);
	uint64_t lo = j->first + c0 * j->per;
	uint64_t hi = min_u64(j->first + c1 * j->per - 1, j->last);
	uint64_t len = span_disk_len(esz, lo, hi, j->end);

	return fio_out_past(j->out, j->disk + (lo - j->first) * dsz, len,
			    lo * dsz);
}

/*
 * Load a partly overwritten extent into @plain and lay the new bytes over
 * it; @scratch (extent_disk_size bytes) is its slot in the output span.
 */
static int write_edge(struct atr_mount *m, struct fio_tls *t,
		      struct atr_inode *ai, int fd, const struct fio_job *j,
		      uint64_t i, uint64_t fsize, uint8_t *plain,
		      uint8_t *scratch)
{
	uint32_t esz = m->extent_size;
	uint64_t s, e;
	int err = ext_load(m, t->ac, ai, fd, i, fsize, plain, scratch);

	if (err)
		return err;
	span_cover(esz, i, j->off, j->off + j->size, j->end, &s, &e);
	if (j->buf)
		memcpy(plain + s, j->buf + (i * esz + s - j->off), e - s);
	else
		memset(plain + s, 0, e - s);
	return 0;
}

/* @w: the write as registered with worder.c, or NULL. */
static int write_span(struct atr_mount *m, struct fio_tls *t,
		      struct atr_inode *ai, int fd, const char *buf,
		      size_t size, uint64_t off, const struct worder *w)
{
	uint32_t esz = m->extent_size;
	uint64_t dsz = extent_disk_size(esz), fsize, nsize, outlen, oldlast;
	struct fio_out o = { .ai = ai, .fd = fd };
	struct fio_job j = { .fn = write_chunk, .drain = write_drain, .m = m,
			     .ai = ai, .buf = buf,
			     .edge = { t->edge[0], t->edge[1] },
			     .off = off, .size = size, .out = &o };
	bool retired;
	int err;

	err = fio_data_size(m, ai, fd, &fsize);
	if (!err && w && worder_wait(m, ai, w, fsize))
		err = fio_data_size(m, ai, fd, &fsize);
	err = refuse_moved(m, ai, fd, err);
	/* Nothing sealed yet: a file ID of its own (a copied header's?). */
	if (!err && fsize == 0)
		err = key_first_data(m, ai, fd);
	if (!err)
		err = rollback_touch(m, ai, fd);
	if (err)
		return err;
	if (!ai->hdr_data && !ai->hdr_ver)
		ai->data_pending = true;
	o.dend = extent_backing_size(esz, fsize);
	oldlast = fsize ? span_last(esz, fsize) : 0;
	nsize = off + size > fsize ? off + size : fsize;
	j.end = nsize;
	j.first = off / esz;
	j.last = span_last(esz, off + size);
	j.lastidx = span_last(esz, nsize);
	/* Slot 0 of t->disk: a retired last extent; the span follows. */
	j.disk = t->disk + dsz;
	err = retire_last(m, t, ai, fd, fsize, j.first, t->disk, &retired,
			  w != NULL);
	if (err)
		return err;
	if (!buf && !t->zero) {
		t->zero = calloc(1, esz);
		if (!t->zero)
			return -ENOMEM;
	}
	j.zero = t->zero;
	/* Only the two ends can be partial, and only they are read. */
	j.edge_first = span_partial(esz, j.first, off, off + size, nsize);
	j.edge_last = j.last != j.first &&
		      span_partial(esz, j.last, off, off + size, nsize);
	if (j.edge_first)
		err = write_edge(m, t, ai, fd, &j, j.first, fsize, t->edge[0],
				 j.disk);
	if (!err && j.edge_last)
		err = write_edge(m, t, ai, fd, &j, j.last, fsize, t->edge[1],
				 j.disk + (j.last - j.first) * dsz);
	if (err)
		return err;
	/*
	 * The old last extent is rewritten in place below (retired, or
	 * grown): its sealed bytes go to the state directory first, where
	 * no tear of this write can reach them.
	 */
	if (fsize && j.last >= oldlast)
		endcopy_save(m, t, ai, fd, o.dend, oldlast);
	/*
	 * Past dend, in file order: the tail of a retired last extent grown
	 * to full size, then the span as it is sealed (write_drain).
	 */
	if (retired)
		err = fio_out_past(&o, t->disk, dsz, oldlast * dsz);
	if (!err)
		err = fio_pool_run(m, t->ac, &j);
	if (err)
		return fio_out_end(&o, err);
	outlen = span_disk_len(esz, j.first, j.last, nsize);
	/*
	 * A retired extent (the old last) right before the span goes with it:
	 * then all of the span is past dend.
	 */
	if (retired && j.first == oldlast + 1) {
		err = fio_out_below(&o, t->disk, dsz + outlen, oldlast * dsz,
				    false);
	} else {
		if (retired)
			err = fio_out_below(&o, t->disk, dsz, oldlast * dsz,
					    false);
		if (!err)
			err = fio_out_below(&o, j.disk, outlen, j.first * dsz,
					    true);
	}
	err = fio_out_end(&o, err);
	if (!err)
		ai->size = nsize;
	if (!err && j.last == j.lastidx)
		rollback_end(ai, j.disk + (j.last - j.first) * dsz +
				 span_ext_len(esz, nsize, j.last) + OVH);
	if (!err)
		err = fio_gap_close(ai, fd, j.first, j.last + 1);
	return err;
}

/* @buf NULL writes zeros (truncate up, hole punching at the edges). */
static ssize_t write_req(struct atr_mount *m, struct atr_inode *ai, int fd,
			 const char *buf, size_t size, uint64_t off,
			 const struct worder *w)
{
	struct fio_tls *t = fio_tls_get(m);
	size_t done = 0, piece;
	int err;

	if (!t)
		return -ENOMEM;
	/* Spans beyond FIO_SPAN (none from FUSE) go piece by piece. */
	while (done < size) {
		piece = (size_t)min_u64(size - done, FIO_SPAN);
		err = write_span(m, t, ai, fd, buf ? buf + done : NULL, piece,
				 off + done, w);
		if (err) {
			rollback_end_lost(ai);
			return err;
		}
		done += piece;
	}
	return (ssize_t)size;
}

/* Down to @size, less than @fsize. */
static int truncate_cut(struct atr_mount *m, struct atr_inode *ai, int fd,
			struct fio_tls *t, uint64_t fsize, uint64_t size)
{
	uint32_t esz = m->extent_size;
	uint64_t last, ilen;
	int err;

	if (size == 0) {
		/* The header first: a crash between leaves data it can read. */
		err = key_no_data(m, ai, fd);
		if (err)
			return err;
		if (ftruncate(fd, 0)) {
			ai->data_pending = true;
			return -errno;
		}
		rollback_end(ai, NULL);
		ai->size = 0;
		/* No hole is left to allow; after the cut, so a crash keeps it. */
		if (fremovexattr(fd, HDR_SPARSE_XATTR) && errno != ENODATA)
			return -errno;
		ai->sparse = false;
		return fio_gap_close(ai, fd, 0, UINT64_MAX);
	}
	/* The extent holding the new end becomes last: re-seal it so. */
	last = span_last(esz, size);
	ilen = span_ext_len(esz, size, last);
	err = ext_load(m, t->ac, ai, fd, last, fsize, t->edge[0], t->edge[1]);
	if (!err)
		err = extent_seal_ctx(t->ac, ai->fk, last, true, t->edge[0], ilen,
				      t->edge[1]);
	if (!err) {
		/* In place, but maybe over a hole: fio_out_below() allocates. */
		struct fio_out o = { .ai = ai, .fd = fd,
				     .dend = extent_backing_size(esz, fsize) };

		endcopy_save(m, t, ai, fd, o.dend, last);
		err = fio_out_end(&o, fio_out_below(&o, t->edge[1], ilen + OVH,
						    extent_disk_off(esz, last),
						    true));
	}
	if (!err && ftruncate(fd, (off_t)(extent_disk_off(esz, last) + ilen + OVH)))
		err = -errno;
	if (!err)
		ai->size = size;
	if (!err)
		rollback_end(ai, t->edge[1] + ilen + OVH);
	if (!err)
		err = fio_gap_close(ai, fd, last, UINT64_MAX);
	return err;
}

static int truncate_req(struct atr_mount *m, struct atr_inode *ai, int fd,
			uint64_t size)
{
	struct fio_tls *t;
	uint64_t fsize;
	ssize_t n;
	int err;

	err = refuse_moved(m, ai, fd, fio_begin(m, ai, fd, &t, &fsize));
	if (!err && size != fsize)
		err = rollback_touch(m, ai, fd);
	if (err || size == fsize)
		return err;
	if (size > fsize) {
		n = write_req(m, ai, fd, NULL, 1, size - 1, NULL);
		return n < 0 ? (int)n : 0;
	}
	err = truncate_cut(m, ai, fd, t, fsize, size);
	if (err)
		rollback_end_lost(ai);
	return err;
}

/*
 * A handle's request that passed revoke_handle() and then waited for the
 * lock may find the key gone: an online rekey whose key_reload() failed
 * (logged).  EIO, as revoke_handle() would now say.
 */
static bool key_gone(const struct atr_inode *ai)
{
	return !ai->fk;
}

ssize_t fio_read(struct atr_mount *m, struct atr_inode *ai, int fd,
		 char *buf, size_t size, uint64_t off)
{
	ssize_t n = key_gone(ai) ? -EIO : read_req(m, ai, fd, buf, size, off);

	fio_tls_forget(m);
	return n;
}

ssize_t fio_write(struct atr_mount *m, struct atr_inode *ai, int fd,
		  const char *buf, size_t size, uint64_t off,
		  const struct worder *w)
{
	ssize_t n = key_gone(ai) ? -EIO :
				   write_req(m, ai, fd, buf, size, off, w);

	fio_tls_forget(m);
	return n;
}

int fio_truncate(struct atr_mount *m, struct atr_inode *ai, int fd,
		 uint64_t size)
{
	int err = truncate_req(m, ai, fd, size);

	fio_tls_forget(m);
	return err;
}

static int fallocate_req(struct atr_mount *m, struct atr_inode *ai, int fd,
			 int mode, uint64_t off, uint64_t len)
{
	uint32_t esz = m->extent_size;
	uint64_t dsz = extent_disk_size(esz), fsize, first, last;
	int err;

	/* COLLAPSE_RANGE, INSERT_RANGE: extents are bound to their index. */
	if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE |
		     FALLOC_FL_ZERO_RANGE))
		return -EOPNOTSUPP;
	if (len == 0)
		return -EINVAL;
	if (mode & FALLOC_FL_PUNCH_HOLE)
		return fio_punch(m, ai, fd, off, len);
	/*
	 * Zero range: what lies inside the file is punched, so each extent
	 * is its old self or a recorded hole at any moment; then, as on
	 * ext4, the range is allocated and the file grows to its end
	 * (unless KEEP_SIZE), which is what plain fallocate does below.
	 */
	if (mode & FALLOC_FL_ZERO_RANGE) {
		err = fio_punch(m, ai, fd, off, len);
		if (err)
			return err;
	}
	err = fio_data_size(m, ai, fd, &fsize);
	if (err)
		return err;
	/* Reserve the backing space of every extent the range touches. */
	first = off / esz;
	last = span_last(esz, off + len);
	if (fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)(first * dsz),
		      (off_t)((last - first + 1) * dsz)))
		return -errno;
	if (!(mode & FALLOC_FL_KEEP_SIZE) && off + len > fsize)
		return fio_truncate(m, ai, fd, off + len);
	return 0;
}

int fio_fallocate(struct atr_mount *m, struct atr_inode *ai, int fd,
		  int mode, uint64_t off, uint64_t len)
{
	int err = key_gone(ai) ? -EIO :
				 fallocate_req(m, ai, fd, mode, off, len);

	/* A punch seals the version record before any extent. */
	fio_tls_forget(m);
	return err;
}
