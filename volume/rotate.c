// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * volume/rotate.c - a new KEK for a volume (atrestfs rotate-kek), offline.
 *
 * Three steps, each leaving a volume any keyslot mounts:
 *  1. rotate_begin(): a new KEK; every keyslot rewrapped under it, and the
 *     old KEK boxed under the new one in the config (kek_retiring), in one
 *     atomic config commit.  Readers then open what names either KEK.
 *  2. rotate_walk(): every header naming the old KEK is rewrapped under
 *     the new one (one fsetxattr; the DEK, and so every extent, sparse and
 *     version record, stays), and every xattr value and symlink target
 *     sealed under the old metadata key is re-sealed under the new one.
 *     Idempotent: a crash anywhere is resumed by walking again.
 *  3. rotate_finish(): the config commit that drops kek_retiring; the old
 *     KEK is then destroyed (wiped here, gone from the config).
 * Owns the new KEK until it is handed to the caller; borrows the rest.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "../crypto/aead.h"
#include "../crypto/codec.h"
#include "../crypto/hdr.h"
#include "../crypto/meta.h"
#include "../crypto/msg.h"
#include "../crypto/names.h"
#include "../fs/audit.h"
#include "fsck.h"
#include "volume_private.h"

/*
 * A re-sealed symlink is made here, then renamed over the old one: a name
 * under the reserved prefix, so never seen through the mount, and removed
 * when a walk starts (a crash may leave it).
 */
#define LINK_TMP	VOL_CONF_LINK_TMP
#define XATTR_VALUE_MAX	65536

static int audit_kek(const struct vol_config *cfg, const char *event,
		     const uint8_t kek_id[KEK_ID_LEN], int result, char *msg,
		     size_t msglen)
{
	char id[2 * KEK_ID_LEN + 1];

	hex_encode(kek_id, KEK_ID_LEN, id);
	return volkey_audit_event(cfg, event, "rotate_kek", id, NULL, result,
				  msg, msglen);
}

/*
 * The key fields of @ks into @slot; whatever else a keyslot holds (a
 * label, say) stays.
 */
static void set_key(struct vol_keyslot *slot, const struct vol_keyslot *ks)
{
	memcpy(slot->provider, ks->provider, sizeof(slot->provider));
	memcpy(slot->key_id, ks->key_id, sizeof(slot->key_id));
	slot->key_version = ks->key_version;
	memcpy(slot->algorithm, ks->algorithm, sizeof(slot->algorithm));
	memcpy(slot->wrapped, ks->wrapped, sizeof(slot->wrapped));
	slot->wrapped_len = ks->wrapped_len;
	memcpy(slot->params, ks->params, sizeof(slot->params));
	slot->nparams = ks->nparams;
}

/*
 * Rewrap @slot's KEK copy under @kek: the provider must give the very key
 * the keyslot names, or the keyslot would silently change hands.  Only
 * the key fields change; everything else the keyslot holds stays.
 */
static int rewrap_slot(const struct volkey_src *src,
		       const struct vol_config *next, const struct kek *kek,
		       unsigned int i, struct vol_keyslot *slot, char *msg,
		       size_t msglen)
{
	struct vol_keyslot ks;
	int err;

	err = volkey_wrap_slot(src, slot->provider, next, kek, "rotate_kek",
			       slot, &ks, msg, msglen);
	if (err) {
		char why[KEYPROV_MSG_MAX];

		snprintf(why, sizeof(why), "%s", *msg ? msg : strerror(-err));
		return msg_fail(msg, msglen, err == -ENOMEM ? err : -ENOKEY,
				"cannot rewrap keyslot %u (%s, key %s) under "
				"the new volume key: %s", i, slot->provider,
				slot->key_id, why);
	}
	if (strcmp(ks.key_id, slot->key_id))
		return msg_fail(msg, msglen, -EKEYREJECTED, "keyslot %u is "
				"for key %s, but provider %s gave key %s: give "
				"the options of that key, or remove the keyslot "
				"first (atrestfs keyslot remove)", i,
				slot->key_id, slot->provider, ks.key_id);
	set_key(slot, &ks);
	return 0;
}

int rotate_begin(int dirfd, const struct volkey_src *src,
		 struct vol_config *cfg, struct kek **kekp, char *msg,
		 size_t msglen)
{
	struct vol_config *next;
	struct kek *old = *kekp, *kek = NULL;
	unsigned int i;
	int err;

	if (cfg->retiring.present || old->retiring)
		return msg_fail(msg, msglen, -EALREADY, "a KEK rotation is "
				"already under way");
	next = malloc(sizeof(*next));
	if (!next)
		return -ENOMEM;
	*next = *cfg;
	err = kek_generate(cfg->uuid, &kek);
	if (err)
		goto out;
	memcpy(next->kek_id, kek->id, KEK_ID_LEN);
	for (i = 0; i < next->nslots && !err; i++)
		err = rewrap_slot(src, next, kek, i, &next->slots[i], msg,
				  msglen);
	if (!err)
		err = kek_wrap_retiring(kek, old, cfg->uuid,
					next->retiring.wrapped);
	/* The names key is rewrapped, not changed: no file is renamed. */
	if (!err && next->opt.names_encrypted)
		err = names_key_rewrap(old, kek, cfg->uuid, next->opt.names_key);
	if (err)
		goto out;
	memcpy(next->retiring.kek_id, old->id, KEK_ID_LEN);
	next->retiring.present = true;
	err = audit_kek(next, "kek_create", kek->id, 0, msg, msglen);
	if (!err)
		err = volkey_commit(dirfd, next, kek, msg, msglen);
	if (err)
		goto out;
	*cfg = *next;
	kek->retiring = old;
	*kekp = kek;
	kek = NULL;
out:
	kek_free(kek);
	free(next);
	return err;
}

int rotate_finish(int dirfd, struct vol_config *cfg, struct kek *kek,
		  char *msg, size_t msglen)
{
	struct vol_retiring was = cfg->retiring;
	int err;

	if (!was.present || !kek->retiring)
		return msg_fail(msg, msglen, -EINVAL, "no KEK rotation is "
				"under way");
	/*
	 * The walk's headers, values and links on disk before the only
	 * config that opens their old form goes: the config's own fsync may
	 * persist that file alone (btrfs logs just the inode synced).
	 */
	if (syncfs(dirfd))
		return msg_fail(msg, msglen, -errno, "cannot flush the "
				"rewrapped headers to disk: %s", strerror(errno));
	memset(&cfg->retiring, 0, sizeof(cfg->retiring));
	err = volkey_commit(dirfd, cfg, kek, msg, msglen);
	if (err) {
		cfg->retiring = was;
		return err;
	}
	kek_free(kek->retiring);
	kek->retiring = NULL;
	/* Made: a log that cannot be written is now only a warning. */
	audit_kek(cfg, "kek_destroy", was.kek_id, 0, msg, msglen);
	OPENSSL_cleanse(&was, sizeof(was));
	return 0;
}

int rotate_root(int dirfd, const struct volkey_src *src, const char *provider,
		struct vol_config *cfg, const struct kek *kek, unsigned int at,
		struct vol_keyslot *old, char *msg, size_t msglen)
{
	struct vol_keyslot ks, *slot = &cfg->slots[at];
	int err;

	/* As passwd: the same keyslot, so its number and state stay. */
	err = volkey_wrap_slot(src, provider, cfg, kek, "rotate_root", slot,
			       &ks, msg, msglen);
	if (err)
		return err;
	if (!strcmp(ks.provider, slot->provider) &&
	    !strcmp(ks.key_id, slot->key_id) &&
	    ks.key_version == slot->key_version &&
	    strcmp(provider, "passphrase"))
		return msg_fail(msg, msglen, -EEXIST, "keyslot %u already "
				"uses key %s version %u of provider %s: give "
				"the new key", at, ks.key_id, ks.key_version,
				provider);
	*old = *slot;
	set_key(slot, &ks);
	err = volkey_commit(dirfd, cfg, kek, msg, msglen);
	if (err) {
		*slot = *old;
		return err;
	}
	/* Made: a log that cannot be written is now only a warning. */
	volkey_audit(cfg, "keyslot_remove", "rotate_root", old, 0, msg,
		     msglen);
	return 0;
}

/* ---- the walk ---- */

/* One walk, single-threaded: nothing here is shared. */
struct walk {
	int rootfd;			/* the volume's directory; borrowed */
	const struct kek *kek;		/* borrowed, with ->retiring */
	const struct rotate_cb *cb;	/* borrowed; may be NULL */
	struct rotate_stats *st;	/* the caller's, filled as we go */
	struct audit *audit;		/* borrowed; NULL: no audit log */
	uint8_t *val, *plain;		/* XATTR_VALUE_MAX each, owned */
	char path[PATH_MAX];		/* of the entry at hand, for messages */
	char *msg;			/* the caller's message buffer */
	size_t msglen;
	bool one;			/* rotate_one(): no directory walked */
};

static void damaged(struct walk *w, const char *what)
{
	w->st->damaged++;
	if (w->cb && w->cb->warn)
		w->cb->warn(w->cb->ctx, w->path, what);
}

static int io_fail(struct walk *w, int err, const char *what)
{
	return msg_fail(w->msg, w->msglen, err, "%s: cannot %s: %s", w->path,
			what, strerror(-err));
}

/* The header of regular file @fd, if it names the retiring KEK. */
static int rewrap_header(struct walk *w, int fd)
{
	uint8_t raw[HDR_SIZE + 1];
	struct file_key *fk = NULL;
	struct audit_event ev = { .event = "dek_rewrap", .op = "rotate_kek" };
	struct hdr h, nh;
	ssize_t n;
	int err;

	n = fgetxattr(fd, HDR_XATTR, raw, sizeof(raw));
	if (n < 0 && errno == ENODATA)
		return 0;		/* empty format-1 file: no key */
	if (n < 0)
		return io_fail(w, -errno, "read its header");
	if (hdr_parse(raw, (size_t)n, &h)) {
		damaged(w, "header is corrupt or of another version");
		return 0;
	}
	if (!memcmp(h.kek_id, w->kek->id, KEK_ID_LEN))
		return 0;		/* already rewrapped */
	if (memcmp(h.kek_id, w->kek->retiring->id, KEK_ID_LEN)) {
		damaged(w, "header names neither the old nor the new volume key");
		return 0;
	}
	err = hdr_unwrap(w->kek, &h, &fk);
	if (err == -EBADMSG) {
		damaged(w, "header does not authenticate");
		return 0;
	}
	if (!err)
		err = hdr_rewrap(w->kek, h.extent_size, fk, h.flags, &nh);
	file_key_free(fk);
	if (err)
		return io_fail(w, err, "rewrap its header");
	hdr_build(&nh, raw);
	/* One atomic xattr replace: the old header or the new, never a mix. */
	if (fsetxattr(fd, HDR_XATTR, raw, HDR_SIZE, XATTR_REPLACE))
		return io_fail(w, -errno, "write its header");
	w->st->headers++;
	audit_self(&ev);
	err = audit_dek(w->audit, &ev, nh.file_id);
	if (err)
		return io_fail(w, err, "write the audit log");
	return 0;
}

/*
 * One user xattr value of @fd, bound to @vid, the inode's value ID,
 * re-sealed if it is under the old key.
 */
static int reseal_value(struct walk *w, int fd, const uint8_t *vid,
			const char *name)
{
	ssize_t n = fgetxattr(fd, name, w->val, XATTR_VALUE_MAX);

	if (n < 0 && errno == ENODATA)
		return 0;
	if (n < 0)
		return io_fail(w, -errno, "read an xattr");
	if (meta_xattr_open(w->kek->retiring, vid, name, w->val, (size_t)n,
			    w->plain)) {
		if (meta_xattr_open(w->kek, vid, name, w->val, (size_t)n,
				    w->plain))
			damaged(w, "an xattr value does not authenticate");
		return 0;
	}
	if (meta_xattr_seal(w->kek, vid, name, w->plain,
			    (size_t)n - AEAD_OVERHEAD, w->val))
		return io_fail(w, -ENOMEM, "re-seal an xattr");
	OPENSSL_cleanse(w->plain, (size_t)n);
	if (fsetxattr(fd, name, w->val, (size_t)n, XATTR_REPLACE))
		return io_fail(w, -errno, "write an xattr");
	w->st->values++;
	return 0;
}

/*
 * Every user value of @fd re-sealed under the new KEK, bound to the
 * inode's value ID: one that has values and no ID gets one first
 * (volvid_make() binds its older values), so that after a rotation no
 * inode with values reads the older form.
 */
static int reseal_values(struct walk *w, int fd)
{
	ssize_t n = flistxattr(fd, NULL, 0);
	uint8_t vid[META_VID_LEN];
	char *list, *p;
	int err = 0, has;

	if (n <= 0)
		return n < 0 && errno != ENOTSUP ? io_fail(w, -errno,
							   "list xattrs") : 0;
	list = malloc((size_t)n);
	if (!list)
		return -ENOMEM;
	n = flistxattr(fd, list, (size_t)n);
	if (n < 0) {
		err = io_fail(w, -errno, "list xattrs");
		goto out_free;
	}
	if (!volvid_listed(list, n))
		goto out_free;
	has = volvid_get(fd, vid);
	if (has == -ENODATA || has == VOLVID_PENDING)
		has = volvid_make(fd, w->kek, vid);
	if (has == -EIO) {
		damaged(w, "its value ID (xattr " META_VID_XATTR ") is "
			"damaged: its xattr values are left as they are");
		goto out_free;
	}
	if (has) {
		err = io_fail(w, has, "make its value ID");
		goto out_free;
	}
	for (p = list; !err && p < list + n; p += strlen(p) + 1)
		if (meta_xattr_sealed(p))
			err = reseal_value(w, fd, vid, p);
out_free:
	free(list);
	return err;
}

/*
 * Open the short form @buf under @kek at @at or,
 * failing that, unbound (a volume from before "bound"): *@atp says which.
 * Only readers enforce the volume's form; a rotation keeps what it finds.
 */
static int link_open_either(const struct kek *kek, struct meta_link_at *at,
			    const char *buf, char **target,
			    struct meta_link_at **atp)
{
	*atp = at;
	if (at && !meta_link_open(kek, at, buf, target))
		return 0;
	*atp = NULL;
	return meta_link_open(kek, NULL, buf, target);
}

/*
 * Symlink @name in @dfd: a new one with the target re-sealed, owner and
 * times kept, renamed over it (atomic: the old target or the new).
 */
static int reseal_link(struct walk *w, int dfd, const char *name,
		       const struct stat *st, bool *changed)
{
	char buf[PATH_MAX], *target = NULL, *sealed = NULL;
	ssize_t n = readlinkat(dfd, name, buf, sizeof(buf) - 1);
	struct meta_link_at at, *atp;
	uint8_t id[META_LINK_ID_LEN];
	/*
	 * A rename's re-sealed link (in flight, or left by a crash) is
	 * sealed for a name it does not have yet: it does not open here, is
	 * not damage (fsck lists a leftover), and may be gone already.  On
	 * a volume from before "bound" such a name is a user's link like
	 * any other, and is re-sealed.
	 */
	bool tmp = !strncmp(name, VOLLINKS_TMP_PREFIX,
			    strlen(VOLLINKS_TMP_PREFIX)), at_ok;
	size_t len;
	int err = 0;

	if (n < 0 && tmp && errno == ENOENT)
		return 0;
	if (n < 0)
		return io_fail(w, -errno, "read the symbolic link");
	buf[n] = '\0';
	/* Bound to its place, or of the unbound form: kept in its form. */
	at_ok = !vollinks_at(dfd, name, false, &at);
	/* A long target: its record is re-sealed, a bound link re-tagged. */
	if (meta_link_long_parse(buf, (size_t)n, id, &len) == 1) {
		err = vollinks_reseal(w->rootfd, w->kek, buf);
		if (err == -EBADMSG && !tmp)
			damaged(w, "symbolic link target does not authenticate "
				"(its record in " VOLLINKS_DIR " is missing or "
				"damaged)");
		else if (err < 0)
			return io_fail(w, err, "re-seal the symbolic link's "
				       "record");
		if (err < 0 || !at_ok ||
		    meta_link_long_check(w->kek->retiring, &at, buf, (size_t)n)) {
			w->st->links += err == 1;
			return 0;
		}
		err = meta_link_long_bind(w->kek, &at, buf, (size_t)n, &sealed);
		if (err)
			return io_fail(w, err, "re-tag the symbolic link");
		goto replace;
	}
	if (link_open_either(w->kek->retiring, at_ok ? &at : NULL, buf,
			     &target, &atp)) {
		if (link_open_either(w->kek, at_ok ? &at : NULL, buf, &target,
				     &atp) && !tmp)
			damaged(w, "symbolic link target does not authenticate");
		free(target);
		return 0;
	}
	err = meta_link_seal(w->kek, atp, target, &sealed);
	OPENSSL_cleanse(target, strlen(target));
	free(target);
	if (err)
		return io_fail(w, err, "re-seal the symbolic link");
replace:
	err = vollinks_replace(w->rootfd, dfd, name, st, sealed);
	free(sealed);
	if (err)
		return io_fail(w, err, "replace the symbolic link");
	*changed = true;
	w->st->links++;
	return 0;
}

static int progress(struct walk *w)
{
	int err;

	w->st->done++;
	if (!w->cb || !w->cb->progress)
		return 0;
	err = w->cb->progress(w->cb->ctx, w->st->done, w->st->total);
	return err ? msg_fail(w->msg, w->msglen, err, "%s: stopped: %s",
			      w->path, strerror(-err)) : 0;
}

/* Number of entries under @dfd (taken), for the progress bar. */
static uint64_t count(int dfd, bool root)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	uint64_t n = 0;
	int fd;

	if (!d) {
		close(dfd);
		return 0;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    (root && fsck_own_name(dirfd(d), de->d_name)))
			continue;
		n++;
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0)
			n += count(fd, false);
	}
	closedir(d);
	return n;
}

static int walk_dir(struct walk *w, int dfd, bool root);

static int enter(struct walk *w, int fd, const struct stat *st,
		 void **cookie)
{
	int err;

	*cookie = NULL;
	if (!w->cb || !w->cb->enter)
		return 0;
	err = w->cb->enter(w->cb->ctx, fd, st, cookie);
	return err ? msg_fail(w->msg, w->msglen, err, "%s: stopped: %s",
			      w->path, strerror(-err)) : 0;
}

static void leave(struct walk *w, void *cookie)
{
	if (w->cb && w->cb->leave)
		w->cb->leave(w->cb->ctx, cookie);
}

/* The work on regular file or directory @fd (borrowed) under enter(). */
static int do_node(struct walk *w, const struct stat *st, int fd)
{
	void *cookie;
	int err;

	err = enter(w, fd, st, &cookie);
	if (err)
		return err;
	if (S_ISREG(st->st_mode))
		err = rewrap_header(w, fd);
	if (!err)
		err = reseal_values(w, fd);
	leave(w, cookie);
	return err;
}

static int walk_entry(struct walk *w, int dfd, const char *name,
		      bool *changed)
{
	struct stat st;
	bool done = false;
	void *cookie;
	int fd, err = 0;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT ? 0 : io_fail(w, -errno, "stat it");
	if (S_ISLNK(st.st_mode)) {
		err = enter(w, -1, NULL, &cookie);
		if (err)
			return err;
		/* Again, now that no one may take the name away. */
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
			err = errno == ENOENT ? 0 : io_fail(w, -errno, "stat it");
		else if (S_ISLNK(st.st_mode))
			err = reseal_link(w, dfd, name, &st, &done);
		leave(w, cookie);
		/* Outside enter(): the caller may wait on the kernel here. */
		if (done && w->cb && w->cb->replaced)
			w->cb->replaced(w->cb->ctx, dfd, name);
		*changed |= done;
		return err;
	}
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return 0;	/* nodes carry no header and no user xattr */
	/* O_NONBLOCK: a FIFO swapped in since the stat is not waited on. */
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
		    O_CLOEXEC | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
	if (fd < 0)
		return errno == ENOENT ? 0 : io_fail(w, -errno, "open it");
	if (fstat(fd, &st)) {	/* the inode opened, whatever the name is now */
		err = io_fail(w, -errno, "stat it");
		close(fd);
		return err;
	}
	err = do_node(w, &st, fd);
	if (!err && S_ISDIR(st.st_mode) && !w->one)
		return walk_dir(w, fd, false);
	if (!err && S_ISDIR(st.st_mode))
		err = 1;
	close(fd);
	return err;
}

/* Every entry under @dfd (taken), depth first. */
static int walk_dir(struct walk *w, int dfd, bool root)
{
	size_t plen = strlen(w->path);
	bool changed = false;
	struct dirent *de;
	struct stat st;
	int err = 0;
	DIR *d;

	if (fstat(dfd, &st)) {
		close(dfd);
		return io_fail(w, -errno, "stat the directory");
	}
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return io_fail(w, -errno, "read the directory");
	}
	while (!err && (errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    (root && fsck_own_name(dirfd(d), de->d_name)))
			continue;
		snprintf(w->path + plen, sizeof(w->path) - plen, "/%s",
			 de->d_name);
		err = walk_entry(w, dirfd(d), de->d_name, &changed);
		w->path[plen] = '\0';
		if (!err)
			err = progress(w);
	}
	if (!err && errno)
		err = io_fail(w, -errno, "read the directory");
	/* A replaced symlink touched the directory: its times stay. */
	if (!err && changed && !(w->cb && w->cb->enter)) {
		struct timespec ts[2] = { st.st_atim, st.st_mtim };

		if (futimens(dirfd(d), ts))
			err = io_fail(w, -errno, "restore the directory's times");
	}
	closedir(d);
	return err;
}

int rotate_walk(int dirfd, const char *dir, const struct kek *kek,
		struct audit *audit, const struct rotate_cb *cb,
		struct rotate_stats *st, char *msg, size_t msglen)
{
	struct walk w = { .rootfd = dirfd, .kek = kek, .cb = cb, .st = st,
			  .audit = audit, .msg = msg, .msglen = msglen };
	struct stat rst;
	int fd, err;

	memset(st, 0, sizeof(*st));
	if (!kek->retiring)
		return msg_fail(msg, msglen, -EINVAL, "no KEK rotation is "
				"under way");
	snprintf(w.path, sizeof(w.path), "%s", dir);
	if (unlinkat(dirfd, LINK_TMP, 0) && errno != ENOENT)
		return io_fail(&w, -errno, "remove " LINK_TMP);
	w.val = malloc(XATTR_VALUE_MAX);
	w.plain = malloc(XATTR_VALUE_MAX);
	err = -ENOMEM;
	if (!w.val || !w.plain)
		goto out;
	/* Not a dup: that would share (and use up) @dirfd's offset. */
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	st->total = fd < 0 ? 0 : count(fd, true);
	err = fstat(dirfd, &rst) ? io_fail(&w, -errno, "stat it") :
	      do_node(&w, &rst, dirfd);
	if (err)
		goto out;
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	err = fd < 0 ? io_fail(&w, -errno, "open the directory") :
		       walk_dir(&w, fd, true);
	/* Entries made or removed since the count: end the bar anyway. */
	if (!err && cb && cb->progress && st->done != st->total)
		err = cb->progress(cb->ctx, st->total, st->total);
out:
	free(w.val);
	free(w.plain);
	return err;
}

int rotate_one(int rootfd, int dfd, const char *name, const struct kek *kek,
	       struct audit *audit, const struct rotate_cb *cb, char *msg,
	       size_t msglen)
{
	struct rotate_stats st = { 0 };
	struct walk w = { .rootfd = rootfd, .kek = kek, .cb = cb, .st = &st,
			  .audit = audit, .msg = msg, .msglen = msglen,
			  .one = true };
	bool changed = false;
	int err = -ENOMEM;

	if (!kek->retiring)
		return 0;
	snprintf(w.path, sizeof(w.path), "%s", name);
	w.val = malloc(XATTR_VALUE_MAX);
	w.plain = malloc(XATTR_VALUE_MAX);
	if (w.val && w.plain)
		err = walk_entry(&w, dfd, name, &changed);
	free(w.val);
	free(w.plain);
	return err;
}
