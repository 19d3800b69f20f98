// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * keyprov/passphrase.c - the "passphrase" provider: the KEK is sealed with
 * AES-256-GCM under a key derived from a passphrase with scrypt (RFC 7914,
 * OpenSSL EVP_KDF).  Salt and cost live in the keyslot's public params and
 * are bounded before any work, so a tampered config can neither make us
 * derive with weak parameters nor exhaust memory.
 *
 * Settings: scrypt_n, scrypt_r, scrypt_p (at wrap only, still bounded).
 * Owns: the derived key and the passphrase, both in host secure memory,
 * freed (wiped) before each call returns.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "../crypto/aead.h"
#include "../crypto/codec.h"
#include "../crypto/msg.h"
#include "keyprov_private.h"

#define ALGORITHM	"scrypt+AES-256-GCM"

struct pp {
	const struct keyprov_host *host;
	uint64_t n;			/* cost for the next wrap */
	uint32_t r, p;
	char volume[64];		/* for the prompt */
};

int keyprov_scrypt(const char *pass, size_t pass_len, const uint8_t *salt,
		   size_t salt_len, uint64_t n, uint32_t r, uint32_t p,
		   uint8_t *out, size_t out_len)
{
	uint64_t maxmem = 128ull * n * r * (p + 1ull) + (16ull << 20);
	OSSL_PARAM params[7], *q = params;
	EVP_KDF_CTX *ctx;
	EVP_KDF *kdf;
	int err = -EIO;

	kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
	if (!kdf)
		return -EIO;
	ctx = EVP_KDF_CTX_new(kdf);
	EVP_KDF_free(kdf);
	if (!ctx)
		return -ENOMEM;
	/* OpenSSL takes a non-const pointer but does not write through it. */
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
						 (void *)(uintptr_t)pass,
						 pass_len);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
						 (void *)(uintptr_t)salt,
						 salt_len);
	*q++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
	*q++ = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r);
	*q++ = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p);
	*q++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM,
					   &maxmem);
	*q = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, out_len, params) == 1)
		err = 0;
	else
		OPENSSL_cleanse(out, out_len);
	EVP_KDF_CTX_free(ctx);
	return err;
}

int keyprov_scrypt_check(uint64_t n, uint64_t r, uint64_t p)
{
	if (n < PP_N_MIN || n > PP_N_MAX || (n & (n - 1)))
		return -EINVAL;
	if (r < PP_R_MIN || r > PP_R_MAX || p < 1 || p > PP_P_MAX)
		return -EINVAL;
	if (128ull * n * r * p > PP_MEM_MAX)
		return -EINVAL;
	return 0;
}

/* A decimal setting or parameter; keyprov_scrypt_check() bounds it. */
static int parse_u64(const char *s, uint64_t *out)
{
	return dec_parse_u64(s, 0, UINT64_MAX, out);
}

static int pp_init(const struct keyprov_host *host,
		   const struct keyprov_kv *cfg, void **priv, char *msg,
		   size_t msglen)
{
	const char *vol = cfg->get(cfg, "volume");
	uint64_t n = PP_N_DEFAULT, r = 8, p = 1;
	struct pp *pp;

	if ((cfg->get(cfg, "scrypt_n") && parse_u64(cfg->get(cfg, "scrypt_n"), &n)) ||
	    (cfg->get(cfg, "scrypt_r") && parse_u64(cfg->get(cfg, "scrypt_r"), &r)) ||
	    (cfg->get(cfg, "scrypt_p") && parse_u64(cfg->get(cfg, "scrypt_p"), &p)) ||
	    keyprov_scrypt_check(n, r, p))
		return msg_fail(msg, msglen, -EINVAL,
				"passphrase provider: scrypt N must be a power "
				"of two from %u to %u, r from %d to %d, p from "
				"1 to %d, 128*N*r*p at most %llu MiB", PP_N_MIN,
				PP_N_MAX, PP_R_MIN, PP_R_MAX, PP_P_MAX,
				PP_MEM_MAX >> 20);
	pp = calloc(1, sizeof(*pp));
	if (!pp)
		return -ENOMEM;
	pp->host = host;
	pp->n = n;
	pp->r = (uint32_t)r;
	pp->p = (uint32_t)p;
	snprintf(pp->volume, sizeof(pp->volume), "%s", vol ? vol : "");
	*priv = pp;
	return 0;
}

static int pp_describe(void *priv, struct keyprov_desc *desc)
{
	(void)priv;
	snprintf(desc->key_id, sizeof(desc->key_id), "passphrase");
	desc->key_version = 1;
	snprintf(desc->algorithm, sizeof(desc->algorithm), ALGORITHM);
	return 0;
}

/*
 * Ask for the passphrase and derive the wrapping key into *kek (secure
 * memory, AEAD_KEY_LEN; caller frees).
 */
static int derive(struct pp *pp, const struct keyprov_req *req,
		  unsigned int flags, const uint8_t salt[PP_SALT_LEN],
		  uint64_t n, uint32_t r, uint32_t p, uint8_t **kek)
{
	const struct keyprov_host *h = pp->host;
	char prompt[128], *pass;
	size_t len = 0;
	int err;

	pass = h->secure_alloc(PP_SECRET_MAX);
	*kek = h->secure_alloc(AEAD_KEY_LEN);
	err = -ENOMEM;
	if (!pass || !*kek)
		goto out_free;
	snprintf(prompt, sizeof(prompt), "%s for volume %s: ",
		 flags & KEYPROV_ASK_NEW ? "New passphrase" : "Passphrase",
		 pp->volume);
	err = h->ask_secret(h, prompt, flags, pass, PP_SECRET_MAX, &len);
	if (err == -ENOMEM)
		goto out_free;
	if (err) {
		err = msg_fail(req->msg, req->msglen, -ENOANO,
			       "passphrase provider: no passphrase given for "
			       "volume %s (%s)", pp->volume,
			       err == -E2BIG ? "it is too long" :
			       err == -ENOANO ? "give it with --passfile, "
			       "--extpass or at a terminal" : strerror(-err));
		goto out_free;
	}
	if (!len) {
		err = msg_fail(req->msg, req->msglen, -ENOANO,
			       "passphrase provider: the passphrase is empty");
		goto out_free;
	}
	err = keyprov_scrypt(pass, len, salt, PP_SALT_LEN, n, r, p, *kek,
			     AEAD_KEY_LEN);
	if (err)
		msg_fail(req->msg, req->msglen, err, "scrypt failed");
out_free:
	h->secure_free(pass, PP_SECRET_MAX);
	if (err) {
		h->secure_free(*kek, AEAD_KEY_LEN);
		*kek = NULL;
	}
	return err;
}

static int pp_wrap(void *priv, const struct keyprov_req *req,
		   const uint8_t *key, size_t key_len, uint8_t *out,
		   size_t out_cap, size_t *out_len)
{
	struct pp *pp = priv;
	uint8_t salt[PP_SALT_LEN], *kek;
	char hex[2 * PP_SALT_LEN + 1], num[24];
	struct keyprov_params *ps = req->params;
	int err;

	if (key_len + AEAD_OVERHEAD > out_cap || !ps || !ps->set)
		return -EINVAL;
	err = rand_fill(salt, sizeof(salt));
	if (err)
		return err;
	err = derive(pp, req, KEYPROV_ASK_NEW, salt, pp->n, pp->r, pp->p, &kek);
	if (err)
		return err;
	err = aead_box_seal(kek, req->aad, req->aad_len, key, key_len, out);
	pp->host->secure_free(kek, AEAD_KEY_LEN);
	if (err)
		return err;
	*out_len = key_len + AEAD_OVERHEAD;
	hex_encode(salt, sizeof(salt), hex);
	err = ps->set(ps, "kdf", "scrypt");
	if (!err)
		err = ps->set(ps, "salt", hex);
	snprintf(num, sizeof(num), "%" PRIu64, pp->n);
	if (!err)
		err = ps->set(ps, "n", num);
	snprintf(num, sizeof(num), "%u", pp->r);
	if (!err)
		err = ps->set(ps, "r", num);
	snprintf(num, sizeof(num), "%u", pp->p);
	if (!err)
		err = ps->set(ps, "p", num);
	return err;
}

static int pp_unwrap(void *priv, const struct keyprov_req *req,
		     const uint8_t *in, size_t in_len, uint8_t *key,
		     size_t key_len)
{
	const struct keyprov_params *ps = req->params;
	struct pp *pp = priv;
	uint8_t salt[PP_SALT_LEN], *kek;
	const char *kdf, *s;
	uint64_t n, r, p;
	int err;

	/* Every parameter is bounded before the passphrase is even asked for. */
	kdf = ps ? ps->get(ps, "kdf") : NULL;
	s = ps ? ps->get(ps, "salt") : NULL;
	if (!kdf || strcmp(kdf, "scrypt") || !s ||
	    strlen(s) != 2 * PP_SALT_LEN || hex_decode(s, salt, PP_SALT_LEN) ||
	    parse_u64(ps->get(ps, "n"), &n) || parse_u64(ps->get(ps, "r"), &r) ||
	    parse_u64(ps->get(ps, "p"), &p))
		return msg_fail(req->msg, req->msglen, -EINVAL,
				"passphrase keyslot has missing or unsafe "
				"scrypt parameters (tampered config?); "
				"refusing to use it");
	/* Too dear: say so, or it reads as an attack on the passphrase. */
	if (n <= PP_N_MAX * 1024ull && r <= PP_R_MAX && p <= PP_P_MAX &&
	    (n > PP_N_MAX || 128 * n * r * p > PP_MEM_MAX))
		return msg_fail(req->msg, req->msglen, -EINVAL,
				"passphrase keyslot asks scrypt for N=%" PRIu64
				" r=%" PRIu64 " p=%" PRIu64 " (%" PRIu64 " MiB), "
				"above the limit of N=%u and %llu MiB "
				"(tampered config?); refusing to run it", n, r,
				p, 128 * n * r * p >> 20, PP_N_MAX,
				PP_MEM_MAX >> 20);
	if (keyprov_scrypt_check(n, r, p))
		return msg_fail(req->msg, req->msglen, -EINVAL,
				"passphrase keyslot has missing or unsafe "
				"scrypt parameters (tampered config?); "
				"refusing to use it");
	if (in_len != key_len + AEAD_OVERHEAD)
		return msg_fail(req->msg, req->msglen, -EBADMSG,
				"passphrase keyslot holds %zu bytes, expected "
				"%zu", in_len, key_len + AEAD_OVERHEAD);
	err = derive(pp, req, 0, salt, n, (uint32_t)r, (uint32_t)p, &kek);
	if (err)
		return err;
	err = aead_box_open(kek, req->aad, req->aad_len, in, in_len, key);
	pp->host->secure_free(kek, AEAD_KEY_LEN);
	if (err == -EBADMSG)
		err = msg_fail(req->msg, req->msglen, -ENOANO,
			       "wrong passphrase for volume %s", pp->volume);
	return err;
}

static void pp_destroy(void *priv)
{
	free(priv);
}

static const struct keyprov_ops passphrase_ops = {
	.abi = KEYPROV_ABI_V1,
	.name = "passphrase",
	.flags = 0,		/* prompts: one at a time */
	.init = pp_init,
	.describe = pp_describe,
	.wrap = pp_wrap,
	.unwrap = pp_unwrap,
	.destroy = pp_destroy,
};

const struct keyprov_ops *keyprov_passphrase_entry(uint32_t host_abi)
{
	return host_abi == KEYPROV_ABI_V1 ? &passphrase_ops : NULL;
}
