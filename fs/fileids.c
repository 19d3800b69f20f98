// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/fileids.c - which inode of this mount holds which file ID.
 *
 * A file ID is random and names one file for its key's lifetime; two
 * inodes with one ID mean a header was copied between files in the backing
 * directory, which would let extents move between them undetected.  The
 * set holds the ID of every inode in the table whose header has been
 * authenticated (or made) by this mount; an inode keeps its entry until it
 * leaves the table or takes another ID.  Hard links share the inode, so
 * they share the entry.
 *
 * Locking: mnt->fileids_lock, innermost (taken under ai->lock; nothing is
 * taken under it).  It also keeps an inode named in a log line from being
 * freed while the line is made: itable.c releases before closing the fd.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs_private.h"

static size_t id_bucket(size_t nbuckets, const uint8_t id[FILE_ID_LEN])
{
	uint64_t h;

	/* File IDs are random: any 8 of their bytes are a good hash. */
	memcpy(&h, id, sizeof(h));
	return (size_t)h & (nbuckets - 1);
}

/* With fileids_lock held; a failed resize only makes chains longer. */
static void id_grow(struct atr_mount *m)
{
	size_t n = m->id_nbuckets ? m->id_nbuckets * 2 : 1024, i, b;
	struct atr_inode **nb = calloc(n, sizeof(*nb)), *ai, *next;

	if (!nb)
		return;
	for (i = 0; i < m->id_nbuckets; i++)
		for (ai = m->id_buckets[i]; ai; ai = next) {
			next = ai->id_next;
			b = id_bucket(n, ai->file_id);
			ai->id_next = nb[b];
			nb[b] = ai;
		}
	free(m->id_buckets);
	m->id_buckets = nb;
	m->id_nbuckets = n;
}

static void id_unlink(struct atr_mount *m, struct atr_inode *ai)
{
	struct atr_inode **p;

	if (!ai->id_held)
		return;
	p = &m->id_buckets[id_bucket(m->id_nbuckets, ai->file_id)];
	while (*p != ai)
		p = &(*p)->id_next;
	*p = ai->id_next;
	ai->id_held = false;
	m->id_count--;
}

int fileid_claim(struct atr_mount *m, struct atr_inode *ai,
		 const uint8_t id[FILE_ID_LEN])
{
	char other_path[512];
	struct atr_inode *other = NULL;
	size_t b;

	pthread_mutex_lock(&m->fileids_lock);
	if (ai->id_held && !memcmp(ai->file_id, id, FILE_ID_LEN))
		goto out_unlock;
	if (m->id_nbuckets) {
		b = id_bucket(m->id_nbuckets, id);
		for (other = m->id_buckets[b]; other; other = other->id_next)
			if (other != ai &&
			    !memcmp(other->file_id, id, FILE_ID_LEN))
				break;
	}
	/*
	 * A holder no longer linked anywhere was replaced, as rsync and sync
	 * clients replace a file (a copy renamed over it): the ID moves.
	 */
	if (other && ino_fd_gone(other)) {
		id_unlink(m, other);
		other = NULL;
	}
	if (other) {
		/* Under the lock: @other cannot be freed meanwhile. */
		atr_inode_path(other, other_path, sizeof(other_path));
		pthread_mutex_unlock(&m->fileids_lock);
		key_log(ai, "its file ID is also the file ID of %s (a header "
			"copied between files in the backing directory); "
			"refusing it", other_path);
		return -EBADMSG;
	}
	id_unlink(m, ai);
	if (m->id_count >= m->id_nbuckets)
		id_grow(m);
	if (m->id_nbuckets) {
		memcpy(ai->file_id, id, FILE_ID_LEN);
		b = id_bucket(m->id_nbuckets, id);
		ai->id_next = m->id_buckets[b];
		m->id_buckets[b] = ai;
		ai->id_held = true;
		m->id_count++;
	}
	/* Out of memory the ID is not held: at worst a copy goes unseen. */
out_unlock:
	pthread_mutex_unlock(&m->fileids_lock);
	return 0;
}

void fileid_release(struct atr_mount *m, struct atr_inode *ai)
{
	pthread_mutex_lock(&m->fileids_lock);
	id_unlink(m, ai);
	pthread_mutex_unlock(&m->fileids_lock);
}

void fileid_clear(struct atr_mount *m)
{
	free(m->id_buckets);
	m->id_buckets = NULL;
	m->id_nbuckets = m->id_count = 0;
}
