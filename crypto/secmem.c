// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * crypto/secmem.c - locked, non-dumpable allocations for key material.
 *
 * Keys are small (32 bytes) and numerous (one DEK per open file), so a page
 * per key would exhaust RLIMIT_MEMLOCK (8 MiB for an ordinary user) after
 * two thousand open files.  Small requests are therefore carved from 64 KiB
 * arenas of 64-byte slots; larger ones get pages of their own.
 *
 * Locking: secmem_lock protects the arena list and every slot bitmap.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "secmem.h"

#define SLOT_SIZE	64
#define ARENA_SIZE	(64 * 1024)
#define ARENA_SLOTS	(ARENA_SIZE / SLOT_SIZE)

struct arena {
	struct arena *next;
	uint8_t *base;				/* ARENA_SIZE bytes, locked */
	unsigned int used;
	uint64_t map[ARENA_SLOTS / 64];		/* bit set = slot in use */
};

/* A dedicated mapping for a request larger than a slot. */
struct big {
	struct big *next;
	void *p;
	size_t len;
};

static pthread_mutex_t secmem_lock = PTHREAD_MUTEX_INITIALIZER;
static struct arena *arenas;
static struct big *bigs;
static size_t live;

/*
 * mlock() may fail for an unprivileged user over RLIMIT_MEMLOCK; the key is
 * still usable, so we carry on: refusing to mount would push users towards
 * weaker tools.  MADV_DONTDUMP still keeps it out of core files.
 */
static void *pages_get(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	(void)mlock(p, len);
	(void)madvise(p, len, MADV_DONTDUMP);
	return p;
}

static void pages_put(void *p, size_t len)
{
	OPENSSL_cleanse(p, len);
	(void)munlock(p, len);
	munmap(p, len);
}

static size_t page_round(size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	return (len + pg - 1) / pg * pg;
}

static void *slot_get(void)
{
	struct arena *a;
	unsigned int w, b;

	for (a = arenas; a; a = a->next)
		if (a->used < ARENA_SLOTS)
			break;
	if (!a) {
		a = calloc(1, sizeof(*a));
		if (!a)
			return NULL;
		a->base = pages_get(ARENA_SIZE);
		if (!a->base) {
			free(a);
			return NULL;
		}
		a->next = arenas;
		arenas = a;
	}
	for (w = 0; w < ARENA_SLOTS / 64; w++) {
		if (a->map[w] == UINT64_MAX)
			continue;
		b = (unsigned int)__builtin_ctzll(~a->map[w]);
		a->map[w] |= 1ULL << b;
		a->used++;
		return a->base + (w * 64 + b) * SLOT_SIZE;
	}
	return NULL;	/* unreachable: used < ARENA_SLOTS */
}

/* Is there an empty arena other than @self? */
static bool other_empty(const struct arena *self)
{
	const struct arena *a;

	for (a = arenas; a; a = a->next)
		if (a != self && a->used == 0)
			return true;
	return false;
}

/*
 * Returns false if @p is not from an arena.  An arena that empties is kept
 * while it is the only empty one: a daemon whose files open and close one
 * at a time would otherwise map, lock and unmap 64 KiB per file, and every
 * munmap() of a threaded process interrupts every core to flush its TLB
 * (14% of the daemon in an untar).  Its slots are already wiped.
 */
static bool slot_put(void *p)
{
	struct arena **pa, *a;
	size_t idx;

	for (pa = &arenas; (a = *pa); pa = &a->next) {
		if ((uint8_t *)p < a->base || (uint8_t *)p >= a->base + ARENA_SIZE)
			continue;
		idx = (size_t)((uint8_t *)p - a->base) / SLOT_SIZE;
		OPENSSL_cleanse(p, SLOT_SIZE);
		a->map[idx / 64] &= ~(1ULL << (idx % 64));
		if (--a->used == 0 && other_empty(a)) {
			*pa = a->next;
			pages_put(a->base, ARENA_SIZE);
			free(a);
		}
		return true;
	}
	return false;
}

static void *big_get(size_t len)
{
	struct big *b = malloc(sizeof(*b));

	if (!b)
		return NULL;
	b->p = pages_get(len);
	if (!b->p) {
		free(b);
		return NULL;
	}
	b->len = len;
	b->next = bigs;
	bigs = b;
	return b->p;
}

static void big_put(void *p)
{
	struct big **pb, *b;

	for (pb = &bigs; (b = *pb); pb = &b->next) {
		if (b->p != p)
			continue;
		*pb = b->next;
		pages_put(b->p, b->len);
		free(b);
		return;
	}
}

void secmem_relock(void)
{
	struct arena *a;
	struct big *b;

	pthread_mutex_lock(&secmem_lock);
	for (a = arenas; a; a = a->next)
		(void)mlock(a->base, ARENA_SIZE);
	for (b = bigs; b; b = b->next)
		(void)mlock(b->p, b->len);
	pthread_mutex_unlock(&secmem_lock);
}

void *secmem_alloc(size_t len)
{
	void *p;

	if (len == 0)
		len = 1;
	pthread_mutex_lock(&secmem_lock);
	if (len <= SLOT_SIZE)
		p = slot_get();
	else
		p = big_get(page_round(len));
	if (p)
		live++;
	pthread_mutex_unlock(&secmem_lock);
	if (!p)
		errno = ENOMEM;
	return p;
}

void secmem_wipe(void *p, size_t len)
{
	if (p)
		OPENSSL_cleanse(p, len);
}

void secmem_free(void *p, size_t len)
{
	if (!p)
		return;
	if (len == 0)
		len = 1;
	pthread_mutex_lock(&secmem_lock);
	if (len <= SLOT_SIZE)
		slot_put(p);
	else
		big_put(p);
	live--;
	pthread_mutex_unlock(&secmem_lock);
}

size_t secmem_live(void)
{
	size_t n;

	pthread_mutex_lock(&secmem_lock);
	n = live;
	pthread_mutex_unlock(&secmem_lock);
	return n;
}
