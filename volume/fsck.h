/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * volume/fsck.h - check every byte of a volume offline: the walk of the
 * backing directory (never following its symbolic links), the check of
 * each file against the formats the daemon reads, and the cheap look at
 * a few files that mount does.  Prints nothing: findings go to the
 * caller's callback.
 */
#ifndef ATR_FSCK_H
#define ATR_FSCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "../crypto/kek.h"
#include "../crypto/volume.h"

/*
 * Called for every entry of the backing tree below @dirfd, depth first,
 * a directory before what it holds; the volume's own files at the root
 * (fsck_own_name()) and other file systems mounted inside are left out.
 * @parent is the entry's directory (open, O_NOFOLLOW), @name its name
 * there, @path its path from the root, @st its lstat.  @err is non-zero (-errno) when the entry or
 * a directory could not be read; @st is then NULL.  Return 0 to go on,
 * 1 to stop the walk (fsck_walk() returns 0), -errno to abort with it.
 */
typedef int (*fsck_walk_fn)(void *ctx, int parent, const char *name,
			    const char *path, const struct stat *st, int err);
int fsck_walk(int dirfd, fsck_walk_fn fn, void *ctx);

/*
 * @name, at the root @rootfd of the volume, is the config, its temporary
 * file, the re-sealed link rotate-kek and convert swap in through
 * (VOL_CONF_LINK_TMP) or the link store (if it is the store:
 * vollinks_ours()): the volume's own, as the daemon hides them.  Only those names: a file
 * called atrestfs.conf.bak is the user's, and is checked, backed up and
 * rekeyed like any other.
 */
bool fsck_own_name(int rootfd, const char *name);

/*
 * Open @path (relative, as fsck_walk() gives it) below @dirfd with
 * @flags, refusing (-ELOOP) a symbolic link in any component, and
 * (-ENXIO) a device node or socket as the last, which is never opened.
 * An fd or -errno.
 */
int fsck_open(int dirfd, const char *path, int flags);

struct fsck_cb {
	/*
	 * One finding about @path ("." for the root): @what is a sentence;
	 * @fixable if repair can mend it.  Called from the caller's thread,
	 * after the check, in path order.
	 */
	void (*report)(void *ctx, const char *path, const char *what,
		       bool fixable);
	/*
	 * With repair, after the reports: mend the @n fixable findings?
	 * NULL: no.  Then repaired() once for each: 0, -ESTALE if it was
	 * no longer what the check found (left alone), or -errno.
	 */
	bool (*confirm)(void *ctx, uint64_t n);
	void (*repaired)(void *ctx, const char *path, int err);
	/* Backing bytes read so far of @total; from the caller's thread. */
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	void *ctx;
};

struct fsck_result {
	uint64_t files, dirs, symlinks, xattrs;	/* checked */
	uint64_t extents, holes, bytes;		/* of regular files */
	uint64_t findings;			/* reports made */
	uint64_t no_header;	/* non-empty files whose header is missing */
	uint64_t repaired;	/* findings mended */
};

/*
 * Check the volume @dirfd, whose config @cfg the KEK @kek has verified
 * (volkey_unlock()): every header (and its unwrap), sparse and version
 * record, extent, symlink target and xattr value, and that no two files
 * share a file ID.  @threads workers read the extents (0: one per CPU).
 * With @repair, once @cb->confirm() agrees, a sparse record that does
 * not authenticate is removed from a file that has no hole (the file
 * reads the same; see format.md §6.2): the only finding that can be
 * mended without a key or data that is gone.  0 once the volume was walked (findings in @res), or -errno
 * with @msg for a check that could not be run.
 */
int fsck_volume(int dirfd, const struct vol_config *cfg,
		const struct kek *kek, unsigned int threads, bool repair,
		const struct fsck_cb *cb, struct fsck_result *res,
		char *msg, size_t msglen);

/*
 * The cheap look mount takes: up to @max non-empty regular files near
 * the root, in directory order.  *@checked of them were looked at,
 * *@missing had no header (their keys are gone: the volume was copied
 * without its xattrs).  Reads no data and unwraps nothing.
 */
void fsck_sample(int dirfd, unsigned int max, unsigned int *checked,
		 unsigned int *missing);

#endif
