/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * volume/volume_private.h - what the files of volume/ share and nobody
 * else calls, sectioned by file.
 */
#ifndef ATR_VOLUME_PRIVATE_H
#define ATR_VOLUME_PRIVATE_H

#include "volume.h"

/* ---- conf_parse.c ---- */

/*
 * @text (@len bytes and a NUL, from the untrusted backing directory) to
 * @cfg, every field validated: volconf_load()'s errors and @msg.
 */
int volconf_parse(const char *text, size_t len, struct vol_config *cfg,
		  char *msg, size_t msglen);

/* ---- vid.c ---- */

/*
 * The ID of exactly @len bytes (at most 64) in the xattr @name of @fd
 * (any fd, O_PATH too; one open for reading is faster): 0, -ENODATA if
 * there is none, -EIO if it has another length (damaged).
 */
int volvid_read(int fd, const char *name, uint8_t *id, size_t len);

/* ---- provider.c ---- */

/*
 * Open keyslot provider @provider with @src's settings for volume @uuid
 * (text form), in mode "create" if @create: keyprov_open()'s result.
 */
int volkey_open(const struct volkey_src *src, const char *provider,
		const char *uuid, int create, struct keyprov **kp, char *msg,
		size_t msglen);
/* The provider's key name and algorithm; @msg says why a name is bad. */
int volkey_describe(struct keyprov *kp, const char *provider,
		    struct keyprov_desc *desc, char *msg, size_t msglen);
/* A keyslot's public parameters from and to the provider ABI's form. */
void volkey_params_to_slot(const struct keyprov_paramset *ps,
			   struct vol_keyslot *ks);
void volkey_slot_to_params(const struct vol_keyslot *ks,
			   struct keyprov_paramset *ps);

/* ---- auditpend.c: failed unlocks, until the audit log is trusted ---- */

#define AUDITPEND_RECORD	"audit-pending"	/* in the state directory */

/*
 * The keyslots at positions @slots[0..@n) of @cfg (not trusted: its MAC is unchecked or
 * failed) refused, with @errs: say so to syslog now, and keep each as an
 * unlock_failed audit record in the state directory under @base
 * (state_open()), at most 64 KiB of them.  Best effort: no error.
 */
void auditpend_refused(const char *base, const struct vol_config *cfg,
		       const unsigned int *slots, const int *errs,
		       unsigned int n);
/*
 * @cfg is trusted now: append what waits under @base to its audit log, in
 * the order it came, then drop it (also when the volume has no log).  0,
 * or -errno with @msg if the log cannot be written; what waits stays.
 */
int auditpend_flush(const char *base, const struct vol_config *cfg,
		    char *msg, size_t msglen);

#endif
