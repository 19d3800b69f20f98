// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/fuzz/fuzz_filestate.c - this machine's journal of the volume's
 * file versions (fs/filestate.c: header, then MACed records), loaded by
 * fstate_open() under the fixed KEK as at mount.  A journal that loads is
 * compacted on the way: it must then load again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../fs/fs_private.h"
#include "fuzz.h"
#include "fuzz_dir.h"

static const char *path;
static int dirfd;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc; (void)argv;
	path = fuzz_dir();
	dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fstate *s;
	char msg[1024];
	int err;

	fuzz_put(dirfd, FSTATE_NAME, data, size);
	err = fstate_open(dirfd, path, fuzz_kek(), fuzz_uuid, &s, msg,
			  sizeof(msg));
	if (err < 0 && err != -EBADMSG)
		abort();
	if (err >= 0) {
		(void)fstate_get(s, fuzz_file_id);
		fstate_free(s);
		if (fstate_open(dirfd, path, fuzz_kek(), fuzz_uuid, &s, msg,
				sizeof(msg)) != 0)
			abort();
		fstate_free(s);
	}
	return 0;
}
