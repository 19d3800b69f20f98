// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * keyprov/keyprov.c - find, load, check and call key providers.
 *
 * Plugins come only from one fixed directory and only by a validated name,
 * never from anything in the backing directory: the config may name a
 * provider, but it cannot make the daemon run code that was not installed
 * by root.  Every callback is checked before use and a failed load always
 * ends in dlclose(), as libcryptsetup does for its token plugins.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <syslog.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "../crypto/msg.h"
#include "../crypto/codec.h"
#include "../crypto/secmem.h"
#include "keyprov_private.h"

/* keyprov.h is installed alone, so it cannot use codec.h's limit. */
_Static_assert(KEYPROV_NAME_MAX == NAME_LEN_MAX, "one limit for names");

#ifndef KEYPROV_DIR
#define KEYPROV_DIR "/usr/local/lib/atrestfs/keyprov"
#endif

/*
 * Locking: ->lock serialises calls into a provider that is not
 * KEYPROV_F_THREADSAFE; it is never held with any filesystem lock.
 */
struct keyprov {
	const struct keyprov_ops *ops;
	void *priv;
	void *dl;		/* NULL for a built-in provider */
	pthread_mutex_t lock;
};

static const struct {
	const char *name;
	keyprov_entry_fn entry;
} builtins[] = {
	{ "keyfile", keyprov_keyfile_entry },
	{ "passphrase", keyprov_passphrase_entry },
	{ "pkcs11", keyprov_pkcs11_entry },
	{ "exec", keyprov_exec_entry },
};

static const char *kvlist_get(const struct keyprov_kv *kv, const char *key)
{
	const struct keyprov_kvlist *l = (const struct keyprov_kvlist *)kv;
	unsigned int i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->key[i], key))
			return l->val[i];
	return NULL;
}

void keyprov_kv_init(struct keyprov_kvlist *l)
{
	memset(l, 0, sizeof(*l));
	l->kv.get = kvlist_get;
}

int keyprov_kv_set(struct keyprov_kvlist *l, const char *key, const char *val)
{
	unsigned int i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->key[i], key))
			break;
	if (i == KEYPROV_KV_MAX)
		return -ENOSPC;
	l->key[i] = key;
	l->val[i] = val;
	if (i == l->n)
		l->n++;
	return 0;
}

int keyprov_name_valid(const char *name)
{
	return name_valid(name);
}

static const char *params_get(const struct keyprov_params *p, const char *key)
{
	const struct keyprov_paramset *ps = (const struct keyprov_paramset *)p;
	unsigned int i;

	for (i = 0; i < ps->n; i++)
		if (!strcmp(ps->key[i], key))
			return ps->val[i];
	return NULL;
}

static int params_set(struct keyprov_params *p, const char *key,
		      const char *val)
{
	struct keyprov_paramset *ps = (struct keyprov_paramset *)p;
	unsigned int i;

	if (!key || !val || !name_valid(key) ||
	    !str_valid(val, KEYPROV_PARAM_MAX))
		return -EINVAL;
	for (i = 0; i < ps->n; i++)
		if (!strcmp(ps->key[i], key))
			break;
	if (i == KEYPROV_PARAMS_MAX)
		return -ENOSPC;
	strcpy(ps->key[i], key);
	strcpy(ps->val[i], val);
	if (i == ps->n)
		ps->n++;
	return 0;
}

void keyprov_params_init(struct keyprov_paramset *ps, int writable)
{
	memset(ps, 0, sizeof(*ps));
	ps->p.get = params_get;
	ps->p.set = writable ? params_set : NULL;
}

static int no_secret(const struct keyprov_host *host, const char *prompt,
		     unsigned int flags, char *buf, size_t buflen, size_t *len)
{
	(void)host;
	(void)prompt;
	(void)flags;
	(void)buf;
	(void)buflen;
	*len = 0;
	return -ENOANO;
}

static void log_stderr(const struct keyprov_host *host, int level,
		       const char *line)
{
	(void)host;
	if (level <= LOG_WARNING)
		fprintf(stderr, "atrestfs: %s\n", line);
}

static const struct keyprov_host default_host = {
	.abi = KEYPROV_ABI_V1,
	.secure_alloc = secmem_alloc,
	.secure_free = secmem_free,
	.ask_secret = no_secret,
	.log = log_stderr,
};

const struct keyprov_host *keyprov_host_default(void)
{
	return &default_host;
}

static int check_ops(const struct keyprov_ops *ops, const char *name,
		     char *msg, size_t msglen)
{
	if (!ops)
		return msg_fail(msg, msglen, -EPROTONOSUPPORT,
			   "key provider '%s' refused ABI version %d",
			   name, KEYPROV_ABI_V1);
	if (ops->abi != KEYPROV_ABI_V1)
		return msg_fail(msg, msglen, -EPROTONOSUPPORT,
			   "key provider '%s' speaks ABI version %u; this atrestfs speaks %d",
			   name, ops->abi, KEYPROV_ABI_V1);
	if (!ops->name || strcmp(ops->name, name))
		return msg_fail(msg, msglen, -EINVAL,
			   "key provider '%s' calls itself '%s'", name,
			   ops->name ? ops->name : "(null)");
	if (!ops->init || !ops->describe || !ops->wrap || !ops->unwrap ||
	    !ops->destroy)
		return msg_fail(msg, msglen, -EINVAL,
			   "key provider '%s' lacks a required callback", name);
	return 0;
}

/*
 * A plugin that fails without a sentence still gets one, in words: an
 * errno's own text ("No anode", "Key was rejected by service") tells a
 * user nothing about keys.
 */
static int say_why(const char *name, int err, char *msg, size_t msglen)
{
	const char *why;

	if (!err || !msg || !msglen || msg[0])
		return err;
	switch (err) {
	case -EBADMSG:
		why = "the wrapped key does not authenticate (another key, or "
		      "a damaged keyslot)";
		break;
	case -ENOKEY:
		why = "its root key does not exist";
		break;
	case -ENOANO:
		why = "a PIN or passphrase is needed and none was given, or "
		      "the one given is wrong";
		break;
	case -EKEYREJECTED:
		why = "its key was refused";
		break;
	case -EAGAIN:
		why = "its token or service is absent or unreachable";
		break;
	case -ETIMEDOUT:
		why = "its service did not answer in time";
		break;
	case -EACCES:
	case -EPERM:
		why = "it was refused access";
		break;
	case -EINVAL:
		why = "bad settings or keyslot parameters";
		break;
	default:
		why = strerror(-err);
	}
	return msg_fail(msg, msglen, err, "key provider %s failed: %s", name,
			why);
}

static int start(const struct keyprov_ops *ops, void *dl,
		 const struct keyprov_host *host, const struct keyprov_kv *cfg, struct keyprov **kpp,
		 char *msg, size_t msglen)
{
	struct keyprov *kp = calloc(1, sizeof(*kp));
	int err;

	if (!kp)
		return -ENOMEM;
	kp->ops = ops;
	kp->dl = dl;
	pthread_mutex_init(&kp->lock, NULL);
	err = ops->init(host ? host : &default_host, cfg, &kp->priv, msg,
			msglen);
	if (err) {
		pthread_mutex_destroy(&kp->lock);
		free(kp);
		return say_why(ops->name, err < 0 ? err : -EIO, msg, msglen);
	}
	*kpp = kp;
	return 0;
}

bool keyprov_code_trusted(const struct stat *st)
{
	return S_ISREG(st->st_mode) && !(st->st_mode & 022) &&
	       (st->st_uid == 0 || st->st_uid == geteuid());
}

int keyprov_secret_check(int fd, const char *path, const char *what,
			 bool own, struct stat *st, char *msg, size_t msglen)
{
	if (fstat(fd, st) || !S_ISREG(st->st_mode))
		return msg_fail(msg, msglen, -EINVAL, "%s %s is not a regular "
				"file", what, path);
	if (st->st_mode & 077)
		return msg_fail(msg, msglen, -EPERM, "%s %s is accessible to "
				"group or others (mode %04o); run: chmod "
				"600 %s", what, path,
				(unsigned int)(st->st_mode & 07777), path);
	if (own && st->st_uid != geteuid())
		return msg_fail(msg, msglen, -EPERM, "%s %s belongs to uid %u, "
				"not to uid %u", what, path,
				(unsigned int)st->st_uid,
				(unsigned int)geteuid());
	return 0;
}

int keyprov_open_dir(const char *dir, const char *name,
		     const struct keyprov_host *host,
		     const struct keyprov_kv *cfg, struct keyprov **kpp,
		     char *msg, size_t msglen)
{
	const struct keyprov_ops *ops;
	keyprov_entry_fn entry;
	char path[4096];
	struct stat st;
	size_t i;
	void *dl;
	int err;

	if (!keyprov_name_valid(name))
		return msg_fail(msg, msglen, -EINVAL,
			   "'%.64s' is not a valid key provider name (letters, digits, '-', '_', at most %d)",
			   name, KEYPROV_NAME_MAX);
	for (i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++) {
		if (strcmp(builtins[i].name, name))
			continue;
		ops = builtins[i].entry(KEYPROV_ABI_V1);
		err = check_ops(ops, name, msg, msglen);
		return err ? err : start(ops, NULL, host, cfg, kpp, msg, msglen);
	}
	snprintf(path, sizeof(path), "%s/%s.so", dir, name);
	if (stat(path, &st) == 0 && !keyprov_code_trusted(&st))
		return msg_fail(msg, msglen, -EPERM, "key provider plugin %s is "
			   "not a regular file owned by root (or us) and "
			   "writable by its owner only; refusing it", path);
	dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!dl)
		return msg_fail(msg, msglen, -ENOENT,
			   "no key provider '%s' (%s)", name, dlerror());
	*(void **)&entry = dlsym(dl, KEYPROV_ENTRY_SYMBOL);
	if (!entry) {
		err = msg_fail(msg, msglen, -EINVAL, "%s does not export %s", path,
			  KEYPROV_ENTRY_SYMBOL);
		goto out_close;
	}
	ops = entry(KEYPROV_ABI_V1);
	err = check_ops(ops, name, msg, msglen);
	if (!err)
		err = start(ops, dl, host, cfg, kpp, msg, msglen);
	if (!err)
		return 0;
out_close:
	dlclose(dl);
	return err;
}

int keyprov_open(const char *name, const struct keyprov_host *host,
		 const struct keyprov_kv *cfg, struct keyprov **kpp,
		 char *msg, size_t msglen)
{
	return keyprov_open_dir(KEYPROV_DIR, name, host, cfg, kpp, msg,
				msglen);
}

void keyprov_close(struct keyprov *kp)
{
	if (!kp)
		return;
	kp->ops->destroy(kp->priv);
	pthread_mutex_destroy(&kp->lock);
	if (kp->dl)
		dlclose(kp->dl);
	free(kp);
}

const char *keyprov_name(const struct keyprov *kp)
{
	return kp->ops->name;
}

static void enter(struct keyprov *kp)
{
	if (!(kp->ops->flags & KEYPROV_F_THREADSAFE))
		pthread_mutex_lock(&kp->lock);
}

static void leave(struct keyprov *kp)
{
	if (!(kp->ops->flags & KEYPROV_F_THREADSAFE))
		pthread_mutex_unlock(&kp->lock);
}

int keyprov_describe(struct keyprov *kp, struct keyprov_desc *desc)
{
	int err;

	memset(desc, 0, sizeof(*desc));
	enter(kp);
	err = kp->ops->describe(kp->priv, desc);
	leave(kp);
	/* Never trust a plugin to terminate its strings. */
	desc->key_id[sizeof(desc->key_id) - 1] = '\0';
	desc->algorithm[sizeof(desc->algorithm) - 1] = '\0';
	/*
	 * Both go into atrestfs.conf as quoted strings, under its MAC: one
	 * that the loader refuses (a quote, a backslash, empty) would leave a
	 * volume that no key opens and that cannot be mended by hand.
	 */
	if (!err && (!desc->key_id[0] || !str_valid(desc->key_id, 255) ||
		     !desc->algorithm[0] || !str_valid(desc->algorithm, 63)))
		err = -EPROTO;
	return err;
}

int keyprov_wrap(struct keyprov *kp, const struct keyprov_req *req,
		 const uint8_t *key, size_t key_len, uint8_t *out,
		 size_t *out_len)
{
	int err;

	*out_len = 0;
	if (!req->aad || !req->aad_len)
		return msg_fail(req->msg, req->msglen, -EINVAL,
			   "refusing to wrap without AAD");
	enter(kp);
	err = kp->ops->wrap(kp->priv, req, key, key_len, out,
			    KEYPROV_WRAPPED_MAX, out_len);
	leave(kp);
	if (err > 0)
		err = -EIO;
	err = say_why(kp->ops->name, err, req->msg, req->msglen);
	if (!err && (*out_len == 0 || *out_len > KEYPROV_WRAPPED_MAX))
		err = msg_fail(req->msg, req->msglen, -EINVAL,
			  "key provider '%s' returned a wrapped key of %zu bytes",
			  kp->ops->name, *out_len);
	return err;
}

int keyprov_unwrap(struct keyprov *kp, const struct keyprov_req *req,
		   const uint8_t *in, size_t in_len, uint8_t *key,
		   size_t key_len)
{
	int err;

	if (!req->aad || !req->aad_len)
		return msg_fail(req->msg, req->msglen, -EINVAL,
			   "refusing to unwrap without AAD");
	enter(kp);
	err = kp->ops->unwrap(kp->priv, req, in, in_len, key, key_len);
	leave(kp);
	if (err > 0)
		err = -EIO;
	if (err)
		OPENSSL_cleanse(key, key_len);
	return say_why(kp->ops->name, err, req->msg, req->msglen);
}
