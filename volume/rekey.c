// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * volume/rekey.c - a new DEK and file ID for a file, and every extent
 * re-sealed under them: on an unmounted volume, or by the daemon of a
 * mounted one, whose callbacks hold the live inode (fs/rekeyd.c).  The old file is read
 * and checked as the daemon would (header, version record against this
 * machine's record, sparse record, every extent), the new one is written
 * unnamed beside it with the same owner, mode, times and user xattrs,
 * synced, linked and renamed over the old one: a crash at any instant
 * leaves either file, whole.  Every format is read and written by its
 * owner in crypto/.  Owns: the buffers and both file keys of the file in
 * hand; borrows the config, the KEK and the caller's callbacks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "../crypto/codec.h"
#include "../crypto/hdr.h"
#include "../crypto/meta.h"
#include "../crypto/msg.h"
#include "../crypto/secmem.h"
#include "../crypto/verrec.h"
#include "../fs/audit.h"
#include "fsck.h"
#include "rekey.h"
#include "volume.h"

/* Backing bytes read and written at a time. */
#define REKEY_IO_BYTES	(1u << 20)
#define REKEY_TMP_LEN	(sizeof(REKEY_TMP_PREFIX) + 2 * FILE_ID_LEN)

struct rekey {
	int dirfd;				/* the volume root, borrowed */
	const struct vol_config *cfg;		/* verified, borrowed */
	const struct kek *kek;			/* borrowed */
	struct rekey_cb cb;
	struct audit *audit;			/* NULL: no audit log */
	bool own_audit;				/* rekey_open()'s, not borrowed */
	uint8_t *in, *out;			/* owned; see rekey_open() */
	/* One extent's plaintext: secmem, owned, wiped after each file. */
	uint8_t *plain;
	size_t plain_len;
	size_t batch;				/* extents per read */
	/* rekey_run_open(): the run's record, and the IDs it held, sorted. */
	const struct state_dir *sd;		/* borrowed; NULL: no run */
	int run_fd;				/* O_APPEND; -1: none */
	uint8_t (*done)[FILE_ID_LEN];		/* owned */
	size_t ndone;
};

/* The file in hand: both keys (secmem) and what was read of the old. */
struct rk_file {
	const char *path;			/* for messages */
	int parent, fd, tmp;			/* -1 when closed */
	char tmpname[REKEY_TMP_LEN];		/* "" until linked */
	struct stat st;
	struct hdr h;
	struct file_key *ofk, *nfk;
	uint64_t size;				/* plaintext */
	struct verrec v;			/* if h.flags & HDR_F_VER */
	bool holes_ok;				/* old sparse record valid */
	uint8_t old_tag[AEAD_TAG_LEN], new_tag[AEAD_TAG_LEN];
};

int rekey_open_audit(int dirfd, const struct vol_config *cfg,
		     const struct kek *kek, struct audit *audit,
		     const struct rekey_cb *cb, struct rekey **out)
{
	uint64_t disk = extent_disk_size(cfg->extent_size);
	struct rekey *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->dirfd = dirfd;
	r->run_fd = -1;
	r->cfg = cfg;
	r->kek = kek;
	r->audit = audit;
	if (cb)
		r->cb = *cb;
	r->batch = disk >= REKEY_IO_BYTES ? 1 : REKEY_IO_BYTES / disk;
	r->in = malloc(r->batch * disk);
	r->out = malloc(r->batch * disk);
	r->plain_len = cfg->extent_size;
	r->plain = secmem_alloc(r->plain_len);
	if (!r->in || !r->out || !r->plain) {
		rekey_close(r);
		return -ENOMEM;
	}
	*out = r;
	return 0;
}

int rekey_open(int dirfd, const struct vol_config *cfg, const struct kek *kek,
	       const struct vol_keyslot *ks, const struct rekey_cb *cb,
	       struct rekey **out, char *msg, size_t msglen)
{
	struct rekey *r;
	int err;

	err = rekey_open_audit(dirfd, cfg, kek, NULL, cb, &r);
	if (!err)
		err = audit_open(&cfg->opt, cfg->uuid, &r->audit, msg, msglen);
	if (err) {
		rekey_close(r);
		return err;
	}
	r->own_audit = true;
	audit_set_kek(r->audit, cfg->kek_id, ks->provider);
	*out = r;
	return 0;
}

void rekey_close(struct rekey *r)
{
	if (!r)
		return;
	if (r->own_audit)
		audit_close(r->audit);
	if (r->run_fd >= 0)
		close(r->run_fd);
	free(r->done);
	free(r->in);
	free(r->out);
	secmem_free(r->plain, r->plain_len);
	free(r);
}

static int cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, FILE_ID_LEN);
}

/* The IDs of the record @fd of @size bytes, into r->done, sorted. */
static int run_load(struct rekey *r, int fd, uint64_t size, char *msg,
		    size_t msglen)
{
	uint8_t rec[VERREC_DONE_LEN];
	size_t i, n = (size_t)(size / VERREC_DONE_LEN);

	r->done = n ? malloc(n * FILE_ID_LEN) : NULL;
	if (n && !r->done)
		return -ENOMEM;
	/* A record cut short by a crash at its end is no record. */
	for (i = 0; i < n; i++) {
		if (pread(fd, rec, sizeof(rec), (off_t)(i * sizeof(rec))) !=
		    (ssize_t)sizeof(rec))
			return msg_fail(msg, msglen, -EIO, "%s/" REKEY_RUN_NAME
					": cannot read it", r->sd->path);
		if (verrec_done_open(r->kek->state_mac_key, rec, r->done[i]))
			return msg_fail(msg, msglen, -EBADMSG, "%s/"
					REKEY_RUN_NAME " was changed outside "
					"atrestfs (record %zu fails its MAC): "
					"remove it, and rekey --all starts "
					"over", r->sd->path, i);
	}
	r->ndone = n;
	if (n)
		qsort(r->done, n, FILE_ID_LEN, cmp_id);
	return 0;
}

int rekey_run_open(struct rekey *r, const struct state_dir *sd,
		   uint64_t *resumed, char *msg, size_t msglen)
{
	struct stat st;
	int err;

	r->sd = sd;
	r->run_fd = openat(sd->fd, REKEY_RUN_NAME, O_RDWR | O_CREAT |
			   O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (r->run_fd < 0)
		return msg_fail(msg, msglen, -errno, "%s/" REKEY_RUN_NAME
				": %s", sd->path, strerror(errno));
	if (fstat(r->run_fd, &st))
		return msg_fail(msg, msglen, -errno, "%s/" REKEY_RUN_NAME
				": %s", sd->path, strerror(errno));
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    st.st_mode & 022)
		return msg_fail(msg, msglen, -EPERM, "%s/" REKEY_RUN_NAME " is "
				"not a regular file of ours that only we may "
				"write", sd->path);
	err = run_load(r, r->run_fd, (uint64_t)st.st_size, msg, msglen);
	*resumed = r->ndone;
	return err;
}

int rekey_run_end(struct rekey *r)
{
	if (!r->sd)
		return 0;
	if (unlinkat(r->sd->fd, REKEY_RUN_NAME, 0) && errno != ENOENT)
		return -errno;
	fsync(r->sd->fd);
	return 0;
}

/*
 * One more file of the run.  A record lost to a failed write or a crash
 * costs only that file's being rekeyed again, so it is not an error.
 */
static void run_add(struct rekey *r, const uint8_t id[FILE_ID_LEN])
{
	uint8_t rec[VERREC_DONE_LEN];

	if (r->run_fd >= 0 && !verrec_done_seal(r->kek->state_mac_key, id, rec))
		(void)!write(r->run_fd, rec, sizeof(rec));
}

bool rekey_leftover(int parent, const char *name, int *err)
{
	if (strncmp(name, REKEY_TMP_PREFIX, strlen(REKEY_TMP_PREFIX)))
		return false;
	*err = unlinkat(parent, name, 0) && errno != ENOENT ? -errno : 0;
	return true;
}

/* Parent directory and open file of @path, never through a symlink. */
static int open_file(struct rekey *r, struct rk_file *f, char *msg,
		     size_t msglen)
{
	const char *slash = strrchr(f->path, '/');
	const char *base = slash ? slash + 1 : f->path;
	char dir[4096];
	int err;

	if (!*f->path || *f->path == '/' || !*base || !strcmp(base, ".") ||
	    !strcmp(base, "..") || strlen(f->path) >= sizeof(dir))
		return msg_fail(msg, msglen, -EINVAL, "%s: not a path to a "
				"file relative to the volume's root", f->path);
	if ((!slash && fsck_own_name(r->dirfd, base)) ||
	    !strncmp(base, REKEY_TMP_PREFIX, strlen(REKEY_TMP_PREFIX)))
		return msg_fail(msg, msglen, -EINVAL, "%s: not a file of the "
				"volume but atrestfs's own", f->path);
	if (slash) {
		memcpy(dir, f->path, (size_t)(slash - f->path));
		dir[slash - f->path] = '\0';
		f->parent = fsck_open(r->dirfd, dir, O_RDONLY | O_DIRECTORY);
	} else {
		f->parent = openat(r->dirfd, ".", O_RDONLY | O_DIRECTORY |
				   O_CLOEXEC);
		if (f->parent < 0)
			f->parent = -errno;
	}
	if (f->parent < 0) {
		err = f->parent;
		f->parent = -1;
		return msg_fail(msg, msglen, err, "%s: %s", f->path,
				err == -ELOOP || err == -ENOTDIR ? "a directory "
				"on the way is not a directory, or a symbolic "
				"link, which rekey does not follow" :
				strerror(-err));
	}
	f->fd = fsck_open(f->parent, base, O_RDONLY | O_NONBLOCK);
	if (f->fd < 0) {
		err = f->fd;
		f->fd = -1;
		return msg_fail(msg, msglen, err == -ELOOP || err == -ENXIO ?
				-EINVAL : err, "%s: %s", f->path,
				err == -ELOOP ? "a symbolic link, not a regular "
				"file: its target is sealed with the volume's "
				"metadata key, not a file key" : err == -ENXIO ?
				"a device node or socket, not a regular file "
				"(not opened)" : strerror(-err));
	}
	if (fstat(f->fd, &f->st))
		return msg_fail(msg, msglen, -errno, "%s: %s", f->path,
				strerror(errno));
	if (!S_ISREG(f->st.st_mode))
		return msg_fail(msg, msglen, -EINVAL, "%s: not a regular file; "
				"only regular files have a data key", f->path);
	if (f->st.st_nlink > 1)
		return msg_fail(msg, msglen, -EMLINK, "%s has %llu hard links: "
				"rekeying it would split them into separate "
				"files; remove the other links first, or leave "
				"it", f->path,
				(unsigned long long)f->st.st_nlink);
	return 0;
}

/*
 * The old file's key and records, checked as the daemon checks them at
 * open (fs/key.c, fs/rollback.c): a file this machine saw newer, or one
 * its version record says was cut, is not laundered into a fresh one.
 */
static int read_key(struct rekey *r, struct rk_file *f, char *msg,
		    size_t msglen)
{
	uint8_t buf[HDR_SIZE + 1], rec[VERREC_LEN + 1];
	uint64_t seen;
	ssize_t n;
	int err;

	n = fgetxattr(f->fd, HDR_XATTR, buf, sizeof(buf));
	if (n < 0 && errno == ENODATA && !f->st.st_size &&
	    r->cfg->format_version == 1)
		return 1;	/* an empty file that never had a key */
	if (n < 0)
		return msg_fail(msg, msglen, -EBADMSG, "%s: %s", f->path,
				errno == ENODATA ? "no header: the file's key "
				"is lost (see atrestfs header restore)" :
				strerror(errno));
	err = hdr_parse(buf, (size_t)n, &f->h);
	if (!err && f->h.extent_size != r->cfg->extent_size)
		err = -EBADMSG;
	if (err)
		return msg_fail(msg, msglen, -EBADMSG, "%s: its header is not "
				"a valid header of this volume", f->path);
	if (memcmp(f->h.kek_id, r->cfg->kek_id, KEK_ID_LEN))
		return msg_fail(msg, msglen, -EBADMSG, "%s: its header names "
				"another volume key than this volume's",
				f->path);
	if (hdr_unwrap(r->kek, &f->h, &f->ofk))
		return msg_fail(msg, msglen, -EBADMSG, "%s: its header does "
				"not authenticate under the volume key",
				f->path);
	if (extent_plain_size(r->cfg->extent_size, (uint64_t)f->st.st_size,
			      &f->size) ||
	    (f->h.flags & HDR_F_DATA && !f->st.st_size))
		return msg_fail(msg, msglen, -EBADMSG, "%s: its backing size "
				"%llu is not one a file of it can have: cut "
				"outside atrestfs?", f->path,
				(unsigned long long)f->st.st_size);
	seen = r->cb.seen ? r->cb.seen(r->cb.ctx, f->ofk->file_id) : 0;
	if (!(f->h.flags & HDR_F_VER)) {
		if (seen)
			return msg_fail(msg, msglen, -EBADMSG, "%s: it has no "
					"version record, but version %llu of it "
					"was recorded on this machine: rolled "
					"back? (atrestfs trust)", f->path,
					(unsigned long long)seen);
	} else {
		n = fgetxattr(f->fd, HDR_VER_XATTR, rec, sizeof(rec));
		if (n < 0 || verrec_open(f->ofk, rec, (size_t)n, &f->v))
			return msg_fail(msg, msglen, -EBADMSG, "%s: its version "
					"record is missing or does not "
					"authenticate", f->path);
		if (f->v.flags & VERREC_F_CUT || verrec_older(&f->v, seen))
			return msg_fail(msg, msglen, -EBADMSG, "%s: %s: rolled "
					"back or changed outside atrestfs? "
					"(atrestfs trust)", f->path,
					f->v.flags & VERREC_F_CUT ? "its "
					"version record says it was changed "
					"while open" : "it is older than the "
					"version recorded on this machine");
	}
	n = fgetxattr(f->fd, HDR_SPARSE_XATTR, rec, sizeof(rec));
	f->holes_ok = n >= 0 && !extent_sparse_check(f->ofk, rec, (size_t)n);
	return 0;
}

/* The new file, unnamed if the backing file system can. */
static int make_tmp(struct rk_file *f, char *msg, size_t msglen)
{
	char hex[2 * FILE_ID_LEN + 1];

	hex_encode(f->ofk->file_id, FILE_ID_LEN, hex);
	snprintf(f->tmpname, sizeof(f->tmpname), REKEY_TMP_PREFIX "%s", hex);
	/* A crash's leftover for this very file: the old file is whole. */
	if (unlinkat(f->parent, f->tmpname, 0) && errno != ENOENT)
		return msg_fail(msg, msglen, -errno, "%s: cannot remove the "
				"leftover %s of an earlier rekey: %s", f->path,
				f->tmpname, strerror(errno));
	f->tmp = openat(f->parent, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (f->tmp >= 0) {
		f->tmpname[0] = '\0';	/* linked only at the end */
		return 0;
	}
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return msg_fail(msg, msglen, -errno, "%s: cannot make its new "
				"copy: %s", f->path, strerror(errno));
	f->tmp = openat(f->parent, f->tmpname, O_CREAT | O_EXCL | O_RDWR |
			O_NOFOLLOW | O_CLOEXEC, 0600);
	if (f->tmp < 0) {
		f->tmpname[0] = '\0';
		return msg_fail(msg, msglen, -errno, "%s: cannot make its new "
				"copy: %s", f->path, strerror(errno));
	}
	return 0;
}

/* pwrite all of @len bytes at @off: 0 or -errno. */
static int put(int fd, const uint8_t *buf, size_t len, uint64_t off)
{
	ssize_t n;

	while (len) {
		n = pwrite(fd, buf, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/*
 * Every extent opened under the old key and sealed under the new; holes
 * (all-zero extents where the sparse record allows them) stay unwritten.
 */
static int copy_extents(struct rekey *r, struct rk_file *f, char *msg,
			size_t msglen)
{
	uint32_t esize = r->cfg->extent_size;
	uint64_t disk = extent_disk_size(esize), total = (uint64_t)f->st.st_size;
	uint64_t next = total ? (total + disk - 1) / disk : 0, idx, i, n;
	uint64_t off, len, start;
	bool last, run;
	ssize_t got;
	int err;

	for (idx = 0; idx < next; idx += n) {
		n = next - idx < r->batch ? next - idx : r->batch;
		off = extent_disk_off(esize, idx);
		len = off + n * disk > total ? total - off : n * disk;
		got = pread(f->fd, r->in, len, (off_t)off);
		if (got != (ssize_t)len)
			return msg_fail(msg, msglen, got < 0 ? -errno : -EIO,
					"%s: cannot read it: %s", f->path,
					got < 0 ? strerror(errno) : "short read");
		/* Extents [start, i) are sealed in r->out, not yet written. */
		run = false;
		start = 0;
		for (i = 0; i < n; i++) {
			uint8_t *in = r->in + i * disk, *o = r->out + i * disk;
			size_t dl = i == n - 1 ? len - i * disk : disk;

			last = idx + i == next - 1;
			if (extent_is_hole(in, dl)) {
				if (last || !f->holes_ok)
					return msg_fail(msg, msglen, -EBADMSG,
						"%s: extent %llu is all zeros "
						"where no hole is allowed: "
						"damaged (atrestfs fsck)",
						f->path, (unsigned long long)
						(idx + i));
				err = run ? put(f->tmp, r->out + start * disk,
						(i - start) * disk,
						off + start * disk) : 0;
				if (err)
					goto out_write;
				run = false;
				continue;
			}
			if (extent_open(f->ofk, idx + i, last, in, dl,
					r->plain))
				return msg_fail(msg, msglen, -EBADMSG, "%s: "
						"extent %llu does not "
						"authenticate: damaged "
						"(atrestfs fsck)", f->path,
						(unsigned long long)(idx + i));
			err = extent_seal(f->nfk, idx + i, last, r->plain,
					  dl - EXTENT_OVERHEAD, o);
			if (err)
				return msg_fail(msg, msglen, err, "%s: cannot "
						"seal extent %llu", f->path,
						(unsigned long long)(idx + i));
			if (last) {
				memcpy(f->old_tag, in + dl - AEAD_TAG_LEN,
				       AEAD_TAG_LEN);
				memcpy(f->new_tag, o + dl - AEAD_TAG_LEN,
				       AEAD_TAG_LEN);
			}
			if (!run) {
				run = true;
				start = i;
			}
		}
		err = run ? put(f->tmp, r->out + start * disk,
				len - start * disk, off + start * disk) : 0;
		if (err)
			goto out_write;
		if (r->cb.progress)
			r->cb.progress(r->cb.ctx, off + len, total);
	}
	return 0;
out_write:
	return msg_fail(msg, msglen, err, "%s: cannot write its new copy: %s",
			f->path, strerror(-err));
}

/* Header, version and sparse records of the new key, and user xattrs. */
static int put_xattrs(struct rekey *r, struct rk_file *f, char *msg,
		      size_t msglen)
{
	uint8_t hdr[HDR_SIZE], rec[VERREC_LEN], *val = NULL;
	char *names = NULL, *name;
	struct verrec v = { 0 };
	struct hdr nh;
	ssize_t len, n;
	int err;

	if (f->h.flags & HDR_F_VER) {
		/* A clean record is the file as this machine saw it last. */
		if (!(f->v.flags & VERREC_F_DIRTY) &&
		    (f->v.size != f->size ||
		     (f->size && memcmp(f->v.tag, f->old_tag, AEAD_TAG_LEN))))
			return msg_fail(msg, msglen, -EBADMSG, "%s: its version "
					"record names another end of the file: "
					"an older end was put back? (atrestfs "
					"fsck)", f->path);
		v.counter = f->v.counter + 1;
		v.size = f->size;
		if (f->size)
			memcpy(v.tag, f->new_tag, AEAD_TAG_LEN);
		err = verrec_seal(f->nfk, &v, rec);
		if (!err && fsetxattr(f->tmp, HDR_VER_XATTR, rec, sizeof(rec),
				      0))
			err = -errno;
		if (err)
			goto out_fail;
		f->v.counter = v.counter;
	}
	if (f->holes_ok) {
		err = extent_sparse_seal(f->nfk, rec);
		if (!err && fsetxattr(f->tmp, HDR_SPARSE_XATTR, rec,
				      EXTENT_SPARSE_LEN, 0))
			err = -errno;
		if (err)
			goto out_fail;
	}
	err = hdr_rewrap(r->kek, r->cfg->extent_size, f->nfk, f->h.flags, &nh);
	if (err)
		goto out_fail;
	hdr_build(&nh, hdr);
	if (fsetxattr(f->tmp, HDR_XATTR, hdr, sizeof(hdr), XATTR_CREATE)) {
		err = -errno;
		goto out_fail;
	}
	/*
	 * User xattr values are sealed with the metadata key, bound to the
	 * inode's value ID, which goes with them (not to the file ID).
	 */
	names = malloc(65536);
	val = malloc(65536);
	if (!names || !val) {
		err = -ENOMEM;
		goto out_fail;
	}
	len = flistxattr(f->fd, names, 65536);
	if (len < 0) {
		err = -errno;
		goto out_fail;
	}
	for (name = names; name < names + len; name += strlen(name) + 1) {
		if (!meta_xattr_sealed(name) && strcmp(name, META_VID_XATTR) &&
		    strcmp(name, META_VID_NEW_XATTR))
			continue;
		n = fgetxattr(f->fd, name, val, 65536);
		if (n < 0 || fsetxattr(f->tmp, name, val, (size_t)n, 0)) {
			err = -errno;
			goto out_fail;
		}
	}
	free(names);
	free(val);
	return 0;
out_fail:
	free(names);
	free(val);
	return msg_fail(msg, msglen, err, "%s: cannot write the new copy's "
			"xattrs: %s", f->path, strerror(-err));
}

/* Owner, mode and times of the old file, then the data on disk. */
static int settle_tmp(struct rk_file *f, char *msg, size_t msglen)
{
	struct timespec ts[2] = { f->st.st_atim, f->st.st_mtim };

	/* chown clears set-ID bits, so the mode goes after it. */
	if (fchown(f->tmp, f->st.st_uid, f->st.st_gid) ||
	    fchmod(f->tmp, f->st.st_mode & 07777) || futimens(f->tmp, ts) ||
	    fsync(f->tmp))
		return msg_fail(msg, msglen, -errno, "%s: cannot give the new "
				"copy the old one's owner, mode and times or "
				"sync it: %s", f->path, strerror(errno));
	return 0;
}

/* The old file is still the one read, as it was read: -ESTALE if not. */
static int unchanged(struct rk_file *f, const char *base)
{
	struct stat now;

	if (fstatat(f->parent, base, &now, AT_SYMLINK_NOFOLLOW))
		return -ESTALE;
	return now.st_dev == f->st.st_dev && now.st_ino == f->st.st_ino &&
	       now.st_size == f->st.st_size &&
	       now.st_mtim.tv_sec == f->st.st_mtim.tv_sec &&
	       now.st_mtim.tv_nsec == f->st.st_mtim.tv_nsec &&
	       now.st_ctim.tv_sec == f->st.st_ctim.tv_sec &&
	       now.st_ctim.tv_nsec == f->st.st_ctim.tv_nsec ? 0 : -ESTALE;
}

/* The link and rename of swap_in(), with the name held: 0 or -errno. */
static int rename_in(struct rekey *r, struct rk_file *f, void *cookie,
		     const char *base, char *msg, size_t msglen)
{
	char proc[64];
	int err;

	if (unchanged(f, base))
		return msg_fail(msg, msglen, -ESTALE, "%s changed while it was "
				"rekeyed: left as it is; run rekey again",
				f->path);
	if (!f->tmpname[0]) {
		hex_encode(f->ofk->file_id, FILE_ID_LEN,
			   f->tmpname + strlen(REKEY_TMP_PREFIX));
		memcpy(f->tmpname, REKEY_TMP_PREFIX, strlen(REKEY_TMP_PREFIX));
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", f->tmp);
		if (linkat(AT_FDCWD, proc, f->parent, f->tmpname,
			   AT_SYMLINK_FOLLOW)) {
			err = -errno;
			f->tmpname[0] = '\0';
			return msg_fail(msg, msglen, err, "%s: cannot link its "
					"new copy: %s", f->path,
					strerror(-err));
		}
	}
	/* Before the rename: a file that cannot follow is left whole. */
	if (r->cb.prepare &&
	    (err = r->cb.prepare(r->cb.ctx, cookie, f->parent, f->tmpname,
				 f->tmp)))
		return msg_fail(msg, msglen, err, "%s: its open files cannot "
				"be moved to a new file (%s): left as it is; "
				"run rekey again once they are closed",
				f->path, strerror(-err));
	if (renameat(f->parent, f->tmpname, f->parent, base))
		return msg_fail(msg, msglen, -errno, "%s: cannot rename its "
				"new copy over it: %s", f->path,
				strerror(errno));
	f->tmpname[0] = '\0';
	return 0;
}

/* Name the new file, then move it over the old one in one rename. */
static int swap_in(struct rekey *r, struct rk_file *f, void *cookie,
		   char *msg, size_t msglen)
{
	const char *slash = strrchr(f->path, '/');
	const char *base = slash ? slash + 1 : f->path;
	int err;

	if (r->cb.naming)
		r->cb.naming(r->cb.ctx, true);
	err = rename_in(r, f, cookie, base, msg, msglen);
	if (r->cb.naming)
		r->cb.naming(r->cb.ctx, false);
	if (err)
		return err;
	if (r->cb.swapped)
		r->cb.swapped(r->cb.ctx, cookie, f->tmp);
	/* Renamed: from here on the new file is the file, crash or not. */
	if (fsync(f->parent))
		return msg_fail(msg, msglen, 1, "%s: rekeyed, but its directory "
				"could not be synced: %s", f->path,
				strerror(errno));
	return 0;
}

static void audit_file(struct rekey *r, const char *event,
		       const uint8_t id[FILE_ID_LEN], int result)
{
	struct audit_event ev = { .event = event, .op = "rekey",
				  .result = result };

	audit_self(&ev);
	audit_dek(r->audit, &ev, id);
}

int rekey_file(struct rekey *r, const char *path, struct rekey_info *info,
	       char *msg, size_t msglen)
{
	struct rk_file f = { .path = path, .parent = -1, .fd = -1,
			     .tmp = -1 };
	void *cookie = NULL;
	bool entered = false;
	uint64_t old_counter;
	struct hdr nh;
	int err;

	memset(info, 0, sizeof(*info));
	err = open_file(r, &f, msg, msglen);
	/* Held, and settled: what it holds now is what is read. */
	if (!err && r->cb.enter) {
		err = r->cb.enter(r->cb.ctx, f.fd, &f.st, &cookie);
		entered = !err;
		if (err)
			msg_fail(msg, msglen, err, "%s: %s", path,
				 strerror(-err));
		else if (fstat(f.fd, &f.st))
			err = msg_fail(msg, msglen, -errno, "%s: %s", path,
				       strerror(errno));
	}
	if (!err)
		err = read_key(r, &f, msg, msglen);
	if (err == 1) {
		info->skipped = true;
		err = 0;
		goto out;
	}
	if (f.ofk)
		memcpy(info->old_id, f.ofk->file_id, FILE_ID_LEN);
	/* A file refused once its key was known is a refused rekey of it. */
	if (err && f.ofk)
		goto out_audit;
	if (err)
		goto out;
	if (r->ndone && bsearch(f.ofk->file_id, r->done, r->ndone, FILE_ID_LEN,
				cmp_id)) {
		info->done_before = true;
		goto out;
	}
	old_counter = f.h.flags & HDR_F_VER ? f.v.counter : 0;
	err = hdr_create(r->kek, r->cfg->extent_size, 0, &nh, &f.nfk);
	if (err) {
		msg_fail(msg, msglen, err, "%s: cannot make a new key: %s",
			 path, strerror(-err));
		goto out_audit;
	}
	memcpy(info->new_id, f.nfk->file_id, FILE_ID_LEN);
	err = make_tmp(&f, msg, msglen);
	if (!err)
		err = copy_extents(r, &f, msg, msglen);
	if (!err)
		err = put_xattrs(r, &f, msg, msglen);
	if (!err)
		err = settle_tmp(&f, msg, msglen);
	if (!err)
		err = swap_in(r, &f, cookie, msg, msglen);
	if (err > 0)
		err = 0;	/* a warning in @msg: the file is rekeyed */
	else if (!err)
		*msg = '\0';
	if (!err) {
		info->bytes = (uint64_t)f.st.st_size;
		run_add(r, info->new_id);
		/* A copy from before, under the old ID, is older than this. */
		if (r->cb.record && old_counter)
			r->cb.record(r->cb.ctx, info->old_id, old_counter + 1);
		if (r->cb.record && f.h.flags & HDR_F_VER)
			r->cb.record(r->cb.ctx, info->new_id, f.v.counter);
	}
out_audit:
	audit_file(r, "dek_rekey", info->old_id, err);
	if (!err)
		audit_file(r, "dek_create", info->new_id, 0);
out:
	OPENSSL_cleanse(r->plain, r->plain_len);
	if (f.tmpname[0])
		unlinkat(f.parent, f.tmpname, 0);
	if (f.tmp >= 0)
		close(f.tmp);
	if (f.fd >= 0)
		close(f.fd);
	if (f.parent >= 0)
		close(f.parent);
	file_key_free(f.ofk);
	file_key_free(f.nfk);
	if (entered && r->cb.leave)
		r->cb.leave(r->cb.ctx, cookie);
	return err;
}
