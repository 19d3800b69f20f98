/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * volume/volume.h - the volume: atrestfs.conf on disk and keyslot unlock,
 * used by the command line and by the daemon.
 *
 * Nothing here prints: every function says why it failed in the caller's
 * message buffer (@msg, @msglen bytes), and the caller decides who reads
 * it.  The config's fields and their authentication are in
 * crypto/volume.h.
 */
#ifndef ATR_VOLUME_LIB_H
#define ATR_VOLUME_LIB_H

#include <stdbool.h>
#include <stddef.h>

#include "../crypto/volume.h"

/* ---- conf_io.c: atrestfs.conf on disk ---- */

/*
 * Read and validate @dirfd/atrestfs.conf.  Returns -ENOENT if there is none
 * (not a volume), -EPROTONOSUPPORT for another format version, -EINVAL for
 * anything malformed; @msg then says which field and why.
 */
int volconf_load(int dirfd, struct vol_config *cfg, char *msg, size_t msglen);
/*
 * Write atomically (temp file, fsync, rename, directory fsync).  -EEXIST
 * if @create and present.  On success @msg is "" or a warning for the
 * user: the config was replaced but its directory could not be synced
 * (reported, not failed: a retry would make the change twice).
 */
int volconf_store(int dirfd, const struct vol_config *cfg, bool create,
		  char *msg, size_t msglen);
/*
 * Hold the volume's config against other atrestfs commands (flock on the
 * directory @dirfd, until it is closed): taken before volconf_load() by
 * every command that stores, so two never interleave a load and a store.
 * Without @wait, -EWOULDBLOCK if another holds it: a caller that may
 * block for long says why before calling again with @wait.
 */
int volconf_lock(int dirfd, bool wait);

/* ---- conf_parse.c: the rules of atrestfs.conf ---- */

/*
 * The rules volconf_load() applies to the optional settings, for values
 * from the command line: 0, or -EINVAL with @msg.
 */
int volconf_options_check(const struct vol_options *o, char *msg,
			  size_t msglen);

#endif
