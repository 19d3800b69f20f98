/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mount-helper/cli.h - the atrestfs command: shared pieces of the commands.
 */
#ifndef ATR_CLI_H
#define ATR_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>

#include <libconfig.h>

#include "../crypto/kek.h"
#include "../crypto/volume.h"
#include "../fs/atrfs.h"
#include "../keyprov/keyprov_private.h"
#include "../volume/volume.h"

#ifndef ATR_VERSION
#define ATR_VERSION "0.1.0"
#endif

/* Exit codes, documented in atrestfs(8). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,		/* anything else */
	EXIT_USAGE = 2,		/* bad command line */
	EXIT_KEY = 3,		/* key missing, unsafe, or not this volume's */
	EXIT_VOLUME = 4,	/* not a volume, bad or tampered config */
	EXIT_MOUNT = 5,		/* mountpoint or FUSE problem */
	EXIT_DAMAGED = 6,	/* fsck, header restore: damage left; audit
				 * verify: records changed, removed or
				 * reordered */
};

/*
 * cli_err(), cli_say(): printf to stderr / stdout, with what
 * cli_fputs_vis() escapes escaped ('\n' kept).
 */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* cli_err("%s%s", @prefix, @s), '\n' escaped too: one line whatever @s is. */
void cli_err_line(const char *prefix, const char *s);
/*
 * @s on @f with every byte a terminal could act on as \ooo (as
 * /proc/mounts writes it): controls (but '\n' if @keep_nl), DEL, '\\',
 * bytes that are not valid UTF-8, C1 and bidi controls.
 */
void cli_fputs_vis(FILE *f, const char *s, bool keep_nl);
/* @s as a JSON string, quotes included; a byte not UTF-8 becomes U+FFFD. */
void cli_json_str(FILE *f, const char *s);
/*
 * A progress bar on stderr when it is a terminal, else a plain line at
 * every tenth; nothing with --quiet.  Call with growing @done, then once
 * with @done == @total to finish it.
 */
void cli_progress(const char *what, uint64_t done, uint64_t total);
void cli_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A library's warning (@msg) after a change it made: "atrestfs: warning: ". */
void cli_warn(const char *msg);
extern int cli_quiet;

/*
 * Run argv[0] (searched in PATH) with @argv through spawn_run(), the one
 * runner of child programs, and wait: 0 if it exited 0, -EIO if it failed
 * (it said why; we say so if it cannot be run), or -errno if it could not
 * be started.  Its stdout is passed on once it has ended.
 */
int cli_run(const char *const argv[]);
/* The first executable @name in PATH (or /usr/bin, /usr/sbin, /sbin). */
int cli_which(const char *name, char *path, size_t len);
/*
 * What is mounted at @path (resolved with realpath): 1 and its fstype in
 * @type, or 0 if nothing is (or mountinfo cannot be read).
 */
int cli_mounted(const char *path, char *type, size_t typelen);

/*
 * The volume @dir for a command that works on it unmounted: opened
 * (*@dirfd) and cli_lock()ed, and refused with EXIT_MOUNT while it is
 * mounted (saying so, and @why the command cannot go on then).  0, or
 * the exit code after saying why (*@dirfd is then -1).
 */
int cli_open_volume(const char *dir, const char *why, int *dirfd);

/* --allow-uid/--allow-gid N: append 0..VOL_ID_MAX to @ids, at most VOL_MAX_IDS. */
int cli_add_id(const char *s, uint32_t *ids, unsigned int *n);

/*
 * The audit log and access policy: init and config take the same options,
 * declared once here.  Put CLI_POLICY_OPTIONS in a getopt_long table and
 * hand every option to cli_policy_opt(): 1 if getopt's @c was one of
 * them and is now in @opt (to be checked with volconf_options_check()),
 * -1 if its value is bad (said on stderr, naming the option), 0 if @c is
 * not one of them.
 */
enum { CLI_OPT_AUDIT_FILE = 0x110, CLI_OPT_AUDIT_SYSLOG, CLI_OPT_ALLOW_UID,
       CLI_OPT_ALLOW_GID };
#define CLI_POLICY_OPTIONS \
	{ "audit-file", required_argument, NULL, CLI_OPT_AUDIT_FILE }, \
	{ "audit-syslog", no_argument, NULL, CLI_OPT_AUDIT_SYSLOG }, \
	{ "allow-uid", required_argument, NULL, CLI_OPT_ALLOW_UID }, \
	{ "allow-gid", required_argument, NULL, CLI_OPT_ALLOW_GID }
int cli_policy_opt(struct vol_options *opt, int c, const char *arg);

/*
 * Default key file of a volume: KEYDIR/UUID.key (see atrestfs(8) FILES),
 * KEYDIR made first if @mkdirs.  -ENOKEY with @msg naming the directory,
 * or the variables to set when there is none.
 */
int cli_default_keyfile(const char *uuid, char *buf, size_t len, int mkdirs,
			char *msg, size_t msglen);

int cmd_init(int argc, char **argv);
int cmd_mount(int argc, char **argv);
int cmd_unmount(int argc, char **argv);
int cmd_swap(int argc, char **argv);
/*
 * cmd_swap.c: a loop device whose backing file is on the mount at @mnt
 * (such a mount cannot be unmounted): its number, with the file in @file
 * and *@swap true if it is active swap space; -ENOENT if none, or -errno.
 */
int cli_loop_on_mount(const char *mnt, char *file, size_t len, bool *swap);
/*
 * mountlock.c: refuse to mount the volume @dir (open as @dirfd) a second
 * time on this machine.  0 with *@lockfd the lock to hold for as long as
 * the daemon lives (-1 if none could be taken), or the exit code after
 * saying where it is mounted.
 */
int cli_mount_exclusive(const char *dir, int dirfd, int *lockfd);
/*
 * mountlock.c: refuse a command that changes the volume @dir (open as
 * @dirfd) under a daemon's feet, saying so and @why: one is listed in
 * mountinfo for it, however its path is spelt, or holds its lock (one in
 * another mount namespace, or starting; one finishing after umount(8)
 * is waited for a little, as by a mount).  0 with that lock taken until
 * the process exits, so that no mount starts meanwhile; or EXIT_MOUNT.
 */
int cli_refuse_served(const char *dir, int dirfd, const char *why);
/* cmd_lock.c */
int cmd_lock(int argc, char **argv);
int cmd_unlock(int argc, char **argv);
/*
 * Lock the atrestfs mount at @real (a realpath) through its daemon's
 * control socket, saying nothing: 0, or -errno (-ENOENT: not an atrestfs
 * mount, or no socket of ours).  For unmount --lazy.
 */
int cli_lock_quiet(const char *real);
/* mount(8) calling convention: SOURCE DIR [-o OPTS] [-fnsv]. */
int cmd_mount_helper(int argc, char **argv);

/* keyopts.c: provider settings and secrets from the command line. */
#define CLI_OPTS_MAX	16
struct cli_keyopts {
	char provider[KEYPROV_NAME_MAX + 1];	/* only this provider; "": any */
	int slot;			/* only this keyslot; -1: any */
	uint32_t inactive_ok;		/* volkey_src's: may unlock though
					 * inactive (bit N: keyslot N) */
	char keyfile[4096];		/* keyfile provider's path; "": default */
	char *opt[CLI_OPTS_MAX];	/* "KEY\0VALUE", owned */
	unsigned int nopts;
	char *passfile, *extpass;	/* secret sources, owned; "-": stdin */
	char *stdin_secret;		/* --passfile -, read once; secmem, owned */
	size_t stdin_len, stdin_cap;
	struct keyprov_host host;	/* ctx == this */
	config_t sys;			/* the system provider config */
	int sys_loaded;
	char path[4096];		/* keyfile path last handed out */
	char voldir[4096];		/* the volume's real path; "": unknown */
	const char *state_dir;		/* --state-dir, borrowed: where failed
					 * unlocks wait for the audit log;
					 * NULL: the default */
	dev_t vol_dev;			/* and its directory, if voldir is set */
	ino_t vol_ino;
	bool audit_warn_only;		/* volkey_src's: for config */
};

/*
 * The volume @dir these options are for: no setting that names a file
 * (key file, PIN file, passphrase file, a helper's token or certificate)
 * may point inside it (cli_keyopts_settings() refuses one).
 */
void cli_keyopts_volume(struct cli_keyopts *o, const char *dir);
/* After cli_keyopts_volume(): whether @path is inside the volume. */
bool cli_in_volume(const struct cli_keyopts *o, const char *path);

/*
 * How to unlock a volume: mount, keyslot, passwd and config take the same
 * options, declared once here.  Put CLI_UNLOCK_OPTIONS in a getopt_long
 * table and CLI_UNLOCK_SHORT in its short-option string, and hand every
 * option to cli_unlock_opt() first.
 */
enum { CLI_OPT_PASSFILE = 0x100, CLI_OPT_EXTPASS };
#define CLI_UNLOCK_SHORT	"k:P:S:O:"
#define CLI_UNLOCK_OPTIONS \
	{ "keyfile", required_argument, NULL, 'k' }, \
	{ "provider", required_argument, NULL, 'P' }, \
	{ "slot", required_argument, NULL, 'S' }, \
	{ "provider-option", required_argument, NULL, 'O' }, \
	{ "passfile", required_argument, NULL, CLI_OPT_PASSFILE }, \
	{ "extpass", required_argument, NULL, CLI_OPT_EXTPASS }
/*
 * 1 if getopt's @c was an unlock option and is now in @o; -1 if its value
 * is bad (said on stderr, naming the option); 0 if @c is not one of them.
 * Also for mount -o provider=, slot= (@c 'P', 'S').
 */
int cli_unlock_opt(struct cli_keyopts *o, int c, const char *arg);

/*
 * The new keyslot's key (keyslot add, passwd, rotate-root), declared once
 * here as CLI_UNLOCK_OPTIONS is: CLI_NEWKEY_OPTIONS in the getopt_long
 * table, CLI_NEWKEY_SHORT in its short-option string, and every option
 * to cli_newkey_opt(): 1 if it was one of them (the provider in
 * *@provider, the rest in @o), -1 if its value is bad (said on stderr),
 * 0 if not.
 */
enum { CLI_OPT_NEW_KEYFILE = 0x130, CLI_OPT_NEW_PASSFILE, CLI_OPT_NEW_EXTPASS };
#define CLI_NEWKEY_SHORT	"n:N:"
#define CLI_NEWKEY_OPTIONS \
	{ "new-provider", required_argument, NULL, 'n' }, \
	{ "new-option", required_argument, NULL, 'N' }, \
	{ "new-keyfile", required_argument, NULL, CLI_OPT_NEW_KEYFILE }, \
	{ "new-passfile", required_argument, NULL, CLI_OPT_NEW_PASSFILE }, \
	{ "new-extpass", required_argument, NULL, CLI_OPT_NEW_EXTPASS }
int cli_newkey_opt(struct cli_keyopts *o, const char **provider, int c,
		   const char *arg);

void cli_keyopts_init(struct cli_keyopts *o);
void cli_keyopts_free(struct cli_keyopts *o);
/* "KEY=VALUE": -EINVAL if malformed, -ENOSPC beyond CLI_OPTS_MAX. */
int cli_keyopts_add(struct cli_keyopts *o, const char *kv);
/* Either may be NULL (unchanged). */
int cli_keyopts_secret(struct cli_keyopts *o, const char *passfile,
		       const char *extpass);
/*
 * Fill @kv for @provider: system config group, then command line, then
 * keyfile's path (given or default for @uuid), "volume" and "mode".  The
 * strings are borrowed from @o and live until cli_keyopts_free().
 */
int cli_keyopts_settings(struct cli_keyopts *o, const char *provider,
			 const char *uuid, int create,
			 struct keyprov_kvlist *kv, char *msg, size_t msglen);

/*
 * @o as the library's source of provider settings and services
 * (cli_keyopts_settings(), o->host) and, for volkey_unlock(), of the
 * keyslots to try (o->provider, o->slot).  @src borrows @o.
 */
void cli_keysrc(struct cli_keyopts *o, struct volkey_src *src);

/*
 * volkey_unlock() @dirfd (the volume @dir) with @o, and say on stderr why
 * it failed: 0, or the exit code, EXIT_VOLUME for a directory that is not
 * a volume or a config that is bad or tampered with, else EXIT_KEY.  A
 * failed unlock waits in @o->state_dir for the volume's audit log.
 */
int cli_unlock(int dirfd, const char *dir, struct cli_keyopts *o,
	       struct vol_config *cfg, struct kek **kek, unsigned int *slot);
/*
 * Open the volume @dir into *@dirfd, cli_lock() it and cli_unlock() it:
 * for the commands that store.  0 (the caller closes *@dirfd, which
 * drops the lock), or the exit code, said on stderr, *@dirfd closed.
 */
int cli_open_locked(const char *dir, struct cli_keyopts *o, int *dirfd,
		    struct vol_config *cfg, struct kek **kek, unsigned int *slot);
/*
 * volconf_lock() @dirfd, first saying on stderr that we wait if another
 * command holds it (it may sit at a prompt for minutes).  0 or -errno.
 */
int cli_lock(int dirfd);
/*
 * What @dir's atrestfs.conf says without the key (list, config, status):
 * validated by volconf_load() but not authenticated.  0, or the exit
 * code after saying why on stderr.
 */
int cli_load_unverified(const char *dir, struct vol_config *cfg);
/*
 * The arguments of a command that shows a volume (keyslot list, status):
 * [-j|--json] [-h|--help] and one operand, argv[optind].  @opts: the
 * command's getopt_long table, CLI_SHOW_OPTIONS.  -1 to go on, with
 * *@json, else the exit code after @usage (EXIT_OK for --help) or after
 * one line naming @cmd and the @operand missing, or too many.
 */
#define CLI_SHOW_OPTIONS \
	{ "json", no_argument, NULL, 'j' }, \
	{ "help", no_argument, NULL, 'h' }
struct option;
int cli_show_args(int argc, char **argv, const struct option *opts,
		  void (*usage)(FILE *), const char *cmd, const char *operand,
		  int *json);

/* cmd_keyslot.c */
int cmd_keyslot(int argc, char **argv);
/*
 * The keyslots of @cfg as a JSON array (keyslot list --json, status
 * --json) and one as a line of text: a field added here shows in both.
 */
void cli_keyslots_json(FILE *f, const struct vol_config *cfg);
void cli_keyslot_line(FILE *f, const struct vol_keyslot *ks);
int cmd_passwd(int argc, char **argv);
int cmd_config(int argc, char **argv);
/*
 * volkey_commit() @cfg to the volume @dir (@dirfd, locked), saying why it
 * failed or passing on its warning, then record the new generation on
 * this machine (@state_dir, as cli_rollback_record()): 0 or -errno.
 */
int cli_commit(const char *dir, const char *state_dir, int dirfd,
	       struct vol_config *cfg, const struct kek *kek);
/* "enabled", "disabled", "removed" or "expired", as the clock says now. */
const char *cli_slot_state(const struct vol_keyslot *ks);

/*
 * backup.c: keyslot export and import, after the keyslot command has
 * unlocked the volume @dir (verified @cfg, @kek) and checked its
 * generation.  Each returns an exit code, having said why.  Export
 * writes the new @file (refused inside the volume, so @o must be the
 * options cli_unlock() used) and records it in the state directory;
 * import commits what it adds through @dirfd, locked.
 */
int cli_keyslot_export(const char *dir, const char *state_dir,
		       const struct cli_keyopts *o, const char *file,
		       const struct vol_config *cfg, const struct kek *kek);
int cli_keyslot_import(const char *dir, const char *state_dir, int dirfd,
		       const char *file, struct vol_config *cfg,
		       const struct kek *kek);
/* Whether this machine's record of the last export holds @ks as it is. */
bool cli_backup_covers(const char *dir, const char *state_dir,
		       const struct vol_config *cfg, const struct kek *kek,
		       const struct vol_keyslot *ks);

/* cmd_destroy.c */
int cmd_destroy(int argc, char **argv);

/* cmd_rotate.c */
int cmd_rotate_kek(int argc, char **argv);
int cmd_rotate_root(int argc, char **argv);

/* cmd_convert.c */
int cmd_convert(int argc, char **argv);

/* cmd_rekey.c */
int cmd_rekey(int argc, char **argv);

/* cmd_trust.c */
int cmd_trust(int argc, char **argv);

/* cmd_path.c */
int cmd_path(int argc, char **argv);
/*
 * The backing path of @path (a path in the mount, relative to its root;
 * split in place) in the unlocked volume @dir into @out (PATH_MAX), and
 * a long last name's record into @side (NAME_MAX + 1, "" if none), or
 * with @reverse the other way; on a volume with plain names the path
 * itself.  0, or an exit code with the reason said on stderr.
 */
int cli_names_path(const char *dir, const struct vol_config *cfg,
		   const struct kek *kek, int dirfd, char *path, bool reverse,
		   char *out, char *side);

/* cmd_fsck.c */
int cmd_fsck(int argc, char **argv);

/* cmd_header.c */
int cmd_header(int argc, char **argv);

/* cmd_status.c */
int cmd_status(int argc, char **argv);

/* cmd_audit.c */
int cmd_audit(int argc, char **argv);

/*
 * rollback.c: an older atrestfs.conf or file refused.  Every command that
 * unlocks, and init, takes --state-dir (getopt value CLI_OPT_STATE_DIR)
 * and hands it to cli_state_dir_opt(): 0 with *@dir = @arg, or -1 (said
 * on stderr) unless it is an absolute path.  NULL: the default
 * (volume/state.c).
 */
enum { CLI_OPT_STATE_DIR = 0x120 };
int cli_state_dir_opt(const char **dir, const char *arg);
/*
 * Whether the state directory @state_dir may serve the volume @dir: 0, or
 * -EPERM (with @msg) if it is inside it, or state_base()'s error.
 */
int cli_state_check(const char *dir, const char *state_dir, char *msg,
		    size_t msglen);
/*
 * state_open() for the volume @dir, refusing (-EPERM, with @msg) a state
 * directory inside it.
 */
int cli_state_open(const char *dir, const char *state_dir,
		   const uint8_t uuid[VOL_UUID_LEN], struct state_dir *sd,
		   char *msg, size_t msglen);

/*
 * ctlsock.c: the control socket of the daemon serving volume @dir (uuid
 * @uuid) on this machine, in its state directory (@state_dir: NULL, the
 * default): a connected fd, or -1, said on stderr if @say (@mnt, the
 * mount point if known, names it).  cli_ctl_call(): send @req, read the
 * answer's one line: 0 ("ok", its text in @reply), -EKEYREJECTED
 * ("rejected"), -EIO ("error", its text in @reply), or -errno.
 */
int cli_ctl_connect(const char *dir, const char *state_dir,
		    const uint8_t uuid[VOL_UUID_LEN], const char *mnt,
		    bool say);
int cli_ctl_call(int fd, const void *req, size_t len, char *reply,
		 size_t replylen);
/*
 * An answer's lines, for requests answered with progress and warnings
 * first.  cli_ctl_line(): the next line of @f into @line without its
 * '\n': 0; 1 for a line cut short (too long, or the stream ended in it),
 * never to be taken as an answer; -1 at the end.  cli_ctl_ok(): @line is
 * exactly "ok" and @n unsigned decimal numbers, each after one space
 * (into @v), and nothing else.  The daemon escapes control bytes and
 * backslashes in the text it sends (fs/ctl.c), so a file name in a
 * warning is one line; cli_ctl_text() undoes that in place, for
 * cli_err_line().
 */
int cli_ctl_line(FILE *f, char *line, size_t len);
void cli_ctl_text(char *s);
bool cli_ctl_ok(const char *line, unsigned long long *v, size_t n);
/*
 * The same for the volume @dir (a backing directory), its UUID read from
 * its config: -1 with the exit code in *@ret, said on stderr if @say.
 */
int cli_ctl_open(const char *dir, const char *state_dir, bool say, int *ret);

enum {
	CLI_RB_NOTICE = 1,	/* say so when this machine had no record */
	CLI_RB_LOG = 2,		/* a refusal also goes to the daemon's log */
};
/*
 * After cli_unlock() of the volume @dir: refuse @cfg if it is older than
 * what this machine has seen for it (state in @state_dir), else record
 * its generation.  0, or the exit code after saying why on stderr (and
 * with CLI_RB_LOG in the daemon's log, syslog or -o log=, once):
 * EXIT_VOLUME for an older config or a record that fails its MAC (naming
 * "atrestfs trust"), EXIT_FAIL for a state directory that others could
 * write.  One that cannot be made only warns: there is nothing to check
 * against.
 */
int cli_rollback_check(const char *dir, const char *state_dir,
		       const struct vol_config *cfg, const struct kek *kek,
		       int flags);
/* After a store: record @cfg's new generation, warning if it cannot. */
void cli_rollback_record(const char *dir, const char *state_dir,
			 const struct vol_config *cfg, const struct kek *kek);
/*
 * mount: cli_rollback_check() that keeps the state directory open in @rb
 * (fd -1 if there is none) for cli_rollback_files(), which hands it to
 * the daemon @m once configured, refuses a record of files changed
 * outside atrestfs (EXIT_VOLUME, naming trust) or others may write
 * (EXIT_FAIL), says in one notice what this machine had no record of,
 * and closes it.
 */
struct cli_rb {
	struct state_dir sd;
	bool cfg_first;			/* no record of the config was found */
};
int cli_rollback_mount(const char *dir, const char *state_dir,
		       const struct vol_config *cfg, const struct kek *kek,
		       int flags, struct cli_rb *rb);
int cli_rollback_files(const char *dir, const char *state_dir,
		       const struct vol_config *cfg, struct cli_rb *rb,
		       struct atr_mount *m, int flags);
/*
 * init: an empty record of the volume's files on this machine, so its
 * first mount has nothing to say; warns if it cannot.
 */
void cli_rollback_files_reset(const char *dir, const char *state_dir,
			      const struct vol_config *cfg);

#endif
