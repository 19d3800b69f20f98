/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * volume/rekey.h - re-encrypt a file of a volume under a new
 * DEK and file ID, for a DEK that may have leaked.  The new file is built
 * unnamed (O_TMPFILE) beside the old one and renamed over it once
 * complete and synced, so a crash leaves the old file or the new one.
 * Prints nothing: the caller gets each file's outcome and a sentence.
 */
#ifndef ATR_REKEY_H
#define ATR_REKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "../crypto/extent.h"
#include "../crypto/kek.h"
#include "../crypto/volume.h"

/*
 * The name the new file has for a moment between its link and its rename
 * (or all along where the backing file system has no O_TMPFILE), in the
 * old file's directory: this prefix and the old file ID in hex.  The
 * daemon hides such names (docs/format.md 10); one left by a crash is
 * never the only copy, and the next rekey of the file, or rekey --all,
 * removes it.
 */
#define REKEY_TMP_PREFIX	".atrestfs-rekey."

/*
 * What the caller keeps of this machine's record of files (fs/filestate.c
 * through atr_files_*()); both may be NULL (no record).
 */
struct rekey_cb {
	/* The last version of @id recorded on this machine, 0 if none. */
	uint64_t (*seen)(void *ctx, const uint8_t id[FILE_ID_LEN]);
	/* Record version @counter of @id (for the old ID: refuse its copies). */
	void (*record)(void *ctx, const uint8_t id[FILE_ID_LEN],
		       uint64_t counter);
	/* Backing bytes of the current file done of @total. */
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	/*
	 * A mounted volume (fs/rekeyd.c); all may be NULL.  @enter: the
	 * file @fd is open and @st its stat: hold it against every change
	 * until @leave, settling what is pending first; *@cookie goes to
	 * the others.  0 or -errno (the file is left).  @naming: true
	 * before the check that the file is unchanged and the rename, false
	 * after, so that no name is taken away between.  @prepare: the new
	 * file @newfd is named @name in @parent, still beside the old one
	 * (naming held): open whatever must follow it; 0, or -errno, and
	 * the file is left as it was (nothing renamed).  @swapped: @newfd
	 * was renamed over the old one: whoever had the old one open
	 * follows it, with what @prepare opened (which @leave drops if no
	 * rename came).
	 */
	int (*enter)(void *ctx, int fd, const struct stat *st, void **cookie);
	void (*naming)(void *ctx, bool begin);
	int (*prepare)(void *ctx, void *cookie, int parent, const char *name,
		       int newfd);
	void (*swapped)(void *ctx, void *cookie, int newfd);
	void (*leave)(void *ctx, void *cookie);
	void *ctx;
};

/* One file's outcome. */
struct rekey_info {
	uint8_t old_id[FILE_ID_LEN], new_id[FILE_ID_LEN];
	uint64_t bytes;		/* backing bytes re-encrypted */
	bool skipped;		/* an empty format-1 file with no key: nothing */
	bool done_before;	/* this run made its key before it was cut */
};

struct rekey;

/*
 * Start rekeying files of the volume @dirfd, whose config @cfg the KEK
 * @kek has verified, unlocked through keyslot @ks (named in the audit
 * lines).  All are borrowed until rekey_close().  0 or -errno with @msg
 * (an audit log that cannot be opened).
 */
int rekey_open(int dirfd, const struct vol_config *cfg, const struct kek *kek,
	       const struct vol_keyslot *ks, const struct rekey_cb *cb,
	       struct rekey **out, char *msg, size_t msglen);
/*
 * The same for the daemon of a mounted volume, with its audit log @audit
 * (NULL: none), borrowed like the rest: one writer keeps the log's chain.
 * 0 or -ENOMEM.
 */
struct audit;
int rekey_open_audit(int dirfd, const struct vol_config *cfg,
		     const struct kek *kek, struct audit *audit,
		     const struct rekey_cb *cb, struct rekey **out);
void rekey_close(struct rekey *r);

/*
 * Rekey the regular file @path (relative to the volume root, resolved
 * without following symbolic links): 0 and @info, or -errno with @msg
 * naming the file: -EBADMSG for a file that does not read back (damaged
 * or rolled back: fsck), -EMLINK for one with hard links (a rename would
 * split them), -EINVAL for a path that is not a regular file of the
 * volume, -ESTALE if it changed meanwhile.  The old file is then left as
 * it was.  Audited as dek_rekey (old ID) and dek_create (new ID).
 */
int rekey_file(struct rekey *r, const char *path, struct rekey_info *info,
	       char *msg, size_t msglen);

/*
 * A run over many files (rekey --all) that can be cut short and resumed:
 * every file ID it makes is appended to the record REKEY_RUN_NAME in the
 * volume's state directory @sd (borrowed until rekey_close()), under a
 * MAC (verrec_done_seal()); rekey_file() then leaves a file whose ID is
 * in it (info->done_before).  *@resumed: how many IDs a run cut short
 * had recorded (0: a new run).  0 or -errno with @msg: -EBADMSG for a
 * record changed outside atrestfs, -EPERM for one that is not ours
 * alone.  rekey_run_end() once every file was tried removes the record.
 */
#define REKEY_RUN_NAME		"rekey"
struct state_dir;
int rekey_run_open(struct rekey *r, const struct state_dir *sd,
		   uint64_t *resumed, char *msg, size_t msglen);
int rekey_run_end(struct rekey *r);

/*
 * A name left by a rekey that crashed (REKEY_TMP_PREFIX): true, and
 * removed from @parent (-errno in *@err if that failed).
 */
bool rekey_leftover(int parent, const char *name, int *err);

#endif
