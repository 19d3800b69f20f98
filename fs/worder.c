// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/worder.c - a write that would leave a gap past the end of its file
 * waits for the writes already received that will fill the gap.
 *
 * Why: the kernel writes a file's dirty pages back as several WRITE
 * requests at once (up to max_background), and the threads that receive
 * them race for the inode's lock.  When the one at 2 MiB won over the one
 * at 1 MiB, the file grew past a gap, and the write at 1 MiB then filled
 * a hole in place: an fallocate() first (output.c, fio_out_below()) and no
 * pipelined write past the end.  Seen with strace on a plain 512 MiB dd:
 * 50 to 96 of 512 writes went in place so; with this, 1 to 5.  Those left
 * are requests the kernel itself sent late, whose gaps holes.c lists
 * (fs/gaps.h).
 *
 * Writes register on arrival, before they take the inode's lock.  One that
 * finds a gap below it waits, without the lock, while a write registered
 * before it covers part of the gap.  Deadlock-free: a write waits only for writes at
 * lower offsets, already received by a thread, which wait only for lower
 * ones still; the lowest waits for nothing, and a waiting write holds no
 * inode lock.  The order is an optimisation, never a condition for
 * correctness.
 */
#include "fs_private.h"

/*
 * A write waiting in worder_wait(), on its thread's stack while it is on
 * mnt->worder_waiters.  Only a write leaving can end a wait (a write
 * arriving goes in front of the waiter, where it does not count), so
 * worder_leave() checks the waiters of its inode and wakes exactly those
 * it freed: one condition variable for all of them woke every waiter of
 * the mount at every write's end, which made most of the daemon's context
 * switches in a sequential write (docs/performance.md).
 */
struct worder_waiter {
	struct worder_waiter *next;	/* mnt->worder_lock */
	const struct atr_inode *ai;	/* immutable */
	const struct worder *w;		/* immutable */
	uint64_t eof;			/* immutable; the size it saw */
	bool ready;			/* mnt->worder_lock */
	pthread_cond_t cond;		/* waited on with mnt->worder_lock */
};

/*
 * m->worder_lock held: does a write received before @w cover part of
 * [eof, w->off)?  New writes go in front, so those are the ones behind @w
 * in the list; waiting for no later one bounds the wait.
 */
static bool worder_behind(const struct worder *w, uint64_t eof)
{
	const struct worder *p;

	for (p = w->next; p; p = p->next)
		if (p->off < w->off && p->end > eof)
			return true;
	return false;
}

void worder_enter(struct atr_mount *m, struct atr_inode *ai,
		  struct worder *w, uint64_t off, size_t size)
{
	w->off = off;
	w->end = off + size;
	pthread_mutex_lock(&m->worder_lock);
	w->next = ai->writes;
	ai->writes = w;
	pthread_mutex_unlock(&m->worder_lock);
}

void worder_leave(struct atr_mount *m, struct atr_inode *ai,
		  struct worder *w)
{
	struct worder_waiter *q;
	struct worder **pp;

	pthread_mutex_lock(&m->worder_lock);
	for (pp = &ai->writes; *pp != w; pp = &(*pp)->next)
		;
	*pp = w->next;
	for (q = m->worder_waiters; q; q = q->next)
		if (q->ai == ai && !q->ready && !worder_behind(q->w, q->eof)) {
			q->ready = true;
			pthread_cond_signal(&q->cond);
		}
	pthread_mutex_unlock(&m->worder_lock);
}

bool worder_wait(struct atr_mount *m, struct atr_inode *ai,
		 const struct worder *w, uint64_t eof)
{
	struct worder_waiter me = { .ai = ai, .w = w, .eof = eof };
	struct worder_waiter **pp;

	if (w->off <= eof)
		return false;
	pthread_mutex_lock(&m->worder_lock);
	if (!worder_behind(w, eof)) {
		pthread_mutex_unlock(&m->worder_lock);
		return false;
	}
	pthread_cond_init(&me.cond, NULL);
	me.next = m->worder_waiters;
	m->worder_waiters = &me;
	pthread_rwlock_unlock(&ai->lock);
	while (!me.ready)
		pthread_cond_wait(&me.cond, &m->worder_lock);
	for (pp = &m->worder_waiters; *pp != &me; pp = &(*pp)->next)
		;
	*pp = me.next;
	pthread_mutex_unlock(&m->worder_lock);
	pthread_cond_destroy(&me.cond);
	pthread_rwlock_wrlock(&ai->lock);
	return true;
}
