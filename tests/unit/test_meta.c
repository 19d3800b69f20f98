// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/unit/test_meta.c - crypto/meta.c: sealed xattr values and symlink
 * targets.
 *
 * Both reach the backing store, so beyond the round trips the tests check
 * that the plaintext is not visible there, that an xattr value cannot be
 * moved to another name, and that every malformed backing target is
 * refused, including a correctly sealed one holding a NUL.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../crypto/aead.h"
#include "../../crypto/codec.h"
#include "../../crypto/meta.h"
#include "../../crypto/secmem.h"

#define PREFIX_LEN	(sizeof(META_LINK_PREFIX) - 1)

struct fixture {
	size_t live;
	struct kek *kek;
};

static int setup(void **state)
{
	static struct fixture f;
	uint8_t uuid[VOL_UUID_LEN];

	f.live = secmem_live();
	if (rand_fill(uuid, sizeof(uuid)) || kek_generate(uuid, &f.kek))
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	kek_free(f->kek);
	return secmem_live() == f->live ? 0 : -1;
}

/* ---- xattr values ---- */

static void test_xattr_round_trip(void **state)
{
	static const size_t sizes[] = { 0, 1, 100, 65000 };
	struct fixture *f = *state;
	uint8_t *val, *box, *out;
	size_t i, len;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		len = sizes[i];
		val = malloc(len + 1);
		box = malloc(len + AEAD_OVERHEAD);
		out = malloc(len + 1);
		assert_true(val && box && out);
		assert_int_equal(rand_fill(val, len), 0);
		assert_int_equal(meta_xattr_seal(f->kek, NULL, "user.comment",
						 val, len, box), 0);
		if (len >= 16)
			assert_memory_not_equal(box + AEAD_NONCE_LEN, val, 16);
		memset(out, 0xa5, len + 1);
		assert_int_equal(meta_xattr_open(f->kek, NULL, "user.comment",
						 box, len + AEAD_OVERHEAD, out),
				 0);
		assert_memory_equal(out, val, len);
		/* Exactly len bytes written: the guard byte is untouched. */
		assert_int_equal(out[len], 0xa5);
		free(out);
		free(box);
		free(val);
	}
}

static void test_xattr_wrong_name(void **state)
{
	static const char val[] = "secret value";
	static const char *const others[] = {
		"user.commenT", "user.comment2", "user.commen", "",
		"trusted.comment",
	};
	struct fixture *f = *state;
	uint8_t box[sizeof(val) + AEAD_OVERHEAD], out[sizeof(val)];
	size_t i;

	assert_int_equal(meta_xattr_seal(f->kek, NULL, "user.comment", val,
					 sizeof(val), box), 0);
	/* Renamed, or copied to another name: refused, output wiped. */
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		memset(out, 0xa5, sizeof(out));
		assert_int_equal(meta_xattr_open(f->kek, NULL, others[i], box,
						 sizeof(box), out), -EBADMSG);
		assert_memory_equal(out, (uint8_t[sizeof(out)]){ 0 },
				    sizeof(out));
	}
	/* Every flipped byte. */
	for (i = 0; i < sizeof(box); i++) {
		box[i] ^= 0x01;
		assert_int_equal(meta_xattr_open(f->kek, NULL, "user.comment",
						 box, sizeof(box), out),
				 -EBADMSG);
		box[i] ^= 0x01;
	}
	/* Too short to be a box. */
	assert_int_equal(meta_xattr_open(f->kek, NULL, "user.comment", box,
					 AEAD_OVERHEAD - 1, out), -EBADMSG);
	assert_int_equal(meta_xattr_open(f->kek, NULL, "user.comment", box,
					 sizeof(box), out), 0);
	assert_string_equal((char *)out, val);
}

static void test_xattr_other_kek(void **state)
{
	struct fixture *f = *state;
	uint8_t box[4 + AEAD_OVERHEAD], out[4];
	uint8_t uuid[VOL_UUID_LEN] = { 0 };
	struct kek *other;

	assert_int_equal(kek_generate(uuid, &other), 0);
	assert_int_equal(meta_xattr_seal(f->kek, NULL, "user.a", "abcd", 4,
					 box), 0);
	assert_int_equal(meta_xattr_open(other, NULL, "user.a", box,
					 sizeof(box), out), -EBADMSG);
	kek_free(other);
}

/*
 * A value bound to its inode's value ID opens under that ID only, never
 * as the older form; an older value opens only as the older form.
 */
static void test_xattr_bound(void **state)
{
	struct fixture *f = *state;
	uint8_t a[META_VID_LEN] = { 1 }, b[META_VID_LEN] = { 2 };
	uint8_t box[4 + AEAD_OVERHEAD], old[4 + AEAD_OVERHEAD], out[4];
	uint8_t uuid[VOL_UUID_LEN] = { 0 };
	struct kek *cur;

	assert_int_equal(meta_xattr_seal(f->kek, a, "user.a", "abcd", 4, box),
			 0);
	assert_int_equal(meta_xattr_open(f->kek, a, "user.a", box, sizeof(box),
					 out), 0);
	assert_memory_equal(out, "abcd", 4);
	/* Copied to another inode, to one without an ID, to another name. */
	assert_int_equal(meta_xattr_open(f->kek, b, "user.a", box, sizeof(box),
					 out), -EBADMSG);
	assert_int_equal(meta_xattr_open(f->kek, NULL, "user.a", box,
					 sizeof(box), out), -EBADMSG);
	assert_int_equal(meta_xattr_open(f->kek, a, "user.b", box, sizeof(box),
					 out), -EBADMSG);
	/* The older form reads without an ID only (volvid_open() chooses). */
	assert_int_equal(meta_xattr_seal(f->kek, NULL, "user.a", "efgh", 4,
					 old), 0);
	assert_int_equal(meta_xattr_open(f->kek, a, "user.a", old, sizeof(old),
					 out), -EBADMSG);
	assert_int_equal(meta_xattr_open(f->kek, NULL, "user.a", old,
					 sizeof(old), out), 0);
	assert_memory_equal(out, "efgh", 4);
	/* A bound value under the old KEK opens through ->retiring. */
	assert_int_equal(kek_generate(uuid, &cur), 0);
	assert_int_equal(meta_xattr_open(cur, a, "user.a", box, sizeof(box),
					 out), -EBADMSG);
	cur->retiring = f->kek;
	assert_int_equal(meta_xattr_open(cur, a, "user.a", box, sizeof(box),
					 out), 0);
	cur->retiring = NULL;		/* the fixture's */
	kek_free(cur);
}

/* ---- symlink targets ---- */

static void link_round_trip(struct fixture *f, const char *target)
{
	char *backing = NULL, *back = NULL;

	assert_int_equal(meta_link_seal(f->kek, NULL, target, &backing), 0);
	assert_non_null(backing);
	assert_memory_equal(backing, META_LINK_PREFIX, PREFIX_LEN);
	/* Must still fit a backing symlink (PATH_MAX, NUL included). */
	assert_true(strlen(backing) < 4096);
	if (strlen(target) >= 4)
		assert_null(strstr(backing, target));
	assert_int_equal(meta_link_len(backing, strlen(backing)),
			 (ssize_t)strlen(target));
	assert_int_equal(meta_link_open(f->kek, NULL, backing, &back), 0);
	assert_non_null(back);
	assert_string_equal(back, target);
	free(back);
	free(backing);
}

static void test_link_round_trip(void **state)
{
	struct fixture *f = *state;
	char *t = malloc(META_LINK_SHORT_MAX + 1);

	link_round_trip(f, "");
	link_round_trip(f, "a");
	link_round_trip(f, "/usr/bin/x");
	link_round_trip(f, "../../some dir/\xc3\xa9t\xc3\xa9");
	assert_non_null(t);
	memset(t, 'x', META_LINK_SHORT_MAX);
	t[META_LINK_SHORT_MAX] = '\0';
	link_round_trip(f, t);
	free(t);
}

static void test_link_too_long(void **state)
{
	struct fixture *f = *state;
	char *t = malloc(META_LINK_SHORT_MAX + 2), *out = NULL;

	assert_non_null(t);
	memset(t, 'x', META_LINK_SHORT_MAX + 1);
	t[META_LINK_SHORT_MAX + 1] = '\0';
	/* The long form's: volume/links.c makes it. */
	assert_int_equal(meta_link_seal(f->kek, NULL, t, &out), -ENAMETOOLONG);
	assert_null(out);
	free(t);
}

static void test_link_nonces_differ(void **state)
{
	struct fixture *f = *state;
	char *a, *b;

	assert_int_equal(meta_link_seal(f->kek, NULL, "/same", &a), 0);
	assert_int_equal(meta_link_seal(f->kek, NULL, "/same", &b), 0);
	assert_string_not_equal(a, b);
	free(a);
	free(b);
}

static void link_refused(struct fixture *f, const char *backing)
{
	char *out = NULL;
	int err = meta_link_open(f->kek, NULL, backing, &out);

	if (err != -EBADMSG)
		fail_msg("meta_link_open(\"%s\") = %d", backing, err);
	assert_null(out);
}

static void test_link_malformed(void **state)
{
	struct fixture *f = *state;
	char *good, *bad;
	size_t len;

	assert_int_equal(meta_link_seal(f->kek, NULL, "/usr/bin/x", &good), 0);
	len = strlen(good);
	bad = malloc(len + 2);
	assert_non_null(bad);

	/* No prefix: a plain symlink left in the backing directory. */
	link_refused(f, "/usr/bin/x");
	link_refused(f, good + PREFIX_LEN);
	link_refused(f, "");
	assert_true(meta_link_len("/usr/bin/x", 10) < 0);
	/* Another prefix version. */
	strcpy(bad, good);
	bad[8] = '2';
	link_refused(f, bad);
	/* Prefix alone, and a box too short to hold nonce and tag. */
	link_refused(f, META_LINK_PREFIX);
	link_refused(f, META_LINK_PREFIX "QUJD");
	/* Not base64. */
	link_refused(f, META_LINK_PREFIX "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
	strcpy(bad, good);
	bad[PREFIX_LEN + 5] = '*';
	link_refused(f, bad);
	/* Base64 cut by one character, or grown by one. */
	strcpy(bad, good);
	bad[len - 1] = '\0';
	link_refused(f, bad);
	strcpy(bad, good);
	strcat(bad, "A");
	link_refused(f, bad);
	free(bad);
	free(good);
}

/*
 * One character of the base64 changed to another valid one.  The 0x20
 * bit of a character's 6-bit value is never among the bits that padding
 * discards, so each change alters the box and must fail the tag.
 */
static void test_link_flipped_char(void **state)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct fixture *f = *state;
	char *good, *bad;
	size_t i, len;

	assert_int_equal(meta_link_seal(f->kek, NULL, "/usr/bin/x", &good), 0);
	len = strlen(good);
	bad = strdup(good);
	assert_non_null(bad);
	for (i = PREFIX_LEN; i < len && good[i] != '='; i++) {
		bad[i] = b64[(strchr(b64, good[i]) - b64) ^ 0x20];
		link_refused(f, bad);
		/* The length alone still reads: it is not authenticated. */
		assert_int_equal(meta_link_len(bad, len), 10);
		bad[i] = good[i];
	}
	assert_string_equal(bad, good);
	free(bad);
	free(good);
}

static void test_link_other_kek(void **state)
{
	struct fixture *f = *state;
	uint8_t uuid[VOL_UUID_LEN] = { 0 };
	struct kek *other;
	char *good, *out = NULL;

	assert_int_equal(kek_generate(uuid, &other), 0);
	assert_int_equal(meta_link_seal(f->kek, NULL, "/target", &good), 0);
	assert_int_equal(meta_link_open(other, NULL, good, &out), -EBADMSG);
	assert_null(out);
	kek_free(other);
	free(good);
}

/*
 * During a KEK rotation values and targets sealed under the old KEK open
 * through the new one's ->retiring; without it they do not.
 */
static void test_retiring(void **state)
{
	struct fixture *f = *state;
	uint8_t box[4 + AEAD_OVERHEAD], out[4];
	uint8_t uuid[VOL_UUID_LEN] = { 0 };
	struct kek *cur;
	char *link, *target = NULL;

	assert_int_equal(kek_generate(uuid, &cur), 0);
	assert_int_equal(meta_xattr_seal(f->kek, NULL, "user.a", "abcd", 4,
					 box), 0);
	assert_int_equal(meta_link_seal(f->kek, NULL, "/t", &link), 0);
	assert_int_equal(meta_xattr_open(cur, NULL, "user.a", box, sizeof(box),
					 out), -EBADMSG);
	assert_int_equal(meta_link_open(cur, NULL, link, &target), -EBADMSG);
	cur->retiring = f->kek;
	assert_int_equal(meta_xattr_open(cur, NULL, "user.a", box, sizeof(box),
					 out), 0);
	assert_memory_equal(out, "abcd", 4);
	assert_int_equal(meta_link_open(cur, NULL, link, &target), 0);
	assert_string_equal(target, "/t");
	cur->retiring = NULL;		/* the fixture's */
	kek_free(cur);
	free(link);
	free(target);
}

/* Seal @len bytes of @pt as meta.c does ('L' AAD), then encode. */
static char *handmade_link(struct fixture *f, const void *pt, size_t len,
			   const char *aad)
{
	size_t blen = len + AEAD_OVERHEAD;
	uint8_t *box = malloc(blen);
	char *s = malloc(PREFIX_LEN + b64_enc_len(blen) + 1);

	assert_true(box && s);
	assert_int_equal(aead_box_seal(f->kek->meta_key, aad, strlen(aad), pt,
				       len, box), 0);
	memcpy(s, META_LINK_PREFIX, PREFIX_LEN);
	b64_encode(box, blen, s + PREFIX_LEN);
	free(box);
	return s;
}

/* A NUL would make readlink() and the kernel see different targets. */
static void test_link_nul_inside(void **state)
{
	struct fixture *f = *state;
	char *s, *out = NULL;

	/* The construction is right: without the NUL it opens. */
	s = handmade_link(f, "ab/cd", 5, "L");
	assert_int_equal(meta_link_open(f->kek, NULL, s, &out), 0);
	assert_string_equal(out, "ab/cd");
	free(out);
	free(s);

	s = handmade_link(f, "ab\0cd", 5, "L");
	assert_int_equal(meta_link_len(s, strlen(s)), 5);
	link_refused(f, s);
	free(s);
	s = handmade_link(f, "abcd\0", 5, "L");
	link_refused(f, s);
	free(s);
}

/* An xattr value (AAD 'X' || name) cannot pose as a symlink target. */
static void test_link_domain(void **state)
{
	struct fixture *f = *state;
	char *s;

	s = handmade_link(f, "/etc", 4, "X");
	link_refused(f, s);
	free(s);
	s = handmade_link(f, "/etc", 4, "");
	link_refused(f, s);
	free(s);
}

/* ---- long targets: the backing target names a record ---- */

static char *long_target(size_t len)
{
	char *t = malloc(len + 1);
	size_t i;

	assert_non_null(t);
	for (i = 0; i < len; i++)
		t[i] = (char)(1 + i % 255);	/* every byte but NUL */
	t[len] = '\0';
	return t;
}

static void test_link_long_round_trip(void **state)
{
	static const size_t lens[] = { META_LINK_SHORT_MAX + 1, 4094,
				       META_LINK_MAX };
	struct fixture *f = *state;
	char name[META_LINK_LONG_LEN + 1], *t, *out = NULL;
	uint8_t id[META_LINK_ID_LEN], back[META_LINK_ID_LEN], *box;
	size_t i, len;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		t = long_target(lens[i]);
		box = malloc(lens[i] + AEAD_OVERHEAD);
		assert_non_null(box);
		assert_int_equal(rand_fill(id, sizeof(id)), 0);
		assert_int_equal(meta_link_long_seal(f->kek, id, t, box), 0);
		meta_link_long_name(id, lens[i], name);
		assert_true(strlen(name) <= META_LINK_LONG_LEN);
		assert_int_equal(meta_link_long_parse(name, strlen(name), back,
						      &len), 1);
		assert_memory_equal(back, id, sizeof(id));
		assert_int_equal(len, lens[i]);
		assert_int_equal(meta_link_len(name, strlen(name)),
				 (ssize_t)lens[i]);
		/* Its box is in its record, not in the name. */
		link_refused(f, name);
		assert_int_equal(meta_link_long_open(f->kek, id, lens[i], box,
						     lens[i] + AEAD_OVERHEAD,
						     &out), 0);
		assert_string_equal(out, t);
		free(out);
		out = NULL;
		/* Another link's ID, a length not its own, a changed byte. */
		id[3] ^= 1;
		assert_int_equal(meta_link_long_open(f->kek, id, lens[i], box,
						     lens[i] + AEAD_OVERHEAD,
						     &out), -EBADMSG);
		id[3] ^= 1;
		assert_int_equal(meta_link_long_open(f->kek, id, lens[i] - 1,
						     box, lens[i] +
						     AEAD_OVERHEAD, &out),
				 -EBADMSG);
		box[AEAD_NONCE_LEN + 7] ^= 0x80;
		assert_int_equal(meta_link_long_open(f->kek, id, lens[i], box,
						     lens[i] + AEAD_OVERHEAD,
						     &out), -EBADMSG);
		assert_null(out);
		free(box);
		free(t);
	}
	/* The short form's lengths, and past PATH_MAX - 1, are not its. */
	t = long_target(META_LINK_SHORT_MAX);
	box = malloc(META_LINK_MAX + 1 + AEAD_OVERHEAD);
	assert_non_null(box);
	assert_int_equal(meta_link_long_seal(f->kek, id, t, box), -EINVAL);
	free(t);
	t = long_target(META_LINK_MAX + 1);
	assert_int_equal(meta_link_long_seal(f->kek, id, t, box), -EINVAL);
	free(t);
	free(box);
}

/* One spelling of the long form, and nothing like it, is accepted. */
static void test_link_long_parse(void **state)
{
	static const char *const bad[] = {
		"atrestfs2:",
		"atrestfs2:00112233445566778899aabbccddeeff",
		"atrestfs2:00112233445566778899aabbccddeeff:",
		"atrestfs2:00112233445566778899aabbccddeeff:3000",
		"atrestfs2:00112233445566778899aabbccddeeff:4096",
		"atrestfs2:00112233445566778899aabbccddeeff:03001",
		"atrestfs2:00112233445566778899aabbccddeeff:+3001",
		"atrestfs2:00112233445566778899aabbccddeeff:3001 ",
		"atrestfs2:00112233445566778899AABBCCDDEEFF:3001",
		"atrestfs2:00112233445566778899aabbccddeef:3001",
		"atrestfs2:00112233445566778899aabbccddeeff0:3001",
		"atrestfs2:00112233445566778899aabbccddeefg:3001",
		"atrestfs2;00112233445566778899aabbccddeeff:3001",
		"atrestfs3:00112233445566778899aabbccddeeff:3001",
		"",
		"/usr/bin/x",
	};
	uint8_t id[META_LINK_ID_LEN];
	size_t i, len;
	char *out = NULL;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (meta_link_long_parse(bad[i], strlen(bad[i]), id, &len) !=
		    -EBADMSG)
			fail_msg("long form \"%s\" accepted", bad[i]);
		assert_true(meta_link_len(bad[i], strlen(bad[i])) < 0);
		assert_int_equal(meta_link_open(NULL, NULL, bad[i], &out), -EBADMSG);
	}
	assert_int_equal(meta_link_long_parse(META_LINK_PREFIX "QUJD", 14, id,
					      &len), 0);
	assert_int_equal(meta_link_long_parse(
		"atrestfs2:00112233445566778899aabbccddeeff:4095", 47, id,
		&len), 1);
	assert_int_equal(len, 4095);
	assert_int_equal(id[15], 0xff);
}

/* A long target's record under the old KEK opens through ->retiring. */
static void test_link_long_retiring(void **state)
{
	struct fixture *f = *state;
	uint8_t uuid[VOL_UUID_LEN] = { 0 }, id[META_LINK_ID_LEN] = { 7 };
	char *t = long_target(3500), *out = NULL;
	uint8_t *box = malloc(3500 + AEAD_OVERHEAD);
	struct kek *cur;

	assert_non_null(box);
	assert_int_equal(kek_generate(uuid, &cur), 0);
	assert_int_equal(meta_link_long_seal(f->kek, id, t, box), 0);
	assert_int_equal(meta_link_long_open(cur, id, 3500, box,
					     3500 + AEAD_OVERHEAD, &out),
			 -EBADMSG);
	cur->retiring = f->kek;
	assert_int_equal(meta_link_long_open(cur, id, 3500, box,
					     3500 + AEAD_OVERHEAD, &out), 0);
	assert_string_equal(out, t);
	cur->retiring = NULL;		/* the fixture's */
	kek_free(cur);
	free(out);
	free(box);
	free(t);
}

/* ---- targets bound to their place ---- */

static void test_link_bound(void **state)
{
	struct fixture *f = *state;
	struct meta_link_at a = { .name = "link" }, b;
	char *backing, *out = NULL;

	assert_int_equal(rand_fill(a.dirid, sizeof(a.dirid)), 0);
	assert_int_equal(meta_link_seal(f->kek, &a, "/t", &backing), 0);
	assert_int_equal(meta_link_open(f->kek, &a, backing, &out), 0);
	assert_string_equal(out, "/t");
	free(out);
	/* Another name, another directory, the unbound form: refused. */
	b = a;
	b.name = "linj";
	assert_int_equal(meta_link_open(f->kek, &b, backing, &out), -EBADMSG);
	b = a;
	b.dirid[15] ^= 1;
	assert_int_equal(meta_link_open(f->kek, &b, backing, &out), -EBADMSG);
	assert_int_equal(meta_link_open(f->kek, NULL, backing, &out), -EBADMSG);
	free(backing);
	/* And an unbound one does not open bound. */
	assert_int_equal(meta_link_seal(f->kek, NULL, "/t", &backing), 0);
	assert_int_equal(meta_link_open(f->kek, &a, backing, &out), -EBADMSG);
	free(backing);
}

static void test_link_long_tag(void **state)
{
	struct fixture *f = *state;
	struct meta_link_at a = { .name = "long" }, b;
	char head[META_LINK_LONG_LEN + 1], *tagged, *other;
	uint8_t id[META_LINK_ID_LEN], back[META_LINK_ID_LEN];
	size_t len;

	assert_int_equal(rand_fill(a.dirid, sizeof(a.dirid)), 0);
	assert_int_equal(rand_fill(id, sizeof(id)), 0);
	meta_link_long_name(id, 4095, head);
	assert_int_equal(meta_link_long_bind(f->kek, &a, head, strlen(head),
					     &tagged), 0);
	assert_int_equal(strlen(tagged), strlen(head) + 1 + META_LINK_TAG_LEN);
	assert_true(strlen(tagged) <= META_LINK_LONG_LEN);
	assert_int_equal(meta_link_long_parse(tagged, strlen(tagged), back,
					      &len), 1);
	assert_memory_equal(back, id, sizeof(id));
	assert_int_equal(len, 4095);
	assert_int_equal(meta_link_len(tagged, strlen(tagged)), 4095);
	assert_int_equal(meta_link_long_check(f->kek, &a, tagged,
					      strlen(tagged)), 0);
	/* Another place, no place, no tag, a changed tag: refused. */
	b = a;
	b.name = "lonh";
	assert_int_equal(meta_link_long_check(f->kek, &b, tagged,
					      strlen(tagged)), -EBADMSG);
	assert_int_equal(meta_link_long_check(f->kek, NULL, tagged,
					      strlen(tagged)), -EBADMSG);
	assert_int_equal(meta_link_long_check(f->kek, &a, head, strlen(head)),
			 -EBADMSG);
	assert_int_equal(meta_link_long_check(f->kek, NULL, head, strlen(head)),
			 0);
	/* Re-tagged for another place (a rename): the head stays. */
	assert_int_equal(meta_link_long_bind(f->kek, &b, tagged, strlen(tagged),
					     &other), 0);
	assert_memory_equal(other, head, strlen(head));
	assert_int_equal(meta_link_long_check(f->kek, &b, other,
					      strlen(other)), 0);
	other[strlen(other) - 5] ^= 1;
	assert_int_not_equal(meta_link_long_check(f->kek, &b, other,
						  strlen(other)), 0);
	/* A tag of the wrong length does not parse. */
	tagged[strlen(tagged) - 1] = '\0';
	assert_int_equal(meta_link_long_parse(tagged, strlen(tagged), back,
					      &len), -EBADMSG);
	free(other);
	free(tagged);
}

#define T(fn)	cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_xattr_round_trip),
		T(test_xattr_wrong_name),
		T(test_xattr_other_kek),
		T(test_xattr_bound),
		T(test_link_round_trip),
		T(test_link_too_long),
		T(test_link_nonces_differ),
		T(test_link_malformed),
		T(test_link_flipped_char),
		T(test_link_other_kek),
		T(test_retiring),
		T(test_link_nul_inside),
		T(test_link_domain),
		T(test_link_long_round_trip),
		T(test_link_long_parse),
		T(test_link_long_retiring),
		T(test_link_bound),
		T(test_link_long_tag),
	};

	return cmocka_run_group_tests_name("meta: sealed xattr values and symlink targets",
					   tests, NULL, NULL);
}
