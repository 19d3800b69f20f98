// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/unit/plugins/testplug.c - the loader's test plugins, one source
 * built four ways (see the Makefile):
 *   good      a working provider ("good"), not thread-safe
 *   badabi    answers with ABI version 99
 *   noentry   exports no entry symbol
 *   misnamed  file misnamed.so calls itself "other"
 * good wraps by copying the key after the AAD length, and on wrap records
 * a public parameter; unwrap wants it back.  Every build is linked with
 * keyprov-plugin.sym, which exports the entry point alone.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../keyprov/keyprov.h"

#ifndef PLUG_NAME
#define PLUG_NAME "good"
#endif
#ifndef PLUG_ABI
#define PLUG_ABI KEYPROV_ABI_V1
#endif

/* key_id=NAME: describe names its key NAME, whatever it is. */
static char named[64];

static int tp_init(const struct keyprov_host *host,
		   const struct keyprov_kv *cfg, void **priv, char *msg,
		   size_t msglen)
{
	const char *fail = cfg->get(cfg, "fail");
	const char *key_id = cfg->get(cfg, "key_id");

	snprintf(named, sizeof(named), "%s", key_id ? key_id : "");

	if (fail) {
		snprintf(msg, msglen, "test plugin told to fail: %s", fail);
		return -EAGAIN;
	}
	*priv = (void *)host;
	return 0;
}

static int tp_describe(void *priv, struct keyprov_desc *desc)
{
	(void)priv;
	/* Unterminated on purpose: the host must terminate it. */
	memset(desc->key_id, 'k', sizeof(desc->key_id));
	if (named[0])
		snprintf(desc->key_id, sizeof(desc->key_id), "%s", named);
	desc->key_version = 7;
	snprintf(desc->algorithm, sizeof(desc->algorithm), "COPY");
	return 0;
}

static int tp_wrap(void *priv, const struct keyprov_req *req,
		   const uint8_t *key, size_t key_len, uint8_t *out,
		   size_t out_cap, size_t *out_len)
{
	(void)priv;
	if (key_len + 1 > out_cap)
		return -EINVAL;
	out[0] = (uint8_t)req->aad_len;
	memcpy(out + 1, key, key_len);
	*out_len = key_len + 1;
	return req->params->set(req->params, "marker", "m1");
}

static int tp_unwrap(void *priv, const struct keyprov_req *req,
		     const uint8_t *in, size_t in_len, uint8_t *key,
		     size_t key_len)
{
	const char *m = req->params->get(req->params, "marker");

	(void)priv;
	/* Write first, then fail: the host must wipe @key. */
	if (in_len == key_len + 1)
		memcpy(key, in + 1, key_len);
	if (!m || strcmp(m, "m1") || in_len != key_len + 1 ||
	    in[0] != (uint8_t)req->aad_len) {
		snprintf(req->msg, req->msglen, "test plugin: bad keyslot");
		return -EBADMSG;
	}
	return 0;
}

static void tp_destroy(void *priv)
{
	(void)priv;
}

/*
 * Not static, as a function shared between a plugin's source files is:
 * the version script must keep it out of the dynamic symbol table.
 */
int testplug_internal(void);
int testplug_internal(void)
{
	return 42;
}

static const struct keyprov_ops ops = {
	.abi = PLUG_ABI,
	.name = PLUG_NAME,
	.flags = 0,
	.init = tp_init,
	.describe = tp_describe,
	.wrap = tp_wrap,
	.unwrap = tp_unwrap,
	.destroy = tp_destroy,
};

#ifndef PLUG_NO_ENTRY
const struct keyprov_ops *atrestfs_keyprov_entry(uint32_t host_abi);
const struct keyprov_ops *atrestfs_keyprov_entry(uint32_t host_abi)
{
	(void)host_abi;
	return &ops;
}
#else
const struct keyprov_ops *not_the_entry(void);
const struct keyprov_ops *not_the_entry(void)
{
	return &ops;
}
#endif
