/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tests/fuzz/fuzz_dir.h - for the targets whose parser reads a file of
 * this machine's state directory (volume/state.c, fs/filestate.c): a
 * private directory, made once, that each input is written into.  On
 * tmpfs when there is one, as every input is written and fsync()ed.
 */
#ifndef ATR_FUZZ_DIR_H
#define ATR_FUZZ_DIR_H
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char fuzz_dir_path[64];

static int fuzz_dir_rm(const char *path, const struct stat *st, int type,
		       struct FTW *ftw)
{
	(void)st; (void)type; (void)ftw;
	return remove(path);
}

static void fuzz_dir_cleanup(void)
{
	nftw(fuzz_dir_path, fuzz_dir_rm, 8, FTW_DEPTH | FTW_PHYS);
}

/* Make the directory (0700) at the first call; removed at exit. */
static inline const char *fuzz_dir(void)
{
	if (fuzz_dir_path[0])
		return fuzz_dir_path;
	snprintf(fuzz_dir_path, sizeof(fuzz_dir_path), "%s/atr-fuzz.XXXXXX",
		 access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm");
	if (!mkdtemp(fuzz_dir_path))
		abort();
	atexit(fuzz_dir_cleanup);
	return fuzz_dir_path;
}

/* @dirfd/@name holds exactly @data now, mode 0600. */
static inline void fuzz_put(int dirfd, const char *name, const uint8_t *data,
			    size_t size)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC |
			O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, data, size) != (ssize_t)size || close(fd))
		abort();
}
#endif
