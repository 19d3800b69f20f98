// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/fuzz/fuzz_meta.c - the sealed metadata records under the fixed
 * KEK's metadata key: a backing symlink target (first byte 0: the rest is
 * the target, as readlink() gives it), a user xattr value (first byte
 * 1, or 5 for the form bound to a fixed value ID: a name up to a NUL,
 * then the sealed value) and a long target (first byte 2: its backing
 * target up to a NUL, then its record).
 * meta_link_len(), which lstat trusts for st_size, must agree with what
 * meta_link_open() and meta_link_long_open() yield.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "../../crypto/meta.h"
#include "fuzz.h"

static void link_one(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size), *t = NULL;
	ssize_t n = meta_link_len(s, strlen(s));
	int err = meta_link_open(fuzz_kek(), NULL, s, &t);

	if (err && err != -EBADMSG && err != -EINVAL)
		abort();
	if (!err) {
		if (n < 0 || strlen(t) != (size_t)n)
			abort();
		free(t);
	}
	free(s);
}

static void xattr_one(const uint8_t *data, size_t size, bool bound)
{
	static const uint8_t vid[META_VID_LEN] = { 0x56, 0x49, 0x44 };
	const uint8_t *nul = memchr(data, '\0', size);
	size_t nlen = nul ? (size_t)(nul - data) : size;
	size_t blen = nul ? size - nlen - 1 : 0;
	char *name = fuzz_str(data, nlen);
	uint8_t *box = malloc(blen ? blen : 1), *out = malloc(blen ? blen : 1);
	int err;

	if (!box || !out)
		abort();
	memcpy(box, data + size - blen, blen);
	err = meta_xattr_open(fuzz_kek(), bound ? vid : NULL, name, box, blen,
			      out);
	if (err && err != -EBADMSG && err != -EINVAL)
		abort();
	free(name);
	free(box);
	free(out);
}

static void long_one(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t nlen = nul ? (size_t)(nul - data) : size, len;
	size_t blen = nul ? size - nlen - 1 : 0;
	char *name = fuzz_str(data, nlen), *t = NULL;
	uint8_t id[META_LINK_ID_LEN];
	ssize_t n = meta_link_len(name, nlen);
	int err = meta_link_long_parse(name, nlen, id, &len);

	if (err == 1) {
		if (n != (ssize_t)len)
			abort();
		err = meta_link_long_open(fuzz_kek(), id, len, data + nlen + 1,
					  blen, &t);
		if (!err && strlen(t) != len)
			abort();
		free(t);
	}
	if (err < 0 && err != -EBADMSG)
		abort();
	free(name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 2)
		long_one(data + 1, size - 1);
	else if (data[0] & 1)
		xattr_one(data + 1, size - 1, data[0] & 4);
	else
		link_one(data + 1, size - 1);
	return 0;
}
