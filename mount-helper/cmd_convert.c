// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mount-helper/cmd_convert.c - "atrestfs convert --bound": make a volume
 * from before "bound" bind its symlink targets and xattr values, as
 * "cryptsetup convert" brings a LUKS header to a newer form, offline.
 * The work is volume/convert.c's; here are the command line, the checks
 * a user can get wrong (a mounted volume) and what is said.  A command
 * of its own rather than a rotate-kek option: the conversion needs no
 * new key, so no keyslot's provider is asked for anything.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: atrestfs convert --bound [OPTIONS] CIPHERDIR\n"
"Convert a volume made before bound symlink targets and xattr values:\n"
"every symlink target is re-sealed for its place and every xattr value\n"
"bound to its file, then the volume's config says \"bound\", and the\n"
"older forms, which could be moved to another file undetected, are\n"
"refused from then on.  Run it while the volume is not mounted.\n"
"Interrupted, it leaves a volume that mounts and reads everything; run\n"
"it again to finish.  A target or value that does not open stops it\n"
"before anything is refused: run atrestfs fsck first.\n"
"\n"
"  -b, --bound          the conversion to make (the only one there is)\n"
"  -k, --keyfile PATH, -P, --provider NAME, -S, --slot N,\n"
"  -O, --provider-option KEY=VALUE, --passfile FILE, --extpass CMD\n"
"                       unlock as for atrestfs mount\n"
"      --state-dir DIR  this machine's state directory, as for mount\n"
"  -q, --quiet          print nothing on success\n"
"  -h, --help           this text\n"
"\n"
"Exit status: 0 converted (or bound already), 6 a target or value that\n"
"does not open, 3 key, 4 not a volume, 5 mounted, 1 other.\n");
}

static int convert(const char *dir, struct cli_keyopts *ko)
{
	char msg[KEYPROV_MSG_MAX] = "";
	struct convert_stats st;
	struct vol_config cfg;
	struct kek *kek = NULL;
	unsigned int slot = 0;
	int dirfd, ret, err;

	/* Config lock, and no mount until we exit (mountlock.c). */
	ret = cli_open_volume(dir, "convert rewrites its symbolic links and "
			      "xattr values", &dirfd);
	if (ret)
		return ret;
	ret = cli_unlock(dirfd, dir, ko, &cfg, &kek, &slot);
	/* A change made to an older config would bury the newer one. */
	if (!ret)
		ret = cli_rollback_check(dir, ko->state_dir, &cfg, kek,
					 CLI_RB_NOTICE);
	if (ret)
		goto out;
	err = convert_bound(dirfd, dir, &cfg, kek, &st, msg, sizeof(msg));
	if (err == -EALREADY) {
		cli_say("%s is bound already: nothing to convert\n", dir);
		goto out;
	}
	if (err) {
		cli_err("%s", *msg ? msg : strerror(-err));
		if (err != -EBADMSG)
			cli_err("%s is not converted: it reads as before; fix "
				"the above and run convert again", dir);
		ret = err == -EBADMSG ? EXIT_DAMAGED : EXIT_FAIL;
		goto out;
	}
	if (*msg)
		cli_warn(msg);
	cli_rollback_record(dir, ko->state_dir, &cfg, kek);
	cli_say("Converted %s: %llu symbolic link%s re-sealed for its place, "
		"%llu xattr value%s bound to its file; the unbound forms are "
		"refused from now on\n", dir, (unsigned long long)st.links,
		st.links == 1 ? "" : "s", (unsigned long long)st.values,
		st.values == 1 ? "" : "s");
out:
	kek_free(kek);
	close(dirfd);
	return ret;
}

int cmd_convert(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_UNLOCK_OPTIONS,
		{ "state-dir", required_argument, NULL, CLI_OPT_STATE_DIR },
		{ "bound", no_argument, NULL, 'b' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *state_dir = NULL;
	struct cli_keyopts ko;
	bool bound = false;
	int c, ret = EXIT_USAGE;

	cli_keyopts_init(&ko);
	while ((c = getopt_long(argc, argv, CLI_UNLOCK_SHORT "bqh", opts,
				NULL)) != -1) {
		switch (cli_unlock_opt(&ko, c, optarg)) {
		case 1:
			continue;
		case -1:
			goto out;
		}
		switch (c) {
		case CLI_OPT_STATE_DIR:
			if (cli_state_dir_opt(&state_dir, optarg))
				goto out;
			break;
		case 'b':
			bound = true;
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
	if (optind != argc - 1) {
		usage(stderr);
		goto out;
	}
	if (!bound) {
		cli_err("convert needs --bound, the conversion to make (the "
			"only one there is: see atrestfs convert --help)");
		goto out;
	}
	ko.state_dir = state_dir;
	ret = convert(argv[optind], &ko);
out:
	cli_keyopts_free(&ko);
	return ret;
}
