/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * crypto/auditchain.h - the hash chain of the audit log: every record
 * ends in ,"seq":N,"prev":"HEX"} where N counts the records of the file
 * from 1 and HEX is the SHA-256 of what the file held from the start of
 * record N-1 up to the newline before record N (that record, and any line
 * a failed write cut short after it); record 1 has 64 zeros.  Anyone can
 * check it, no key needed; docs/format.md 3.6 has the rules.
 *
 * Works on buffers only: the writer (fs/audit.c) hands in the tail of the
 * file, the verifier (atrestfs audit verify) the whole of it.
 */
#ifndef ATR_AUDITCHAIN_H
#define ATR_AUDITCHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACHAIN_HASH_LEN		32
/* How much of a log's end a writer reads to find the last record. */
#define ACHAIN_TAIL_MAX		16384
/* Room the chain fields need beyond a record's body. */
#define ACHAIN_FIELDS_MAX	(sizeof(",\"seq\":18446744073709551615,\"prev\":\"\"}") + \
				 2 * ACHAIN_HASH_LEN)

/* What the next record of a log carries. */
struct achain_link {
	uint64_t seq;
	uint8_t prev[ACHAIN_HASH_LEN];
};

/*
 * The next record's link from the last @n bytes of a log (@buf; @whole:
 * they are all of it), and *@newline: the record must begin with a
 * newline because the log ends in part of a line.  No record in @buf
 * (an empty log, or one of records older than the chain): seq 1.  0 or
 * -EIO (hash).
 */
int achain_next(const char *buf, size_t n, bool whole, struct achain_link *l,
		bool *newline);
/*
 * Replace the final '}' of the record @buf[0..@n) by the chain fields of
 * @l, NUL-terminated.  Returns the new length, or 0 (@buf unchanged) if
 * it would not fit in @len bytes.
 */
size_t achain_seal(char *buf, size_t n, size_t len,
		   const struct achain_link *l);
/*
 * The link after the record @line (@n bytes, no newline) that was just
 * written with seq @seq, when nothing followed it.  0 or -EIO.
 */
int achain_after(const char *line, size_t n, uint64_t seq,
		 struct achain_link *l);
/* A line's chain fields: 0 with *@l, or -ENOENT if it has none. */
int achain_parse(const char *line, size_t n, struct achain_link *l);

/* What a verification found; line numbers count from 1. */
enum achain_kind {
	ACHAIN_UNCOVERED,	/* lines line..line2 before the chain: no chain
				 * fields (older records), not covered */
	ACHAIN_UNCHAINED,	/* line: not a chained record (a write cut
				 * short, an older atrestfs), covered by the
				 * next record's hash */
	ACHAIN_TAIL,		/* lines line..line2 after the last record,
				 * not covered */
	ACHAIN_CHANGED,		/* lines line..line2 changed: the record at
				 * line3 holds another hash of them */
	ACHAIN_REMOVED,		/* records seq..seq2 are missing between
				 * line and line2 (line 0: the start) */
	ACHAIN_REORDERED,	/* line2's record seq2 comes after line's
				 * record seq, a later one */
	ACHAIN_DUPLICATE,	/* line2 repeats line's record seq */
	ACHAIN_RESTART,		/* a second chain starts at line: what came
				 * before is not tied to what follows */
	ACHAIN_ANCHOR_MISSING,	/* the anchor's record seq is not in the log */
	ACHAIN_ANCHOR_CHANGED,	/* the anchor's record seq (line) differs */
};
/* Kinds from ACHAIN_CHANGED on are problems; the others are notes. */
#define ACHAIN_PROBLEM(k)	((k) >= ACHAIN_CHANGED)

struct achain_finding {
	enum achain_kind kind;
	uint64_t line, line2, line3;
	uint64_t seq, seq2;
};

struct achain_result {
	uint64_t lines;		/* lines in the log */
	uint64_t records;	/* chained records */
	uint64_t problems;	/* findings that are problems */
	uint64_t first_line;	/* the first chained record's; 0: none */
	uint64_t last_line;	/* the last chained record's */
	struct achain_link head;	/* what the next record would carry:
					 * seq and hash of the log's end */
};

/* An anchor: the hash of record @seq, as printed by an earlier check. */
struct achain_anchor {
	uint64_t seq;
	uint8_t hash[ACHAIN_HASH_LEN];
};

typedef void (*achain_report_fn)(void *ctx, const struct achain_finding *f);

/*
 * Check the log @buf[0..@n), calling @report (may be NULL) for each
 * finding, and against @anchor unless it is NULL.  0 with *@res, -ENOMEM
 * or -EIO (hash).
 */
int achain_verify(const char *buf, size_t n, const struct achain_anchor *anchor,
		  achain_report_fn report, void *ctx,
		  struct achain_result *res);

#endif
