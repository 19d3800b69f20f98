/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fs/audit.h - the audit log of key use, shared by the daemon (fs/) and
 * the command (mount-helper/): one JSON object per line, per event.
 *
 * Never a key byte, never a file name or plaintext path: files are named
 * by their 128-bit file ID.  The destination comes from atrestfs.conf,
 * which lives in the untrusted backing directory, so audit_open() may only
 * be given options from a config whose MAC has verified.  Records in the
 * file are hash-chained (crypto/auditchain.h) across every process that
 * appends to it.
 */
#ifndef ATR_AUDIT_H
#define ATR_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../crypto/volume.h"

struct audit;

/* One event.  Pointers are borrowed for the call; NULL/0 fields are left out. */
struct audit_event {
	const char *event;	/* "mount", "root_key_unwrap", "dek_unwrap", ... */
	const uint8_t *file_id;	/* FILE_ID_LEN bytes, DEK events; or NULL */
	const char *key_id;	/* keyslot's key ID, or the KEK ID in hex */
	uint32_t key_version;	/* keyslot's; 0: left out */
	const char *provider;	/* key provider name */
	const char *op;		/* what was done: the refused FUSE operation
				 * (access_denied) or the command's step
				 * ("keyslot_add", "passwd", ...) */
	bool has_slot;		/* slot is set */
	uint32_t slot;		/* the keyslot, by its number in the config */
	const char *host;	/* NULL: this machine's name */
	uint32_t uid, gid;	/* requester, or this process */
	int32_t pid;
	int result;		/* 0 ("ok") or -errno (its name) */
};

/*
 * Open @opt's destinations for volume @uuid: the file with
 * O_APPEND|O_CREAT|O_NOFOLLOW|O_CLOEXEC, mode 0600, and/or syslog
 * (LOG_AUTHPRIV).  0 and *@a (NULL if @opt names none; the caller owns
 * it, audit_close() frees), or -errno with @msg.
 */
int audit_open(const struct vol_options *opt, const uint8_t uuid[VOL_UUID_LEN],
	       struct audit **a, char *msg, size_t msglen);
void audit_close(struct audit *a);
/*
 * The KEK's ID and the provider that unlocked it (NULL: unchanged), for
 * DEK events.  The daemon changes them only with its kek_lock
 * write-held, and formats DEK events with it read-held.
 */
void audit_set_kek(struct audit *a, const uint8_t kek_id[KEK_ID_LEN],
		   const char *provider);
/* Fill uid, gid and pid with this process's. */
void audit_self(struct audit_event *ev);
/*
 * Write one record: under a lock of the file (flock, and a mutex for this
 * process's threads), read the log's last record, append the chain fields
 * and write the line with a single write(2).  @a may be NULL: nothing
 * happens.  0 or -errno.
 */
int audit_log(struct audit *a, const struct audit_event *ev);
/*
 * Write @body (a record from audit_format(), kept since: a failed unlock
 * recorded before the log could be trusted) the same way.  0 or -errno.
 */
int audit_log_body(struct audit *a, const char *body, size_t n);
/* A DEK event for @file_id, with the KEK as its key (uid etc. in @ev). */
int audit_dek(struct audit *a, struct audit_event *ev,
	      const uint8_t *file_id);
/*
 * The record without its chain fields or newline; returns its length or
 * 0 if it does not fit in @len bytes.
 */
size_t audit_format(const char *uuid, const struct audit_event *ev,
		    char *buf, size_t len);
/* This machine's name for records, "" if it has none. */
void audit_host(char *buf, size_t len);

#endif
