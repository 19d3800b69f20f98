/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tests/fuzz/fuzz_audit.h - an audit log built in memory the way the
 * daemon's writer (fs/audit.c append_locked()) builds it, with the same
 * crypto/auditchain.c calls: shared by fuzz_auditchain (its property) and
 * gen_corpus (its seeds), so both test what atrestfs really writes.
 */
#ifndef ATR_FUZZ_AUDIT_H
#define ATR_FUZZ_AUDIT_H
#include <stdlib.h>
#include <string.h>

#include "../../crypto/auditchain.h"

/*
 * Append the record @body (a JSON object, ending in '}') to the log
 * @log[0..*@n) of @cap bytes, chained to what the log holds, as a new
 * line (after a newline if the log ends in part of one).  0, or -1 if
 * it does not fit or the chain calls fail.
 */
static inline int fuzz_audit_append(char *log, size_t *n, size_t cap,
				    const char *body)
{
	size_t blen = strlen(body), len = blen + ACHAIN_FIELDS_MAX + 1, k;
	struct achain_link l;
	bool newline;
	char *rec;

	if (achain_next(log, *n, true, &l, &newline))
		return -1;
	rec = malloc(len);
	if (!rec)
		abort();
	memcpy(rec, body, blen);
	k = achain_seal(rec, blen, len, &l);
	if (!k || *n + newline + k + 1 > cap) {
		free(rec);
		return -1;
	}
	if (newline)
		log[(*n)++] = '\n';
	memcpy(log + *n, rec, k);
	*n += k;
	log[(*n)++] = '\n';
	free(rec);
	return 0;
}
#endif
