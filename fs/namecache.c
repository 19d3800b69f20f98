// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/namecache.c - the names of a directory's entries, once decrypted,
 * kept by backing name while the kernel holds the directory: a listing
 * after the first costs a hash lookup per entry instead of an AES-SIV
 * open (about 17 us with OpenSSL 3, which sets up CMAC and CTR afresh
 * per call) and, for a long name, reading its record.
 *
 * Nothing here goes stale: a backing name's plaintext is a function of
 * the directory's ID, which never changes while the inode lives, and of
 * a long name's record, which its hash binds.  Names that do not decrypt
 * are not kept, so each listing logs them.  Bounded per directory; freed
 * with the inode (itable.c) and at lock (revoke.c), wiped as it goes.
 * Locking: the directory's ->lock, read-held to look up, write-held to
 * add (struct atr_inode).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "fs_private.h"

/* Entries per directory; past it, names are decrypted every time. */
#define NCACHE_MAX	(64 * 1024)

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

void ncache_put(struct atr_inode *dir, const char *bname, const char *plain)
{
	size_t bl = strlen(bname) + 1, pl = strlen(plain) + 1;
	struct ncache *c;
	char **s, *e;

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
out_unlock:
	pthread_rwlock_unlock(&dir->lock);
}

void ncache_free(struct atr_inode *dir)
{
	struct ncache *c = dir->names;
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->cap; i++)
		if (c->slot[i]) {
			OPENSSL_cleanse(c->slot[i], strlen(c->slot[i]) + 1 +
					strlen(c->slot[i] +
					       strlen(c->slot[i]) + 1));
			free(c->slot[i]);
		}
	free(c->slot);
	free(c);
	dir->names = NULL;
}
