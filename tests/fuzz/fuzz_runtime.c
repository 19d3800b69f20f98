// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/fuzz/fuzz_runtime.c - a mount's runtime record as "atrestfs
 * status" reads it: state_peek() (volume/state.c, the layout checked but
 * not the MAC, as status has no key) and, if that takes it, the body
 * parsed by atr_runtime_parse() (fs/runtime.c).  Anyone who can write the
 * record chooses these bytes: no crash, and what is parsed, written back
 * as a record body, parses to the same fields.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../fs/atrfs.h"
#include "../../volume/volume.h"
#include "fuzz.h"
#include "fuzz_dir.h"

#define NAME	"mount-0-42"

static struct state_dir sd;
static const char *base;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char msg[512];

	(void)argc; (void)argv;
	base = fuzz_dir();
	if (state_open(&sd, base, fuzz_uuid, msg, sizeof(msg))) {
		fprintf(stderr, "fuzz_runtime: %s\n", msg);
		abort();
	}
	return 0;
}

static void same(const struct atr_runtime_rec *a,
		 const struct atr_runtime_rec *b)
{
	unsigned int i;

	if (a->pid != b->pid || a->start != b->start ||
	    strcmp(a->options, b->options) || strcmp(a->log, b->log) ||
	    a->nerrors != b->nerrors)
		abort();
	for (i = 0; i < a->nerrors; i++)
		if (strcmp(a->errors[i], b->errors[i]))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct atr_runtime_rec r, r2;
	static char again[3 * ATR_RUNTIME_REC_MAX + sizeof(r.errors) + 256];
	char body[STATE_RECORD_MAX + 1], msg[1024];
	unsigned int i;
	size_t n;
	int err;

	fuzz_put(sd.fd, NAME, data, size);
	err = state_peek(base, fuzz_uuid, NAME, body, sizeof(body), msg,
			 sizeof(msg));
	if (err && err != -EBADMSG && err != -ENOSPC)
		abort();
	if (err)
		return 0;
	if (strlen(body) >= size)
		abort();
	atr_runtime_parse(body, &r);
	if (r.nerrors > ATR_RUNTIME_ERRORS_MAX)
		abort();
	n = (size_t)snprintf(again, sizeof(again), "pid %ld\nstart %llu\n"
			     "options %s\nlog %s\n", r.pid, r.start,
			     r.options, r.log);
	for (i = 0; i < r.nerrors; i++)
		n += (size_t)snprintf(again + n, sizeof(again) - n,
				      "error %s\n", r.errors[i]);
	if (n >= sizeof(again))
		abort();
	atr_runtime_parse(again, &r2);
	same(&r, &r2);
	return 0;
}
