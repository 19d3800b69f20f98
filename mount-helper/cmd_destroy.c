// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mount-helper/cmd_destroy.c - "atrestfs destroy": crypto-shred a volume.
 * Every wrapped copy of the KEK is in atrestfs.conf (and perhaps its
 * temporary copy), so overwriting those with random bytes and removing
 * them leaves the files' DEKs, and so their data, unrecoverable to anyone
 * without an older copy of the config or an export and a root key; the
 * key file that unlocked it is shredded too, unless the user keeps it.
 * Unlocks first: only a holder of one of the volume's keys may destroy
 * it, the audit destination is then trusted, and the key file is known
 * to be this volume's.
 */
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

#include "../crypto/aead.h"
#include "cli.h"

struct destroy_args {
	struct cli_keyopts unlock;	/* how to open a keyslot */
	const char *dir;
	bool yes;			/* --yes-destroy: no question asked */
	bool keep_keyfile;
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: atrestfs destroy [OPTIONS] CIPHERDIR\n"
"Crypto-shred the volume in CIPHERDIR: overwrite atrestfs.conf, which holds\n"
"every wrapped copy of its key, with random bytes and remove it, and do the\n"
"same to the key file that unlocked it.  Its files stay, and can never be\n"
"decrypted again by anyone without an older copy of atrestfs.conf or a\n"
"keyslot export, and a root key.  Asks to type the volume's UUID first.\n"
"Refused while the volume is mounted.\n"
"\n"
"  -k, --keyfile PATH, -P, --provider NAME, -S, --slot N,\n"
"  -O, --provider-option KEY=VALUE, --passfile FILE, --extpass CMD\n"
"                       unlock as for atrestfs mount\n"
"      --yes-destroy    do not ask (for scripts)\n"
"      --keep-keyfile   leave the key file (it opens other volumes too)\n"
"  -q, --quiet          print nothing on success\n"
"  -h, --help           this text\n");
}

/*
 * Overwrite the regular file @name in @dirfd with random bytes, fsync and
 * remove it.  -ENOENT if there is none.  Whoever can write the directory
 * may have put anything at a name of the volume: what is not a regular
 * file, or is one with other names (a hard link to a file elsewhere, which
 * root must not overwrite), is only removed, never opened for writing;
 * *@links then says how many other names it had.  @named: the user named
 * the file, so its other names are overwritten with it.
 */
static int shred_at(int dirfd, const char *name, bool named, nlink_t *links)
{
	uint8_t buf[4096];
	struct stat st;
	off_t done = 0;
	size_t n;
	int fd, err = 0;

	*links = 0;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return -errno;
	if (!S_ISREG(st.st_mode) || (st.st_nlink != 1 && !named))
		goto out_unlink;
	/* O_NONBLOCK: a FIFO put there meanwhile must not hang us. */
	fd = openat(dirfd, name, O_WRONLY | O_NOFOLLOW | O_NONBLOCK |
		    O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    (st.st_nlink != 1 && !named)) {
		close(fd);
		goto out_unlink;
	}
	/* At least a block: a file emptied by a crash still had blocks. */
	while (!err && (done < st.st_size || done == 0)) {
		n = sizeof(buf);
		if (rand_fill(buf, n) || pwrite(fd, buf, n, done) != (ssize_t)n)
			err = -EIO;
		done += (off_t)n;
	}
	if (!err && fsync(fd))
		err = -errno;
	close(fd);
	if (err)
		return err;
out_unlink:
	if (S_ISREG(st.st_mode) && st.st_nlink > 1 && !named)
		*links = st.st_nlink - 1;
	return unlinkat(dirfd, name, 0) ? -errno : 0;
}

/* shred_at() for a path, with the directory synced: 0 or -errno. */
static int shred_path(const char *path)
{
	char *copy = strdup(path), *slash;
	const char *dir = ".", *name = path;
	nlink_t links;
	int dirfd, err;

	if (!copy)
		return -ENOMEM;
	slash = strrchr(copy, '/');
	if (slash) {
		*slash = '\0';
		dir = slash == copy ? "/" : copy;
		name = slash + 1;
	}
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		err = -errno;
		free(copy);
		return err;
	}
	err = shred_at(dirfd, name, true, &links);
	if (!err)
		fsync(dirfd);
	close(dirfd);
	free(copy);
	return err;
}

/* The user types the volume's UUID at the terminal: 0, or an exit code. */
static int confirm(const char *dir, const char *uuid, const char *keyfile)
{
	char line[128];
	FILE *tty = fopen("/dev/tty", "r+e");
	bool same;

	if (!tty) {
		cli_err("destroy %s needs a confirmation: run it at a terminal "
			"to type the volume's UUID, or pass --yes-destroy", dir);
		return EXIT_USAGE;
	}
	fprintf(tty, "This destroys every key of volume %s in %s%s%s: its "
		"data can never be decrypted again.\nType the volume's UUID "
		"to destroy it: ", uuid, dir, *keyfile ? ", and the key file " :
		"", keyfile);
	fflush(tty);
	same = fgets(line, sizeof(line), tty) &&
	       !strcmp(strtok(line, "\r\n") ? line : "", uuid);
	fclose(tty);
	if (!same) {
		cli_err("that is not the UUID of %s: nothing was destroyed", dir);
		return EXIT_FAIL;
	}
	return 0;
}

static int destroy(struct destroy_args *a)
{
	static const char *const names[] = { VOL_CONF_TMP, VOL_CONF_NAME };
	char uuid[VOL_UUID_STR_LEN + 1], msg[KEYPROV_MSG_MAX] = "";
	char keyfile[sizeof(a->unlock.path)] = "";
	struct vol_config cfg;
	struct kek *kek = NULL;
	unsigned int used = 0, i;
	nlink_t links;
	int dirfd, ret, err;

	ret = cli_open_volume(a->dir, "its daemon holds the key", &dirfd);
	if (ret)
		return ret;
	/* Any key of the volume will do, disabled or expired ones too. */
	a->unlock.inactive_ok = (1u << VOL_MAX_SLOTS) - 1;
	ret = cli_unlock(dirfd, a->dir, &a->unlock, &cfg, &kek, &used);
	if (ret)
		goto out;
	vol_uuid_str(cfg.uuid, uuid);
	if (!strcmp(cfg.slots[used].provider, "keyfile") && !a->keep_keyfile)
		snprintf(keyfile, sizeof(keyfile), "%s", a->unlock.path);
	if (!a->yes) {
		ret = confirm(a->dir, uuid, keyfile);
		if (ret)
			goto out;
	}
	/* Before: afterwards nothing would show whose key did it. */
	if (volkey_audit(&cfg, "volume_destroy", "destroy", &cfg.slots[used],
			 0, msg, sizeof(msg)))
		cli_err("%s", msg);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		err = shred_at(dirfd, names[i], false, &links);
		if (err && err != -ENOENT) {
			cli_err("cannot overwrite and remove %s/%s: %s; the "
				"volume is not destroyed until it is gone",
				a->dir, names[i], strerror(-err));
			ret = EXIT_FAIL;
			goto out;
		}
		if (links)
			cli_err("warning: %s/%s had %llu other hard link%s, so "
				"it was removed but not overwritten: if another "
				"name holds a copy of it, destroy that too",
				a->dir, names[i], (unsigned long long)links,
				links == 1 ? "" : "s");
	}
	fsync(dirfd);
	cli_say("Destroyed volume %s in %s: its keyslots are overwritten and "
		"removed, its files can no longer be decrypted\n", uuid, a->dir);
	if (*keyfile) {
		err = shred_path(keyfile);
		if (err) {
			cli_err("cannot overwrite and remove key file %s: %s",
				keyfile, strerror(-err));
			ret = EXIT_FAIL;
			goto out;
		}
		cli_say("Overwrote and removed key file %s\n", keyfile);
	}
	cli_say("Keyslot exports and older copies of atrestfs.conf still hold "
		"wrapped keys: destroy those too, or every root key that "
		"opened them\n");
	ret = EXIT_OK;
out:
	kek_free(kek);
	close(dirfd);
	return ret;
}

int cmd_destroy(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_UNLOCK_OPTIONS,
		{ "yes-destroy", no_argument, NULL, 1 },
		{ "keep-keyfile", no_argument, NULL, 2 },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct destroy_args a;
	int c, ret = -1;

	memset(&a, 0, sizeof(a));
	cli_keyopts_init(&a.unlock);
	while (ret < 0 &&
	       (c = getopt_long(argc, argv, CLI_UNLOCK_SHORT "qh", opts,
				NULL)) != -1) {
		switch (cli_unlock_opt(&a.unlock, c, optarg)) {
		case 1:
			continue;
		case -1:
			ret = EXIT_USAGE;
			continue;
		}
		if (c == 1)
			a.yes = true;
		else if (c == 2)
			a.keep_keyfile = true;
		else if (c == 'q')
			cli_quiet = 1;
		else if (c == 'h')
			ret = EXIT_OK;
		else
			ret = EXIT_USAGE;
	}
	if (ret < 0 && optind != argc - 1)
		ret = EXIT_USAGE;
	if (ret < 0) {
		a.dir = argv[optind];
		ret = destroy(&a);
	} else {
		usage(ret == EXIT_OK ? stdout : stderr);
	}
	cli_keyopts_free(&a.unlock);
	return ret;
}
