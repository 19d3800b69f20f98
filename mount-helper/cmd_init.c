// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mount-helper/cmd_init.c - "atrestfs init": make an empty directory a
 * volume, refusing a backing filesystem that cannot hold our headers.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../crypto/aead.h"
#include "../crypto/codec.h"
#include "../crypto/extent.h"
#include "cli.h"

#define PROBE_NAME	".atrestfs-xattr-probe"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: atrestfs init [OPTIONS] CIPHERDIR\n"
"Make the empty directory CIPHERDIR a new atrestfs volume.\n"
"\n"
"  -P, --provider NAME    key provider holding the root key: keyfile\n"
"                         (default), passphrase, or an installed plugin\n"
"                         (see atrestfs-keyprov(7))\n"
"  -O, --provider-option KEY=VALUE\n"
"                         a setting for the provider (repeatable); system\n"
"                         settings come from /etc/atrestfs/providers.conf\n"
"      --passfile FILE    passphrase/PIN from FILE (first line; -: stdin)\n"
"      --extpass CMD      passphrase/PIN from CMD's standard output\n"
"  -k, --keyfile PATH     root key file: used if it exists, else created\n"
"                         (32 random bytes, mode 0600).  Default:\n"
"                         KEYDIR/UUID.key, where KEYDIR is $ATRESTFS_KEY_DIR,\n"
"                         else /etc/atrestfs/keys for root, else\n"
"                         $XDG_CONFIG_HOME (or ~/.config)/atrestfs/keys\n"
"  -e, --extent-size N    plaintext bytes per extent, a power of two from\n"
"                         4096 to 1048576 (default 4096)\n"
"      --names MODE       file names in the backing directory: encrypted\n"
"                         (default) or plain (browsable, but they show\n"
"                         what the files are); fixed for the volume's life\n"
"      --audit-file PATH  audit log of key use and denials: append JSON\n"
"                         lines to PATH (absolute; made with mode 0600)\n"
"      --audit-syslog     audit log to syslog (authpriv) as well or instead\n"
"      --allow-uid N      access policy: serve only these uids and the\n"
"                         --allow-gid groups (repeatable, at most 64 each;\n"
"                         default: no policy, modes decide)\n"
"      --allow-gid N      access policy: serve members of group N\n"
"      --state-dir DIR    where this machine remembers the newest config\n"
"                         it saw (default /var/lib/atrestfs for root, else\n"
"                         ~/.local/state/atrestfs; see atrestfs(8))\n"
"  -q, --quiet            print nothing on success\n"
"  -h, --help             this text\n");
}

/* Headers live in user xattrs: find out now, not at the first file. */
static int probe_xattrs(int dirfd, const char *dir)
{
	int fd = openat(dirfd, PROBE_NAME, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
			0600);
	int err = 0;

	if (fd < 0) {
		cli_err("cannot write in %s: %s", dir, strerror(errno));
		return EXIT_FAIL;
	}
	if (fsetxattr(fd, "user.atrestfs.probe", "1", 1, 0)) {
		err = errno;
		if (err == ENOTSUP)
			cli_err("the filesystem holding %s does not support user "
				"extended attributes (user.*); atrestfs keeps each "
				"file's wrapped key in one. Use ext4, xfs, btrfs, or "
				"tmpfs on Linux 6.6 or later", dir);
		else
			cli_err("cannot set an extended attribute in %s: %s", dir,
				strerror(err));
	}
	close(fd);
	unlinkat(dirfd, PROBE_NAME, 0);
	return err ? EXIT_FAIL : 0;
}

static int dir_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int empty = 1;

	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = 0;
	closedir(d);
	return empty;
}

static int parse_size(const char *s, uint32_t *out)
{
	uint64_t v;

	if (dec_parse_u64(s, 0, UINT64_MAX, &v) || !extent_size_valid(v))
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* Past the options of cli.h. */
enum { CLI_OPT_NAMES = 0x130 };
/* New volumes hide their names unless asked not to. */
#define INIT_NAMES_DEFAULT	true

int cmd_init(int argc, char **argv)
{
	/* The unlock options of cli.h but --slot: no keyslot exists yet. */
	static const struct option opts[] = {
		{ "keyfile", required_argument, NULL, 'k' },
		{ "provider", required_argument, NULL, 'P' },
		{ "provider-option", required_argument, NULL, 'O' },
		{ "passfile", required_argument, NULL, CLI_OPT_PASSFILE },
		{ "extpass", required_argument, NULL, CLI_OPT_EXTPASS },
		{ "extent-size", required_argument, NULL, 'e' },
		{ "names", required_argument, NULL, CLI_OPT_NAMES },
		CLI_POLICY_OPTIONS,
		{ "state-dir", required_argument, NULL, CLI_OPT_STATE_DIR },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char uuid_str[VOL_UUID_STR_LEN + 1];
	const char *provider = "keyfile";
	char msg[KEYPROV_MSG_MAX] = "";
	uint32_t extent_size = EXTENT_DEFAULT_SIZE;
	struct cli_keyopts ko;
	struct volkey_src src;
	struct vol_config cfg;
	struct vol_options vopt = { .names_encrypted = INIT_NAMES_DEFAULT,
				    .bound = true };
	uint8_t uuid[VOL_UUID_LEN];
	const char *dir, *state_dir = NULL;
	struct kek *kek = NULL;
	int c, dirfd, ret = EXIT_USAGE, empty, err, given, taken;

	cli_keyopts_init(&ko);
	while ((c = getopt_long(argc, argv, "k:e:P:O:qh", opts, NULL)) != -1) {
		taken = cli_unlock_opt(&ko, c, optarg);
		if (!taken)
			taken = cli_policy_opt(&vopt, c, optarg);
		if (taken < 0)
			goto out_free;
		if (taken)
			continue;
		switch (c) {
		case CLI_OPT_STATE_DIR:
			if (cli_state_dir_opt(&state_dir, optarg))
				goto out_free;
			break;
		case 'e':
			if (parse_size(optarg, &extent_size)) {
				cli_err("--extent-size %s: want a power of two from 4096 to 1048576",
					optarg);
				goto out_free;
			}
			break;
		case CLI_OPT_NAMES:
			if (strcmp(optarg, "encrypted") && strcmp(optarg, "plain")) {
				cli_err("--names %s: want encrypted or plain",
					optarg);
				goto out_free;
			}
			vopt.names_encrypted = !strcmp(optarg, "encrypted");
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
	if (*ko.provider)
		provider = ko.provider;	/* checked by cli_unlock_opt() */
	if (volconf_options_check(&vopt, msg, sizeof(msg))) {
		cli_err("--audit-file: %s", msg);
		goto out_free;
	}
	dir = argv[optind];
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		cli_err("%s: %s", dir, strerror(errno));
		ret = EXIT_FAIL;
		goto out_free;
	}
	/* Two inits at once: the second finds the first's config. */
	err = cli_lock(dirfd);
	if (err) {
		cli_err("%s: cannot lock the directory: %s", dir,
			strerror(-err));
		ret = EXIT_FAIL;
		goto out_close;
	}
	ret = EXIT_VOLUME;
	if (faccessat(dirfd, VOL_CONF_NAME, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		cli_err("%s is already an atrestfs volume (it has %s); "
			"refusing to overwrite it", dir, VOL_CONF_NAME);
		goto out_close;
	}
	empty = dir_empty(dir);
	if (empty <= 0) {
		cli_err("%s is not empty; atrestfs init wants an empty directory",
			dir);
		goto out_close;
	}
	ret = probe_xattrs(dirfd, dir);
	if (ret)
		goto out_close;
	ret = EXIT_FAIL;
	if (rand_fill(uuid, sizeof(uuid)))
		goto out_close;
	uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x40);	/* RFC 4122 v4 */
	uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80);
	vol_uuid_str(uuid, uuid_str);
	given = *ko.keyfile != '\0';
	cli_keysrc(&ko, &src);
	cli_keyopts_volume(&ko, dir);
	err = volkey_create(dirfd, &src, provider, extent_size, uuid, &vopt,
			    &cfg, &kek, msg, sizeof(msg));
	if (err) {
		cli_err("%s", *msg ? msg : strerror(-err));
		ret = err == -ENOKEY || err == -EPERM || err == -ENOANO ?
		      EXIT_KEY : EXIT_FAIL;
		goto out_close;
	}
	if (*msg)
		cli_warn(msg);
	/* Recorded now, so that the first mount already checks. */
	cli_rollback_record(dir, state_dir, &cfg, kek);
	cli_rollback_files_reset(dir, state_dir, &cfg);
	kek_free(kek);
	cli_say("Initialised atrestfs volume %s in %s\n", uuid_str, dir);
	if (!strcmp(provider, "keyfile"))
		cli_say("Root key: %s\n"
			"  Keep a copy of it somewhere safe: without it the data is lost.\n"
			"Next: atrestfs mount %s%s%s%s MOUNTPOINT\n", ko.path,
			given ? "--keyfile " : "", given ? ko.path : "",
			given ? " " : "", dir);
	else
		cli_say("Root key: provider %s, key %s\n"
			"Next: atrestfs mount %s MOUNTPOINT\n", provider,
			cfg.slots[0].key_id, dir);
	ret = EXIT_OK;
out_close:
	close(dirfd);
out_free:
	cli_keyopts_free(&ko);
	return ret;
}
