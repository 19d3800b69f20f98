/*
 * example.c - a complete, minimal atrestfs key provider (ABI v1).
 * It only shows the interface: XOR with a key from the settings is NOT
 * encryption.  Build:
 *   cc -shared -fPIC -Wl,--version-script=$SYM -o example.so example.c
 * with SYM=/usr/local/include/atrestfs/keyprov-plugin.sym, installed
 * beside keyprov.h: the plugin then exports its entry point alone.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <atrestfs/keyprov.h>

#define ROOT_LEN 32

struct example {
	const struct keyprov_host *host;
	unsigned char *root;		/* host secure memory */
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int ex_init(const struct keyprov_host *host,
		   const struct keyprov_kv *cfg, void **priv, char *msg,
		   size_t msglen)
{
	const char *hex = cfg->get(cfg, "root_hex");
	struct example *ex;
	int i, hi, lo;

	if (!hex || strlen(hex) != 2 * ROOT_LEN) {
		snprintf(msg, msglen, "example: root_hex needs %d hex digits",
			 2 * ROOT_LEN);
		return -EINVAL;
	}
	ex = calloc(1, sizeof(*ex));
	if (!ex)
		return -ENOMEM;
	ex->host = host;
	ex->root = host->secure_alloc(ROOT_LEN);
	if (!ex->root) {
		free(ex);
		return -ENOMEM;
	}
	for (i = 0; i < ROOT_LEN; i++) {
		hi = hexval(hex[2 * i]);
		lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			snprintf(msg, msglen, "example: root_hex is not hex");
			host->secure_free(ex->root, ROOT_LEN);
			free(ex);
			return -EINVAL;
		}
		ex->root[i] = (unsigned char)(hi << 4 | lo);
	}
	*priv = ex;
	return 0;
}

static int ex_describe(void *priv, struct keyprov_desc *desc)
{
	(void)priv;
	snprintf(desc->key_id, sizeof(desc->key_id), "example-root");
	desc->key_version = 1;
	snprintf(desc->algorithm, sizeof(desc->algorithm), "XOR-DEMO");
	return 0;
}

/* A checksum over key and AAD, so that a wrong key is noticed. */
static unsigned long check(const unsigned char *key, size_t len,
			   const unsigned char *aad, size_t aad_len)
{
	unsigned long h = 5381;
	size_t i;

	for (i = 0; i < len; i++)
		h = h * 33 + key[i];
	for (i = 0; i < aad_len; i++)
		h = h * 33 + aad[i];
	return h & 0xffffffff;
}

static int ex_wrap(void *priv, const struct keyprov_req *req,
		   const unsigned char *key, size_t key_len,
		   unsigned char *out, size_t out_cap, size_t *out_len)
{
	struct example *ex = priv;
	char sum[16];
	size_t i;

	if (key_len > ROOT_LEN || key_len > out_cap)
		return -EINVAL;
	for (i = 0; i < key_len; i++)
		out[i] = key[i] ^ ex->root[i];
	*out_len = key_len;
	/* Public parameters land in the keyslot, covered by the config MAC. */
	snprintf(sum, sizeof(sum), "%08lx",
		 check(key, key_len, req->aad, req->aad_len));
	return req->params->set(req->params, "check", sum);
}

static int ex_unwrap(void *priv, const struct keyprov_req *req,
		     const unsigned char *in, size_t in_len,
		     unsigned char *key, size_t key_len)
{
	const char *want = req->params->get(req->params, "check");
	struct example *ex = priv;
	char sum[16];
	size_t i;

	if (!want || in_len != key_len || key_len > ROOT_LEN) {
		snprintf(req->msg, req->msglen, "example: malformed keyslot");
		return -EINVAL;
	}
	for (i = 0; i < key_len; i++)
		key[i] = in[i] ^ ex->root[i];
	snprintf(sum, sizeof(sum), "%08lx",
		 check(key, key_len, req->aad, req->aad_len));
	if (strcmp(sum, want)) {
		snprintf(req->msg, req->msglen, "example: wrong root key");
		return -EBADMSG;	/* the host wipes @key */
	}
	return 0;
}

static void ex_destroy(void *priv)
{
	struct example *ex = priv;

	ex->host->secure_free(ex->root, ROOT_LEN);
	free(ex);
}

static const struct keyprov_ops example_ops = {
	.abi = KEYPROV_ABI_V1,
	.name = "example",
	.flags = KEYPROV_F_THREADSAFE,
	.init = ex_init,
	.describe = ex_describe,
	.wrap = ex_wrap,
	.unwrap = ex_unwrap,
	.destroy = ex_destroy,
};

const struct keyprov_ops *atrestfs_keyprov_entry(uint32_t host_abi)
{
	return host_abi == KEYPROV_ABI_V1 ? &example_ops : NULL;
}
