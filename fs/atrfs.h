/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fs/atrfs.h - what the FUSE driver offers the command line: make a mount
 * context over an unlocked volume, run the session, free the context.
 */
#ifndef ATR_ATRFS_H
#define ATR_ATRFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct atr_mount;
struct kek;

/*
 * @root_fd: O_PATH fd of the backing directory (taken: closed by
 * atr_mount_free()).  *@kek is taken and set to NULL; atr_mount_free() wipes
 * it.  @backing is copied; it names the volume in log lines.
 */
struct atr_mount *atr_mount_new(const char *backing, int root_fd,
				struct kek **kek, uint32_t extent_size);
void atr_mount_free(struct atr_mount *m);

/*
 * Mount options of the FUSE driver (-o), given once before atr_fs_run().
 * @noxattr: no extended attributes at all; the kernel learns so at the
 * first request and stops asking, which saves the two round trips a new
 * file costs (the security.capability probes of its first write and of a
 * chown).  @writethrough: no writeback cache, so every write(2) is a
 * request and a full disk fails the write itself with ENOSPC instead of a
 * later fsync or close, at the cost of small writes (each a round trip).
 * @readahead_kb: the mount's read-ahead, 0 to 65536 KiB, set as given once
 * the mount is up; -1 raises it to 1024 unless it is already larger.  Only
 * root can set it.  @nouring: requests stay on /dev/fuse even where the
 * kernel offers FUSE over io_uring.  @idle_sec: -o idle=DURATION.
 * @nohandles: never open backing files by file handle, as without
 * CAP_DAC_READ_SEARCH; inodes are reopened by parent and name instead
 * (fs/inofd.c; virtiofsd's --inode-file-handles=never).
 * @shared: other hosts mount the same volume (fs/shared.c): byte-range
 * locks around every change, no writeback cache, attributes fetched again
 * at each open, no version records settled and no copies of ends.
 */
struct atr_mount_opts {
	bool noxattr;
	bool writethrough;
	bool nouring;
	bool nohandles;
	bool shared;
	int readahead_kb;
	unsigned int idle_sec;	/* lock after this long without a request;
				   0: never (fs/ctl.c) */
};
#define ATR_MOUNT_OPTS_INIT	{ .readahead_kb = -1 }

void atr_mount_options(struct atr_mount *m, const struct atr_mount_opts *o);

struct vol_config;
/*
 * Would libfuse take the mount option @opt (one, without commas)?  Asked
 * before unlocking, so that a typo is not found after a passphrase.
 */
bool atr_fs_opt_known(const char *opt);

/*
 * From a config whose MAC has verified, and only then (the backing
 * directory is untrusted): open its audit destination and take its access
 * policy.  @slot is the keyslot that unlocked the KEK.  Before
 * atr_fs_run(); 0 or -errno with @msg.  See fs/policy.c.
 */
int atr_mount_configure(struct atr_mount *m, const struct vol_config *cfg,
			unsigned int slot, char *msg, size_t msglen);

/*
 * After atr_mount_configure(): the volume's state directory, outside the
 * volume (volume/state.c), as an O_DIRECTORY fd (duplicated) and its path
 * for messages.  The daemon checks each file against what this machine
 * recorded there of the volume's files, and records each version of a
 * file that settles.  0, 1 if nothing was recorded there yet (a new state
 * directory: a new machine, or the old one lost), or -errno with @msg:
 * -EBADMSG if the record was changed outside atrestfs ("atrestfs trust"
 * forgets it), -EPERM if it is not ours alone.
 */
int atr_mount_state(struct atr_mount *m, int dirfd, const char *dirpath,
		    char *msg, size_t msglen);
/*
 * After atr_mount_configure(): where the serving daemon keeps its runtime
 * record for atrestfs status (@dirfd duplicated: the volume's directory
 * under state_run_base(), @dirpath for messages), with the mount options
 * to show there (@options: never key options, which may hold secrets)
 * and the -o log= file (@log_path, may be NULL).  0 or -errno.
 */
int atr_mount_runtime(struct atr_mount *m, int dirfd, const char *dirpath,
		      const char *options, const char *log_path);
/*
 * The runtime record, for its readers: its name for the mount on device
 * @dev ("mount-MAJ-MIN", in @buf of ATR_RUNTIME_NAME_LEN), and the start
 * time of process @pid (0: this one) in clock ticks after boot, 0 if it
 * does not exist; a record whose "start" differs was left by a daemon
 * that died, and its pid may be another process's now.
 */
#define ATR_RUNTIME_NAME_LEN	32
void atr_runtime_name(dev_t dev, char buf[ATR_RUNTIME_NAME_LEN]);
unsigned long long atr_runtime_start_time(pid_t pid);

/* A runtime record's body, parsed; its strings are escaped ASCII. */
#define ATR_RUNTIME_REC_MAX	4096	/* STATE_RECORD_MAX */
#define ATR_RUNTIME_ERRORS_MAX	8
struct atr_runtime_rec {
	long pid;
	unsigned long long start;
	char options[ATR_RUNTIME_REC_MAX];
	char log[ATR_RUNTIME_REC_MAX];
	char errors[ATR_RUNTIME_ERRORS_MAX][512];
	unsigned int nerrors;
};
/*
 * The "KEY VALUE" lines of @body (a NUL-terminated record body, cut up in
 * place) into *@r, zeroed first; unknown keys and lines without a value
 * are skipped, errors past the first ATR_RUNTIME_ERRORS_MAX dropped.  The
 * body is untrusted (read without its MAC): nothing in it is believed
 * until the caller checks pid and start against the running process.
 */
void atr_runtime_parse(char *body, struct atr_runtime_rec *r);
/*
 * Without a mount: make this machine's record of the volume's files in
 * its state directory @dirfd empty, so that every file as it is now is
 * accepted and recorded from then on (atrestfs trust), or a new volume
 * starts with one (init).  0 or -errno.
 */
int atr_files_reset(int dirfd);
/*
 * Rewrite that record under @kek, reading it under @kek or its retiring
 * KEK (a KEK rotation), if there is one.  0 or -errno with @msg, as
 * atr_mount_state().
 */
int atr_files_rekey(int dirfd, const char *dirpath, const struct kek *kek,
		    const uint8_t uuid[16], char *msg, size_t msglen);
/* Its name in the state directory, for messages. */
#define ATR_FILES_NAME	"files"

/*
 * Without a mount: this machine's record of the volume's files, for a
 * command that changes files offline (rekey).  atr_files_open() as
 * atr_mount_state(), with @uuid the volume's; atr_files_get() the last
 * version recorded of @id (0: none); atr_files_put() records @counter
 * for @id; atr_files_close() rewrites the journal compacted and frees
 * (NULL is fine).  Only while the volume is not mounted: the daemon keeps
 * the journal to itself.
 */
struct fstate;
int atr_files_open(int dirfd, const char *dirpath, const struct kek *kek,
		   const uint8_t *uuid, struct fstate **out,
		   char *msg, size_t msglen);
uint64_t atr_files_get(struct fstate *s, const uint8_t *id);
void atr_files_put(struct fstate *s, const uint8_t *id,
		   uint64_t counter);
int atr_files_close(struct fstate *s);

/*
 * Mount at @mountpoint with the FUSE options in @argv (argv[0] first, then
 * "-o", "opt,..."), then serve until unmounted.  Unless @foreground, detach
 * once the mount is up, so the caller's exit status means "mounted".
 * Returns 0 after a clean unmount, or -errno/1 if the mount failed.
 */
int atr_fs_run(struct atr_mount *m, int argc, char **argv,
	       const char *mountpoint, bool foreground);

/*
 * The mount at mount point @dir (a realpath) if @dir is not NULL, else the
 * mount of device @dev; the last entry wins, as mounts stack.  1, with its
 * fstype in @type, its device in *@devp and in *@by_root whether root
 * mounted it (user_id=0: not a user's own FUSE mount) (each unless NULL),
 * 0 if none matches, -errno if /proc/self/mountinfo cannot be read.
 */
int mountinfo_find(const char *dir, dev_t dev, char *type, size_t typelen,
		   dev_t *devp, bool *by_root);
/*
 * A mount of type @fstype whose source is @source (a volume's realpath,
 * as atrestfs mount names it): 1 with its mount point in @mp, 0 if none,
 * -errno if /proc/self/mountinfo cannot be read.
 */
int mountinfo_source(const char *source, const char *fstype, char *mp,
		     size_t mplen);
/*
 * The source of what is mounted last at @dir (a realpath) into @source:
 * 1 if it is an atrestfs mount, 0 if not (or nothing is), -errno.
 */
int mountinfo_source_at(const char *dir, char *source, size_t len);
/*
 * A live atrestfs mount of the backing directory with device @dev and
 * inode @ino, however its path was spelt (symlink, bind mount): 1 with
 * its mount point in @mp, 0 if none (a mount whose daemon died does not
 * count), -errno if /proc/self/mountinfo cannot be read.
 */
int mountinfo_backing(dev_t dev, ino_t ino, char *mp, size_t mplen);
/*
 * One line of /proc/self/mountinfo, unescaped; its strings live until the
 * callback returns.  @opts: the mount's own options (ro, nosuid ...);
 * @super_opts: the file system's (user_id=, allow_other ...).
 */
struct mountinfo_ent {
	const char *mountpoint, *source, *fstype, *opts, *super_opts;
	dev_t dev;
};
/*
 * Call @fn on each mount, oldest first, until it returns non-zero: that
 * value, 0 at the end, or -errno if mountinfo cannot be read.
 */
int mountinfo_walk(int (*fn)(void *arg, const struct mountinfo_ent *e),
		   void *arg);
/* Is @opt one of the comma-separated @opts (as mount options are)? */
bool opt_listed(const char *opts, const char *opt);

/* Log to stderr (foreground) or syslog; see fs/log.c. */
void atr_log_init(bool to_stderr);
/*
 * -o log=FILE: every line also goes to @fd (taken; from
 * atr_logfile_open()), with a UTC time stamp and level, and no longer to
 * syslog.  Before atr_fs_run().
 */
void atr_log_file(int fd);
/*
 * One line only to where a detached daemon logs (the -o log= file, else
 * syslog), for a mount refused before the daemon exists: a mount at boot
 * has no terminal to say it on.  The caller says it on stderr itself.
 */
void atr_log_daemon(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * Open @path to append records to (the audit log, -o log=): O_APPEND,
 * made 0600, never through a symbolic link, and with @readable for
 * reading too; refused (-EPERM) unless it is a regular file of this user
 * or root that no one else may write.  The fd, or -errno with @msg naming
 * @what and @path.
 */
int atr_logfile_open(const char *path, const char *what, bool readable,
		     char *msg, size_t msglen);

#endif
