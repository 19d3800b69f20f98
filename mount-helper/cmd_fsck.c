// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mount-helper/cmd_fsck.c - "atrestfs fsck": unlock a volume and check
 * every byte of it (volume/fsck.c), saying what is damaged, file by file,
 * with the backing offsets of bad extents.  --repair mends the little
 * that can be mended safely, after showing it and asking.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../crypto/codec.h"
#include "../volume/fsck.h"
#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: atrestfs fsck [OPTIONS] CIPHERDIR\n"
"Check every file of the volume CIPHERDIR: the config's MAC, each file's\n"
"header, sparse and version records and extents, symlink targets, xattr\n"
"values, and that no two files share a file ID.  Each damaged file is\n"
"listed on stdout with the backing offsets of its bad extents.  Run it\n"
"while the volume is not mounted.\n"
"\n"
"  -k, --keyfile PATH, -P, --provider NAME, -S, --slot N,\n"
"  -O, --provider-option KEY=VALUE, --passfile FILE, --extpass CMD\n"
"                       unlock as for atrestfs mount\n"
"      --state-dir DIR  this machine's state directory, as for mount\n"
"      --repair         mend what is safe to mend (shown first; asks)\n"
"  -y, --yes            with --repair: do not ask (needed without a terminal)\n"
"  -j, --threads N      worker threads (default: one per CPU)\n"
"  -q, --quiet          no progress and no summary; findings only\n"
"  -h, --help           this text\n"
"\n"
"Exit status: 0 clean (or everything found was repaired), 6 damage found,\n"
"3 key, 4 not a volume or its config is damaged or tampered with, 1 other.\n");
}

struct fsck_cli {
	const char *dir;
	bool yes;
	uint64_t failed;		/* repairs that did not happen */
	int last_pct;			/* plain progress: last step said */
};

/*
 * "DIR/PATH: " with the path escaped, newlines too: one finding is one
 * line, and a name made in the backing directory neither drives the
 * terminal nor forges a line of its own.
 */
static void put_path(const struct fsck_cli *c, const char *path)
{
	cli_fputs_vis(stdout, c->dir, false);
	fputc('/', stdout);
	cli_fputs_vis(stdout, path, false);
	fputs(": ", stdout);
}

static void report(void *ctx, const char *path, const char *what,
		   bool fixable)
{
	struct fsck_cli *c = ctx;

	put_path(c, path);
	/* It can hold an xattr name or another file's path. */
	cli_fputs_vis(stdout, what, false);
	printf("%s\n", fixable ? " [repairable]" : "");
}

/* A bar on a terminal, a line each tenth otherwise, nothing with -q. */
static void progress(void *ctx, uint64_t done, uint64_t total)
{
	struct fsck_cli *c = ctx;
	int pct = total ? (int)(done * 100 / total) : 100;

	if (cli_quiet)
		return;
	if (isatty(2)) {
		cli_progress("checking", done, total);
		return;
	}
	if (pct / 10 == c->last_pct / 10 && pct != 100)
		return;
	if (pct == 100 && c->last_pct == 100)
		return;
	c->last_pct = pct;
	fprintf(stderr, "atrestfs: fsck: %d%% of %llu backing bytes checked\n",
		pct, (unsigned long long)total);
}

static bool confirm(void *ctx, uint64_t n)
{
	struct fsck_cli *c = ctx;
	char line[16];

	fflush(stdout);
	fprintf(stderr, "atrestfs: --repair will remove the %llu sparse "
		"record%s marked [repairable] above.\n",
		(unsigned long long)n, n == 1 ? "" : "s");
	if (c->yes)
		return true;
	if (!isatty(0)) {
		cli_err("not repairing: no terminal to ask on; add --yes to "
			"repair without asking");
		return false;
	}
	fprintf(stderr, "Repair? [y/N] ");
	if (!fgets(line, sizeof(line), stdin))
		return false;
	return line[0] == 'y' || line[0] == 'Y';
}

static void repaired(void *ctx, const char *path, int err)
{
	struct fsck_cli *c = ctx;

	put_path(c, path);
	if (!err) {
		printf("repaired: sparse record removed\n");
		return;
	}
	c->failed++;
	if (err == -ESTALE)
		printf("not repaired: it changed since the check; run fsck "
		       "again\n");
	else
		printf("not repaired: %s\n", strerror(-err));
}

static void summary(const struct fsck_cli *c, const struct fsck_result *r)
{
	if (cli_quiet)
		return;
	fflush(stdout);
	fprintf(stderr, "atrestfs: fsck %s: %llu files (%llu backing bytes, "
		"%llu extents, %llu holes), %llu directories, %llu symbolic "
		"links, %llu xattr values checked: ", c->dir,
		(unsigned long long)r->files, (unsigned long long)r->bytes,
		(unsigned long long)r->extents, (unsigned long long)r->holes,
		(unsigned long long)r->dirs, (unsigned long long)r->symlinks,
		(unsigned long long)r->xattrs);
	if (!r->findings)
		fprintf(stderr, "no damage found\n");
	else
		fprintf(stderr, "%llu problem%s found, %llu repaired\n",
			(unsigned long long)r->findings,
			r->findings == 1 ? "" : "s",
			(unsigned long long)r->repaired);
	if (r->no_header)
		fprintf(stderr, "atrestfs: %llu non-empty file%s ha%s no "
			"header: the volume was copied or restored without its "
			"extended attributes (tar needs --xattrs "
			"--xattrs-include='user.*', rsync needs -X). Put the "
			"headers back with 'atrestfs header restore %s FILE' "
			"from a header backup, or copy the volume again keeping "
			"xattrs.\n", (unsigned long long)r->no_header,
			r->no_header == 1 ? "" : "s",
			r->no_header == 1 ? "s" : "ve", c->dir);
}

static int run(struct fsck_cli *c, int dirfd, const struct vol_config *cfg,
	       const struct kek *kek, unsigned int threads, bool repair)
{
	struct fsck_cb cb = { .report = report, .progress = progress,
			      .confirm = confirm, .repaired = repaired,
			      .ctx = c };
	char msg[256] = "";
	struct fsck_result res;
	int err;

	c->last_pct = -10;
	err = fsck_volume(dirfd, cfg, kek, threads, repair, &cb, &res, msg,
			  sizeof(msg));
	if (err) {
		cli_err("%s: %s", c->dir, msg);
		return EXIT_FAIL;
	}
	summary(c, &res);
	return res.findings > res.repaired ? EXIT_DAMAGED : EXIT_OK;
}

int cmd_fsck(int argc, char **argv)
{
	enum { OPT_REPAIR = 0x200 };
	static const struct option opts[] = {
		CLI_UNLOCK_OPTIONS,
		{ "state-dir", required_argument, NULL, CLI_OPT_STATE_DIR },
		{ "repair", no_argument, NULL, OPT_REPAIR },
		{ "yes", no_argument, NULL, 'y' },
		{ "threads", required_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fsck_cli c = { 0 };
	const char *state_dir = NULL;
	struct cli_keyopts ko;
	struct vol_config cfg;
	struct kek *kek = NULL;
	unsigned int slot = 0, threads = 0;
	bool repair = false;
	int ch, dirfd, ret = EXIT_USAGE;
	uint64_t v;

	cli_keyopts_init(&ko);
	while ((ch = getopt_long(argc, argv, CLI_UNLOCK_SHORT "yj:qh", opts,
				 NULL)) != -1) {
		switch (cli_unlock_opt(&ko, ch, optarg)) {
		case 1:
			continue;
		case -1:
			goto out_free;
		}
		switch (ch) {
		case CLI_OPT_STATE_DIR:
			if (cli_state_dir_opt(&state_dir, optarg))
				goto out_free;
			break;
		case OPT_REPAIR:
			repair = true;
			break;
		case 'y':
			c.yes = true;
			break;
		case 'j':
			if (dec_parse_u64(optarg, 1, 16, &v)) {
				cli_err("--threads %s: bad option value: want "
					"a number from 1 to 16", optarg);
				goto out_free;
			}
			threads = (unsigned int)v;
			break;
		case 'q':
			cli_quiet = 1;
			break;
		case 'h':
			usage(stdout);
			ret = EXIT_OK;
			goto out_free;
		default:
			usage(stderr);
			goto out_free;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		goto out_free;
	}
	c.dir = argv[optind];
	dirfd = open(c.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		cli_err("%s: %s", c.dir, strerror(errno));
		ret = EXIT_VOLUME;
		goto out_free;
	}
	ko.state_dir = state_dir;
	ret = cli_unlock(dirfd, c.dir, &ko, &cfg, &kek, &slot);
	if (!ret)
		ret = cli_rollback_check(c.dir, state_dir, &cfg, kek, 0);
	if (!ret)
		ret = run(&c, dirfd, &cfg, kek, threads, repair);
	kek_free(kek);
	close(dirfd);
out_free:
	cli_keyopts_free(&ko);
	return ret;
}
