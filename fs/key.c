// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/key.c - per-file keys in the driver: read and check the header xattr
 * once per open inode, keep the DEK while any open (or truncate) needs it,
 * wipe it when the last one goes.  hdr_parse() is the only header parser.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../crypto/hdr.h"
#include "audit.h"
#include "fs_private.h"

/*
 * The sparse record is optional; a bad one only costs the right to holes.
 * On an empty file it can only be one a crash left behind (a cut to zero,
 * or a new file ID, cut short): an empty file has no holes to lose.
 */
static void load_sparse(struct atr_inode *ai, int fd)
{
	uint8_t rec[EXTENT_SPARSE_LEN + 1];
	ssize_t n = fgetxattr(fd, HDR_SPARSE_XATTR, rec, sizeof(rec));

	ai->sparse = false;
	if (n < 0)
		return;
	if (extent_sparse_check(ai->fk, rec, (size_t)n)) {
		if (ai->size_known && !ai->size)
			fremovexattr(fd, HDR_SPARSE_XATTR);
		else
			key_log(ai, "sparse record does not authenticate; "
				"holes in this file will read as errors");
		return;
	}
	ai->sparse = true;
}

void key_log(struct atr_inode *ai, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	if (ai->hdr_logged)
		return;
	ai->hdr_logged = true;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	atr_log_inode(LOG_ERR, ai, "%s", what);
}

/* Store @h on @fd: @xflags XATTR_CREATE for a new file, 0 to replace. */
static int store_header(int fd, const struct hdr *h, int xflags)
{
	uint8_t raw[HDR_SIZE];

	hdr_build(h, raw);
	return fsetxattr(fd, HDR_XATTR, raw, HDR_SIZE, xflags) ? -errno : 0;
}

/*
 * On a format 2 volume (where only create and mknod write headers) the
 * header has HDR_F_VER from the start, and its record goes first.
 */
static int write_header(struct atr_mount *m, int fd, struct file_key **fk)
{
	uint16_t flags = m->hdr_always ? HDR_F_VER : 0;
	struct fio_tls *t = fio_tls_peek();
	struct hdr h;
	int err;

	/* The thread's context: a nonce from its batch, no context to make. */
	*fk = NULL;
	err = hdr_create_ctx(t ? t->ac : NULL, kek_get(m), m->extent_size,
			     flags, &h, fk);
	if (!err && flags)
		err = rollback_create(*fk, fd);
	/* It held the KEK and the DEK; no data request ends this one. */
	fio_tls_forget(m);
	/*
	 * XATTR_CREATE: of two racing first opens, exactly one writes.  The
	 * KEK is held until the header naming it is stored: an online
	 * rotation swaps it only then, so its walk finds this header.
	 */
	if (!err) {
		err = store_header(fd, &h, XATTR_CREATE);
		if (err && flags)
			fremovexattr(fd, HDR_VER_XATTR);  /* bound to our key */
	}
	kek_put(m);
	if (err)
		goto out_free;
	policy_audit(m, "dek_create", h.file_id, 0);
	return 0;
out_free:
	file_key_free(*fk);
	*fk = NULL;
	return err;
}

/* @ai's ID is one this mount made for it: ours until it leaves the table. */
static void id_made(struct atr_inode *ai, const uint8_t id[FILE_ID_LEN])
{
	memcpy(ai->made_id, id, FILE_ID_LEN);
	ai->made = true;
	ai->id_ours = true;
}

/* A key this mount made for @ai: nothing but our data is under its ID. */
static int key_made(struct atr_mount *m, struct atr_inode *ai)
{
	int err = fileid_claim(m, ai, ai->fk->file_id);

	ai->sparse = false;
	ai->hdr_data = false;
	ai->size = 0;
	/* Shared: other hosts move the end; the backing file says where. */
	ai->size_known = !m->opt_mnt.shared;
	id_made(ai, ai->fk->file_id);
	rollback_reset(ai);
	rollback_end(ai, NULL);		/* a new file is empty */
	if (m->hdr_always)
		rollback_created(ai);	/* write_header() made its record */
	return err;
}

/* An authenticated header: is it this file's, and is the file whole? */
static int key_check(struct atr_mount *m, struct atr_inode *ai, int fd,
		     const struct hdr *h)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	/*
	 * With a version record, the record says how long the file is.
	 * Shared: another host may have emptied it (the flag stays then).
	 */
	if ((h->flags & (HDR_F_DATA | HDR_F_VER)) == HDR_F_DATA &&
	    st.st_size == 0 && !m->opt_mnt.shared) {
		key_log(ai, "the file held data and was cut to zero bytes in "
			"the backing directory");
		return -EBADMSG;
	}
	/* An impossible size is the data path's to report. */
	ai->size_known = !extent_plain_size(m->extent_size,
					    (uint64_t)st.st_size, &ai->size) &&
			 !m->opt_mnt.shared;
	return fileid_claim(m, ai, h->file_id);
}

static int read_header(struct atr_mount *m, struct atr_inode *ai, int fd)
{
	uint8_t raw[HDR_SIZE + 1];
	struct stat st;
	struct hdr h;
	ssize_t n;
	int err;

	n = fgetxattr(fd, HDR_XATTR, raw, sizeof(raw));
	if (n < 0 && errno == ENODATA) {
		/*
		 * An empty file is an empty file with or without a header
		 * (format.md); give it one now.  A non-empty one without a
		 * header has lost its key: nothing in it can be read.
		 */
		/*
		 * In shared mode it may be another host's new file, its
		 * header not yet written: write one, or wait for theirs.
		 */
		if (m->hdr_always && !m->opt_mnt.shared &&
		    fstat(fd, &st) == 0 && st.st_size == 0) {
			key_log(ai, "no header (xattr " HDR_XATTR ") on an empty "
				"file: it was emptied and its header removed in "
				"the backing directory, or its creation was cut "
				"short; remove the file");
			return -EBADMSG;
		}
		if (fstat(fd, &st) == 0 && st.st_size == 0) {
			err = write_header(m, fd, &ai->fk);
			if (!err)
				goto out_made;
			if (err != -EEXIST)
				return err;
			n = m->opt_mnt.shared ?
			    shared_header_wait(fd, raw, sizeof(raw)) :
			    fgetxattr(fd, HDR_XATTR, raw, sizeof(raw));
		}
		if (n < 0 && errno == ENODATA) {
			key_log(ai, "no header (xattr " HDR_XATTR
				") on a non-empty file; its key is lost");
			return -EBADMSG;
		}
	}
	if (n < 0) {
		err = -errno;
		if (err == -ERANGE) {
			key_log(ai, "header is oversized");
			return -EBADMSG;
		}
		key_log(ai, "cannot read header: %s", strerror(errno));
		return err;
	}
	err = hdr_parse(raw, (size_t)n, &h);
	if (err == -EPROTONOSUPPORT) {
		key_log(ai, "header version %u is not supported", h.version);
		return err;
	}
	if (err) {
		key_log(ai, "header is corrupt (%zd bytes)", n);
		return err;
	}
	if (h.extent_size != m->extent_size) {
		key_log(ai, "header extent size %u differs from the volume's %u",
			h.extent_size, m->extent_size);
		return -EBADMSG;
	}
	err = hdr_unwrap(kek_get(m), &h, &ai->fk);
	kek_put(m);
	/* First use while the inode held no key: the audited DEK unwrap. */
	policy_audit(m, "dek_unwrap", h.file_id, err);
	if (err == -ENOKEY)
		key_log(ai, "header names another volume key "
			"(file copied from another volume?)");
	else if (err == -EBADMSG)
		key_log(ai, "header does not authenticate (tampered or corrupt)");
	if (!err)
		err = key_check(m, ai, fd, &h);
	if (!err)
		err = rollback_load(m, ai, fd, h.flags);
	if (err) {
		file_key_free(ai->fk);
		ai->fk = NULL;
		return err;
	}
	ai->hdr_data = h.flags & HDR_F_DATA;
	/* Made by this mount for this inode: refills need no new ID. */
	ai->id_ours = ai->made && !memcmp(ai->made_id, h.file_id, FILE_ID_LEN);
	load_sparse(ai, fd);
	return 0;
out_made:
	err = key_made(m, ai);
	if (err) {
		file_key_free(ai->fk);
		ai->fk = NULL;
	}
	return err;
}

/*
 * The users audited for the file's key while it stays loaded.  Its unwrap
 * is audited for whoever opens the file first; every other user who opens
 * it meanwhile uses the same key and gets one dek_use line, or a long-lived
 * reader would hide everyone else's access.  Kept only with an audit log.
 */
static uint32_t caller_uid(void)
{
	struct audit_event ev = { 0 };

	policy_caller(&ev);
	return ev.uid;
}

static bool key_user_seen(const struct atr_inode *ai, uint32_t uid)
{
	unsigned int i;

	for (i = 0; i < ai->nkey_uids; i++)
		if (ai->key_uids[i] == uid)
			return true;
	return false;
}

/*
 * Note the requester as a user of the loaded key: true if it was not one
 * yet (then it is audited).  Out of memory it is not kept: at worst
 * audited again.
 */
static bool key_user_note(struct atr_mount *m, struct atr_inode *ai)
{
	uint32_t uid, *ids;

	if (!m->audit)
		return false;
	uid = caller_uid();
	if (key_user_seen(ai, uid))
		return false;
	ids = realloc(ai->key_uids, (ai->nkey_uids + 1) * sizeof(*ids));
	if (ids) {
		ids[ai->nkey_uids++] = uid;
		ai->key_uids = ids;
	}
	return true;
}

static void key_users_clear(struct atr_inode *ai)
{
	free(ai->key_uids);
	ai->key_uids = NULL;
	ai->nkey_uids = 0;
}

int key_ref(struct atr_mount *m, struct atr_inode *ai, int fd)
{
	bool loaded = ai->fk != NULL;
	int err;

	if (!loaded) {
		err = read_header(m, ai, fd);	/* audits the unwrap */
		if (err)
			return err;
	}
	if (key_user_note(m, ai) && loaded)
		policy_audit(m, "dek_use", ai->fk->file_id, 0);
	ai->nkeyref++;
	return 0;
}

int key_new(struct atr_mount *m, int fd, struct file_key **fk)
{
	return write_header(m, fd, fk);
}

void key_attach(struct atr_mount *m, struct atr_inode *ai,
		struct file_key *fk)
{
	if (ai->fk) {
		/* Raced with an open of the same new file: its key stands. */
		file_key_free(fk);
	} else {
		ai->fk = fk;
		/* A fresh random ID: a clash is only the impossible kind. */
		(void)key_made(m, ai);
	}
	key_user_note(m, ai);	/* its dek_create, or the opener's unwrap */
	ai->nkeyref++;
}

/* What a loaded key brought: the state of a file nobody has open. */
static void key_drop(struct atr_mount *m, struct atr_inode *ai)
{
	endcopy_drop(m, ai);	/* no write of this key is left to tear */
	file_key_free(ai->fk);
	ai->fk = NULL;
	ai->sparse = false;
	ai->hdr_data = false;
	ai->data_pending = false;
	ai->size_known = false;
	ai->id_ours = false;
	rollback_reset(ai);
	key_users_clear(ai);
}

void key_unref(struct atr_mount *m, struct atr_inode *ai)
{
	if (--ai->nkeyref)
		return;
	key_drop(m, ai);
}

void key_wipe(struct atr_mount *m, struct atr_inode *ai)
{
	key_drop(m, ai);
}

/*
 * As a first open loads it: the header may have been changed while the
 * mount was locked (or is a rekeyed file's), and is checked again like
 * any other.  Until it loads,
 * the open handles get EIO (revoke_handle()).
 */
int key_reload(struct atr_mount *m, struct atr_inode *ai)
{
	int fd = attr_reopen(ai, O_RDONLY), err;

	if (fd < 0)
		return fd;
	err = read_header(m, ai, fd);
	close(fd);
	if (err)
		atr_log_inode(LOG_ERR, ai, "its key could not be loaded again "
			      "after unlock or rekey (%s); its open files get "
			      "EIO until they are closed and opened again",
			      strerror(-atr_errno(err)));
	return err;
}

int key_mark_sparse(struct atr_inode *ai, int fd)
{
	uint8_t rec[EXTENT_SPARSE_LEN];
	int err;

	if (ai->sparse)
		return 0;
	err = extent_sparse_seal(ai->fk, rec);
	if (err)
		return err;
	/*
	 * Before the hole exists, so a crash never leaves one unmarked; but
	 * for a WRITE's holes, which holes.c lists first (fio_settle()).
	 */
	if (fsetxattr(fd, HDR_SPARSE_XATTR, rec, sizeof(rec), 0))
		return -errno;
	ai->sparse = true;
	ai->xattr_unsynced = true;	/* fdatasync need not sync xattrs */
	return 0;
}

bool key_sparse_again(struct atr_inode *ai, int fd)
{
	uint8_t rec[EXTENT_SPARSE_LEN + 1];
	ssize_t n;

	if (__atomic_load_n(&ai->sparse, __ATOMIC_RELAXED))
		return true;
	n = fgetxattr(fd, HDR_SPARSE_XATTR, rec, sizeof(rec));
	if (n < 0 || extent_sparse_check(ai->fk, rec, (size_t)n))
		return false;
	/* Readers share ai->lock: they may read it meanwhile. */
	__atomic_store_n(&ai->sparse, true, __ATOMIC_RELAXED);
	return true;
}

int key_first_data(struct atr_mount *m, struct atr_inode *ai, int fd)
{
	struct file_key *fk;
	struct hdr h;
	int err;

	/*
	 * Shared: other hosts may hold this key loaded and write under it;
	 * a new one here would make their data unreadable.
	 */
	if (ai->id_ours || m->opt_mnt.shared)
		return 0;
	err = hdr_create(kek_get(m), m->extent_size, 0, &h, &fk);
	kek_put(m);
	if (err)
		return err;
	/*
	 * Replace, then drop the sparse and version records: they were bound
	 * to the old ID, and the new key has sealed nothing yet, so a crash
	 * anywhere here leaves an empty file that reads as one.
	 */
	err = store_header(fd, &h, 0);
	if (!err && fremovexattr(fd, HDR_SPARSE_XATTR) && errno != ENODATA)
		err = -errno;
	if (!err && fremovexattr(fd, HDR_VER_XATTR) && errno != ENODATA)
		err = -errno;
	if (!err)
		err = fileid_claim(m, ai, h.file_id);
	if (err) {
		file_key_free(fk);
		return err;
	}
	policy_audit(m, "dek_create", h.file_id, 0);
	rollback_new_id(m, ai, ai->fk->file_id);
	rollback_end(ai, NULL);
	file_key_free(ai->fk);
	ai->fk = fk;
	ai->sparse = false;
	ai->xattr_unsynced = false;
	ai->hdr_data = false;
	id_made(ai, h.file_id);
	return 0;
}

static uint16_t hdr_flags(const struct atr_inode *ai)
{
	return (ai->hdr_data ? HDR_F_DATA : 0) | (ai->hdr_ver ? HDR_F_VER : 0);
}

/* Rewrap the loaded key with @flags: 1 if it did, 0 if they were so. */
static int set_flags(struct atr_mount *m, struct atr_inode *ai, int fd,
		     uint16_t flags)
{
	struct hdr h;
	int err;

	if (hdr_flags(ai) == flags)
		return 0;
	err = hdr_rewrap(kek_get(m), m->extent_size, ai->fk, flags, &h);
	kek_put(m);
	if (!err)
		err = store_header(fd, &h, 0);
	if (err)
		return err;
	ai->hdr_data = flags & HDR_F_DATA;
	ai->hdr_ver = flags & HDR_F_VER;
	ai->xattr_unsynced = true;	/* as for the sparse record */
	return 1;
}

int key_add_flags(struct atr_mount *m, struct atr_inode *ai, int fd,
		  uint16_t add)
{
	return set_flags(m, ai, fd, hdr_flags(ai) | add);
}

int key_no_data(struct atr_mount *m, struct atr_inode *ai, int fd)
{
	int err;

	/*
	 * The next data gets a new ID and DEK (key_first_data()): extents
	 * from before the cut cannot come back.  A file with a version
	 * record needs no rewrap first: its record, dirty by now, says it
	 * is empty once it settles.  Shared: the key stays
	 * (key_first_data()).
	 */
	if (m->opt_mnt.shared)
		return 0;
	ai->id_ours = false;
	ai->made = false;
	if (ai->hdr_ver)
		return 0;
	err = set_flags(m, ai, fd, hdr_flags(ai) & ~HDR_F_DATA);
	return err < 0 ? err : 0;
}
