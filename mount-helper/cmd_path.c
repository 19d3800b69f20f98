// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mount-helper/cmd_path.c - "atrestfs path": the backing path of a path
 * in the mount, and back, so that an operator can restore one file from
 * a backup of the cipherdir.  Walks the backing directory component by
 * component with each directory's ID (volume/names.c); on a volume with
 * plain names both ways are the path itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../crypto/codec.h"
#include "../crypto/meta.h"
#include "../crypto/names.h"
#include "../crypto/secmem.h"
#include "../volume/volume.h"
#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: atrestfs path [OPTIONS] CIPHERDIR PATH\n"
"Print the path in CIPHERDIR that holds PATH, a path in the mount\n"
"(relative to its root), and for a name longer than 160 bytes also its\n"
"record, and for a symbolic link with a target over 3000 bytes its\n"
"target's record (restore them all).  Every directory above PATH must\n"
"exist in CIPHERDIR; PATH itself need not (it may be in a backup only).\n"
"\n"
"  -r, --reverse        PATH is a path in CIPHERDIR: print the path in\n"
"                       the mount\n"
"  -k, --keyfile PATH, -P, --provider NAME, -S, --slot N,\n"
"  -O, --provider-option KEY=VALUE, --passfile FILE, --extpass CMD\n"
"                       unlock as for atrestfs mount\n"
"  -h, --help           this text\n");
}

int cli_names_path(const char *dir, const struct vol_config *cfg,
		   const struct kek *kek, int dirfd, char *path, bool reverse,
		   char *out, char *side)
{
	const char *what = path;
	uint8_t *key;
	int err;

	if (!cfg->opt.names_encrypted) {
		/* Plain names: the path itself. */
		if (strlen(path) >= PATH_MAX)
			return EXIT_USAGE;
		strcpy(out, path);
		*side = '\0';
		return EXIT_OK;
	}
	key = secmem_alloc(NAMES_KEY_LEN);
	if (!key)
		return EXIT_FAIL;
	err = names_key_unwrap(kek, cfg->uuid, cfg->opt.names_key, key);
	if (err) {
		cli_err("%s: the names key in %s does not open with this "
			"volume's key: the config is damaged", dir,
			VOL_CONF_NAME);
		secmem_free(key, NAMES_KEY_LEN);
		return EXIT_VOLUME;
	}
	err = volnames_map(dirfd, key, path, reverse, out, side, &what);
	secmem_free(key, NAMES_KEY_LEN);
	if (err == -EBADMSG)
		cli_err("%s: %s is not a name atrestfs made in its directory "
			"(planted, moved, or its record is damaged)", dir, what);
	else if (err == -EIO || err == -ENODATA)
		cli_err("%s: the directory holding %s has a %s directory ID "
			"(xattr %s): restore the directory from a backup, with "
			"its xattrs", dir, what,
			err == -EIO ? "damaged" : "missing", NAMES_DIRID_XATTR);
	else if (err == -EINVAL)
		cli_err("%s: %s: want a path of names, without . or ..", dir,
			what);
	else if (err == -ENOENT || err == -ENOTDIR)
		cli_err("%s: %s: no such directory in the cipherdir", dir,
			what);
	else if (err)
		cli_err("%s: %s: %s", dir, what, strerror(-err));
	if (err)
		return err == -EINVAL || err == -ENAMETOOLONG ? EXIT_USAGE :
		       EXIT_FAIL;
	if (!*out) {
		cli_err("%s: want a path below the volume's root", dir);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/*
 * A symbolic link at @out in @dirfd with a long target: its record, in
 * the link store at the root, goes with it (volume/links.c).
 */
static void print_link_record(int dirfd, const char *out)
{
	char target[PATH_MAX], hex[2 * META_LINK_ID_LEN + 1];
	uint8_t id[META_LINK_ID_LEN];
	ssize_t n = readlinkat(dirfd, out, target, sizeof(target) - 1);
	size_t len;

	if (n < 0 || meta_link_long_parse(target, (size_t)n, id, &len) != 1)
		return;
	hex_encode(id, sizeof(id), hex);
	printf(VOLLINKS_DIR "/%s\n", hex);
}

static int print_path(const char *dir, const struct vol_config *cfg,
		      const struct kek *kek, int dirfd, char *path,
		      bool reverse)
{
	char out[PATH_MAX], side[NAME_MAX + 1];
	int ret = cli_names_path(dir, cfg, kek, dirfd, path, reverse, out,
				 side);

	if (ret)
		return ret;
	printf("%s\n", out);
	/* The record sits beside the entry: its directory is out's. */
	if (*side) {
		char *slash = strrchr(out, '/');

		printf("%.*s%s\n", slash ? (int)(slash - out + 1) : 0, out,
		       side);
	}
	if (!reverse)
		print_link_record(dirfd, out);
	return EXIT_OK;
}

int cmd_path(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_UNLOCK_OPTIONS,
		{ "reverse", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir;
	struct cli_keyopts ko;
	struct vol_config cfg;
	struct kek *kek = NULL;
	unsigned int slot = 0;
	bool reverse = false;
	int c, dirfd, ret = EXIT_USAGE;
	char *path;

	cli_keyopts_init(&ko);
	while ((c = getopt_long(argc, argv, CLI_UNLOCK_SHORT "rh", opts,
				NULL)) != -1) {
		switch (cli_unlock_opt(&ko, c, optarg)) {
		case 1:
			continue;
		case -1:
			goto out_free;
		}
		switch (c) {
		case 'r':
			reverse = true;
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
	if (optind != argc - 2) {
		usage(stderr);
		goto out_free;
	}
	dir = argv[optind];
	path = argv[optind + 1];
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		cli_err("%s: %s", dir, strerror(errno));
		ret = EXIT_VOLUME;
		goto out_free;
	}
	ret = cli_unlock(dirfd, dir, &ko, &cfg, &kek, &slot);
	if (!ret)
		ret = print_path(dir, &cfg, kek, dirfd, path, reverse);
	kek_free(kek);
	close(dirfd);
out_free:
	cli_keyopts_free(&ko);
	return ret;
}
