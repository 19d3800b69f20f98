// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * volume/fsck.c - the offline check of a whole volume.  The walk (one
 * thread) lists the tree and checks directories' xattrs and symlink
 * targets; worker threads check regular files in chunks of extents, so
 * that one large file also keeps every core busy.  Every format is read
 * by its owner in crypto/ (hdr_parse, hdr_unwrap, extent_open_ctx,
 * extent_sparse_check, verrec_open, meta_*); nothing here parses bytes.
 * Owns: the file list, the findings, each worker's aead_ctx and buffers;
 * borrows the KEK.  DEKs live from a chunk's start to its end.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "../crypto/aead.h"
#include "../crypto/codec.h"
#include "../crypto/hdr.h"
#include "../crypto/meta.h"
#include "../crypto/names.h"
#include "../crypto/secmem.h"
#include "../crypto/verrec.h"
#include "fsck.h"
#include "volume.h"

/* Backing bytes one work item covers: large files are split. */
#define CHUNK_BYTES	(8u << 20)
/* Backing bytes read at a time by a worker. */
#define READ_BYTES	(1u << 20)
#define MAX_THREADS	16

struct fsck_file {
	char *path;			/* from the root; owned */
	uint8_t id[FILE_ID_LEN];	/* set by its first chunk */
	bool has_id;			/* set by its first chunk */
	bool bad_sparse;		/* set by its first chunk */
	bool zeros;			/* an all-zero extent (atomic) */
};

/* Extents [first, first + count) of one file; first == 0 does the file. */
struct fsck_item {
	size_t file;
	uint64_t first, count;
	uint64_t backing;		/* the file's size at the walk */
};

struct finding {
	char *path, *what;		/* owned */
	uint64_t key;			/* order within a path */
	bool fix;			/* --repair can mend it */
};

/*
 * Locking: ->lock guards the findings and the counters of ->res; ->next,
 * ->done and ->oom are atomics.  Files and items are written by the walk
 * before the workers start, and only read by them, but for the fields of
 * a file its first chunk sets (read after the workers are joined) and
 * ->zeros (atomic).
 */
struct fsck_run {
	int dirfd;
	const struct vol_config *cfg;
	const struct kek *kek;
	/*
	 * The names key then the xattr names key (NAMES_XKEY_LEN), in one
	 * secmem block; NULL on plain names.  Owned; read by the walk only.
	 */
	uint8_t *names_key;
	/* Keeps the names key's schedule across the walk's names; owned. */
	struct aead_ctx *names_ac;
	struct fsck_file *files;
	size_t nfiles, capfiles;
	struct fsck_item *items;
	size_t nitems, capitems;
	size_t next;			/* next item to take (atomic) */
	uint64_t done, total;		/* backing bytes (done: atomic) */
	struct { dev_t dev; ino_t ino; } *links;	/* nlink > 1 seen */
	size_t nlinks, caplinks;
	/* The link IDs of long symlink targets seen (the walk's only). */
	struct { uint8_t id[META_LINK_ID_LEN]; } *lids;
	size_t nlids, caplids;
	struct finding *finds;
	size_t nfinds, capfinds;
	struct fsck_result *res;
	unsigned int running;		/* workers not done; under ->lock */
	pthread_mutex_t lock;
	pthread_cond_t idle;		/* ->running reached 0 */
	int oom;			/* a finding was lost to ENOMEM */
	/* The walk skipped an entry or subtree (the walk's only). */
	bool partial;
};

static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
	size_t ncap = *cap ? *cap * 2 : 64;
	void *p;

	if (n < *cap)
		return 0;
	p = reallocarray(*arr, ncap, size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

static void find(struct fsck_run *r, const char *path, uint64_t key,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void find(struct fsck_run *r, const char *path, uint64_t key,
		 const char *fmt, ...)
{
	struct finding f = { .key = key };
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&f.what, fmt, ap);
	va_end(ap);
	f.path = strdup(path);
	pthread_mutex_lock(&r->lock);
	if (n < 0 || !f.path ||
	    grow((void **)&r->finds, &r->capfinds, r->nfinds,
		 sizeof(*r->finds))) {
		r->oom = 1;
		if (n >= 0)
			free(f.what);
		free(f.path);
	} else {
		r->finds[r->nfinds++] = f;
	}
	pthread_mutex_unlock(&r->lock);
}

/* ---- the walk ---- */

/*
 * VOL_CONF_LINK_TMP too: a re-sealed link that rotate-kek or convert
 * killed before its rename left, sealed for a place it is not at; the
 * mount hides it and their next run removes it, so it is no damage.
 */
bool fsck_own_name(int rootfd, const char *name)
{
	return !strcmp(name, VOL_CONF_NAME) || !strcmp(name, VOL_CONF_TMP) ||
	       !strcmp(name, VOL_CONF_LINK_TMP) ||
	       (!strcmp(name, VOLLINKS_DIR) && vollinks_ours(rootfd));
}

static int walk_dir(int fd, char *path, size_t len, dev_t dev, bool root,
		    fsck_walk_fn fn, void *ctx)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int err = 0, sub;
	size_t n;

	d = fdopendir(fd);
	if (!d) {
		err = -errno;
		close(fd);
		return fn(ctx, -1, "", path, NULL, err);
	}
	while (!err && (errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (root && fsck_own_name(dirfd(d), de->d_name))
			continue;
		/*
		 * A long name's record holds ciphertext, not a file's data: it
		 * has no header.  (Its entry is checked; the names themselves
		 * are the daemon's to read.)
		 */
		if (names_is_sidecar(de->d_name))
			continue;
		n = strlen(de->d_name);
		if (len + 1 + n >= PATH_MAX) {
			err = fn(ctx, dirfd(d), de->d_name, path, NULL,
				 -ENAMETOOLONG);
			continue;
		}
		if (root)
			memcpy(path, de->d_name, n + 1);
		else
			snprintf(path + len, PATH_MAX - len, "/%s", de->d_name);
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW)) {
			err = fn(ctx, dirfd(d), de->d_name, path, NULL, -errno);
			goto next;
		}
		if (S_ISDIR(st.st_mode) && st.st_dev != dev) {
			err = fn(ctx, dirfd(d), de->d_name, path, NULL, -EXDEV);
			goto next;
		}
		err = fn(ctx, dirfd(d), de->d_name, path, &st, 0);
		if (err || !S_ISDIR(st.st_mode))
			goto next;
		sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY |
			     O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			err = fn(ctx, dirfd(d), de->d_name, path, NULL, -errno);
		else
			err = walk_dir(sub, path, strlen(path), dev, false, fn,
				       ctx);
next:
		path[len] = '\0';
	}
	if (!err && errno)
		err = fn(ctx, -1, "", root ? "." : path, NULL, -errno);
	closedir(d);
	return err;
}

int fsck_walk(int dirfd, fsck_walk_fn fn, void *ctx)
{
	char path[PATH_MAX] = "";
	struct stat st;
	int fd, err;

	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return err;
	}
	err = walk_dir(fd, path, 0, st.st_dev, true, fn, ctx);
	return err > 0 ? 0 : err;
}

/* Directory @name in @fd, O_PATH: -ELOOP if it is a symbolic link. */
static int path_dir(int fd, const char *name)
{
	struct stat st;
	int err, next = openat(fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (next < 0)
		return -errno;
	if (fstat(next, &st))
		err = -errno;
	else if (S_ISDIR(st.st_mode))
		return next;
	else
		err = S_ISLNK(st.st_mode) ? -ELOOP : -ENOTDIR;
	close(next);
	return err;
}

/* A component that is empty, "." or "..": the path could leave @dirfd. */
static bool bad_component(const char *p)
{
	return !*p || !strcmp(p, ".") || !strcmp(p, "..");
}

/* Whether @fd is not the inode @st describes (or cannot be told). */
static bool differs(int fd, const struct stat *st)
{
	struct stat now;

	return fstat(fd, &now) || now.st_dev != st->st_dev ||
	       now.st_ino != st->st_ino;
}

/*
 * The last component @name in @fd, never a device node or a socket: a
 * disk brought by whoever wrote it can carry device nodes, and opening
 * one can act (a watchdog starts, a tape rewinds).  Checked through an
 * O_PATH descriptor, then reopened through /proc, so that the check and
 * the open are of one inode.
 */
static int open_last(int fd, const char *name, int flags)
{
	char proc[32];
	struct stat st;
	int pfd, next, err;

	if (flags & O_PATH) {
		next = openat(fd, name, flags | O_NOFOLLOW | O_CLOEXEC);
		return next < 0 ? -errno : next;
	}
	pfd = openat(fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (pfd < 0)
		return -errno;
	if (fstat(pfd, &st)) {
		err = -errno;
		goto out;
	}
	if (S_ISLNK(st.st_mode)) {
		err = -ELOOP;
		goto out;
	}
	if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ||
	    S_ISSOCK(st.st_mode)) {
		err = -ENXIO;
		goto out;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	next = open(proc, (flags | O_CLOEXEC) & ~O_NOFOLLOW);
	if (next < 0 && errno == ENOENT) {
		/* No /proc: open by name, and make sure it is the same. */
		next = openat(fd, name, flags | O_NOFOLLOW | O_CLOEXEC);
		if (next >= 0 && differs(next, &st)) {
			close(next);
			next = -1;
			errno = ESTALE;
		}
	}
	err = next < 0 ? -errno : next;
out:
	close(pfd);
	return err;
}

int fsck_open(int dirfd, const char *path, int flags)
{
	char buf[PATH_MAX], *p, *slash;
	int fd = dirfd, next;

	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	for (p = buf; (slash = strchr(p, '/')); p = slash + 1) {
		*slash = '\0';
		next = bad_component(p) ? -EINVAL : path_dir(fd, p);
		if (fd != dirfd)
			close(fd);
		if (next < 0)
			return next;
		fd = next;
	}
	next = bad_component(p) ? -EINVAL : open_last(fd, p, flags);
	if (fd != dirfd)
		close(fd);
	return next;
}

/* ---- xattr values, symlink targets ---- */

/*
 * With encrypted names, a value opens to "name NUL value" (fs/ops_xattr.c):
 * is that name the one whose hash is the backing name @bname?
 */
static bool hidden_name_ok(struct fsck_run *r, const char *bname,
			   const uint8_t *plain, size_t len)
{
	char want[NAMES_XATTR_LEN + 1];
	const uint8_t *nul = memchr(plain, '\0', len);

	return nul && nul != plain &&
	       !names_xattr_name(r->names_key + NAMES_KEY_LEN,
				 (const char *)plain, want) &&
	       !strcmp(want, bname);
}

static void check_xattrs(struct fsck_run *r, int fd, const char *path)
{
	char names[65536], *name;
	uint8_t *val = NULL, *out = NULL, vid[META_VID_LEN];
	ssize_t len, n;
	int has;

	len = flistxattr(fd, names, sizeof(names));
	if (len < 0) {
		if (errno != ENOTSUP)
			find(r, path, 0, "cannot list its xattrs: %s",
			     strerror(errno));
		return;
	}
	/* As the mount reads them: bound to it, or of the older form. */
	has = volvid_get(fd, vid);
	if (has == -EIO)
		find(r, path, 0, "its value ID (xattr " META_VID_XATTR ") is "
		     "damaged: none of its xattr values can be read");
	val = malloc(65536);
	out = malloc(65536);
	if (!val || !out) {
		__atomic_store_n(&r->oom, 1, __ATOMIC_RELAXED);
		goto out_free;
	}
	for (name = names; name < names + len; name += strlen(name) + 1) {
		if (!meta_xattr_sealed(name))
			continue;
		if (r->names_key && strncmp(name, NAMES_XATTR_PREFIX,
					    sizeof(NAMES_XATTR_PREFIX) - 1)) {
			find(r, path, 0, "xattr %s is not one atrestfs made "
			     "(a plain name on a volume with encrypted names): "
			     "the mount leaves it out", name);
			continue;
		}
		n = fgetxattr(fd, name, val, 65536);
		if (n < 0) {
			find(r, path, 0, "cannot read xattr %s: %s", name,
			     strerror(errno));
			continue;
		}
		pthread_mutex_lock(&r->lock);
		r->res->xattrs++;
		pthread_mutex_unlock(&r->lock);
		if (has == -EIO)
			continue;
		if ((!has || r->cfg->opt.bound) &&
		    !meta_xattr_open(r->kek, NULL, name, val, (size_t)n, out))
			find(r, path, 0, "xattr %s: a value of the form before "
			     "value IDs on a file that has one, or on a bound "
			     "volume (copied from another file): the mount "
			     "refuses it", name);
		else if (volvid_open(r->kek, r->cfg->opt.bound, has, vid, name,
				     val, (size_t)n, out))
			find(r, path, 0, "xattr %s: its value does not "
			     "authenticate (tampered, copied from another "
			     "file, or from another volume)", name);
		else if (r->names_key && !hidden_name_ok(r, name, out,
						(size_t)n - AEAD_OVERHEAD))
			find(r, path, 0, "xattr %s: the name sealed in its "
			     "value is not the one this backing name hides",
			     name);
	}
out_free:
	/* The last value opened: the user's, not ours to keep. */
	if (out)
		OPENSSL_cleanse(out, 65536);
	free(val);
	free(out);
}

static void check_link(struct fsck_run *r, int parent, const char *name,
		       const char *path)
{
	char target[PATH_MAX + 1], *plain = NULL;
	ssize_t n = readlinkat(parent, name, target, PATH_MAX);
	uint8_t id[META_LINK_ID_LEN];
	struct meta_link_at at;
	size_t len;
	int err;

	if (n < 0) {
		r->partial = true;	/* its record may look orphaned */
		find(r, path, 0, "cannot read the symbolic link: %s",
		     strerror(errno));
		return;
	}
	target[n] = '\0';
	/* Its record is not an orphan (find_link_orphans()). */
	if (meta_link_long_parse(target, (size_t)n, id, &len) == 1) {
		if (grow((void **)&r->lids, &r->caplids, r->nlids,
			 sizeof(*r->lids)))
			__atomic_store_n(&r->oom, 1, __ATOMIC_RELAXED);
		else
			memcpy(r->lids[r->nlids++].id, id, sizeof(id));
	}
	/* A rename's re-sealed link a crash left: sealed for its name. */
	if (r->cfg->opt.bound &&
	    !strncmp(name, VOLLINKS_TMP_PREFIX, strlen(VOLLINKS_TMP_PREFIX))) {
		find(r, path, 0, "a re-sealed symbolic link left by a rename "
		     "that a crash interrupted: the mount never shows it; if "
		     "a link beside it reads as EIO, rename this over that, "
		     "else remove this");
		return;
	}
	if (r->cfg->opt.bound && vollinks_at(parent, name, false, &at)) {
		find(r, path, 0, "its directory has no ID (xattr "
		     NAMES_DIRID_XATTR ") or a damaged one: the mount reads "
		     "this symbolic link as EIO");
		return;
	}
	err = vollinks_open(r->dirfd, r->kek, r->cfg->opt.bound ? &at : NULL,
			    target, &plain);
	/* Unbound volume: as the mount, either form (a conversion cut short). */
	if (err == -EBADMSG && !r->cfg->opt.bound &&
	    !vollinks_at(parent, name, false, &at))
		err = vollinks_open(r->dirfd, r->kek, &at, target, &plain);
	if (err)
		find(r, path, 0, "symbolic link target does not authenticate "
		     "(not written by atrestfs, tampered, copied from another "
		     "link or volume, a rename interrupted by a crash, or a "
		     "long target's record in " VOLLINKS_DIR
		     " missing or damaged)");
	/*
	 * Plain names, unbound: the mount reads the link without its
	 * directory's ID, but convert --bound stops at a damaged one and
	 * sends the user here.  (Encrypted names: check_names() says it.)
	 */
	else if (!r->cfg->opt.bound && !r->cfg->opt.names_encrypted &&
		 vollinks_at(parent, name, false, &at) == -EIO)
		find(r, path, 0, "its directory's ID (xattr " NAMES_DIRID_XATTR
		     ") is damaged, so atrestfs convert --bound cannot bind "
		     "this symbolic link: no link is bound to a damaged ID, so "
		     "remove that xattr from the backing directory, then "
		     "convert again");
	free(plain);
}

/* @name's path below the directory @dir ("." at the root) into @out. */
static void entry_path(const char *dir, const char *name, char *out)
{
	if (!strcmp(dir, "."))
		snprintf(out, PATH_MAX, "%s", name);
	else
		snprintf(out, PATH_MAX, "%s/%s", dir, name);
}

/*
 * With encrypted names: the directory's ID, then every backing name in it
 * as the daemon reads it (fs/dirnames.c dname_read()), so that what the
 * mount would leave out of a listing is a finding here; and records of
 * long names whose entry is gone.
 */
static void check_names(struct fsck_run *r, int fd, const char *path)
{
	char plain[NAMES_PLAIN_MAX + 1], rec[NAMES_ENC_MAX + 1];
	char ep[PATH_MAX], entry[NAMES_LONG_LEN + 1];
	uint8_t id[NAMES_DIRID_LEN];
	bool root = !strcmp(path, ".");
	struct dirent *de;
	struct stat st;
	size_t len;
	int err, dfd;
	DIR *d;

	err = volnames_dirid(fd, id);
	if (err) {
		find(r, path, 0, "its directory ID (xattr " NAMES_DIRID_XATTR
		     ") is %s: the mount cannot name its entries; restore the "
		     "directory from a backup, with its xattrs",
		     err == -ENODATA ? "missing" : "damaged");
		return;
	}
	dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = dfd < 0 ? NULL : fdopendir(dfd);
	if (!d) {
		find(r, path, 0, "cannot list the directory: %s",
		     strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return;
	}
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    (root && fsck_own_name(dirfd(d), de->d_name)))
			continue;
		entry_path(path, de->d_name, ep);
		if (names_is_sidecar(de->d_name)) {
			memcpy(entry, de->d_name, NAMES_LONG_LEN);
			entry[NAMES_LONG_LEN] = '\0';
			if (fstatat(dirfd(d), entry, &st, AT_SYMLINK_NOFOLLOW) &&
			    errno == ENOENT)
				find(r, ep, 0, "a long name's record without its "
				     "entry (left by a crash, or planted): the "
				     "mount ignores it, and it can be removed");
			continue;
		}
		/* A rename's leftover link: check_link() lists it. */
		if (de->d_type == DT_LNK && r->cfg->opt.bound &&
		    !strncmp(de->d_name, VOLLINKS_TMP_PREFIX,
			     strlen(VOLLINKS_TMP_PREFIX)))
			continue;
		len = strlen(de->d_name);
		if (names_is_long(de->d_name)) {
			if (volnames_record(dirfd(d), de->d_name, rec, &len)) {
				find(r, ep, 0, "its long name's record (the "
				     "file beside it ending in "
				     NAMES_LONG_SUFFIX ") is missing, damaged "
				     "or another name's: the mount leaves it "
				     "out of the listing");
				continue;
			}
		} else {
			memcpy(rec, de->d_name, len);
		}
		if (names_decrypt(r->names_ac, r->names_key, id, rec, len,
				  plain))
			find(r, ep, 0, "its name does not decrypt in this "
			     "directory (planted, or moved from another one): "
			     "the mount leaves it out of the listing");
	}
	if (errno)
		find(r, path, 0, "cannot list the directory: %s",
		     strerror(errno));
	closedir(d);
	OPENSSL_cleanse(plain, sizeof(plain));
}

static void check_dir(struct fsck_run *r, int parent, const char *name,
		      const char *path)
{
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			O_CLOEXEC);

	if (fd < 0) {
		find(r, path, 0, "cannot open the directory: %s",
		     strerror(errno));
		return;
	}
	check_xattrs(r, fd, path);
	if (r->names_key)
		check_names(r, fd, path);
	close(fd);
}

/* A second name of an inode already listed: checked once. */
static int link_seen(struct fsck_run *r, const struct stat *st, bool *seen)
{
	size_t i;

	*seen = false;
	if (st->st_nlink < 2)
		return 0;
	for (i = 0; i < r->nlinks; i++)
		if (r->links[i].dev == st->st_dev &&
		    r->links[i].ino == st->st_ino) {
			*seen = true;
			return 0;
		}
	if (grow((void **)&r->links, &r->caplinks, r->nlinks,
		 sizeof(*r->links)))
		return -ENOMEM;
	r->links[r->nlinks].dev = st->st_dev;
	r->links[r->nlinks++].ino = st->st_ino;
	return 0;
}

static int cmp_lid(const void *a, const void *b)
{
	return memcmp(a, b, META_LINK_ID_LEN);
}

/*
 * Entries of the link store that no long symlink target names: records
 * a crash left (between a record and its link, or a rotation's
 * temporary), or planted.  The mount never reads them.
 */
static void find_link_orphans(struct fsck_run *r)
{
	uint8_t id[META_LINK_ID_LEN];
	char path[PATH_MAX], hex[2 * META_LINK_ID_LEN + 1];
	struct dirent *de;
	int fd;
	DIR *d;

	/* A user's directory of that name: its files are no records. */
	if (!vollinks_ours(r->dirfd))
		return;
	fd = openat(r->dirfd, VOLLINKS_DIR, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
	d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		if (errno != ENOENT)
			find(r, VOLLINKS_DIR, 0, "cannot list the directory of "
			     "long symbolic link targets: %s", strerror(errno));
		return;
	}
	if (r->nlids)
		qsort(r->lids, r->nlids, sizeof(*r->lids), cmp_lid);
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		/* Named as the mount names it: lower-case hex of an ID. */
		if (!hex_decode(de->d_name, id, sizeof(id))) {
			hex_encode(id, sizeof(id), hex);
			if (!strcmp(hex, de->d_name) && r->nlids &&
			    bsearch(id, r->lids, r->nlids, sizeof(*r->lids),
				    cmp_lid))
				continue;
		}
		snprintf(path, sizeof(path), VOLLINKS_DIR "/%s", de->d_name);
		/* A link in what the walk skipped may name it: keep it then. */
		if (r->partial)
			find(r, path, 0, "no symbolic link the check reached "
			     "names this record of a long target, but it "
			     "skipped parts of the volume (listed): keep the "
			     "record, and check again once they can be read");
		else
			find(r, path, 0, "no symbolic link names this record of "
			     "a long target (left by a crash, or planted): the "
			     "mount ignores it, and it can be removed");
	}
	closedir(d);
}

static int add_file(struct fsck_run *r, const char *path, uint64_t backing)
{
	uint64_t d = extent_disk_size(r->cfg->extent_size);
	uint64_t per = CHUNK_BYTES / d ? CHUNK_BYTES / d : 1;
	uint64_t next = (backing + d - 1) / d, first = 0;
	struct fsck_file *f;

	if (grow((void **)&r->files, &r->capfiles, r->nfiles,
		 sizeof(*r->files)))
		return -ENOMEM;
	f = &r->files[r->nfiles];
	memset(f, 0, sizeof(*f));
	f->path = strdup(path);
	if (!f->path)
		return -ENOMEM;
	do {
		if (grow((void **)&r->items, &r->capitems, r->nitems,
			 sizeof(*r->items)))
			return -ENOMEM;
		r->items[r->nitems].file = r->nfiles;
		r->items[r->nitems].backing = backing;
		r->items[r->nitems].first = first;
		r->items[r->nitems++].count = next - first < per ?
					      next - first : per;
		first += per;
	} while (first < next);
	r->nfiles++;
	r->total += backing;
	return 0;
}

static int walk_one(void *ctx, int parent, const char *name,
		    const char *path, const struct stat *st, int err)
{
	struct fsck_run *r = ctx;
	bool seen;

	if (err)
		r->partial = true;
	if (err == -EXDEV) {
		find(r, path, 0, "another file system is mounted here: "
		     "not checked");
		return 0;
	}
	if (err) {
		find(r, path, 0, "cannot read it: %s", strerror(-err));
		return 0;
	}
	if (S_ISDIR(st->st_mode)) {
		r->res->dirs++;
		check_dir(r, parent, name, path);
	} else if (S_ISLNK(st->st_mode)) {
		r->res->symlinks++;
		check_link(r, parent, name, path);
	} else if (S_ISREG(st->st_mode)) {
		if (link_seen(r, st, &seen))
			return -ENOMEM;
		if (!seen)
			return add_file(r, path, (uint64_t)st->st_size);
	}
	return 0;
}

/* ---- one chunk of one file ---- */

struct worker {
	struct fsck_run *r;
	struct aead_ctx *ac;
	uint8_t *buf, *plain;		/* READ_BYTES + one extent; E */
};

/* Bad extents [first, first + n) in words, with their backing bytes. */
static void find_run(struct fsck_run *r, const char *path, uint64_t first,
		     uint64_t n, uint64_t backing, int why)
{
	uint64_t d = extent_disk_size(r->cfg->extent_size);
	uint64_t end = (first + n) * d < backing ? (first + n) * d : backing;
	static const char *const whys[] = {
		"not authenticate (changed, moved or from another file)",
		"all zero, a hole this file does not allow",
		"be read",
	};
	static const char *const verbs[][2] = {
		{ "does", "do" }, { "is", "are" }, { "cannot", "cannot" },
	};

	if (n == 1)
		find(r, path, first + 1, "extent %llu (backing bytes %llu to "
		     "%llu) %s %s", (unsigned long long)first,
		     (unsigned long long)(first * d),
		     (unsigned long long)end, verbs[why][0], whys[why]);
	else
		find(r, path, first + 1, "extents %llu to %llu (backing bytes "
		     "%llu to %llu) %s %s", (unsigned long long)first,
		     (unsigned long long)(first + n - 1),
		     (unsigned long long)(first * d),
		     (unsigned long long)end, verbs[why][1], whys[why]);
}

/*
 * The file-level checks, by the first chunk: the header's flags against
 * the size, the version record, the xattrs, and the file ID for the
 * duplicate check.
 */
static void check_file(struct worker *w, struct fsck_file *f, int fd,
		       const struct hdr *h, const struct file_key *fk,
		       uint64_t backing, bool *sparse)
{
	struct fsck_run *r = w->r;
	uint8_t rec[VERREC_LEN + 1], tag[AEAD_TAG_LEN] = { 0 };
	uint64_t plain = 0;
	struct verrec v;
	ssize_t n;

	memcpy(f->id, h->file_id, FILE_ID_LEN);
	f->has_id = true;
	if ((h->flags & (HDR_F_DATA | HDR_F_VER)) == HDR_F_DATA && !backing)
		find(r, f->path, 0, "the file held data and was cut to zero "
		     "bytes in the backing directory");
	if (extent_plain_size(r->cfg->extent_size, backing, &plain))
		find(r, f->path, 0, "its backing size %llu is impossible: it "
		     "was cut in the middle of its last extent",
		     (unsigned long long)backing);
	n = fgetxattr(fd, HDR_SPARSE_XATTR, rec, sizeof(rec));
	*sparse = n >= 0 && !extent_sparse_check(fk, rec, (size_t)n);
	f->bad_sparse = n >= 0 && !*sparse;
	if (h->flags & HDR_F_VER) {
		n = fgetxattr(fd, HDR_VER_XATTR, rec, sizeof(rec));
		if (n < 0 || verrec_open(fk, rec, (size_t)n, &v)) {
			find(r, f->path, 0, "its version record (xattr "
			     HDR_VER_XATTR ") is %s", n < 0 ? "missing" :
			     "damaged or not this file's");
		} else if (v.flags & VERREC_F_CUT) {
			find(r, f->path, 0, "its version record says the file "
			     "was changed outside atrestfs while it was open");
		} else if (!(v.flags & VERREC_F_DIRTY)) {
			if (backing && pread(fd, tag, sizeof(tag),
					     (off_t)(backing - sizeof(tag))) !=
					   (ssize_t)sizeof(tag))
				memset(tag, 0, sizeof(tag));
			if (v.size != plain || memcmp(v.tag, tag, sizeof(tag)))
				find(r, f->path, 0, "its version record says "
				     "%llu bytes with another last extent: an "
				     "older end of the file was put back, or "
				     "it was cut", (unsigned long long)v.size);
		}
	}
	check_xattrs(r, fd, f->path);
}

/* Open the header of @f on @fd: 0 with *@fk, 1 if nothing to read, -errno. */
static int chunk_key(struct worker *w, struct fsck_file *f, int fd,
		     bool first, uint64_t backing, struct hdr *h,
		     struct file_key **fk)
{
	struct fsck_run *r = w->r;
	uint8_t raw[HDR_SIZE + 1];
	ssize_t n;
	int err;

	n = fgetxattr(fd, HDR_XATTR, raw, sizeof(raw));
	if (n < 0 && (errno == ENODATA || errno == ENOTSUP)) {
		if (!first)
			return 1;
		if (backing) {
			pthread_mutex_lock(&r->lock);
			r->res->no_header++;
			pthread_mutex_unlock(&r->lock);
			find(r, f->path, 0, "no header (xattr " HDR_XATTR "): "
			     "its key is lost, its %llu backing bytes cannot "
			     "be read", (unsigned long long)backing);
		} else if (r->cfg->format_version >= 2) {
			find(r, f->path, 0, "no header (xattr " HDR_XATTR ") on "
			     "an empty file: in a format 2 volume it was "
			     "emptied and its header removed outside atrestfs");
		}
		return 1;
	}
	if (n < 0) {
		if (first)
			find(r, f->path, 0, "cannot read its header: %s",
			     errno == ERANGE ? "oversized" : strerror(errno));
		return 1;
	}
	err = hdr_parse(raw, (size_t)n, h);
	if (!err && h->extent_size != r->cfg->extent_size)
		err = -EDOM;
	if (!err)
		err = hdr_unwrap(r->kek, h, fk);
	if (!err)
		return 0;
	if (first)
		find(r, f->path, 0, "its header %s",
		     err == -EPROTONOSUPPORT ? "has a version this atrestfs "
		     "does not know" :
		     err == -EDOM ? "names another extent size than the "
		     "volume's" :
		     err == -ENOKEY ? "names another volume key (a file "
		     "copied from another volume?)" :
		     "does not authenticate (tampered or corrupt)");
	return 1;
}

/* Why an extent fails: the index into find_run()'s sentences. */
enum { BAD_AUTH, BAD_HOLE, BAD_READ };

/* The outcome of extent @i of @len bytes at @p: -1 if it is good. */
static int check_one(struct worker *w, struct fsck_file *f,
		     const struct file_key *fk,
		     uint64_t i, bool last, bool sparse, const uint8_t *p,
		     size_t len, uint64_t *holes)
{
	if (extent_is_hole(p, len)) {
		__atomic_store_n(&f->zeros, true, __ATOMIC_RELAXED);
		if (last || !sparse)
			return BAD_HOLE;
		++*holes;
		return -1;
	}
	return extent_open_ctx(w->ac, fk, i, last, p, len, w->plain) ?
	       BAD_AUTH : -1;
}

static void check_extents(struct worker *w, struct fsck_file *f, int fd,
			  const struct fsck_item *it,
			  const struct file_key *fk, uint64_t backing,
			  bool sparse)
{
	struct fsck_run *r = w->r;
	uint64_t d = extent_disk_size(r->cfg->extent_size);
	uint64_t rem = backing % d;
	/* A broken tail (1 to 28 bytes) is reported with the file. */
	uint64_t next = backing / d + (rem > EXTENT_OVERHEAD), last = next - 1;
	uint64_t i = it->first, end = it->first + it->count;
	uint64_t per = READ_BYTES / d ? READ_BYTES / d : 1;
	uint64_t run_first = 0, run_n = 0, holes = 0, exts = 0, base, stop;
	int run_why = 0, why;
	size_t len, dl;
	ssize_t got;

	if (end > next)
		end = next;
	while (i < end) {
		base = i * d;
		stop = end - i < per ? end : i + per;
		len = (size_t)((stop * d < backing ? stop * d : backing) - base);
		got = pread(fd, w->buf, len, (off_t)base);
		if (got < 0)
			got = 0;
		__atomic_add_fetch(&r->done, (uint64_t)got, __ATOMIC_RELAXED);
		for (; i < stop; i++) {
			dl = (size_t)(i * d + d <= backing ? d : backing - i * d);
			if (i * d - base + dl > (uint64_t)got)
				why = BAD_READ;
			else
				why = check_one(w, f, fk, i, i == last, sparse,
						w->buf + (i * d - base), dl,
						&holes);
			exts++;
			if (why >= 0 && run_n && run_why == why &&
			    run_first + run_n == i) {
				run_n++;
				continue;
			}
			if (run_n)
				find_run(r, f->path, run_first, run_n, backing,
					 run_why);
			run_n = why >= 0;
			run_first = i;
			run_why = why;
		}
	}
	if (run_n)
		find_run(r, f->path, run_first, run_n, backing, run_why);
	pthread_mutex_lock(&r->lock);
	r->res->extents += exts;
	r->res->holes += holes;
	pthread_mutex_unlock(&r->lock);
}

/* Backing bytes of @it's extents, as the walk saw the file. */
static uint64_t item_bytes(const struct fsck_run *r, const struct fsck_item *it)
{
	uint64_t d = extent_disk_size(r->cfg->extent_size);
	uint64_t end = (it->first + it->count) * d;

	return (end < it->backing ? end : it->backing) - it->first * d;
}

static void check_item(struct worker *w, const struct fsck_item *it)
{
	struct fsck_run *r = w->r;
	struct fsck_file *f = &r->files[it->file];
	bool first = it->first == 0, sparse = false;
	struct file_key *fk = NULL;
	uint8_t rec[EXTENT_SPARSE_LEN + 1];
	struct stat st;
	struct hdr h;
	ssize_t n;
	int fd;

	fd = fsck_open(r->dirfd, f->path, O_RDONLY | O_NONBLOCK | O_NOATIME);
	if (fd == -EPERM)
		fd = fsck_open(r->dirfd, f->path, O_RDONLY | O_NONBLOCK);
	if (fd < 0) {
		if (first)
			find(r, f->path, 0, "cannot open it: %s",
			     strerror(-fd));
		goto out_skip;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		if (first)
			find(r, f->path, 0, "it changed during the check");
		goto out_close;
	}
	if (chunk_key(w, f, fd, first, (uint64_t)st.st_size, &h, &fk))
		goto out_close;
	if (first) {
		check_file(w, f, fd, &h, fk, (uint64_t)st.st_size, &sparse);
	} else {
		n = fgetxattr(fd, HDR_SPARSE_XATTR, rec, sizeof(rec));
		sparse = n >= 0 && !extent_sparse_check(fk, rec, (size_t)n);
	}
	check_extents(w, f, fd, it, fk, (uint64_t)st.st_size, sparse);
	file_key_free(fk);
	close(fd);
	return;
out_close:
	close(fd);
out_skip:
	/* Nothing read, but the bar still moves past it. */
	__atomic_add_fetch(&r->done, item_bytes(r, it), __ATOMIC_RELAXED);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct fsck_run *r = w->r;
	size_t i;

	while ((i = __atomic_fetch_add(&r->next, 1, __ATOMIC_RELAXED)) <
	       r->nitems)
		check_item(w, &r->items[i]);
	pthread_mutex_lock(&r->lock);
	if (!--r->running)
		pthread_cond_signal(&r->idle);
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* ---- sparse records: the one thing repair mends ---- */

/*
 * A sparse record that does not authenticate costs a file nothing while
 * no extent of it is a hole, so it can go; with a hole it is evidence.
 */
static void find_sparse(struct fsck_run *r)
{
	struct fsck_file *f;
	size_t i, n;

	/* After the workers: only this thread touches the findings. */
	for (i = 0; i < r->nfiles; i++) {
		f = &r->files[i];
		if (!f->bad_sparse)
			continue;
		if (f->zeros) {
			find(r, f->path, 0, "its sparse record (xattr "
			     HDR_SPARSE_XATTR ") does not authenticate, so its "
			     "holes read as errors");
			continue;
		}
		n = r->nfinds;
		find(r, f->path, 0, "its sparse record (xattr "
		     HDR_SPARSE_XATTR ") does not authenticate; the file has "
		     "no hole, so it reads the same without it");
		if (r->nfinds > n)
			r->finds[n].fix = true;
	}
}

/* The record on @fd still fails against the file's key: 0, or -errno. */
static int sparse_still_bad(struct fsck_run *r, int fd)
{
	uint8_t raw[HDR_SIZE + 1], rec[EXTENT_SPARSE_LEN + 1];
	struct file_key *fk = NULL;
	struct hdr h;
	ssize_t n, m;
	int err;

	n = fgetxattr(fd, HDR_XATTR, raw, sizeof(raw));
	m = fgetxattr(fd, HDR_SPARSE_XATTR, rec, sizeof(rec));
	if (n < 0 || m < 0)
		return -errno;
	err = hdr_parse(raw, (size_t)n, &h);
	if (!err)
		err = hdr_unwrap(r->kek, &h, &fk);
	if (err)
		return -ESTALE;
	err = extent_sparse_check(fk, rec, (size_t)m) ? 0 : -ESTALE;
	file_key_free(fk);
	return err;
}

/*
 * Remove the sparse records find_sparse() marked, each checked again
 * first: the volume may have been mounted since.
 */
static void fix_sparse(struct fsck_run *r, const struct fsck_cb *cb)
{
	struct fsck_file *f;
	size_t i;
	int fd, err;

	for (i = 0; i < r->nfiles; i++) {
		f = &r->files[i];
		if (!f->bad_sparse || f->zeros)
			continue;
		fd = fsck_open(r->dirfd, f->path, O_RDONLY | O_NONBLOCK);
		if (fd < 0) {
			cb->repaired(cb->ctx, f->path, fd);
			continue;
		}
		err = sparse_still_bad(r, fd);
		if (!err && fremovexattr(fd, HDR_SPARSE_XATTR))
			err = -errno;
		if (!err)
			r->res->repaired++;
		cb->repaired(cb->ctx, f->path, err);
		close(fd);
	}
}

/* ---- the run ---- */

static int cmp_find(const void *a, const void *b)
{
	const struct finding *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	if (c)
		return c;
	return x->key < y->key ? -1 : x->key > y->key;
}

static struct fsck_run *cmp_run;	/* qsort has no context argument */

static int cmp_id(const void *a, const void *b)
{
	const struct fsck_file *x = &cmp_run->files[*(const size_t *)a];
	const struct fsck_file *y = &cmp_run->files[*(const size_t *)b];
	int c = memcmp(x->id, y->id, FILE_ID_LEN);

	return c ? c : strcmp(x->path, y->path);
}

/* Two files with one file ID: a copy made outside atrestfs. */
static int find_dups(struct fsck_run *r)
{
	static pthread_mutex_t cmp_lock = PTHREAD_MUTEX_INITIALIZER;
	size_t *idx, n = 0, i, j;

	idx = calloc(r->nfiles ? r->nfiles : 1, sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	for (i = 0; i < r->nfiles; i++)
		if (r->files[i].has_id)
			idx[n++] = i;
	pthread_mutex_lock(&cmp_lock);
	cmp_run = r;
	qsort(idx, n, sizeof(*idx), cmp_id);
	pthread_mutex_unlock(&cmp_lock);
	for (i = 0; i + 1 < n; i = j) {
		for (j = i + 1; j < n && !memcmp(r->files[idx[i]].id,
						 r->files[idx[j]].id,
						 FILE_ID_LEN); j++)
			find(r, r->files[idx[j]].path, 0, "it has the file ID "
			     "of %s (a copy made in the backing directory): "
			     "the mount refuses whichever is opened second",
			     r->files[idx[i]].path);
	}
	free(idx);
	return 0;
}

static unsigned int nthreads(unsigned int want)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (!want)
		want = n > 0 ? (unsigned int)n : 1;
	return want > MAX_THREADS ? MAX_THREADS : want;
}

/* Show progress every 200 ms until the workers are done. */
static void wait_workers(struct fsck_run *r, const struct fsck_cb *cb)
{
	struct timespec ts;

	pthread_mutex_lock(&r->lock);
	while (r->running) {
		pthread_mutex_unlock(&r->lock);
		if (cb->progress)
			cb->progress(cb->ctx, __atomic_load_n(&r->done,
					__ATOMIC_RELAXED), r->total);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 200 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_mutex_lock(&r->lock);
		if (r->running)
			pthread_cond_timedwait(&r->idle, &r->lock, &ts);
	}
	pthread_mutex_unlock(&r->lock);
}

/* Start the workers and show progress until they end. */
static int run_workers(struct fsck_run *r, unsigned int threads,
		       const struct fsck_cb *cb)
{
	struct worker w[MAX_THREADS] = { 0 };
	pthread_t tid[MAX_THREADS];
	size_t bufsize = READ_BYTES + extent_disk_size(r->cfg->extent_size);
	unsigned int i, started = 0;
	int err = 0;

	for (i = 0; i < threads; i++) {
		w[i].r = r;
		w[i].ac = aead_ctx_new();
		w[i].buf = malloc(bufsize);
		w[i].plain = malloc(r->cfg->extent_size);
		if (!w[i].ac || !w[i].buf || !w[i].plain) {
			err = -ENOMEM;
			goto out_free;
		}
	}
	r->running = threads;
	for (i = 0; i < threads; i++) {
		if (pthread_create(&tid[i], NULL, worker_main, &w[i]))
			break;
		started++;
	}
	/* Fewer threads than asked still finish the work. */
	pthread_mutex_lock(&r->lock);
	r->running -= threads - started - !started;
	pthread_mutex_unlock(&r->lock);
	if (!started)
		worker_main(&w[0]);
	wait_workers(r, cb);
	for (i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	if (cb->progress)
		cb->progress(cb->ctx, r->total, r->total);
out_free:
	for (i = 0; i < threads; i++) {
		aead_ctx_free(w[i].ac);
		free(w[i].buf);
		/* The last plaintext read: the user's data, not ours to keep. */
		if (w[i].plain)
			OPENSSL_cleanse(w[i].plain, r->cfg->extent_size);
		free(w[i].plain);
	}
	return err;
}

/* The names key and the xattr names key, for check_names(). */
static int names_key_open(struct fsck_run *r, char *msg, size_t msglen)
{
	int err;

	r->names_key = secmem_alloc(NAMES_KEY_LEN + NAMES_XKEY_LEN);
	r->names_ac = aead_ctx_new();
	if (!r->names_key || !r->names_ac) {
		snprintf(msg, msglen, "cannot check the volume: out of memory");
		return -ENOMEM;
	}
	err = names_key_unwrap(r->kek, r->cfg->uuid, r->cfg->opt.names_key,
			       r->names_key);
	if (err) {
		snprintf(msg, msglen, "the names key in " VOL_CONF_NAME " does "
			 "not open with this volume's key: the config is "
			 "damaged; restore it from a backup");
		return err;
	}
	err = names_xattr_key(r->names_key, r->names_key + NAMES_KEY_LEN);
	if (err)
		snprintf(msg, msglen, "cannot derive the xattr names key: %s",
			 strerror(-err));
	return err;
}

int fsck_volume(int dirfd, const struct vol_config *cfg,
		const struct kek *kek, unsigned int threads, bool repair,
		const struct fsck_cb *cb, struct fsck_result *res,
		char *msg, size_t msglen)
{
	struct fsck_run r = { .dirfd = dirfd, .cfg = cfg, .kek = kek,
			      .res = res };
	pthread_condattr_t ca;
	size_t i, nfix = 0;
	int err;

	memset(res, 0, sizeof(*res));
	pthread_mutex_init(&r.lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r.idle, &ca);
	pthread_condattr_destroy(&ca);
	if (cfg->opt.names_encrypted) {
		err = names_key_open(&r, msg, msglen);
		if (err)
			goto out_free;
	}
	check_dir(&r, dirfd, ".", ".");
	err = fsck_walk(dirfd, walk_one, &r);
	if (err) {
		snprintf(msg, msglen, "cannot walk the volume: %s",
			 strerror(-err));
		goto out_free;
	}
	res->files = r.nfiles;
	res->bytes = r.total;
	err = run_workers(&r, nthreads(threads), cb);
	if (!err)
		err = find_dups(&r);
	if (!err && r.oom)
		err = -ENOMEM;
	if (err) {
		snprintf(msg, msglen, "cannot check the volume: %s",
			 strerror(-err));
		goto out_free;
	}
	find_sparse(&r);
	find_link_orphans(&r);
	if (r.oom) {
		err = -ENOMEM;
		snprintf(msg, msglen, "cannot check the volume: out of memory");
		goto out_free;
	}
	if (r.nfinds)
		qsort(r.finds, r.nfinds, sizeof(*r.finds), cmp_find);
	for (i = 0; i < r.nfinds; i++) {
		cb->report(cb->ctx, r.finds[i].path, r.finds[i].what,
			   r.finds[i].fix);
		nfix += r.finds[i].fix;
	}
	res->findings = r.nfinds;
	if (repair && nfix && cb->confirm && cb->confirm(cb->ctx, nfix))
		fix_sparse(&r, cb);
out_free:
	for (i = 0; i < r.nfinds; i++) {
		free(r.finds[i].path);
		free(r.finds[i].what);
	}
	for (i = 0; i < r.nfiles; i++)
		free(r.files[i].path);
	free(r.finds);
	free(r.files);
	free(r.items);
	free(r.links);
	free(r.lids);
	if (r.names_key)
		secmem_free(r.names_key, NAMES_KEY_LEN + NAMES_XKEY_LEN);
	aead_ctx_free(r.names_ac);	/* wipes the names key's schedule */
	pthread_cond_destroy(&r.idle);
	pthread_mutex_destroy(&r.lock);
	return err;
}

/* ---- the look mount takes ---- */

struct sample {
	unsigned int max, checked, missing, seen;
};

static int sample_one(void *ctx, int parent, const char *name,
		      const char *path, const struct stat *st, int err)
{
	struct sample *s = ctx;
	ssize_t n;
	int fd;

	(void)path;
	/* Bounded, so a huge first directory costs no more than a glance. */
	if (++s->seen > 64 * s->max || s->checked >= s->max)
		return 1;
	if (err || !S_ISREG(st->st_mode) || !st->st_size)
		return 0;
	fd = openat(parent, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW |
		    O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = fgetxattr(fd, HDR_XATTR, NULL, 0);
	s->checked++;
	if (n < 0 && (errno == ENODATA || errno == ENOTSUP))
		s->missing++;
	close(fd);
	return 0;
}

void fsck_sample(int dirfd, unsigned int max, unsigned int *checked,
		 unsigned int *missing)
{
	struct sample s = { .max = max };

	fsck_walk(dirfd, sample_one, &s);
	*checked = s.checked;
	*missing = s.missing;
}
