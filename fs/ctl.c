// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/ctl.c - the daemon's control socket, for "atrestfs rotate-kek
 * MOUNTPOINT" (a KEK rotation of a mounted volume, with no pause visible
 * to applications), "atrestfs rekey MOUNTPOINT" (rekeyd.c), "atrestfs
 * lock" and "unlock" (revoke.c), and the idle timer of -o idle=, which
 * locks the mount.
 *
 * The socket is "ctl" in this machine's state directory of the volume
 * (mode 0700, its user's), and a peer must also be root or the user the
 * daemon runs as (SO_PEERCRED).  One request at a time, on one thread:
 *
 *   "rotate-kek\n" KEK(32) KEK-ID(16): the command has committed step 1
 *	(volume/rotate.c) and hands over the new KEK.  The daemon checks it
 *	against atrestfs.conf (MAC, kek_retiring naming its own KEK), makes
 *	it the mount's KEK (so everything written from then on is under it),
 *	rewrites this machine's record of files under it, and walks the
 *	volume as rotate-kek does offline, holding each inode's lock (or,
 *	for a symlink, the name lock) while it works on it.  It answers
 *	"progress DONE TOTAL\n" lines, "warn TEXT\n" lines, then
 *	"ok HEADERS VALUES LINKS DAMAGED\n" or "error TEXT\n".
 *   "destroy-old\n": the command has committed step 3; once the config
 *	says so, the old KEK is wiped.  "ok\n" or "error TEXT\n".
 *   "rekey-all\n", "rekey INO\n": rekey every regular file, or the one
 *	the kernel knows as backing inode INO (the command holds it open
 *	in the mount), with the mount's KEK (rekeyd.c).  "progress DONE
 *	TOTAL\n" (files) and "warn TEXT\n" lines, then "ok REKEYED EMPTY
 *	BEFORE FAILED DAMAGED RESUMED\n" or "error TEXT\n".  Unlike a
 *	rotation, a rekey stops between two files once its peer is gone
 *	(Ctrl-C, kill), or a lock waits (lock_pending()): each file is
 *	whole, and the next rekey-all resumes.
 *   "lock\n": revoke_lock().  "unlock\n" KEK(32) KEK-ID(16): revoke_unlock(),
 *	the KEK read into locked memory and wiped after use.  "status\n".
 *	"ok TEXT\n", "error TEXT\n", or "rejected TEXT\n" for a KEK that is
 *	not the mount's.
 *
 * Every answer is one line: text in it (file names, messages naming
 * files) has its control bytes and backslashes escaped (escape_line()),
 * so a file name cannot end a line and make up an answer.
 *
 * A peer that goes away does not stop a walk: it runs to its end, and
 * the next request waits for it.  So a lock (asked for, or the idle
 * timer's, on this same thread) never runs during a rotation; and a
 * rotation is refused while the mount is locked, as it has no KEK to
 * rotate from.  Without a state directory there is no socket, only the
 * idle timer.  Owns the listening socket and the thread; the KEK it
 * installs goes to the mount.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "../crypto/aead.h"
#include "../crypto/secmem.h"
#include "../volume/volume.h"
#include "audit.h"
#include "fs_private.h"

#define CTL_NAME	"ctl"
#define REQ_MAX		32	/* the longest request line, and some */

struct ctl {
	struct atr_mount *m;		/* borrowed */
	int lfd;			/* listening socket, or -1; owned */
	int cfd;			/* the peer at hand, or -1; ctl thread */
	/*
	 * A peer accepted while a rekey ran (lock_pending()), served once
	 * it ends, or -1; ctl thread.  for_lock: that rekey stopped for a
	 * lock (this one's, or the idle timer's).
	 */
	int pending;
	bool for_lock;
	int wake[2];			/* ctl_stop() wakes the thread's poll */
	pthread_t thread;
	volatile int stop;		/* set by ctl_stop(), read by the walk */
};

/*
 * @in (@n bytes) into @out as one line: control bytes and backslashes
 * escaped (\n, \r, \\, \xHH), cut short rather than an escape split:
 * a file name holding "\nok 300 ..." must not pass for the daemon's answer.
 * The length written, without the NUL.
 */
static size_t escape_line(const char *in, size_t n, char *out, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char ch;
	size_t o = 0, i;
	char e[5];
	int el;

	for (i = 0; i < n; i++) {
		ch = (unsigned char)in[i];
		el = 0;
		if (ch == '\\' || ch == '\n' || ch == '\r') {
			e[el++] = '\\';
			e[el++] = ch == '\n' ? 'n' : ch == '\r' ? 'r' : '\\';
		} else if (ch < 0x20 || ch == 0x7f) {
			e[el++] = '\\';
			e[el++] = 'x';
			e[el++] = hex[ch >> 4];
			e[el++] = hex[ch & 15];
		} else {
			e[el++] = (char)ch;
		}
		if (o + (size_t)el >= len)
			break;
		memcpy(out + o, e, (size_t)el);
		o += (size_t)el;
	}
	out[o] = '\0';
	return o;
}

/*
 * One answer line: @fmt ends in its one '\n'; whatever the arguments hold
 * (file names, messages naming files) is escaped by escape_line().
 */
static void say(struct ctl *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void say(struct ctl *c, const char *fmt, ...)
{
	char raw[1024], line[1024];
	va_list ap;
	size_t n;
	int r;

	if (c->cfd < 0)
		return;
	va_start(ap, fmt);
	r = vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	if (r <= 0)
		return;
	n = (size_t)r < sizeof(raw) ? (size_t)r : sizeof(raw) - 1;
	if (raw[n - 1] == '\n')
		n--;
	n = escape_line(raw, n, line, sizeof(line) - 1);
	line[n++] = '\n';
	/* A peer gone (killed, say) stops the answers, not the work. */
	if (send(c->cfd, line, n, MSG_NOSIGNAL) != (ssize_t)n) {
		close(c->cfd);
		c->cfd = -1;
	}
}

/* A warning of rotate-kek's walk or of a rekey; @path may be NULL. */
static void ctl_warn(void *ctx, const char *path, const char *what)
{
	if (path)
		say(ctx, "warn %s: %s\n", path, what);
	else
		say(ctx, "warn %s\n", what);
}

/* ---- the walk's locks ---- */

static int w_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct ctl *c = ctx;

	if (c->stop)
		return -ECANCELED;
	if (done % 64 == 0 || done == total)
		say(c, "progress %llu %llu\n", (unsigned long long)done,
		    (unsigned long long)total);
	return 0;
}

/*
 * A file or directory: its inode pinned in the table and its lock
 * write-held, so no request changes its header or xattrs meanwhile (an
 * open, a flag rewrap, a setxattr).  A symlink: the name lock, so no
 * unlink or rename takes its name while it is replaced.
 */
static int w_enter(void *ctx, int fd, const struct stat *st, void **cookie)
{
	struct ctl *c = ctx;
	struct atr_mount *m = c->m;
	struct atr_inode *ai;
	int err;

	if (fd < 0) {
		pthread_rwlock_wrlock(&m->ns_lock);
		*cookie = NULL;
		return 0;
	}
	/* The very inode the walk opened, whatever its name is by now. */
	err = itable_pin(m, fd, st, &ai);
	if (err)
		return err;
	pthread_rwlock_wrlock(&ai->lock);
	*cookie = ai;
	return 0;
}

static void w_leave(void *ctx, void *cookie)
{
	struct ctl *c = ctx;
	struct atr_inode *ai = cookie;

	if (!ai) {
		pthread_rwlock_unlock(&c->m->ns_lock);
		return;
	}
	pthread_rwlock_unlock(&ai->lock);
	itable_put(c->m, ai, 1);
}

/*
 * The kernel may hold the replaced symlink's inode under the name, and
 * our table its fd, whose target is under the old KEK: drop the name
 * from its cache so the next lookup finds the new link.
 */
static void w_replaced(void *ctx, int dfd, const char *name)
{
	struct ctl *c = ctx;
	struct atr_mount *m = c->m;
	struct atr_inode *dir;
	struct stat st;

	if (fstat(dfd, &st))
		return;
	if (st.st_dev == m->root.dev && st.st_ino == m->root.ino) {
		fuse_lowlevel_notify_inval_entry(m->se, FUSE_ROOT_ID, name,
						 strlen(name));
		return;
	}
	dir = itable_find(m, &st);
	if (!dir)
		return;		/* a directory the kernel does not know */
	fuse_lowlevel_notify_inval_entry(m->se, (fuse_ino_t)(uintptr_t)dir,
					 name, strlen(name));
	itable_put(m, dir, 1);
}

/*
 * After a rename through the mount (@name in directory @dirfd, its
 * request answered: the kernel's locks on the directories are
 * gone): while the mount's KEK retires another, the entry renamed is
 * rotated now, so that a walk under way cannot miss it by its move; a
 * directory, whose entries this does not reach, makes the walk go again.
 */
void ctl_renamed(struct atr_mount *m, int dirfd, const char *name)
{
	struct rotate_cb cb = { .enter = w_enter, .leave = w_leave,
				.replaced = w_replaced, .ctx = m->ctl };
	const struct kek *kek;
	char msg[512] = "";
	int err;

	if (!m->ctl)
		return;
	kek = kek_get(m);	/* the old KEK stays while it is held */
	if (!kek) {		/* locked: no request runs, but be sure */
		kek_put(m);
		return;
	}
	err = rotate_one(m->root.fd, dirfd, name, kek, m->audit, &cb, msg,
			 sizeof(msg));
	kek_put(m);
	if (err == 1)
		__atomic_add_fetch(&m->renames, 1, __ATOMIC_RELAXED);
	else if (err < 0)
		atr_log(LOG_ERR, "%s: key rotation of renamed %s: %s",
			m->backing, name, *msg ? msg : strerror(-err));
}

/* ---- requests ---- */

/*
 * @next (taken) as the mount's KEK, if atrestfs.conf says so: its MAC
 * verifies with it, it names it, and its kek_retiring is the KEK the
 * mount has.  A KEK already in place (a walk resumed) is kept.
 */
static int install(struct ctl *c, struct kek *next, char *msg, size_t msglen)
{
	struct atr_mount *m = c->m;
	struct vol_config *cfg = malloc(sizeof(*cfg));
	struct kek *cur = m->kek;	/* only this thread changes it */
	uint8_t check[KEK_CHECK_LEN];
	int err;

	if (!cfg) {
		kek_free(next);
		return -ENOMEM;
	}
	if (!memcmp(cur->id, next->id, KEK_ID_LEN)) {
		err = cur->retiring ? 0 : -EALREADY;
		if (err)
			snprintf(msg, msglen, "this KEK has no rotation under way");
		goto out;
	}
	err = volconf_load(m->root.fd, cfg, msg, msglen);
	if (!err && (vol_verify(next, cfg) ||
		     memcmp(cfg->kek_id, next->id, KEK_ID_LEN) ||
		     !cfg->retiring.present ||
		     memcmp(cfg->retiring.kek_id, cur->id, KEK_ID_LEN))) {
		err = -EKEYREJECTED;
		snprintf(msg, msglen, "the key given is not the new volume key "
			 VOL_CONF_NAME " names, or the mount's key is not the "
			 "one it retires");
	}
	if (!err)
		err = kek_open_retiring(next, cfg->retiring.kek_id, m->uuid,
					cfg->retiring.wrapped);
	if (!err && ct_memcmp(next->retiring->key, cur->key, KEK_LEN)) {
		err = -EKEYREJECTED;
		snprintf(msg, msglen, "kek_retiring is not the mount's key");
	}
	/* What unlock checks a KEK against, from now on this one. */
	if (!err)
		err = kek_check(next->key, m->uuid, check);
	if (err)
		goto out;
	pthread_rwlock_wrlock(&m->kek_lock);
	m->kek = next;
	memcpy(m->kek_id, next->id, KEK_ID_LEN);
	memcpy(m->kek_check, check, KEK_CHECK_LEN);
	audit_set_kek(m->audit, next->id, NULL);
	pthread_rwlock_unlock(&m->kek_lock);
	next = cur;	/* no reader holds it any more: wiped below */
	atr_log(LOG_INFO, "%s: new volume key in use; rewrapping", m->backing);
out:
	kek_free(next);
	free(cfg);
	return err;
}

static void rotate(struct ctl *c, struct kek *next)
{
	struct atr_mount *m = c->m;
	struct rotate_cb cb = { .progress = w_progress, .warn = ctl_warn,
				.enter = w_enter, .leave = w_leave,
				.replaced = w_replaced, .ctx = c };
	char msg[512] = "";
	struct rotate_stats st, more;
	uint64_t renames;
	int dirfd, err, pass;

	/* A lock is served by this thread too: it cannot start meanwhile. */
	if (revoke_locked(m)) {
		kek_free(next);
		say(c, "error %s is locked: unlock it first (atrestfs unlock "
		    "MOUNTPOINT), then run rotate-kek again\n", m->backing);
		return;
	}
	err = install(c, next, msg, sizeof(msg));
	if (!err) {
		err = fstate_rekey(m->fstate, m->kek, m->uuid);
		if (err)
			snprintf(msg, sizeof(msg), "cannot rewrite this machine's "
				 "record of files: %s", strerror(-err));
	}
	dirfd = err ? -1 : openat(m->root.fd, ".", O_RDONLY | O_DIRECTORY |
				  O_CLOEXEC);
	if (!err && dirfd < 0)
		err = -errno;
	/*
	 * A rename through the mount may move a file from where the walk
	 * has not been to where it has: walk again until a whole walk saw
	 * none (each is quick once most headers name the new KEK).
	 */
	for (pass = 0; !err && pass < 8; pass++) {
		renames = __atomic_load_n(&m->renames, __ATOMIC_RELAXED);
		err = rotate_walk(dirfd, m->backing, m->kek, m->audit, &cb,
				  pass ? &more : &st, msg, sizeof(msg));
		if (!err && pass) {
			st.headers += more.headers;
			st.values += more.values;
			st.links += more.links;
		}
		if (__atomic_load_n(&m->renames, __ATOMIC_RELAXED) == renames)
			break;
	}
	if (!err && pass == 8) {
		err = -EAGAIN;
		snprintf(msg, sizeof(msg), "files kept being renamed during "
			 "eight walks; run rotate-kek again");
	}
	if (dirfd >= 0)
		close(dirfd);
	if (err) {
		atr_log(LOG_ERR, "%s: key rotation: %s", m->backing,
			*msg ? msg : strerror(-err));
		say(c, "error %s\n", *msg ? msg : strerror(-err));
		return;
	}
	atr_log(LOG_INFO, "%s: every file rewrapped under the new volume key",
		m->backing);
	say(c, "ok %llu %llu %llu %llu\n", (unsigned long long)st.headers,
	    (unsigned long long)st.values, (unsigned long long)st.links,
	    (unsigned long long)st.damaged);
}

/* The old KEK goes once the config no longer holds it. */
static void destroy_old(struct ctl *c)
{
	struct atr_mount *m = c->m;
	struct vol_config *cfg = malloc(sizeof(*cfg));
	char msg[512] = "";
	int err = cfg ? volconf_load(m->root.fd, cfg, msg, sizeof(msg)) :
			-ENOMEM;

	/* A lock wiped it with the KEK; unlock takes no retiring KEK back. */
	if (!err && revoke_locked(m)) {
		free(cfg);
		say(c, "ok\n");
		return;
	}
	if (!err && (vol_verify(m->kek, cfg) || cfg->retiring.present)) {
		err = -EBUSY;
		snprintf(msg, sizeof(msg), VOL_CONF_NAME " still holds the old "
			 "key, or is not this mount's");
	}
	free(cfg);
	if (err) {
		say(c, "error %s\n", *msg ? msg : strerror(-err));
		return;
	}
	pthread_rwlock_wrlock(&m->kek_lock);
	kek_free(m->kek->retiring);
	m->kek->retiring = NULL;
	pthread_rwlock_unlock(&m->kek_lock);
	atr_log(LOG_INFO, "%s: old volume key wiped", m->backing);
	say(c, "ok\n");
}

/* ---- rekey (rekeyd.c) ---- */

/* The peer hung up: POLLHUP, or POLLRDHUP of a killed command. */
static bool peer_gone(struct ctl *c)
{
	struct pollfd p = { .fd = c->cfd, .events = POLLRDHUP };

	return c->cfd < 0 ||
	       (poll(&p, 1, 0) > 0 && p.revents & (POLLRDHUP | POLLHUP |
						   POLLERR));
}

static int idle_wait(struct atr_mount *m);
static bool peer_ok(int fd);

/*
 * A lock waits: the idle timer's is due, or a peer has asked for one
 * ("lock\n", peeked at; it is served, like any other request accepted
 * here, once the rekey ends).  A rekey runs on this thread, as the lock
 * does: without this a lock would wait for the whole run.
 */
static bool lock_pending(struct ctl *c)
{
	struct pollfd p = { .fd = c->lfd, .events = POLLIN };
	char req[8];

	if (idle_wait(c->m) == 0)
		return true;
	if (c->pending < 0 && c->lfd >= 0 && poll(&p, 1, 0) > 0 &&
	    p.revents & POLLIN)
		c->pending = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC);
	return c->pending >= 0 && peer_ok(c->pending) &&
	       recv(c->pending, req, sizeof(req), MSG_PEEK | MSG_DONTWAIT) ==
		       5 && !memcmp(req, "lock\n", 5);
}

static int rk_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct ctl *c = ctx;

	if (c->stop || peer_gone(c))
		return -ECANCELED;
	/* Between two files: each is whole, and rekey --all resumes. */
	if (done < total && lock_pending(c)) {
		c->for_lock = true;
		return -ECANCELED;
	}
	say(c, "progress %llu %llu\n", (unsigned long long)done,
	    (unsigned long long)total);
	return 0;
}

static void rekey(struct ctl *c, bool all, uint64_t ino)
{
	struct rekeyd_cb cb = { .progress = rk_progress, .warn = ctl_warn,
				.ctx = c };
	struct rekeyd_stats st;
	char msg[1024] = "";
	int err;

	/* A lock is served by this thread too: it cannot start meanwhile. */
	if (revoke_locked(c->m)) {
		say(c, "error %s is locked: unlock it first (atrestfs unlock "
		    "MOUNTPOINT), then run rekey again\n", c->m->backing);
		return;
	}
	c->for_lock = false;
	err = rekeyd_run(c->m, all, ino, &cb, &st, msg, sizeof(msg));
	if (err == -ECANCELED && c->for_lock) {
		atr_log(LOG_INFO, "%s: rekey stopped for a lock after %llu "
			"files; rekey --all resumes", c->m->backing,
			(unsigned long long)st.rekeyed);
		say(c, "error the rekey stopped after %llu files, as %s is "
		    "being locked: unlock it, then run rekey again (rekey "
		    "--all resumes where it stopped)\n",
		    (unsigned long long)st.rekeyed, c->m->backing);
		return;
	}
	if (err == -ECANCELED) {
		atr_log(LOG_INFO, "%s: rekey stopped (its command gone, or an "
			"unmount) after %llu files; rekey --all resumes",
			c->m->backing, (unsigned long long)st.rekeyed);
		return;
	}
	if (err) {
		atr_log(LOG_ERR, "%s: rekey: %s", c->m->backing, msg);
		say(c, "error %s\n", msg);
		return;
	}
	atr_log(LOG_INFO, "%s: rekey: %llu files rekeyed, %llu left",
		c->m->backing, (unsigned long long)st.rekeyed,
		(unsigned long long)(st.failed + st.damaged));
	say(c, "ok %llu %llu %llu %llu %llu %llu\n",
	    (unsigned long long)st.rekeyed, (unsigned long long)st.empty,
	    (unsigned long long)st.before, (unsigned long long)st.failed,
	    (unsigned long long)st.damaged, (unsigned long long)st.resumed);
}

/* ---- lock, unlock, status (revoke.c) ---- */

static void do_lock(struct ctl *c)
{
	struct atr_mount *m = c->m;
	struct ucred cr;
	socklen_t len = sizeof(cr);
	char why[64];
	int err;

	if (revoke_locked(m)) {
		say(c, "ok %s was locked already\n", m->backing);
		return;
	}
	if (getsockopt(c->cfd, SOL_SOCKET, SO_PEERCRED, &cr, &len))
		cr.uid = (uid_t)-1;
	snprintf(why, sizeof(why), "atrestfs lock by uid %u",
		 (unsigned int)cr.uid);
	err = revoke_lock(m, why);
	if (err)
		say(c, "error %s\n", strerror(-err));
	else
		say(c, "ok %s is locked: every key is wiped\n", m->backing);
}

static void do_unlock(struct ctl *c, const uint8_t *raw)
{
	struct atr_mount *m = c->m;
	int err = revoke_unlock(m, raw, raw + KEK_LEN);

	if (err == -EALREADY)
		say(c, "ok %s was not locked\n", m->backing);
	else if (err == -EKEYREJECTED)
		say(c, "rejected the key unlocked is not the volume key %s "
		    "was mounted with\n", m->backing);
	else if (err)
		say(c, "error %s\n", strerror(-err));
	else
		say(c, "ok %s is unlocked\n", m->backing);
}

/* Milliseconds until the idle timer fires; -1: not running. */
static int idle_wait(struct atr_mount *m)
{
	struct timespec ts;
	int64_t left;

	if (!m->opt_mnt.idle_sec || revoke_locked(m))
		return -1;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	left = __atomic_load_n(&m->last_req, __ATOMIC_RELAXED) +
	       m->opt_mnt.idle_sec - ts.tv_sec;
	return left <= 0 ? 0 : (int)(left > 3600 ? 3600000 : left * 1000);
}

/* ---- serving ---- */

static bool peer_ok(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	return !getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) &&
	       (cr.uid == 0 || cr.uid == geteuid());
}

/* Exactly @len bytes, or -1. */
static int recv_all(int fd, void *buf, size_t len)
{
	return recv(fd, buf, len, MSG_WAITALL) == (ssize_t)len ? 0 : -1;
}

/* The request line, its '\n' kept, NUL-terminated: 0, or -1. */
static int recv_line(int fd, char *req, size_t len)
{
	size_t n;

	/* Byte by byte: a key may follow the line in the same send. */
	for (n = 0; n + 1 < len; n++) {
		if (recv_all(fd, req + n, 1))
			return -1;
		if (req[n] == '\n') {
			req[n + 1] = '\0';
			return 0;
		}
	}
	return -1;
}

/*
 * A request that carries a KEK and its ID (rotate-kek, unlock): read into
 * locked memory, wiped after @fn.
 */
static void with_kek(struct ctl *c, bool derive,
		     void (*fn)(struct ctl *c, const uint8_t *raw,
				struct kek *kek))
{
	uint8_t *raw = secmem_alloc(KEK_LEN + KEK_ID_LEN);
	struct kek *kek = NULL;

	if (raw && !recv_all(c->cfd, raw, KEK_LEN + KEK_ID_LEN) &&
	    (!derive || !kek_derive(raw, raw + KEK_LEN, c->m->uuid, &kek)))
		fn(c, raw, kek);
	else
		say(c, "error bad request\n");
	if (raw)
		secmem_free(raw, KEK_LEN + KEK_ID_LEN);
}

static void rotate_req(struct ctl *c, const uint8_t *raw, struct kek *kek)
{
	(void)raw;
	rotate(c, kek);
}

static void unlock_req(struct ctl *c, const uint8_t *raw, struct kek *kek)
{
	(void)kek;
	do_unlock(c, raw);
}

static void serve_one(struct ctl *c)
{
	struct timeval tv = { .tv_sec = 10 };
	char req[REQ_MAX + 1];
	unsigned long long ino;
	char end;

	/*
	 * A peer that says nothing, or stops reading (suspended, its output
	 * a full pipe), must not hold up the walk, which sends warnings
	 * under an entry's lock, nor the unmount: say() drops it.
	 */
	setsockopt(c->cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

	if (!peer_ok(c->cfd)) {
		say(c, "error only root or the user who mounted may ask\n");
		return;
	}
	if (recv_line(c->cfd, req, sizeof(req))) {
		say(c, "error bad request\n");
		return;
	}
	if (!strcmp(req, "rotate-kek\n"))
		with_kek(c, true, rotate_req);
	else if (!strcmp(req, "destroy-old\n"))
		destroy_old(c);
	else if (!strcmp(req, "rekey-all\n"))
		rekey(c, true, 0);
	else if (sscanf(req, "rekey %llu%c", &ino, &end) == 2 && end == '\n')
		rekey(c, false, ino);
	else if (!strcmp(req, "lock\n"))
		do_lock(c);
	else if (!strcmp(req, "unlock\n"))
		with_kek(c, false, unlock_req);
	else if (!strcmp(req, "status\n"))
		say(c, "ok %s\n", revoke_locked(c->m) ? "locked" : "unlocked");
	else
		say(c, "error unknown request (a newer atrestfs than the "
		    "daemon's?)\n");
}

/* Requests and, with -o idle=, the lock once that long passed without one. */
static void *ctl_thread(void *arg)
{
	struct ctl *c = arg;
	struct atr_mount *m = c->m;
	struct pollfd p[2] = { { .fd = c->wake[0], .events = POLLIN },
			       { .fd = c->lfd, .events = POLLIN } };
	char why[64];
	int n, wait;

	while (!c->stop) {
		wait = idle_wait(m);
		n = poll(p, c->lfd >= 0 ? 2 : 1, wait);
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0 && p[0].revents)
			break;		/* ctl_stop() */
		if (n == 0 && wait >= 0 && idle_wait(m) == 0) {
			snprintf(why, sizeof(why), "idle for %u s",
				 m->opt_mnt.idle_sec);
			revoke_lock(m, why);
		}
		if (n <= 0 || !p[1].revents)
			continue;
		c->cfd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (c->cfd < 0)
			continue;
		serve_one(c);
		if (c->cfd >= 0)
			close(c->cfd);
		c->cfd = -1;
		/* One that came during a rekey (lock_pending()). */
		if (c->pending >= 0) {
			c->cfd = c->pending;
			c->pending = -1;
			serve_one(c);
			if (c->cfd >= 0)
				close(c->cfd);
			c->cfd = -1;
		}
	}
	return NULL;
}

static void ctl_free(struct ctl *c)
{
	if (c->pending >= 0)
		close(c->pending);
	if (c->lfd >= 0)
		close(c->lfd);
	if (c->wake[0] >= 0)
		close(c->wake[0]);
	if (c->wake[1] >= 0)
		close(c->wake[1]);
	free(c);
}

/* The socket "ctl" in @statefd, listening, into c->lfd: 0 or -errno. */
static int ctl_listen(struct ctl *c, int statefd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	/* Through our own fd: the state directory's path may be long. */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/"
		 CTL_NAME, statefd);
	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->lfd < 0)
		return -errno;
	/* One left by a daemon that died: nobody listens on it. */
	unlinkat(statefd, CTL_NAME, 0);
	if (bind(c->lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(c->lfd, 4))
		return -errno;
	return 0;
}

int ctl_start(struct atr_mount *m, int statefd)
{
	struct ctl *c;
	struct timespec ts;
	int err = 0;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->m = m;
	c->cfd = c->pending = -1;
	c->lfd = c->wake[0] = c->wake[1] = -1;
	if (pipe2(c->wake, O_CLOEXEC))
		err = -errno;
	if (!err && statefd >= 0)
		err = ctl_listen(c, statefd);
	/* The idle timer counts from the mount. */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	__atomic_store_n(&m->last_req, (int64_t)ts.tv_sec, __ATOMIC_RELAXED);
	if (!err && (errno = pthread_create(&c->thread, NULL, ctl_thread, c)))
		err = -errno;
	if (err) {
		ctl_free(c);
		return err;
	}
	m->ctl = c;
	return 0;
}

void ctl_stop(struct atr_mount *m)
{
	struct ctl *c = m->ctl;

	if (!c)
		return;
	c->stop = 1;
	if (write(c->wake[1], "", 1) != 1)
		atr_log(LOG_ERR, "control socket: cannot stop its thread: %m");
	pthread_join(c->thread, NULL);
	ctl_free(c);
	m->ctl = NULL;
}
