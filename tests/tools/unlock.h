/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tests/tools/unlock.h - the test tools' one way to unlock a volume of
 * the keyfile provider through the library, as a mount does.  Header
 * only: each tool is one file (Makefile, TOOLS).
 */
#ifndef ATR_TOOLS_UNLOCK_H
#define ATR_TOOLS_UNLOCK_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../volume/volume.h"

static const char *tool_keyfile;	/* set by tool_unlock() */

static int tool_settings(void *ctx, const char *provider, const char *uuid,
			 int create, struct keyprov_kvlist *kv, char *msg,
			 size_t msglen)
{
	(void)ctx;
	keyprov_kv_init(kv);
	if (strcmp(provider, "keyfile")) {
		snprintf(msg, msglen, "only keyfile volumes here");
		return -ENOKEY;
	}
	if (keyprov_kv_set(kv, "path", tool_keyfile) ||
	    keyprov_kv_set(kv, "volume", uuid) ||
	    keyprov_kv_set(kv, "mode", create ? "create" : "open"))
		return -ENOSPC;
	return 0;
}

/* volkey_unlock() of the volume in @dirfd with the key file @keyfile. */
static int tool_unlock(int dirfd, const char *keyfile, struct vol_config *cfg,
		       struct kek **kek, char *msg, size_t msglen)
{
	struct volkey_src src = { .settings = tool_settings, .slot = -1 };

	tool_keyfile = keyfile;
	return volkey_unlock(dirfd, &src, cfg, kek, NULL, msg, msglen);
}

#endif
