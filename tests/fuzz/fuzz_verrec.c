// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/fuzz/fuzz_verrec.c - a file's version record (user.atrestfs.ver
 * xattr), opened under the fixed DEK.  A record that opens must be well
 * formed (verrec.h) and seal again (with a fresh nonce) into one that
 * opens to the same fields.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../crypto/verrec.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *rec = malloc(size ? size : 1), again[VERREC_LEN];
	struct verrec v, w;
	int err;

	if (!rec)
		abort();
	memcpy(rec, data, size);
	err = verrec_open(fuzz_fk(), rec, size, &v);
	if (err && err != -EBADMSG)
		abort();
	if (!err) {
		if (!v.counter || v.flags & ~VERREC_F_KNOWN)
			abort();
		if (verrec_seal(fuzz_fk(), &v, again) ||
		    verrec_open(fuzz_fk(), again, sizeof(again), &w) ||
		    w.counter != v.counter || w.size != v.size ||
		    w.flags != v.flags || memcmp(w.tag, v.tag, sizeof(v.tag)))
			abort();
	}
	free(rec);
	return 0;
}
