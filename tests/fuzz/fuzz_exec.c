// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/fuzz/fuzz_exec.c - a key helper's reply on stdout (the exec
 * provider, atrestfs-keyprov(7)): the status line, the describe fields
 * and the base64 "data" field, as keyprov/exec.c reads them.  A helper
 * is configured by the administrator, but it talks to a KMS and may be
 * buggy: its reply is parsed as untrusted bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../keyprov/keyprov_private.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *resp, msg[KEYPROV_MSG_MAX];
	struct keyprov_desc desc;
	uint8_t bin[EXEC_BLOB_MAX + 2];
	size_t n;
	int err;

	/* spawn_run() keeps at most EXEC_OUT_MAX - 1 bytes, NUL-terminated. */
	if (size >= EXEC_OUT_MAX)
		return 0;
	resp = fuzz_str(data, size);
	err = keyprov_exec_status(resp, size, msg, sizeof(msg));
	if (err > 0)
		abort();
	if (!keyprov_exec_describe("/fuzz/helper", resp, size, &desc, msg,
				   sizeof(msg)) &&
	    (!desc.key_id[0] || !memchr(desc.key_id, '\0', sizeof(desc.key_id)) ||
	     !memchr(desc.algorithm, '\0', sizeof(desc.algorithm))))
		abort();
	if (!keyprov_exec_data(resp, size, bin, sizeof(bin), &n) &&
	    n + 2 > sizeof(bin))
		abort();
	free(resp);
	return 0;
}
