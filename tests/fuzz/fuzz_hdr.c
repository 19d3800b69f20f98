// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/fuzz/fuzz_hdr.c - the file header (user.atrestfs.hdr xattr):
 * hdr_parse(), and hdr_unwrap() under the fixed KEK for what parses.
 * A header that parses must build back to the same bytes: the parser
 * accepts nothing the builder would not write (reserved bytes, flags).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../crypto/hdr.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1), out[HDR_SIZE];
	struct file_key *fk = NULL;
	struct hdr h;
	int err;

	if (!buf)
		abort();
	memcpy(buf, data, size);
	err = hdr_parse(buf, size, &h);
	if (err && err != -EBADMSG && err != -EPROTONOSUPPORT)
		abort();
	if (!err) {
		hdr_build(&h, out);
		if (size != HDR_SIZE || memcmp(out, buf, HDR_SIZE))
			abort();
		err = hdr_unwrap(fuzz_kek(), &h, &fk);
		if (err && err != -ENOKEY && err != -EBADMSG)
			abort();
		if (!err)
			file_key_free(fk);
	}
	free(buf);
	return 0;
}
