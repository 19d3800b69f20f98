// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mount-helper/cmd_audit.c - "atrestfs audit verify": check the hash
 * chain of an audit log (crypto/auditchain.c) and say, by line, what was
 * changed, removed or reordered.  Needs no key and no volume: an auditor
 * can run it on a copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../crypto/auditchain.h"
#include "../crypto/codec.h"
#include "cli.h"

struct report {
	const char *path;
	bool quiet;		/* problems only */
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: atrestfs audit verify [OPTIONS] FILE\n"
"Check the hash chain of the audit log FILE: every record carries its\n"
"number and the SHA-256 of the one before, so a changed, removed or\n"
"reordered record is found, with its line.  No key is needed.  A cut\n"
"tail is found only against an anchor printed by an earlier check.\n"
"\n"
"  -a, --anchor SEQ:HASH   the log must still hold record SEQ as it was\n"
"  -q, --quiet             print problems only\n"
"  -h, --help              this text\n"
"Exit status: 0 the chain is whole, %d records were changed, removed or\n"
"reordered (or none is chained), 1 the file cannot be read, 2 usage.\n",
		EXIT_DAMAGED);
}

/* FILE as given, escaped: a log's name must not drive the terminal. */
static void put_path(const char *path)
{
	cli_fputs_vis(stdout, path, false);
}

/* "FILE:A" or "FILE:A-B" */
static void where(const struct report *r, uint64_t a, uint64_t b)
{
	put_path(r->path);
	if (b > a)
		printf(":%llu-%llu: ", (unsigned long long)a,
		       (unsigned long long)b);
	else
		printf(":%llu: ", (unsigned long long)a);
}

static void say(void *ctx, const struct achain_finding *f)
{
	const struct report *r = ctx;
	unsigned long long s = f->seq, s2 = f->seq2;
	char what[64];

	if (r->quiet && !ACHAIN_PROBLEM(f->kind))
		return;
	switch (f->kind) {
	case ACHAIN_UNCOVERED:
		where(r, f->line, f->line2);
		printf("note: no chain fields (records written before the "
		       "chain, or not records): not covered\n");
		break;
	case ACHAIN_UNCHAINED:
		where(r, f->line, f->line2);
		printf("note: not a chained record (a write cut short, or an "
		       "older atrestfs); covered by the next record's hash\n");
		break;
	case ACHAIN_TAIL:
		where(r, f->line, f->line2);
		printf("note: after the last record: not covered until "
		       "another record is written\n");
		break;
	case ACHAIN_CHANGED:
		where(r, f->line, f->line2);
		printf("changed: the record on line %llu holds another hash "
		       "of %s\n", (unsigned long long)f->line3,
		       f->line2 > f->line ? "these lines" : "this line");
		break;
	case ACHAIN_REMOVED:
		if (s2 > s)
			snprintf(what, sizeof(what), "records %llu to %llu are",
				 s, s2);
		else
			snprintf(what, sizeof(what), "record %llu is", s);
		if (!f->line) {
			where(r, f->line2, 0);
			printf("removed: %s missing before this line: the "
			       "start of the log was cut\n", what);
		} else {
			where(r, f->line, f->line2);
			printf("removed: %s missing between these lines\n",
			       what);
		}
		break;
	case ACHAIN_REORDERED:
		where(r, f->line2, 0);
		printf("reordered: record %llu comes after record %llu "
		       "(line %llu)\n", s2, s, (unsigned long long)f->line);
		break;
	case ACHAIN_DUPLICATE:
		where(r, f->line2, 0);
		printf("copied: repeats record %llu of line %llu\n", s,
		       (unsigned long long)f->line);
		break;
	case ACHAIN_RESTART:
		where(r, f->line, 0);
		printf("restarted: a second chain starts here; the records "
		       "before it are not tied to those after (two logs "
		       "joined, or the log was rewritten)\n");
		break;
	case ACHAIN_ANCHOR_MISSING:
		put_path(r->path);
		printf(": anchor: record %llu is missing: the log was cut "
		       "back or replaced since the anchor was taken\n", s);
		break;
	case ACHAIN_ANCHOR_CHANGED:
		where(r, f->line, f->line2);
		printf("anchor: record %llu differs from the anchor: changed "
		       "since it was taken\n", s);
		break;
	}
}

static int parse_anchor(const char *s, struct achain_anchor *a)
{
	char num[21];
	const char *colon = strchr(s, ':');
	size_t n;

	if (!colon || colon == s || (n = (size_t)(colon - s)) >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, n);
	num[n] = '\0';
	if (dec_parse_u64(num, 1, UINT64_MAX, &a->seq) ||
	    hex_decode(colon + 1, a->hash, ACHAIN_HASH_LEN))
		return -EINVAL;
	return 0;
}

/* Map @path read-only: 0 with *@buf (NULL if empty) and *@n, or exit code. */
static int map(const char *path, char **buf, size_t *n)
{
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		cli_err("cannot open audit log %s: %s", path, strerror(errno));
		return EXIT_FAIL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		cli_err("audit log %s is not a regular file", path);
		close(fd);
		return EXIT_FAIL;
	}
	*n = (size_t)st.st_size;
	*buf = NULL;
	if (*n) {
		*buf = mmap(NULL, *n, PROT_READ, MAP_PRIVATE, fd, 0);
		if (*buf == MAP_FAILED) {
			cli_err("cannot read audit log %s: %s", path,
				strerror(errno));
			close(fd);
			return EXIT_FAIL;
		}
	}
	close(fd);
	return 0;
}

static int verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "anchor", required_argument, NULL, 'a' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct report r = { .quiet = false };
	struct achain_anchor anchor, *pa = NULL;
	struct achain_result res;
	char hex[2 * ACHAIN_HASH_LEN + 1];
	char *buf;
	size_t n;
	int c, ret, err;

	while ((c = getopt_long(argc, argv, "a:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (parse_anchor(optarg, &anchor)) {
				cli_err("--anchor %s: bad option value: want "
					"SEQ:HASH as printed by audit verify",
					optarg);
				return EXIT_USAGE;
			}
			pa = &anchor;
			break;
		case 'q':
			r.quiet = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	r.path = argv[optind];
	ret = map(r.path, &buf, &n);
	if (ret)
		return ret;
	err = achain_verify(buf, n, pa, say, &r, &res);
	if (buf)
		munmap(buf, n);
	if (err) {
		cli_err("cannot verify audit log %s: %s", r.path, strerror(-err));
		return EXIT_FAIL;
	}
	if (res.problems) {
		put_path(r.path);
		printf(": FAILED: %llu problem%s: records were changed, "
		       "removed or reordered\n",
		       (unsigned long long)res.problems,
		       res.problems == 1 ? "" : "s");
		return EXIT_DAMAGED;
	}
	if (!res.records && res.lines) {
		put_path(r.path);
		printf(": FAILED: no record carries chain fields: nothing "
		       "can be verified\n");
		return EXIT_DAMAGED;
	}
	if (!res.records) {
		if (!r.quiet) {
			put_path(r.path);
			printf(": empty: nothing to verify\n");
		}
		return EXIT_OK;
	}
	if (!r.quiet) {
		hex_encode(res.head.prev, ACHAIN_HASH_LEN, hex);
		put_path(r.path);
		printf(": OK: %llu records, chained from line %llu to line "
		       "%llu\n", (unsigned long long)res.records,
		       (unsigned long long)res.first_line,
		       (unsigned long long)res.last_line);
		/* Kept elsewhere, this shows a later cut of the tail. */
		printf("anchor %llu:%s\n", (unsigned long long)res.head.seq - 1,
		       hex);
	}
	return EXIT_OK;
}

int cmd_audit(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "verify"))
		return verify(argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return EXIT_OK;
	}
	usage(stderr);
	return EXIT_USAGE;
}
