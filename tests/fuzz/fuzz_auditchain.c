// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/fuzz/fuzz_auditchain.c - a whole audit log, checked as "atrestfs
 * audit verify" checks it (crypto/auditchain.c achain_verify()).  Any
 * bytes: no crash, findings within the log, the same answer twice.  A log
 * it accepts (no problem): its head is what the writer would chain to
 * next, it passes against its own last record as anchor, and stays
 * accepted with one more record appended by the writer's calls.  And a
 * log the writer's calls build from scratch, one record per line of the
 * input, is always accepted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_audit.h"

#define MAX_FINDINGS	64

struct findings {
	struct achain_finding f[MAX_FINDINGS];
	size_t n, total;
};

static void keep(void *ctx, const struct achain_finding *f)
{
	struct findings *fs = ctx;

	if (f->kind > ACHAIN_ANCHOR_CHANGED)
		abort();
	if (fs->n < MAX_FINDINGS)
		fs->f[fs->n++] = *f;
	fs->total++;
}

static void verify(const char *buf, size_t n, const struct achain_anchor *a,
		   struct findings *fs, struct achain_result *res)
{
	size_t i, problems = 0;

	memset(fs, 0, sizeof(*fs));
	if (achain_verify(buf, n, a, keep, fs, res))
		abort();	/* only -ENOMEM or -EIO (hash): never here */
	for (i = 0; i < fs->n; i++) {
		const struct achain_finding *f = &fs->f[i];

		if (f->line > res->lines || f->line2 > res->lines ||
		    f->line3 > res->lines)
			abort();
		problems += ACHAIN_PROBLEM(f->kind);
	}
	if (fs->total == fs->n && problems != res->problems)
		abort();
	if (res->records > res->lines || res->last_line > res->lines ||
	    res->first_line > res->last_line ||
	    (res->records && !res->first_line))
		abort();
}

/* Field by field: structs carry padding that no memcmp may look at. */
static bool same_result(const struct achain_result *a,
			const struct achain_result *b)
{
	return a->lines == b->lines && a->records == b->records &&
	       a->problems == b->problems && a->first_line == b->first_line &&
	       a->last_line == b->last_line && a->head.seq == b->head.seq &&
	       !memcmp(a->head.prev, b->head.prev, ACHAIN_HASH_LEN);
}

static bool same_findings(const struct findings *a, const struct findings *b)
{
	size_t i;

	if (a->n != b->n || a->total != b->total)
		return false;
	for (i = 0; i < a->n; i++)
		if (a->f[i].kind != b->f[i].kind ||
		    a->f[i].line != b->f[i].line ||
		    a->f[i].line2 != b->f[i].line2 ||
		    a->f[i].line3 != b->f[i].line3 ||
		    a->f[i].seq != b->f[i].seq || a->f[i].seq2 != b->f[i].seq2)
			return false;
	return true;
}

/* The writer's log of the input's lines, each a record's "d" string. */
static void built(const uint8_t *data, size_t size)
{
	char body[96];
	size_t cap = (size + 1) * (sizeof(body) + ACHAIN_FIELDS_MAX + 2);
	size_t n = 0, i, k = 0;
	char *log = malloc(cap);
	uint64_t recs = 0;
	struct findings fs;
	struct achain_result res;

	if (!log)
		abort();
	for (i = 0; i <= size; i++) {
		if (i < size && data[i] != '\n')
			continue;
		/* The line's first bytes in hex: JSON-safe, as the writer's. */
		snprintf(body, sizeof(body), "{\"n\":%llu,\"d\":\"",
			 (unsigned long long)recs);
		for (; k < i && strlen(body) < sizeof(body) - 4; k++)
			snprintf(body + strlen(body), 3, "%02x", data[k]);
		strcat(body, "\"}");
		k = i + 1;
		if (fuzz_audit_append(log, &n, cap, body))
			abort();
		recs++;
	}
	verify(log, n, NULL, &fs, &res);
	if (res.problems || res.records != recs || res.head.seq != recs + 1)
		abort();
	free(log);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cap = size + 512, n = size;
	char *log = malloc(cap);
	struct findings fs, again;
	struct achain_result res, res2;
	struct achain_anchor a;
	struct achain_link next;
	bool newline;

	if (!log)
		abort();
	/* Exactly @size bytes first: ASan sees a read past the log. */
	memcpy(log, data, size);
	verify(log, n, NULL, &fs, &res);
	verify(log, n, NULL, &again, &res2);
	if (!same_result(&res, &res2) || !same_findings(&fs, &again))
		abort();
	if (!res.problems) {
		if (achain_next(log, n, true, &next, &newline) ||
		    next.seq != res.head.seq ||
		    memcmp(next.prev, res.head.prev, ACHAIN_HASH_LEN))
			abort();
		if (res.records) {
			a.seq = res.head.seq - 1;
			memcpy(a.hash, res.head.prev, ACHAIN_HASH_LEN);
			verify(log, n, &a, &fs, &res2);
			if (res2.problems)
				abort();
		}
		if (fuzz_audit_append(log, &n, cap, "{\"event\":\"fuzz\"}") ==
		    0) {
			verify(log, n, NULL, &fs, &res2);
			if (res2.problems || res2.records != res.records + 1)
				abort();
		}
	}
	free(log);
	built(data, size);
	return 0;
}
