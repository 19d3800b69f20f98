// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mount-helper/cmd_rekey.c - "atrestfs rekey": a new data key for files
 * whose key may have leaked, and their data re-encrypted under it
 * (volume/rekey.c): here on a volume that is not mounted, or by the
 * daemon of a mounted one, asked through its control socket (fs/ctl.c,
 * fs/rekeyd.c), which needs no key from us.  Owns the list of files, the
 * progress shown and this machine's record of files for the run; the KEK
 * lives from the unlock to the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../volume/fsck.h"
#include "../volume/rekey.h"
#include "cli.h"

struct rekey_args {
	struct cli_keyopts unlock;	/* how to open a keyslot */
	const char *dir, *state_dir;
	bool all;			/* --all: every regular file */
	char **paths;			/* the command line's, or the walk's */
	size_t npaths, cap;
	bool own_paths;			/* paths[] strings are malloc()ed */
	uint64_t total, done;		/* backing bytes, for the bar */
	uint64_t linked;		/* --all: files with hard links left */
	int walk_err;
	struct fstate *files;		/* this machine's record; may be NULL */
	char mnt[PATH_MAX];		/* online: the mount point, "" if not */
	char source[PATH_MAX];		/* online: its volume */
};

/*
 * With encrypted names, each PATH (a path in the mount) to its backing
 * path, in new strings the arguments then own: 0 or an exit code.
 */
static int backing_paths(struct rekey_args *a, const struct vol_config *cfg,
			 const struct kek *kek, int dirfd)
{
	char out[PATH_MAX], side[NAME_MAX + 1], *copy, **mapped;
	size_t i, j;
	int ret = EXIT_OK;

	mapped = calloc(a->npaths, sizeof(*mapped));
	if (!mapped)
		return EXIT_FAIL;
	for (i = 0; i < a->npaths && !ret; i++) {
		copy = strdup(a->paths[i]);
		ret = copy ? cli_names_path(a->dir, cfg, kek, dirfd, copy,
					    false, out, side) : EXIT_FAIL;
		free(copy);
		if (!ret && !(mapped[i] = strdup(out)))
			ret = EXIT_FAIL;
	}
	if (ret) {
		for (j = 0; j < a->npaths; j++)
			free(mapped[j]);
		free(mapped);
		return ret;
	}
	/* The command line's strings are not ours to free: replaced whole. */
	memcpy(a->paths, mapped, a->npaths * sizeof(*mapped));
	free(mapped);
	a->own_paths = true;
	return EXIT_OK;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: atrestfs rekey [OPTIONS] CIPHERDIR|MOUNTPOINT PATH...\n"
"       atrestfs rekey [OPTIONS] CIPHERDIR|MOUNTPOINT --all\n"
"Give each file PATH (relative to the volume's root, as seen in the mount;\n"
"symbolic links are not followed) a new data key and file ID, and\n"
"re-encrypt its data under them, for a key that may have leaked.  Each file\n"
"is replaced in one rename: a crash leaves the old file or the new one,\n"
"and running the command again finishes the job (--all resumes where it\n"
"was cut short).  An unmounted volume by its CIPHERDIR; a mounted one by\n"
"its MOUNTPOINT, through the daemon, while it stays in use (files held\n"
"open keep working; no key option is needed).  Files with hard links are\n"
"refused.\n"
"\n"
"  -a, --all            every regular file of the volume\n"
"  -k, --keyfile PATH, -P, --provider NAME, -S, --slot N,\n"
"  -O, --provider-option KEY=VALUE, --passfile FILE, --extpass CMD\n"
"                       unlock as for atrestfs mount (CIPHERDIR only)\n"
"      --state-dir DIR  this machine's records of the volume\n"
"  -q, --quiet          print nothing on success\n"
"  -h, --help           this text\n");
}

static int add_path(struct rekey_args *a, char *p)
{
	char **n;

	if (a->npaths == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		n = realloc(a->paths, a->cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		a->paths = n;
	}
	a->paths[a->npaths++] = p;
	return 0;
}

/* fsck_walk(): every regular file, and away with a crash's leftovers. */
static int walk_one(void *ctx, int parent, const char *name,
		    const char *path, const struct stat *st, int err)
{
	struct rekey_args *a = ctx;
	char *p;

	if (err) {
		cli_err("%s/%s: cannot be read: %s; it is not rekeyed", a->dir,
			path, strerror(-err));
		a->walk_err = EXIT_FAIL;
		return 0;
	}
	if (rekey_leftover(parent, name, &err)) {
		if (err)
			cli_err("%s/%s: cannot remove this leftover of an "
				"interrupted rekey: %s", a->dir, path,
				strerror(-err));
		return 0;
	}
	if (!S_ISREG(st->st_mode))
		return 0;
	if (st->st_nlink > 1) {
		a->linked++;
		cli_err("%s: has %llu hard links, so it is not rekeyed (a "
			"rename would split them)", path,
			(unsigned long long)st->st_nlink);
		return 0;
	}
	p = strdup(path);
	if (!p || add_path(a, p)) {
		free(p);
		return -ENOMEM;
	}
	a->total += (uint64_t)st->st_size;
	return 0;
}

static uint64_t seen(void *ctx, const uint8_t id[FILE_ID_LEN])
{
	return atr_files_get(((struct rekey_args *)ctx)->files, id);
}

static void record(void *ctx, const uint8_t id[FILE_ID_LEN], uint64_t counter)
{
	atr_files_put(((struct rekey_args *)ctx)->files, id, counter);
}

static void progress(void *ctx, uint64_t done, uint64_t total)
{
	struct rekey_args *a = ctx;

	(void)total;
	cli_progress("Rekeying", a->done + done, a->total);
}

/* Each file in turn; one that fails is said and left, the rest go on. */
static int rekey_all(struct rekey_args *a, struct rekey *r)
{
	char msg[1024];
	struct rekey_info info;
	uint64_t n = 0, skipped = 0, before = 0;
	int ret = a->walk_err, err;
	size_t i;

	for (i = 0; i < a->npaths; i++) {
		err = rekey_file(r, a->paths[i], &info, msg, sizeof(msg));
		a->done += info.bytes;
		if (err) {
			cli_err("%s", msg);
			if (ret != EXIT_DAMAGED)
				ret = err == -EBADMSG ? EXIT_DAMAGED : EXIT_FAIL;
			continue;
		}
		if (*msg)
			cli_err("warning: %s", msg);
		if (info.skipped || info.done_before) {
			skipped += info.skipped;
			before += info.done_before;
			continue;
		}
		n++;
		/* Without a terminal, one plain line per file is the progress. */
		if (!isatty(2))
			cli_say("Rekeyed %s\n", a->paths[i]);
	}
	cli_progress("Rekeying", a->total, a->total);
	cli_say("Rekeyed %llu file%s of %s", (unsigned long long)n,
		n == 1 ? "" : "s", a->dir);
	if (skipped)
		cli_say("; %llu empty without a key, nothing to do",
			(unsigned long long)skipped);
	if (before)
		cli_say("; %llu done before the run was cut short",
			(unsigned long long)before);
	cli_say(".\n");
	if (a->linked && !ret)
		ret = EXIT_FAIL;
	if (ret)
		cli_err("not every file was rekeyed: see above, then run "
			"atrestfs rekey again for those");
	return ret;
}

/* ---- online: the daemon's control socket (fs/ctl.c) ---- */

/*
 * Is a->dir a mount point of atrestfs (a->mnt, a->source set: 0), a
 * volume mounted elsewhere (refused, naming the mount), or neither (0)?
 */
static int where(struct rekey_args *a)
{
	char real[PATH_MAX], mp[PATH_MAX], type[64];

	if (!realpath(a->dir, real)) {
		cli_err("%s: %s", a->dir, strerror(errno));
		return EXIT_VOLUME;
	}
	if (cli_mounted(real, type, sizeof(type)) == 1 &&
	    !strcmp(type, "fuse.atrestfs") &&
	    mountinfo_source_at(real, a->source, sizeof(a->source)) == 1) {
		snprintf(a->mnt, sizeof(a->mnt), "%s", real);
		return 0;
	}
	if (mountinfo_source(real, "fuse.atrestfs", mp, sizeof(mp)) == 1) {
		cli_err("%s is mounted at %s: give the mount point to rekey "
			"its files through the daemon (atrestfs rekey %s ...), "
			"or unmount it first", a->dir, mp, mp);
		return EXIT_MOUNT;
	}
	return 0;
}

/* The daemon's outcome of the counts in @c (rekeyed, empty, before, ...). */
struct online_counts {
	unsigned long long n, empty, before, failed, damaged, resumed;
};

/*
 * @req to the daemon, its progress and warnings shown: 0 if it said "ok"
 * (counts added to @c), else an exit code.
 */
static int ask(struct rekey_args *a, const char *req, struct online_counts *c)
{
	unsigned long long v[6], done, total;
	char line[1100], pre[PATH_MAX + 32];
	int fd, ret, r;
	FILE *f;

	fd = cli_ctl_open(a->source, a->state_dir, true, &ret);
	if (fd < 0)
		return ret;
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req) ||
	    !(f = fdopen(fd, "r"))) {
		cli_err("cannot talk to the daemon serving %s: %s", a->mnt,
			strerror(errno));
		close(fd);
		return EXIT_MOUNT;
	}
	while ((r = cli_ctl_line(f, line, sizeof(line))) >= 0) {
		if (!r && sscanf(line, "progress %llu %llu", &done,
				 &total) == 2) {
			cli_progress("Rekeying", done, total);
			continue;
		}
		if (!strncmp(line, "warn ", 5)) {
			cli_ctl_text(line + 5);
			cli_err_line("", line + 5);
			continue;
		}
		fclose(f);
		/* Exactly the six counts: anything else is no success. */
		if (!r && cli_ctl_ok(line, v, 6)) {
			c->n += v[0];
			c->empty += v[1];
			c->before += v[2];
			c->failed += v[3];
			c->damaged += v[4];
			c->resumed += v[5];
			return 0;
		}
		cli_ctl_text(line);
		snprintf(pre, sizeof(pre), "the daemon serving %s: ", a->mnt);
		cli_err_line(pre, strncmp(line, "error ", 6) ? line : line + 6);
		return EXIT_FAIL;
	}
	fclose(f);
	cli_err("the daemon serving %s hung up (unmounted?)", a->mnt);
	return EXIT_MOUNT;
}

/*
 * One PATH: looked up in the mount (no symbolic link followed) and held
 * open, so the daemon knows it by its inode number while it works.
 */
static int ask_path(struct rekey_args *a, int mntfd, const char *path,
		    struct online_counts *c)
{
	char req[64];
	struct stat st;
	int fd, ret;

	fd = fsck_open(mntfd, path, O_PATH);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		cli_err("%s/%s: %s", a->mnt, path, fd < 0 ? (fd == -ELOOP ?
			"a symbolic link is on the way, which rekey does not "
			"follow" : strerror(-fd)) : "not a regular file; only "
			"regular files have a data key");
		if (fd >= 0)
			close(fd);
		c->failed++;
		return 0;
	}
	snprintf(req, sizeof(req), "rekey %llu\n",
		 (unsigned long long)st.st_ino);
	ret = ask(a, req, c);
	close(fd);
	return ret;
}

static int rekey_online(struct rekey_args *a)
{
	struct online_counts c = { 0 };
	int mntfd, ret = 0;
	size_t i;

	if (a->all) {
		ret = ask(a, "rekey-all\n", &c);
	} else {
		mntfd = open(a->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (mntfd < 0) {
			cli_err("%s: %s", a->mnt, strerror(errno));
			return EXIT_MOUNT;
		}
		for (i = 0; i < a->npaths && !ret; i++)
			ret = ask_path(a, mntfd, a->paths[i], &c);
		close(mntfd);
	}
	if (ret)
		return ret;
	if (c.resumed)
		cli_say("Resumed the rekey --all that was cut short (%llu files "
			"it had rekeyed left as they are)\n", c.resumed);
	cli_say("Rekeyed %llu file%s of %s", c.n, c.n == 1 ? "" : "s",
		a->mnt);
	if (c.empty)
		cli_say("; %llu empty without a key, nothing to do", c.empty);
	if (c.before)
		cli_say("; %llu done before the run was cut short", c.before);
	cli_say(".\n");
	if (!c.failed && !c.damaged)
		return EXIT_OK;
	cli_err("not every file was rekeyed: see above, then run atrestfs "
		"rekey again for those");
	return c.damaged ? EXIT_DAMAGED : EXIT_FAIL;
}

static int rekey(struct rekey_args *a)
{
	char msg[VOLKEY_MSG_MAX] = "";
	struct rekey_cb cb = { .seen = seen, .record = record,
			       .progress = progress, .ctx = a };
	struct state_dir sd = { .fd = -1 };
	struct vol_config cfg;
	struct kek *kek = NULL;
	struct rekey *r = NULL;
	unsigned int used = 0;
	struct stat st;
	size_t i;
	int dirfd, ret, err;

	ret = cli_open_volume(a->dir, "rekey works on a volume that is not "
			      "mounted", &dirfd);
	if (ret)
		return ret;
	a->unlock.state_dir = a->state_dir;
	ret = cli_unlock(dirfd, a->dir, &a->unlock, &cfg, &kek, &used);
	if (!ret)
		ret = cli_rollback_check(a->dir, a->state_dir, &cfg, kek, 0);
	if (!ret && !a->all && cfg.opt.names_encrypted)
		ret = backing_paths(a, &cfg, kek, dirfd);
	if (ret)
		goto out;
	/* Without this machine's record, rollback goes unnoticed: say so. */
	err = cli_state_open(a->dir, a->state_dir, cfg.uuid, &sd, msg,
			     sizeof(msg));
	if (!err)
		err = atr_files_open(sd.fd, sd.path, kek, cfg.uuid, &a->files,
				     msg, sizeof(msg));
	if (err) {
		cli_err("%s", msg);
		ret = err == -EBADMSG ? EXIT_VOLUME : EXIT_FAIL;
		goto out;
	}
	if (a->all) {
		err = fsck_walk(dirfd, walk_one, a);
		if (err) {
			cli_err("%s: cannot list its files: %s", a->dir,
				strerror(-err));
			ret = EXIT_FAIL;
			goto out;
		}
	} else {
		for (i = 0; i < a->npaths; i++) {
			err = fsck_open(dirfd, a->paths[i], O_PATH);
			if (err >= 0 && !fstat(err, &st) && S_ISREG(st.st_mode))
				a->total += (uint64_t)st.st_size;
			if (err >= 0)
				close(err);
		}
	}
	err = rekey_open(dirfd, &cfg, kek, &cfg.slots[used], &cb, &r, msg,
			 sizeof(msg));
	if (err) {
		cli_err("%s", msg);
		ret = EXIT_FAIL;
		goto out;
	}
	if (a->all) {
		uint64_t resumed = 0;

		err = rekey_run_open(r, &sd, &resumed, msg, sizeof(msg));
		if (err) {
			cli_err("%s", msg);
			ret = err == -EBADMSG ? EXIT_VOLUME : EXIT_FAIL;
			goto out;
		}
		if (resumed)
			cli_say("Resuming the rekey --all that was cut short: "
				"the %llu files it rekeyed are left as they "
				"are\n", (unsigned long long)resumed);
	}
	ret = rekey_all(a, r);
	/* Every file was tried: the next --all is a new run. */
	if (a->all && rekey_run_end(r))
		cli_err("warning: cannot remove %s/%s: the next rekey --all "
			"leaves the files this one rekeyed", sd.path,
			REKEY_RUN_NAME);
out:
	rekey_close(r);
	if (atr_files_close(a->files) && !ret)
		cli_err("warning: cannot rewrite %s/%s: its records of the "
			"rekeyed files are kept appended", sd.path,
			ATR_FILES_NAME);
	state_close(&sd);
	kek_free(kek);
	close(dirfd);
	return ret;
}

int cmd_rekey(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_UNLOCK_OPTIONS,
		{ "all", no_argument, NULL, 'a' },
		{ "state-dir", required_argument, NULL, CLI_OPT_STATE_DIR },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rekey_args a;
	int c, ret = -1;
	size_t i;

	memset(&a, 0, sizeof(a));
	cli_keyopts_init(&a.unlock);
	while (ret < 0 &&
	       (c = getopt_long(argc, argv, CLI_UNLOCK_SHORT "aqh", opts,
				NULL)) != -1) {
		switch (cli_unlock_opt(&a.unlock, c, optarg)) {
		case 1:
			continue;
		case -1:
			ret = EXIT_USAGE;
			continue;
		}
		if (c == 'a')
			a.all = true;
		else if (c == CLI_OPT_STATE_DIR)
			ret = cli_state_dir_opt(&a.state_dir, optarg) ?
			      EXIT_USAGE : -1;
		else if (c == 'q')
			cli_quiet = 1;
		else if (c == 'h')
			ret = EXIT_OK;
		else
			ret = EXIT_USAGE;
	}
	if (ret < 0 && (optind >= argc || (a.all != (optind == argc - 1)))) {
		cli_err("rekey takes CIPHERDIR and either PATHs inside the "
			"volume or --all");
		ret = EXIT_USAGE;
	}
	if (ret < 0) {
		a.dir = argv[optind];
		for (i = (size_t)optind + 1; i < (size_t)argc && ret < 0; i++) {
			char *p = argv[i];

			while (!strncmp(p, "./", 2))
				p += 2;
			if (add_path(&a, p))
				ret = EXIT_FAIL;
		}
	}
	if (ret < 0) {
		a.own_paths = a.all;
		ret = where(&a);
		if (!ret)
			ret = a.mnt[0] ? rekey_online(&a) : rekey(&a);
	} else if (ret != EXIT_FAIL) {
		usage(ret == EXIT_OK ? stdout : stderr);
	}
	if (a.own_paths)
		for (i = 0; i < a.npaths; i++)
			free(a.paths[i]);
	free(a.paths);
	cli_keyopts_free(&a.unlock);
	return ret;
}
