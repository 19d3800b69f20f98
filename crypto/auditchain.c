// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * crypto/auditchain.c - the audit log's hash chain: the fields a writer
 * appends to a record, and the check of a whole log.  Works on the
 * caller's buffers; owns only the verifier's table of records.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aead.h"
#include "auditchain.h"
#include "codec.h"

static const char SEQ_KEY[] = ",\"seq\":";
static const char PREV_KEY[] = ",\"prev\":\"";

int achain_parse(const char *line, size_t n, struct achain_link *l)
{
	char hex[2 * ACHAIN_HASH_LEN + 1], num[21];
	const char *p, *end = line + n;
	size_t k = sizeof(PREV_KEY) - 1, d;

	/* ...,"seq":N,"prev":"HEX"} with nothing after the brace. */
	if (n < 2 + 2 * ACHAIN_HASH_LEN + k + sizeof(SEQ_KEY) || line[0] != '{' ||
	    end[-1] != '}' || end[-2] != '"')
		return -ENOENT;
	p = end - 2 - 2 * ACHAIN_HASH_LEN;
	if (memcmp(p - k, PREV_KEY, k))
		return -ENOENT;
	memcpy(hex, p, 2 * ACHAIN_HASH_LEN);
	hex[2 * ACHAIN_HASH_LEN] = '\0';
	if (hex_decode(hex, l->prev, ACHAIN_HASH_LEN))
		return -ENOENT;
	p -= k;
	for (d = 0; d < 20 && p - d - 1 > line && p[-(long)d - 1] >= '0' &&
	     p[-(long)d - 1] <= '9'; d++)
		;
	if (!d || p - d < line + sizeof(SEQ_KEY) ||
	    memcmp(p - d - (sizeof(SEQ_KEY) - 1), SEQ_KEY, sizeof(SEQ_KEY) - 1) ||
	    (d > 1 && p[-(long)d] == '0'))
		return -ENOENT;
	memcpy(num, p - d, d);
	num[d] = '\0';
	if (dec_parse_u64(num, 1, UINT64_MAX, &l->seq))
		return -ENOENT;
	return 0;
}

/* SHA-256 of @buf[0..@n), less one final newline: one record's span. */
static int span_hash(const char *buf, size_t n, uint8_t out[ACHAIN_HASH_LEN])
{
	if (n && buf[n - 1] == '\n')
		n--;
	return hash_sha256(buf, n, out);
}

int achain_next(const char *buf, size_t n, bool whole, struct achain_link *l,
		bool *newline)
{
	struct achain_link rec;
	size_t start, stop;

	*newline = n && buf[n - 1] != '\n';
	memset(l, 0, sizeof(*l));
	l->seq = 1;
	/*
	 * Walk back over lines, the unended last one included: a write cut
	 * just before its newline left a whole record.  A line cut by @buf's
	 * start is unknown.
	 */
	stop = n && !*newline ? n - 1 : n;
	for (;;) {
		start = stop;
		while (start && buf[start - 1] != '\n')
			start--;
		if (!start && !whole)
			break;
		if (!achain_parse(buf + start, stop - start, &rec)) {
			if (rec.seq == UINT64_MAX)
				return -EOVERFLOW;
			l->seq = rec.seq + 1;
			return span_hash(buf + start, n - start, l->prev);
		}
		if (!start)
			break;
		stop = start - 1;
	}
	return 0;
}

size_t achain_seal(char *buf, size_t n, size_t len,
		   const struct achain_link *l)
{
	char fields[ACHAIN_FIELDS_MAX], hex[2 * ACHAIN_HASH_LEN + 1];
	int w;

	if (!n || n > len || buf[n - 1] != '}')
		return 0;
	hex_encode(l->prev, ACHAIN_HASH_LEN, hex);
	w = snprintf(fields, sizeof(fields), "%s%llu%s%s\"}", SEQ_KEY,
		     (unsigned long long)l->seq, PREV_KEY, hex);
	/* Too long: the record is left whole, never cut. */
	if (w < 0 || (size_t)w + 1 > len - (n - 1))
		return 0;
	memcpy(buf + n - 1, fields, (size_t)w + 1);
	return n - 1 + (size_t)w;
}

int achain_after(const char *line, size_t n, uint64_t seq,
		 struct achain_link *l)
{
	if (seq == UINT64_MAX)
		return -EOVERFLOW;
	l->seq = seq + 1;
	return hash_sha256(line, n, l->prev);
}

/* ---- verification ---- */

struct rec {
	uint64_t line, last_line;	/* its line, and the last of its span */
	size_t start, end;		/* its span: start to the next record */
	struct achain_link link;	/* what it carries */
	uint8_t hash[ACHAIN_HASH_LEN];	/* of its span */
};

struct verifier {
	const char *buf;
	size_t n;
	struct rec *r;			/* every chained record, in file order */
	size_t nr, cap;
	achain_report_fn report;
	void *ctx;
	struct achain_result *res;
};

static void say(struct verifier *v, enum achain_kind kind, uint64_t line,
		uint64_t line2, uint64_t line3, uint64_t seq, uint64_t seq2)
{
	struct achain_finding f = { .kind = kind, .line = line, .line2 = line2,
				    .line3 = line3, .seq = seq, .seq2 = seq2 };

	if (ACHAIN_PROBLEM(kind))
		v->res->problems++;
	if (v->report)
		v->report(v->ctx, &f);
}

static bool is_genesis(const struct achain_link *l)
{
	static const uint8_t zero[ACHAIN_HASH_LEN];

	return l->seq == 1 && !memcmp(l->prev, zero, ACHAIN_HASH_LEN);
}

/* Split into lines; a table of the chained records and notes of the rest. */
static int scan(struct verifier *v)
{
	struct achain_link l;
	uint64_t line = 0, before = 0, after = 0;
	size_t off = 0, end;
	struct rec *r;

	while (off < v->n) {
		end = off;
		while (end < v->n && v->buf[end] != '\n')
			end++;
		line++;
		if (achain_parse(v->buf + off, end - off, &l)) {
			if (!v->nr)
				before = line;
			else if (!after)
				after = line;
			off = end + 1;
			continue;
		}
		if (v->nr == v->cap) {
			size_t cap = v->cap ? 2 * v->cap : 256;

			r = realloc(v->r, cap * sizeof(*r));
			if (!r)
				return -ENOMEM;
			v->r = r;
			v->cap = cap;
		}
		if (v->nr)
			v->r[v->nr - 1].end = off;
		else if (before)
			say(v, ACHAIN_UNCOVERED, 1, before, 0, 0, 0);
		/* A genesis links to nothing: what precedes it is not covered. */
		if (after)
			say(v, is_genesis(&l) ? ACHAIN_UNCOVERED :
			    ACHAIN_UNCHAINED, after, line - 1, 0, 0, 0);
		after = 0;
		r = &v->r[v->nr++];
		memset(r, 0, sizeof(*r));
		r->line = r->last_line = line;
		r->start = off;
		r->link = l;
		off = end + 1;
	}
	v->res->lines = line;
	if (!v->nr) {
		if (before)
			say(v, ACHAIN_UNCOVERED, 1, before, 0, 0, 0);
		return 0;
	}
	v->r[v->nr - 1].end = v->n;
	/* Lines after the last record: nothing ties them to the chain yet. */
	if (after)
		say(v, ACHAIN_TAIL, after, line, 0, 0, 0);
	return 0;
}

static int by_seq(const void *a, const void *b)
{
	const struct rec *x = *(const struct rec *const *)a;
	const struct rec *y = *(const struct rec *const *)b;

	if (x->link.seq != y->link.seq)
		return x->link.seq < y->link.seq ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* The first record of @seq in the sorted @idx[0..@n), or NULL. */
static struct rec *find(struct rec **idx, size_t n, uint64_t seq)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (idx[mid]->link.seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && idx[lo]->link.seq == seq ? idx[lo] : NULL;
}

/* One chain: the records @r[0..@n), the first a genesis but in the first. */
static int check_chain(struct verifier *v, struct rec *r, size_t n,
		       struct rec **idx)
{
	struct rec *max = NULL, *p;
	size_t i;

	/* Only the file's first chain can lack its start. */
	if (r[0].link.seq > 1)
		say(v, ACHAIN_REMOVED, 0, r[0].line, 0, 1, r[0].link.seq - 1);
	else if (!is_genesis(&r[0].link))	/* its link names no record */
		say(v, ACHAIN_CHANGED, r[0].line, r[0].line, r[0].line, 1, 1);
	for (i = 0; i < n; i++)
		idx[i] = &r[i];
	qsort(idx, n, sizeof(*idx), by_seq);
	/* Order: a record after a later one was moved (or copied). */
	for (i = 0; i < n; i++) {
		p = find(idx, n, r[i].link.seq);
		if (p != &r[i])
			say(v, ACHAIN_DUPLICATE, p->line, r[i].line, 0,
			    r[i].link.seq, 0);
		else if (max && r[i].link.seq < max->link.seq)
			say(v, ACHAIN_REORDERED, max->line, r[i].line, 0,
			    max->link.seq, r[i].link.seq);
		if (!max || r[i].link.seq > max->link.seq)
			max = &r[i];
	}
	/* Gaps in the numbers: records removed. */
	for (i = 1; i < n; i++)
		if (idx[i]->link.seq > idx[i - 1]->link.seq + 1)
			say(v, ACHAIN_REMOVED, idx[i - 1]->line, idx[i]->line, 0,
			    idx[i - 1]->link.seq + 1, idx[i]->link.seq - 1);
	/* Links: each record's prev is the hash of its predecessor's span. */
	for (i = 0; i < n; i++) {
		if (is_genesis(&r[i].link))
			continue;
		p = find(idx, n, r[i].link.seq - 1);
		if (p && memcmp(p->hash, r[i].link.prev, ACHAIN_HASH_LEN))
			say(v, ACHAIN_CHANGED, p->line, p->last_line, r[i].line,
			    p->link.seq, r[i].link.seq);
	}
	return 0;
}

static void check_anchor(struct verifier *v, const struct achain_anchor *a)
{
	size_t i;

	for (i = 0; i < v->nr; i++)
		if (v->r[i].link.seq == a->seq)
			break;
	if (i == v->nr)
		say(v, ACHAIN_ANCHOR_MISSING, 0, 0, 0, a->seq, 0);
	else if (memcmp(v->r[i].hash, a->hash, ACHAIN_HASH_LEN))
		say(v, ACHAIN_ANCHOR_CHANGED, v->r[i].line, v->r[i].last_line,
		    0, a->seq, 0);
}

int achain_verify(const char *buf, size_t n, const struct achain_anchor *anchor,
		  achain_report_fn report, void *ctx,
		  struct achain_result *res)
{
	struct verifier v = { .buf = buf, .n = n, .report = report,
			      .ctx = ctx, .res = res };
	struct rec **idx = NULL, *last;
	size_t i, a;
	int err;

	memset(res, 0, sizeof(*res));
	res->head.seq = 1;
	err = scan(&v);
	if (err || !v.nr)
		goto out;
	idx = malloc(v.nr * sizeof(*idx));
	if (!idx) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < v.nr && !err; i++) {
		struct rec *r = &v.r[i];
		size_t k;

		for (k = r->start; k < r->end; k++)
			if (v.buf[k] == '\n' && k + 1 < r->end)
				r->last_line++;
		err = span_hash(buf + r->start, r->end - r->start, r->hash);
	}
	if (err)
		goto out;
	res->records = v.nr;
	res->first_line = v.r[0].line;
	/* A genesis after the first record starts a second chain. */
	for (a = 0, i = 1; i <= v.nr && !err; i++) {
		if (i < v.nr && !is_genesis(&v.r[i].link))
			continue;
		if (a)
			say(&v, ACHAIN_RESTART, v.r[a].line, 0, 0, 0, 0);
		err = check_chain(&v, &v.r[a], i - a, idx);
		a = i;
	}
	if (anchor)
		check_anchor(&v, anchor);
	last = &v.r[v.nr - 1];
	res->last_line = last->line;
	res->head.seq = last->link.seq + 1;
	memcpy(res->head.prev, last->hash, ACHAIN_HASH_LEN);
out:
	free(idx);
	free(v.r);
	return err;
}
