// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * crypto/meta.c - seal xattr values and symlink targets.
 * AAD domains: 'V' || value ID || name for xattrs ('X' || name before
 * value IDs), 'B' || directory ID || backing name for a bound symlink
 * ('L' before binding), 'L' || link ID for a long target's record,
 * 'T' || directory ID || head || NUL || backing name for a long target's
 * tag; disjoint from the extent ('E') and sparse ('S') domains, which use
 * other keys anyway.
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

/*
 * A short target's AAD for @at into *@aad (malloc()ed): 'L' unbound,
 * else 'B' || directory ID || backing name.
 */
static int link_aad(const struct meta_link_at *at, uint8_t **aad,
		    size_t *len)
{
	size_t nlen = at ? strlen(at->name) : 0;

	*len = at ? 1 + NAMES_DIRID_LEN + nlen : 1;
	*aad = malloc(*len);
	if (!*aad)
		return -ENOMEM;
	(*aad)[0] = at ? 'B' : 'L';
	if (at) {
		memcpy(*aad + 1, at->dirid, NAMES_DIRID_LEN);
		memcpy(*aad + 1 + NAMES_DIRID_LEN, at->name, nlen);
	}
	return 0;
}

int meta_link_seal(const struct kek *kek, const struct meta_link_at *at,
		   const char *target, char **out)
{
	size_t len = strlen(target), blen = len + AEAD_OVERHEAD, alen;
	uint8_t *box, *aad = NULL;
	char *s;
	int err;

	if (len > META_LINK_SHORT_MAX)
		return -ENAMETOOLONG;
	box = malloc(blen);
	s = malloc(PREFIX_LEN + b64_enc_len(blen) + 1);
	err = -ENOMEM;
	if (!box || !s)
		goto out_free;
	err = link_aad(at, &aad, &alen);
	if (!err)
		err = aead_box_seal(kek->meta_key, aad, alen, target, len, box);
	if (err)
		goto out_free;
	memcpy(s, META_LINK_PREFIX, PREFIX_LEN);
	b64_encode(box, blen, s + PREFIX_LEN);
	*out = s;
	s = NULL;
out_free:
	free(aad);
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

int meta_link_open(const struct kek *kek, const struct meta_link_at *at,
		   const char *backing, char **out)
{
	size_t len = strlen(backing), alen;
	ssize_t plen = meta_link_len(backing, len);
	uint8_t *box, *aad;
	int err;

	if (plen < 0)
		return (int)plen;
	if (!memcmp(backing, META_LINK_LONG_PREFIX, LONG_PREFIX_LEN))
		return -EBADMSG;	/* its box is in its record */
	err = link_aad(at, &aad, &alen);
	if (err)
		return err;
	box = malloc((size_t)plen + AEAD_OVERHEAD + 2);
	err = -ENOMEM;
	if (!box)
		goto out_free;
	err = -EBADMSG;
	if (b64_decode(backing + PREFIX_LEN, len - PREFIX_LEN, box) >= 0)
		err = link_box_open(kek, aad, alen, box, (size_t)plen, out);
out_free:
	free(box);
	free(aad);
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
	const char *p = backing + LONG_PREFIX_LEN, *rest, *colon;
	size_t rlen, dlen, hlen;
	uint64_t n;

	if (blen >= PREFIX_LEN &&
	    !memcmp(backing, META_LINK_PREFIX, PREFIX_LEN))
		return 0;
	if (blen > META_LINK_LONG_LEN || blen < LONG_PREFIX_LEN + sizeof(hex) ||
	    memcmp(backing, META_LINK_LONG_PREFIX, LONG_PREFIX_LEN) ||
	    p[sizeof(hex) - 1] != ':')
		return -EBADMSG;
	/* The length, then a tag if the link is bound. */
	rest = p + sizeof(hex);
	rlen = blen - LONG_PREFIX_LEN - sizeof(hex);
	colon = memchr(rest, ':', rlen);
	dlen = colon ? (size_t)(colon - rest) : rlen;
	if (dlen > 4 || (colon && rlen - dlen - 1 != META_LINK_TAG_LEN))
		return -EBADMSG;
	memcpy(hex, p, sizeof(hex) - 1);
	hex[sizeof(hex) - 1] = '\0';
	memcpy(canon, rest, dlen);
	canon[dlen] = '\0';
	if (hex_decode(hex, id, META_LINK_ID_LEN) ||
	    dec_parse_u64(canon, META_LINK_SHORT_MAX + 1, META_LINK_MAX, &n))
		return -EBADMSG;
	/* One spelling only: no upper-case hex, no leading zero. */
	meta_link_long_name(id, (size_t)n, canon);
	hlen = colon ? blen - 1 - META_LINK_TAG_LEN : blen;
	if (strlen(canon) != hlen || memcmp(canon, backing, hlen))
		return -EBADMSG;
	*len = (size_t)n;
	return 1;
}

/*
 * The tag's AAD for the head of @backing (@hlen bytes) at @at into *@aad
 * (malloc()ed): 'T' || directory ID || head || NUL || backing name.
 */
static int tag_aad(const struct meta_link_at *at, const char *backing,
		   size_t hlen, uint8_t **aad, size_t *len)
{
	size_t nlen = strlen(at->name);
	uint8_t *a;

	*len = 1 + NAMES_DIRID_LEN + hlen + 1 + nlen;
	a = *aad = malloc(*len);
	if (!a)
		return -ENOMEM;
	a[0] = 'T';
	memcpy(a + 1, at->dirid, NAMES_DIRID_LEN);
	memcpy(a + 1 + NAMES_DIRID_LEN, backing, hlen);
	a[1 + NAMES_DIRID_LEN + hlen] = '\0';
	memcpy(a + 2 + NAMES_DIRID_LEN + hlen, at->name, nlen);
	return 0;
}

/* The head's length of the parsed long form @backing. */
static size_t head_len(const char *backing, size_t blen)
{
	const char *colon = memchr(backing + LONG_PREFIX_LEN, ':',
				   blen - LONG_PREFIX_LEN);

	colon = memchr(colon + 1, ':', blen - (size_t)(colon + 1 - backing));
	return colon ? (size_t)(colon - backing) : blen;
}

int meta_link_long_check(const struct kek *kek, const struct meta_link_at *at,
			 const char *backing, size_t blen)
{
	size_t hlen = head_len(backing, blen), alen;
	uint8_t box[AEAD_OVERHEAD + 2], *aad, none;
	int err;

	if (!at)
		return hlen == blen ? 0 : -EBADMSG;
	if (hlen == blen ||
	    b64_decode(backing + hlen + 1, META_LINK_TAG_LEN, box) !=
	    AEAD_OVERHEAD)
		return -EBADMSG;
	err = tag_aad(at, backing, hlen, &aad, &alen);
	if (err)
		return err;
	err = aead_box_open(kek->meta_key, aad, alen, box, AEAD_OVERHEAD,
			    &none);
	/* During a rotation, a link not yet re-tagged is under the old key. */
	if (err == -EBADMSG && kek->retiring)
		err = aead_box_open(kek->retiring->meta_key, aad, alen, box,
				    AEAD_OVERHEAD, &none);
	free(aad);
	return err;
}

int meta_link_long_bind(const struct kek *kek, const struct meta_link_at *at,
			const char *backing, size_t blen, char **out)
{
	size_t hlen = head_len(backing, blen), alen;
	uint8_t box[AEAD_OVERHEAD], *aad;
	char *s = malloc(META_LINK_LONG_LEN + 1);
	int err = 0;

	if (!s)
		return -ENOMEM;
	memcpy(s, backing, hlen);
	s[hlen] = '\0';
	if (at) {
		err = tag_aad(at, backing, hlen, &aad, &alen);
		if (!err) {
			err = aead_box_seal(kek->meta_key, aad, alen, "", 0,
					    box);
			free(aad);
		}
		if (!err) {
			s[hlen] = ':';
			b64_encode(box, sizeof(box), s + hlen + 1);
		}
	}
	if (err)
		free(s);
	else
		*out = s;
	return err;
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
