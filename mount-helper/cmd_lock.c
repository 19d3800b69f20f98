// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mount-helper/cmd_lock.c - "atrestfs lock" and "atrestfs unlock": ask the
 * daemon serving a volume, through its control socket (fs/ctl.c), to wipe
 * every key it holds, or hand it the volume key again, unwrapped here
 * through a keyslot with the usual key options, exactly as mount does.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../crypto/secmem.h"
#include "cli.h"

static void usage_lock(FILE *f)
{
	fprintf(f,
"Usage: atrestfs lock [OPTIONS] MOUNTPOINT|CIPHERDIR\n"
"Wipe every key of a mounted volume from its daemon, which stays mounted\n"
"and refuses all access (EACCES) until \"atrestfs unlock\".  Dirty data is\n"
"written back first; the kernel's cached pages of the mount are dropped.\n"
"\n"
"      --state-dir DIR  the state directory it was mounted with\n"
"  -q, --quiet          print nothing on success\n"
"  -h, --help           this text\n");
}

static void usage_unlock(FILE *f)
{
	fprintf(f,
"Usage: atrestfs unlock [OPTIONS] MOUNTPOINT|CIPHERDIR\n"
"Unwrap the volume key through a keyslot, as mount does, and hand it to\n"
"the daemon of a locked mount, which checks it is the key it was mounted\n"
"with.  Files kept open across the lock work again.\n"
"\n"
"  -k, --keyfile PATH   root key file (default: KEYDIR/UUID.key)\n"
"  -P, --provider NAME  use only keyslots of this key provider\n"
"  -S, --slot N         use only keyslot N\n"
"  -O, --provider-option KEY=VALUE\n"
"                       a setting for the key provider (repeatable)\n"
"      --passfile FILE  passphrase/PIN from FILE (first line)\n"
"      --extpass CMD    passphrase/PIN from CMD's standard output\n"
"      --state-dir DIR  the state directory it was mounted with\n"
"  -q, --quiet          print nothing on success\n"
"  -h, --help           this text\n");
}

/*
 * The volume named by @arg, a mount point of atrestfs (its source is the
 * backing directory) or the backing directory itself, into @dir.
 */
static int volume_dir(const char *arg, char *dir, size_t len)
{
	char real[PATH_MAX], src[PATH_MAX];

	if (!realpath(arg, real)) {
		cli_err("%s: %s", arg, strerror(errno));
		return EXIT_USAGE;
	}
	if (mountinfo_source_at(real, src, sizeof(src)) == 1)
		snprintf(dir, len, "%s", src);
	else
		snprintf(dir, len, "%s", real);
	return 0;
}

/* Say why @err from cli_ctl_call() failed; the exit code. */
static int call_failed(const char *dir, int err, const char *reply)
{
	if (err == -EKEYREJECTED) {
		cli_err("%s", reply);
		return EXIT_KEY;
	}
	if (*reply)
		cli_err("%s: %s", dir, reply);
	else
		cli_err("%s: the daemon did not answer (%s)", dir, strerror(-err));
	return EXIT_MOUNT;
}

int cmd_lock(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state-dir", required_argument, NULL, CLI_OPT_STATE_DIR },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *state_dir = NULL;
	char dir[PATH_MAX], reply[512];
	int c, ret, err, fd;

	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (c) {
		case CLI_OPT_STATE_DIR:
			if (cli_state_dir_opt(&state_dir, optarg))
				return EXIT_USAGE;
			break;
		case 'q':
			cli_quiet = 1;
			break;
		case 'h':
			usage_lock(stdout);
			return EXIT_OK;
		default:
			usage_lock(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		usage_lock(stderr);
		return EXIT_USAGE;
	}
	ret = volume_dir(argv[optind], dir, sizeof(dir));
	if (ret)
		return ret;
	fd = cli_ctl_open(dir, state_dir, true, &ret);
	if (fd < 0)
		return ret;
	err = cli_ctl_call(fd, "lock\n", 5, reply, sizeof(reply));
	close(fd);
	if (err)
		return call_failed(dir, err, reply);
	cli_say("%s\n", reply);
	return EXIT_OK;
}

int cli_lock_quiet(const char *real)
{
	char dir[PATH_MAX], reply[512];
	int fd, ret, err;

	if (mountinfo_source_at(real, dir, sizeof(dir)) != 1)
		return -ENOENT;
	fd = cli_ctl_open(dir, NULL, false, &ret);
	if (fd < 0)
		return -ENOENT;
	err = cli_ctl_call(fd, "lock\n", 5, reply, sizeof(reply));
	close(fd);
	return err;
}

/* Hand @kek to the daemon: the request, the key and its ID, in locked memory. */
static int send_kek(int fd, const struct kek *kek, char *reply, size_t len)
{
	const size_t n = sizeof("unlock\n") - 1;
	uint8_t *buf = secmem_alloc(n + KEK_LEN + KEK_ID_LEN);
	int err;

	if (!buf)
		return -ENOMEM;
	memcpy(buf, "unlock\n", n);
	memcpy(buf + n, kek->key, KEK_LEN);
	memcpy(buf + n + KEK_LEN, kek->id, KEK_ID_LEN);
	err = cli_ctl_call(fd, buf, n + KEK_LEN + KEK_ID_LEN, reply, len);
	secmem_free(buf, n + KEK_LEN + KEK_ID_LEN);
	return err;
}

/*
 * The KEK unwrapped, or, while a rotation is under way and the mount was
 * locked before its daemon took the new one, the retiring KEK it had.
 */
static int unlock_with(const char *dir, const char *state_dir,
		       const struct kek *kek)
{
	char reply[512];
	int fd, ret, err;

	fd = cli_ctl_open(dir, state_dir, true, &ret);
	if (fd < 0)
		return ret;
	err = send_kek(fd, kek, reply, sizeof(reply));
	close(fd);
	if (err == -EKEYREJECTED && kek->retiring) {
		fd = cli_ctl_open(dir, state_dir, true, &ret);
		if (fd < 0)
			return ret;
		err = send_kek(fd, kek->retiring, reply, sizeof(reply));
		close(fd);
	}
	if (err)
		return call_failed(dir, err, reply);
	cli_say("%s\n", reply);
	return EXIT_OK;
}

int cmd_unlock(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_UNLOCK_OPTIONS,
		{ "state-dir", required_argument, NULL, CLI_OPT_STATE_DIR },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *state_dir = NULL;
	char dir[PATH_MAX];
	struct cli_keyopts ko;
	struct vol_config cfg;
	struct kek *kek = NULL;
	unsigned int slot = 0;
	int c, dirfd, fd, ret = EXIT_USAGE;

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
			usage_unlock(stdout);
			ret = EXIT_OK;
			goto out_free;
		default:
			usage_unlock(stderr);
			goto out_free;
		}
	}
	if (optind != argc - 1) {
		usage_unlock(stderr);
		goto out_free;
	}
	ret = volume_dir(argv[optind], dir, sizeof(dir));
	if (ret)
		goto out_free;
	/* Before the root key is asked for: is there a daemon to give it? */
	fd = cli_ctl_open(dir, state_dir, true, &ret);
	if (fd < 0)
		goto out_free;
	close(fd);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		cli_err("%s: %s", dir, strerror(errno));
		ret = EXIT_VOLUME;
		goto out_free;
	}
	ret = cli_unlock(dirfd, dir, &ko, &cfg, &kek, &slot);
	if (!ret)
		ret = unlock_with(dir, state_dir, kek);
	kek_free(kek);
	close(dirfd);
out_free:
	cli_keyopts_free(&ko);
	return ret;
}
