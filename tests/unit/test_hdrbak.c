// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/unit/test_hdrbak.c - crypto/hdrbak.c: the lines of a header
 * backup.  A backup is untrusted input at restore: besides round trips
 * (odd names included), a path that could leave the volume and every
 * malformed field must be refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../crypto/hdrbak.h"

static char line[HDRBAK_LINE_MAX];

static void fill(struct hdrbak_entry *e, const char *path)
{
	size_t i;

	memset(e, 0, sizeof(*e));
	snprintf(e->path, sizeof(e->path), "%s", path);
	e->backing = 12345;
	for (i = 0; i < HDR_SIZE; i++)
		e->hdr[i] = (uint8_t)i;
}

static void test_round_trip(void **state)
{
	static const char *const paths[] = {
		"a", "dir/sub/file", "with space", "tab\there", "new\nline",
		"back\\slash", "\xc3\xa9t\xc3\xa9", "-", "a/.hidden", "...",
	};
	struct hdrbak_entry e, back;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		fill(&e, paths[i]);
		e.has_sparse = i & 1;
		memset(e.sparse, 0xab, sizeof(e.sparse));
		e.has_ver = i & 2;
		memset(e.ver, 0xcd, sizeof(e.ver));
		assert_int_equal(hdrbak_format(&e, line, sizeof(line)), 0);
		/* One line, no byte a reader could take for a separator. */
		assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1);
		line[strlen(line) - 1] = '\0';
		assert_int_equal(hdrbak_parse(line, &back), 0);
		assert_string_equal(back.path, paths[i]);
		assert_int_equal(back.backing, 12345);
		assert_memory_equal(back.hdr, e.hdr, HDR_SIZE);
		assert_int_equal(back.has_sparse, e.has_sparse);
		assert_int_equal(back.has_ver, e.has_ver);
		if (e.has_sparse)
			assert_memory_equal(back.sparse, e.sparse,
					    sizeof(e.sparse));
		if (e.has_ver)
			assert_memory_equal(back.ver, e.ver, sizeof(e.ver));
	}
}

static void test_head(void **state)
{
	uint8_t uuid[VOL_UUID_LEN], kid[KEK_ID_LEN], u2[VOL_UUID_LEN],
		k2[KEK_ID_LEN];

	(void)state;
	memset(uuid, 0x11, sizeof(uuid));
	memset(kid, 0x22, sizeof(kid));
	assert_int_equal(hdrbak_head(uuid, kid, line, sizeof(line)), 0);
	line[strlen(line) - 1] = '\0';
	assert_int_equal(hdrbak_head_parse(line, u2, k2), 0);
	assert_memory_equal(u2, uuid, sizeof(uuid));
	assert_memory_equal(k2, kid, sizeof(kid));
	line[strlen(line) - 1] = 'x';
	assert_int_equal(hdrbak_head_parse(line, u2, k2), -EINVAL);
	assert_int_equal(hdrbak_head_parse("atrestfs header backup v2 "
					   "00112233-4455-6677-8899-aabbccddeeff "
					   "00112233445566778899aabbccddeeff",
					   u2, k2), -EINVAL);
}

/* A good line with @path (already escaped) in place of the path. */
static int parse_path(const char *path)
{
	struct hdrbak_entry e;
	char *sp;

	fill(&e, "x");
	assert_int_equal(hdrbak_format(&e, line, sizeof(line)), 0);
	sp = strrchr(line, ' ');
	snprintf(sp + 1, sizeof(line) - (size_t)(sp + 1 - line), "%s", path);
	return hdrbak_parse(line, &e);
}

static void test_paths_refused(void **state)
{
	static const char *const bad[] = {
		"", "/etc/passwd", "..", "../x", "a/../../x", "a/..", ".",
		"./a", "a//b", "a/", "a\\000b", "a\\0", "a\\08x", "a b",
		"a\\400",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse_path(bad[i]), -EINVAL);
	assert_int_equal(parse_path("a\\040b"), 0);
}

static void test_fields_refused(void **state)
{
	struct hdrbak_entry e;
	char h[2 * HDR_SIZE + 1];

	(void)state;
	memset(h, 'a', sizeof(h) - 1);
	h[sizeof(h) - 1] = '\0';
	snprintf(line, sizeof(line), "file 1 %s - - p", h);
	assert_int_equal(hdrbak_parse(line, &e), 0);
	snprintf(line, sizeof(line), "file -1 %s - - p", h);
	assert_int_equal(hdrbak_parse(line, &e), -EINVAL);
	snprintf(line, sizeof(line), "fil 1 %s - - p", h);
	assert_int_equal(hdrbak_parse(line, &e), -EINVAL);
	snprintf(line, sizeof(line), "file 1 %.214s - - p", h);
	assert_int_equal(hdrbak_parse(line, &e), -EINVAL);
	snprintf(line, sizeof(line), "file 1 %s ab - p", h);
	assert_int_equal(hdrbak_parse(line, &e), -EINVAL);
	snprintf(line, sizeof(line), "file 1 %s - ab p", h);
	assert_int_equal(hdrbak_parse(line, &e), -EINVAL);
	snprintf(line, sizeof(line), "file 1 %s -  p", h);
	assert_int_equal(hdrbak_parse(line, &e), -EINVAL);
	snprintf(line, sizeof(line), "file 1 %s - -", h);
	assert_int_equal(hdrbak_parse(line, &e), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_paths_refused),
		cmocka_unit_test(test_fields_refused),
	};

	return cmocka_run_group_tests_name("hdrbak: header backup lines",
					   tests, NULL, NULL);
}
