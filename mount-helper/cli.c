// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mount-helper/cli.c - main(): dispatch "atrestfs COMMAND", or the mount(8)
 * helper convention when called as mount.atrestfs / mount.fuse.atrestfs.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../crypto/codec.h"
#include "../crypto/msg.h"
#include "cli.h"

int cli_quiet;

/* Colour only for a person at a terminal that has it, and wants it. */
static bool colour(void)
{
	const char *term = getenv("TERM");

	return isatty(2) && !getenv("NO_COLOR") && term && strcmp(term, "dumb");
}

/*
 * The length of the UTF-8 character at @s, with its code point in *@cp,
 * if it is valid: no surrogate, overlong form or code point past U+10FFFF.
 * Else 0.
 */
static size_t utf8_char(const unsigned char *s, uint32_t *cp)
{
	size_t n, i;

	if (*s >= 0xc2 && *s <= 0xdf)
		n = 2, *cp = *s & 0x1f;
	else if (*s >= 0xe0 && *s <= 0xef)
		n = 3, *cp = *s & 0x0f;
	else if (*s >= 0xf0 && *s <= 0xf4)
		n = 4, *cp = *s & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = *cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && *cp < 0x800) || (n == 4 && (*cp < 0x10000 ||
	    *cp > 0x10ffff)) || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * The length of the UTF-8 character at @s if it is valid and harmless on
 * a terminal, else 0: no C1 control (U+0080 to U+009F, which some
 * terminals obey as escapes) and no bidi control (which reorders the
 * text shown around it).
 */
static size_t utf8_shown(const unsigned char *s)
{
	uint32_t cp;
	size_t n = utf8_char(s, &cp);

	if (!n || cp < 0xa0 || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069))
		return 0;
	return n;
}

void cli_fputs_vis(FILE *f, const char *s, bool keep_nl)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	while (*p) {
		if ((*p >= ' ' && *p < 0x7f && *p != '\\') ||
		    (*p == '\n' && keep_nl)) {
			fputc(*p++, f);
		} else if ((n = utf8_shown(p))) {
			fwrite(p, 1, n, f);
			p += n;
		} else {
			fprintf(f, "\\%03o", *p++);
		}
	}
}

/*
 * Messages name files of the backing directory, whose names anyone who
 * can write it chooses: a name must not drive the terminal it is shown on.
 */
static void vis_vprintf(FILE *f, const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) < 0) {
		fputs("(out of memory)", f);
		return;
	}
	cli_fputs_vis(f, s, true);
	free(s);
}

void cli_err(const char *fmt, ...)
{
	va_list ap;

	fputs(colour() ? "\033[1;31matrestfs:\033[0m " : "atrestfs: ", stderr);
	va_start(ap, fmt);
	vis_vprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cli_err_line(const char *prefix, const char *s)
{
	fputs(colour() ? "\033[1;31matrestfs:\033[0m " : "atrestfs: ", stderr);
	cli_fputs_vis(stderr, prefix, false);
	cli_fputs_vis(stderr, s, false);
	fputc('\n', stderr);
}

void cli_say(const char *fmt, ...)
{
	va_list ap;

	if (cli_quiet)
		return;
	va_start(ap, fmt);
	vis_vprintf(stdout, fmt, ap);
	va_end(ap);
}

void cli_warn(const char *msg)
{
	fputs("atrestfs: warning: ", stderr);
	cli_fputs_vis(stderr, msg, true);
	fputc('\n', stderr);
}

int cli_which(const char *name, char *path, size_t len)
{
	const char *env = getenv("PATH");
	char *copy, *dir, *save = NULL;
	int err = -ENOENT;

	/* Root's PATH may lack the sbin directories mkswap lives in. */
	if (asprintf(&copy, "%s:/usr/bin:/usr/sbin:/sbin", env ? env : "") < 0)
		return -ENOMEM;
	for (dir = strtok_r(copy, ":", &save); dir && err;
	     dir = strtok_r(NULL, ":", &save))
		if (*dir == '/' &&
		    (size_t)snprintf(path, len, "%s/%s", dir, name) < len &&
		    access(path, X_OK) == 0)
			err = 0;
	free(copy);
	return err;
}

int cli_run(const char *const argv[])
{
	char path[PATH_MAX], out[4096];
	struct spawn_cmd cmd = { .path = path, .argv = (char *const *)argv,
				 .out = out, .out_cap = sizeof(out),
				 .out_skip = 1 << 20 };
	struct spawn_result res;
	int err;

	if (cli_which(argv[0], path, sizeof(path))) {
		cli_err("cannot run %s: not found in PATH", argv[0]);
		return -EIO;
	}
	err = spawn_run(&cmd, &res);
	if (err) {
		cli_err("cannot run %s: %s", path, strerror(-err));
		return err;
	}
	fwrite(out, 1, res.out_len, stdout);
	return res.status_known && WIFEXITED(res.status) &&
	       WEXITSTATUS(res.status) == 0 ? 0 : -EIO;
}

int cli_mounted(const char *path, char *type, size_t typelen)
{
	char real[PATH_MAX];

	if (!realpath(path, real))
		return 0;
	return mountinfo_find(real, 0, type, typelen, NULL, NULL) > 0;
}

void cli_json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t n;

	fputc('"', f);
	while (*p) {
		if (*p == '"' || *p == '\\') {
			fprintf(f, "\\%c", *p++);
		} else if (*p < 0x20) {
			fprintf(f, "\\u%04x", *p++);
		} else if (*p < 0x80) {
			fputc(*p++, f);
		} else if ((n = utf8_char(p, &cp))) {
			fwrite(p, 1, n, f);
			p += n;
		} else {
			/* JSON is UTF-8: a stray byte becomes U+FFFD (as Go does). */
			fputs("\\ufffd", f);
			p++;
		}
	}
	fputc('"', f);
}

void cli_progress(const char *what, uint64_t done, uint64_t total)
{
	static int last = -1;
	int pct = total ? (int)(done * 100 / total) : 100, i;

	if (cli_quiet || pct == last)
		return;
	/* Not a terminal (a log, a pipe): a plain line every tenth. */
	if (!isatty(2)) {
		if (pct / 10 != last / 10 || done >= total)
			fprintf(stderr, "%s: %d%%\n", what, pct);
		last = done >= total ? -1 : pct;
		return;
	}
	last = pct;
	fprintf(stderr, "\r%s [", what);
	for (i = 0; i < 40; i++)
		fputc(i < pct * 40 / 100 ? '#' : ' ', stderr);
	fprintf(stderr, "] %3d%%", pct);
	if (done >= total) {
		fputc('\n', stderr);
		last = -1;
	}
}

int cli_open_volume(const char *dir, const char *why, int *dirfd)
{
	int ret;

	*dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*dirfd < 0) {
		cli_err("%s: %s", dir, strerror(errno));
		return EXIT_VOLUME;
	}
	ret = cli_lock(*dirfd);
	if (ret) {
		cli_err("%s: cannot lock the volume: %s", dir, strerror(-ret));
		ret = EXIT_FAIL;
	} else {
		ret = cli_refuse_served(dir, *dirfd, why);
	}
	if (ret) {
		close(*dirfd);
		*dirfd = -1;
	}
	return ret;
}

int cli_add_id(const char *s, uint32_t *ids, unsigned int *n)
{
	uint64_t v;

	if (*n >= VOL_MAX_IDS || dec_parse_u64(s, 0, VOL_ID_MAX, &v))
		return -EINVAL;
	ids[(*n)++] = (uint32_t)v;
	return 0;
}

int cli_policy_opt(struct vol_options *opt, int c, const char *arg)
{
	switch (c) {
	case CLI_OPT_AUDIT_FILE:
		/* Cut short, a path would still pass as another, valid one. */
		if (strlen(arg) >= sizeof(opt->audit_file)) {
			cli_err("--audit-file: bad option value: a path of at "
				"most %d characters", VOL_PATH_MAX);
			return -1;
		}
		strcpy(opt->audit_file, arg);
		return 1;
	case CLI_OPT_AUDIT_SYSLOG:
		opt->audit_syslog = true;
		return 1;
	case CLI_OPT_ALLOW_UID:
	case CLI_OPT_ALLOW_GID:
		if (c == CLI_OPT_ALLOW_UID ?
		    cli_add_id(arg, opt->allow_uids, &opt->nuids) :
		    cli_add_id(arg, opt->allow_gids, &opt->ngids)) {
			cli_err("--allow-%cid %s: bad option value: want a "
				"number from 0 to %u, at most %d of them",
				c == CLI_OPT_ALLOW_UID ? 'u' : 'g', arg,
				VOL_ID_MAX, VOL_MAX_IDS);
			return -1;
		}
		return 1;
	}
	return 0;
}

static int keysrc_settings(void *ctx, const char *provider, const char *uuid,
			   int create, struct keyprov_kvlist *kv, char *msg,
			   size_t msglen)
{
	return cli_keyopts_settings(ctx, provider, uuid, create, kv, msg,
				    msglen);
}

void cli_keysrc(struct cli_keyopts *o, struct volkey_src *src)
{
	src->host = &o->host;
	src->settings = keysrc_settings;
	src->ctx = o;
	src->provider = o->provider;
	src->slot = o->slot;
	src->audit_warn_only = o->audit_warn_only;
	src->inactive_ok = o->inactive_ok;
}

int cli_unlock(int dirfd, const char *dir, struct cli_keyopts *o,
	       struct vol_config *cfg, struct kek **kek, unsigned int *slot)
{
	char msg[VOLKEY_MSG_MAX] = "";
	struct volkey_src src;
	int err;

	cli_keysrc(o, &src);
	/* One inside the volume is refused after the unlock, with a message. */
	src.pending = !cli_state_check(dir, o->state_dir, msg, sizeof(msg));
	src.state_base = o->state_dir;
	msg[0] = '\0';
	cli_keyopts_volume(o, dir);
	err = volkey_unlock(dirfd, &src, cfg, kek, slot, msg, sizeof(msg));
	switch (err) {
	case 0:
		if (*msg)
			cli_warn(msg);
		return 0;
	case -VOLKEY_EAUDIT:
		cli_err("%s", msg);
		return EXIT_FAIL;
	case -ENOENT:
		cli_err("%s is not an atrestfs volume (%s)", dir, msg);
		return EXIT_VOLUME;
	case -EINVAL:
	case -EPROTONOSUPPORT:
		cli_err("%s/%s: %s", dir, VOL_CONF_NAME, msg);
		return EXIT_VOLUME;
	case -EBADMSG:
		cli_err("%s", msg);
		return EXIT_VOLUME;
	default:
		cli_err("%s", *msg ? msg : strerror(-err));
		return EXIT_KEY;
	}
}

int cli_open_locked(const char *dir, struct cli_keyopts *o, int *dirfd,
		    struct vol_config *cfg, struct kek **kek, unsigned int *slot)
{
	int ret;

	*dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*dirfd < 0) {
		cli_err("%s: %s", dir, strerror(errno));
		return EXIT_VOLUME;
	}
	/* Every caller stores: no other command may store in between. */
	ret = cli_lock(*dirfd);
	if (ret) {
		cli_err("%s: cannot lock the volume: %s", dir, strerror(-ret));
		close(*dirfd);
		return EXIT_FAIL;
	}
	ret = cli_unlock(*dirfd, dir, o, cfg, kek, slot);
	if (ret)
		close(*dirfd);
	return ret;
}

int cli_load_unverified(const char *dir, struct vol_config *cfg)
{
	char msg[KEYPROV_MSG_MAX] = "";
	int dirfd, err;

	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		cli_err("%s: %s", dir, strerror(errno));
		return EXIT_VOLUME;
	}
	err = volconf_load(dirfd, cfg, msg, sizeof(msg));
	close(dirfd);
	if (err) {
		cli_err("%s: %s", dir, msg);
		return EXIT_VOLUME;
	}
	return 0;
}

int cli_show_args(int argc, char **argv, const struct option *opts,
		  void (*usage)(FILE *), const char *cmd, const char *operand,
		  int *json)
{
	int c;

	*json = 0;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		if (c == 'j') {
			*json = 1;
			continue;
		}
		usage(c == 'h' ? stdout : stderr);
		return c == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	/* A missing argument is one line, not the whole page. */
	if (optind != argc - 1) {
		if (optind < argc)
			cli_err("%s: too many arguments (see atrestfs %s "
				"--help)", cmd, cmd);
		else
			cli_err("%s: %s is missing (see atrestfs %s --help)",
				cmd, operand, cmd);
		return EXIT_USAGE;
	}
	return -1;
}

int cli_lock(int dirfd)
{
	int err = volconf_lock(dirfd, false);

	if (err == -EWOULDBLOCK) {
		fprintf(stderr, "atrestfs: waiting for another atrestfs command "
			"on this volume to finish\n");
		err = volconf_lock(dirfd, true);
	}
	return err;
}

static int mkdir_p(char *path, mode_t mode)
{
	char *p;

	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, mode) && errno != EEXIST) {
			*p = '/';
			return -errno;
		}
		*p = '/';
	}
	if (mkdir(path, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

int cli_default_keyfile(const char *uuid, char *buf, size_t len, int mkdirs,
			char *msg, size_t msglen)
{
	const char *env = getenv("ATRESTFS_KEY_DIR");
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	struct passwd *pw;
	char dir[4096];
	int err;

	if (env && *env)
		snprintf(dir, sizeof(dir), "%s", env);
	else if (geteuid() == 0)
		snprintf(dir, sizeof(dir), "/etc/atrestfs/keys");
	else if (xdg && *xdg)
		snprintf(dir, sizeof(dir), "%s/atrestfs/keys", xdg);
	else if (home && *home)
		snprintf(dir, sizeof(dir), "%s/.config/atrestfs/keys", home);
	else {
		/* Name the file HOME would give: the user may just set it. */
		pw = getpwuid(geteuid());
		if (pw && pw->pw_dir && pw->pw_dir[0] == '/')
			return msg_fail(msg, msglen, -ENOKEY, "no --keyfile "
					"given, and no default key directory: "
					"HOME, XDG_CONFIG_HOME and "
					"ATRESTFS_KEY_DIR are all unset (with "
					"HOME=%s the key file would be "
					"%s/.config/atrestfs/keys/%s.key); give "
					"--keyfile PATH or set one of them",
					pw->pw_dir, strcmp(pw->pw_dir, "/") ?
					pw->pw_dir : "", uuid);
		return msg_fail(msg, msglen, -ENOKEY, "no --keyfile given, and "
				"no default key directory: HOME, "
				"XDG_CONFIG_HOME and ATRESTFS_KEY_DIR are all "
				"unset; give --keyfile PATH or set one of them");
	}
	if (mkdirs) {
		err = mkdir_p(dir, 0700);
		if (err)
			return msg_fail(msg, msglen, -ENOKEY, "cannot make the "
					"default key directory %s: %s; give "
					"--keyfile PATH or set ATRESTFS_KEY_DIR",
					dir, strerror(-err));
	}
	if ((size_t)snprintf(buf, len, "%s/%s.key", dir, uuid) >= len)
		return msg_fail(msg, msglen, -ENOKEY, "the default key file "
				"%s/%s.key is a path too long; give --keyfile "
				"PATH", dir, uuid);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: atrestfs COMMAND [OPTIONS] ARGS...\n"
"Encrypted directory at rest: every file is sealed with AES-256-GCM under\n"
"its own key before it reaches the backing directory.\n"
"\n"
"Commands:\n"
"  init CIPHERDIR               make CIPHERDIR a new, empty volume\n"
"  mount CIPHERDIR MOUNTPOINT   show the plaintext view of CIPHERDIR\n"
"  unmount MOUNTPOINT           take it away again\n"
"  lock MOUNTPOINT|CIPHERDIR    wipe the mount's keys; access is refused\n"
"  unlock MOUNTPOINT|CIPHERDIR  give a locked mount its keys back\n"
"  keyslot list|add|remove|...  manage the wrapped copies of the volume key\n"
"  passwd CIPHERDIR             change a passphrase keyslot's passphrase\n"
"  config CIPHERDIR             show or change the audit log and access policy\n"
"  status CIPHERDIR|MOUNTPOINT  the volume's settings, mounts and last errors\n"
"  trust CIPHERDIR              accept its atrestfs.conf as the newest seen here\n"
"  fsck CIPHERDIR               check every file of the volume\n"
"  path CIPHERDIR PATH          the backing path of a path in the mount\n"
"  header backup|restore        save every file's header, put them back\n"
"  rotate-kek CIPHERDIR|MNT     a new volume key; every file's key rewrapped\n"
"  rotate-root CIPHERDIR        move a keyslot to a new root key or provider\n"
"  destroy CIPHERDIR            crypto-shred the volume: its keys, for good\n"
"  rekey CIPHERDIR PATH...     new data keys for files, data re-encrypted\n"
"  convert --bound CIPHERDIR    bind an older volume's links and xattr values\n"
"  audit verify FILE            check an audit log's hash chain\n"
"  swap on|off|status           swap to a file on a mount (root)\n"
"\n"
"Options:\n"
"  -h, --help                   this text; COMMAND --help for a command's\n"
"  -V, --version                print the version\n"
"\n"
"See atrestfs(8).\n");
}

int main(int argc, char **argv)
{
	char *name = basename(argv[0]);
	const char *cmd;

	/* Keys live in this process: never in a core file, never ptrace-able. */
	prctl(PR_SET_DUMPABLE, 0);
	if (!strncmp(name, "mount.", 6))
		return cmd_mount_helper(argc, argv);
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
		printf("atrestfs %s (format %d)\n", ATR_VERSION, VOL_FORMAT_VERSION);
		return EXIT_OK;
	}
	if (!strcmp(cmd, "init"))
		return cmd_init(argc - 1, argv + 1);
	if (!strcmp(cmd, "mount"))
		return cmd_mount(argc - 1, argv + 1);
	if (!strcmp(cmd, "unmount") || !strcmp(cmd, "umount"))
		return cmd_unmount(argc - 1, argv + 1);
	if (!strcmp(cmd, "lock"))
		return cmd_lock(argc - 1, argv + 1);
	if (!strcmp(cmd, "unlock"))
		return cmd_unlock(argc - 1, argv + 1);
	if (!strcmp(cmd, "keyslot"))
		return cmd_keyslot(argc - 1, argv + 1);
	if (!strcmp(cmd, "passwd"))
		return cmd_passwd(argc - 1, argv + 1);
	if (!strcmp(cmd, "config"))
		return cmd_config(argc - 1, argv + 1);
	if (!strcmp(cmd, "trust"))
		return cmd_trust(argc - 1, argv + 1);
	if (!strcmp(cmd, "fsck"))
		return cmd_fsck(argc - 1, argv + 1);
	if (!strcmp(cmd, "path"))
		return cmd_path(argc - 1, argv + 1);
	if (!strcmp(cmd, "header"))
		return cmd_header(argc - 1, argv + 1);
	if (!strcmp(cmd, "rotate-kek"))
		return cmd_rotate_kek(argc - 1, argv + 1);
	if (!strcmp(cmd, "rotate-root"))
		return cmd_rotate_root(argc - 1, argv + 1);
	if (!strcmp(cmd, "destroy"))
		return cmd_destroy(argc - 1, argv + 1);
	if (!strcmp(cmd, "convert"))
		return cmd_convert(argc - 1, argv + 1);
	if (!strcmp(cmd, "rekey"))
		return cmd_rekey(argc - 1, argv + 1);
	if (!strcmp(cmd, "status"))
		return cmd_status(argc - 1, argv + 1);
	if (!strcmp(cmd, "audit"))
		return cmd_audit(argc - 1, argv + 1);
	if (!strcmp(cmd, "swap"))
		return cmd_swap(argc - 1, argv + 1);
	cli_err("unknown command '%s' (try: atrestfs --help)", cmd);
	return EXIT_USAGE;
}
