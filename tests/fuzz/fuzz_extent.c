// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/fuzz/fuzz_extent.c - one extent of a file's data as read from the
 * backing file, opened under the fixed DEK.  The first input byte picks
 * the position (bit 0: last extent; bits 1..7: index), the rest is the
 * extent as on disk.  Both the plain and the context path are opened, and
 * must agree; the size and hole helpers see the same bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../crypto/extent.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aead_ctx *ac;
	uint8_t *in, *out, *out2;
	uint64_t idx, plain;
	size_t len;
	bool last;
	int err, err2;

	if (size < 1)
		return 0;
	if (!(ac = aead_ctx_new()))
		abort();
	last = data[0] & 1;
	idx = data[0] >> 1;
	len = size - 1;
	in = malloc(len ? len : 1);
	out = malloc(len ? len : 1);
	out2 = malloc(len ? len : 1);
	if (!in || !out || !out2)
		abort();
	memcpy(in, data + 1, len);
	(void)extent_is_hole(in, len);
	(void)extent_plain_size(EXTENT_DEFAULT_SIZE, len, &plain);
	err = extent_open(fuzz_fk(), idx, last, in, len, out);
	err2 = extent_open_ctx(ac, fuzz_fk(), idx, last, in, len, out2);
	if (err != err2 || (err && err != -EBADMSG && err != -EINVAL))
		abort();
	if (!err && len > EXTENT_OVERHEAD &&
	    memcmp(out, out2, len - EXTENT_OVERHEAD))
		abort();
	free(in);
	free(out);
	free(out2);
	aead_ctx_free(ac);
	return 0;
}
