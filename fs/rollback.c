// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/rollback.c - recognise a file put back to an older state in the
 * backing directory.  Owns the version protocol: a file's version record
 * (HDR_VER_XATTR, crypto/verrec.h) and the inode fields ver_* beside
 * hdr_ver; this machine's record of each file is filestate.c's.
 *
 * A file's record is dirty from its first change after it was loaded or
 * settled, and clean (its size and the tag of its last extent) once the
 * change settles (fio_settle(): last close, fsync, mode change, stop);
 * each change raises its counter by one, and the counter that settled is
 * added to this machine's record.  Every step is written before the one
 * that relies on it, so a daemon killed anywhere leaves a file that
 * opens: a dirty record is written before the data changes, a clean one
 * after, then the header's HDR_F_VER (so a record is never required
 * before it exists), then the state record (never ahead of the file).
 * On a format 2 volume a file made through the mount gets its first
 * record, dirty with counter 1, before its header, which has HDR_F_VER
 * from the start: its first version then costs no rewrap of the header.
 * What is and is not detected: docs/design.md, "Rollback of files".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../crypto/hdr.h"
#include "../crypto/secmem.h"
#include "../crypto/verrec.h"
#include "fs_private.h"
#include "span.h"

#define TRUST_HINT	"(if it was put back on purpose, 'atrestfs trust' " \
			"accepts the volume as it is now)"

/*
 * A read for the daemon's own bookkeeping must not touch the file's atime
 * (O_NOATIME, where the daemon may set it: on its own files, or as root).
 * ai->lock is write-held, so no read of the user's goes through @fd
 * meanwhile.
 */
static ssize_t pread_quiet(int fd, void *buf, size_t len, uint64_t off)
{
	int fl = fcntl(fd, F_GETFL);
	bool set = fl >= 0 && !(fl & O_NOATIME) &&
		   !fcntl(fd, F_SETFL, fl | O_NOATIME);
	ssize_t n = fio_pread_full(fd, buf, len, off);

	if (set)
		fcntl(fd, F_SETFL, fl);
	return n;
}

/* The tag of the last extent of a non-empty backing file. */
static int read_tag(int fd, uint64_t backing_size, uint8_t tag[AEAD_TAG_LEN])
{
	ssize_t n = pread_quiet(fd, tag, AEAD_TAG_LEN,
				backing_size - AEAD_TAG_LEN);

	if (n < 0)
		return (int)n;
	return n == AEAD_TAG_LEN ? 0 : -EBADMSG;
}

/* Plaintext size of @fd and the tag of its last extent (zeros if none). */
static int last_tag(struct atr_mount *m, int fd, uint64_t *size,
		    uint8_t tag[AEAD_TAG_LEN])
{
	struct stat st;
	int err;

	if (fstat(fd, &st))
		return -errno;
	err = extent_plain_size(m->extent_size, (uint64_t)st.st_size, size);
	if (err)
		return err;
	memset(tag, 0, AEAD_TAG_LEN);
	if (st.st_size == 0)
		return 0;
	return read_tag(fd, (uint64_t)st.st_size, tag);
}

/*
 * Sealed through the thread's AEAD context where it has one (a quarter
 * of the cost: no context to make, a nonce from its batch); the request
 * wipes it when it ends (fio_tls_forget()).
 */
static int put_record(const struct file_key *fk, int fd,
		      const struct verrec *v, int xflags)
{
	struct fio_tls *t = fio_tls_peek();
	uint8_t rec[VERREC_LEN];
	int err = verrec_seal_ctx(t ? t->ac : NULL, fk, v, rec);

	if (err)
		return err;
	return fsetxattr(fd, HDR_VER_XATTR, rec, sizeof(rec), xflags) ?
	       -errno : 0;
}

static int store(struct atr_inode *ai, int fd, const struct verrec *v)
{
	int err = put_record(ai->fk, fd, v, 0);

	if (!err) {
		ai->xattr_unsynced = true;  /* fdatasync need not sync xattrs */
		ai->ver_disk = v->flags & VERREC_F_DIRTY ? v->counter : 0;
	}
	return err;
}

/* The record on a file whose header says it has one; -EBADMSG logged. */
static int load_record(struct atr_inode *ai, int fd, struct verrec *v)
{
	uint8_t rec[VERREC_LEN + 1];
	ssize_t n = fgetxattr(fd, HDR_VER_XATTR, rec, sizeof(rec));
	int err = n < 0 ? -errno : 0;

	if (err == -ENODATA) {
		key_log(ai, "its header says it has a version record, and it "
			"has none (removed in the backing directory?)");
		return -EBADMSG;
	}
	if (err && err != -ERANGE) {
		key_log(ai, "cannot read its version record: %s",
			strerror(-err));
		return err;
	}
	if (n < 0 || verrec_open(ai->fk, rec, (size_t)n, v)) {
		key_log(ai, "its version record does not authenticate "
			"(tampered or corrupt)");
		return -EBADMSG;
	}
	return 0;
}

/* Does extent @idx, @dlen sealed bytes on disk, open (@last: as last)? */
static bool ext_opens(struct atr_mount *m, struct atr_inode *ai, int fd,
		      uint64_t idx, bool last, size_t dlen)
{
	/* secmem: the second half holds file data in the clear. */
	uint8_t *buf = secmem_alloc(2 * dlen);
	bool ok = false;

	if (buf && pread_quiet(fd, buf, dlen,
			       extent_disk_off(m->extent_size, idx)) ==
		   (ssize_t)dlen)
		ok = !extent_open(ai->fk, idx, last, buf, dlen, buf + dlen);
	if (buf)
		secmem_free(buf, 2 * dlen);
	return ok;
}

/*
 * Does the last extent of a file of @size plaintext bytes authenticate,
 * as last?  Then it is one this file once had.
 */
static bool end_authentic(struct atr_mount *m, struct atr_inode *ai, int fd,
			  uint64_t size)
{
	uint32_t esz = m->extent_size;
	uint64_t idx = span_last(esz, size);

	return ext_opens(m, ai, fd, idx, true,
			 (size_t)span_ext_len(esz, size, idx) + EXTENT_OVERHEAD);
}

/*
 * A clean record names the file's end.  An end that is not there but
 * authenticates is an older one put back: refused here.  One that does
 * not (a cut mid-extent, a flipped bit, a torn write) is left to the
 * data path, which refuses its last extent with the usual log line, and
 * still serves the extents before it.
 */
static int check_end(struct atr_mount *m, struct atr_inode *ai, int fd,
		     const struct verrec *v)
{
	uint8_t tag[AEAD_TAG_LEN];
	uint64_t size = 0;
	int err = last_tag(m, fd, &size, tag);

	if (err)
		return err == -EBADMSG ? 0 : err;	/* an impossible size */
	if (size == v->size && !memcmp(tag, v->tag, AEAD_TAG_LEN)) {
		memcpy(ai->ver_tag, tag, AEAD_TAG_LEN);
		ai->ver_tag_ok = true;
		return 0;
	}
	if (size && !end_authentic(m, ai, fd, size))
		return 0;
	if (size != v->size)
		key_log(ai, "it is %s than its version record says (version "
			"%llu: %llu bytes; the file: %llu): an older copy put "
			"back, or cut, in the backing directory?",
			size < v->size ? "shorter" : "longer",
			(unsigned long long)v->counter,
			(unsigned long long)v->size, (unsigned long long)size);
	else
		key_log(ai, "its last extent is an older one than its version "
			"record names (version %llu): put back in the backing "
			"directory?", (unsigned long long)v->counter);
	return -EBADMSG;
}

/*
 * After a crash (a dirty record): a write that extended the file seals
 * its new extents past the old end first, then re-seals the old last
 * extent in place as not last (design.md §8).  A daemon killed between
 * the two leaves that extent whole but sealed as last with extents after
 * it, and data that may have been fsync'd behind an error.  Such
 * extents, in the last request's reach of the end, are re-sealed as the
 * write would have.  One that opens neither way (torn, or tampered with)
 * is left to the data path, which refuses it.  ai->lock write-held.
 */
static void recover_end(struct atr_mount *m, struct atr_inode *ai, int fd)
{
	uint32_t esz = m->extent_size;
	uint64_t dsz = extent_disk_size(esz), size, last, i;
	/* secmem: @plain holds file data in the clear. */
	uint8_t *disk = secmem_alloc(2 * dsz), *plain;
	int wfd = -1;

	if (!disk || fio_size(m, fd, &size) || size <= esz)
		goto out;
	plain = disk + dsz;
	last = span_last(esz, size);
	i = last > FIO_SPAN / esz ? last - FIO_SPAN / esz : 0;
	for (; i < last; i++) {
		if (pread_quiet(fd, disk, dsz, i * dsz) != (ssize_t)dsz)
			break;
		if (extent_is_hole(disk, dsz) ||
		    !extent_open(ai->fk, i, false, disk, dsz, plain) ||
		    extent_open(ai->fk, i, true, disk, dsz, plain))
			continue;
		if (wfd < 0)
			wfd = attr_reopen(ai, O_WRONLY);
		if (wfd < 0 || extent_seal(ai->fk, i, false, plain, esz, disk) ||
		    pwrite(wfd, disk, dsz, (off_t)(i * dsz)) != (ssize_t)dsz)
			break;
		atr_log_inode(LOG_NOTICE, ai, "extent %llu re-sealed: a write "
			      "the daemon's stop cut short left it sealed as "
			      "the last", (unsigned long long)i);
	}
out:
	if (wfd >= 0)
		close(wfd);
	secmem_free(disk, 2 * dsz);
}

/*
 * Is a file of @bsize backing bytes whole at its end: its last extent
 * opens as last and extent @idx, if before it, as a full one?  Then the
 * write or truncate that kept a copy of @idx got through.
 */
static bool end_whole(struct atr_mount *m, struct atr_inode *ai, int fd,
		      uint64_t bsize, uint64_t idx)
{
	uint32_t esz = m->extent_size;
	uint64_t size;

	if (extent_plain_size(esz, bsize, &size))
		return false;
	if (size == 0)
		return true;
	if (!end_authentic(m, ai, fd, size))
		return false;
	return idx >= span_last(esz, size) ||
	       ext_opens(m, ai, fd, idx, false, extent_disk_size(esz));
}

/*
 * After a crash (a dirty record of @counter): a write or truncate that
 * was to rewrite an extent in place kept its sealed bytes and the backing
 * size first (endcopy.c).  A daemon killed after that may have left the
 * file grown by part of the write, that extent half rewritten (torn
 * between pages, fsync'd bytes included) or rewritten with the extents
 * past it missing.  Unless the file is whole at its end, the extent goes
 * back and the file is cut back to its size before: the state its last
 * fsync left, or a later one.  The entry goes once it was used or proved
 * of no use; a failure leaves it for the next load of the key to try
 * again (an open, or the next mount's lookup).  ai->lock write-held.
 */
static void recover_copy(struct atr_mount *m, struct atr_inode *ai, int fd,
			 uint64_t counter)
{
	uint32_t esz = m->extent_size;
	uint64_t dsz = extent_disk_size(esz), size;
	/* secmem: the second half holds file data in the clear. */
	uint8_t *buf = secmem_alloc(2 * dsz);
	struct verrec_end e;
	struct stat st;
	size_t len;
	int wfd = -1, err;

	if (!buf)
		return;
	err = endcopy_load(m, ai, &e, buf, &len);
	if (err == -EBADMSG)
		goto out_forget;	/* torn before the file changed */
	if (err)
		goto out;
	/*
	 * Of an earlier version (the file settled since), of a file since
	 * cut below it, or not needed: the file is as the write left it.
	 */
	if (e.counter != counter || fstat(fd, &st) ||
	    (uint64_t)st.st_size < e.backing_size ||
	    extent_plain_size(esz, e.backing_size, &size) ||
	    extent_open(ai->fk, e.index, e.index == span_last(esz, size), buf,
			len, buf + dsz) ||
	    end_whole(m, ai, fd, (uint64_t)st.st_size, e.index))
		goto out_forget;
	wfd = attr_reopen(ai, O_WRONLY);
	if (wfd < 0 || pwrite(wfd, buf, len, (off_t)(e.index * dsz)) !=
		       (ssize_t)len || ftruncate(wfd, (off_t)e.backing_size)) {
		atr_log_inode(LOG_ERR, ai, "its torn end cannot be put back "
			      "from the copy in the state directory (%s); the "
			      "copy is kept for its next open",
			      strerror(wfd < 0 ? -wfd : errno));
		goto out;
	}
	ai->size = size;
	ai->size_known = true;
	atr_log_inode(LOG_NOTICE, ai, "its end (extent %llu) put back from "
		      "the copy in the state directory, and the file cut back "
		      "to %llu bytes: a write the daemon's stop cut short had "
		      "torn it", (unsigned long long)e.index,
		      (unsigned long long)size);
out_forget:
	endcopy_forget(m, ai);
out:
	if (wfd >= 0)
		close(wfd);
	secmem_free(buf, 2 * dsz);
}

void rollback_reset(struct atr_inode *ai)
{
	ai->hdr_ver = false;
	ai->ver_cut = false;
	ai->ver = 0;
	ai->ver_changed = false;
	ai->ver_dirty = false;
	ai->ver_disk = 0;
	ai->ver_commit = 0;
	ai->ver_tag_ok = false;
}

/* The version record of @fd, refused if a change was cut short in it. */
static int load_uncut(struct atr_inode *ai, int fd, struct verrec *v)
{
	int err = load_record(ai, fd, v);

	if (!err && v->flags & VERREC_F_CUT) {
		key_log(ai, "it was changed in the backing directory while it "
			"was open (found at version %llu) " TRUST_HINT,
			(unsigned long long)v->counter);
		err = -EBADMSG;
	}
	return err;
}

/*
 * Shared mode: other hosts change the file, so neither its end nor this
 * machine's record says anything about a rollback; only a record marked
 * CUT (by a mount without -o shared) still refuses it.  The record is
 * made dirty before the first change, one counter on, and never settled
 * while shared: a later mount without -o shared takes the file as a
 * crash left it and settles it (design.md, "Shared mode").
 */
static int load_shared(struct atr_inode *ai, int fd, uint16_t flags)
{
	struct verrec v;
	int err;

	if (!(flags & HDR_F_VER))
		return 0;
	err = load_uncut(ai, fd, &v);
	if (err)
		return err;
	ai->hdr_ver = true;
	ai->ver = v.counter;
	/* Dirty already (by another host, or a crash): no record to write. */
	ai->ver_dirty = v.flags & VERREC_F_DIRTY;
	return 0;
}

int rollback_load(struct atr_mount *m, struct atr_inode *ai, int fd,
		  uint16_t flags)
{
	uint64_t seen;
	struct verrec v;
	int err;

	rollback_reset(ai);
	if (!m->hdr_always)
		return 0;	/* format 1: no header flags, so no records */
	if (m->opt_mnt.shared)
		return load_shared(ai, fd, flags);
	seen = fstate_get(m->fstate, ai->fk->file_id);
	if (!(flags & HDR_F_VER)) {
		if (!seen)
			return 0;
		key_log(ai, "it has no version record, but version %llu of it "
			"was recorded on this machine: rolled back in the "
			"backing directory? " TRUST_HINT,
			(unsigned long long)seen);
		return -EBADMSG;
	}
	err = load_uncut(ai, fd, &v);
	if (!err && !(v.flags & VERREC_F_DIRTY))
		err = check_end(m, ai, fd, &v);
	if (err)
		return err;
	if (verrec_older(&v, seen)) {
		if (v.counter < seen)
			key_log(ai, "it is version %llu, older than version "
				"%llu recorded on this machine: rolled back in "
				"the backing directory? " TRUST_HINT,
				(unsigned long long)v.counter,
				(unsigned long long)seen);
		else
			key_log(ai, "its version record is of a change "
				"(version %llu) that settled on this machine "
				"since: an older copy put back in the backing "
				"directory? " TRUST_HINT,
				(unsigned long long)v.counter);
		return -EBADMSG;
	}
	ai->hdr_ver = true;
	ai->ver = v.counter;
	/*
	 * Changed when the daemon stopped (or made and never settled):
	 * settled at the next close one version on, so that a copy of the
	 * file taken while it was dirty is older than the version recorded
	 * here then.
	 */
	ai->ver_changed = v.flags & VERREC_F_DIRTY;
	if (ai->ver_changed) {
		/* No new dirty record is written: copies go under this one. */
		ai->ver_disk = v.counter;
		ai->ver++;
		/*
		 * An old last extent left whole but sealed as last, with the
		 * write's extents whole after it, keeps the write; anything
		 * else that is not whole goes back to the copy.
		 */
		recover_end(m, ai, fd);
		recover_copy(m, ai, fd, v.counter);
	}
	return 0;
}

int rollback_create(const struct file_key *fk, int fd)
{
	struct verrec v = { .counter = 1, .flags = VERREC_F_DIRTY };

	/* XATTR_CREATE: a new file has no record; any is not ours. */
	return put_record(fk, fd, &v, XATTR_CREATE);
}

void rollback_created(struct atr_inode *ai)
{
	ai->hdr_ver = true;
	ai->ver = 1;
	ai->ver_dirty = true;
	ai->ver_disk = 1;
}

int rollback_change(struct atr_mount *m, struct atr_inode *ai, int fd)
{
	struct verrec v = { .counter = ai->ver + 1, .flags = VERREC_F_DIRTY };
	int err;

	(void)m;
	/*
	 * Without HDR_F_VER no record is required: none to mark dirty.  A
	 * file made through the mount has its dirty record already.
	 */
	if (ai->hdr_ver && !ai->ver_dirty) {
		err = store(ai, fd, &v);
		if (err)
			return err;
	}
	ai->ver = v.counter;
	ai->ver_changed = true;
	ai->ver_dirty = false;
	return 0;
}

int rollback_record(struct atr_mount *m, struct atr_inode *ai, int fd)
{
	struct verrec v = { .counter = ai->ver };
	int err;

	if (!ai->ver_changed || !m->hdr_always || ai->ver_cut) {
		ai->ver_changed = false;
		return 0;
	}
	/* Never settled while shared: ver_changed stays, no record is due. */
	if (m->opt_mnt.shared)
		return 0;
	if (ai->ver_tag_ok) {
		/* settle_fd() checked the disk against ai->size just before. */
		v.size = ai->size;
		err = ai->size_known ? 0 : fio_size(m, fd, &v.size);
		memcpy(v.tag, ai->ver_tag, AEAD_TAG_LEN);
	} else {
		err = last_tag(m, fd, &v.size, v.tag);
	}
	if (!err)
		err = store(ai, fd, &v);
	return err ? err : 1;
}

void rollback_cut(struct atr_mount *m, struct atr_inode *ai, int fd)
{
	struct verrec v = { .counter = ai->ver + 1, .flags = VERREC_F_CUT };

	/*
	 * Said on disk, or a dirty record left by the change in progress
	 * would pass the damage as a crash's after a remount.  The header
	 * then requires a record, and this machine recalls the version.
	 */
	if (!m->hdr_always || ai->ver_cut || store(ai, fd, &v))
		return;
	ai->ver_cut = true;
	ai->ver = v.counter;
	ai->ver_changed = false;
	ai->ver_dirty = false;
	if (!ai->hdr_ver && key_add_flags(m, ai, fd, HDR_F_VER) < 0)
		return;
	ai->hdr_ver = true;
	if (ai->fk && !ai->ver_gone)
		fstate_put(m->fstate, ai->fk->file_id, v.counter);
}

void rollback_settled(struct atr_inode *ai)
{
	ai->ver_changed = false;
	ai->ver_commit = ai->ver;
}

void rollback_commit(struct atr_mount *m, struct atr_inode *ai)
{
	if (ai->ver_commit && ai->fk && !ai->ver_gone && m->hdr_always)
		fstate_put(m->fstate, ai->fk->file_id, ai->ver_commit);
	ai->ver_commit = 0;
}

void rollback_new_id(struct atr_mount *m, struct atr_inode *ai,
		     const uint8_t old_id[FILE_ID_LEN])
{
	/*
	 * Emptied through the mount and written again: a copy from before,
	 * under the old ID, would otherwise pass as a file of its own.  Any
	 * copy is older than this, the empty file included.  An ID without
	 * a version was never recorded: nothing to refuse it by.
	 */
	if (ai->hdr_ver && !ai->ver_gone)
		fstate_put(m->fstate, old_id, ai->ver + 1);
	ai->hdr_ver = false;
	ai->ver = ai->ver_changed ? 1 : 0;
	ai->ver_commit = 0;
	ai->ver_dirty = false;	/* the record went with the old ID */
	ai->ver_disk = 0;
}

/*
 * Only a file recorded here needs its record dropped, and only one whose
 * ID its inode holds (opened during this mount) is dropped: reading the
 * header of every file removed cost rm -rf a quarter of its time.  The
 * records of other files stay, 40 bytes each, until atrestfs trust.
 */
void rollback_unlinking(struct atr_mount *m, const struct stat *st,
			struct rollback_unlink *ul)
{
	memset(ul, 0, sizeof(*ul));
	if (!m->fstate || !st || !S_ISREG(st->st_mode) || st->st_nlink != 1)
		return;
	ul->ai = itable_find(m, st);
	if (!ul->ai)
		return;
	pthread_mutex_lock(&m->fileids_lock);
	ul->known = ul->ai->id_held;
	if (ul->known)
		memcpy(ul->id, ul->ai->file_id, FILE_ID_LEN);
	pthread_mutex_unlock(&m->fileids_lock);
	ul->known = ul->known && fstate_get(m->fstate, ul->id);
}

void rollback_unlinked(struct atr_mount *m, struct rollback_unlink *ul,
		       int err)
{
	struct atr_inode *ai = ul->ai;

	if (!ai)
		return;
	/*
	 * The inode knows for sure it has no link left, whatever happened
	 * at the name meanwhile; from now on nothing is recorded of it.
	 */
	if (!err && ul->known) {
		pthread_rwlock_wrlock(&ai->lock);
		if (ino_fd_gone(ai)) {
			ai->ver_gone = true;
			fstate_put(m->fstate, ul->id, 0);
		}
		pthread_rwlock_unlock(&ai->lock);
	}
	itable_put(m, ai, 1);
}
