// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/unit/test_auditchain.c - crypto/auditchain.c: records chained as
 * a writer appends them, and every kind of damage the verifier must name
 * with its line: a changed line, a removed one, two swapped, a copy, a
 * second chain, an anchor that no longer matches; and what is only a
 * note (older records before the chain, a write cut short).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../crypto/auditchain.h"

#define LOG_MAX	8192

struct log {
	char buf[LOG_MAX];
	size_t n;
};

/* Append record @i as a writer does: read the tail, seal, one write. */
static void append(struct log *g, int i)
{
	char line[512];
	struct achain_link l;
	bool nl;
	size_t n;

	assert_int_equal(achain_next(g->buf, g->n, true, &l, &nl), 0);
	n = (size_t)snprintf(line, sizeof(line), "{\"event\":\"e%d\"}", i);
	n = achain_seal(line, n, sizeof(line), &l);
	assert_true(n > 0);
	if (nl)
		g->buf[g->n++] = '\n';
	memcpy(g->buf + g->n, line, n);
	g->n += n;
	g->buf[g->n++] = '\n';
}

static void make(struct log *g, int nrec)
{
	int i;

	g->n = 0;
	for (i = 1; i <= nrec; i++)
		append(g, i);
}

/* Offset of line @no (from 1) and its length with the newline. */
static size_t line_at(const struct log *g, int no, size_t *len)
{
	size_t off = 0, end;

	while (--no) {
		off = (size_t)(strchr(g->buf + off, '\n') - g->buf) + 1;
	}
	end = (size_t)(strchr(g->buf + off, '\n') - g->buf) + 1;
	*len = end - off;
	return off;
}

static void del_line(struct log *g, int no)
{
	size_t len, off = line_at(g, no, &len);

	memmove(g->buf + off, g->buf + off + len, g->n - off - len);
	g->n -= len;
}

static void swap_lines(struct log *g, int no)
{
	char tmp[512];
	size_t l1, l2, o1 = line_at(g, no, &l1);

	line_at(g, no + 1, &l2);
	memcpy(tmp, g->buf + o1, l1);
	memmove(g->buf + o1, g->buf + o1 + l1, l2);
	memcpy(g->buf + o1 + l2, tmp, l1);
}

struct found {
	struct achain_finding f[16];
	int n;
};

static void collect(void *ctx, const struct achain_finding *f)
{
	struct found *fd = ctx;

	if (fd->n < 16)
		fd->f[fd->n++] = *f;
}

static void verify(const struct log *g, const struct achain_anchor *a,
		   struct found *fd, struct achain_result *res)
{
	memset(fd, 0, sizeof(*fd));
	assert_int_equal(achain_verify(g->buf, g->n, a, collect, fd, res), 0);
}

static void test_intact(void **state)
{
	struct achain_result res;
	struct achain_link next;
	struct found fd;
	struct log g;
	bool nl;

	(void)state;
	make(&g, 5);
	verify(&g, NULL, &fd, &res);
	assert_int_equal(fd.n, 0);
	assert_int_equal(res.problems, 0);
	assert_int_equal(res.records, 5);
	assert_int_equal(res.lines, 5);
	assert_int_equal(res.first_line, 1);
	assert_int_equal(res.last_line, 5);
	/* The head is what the next writer will link to. */
	assert_int_equal(achain_next(g.buf, g.n, true, &next, &nl), 0);
	assert_false(nl);
	assert_int_equal(res.head.seq, 6);
	assert_int_equal(next.seq, 6);
	assert_memory_equal(res.head.prev, next.prev, ACHAIN_HASH_LEN);
	/* The first record starts the chain: seq 1, 64 zeros. */
	assert_non_null(strstr(g.buf, "\"seq\":1,\"prev\":\"0000000000000000"));
	/* A log of no record: nothing to say, the next is record 1. */
	assert_int_equal(achain_verify("", 0, NULL, collect, &fd, &res), 0);
	assert_int_equal(res.records, 0);
	assert_int_equal(res.head.seq, 1);
}

static void test_changed(void **state)
{
	struct achain_result res;
	struct found fd;
	struct log g;
	char *p;

	(void)state;
	make(&g, 5);
	p = strstr(g.buf, "\"e3\"");
	p[2] = '9';
	verify(&g, NULL, &fd, &res);
	assert_int_equal(res.problems, 1);
	assert_int_equal(fd.n, 1);
	assert_int_equal(fd.f[0].kind, ACHAIN_CHANGED);
	assert_int_equal(fd.f[0].line, 3);
	assert_int_equal(fd.f[0].line2, 3);
	assert_int_equal(fd.f[0].line3, 4);
}

static void test_removed(void **state)
{
	struct achain_result res;
	struct found fd;
	struct log g;

	(void)state;
	make(&g, 5);
	del_line(&g, 3);
	verify(&g, NULL, &fd, &res);
	assert_int_equal(res.problems, 1);
	assert_int_equal(fd.f[0].kind, ACHAIN_REMOVED);
	assert_int_equal(fd.f[0].seq, 3);
	assert_int_equal(fd.f[0].seq2, 3);
	assert_int_equal(fd.f[0].line, 2);
	assert_int_equal(fd.f[0].line2, 3);
	/* The first record gone: the start of the chain is missing. */
	make(&g, 5);
	del_line(&g, 1);
	verify(&g, NULL, &fd, &res);
	assert_int_equal(res.problems, 1);
	assert_int_equal(fd.f[0].kind, ACHAIN_REMOVED);
	assert_int_equal(fd.f[0].seq, 1);
	assert_int_equal(fd.f[0].line, 0);
	assert_int_equal(fd.f[0].line2, 1);
}

static void test_reordered(void **state)
{
	struct achain_result res;
	struct found fd;
	struct log g;

	(void)state;
	make(&g, 5);
	swap_lines(&g, 2);
	verify(&g, NULL, &fd, &res);
	assert_int_equal(res.problems, 1);
	assert_int_equal(fd.f[0].kind, ACHAIN_REORDERED);
	assert_int_equal(fd.f[0].line, 2);
	assert_int_equal(fd.f[0].line2, 3);
	assert_int_equal(fd.f[0].seq, 3);
	assert_int_equal(fd.f[0].seq2, 2);
	/* The last two, whose order no later record vouches for by hash. */
	make(&g, 5);
	swap_lines(&g, 4);
	verify(&g, NULL, &fd, &res);
	assert_true(res.problems >= 1);
	assert_int_equal(fd.f[0].kind, ACHAIN_REORDERED);
	assert_int_equal(fd.f[0].line2, 5);
}

static void test_duplicate_restart(void **state)
{
	struct achain_result res;
	struct found fd;
	struct log g, h;
	size_t len, off;

	(void)state;
	make(&g, 3);
	off = line_at(&g, 2, &len);
	memcpy(g.buf + g.n, g.buf + off, len);
	g.n += len;
	verify(&g, NULL, &fd, &res);
	assert_true(res.problems >= 1);
	assert_int_equal(fd.f[0].kind, ACHAIN_DUPLICATE);
	assert_int_equal(fd.f[0].line, 2);
	assert_int_equal(fd.f[0].line2, 4);
	/* Two logs run together: a second chain, not tied to the first. */
	make(&g, 3);
	make(&h, 2);
	memcpy(g.buf + g.n, h.buf, h.n);
	g.n += h.n;
	verify(&g, NULL, &fd, &res);
	assert_int_equal(res.problems, 1);
	assert_int_equal(fd.f[0].kind, ACHAIN_RESTART);
	assert_int_equal(fd.f[0].line, 4);
}

static void test_notes(void **state)
{
	static const char old[] = "{\"time\":\"x\",\"event\":\"mount\"}\n"
				  "{\"time\":\"y\",\"event\":\"unmount\"}\n";
	struct achain_result res;
	struct found fd;
	struct log g;

	(void)state;
	/* Records of an atrestfs before the chain: noted, not covered. */
	memcpy(g.buf, old, sizeof(old) - 1);
	g.n = sizeof(old) - 1;
	append(&g, 1);
	append(&g, 2);
	verify(&g, NULL, &fd, &res);
	assert_int_equal(res.problems, 0);
	assert_int_equal(fd.n, 1);
	assert_int_equal(fd.f[0].kind, ACHAIN_UNCOVERED);
	assert_int_equal(fd.f[0].line, 1);
	assert_int_equal(fd.f[0].line2, 2);
	assert_int_equal(res.first_line, 3);
	/* A write cut short: the next record starts on a line of its own
	 * and its hash covers the fragment. */
	memcpy(g.buf + g.n, "{\"time\":\"cut", 12);
	g.n += 12;
	append(&g, 3);
	append(&g, 4);
	verify(&g, NULL, &fd, &res);
	assert_int_equal(res.problems, 0);
	assert_int_equal(fd.n, 2);
	assert_int_equal(fd.f[1].kind, ACHAIN_UNCHAINED);
	assert_int_equal(fd.f[1].line, 5);
	/* ... so changing the fragment is a change of record 2's lines. */
	g.buf[strstr(g.buf, "\"cut") - g.buf + 1] = 'k';
	verify(&g, NULL, &fd, &res);
	assert_int_equal(res.problems, 1);
	assert_int_equal(fd.f[2].kind, ACHAIN_CHANGED);
	assert_int_equal(fd.f[2].line, 4);
	assert_int_equal(fd.f[2].line2, 5);
	/* A write cut just before its newline left a whole record: the
	 * next one follows it. */
	make(&g, 3);
	g.n--;
	append(&g, 4);
	verify(&g, NULL, &fd, &res);
	assert_int_equal(res.problems, 0);
	assert_int_equal(res.records, 4);
	assert_int_equal(res.head.seq, 5);
	/* Lines after the last record: said to be uncovered. */
	make(&g, 2);
	memcpy(g.buf + g.n, "junk\n", 5);
	g.n += 5;
	verify(&g, NULL, &fd, &res);
	assert_int_equal(res.problems, 0);
	assert_int_equal(fd.f[0].kind, ACHAIN_TAIL);
	assert_int_equal(fd.f[0].line, 3);
}

static void test_anchor(void **state)
{
	struct achain_anchor a;
	struct achain_result res;
	struct found fd;
	struct log g;

	(void)state;
	make(&g, 3);
	verify(&g, NULL, &fd, &res);
	a.seq = res.head.seq - 1;
	memcpy(a.hash, res.head.prev, ACHAIN_HASH_LEN);
	append(&g, 4);
	verify(&g, &a, &fd, &res);
	assert_int_equal(res.problems, 0);
	/* The tail cut back before the anchor: only the anchor tells. */
	del_line(&g, 4);
	del_line(&g, 3);
	verify(&g, NULL, &fd, &res);
	assert_int_equal(res.problems, 0);
	verify(&g, &a, &fd, &res);
	assert_int_equal(res.problems, 1);
	assert_int_equal(fd.f[0].kind, ACHAIN_ANCHOR_MISSING);
	assert_int_equal(fd.f[0].seq, 3);
	/* The last record changed: only the anchor tells. */
	make(&g, 3);
	g.buf[strstr(g.buf, "\"e3\"") - g.buf + 2] = '7';
	verify(&g, &a, &fd, &res);
	assert_int_equal(res.problems, 1);
	assert_int_equal(fd.f[0].kind, ACHAIN_ANCHOR_CHANGED);
	assert_int_equal(fd.f[0].line, 3);
}

static void test_tail_and_parse(void **state)
{
	struct achain_link l, w;
	char line[128];
	struct log g;
	bool nl;
	size_t off, len;

	(void)state;
	make(&g, 3);
	/* A writer reads only the end; a line cut by it is not trusted. */
	off = line_at(&g, 3, &len);
	assert_int_equal(achain_next(g.buf, g.n, true, &w, &nl), 0);
	assert_int_equal(achain_next(g.buf + off, g.n - off, false, &l, &nl), 0);
	assert_int_equal(l.seq, 1);	/* line 3 is not known to be whole */
	assert_int_equal(achain_next(g.buf + off - 1, g.n - off + 1, false, &l,
				     &nl), 0);
	assert_int_equal(l.seq, w.seq);
	assert_memory_equal(l.prev, w.prev, ACHAIN_HASH_LEN);
	/* What achain_after() says of the line just written is the same. */
	assert_int_equal(achain_parse(g.buf + off, len - 1, &l), 0);
	assert_int_equal(l.seq, 3);
	assert_int_equal(achain_after(g.buf + off, len - 1, 3, &l), 0);
	assert_memory_equal(l.prev, w.prev, ACHAIN_HASH_LEN);
	/* Malformed chain fields are no chain fields. */
	snprintf(line, sizeof(line), "{\"a\":1,\"seq\":01,\"prev\":\"%064d\"}", 0);
	assert_int_equal(achain_parse(line, strlen(line), &l), -ENOENT);
	snprintf(line, sizeof(line), "{\"a\":1,\"seq\":0,\"prev\":\"%064d\"}", 0);
	assert_int_equal(achain_parse(line, strlen(line), &l), -ENOENT);
	snprintf(line, sizeof(line), "{\"a\":1,\"seq\":2,\"prev\":\"%063dg\"}", 0);
	assert_int_equal(achain_parse(line, strlen(line), &l), -ENOENT);
	snprintf(line, sizeof(line), "{\"a\":1,\"seq\":2,\"prev\":\"%064d\"} ", 0);
	assert_int_equal(achain_parse(line, strlen(line), &l), -ENOENT);
	snprintf(line, sizeof(line), "{\"seq\":2,\"prev\":\"%064d\"}", 0);
	assert_int_equal(achain_parse(line, strlen(line), &l), -ENOENT);
	snprintf(line, sizeof(line), "{\"a\":1,\"seq\":22,\"prev\":\"%064d\"}", 0);
	assert_int_equal(achain_parse(line, strlen(line), &l), 0);
	assert_int_equal(l.seq, 22);
	/* No room for the fields: nothing, rather than a cut record. */
	strcpy(line, "{\"a\":1}");
	assert_int_equal(achain_seal(line, 7, 7 + ACHAIN_FIELDS_MAX - 30, &l), 0);
	assert_true(achain_seal(line, 7, 7 + ACHAIN_FIELDS_MAX, &l) > 7);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intact),
		cmocka_unit_test(test_changed),
		cmocka_unit_test(test_removed),
		cmocka_unit_test(test_reordered),
		cmocka_unit_test(test_duplicate_restart),
		cmocka_unit_test(test_notes),
		cmocka_unit_test(test_anchor),
		cmocka_unit_test(test_tail_and_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
