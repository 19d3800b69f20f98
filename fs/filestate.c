// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/filestate.c - this machine's record of a volume's files: for each
 * file ID, the last version (counter) of it that settled here, kept in a
 * journal in the volume's state directory, outside the volume
 * (docs/format.md 12).  rollback.c reads it when a file's key is loaded
 * and adds to it when a version settles.  Owns the journal's descriptors,
 * the table it is loaded into, and the state key (secmem).
 *
 * The journal is FSTATE_NAME: a header, then records of VERREC_STATE_LEN
 * bytes (crypto/verrec.h), each appended with one write(2) to a file
 * opened O_APPEND, so records of concurrent threads never interleave; the
 * last record of a file ID is the one that counts, and counter 0 drops
 * it.  It is loaded at mount and rewritten (compacted) then and at a clean
 * unmount, through a temporary file, fsync and rename.
 *
 * Appends are not synced.  A record names a version that is already on
 * the file (its version record is written first), so one lost to a crash
 * only leaves that file's rollback undetected until it changes again;
 * syncing each would cost a disk flush per close.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../crypto/msg.h"
#include "../crypto/secmem.h"
#include "../crypto/verrec.h"
#include "fs_private.h"

#define FSTATE_TMP	".files.tmp"
#define HDR_LEN		16
#define MAGIC		"ATRFILES"
#define REC		VERREC_STATE_LEN
#define READ_RECS	1024	/* records read at a time */

struct fstate_ent {
	uint8_t id[FILE_ID_LEN];
	uint64_t counter;		/* 0: dropped (or never set) */
	bool used;
};

/*
 * Locking: ->lock is innermost (taken under ai->lock, nothing under it).
 * Appends of one file ID are ordered by its inode's lock, so the journal
 * itself is written outside ->lock.
 */
struct fstate {
	int dirfd;			/* the state directory; immutable */
	/*
	 * ->key_lock: read-held by an append (seal and write), write-held
	 * by fstate_rekey() to change all three (a KEK rotation while
	 * mounted) and by a lock and unlock (revoke.c), which wipe and
	 * rebuild ->key and ->mac.
	 */
	pthread_rwlock_t key_lock;
	int fd;				/* FSTATE_NAME, O_APPEND; ->key_lock */
	uint8_t *key;			/* secmem; ->key_lock */
	/*
	 * ->key_lock and ->lock; keyed with @key, NULL while locked: a settle's append then
	 * costs a fifth of a fresh HMAC (its key set-up and method look-up).
	 */
	struct kdf_hmac_batch *mac;
	char *dirpath;			/* for messages; immutable */
	pthread_mutex_t lock;
	struct fstate_ent *tab;		/* ->lock; open addressing */
	size_t cap, used;		/* ->lock; cap a power of two */
	bool append_failed;		/* ->lock; logged once */
	/*
	 * ->lock: records in the journal, and whether it must be rewritten
	 * even with one per recorded ID (a torn end, a failed append).
	 */
	uint64_t nrec;
	bool rewrite;
};

static size_t slot0(const struct fstate *s, const uint8_t id[FILE_ID_LEN])
{
	uint64_t h;

	/* File IDs are random: any 8 of their bytes are a good hash. */
	memcpy(&h, id, sizeof(h));
	return (size_t)h & (s->cap - 1);
}

/* With ->lock held: the entry of @id, or the free one where it goes. */
static struct fstate_ent *find(const struct fstate *s,
			       const uint8_t id[FILE_ID_LEN])
{
	size_t i = slot0(s, id);

	while (s->tab[i].used && memcmp(s->tab[i].id, id, FILE_ID_LEN))
		i = (i + 1) & (s->cap - 1);
	return &s->tab[i];
}

/* With ->lock held; -ENOMEM leaves the table as it was. */
static int grow(struct fstate *s)
{
	struct fstate_ent *old = s->tab, *e;
	size_t ocap = s->cap, i;

	if (s->tab && (s->used + 1) * 4 < s->cap * 3)
		return 0;
	s->cap = ocap ? ocap * 2 : 1024;
	s->tab = calloc(s->cap, sizeof(*s->tab));
	if (!s->tab) {
		s->tab = old;
		s->cap = ocap;
		return -ENOMEM;
	}
	for (i = 0; i < ocap; i++)
		if (old[i].used) {
			e = find(s, old[i].id);
			*e = old[i];
		}
	free(old);
	return 0;
}

/*
 * With ->lock held: empty @e's slot, and move back the entries after it in
 * its cluster that would no longer be found past the gap (backward-shift
 * deletion for linear probing).  A dropped ID must leave the table: every
 * file created and removed while mounted would otherwise keep a slot.
 */
static void drop(struct fstate *s, struct fstate_ent *e)
{
	size_t hole = e - s->tab, j = hole, home;

	for (;;) {
		j = (j + 1) & (s->cap - 1);
		if (!s->tab[j].used)
			break;
		home = slot0(s, s->tab[j].id);
		/* It stays if its home lies cyclically in (hole, j]. */
		if (hole <= j ? hole < home && home <= j
			      : hole < home || home <= j)
			continue;
		s->tab[hole] = s->tab[j];
		hole = j;
	}
	memset(&s->tab[hole], 0, sizeof(s->tab[hole]));
	s->used--;
}

/* With ->lock held.  The previous counter of @id, or 0. */
static int set(struct fstate *s, const uint8_t id[FILE_ID_LEN],
	       uint64_t counter, uint64_t *prev)
{
	struct fstate_ent *e = s->tab ? find(s, id) : NULL;

	*prev = e && e->used ? e->counter : 0;
	if (e && e->used) {
		if (counter)
			e->counter = counter;
		else
			drop(s, e);
		return 0;
	}
	if (counter == 0)
		return 0;
	if (grow(s))
		return -ENOMEM;
	e = find(s, id);
	memcpy(e->id, id, FILE_ID_LEN);
	e->counter = counter;
	e->used = true;
	s->used++;
	return 0;
}

size_t fstate_count(struct fstate *s)
{
	size_t n;

	if (!s)
		return 0;
	pthread_mutex_lock(&s->lock);
	n = s->used;
	pthread_mutex_unlock(&s->lock);
	return n;
}

uint64_t fstate_get(struct fstate *s, const uint8_t id[FILE_ID_LEN])
{
	uint64_t c = 0;

	if (!s)
		return 0;
	pthread_mutex_lock(&s->lock);
	if (s->tab)
		c = find(s, id)->counter;
	pthread_mutex_unlock(&s->lock);
	return c;
}

static void append_failed(struct fstate *s, int err)
{
	bool first;

	pthread_mutex_lock(&s->lock);
	first = !s->append_failed;
	s->append_failed = true;
	s->rewrite = true;
	pthread_mutex_unlock(&s->lock);
	if (first)
		atr_log(LOG_ERR, "cannot add to %s/" FSTATE_NAME ": %s; versions "
			"that settle meanwhile are recorded at unmount",
			s->dirpath, strerror(-err));
}

void fstate_put(struct fstate *s, const uint8_t id[FILE_ID_LEN],
		uint64_t counter)
{
	uint8_t rec[REC];
	uint64_t prev;
	ssize_t n;
	int err;

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	err = set(s, id, counter, &prev);
	pthread_mutex_unlock(&s->lock);
	if (err) {
		append_failed(s, err);
		return;
	}
	if (prev == counter)
		return;
	pthread_rwlock_rdlock(&s->key_lock);
	pthread_mutex_lock(&s->lock);
	err = verrec_state_seal(s->key, s->mac, id, counter, rec);
	pthread_mutex_unlock(&s->lock);
	if (!err) {
		n = write(s->fd, rec, sizeof(rec));
		err = n == (ssize_t)sizeof(rec) ? 0 : n < 0 ? -errno : -ENOSPC;
	}
	pthread_rwlock_unlock(&s->key_lock);
	if (err) {
		append_failed(s, err);
		return;
	}
	pthread_mutex_lock(&s->lock);
	s->nrec++;
	pthread_mutex_unlock(&s->lock);
}

/* ---- loading ---- */

static bool all_zero(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static void hdr_make(uint8_t hdr[HDR_LEN])
{
	memset(hdr, 0, HDR_LEN);
	memcpy(hdr, MAGIC, 8);
	hdr[8] = 1;			/* le32 version */
	hdr[12] = REC;			/* le32 record length */
}

/*
 * The journal must be ours and writable by nobody else (an old copy put
 * back by someone who may write it would undo the records since).
 */
static int check_owned(const struct fstate *s, int fd, char *msg,
		       size_t msglen)
{
	struct stat st;

	if (fstat(fd, &st))
		return msg_fail(msg, msglen, -errno, "%s/" FSTATE_NAME ": %s",
				s->dirpath, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return msg_fail(msg, msglen, -EPERM, "%s/" FSTATE_NAME " is not "
				"a regular file", s->dirpath);
	if (st.st_uid != geteuid() || st.st_mode & 022)
		return msg_fail(msg, msglen, -EPERM, "%s/" FSTATE_NAME " belongs "
				"to uid %u or is writable by others (mode %04o)",
				s->dirpath, (unsigned int)st.st_uid,
				(unsigned int)(st.st_mode & 07777));
	return 0;
}

/*
 * Records @buf[0..n) of a journal, the first one being record @first.
 * A tail of zeros is where a power failure cut the journal short (the
 * size reached the disk before the data); anything else that does not
 * verify was changed outside atrestfs.
 */
static int load_recs(struct fstate *s, struct kdf_hmac_batch *b,
		     const uint8_t *buf, size_t n, uint64_t first,
		     bool *zero_tail, char *msg, size_t msglen)
{
	uint8_t id[FILE_ID_LEN];
	uint64_t counter, prev;
	size_t i;
	int err;

	for (i = 0; i < n; i++) {
		const uint8_t *r = buf + i * REC;

		if (*zero_tail || all_zero(r, REC)) {
			*zero_tail = s->rewrite = true;
			if (!all_zero(r, REC))
				goto bad;
			continue;
		}
		if (verrec_state_open(s->key, b, r, id, &counter))
			goto bad;
		pthread_mutex_lock(&s->lock);
		err = set(s, id, counter, &prev);
		s->nrec++;
		pthread_mutex_unlock(&s->lock);
		if (err)
			return msg_fail(msg, msglen, err, "out of memory loading "
					"%s/" FSTATE_NAME, s->dirpath);
	}
	return 0;
bad:
	return msg_fail(msg, msglen, -EBADMSG, "record %llu of %s/" FSTATE_NAME
			" fails its MAC check: the record of this volume's "
			"files was changed outside atrestfs",
			(unsigned long long)(first + i), s->dirpath);
}

static int load(struct fstate *s, int fd, char *msg, size_t msglen)
{
	uint8_t hdr[HDR_LEN], want[HDR_LEN], *buf;
	struct kdf_hmac_batch *b;
	size_t have = 0, whole;
	uint64_t first = 0;
	bool zero_tail = false;
	ssize_t n;
	int err;

	n = fio_pread_full(fd, hdr, HDR_LEN, 0);
	hdr_make(want);
	if (n < 0)
		return msg_fail(msg, msglen, (int)n, "%s/" FSTATE_NAME ": %s",
				s->dirpath, strerror((int)-n));
	if (n != HDR_LEN || memcmp(hdr, want, HDR_LEN))
		return msg_fail(msg, msglen, -EBADMSG, "%s/" FSTATE_NAME " is not "
				"an atrestfs record of files", s->dirpath);
	buf = malloc(READ_RECS * REC);
	if (!buf)
		return -ENOMEM;
	err = kdf_hmac_begin(s->key, &b);
	if (err) {
		free(buf);
		return err;
	}
	for (;;) {
		n = fio_pread_full(fd, buf + have, READ_RECS * REC - have,
				   HDR_LEN + first * REC + have);
		err = n < 0 ? (int)n : 0;
		if (err) {
			msg_fail(msg, msglen, err, "%s/" FSTATE_NAME ": %s",
				 s->dirpath, strerror(-err));
			break;
		}
		have += (size_t)n;
		whole = have / REC;
		err = load_recs(s, b, buf, whole, first, &zero_tail, msg,
				msglen);
		if (err || n == 0) {
			/* A partial record at the end: cut short. */
			s->rewrite = s->rewrite || have % REC;
			break;
		}
		first += whole;
		memmove(buf, buf + whole * REC, have - whole * REC);
		have -= whole * REC;
	}
	kdf_hmac_end(b);
	free(buf);
	return err;
}

/* ---- writing the whole journal ---- */

/* @len bytes to @fd; 0 or -errno. */
static int write_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ENOSPC;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Every recorded file, then fsync: the new journal as FSTATE_TMP. */
static int write_tmp(struct fstate *s, int fd, uint64_t *nrec)
{
	struct kdf_hmac_batch *b = NULL;
	uint8_t *buf, *p;
	size_t i, cap = READ_RECS * REC;
	uint64_t n = 0;
	int err;

	buf = malloc(HDR_LEN + cap);
	if (!buf)
		return -ENOMEM;
	/* An empty journal (fstate_reset()) has no key to MAC with. */
	err = s->used ? kdf_hmac_begin(s->key, &b) : 0;
	if (err) {
		free(buf);
		return err;
	}
	hdr_make(buf);
	p = buf + HDR_LEN;
	for (i = 0; i < s->cap && !err; i++) {
		if (!s->tab[i].used || !s->tab[i].counter)
			continue;
		err = verrec_state_seal(s->key, b, s->tab[i].id,
					s->tab[i].counter, p);
		p += REC;
		n++;
		if (!err && (size_t)(p - buf) + REC > HDR_LEN + cap) {
			err = write_all(fd, buf, (size_t)(p - buf));
			p = buf;
		}
	}
	if (!err)
		err = write_all(fd, buf, (size_t)(p - buf));
	kdf_hmac_end(b);
	free(buf);
	if (!err && fsync(fd))
		err = -errno;
	*nrec = n;
	return err;
}

/* Does the journal hold more than one record per recorded file? */
static bool loose(const struct fstate *s)
{
	uint64_t live = 0;
	size_t i;

	for (i = 0; i < s->cap; i++)
		live += s->tab[i].used && s->tab[i].counter;
	return s->rewrite || s->nrec != live;
}

/*
 * Rewrite the journal with one record per recorded file: write
 * FSTATE_TMP, fsync it, rename it over FSTATE_NAME, fsync the directory.
 * Called without concurrent fstate_put().
 */
static int compact(struct fstate *s)
{
	uint64_t nrec = 0;
	int fd, err;

	/* Whatever sits at the name (a link put there) goes, unopened. */
	if (unlinkat(s->dirfd, FSTATE_TMP, 0) && errno != ENOENT)
		return -errno;
	fd = openat(s->dirfd, FSTATE_TMP, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	err = write_tmp(s, fd, &nrec);
	if (close(fd) && !err)
		err = -errno;
	if (!err && renameat(s->dirfd, FSTATE_TMP, s->dirfd, FSTATE_NAME))
		err = -errno;
	if (err)
		unlinkat(s->dirfd, FSTATE_TMP, 0);
	else if (fsync(s->dirfd))
		err = -errno;
	if (!err) {
		s->nrec = nrec;
		s->rewrite = false;
	}
	return err;
}

/* Is the journal at the name still the one this mount appends to? */
static bool still_ours(const struct fstate *s)
{
	struct stat a, b;

	return !fstat(s->fd, &a) &&
	       !fstatat(s->dirfd, FSTATE_NAME, &b, AT_SYMLINK_NOFOLLOW) &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int fstate_compact(struct fstate *s)
{
	int err;

	if (!s)
		return 0;
	/*
	 * Replaced meanwhile (atrestfs trust, or another mount of the
	 * volume): what it holds now stands; ours would undo a trust.
	 */
	if (!still_ours(s)) {
		atr_log(LOG_WARNING, "%s/" FSTATE_NAME " was replaced while the "
			"volume was mounted; left as it is", s->dirpath);
		return 0;
	}
	/* Nothing settled, or nothing twice: a volume read, not written. */
	if (!loose(s))
		return 0;
	err = compact(s);
	if (err)
		atr_log(LOG_ERR, "cannot rewrite %s/" FSTATE_NAME ": %s; it keeps "
			"the records added during this mount", s->dirpath,
			strerror(-err));
	return err;
}

void fstate_key_wipe(struct fstate *s)
{
	if (!s)
		return;
	pthread_rwlock_wrlock(&s->key_lock);
	pthread_mutex_lock(&s->lock);
	/* The batch context holds the key's HMAC state: it goes too. */
	kdf_hmac_end(s->mac);
	s->mac = NULL;
	secmem_wipe(s->key, VERREC_STATE_KEY_LEN);
	pthread_mutex_unlock(&s->lock);
	pthread_rwlock_unlock(&s->key_lock);
}

int fstate_key_load(struct fstate *s, const struct kek *kek,
		    const uint8_t uuid[VOL_UUID_LEN])
{
	int err;

	if (!s)
		return 0;
	pthread_rwlock_wrlock(&s->key_lock);
	pthread_mutex_lock(&s->lock);
	err = verrec_state_key(kek, uuid, s->key);
	if (!err)
		err = kdf_hmac_begin(s->key, &s->mac);
	if (err)
		secmem_wipe(s->key, VERREC_STATE_KEY_LEN);
	pthread_mutex_unlock(&s->lock);
	pthread_rwlock_unlock(&s->key_lock);
	return err;
}

void fstate_free(struct fstate *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	kdf_hmac_end(s->mac);		/* cleanses the key's state */
	secmem_free(s->key, VERREC_STATE_KEY_LEN);
	pthread_mutex_destroy(&s->lock);
	pthread_rwlock_destroy(&s->key_lock);
	free(s->tab);
	free(s->dirpath);
	free(s);
}

static struct fstate *fstate_alloc(int dirfd, const char *dirpath)
{
	struct fstate *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->fd = -1;
	s->dirfd = -1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_rwlock_init(&s->key_lock, NULL);
	s->key = secmem_alloc(VERREC_STATE_KEY_LEN);
	s->dirpath = strdup(dirpath);
	s->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	if (!s->key || !s->dirpath || s->dirfd < 0) {
		fstate_free(s);
		return NULL;
	}
	return s;
}

/* Load FSTATE_NAME if there is one: 0, 1 if there is none, or -errno. */
static int load_file(struct fstate *s, char *msg, size_t msglen)
{
	int fd, err;

	/* O_NONBLOCK: a FIFO put there is refused, not waited on. */
	fd = openat(s->dirfd, FSTATE_NAME, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
		    O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd < 0)
		return msg_fail(msg, msglen, errno == ELOOP ? -EPERM : -errno,
				"cannot open %s/" FSTATE_NAME ": %s", s->dirpath,
				strerror(errno));
	err = check_owned(s, fd, msg, msglen);
	if (!err)
		err = load(s, fd, msg, msglen);
	close(fd);
	return err;
}

int fstate_open(int dirfd, const char *dirpath, const struct kek *kek,
		const uint8_t uuid[VOL_UUID_LEN], struct fstate **out,
		char *msg, size_t msglen)
{
	struct fstate *s = fstate_alloc(dirfd, dirpath);
	int none, err;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	err = verrec_state_key(kek, uuid, s->key);
	if (err)
		goto out_free;
	none = load_file(s, msg, msglen);
	/*
	 * During a KEK rotation the journal may still be under the old key:
	 * read it with that one, and rewrite it under the new one below.
	 */
	if (none == -EBADMSG && kek->retiring) {
		fstate_free(s);
		s = fstate_alloc(dirfd, dirpath);
		if (!s)
			return -ENOMEM;
		err = verrec_state_key(kek->retiring, uuid, s->key);
		none = err ? err : load_file(s, msg, msglen);
		if (none >= 0)
			err = verrec_state_key(kek, uuid, s->key);
		if (err)
			goto out_free;
		s->rewrite = true;
	}
	err = none < 0 ? none : none || loose(s) ? compact(s) : 0;
	if (err && none >= 0)
		msg_fail(msg, msglen, err, "cannot write %s/" FSTATE_NAME ": %s",
			 dirpath, strerror(-err));
	if (!err)
		err = kdf_hmac_begin(s->key, &s->mac);
	if (err)
		goto out_free;
	s->fd = openat(s->dirfd, FSTATE_NAME, O_WRONLY | O_APPEND | O_NOFOLLOW |
		       O_CLOEXEC);
	if (s->fd < 0) {
		err = msg_fail(msg, msglen, -errno, "cannot open %s/" FSTATE_NAME
			       ": %s", dirpath, strerror(errno));
		goto out_free;
	}
	*out = s;
	return none;
out_free:
	fstate_free(s);
	return err;
}

int fstate_rekey(struct fstate *s, const struct kek *kek,
		 const uint8_t uuid[VOL_UUID_LEN])
{
	struct kdf_hmac_batch *mac = NULL;
	uint8_t *was;
	int fd, err;

	if (!s)
		return 0;
	was = secmem_alloc(VERREC_STATE_KEY_LEN);
	if (!was)
		return -ENOMEM;
	pthread_rwlock_wrlock(&s->key_lock);
	pthread_mutex_lock(&s->lock);
	memcpy(was, s->key, VERREC_STATE_KEY_LEN);
	err = verrec_state_key(kek, uuid, s->key);
	if (!err)
		err = kdf_hmac_begin(s->key, &mac);
	/* Every record under the new key, then appends to the new file. */
	if (!err)
		err = compact(s);
	fd = err ? -1 : openat(s->dirfd, FSTATE_NAME, O_WRONLY | O_APPEND |
			       O_NOFOLLOW | O_CLOEXEC);
	if (!err && fd < 0)
		err = -errno;
	if (err) {
		kdf_hmac_end(mac);
		memcpy(s->key, was, VERREC_STATE_KEY_LEN);
	} else {
		close(s->fd);
		s->fd = fd;
		kdf_hmac_end(s->mac);
		s->mac = mac;
	}
	pthread_mutex_unlock(&s->lock);
	pthread_rwlock_unlock(&s->key_lock);
	secmem_free(was, VERREC_STATE_KEY_LEN);
	return err;
}

int fstate_dirfd(const struct fstate *s)
{
	return s->dirfd;
}

const char *fstate_dirpath(const struct fstate *s)
{
	return s->dirpath;
}

int fstate_reset(int dirfd)
{
	struct fstate s = { .dirfd = dirfd, .fd = -1 };

	/* No record to seal: the key is not needed. */
	return compact(&s);
}
