/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * crypto/secmem.h - locked, non-dumpable memory for key material.
 *
 * Every key atrestfs holds (root key, volume KEK and its subkeys, per-file
 * DEKs) lives in memory from secmem_alloc(): mlock()ed so it never reaches
 * swap and MADV_DONTDUMP so it never reaches a core file.  Not
 * MADV_DONTFORK: the daemon unlocks the volume, then forks to detach, and
 * the child needs the keys (it calls secmem_relock(), as memory locks are
 * not inherited across fork).
 */
#ifndef ATR_SECMEM_H
#define ATR_SECMEM_H

#include <stddef.h>

/*
 * Returns zeroed secure memory of @len bytes, or NULL with errno set.
 * The caller owns it and must give it back through secmem_free() with the
 * same @len; secmem_free() wipes it with OPENSSL_cleanse() first.
 */
void *secmem_alloc(size_t len);
void secmem_free(void *p, size_t len);

/*
 * Wipe @len bytes at @p (OPENSSL_cleanse(): not optimised away), for
 * callers outside crypto/ that must not reach OpenSSL themselves: the
 * daemon's plaintext buffers and keys when the mount is locked.
 */
void secmem_wipe(void *p, size_t len);

/* Lock every live allocation again: for a child after fork(). */
void secmem_relock(void);

/* Number of live allocations; the unit tests use it to prove nothing leaks. */
size_t secmem_live(void);

#endif
