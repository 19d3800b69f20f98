// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/tools/walkgen.c - for t_walk.sh: a tree of FILES small files,
 * PER_DIR (100) to a directory (d00000/f000 ...), made straight in the
 * backing directory of a plain-names volume.  Each is a valid encrypted
 * file of its own (a header with a random file ID and DEK wrapped under
 * the volume key, and one sealed extent) whose plaintext is its own path
 * and a newline, WALKGEN_LEN bytes, so that tar reads every one through
 * the mount (GNU tar does not open empty files).  A million take about a
 * minute on tmpfs, where making them through the mount would take many
 * more.  Unlocks CIPHERDIR with KEYFILE through the library, as a mount
 * does.  Prints the number of directories made.
 *
 *   tool_walkgen CIPHERDIR KEYFILE FILES [PER_DIR]
 *
 * The header says HDR_F_DATA and there is no version record: a file
 * that this machine never saw needs none (fs/rollback.c), as on a volume
 * made before version records.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../../crypto/extent.h"
#include "../../crypto/hdr.h"
#include "../../volume/volume.h"
#include "unlock.h"

/* "d00000/f000\n" */
#define WALKGEN_LEN	12

/* File NAME in @dfd: a header of its own, then @text as one extent. */
static int make_file(int dfd, const char *name, const struct kek *kek,
		     uint32_t extent_size, const char *text)
{
	uint8_t raw[HDR_SIZE], disk[WALKGEN_LEN + EXTENT_OVERHEAD];
	struct file_key *fk;
	struct hdr h;
	int fd, err;

	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	err = hdr_create(kek, extent_size, HDR_F_DATA, &h, &fk);
	if (err)
		goto out_close;
	hdr_build(&h, raw);
	if (fsetxattr(fd, HDR_XATTR, raw, HDR_SIZE, XATTR_CREATE))
		err = -errno;
	if (!err)
		err = extent_seal(fk, 0, true, text, WALKGEN_LEN, disk);
	file_key_free(fk);
	if (!err && write(fd, disk, sizeof(disk)) != (ssize_t)sizeof(disk))
		err = -EIO;
out_close:
	close(fd);
	return err;
}

int main(int argc, char **argv)
{
	char msg[VOLKEY_MSG_MAX], name[32], text[48];
	unsigned long total, per, made = 0, d, i;
	struct vol_config cfg;
	struct kek *kek;
	int dirfd, dfd, err = 0;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: walkgen CIPHERDIR KEYFILE FILES "
			"[PER_DIR]\n");
		return 2;
	}
	total = strtoul(argv[3], NULL, 10);
	per = argc > 4 ? strtoul(argv[4], NULL, 10) : 100;
	if (!per || per > 1000 || total > 100000 * per) {
		fprintf(stderr, "walkgen: PER_DIR must be 1 to 1000, and "
			"FILES at most 100,000 directories of them\n");
		return 2;
	}
	dirfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0 ||
	    tool_unlock(dirfd, argv[2], &cfg, &kek, msg, sizeof(msg))) {
		fprintf(stderr, "walkgen: %s: cannot unlock: %s\n", argv[1],
			dirfd < 0 ? strerror(errno) : msg);
		return 1;
	}
	for (d = 0; made < total && !err; d++) {
		snprintf(name, sizeof(name), "d%05lu", d);
		if (mkdirat(dirfd, name, 0755)) {
			err = -errno;
			break;
		}
		dfd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0) {
			err = -errno;
			break;
		}
		for (i = 0; i < per && made < total && !err; i++, made++) {
			snprintf(name, sizeof(name), "f%03lu", i);
			snprintf(text, sizeof(text), "d%05lu/f%03lu\n", d,
				 i);
			err = make_file(dfd, name, kek, cfg.extent_size,
					text);
		}
		close(dfd);
	}
	kek_free(kek);
	close(dirfd);
	if (err) {
		fprintf(stderr, "walkgen: %s: file %lu of %lu: %s\n", argv[1],
			made + 1, total, strerror(-err));
		return 1;
	}
	printf("%lu\n", d);
	return 0;
}
