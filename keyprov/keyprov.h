/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * keyprov/keyprov.h - the key-provider plugin ABI, version 1.
 *
 * A provider holds a root key and wraps/unwraps the volume KEK with it; the
 * root key may never leave the provider (an HSM, a KMS).  A plugin is a
 * shared object in the installed plugin directory exporting one symbol,
 * KEYPROV_ENTRY_SYMBOL, of type keyprov_entry_fn.  Built-in providers
 * (keyfile) expose the same table.  Full reference: atrestfs-keyprov(7).
 *
 * Conventions for every callback:
 *  - Return 0 or a negative errno.  -EBADMSG: the wrapped key does not
 *    authenticate (wrong key).  -ENOKEY: the key is absent.  -EACCES/-EPERM:
 *    refused.  -ENOANO: a PIN/passphrase is needed or wrong.  -EAGAIN: the
 *    hardware or service is absent, try later.  On failure, @msg (msglen
 *    bytes, host-owned) receives one human sentence naming the key or file.
 *  - Buffers are owned by the host.  Plaintext keys are handed in and out
 *    through host buffers in locked memory; the plugin copies nothing it
 *    does not wipe before returning.
 *  - Calls may block (a KMS round trip): the host never holds filesystem
 *    locks across them.  Unless ops->flags has KEYPROV_F_THREADSAFE the host
 *    serialises all calls on one instance.
 */
#ifndef ATR_KEYPROV_H
#define ATR_KEYPROV_H

#include <stddef.h>
#include <stdint.h>

#define KEYPROV_ABI_V1		1
#define KEYPROV_ENTRY_SYMBOL	"atrestfs_keyprov_entry"
#define KEYPROV_NAME_MAX	64
#define KEYPROV_MSG_MAX		512
#define KEYPROV_WRAPPED_MAX	1024

#define KEYPROV_F_THREADSAFE	0x1

/*
 * Settings, as a key/value accessor so that plugins never see libconfig.
 * get() returns the value or NULL; the string belongs to the host and
 * lives until the call that received @kv returns.
 */
struct keyprov_kv {
	const char *(*get)(const struct keyprov_kv *kv, const char *key);
};

/* What a provider says about its root key, for the keyslot record. */
struct keyprov_desc {
	char key_id[256];	/* stable name of the root key; not secret */
	uint32_t key_version;
	char algorithm[64];	/* e.g. "AES-256-GCM" */
};

struct keyprov_ops {
	uint32_t abi;		/* KEYPROV_ABI_V1 */
	const char *name;	/* must equal the plugin's file name stem */
	uint32_t flags;
	/*
	 * Settings understood by every provider: "volume" (the volume UUID),
	 * "mode" ("create" at atrestfs init, else "open").  *priv is the
	 * plugin's; destroy() frees it.
	 */
	int (*init)(const struct keyprov_kv *cfg, void **priv, char *msg,
		    size_t msglen);
	int (*describe)(void *priv, struct keyprov_desc *desc);
	/* @out holds KEYPROV_WRAPPED_MAX bytes; *out_len receives the size. */
	int (*wrap)(void *priv, const uint8_t *aad, size_t aad_len,
		    const uint8_t *key, size_t key_len, uint8_t *out,
		    size_t *out_len, char *msg, size_t msglen);
	/* @key: host's locked buffer of exactly @key_len bytes. */
	int (*unwrap)(void *priv, const uint8_t *aad, size_t aad_len,
		      const uint8_t *in, size_t in_len, uint8_t *key,
		      size_t key_len, char *msg, size_t msglen);
	void (*destroy)(void *priv);
};

typedef const struct keyprov_ops *(*keyprov_entry_fn)(uint32_t host_abi);

/* ---- host side ---- */

struct keyprov;

/* A fixed-size settings list implementing struct keyprov_kv. */
#define KEYPROV_KV_MAX	24
struct keyprov_kvlist {
	struct keyprov_kv kv;		/* first: the plugin gets &list->kv */
	const char *key[KEYPROV_KV_MAX];	/* borrowed strings */
	const char *val[KEYPROV_KV_MAX];
	unsigned int n;
};

void keyprov_kv_init(struct keyprov_kvlist *l);
/* Later values replace earlier ones.  -ENOSPC when full. */
int keyprov_kv_set(struct keyprov_kvlist *l, const char *key, const char *val);

/* [A-Za-z0-9_-], 1..64: nothing else can name a plugin file. */
int keyprov_name_valid(const char *name);

/*
 * Find provider @name: built-in, else @dir/@name.so.  Returns 0 and *kp
 * (caller owns; keyprov_close()), or -errno with @msg filled in.
 * keyprov_open() uses the installed directory KEYPROV_DIR.
 */
int keyprov_open(const char *name, const struct keyprov_kv *cfg,
		 struct keyprov **kp, char *msg, size_t msglen);
int keyprov_open_dir(const char *dir, const char *name,
		     const struct keyprov_kv *cfg, struct keyprov **kp,
		     char *msg, size_t msglen);
void keyprov_close(struct keyprov *kp);

const char *keyprov_name(const struct keyprov *kp);
int keyprov_describe(struct keyprov *kp, struct keyprov_desc *desc);
int keyprov_wrap(struct keyprov *kp, const uint8_t *aad, size_t aad_len,
		 const uint8_t *key, size_t key_len, uint8_t *out,
		 size_t *out_len, char *msg, size_t msglen);
int keyprov_unwrap(struct keyprov *kp, const uint8_t *aad, size_t aad_len,
		   const uint8_t *in, size_t in_len, uint8_t *key,
		   size_t key_len, char *msg, size_t msglen);

/* Built-in providers' tables. */
const struct keyprov_ops *keyprov_keyfile_entry(uint32_t host_abi);

#endif
