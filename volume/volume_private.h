/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * volume/volume_private.h - what the files of volume/ share and nobody
 * else calls, sectioned by file.
 */
#ifndef ATR_VOLUME_PRIVATE_H
#define ATR_VOLUME_PRIVATE_H

#include "volume.h"

/* ---- conf_parse.c ---- */

/*
 * @text (@len bytes and a NUL, from the untrusted backing directory) to
 * @cfg, every field validated: volconf_load()'s errors and @msg.
 */
int volconf_parse(const char *text, size_t len, struct vol_config *cfg,
		  char *msg, size_t msglen);

#endif
