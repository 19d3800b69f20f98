// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/shared.c - -o shared: one volume mounted on several machines over a
 * cluster file system (docs/design.md, "Shared mode").  Each daemon
 * re-seals whole extents, so two hosts changing records of one extent at
 * once would each write back the other's old bytes.  Every data operation
 * therefore holds an OFD byte-range lock on the backing bytes it reads or
 * rewrites, taken through the cluster file system so that other hosts'
 * daemons feel it: a read lock for a read, a write lock for a write,
 * truncate or fallocate.  Whatever may move the file's last extent (a
 * write that reaches it or grows the file, a truncate, a punch) locks from
 * its first extent to infinity, so it also excludes every other change of
 * the end.
 *
 * Each request holds at most one lock, taken after ai->lock and given
 * back before ai->lock: a lock never waits on another host while holding
 * a lock another host waits for, so there is no deadlock between hosts;
 * and no wait is unbounded (ofd_lock()), as other processes may lock too.
 * The range depends on the file's size, read before the lock: once held,
 * the size is read again, and a range that no longer covers the request
 * is given back and taken anew.
 *
 * Without -o shared every function here returns at once: the default
 * path costs one branch per request.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "../crypto/hdr.h"
#include "fs_private.h"
#include "span.h"

/*
 * An OFD lock, or -ETIMEDOUT after SHARED_LOCK_WAIT_MS: anyone who can open
 * the backing file (a local user on any host) can hold a lock on it for
 * good, and an unbounded F_OFD_SETLKW would hang this request, every other
 * one on the file (ai->lock is held) and the unmount.  Hence tries with
 * F_OFD_SETLK, 1 ms apart at first, then up to 20 ms: other hosts' daemons
 * hold a lock for one request, milliseconds.  0 or -errno.
 */
static int ofd_lock(int fd, short type, uint64_t start, uint64_t len)
{
	struct flock fl = {
		.l_type = type,
		.l_whence = SEEK_SET,
		.l_start = (off_t)start,
		.l_len = (off_t)len,	/* 0: to infinity */
	};
	struct timespec step = { .tv_nsec = 1000 * 1000 };
	long waited_ms = 0;

	while (fcntl(fd, F_OFD_SETLK, &fl)) {
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EACCES)
			return -errno;
		if (waited_ms >= SHARED_LOCK_WAIT_MS)
			return -ETIMEDOUT;
		nanosleep(&step, NULL);
		waited_ms += step.tv_nsec / (1000 * 1000);
		if (step.tv_nsec < 20 * 1000 * 1000)
			step.tv_nsec *= 2;
	}
	return 0;
}

/*
 * The backing range that plaintext [@off, @off + @len) of a file of
 * @fsize bytes needs locked; @to_end: the operation moves the end.
 */
static void span_range(const struct atr_mount *m, uint64_t fsize,
		       uint64_t off, uint64_t len, bool to_end,
		       uint64_t *start, uint64_t *blen)
{
	uint32_t esz = m->extent_size;
	uint64_t dsz = extent_disk_size(esz);
	uint64_t first = off / esz, last = span_last(esz, off + (len ? len : 1));
	uint64_t oldlast = fsize ? span_last(esz, fsize) : 0;

	if (to_end || last >= oldlast) {
		*start = span_min(first, oldlast) * dsz;
		*blen = 0;
	} else {
		*start = first * dsz;
		*blen = (last - first + 1) * dsz;
	}
}

/*
 * The read locks of one open file description while reads through it are
 * in flight.  The kernel keeps one set of locks per open file description,
 * not per request: when two reads through one handle hold overlapping
 * ranges (the last extent's range runs to infinity) and the first gives
 * its range back, F_UNLCK also drops the part the second is still
 * reading, and another host could rewrite it under that read.  So each
 * read in flight is listed with the hull of what it locked, and a read
 * that ends gives back only the part of its hull that no other read in
 * flight through the fd covers: what they share stays locked until the
 * last of them ends, and nothing stays locked for a handle that always
 * has some read in flight (read-ahead), where another host's write would
 * wait for it and fail.  Readers hold ai->lock shared and every writer
 * holds it exclusive, so no write lock is taken on an fd with reads in
 * flight.  Entries live on m->shared_rd, under m->shared_rd_lock, from the
 * first read in flight to the last; that lock is never held across a wait.
 */
struct shared_rd {
	struct shared_rd *next;
	int fd;
	struct shared_lk *reads;	/* in flight through @fd, by rnext */
};

/* @lk, a read through @fd, in flight: 0, or -ENOMEM. */
static int rd_enter(struct atr_mount *m, int fd, struct shared_lk *lk)
{
	struct shared_rd *rd;

	pthread_mutex_lock(&m->shared_rd_lock);
	for (rd = m->shared_rd; rd && rd->fd != fd; rd = rd->next)
		;
	if (!rd && (rd = calloc(1, sizeof(*rd)))) {
		rd->fd = fd;
		rd->next = m->shared_rd;
		m->shared_rd = rd;
	}
	if (rd) {
		lk->rs = UINT64_MAX;
		lk->re = 0;
		lk->rnext = rd->reads;
		rd->reads = lk;
	}
	lk->rd = rd;
	pthread_mutex_unlock(&m->shared_rd_lock);
	return rd ? 0 : -ENOMEM;
}

/* Before [@s, @s + @l) (0: to infinity) is locked: @lk gives it back. */
static void rd_widen(struct atr_mount *m, struct shared_lk *lk, uint64_t s,
		     uint64_t l)
{
	uint64_t e = l ? s + l : UINT64_MAX;

	pthread_mutex_lock(&m->shared_rd_lock);
	if (s < lk->rs)
		lk->rs = s;
	if (e > lk->re)
		lk->re = e;
	pthread_mutex_unlock(&m->shared_rd_lock);
}

/* Read @lk has ended: the parts of its hull no other read covers go. */
static void rd_leave(struct atr_mount *m, struct shared_lk *lk)
{
	struct shared_rd *rd = lk->rd, **p;
	struct shared_lk **q, *o;
	uint64_t cur = lk->rs, next;
	bool moved;

	pthread_mutex_lock(&m->shared_rd_lock);
	for (q = &rd->reads; *q != lk; q = &(*q)->rnext)
		;
	*q = lk->rnext;
	while (cur < lk->re) {
		/* Past what another read still holds at @cur ... */
		do {
			moved = false;
			for (o = rd->reads; o; o = o->rnext)
				if (o->rs <= cur && cur < o->re) {
					cur = o->re;
					moved = true;
				}
		} while (moved && cur < lk->re);
		if (cur >= lk->re)
			break;
		/* ... up to where another's begins: none holds that. */
		next = lk->re;
		for (o = rd->reads; o; o = o->rnext)
			if (o->rs > cur && o->rs < next)
				next = o->rs;
		/* F_UNLCK never waits. */
		ofd_lock(rd->fd, F_UNLCK, cur,
			 next == UINT64_MAX ? 0 : next - cur);
		cur = next;
	}
	if (!rd->reads) {
		for (p = &m->shared_rd; *p != rd; p = &(*p)->next)
			;
		*p = rd->next;
	} else {
		rd = NULL;
	}
	pthread_mutex_unlock(&m->shared_rd_lock);
	free(rd);
	lk->rd = NULL;
}

/* Does the held range [@hs, @hs + @hl) cover [@s, @s + @l)?  0: infinity. */
static bool covers(uint64_t hs, uint64_t hl, uint64_t s, uint64_t l)
{
	if (s < hs)
		return false;
	if (hl == 0)
		return true;
	return l != 0 && s + l <= hs + hl;
}

static void whole(uint64_t *fsize, uint64_t *off, bool *to_end)
{
	*fsize = 0;
	*off = 0;
	*to_end = true;
}

int shared_lock(struct atr_mount *m, struct atr_inode *ai, int fd,
		short type, uint64_t off, uint64_t len, bool to_end,
		struct shared_lk *lk)
{
	uint64_t fsize, s, l, s2, l2;
	int err;

	lk->held = false;
	lk->rd = NULL;
	if (!m->opt_mnt.shared)
		return 0;
	if (type == F_RDLCK && rd_enter(m, fd, lk))
		return -ENOMEM;
	lk->m = m;
	for (;;) {
		/* An impossible size locks the whole file: the data path says. */
		if (fio_size(m, fd, &fsize))
			whole(&fsize, &off, &to_end);
		span_range(m, fsize, off, len, to_end, &s, &l);
		if (lk->rd)
			rd_widen(m, lk, s, l);
		err = ofd_lock(fd, type, s, l);
		if (err && lk->rd)
			rd_leave(m, lk);
		if (err == -ETIMEDOUT) {
			/* Each time: a lock held for good is worth the lines. */
			atr_log_inode(LOG_ERR, ai, "-o shared: a byte-range "
				      "lock on the backing file was not "
				      "granted in %d s; another process or "
				      "host holds it", SHARED_LOCK_WAIT_MS /
				      1000);
			return -EIO;
		}
		if (err) {
			if (!__atomic_exchange_n(&ai->shared_logged, true,
						 __ATOMIC_RELAXED))
				atr_log_inode(LOG_ERR, ai, "-o shared: the "
					      "backing file system refuses a "
					      "byte-range lock (%s); the file "
					      "cannot be used safely from "
					      "several hosts", strerror(-err));
			return err;
		}
		if (fio_size(m, fd, &fsize))
			whole(&fsize, &off, &to_end);
		span_range(m, fsize, off, len, to_end, &s2, &l2);
		if (covers(s, l, s2, l2))
			break;
		/* A read keeps what it added (other reads may share it). */
		if (!lk->rd)
			ofd_lock(fd, F_UNLCK, s, l);
	}
	lk->fd = fd;
	lk->start = s;
	lk->len = l;
	lk->held = true;
	return 0;
}

void shared_unlock(struct shared_lk *lk)
{
	if (lk->held && lk->rd)
		rd_leave(lk->m, lk);
	else if (lk->held)
		ofd_lock(lk->fd, F_UNLCK, lk->start, lk->len);
	lk->held = false;
	lk->rd = NULL;
}

int shared_header_wait(int fd, uint8_t *raw, size_t len)
{
	const struct timespec step = { .tv_nsec = 20 * 1000 * 1000 };
	ssize_t n;
	int i;

	for (i = 0; i < SHARED_HEADER_WAIT_MS / 20; i++) {
		n = fgetxattr(fd, HDR_XATTR, raw, len);
		if (n >= 0 || errno != ENODATA)
			return (int)n;
		nanosleep(&step, NULL);
	}
	errno = ENODATA;
	return -1;
}

int shared_size(const struct atr_mount *m, int fd, uint64_t *size)
{
	struct statx stx;

	/*
	 * FORCE_SYNC: a FUSE cluster client caches attributes for its
	 * attribute timeout, or for the rest of the clock tick with a
	 * timeout of 0; the size must be the one the lock protects.
	 */
	if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_FORCE_SYNC, STATX_SIZE,
		  &stx))
		return -errno;
	return extent_plain_size(m->extent_size, stx.stx_size, size);
}

bool shared_hole_again(struct atr_inode *ai, int fd, ssize_t *n)
{
	if (*n != -EAGAIN)
		return false;
	if (key_sparse_again(ai, fd))
		return true;
	if (!__atomic_exchange_n(&ai->shared_logged, true, __ATOMIC_RELAXED))
		atr_log_inode(LOG_ERR, ai, "an extent is zeroed in a file "
			      "without holes (tampered?)");
	*n = -EBADMSG;
	return false;
}
