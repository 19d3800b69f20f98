// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mount-helper/cmd_unmount.c - "atrestfs unmount": root unmounts directly,
 * anyone else through fusermount3.  Refuses anything not an atrestfs mount.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: atrestfs unmount [OPTIONS] MOUNTPOINT\n"
"Unmount an atrestfs volume; its keys leave memory with the daemon.\n"
"\n"
"  -z, --lazy    lock it (keys wiped, open files get EACCES), detach it\n"
"                now, and finish when the last open file is closed\n"
"  -q, --quiet   print nothing on success (it prints nothing anyway)\n"
"  -h, --help    this text\n");
}

int cmd_unmount(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "lazy", no_argument, NULL, 'z' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char real[PATH_MAX], type[256], file[PATH_MAX];
	bool lazy = false, swap = false;
	int c, err, n;

	while ((c = getopt_long(argc, argv, "zqh", opts, NULL)) != -1) {
		switch (c) {
		case 'z':
			lazy = true;
			break;
		case 'q':
			cli_quiet = 1;	/* nothing is printed on success anyway */
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!realpath(argv[optind], real)) {
		cli_err("%s: %s", argv[optind], strerror(errno));
		return EXIT_MOUNT;
	}
	if (!cli_mounted(real, type, sizeof(type))) {
		cli_err("%s is not mounted", argv[optind]);
		return EXIT_MOUNT;
	}
	if (strcmp(type, "fuse.atrestfs")) {
		cli_err("%s is not an atrestfs mount; not touching it", argv[optind]);
		return EXIT_MOUNT;
	}
	/*
	 * A loop device over a file on the mount (swap space, above all)
	 * holds it: plain unmount fails, and --lazy would hide the file that
	 * swap off needs while the daemon lives on.  Say what holds it.
	 */
	n = cli_loop_on_mount(real, file, sizeof(file), &swap);
	if (n >= 0 && swap) {
		cli_err("%s is busy: swap is active on %s (/dev/loop%d); turn it "
			"off first: atrestfs swap off %s", argv[optind], file,
			n, file);
		return EXIT_MOUNT;
	}
	if (n >= 0) {
		cli_err("%s is busy: loop device /dev/loop%d uses %s on it; "
			"detach it first: losetup -d /dev/loop%d", argv[optind],
			n, file, n);
		return EXIT_MOUNT;
	}
	/*
	 * A lazy unmount leaves the daemon serving files still open until
	 * their last close: lock it first, so that its keys go now and those
	 * files get EACCES.  Best effort: a mount without a control socket
	 * is detached as before.
	 */
	if (lazy && (err = cli_lock_quiet(real)) && err != -ENOENT)
		cli_err("%s: could not lock it before detaching (%s); its keys "
			"stay until its last open file is closed", argv[optind],
			strerror(-err));
	if (geteuid() == 0) {
		if (umount2(real, lazy ? MNT_DETACH : 0) == 0)
			return EXIT_OK;
		if (errno == EBUSY)
			cli_err("%s is busy: a process has files open or its "
				"working directory there (close them, or use --lazy)",
				argv[optind]);
		else
			cli_err("cannot unmount %s: %s", argv[optind],
				strerror(errno));
		return EXIT_MOUNT;
	}
	err = cli_run((const char *const[]){ "fusermount3",
					     lazy ? "-uz" : "-u", real, NULL });
	if (err && err != -EIO)
		cli_err("cannot run fusermount3: %s", strerror(-err));
	return err ? EXIT_MOUNT : EXIT_OK;
}
