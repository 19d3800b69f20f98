// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mount-helper/cmd_mount.c - "atrestfs mount" and mount.atrestfs: check
 * everything a user can get wrong before touching FUSE, unlock the volume,
 * then hand over to the driver, which detaches once the mount is up.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../crypto/codec.h"
#include "../crypto/hdr.h"
#include "../fs/atrfs.h"
#include "../volume/fsck.h"
#include "cli.h"

/* Files mount looks at for a header (fsck_sample()): a glance, no scan. */
#define MOUNT_SAMPLE	8

struct mount_args {
	const char *cipherdir;
	const char *mountpoint;
	struct cli_keyopts ko;		/* provider, keyslot, settings, secrets */
	bool foreground;
	bool nonempty;
	struct atr_mount_opts mo;	/* noxattr, writethrough, nouring, readahead= */
	char state_dir[PATH_MAX];	/* --state-dir, state_dir=; "": default */
	char log_path[PATH_MAX];	/* log=; "": syslog once detached */
	char fuse_opts[8192];	/* passed to libfuse as one -o */
	int lockfd;		/* cli_mount_exclusive()'s; the daemon inherits it */
};

/*
 * idle=DURATION: seconds, or a number with s, m, h or d, as systemd and
 * gocryptfs -idle take it; 1 s to 30 days.
 */
static int parse_idle(struct mount_args *a, const char *v)
{
	static const struct { char unit; unsigned int sec; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
	};
	char num[32];
	size_t n = strlen(v), i;
	unsigned int mul = 1;
	uint64_t x;

	if (n && n < sizeof(num)) {
		memcpy(num, v, n + 1);
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (num[n - 1] == units[i].unit) {
				num[n - 1] = '\0';
				mul = units[i].sec;
			}
		if (!dec_parse_u64(num, 1, 30 * 86400 / mul, &x) &&
		    x * mul <= 30 * 86400) {
			a->mo.idle_sec = (unsigned int)(x * mul);
			return 0;
		}
	}
	cli_err("idle=%s: want a duration from 1s to 30d, such as 90s, 15m "
		"or 2h", v);
	return -EINVAL;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: atrestfs mount [OPTIONS] CIPHERDIR MOUNTPOINT\n"
"Mount the volume in CIPHERDIR at MOUNTPOINT.  Returns once it is mounted.\n"
"\n"
"  -k, --keyfile PATH   root key file (default: the one init made,\n"
"                       KEYDIR/UUID.key; see atrestfs(8))\n"
"  -P, --provider NAME  use only keyslots of this key provider (default:\n"
"                       try each keyslot in order until one opens)\n"
"  -S, --slot N         use only keyslot N (see atrestfs keyslot list)\n"
"  -O, --provider-option KEY=VALUE\n"
"                       a setting for the key provider (repeatable)\n"
"      --passfile FILE  passphrase/PIN from FILE (first line; -: stdin)\n"
"      --extpass CMD    passphrase/PIN from CMD's standard output\n"
"      --state-dir DIR  where this machine remembers the newest config\n"
"                       it saw (default /var/lib/atrestfs for root, else\n"
"                       ~/.local/state/atrestfs; see atrestfs(8))\n"
"  -f, --foreground     stay in the foreground and log to stderr\n"
"  -o OPT[,OPT...]      mount options: keyfile=PATH, provider=NAME, slot=N,\n"
"                       kp.KEY=VALUE, passfile=FILE, state_dir=DIR,\n"
"                       nonempty, noxattr, writethrough, nouring,\n"
"                       nohandles, readahead=KB, log=FILE, idle=DURATION\n"
"                       (lock after that long unused), shared (other\n"
"                       machines mount this volume too, over a cluster\n"
"                       file system), and FUSE and mount(8) options\n"
"                       such as ro, allow_other, noexec\n"
"  -q, --quiet          print nothing on success\n"
"  -h, --help           this text\n");
}

/* Options that only mean something to mount(8), systemd or fstab. */
static bool fstab_only(const char *o)
{
	static const char *const names[] = { "defaults", "auto", "noauto",
		"nofail", "user", "users", "nouser", "owner", "group",
		"_netdev", "rw", NULL };
	const char *const *p;

	if (!strncmp(o, "x-", 2) || !strncmp(o, "comment=", 8))
		return true;
	for (p = names; *p; p++)
		if (!strcmp(o, *p))
			return true;
	return false;
}

static int add_fuse_opt(struct mount_args *a, const char *o)
{
	size_t n = strlen(a->fuse_opts), need = strlen(o) + 2;

	if (n + need >= sizeof(a->fuse_opts))
		return -E2BIG;
	if (n)
		a->fuse_opts[n++] = ',';
	strcpy(a->fuse_opts + n, o);
	return 0;
}

/* readahead=KB: 0 to 65536, as the kernel's read_ahead_kb takes it. */
static int parse_readahead(struct mount_args *a, const char *v)
{
	uint64_t kb;

	if (dec_parse_u64(v, 0, 65536, &kb)) {
		cli_err("readahead=%s: want a number of KiB from 0 to 65536", v);
		return -EINVAL;
	}
	a->mo.readahead_kb = (int)kb;
	return 0;
}

static int bad_opt(const char *o)
{
	cli_err("option %s: no backslashes in mount options", o);
	return -EINVAL;
}

/* --state-dir, state_dir=: an absolute path that fits. */
static int set_state_dir(struct mount_args *a, const char *dir)
{
	const char *d;

	if (cli_state_dir_opt(&d, dir))
		return -EINVAL;
	if (strlen(d) >= sizeof(a->state_dir)) {
		cli_err("--state-dir: path too long");
		return -EINVAL;
	}
	strcpy(a->state_dir, d);
	return 0;
}

/* log=FILE: an absolute path that fits; where it lies is checked later. */
static int set_log(struct mount_args *a, const char *path)
{
	if (path[0] != '/' || strlen(path) >= sizeof(a->log_path)) {
		cli_err("log=%s: want an absolute path of a file to append "
			"the daemon's messages to", path);
		return -EINVAL;
	}
	strcpy(a->log_path, path);
	return 0;
}

/*
 * An option for libfuse: known to it (else refused now, before unlocking,
 * not after a passphrase was typed), and room for it.
 */
static int fuse_opt(struct mount_args *a, const char *o)
{
	if (!strncmp(o, "extpass=", 8)) {
		cli_err("-o %s: extpass is not a mount option: a command cannot "
			"be given in -o, where commas split it; use --extpass "
			"CMD, or passfile=FILE (in fstab)", o);
		return -EINVAL;
	}
	if (!atr_fs_opt_known(o)) {
		cli_err("-o %s: unknown mount option (see MOUNT OPTIONS in "
			"atrestfs(8), and mount.fuse3(8) for those of FUSE)", o);
		return -EINVAL;
	}
	if (add_fuse_opt(a, o)) {
		cli_err("mount options too long");
		return -E2BIG;
	}
	return 0;
}

/*
 * Split -o: ours are taken, fstab-only dropped, the rest go to libfuse.
 * A bad one is said on stderr, by name.
 */
static int parse_o(struct mount_args *a, const char *arg)
{
	char *copy = strdup(arg), *o, *save = NULL;
	int err = 0;

	if (!copy) {
		cli_err("out of memory");
		return -ENOMEM;
	}
	for (o = strtok_r(copy, ",", &save); o && !err;
	     o = strtok_r(NULL, ",", &save)) {
		if (!strncmp(o, "keyfile=", 8))
			snprintf(a->ko.keyfile, sizeof(a->ko.keyfile), "%s",
				 o + 8);
		else if (!strncmp(o, "provider=", 9))
			err = cli_unlock_opt(&a->ko, 'P', o + 9) < 0 ? -EINVAL : 0;
		else if (!strncmp(o, "slot=", 5))
			err = cli_unlock_opt(&a->ko, 'S', o + 5) < 0 ? -EINVAL : 0;
		else if (!strncmp(o, "kp.", 3))
			err = cli_unlock_opt(&a->ko, 'O', o + 3) < 0 ? -EINVAL : 0;
		else if (!strncmp(o, "passfile=", 9))
			err = cli_unlock_opt(&a->ko, CLI_OPT_PASSFILE, o + 9) < 0 ?
			      -EINVAL : 0;
		else if (!strncmp(o, "state_dir=", 10))
			err = set_state_dir(a, o + 10);
		else if (!strcmp(o, "nonempty"))
			a->nonempty = true;
		else if (!strcmp(o, "noxattr"))
			a->mo.noxattr = true;
		else if (!strcmp(o, "writethrough"))
			a->mo.writethrough = true;
		else if (!strcmp(o, "nouring"))
			a->mo.nouring = true;
		else if (!strcmp(o, "nohandles"))
			a->mo.nohandles = true;
		else if (!strcmp(o, "shared"))
			a->mo.shared = true;
		else if (!strncmp(o, "readahead=", 10))
			err = parse_readahead(a, o + 10);
		else if (!strncmp(o, "log=", 4))
			err = set_log(a, o + 4);
		else if (!strncmp(o, "idle=", 5))
			err = parse_idle(a, o + 5);
		else if (strchr(o, '\\'))
			/*
			 * libfuse undoes backslash escapes, which opt_listed()
			 * does not see: 'allow_oth\\er' reached libfuse as
			 * allow_other without the default_permissions that
			 * allow_other gets here.  (Our own fsname is escaped
			 * on purpose, and added apart from these.)
			 */
			err = bad_opt(o);
		else if (!fstab_only(o))
			err = fuse_opt(a, o);
	}
	free(copy);
	return err;
}

/* fsname is shown in /proc/mounts; libfuse splits options on ','. */
static int add_fsname(struct mount_args *a, const char *path)
{
	char esc[PATH_MAX * 2 + 8], *p = esc;
	const char *s;

	p += sprintf(p, "fsname=");
	for (s = path; *s; s++) {
		if (*s == ',' || *s == '\\')
			*p++ = '\\';
		*p++ = *s;
	}
	*p = '\0';
	return add_fuse_opt(a, esc);
}

/* libfuse runs FUSERMOUNT_DIR/fusermount3, then fusermount3 from PATH. */
static bool have_fusermount(void)
{
	char buf[PATH_MAX];

	return cli_which("fusermount3", buf, sizeof(buf)) == 0;
}

/* fusermount3 lets users pass allow_other only with this in fuse.conf. */
static bool user_allow_other(void)
{
	char line[512], *p;
	bool yes = false;
	FILE *f = fopen("/etc/fuse.conf", "re");

	if (!f)
		return false;
	while (!yes && fgets(line, sizeof(line), f)) {
		p = line + strspn(line, " \t");
		yes = !strncmp(p, "user_allow_other", 16) &&
		      (p[16] == '\0' || strchr(" \t\n#", p[16]));
	}
	fclose(f);
	return yes;
}

/*
 * Root opens /dev/fuse itself; anyone else mounts through the setuid
 * fusermount3, which also polices allow_other.  Say so before unlocking.
 */
static int check_fuse(const struct mount_args *a)
{
	int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);

	if (fd < 0 && (errno == ENOENT || errno == ENODEV || errno == ENXIO)) {
		cli_err("/dev/fuse is missing: the FUSE kernel module is not "
			"loaded (try: modprobe fuse) or this container has no "
			"/dev/fuse");
		return -1;
	}
	if (fd < 0 && geteuid() == 0) {
		cli_err("cannot open /dev/fuse: %s", strerror(errno));
		return -1;
	}
	/* libfuse opens it before trying fusermount3, and gives up here. */
	if (fd < 0 && errno == EACCES) {
		cli_err("cannot open /dev/fuse: only root may (usually udev makes "
			"it mode 0666; here it is not): mount as root, or have "
			"the administrator run chmod 0666 /dev/fuse");
		return -1;
	}
	if (fd >= 0)
		close(fd);
	if (geteuid() == 0)
		return 0;
	if (!have_fusermount()) {
		cli_err("fusermount3 not found: mounting as a user needs it; "
			"install the fuse3 package");
		return -1;
	}
	if ((opt_listed(a->fuse_opts, "allow_other") ||
	     opt_listed(a->fuse_opts, "allow_root")) && !user_allow_other()) {
		cli_err("option allow_other needs 'user_allow_other' in "
			"/etc/fuse.conf when mounting as a user (ask your "
			"administrator to add it, or mount as root)");
		return -1;
	}
	return 0;
}

static int check_mountpoint(const struct mount_args *a)
{
	char rc[PATH_MAX], rm[PATH_MAX], type[256];
	struct stat st;
	DIR *d;
	struct dirent *de;
	bool empty = true;

	if (stat(a->mountpoint, &st)) {
		cli_err("mountpoint %s: %s", a->mountpoint, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		cli_err("mountpoint %s is not a directory", a->mountpoint);
		return -1;
	}
	if (cli_mounted(a->mountpoint, type, sizeof(type))) {
		cli_err("mountpoint %s is busy: something is already mounted "
			"there (unmount it first: atrestfs unmount %s)",
			a->mountpoint, a->mountpoint);
		return -1;
	}
	if (realpath(a->cipherdir, rc) && realpath(a->mountpoint, rm) &&
	    (!strcmp(rc, rm) || (!strncmp(rm, rc, strlen(rc)) &&
				 rm[strlen(rc)] == '/'))) {
		cli_err("mountpoint %s is inside the volume %s; choose a "
			"directory outside it", a->mountpoint, a->cipherdir);
		return -1;
	}
	d = opendir(a->mountpoint);
	if (!d) {
		cli_err("mountpoint %s: %s", a->mountpoint, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = false;
	closedir(d);
	if (!empty && !a->nonempty) {
		cli_err("mountpoint %s is not empty; its files would be hidden "
			"(add -o nonempty to mount over them anyway)",
			a->mountpoint);
		return -1;
	}
	return 0;
}

/*
 * Is @path (absolute), or would it be once made, inside directory @dir?
 * What is missing of it is judged by its nearest existing parent.
 */
static bool inside(const char *path, const char *dir)
{
	char rd[PATH_MAX], rp[PATH_MAX], up[PATH_MAX], *slash;
	size_t n;

	if (!realpath(dir, rd) ||
	    (size_t)snprintf(up, sizeof(up), "%s", path) >= sizeof(up))
		return false;
	while (!realpath(up, rp)) {
		slash = strrchr(up, '/');
		if (!slash || slash == up)
			return false;
		*slash = '\0';
	}
	n = strlen(rd);
	return !strcmp(rp, rd) || (!strncmp(rp, rd, n) &&
				  (rp[n] == '/' || n == 1));
}

/*
 * log=FILE: never in the volume (the backing directory is untrusted and
 * would hold the messages in plaintext) nor in the mount (the daemon
 * would write through itself, and wait on itself).  Opened here, before
 * any key is asked for: 0 with *@fd, or the exit code after saying why.
 */
static int open_log(const struct mount_args *a, int *fd)
{
	char msg[PATH_MAX + 128];

	if (inside(a->log_path, a->cipherdir) ||
	    inside(a->log_path, a->mountpoint)) {
		cli_err("log=%s is inside the volume %s or its mountpoint %s; "
			"choose a file outside both (such as under /var/log)",
			a->log_path, a->cipherdir, a->mountpoint);
		return EXIT_USAGE;
	}
	*fd = atr_logfile_open(a->log_path, "log file", false, msg,
				sizeof(msg));
	if (*fd < 0) {
		cli_err("log=%s: %s", a->log_path, msg);
		return EXIT_FAIL;
	}
	return 0;
}

/*
 * The options atrestfs status shows for this mount: ours and those for
 * FUSE, never key options (a kp. setting may be a secret).
 */
static void shown_options(const struct mount_args *a, char *buf, size_t len)
{
	char ra[32] = "";
	size_t n;

	if (a->mo.readahead_kb >= 0)
		snprintf(ra, sizeof(ra), "readahead=%d,", a->mo.readahead_kb);
	/* @len holds all of them: cut short, they would still be shown. */
	if (snprintf(buf, len, "%s%s%s%s%s%s%s%s", a->nonempty ? "nonempty," : "",
		     a->mo.noxattr ? "noxattr," : "",
		     a->mo.writethrough ? "writethrough," : "",
		     a->mo.nouring ? "nouring," : "",
		     a->mo.nohandles ? "nohandles," : "",
		     a->mo.shared ? "shared," : "", ra, a->fuse_opts) < 0)
		buf[0] = '\0';
	n = strlen(buf);
	if (n && buf[n - 1] == ',')
		buf[n - 1] = '\0';
}

/*
 * Where the daemon keeps its runtime record for atrestfs status; without
 * one (a user with no $XDG_RUNTIME_DIR), status shows less, and says so.
 */
static void runtime_dir(const struct mount_args *a, struct atr_mount *m,
			const struct vol_config *cfg, const char *options)
{
	char base[STATE_PATH_MAX], msg[KEYPROV_MSG_MAX] = "";
	struct state_dir sd = { .fd = -1 };
	int err;

	err = state_run_base(geteuid(), base, sizeof(base), msg, sizeof(msg));
	if (err == -ENOENT)
		return;
	/*
	 * Never in the backing directory, which is untrusted, nor under the
	 * mount point, where the mount would hide it from status.
	 */
	if (!err && (inside(base, a->mountpoint) || inside(base, a->cipherdir))) {
		snprintf(msg, sizeof(msg), "its runtime directory %.300s is inside "
			 "the volume or the mount point", base);
		err = -EINVAL;
	}
	if (!err)
		err = state_open(&sd, base, cfg->uuid, msg, sizeof(msg));
	if (!err)
		err = atr_mount_runtime(m, sd.fd, sd.path, options,
					a->log_path);
	state_close(&sd);
	if (err) {
		char w[KEYPROV_MSG_MAX + 64];

		snprintf(w, sizeof(w), "atrestfs status will not show this "
			 "mount's daemon: %s", *msg ? msg : strerror(-err));
		cli_warn(w);
	}
}

static void args_init(struct mount_args *a)
{
	memset(a, 0, sizeof(*a));
	a->mo = (struct atr_mount_opts)ATR_MOUNT_OPTS_INIT;
	a->lockfd = -1;
	cli_keyopts_init(&a->ko);
}

/*
 * Modes live in plaintext in the backing directory: with suid or dev, an
 * attacker who can write it offline makes any file setuid-root or a
 * device node of the mount usable.  Allowed, since root asked, but said.
 */
static void warn_suid_dev(const struct mount_args *a)
{
	if (opt_listed(a->fuse_opts, "suid"))
		cli_warn("-o suid: set-ID bits are plaintext in the backing "
			 "directory, so whoever can write it offline can make "
			 "any file on this mount setuid-root; leave suid off "
			 "unless the backing directory is as trusted as /");
	if (opt_listed(a->fuse_opts, "dev"))
		cli_warn("-o dev: device nodes are plaintext in the backing "
			 "directory, so whoever can write it offline can plant "
			 "one that opens any disk; leave dev off unless the "
			 "backing directory is as trusted as /");
}

static void args_free(struct mount_args *a)
{
	cli_keyopts_free(&a->ko);
	if (a->lockfd >= 0)
		close(a->lockfd);
}

/*
 * A volume copied without its xattrs mounts and lists right, then fails
 * every read with EIO, and the reason goes only to the daemon's log: a
 * glance at a few files says so while someone is looking.
 */
static void check_headers(const char *dir, int dirfd)
{
	unsigned int checked, missing;

	fsck_sample(dirfd, MOUNT_SAMPLE, &checked, &missing);
	if (!missing)
		return;
	fprintf(stderr, "atrestfs: warning: %s: %u of the %u files checked "
		"have no header (xattr " HDR_XATTR "): their keys are lost "
		"and reading them fails with EIO.  The volume was copied or "
		"restored without its extended attributes (tar needs --xattrs "
		"--xattrs-include='user.*', rsync needs -X).  Put the headers "
		"back with 'atrestfs header restore %s FILE' from a header "
		"backup (unmount first), or copy the volume again keeping "
		"xattrs; 'atrestfs fsck %s' lists every file affected.\n",
		dir, missing, checked, dir, dir);
}

static int do_mount(struct mount_args *a)
{
	char msg[KEYPROV_MSG_MAX] = "";
	char real[PATH_MAX], *fargv[4], shown[sizeof(a->fuse_opts) + 64];
	const char *state_dir = *a->state_dir ? a->state_dir : NULL;
	int rbflags = CLI_RB_NOTICE | (a->foreground ? 0 : CLI_RB_LOG);
	struct vol_config cfg;
	struct atr_mount *m;
	struct kek *kek = NULL;
	struct cli_rb rb;
	int dirfd, pathfd, logfd = -1, err, ret;
	unsigned int slot = 0;
	pid_t self;

	if (check_fuse(a))
		return EXIT_MOUNT;
	warn_suid_dev(a);
	dirfd = open(a->cipherdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		cli_err("%s: %s", a->cipherdir, strerror(errno));
		return EXIT_VOLUME;
	}
	if (check_mountpoint(a)) {
		close(dirfd);
		return EXIT_MOUNT;
	}
	ret = cli_mount_exclusive(a->cipherdir, dirfd, &a->lockfd);
	if (ret) {
		close(dirfd);
		return ret;
	}
	if (*a->log_path && (ret = open_log(a, &logfd))) {
		close(dirfd);
		return ret;
	}
	/* From here on the daemon's messages go there as well. */
	if (logfd >= 0)
		atr_log_file(logfd);
	/*
	 * Wait for a command that changes the volume (rotate-kek rewrites
	 * headers a daemon would race with); closing dirfd drops the lock.
	 */
	ret = cli_lock(dirfd);
	if (ret) {
		cli_err("%s: cannot lock the volume: %s", a->cipherdir,
			strerror(-ret));
		close(dirfd);
		return EXIT_FAIL;
	}
	a->ko.state_dir = state_dir;
	ret = cli_unlock(dirfd, a->cipherdir, &a->ko, &cfg, &kek, &slot);
	if (!ret)
		ret = cli_rollback_mount(a->cipherdir, state_dir, &cfg, kek,
					 rbflags, &rb);
	if (ret) {
		kek_free(kek);
		close(dirfd);
		return ret;
	}
	check_headers(a->cipherdir, dirfd);
	pathfd = openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	close(dirfd);
	if (pathfd < 0 || !realpath(a->cipherdir, real)) {
		cli_err("%s: %s", a->cipherdir, strerror(errno));
		kek_free(kek);
		state_close(&rb.sd);
		return EXIT_VOLUME;
	}
	/*
	 * With other users let in, the kernel must check modes against each
	 * caller: the daemon (often root) would let them do anything.  Without,
	 * only processes of the mounting user get in, the daemon runs as that
	 * user, and the backing file system's checks of the daemon's calls
	 * are the caller's (gocryptfs does the same); the kernel's own checks
	 * would then cost a GETATTR after every change to a directory.
	 */
	shown_options(a, shown, sizeof(shown));
	if (add_fsname(a, real) || add_fuse_opt(a, "subtype=atrestfs") ||
	    ((opt_listed(a->fuse_opts, "allow_other") ||
	      opt_listed(a->fuse_opts, "allow_root")) &&
	     add_fuse_opt(a, "default_permissions"))) {
		cli_err("mount options too long");
		kek_free(kek);
		close(pathfd);
		state_close(&rb.sd);
		return EXIT_USAGE;
	}
	m = atr_mount_new(real, pathfd, &kek, cfg.extent_size);
	if (!m) {
		cli_err("out of memory");
		kek_free(kek);
		close(pathfd);
		state_close(&rb.sd);
		return EXIT_FAIL;
	}
	atr_mount_options(m, &a->mo);
	/* The config's MAC has verified: its audit and policy settings hold. */
	err = atr_mount_configure(m, &cfg, slot, msg, sizeof(msg));
	if (err) {
		cli_err("%s", *msg ? msg : strerror(-err));
		atr_mount_free(m);
		state_close(&rb.sd);
		return EXIT_VOLUME;
	}
	runtime_dir(a, m, &cfg, shown);
	/* The daemon checks each file against this machine's record. */
	ret = cli_rollback_files(a->cipherdir, state_dir, &cfg, &rb, m,
				 rbflags);
	if (ret) {
		atr_mount_free(m);
		return ret;
	}
	atr_log_init(true);
	/* Clients see other users' bytes only if the kernel checks modes. */
	fargv[0] = "atrestfs";
	fargv[1] = "-o";
	fargv[2] = a->fuse_opts;
	fargv[3] = NULL;
	self = getpid();
	err = atr_fs_run(m, 3, fargv, a->mountpoint, a->foreground);
	atr_mount_free(m);
	/* The detached child reports to the parent, which tells the user. */
	if (err && getpid() == self) {
		cli_err("mounting %s on %s failed (see the messages above)",
			a->cipherdir, a->mountpoint);
		return EXIT_MOUNT;
	}
	return EXIT_OK;
}

int cmd_mount(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_UNLOCK_OPTIONS,
		{ "state-dir", required_argument, NULL, CLI_OPT_STATE_DIR },
		{ "foreground", no_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mount_args a;
	int c, ret = EXIT_USAGE;

	args_init(&a);
	while ((c = getopt_long(argc, argv, CLI_UNLOCK_SHORT "fo:qh",
				opts, NULL)) != -1) {
		switch (cli_unlock_opt(&a.ko, c, optarg)) {
		case 1:
			continue;
		case -1:
			goto out;
		}
		switch (c) {
		case CLI_OPT_STATE_DIR:
			if (set_state_dir(&a, optarg))
				goto out;
			break;
		case 'f':
			a.foreground = true;
			break;
		case 'o':
			if (parse_o(&a, optarg))
				goto out;
			break;
		case 'q':
			cli_quiet = 1;
			break;
		case 'h':
			usage(stdout);
			ret = EXIT_OK;
			goto out;
		default:
			usage(stderr);
			goto out;
		}
	}
	if (optind != argc - 2) {
		usage(stderr);
		goto out;
	}
	a.cipherdir = argv[optind];
	a.mountpoint = argv[optind + 1];
	ret = do_mount(&a);
out:
	args_free(&a);
	return ret;
}

/*
 * mount(8) runs "mount.atrestfs SOURCE DIR [-sfnv] [-o OPTS]" (and
 * mount.fuse.atrestfs for type fuse.atrestfs).  -n and -s and -v have no
 * meaning for us; -f (fake) must not mount.
 */
int cmd_mount_helper(int argc, char **argv)
{
	struct mount_args a;
	int i, npos = 0;
	const char *pos[2] = { NULL, NULL };

	int ret = EXIT_USAGE;

	args_init(&a);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc) {
			if (parse_o(&a, argv[++i]))
				goto out;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("Usage: mount.atrestfs CIPHERDIR MOUNTPOINT [-o OPTIONS]\n"
			       "Called by mount(8) for type atrestfs or fuse.atrestfs;\n"
			       "takes the options of atrestfs mount -o.  See mount.atrestfs(8).\n");
			ret = EXIT_OK;
			goto out;
		} else if (!strcmp(argv[i], "-f")) {
			ret = EXIT_OK;
			goto out;
		} else if ((!strcmp(argv[i], "-t") || !strcmp(argv[i], "-N")) &&
			   i + 1 < argc) {
			i++;		/* -t TYPE, -N NAMESPACE: not ours */
		} else if (argv[i][0] == '-') {
			continue;	/* -n, -s, -v */
		} else if (npos < 2) {
			pos[npos++] = argv[i];
		} else {
			cli_err("unexpected argument '%s'", argv[i]);
			goto out;
		}
	}
	if (npos != 2) {
		cli_err("usage: mount.atrestfs CIPHERDIR MOUNTPOINT [-o OPTIONS]");
		goto out;
	}
	a.cipherdir = pos[0];
	a.mountpoint = pos[1];
	ret = do_mount(&a);
out:
	args_free(&a);
	return ret;
}
