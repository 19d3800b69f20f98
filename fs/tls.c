// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/tls.c - the data path's per-thread state (struct fio_tls): made on a
 * thread's first request, sized for one FIO_SPAN request so that the data
 * path does not allocate, and freed when the thread exits, its AEAD
 * context's key schedules wiped.  The context also keeps the names key's
 * AES-SIV schedule for the lookups and listings the thread serves
 * (fs/dirnames.c), across requests.  A lock wipes every thread's buffers
 * and keys (fio_tls_wipe_all()).  The helper threads need only an AEAD
 * context and make their own.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "../crypto/secmem.h"
#include "fs_private.h"
#include "transport.h"

/*
 * Every thread's state, for fio_tls_wipe_all(): a locked mount must not
 * keep the plaintext of the last request each thread served.
 */
static pthread_mutex_t tls_all_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fio_tls *tls_all;		/* tls_all_lock */

static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static int tls_key_err;

static void tls_free(void *p)
{
	struct fio_tls *t = p;

	if (!t)
		return;
	pthread_mutex_lock(&tls_all_lock);
	if (t->prev)
		t->prev->next = t->next;
	else if (tls_all == t)
		tls_all = t->next;
	if (t->next)
		t->next->prev = t->prev;
	pthread_mutex_unlock(&tls_all_lock);
	aead_ctx_free(t->ac);		/* wipes the key schedules */
	free(t->disk);
	free(t->plain);
	free(t->edge[0]);
	free(t->edge[1]);
	free(t->zero);
	free(t);
}

static void tls_key_make(void)
{
	tls_key_err = pthread_key_create(&tls_key, tls_free);
}

/* Extents a span of FIO_SPAN bytes at any offset can touch. */
static size_t extents_per_span(uint32_t esz)
{
	return FIO_SPAN / esz + 1;
}

struct fio_tls *fio_tls_get(struct atr_mount *m)
{
	uint32_t esz = m->extent_size;
	uint64_t dsz = extent_disk_size(esz);
	struct fio_tls *t;

	if (pthread_once(&tls_once, tls_key_make) || tls_key_err)
		return NULL;
	t = pthread_getspecific(tls_key);
	if (t && t->esz == esz)
		return t;
	tls_free(t);
	pthread_setspecific(tls_key, NULL);
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->esz = esz;
	/* + 1: the retired last extent goes in front of the span. */
	t->disk_len = (extents_per_span(esz) + 1) * dsz;
	t->ac = aead_ctx_new();
	t->disk = malloc(t->disk_len);
	t->plain = malloc(FIO_SPAN);
	t->edge[0] = malloc(dsz);
	t->edge[1] = malloc(dsz);
	if (!t->ac || !t->disk || !t->plain || !t->edge[0] || !t->edge[1] ||
	    pthread_setspecific(tls_key, t)) {
		tls_free(t);
		return NULL;
	}
	pthread_mutex_lock(&tls_all_lock);
	t->next = tls_all;
	if (tls_all)
		tls_all->prev = t;
	tls_all = t;
	pthread_mutex_unlock(&tls_all_lock);
	return t;
}

struct fio_tls *fio_tls_peek(void)
{
	if (pthread_once(&tls_once, tls_key_make) || tls_key_err)
		return NULL;
	return pthread_getspecific(tls_key);
}

/*
 * The AEAD context keeps no file's key past a request, since the file may
 * be closed next and the thread lives until unmount.  Costs one key set-up
 * per request, not per extent.  A thread without state has nothing to
 * forget, and is given none.
 */
void fio_tls_forget(struct atr_mount *m)
{
	struct fio_tls *t = fio_tls_peek();

	(void)m;
	if (t)
		aead_ctx_forget(t->ac);
}

void fio_tls_wipe_all(void)
{
	struct fio_tls *t;

	pthread_mutex_lock(&tls_all_lock);
	for (t = tls_all; t; t = t->next) {
		aead_ctx_forget(t->ac);
		aead_ctx_forget_siv(t->ac);	/* the names key's */
		secmem_wipe(t->disk, t->disk_len);
		secmem_wipe(t->plain, FIO_SPAN);
		secmem_wipe(t->edge[0], extent_disk_size(t->esz));
		secmem_wipe(t->edge[1], extent_disk_size(t->esz));
	}
	pthread_mutex_unlock(&tls_all_lock);
}

void *fio_reply_buf(struct atr_mount *m, size_t size)
{
	void *ring = xport_reply_buf(size);
	struct fio_tls *t;

	if (ring)
		return ring;
	t = fio_tls_get(m);
	return t && size <= FIO_SPAN ? t->plain : NULL;
}

