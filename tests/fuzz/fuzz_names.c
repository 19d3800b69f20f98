// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/fuzz/fuzz_names.c - encrypted file names (crypto/names.h): what a
 * backing directory's entries and long-name records feed the daemon's
 * readdir, `atrestfs path -r` and fsck.  The first byte picks the parser:
 *   0: names_decrypt() of a backing name under the fixed names key and
 *      directory ID.  A name that opens is a valid name and encrypts back
 *      to exactly the input (one backing name per name), and does not
 *      open in another directory.
 *   1: b64url_decode(); what decodes encodes back to the input.
 *   2: a long name: "backing NUL record" through names_is_long(),
 *      names_is_sidecar() and names_long_check(); a record that checks
 *      and opens is the one its name encrypts to.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../../crypto/codec.h"
#include "../../crypto/names.h"
#include "fuzz.h"

static const uint8_t other_dirid[NAMES_DIRID_LEN] = "another dir ID!!";

/* @enc (@n bytes) opened in the fixed directory: the checks of mode 0. */
static void check_decrypt(const char *enc, size_t n, const char *backing)
{
	char out[NAMES_PLAIN_MAX + 1];
	struct names_enc again;
	size_t len;
	int err;

	err = names_decrypt(NULL, fuzz_names_key, fuzz_dirid, enc, n, out);
	if (err && err != -EBADMSG)
		abort();
	if (err)
		return;
	len = strlen(out);
	if (!len || len > NAMES_PLAIN_MAX || strchr(out, '/') ||
	    !strcmp(out, ".") || !strcmp(out, ".."))
		abort();
	if (names_encrypt(NULL, fuzz_names_key, fuzz_dirid, out, &again) ||
	    strlen(again.full) != n || memcmp(again.full, enc, n) ||
	    again.is_long != (n > NAMES_BACKING_MAX))
		abort();
	if (backing && strcmp(again.backing, backing))
		abort();
	if (!names_decrypt(NULL, fuzz_names_key, other_dirid, enc, n, out))
		abort();
}

static void check_b64(const char *in, size_t n)
{
	uint8_t *out = malloc(n ? n : 1);
	char *again;
	ssize_t len;

	if (!out)
		abort();
	len = b64url_decode(in, n, out, n);
	if (len < 0 && len != -EINVAL)
		abort();
	if (len >= 0) {
		again = malloc(b64url_enc_len((size_t)len) + 1);
		if (!again)
			abort();
		b64url_encode(out, (size_t)len, again);
		if (strlen(again) != n || memcmp(again, in, n))
			abort();
		free(again);
	}
	free(out);
}

static void check_long(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t bn = nul ? (size_t)(nul - data) : size;
	size_t rn = nul ? size - bn - 1 : 0;
	char *backing = fuzz_str(data, bn), *rec = fuzz_str(data + bn + !!nul,
							    rn);
	char side[NAME_MAX + 1];
	bool is_long = names_is_long(backing);
	int err;

	if (is_long && names_is_sidecar(backing))
		abort();
	if (is_long) {
		names_sidecar(backing, side);
		if (!names_is_sidecar(side) || names_is_long(side))
			abort();
	}
	err = names_long_check(backing, rec, rn);
	if (err && err != -EBADMSG)
		abort();
	if (!err) {
		if (!is_long || rn <= NAMES_BACKING_MAX || rn > NAMES_ENC_MAX)
			abort();
		check_decrypt(rec, rn, backing);
	}
	free(backing);
	free(rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (!size)
		return 0;
	switch (data[0] % 3) {
	case 0:
		/* Not NUL-terminated where it ends: ASan sees an overread. */
		s = malloc(size - 1 ? size - 1 : 1);
		if (!s)
			abort();
		memcpy(s, data + 1, size - 1);
		check_decrypt(s, size - 1, NULL);
		free(s);
		break;
	case 1:
		s = malloc(size - 1 ? size - 1 : 1);
		if (!s)
			abort();
		memcpy(s, data + 1, size - 1);
		check_b64(s, size - 1);
		free(s);
		break;
	default:
		check_long(data + 1, size - 1);
	}
	return 0;
}
