/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fs/fs_private.h - the FUSE driver's one internal header, sectioned by
 * file as fscrypt_private.h is.
 */
#ifndef ATR_FS_PRIVATE_H
#define ATR_FS_PRIVATE_H

#define FUSE_USE_VERSION 35

#include <errno.h>
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include "../crypto/extent.h"
#include "../crypto/kek.h"
#include "../crypto/meta.h"
#include "../crypto/names.h"
#include "atrfs.h"
#include "audit.h"
#include "gaps.h"

/*
 * One per backing inode we have told the kernel about (hard links share
 * one).  The fuse_ino_t is the pointer itself, as in passthrough_ll.
 *
 * Locking: mnt->itable_lock (outer) protects the hash chain and nlookup;
 * ->lock (inner) is read-held by readers of file data and write-held by
 * anything that changes data, size or the key fields below.  Never call a
 * key provider holding either (a KMS round trip may block for seconds);
 * per-file DEKs are unwrapped locally with the KEK, which is safe.
 * mnt->worder_lock (innermost, nothing taken under it) protects every
 * inode's ->writes; a write waits on it only without ->lock (worder.c).
 */
struct atr_inode {
	struct atr_inode *hnext;	/* protected by itable_lock */
	uint64_t nlookup;		/* protected by itable_lock */
	/*
	 * The backing inode: changed only by an online rekey (rekeyd.c),
	 * which holds both itable_lock and ->lock to move it to the new
	 * file; read under either.  ->fd and ->fh follow (below).
	 */
	ino_t ino;
	dev_t dev;
	mode_t type;			/* S_IFMT bits; immutable */
	struct atr_mount *mnt;		/* immutable */
	/*
	 * inofd.c, all mnt->fd_lock: the O_PATH|O_NOFOLLOW fd (-1 while
	 * closed), reached only through ino_fd_get/ino_fd_put; the file
	 * handle it is reopened from (NULL: none, and the fd stays open for
	 * the inode's life); an online rekey moves both to the new file
	 * (ino_fd_rebind()), the fd keeping its number.
	 */
	int fd;
	struct file_handle *fh;
	unsigned int fd_users;		/* mnt->fd_lock; ino_fd_get()s out */
	struct atr_inode *lru_prev;	/* mnt->fd_lock; in the LRU while */
	struct atr_inode *lru_next;	/* ->fd is open, unused, and ->fh or
					   ->name is set */
	/*
	 * inofd.c, without a handle that opens (-o nohandles, no
	 * CAP_DAC_READ_SEARCH, a file system without them): where the fd
	 * is reopened from, by openat(2), once the cache closed it.  The
	 * parent directory's inode (one of its nlookup is ours) and the
	 * backing (encrypted) name of one of the inode's links in it;
	 * written with mnt->path_lock write-held, read with it read-held;
	 * NULL while the fd stays open for the inode's life (the root, an
	 * inode a rekey or control request pinned, a name removed through
	 * the mount), which changes with mnt->fd_lock held too.  ->ident:
	 * the file's handle (name_to_handle_at needs no privilege), to
	 * tell that the reopened file is this one, generation included;
	 * NULL where the file system has none (then st_dev and st_ino).
	 */
	struct atr_inode *parent;
	char *name;
	struct file_handle *ident;
	bool stale_logged;		/* atomic; a stale handle was logged */
	/*
	 * ops_entry.c, a hint, atomic: the last lookup in this directory
	 * that asked found an inode the table has (entry_known()); and a
	 * count of its lookups, so that one in 16 asks anyway.
	 */
	bool lookups_hit;
	unsigned int lookups_n;
	bool shared_logged;		/* atomic; shared.c: a refused lock or
					   a zeroed extent was logged */
	pthread_rwlock_t lock;
	struct file_key *fk;		/* ->lock; set while nkeyref > 0 */
	unsigned int nkeyref;		/* ->lock; opens + in-flight truncates */
	bool sparse;			/* ->lock; verified sparse record */
	bool xattr_unsynced;		/* ->lock; header or record not yet fsynced */
	bool hdr_data;			/* ->lock; header has HDR_F_DATA */
	bool data_pending;		/* ->lock; data written, flag not yet set */
	bool size_known;		/* ->lock; while the key is loaded */
	uint64_t size;			/* ->lock; the plaintext size this mount
					   left: any other on disk is a change
					   made in the backing directory */
	bool id_ours;			/* ->lock; key.c: the loaded key's ID is
					   made_id, so nothing but our data is
					   under it */
	bool made;			/* ->lock; made_id is set */
	uint8_t made_id[FILE_ID_LEN];	/* ->lock; the last ID this mount made
					   for this inode, kept while the inode
					   is in the table */
	bool hdr_logged;		/* ->lock; a bad header was logged */
	bool hdr_ver;			/* ->lock; header has HDR_F_VER */
	/*
	 * rollback.c, all ->lock: data changed since the last clean
	 * version record (or the file was found dirty); the counter of the
	 * record on the file, or of the one it gets next while changed;
	 * a clean record written whose state record is still to be added
	 * (its counter, or 0); the file's last link went through the
	 * mount, so nothing more is recorded of it.
	 */
	bool ver_changed;
	uint64_t ver;
	uint64_t ver_commit;
	bool ver_gone;
	bool ver_cut;			/* ->lock; rollback_cut() marked it */
	bool ver_dirty;			/* ->lock; made dirty at creation: the
					   first change writes no record */
	uint64_t ver_disk;		/* ->lock; counter of the dirty record on
					   the file (an end copy is sealed under
					   it: recovery matches the two), 0 while
					   its record is clean, cut or absent */
	bool ver_tag_ok;		/* ->lock; ver_tag is the file's */
	uint8_t ver_tag[AEAD_TAG_LEN];	/* ->lock; of its last extent */
	/*
	 * endcopy.c, all ->lock: end_fd is open on the entry of file ID
	 * end_id while end_open; a failure to keep a copy, or an entry
	 * that is not a regular file, was logged.
	 */
	bool end_open;
	int end_fd;
	uint8_t end_id[FILE_ID_LEN];
	bool end_logged;
	bool id_held;			/* mnt->fileids_lock; fileids.c */
	uint8_t file_id[FILE_ID_LEN];	/* mnt->fileids_lock, while id_held */
	struct atr_inode *id_next;	/* mnt->fileids_lock */
	uint64_t last_bad;		/* atomic; 1 + extent last logged bad */
	struct worder *writes;		/* mnt->worder_lock; writes received */
	struct gaps *gaps;		/* ->lock; gaps.h: holes not recorded */
	uint32_t *key_uids;		/* ->lock; key.c: users audited for fk */
	unsigned int nkey_uids;		/* ->lock */
	bool dirid_ok;			/* ->lock; dirnames.c: dirid is read */
	bool dirid_logged;		/* ->lock; a bad ID was logged */
	uint8_t dirid[NAMES_DIRID_LEN];	/* ->lock; set once while dirid_ok */
	/*
	 * ->lock: the fds of the open handles (ops_file.c), which an online
	 * rekey moves to the new file (rekeyd.c).
	 */
	int *hfds;
	unsigned int nhfds, hfds_cap;
	struct ncache *names;		/* ->lock; namecache.c; NULL: none */
	bool vid_ok;			/* ->lock; ops_xattr.c: vid read */
	uint8_t vid[META_VID_LEN];	/* ->lock; set once while vid_ok */
	/*
	 * ops_entry.c, a symlink on a bound volume, both ->lock: where it
	 * was looked up (malloc()ed; its target is opened for that place;
	 * replaced by a lookup that finds it with one name elsewhere, so
	 * copied out under the lock), and whether a lookup found it at
	 * another place while it had a second name (a hard link made in the
	 * backing directory): then it reads as EIO.
	 */
	struct meta_link_at *link_at;
	bool link_moved;
};

_Static_assert(sizeof(fuse_ino_t) >= sizeof(uintptr_t),
	       "fuse_ino_t too small to hold a pointer");

/* Everything hangs off the mount; there is no other mutable global. */
struct atr_mount {
	char *backing;			/* path, for log lines only */
	/*
	 * secmem; read through kek_get()/kek_put(), which read-hold
	 * ->kek_lock; changed only by an online KEK rotation (ctl.c) and
	 * by lock and unlock (revoke.c; NULL while locked), which
	 * write-hold it.  Innermost: nothing is taken under it.
	 */
	struct kek *kek;
	pthread_rwlock_t kek_lock;
	/*
	 * Read-held by unlink and rename around their syscall only, which
	 * can take a name away; write-held by ctl.c while it replaces a
	 * symlink with one whose target is re-sealed, so it replaces the
	 * very link it read, and by rekeyd.c around the rename of a
	 * rekeyed file (under that inode's ->lock: nothing takes an inode's
	 * lock under this one).
	 */
	pthread_rwlock_t ns_lock;
	/*
	 * Atomic: directories renamed during a KEK rotation.  Its walk goes
	 * again while this grew: a directory may have moved past the walk
	 * (a file renamed is rotated at once, ctl_renamed()).
	 */
	uint64_t renames;
	struct ctl *ctl;		/* ctl.c; NULL: no control socket */
	uint8_t *names_key;		/* secmem, NAMES_KEY_LEN; NULL: plain
					   names; immutable while mounted (a
					   KEK rotation rewraps its copy in
					   the config, not the key) */
	uint8_t *xname_key;		/* NAMES_XKEY_LEN after names_key:
					   user xattr names; same lifetime */
	uint32_t extent_size;		/* volume-wide, from atrestfs.conf */
	bool hdr_always;		/* format 2+: no regular file lacks a header */
	bool bound;			/* the config's "bound": links and xattr
					   values only in their bound forms;
					   immutable */
	/*
	 * Atomic: the volume's link store exists (volume/links.c), so a
	 * name taken away may be a long symlink's last, whose record goes
	 * with it.  Set at mount, and when a long target is made.
	 */
	bool long_links;
	/* Bytes of every directory's name cache (namecache.c); atomic. */
	size_t ncache_bytes;
	double timeout;			/* entry and attr cache, seconds */
	bool chown_new;			/* running as root: give new nodes to the caller */
	struct atr_mount_opts opt_mnt;	/* -o: noxattr, writethrough, readahead */
	pthread_mutex_t shared_rd_lock;	/* -o shared: guards shared_rd */
	struct shared_rd *shared_rd;	/* fds with reads in flight (shared.c) */
	bool flush_noop;		/* backing close(2) reports nothing; immutable */
	bool killpriv;			/* KILLPRIV_V2 negotiated; set before serving */
	bool wb_cache;			/* writeback cache negotiated; set at INIT */
	size_t uring_payload;		/* io_uring negotiated: its payload size; else 0 */
	struct uring_pool *uring;	/* uring.c; set while serving over io_uring */
	struct fuse_session *se;	/* set once the session exists */
	int harden_mlock_err;		/* harden.c: mlockall's -errno or 0 */
	int harden_flusher_err;		/* PR_SET_IO_FLUSHER's -errno or 0 */
	struct fio_pool *pool;		/* pool.c helpers; set while serving */
	struct audit *audit;		/* audit.c; NULL: no audit log; immutable */
	struct vol_options *opt;	/* verified optional settings; NULL: none */
	struct fstate *fstate;		/* filestate.c; NULL: no state directory */
	int ends_fd;			/* endcopy.c: the state directory's
					   ends/, or -1; set before serving */
	/*
	 * endcopy.c: the file IDs whose entries a crash left in ends/,
	 * found at mount, each taken at its file's first lookup.
	 * ->ends_lock; ends_n also read atomically without it.  Atomic:
	 * the lookups between taking an ID and their stat after its
	 * recovery, and how many such lookups ended.
	 */
	pthread_mutex_t ends_lock;
	uint8_t (*ends_ids)[FILE_ID_LEN];
	size_t ends_n;
	size_t ends_busy;
	uint64_t ends_epoch;
	struct runtime *run;		/* runtime.c; NULL: no runtime record */
	uint8_t uuid[VOL_UUID_LEN];	/* the volume's; atr_mount_configure() */
	struct atr_inode root;		/* never freed through the table */
	pthread_mutex_t itable_lock;
	struct atr_inode **buckets;	/* itable_lock */
	size_t nbuckets, count;		/* itable_lock */
	/* inofd.c: the cache of open inode fds; fd_lock is innermost. */
	pthread_mutex_t fd_lock;
	struct atr_inode *lru_head;	/* fd_lock; most recently used */
	struct atr_inode *lru_tail;	/* fd_lock; closed first */
	size_t fd_open;			/* fd_lock; cached fds (of inodes with
					   ->fh or ->name) */
	/*
	 * inofd.c: read-held while an fd is reopened by (parent, name),
	 * write-held by unlink, rmdir and rename around their syscall and
	 * the update of the names they change, so a reopen never sees a
	 * name between the two.  Under ns_lock and any inode's ->lock;
	 * only fd_lock is taken under it.
	 */
	pthread_rwlock_t path_lock;
	size_t nnamed;			/* atomic; inodes with ->name */
	size_t fd_max;			/* set before serving; fd_open beyond:
					   evict */
	bool handles;			/* immutable; open_by_handle_at works */
	int mount_id;			/* immutable; the backing root's */
	int mount_fd;			/* immutable; the root, not O_PATH;
					   -1 without handles */
	pthread_mutex_t fileids_lock;	/* fileids.c; innermost */
	struct atr_inode **id_buckets;	/* fileids_lock */
	size_t id_nbuckets, id_count;	/* fileids_lock */
	pthread_mutex_t worder_lock;	/* worder.c: every inode's ->writes */
	struct worder_waiter *worder_waiters;	/* worder_lock; on their stacks */
	/*
	 * revoke.c: lock and unlock.  Every request but forgets holds ->gate
	 * read-held while it runs; lock and unlock hold it write-held, so no
	 * request sees a key change under it.  ->kek is NULL while locked.
	 */
	pthread_rwlock_t gate;
	int lockstate;			/* atomic; REVOKE_* */
	uint8_t kek_id[KEK_ID_LEN];	/* immutable: the KEK unlock must bring */
	uint8_t kek_check[KEK_CHECK_LEN]; /* immutable: kek_check() of it */
	int64_t last_req;		/* atomic; CLOCK_MONOTONIC seconds */
};

/*
 * revoke.c: lock (every key wiped, requests refused with EACCES, the
 * kernel's cached pages of the mount dropped, the mount left in place)
 * and unlock (the KEK handed back, checked against the one mounted).
 */
enum { REVOKE_OPEN = 0, REVOKE_LOCKING = 1, REVOKE_LOCKED = 2 };
/*
 * Before a handler: 0 with ->gate read-held (revoke_leave() after it), or
 * EACCES, answered, while the mount is locked.  @pass: the handler runs
 * locked too (releases: they only let go, and need no key).
 */
int revoke_enter(fuse_req_t req, bool pass);
void revoke_leave(struct atr_mount *m);
/* Before a handler that uses an open handle of @ino: 0 or EIO, answered. */
int revoke_handle(fuse_req_t req, fuse_ino_t ino);
/* 0 (also when it was locked already) or -errno; @why for the log. */
int revoke_lock(struct atr_mount *m, const char *why);
/*
 * @raw and @id: the KEK as the keyslots hold it.  -EKEYREJECTED if it is
 * not the KEK this mount was made with; -EALREADY if it is not locked.
 */
int revoke_unlock(struct atr_mount *m, const uint8_t raw[KEK_LEN],
		  const uint8_t id[KEK_ID_LEN]);
static inline bool revoke_locked(const struct atr_mount *m)
{
	return __atomic_load_n(&m->lockstate, __ATOMIC_ACQUIRE) != REVOKE_OPEN;
}


/* log.c */
void atr_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Name a backing inode for a log line: its path via /proc/self/fd. */
void atr_inode_path(struct atr_inode *ai, char *buf, size_t len);
void atr_log_inode(int prio, struct atr_inode *ai, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * runtime.c: the daemon's record for atrestfs status.  runtime_new()
 * duplicates @dirfd (the volume's runtime directory, @dirpath in
 * messages) and copies @options and @log_path; the record's MAC takes
 * @m's KEK as it is at each rewrite (kek_tryget()).  In the serving process, once mounted, runtime_start()
 * writes the record (pid, @backing, @mountpoint: its realpath) and takes
 * the log's warnings and errors into it; runtime_stop() (after the
 * workers) removes it.  0 or -errno; a failure only costs status its view.
 */
struct runtime;
int runtime_new(int dirfd, const char *dirpath,
		const uint8_t uuid[VOL_UUID_LEN], struct atr_mount *m,
		const char *options, const char *log_path,
		struct runtime **out);
int runtime_start(struct runtime *r, const char *backing,
		  const char *mountpoint);
void runtime_stop(struct runtime *r);
void runtime_free(struct runtime *r);
/* log.c: @fn gets each warning and error line (escaped); NULL: none. */
void atr_log_tap(void (*fn)(void *arg, const char *line), void *arg);
/* Now, in UTC, as log lines stamp it: 2026-12-07T04:05:06Z. */
#define ATR_LOG_STAMP_LEN	32
void atr_log_stamp(char stamp[ATR_LOG_STAMP_LEN]);

/*
 * policy.c: the access policy (allow_uids, allow_gids), checked by a
 * wrapper around every handler but init, destroy, forgets and releases, before
 * the handler runs (so before any DEK is unwrapped).  The wrapper also
 * records the requester for audit lines of the worker thread.
 */
/* @ops receives atr_ops, wrapped if @m audits or has a policy. */
int policy_ops(const struct atr_mount *m, struct fuse_lowlevel_ops *ops);
/* atr_mount_configure()'s audit log and access policy. */
int policy_configure(struct atr_mount *m, const struct vol_config *cfg,
		     unsigned int slot, char *msg, size_t msglen);
/*
 * Does any supplementary group of the requester satisfy @match(gid, @arg)?
 * Reads /proc/PID/status: call only when the answer can matter.
 */
bool policy_groups_any(fuse_req_t req, bool (*match)(gid_t, const void *),
		       const void *arg);
/* The current request's uid, gid and pid on this thread (else ours). */
void policy_caller(struct audit_event *ev);
/* An audit line for this mount: requester from policy_caller(). */
void policy_audit(struct atr_mount *m, const char *event,
		  const uint8_t *file_id, int result);

/*
 * harden.c: lock memory, mark an I/O flusher; 0 or the first -errno, kept
 * in @m for harden_report() to log once logging goes where it will stay.
 */
int harden_daemon(struct atr_mount *m);
void harden_report(const struct atr_mount *m);

/*
 * handshake.c: answer the kernel's INIT (in place of the first pass of the
 * session loop), adding what libfuse 3.14 cannot negotiate: sets
 * m->killpriv and m->uring_payload.  0 or -errno, after which the session
 * cannot serve.
 */
int handshake_init(struct atr_mount *m, struct fuse_session *se);

/*
 * killpriv.c: with FUSE_HANDLE_KILLPRIV_V2, killpriv_drop() does the
 * kernel's share: on a write that did not come from the page cache, and
 * on a truncate, clear the setuid and setgid bits of a regular file
 * unless the caller is root.
 */
int killpriv_drop(fuse_req_t req, fuse_ino_t ino, struct atr_inode *ai);

/*
 * uring.c: serve requests over io_uring.  uring_start(), once INIT
 * negotiated io_uring (m->uring_payload), routes the session's replies
 * through uring.c and starts the ring threads; 0 or -errno, and on failure
 * the mount cannot be served (the kernel waits for rings that never
 * come): the caller unmounts.  uring_stop() ends and joins them, before
 * the helper pool stops; it is a no-op without uring_start().
 */
/* @mnt: the mount point's realpath ("": unknown), copied. */
/*
 * Before INIT is answered: can this process set up the rings at all (an
 * io_uring it may make, the CPUs in /sys)?  0 or -errno.  Once the kernel
 * agreed to io_uring it holds every request until the rings are up, so
 * the offer is accepted only if this passes.
 */
int uring_probe(void);
int uring_start(struct atr_mount *m, struct fuse_session *se,
		const char *mnt);
void uring_stop(struct atr_mount *m);
/*
 * A lock, after the gate let go: each ring thread wipes the payloads of
 * its entries (they hold the plaintext of the replies they carried), and
 * this waits until they did.  A no-op without io_uring.
 */
void uring_wipe(struct atr_mount *m);
/* INFO log line when the kernel could serve io_uring but has it off. */
void uring_explain(void);
/*
 * uring.c also implements transport.h, the only part of it the handlers
 * and the data path see: on a ring thread, the entry's payload as reply
 * buffer, the offload hint (ring threads are pinned to the requester's
 * CPU), and nested waits that keep one of the CPU's ring threads free.
 */

/*
 * dirnames.c: the backing name of a name (crypto/names.h) on volumes with
 * encrypted names, and the name of a backing entry; plain volumes pass
 * names through.  struct dname is on the caller's stack.
 */
struct dname {
	const char *name;		/* the backing name to use */
	struct names_enc enc;		/* encrypted names: its form */
};
/* 0, -EIO (the directory's ID is bad; logged), -ENAMETOOLONG. */
int dname_get(struct atr_mount *m, struct atr_inode *dir, const char *name,
	      struct dname *d);
/*
 * Before an entry @d is made in @dir (create, link, rename's target):
 * write a long name's record; *@made if this call made it, and then
 * dname_drop() undoes it if the entry is not made.
 */
int dname_make(struct atr_inode *dir, const struct dname *d, bool *made);
/* After @d left @dir: its record, unless the entry is still there. */
void dname_drop(struct atr_inode *dir, const struct dname *d);
/*
 * The name of backing entry @bname of @dir into @out: 0; 1 for the
 * volume's own files (never listed); -EBADMSG for a name that is not
 * this directory's (logged), -EIO for a bad directory ID.  @rfd: @dir
 * open for reading (the listing's fd), or -1.
 */
int dname_read(struct atr_mount *m, struct atr_inode *dir, int rfd,
	       const char *bname, char out[NAMES_PLAIN_MAX + 1]);
/* mkdir @bname in @dir, with a new directory ID on encrypted volumes. */
int dname_mkdir(struct atr_mount *m, struct atr_inode *dir, const char *bname,
		mode_t mode);
/* atr_mount_configure(): unwrap the names key of @cfg, if it has one. */
int dname_key(struct atr_mount *m, const struct vol_config *cfg, char *msg,
	      size_t msglen);
/*
 * lock and unlock (revoke.c): wipe the names keys' bytes; unwrap them
 * again from @cfg (verified with @kek), or -EBADMSG with @msg.
 */
void dname_key_wipe(struct atr_mount *m);
int dname_key_reload(struct atr_mount *m, const struct kek *kek,
		     const struct vol_config *cfg, char *msg, size_t msglen);

/*
 * namecache.c: names decrypted in a directory, by backing name.  _get(),
 * _put() and _drop() take @dir->lock; _free() is called with it
 * write-held, or with the inode unreachable.
 */
bool ncache_get(struct atr_inode *dir, const char *bname,
		char out[NAMES_PLAIN_MAX + 1]);
void ncache_put(struct atr_mount *m, struct atr_inode *dir, const char *bname,
		const char *plain);
/* @bname's entry gone (unlinked or renamed away through the mount). */
void ncache_drop(struct atr_mount *m, struct atr_inode *dir,
		 const char *bname);
void ncache_free(struct atr_mount *m, struct atr_inode *dir);

/* itable.c */
struct atr_inode *itable_ino(struct atr_mount *m, fuse_ino_t ino);
/*
 * Takes @fd, just opened as @name (backing) in @dir; returns the inode
 * with one more lookup, or NULL (ENOMEM).  NULL @dir: no name to reopen
 * it by, so a new inode keeps @fd open unless it has a handle.
 */
struct atr_inode *itable_get(struct atr_mount *m, int fd,
			     const struct stat *st, struct atr_inode *dir,
			     const char *name);
/* One more lookup of @ai, which the caller holds one of. */
void itable_hold(struct atr_mount *m, struct atr_inode *ai);
void itable_put(struct atr_mount *m, struct atr_inode *ai, uint64_t n);
/*
 * The inode of @fd (a walk's fd of the backing file @st, not taken), with
 * one more lookup, whatever its name is by now: 0 or -errno.
 */
int itable_pin(struct atr_mount *m, int fd, const struct stat *st,
	       struct atr_inode **out);
/* The inode of @st if the table has it, with one more lookup, or NULL. */
struct atr_inode *itable_find(struct atr_mount *m, const struct stat *st);
/* @ai (->lock write-held) is now the backing inode @st: rekeyd.c. */
void itable_move(struct atr_mount *m, struct atr_inode *ai,
		 const struct stat *st);
/* After the session loop: record holes of files still open (holes.c). */
void itable_settle(struct atr_mount *m);
void itable_clear(struct atr_mount *m);
/* @fn on every inode of the table but the root, under itable_lock. */
void itable_each(struct atr_mount *m,
		 void (*fn)(struct atr_mount *, struct atr_inode *, void *),
		 void *arg);

/*
 * inofd.c: the inode's O_PATH|O_NOFOLLOW fd for one backing operation, or
 * -errno (-ENOENT, logged once, if the backing file is gone).  Give it
 * back with ino_fd_put() once the fd, or a /proc/self/fd name of it, is
 * no longer used, and always before the reply: once answered, the kernel
 * may forget the inode, and a FORGET frees it.
 */
int ino_fd_get(struct atr_inode *ai);
/* At mount, once m->root.fd is set: may file handles be used? */
void ino_fd_setup(struct atr_mount *m);
/* Once RLIMIT_NOFILE is final, before serving: size the fd cache. */
void ino_fd_bound(struct atr_mount *m);
void ino_fd_teardown(struct atr_mount *m);
/*
 * A new inode takes @fd (opened as @name in @dir; NULL: no name): cached
 * under its handle, or its name (one lookup of @dir taken: itable_lock
 * held), or kept for good.
 */
void ino_fd_adopt(struct atr_mount *m, struct atr_inode *ai, int fd,
		  struct atr_inode *dir, const char *name);
/*
 * A lookup's fresh fd of a known inode, opened as @name in @dir (NULL:
 * no name): cached if @ai's was closed (one reopen saved), else closed;
 * -1: none (entry_known() opened nothing).  An inode reopened by name is
 * reopened by this one from now on.
 */
void ino_fd_offer(struct atr_inode *ai, int fd, struct atr_inode *dir,
		  const char *name);
/*
 * Online rekey, ai->lock write-held: the inode is now the file of @nfd,
 * an O_PATH fd of it that this takes (keeps or closes); the inode's fd
 * keeps its number.  0 or -errno (nothing changed).
 */
int ino_fd_rebind(struct atr_inode *ai, int nfd);
/*
 * Its fd, handle and name, when the inode is freed: returns the parent
 * whose lookup the name held (the caller gives it back), or NULL.
 */
struct atr_inode *ino_fd_release(struct atr_inode *ai);
/* Keeps errno: it may be the answer of the call the fd was lent to. */
void ino_fd_put(struct atr_inode *ai);
/* Has the backing file no link left (or is it gone altogether)? */
bool ino_fd_gone(struct atr_inode *ai);
/* openat(2) and friends relative to directory @dir: -1 and errno. */
int ino_openat(struct atr_inode *dir, const char *name, int flags,
	       mode_t mode);
int ino_unlinkat(struct atr_inode *dir, const char *name, int flags);
int ino_fstatat(struct atr_inode *dir, const char *name, struct stat *st,
		int flags);
int ino_symlinkat(const char *target, struct atr_inode *dir,
		  const char *name);
int ino_mknodat(struct atr_inode *dir, const char *name, mode_t mode,
		dev_t rdev);
/* A duplicate of @ai's fd that outlives the request, or -1. */
int ino_fd_dup(struct atr_inode *ai);
/*
 * Names an unlink, rmdir or rename changes, for inodes reopened by name.
 * Before: ino_name_hold() gives the inode reopened by @name in @dir, its
 * fd held open (ino_fd_get) and one lookup taken, or NULL (none, or it is
 * reopened otherwise).  Then, with ino_names_lock() held across the
 * syscall (so take every fd it needs first) and only if it succeeded,
 * ino_name_move(): the name is now @toname in *@to (one lookup of it the
 * caller took; set to NULL if the inode keeps it), or gone (*@to NULL),
 * when the inode's fd stays open for good.  It returns the directory
 * whose lookup to give back (itable_put) after ino_names_unlock(), or
 * NULL.  Last, ino_name_done() on what ino_name_hold() gave.
 */
struct atr_inode *ino_name_hold(struct atr_mount *m, struct atr_inode *dir,
				const char *name);
void ino_names_lock(struct atr_mount *m);
void ino_names_unlock(struct atr_mount *m);
struct atr_inode *ino_name_move(struct atr_inode *ai, struct atr_inode *from,
				const char *fromname, struct atr_inode **to,
				const char *toname);
void ino_name_done(struct atr_mount *m, struct atr_inode *ai);
/*
 * The same for an unlink of an inode reopened by its handle: the inode of
 * @st (the name's stat; NULL: none), held as ino_name_hold() does, if the
 * name is its last (a handle does not open a file with none left); NULL
 * otherwise.  Once the unlink succeeded, ino_last_gone() keeps its fd open
 * for good (the kernel may still ask for its attributes: the SETATTR of
 * its times that follows every unlink, fstat of it while open).  Then
 * ino_name_done().
 */
struct atr_inode *ino_last_hold(struct atr_mount *m, const struct stat *st);
void ino_last_gone(struct atr_inode *ai);

/*
 * fileids.c: the file ID each inode's header carries, one inode per ID.
 * Claim @id for @ai once its header is authenticated or made: -EBADMSG,
 * logged with both files, if another inode of the mount holds it.
 */
int fileid_claim(struct atr_mount *m, struct atr_inode *ai,
		 const uint8_t id[FILE_ID_LEN]);
/* Before @ai leaves the table. */
void fileid_release(struct atr_mount *m, struct atr_inode *ai);
/* After every inode was released. */
void fileid_clear(struct atr_mount *m);

/*
 * filestate.c: this machine's record of the volume's files, the last
 * version of each file ID that settled here, in a journal in the volume's
 * state directory.  Every function but fstate_open() takes NULL (no state
 * directory): then nothing is recorded.
 */
#define FSTATE_NAME	ATR_FILES_NAME
struct fstate;
/*
 * Load the journal in the state directory @dirfd (duplicated; @dirpath
 * names it in messages), rewrite it compacted, and keep it open for
 * appends: 0, 1 if there was none (nothing recorded here yet), or -errno
 * with @msg (-EBADMSG: a record fails its MAC; -EPERM: the journal is not
 * a regular file of ours that only we may write).
 */
int fstate_open(int dirfd, const char *dirpath, const struct kek *kek,
		const uint8_t uuid[VOL_UUID_LEN], struct fstate **out,
		char *msg, size_t msglen);
/* The last counter recorded for @id, 0 if none. */
uint64_t fstate_get(struct fstate *s, const uint8_t id[FILE_ID_LEN]);
/*
 * Record @counter for @id (0: drop it), in memory and by one appended
 * record; a failure to append is logged once.  Callers order the records
 * of one ID (its inode's lock).
 */
void fstate_put(struct fstate *s, const uint8_t id[FILE_ID_LEN],
		uint64_t counter);
/* The number of file IDs recorded (in memory: dropped ones are gone). */
size_t fstate_count(struct fstate *s);
/* At a clean unmount, with no put running: rewrite the journal compacted. */
int fstate_compact(struct fstate *s);
void fstate_free(struct fstate *s);
/*
 * While mounted, a KEK rotation: rewrite the journal under @kek's file
 * state key and append under it from then on.  0 or -errno (the old key
 * and file stay).
 */
int fstate_rekey(struct fstate *s, const struct kek *kek,
		 const uint8_t uuid[VOL_UUID_LEN]);
/* The state directory (borrowed), for the control socket. */
int fstate_dirfd(const struct fstate *s);
/* Its path, for messages (borrowed). */
const char *fstate_dirpath(const struct fstate *s);
/*
 * Lock: wipe the key and its HMAC context (nothing is recorded while
 * locked); unlock: derive them again from @kek.  0 or -errno.
 */
void fstate_key_wipe(struct fstate *s);
int fstate_key_load(struct fstate *s, const struct kek *kek,
		    const uint8_t uuid[VOL_UUID_LEN]);

/*
 * ctl.c: the control socket in the state directory @statefd (-1: none,
 * only the idle timer), and its thread, for an online KEK rotation, lock
 * and unlock; it locks the mount when -o idle= passes without a request.
 * Started once serving, stopped before the inode table goes.
 */
int ctl_start(struct atr_mount *m, int statefd);
void ctl_stop(struct atr_mount *m);
/* After a rename answered, for a KEK rotation under way: see ctl.c. */
void ctl_renamed(struct atr_mount *m, int dirfd, const char *name);

/*
 * rekeyd.c: "atrestfs rekey MOUNTPOINT", on ctl.c's thread.  Every
 * regular file (@all, resumable through the run record in the state
 * directory) or the one the kernel knows as backing inode @ino, rekeyed
 * by volume/rekey.c while its inode is write-locked, then the live inode
 * and its open handles moved to the new file.  @cb: progress in files
 * (non-zero: stop, the run record kept), and a warning per file left
 * (@path NULL when @what names it).  0 with @st, or -errno with @msg.
 */
struct rekeyd_cb {
	int (*progress)(void *ctx, uint64_t done, uint64_t total);
	void (*warn)(void *ctx, const char *path, const char *what);
	void *ctx;
};
struct rekeyd_stats {
	uint64_t rekeyed, empty, before, failed, damaged, resumed;
};
int rekeyd_run(struct atr_mount *m, bool all, uint64_t ino,
	       const struct rekeyd_cb *cb, struct rekeyd_stats *st,
	       char *msg, size_t msglen);
/*
 * ops_file.c, with ai->lock write-held: a handle's fd is listed from its
 * open to its release; rekeyd_follow() moves an fd opened before the
 * lock was taken to the file the inode is now.  0 or -errno.
 */
int rekeyd_handle_add(struct atr_inode *ai, int fd);
void rekeyd_handle_del(struct atr_inode *ai, int fd);
int rekeyd_follow(struct atr_inode *ai, int fd);
/* An empty journal in the state directory @dirfd: atr_files_reset(). */
int fstate_reset(int dirfd);

/*
 * shared.c, -o shared: an OFD lock (@type F_RDLCK or F_WRLCK) on the
 * backing bytes of plaintext [@off, @off + @len) of @ai, through @fd
 * (open for writing for F_WRLCK), and on everything from there to the end
 * when @to_end or when the range reaches the last extent.  Taken with
 * ai->lock held, given back by shared_unlock() before it is released.
 * 0 (also without -o shared: then nothing is held) or -errno, logged;
 * -EIO when the lock is not granted in SHARED_LOCK_WAIT_MS (anyone who
 * can open the backing file can hold one for good).
 */
#define SHARED_LOCK_WAIT_MS	10000
struct shared_rd;
struct shared_lk {
	int fd;
	uint64_t start, len;		/* len 0: to infinity */
	bool held;
	struct atr_mount *m;		/* a read lock: the mount ... */
	struct shared_rd *rd;		/* ... and its fd's reads, or NULL */
	/* A read lock, under m->shared_rd_lock: the hull it locked, ... */
	uint64_t rs, re;		/* re UINT64_MAX: to infinity */
	struct shared_lk *rnext;	/* ... and the fd's next read */
};
int shared_lock(struct atr_mount *m, struct atr_inode *ai, int fd,
		short type, uint64_t off, uint64_t len, bool to_end,
		struct shared_lk *lk);
void shared_unlock(struct shared_lk *lk);
/*
 * The header of an empty file another host is creating: its version record
 * went first, so it writes the header next.  fgetxattr()'s result, waiting
 * up to SHARED_HEADER_WAIT_MS while there is none (then -1, ENODATA).
 */
#define SHARED_HEADER_WAIT_MS	2000
/*
 * fio_size() in shared mode: the backing size asked of the cluster file
 * system itself, never its client's cached attributes.
 */
int shared_size(const struct atr_mount *m, int fd, uint64_t *size);
/*
 * After a data operation in shared mode, with its result *@n: -EAGAIN is
 * a zeroed extent met in a file whose key was loaded without a sparse
 * record (fileio.c).  True if the record is there now (another host made
 * holes since): run the operation again.  Else *@n becomes -EBADMSG,
 * logged once.
 */
bool shared_hole_again(struct atr_inode *ai, int fd, ssize_t *n);
int shared_header_wait(int fd, uint8_t *raw, size_t len);

/*
 * rollback.c: the version protocol (design.md, "Rollback of files").  All
 * with ai->lock write-held but rollback_unlinking() and
 * rollback_unlinked(), which take it themselves.
 */
/* Nothing known of a version: a key made, dropped or about to load. */
void rollback_reset(struct atr_inode *ai);
/*
 * After the header of @ai's key authenticated (@flags its HDR_F_*): check
 * its version record against the file and this machine's record.
 * -EBADMSG, logged once, for a file older or shorter than its record or
 * than the version recorded here, or whose record was removed.
 */
int rollback_load(struct atr_mount *m, struct atr_inode *ai, int fd,
		  uint16_t flags);
/*
 * A file being made (format 2): its first record, dirty, counter 1,
 * written on @fd before the header that says it has one (HDR_F_VER).
 */
int rollback_create(const struct file_key *fk, int fd);
/* Its key attached to @ai: the record on the file is dirty already. */
void rollback_created(struct atr_inode *ai);
/* Before the first change of data since the key was loaded or settled. */
int rollback_change(struct atr_mount *m, struct atr_inode *ai, int fd);
static inline int rollback_touch(struct atr_mount *m, struct atr_inode *ai,
				 int fd)
{
	return ai->ver_changed ? 0 : rollback_change(m, ai, fd);
}
/*
 * At settle, for a changed file: write the clean record of its size and
 * last extent.  1 when it did (the header then needs HDR_F_VER), 0 if
 * nothing had changed, or -errno.
 */
int rollback_record(struct atr_mount *m, struct atr_inode *ai, int fd);
/*
 * The tag of the file's last extent as the data path last wrote it
 * (@end: just past its sealed bytes; NULL: the file is empty), so that a
 * settle need not read the file (which would touch its atime);
 * rollback_end_lost() when a failed change leaves it unknown.
 */
static inline void rollback_end(struct atr_inode *ai, const uint8_t *end)
{
	if (end)
		memcpy(ai->ver_tag, end - AEAD_TAG_LEN, AEAD_TAG_LEN);
	else
		memset(ai->ver_tag, 0, AEAD_TAG_LEN);
	/* Shared: another host may write a newer end at any time. */
	ai->ver_tag_ok = !ai->mnt->opt_mnt.shared;
}

static inline void rollback_end_lost(struct atr_inode *ai)
{
	ai->ver_tag_ok = false;
}

/* The header has HDR_F_VER now: the file is clean. */
void rollback_settled(struct atr_inode *ai);
/*
 * The file's size changed in the backing directory while it was open
 * (fio_data_size()): its version record says so for good (VERREC_F_CUT),
 * so that no later settle signs the damage and no remount takes it for a
 * crash.  Best effort: the error was already returned and logged.
 */
void rollback_cut(struct atr_mount *m, struct atr_inode *ai, int fd);
/*
 * After rollback_settled(), and at fsync after the backing fsync: this
 * machine's record of the version that settled.
 */
void rollback_commit(struct atr_mount *m, struct atr_inode *ai);
/* The file takes a new ID (key_first_data()): @old_id's last version. */
void rollback_new_id(struct atr_mount *m, struct atr_inode *ai,
		     const uint8_t old_id[FILE_ID_LEN]);
/*
 * @name in @dir is about to go (unlink, or rename over it): what to drop
 * from this machine's record if it was a file's last link.  Fills @ul;
 * rollback_unlinked() with the outcome of the removal.
 */
struct rollback_unlink {
	struct atr_inode *ai;		/* the inode, if the table has it */
	uint8_t id[FILE_ID_LEN];
	bool known;			/* @id is its file's, recorded here */
};
/* @st: the stat of the name to go, taken by the caller (NULL: none). */
void rollback_unlinking(struct atr_mount *m, const struct stat *st,
			struct rollback_unlink *ul);
void rollback_unlinked(struct atr_mount *m, struct rollback_unlink *ul,
		       int err);

/* The mount's KEK, read-held until kek_put(): never across a wait. */
static inline const struct kek *kek_get(struct atr_mount *m)
{
	pthread_rwlock_rdlock(&m->kek_lock);
	return m->kek;
}

static inline void kek_put(struct atr_mount *m)
{
	pthread_rwlock_unlock(&m->kek_lock);
}

/*
 * kek_get() for a caller that may already hold ->kek_lock, or run under
 * a writer of it (a log line's tap): NULL, holding nothing, where the
 * lock is not free to read-hold at once or the mount is locked.
 */
static inline const struct kek *kek_tryget(struct atr_mount *m)
{
	if (pthread_rwlock_tryrdlock(&m->kek_lock))
		return NULL;
	if (!m->kek) {
		pthread_rwlock_unlock(&m->kek_lock);
		return NULL;
	}
	return m->kek;
}

/* key.c: per-file keys.  All are called with ai->lock write-held. */
/*
 * Take a reference on the file's key, loading and checking its header
 * through @fd (a real, readable fd) on the first one.  -EBADMSG (logged)
 * if the header is missing, corrupt or from another volume.  With an
 * audit log, the first reference of each user while the key stays loaded
 * is audited: dek_unwrap for the one that loads it, dek_use for others.
 */
int key_ref(struct atr_mount *m, struct atr_inode *ai, int fd);
void key_unref(struct atr_mount *m, struct atr_inode *ai);
/*
 * Lock: drop @ai's key as its last close would (after fio_settle_late()),
 * its open handles kept; unlock: key_reload() loads it again for them.
 * Both with ai->lock write-held; key_reload() 0 or -errno (logged).
 */
void key_wipe(struct atr_mount *m, struct atr_inode *ai);
int key_reload(struct atr_mount *m, struct atr_inode *ai);
/*
 * Write a new header on a just-created empty file; *fk receives its key,
 * owned by the caller until key_attach().  -EEXIST: another opener wrote
 * one first (use key_ref()).  Needs no inode, so it can run before the
 * file is first looked up.
 */
int key_new(struct atr_mount *m, int fd, struct file_key **fk);
/* Take a reference with the key of key_new(), which this consumes. */
void key_attach(struct atr_mount *m, struct atr_inode *ai,
		struct file_key *fk);
/* Record, once, that this file may contain holes (see docs/format.md). */
int key_mark_sparse(struct atr_inode *ai, int fd);
/*
 * Shared mode: does the file have a sparse record now (another host's
 * holes)?  Read again if it had none; ai->lock held, read or write.
 */
bool key_sparse_again(struct atr_inode *ai, int fd);
/*
 * Before the first data goes into the empty file @fd: unless this mount
 * made the loaded key for it, a fresh file ID and DEK (a header copied
 * from another file must not get this file's data sealed under its ID).
 */
int key_first_data(struct atr_mount *m, struct atr_inode *ai, int fd);
/*
 * The header's flags: key_add_flags() adds HDR_F_DATA once data is
 * written and HDR_F_VER once a version record is, both in one rewrap (at
 * close, fsync and unmount; -EBADMSG never): 1 when it rewrote the
 * header, 0 when it had them.  key_no_data() clears HDR_F_DATA before the
 * file is cut to zero through the mount.
 */
int key_add_flags(struct atr_mount *m, struct atr_inode *ai, int fd,
		  uint16_t add);
int key_no_data(struct atr_mount *m, struct atr_inode *ai, int fd);
/*
 * A bad header or version record is logged once per inode while the
 * kernel knows it: a program retrying one file would otherwise fill the
 * log.
 */
void key_log(struct atr_inode *ai, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * worder.c: a write that would leave a gap past the end of its file waits
 * for the writes already received that will fill it.  A write registers
 * itself (@w, on the caller's stack until worder_leave()) before it takes
 * ai->lock.  worder_wait() is called by fileio.c with ai->lock write-held
 * and the file's size @eof; true means it dropped and retook the lock, so
 * the size must be read again.
 */
struct worder {
	struct worder *next;		/* mnt->worder_lock */
	uint64_t off, end;		/* immutable while registered */
};

void worder_enter(struct atr_mount *m, struct atr_inode *ai,
		  struct worder *w, uint64_t off, size_t size);
bool worder_wait(struct atr_mount *m, struct atr_inode *ai,
		 const struct worder *w, uint64_t eof);
void worder_leave(struct atr_mount *m, struct atr_inode *ai,
		  struct worder *w);

/*
 * endcopy.c: a copy of a file's last extent in the state directory, kept
 * before a write rewrites it in place, for rollback_load() to put back
 * what a daemon killed mid-write tore (design.md §8).  All but the first
 * three with ai->lock write-held.  endcopy_dir_open(): at mount, ends/ in
 * the state directory @statefd, made if need be, into m->ends_fd, and the
 * entries it holds; 0 or -errno.  endcopy_free(): at atr_mount_free().
 */
struct fio_tls;
struct verrec_end;
int endcopy_dir_open(struct atr_mount *m, int statefd);
void endcopy_free(struct atr_mount *m);
/*
 * At the lookup of @ai, of stat @st taken after endcopy_epoch() returned
 * @epoch: if a crash left an entry for its file, load its key, which puts
 * its end back (rollback_load()); if that, or another lookup's recovery,
 * may have changed it since, @st is stat again, so that the kernel learns
 * the size it has then: with the writeback cache it never takes a size
 * from the daemon again.
 */
uint64_t endcopy_epoch(struct atr_mount *m);
void endcopy_lookup(struct atr_mount *m, struct atr_inode *ai,
		    struct stat *st, uint64_t epoch);
/*
 * Before extent @idx of @fd, whose backing size is @dend, is rewritten in
 * place: its sealed bytes as they are now, under the file's dirty
 * version counter.  A failure is logged once per inode, and the write
 * goes on without the copy.  Uses t->plain.
 */
void endcopy_save(struct atr_mount *m, struct fio_tls *t, struct atr_inode *ai,
		  int fd, uint64_t dend, uint64_t idx);
/*
 * The entry of the file's current ID: its record into @e and the copy
 * into @copy (extent_disk_size bytes), *@len bytes of it.  0, -ENOENT (or
 * another -errno) for none, -EBADMSG for one that does not authenticate
 * or is torn.
 */
int endcopy_load(struct atr_mount *m, struct atr_inode *ai,
		 struct verrec_end *e, uint8_t *copy, size_t *len);
/* Remove the entry of the file's current ID (recovered, or stale). */
void endcopy_forget(struct atr_mount *m, struct atr_inode *ai);
/* The key that kept copies goes: close and remove its entry. */
void endcopy_drop(struct atr_mount *m, struct atr_inode *ai);

/*
 * tls.c: the data path's per-thread state.  fio_tls_get() returns this
 * thread's, made or remade for the mount's extent size, or NULL (ENOMEM).
 * fio_tls_forget() ends a request: the AEAD context drops the file's key.
 */
/* Largest plaintext span handled at once; FUSE requests are at most 1 MiB. */
#define FIO_SPAN	(1u << 20)

/*
 * Per-thread state, the thread's alone (no lock), freed when it exits.
 * Sizes follow the mount's extent size: @disk holds the sealed extents of
 * one span plus one retired extent, @plain a read reply, @edge[2] the
 * partial extents at either end of a request, @zero zeros for writes of
 * zeros, made on first use.
 */
struct fio_tls {
	struct fio_tls *next, *prev;	/* tls.c's list of all; its lock */
	struct aead_ctx *ac;		/* keeps a file's key for one request,
					   the names key until a lock */
	uint32_t esz;			/* the extent size sized for */
	size_t disk_len;
	uint8_t *disk, *plain, *edge[2], *zero;
};

struct fio_tls *fio_tls_get(struct atr_mount *m);
void fio_tls_forget(struct atr_mount *m);
/*
 * This thread's state if it has one, else NULL (none is made): for work
 * outside the data path that may also run in the main thread at stop.
 */
struct fio_tls *fio_tls_peek(void);
/*
 * Lock, with no request running: wipe every thread's buffers, which hold
 * the plaintext of its last request, and its keys (the names key's too).
 */
void fio_tls_wipe_all(void);
/*
 * The calling thread's reply buffer for a read of @size bytes (at most
 * FIO_SPAN), or NULL.  Owned by the thread; valid until its next request.
 * It is the transport's own buffer where it has one (xport_reply_buf()),
 * so the reply is not copied again.
 */
void *fio_reply_buf(struct atr_mount *m, size_t size);

/*
 * pool.c: helper threads that seal and open the extents of large requests
 * beside the worker that owns them: ncpu - 1 of them, started before the
 * session loop and stopped (keys wiped) after it.  Without them, all runs
 * inline.
 */
int fio_pool_start(struct atr_mount *m);
void fio_pool_stop(struct atr_mount *m);

/* Seal or open extents @lo..@hi of @j's request with @ac. */
struct fio_job;
typedef int (*fio_chunk_fn)(struct fio_job *j, struct aead_ctx *ac,
			    uint64_t lo, uint64_t hi);
/* Chunks @c0..@c1 - 1 are done; called by the owner, in order. */
typedef int (*fio_drain_fn)(struct fio_job *j, uint64_t c0, uint64_t c1);

/*
 * One request's extents @first..@last, cut into chunks that the owner and
 * the helpers run with @fn.  A job with a @drain hands each run of
 * finished chunks to the owner as soon as it is complete.  The owner sets
 * the request part; the pool reads only @rbuf of it (a read may be left to
 * idle helpers, see fio_pool_run()).
 */
struct fio_job {
	fio_chunk_fn fn;		/* owner; immutable while running */
	fio_drain_fn drain;		/* or NULL; likewise */
	uint64_t first, last, per;	/* extents, and extents per chunk */
	uint64_t next, nchunks, pending; /* chunks; pool->lock */
	uint64_t done;			/* bitmap of chunks; pool->lock */
	uint64_t drained;		/* chunks drained; owner only */
	int err;			/* first error; pool->lock */
	bool queued;			/* pool->lock */
	struct fio_job *qnext;		/* pool->lock */
	/*
	 * The request: set by the owner and left alone while the job runs,
	 * but for what the chunks write, each its own extents' part of
	 * @disk or @rbuf, and what the owner's drains change through @out.
	 */
	struct atr_mount *m;
	struct atr_inode *ai;
	const char *buf;		/* write source, or NULL for zeros */
	char *rbuf;			/* read destination */
	uint8_t *disk;			/* sealed span, extent @first at 0 */
	uint8_t *edge[2];
	const uint8_t *zero;
	bool edge_first, edge_last;
	uint64_t off, end, size, lastidx;
	struct fio_out *out;		/* a write's destination */
};

/*
 * Run @j (on the caller's stack) to its end, @ac being the caller's AEAD
 * context; the first error of its chunks and drains, or 0.
 */
int fio_pool_run(struct atr_mount *m, struct aead_ctx *ac, struct fio_job *j);

/*
 * output.c: a request's sealed bytes into the backing file so that a full
 * disk leaves the file as it was.  All three return 0 or -errno; after the
 * first error only fio_out_end() is called, with it.
 */
struct fio_out {		/* one request's, on its stack; owner only */
	struct atr_inode *ai;		/* ai->lock write-held */
	int fd;				/* the backing file */
	uint64_t dend;			/* its backing size before the request */
	bool grew;		/* something went at or past @dend */
};

/* The part of @len sealed bytes for backing offset @off at or past dend. */
int fio_out_past(struct fio_out *o, const uint8_t *buf, uint64_t len,
		 uint64_t off);
/*
 * The part below dend; only once everything past it is written.  @hole:
 * it may lie over holes (not so for a retired last extent, which was just
 * read).
 */
int fio_out_below(struct fio_out *o, const uint8_t *buf, uint64_t len,
		  uint64_t off, bool hole);
/*
 * The end of a request's writes, with its first error (or 0): cuts the
 * file back to @dend if the request grew it and failed.
 */
int fio_out_end(struct fio_out *o, int err);

/*
 * fileio.c: encrypted data path.  @fd is the open backing file and the
 * file key is held.  fio_read() wants ai->lock read-held, the others
 * write-held.  Return bytes or 0, or -errno; -EBADMSG means tampering or
 * corruption and has been logged with the file and extent.
 */
int fio_size(const struct atr_mount *m, int fd, uint64_t *size);
ssize_t fio_read(struct atr_mount *m, struct atr_inode *ai, int fd,
		 char *buf, size_t size, uint64_t off);
/* @w: the write as registered with worder.c, or NULL for none. */
ssize_t fio_write(struct atr_mount *m, struct atr_inode *ai, int fd,
		  const char *buf, size_t size, uint64_t off,
		  const struct worder *w);
int fio_truncate(struct atr_mount *m, struct atr_inode *ai, int fd,
		 uint64_t size);
int fio_fallocate(struct atr_mount *m, struct atr_inode *ai, int fd,
		  int mode, uint64_t off, uint64_t len);
/* For holes.c: a whole pread (short only at EOF), bytes or -errno. */
ssize_t fio_pread_full(int fd, void *buf, size_t len, uint64_t off);
/*
 * fio_size() with a bad size (tampering) logged, once; so is a file cut
 * to zero bytes whose header says it holds data.
 */
int fio_data_size(struct atr_mount *m, struct atr_inode *ai, int fd,
		  uint64_t *size);
/*
 * Before fsync and a mode change, at the last close and when the daemon
 * stops, what a file's writes left pending goes to disk: holes a WRITE
 * left that are still holes on disk are recorded (the sparse record), a
 * changed file gets a clean version record (rollback.c), and the header
 * says whether the file holds data (HDR_F_DATA) and has a record
 * (HDR_F_VER).  None is synced, and this machine's record of the version
 * is left to rollback_commit().  ai->lock write-held; @fd the backing
 * file, or -1 to open it here.  Returns 1 when it wrote any, 0 when
 * nothing was needed, or -errno (what is pending stays so).
 * fio_settle_late() is for where the caller can only log a failure (close
 * has returned, the daemon is stopping); it also commits.
 */
int fio_settle(struct atr_mount *m, struct atr_inode *ai, int fd);
void fio_settle_late(struct atr_mount *m, struct atr_inode *ai, int fd);

/*
 * holes.c: a file's holes.  As for fileio.c, @fd is the open backing file
 * and the key is held; fio_seek() (SEEK_DATA/SEEK_HOLE) and fio_hole_ok()
 * want ai->lock read-held, the others write-held.  fio_punch() is
 * fallocate's FALLOC_FL_PUNCH_HOLE, and the first half of its
 * FALLOC_FL_ZERO_RANGE (fio_fallocate()).
 */
int64_t fio_seek(struct atr_mount *m, struct atr_inode *ai, int fd,
		 uint64_t off, int whence);
int fio_punch(struct atr_mount *m, struct atr_inode *ai, int fd,
	      uint64_t off, uint64_t len);
/*
 * fio_settle() (fileio.c) of the holes a WRITE left: those still holes on
 * disk are recorded now.  1 when it wrote the record, 0 when none was
 * needed, or -errno (the list is kept).
 */
int fio_holes_settle(struct atr_mount *m, struct atr_inode *ai, int fd);
/* May extent @idx (not the last) be a hole? */
bool fio_hole_ok(const struct atr_inode *ai, uint64_t idx);
/*
 * Extents [lo, hi) become holes: recorded at once (the sparse record),
 * or, @pending (a WRITE's), listed until fio_settle().  0 or -errno.
 */
int fio_gap_open(struct atr_inode *ai, int fd, uint64_t lo, uint64_t hi,
		 bool pending);
/* Extents [lo, hi) hold data now, or no longer exist.  0 or -errno. */
int fio_gap_close(struct atr_inode *ai, int fd, uint64_t lo, uint64_t hi);

/* attr.c */
/* Backing stat to what the user sees: plaintext sizes of files and links. */
void attr_fix(const struct atr_mount *m, struct atr_inode *ai,
	      struct stat *st);
int attr_get(struct atr_mount *m, struct atr_inode *ai, struct stat *st);
/*
 * "/proc/self/fd/N" for syscalls that do not take an O_PATH fd: the fd
 * (ino_fd_put() it after the last use of @buf) or -errno.
 */
int attr_procname(struct atr_inode *ai, char buf[64]);
/* Open the backing inode for I/O with @flags: fd or -errno. */
int attr_reopen(struct atr_inode *ai, int flags);
/* The same for the inode an O_PATH fd @pfd holds. */
int attr_reopen_fd(int pfd, int flags);

/* ops_*.c: the operation tables' parts */
extern const struct fuse_lowlevel_ops atr_ops;
/* @name here and below: a backing name (dname_get()). */
int entry_lookup(struct atr_mount *m, struct atr_inode *parent,
		 const char *name, struct fuse_entry_param *e);
/*
 * What is at @name in @dir now, held: an O_PATH|O_NOFOLLOW fd (the caller
 * closes it) with its attributes in @st, or -errno.  A name is looked up
 * once; everything after goes by the fd.
 */
int entry_pin(struct atr_inode *dir, const char *name, struct stat *st);
bool entry_reserved(struct atr_mount *m, struct atr_inode *parent,
		    const char *name);
/*
 * Running as root: hand the new node @fd (open, or O_PATH) in @dir to the
 * requesting uid/gid.  By fd, never by name: the name may change under us.
 */
int entry_give(fuse_req_t req, struct atr_inode *dir, int fd);

void atr_lookup(fuse_req_t, fuse_ino_t, const char *);
void atr_forget(fuse_req_t, fuse_ino_t, uint64_t);
void atr_forget_multi(fuse_req_t, size_t, struct fuse_forget_data *);
void atr_getattr(fuse_req_t, fuse_ino_t, struct fuse_file_info *);
void atr_access(fuse_req_t, fuse_ino_t, int);
void atr_setattr(fuse_req_t, fuse_ino_t, struct stat *, int,
		 struct fuse_file_info *);
void atr_readlink(fuse_req_t, fuse_ino_t);
void atr_mknod(fuse_req_t, fuse_ino_t, const char *, mode_t, dev_t);
void atr_mkdir(fuse_req_t, fuse_ino_t, const char *, mode_t);
void atr_unlink(fuse_req_t, fuse_ino_t, const char *);
void atr_rmdir(fuse_req_t, fuse_ino_t, const char *);
void atr_symlink(fuse_req_t, const char *, fuse_ino_t, const char *);
void atr_rename(fuse_req_t, fuse_ino_t, const char *, fuse_ino_t,
		const char *, unsigned int);
void atr_link(fuse_req_t, fuse_ino_t, fuse_ino_t, const char *);
void atr_statfs(fuse_req_t, fuse_ino_t);

void atr_create(fuse_req_t, fuse_ino_t, const char *, mode_t,
		struct fuse_file_info *);
void atr_open(fuse_req_t, fuse_ino_t, struct fuse_file_info *);
void atr_read(fuse_req_t, fuse_ino_t, size_t, off_t, struct fuse_file_info *);
void atr_write(fuse_req_t, fuse_ino_t, const char *, size_t, off_t,
	       struct fuse_file_info *);
void atr_flush(fuse_req_t, fuse_ino_t, struct fuse_file_info *);
void atr_release(fuse_req_t, fuse_ino_t, struct fuse_file_info *);
void atr_fsync(fuse_req_t, fuse_ino_t, int, struct fuse_file_info *);
void atr_fallocate(fuse_req_t, fuse_ino_t, int, off_t, off_t,
		   struct fuse_file_info *);
void atr_lseek(fuse_req_t, fuse_ino_t, off_t, int, struct fuse_file_info *);

void atr_opendir(fuse_req_t, fuse_ino_t, struct fuse_file_info *);
void atr_readdir(fuse_req_t, fuse_ino_t, size_t, off_t, struct fuse_file_info *);
void atr_readdirplus(fuse_req_t, fuse_ino_t, size_t, off_t,
		     struct fuse_file_info *);
void atr_releasedir(fuse_req_t, fuse_ino_t, struct fuse_file_info *);
void atr_fsyncdir(fuse_req_t, fuse_ino_t, int, struct fuse_file_info *);

void atr_setxattr(fuse_req_t, fuse_ino_t, const char *, const char *, size_t,
		  int);
void atr_getxattr(fuse_req_t, fuse_ino_t, const char *, size_t);
void atr_listxattr(fuse_req_t, fuse_ino_t, size_t);
void atr_removexattr(fuse_req_t, fuse_ino_t, const char *);

static inline struct atr_mount *atr_mnt(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static inline uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Internal errors to what the user sees: tampering is EIO. */
static inline int atr_errno(int err)
{
	if (err == -EBADMSG || err == -ENOKEY || err == -EPROTONOSUPPORT)
		return EIO;
	return -err;
}

#endif
