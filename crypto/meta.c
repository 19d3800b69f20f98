// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * crypto/meta.c - seal xattr values and symlink targets.
 * AAD domains: 'V' || value ID || name for xattrs ('X' || name before
 * value IDs), 'L' for symlinks, 'L' || link ID for a long target's
 * record; disjoint from the extent ('E') and sparse ('S') domains, which
 * use other keys anyway.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aead.h"
#include "codec.h"
#include "hdr.h"
#include "meta.h"
#include "names.h"

#define PREFIX_LEN	(sizeof(META_LINK_PREFIX) - 1)
#define LONG_PREFIX_LEN	(sizeof(META_LINK_LONG_PREFIX) - 1)

static int xattr_aad(const uint8_t *vid, const char *name, uint8_t **aad,
		     size_t *len)
{
	size_t head = vid ? 1 + META_VID_LEN : 1;

	*len = head + strlen(name);
	*aad = malloc(*len);
	if (!*aad)
		return -ENOMEM;
	(*aad)[0] = vid ? 'V' : 'X';
	if (vid)
		memcpy(*aad + 1, vid, META_VID_LEN);
	memcpy(*aad + head, name, *len - head);
	return 0;
}

bool meta_xattr_sealed(const char *name)
{
	if (!strncmp(name, NAMES_XATTR_PREFIX, strlen(NAMES_XATTR_PREFIX)))
		return true;
	return !strncmp(name, "user.", 5) &&
	       strncmp(name, HDR_XATTR_PREFIX, strlen(HDR_XATTR_PREFIX));
}

int meta_xattr_seal(const struct kek *kek, const uint8_t *vid,
		    const char *name, const void *val, size_t len, void *out)
{
	uint8_t *aad;
	size_t alen;
	int err = xattr_aad(vid, name, &aad, &alen);

	if (err)
		return err;
	err = aead_box_seal(kek->meta_key, aad, alen, val, len, out);
	free(aad);
	return err;
}

/* One form of a value (@vid's): under @kek, or its retiring KEK. */
int meta_xattr_open(const struct kek *kek, const uint8_t *vid,
		    const char *name, const void *box, size_t box_len,
		    void *out)
{
	uint8_t *aad;
	size_t alen;
	int err = xattr_aad(vid, name, &aad, &alen);

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

	if (len > META_LINK_SHORT_MAX)
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
	uint8_t id[META_LINK_ID_LEN];
	size_t plen;
	ssize_t n;

	if (meta_link_long_parse(backing, len, id, &plen) == 1)
		return (ssize_t)plen;
	if (len < PREFIX_LEN || memcmp(backing, META_LINK_PREFIX, PREFIX_LEN))
		return -EBADMSG;
	n = b64_dec_len(backing + PREFIX_LEN, len - PREFIX_LEN);
	if (n < AEAD_OVERHEAD)
		return -EBADMSG;
	return n - AEAD_OVERHEAD;
}

/*
 * Open a target's box of @plen + AEAD_OVERHEAD bytes under @kek, or its
 * retiring KEK (a rotation under way), into *@out.
 */
static int link_box_open(const struct kek *kek, const void *aad, size_t alen,
			 const uint8_t *box, size_t plen, char **out)
{
	char *t = malloc(plen + 1);
	int err;

	if (!t)
		return -ENOMEM;
	err = aead_box_open(kek->meta_key, aad, alen, box,
			    plen + AEAD_OVERHEAD, t);
	if (err == -EBADMSG && kek->retiring)
		err = aead_box_open(kek->retiring->meta_key, aad, alen, box,
				    plen + AEAD_OVERHEAD, t);
	if (err)
		goto out_free;
	t[plen] = '\0';
	/* A NUL inside would make readlink() and the kernel disagree. */
	err = -EBADMSG;
	if (strlen(t) != plen)
		goto out_free;
	*out = t;
	return 0;
out_free:
	free(t);
	return err;
}

int meta_link_open(const struct kek *kek, const char *backing, char **out)
{
	size_t len = strlen(backing);
	ssize_t plen = meta_link_len(backing, len);
	uint8_t *box;
	int err;

	if (plen < 0)
		return (int)plen;
	if (!memcmp(backing, META_LINK_LONG_PREFIX, LONG_PREFIX_LEN))
		return -EBADMSG;	/* its box is in its record */
	box = malloc((size_t)plen + AEAD_OVERHEAD + 2);
	if (!box)
		return -ENOMEM;
	err = -EBADMSG;
	if (b64_decode(backing + PREFIX_LEN, len - PREFIX_LEN, box) >= 0)
		err = link_box_open(kek, "L", 1, box, (size_t)plen, out);
	free(box);
	return err;
}

void meta_link_long_name(const uint8_t id[META_LINK_ID_LEN], size_t len,
			 char *out)
{
	char hex[2 * META_LINK_ID_LEN + 1];

	hex_encode(id, META_LINK_ID_LEN, hex);
	snprintf(out, META_LINK_LONG_LEN + 1, META_LINK_LONG_PREFIX "%s:%zu",
		 hex, len);
}

int meta_link_long_parse(const char *backing, size_t blen,
			 uint8_t id[META_LINK_ID_LEN], size_t *len)
{
	char hex[2 * META_LINK_ID_LEN + 1], canon[META_LINK_LONG_LEN + 1];
	const char *p = backing + LONG_PREFIX_LEN;
	uint64_t n;

	if (blen >= PREFIX_LEN &&
	    !memcmp(backing, META_LINK_PREFIX, PREFIX_LEN))
		return 0;
	if (blen > META_LINK_LONG_LEN || blen < LONG_PREFIX_LEN + sizeof(hex) ||
	    memcmp(backing, META_LINK_LONG_PREFIX, LONG_PREFIX_LEN) ||
	    p[sizeof(hex) - 1] != ':')
		return -EBADMSG;
	memcpy(hex, p, sizeof(hex) - 1);
	hex[sizeof(hex) - 1] = '\0';
	memcpy(canon, p + sizeof(hex), blen - LONG_PREFIX_LEN - sizeof(hex));
	canon[blen - LONG_PREFIX_LEN - sizeof(hex)] = '\0';
	if (hex_decode(hex, id, META_LINK_ID_LEN) ||
	    dec_parse_u64(canon, META_LINK_SHORT_MAX + 1, META_LINK_MAX, &n))
		return -EBADMSG;
	/* One spelling only: no upper-case hex, no leading zero. */
	meta_link_long_name(id, (size_t)n, canon);
	if (strlen(canon) != blen || memcmp(canon, backing, blen))
		return -EBADMSG;
	*len = (size_t)n;
	return 1;
}

static void long_aad(const uint8_t id[META_LINK_ID_LEN],
		     uint8_t aad[1 + META_LINK_ID_LEN])
{
	aad[0] = 'L';
	memcpy(aad + 1, id, META_LINK_ID_LEN);
}

int meta_link_long_seal(const struct kek *kek,
			const uint8_t id[META_LINK_ID_LEN], const char *target,
			void *box)
{
	uint8_t aad[1 + META_LINK_ID_LEN];
	size_t len = strlen(target);

	if (len <= META_LINK_SHORT_MAX || len > META_LINK_MAX)
		return -EINVAL;
	long_aad(id, aad);
	return aead_box_seal(kek->meta_key, aad, sizeof(aad), target, len, box);
}

int meta_link_long_open(const struct kek *kek,
			const uint8_t id[META_LINK_ID_LEN], size_t len,
			const void *box, size_t box_len, char **out)
{
	uint8_t aad[1 + META_LINK_ID_LEN];

	if (box_len != len + AEAD_OVERHEAD)
		return -EBADMSG;
	long_aad(id, aad);
	return link_box_open(kek, aad, sizeof(aad), box, len, out);
}
