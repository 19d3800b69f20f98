// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * keyprov/pkcs11.c - the "pkcs11" provider: the root key is a
 * non-extractable AES-256 secret key on a PKCS#11 token (an HSM, a smart
 * card, SoftHSM), and the KEK is sealed and opened inside the token with
 * C_Encrypt/C_Decrypt and CKM_AES_GCM.
 *
 * Why GCM and not CKM_AES_KEY_WRAP_PAD (RFC 5649): KWP has no associated
 * data, so the token would unwrap a keyslot transplanted from another
 * volume or provider and only the config MAC, checked after the unwrap,
 * would notice.  GCM binds the host's AAD (volume UUID, KEK ID, provider)
 * inside the token, and tokens that do AES generally have it.
 * The 96-bit nonce is ours (rand_fill()); a root key wraps one KEK per
 * keyslot creation, far below the 2^32 random-nonce bound.  The AAD is
 * never empty: SoftHSM 2.6 can crash on empty GCM AAD.
 *
 * Wrapped record: nonce (12) || ciphertext (key_len) || tag (16).
 *
 * Settings (system providers.conf or -O, never the volume): module
 * (absolute path of the PKCS#11 .so), token (label), key (label),
 * pin_file (absolute, mode 0600, owned by us; else the host's ask_secret),
 * slot (decimal slot ID, optional).
 *
 * Owns: the module handle and one logged-in session from init() to
 * destroy(), which logs out, closes, C_Finalize()s (if we initialised the
 * module) and dlclose()s.  The PIN lives in host secure memory from read
 * to C_Login and is wiped right after.  Not thread-safe: the module is
 * initialised without CKF_OS_LOCKING_OK, so the host serialises us.
 *
 * The PKCS#11 declarations below are the few this file needs, from the
 * OASIS PKCS#11 v2.40 headers (pkcs11t.h, pkcs11f.h), so that building
 * atrestfs needs no PKCS#11 development package.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "../crypto/aead.h"
#include "../crypto/codec.h"
#include "../crypto/msg.h"
#include "keyprov_private.h"

/* ---- PKCS#11 v2.40 subset ---- */

typedef unsigned long CK_ULONG, CK_RV, CK_FLAGS, CK_SLOT_ID;
typedef unsigned long CK_SESSION_HANDLE, CK_OBJECT_HANDLE, CK_USER_TYPE;
typedef unsigned long CK_ATTRIBUTE_TYPE, CK_MECHANISM_TYPE;
typedef unsigned long CK_OBJECT_CLASS, CK_KEY_TYPE;
typedef unsigned char CK_BYTE, CK_BBOOL, CK_UTF8CHAR;

typedef struct { CK_BYTE major, minor; } CK_VERSION;

typedef struct {
	CK_UTF8CHAR label[32];
	CK_UTF8CHAR manufacturerID[32];
	CK_UTF8CHAR model[16];
	CK_BYTE serialNumber[16];
	CK_FLAGS flags;
	CK_ULONG ulMaxSessionCount, ulSessionCount;
	CK_ULONG ulMaxRwSessionCount, ulRwSessionCount;
	CK_ULONG ulMaxPinLen, ulMinPinLen;
	CK_ULONG ulTotalPublicMemory, ulFreePublicMemory;
	CK_ULONG ulTotalPrivateMemory, ulFreePrivateMemory;
	CK_VERSION hardwareVersion, firmwareVersion;
	CK_BYTE utcTime[16];
} CK_TOKEN_INFO;

typedef struct {
	CK_ATTRIBUTE_TYPE type;
	void *pValue;
	CK_ULONG ulValueLen;
} CK_ATTRIBUTE;

typedef struct {
	CK_MECHANISM_TYPE mechanism;
	void *pParameter;
	CK_ULONG ulParameterLen;
} CK_MECHANISM;

/* As in the v2.40 headers (with ulIvBits), which SoftHSM 2.6 follows. */
typedef struct {
	CK_BYTE *pIv;
	CK_ULONG ulIvLen;
	CK_ULONG ulIvBits;
	CK_BYTE *pAAD;
	CK_ULONG ulAADLen;
	CK_ULONG ulTagBits;
} CK_GCM_PARAMS;

typedef void (*p11_unused)(void);	/* never called through */

typedef struct {
	CK_VERSION version;
	CK_RV (*C_Initialize)(void *init_args);
	CK_RV (*C_Finalize)(void *reserved);
	p11_unused C_GetInfo, C_GetFunctionList;
	CK_RV (*C_GetSlotList)(CK_BBOOL token_present, CK_SLOT_ID *list,
			       CK_ULONG *count);
	p11_unused C_GetSlotInfo;
	CK_RV (*C_GetTokenInfo)(CK_SLOT_ID slot, CK_TOKEN_INFO *info);
	p11_unused C_GetMechanismList, C_GetMechanismInfo, C_InitToken;
	p11_unused C_InitPIN, C_SetPIN;
	CK_RV (*C_OpenSession)(CK_SLOT_ID slot, CK_FLAGS flags, void *app,
			       void *notify, CK_SESSION_HANDLE *session);
	CK_RV (*C_CloseSession)(CK_SESSION_HANDLE session);
	p11_unused C_CloseAllSessions, C_GetSessionInfo;
	p11_unused C_GetOperationState, C_SetOperationState;
	CK_RV (*C_Login)(CK_SESSION_HANDLE session, CK_USER_TYPE user,
			 CK_UTF8CHAR *pin, CK_ULONG pin_len);
	CK_RV (*C_Logout)(CK_SESSION_HANDLE session);
	p11_unused C_CreateObject, C_CopyObject, C_DestroyObject;
	p11_unused C_GetObjectSize;
	CK_RV (*C_GetAttributeValue)(CK_SESSION_HANDLE session,
				     CK_OBJECT_HANDLE object,
				     CK_ATTRIBUTE *templ, CK_ULONG count);
	p11_unused C_SetAttributeValue;
	CK_RV (*C_FindObjectsInit)(CK_SESSION_HANDLE session,
				   CK_ATTRIBUTE *templ, CK_ULONG count);
	CK_RV (*C_FindObjects)(CK_SESSION_HANDLE session,
			       CK_OBJECT_HANDLE *object, CK_ULONG max,
			       CK_ULONG *count);
	CK_RV (*C_FindObjectsFinal)(CK_SESSION_HANDLE session);
	CK_RV (*C_EncryptInit)(CK_SESSION_HANDLE session, CK_MECHANISM *mech,
			       CK_OBJECT_HANDLE key);
	CK_RV (*C_Encrypt)(CK_SESSION_HANDLE session, CK_BYTE *data,
			   CK_ULONG data_len, CK_BYTE *out, CK_ULONG *out_len);
	p11_unused C_EncryptUpdate, C_EncryptFinal;
	CK_RV (*C_DecryptInit)(CK_SESSION_HANDLE session, CK_MECHANISM *mech,
			       CK_OBJECT_HANDLE key);
	CK_RV (*C_Decrypt)(CK_SESSION_HANDLE session, CK_BYTE *in,
			   CK_ULONG in_len, CK_BYTE *out, CK_ULONG *out_len);
	p11_unused C_DecryptUpdate, C_DecryptFinal;
	p11_unused C_DigestInit, C_Digest, C_DigestUpdate, C_DigestKey;
	p11_unused C_DigestFinal, C_SignInit, C_Sign, C_SignUpdate;
	p11_unused C_SignFinal, C_SignRecoverInit, C_SignRecover;
	p11_unused C_VerifyInit, C_Verify, C_VerifyUpdate, C_VerifyFinal;
	p11_unused C_VerifyRecoverInit, C_VerifyRecover;
	p11_unused C_DigestEncryptUpdate, C_DecryptDigestUpdate;
	p11_unused C_SignEncryptUpdate, C_DecryptVerifyUpdate;
	p11_unused C_GenerateKey, C_GenerateKeyPair, C_WrapKey, C_UnwrapKey;
	p11_unused C_DeriveKey, C_SeedRandom, C_GenerateRandom;
	p11_unused C_GetFunctionStatus, C_CancelFunction, C_WaitForSlotEvent;
} CK_FUNCTION_LIST;

typedef CK_RV (*CK_C_GetFunctionList)(CK_FUNCTION_LIST **list);

#define CK_TRUE				1
#define CK_FALSE			0
#define CKF_SERIAL_SESSION		0x4UL
/* CK_TOKEN_INFO flags */
#define CKF_LOGIN_REQUIRED		0x4UL
#define CKF_USER_PIN_INITIALIZED	0x8UL
#define CKF_PROTECTED_AUTHENTICATION_PATH 0x100UL
#define CKF_USER_PIN_FINAL_TRY		0x20000UL
#define CKF_USER_PIN_LOCKED		0x40000UL
#define CKU_USER			1UL
#define CKO_SECRET_KEY			4UL
#define CKK_AES				0x1fUL
#define CKA_CLASS			0x0UL
#define CKA_LABEL			0x3UL
#define CKA_KEY_TYPE			0x100UL
#define CKA_SENSITIVE			0x103UL
#define CKA_ENCRYPT			0x104UL
#define CKA_DECRYPT			0x105UL
#define CKA_VALUE_LEN			0x161UL
#define CKA_EXTRACTABLE			0x162UL
#define CKM_AES_GCM			0x1087UL

#define CKR_OK				0x0UL
#define CKR_HOST_MEMORY			0x2UL
#define CKR_GENERAL_ERROR		0x5UL
#define CKR_FUNCTION_FAILED		0x6UL
#define CKR_DEVICE_ERROR		0x30UL
#define CKR_DEVICE_REMOVED		0x32UL
#define CKR_ENCRYPTED_DATA_INVALID	0x40UL
#define CKR_ENCRYPTED_DATA_LEN_RANGE	0x41UL
#define CKR_KEY_FUNCTION_NOT_PERMITTED	0x68UL
#define CKR_MECHANISM_INVALID		0x70UL
#define CKR_MECHANISM_PARAM_INVALID	0x71UL
#define CKR_PIN_INCORRECT		0xa0UL
#define CKR_PIN_INVALID			0xa1UL
#define CKR_PIN_LEN_RANGE		0xa2UL
#define CKR_PIN_EXPIRED			0xa3UL
#define CKR_PIN_LOCKED			0xa4UL
#define CKR_SESSION_HANDLE_INVALID	0xb3UL
#define CKR_TOKEN_NOT_PRESENT		0xe0UL
#define CKR_TOKEN_NOT_RECOGNIZED	0xe1UL
#define CKR_USER_ALREADY_LOGGED_IN	0x100UL
#define CKR_USER_PIN_NOT_INITIALIZED	0x102UL
#define CKR_CRYPTOKI_ALREADY_INITIALIZED 0x191UL

/* ---- the provider ---- */

#define ROOT_KEY_LEN	32		/* AES-256 */

struct p11 {
	const struct keyprov_host *host;
	void *dl;			/* the module */
	CK_FUNCTION_LIST *f;		/* the module's; NULL before init */
	int finalize;			/* we C_Initialize()d it */
	CK_SESSION_HANDLE sess;
	int have_sess, logged_in;
	CK_OBJECT_HANDLE key;
	int create;			/* mode "create" */
	unsigned long slot;
	int have_slot;
	const char *pin_file;		/* borrowed: valid during init() only */
	char module[4096];
	char token[P11_LABEL_MAX + 1];
	char object[P11_OBJECT_MAX + 1];
	char volume[64];		/* for the PIN prompt */
	char uri[256];			/* describe()'s key_id */
};

/* A return value for messages; @buf (24 bytes) holds unknown ones. */
static const char *rv_name(CK_RV rv, char *buf)
{
	static const struct { CK_RV rv; const char *name; } names[] = {
		{ CKR_HOST_MEMORY, "CKR_HOST_MEMORY" },
		{ CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR" },
		{ CKR_DEVICE_REMOVED, "CKR_DEVICE_REMOVED" },
		{ CKR_ENCRYPTED_DATA_INVALID, "CKR_ENCRYPTED_DATA_INVALID" },
		{ CKR_KEY_FUNCTION_NOT_PERMITTED, "CKR_KEY_FUNCTION_NOT_PERMITTED" },
		{ CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID" },
		{ CKR_MECHANISM_PARAM_INVALID, "CKR_MECHANISM_PARAM_INVALID" },
		{ CKR_SESSION_HANDLE_INVALID, "CKR_SESSION_HANDLE_INVALID" },
		{ CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT" },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].rv == rv)
			return names[i].name;
	snprintf(buf, 24, "CKR 0x%lx", rv);
	return buf;
}
/* The buffer lives until the end of the enclosing block. */
#define RV(rv)	rv_name((rv), (char[24]){ 0 })

/* The token went away or stopped answering: hardware absent. */
static int gone(CK_RV rv)
{
	return rv == CKR_DEVICE_REMOVED || rv == CKR_TOKEN_NOT_PRESENT ||
	       rv == CKR_TOKEN_NOT_RECOGNIZED || rv == CKR_DEVICE_ERROR ||
	       rv == CKR_SESSION_HANDLE_INVALID;
}

/* RFC 7512 p11-pchar: unreserved and a few sub-delims stay, rest %XX. */
static int pchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || strchr("-._~:[]@!$'()*+,=&", c);
}

static int pct_append(char *out, size_t outlen, size_t *at, const char *s)
{
	static const char hexd[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++) {
		if (pchar(*p)) {
			if (*at + 1 >= outlen)
				return -ENAMETOOLONG;
			out[(*at)++] = (char)*p;
			continue;
		}
		if (*at + 3 >= outlen)
			return -ENAMETOOLONG;
		out[(*at)++] = '%';
		out[(*at)++] = hexd[*p >> 4];
		out[(*at)++] = hexd[*p & 15];
	}
	out[*at] = '\0';
	return 0;
}

int keyprov_pkcs11_uri(const char *token, const char *object, char *out,
		       size_t outlen)
{
	size_t at;
	int err;

	if (outlen < sizeof("pkcs11:token=;object="))
		return -ENAMETOOLONG;
	at = (size_t)snprintf(out, outlen, "pkcs11:token=");
	err = pct_append(out, outlen, &at, token);
	if (!err && at + sizeof(";object=") <= outlen)
		at += (size_t)snprintf(out + at, outlen - at, ";object=");
	else if (!err)
		err = -ENAMETOOLONG;
	if (!err)
		err = pct_append(out, outlen, &at, object);
	if (err)
		out[0] = '\0';
	return err;
}

int keyprov_pkcs11_read_pin(const char *path, char *pin, size_t pinmax,
			    size_t *len, char *msg, size_t msglen)
{
	struct stat st;
	ssize_t n;
	int fd, err;

	*len = 0;
	/*
	 * O_NONBLOCK: a FIFO would block the open before the check below
	 * refuses it; a regular file reads the same.
	 */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return msg_fail(msg, msglen, errno == ELOOP ? -EPERM : -ENOANO,
			   "cannot open PIN file %s: %s", path,
			   errno == ELOOP ? "it is a symbolic link" :
			   strerror(errno));
	/* Every unsafe PIN file is -EPERM, a non-regular one included. */
	if (keyprov_secret_check(fd, path, "PIN file", true, &st, msg,
				 msglen)) {
		err = -EPERM;
		goto out_close;
	}
	n = read(fd, pin, pinmax);
	if (n < 0 || (size_t)n == pinmax) {
		err = msg_fail(msg, msglen, n < 0 ? -EIO : -EINVAL,
			  n < 0 ? "cannot read PIN file %s" :
			  "PIN file %s is too long for a PIN", path);
		goto out_close;
	}
	while (n > 0 && (pin[n - 1] == '\n' || pin[n - 1] == '\r'))
		n--;
	pin[n] = '\0';
	if (!n) {
		err = msg_fail(msg, msglen, -ENOANO, "PIN file %s is empty", path);
		goto out_close;
	}
	*len = (size_t)n;
	err = 0;
out_close:
	close(fd);
	if (err)
		OPENSSL_cleanse(pin, pinmax);
	return err;
}

/* Every setting checked before any code is loaded. */
static int take_settings(struct p11 *p, const struct keyprov_kv *cfg,
			 char *msg, size_t msglen)
{
	const char *module = cfg->get(cfg, "module");
	const char *token = cfg->get(cfg, "token");
	const char *key = cfg->get(cfg, "key");
	const char *slot = cfg->get(cfg, "slot");
	const char *mode = cfg->get(cfg, "mode");
	const char *vol = cfg->get(cfg, "volume");
	uint64_t id = 0;

	p->pin_file = cfg->get(cfg, "pin_file");
	if (!module || !*module)
		return msg_fail(msg, msglen, -EINVAL, "pkcs11 provider: no module "
			   "given (set pkcs11 = { module = \"/path/to/"
			   "module.so\"; ... } in providers.conf)");
	if (module[0] != '/')
		return msg_fail(msg, msglen, -EINVAL, "pkcs11 provider: module %s "
			   "is not an absolute path", module);
	if (strlen(module) >= sizeof(p->module))
		return msg_fail(msg, msglen, -EINVAL, "pkcs11 provider: module "
			   "path too long");
	if (!token || !*token || strlen(token) > P11_LABEL_MAX)
		return msg_fail(msg, msglen, -EINVAL, "pkcs11 provider: token "
			   "(the token's label, 1 to %d bytes) is required",
			   P11_LABEL_MAX);
	if (!key || !*key || strlen(key) > P11_OBJECT_MAX)
		return msg_fail(msg, msglen, -EINVAL, "pkcs11 provider: key (the "
			   "root key's label, 1 to %d bytes) is required",
			   P11_OBJECT_MAX);
	if (slot && dec_parse_u64(slot, 0, ULONG_MAX, &id))
		return msg_fail(msg, msglen, -EINVAL, "pkcs11 provider: slot '%s' "
			   "is not a decimal slot ID", slot);
	p->slot = (CK_SLOT_ID)id;
	p->have_slot = slot != NULL;
	if (p->pin_file && p->pin_file[0] != '/')
		return msg_fail(msg, msglen, -EINVAL, "pkcs11 provider: pin_file "
			   "%s is not an absolute path", p->pin_file);
	snprintf(p->module, sizeof(p->module), "%s", module);
	snprintf(p->token, sizeof(p->token), "%s", token);
	snprintf(p->object, sizeof(p->object), "%s", key);
	snprintf(p->volume, sizeof(p->volume), "%s", vol ? vol : "");
	p->create = mode && !strcmp(mode, "create");
	if (keyprov_pkcs11_uri(token, key, p->uri, sizeof(p->uri)))
		return msg_fail(msg, msglen, -EINVAL, "pkcs11 provider: token and "
			   "key labels too long for a key ID");
	return 0;
}

static int load_module(struct p11 *p, char *msg, size_t msglen)
{
	CK_C_GetFunctionList get_list;
	struct stat st;
	CK_RV rv;

	if (stat(p->module, &st))
		return msg_fail(msg, msglen, -ENOENT, "PKCS#11 module %s: %s",
			   p->module, strerror(errno));
	/* Root's config names it, but code anyone may rewrite is not root's. */
	if (!keyprov_code_trusted(&st))
		return msg_fail(msg, msglen, -EPERM, "PKCS#11 module %s is not a "
			   "regular file owned by root (or us) and writable by "
			   "its owner only; refusing it", p->module);
	p->dl = dlopen(p->module, RTLD_NOW | RTLD_LOCAL);
	if (!p->dl)
		return msg_fail(msg, msglen, -ENOENT, "cannot load PKCS#11 module "
			   "%s: %s", p->module, dlerror());
	*(void **)&get_list = dlsym(p->dl, "C_GetFunctionList");
	if (!get_list)
		return msg_fail(msg, msglen, -EINVAL, "%s is not a PKCS#11 module "
			   "(no C_GetFunctionList)", p->module);
	rv = get_list(&p->f);
	if (rv != CKR_OK || !p->f || p->f->version.major != 2) {
		p->f = NULL;
		return msg_fail(msg, msglen, -EINVAL, "PKCS#11 module %s does not "
			   "offer a version 2 function list", p->module);
	}
	/* NULL arguments: we promise one thread at a time (not THREADSAFE). */
	rv = p->f->C_Initialize(NULL);
	if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED)
		return 0;	/* someone else in this process: theirs to end */
	if (rv != CKR_OK) {
		p->f = NULL;
		return msg_fail(msg, msglen, -EIO, "PKCS#11 module %s failed to "
			   "initialise (%s)", p->module, RV(rv));
	}
	p->finalize = 1;
	return 0;
}

/* Blank-padded CK_TOKEN_INFO label equals @want. */
static int label_is(const CK_UTF8CHAR label[32], const char *want)
{
	size_t n = 32, w = strlen(want);

	while (n && label[n - 1] == ' ')
		n--;
	return n == w && !memcmp(label, want, n);
}

static int find_token(struct p11 *p, CK_TOKEN_INFO *ti, char *msg,
		      size_t msglen)
{
	CK_SLOT_ID *slots = NULL;
	CK_ULONG n = 0, i;
	CK_RV rv;
	int err = -EAGAIN;

	rv = p->f->C_GetSlotList(CK_TRUE, NULL, &n);
	if (rv == CKR_OK && n) {
		slots = calloc(n, sizeof(*slots));
		if (!slots)
			return -ENOMEM;
		rv = p->f->C_GetSlotList(CK_TRUE, slots, &n);
	}
	for (i = 0; rv == CKR_OK && i < n; i++) {
		if (p->have_slot && slots[i] != p->slot)
			continue;
		if (p->f->C_GetTokenInfo(slots[i], ti) != CKR_OK ||
		    !label_is(ti->label, p->token))
			continue;
		p->slot = slots[i];
		err = 0;
		break;
	}
	free(slots);
	if (err && p->have_slot)
		msg_fail(msg, msglen, err, "token %s not present in slot %lu of "
		    "PKCS#11 module %s", p->token, p->slot, p->module);
	else if (err)
		msg_fail(msg, msglen, err, "token %s not present (PKCS#11 module "
		    "%s)", p->token, p->module);
	return err;
}

/* The PIN, from pin_file or the host, into host secure memory. */
static int get_pin(struct p11 *p, char *pin, size_t *len, char *msg,
		   size_t msglen)
{
	const struct keyprov_host *h = p->host;
	char prompt[128];
	int err;

	if (p->pin_file)
		return keyprov_pkcs11_read_pin(p->pin_file, pin, P11_PIN_MAX,
					       len, msg, msglen);
	snprintf(prompt, sizeof(prompt), "PIN for token %s (volume %s): ",
		 p->token, p->volume);
	err = h->ask_secret(h, prompt, 0, pin, P11_PIN_MAX, len);
	if (err || !*len)
		return msg_fail(msg, msglen, -ENOANO, "PIN for token %s needed and "
			   "none given (pin_file in providers.conf, "
			   "--passfile, --extpass or a terminal)", p->token);
	return 0;
}

static int login(struct p11 *p, const CK_TOKEN_INFO *ti, char *msg,
		 size_t msglen)
{
	CK_TOKEN_INFO after;
	size_t len = 0;
	char *pin;
	CK_RV rv;
	int err;

	if (!(ti->flags & CKF_LOGIN_REQUIRED))
		return 0;
	if (ti->flags & CKF_USER_PIN_LOCKED)
		return msg_fail(msg, msglen, -EACCES, "the user PIN of token %s is "
			   "locked after too many wrong PINs; its security "
			   "officer must reset it (e.g. pkcs11-tool "
			   "--init-pin --login --login-type so)", p->token);
	if (!(ti->flags & CKF_USER_PIN_INITIALIZED))
		return msg_fail(msg, msglen, -EACCES, "token %s has no user PIN "
			   "set", p->token);
	if ((ti->flags & CKF_PROTECTED_AUTHENTICATION_PATH) && !p->pin_file) {
		rv = p->f->C_Login(p->sess, CKU_USER, NULL, 0);	/* PIN pad */
		goto check;
	}
	pin = p->host->secure_alloc(P11_PIN_MAX);
	if (!pin)
		return -ENOMEM;
	err = get_pin(p, pin, &len, msg, msglen);
	rv = err ? CKR_OK : p->f->C_Login(p->sess, CKU_USER,
					  (CK_UTF8CHAR *)pin, len);
	p->host->secure_free(pin, P11_PIN_MAX);
	if (err)
		return err;
check:
	if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) {
		p->logged_in = rv == CKR_OK;
		return 0;
	}
	if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_INVALID ||
	    rv == CKR_PIN_LEN_RANGE) {
		after.flags = 0;
		p->f->C_GetTokenInfo(p->slot, &after);
		return msg_fail(msg, msglen, -ENOANO, "wrong PIN for token %s%s",
			   p->token, after.flags & CKF_USER_PIN_LOCKED ?
			   "; the PIN is now locked" :
			   after.flags & CKF_USER_PIN_FINAL_TRY ?
			   " (one try left before it locks)" : "");
	}
	if (rv == CKR_PIN_LOCKED)
		return msg_fail(msg, msglen, -EACCES, "the user PIN of token %s is "
			   "locked; its security officer must reset it",
			   p->token);
	if (rv == CKR_PIN_EXPIRED)
		return msg_fail(msg, msglen, -EACCES, "the user PIN of token %s has "
			   "expired; change it first", p->token);
	if (rv == CKR_USER_PIN_NOT_INITIALIZED)
		return msg_fail(msg, msglen, -EACCES, "token %s has no user PIN set",
			   p->token);
	return msg_fail(msg, msglen, gone(rv) ? -EAGAIN : -EIO, "cannot log in "
		   "to token %s (%s)", p->token, RV(rv));
}

/* Exactly one AES key with our label: AES-256, sensitive, non-extractable. */
static int find_key(struct p11 *p, char *msg, size_t msglen)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE type = CKK_AES;
	CK_ATTRIBUTE want[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_KEY_TYPE, &type, sizeof(type) },
		{ CKA_LABEL, p->object, strlen(p->object) },
	};
	CK_BBOOL extractable = CK_TRUE, sensitive = CK_FALSE;
	CK_BBOOL enc = CK_FALSE, dec = CK_FALSE;
	CK_ULONG len = 0, n = 0;
	CK_ATTRIBUTE got[] = {
		{ CKA_VALUE_LEN, &len, sizeof(len) },
		{ CKA_EXTRACTABLE, &extractable, sizeof(extractable) },
		{ CKA_SENSITIVE, &sensitive, sizeof(sensitive) },
		{ CKA_ENCRYPT, &enc, sizeof(enc) },
		{ CKA_DECRYPT, &dec, sizeof(dec) },
	};
	CK_OBJECT_HANDLE found[2];
	CK_RV rv;

	rv = p->f->C_FindObjectsInit(p->sess, want, 3);
	if (rv == CKR_OK) {
		rv = p->f->C_FindObjects(p->sess, found, 2, &n);
		p->f->C_FindObjectsFinal(p->sess);
	}
	if (rv != CKR_OK)
		return msg_fail(msg, msglen, gone(rv) ? -EAGAIN : -EIO, "cannot "
			   "search token %s (%s)", p->token, RV(rv));
	if (n == 0)
		return msg_fail(msg, msglen, -ENOKEY, "no AES key labelled %s on "
			   "token %s", p->object, p->token);
	if (n > 1)
		return msg_fail(msg, msglen, -EINVAL, "more than one AES key "
			   "labelled %s on token %s", p->object, p->token);
	p->key = found[0];
	rv = p->f->C_GetAttributeValue(p->sess, p->key, got, 5);
	if (rv != CKR_OK)
		return msg_fail(msg, msglen, -EIO, "cannot read the attributes of "
			   "key %s on token %s (%s)", p->object, p->token,
			   RV(rv));
	if (len != ROOT_KEY_LEN)
		return msg_fail(msg, msglen, -EINVAL, "key %s on token %s is "
			   "AES-%lu; atrestfs needs AES-256", p->object,
			   p->token, len * 8);
	/* Either would let the value out: wrapped, or read in the clear. */
	if (extractable != CK_FALSE || sensitive != CK_TRUE)
		return msg_fail(msg, msglen, -EPERM, "key %s on token %s is %s; a "
			   "root key must never leave the token (make it "
			   "sensitive and non-extractable, e.g. pkcs11-tool "
			   "--keygen --sensitive)", p->object, p->token,
			   extractable != CK_FALSE ? "extractable" :
			   "not sensitive");
	/* A keyslot made with a key that cannot decrypt would never open. */
	if (dec == CK_FALSE || (p->create && enc == CK_FALSE))
		return msg_fail(msg, msglen, -EPERM, "key %s on token %s may not be "
			   "used to %s", p->object, p->token,
			   dec == CK_FALSE ? "decrypt" : "encrypt");
	return 0;
}

static void p11_destroy(void *priv)
{
	struct p11 *p = priv;

	if (p->f && p->logged_in)
		p->f->C_Logout(p->sess);
	if (p->f && p->have_sess)
		p->f->C_CloseSession(p->sess);
	if (p->f && p->finalize)
		p->f->C_Finalize(NULL);
	if (p->dl)
		dlclose(p->dl);
	free(p);
}

static int p11_init(const struct keyprov_host *host,
		    const struct keyprov_kv *cfg, void **priv, char *msg,
		    size_t msglen)
{
	CK_TOKEN_INFO ti;
	struct p11 *p;
	CK_RV rv;
	int err;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->host = host;
	err = take_settings(p, cfg, msg, msglen);
	if (!err)
		err = load_module(p, msg, msglen);
	if (!err)
		err = find_token(p, &ti, msg, msglen);
	if (err)
		goto out_destroy;
	rv = p->f->C_OpenSession(p->slot, CKF_SERIAL_SESSION, NULL, NULL,
				 &p->sess);
	if (rv != CKR_OK) {
		err = msg_fail(msg, msglen, gone(rv) ? -EAGAIN : -EIO, "cannot open "
			  "a session on token %s (%s)", p->token, RV(rv));
		goto out_destroy;
	}
	p->have_sess = 1;
	err = login(p, &ti, msg, msglen);
	if (!err)
		err = find_key(p, msg, msglen);
	if (err)
		goto out_destroy;
	p->pin_file = NULL;		/* the host's string dies with init() */
	*priv = p;
	return 0;
out_destroy:
	p11_destroy(p);
	return err;
}

static int p11_describe(void *priv, struct keyprov_desc *desc)
{
	struct p11 *p = priv;

	snprintf(desc->key_id, sizeof(desc->key_id), "%s", p->uri);
	desc->key_version = 1;
	snprintf(desc->algorithm, sizeof(desc->algorithm), "CKM_AES_GCM");
	return 0;
}

static void gcm_mech(CK_MECHANISM *m, CK_GCM_PARAMS *gp, CK_BYTE *nonce,
		     CK_BYTE *aad, size_t aad_len)
{
	gp->pIv = nonce;
	gp->ulIvLen = AEAD_NONCE_LEN;
	gp->ulIvBits = AEAD_NONCE_LEN * 8;
	gp->pAAD = aad;
	gp->ulAADLen = aad_len;
	gp->ulTagBits = AEAD_TAG_LEN * 8;
	m->mechanism = CKM_AES_GCM;
	m->pParameter = gp;
	m->ulParameterLen = sizeof(*gp);
}

static int p11_wrap(void *priv, const struct keyprov_req *req,
		    const uint8_t *key, size_t key_len, uint8_t *out,
		    size_t out_cap, size_t *out_len)
{
	struct p11 *p = priv;
	CK_BYTE *plain, *aad;
	CK_GCM_PARAMS gp;
	CK_MECHANISM m;
	CK_ULONG n = out_cap - AEAD_NONCE_LEN;
	CK_RV rv;
	int err;

	if (!req->aad_len || AEAD_NONCE_LEN + key_len + AEAD_TAG_LEN > out_cap)
		return -EINVAL;
	err = rand_fill(out, AEAD_NONCE_LEN);
	if (err)
		return err;
	err = -ENOMEM;
	/* PKCS#11 takes non-const buffers: hand it copies. */
	plain = p->host->secure_alloc(key_len);
	aad = malloc(req->aad_len);
	if (!plain || !aad)
		goto out_free;
	memcpy(plain, key, key_len);
	memcpy(aad, req->aad, req->aad_len);
	gcm_mech(&m, &gp, out, aad, req->aad_len);
	rv = p->f->C_EncryptInit(p->sess, &m, p->key);
	if (rv == CKR_OK)
		rv = p->f->C_Encrypt(p->sess, plain, key_len,
				     out + AEAD_NONCE_LEN, &n);
	err = 0;
	if (rv != CKR_OK)
		err = msg_fail(req->msg, req->msglen, gone(rv) ? -EAGAIN : -EIO,
			  "token %s cannot encrypt with key %s (%s)", p->token,
			  p->object, RV(rv));
	else if (n != key_len + AEAD_TAG_LEN)
		err = msg_fail(req->msg, req->msglen, -EIO, "token %s returned %lu "
			  "bytes of AES-GCM output for %zu", p->token, n,
			  key_len);
	else
		*out_len = AEAD_NONCE_LEN + n;
out_free:
	p->host->secure_free(plain, key_len);
	free(aad);
	return err;
}

static int p11_unwrap(void *priv, const struct keyprov_req *req,
		      const uint8_t *in, size_t in_len, uint8_t *key,
		      size_t key_len)
{
	struct p11 *p = priv;
	CK_BYTE *plain, *copy, *aad;
	CK_GCM_PARAMS gp;
	CK_MECHANISM m;
	CK_ULONG n = in_len;
	CK_RV rv;
	int err = -ENOMEM;

	if (!req->aad_len)
		return -EINVAL;
	if (in_len != AEAD_NONCE_LEN + key_len + AEAD_TAG_LEN)
		return msg_fail(req->msg, req->msglen, -EBADMSG, "pkcs11 keyslot "
			   "holds %zu bytes, expected %zu", in_len,
			   AEAD_NONCE_LEN + key_len + AEAD_TAG_LEN);
	/* Tokens may want room for the whole input: decrypt into scratch. */
	plain = p->host->secure_alloc(in_len);
	copy = malloc(in_len);
	aad = malloc(req->aad_len);
	if (!plain || !copy || !aad)
		goto out_free;
	memcpy(copy, in, in_len);
	memcpy(aad, req->aad, req->aad_len);
	gcm_mech(&m, &gp, copy, aad, req->aad_len);
	rv = p->f->C_DecryptInit(p->sess, &m, p->key);
	if (rv == CKR_OK) {
		rv = p->f->C_Decrypt(p->sess, copy + AEAD_NONCE_LEN,
				     in_len - AEAD_NONCE_LEN, plain, &n);
		/* SoftHSM 2.6 reports a failed GCM tag check this way. */
		if (rv == CKR_GENERAL_ERROR || rv == CKR_FUNCTION_FAILED)
			rv = CKR_ENCRYPTED_DATA_INVALID;
	}
	err = 0;
	if (rv == CKR_ENCRYPTED_DATA_INVALID ||
	    rv == CKR_ENCRYPTED_DATA_LEN_RANGE || (rv == CKR_OK && n != key_len))
		err = msg_fail(req->msg, req->msglen, -EBADMSG, "key %s on token %s "
			  "does not open this keyslot", p->object, p->token);
	else if (rv != CKR_OK)
		err = msg_fail(req->msg, req->msglen, gone(rv) ? -EAGAIN : -EIO,
			  "token %s cannot decrypt with key %s (%s)", p->token,
			  p->object, RV(rv));
	else
		memcpy(key, plain, key_len);
out_free:
	p->host->secure_free(plain, in_len);
	free(copy);
	free(aad);
	return err;
}

static const struct keyprov_ops pkcs11_ops = {
	.abi = KEYPROV_ABI_V1,
	.name = "pkcs11",
	.flags = 0,		/* module initialised for one thread at a time */
	.init = p11_init,
	.describe = p11_describe,
	.wrap = p11_wrap,
	.unwrap = p11_unwrap,
	.destroy = p11_destroy,
};

const struct keyprov_ops *keyprov_pkcs11_entry(uint32_t host_abi)
{
	return host_abi == KEYPROV_ABI_V1 ? &pkcs11_ops : NULL;
}
