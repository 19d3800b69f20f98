// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mount-helper/cmd_rekey.c - "atrestfs rekey": a new data key for files
 * whose key may have leaked, and their data re-encrypted under it
 * (volume/rekey.c), on a volume that is not mounted.  Owns the list of
 * files, the progress shown and this machine's record of files for the
 * run; the KEK lives from the unlock to the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
"Usage: atrestfs rekey [OPTIONS] CIPHERDIR PATH...\n"
"       atrestfs rekey [OPTIONS] CIPHERDIR --all\n"
"Give each file PATH (relative to the volume's root, as seen in the mount;\n"
"symbolic links are not followed) a new data key and file ID, and\n"
"re-encrypt its data under them, for a key that may have leaked.  Each file\n"
"is replaced in one rename: a crash leaves the old file or the new one,\n"
"and running the command again finishes the job (--all resumes where it\n"
"was cut short).  The volume must not be mounted.  Files with hard links\n"
"are refused.\n"
"\n"
"  -a, --all            every regular file of the volume\n"
"  -k, --keyfile PATH, -P, --provider NAME, -S, --slot N,\n"
"  -O, --provider-option KEY=VALUE, --passfile FILE, --extpass CMD\n"
"                       unlock as for atrestfs mount\n"
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
		ret = rekey(&a);
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
