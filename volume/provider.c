// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * volume/provider.c - the bridge between a keyslot and its key provider:
 * open the provider with the caller's settings, ask it to describe its
 * key, and copy a keyslot's public parameters to and from the form the
 * provider ABI hands them in.
 * Owns nothing past a call: the provider instance goes to the caller.
 */
#include <errno.h>
#include <stdio.h>

#include "volume_private.h"

/* The copies between a keyslot and a paramset never truncate. */
_Static_assert(KEYPROV_PARAMS_MAX == VOL_MAX_PARAMS, "params per keyslot");
_Static_assert(KEYPROV_NAME_MAX == VOL_NAME_MAX, "param name length");
_Static_assert(KEYPROV_PARAM_MAX == VOL_STR_MAX, "param value length");

int volkey_open(const struct volkey_src *src, const char *provider,
		const char *uuid, int create, struct keyprov **kp, char *msg,
		size_t msglen)
{
	/* Only for keyprov_open(): a provider copies what it keeps. */
	struct keyprov_kvlist kv;
	int err;

	err = src->settings(src->ctx, provider, uuid, create, &kv, msg,
			    msglen);
	if (err)
		return err;
	return keyprov_open(provider, src->host, &kv.kv, kp, msg, msglen);
}

int volkey_describe(struct keyprov *kp, const char *provider,
		    struct keyprov_desc *desc, char *msg, size_t msglen)
{
	int err = keyprov_describe(kp, desc);

	if (err == -EPROTO)
		snprintf(msg, msglen, "key provider %s names its key or "
			 "algorithm with an empty string or one that is not "
			 "printable ASCII without quotes and backslashes",
			 provider);
	return err;
}

void volkey_params_to_slot(const struct keyprov_paramset *ps,
			   struct vol_keyslot *ks)
{
	unsigned int i;

	for (i = 0; i < ps->n && i < VOL_MAX_PARAMS; i++) {
		snprintf(ks->params[i].key, sizeof(ks->params[i].key), "%s",
			 ps->key[i]);
		snprintf(ks->params[i].value, sizeof(ks->params[i].value), "%s",
			 ps->val[i]);
	}
	ks->nparams = i;
}

void volkey_slot_to_params(const struct vol_keyslot *ks,
			   struct keyprov_paramset *ps)
{
	unsigned int i;

	keyprov_params_init(ps, 0);
	for (i = 0; i < ks->nparams && i < KEYPROV_PARAMS_MAX; i++) {
		snprintf(ps->key[i], sizeof(ps->key[i]), "%s",
			 ks->params[i].key);
		snprintf(ps->val[i], sizeof(ps->val[i]), "%s",
			 ks->params[i].value);
	}
	ps->n = i;
}
