// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * keyprov/exec.c - the "exec" provider: the root key lives in a remote KMS
 * and a helper program talks to it.  The helper is named by the system
 * providers.conf or the command line (setting "helper", an absolute path),
 * never by the volume; spawn_run() runs it directly (no shell) with a
 * fixed argv (path, verb), a minimal environment and its own process
 * group, and it speaks the line protocol of atrestfs-keyprov(7) on
 * stdin/stdout.  Its stderr goes to the host log.
 *
 * Envelope: the KMS never sees the KEK.  wrap draws a one-time key K1,
 * asks the helper to protect K1 (blob), and stores
 *   0x01 || be16 blob_len || blob || AES-256-GCM_K1(KEK, AAD)
 * unwrap asks the helper to recover K1 from the blob and opens the box:
 * the GCM tag authenticates the result whatever the KMS does (a KMIP
 * server's AES-CBC has no integrity), and a wrong AAD is -EBADMSG.
 *
 * Owns: K1 and every buffer holding it in clear (request at wrap,
 * response at unwrap), all from host->secure_alloc() and freed (wiped)
 * before each call returns.  A timeout (setting "timeout", seconds) bounds
 * every exchange; the helper and everything it started are then
 * SIGKILLed, in its process group or not.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "../crypto/aead.h"
#include "../crypto/codec.h"
#include "../crypto/msg.h"
#include "keyprov_private.h"

#define ENVELOPE_V1	1
#define ENVELOPE_HDR	3		/* version, be16 blob length */
#define K1_LEN		AEAD_KEY_LEN
#define REQ_MAX		8192

struct exec_prov {
	const struct keyprov_host *host;
	char helper[256];
	char config[4096];		/* "" when not set */
	char volume[64];
	char mode[8];
	unsigned int timeout_ms;
	struct keyprov_desc desc;	/* from the helper, at init */
};

/* ---- protocol (exported to the unit tests) ---- */

static const struct {
	const char *name;
	int err;
} errnames[] = {
	{ "EBADMSG", EBADMSG }, { "ENOKEY", ENOKEY }, { "ENOANO", ENOANO },
	{ "EAGAIN", EAGAIN }, { "ETIMEDOUT", ETIMEDOUT }, { "EACCES", EACCES },
	{ "EPERM", EPERM }, { "EINVAL", EINVAL }, { "EIO", EIO },
};

int keyprov_exec_errno(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
		if (strlen(errnames[i].name) == len &&
		    !memcmp(errnames[i].name, name, len))
			return -errnames[i].err;
	return -EIO;
}

/* A protocol value: printable ASCII, no newline.  Empty is fine. */
static int text_ok(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return 1;
}

int keyprov_exec_status(const char *resp, size_t len, char *msg,
			size_t msglen)
{
	const char *nl = memchr(resp, '\n', len);
	size_t line = nl ? (size_t)(nl - resp) : len;
	const char *name, *sp;
	size_t nlen;
	int err;

	if (!text_ok(resp, line))
		return -EPROTO;
	if (line == 2 && !memcmp(resp, "ok", 2))
		return 0;
	if (line < 7 || memcmp(resp, "error ", 6))
		return -EPROTO;
	name = resp + 6;
	sp = memchr(name, ' ', line - 6);
	nlen = sp ? (size_t)(sp - name) : line - 6;
	err = keyprov_exec_errno(name, nlen);
	if (sp)
		return msg_fail(msg, msglen, err, "%.*s",
				(int)(line - 6 - nlen - 1), sp + 1);
	return msg_fail(msg, msglen, err, "%.*s", (int)nlen, name);
}

int keyprov_exec_field(const char *resp, size_t len, const char *name,
		       const char **val, size_t *vlen)
{
	size_t n = strlen(name), line;
	const char *p = resp, *end = resp + len, *nl;

	/* Skip the status line; stop at the blank line that ends a reply. */
	nl = memchr(p, '\n', len);
	if (!nl)
		return -ENOENT;
	for (p = nl + 1; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		line = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (!line)
			break;
		if (!text_ok(p, line))
			return -EPROTO;
		if (line > n && !memcmp(p, name, n) && p[n] == ' ') {
			*val = p + n + 1;
			*vlen = line - n - 1;
			return 0;
		}
		if (!nl)
			break;
	}
	return -ENOENT;
}

/* ---- the request ---- */

struct reqbuf {
	char *buf;			/* secure: may hold K1 */
	size_t len;
	int overflow;
};

static void req_add(struct reqbuf *r, const char *key, const char *val)
{
	int n;

	if (r->overflow)
		return;
	n = snprintf(r->buf + r->len, REQ_MAX - r->len, "%s %s\n", key, val);
	if (n < 0 || (size_t)n >= REQ_MAX - r->len)
		r->overflow = 1;
	else
		r->len += (size_t)n;
}

/* Base64 of @len bytes, written straight into the (secure) request. */
static void req_add_b64(struct reqbuf *r, const char *key,
			const uint8_t *bin, size_t len)
{
	size_t need = strlen(key) + 1 + b64_enc_len(len) + 2;

	if (r->overflow || need > REQ_MAX - r->len) {
		r->overflow = 1;
		return;
	}
	r->len += (size_t)sprintf(r->buf + r->len, "%s ", key);
	b64_encode(bin, len, r->buf + r->len);
	r->len += b64_enc_len(len);
	r->buf[r->len++] = '\n';
	r->buf[r->len] = '\0';
}

static void req_begin(struct exec_prov *ep, struct reqbuf *r, const char *op)
{
	r->len = 0;
	r->overflow = 0;
	req_add(r, "atrestfs-exec", "1");
	req_add(r, "op", op);
	req_add(r, "volume", ep->volume);
	req_add(r, "mode", ep->mode);
	if (*ep->config)
		req_add(r, "config", ep->config);
}

/* ---- running the helper ---- */

static void log_line(void *arg, const char *line)
{
	struct exec_prov *ep = arg;
	char buf[SPAWN_ERR_MAX + 300];

	snprintf(buf, sizeof(buf), "exec helper %s: %s", ep->helper, line);
	ep->host->log(ep->host, LOG_WARNING, buf);
}

/*
 * Run the helper with @verb, feed it @req, collect its reply into @out
 * (@out_cap bytes, secure; NUL-terminated, *out_len).  Returns 0 when it
 * answered "ok" and exited 0; else -errno with @msg.
 */
static int run_helper(struct exec_prov *ep, const char *verb,
		      const char *req, size_t req_len, char *out,
		      size_t out_cap, size_t *out_len, char *msg,
		      size_t msglen)
{
	char home[300] = "HOME=/", *argv[3], *envp[4];
	struct spawn_cmd cmd = { .path = ep->helper, .argv = argv,
				 .envp = envp, .flags = SPAWN_ISOLATE,
				 .timeout_ms = ep->timeout_ms, .in = req,
				 .in_len = req_len, .out = out,
				 .out_cap = out_cap, .err_line = log_line,
				 .arg = ep };
	struct passwd pw, *pwp = NULL;
	struct spawn_result res;
	char pwbuf[4096];
	int status, err;

	/* Not secret, and what the KMS CLIs need to find their profiles. */
	if (!getpwuid_r(geteuid(), &pw, pwbuf, sizeof(pwbuf), &pwp) && pwp &&
	    pw.pw_dir && pw.pw_dir[0] == '/' && strlen(pw.pw_dir) < 250)
		snprintf(home, sizeof(home), "HOME=%s", pw.pw_dir);
	argv[0] = ep->helper;
	argv[1] = (char *)verb;
	argv[2] = NULL;
	envp[0] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	envp[1] = "LC_ALL=C.UTF-8";
	envp[2] = home;
	envp[3] = NULL;
	*out_len = 0;
	err = spawn_run(&cmd, &res);
	if (err)
		return msg_fail(msg, msglen, -EAGAIN, "cannot run key helper "
				"%s: %s", ep->helper, strerror(-err));
	*out_len = res.out_len;
	status = res.status;
	if (res.timed_out)
		return msg_fail(msg, msglen, -ETIMEDOUT, "key helper %s did "
				"not answer within %u s (KMS down or slow?); "
				"killed it", ep->helper, ep->timeout_ms / 1000);
	if (res.overflow)
		return msg_fail(msg, msglen, -EIO, "key helper %s answered "
				"more than %zu bytes", ep->helper, out_cap - 1);
	/* Not known to have succeeded, whatever it said. */
	if (!res.status_known)
		return msg_fail(msg, msglen, -EIO, "key helper %s: cannot "
				"learn how it ended", ep->helper);
	err = keyprov_exec_status(out, res.out_len, msg, msglen);
	if (err == -EPROTO) {
		if (WIFEXITED(status) && WEXITSTATUS(status))
			return msg_fail(msg, msglen, -EIO, "key helper %s "
					"failed (exit %d) without an error "
					"line", ep->helper,
					WEXITSTATUS(status));
		if (WIFSIGNALED(status))
			return msg_fail(msg, msglen, -EIO, "key helper %s was "
					"killed by signal %d", ep->helper,
					WTERMSIG(status));
		return msg_fail(msg, msglen, -EIO, "key helper %s sent a "
				"malformed answer", ep->helper);
	}
	if (!err && !(WIFEXITED(status) && !WEXITSTATUS(status)))
		return msg_fail(msg, msglen, -EIO, "key helper %s answered ok "
				"but failed", ep->helper);
	return err;
}

/* The helper's error sentence, prefixed with its name. */
static void name_msg(struct exec_prov *ep, char *msg, size_t msglen)
{
	char tmp[KEYPROV_MSG_MAX];

	snprintf(tmp, sizeof(tmp), "%s", msg);
	snprintf(msg, msglen, "key helper %s: %s", ep->helper, tmp);
}

/* A request and a reply buffer, both secure. */
static int exchange(struct exec_prov *ep, const char *verb,
		    struct reqbuf *r, char **out, size_t *out_len,
		    char *msg, size_t msglen)
{
	int err;

	if (r->overflow || r->len + 2 > REQ_MAX)
		return msg_fail(msg, msglen, -EINVAL, "request to key helper "
				"%s too long", ep->helper);
	r->buf[r->len++] = '\n';		/* the blank line ends it */
	*out = ep->host->secure_alloc(EXEC_OUT_MAX);
	if (!*out)
		return -ENOMEM;
	msg[0] = '\0';
	err = run_helper(ep, verb, r->buf, r->len, *out, EXEC_OUT_MAX,
			 out_len, msg, msglen);
	if (err && !strstr(msg, ep->helper))
		name_msg(ep, msg, msglen);
	if (err) {
		ep->host->secure_free(*out, EXEC_OUT_MAX);
		*out = NULL;
	}
	return err;
}

int keyprov_exec_data(const char *resp, size_t len, uint8_t *bin,
		      size_t cap, size_t *out_len)
{
	const char *v;
	size_t vlen;
	ssize_t n;

	if (keyprov_exec_field(resp, len, "data", &v, &vlen) ||
	    (n = b64_dec_len(v, vlen)) < 0 || (size_t)n + 2 > cap ||
	    (n = b64_decode(v, vlen, bin)) < 0)
		return -EIO;
	*out_len = (size_t)n;
	return 0;
}

/* The reply's "data" field, decoded into @bin (@cap bytes). */
static int reply_data(struct exec_prov *ep, const char *out, size_t out_len,
		      uint8_t *bin, size_t cap, size_t *len, char *msg,
		      size_t msglen)
{
	if (keyprov_exec_data(out, out_len, bin, cap, len))
		return msg_fail(msg, msglen, -EIO, "key helper %s answered "
				"without valid data", ep->helper);
	return 0;
}

/* ---- the provider ---- */

/* Setting timeout: 1 to 600 seconds; absent leaves the default. */
static int parse_timeout(const char *s, unsigned int *ms)
{
	uint64_t v;

	if (!s)
		return 0;
	if (dec_parse_u64(s, 1, 600, &v))
		return -EINVAL;
	*ms = (unsigned int)v * 1000;
	return 0;
}

/*
 * A describe reply's "key_version N": a uint32_t (0 means 1, keyprov.h),
 * as strictly as any number we read.  The field is not NUL-terminated.
 */
static int parse_key_version(const char *v, size_t vlen, uint32_t *out)
{
	char num[32];			/* room for a few leading zeros */
	uint64_t n;

	if (vlen >= sizeof(num))
		return -EINVAL;
	memcpy(num, v, vlen);
	num[vlen] = '\0';
	if (dec_parse_u64(num, 0, UINT32_MAX, &n))
		return -EINVAL;
	*out = (uint32_t)n;
	return 0;
}

/* Root or we own it; nobody else may write it; a plain executable. */
static int check_helper(const char *path, char *msg, size_t msglen)
{
	struct stat st;

	if (!path || path[0] != '/' || strlen(path) >= 256)
		return msg_fail(msg, msglen, -EINVAL, "exec provider: setting "
				"helper must be an absolute path (in "
				"providers.conf or -O helper=)");
	if (stat(path, &st) || !S_ISREG(st.st_mode) || access(path, X_OK))
		return msg_fail(msg, msglen, -EINVAL, "exec provider: helper "
				"%s is not an executable file", path);
	if (!keyprov_code_trusted(&st))
		return msg_fail(msg, msglen, -EPERM, "exec provider: helper "
				"%s is writable by others or owned by another "
				"user; refusing it", path);
	return 0;
}

int keyprov_exec_describe(const char *helper, const char *resp, size_t len,
			  struct keyprov_desc *desc, char *msg, size_t msglen)
{
	const char *v;
	size_t vlen;

	if (keyprov_exec_field(resp, len, "key_id", &v, &vlen) || !vlen ||
	    vlen >= sizeof(desc->key_id))
		return msg_fail(msg, msglen, -EIO, "key helper %s did not "
				"name its key", helper);
	snprintf(desc->key_id, sizeof(desc->key_id), "%.*s", (int)vlen, v);
	/* It is written into atrestfs.conf as a quoted string. */
	if (!str_valid(desc->key_id, sizeof(desc->key_id) - 1))
		return msg_fail(msg, msglen, -EIO, "key helper %s named its key "
				"with a quote or a backslash", helper);
	desc->key_version = 1;
	if (!keyprov_exec_field(resp, len, "key_version", &v, &vlen) &&
	    parse_key_version(v, vlen, &desc->key_version))
		return msg_fail(msg, msglen, -EIO, "key helper %s gave a "
				"key_version that is not a number from 0 to %u",
				helper, UINT32_MAX);
	if (keyprov_exec_field(resp, len, "algorithm", &v, &vlen))
		v = "exec", vlen = 4;
	snprintf(desc->algorithm, sizeof(desc->algorithm),
		 "%.*s+AES-256-GCM", (int)(vlen > 48 ? 48 : vlen), v);
	if (!vlen || !str_valid(desc->algorithm,
				sizeof(desc->algorithm) - 1))
		return msg_fail(msg, msglen, -EIO, "key helper %s named its "
				"algorithm with nothing, a quote or a "
				"backslash", helper);
	return 0;
}

/* Ask the helper which key it holds: init may block, describe may not. */
static int ask_describe(struct exec_prov *ep, char *msg, size_t msglen)
{
	struct reqbuf r;
	size_t out_len;
	char *out;
	int err;

	r.buf = ep->host->secure_alloc(REQ_MAX);
	if (!r.buf)
		return -ENOMEM;
	req_begin(ep, &r, "describe");
	err = exchange(ep, "describe", &r, &out, &out_len, msg, msglen);
	ep->host->secure_free(r.buf, REQ_MAX);
	if (err)
		return err;
	err = keyprov_exec_describe(ep->helper, out, out_len, &ep->desc, msg,
				    msglen);
	ep->host->secure_free(out, EXEC_OUT_MAX);
	return err;
}

static int ex_init(const struct keyprov_host *host,
		   const struct keyprov_kv *cfg, void **priv, char *msg,
		   size_t msglen)
{
	const char *helper = cfg->get(cfg, "helper");
	const char *config = cfg->get(cfg, "config");
	const char *vol = cfg->get(cfg, "volume");
	const char *mode = cfg->get(cfg, "mode");
	struct exec_prov *ep;
	int err;

	err = check_helper(helper, msg, msglen);
	if (err)
		return err;
	if (config && (config[0] != '/' || !text_ok(config, strlen(config)) ||
		       strlen(config) >= sizeof(ep->config)))
		return msg_fail(msg, msglen, -EINVAL, "exec provider: setting "
				"config must be an absolute path");
	ep = calloc(1, sizeof(*ep));
	if (!ep)
		return -ENOMEM;
	ep->host = host;
	ep->timeout_ms = EXEC_TIMEOUT_DEFAULT * 1000;
	if (parse_timeout(cfg->get(cfg, "timeout"), &ep->timeout_ms)) {
		free(ep);
		return msg_fail(msg, msglen, -EINVAL, "exec provider: timeout "
				"must be 1 to 600 seconds");
	}
	snprintf(ep->helper, sizeof(ep->helper), "%s", helper);
	snprintf(ep->config, sizeof(ep->config), "%s", config ? config : "");
	snprintf(ep->volume, sizeof(ep->volume), "%s",
		 vol && text_ok(vol, strlen(vol)) ? vol : "");
	snprintf(ep->mode, sizeof(ep->mode), "%s",
		 mode && !strcmp(mode, "create") ? "create" : "open");
	err = ask_describe(ep, msg, msglen);
	if (err) {
		free(ep);
		return err;
	}
	*priv = ep;
	return 0;
}

static int ex_describe(void *priv, struct keyprov_desc *desc)
{
	struct exec_prov *ep = priv;

	*desc = ep->desc;
	return 0;
}

static int ex_wrap(void *priv, const struct keyprov_req *req,
		   const uint8_t *key, size_t key_len, uint8_t *out,
		   size_t out_cap, size_t *out_len)
{
	struct exec_prov *ep = priv;
	const struct keyprov_host *h = ep->host;
	uint8_t blob[EXEC_BLOB_MAX + 2], *k1;
	size_t blob_len = 0, rlen = 0;
	struct reqbuf r;
	char *reply = NULL;
	int err = -ENOMEM;

	k1 = h->secure_alloc(K1_LEN);
	r.buf = h->secure_alloc(REQ_MAX);
	if (!k1 || !r.buf)
		goto out_free;
	err = rand_fill(k1, K1_LEN);
	if (err)
		goto out_free;
	req_begin(ep, &r, "wrap");
	req_add_b64(&r, "aad", req->aad, req->aad_len);
	req_add_b64(&r, "data", k1, K1_LEN);
	err = exchange(ep, "wrap", &r, &reply, &rlen, req->msg, req->msglen);
	if (err)
		goto out_free;
	err = reply_data(ep, reply, rlen, blob, sizeof(blob), &blob_len,
			 req->msg, req->msglen);
	if (err)
		goto out_free;
	if (!blob_len || blob_len > EXEC_BLOB_MAX ||
	    ENVELOPE_HDR + blob_len + key_len + AEAD_OVERHEAD > out_cap) {
		err = msg_fail(req->msg, req->msglen, -EINVAL, "key helper %s "
			       "returned a wrapped key of %zu bytes",
			       ep->helper, blob_len);
		goto out_free;
	}
	out[0] = ENVELOPE_V1;
	out[1] = (uint8_t)(blob_len >> 8);
	out[2] = (uint8_t)blob_len;
	memcpy(out + ENVELOPE_HDR, blob, blob_len);
	err = aead_box_seal(k1, req->aad, req->aad_len, key, key_len,
			    out + ENVELOPE_HDR + blob_len);
	if (!err)
		*out_len = ENVELOPE_HDR + blob_len + key_len + AEAD_OVERHEAD;
out_free:
	if (reply)
		h->secure_free(reply, EXEC_OUT_MAX);
	h->secure_free(r.buf, REQ_MAX);
	h->secure_free(k1, K1_LEN);
	return err;
}

static int ex_unwrap(void *priv, const struct keyprov_req *req,
		     const uint8_t *in, size_t in_len, uint8_t *key,
		     size_t key_len)
{
	struct exec_prov *ep = priv;
	const struct keyprov_host *h = ep->host;
	size_t blob_len, k1_len = 0, rlen = 0;
	char *reply = NULL, num[16];
	uint8_t *k1;
	struct reqbuf r;
	int err;

	/* Everything from the volume is bounded before the helper runs. */
	blob_len = in_len >= ENVELOPE_HDR ? (size_t)in[1] << 8 | in[2] : 0;
	if (in_len < ENVELOPE_HDR || in[0] != ENVELOPE_V1 || !blob_len ||
	    blob_len > EXEC_BLOB_MAX ||
	    in_len != ENVELOPE_HDR + blob_len + key_len + AEAD_OVERHEAD)
		return msg_fail(req->msg, req->msglen, -EBADMSG,
				"exec keyslot is malformed");
	if (req->key_id && !text_ok(req->key_id, strlen(req->key_id)))
		return msg_fail(req->msg, req->msglen, -EBADMSG,
				"exec keyslot has a bad key ID");
	k1 = h->secure_alloc(K1_LEN + 2);
	r.buf = h->secure_alloc(REQ_MAX);
	err = -ENOMEM;
	if (!k1 || !r.buf)
		goto out_free;
	req_begin(ep, &r, "unwrap");
	if (req->key_id)
		req_add(&r, "key_id", req->key_id);
	snprintf(num, sizeof(num), "%u", req->key_version);
	req_add(&r, "key_version", num);
	req_add_b64(&r, "aad", req->aad, req->aad_len);
	req_add_b64(&r, "data", in + ENVELOPE_HDR, blob_len);
	err = exchange(ep, "unwrap", &r, &reply, &rlen, req->msg,
		       req->msglen);
	if (err)
		goto out_free;
	err = reply_data(ep, reply, rlen, k1, K1_LEN + 2, &k1_len, req->msg,
			 req->msglen);
	if (!err && k1_len != K1_LEN)
		err = msg_fail(req->msg, req->msglen, -EIO, "key helper %s "
			       "returned a key of %zu bytes, not %d",
			       ep->helper, k1_len, K1_LEN);
	if (err)
		goto out_free;
	err = aead_box_open(k1, req->aad, req->aad_len,
			    in + ENVELOPE_HDR + blob_len,
			    key_len + AEAD_OVERHEAD, key);
	if (err == -EBADMSG)
		msg_fail(req->msg, req->msglen, err, "the key from helper %s "
			 "does not open this keyslot (another KMS key, or the "
			 "keyslot belongs to another volume)", ep->helper);
out_free:
	if (reply)
		h->secure_free(reply, EXEC_OUT_MAX);
	h->secure_free(r.buf, REQ_MAX);
	h->secure_free(k1, K1_LEN + 2);
	return err;
}

static void ex_destroy(void *priv)
{
	free(priv);
}

/* Not thread-safe: spawn_run() changes this thread's signal mask a while. */
static const struct keyprov_ops exec_ops = {
	.abi = KEYPROV_ABI_V1,
	.name = "exec",
	.flags = 0,
	.init = ex_init,
	.describe = ex_describe,
	.wrap = ex_wrap,
	.unwrap = ex_unwrap,
	.destroy = ex_destroy,
};

const struct keyprov_ops *keyprov_exec_entry(uint32_t host_abi)
{
	return host_abi == KEYPROV_ABI_V1 ? &exec_ops : NULL;
}
