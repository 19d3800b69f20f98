// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/pool.c - the helper pool: threads that seal and open the extents of
 * a large request beside the worker that owns it, which puts both cores
 * on one write.  Owns the threads and their AEAD contexts; borrows the
 * jobs.
 *
 * A job is a range of extents cut into chunks; the thread that owns the
 * request queues it, then takes chunks itself until none are left, so a
 * job finishes even when every helper is busy.  All job fields that change
 * are protected by pool->lock; the job lives on the owner's stack and
 * leaves the queue before the owner returns.
 *
 * A job with a drain hands each run of finished chunks, in order, to the
 * owner as soon as it is complete: a write's pwrite into the backing file
 * (which the backing file system serialises per file) then runs while the
 * helpers seal what follows, instead of after all of it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "fs_private.h"
#include "transport.h"

/* Plaintext per unit of work handed to a helper thread. */
#define FIO_CHUNK	(64u << 10)
#define FIO_MAX_HELPERS	7
#define FIO_HELPER_STACK	(256u << 10)

/* A span's chunks fit one bitmap word. */
#define FIO_MAX_CHUNKS	(FIO_SPAN / FIO_CHUNK + 1)
_Static_assert(FIO_MAX_CHUNKS <= 64, "fio_job.done is one uint64_t");

struct fio_pool {
	pthread_mutex_t lock;
	pthread_cond_t work, done;
	struct fio_job *head;		/* ->lock */
	bool stop;			/* ->lock */
	int idle;			/* ->lock; helpers waiting for work */
	struct atr_mount *m;		/* immutable */
	int n;				/* immutable once started */
	pthread_t th[FIO_MAX_HELPERS];	/* @n of them; immutable once started */
};

/* pool->lock held: take the next chunk of @j, or dequeue it. */
static bool job_take(struct fio_pool *p, struct fio_job *j, uint64_t *c)
{
	struct fio_job **pp;

	if (j->next < j->nchunks) {
		*c = j->next++;
		return true;
	}
	if (j->queued) {
		for (pp = &p->head; *pp != j; pp = &(*pp)->qnext)
			;
		*pp = j->qnext;
		j->queued = false;
	}
	return false;
}

static void job_run_chunk(struct fio_pool *p, struct fio_job *j,
			  struct aead_ctx *ac, uint64_t c)
{
	uint64_t lo = j->first + c * j->per;
	uint64_t hi = min_u64(lo + j->per - 1, j->last);
	int err = j->fn(j, ac, lo, hi);
	bool wake;

	pthread_mutex_lock(&p->lock);
	if (err && !j->err)
		j->err = err;
	j->done |= 1ull << c;
	wake = --j->pending == 0 || j->drain;
	pthread_mutex_unlock(&p->lock);
	/* After the unlock (@j may be gone): see fio_pool_run(). */
	if (wake)
		pthread_cond_broadcast(&p->done);
}

/* pool->lock held: chunks done in a row from the first. */
static uint64_t job_ready(const struct fio_job *j)
{
	return ~j->done ? (uint64_t)__builtin_ctzll(~j->done) : 64;
}

/* pool->lock held: hand out no more chunks of @j after an error. */
static void job_cancel(struct fio_job *j)
{
	j->pending -= j->nchunks - j->next;
	j->next = j->nchunks;
}

/*
 * A helper seals and opens in the owner's buffers: of the per-thread state
 * it needs only an AEAD context, not the 2 MiB of buffers (locked, with
 * the daemon's memory) that fio_tls_get() would give it.
 */
static void *helper_main(void *arg)
{
	struct fio_pool *p = arg;
	struct aead_ctx *ac = aead_ctx_new();
	struct fio_job *j;
	uint64_t c;

	if (!ac)
		return NULL;	/* owners do all the work themselves */
	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		j = p->head;
		if (!j) {
			p->idle++;
			pthread_cond_wait(&p->work, &p->lock);
			p->idle--;
			continue;
		}
		if (!job_take(p, j, &c))
			continue;
		pthread_mutex_unlock(&p->lock);
		job_run_chunk(p, j, ac, c);
		aead_ctx_forget(ac);		/* as fio_tls_forget() */
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	aead_ctx_free(ac);		/* wipes the key schedules */
	return NULL;
}

/*
 * Run @j over its extents, with the helpers if there is enough work.  The
 * owner takes chunks too, so a job never waits for a busy helper, except
 * for a read on a thread pinned to the reader's CPU (xport_offload_hint())
 * while a helper is idle: that CPU also copies the data into the page
 * cache and out to the reader, so the decryption is better left to the
 * other CPUs (sequential reads about a quarter faster, docs/performance.md).
 */
int fio_pool_run(struct atr_mount *m, struct aead_ctx *ac, struct fio_job *j)
{
	struct fio_pool *p = m->pool;
	bool leave;
	uint64_t c, ready;
	int idle;
	int err;

	j->per = FIO_CHUNK > m->extent_size ? FIO_CHUNK / m->extent_size : 1;
	j->nchunks = (j->last - j->first) / j->per + 1;
	if (!p || j->nchunks < 2) {
		err = j->fn(j, ac, j->first, j->last);
		return err || !j->drain ? err : j->drain(j, 0, j->nchunks);
	}
	j->next = 0;
	j->pending = j->nchunks;
	j->done = 0;
	j->drained = 0;
	j->err = 0;
	pthread_mutex_lock(&p->lock);
	j->queued = true;
	j->qnext = p->head;
	p->head = j;
	idle = p->idle;
	leave = j->rbuf && idle > 0 && xport_offload_hint();
	pthread_mutex_unlock(&p->lock);
	/*
	 * Woken under the lock, a helper would find it held and sleep again
	 * until we let go: two context switches instead of one.  Helpers
	 * look at the queue under the lock, so none misses the job.
	 */
	if (idle)
		pthread_cond_broadcast(&p->work);
	pthread_mutex_lock(&p->lock);
	/* Drain what is ready before sealing more: the drain is the queue. */
	for (;;) {
		ready = job_ready(j);
		if (j->drain && !j->err && ready > j->drained) {
			pthread_mutex_unlock(&p->lock);
			err = j->drain(j, j->drained, ready);
			pthread_mutex_lock(&p->lock);
			j->drained = ready;
			if (err) {
				if (!j->err)
					j->err = err;
				job_cancel(j);
			}
		} else if (!leave && job_take(p, j, &c)) {
			pthread_mutex_unlock(&p->lock);
			job_run_chunk(p, j, ac, c);
			pthread_mutex_lock(&p->lock);
		} else if (j->pending) {
			pthread_cond_wait(&p->done, &p->lock);
		} else {
			break;
		}
	}
	if (j->queued)
		job_take(p, j, &c);	/* off the queue: @j is on our stack */
	err = j->err;
	pthread_mutex_unlock(&p->lock);
	return err;
}

int fio_pool_start(struct atr_mount *m)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct fio_pool *p;
	pthread_attr_t attr;
	int i;

	if (ncpu < 2)
		return 0;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	/*
	 * Helpers only seal and open; a small stack keeps them cheap when
	 * the daemon locks all its memory (harden.c).
	 */
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, FIO_HELPER_STACK);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	p->m = m;
	for (i = 0; i < ncpu - 1 && i < FIO_MAX_HELPERS; i++) {
		if (pthread_create(&p->th[i], &attr, helper_main, p))
			break;
		p->n++;
	}
	pthread_attr_destroy(&attr);
	if (p->n == 0) {
		pthread_cond_destroy(&p->work);
		pthread_cond_destroy(&p->done);
		pthread_mutex_destroy(&p->lock);
		free(p);
		return 0;
	}
	m->pool = p;
	return 0;
}

void fio_pool_stop(struct atr_mount *m)
{
	struct fio_pool *p = m->pool;
	int i;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->n; i++)
		pthread_join(p->th[i], NULL);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	pthread_mutex_destroy(&p->lock);
	m->pool = NULL;
	free(p);
}

