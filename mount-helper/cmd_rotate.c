// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mount-helper/cmd_rotate.c - "atrestfs rotate-kek" and "atrestfs
 * rotate-root": replace the volume key (KEK) of an unmounted volume, or
 * the root key a keyslot wraps it with.  The work is volume/rotate.c's;
 * here are the command line, the checks a user can get wrong (a mounted
 * volume) and what is said on the terminal.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../crypto/codec.h"
#include "../crypto/secmem.h"
#include "../fs/audit.h"
#include "cli.h"

/* The daemon's requests (fs/ctl.c). */
#define CTL_ROTATE	"rotate-kek\n"
#define CTL_DESTROY	"destroy-old\n"

struct rot_args {
	struct cli_keyopts unlock;	/* how to open an existing keyslot */
	struct cli_keyopts add;		/* rotate-root: the new root key */
	const char *new_provider;
	const char *dir;
	const char *state_dir;		/* --state-dir; NULL: the default */
	char real[PATH_MAX];		/* dir's realpath, for mountinfo */
	/* rotate-kek MOUNTPOINT: the mount point; dir is then its volume */
	char mnt[PATH_MAX];
	char source[PATH_MAX];		/* the volume, when mnt is set */
};

static void usage(FILE *f, bool root)
{
	if (root)
		fprintf(f,
"Usage: atrestfs rotate-root [OPTIONS] --new-provider NAME CIPHERDIR\n"
"Rewrap the volume key of one keyslot (the one that unlocks, or --slot N)\n"
"under a new root key: a new key file, a new version of a KMS key, or\n"
"another provider.  One atomic change of atrestfs.conf, whatever the size\n"
"of the volume.  Old copies of atrestfs.conf still open with the old root\n"
"key: run rotate-kek as well to revoke it.\n");
	else
		fprintf(f,
"Usage: atrestfs rotate-kek [OPTIONS] CIPHERDIR|MOUNTPOINT\n"
"Give a volume a new random volume key (KEK): every keyslot and every\n"
"file's header is rewrapped under it, xattr values and symlink targets\n"
"are re-sealed, and the old key is destroyed.  No file data is read or\n"
"written.  An unmounted volume by its CIPHERDIR; a mounted one by its\n"
"MOUNTPOINT, through the daemon, while it stays in use.  Interrupted, it\n"
"leaves a volume that mounts; run it again to finish.  Afterwards an old\n"
"copy of atrestfs.conf opens nothing rewrapped since.  Every keyslot is\n"
"rewrapped, so the options must reach every keyslot's key.\n");
	fprintf(f,
"\n"
"Unlocking (as for atrestfs mount):\n"
"  -k, --keyfile PATH, -P, --provider NAME, -S, --slot N,\n"
"  -O, --provider-option KEY=VALUE, --passfile FILE, --extpass CMD,\n"
"  --state-dir DIR (where this machine remembers the newest config)\n");
	if (root)
		fprintf(f,
"The new root key:\n"
"  -n, --new-provider NAME          its key provider\n"
"  -N, --new-option KEY=VALUE       a setting for it (repeatable)\n"
"      --new-keyfile PATH           keyfile: the key file (made if absent)\n"
"      --new-passfile FILE          passphrase from FILE\n"
"      --new-extpass CMD            passphrase from CMD's standard output\n");
	fprintf(f,
"  -q, --quiet                      print nothing on success\n"
"  -h, --help                       this text\n");
}

static int parse(struct rot_args *a, bool root, int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_UNLOCK_OPTIONS,
		CLI_NEWKEY_OPTIONS,
		{ "state-dir", required_argument, NULL, CLI_OPT_STATE_DIR },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, is_new;

	while ((c = getopt_long(argc, argv, CLI_UNLOCK_SHORT CLI_NEWKEY_SHORT
				"qh", opts, NULL)) != -1) {
		switch (cli_unlock_opt(&a->unlock, c, optarg)) {
		case 1:
			continue;
		case -1:
			return EXIT_USAGE;
		}
		is_new = cli_newkey_opt(&a->add, &a->new_provider, c, optarg);
		if (is_new && !root) {
			cli_err("rotate-kek takes no new key: its keyslots keep "
				"their root keys (see rotate-root)");
			return EXIT_USAGE;
		}
		if (is_new == 1)
			continue;
		if (is_new == -1)
			return EXIT_USAGE;
		switch (c) {
		case CLI_OPT_STATE_DIR:
			if (cli_state_dir_opt(&a->state_dir, optarg))
				return EXIT_USAGE;
			break;
		case 'q':
			cli_quiet = 1;
			break;
		case 'h':
			usage(stdout, root);
			return -1;
		default:
			usage(stderr, root);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		usage(stderr, root);
		return EXIT_USAGE;
	}
	a->dir = argv[optind];
	if (root && (!a->new_provider ||
		     !keyprov_name_valid(a->new_provider))) {
		cli_err("rotate-root needs --new-provider NAME, a valid key "
			"provider name");
		return EXIT_USAGE;
	}
	return 0;
}

/*
 * The files are rewritten behind the daemon's back if the volume is
 * mounted: refuse, naming the mount, before any key is asked for.
 */
static int check_unmounted(struct rot_args *a)
{
	const char *dir = a->dir, *real = a->real;
	char mp[PATH_MAX], type[64];

	if (!realpath(dir, a->real)) {
		cli_err("%s: %s", dir, strerror(errno));
		return EXIT_VOLUME;
	}
	/* A mount point: the rotation is the daemon's (online). */
	if (!a->mnt[0] && cli_mounted(real, type, sizeof(type)) == 1 &&
	    !strcmp(type, "fuse.atrestfs") &&
	    mountinfo_source_at(real, a->source, sizeof(a->source)) == 1) {
		snprintf(a->mnt, sizeof(a->mnt), "%s", real);
		a->dir = a->source;
		return 0;
	}
	if (a->mnt[0])
		return 0;
	if (mountinfo_source(real, "fuse.atrestfs", mp, sizeof(mp)) == 1) {
		cli_err("%s is mounted at %s: give the mount point to rotate "
			"its key through the daemon (atrestfs rotate-kek %s), "
			"or unmount it first", dir, mp, mp);
		return EXIT_MOUNT;
	}
	return 0;
}

/* Open, lock and unlock the volume, refusing an older config. */
static int open_volume(struct rot_args *a, int *dirfd, struct vol_config *cfg,
		       struct kek **kek, unsigned int *slot)
{
	int ret;

	a->unlock.state_dir = a->state_dir;
	ret = cli_open_locked(a->dir, &a->unlock, dirfd, cfg, kek, slot);
	if (ret)
		return ret;
	/* A change made to an older config would bury the newer one. */
	ret = cli_rollback_check(a->dir, a->state_dir, cfg, *kek,
				 CLI_RB_NOTICE);
	if (ret) {
		kek_free(*kek);
		*kek = NULL;
		close(*dirfd);
	}
	return ret;
}

/*
 * The mount check again now and then: mount waits for our lock only while
 * it unlocks, so one that got past it just before we took it could come
 * up while we walk.
 */
static int on_progress(void *ctx, uint64_t done, uint64_t total)
{
	const struct rot_args *a = ctx;
	char mp[PATH_MAX];

	cli_progress("rewrapping", done, total);
	if (done % 256 == 0 && mountinfo_source(a->real, "fuse.atrestfs", mp, sizeof(mp)) == 1) {
		cli_err("%s was mounted at %s during the rotation", a->dir, mp);
		return -EBUSY;
	}
	return 0;
}

static void on_warn(void *ctx, const char *path, const char *what)
{
	(void)ctx;
	fprintf(stderr, "atrestfs: warning: %s: %s; left as it is (neither "
		"volume key opens it)\n", path, what);
}

/*
 * This machine's record of the files, under the new key before the old
 * one goes (the config's record was rewritten at unlock: confgen.c).
 */
static int rekey_state(const struct rot_args *a, const struct vol_config *cfg,
		       const struct kek *kek)
{
	char msg[KEYPROV_MSG_MAX] = "";
	struct state_dir sd;
	int err;

	/* No state directory: cli_rollback_check() has warned. */
	if (cli_state_open(a->dir, a->state_dir, cfg->uuid, &sd, msg,
			   sizeof(msg)))
		return 0;
	err = atr_files_rekey(sd.fd, sd.path, kek, cfg->uuid, msg,
			      sizeof(msg));
	state_close(&sd);
	if (err)
		cli_err("%s: %s", a->dir, *msg ? msg : strerror(-err));
	return err;
}

/* ---- online: the daemon's control socket (fs/ctl.c) ---- */

static int ctl_connect(const struct rot_args *a, const struct vol_config *cfg)
{
	return cli_ctl_connect(a->dir, a->state_dir, cfg->uuid, a->mnt, true);
}

/* @req to the daemon; its answer's last line into @line: 0 if "ok". */
static int ctl_ask(const struct rot_args *a, const struct vol_config *cfg,
		   const void *req, size_t len, struct rotate_stats *st)
{
	unsigned long long v[4], done, total;
	char line[1100], pre[PATH_MAX + 32];
	FILE *f;
	int fd, r;

	fd = ctl_connect(a, cfg);
	if (fd < 0)
		return -1;
	if (send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len ||
	    !(f = fdopen(fd, "r"))) {
		cli_err("cannot talk to the daemon serving %s: %s", a->mnt,
			strerror(errno));
		close(fd);
		return -1;
	}
	while ((r = cli_ctl_line(f, line, sizeof(line))) >= 0) {
		if (!r && sscanf(line, "progress %llu %llu", &done,
				 &total) == 2) {
			cli_progress("rewrapping", done, total);
			continue;
		}
		if (!strncmp(line, "warn ", 5)) {
			/* A file name as the daemon saw it, shown safely. */
			cli_ctl_text(line + 5);
			fputs("atrestfs: warning: ", stderr);
			cli_fputs_vis(stderr, line + 5, false);
			fputs("; left as it is (neither volume key opens it)\n",
			      stderr);
			continue;
		}
		fclose(f);
		/* Exactly "ok", with the walk's four counts if it was one. */
		if (!r && cli_ctl_ok(line, v, st ? 4 : 0)) {
			if (st) {
				st->headers = v[0];
				st->values = v[1];
				st->links = v[2];
				st->damaged = v[3];
			}
			return 0;
		}
		cli_ctl_text(line);
		snprintf(pre, sizeof(pre), "the daemon serving %s: ", a->mnt);
		cli_err_line(pre, strncmp(line, "error ", 6) ? line : line + 6);
		return -1;
	}
	fclose(f);
	cli_err("the daemon serving %s hung up (unmounted?)", a->mnt);
	return -1;
}

/* Step 2 by the daemon, which also rekeys its record of files. */
static int online_walk(const struct rot_args *a, const struct vol_config *cfg,
		       const struct kek *kek, struct rotate_stats *st)
{
	uint8_t *req = secmem_alloc(sizeof(CTL_ROTATE) - 1 + KEK_LEN +
				    KEK_ID_LEN);
	size_t n = sizeof(CTL_ROTATE) - 1;
	int err;

	if (!req)
		return -1;
	memcpy(req, CTL_ROTATE, n);
	memcpy(req + n, kek->key, KEK_LEN);
	memcpy(req + n + KEK_LEN, kek->id, KEK_ID_LEN);
	memset(st, 0, sizeof(*st));
	err = ctl_ask(a, cfg, req, n + KEK_LEN + KEK_ID_LEN, st);
	secmem_free(req, n + KEK_LEN + KEK_ID_LEN);
	return err;
}

static int rotate_kek(struct rot_args *a)
{
	char msg[KEYPROV_MSG_MAX] = "", old[2 * KEK_ID_LEN + 1];
	char new[2 * KEK_ID_LEN + 1];
	struct rotate_cb cb = { .progress = on_progress, .warn = on_warn,
				.ctx = a };
	struct audit *audit;
	struct volkey_src src;
	struct rotate_stats st;
	struct vol_config cfg;
	struct kek *kek = NULL;
	unsigned int slot;
	int dirfd, ret, err;

	ret = check_unmounted(a);
	if (!ret)
		ret = open_volume(a, &dirfd, &cfg, &kek, &slot);
	if (ret)
		return ret;
	/* Again under the lock, which a mount takes while it unlocks. */
	ret = check_unmounted(a);
	if (ret)
		goto out;
	/* Online: the daemon must be there before anything changes. */
	if (a->mnt[0]) {
		int fd = ctl_connect(a, &cfg);
		char reply[512];

		if (fd < 0) {
			ret = EXIT_MOUNT;
			goto out;
		}
		/* A locked mount has no KEK to rotate from (fs/ctl.c). */
		err = cli_ctl_call(fd, "status\n", 7, reply, sizeof(reply));
		close(fd);
		if (!err && !strcmp(reply, "locked")) {
			cli_err("%s is locked: unlock it first (atrestfs unlock "
				"%s), then run rotate-kek again", a->mnt, a->mnt);
			ret = EXIT_MOUNT;
			goto out;
		}
	}
	if (cfg.retiring.present) {
		hex_encode(cfg.retiring.kek_id, KEK_ID_LEN, old);
		cli_say("Resuming the rotation of the volume key of %s\n",
			a->dir);
	} else {
		hex_encode(cfg.kek_id, KEK_ID_LEN, old);
		cli_keysrc(&a->unlock, &src);
		err = rotate_begin(dirfd, &src, &cfg, &kek, msg, sizeof(msg));
		if (err) {
			cli_err("%s: %s", a->dir, *msg ? msg : strerror(-err));
			ret = err == -ENOKEY || err == -EKEYREJECTED ||
			      err == -ENOANO ? EXIT_KEY : EXIT_FAIL;
			goto out;
		}
		if (*msg)
			cli_warn(msg);
		cli_rollback_record(a->dir, a->state_dir, &cfg, kek);
	}
	hex_encode(cfg.kek_id, KEK_ID_LEN, new);
	msg[0] = '\0';
	if (a->mnt[0]) {
		err = online_walk(a, &cfg, kek, &st) ? -EIO : 0;
	} else {
		err = audit_open(&cfg.opt, cfg.uuid, &audit, msg, sizeof(msg));
		if (!err) {
			audit_set_kek(audit, kek->id, "");
			err = rotate_walk(dirfd, a->dir, kek, audit, &cb, &st,
					  msg, sizeof(msg));
			audit_close(audit);
		}
		if (!err)
			err = rekey_state(a, &cfg, kek);
		else
			cli_err("%s", *msg ? msg : strerror(-err));
	}
	if (err) {
		cli_err("the rotation of %s is left under way: it mounts with "
			"either key; fix the above and run rotate-kek again",
			a->dir);
		ret = EXIT_FAIL;
		goto out;
	}
	msg[0] = '\0';
	err = rotate_finish(dirfd, &cfg, kek, msg, sizeof(msg));
	if (err) {
		cli_err("%s: %s; run rotate-kek again", a->dir,
			*msg ? msg : strerror(-err));
		ret = EXIT_FAIL;
		goto out;
	}
	if (*msg)
		cli_warn(msg);
	cli_rollback_record(a->dir, a->state_dir, &cfg, kek);
	/* The config no longer holds the old KEK: the daemon wipes its copy. */
	if (a->mnt[0] && ctl_ask(a, &cfg, CTL_DESTROY, sizeof(CTL_DESTROY) - 1,
				 NULL))
		cli_err("the old volume key stays in the memory of the daemon "
			"serving %s until it is unmounted", a->mnt);
	cli_say("Rotated the volume key of %s: %llu header%s rewrapped, "
		"%llu xattr value%s and %llu symbolic link%s re-sealed; "
		"volume key %s destroyed, %s in use\n", a->dir,
		(unsigned long long)st.headers, st.headers == 1 ? "" : "s",
		(unsigned long long)st.values, st.values == 1 ? "" : "s",
		(unsigned long long)st.links, st.links == 1 ? "" : "s", old,
		new);
	if (st.damaged)
		fprintf(stderr, "atrestfs: warning: %llu item%s that neither "
			"volume key opens were left as they were (listed "
			"above)\n", (unsigned long long)st.damaged,
			st.damaged == 1 ? "" : "s");
out:
	kek_free(kek);
	close(dirfd);
	return ret;
}

static int rotate_root_run(struct rot_args *a)
{
	char msg[KEYPROV_MSG_MAX] = "";
	struct vol_keyslot was;
	struct volkey_src src;
	struct vol_config cfg;
	struct kek *kek = NULL;
	unsigned int slot;
	int dirfd, ret, err;

	ret = open_volume(a, &dirfd, &cfg, &kek, &slot);
	if (ret)
		return ret;
	cli_keysrc(&a->add, &src);
	cli_keyopts_volume(&a->add, a->dir);
	err = rotate_root(dirfd, &src, a->new_provider, &cfg, kek, slot, &was,
			  msg, sizeof(msg));
	if (err) {
		cli_err("%s: %s", a->dir, *msg ? msg : strerror(-err));
		ret = err == -EEXIST ? EXIT_USAGE : err == -ENOMEM ||
		      err == -EIO || err == -ENOSPC ? EXIT_FAIL : EXIT_KEY;
		goto out;
	}
	if (*msg)
		cli_warn(msg);
	cli_rollback_record(a->dir, a->state_dir, &cfg, kek);
	cli_say("Keyslot %u of %s now uses key %s version %u (%s) instead of "
		"%s version %u (%s).  Old copies of %s still open with the "
		"old key: run atrestfs rotate-kek to revoke it\n", slot, a->dir,
		cfg.slots[slot].key_id, cfg.slots[slot].key_version,
		cfg.slots[slot].provider, was.key_id, was.key_version,
		was.provider, VOL_CONF_NAME);
out:
	kek_free(kek);
	close(dirfd);
	return ret;
}

static int rot_main(bool root, int argc, char **argv)
{
	struct rot_args a;
	int ret;

	memset(&a, 0, sizeof(a));
	cli_keyopts_init(&a.unlock);
	cli_keyopts_init(&a.add);
	ret = parse(&a, root, argc, argv);
	if (ret < 0)
		ret = EXIT_OK;
	else if (!ret)
		ret = root ? rotate_root_run(&a) : rotate_kek(&a);
	cli_keyopts_free(&a.unlock);
	cli_keyopts_free(&a.add);
	return ret;
}

int cmd_rotate_kek(int argc, char **argv)
{
	return rot_main(false, argc, argv);
}

int cmd_rotate_root(int argc, char **argv)
{
	return rot_main(true, argc, argv);
}
