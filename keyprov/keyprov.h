/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * keyprov/keyprov.h - the key-provider plugin ABI, version 1.
 *
 * A provider holds a root key and wraps/unwraps the volume KEK with it; the
 * root key may never leave the provider (an HSM, a KMS).  A plugin is a
 * shared object NAME.so in the installed plugin directory exporting one
 * symbol, KEYPROV_ENTRY_SYMBOL, of type keyprov_entry_fn; link it with
 * keyprov-plugin.sym (installed beside this header) so that it exports
 * nothing else.  The four built-in providers (keyfile, passphrase, pkcs11,
 * exec) expose the same table.  This header is the whole ABI: the host's
 * side of it is not installed.  Full reference, with a complete example
 * plugin: atrestfs-keyprov(7).
 *
 * Conventions for every callback:
 *  - Return 0 or a negative errno:
 *      -EBADMSG  the wrapped key does not authenticate (wrong key/secret);
 *      -ENOKEY   the root key does not exist;
 *      -ENOANO   a PIN or passphrase is needed, or the one given is wrong;
 *      -EAGAIN   the hardware or service is absent or unreachable;
 *      -ETIMEDOUT the service did not answer in time;
 *      -EACCES/-EPERM refused;  -EINVAL bad settings or parameters.
 *    On failure the plugin writes one human sentence, naming the key,
 *    token or file, into the host's message buffer (never a secret).
 *  - Every buffer is owned by the host.  Plaintext keys and secrets pass
 *    only through host buffers in locked memory; a plugin that needs
 *    scratch space for secrets takes it from host->secure_alloc() and
 *    gives it back through host->secure_free(), which wipes it.  A plugin
 *    wipes every other copy of a secret before returning.
 *  - Strings from the host (settings, parameters) live until the callback
 *    that received them returns; a plugin copies what it keeps.
 *  - Calls may block (a KMS round trip, a PIN prompt): the host never
 *    holds filesystem locks across them.  Unless ops->flags has
 *    KEYPROV_F_THREADSAFE the host serialises every call on one instance.
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
#define KEYPROV_PARAMS_MAX	16	/* public parameters per keyslot */
#define KEYPROV_PARAM_MAX	256	/* bytes in one parameter value */

#define KEYPROV_F_THREADSAFE	0x1	/* host may call concurrently */

/*
 * Read-only key/value settings, so that plugins never see libconfig.
 * get() returns the value or NULL.
 */
struct keyprov_kv {
	const char *(*get)(const struct keyprov_kv *kv, const char *key);
};

/*
 * A keyslot's public parameters (salt, cost, a KMS key version ...): stored
 * in the keyslot's "params" group of atrestfs.conf, which the config MAC
 * covers but which an attacker who can write the backing directory may
 * still rewrite before the MAC is checked: unwrap() must bound every
 * parameter before doing any work with it.
 *  get(): the value or NULL.
 *  set(): only at wrap (NULL at unwrap).  Names [A-Za-z0-9_-], at most 64;
 *         values printable ASCII without '"' or '\\', at most
 *         KEYPROV_PARAM_MAX bytes.  -EINVAL for a bad name or value,
 *         -ENOSPC beyond KEYPROV_PARAMS_MAX.  Never a secret.
 */
struct keyprov_params {
	const char *(*get)(const struct keyprov_params *p, const char *key);
	int (*set)(struct keyprov_params *p, const char *key, const char *val);
};

/* Services the host gives a plugin at init(); valid until destroy(). */
#define KEYPROV_ASK_NEW		0x1	/* a new secret: confirm it */
struct keyprov_host {
	uint32_t abi;			/* KEYPROV_ABI_V1 */
	/* Zeroed, mlock()ed, not dumped; NULL when out of memory. */
	void *(*secure_alloc)(size_t len);
	/* Wipes, then frees; @len as given to secure_alloc().  NULL is fine. */
	void (*secure_free)(void *p, size_t len);
	/*
	 * Ask the user for a secret (passphrase, PIN) through whatever the
	 * host was told to use: a terminal without echo, a file, a helper
	 * program.  @buf (buflen bytes) must come from secure_alloc(); it
	 * receives the secret, NUL-terminated, and *len its length.
	 * -ENOANO when no secret can be had (no terminal, none configured).
	 */
	int (*ask_secret)(const struct keyprov_host *host, const char *prompt,
			  unsigned int flags, char *buf, size_t buflen,
			  size_t *len);
	/* One line to the daemon's log (never a secret).  @level: syslog's. */
	void (*log)(const struct keyprov_host *host, int level,
		    const char *line);
	void *ctx;			/* the host's */
};

/* What a provider says about its root key, for the keyslot record. */
struct keyprov_desc {
	char key_id[256];	/* stable name of the root key; not secret */
	uint32_t key_version;	/* >= 1; 0 means 1 */
	char algorithm[64];	/* e.g. "AES-256-GCM" */
};

/*
 * One wrap or unwrap.  At unwrap, key_id/key_version are the keyslot's, so
 * that a provider can find an older version of a rotated key.
 */
struct keyprov_req {
	const uint8_t *aad;		/* binds the KEK to the volume; never empty */
	size_t aad_len;
	const char *key_id;		/* NULL at wrap */
	uint32_t key_version;		/* 0 at wrap */
	struct keyprov_params *params;	/* see struct keyprov_params */
	char *msg;			/* host's; one sentence on failure */
	size_t msglen;
};

struct keyprov_ops {
	uint32_t abi;		/* KEYPROV_ABI_V1 */
	const char *name;	/* must equal the plugin's file name stem */
	uint32_t flags;		/* KEYPROV_F_* */
	/*
	 * @cfg: settings from the system config and the command line, plus
	 * "volume" (UUID) and "mode" ("create" at init / keyslot add, else
	 * "open").  Never anything from the volume.  *priv is the plugin's;
	 * destroy() frees it.  May block.
	 */
	int (*init)(const struct keyprov_host *host,
		    const struct keyprov_kv *cfg, void **priv, char *msg,
		    size_t msglen);
	/* Cheap and non-blocking. */
	int (*describe)(void *priv, struct keyprov_desc *desc);
	/*
	 * Wrap @key (@key_len bytes, host's locked buffer) into @out
	 * (@out_cap bytes, not secret); *out_len receives the size used.
	 * Public parameters go to req->params->set().  May block.
	 */
	int (*wrap)(void *priv, const struct keyprov_req *req,
		    const uint8_t *key, size_t key_len, uint8_t *out,
		    size_t out_cap, size_t *out_len);
	/*
	 * Unwrap @in into @key: host's locked buffer of exactly @key_len
	 * bytes, which the host wipes on failure.  May block.
	 */
	int (*unwrap)(void *priv, const struct keyprov_req *req,
		      const uint8_t *in, size_t in_len, uint8_t *key,
		      size_t key_len);
	/* Free and wipe everything init() made.  Never fails. */
	void (*destroy)(void *priv);
};

/* NULL unless the plugin speaks @host_abi. */
typedef const struct keyprov_ops *(*keyprov_entry_fn)(uint32_t host_abi);

#endif
