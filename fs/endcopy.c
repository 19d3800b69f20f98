// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/endcopy.c - a copy of a file's end that a torn write cannot reach.
 * Owns the state directory's ENDCOPY_DIR, one entry per file being
 * written (named by its file ID in hex), and the inode fields end_*.
 *
 * Before a write or truncate rewrites the file's last extent in place,
 * the extent's sealed bytes as they are, and the backing size, go to the
 * file's entry (an end copy record, crypto/verrec.h, then the bytes), in
 * one pwritev that overwrites the last.  A daemon killed anywhere in the
 * write leaves either an entry that does not authenticate (the file was
 * not touched yet) or one that puts the file back as it was before the
 * write: rollback.c's recover_copy() does that when the key is next
 * loaded with the version record still dirty under the entry's counter,
 * which the next mount does at the file's first lookup (endcopy_lookup()),
 * before the kernel learns its size.  The entry needs no fsync for that:
 * kill -9 ends the process, not the page cache.  An entry is dropped with
 * the key that wrote it (the last close), since a file nobody writes has
 * no write to be torn.  Locking: the end_* fields are ai->lock's;
 * m->ends_lock is innermost.
 * Why and what holds after a power loss: docs/design.md §8.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../crypto/codec.h"
#include "../crypto/hdr.h"
#include "../crypto/verrec.h"
#include "fs_private.h"
#include "span.h"

#define ENDCOPY_DIR	"ends"
#define ENTRY_NEW	(O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC)

static void unlink_id(struct atr_mount *m, const uint8_t id[FILE_ID_LEN])
{
	char name[2 * FILE_ID_LEN + 1];

	hex_encode(id, FILE_ID_LEN, name);
	unlinkat(m->ends_fd, name, 0);
}

/* The IDs a crash left entries for; another name there is not ours. */
static int load_ids(struct atr_mount *m)
{
	int fd = dup(m->ends_fd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;
	void *grown;
	size_t cap = 0;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		if (strlen(de->d_name) != 2 * FILE_ID_LEN)
			continue;
		if (m->ends_n == cap) {
			cap = cap ? 2 * cap : 16;
			grown = realloc(m->ends_ids, cap * FILE_ID_LEN);
			if (!grown)
				break;
			m->ends_ids = grown;
		}
		if (!hex_decode(de->d_name, m->ends_ids[m->ends_n],
				FILE_ID_LEN))
			m->ends_n++;
	}
	closedir(d);
	return 0;
}

int endcopy_dir_open(struct atr_mount *m, int statefd)
{
	if (mkdirat(statefd, ENDCOPY_DIR, 0700) && errno != EEXIST)
		return -errno;
	m->ends_fd = openat(statefd, ENDCOPY_DIR,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (m->ends_fd < 0)
		return -errno;
	return load_ids(m);
}

void endcopy_free(struct atr_mount *m)
{
	if (m->ends_fd >= 0)
		close(m->ends_fd);
	free(m->ends_ids);
	pthread_mutex_destroy(&m->ends_lock);
}

/*
 * Was @id among the IDs left by a crash?  It is not any more, and its
 * lookup is busy (ends_busy) until done() says it is not.  Paired, with
 * the order of their stores, with the loads of endcopy_lookup(): one that
 * sees ends_n lowered sees ends_busy raised.
 */
static bool take(struct atr_mount *m, const uint8_t id[FILE_ID_LEN])
{
	bool found = false;
	size_t i;

	pthread_mutex_lock(&m->ends_lock);
	for (i = 0; i < m->ends_n && !found; i++) {
		if (memcmp(m->ends_ids[i], id, FILE_ID_LEN))
			continue;
		found = true;
		memcpy(m->ends_ids[i], m->ends_ids[m->ends_n - 1], FILE_ID_LEN);
		__atomic_add_fetch(&m->ends_busy, 1, __ATOMIC_SEQ_CST);
		__atomic_sub_fetch(&m->ends_n, 1, __ATOMIC_SEQ_CST);
	}
	pthread_mutex_unlock(&m->ends_lock);
	return found;
}

/* A lookup that took an ID has its file's size: the epoch moves first. */
static void done(struct atr_mount *m)
{
	__atomic_add_fetch(&m->ends_epoch, 1, __ATOMIC_SEQ_CST);
	__atomic_sub_fetch(&m->ends_busy, 1, __ATOMIC_SEQ_CST);
}

uint64_t endcopy_epoch(struct atr_mount *m)
{
	return __atomic_load_n(&m->ends_epoch, __ATOMIC_SEQ_CST);
}

/*
 * Could a recovery have changed the file's size since the lookup's stat
 * (taken after @epoch was read)?  Not if no ID is left or being
 * recovered, and none finished since.
 */
static bool maybe_moved(struct atr_mount *m, uint64_t epoch)
{
	return __atomic_load_n(&m->ends_n, __ATOMIC_SEQ_CST) ||
	       __atomic_load_n(&m->ends_busy, __ATOMIC_SEQ_CST) ||
	       __atomic_load_n(&m->ends_epoch, __ATOMIC_SEQ_CST) != epoch;
}

/*
 * Load the key of @ai, whose entry @id was taken, which puts its end
 * back.  A key loaded already was loaded, and recovered, at an open.  A
 * dirty record: recover_copy() dropped the entry, or kept it for a later
 * try.  A clean one: the entry is of no use, and left it would cost every
 * later mount a header read per lookup.  A key that does not load
 * (refused, or a transient error) keeps it for the next open or mount.
 * ai->lock write-held.
 */
static void recover(struct atr_mount *m, struct atr_inode *ai, int fd,
		    const uint8_t id[FILE_ID_LEN])
{
	bool loaded = ai->fk != NULL;

	if (key_ref(m, ai, fd))
		return;
	if (!loaded && !ai->ver_changed)
		unlink_id(m, id);
	key_unref(m, ai);
}

void endcopy_lookup(struct atr_mount *m, struct atr_inode *ai,
		    struct stat *st, uint64_t epoch)
{
	uint8_t raw[HDR_SIZE + 1];
	bool taken = false;
	struct hdr h;
	ssize_t n;
	int fd;

	/* No crash left an entry, or all were dealt with before: no cost. */
	if (!S_ISREG(st->st_mode) || !maybe_moved(m, epoch))
		return;
	fd = attr_reopen(ai, O_RDONLY);
	if (fd < 0)
		return;
	/*
	 * Under the lock a lookup of the same file by another name (or
	 * readdirplus) recovering it holds, so that this one's size is
	 * never the torn one, whichever reply reaches the kernel first.
	 */
	pthread_rwlock_wrlock(&ai->lock);
	if (__atomic_load_n(&m->ends_n, __ATOMIC_SEQ_CST)) {
		n = fgetxattr(fd, HDR_XATTR, raw, sizeof(raw));
		taken = n > 0 && !hdr_parse(raw, (size_t)n, &h) &&
			take(m, h.file_id);
		if (taken)
			recover(m, ai, fd, h.file_id);
	}
	fstat(fd, st);
	if (taken)
		done(m);
	pthread_rwlock_unlock(&ai->lock);
	close(fd);
}

void endcopy_drop(struct atr_mount *m, struct atr_inode *ai)
{
	if (!ai->end_open)
		return;
	close(ai->end_fd);
	ai->end_open = false;
	unlink_id(m, ai->end_id);
}

void endcopy_forget(struct atr_mount *m, struct atr_inode *ai)
{
	if (m->ends_fd >= 0 && ai->fk)
		unlink_id(m, ai->fk->file_id);
}

/* The entry of the file's current ID, opened (made) once per key. */
static int entry_fd(struct atr_mount *m, struct atr_inode *ai)
{
	char name[2 * FILE_ID_LEN + 1];
	int fd;

	if (ai->end_open && !memcmp(ai->end_id, ai->fk->file_id, FILE_ID_LEN))
		return ai->end_fd;
	endcopy_drop(m, ai);	/* named by an ID the file has left */
	hex_encode(ai->fk->file_id, FILE_ID_LEN, name);
	/*
	 * Made afresh: whatever has the name (a copy a load left, or a
	 * hard link to another file put there) is unlinked, never written
	 * through.
	 */
	fd = openat(m->ends_fd, name, ENTRY_NEW, 0600);
	if (fd < 0 && errno == EEXIST && !unlinkat(m->ends_fd, name, 0))
		fd = openat(m->ends_fd, name, ENTRY_NEW, 0600);
	if (fd < 0)
		return -errno;
	ai->end_fd = fd;
	ai->end_open = true;
	memcpy(ai->end_id, ai->fk->file_id, FILE_ID_LEN);
	return fd;
}

static int save(struct atr_mount *m, struct fio_tls *t, struct atr_inode *ai,
		int fd, uint64_t dend, uint64_t idx)
{
	uint64_t dsz = extent_disk_size(m->extent_size), off = idx * dsz;
	size_t len = (size_t)min_u64(dsz, dend - off);
	struct verrec_end e = { .counter = ai->ver_disk, .backing_size = dend,
				.index = idx };
	uint8_t rec[VERREC_END_LEN];
	struct iovec iov[2] = { { rec, sizeof(rec) }, { t->plain, len } };
	ssize_t n = fio_pread_full(fd, t->plain, len, off);
	int efd, err;

	if (n < 0)
		return (int)n;
	if ((size_t)n != len || len <= AEAD_TAG_LEN)
		return -EIO;
	memcpy(e.tag, t->plain + len - AEAD_TAG_LEN, AEAD_TAG_LEN);
	err = verrec_end_seal(t->ac, ai->fk, &e, rec);
	if (err)
		return err;
	efd = entry_fd(m, ai);
	if (efd < 0)
		return efd;
	n = pwritev(efd, iov, 2, 0);
	if (n < 0)
		return -errno;
	return (size_t)n == sizeof(rec) + len ? 0 : -EIO;
}

void endcopy_save(struct atr_mount *m, struct fio_tls *t, struct atr_inode *ai,
		  int fd, uint64_t dend, uint64_t idx)
{
	int err;

	/* Without a dirty record, no open would look for the copy. */
	if (m->ends_fd < 0 || !ai->ver_disk ||
	    idx * extent_disk_size(m->extent_size) >= dend)
		return;
	err = save(m, t, ai, fd, dend, idx);
	if (err && !ai->end_logged) {
		ai->end_logged = true;
		atr_log_inode(LOG_WARNING, ai, "no copy of its end could be "
			      "kept in the state directory (%s): a daemon "
			      "killed during a write may leave its last extent "
			      "torn", strerror(-err));
	}
}

/*
 * Not a regular file: not one this daemon made (the state directory is
 * written by others?).  Ignored like an entry that does not open.
 */
static int bad_entry(struct atr_inode *ai, const char *name)
{
	if (!ai->end_logged) {
		ai->end_logged = true;
		atr_log_inode(LOG_WARNING, ai, "its end copy %s/%s in the "
			      "state directory is not a regular file: ignored",
			      ENDCOPY_DIR, name);
	}
	return -EBADMSG;
}

int endcopy_load(struct atr_mount *m, struct atr_inode *ai,
		 struct verrec_end *e, uint8_t *copy, size_t *len)
{
	uint64_t dsz = extent_disk_size(m->extent_size), off;
	char name[2 * FILE_ID_LEN + 1];
	uint8_t rec[VERREC_END_LEN];
	struct stat st;
	ssize_t n;
	int fd, err = -EBADMSG;

	if (m->ends_fd < 0)
		return -ENOENT;
	hex_encode(ai->fk->file_id, FILE_ID_LEN, name);
	/* O_NONBLOCK: a FIFO put there must not hold the lookup for good. */
	fd = openat(m->ends_fd, name,
		    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? bad_entry(ai, name) : -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return bad_entry(ai, name);
	}
	/* A torn entry: the daemon died writing it, before the file changed. */
	n = fio_pread_full(fd, rec, sizeof(rec), 0);
	if (n != (ssize_t)sizeof(rec) || verrec_end_open(ai->fk, rec, e))
		goto out_close;
	off = e->index * dsz;
	if (off >= e->backing_size)
		goto out_close;
	*len = (size_t)min_u64(dsz, e->backing_size - off);
	n = fio_pread_full(fd, copy, *len, sizeof(rec));
	if (n == (ssize_t)*len && *len > AEAD_TAG_LEN &&
	    !memcmp(copy + *len - AEAD_TAG_LEN, e->tag, AEAD_TAG_LEN))
		err = 0;
out_close:
	close(fd);
	return err;
}
