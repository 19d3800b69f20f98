// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/namecache.c - the names of a directory's entries, once decrypted,
 * kept by backing name while the kernel holds the directory: a listing
 * after the first costs a hash lookup per entry instead of an AES-SIV
 * open (its base64url decoding and two AES calls; 0.3 to 0.5 us in a
 * loop, 0.8 to 1.3 us on a listing's cold caches) and, for a long name,
 * reading its record.
 *
 * Nothing here goes stale: a backing name's plaintext is a function of
 * the directory's ID, which never changes while the inode lives, and of
 * a long name's record, which its hash binds.  Names that do not decrypt
 * are not kept, so each listing logs them.  Bounded per directory and
 * in bytes per mount (a tree of large directories listed once must not
 * grow the daemon without end); an entry goes when its name is unlinked
 * or renamed away through the mount, the rest with the inode (itable.c)
 * and at lock (revoke.c), wiped as they go.
 * Locking: the directory's ->lock, read-held to look up, write-held to
 * add (struct atr_inode).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "fs_private.h"

/* Entries per directory; past it, names are decrypted every time. */
#define NCACHE_MAX	(64 * 1024)
/* Bytes of entries per mount; past it, the same. */
#define NCACHE_BYTES_MAX	((size_t)64 << 20)

struct ncache {
	size_t n, cap;		/* cap: a power of two, n <= cap / 2 */
	char **slot;		/* "bname\0plain\0", malloc()ed, or NULL */
};

/* FNV-1a: the names are the backing directory's, not chosen per call. */
static size_t hash(const char *s)
{
	size_t h = 14695981039346656037ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static char **find(const struct ncache *c, const char *bname)
{
	size_t i = hash(bname) & (c->cap - 1);

	while (c->slot[i] && strcmp(c->slot[i], bname))
		i = (i + 1) & (c->cap - 1);
	return &c->slot[i];
}

bool ncache_get(struct atr_inode *dir, const char *bname,
		char out[NAMES_PLAIN_MAX + 1])
{
	char **s;
	bool hit = false;

	pthread_rwlock_rdlock(&dir->lock);
	if (dir->names) {
		s = find(dir->names, bname);
		if (*s) {
			strcpy(out, *s + strlen(*s) + 1);
			hit = true;
		}
	}
	pthread_rwlock_unlock(&dir->lock);
	return hit;
}

/* Twice the slots, every entry moved; false without memory. */
static bool grow(struct ncache *c)
{
	struct ncache big = { .n = c->n, .cap = c->cap ? 2 * c->cap : 64 };
	size_t i;

	big.slot = calloc(big.cap, sizeof(*big.slot));
	if (!big.slot)
		return false;
	for (i = 0; i < c->cap; i++)
		if (c->slot[i])
			*find(&big, c->slot[i]) = c->slot[i];
	free(c->slot);
	*c = big;
	return true;
}

void ncache_put(struct atr_mount *m, struct atr_inode *dir, const char *bname,
		const char *plain)
{
	size_t bl = strlen(bname) + 1, pl = strlen(plain) + 1;
	struct ncache *c;
	char **s, *e;

	/* Racy by a few entries at most: a bound, not an exact count. */
	if (__atomic_load_n(&m->ncache_bytes, __ATOMIC_RELAXED) + bl + pl >
	    NCACHE_BYTES_MAX)
		return;
	pthread_rwlock_wrlock(&dir->lock);
	if (!dir->names)
		dir->names = calloc(1, sizeof(*dir->names));
	c = dir->names;
	if (!c || c->n >= NCACHE_MAX ||
	    ((c->n + 1) * 2 > c->cap && !grow(c)))
		goto out_unlock;
	s = find(c, bname);
	if (*s)
		goto out_unlock;	/* another listing was first */
	e = malloc(bl + pl);
	if (!e)
		goto out_unlock;
	memcpy(e, bname, bl);
	memcpy(e + bl, plain, pl);
	*s = e;
	c->n++;
	__atomic_add_fetch(&m->ncache_bytes, bl + pl, __ATOMIC_RELAXED);
out_unlock:
	pthread_rwlock_unlock(&dir->lock);
}

/* Wipe and free entry @e; its size. */
static size_t entry_free(char *e)
{
	size_t bl = strlen(e) + 1, len = bl + strlen(e + bl) + 1;

	OPENSSL_cleanse(e, len);
	free(e);
	return len;
}

void ncache_drop(struct atr_mount *m, struct atr_inode *dir,
		 const char *bname)
{
	struct ncache *c;
	size_t i, j, k, mask;
	char **s;

	pthread_rwlock_wrlock(&dir->lock);
	c = dir->names;
	if (!c || !c->n)
		goto out_unlock;
	s = find(c, bname);
	if (!*s)
		goto out_unlock;
	__atomic_sub_fetch(&m->ncache_bytes, entry_free(*s), __ATOMIC_RELAXED);
	*s = NULL;
	c->n--;
	/*
	 * Linear probing: move back each entry of the run after the hole
	 * whose home slot is not between the hole and it, so find() still
	 * reaches it (Knuth 6.4, algorithm R).
	 */
	mask = c->cap - 1;
	i = (size_t)(s - c->slot);
	for (j = (i + 1) & mask; c->slot[j]; j = (j + 1) & mask) {
		k = hash(c->slot[j]) & mask;
		if (i <= j ? i < k && k <= j : i < k || k <= j)
			continue;
		c->slot[i] = c->slot[j];
		c->slot[j] = NULL;
		i = j;
	}
out_unlock:
	pthread_rwlock_unlock(&dir->lock);
}

void ncache_free(struct atr_mount *m, struct atr_inode *dir)
{
	struct ncache *c = dir->names;
	size_t i, bytes = 0;

	if (!c)
		return;
	for (i = 0; i < c->cap; i++)
		if (c->slot[i])
			bytes += entry_free(c->slot[i]);
	__atomic_sub_fetch(&m->ncache_bytes, bytes, __ATOMIC_RELAXED);
	free(c->slot);
	free(c);
	dir->names = NULL;
}
