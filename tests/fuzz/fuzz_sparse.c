// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/fuzz/fuzz_sparse.c - the sparse record (user.atrestfs.sparse
 * xattr), the record that lets a file read all-zero extents as holes,
 * checked under the fixed DEK as fs/key.c and fsck do.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../crypto/extent.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *rec = malloc(size ? size : 1);
	int err;

	if (!rec)
		abort();
	memcpy(rec, data, size);
	err = extent_sparse_check(fuzz_fk(), rec, size);
	if (err && err != -EBADMSG)
		abort();
	free(rec);
	return 0;
}
