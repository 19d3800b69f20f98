// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mount-helper/cmd_trust.c - "atrestfs trust": take a volume's
 * atrestfs.conf and files as they are now as the newest this machine has
 * seen, once an older copy was put back on purpose (a restore from
 * backup) or this machine's record of them was lost to damage.  The only
 * way to lower the record, so it unlocks the volume first: only a config
 * whose MAC verifies can be trusted.  Of the files nothing is kept: the
 * record starts empty, and each file is recorded again as it settles.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: atrestfs trust [OPTIONS] CIPHERDIR\n"
"Take CIPHERDIR's atrestfs.conf and files as they are now as the newest\n"
"this machine has seen: after an older copy was put back on purpose, or\n"
"when this machine's record of them fails its check.  Unlocks the volume\n"
"to verify the config first.  Run it while the volume is not mounted.\n"
"\n"
"  -k, --keyfile PATH, -P, --provider NAME, -S, --slot N,\n"
"  -O, --provider-option KEY=VALUE, --passfile FILE, --extpass CMD\n"
"                       unlock as for atrestfs mount\n"
"      --state-dir DIR  this machine's state directory, as for mount\n"
"  -q, --quiet          print nothing on success\n"
"  -h, --help           this text\n");
}

/* What this machine had recorded, in words. */
static void say_seen(const struct confgen_seen *seen, char *buf, size_t len)
{
	if (!seen->err)
		snprintf(buf, len, "it had seen generation %u", seen->gen);
	else if (seen->err == -ENOENT)
		snprintf(buf, len, "it had no record of it");
	else if (seen->err == -EBADMSG)
		snprintf(buf, len, "its record failed its check");
	else
		snprintf(buf, len, "its record could not be used: %s",
			 strerror(-seen->err));
}

/* Record @cfg (verified) for the volume @dir: 0 or an exit code. */
static int trust(const char *dir, const char *state_dir,
		 const struct vol_config *cfg, const struct kek *kek,
		 unsigned int slot)
{
	char msg[KEYPROV_MSG_MAX] = "", was[KEYPROV_MSG_MAX];
	struct confgen_seen seen;
	struct state_dir sd;
	int err;

	err = cli_state_open(dir, state_dir, cfg->uuid, &sd, msg, sizeof(msg));
	if (err) {
		cli_err("%s: %s", dir, msg);
		return EXIT_FAIL;
	}
	err = confgen_trust(&sd, cfg, kek, &seen, msg, sizeof(msg));
	if (err) {
		cli_err("%s: %s", dir, msg);
		state_close(&sd);
		return EXIT_FAIL;
	}
	say_seen(&seen, was, sizeof(was));
	cli_say("Recorded generation %u of %s/%s as the newest on this "
		"machine, in %s (%s)\n", cfg->generation, dir, VOL_CONF_NAME,
		sd.path, was);
	err = atr_files_reset(sd.fd);
	if (err) {
		cli_err("%s: %s/%s: %s", dir, sd.path, ATR_FILES_NAME,
			strerror(-err));
		state_close(&sd);
		return EXIT_FAIL;
	}
	cli_say("Forgot the versions of its files seen here: each file is "
		"accepted as it is now (%s/%s)\n", sd.path, ATR_FILES_NAME);
	/* Not undone: what trust accepts, it accepts in whole. */
	if (!seen.err && seen.gen > cfg->generation + 1)
		cli_say("Copies of generations %u to %u of the config would "
			"be accepted here again: destroy any that remain.\n",
			cfg->generation + 1, seen.gen - 1);
	state_close(&sd);
	/* A deliberate step back is a key event: audited like one. */
	if (volkey_audit(cfg, "config_trust", "trust",
			 &cfg->slots[slot], 0, msg, sizeof(msg)))
		cli_err("%s", msg);
	return EXIT_OK;
}

int cmd_trust(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_UNLOCK_OPTIONS,
		{ "state-dir", required_argument, NULL, CLI_OPT_STATE_DIR },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir, *state_dir = NULL;
	struct cli_keyopts ko;
	struct vol_config cfg;
	struct kek *kek = NULL;
	unsigned int slot = 0;
	int c, dirfd, err, ret = EXIT_USAGE;

	cli_keyopts_init(&ko);
	while ((c = getopt_long(argc, argv, CLI_UNLOCK_SHORT "qh", opts,
				NULL)) != -1) {
		switch (cli_unlock_opt(&ko, c, optarg)) {
		case 1:
			continue;
		case -1:
			goto out_free;
		}
		switch (c) {
		case CLI_OPT_STATE_DIR:
			if (cli_state_dir_opt(&state_dir, optarg))
				goto out_free;
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
	dir = argv[optind];
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		cli_err("%s: %s", dir, strerror(errno));
		ret = EXIT_VOLUME;
		goto out_free;
	}
	/* No store in between: the generation recorded is the one on disk. */
	err = cli_lock(dirfd);
	if (err) {
		cli_err("%s: cannot lock the volume: %s", dir, strerror(-err));
		ret = EXIT_FAIL;
		goto out_close;
	}
	ko.state_dir = state_dir;
	ret = cli_unlock(dirfd, dir, &ko, &cfg, &kek, &slot);
	if (!ret)
		ret = trust(dir, state_dir, &cfg, kek, slot);
	kek_free(kek);
out_close:
	close(dirfd);
out_free:
	cli_keyopts_free(&ko);
	return ret;
}
