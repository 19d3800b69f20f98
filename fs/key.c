// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/key.c - per-file keys in the driver: read and check the header xattr
 * once per open inode, keep the DEK while any open (or truncate) needs it,
 * wipe it when the last one goes.  hdr_parse() is the only header parser.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "../crypto/hdr.h"
#include "audit.h"
#include "fs_private.h"

/* The sparse record is optional; a bad one only costs the right to holes. */
static void load_sparse(struct atr_inode *ai, int fd)
{
	uint8_t rec[EXTENT_SPARSE_LEN + 1];
	ssize_t n = fgetxattr(fd, HDR_SPARSE_XATTR, rec, sizeof(rec));

	ai->sparse = false;
	if (n < 0)
		return;
	if (extent_sparse_check(ai->fk, rec, (size_t)n)) {
		atr_log_inode(LOG_ERR, ai, "sparse record does not authenticate; "
			      "holes in this file will read as errors");
		return;
	}
	ai->sparse = true;
}

static int write_header(struct atr_mount *m, int fd, struct file_key **fk)
{
	uint8_t raw[HDR_SIZE];
	struct hdr h;
	int err;

	err = hdr_create(m->kek, m->extent_size, &h, fk);
	if (err)
		return err;
	hdr_build(&h, raw);
	/* XATTR_CREATE: of two racing first opens, exactly one writes. */
	if (fsetxattr(fd, HDR_XATTR, raw, HDR_SIZE, XATTR_CREATE) == 0) {
		policy_audit(m, "dek_create", h.file_id, 0);
		return 0;
	}
	err = -errno;
	file_key_free(*fk);
	*fk = NULL;
	return err;
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
		if (fstat(fd, &st) == 0 && st.st_size == 0) {
			err = write_header(m, fd, &ai->fk);
			if (!err)
				ai->sparse = false;
			if (err != -EEXIST)
				return err;
			n = fgetxattr(fd, HDR_XATTR, raw, sizeof(raw));
		}
		if (n < 0 && errno == ENODATA) {
			atr_log_inode(LOG_ERR, ai, "no header (xattr " HDR_XATTR
				      ") on a non-empty file; its key is lost");
			return -EBADMSG;
		}
	}
	if (n < 0) {
		err = -errno;
		if (err == -ERANGE) {
			atr_log_inode(LOG_ERR, ai, "header is oversized");
			return -EBADMSG;
		}
		atr_log_inode(LOG_ERR, ai, "cannot read header: %s",
			      strerror(errno));
		return err;
	}
	err = hdr_parse(raw, (size_t)n, &h);
	if (err == -EPROTONOSUPPORT) {
		atr_log_inode(LOG_ERR, ai, "header version %u is not supported",
			      h.version);
		return err;
	}
	if (err) {
		atr_log_inode(LOG_ERR, ai, "header is corrupt (%zd bytes)", n);
		return err;
	}
	if (h.extent_size != m->extent_size) {
		atr_log_inode(LOG_ERR, ai, "header extent size %u differs from "
			      "the volume's %u", h.extent_size, m->extent_size);
		return -EBADMSG;
	}
	err = hdr_unwrap(m->kek, &h, &ai->fk);
	/* First use while the inode held no key: the audited DEK unwrap. */
	policy_audit(m, "dek_unwrap", h.file_id, err);
	if (err == -ENOKEY)
		atr_log_inode(LOG_ERR, ai, "header names another volume key "
			      "(file copied from another volume?)");
	else if (err == -EBADMSG)
		atr_log_inode(LOG_ERR, ai, "header does not authenticate "
			      "(tampered or corrupt)");
	if (err)
		return err;
	load_sparse(ai, fd);
	return 0;
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
		ai->sparse = false;
	}
	key_user_note(m, ai);	/* its dek_create, or the opener's unwrap */
	ai->nkeyref++;
}

void key_unref(struct atr_inode *ai)
{
	if (--ai->nkeyref)
		return;
	file_key_free(ai->fk);
	ai->fk = NULL;
	ai->sparse = false;
	key_users_clear(ai);
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
	ai->sparse_unsynced = true;	/* fdatasync need not sync xattrs */
	return 0;
}
