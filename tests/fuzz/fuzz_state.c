// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/fuzz/fuzz_state.c - a record of this machine's state directory
 * (volume/state.c: magic, body, "mac HEX"), read with state_get() and as
 * the config generation record confgen_check() reads, under the fixed
 * KEK.  The directory is outside the volume and must be ours, but its
 * records are still checked as untrusted: another copy may be put back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../volume/volume.h"
#include "fuzz.h"
#include "fuzz_dir.h"

static struct state_dir sd;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char msg[512];

	(void)argc; (void)argv;
	if (state_open(&sd, fuzz_dir(), fuzz_uuid, msg, sizeof(msg))) {
		fprintf(stderr, "fuzz_state: %s\n", msg);
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vol_config cfg = { .generation = 5 };
	struct confgen_seen seen;
	char body[STATE_RECORD_MAX], msg[1024];
	int err;

	fuzz_put(sd.fd, CONFGEN_RECORD, data, size);
	err = state_get(&sd, fuzz_kek(), CONFGEN_RECORD, body, sizeof(body),
			msg, sizeof(msg));
	if (err && err != -EBADMSG && err != -ENOSPC)
		abort();
	if (!err && strlen(body) >= size)
		abort();
	err = confgen_check(&sd, &cfg, fuzz_kek(), &seen, msg, sizeof(msg));
	if (err && err != -EBADMSG && err != -ESTALE)
		abort();
	return 0;
}
