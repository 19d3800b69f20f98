// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/itable.c - the inode table: one struct atr_inode per backing (dev, ino),
 * counted by kernel lookups, as in passthrough_hp.  forget, forget_multi and
 * readdirplus overflow all release through itable_put().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fs_private.h"

static size_t bucket(const struct atr_mount *m, dev_t dev, ino_t ino)
{
	uint64_t h = (uint64_t)ino * 0x9E3779B97F4A7C15ULL ^ (uint64_t)dev;

	return (size_t)(h >> 17) & (m->nbuckets - 1);
}

struct atr_inode *itable_ino(struct atr_mount *m, fuse_ino_t ino)
{
	if (ino == FUSE_ROOT_ID)
		return &m->root;
	return (struct atr_inode *)(uintptr_t)ino;
}

/* Called with itable_lock held; a failed resize only makes chains longer. */
static void grow(struct atr_mount *m)
{
	size_t n = m->nbuckets ? m->nbuckets * 2 : 1024, i, b;
	struct atr_inode **nb = calloc(n, sizeof(*nb)), *ai, *next;
	size_t old = m->nbuckets;

	if (!nb)
		return;
	m->nbuckets = n;
	for (i = 0; i < old; i++) {
		for (ai = m->buckets[i]; ai; ai = next) {
			next = ai->hnext;
			b = bucket(m, ai->dev, ai->ino);
			ai->hnext = nb[b];
			nb[b] = ai;
		}
	}
	free(m->buckets);
	m->buckets = nb;
}

struct atr_inode *itable_get(struct atr_mount *m, int fd, const struct stat *st,
			     struct atr_inode *dir, const char *name)
{
	struct atr_inode *ai, *fresh;
	size_t b;

	/* Allocate outside the lock; most lookups hit an existing entry. */
	fresh = calloc(1, sizeof(*fresh));
	if (!fresh) {
		close(fd);
		return NULL;
	}
	pthread_mutex_lock(&m->itable_lock);
	if (st->st_dev == m->root.dev && st->st_ino == m->root.ino) {
		ai = &m->root;
		goto found;
	}
	if (m->nbuckets) {
		b = bucket(m, st->st_dev, st->st_ino);
		for (ai = m->buckets[b]; ai; ai = ai->hnext)
			if (ai->ino == st->st_ino && ai->dev == st->st_dev)
				goto found;
	}
	if (m->count >= m->nbuckets)
		grow(m);
	if (!m->nbuckets) {
		pthread_mutex_unlock(&m->itable_lock);
		free(fresh);
		close(fd);
		return NULL;
	}
	ai = fresh;
	fresh = NULL;
	ai->ino = st->st_ino;
	ai->dev = st->st_dev;
	ai->type = st->st_mode & S_IFMT;
	ino_fd_adopt(m, ai, fd, dir, name);
	fd = -1;
	pthread_rwlock_init(&ai->lock, NULL);
	b = bucket(m, ai->dev, ai->ino);
	ai->hnext = m->buckets[b];
	m->buckets[b] = ai;
	m->count++;
found:
	ai->nlookup++;
	pthread_mutex_unlock(&m->itable_lock);
	free(fresh);
	if (fd >= 0)
		ino_fd_offer(ai, fd, dir, name);
	return ai;
}

int itable_pin(struct atr_mount *m, int fd, const struct stat *st,
	       struct atr_inode **out)
{
	char proc[64];
	int pfd;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	pfd = open(proc, O_PATH | O_CLOEXEC);
	if (pfd < 0)
		return -errno;
	*out = itable_get(m, pfd, st, NULL, NULL);	/* takes pfd */
	return *out ? 0 : -ENOMEM;
}

void itable_hold(struct atr_mount *m, struct atr_inode *ai)
{
	pthread_mutex_lock(&m->itable_lock);
	ai->nlookup++;
	pthread_mutex_unlock(&m->itable_lock);
}

struct atr_inode *itable_find(struct atr_mount *m, const struct stat *st)
{
	struct atr_inode *ai = NULL;

	pthread_mutex_lock(&m->itable_lock);
	if (m->nbuckets)
		for (ai = m->buckets[bucket(m, st->st_dev, st->st_ino)]; ai;
		     ai = ai->hnext)
			if (ai->ino == st->st_ino && ai->dev == st->st_dev)
				break;
	if (ai)
		ai->nlookup++;
	pthread_mutex_unlock(&m->itable_lock);
	return ai;
}

static void unhash(struct atr_mount *m, struct atr_inode *ai)
{
	struct atr_inode **p = &m->buckets[bucket(m, ai->dev, ai->ino)];

	while (*p != ai)
		p = &(*p)->hnext;
	*p = ai->hnext;
	m->count--;
}

void itable_move(struct atr_mount *m, struct atr_inode *ai,
		 const struct stat *st)
{
	size_t b;

	pthread_mutex_lock(&m->itable_lock);
	unhash(m, ai);
	ai->dev = st->st_dev;
	ai->ino = st->st_ino;
	b = bucket(m, ai->dev, ai->ino);
	ai->hnext = m->buckets[b];
	m->buckets[b] = ai;
	m->count++;
	pthread_mutex_unlock(&m->itable_lock);
}

/* @parents: give back the lookup of the directory its name is in. */
static void inode_free(struct atr_mount *m, struct atr_inode *ai,
		       bool parents)
{
	struct atr_inode *dir;

	fileid_release(m, ai);
	endcopy_drop(m, ai);
	/* Every open was released before the kernel forgot the inode. */
	if (ai->fk)
		file_key_free(ai->fk);
	pthread_rwlock_destroy(&ai->lock);
	dir = ino_fd_release(ai);
	gaps_free(&ai->gaps);
	ncache_free(m, ai);
	free(ai->key_uids);
	free(ai->hfds);
	free(ai->link_at);
	free(ai);
	/* The last child gone, the kernel may have forgotten it already. */
	if (dir && parents)
		itable_put(m, dir, 1);
}

void itable_put(struct atr_mount *m, struct atr_inode *ai, uint64_t n)
{
	pthread_mutex_lock(&m->itable_lock);
	if (ai == &m->root) {
		pthread_mutex_unlock(&m->itable_lock);
		return;
	}
	ai->nlookup = n > ai->nlookup ? 0 : ai->nlookup - n;
	if (ai->nlookup) {
		pthread_mutex_unlock(&m->itable_lock);
		return;
	}
	unhash(m, ai);
	pthread_mutex_unlock(&m->itable_lock);
	inode_free(m, ai, true);
}

/*
 * A file still open when the session ends (SIGTERM, or a RELEASE the
 * kernel dropped at unmount) may have holes listed but not recorded
 * (holes.c): record them now, while its key is loaded, or they read as
 * errors after a remount.  No thread serves requests any more.
 */
void itable_settle(struct atr_mount *m)
{
	struct atr_inode *ai;
	size_t i;

	for (i = 0; i < m->nbuckets; i++)
		for (ai = m->buckets[i]; ai; ai = ai->hnext)
			fio_settle_late(m, ai, -1);
}

void itable_each(struct atr_mount *m,
		 void (*fn)(struct atr_mount *, struct atr_inode *, void *),
		 void *arg)
{
	struct atr_inode *ai;
	size_t i;

	pthread_mutex_lock(&m->itable_lock);
	for (i = 0; i < m->nbuckets; i++)
		for (ai = m->buckets[i]; ai; ai = ai->hnext)
			fn(m, ai, arg);
	pthread_mutex_unlock(&m->itable_lock);
}

void itable_clear(struct atr_mount *m)
{
	struct atr_inode *ai, *next;
	size_t i;

	for (i = 0; i < m->nbuckets; i++)
		for (ai = m->buckets[i]; ai; ai = next) {
			next = ai->hnext;
			inode_free(m, ai, false);	/* all go */
		}
	fileid_clear(m);
	free(m->buckets);
	m->buckets = NULL;
	m->nbuckets = m->count = 0;
}
