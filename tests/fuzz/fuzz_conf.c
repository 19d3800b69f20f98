// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/fuzz/fuzz_conf.c - atrestfs.conf as read from the backing
 * directory: volconf_parse() (libconfig and the validation of every
 * field), then, for a config that parses, its canonical MAC input and
 * file text (vol_text()) and vol_verify() under the fixed KEK.  What
 * parses must survive a round trip: the text atrestfs would write for it
 * parses to the same config (else a stored config could not be read back,
 * or two texts would share one MAC input).
 *
 * libconfig leaks on some parse errors; lsan-conf.supp names its
 * functions only (tests/fuzz/run.sh).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../crypto/volume.h"
#include "../../volume/volume_private.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vol_config cfg, again;
	char *text = fuzz_str(data, size), *canon, *file, *canon2;
	char msg[512];
	int err;

	msg[0] = '\0';
	err = volconf_parse(text, size, &cfg, msg, sizeof(msg));
	if (err && err != -EINVAL && err != -EPROTONOSUPPORT)
		abort();
	if (err && !msg[0])
		abort();		/* every refusal says why */
	if (!err) {
		canon = vol_text(&cfg, true);
		file = vol_text(&cfg, false);
		if (!canon || !file)
			abort();
		err = vol_verify(fuzz_kek(), &cfg);
		if (err && err != -EBADMSG)
			abort();
		if (volconf_parse(file, strlen(file), &again, msg, sizeof(msg)))
			abort();
		canon2 = vol_text(&again, true);
		if (!canon2 || strcmp(canon, canon2) ||
		    memcmp(cfg.mac, again.mac, sizeof(cfg.mac)))
			abort();
		free(canon);
		free(file);
		free(canon2);
	}
	free(text);
	return 0;
}
