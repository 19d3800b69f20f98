// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * crypto/meta.c - seal xattr values and symlink targets.
 * AAD domains: 'X' || name for xattrs, 'L' for symlinks, disjoint from the
 * extent ('E') and sparse ('S') domains, which use other keys anyway.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aead.h"
#include "codec.h"
#include "hdr.h"
#include "meta.h"
#include "names.h"

#define PREFIX_LEN	(sizeof(META_LINK_PREFIX) - 1)

static int xattr_aad(const char *name, uint8_t **aad, size_t *len)
{
	*len = 1 + strlen(name);
	*aad = malloc(*len);
	if (!*aad)
		return -ENOMEM;
	(*aad)[0] = 'X';
	memcpy(*aad + 1, name, *len - 1);
	return 0;
}

bool meta_xattr_sealed(const char *name)
{
	if (!strncmp(name, NAMES_XATTR_PREFIX, strlen(NAMES_XATTR_PREFIX)))
		return true;
	return !strncmp(name, "user.", 5) &&
	       strncmp(name, HDR_XATTR_PREFIX, strlen(HDR_XATTR_PREFIX));
}

int meta_xattr_seal(const struct kek *kek, const char *name,
		    const void *val, size_t len, void *out)
{
	uint8_t *aad;
	size_t alen;
	int err = xattr_aad(name, &aad, &alen);

	if (err)
		return err;
	err = aead_box_seal(kek->meta_key, aad, alen, val, len, out);
	free(aad);
	return err;
}

int meta_xattr_open(const struct kek *kek, const char *name,
		    const void *box, size_t box_len, void *out)
{
	uint8_t *aad;
	size_t alen;
	int err = xattr_aad(name, &aad, &alen);

	if (err)
		return err;
	err = aead_box_open(kek->meta_key, aad, alen, box, box_len, out);
	/* During a rotation, a value not yet re-sealed is under the old key. */
	if (err == -EBADMSG && kek->retiring)
		err = aead_box_open(kek->retiring->meta_key, aad, alen, box,
				    box_len, out);
	free(aad);
	return err;
}

int meta_link_seal(const struct kek *kek, const char *target, char **out)
{
	size_t len = strlen(target), blen = len + AEAD_OVERHEAD;
	uint8_t *box;
	char *s;
	int err;

	if (len > META_LINK_MAX)
		return -ENAMETOOLONG;
	box = malloc(blen);
	s = malloc(PREFIX_LEN + b64_enc_len(blen) + 1);
	err = -ENOMEM;
	if (!box || !s)
		goto out_free;
	err = aead_box_seal(kek->meta_key, "L", 1, target, len, box);
	if (err)
		goto out_free;
	memcpy(s, META_LINK_PREFIX, PREFIX_LEN);
	b64_encode(box, blen, s + PREFIX_LEN);
	*out = s;
	s = NULL;
out_free:
	free(box);
	free(s);
	return err;
}

ssize_t meta_link_len(const char *backing, size_t len)
{
	ssize_t n;

	if (len < PREFIX_LEN || memcmp(backing, META_LINK_PREFIX, PREFIX_LEN))
		return -EBADMSG;
	n = b64_dec_len(backing + PREFIX_LEN, len - PREFIX_LEN);
	if (n < AEAD_OVERHEAD)
		return -EBADMSG;
	return n - AEAD_OVERHEAD;
}

int meta_link_open(const struct kek *kek, const char *backing, char **out)
{
	size_t len = strlen(backing), blen;
	ssize_t plen = meta_link_len(backing, len);
	uint8_t *box;
	char *t;
	int err;

	if (plen < 0)
		return (int)plen;
	blen = (size_t)plen + AEAD_OVERHEAD;
	box = malloc(blen + 2);
	t = malloc((size_t)plen + 1);
	err = -ENOMEM;
	if (!box || !t)
		goto out_free;
	err = -EBADMSG;
	if (b64_decode(backing + PREFIX_LEN, len - PREFIX_LEN, box) < 0)
		goto out_free;
	err = aead_box_open(kek->meta_key, "L", 1, box, blen, t);
	if (err == -EBADMSG && kek->retiring)
		err = aead_box_open(kek->retiring->meta_key, "L", 1, box, blen,
				    t);
	if (err)
		goto out_free;
	t[plen] = '\0';
	/* A NUL inside would make readlink() and the kernel disagree. */
	err = -EBADMSG;
	if (strlen(t) != (size_t)plen)
		goto out_free;
	*out = t;
	t = NULL;
	err = 0;
out_free:
	free(box);
	free(t);
	return err;
}
