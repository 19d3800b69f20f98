// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/revoke.c - lock and unlock a mounted volume (atrestfs lock, -o idle).
 *
 * Lock takes every key out of the daemon and leaves the mount in place:
 * the kernel first writes back and drops its cached pages of every inode
 * we know (they are plaintext), then, with no request running (->gate
 * write-held), each open file's pending records are written, its DEK,
 * the file-state key, the KEK and its subkeys wiped, and every thread's
 * plaintext buffers cleared.  Requests then get EACCES until unlock; the
 * kernel's cache is dropped once more for pages read meanwhile.  Unlock
 * takes a KEK from the command line (ctl.c) only if it is the one the
 * volume was mounted with: a locked mount keeps its ID and kek_check()
 * of it, nothing that would yield it.  Open handles get their keys back.
 *
 * Owns ->gate, ->lockstate and ->last_req of struct atr_mount.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../crypto/aead.h"
#include "../crypto/secmem.h"
#include "../volume/volume.h"
#include "fs_private.h"

static int64_t now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec;
}

int revoke_enter(fuse_req_t req, bool pass)
{
	struct atr_mount *m = atr_mnt(req);

	pthread_rwlock_rdlock(&m->gate);
	if (pass || !revoke_locked(m)) {
		__atomic_store_n(&m->last_req, now_sec(), __ATOMIC_RELAXED);
		return 0;
	}
	pthread_rwlock_unlock(&m->gate);
	fuse_reply_err(req, EACCES);
	return EACCES;
}

void revoke_leave(struct atr_mount *m)
{
	pthread_rwlock_unlock(&m->gate);
}

int revoke_handle(fuse_req_t req, fuse_ino_t ino)
{
	struct atr_inode *ai = itable_ino(atr_mnt(req), ino);
	bool held;

	if (ai->type != S_IFREG)
		return 0;
	pthread_rwlock_rdlock(&ai->lock);
	held = ai->fk != NULL;
	pthread_rwlock_unlock(&ai->lock);
	if (held)
		return 0;
	fuse_reply_err(req, EIO);
	return EIO;
}

/* The inode numbers the kernel may hold pages of, copied out of the table. */
struct inos {
	fuse_ino_t *v;
	size_t n, cap;
};

static void collect(struct atr_mount *m, struct atr_inode *ai, void *arg)
{
	struct inos *l = arg;
	fuse_ino_t *v;

	(void)m;
	if (ai->type != S_IFREG && ai->type != S_IFLNK && ai->type != S_IFDIR)
		return;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		v = realloc(l->v, l->cap * sizeof(*v));
		if (!v) {
			l->cap = l->n;
			return;
		}
		l->v = v;
	}
	l->v[l->n++] = (fuse_ino_t)(uintptr_t)ai;
}

/*
 * Ask the kernel to write back and drop its pages of every inode: done
 * without the gate (writeback comes back to us as WRITE requests) and
 * with no table lock (an inode forgotten meanwhile is only an unknown
 * number to the kernel).
 */
static void drop_kernel_cache(struct atr_mount *m)
{
	struct inos l = { 0 };
	size_t i;

	itable_each(m, collect, &l);
	for (i = 0; i < l.n; i++)
		fuse_lowlevel_notify_inval_inode(m->se, l.v[i], 0, 0);
	free(l.v);
}

/* With every request held off: settle what is pending, then drop the key. */
static void wipe_inode(struct atr_mount *m, struct atr_inode *ai, void *arg)
{
	(void)arg;
	pthread_rwlock_wrlock(&ai->lock);
	if (ai->fk) {
		fio_settle_late(m, ai, -1);
		key_wipe(m, ai);
	}
	ncache_free(m, ai);	/* plaintext names leave with the keys */
	pthread_rwlock_unlock(&ai->lock);
}

int revoke_lock(struct atr_mount *m, const char *why)
{
	int expect = REVOKE_OPEN;

	/* One lock or unlock at a time: ctl.c serves one command at once. */
	if (revoke_locked(m))
		return 0;
	drop_kernel_cache(m);
	/*
	 * From here new requests are refused, so that the writer below is
	 * not starved by them (readers go first in a glibc rwlock), and no
	 * request that waits for another (a write for the one filling its
	 * gap) waits for good.
	 */
	__atomic_compare_exchange_n(&m->lockstate, &expect, REVOKE_LOCKING,
				    false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	pthread_rwlock_wrlock(&m->gate);
	itable_each(m, wipe_inode, NULL);
	wipe_inode(m, &m->root, NULL);
	fstate_key_wipe(m->fstate);
	/* No request runs, but the KEK's lock is the one that guards it. */
	pthread_rwlock_wrlock(&m->kek_lock);
	kek_free(m->kek);		/* and a retiring KEK with it */
	m->kek = NULL;
	pthread_rwlock_unlock(&m->kek_lock);
	dname_key_wipe(m);
	/*
	 * Every thread's AEAD context, also the one a new file's header
	 * was sealed through (key.c), and its plaintext buffers.
	 */
	fio_tls_wipe_all();
	__atomic_store_n(&m->lockstate, REVOKE_LOCKED, __ATOMIC_RELEASE);
	pthread_rwlock_unlock(&m->gate);
	/*
	 * Without the gate: a ring thread may wait in it, and refuses the
	 * request once in (no payload), then gets to the wipe.
	 */
	uring_wipe(m);
	/* Pages read between the first drop and the gate closing. */
	drop_kernel_cache(m);
	atr_log(LOG_NOTICE, "locked %s (%s): every key wiped; access is refused "
		"until \"atrestfs unlock\"", m->backing, why);
	policy_audit(m, "lock", NULL, 0);
	return 0;
}

/* Open handles get their file's key back, each checked as at an open. */
static void reload_inode(struct atr_mount *m, struct atr_inode *ai, void *arg)
{
	(void)arg;
	pthread_rwlock_wrlock(&ai->lock);
	if (ai->nkeyref && !ai->fk)
		(void)key_reload(m, ai);	/* logged; EIO for its handles */
	pthread_rwlock_unlock(&ai->lock);
}

/*
 * What the lock wiped besides the KEK comes back from atrestfs.conf, once
 * @kek verifies it: the names keys, and a retiring KEK while the config
 * still holds one (a rotation left under way), so that files under it
 * open again.  A names volume whose config does not verify stays locked.
 */
static int reload_config(struct atr_mount *m, struct kek *kek)
{
	struct vol_config *cfg = malloc(sizeof(*cfg));
	char msg[256] = "";
	bool verified;
	int err;

	if (!cfg)
		return -ENOMEM;
	err = volconf_load(m->root.fd, cfg, msg, sizeof(msg));
	if (!err && (vol_verify(kek, cfg) ||
		     memcmp(cfg->kek_id, kek->id, KEK_ID_LEN))) {
		snprintf(msg, sizeof(msg), "it does not verify with the key "
			 "given to unlock");
		err = -EBADMSG;
	}
	verified = !err;
	if (verified)
		err = dname_key_reload(m, kek, cfg, msg, sizeof(msg));
	else if (!m->names_key)
		err = 0;	/* nothing else this mount needs from it */
	if (err) {
		atr_log(LOG_ERR, "%s/" VOL_CONF_NAME ": %s; the mount stays "
			"locked", m->backing, msg);
		free(cfg);
		return err;
	}
	if (verified && cfg->retiring.present) {
		err = kek_open_retiring(kek, cfg->retiring.kek_id, m->uuid,
					cfg->retiring.wrapped);
		if (err)
			atr_log(LOG_ERR, "%s/" VOL_CONF_NAME ": kek_retiring "
				"does not open with the volume key (%s); files "
				"still under the old key get EIO until "
				"rotate-kek finishes", m->backing,
				strerror(-err));
	}
	free(cfg);
	return 0;
}

int revoke_unlock(struct atr_mount *m, const uint8_t raw[KEK_LEN],
		  const uint8_t id[KEK_ID_LEN])
{
	uint8_t check[KEK_CHECK_LEN];
	struct kek *kek;
	int err;

	if (__atomic_load_n(&m->lockstate, __ATOMIC_ACQUIRE) != REVOKE_LOCKED)
		return -EALREADY;
	err = kek_check(raw, m->uuid, check);
	if (err)
		return err;
	if (ct_memcmp(id, m->kek_id, KEK_ID_LEN) ||
	    ct_memcmp(check, m->kek_check, KEK_CHECK_LEN)) {
		policy_audit(m, "unlock", NULL, -EKEYREJECTED);
		return -EKEYREJECTED;
	}
	err = kek_derive(raw, id, m->uuid, &kek);
	if (!err)
		err = reload_config(m, kek);
	if (err) {
		kek_free(kek);
		return err;
	}
	pthread_rwlock_wrlock(&m->gate);
	err = fstate_key_load(m->fstate, kek, m->uuid);
	if (err) {
		pthread_rwlock_unlock(&m->gate);
		kek_free(kek);
		return err;
	}
	pthread_rwlock_wrlock(&m->kek_lock);
	m->kek = kek;
	pthread_rwlock_unlock(&m->kek_lock);
	itable_each(m, reload_inode, NULL);
	__atomic_store_n(&m->last_req, now_sec(), __ATOMIC_RELAXED);
	__atomic_store_n(&m->lockstate, REVOKE_OPEN, __ATOMIC_RELEASE);
	pthread_rwlock_unlock(&m->gate);
	atr_log(LOG_NOTICE, "unlocked %s", m->backing);
	policy_audit(m, "unlock", NULL, 0);
	return 0;
}
