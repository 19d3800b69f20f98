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
#include <sys/stat.h>
#include <sys/types.h>

#include "../crypto/kek.h"
#include "../crypto/meta.h"
#include "../crypto/volume.h"
#include "../keyprov/keyprov_private.h"

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

/*
 * A keyslot export's text (@len bytes and a NUL, untrusted) to @cfg: its
 * generation, UUID, KEK ID, keyslots and export MAC, which the caller
 * checks with vol_export_mac() under the volume's KEK.  0, or -EINVAL /
 * -EPROTONOSUPPORT with @msg.
 */
int volconf_parse_export(const char *text, size_t len, struct vol_config *cfg,
			 char *msg, size_t msglen);

/* ---- key providers, from the caller's side (provider.c) ---- */

/*
 * The settings of key provider @provider for volume @uuid (text form):
 * the caller's (system provider config, command line, what a daemon was
 * started with), never the volume's, whose directory is untrusted.  Fill
 * @kv from keyprov_kv_init() on, "volume" (@uuid) and "mode" ("create" if
 * @create, else "open") included; its strings must live until the call
 * that asked returns.  0, or -errno with @msg.
 */
typedef int (*volkey_settings_fn)(void *ctx, const char *provider,
				  const char *uuid, int create,
				  struct keyprov_kvlist *kv, char *msg,
				  size_t msglen);

/*
 * Where keyslots' providers get their settings and services (secrets,
 * log lines), and which keyslots volkey_unlock() tries.  The caller's;
 * borrowed for each call.
 */
struct volkey_src {
	const struct keyprov_host *host;  /* NULL: keyprov_host_default() */
	volkey_settings_fn settings;
	void *ctx;			/* settings()'s first argument */
	const char *provider;	/* unlock: only its keyslots; NULL or "": any */
	int slot;		/* unlock: only keyslot number @slot; -1: any */
	/*
	 * unlock: an audit log that cannot be written is a warning in @msg,
	 * not a failure: for atrestfs config, which must stay able to change
	 * the setting that broke.
	 */
	bool audit_warn_only;
	/*
	 * unlock: bit N set lets keyslot number N unlock though it is
	 * disabled, removed or expired (the commands that revive it); 0: none.
	 */
	uint32_t inactive_ok;
	/*
	 * unlock: keep keyslots' refusals in the volume's state directory
	 * under @state_base (state_open(); NULL: the default) until the
	 * audit log is trusted, and move those waiting there into it once
	 * it is.  false: neither (tests, callers without a state directory).
	 */
	bool pending;
	const char *state_base;
};

/* ---- unlock.c: provider -> KEK (a keyslot) -> config MAC ---- */

/*
 * Load and validate the config (volconf_load() errors), unwrap the KEK
 * through the first keyslot that opens (only @src->provider's /
 * @src->slot if set), and verify the config MAC.  Returns 0, *kek (caller
 * owns; kek_free()) and *slot (index used, may be NULL); -EKEYREJECTED
 * for a key that does not open the volume, -EKEYREVOKED for a disabled
 * or removed keyslot and -EKEYEXPIRED for an expired one (unless
 * @src->inactive_ok names it), -ENOANO for a wrong or missing
 * passphrase/PIN, -EBADMSG for a config that fails its MAC, or another
 * -errno (of the keyslot that got furthest); @msg says in words what
 * went wrong with each keyslot tried, one line each (number, provider, key
 * ID, why), so it needs VOLKEY_MSG_MAX bytes.  Once the MAC verifies, the
 * unwraps tried (and inactive keyslots refused) are written to the
 * volume's audit log, if it has one; a log that cannot be written fails
 * the unlock with -VOLKEY_EAUDIT, or with @src->audit_warn_only returns 0
 * with a warning in @msg (else "").
 * With @src->pending, the failed unlocks kept on this machine go into the
 * log first, and a failed unlock is kept, with every keyslot whose
 * provider was asked for the key (a disabled or expired one too), and
 * said to syslog.
 */
/* volkey_unlock(): the volume's audit log cannot be written. */
#define VOLKEY_EAUDIT	EDESTADDRREQ
#define VOLKEY_MSG_MAX	(VOL_MAX_SLOTS * (KEYPROV_MSG_MAX + 128) + 128)
int volkey_unlock(int dirfd, const struct volkey_src *src,
		  struct vol_config *cfg, struct kek **kek, unsigned int *slot,
		  char *msg, size_t msglen);
/*
 * One root-key or keyslot event (@event: "root_key_wrap", "keyslot_remove"
 * ...) about keyslot @ks (named by its number), in the step @op of a
 * command ("keyslot_add", "passwd"; NULL: none), to the volume's audit
 * log, if it has one.  @cfg must be trusted: MAC verified, or made by
 * this process.
 */
int volkey_audit(const struct vol_config *cfg, const char *event,
		 const char *op, const struct vol_keyslot *ks, int result,
		 char *msg, size_t msglen);
/*
 * Whether audit settings @opt of volume @uuid can be used: the file opens
 * (it is made if absent, as the first record would).  0 or -errno with
 * @msg, so that a setting is refused before it is stored.
 */
int volkey_audit_check(const struct vol_options *opt,
		       const uint8_t uuid[VOL_UUID_LEN], char *msg,
		       size_t msglen);

/*
 * Another event (@event: "kek_create", "kek_destroy" ...) in step @op,
 * naming key @key_id and @provider (any may be NULL), as volkey_audit().
 */
int volkey_audit_event(const struct vol_config *cfg, const char *event,
		       const char *op, const char *key_id,
		       const char *provider, int result, char *msg,
		       size_t msglen);

/* ---- names.c: encrypted names in the backing directory ---- */

/*
 * The directory ID of the directory @fd (any fd, O_PATH too; one open
 * for reading is faster): 0, -ENODATA if it has none, -EIO if it is
 * damaged (another length).
 */
int volnames_dirid(int fd, uint8_t id[NAMES_DIRID_LEN]);
/*
 * The record of the long name @bname in the directory @dirfd, checked
 * against its hash (names_long_check()): 0 and its @len characters in
 * @rec, or -EBADMSG (missing, truncated, another name's).
 */
int volnames_record(int dirfd, const char *bname,
		    char rec[NAMES_ENC_MAX + 1], size_t *len);
/*
 * Map @path (names separated by '/', relative to the volume's root;
 * split in place) below @dirfd, one directory ID at a time: its backing
 * path into @out (PATH_MAX) and, for a long last name, its record's name
 * into @side (NAME_MAX + 1, else ""); with @reverse, a backing path to
 * the path in the mount.  Every directory on the way must exist.  0, or
 * -EINVAL (a "." or ".."), -ENOENT or -ENOTDIR (a directory missing),
 * -ENODATA or -EIO (its ID missing or damaged), -EBADMSG (@reverse: not
 * a name of that directory), with *@what the component that failed.
 */
int volnames_map(int dirfd, const uint8_t key[NAMES_KEY_LEN], char *path,
		 bool reverse, char *out, char *side, const char **what);

/* ---- vid.c: value IDs, which bind xattr values to their inode ---- */

/* volvid_get(): an ID made but not yet the inode's (volvid_make()). */
#define VOLVID_PENDING	1
/*
 * The value ID of the file or directory @fd (any fd, O_PATH too): 0,
 * VOLVID_PENDING (a making interrupted: its values may be of either
 * form), -ENODATA if it has none, -EIO if it is damaged (another length).
 */
int volvid_get(int fd, uint8_t vid[META_VID_LEN]);
/*
 * Open a value of an inode whose volvid_get() gave @has (not -EIO) and
 * @vid, as meta_xattr_open(): only the bound form on an inode with an ID
 * (an older value there was copied from another inode), only the older
 * one without, either while the ID is pending.  On a @bound volume (the
 * config's "bound") only the bound form, ever.
 */
int volvid_open(const struct kek *kek, bool bound, int has,
		const uint8_t *vid, const char *name, const void *box,
		size_t box_len, void *out);
/*
 * The value ID of @fd, made first if it has none, with every value of
 * the older form re-sealed under @kek bound to it before it is the
 * inode's (so an inode with an ID never needs the older form).  The
 * caller keeps other writers of the inode's xattrs out.  0, -EIO
 * (damaged), or -errno (EPERM: an inode that takes no user xattr).
 */
int volvid_make(int fd, const struct kek *kek, uint8_t vid[META_VID_LEN]);
/* Does the xattr name list @list (@n bytes) name a sealed user value? */
bool volvid_listed(const char *list, ssize_t n);

/* ---- links.c: symlink targets of any length ---- */

/*
 * The link store at the root: a directory of records of long targets
 * (crypto/meta.h), under the root names the volume reserves.
 */
#define VOLLINKS_DIR	VOL_CONF_NAME ".links"
/*
 * The root's mark that VOLLINKS_DIR is the store: a plain-names volume
 * made before the store may hold a user's directory of that name, which
 * stays the user's (shown, never written into).
 */
#define VOLLINKS_MARK_XATTR	"user.atrestfs.links"
#define VOLLINKS_MARK		"store"
/* Is VOLLINKS_DIR at @rootfd the store: the root marked, or no such entry. */
bool vollinks_ours(int rootfd);
/*
 * @target to its backing target in *@backing (malloc()ed, caller frees):
 * the short form, or, past META_LINK_SHORT_MAX, the long form with its
 * record written and fsynced first in @rootfd's store (made if need be).
 * -ENAMETOOLONG past META_LINK_MAX, -EEXIST if VOLLINKS_DIR is a user's.
 */
int vollinks_seal(int rootfd, const struct kek *kek,
		  const struct meta_link_at *at, const char *target,
		  char **backing);
/*
 * The backing target @backing to its target, either form: *@out
 * malloc()ed.  -EBADMSG for a target that does not open (or not at @at,
 * NULL: unbound) or a long one whose record is missing, damaged or
 * another link's.
 */
int vollinks_open(int rootfd, const struct kek *kek,
		  const struct meta_link_at *at, const char *backing, char **out);
/*
 * A link moved (rename, or a copy for link(2)): @backing, which must open
 * at @from, sealed for @to into *@out (malloc()ed).  A long target keeps
 * its record, so the new link must not outlive the old one's record:
 * link(2) seals the target afresh instead.
 */
int vollinks_move(int rootfd, const struct kek *kek,
		  const struct meta_link_at *from, const struct meta_link_at *to,
		  const char *backing, char **out);
/*
 * The place of the entry @name in the directory @dirfd (any fd, O_PATH
 * too) into @at (which keeps @name): 0, or -ENODATA if the directory has
 * no ID and not @make (with @make one is made), -EIO if it is damaged.
 */
int vollinks_at(int dirfd, const char *name, bool make,
		struct meta_link_at *at);
/*
 * A re-sealed link is made at this prefix and a random suffix in its new
 * directory, then renamed over its name; a crash may leave one, which
 * fsck lists and the mount never shows.
 */
#define VOLLINKS_TMP_PREFIX	".atrestfs-link."
/* Remove the record of @backing if it is a long form: its last name went. */
void vollinks_drop(int rootfd, const char *backing);
/*
 * rotate-kek: the record of the long form @backing re-sealed under @kek
 * from @kek->retiring (replaced by rename, atomic).  1 re-sealed, 0 under
 * @kek already or a short form (not a record's), -EBADMSG neither KEK
 * opens it, -errno.
 */
int vollinks_reseal(int rootfd, const struct kek *kek, const char *backing);
/*
 * rotate-kek's walk and convert: symlink @name in @dfd (lstat @st)
 * replaced by a new one with the backing target @backing, owner and
 * times kept, made at VOL_CONF_LINK_TMP in the root @rootfd and renamed
 * over it (atomic: the old target or the new).  0 or -errno.
 */
int vollinks_replace(int rootfd, int dfd, const char *name,
		     const struct stat *st, const char *backing);

/* ---- keyslot.c: a new volume, a new or rewrapped keyslot ---- */

/*
 * Make a new volume in @dirfd: KEK, one keyslot wrapped by @provider,
 * MAC, atrestfs.conf at generation 1.  @opt (may be NULL): the optional
 * settings (audit, access policy), checked by the caller.  @cfg receives
 * the config written and, unless @kekp is NULL, *@kekp the KEK (caller
 * owns; kek_free()), to record the generation with.  -ENOKEY (@msg says
 * why) for anything the key provider refused.  On success @msg is "" or a
 * warning to pass on (volconf_store()).
 */
int volkey_create(int dirfd, const struct volkey_src *src,
		  const char *provider, uint32_t extent_size,
		  const uint8_t uuid[VOL_UUID_LEN],
		  const struct vol_options *opt, struct vol_config *cfg,
		  struct kek **kekp, char *msg, size_t msglen);
/*
 * Wrap @kek with @provider (settings from @src, mode create) into @ks, and
 * audit it to @cfg's log as step @op ("init", "keyslot_add", "passwd"):
 * @cfg must be trusted (made here, or verified).  With @old NULL, @ks is
 * a new keyslot: enabled, no label or expiry, numbered with the lowest
 * number @cfg does not use; else it rewraps @old (passwd), keeping its
 * number, label, state and expiry.  A new passphrase keyslot gets a key
 * ID of its own, "passphrase-" and 8 random hex digits no other keyslot
 * of @cfg has, so that the log can tell two apart; a rewrap keeps @old's
 * ID and raises its key version (a new passphrase), but for @op
 * "rotate_kek" (the same one, wrapping a new KEK).
 */
int volkey_wrap_slot(const struct volkey_src *src, const char *provider,
		     const struct vol_config *cfg, const struct kek *kek,
		     const char *op, const struct vol_keyslot *old,
		     struct vol_keyslot *ks, char *msg, size_t msglen);
/*
 * Raise @cfg's generation by one, re-MAC it and replace atrestfs.conf
 * atomically.  On success @msg is "" or a warning to pass on
 * (volconf_store()); on failure @cfg is left as it was, and -EOVERFLOW
 * says the generation is at its maximum.
 */
int volkey_commit(int dirfd, struct vol_config *cfg, const struct kek *kek,
		  char *msg, size_t msglen);

/* ---- backup.c: keyslot export and import ---- */

/*
 * The export of trusted @cfg's keyslots (docs/format.md 3.8) under an
 * export MAC from @kek: a malloc()ed text, or NULL when out of memory.
 */
char *volkey_export_text(const struct vol_config *cfg, const struct kek *kek);
/*
 * Parse an export's @text (@len bytes, untrusted) into @exp and check it
 * belongs to trusted @cfg: -EXDEV for another volume, -EKEYREJECTED for
 * another KEK, -EBADMSG if its MAC fails under @kek, or
 * volconf_parse_export()'s errors; @msg says which.
 */
int volkey_import_check(const struct vol_config *cfg, const struct kek *kek,
			const char *text, size_t len, struct vol_config *exp,
			char *msg, size_t msglen);
/*
 * Append to @cfg every keyslot of @exp whose wrapped copy (or, but for a
 * passphrase, whose root key) it lacks, with
 * its number unless @cfg uses it (then the lowest free one); *@added gets
 * bit N for each keyslot number N added.  -ENOSPC (@msg) if they do not
 * fit; @cfg is then partly changed and must not be stored.
 */
int volkey_import_merge(struct vol_config *cfg, const struct vol_config *exp,
			uint32_t *added, char *msg, size_t msglen);
/*
 * The state record of an export (BACKUP_RECORD, volume/state.c): its
 * generation and a fingerprint of each keyslot.  0 or -ENOSPC.
 */
#define BACKUP_RECORD		"export"
int volkey_backup_body(const struct vol_config *cfg, const struct kek *kek,
		       char *body, size_t bodylen);
/* Whether record @body (MAC verified) holds keyslot @ks as it is now. */
bool volkey_backup_covers(const char *body, const struct kek *kek,
			  const struct vol_keyslot *ks);

/* ---- rotate.c: a new KEK for the volume (rotate-kek) ---- */

/*
 * Step 1, on a volume (@cfg and *@kek from volkey_unlock(), with the
 * config lock held) not already rotating: a new KEK, every keyslot
 * rewrapped under it by its provider (settings from @src; each must give
 * the key its keyslot names, -EKEYREJECTED otherwise), the old KEK boxed
 * under it as kek_retiring, one commit.  On success *@kek is the new KEK,
 * holding the old one as ->retiring, and @cfg the config stored; on
 * failure nothing changed.
 */
int rotate_begin(int dirfd, const struct volkey_src *src,
		 struct vol_config *cfg, struct kek **kek, char *msg,
		 size_t msglen);

/*
 * rotate-root: keyslot @at rewrapped by @provider (settings from @src:
 * a new key, a new version of it, or another provider), replacing its
 * old key in one commit (audited: root_key_wrap, keyslot_remove).  The
 * old keyslot is returned in *@old.  -EEXIST if the provider gives the
 * key the keyslot already has.  Constant time: no file is touched.  On
 * success @msg is "" or a warning (store or audit log).
 */
int rotate_root(int dirfd, const struct volkey_src *src, const char *provider,
		struct vol_config *cfg, const struct kek *kek, unsigned int at,
		struct vol_keyslot *old, char *msg, size_t msglen);

struct rotate_stats {
	uint64_t total, done;		/* entries, for progress */
	uint64_t headers;		/* rewrapped */
	uint64_t values, links;		/* re-sealed */
	uint64_t damaged;		/* left alone: opened by neither key */
};
/* What the walk reports as it goes; any member may be NULL. */
struct rotate_cb {
	/* A -errno return stops the walk with it (a mount appeared, say). */
	int (*progress)(void *ctx, uint64_t done, uint64_t total);
	/* @path (the volume @dir, then the backing path) is left as it is. */
	void (*warn)(void *ctx, const char *path, const char *what);
	/*
	 * Around the work on one entry, for a caller that serves the volume
	 * meanwhile (the daemon), to keep others off it: a file or directory
	 * open as @fd (@st its fstat), or a symlink (@fd -1, @st NULL), which
	 * the walk looks at again once enter() returned.  enter() returns 0
	 * (then leave() follows, with its *@cookie) or -errno, which stops
	 * the walk.  With them, a directory's times are not put back after
	 * a symlink in it is replaced: they may be someone else's by then.
	 */
	int (*enter)(void *ctx, int fd, const struct stat *st, void **cookie);
	/* Symlink @name in directory @dfd was replaced (called after leave). */
	void (*replaced)(void *ctx, int dfd, const char *name);
	void (*leave)(void *ctx, void *cookie);
	void *ctx;
};
struct audit;
/*
 * Step 2: every header naming the retiring KEK rewrapped (fsetxattr,
 * nothing else of the file touched; audited as dek_rewrap to @audit,
 * borrowed, NULL for none), every xattr value and symlink target under
 * its metadata key re-sealed.  What neither KEK opens is left as it is
 * (reported).  Offline, or by the daemon with @cb's enter and leave.
 * Idempotent: after a crash, walk again.  0 or -errno with @msg naming
 * the path (@dir is how the volume is named in it).
 */
int rotate_walk(int dirfd, const char *dir, const struct kek *kek,
		struct audit *audit, const struct rotate_cb *cb,
		struct rotate_stats *st, char *msg, size_t msglen);
/*
 * The walk's work on entry @name of @dfd alone, in the volume @rootfd:
 * for a daemon, a file renamed during its walk, which may have moved to
 * where the walk has been.  1 if it is a directory, whose entries were
 * not looked at; 0 or -errno as rotate_walk().  Nothing to do (0) if
 * @kek retires none.
 */
int rotate_one(int rootfd, int dfd, const char *name, const struct kek *kek,
	       struct audit *audit, const struct rotate_cb *cb, char *msg,
	       size_t msglen);
/*
 * Step 3, once the walk and this machine's records are done: the commit
 * that drops kek_retiring, then the old KEK is wiped (audited as
 * kek_destroy).  On failure @cfg and @kek are as they were; on success
 * @msg is "" or a warning (store or audit log).
 */
int rotate_finish(int dirfd, struct vol_config *cfg, struct kek *kek,
		  char *msg, size_t msglen);

/* ---- convert.c: a volume from before "bound" made bound (convert) ---- */

struct convert_stats {
	uint64_t done;			/* entries walked */
	uint64_t links;			/* re-sealed for their place */
	uint64_t values;		/* bound to their inode's value ID */
};
/*
 * Offline, with the config lock held and the volume unmounted: every
 * symlink target and xattr value of volume @dirfd (@cfg and @kek from
 * volkey_unlock()) re-sealed in the bound form, then "bound" set in @cfg
 * by one commit.  -EALREADY if @cfg is bound already; -EBADMSG, before
 * the commit, for a target or value that opens in neither form (@msg
 * names it, @dir naming the volume, and says to run fsck), -EEXIST for
 * a name a bound volume reserves, -EBUSY during a KEK rotation.  Cut
 * short, the volume reads as before; calling again finishes.  On
 * success @cfg is the config stored and @msg "" or a warning (store).
 */
int convert_bound(int dirfd, const char *dir, struct vol_config *cfg,
		  const struct kek *kek, struct convert_stats *st, char *msg,
		  size_t msglen);

/* ---- state.c: what this machine remembers of a volume ---- */

/*
 * A volume's state directory is BASE/UUID/, outside the volume, whose
 * backing directory is untrusted.  BASE is the caller's (--state-dir),
 * else STATE_ROOT_BASE for root, else $XDG_STATE_HOME/atrestfs, else
 * $HOME/.local/state/atrestfs.  Directories are made mode 0700, records
 * 0600, and both must belong to the caller and be writable by no one
 * else.  Each record is one file NAME: "atrestfs state v1\n", a body of
 * lines, "mac HEX\n"; the MAC (the KEK's state_mac_key, over NAME and the
 * text before "mac") keeps a record from being forged without the key,
 * not from being deleted or replaced by an older one.  Other modules add
 * their own records; docs/format.md 12 has the layout.
 */
#define STATE_ROOT_BASE		"/var/lib/atrestfs"
#define STATE_PATH_MAX		4096
#define STATE_NAME_MAX		64	/* [a-z0-9_-] */
#define STATE_RECORD_MAX	4096	/* bytes of a record's file */

struct state_dir {
	int fd;			/* BASE/UUID, O_DIRECTORY; -1 when closed */
	uint8_t uuid[VOL_UUID_LEN];
	char path[STATE_PATH_MAX];	/* BASE/UUID, for messages */
};

/*
 * BASE for a process of @euid, or @base (the caller's, absolute) unless
 * it is NULL or "".  -EINVAL for a relative @base, -ENOENT if there is no
 * home to put it in.
 */
int state_base(const char *base, uid_t euid, char *out, size_t outlen,
	       char *msg, size_t msglen);
/*
 * Open volume @uuid's state directory under @base (state_base()),
 * making what is missing.  -EPERM if BASE or BASE/UUID is a symbolic
 * link, not the caller's, or writable by group or others (@msg says which
 * and how to fix it); another -errno if it cannot be made or opened.  On
 * success state_close() closes it.
 */
int state_open(struct state_dir *sd, const char *base,
	       const uint8_t uuid[VOL_UUID_LEN], char *msg, size_t msglen);
void state_close(struct state_dir *sd);
/*
 * Hold the directory against other atrestfs processes (flock) around a
 * read and write of a record, until state_unlock() or state_close().
 */
int state_lock(const struct state_dir *sd);
void state_unlock(const struct state_dir *sd);
/*
 * Record @name's body, NUL-terminated, into @body (@bodylen bytes), only
 * once its MAC verifies with @kek (or its retiring KEK: state_put() then
 * rewrites it under @kek).  -ENOENT if there is none (@msg
 * untouched), -EBADMSG if it is malformed or fails its MAC, -EPERM if it
 * is a symbolic link, not a regular file, not the caller's or writable by
 * others, -ENOSPC if @body is too small.
 */
int state_get(const struct state_dir *sd, const struct kek *kek,
	      const char *name, char *body, size_t bodylen, char *msg,
	      size_t msglen);
/*
 * Replace record @name by @body (lines of printable ASCII, each ended by
 * "\n") under a MAC: temporary file, fsync, rename, directory fsync.
 */
int state_put(const struct state_dir *sd, const struct kek *kek,
	      const char *name, const char *body, char *msg, size_t msglen);

/*
 * Where a running mount keeps its runtime record (fs/runtime.c), as a
 * BASE for state_open(): STATE_RUN_BASE for root, else
 * $XDG_RUNTIME_DIR/atrestfs; -ENOENT with @msg if there is none.  Under
 * /run it is gone at reboot, with the mounts it describes.
 */
#define STATE_RUN_BASE		"/run/atrestfs"
int state_run_base(uid_t euid, char *out, size_t outlen, char *msg,
		   size_t msglen);
/*
 * Record @name of volume @uuid under @base, for display only: the layout
 * is checked but NOT the MAC (the caller has no key), and nothing is
 * made.  0, -ENOENT if the directory or record is absent, or the errors
 * of state_get() but for the MAC.
 */
int state_peek(const char *base, const uint8_t uuid[VOL_UUID_LEN],
	       const char *name, char *body, size_t bodylen, char *msg,
	       size_t msglen);

/* ---- confgen.c: an older atrestfs.conf refused ---- */

#define CONFGEN_RECORD		"config"	/* its state record */

/* What this machine had recorded of a volume's config generation. */
struct confgen_seen {
	int err;	/* 0: @gen was recorded; -ENOENT: nothing was (first
			 * time here, or the state was lost); else why the
			 * record could not be used (-EBADMSG, -EPERM ...) */
	uint32_t gen;	/* the highest generation seen, if !err */
};

/*
 * @cfg, trusted (its MAC verified with @kek, or made by this process),
 * against the highest generation recorded in @sd, under the state lock.
 * Not older: 0, and the record raised to @cfg's generation if it was
 * lower or absent; @msg is then "" or a warning that it could not be
 * written.  Older: -ESTALE, nothing written, @msg naming both generations
 * and the record.  A record unusable as *@seen says: that error, with
 * @msg.  Never lowers the record.
 */
int confgen_check(const struct state_dir *sd, const struct vol_config *cfg,
		  const struct kek *kek, struct confgen_seen *seen, char *msg,
		  size_t msglen);
/*
 * Record @cfg's generation whatever was recorded (*@seen): the user's
 * word that the config as it is now is the one to trust.  0 or -errno
 * with @msg.
 */
int confgen_trust(const struct state_dir *sd, const struct vol_config *cfg,
		  const struct kek *kek, struct confgen_seen *seen, char *msg,
		  size_t msglen);

#endif
