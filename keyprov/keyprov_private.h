/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * keyprov/keyprov_private.h - the host's side of the key providers: what
 * the command line uses to find, load and call them, and what the built-in
 * providers export to the unit tests.  Never installed; a plugin sees
 * keyprov.h only.  Sectioned by the file that defines it.
 */
#ifndef ATR_KEYPROV_PRIVATE_H
#define ATR_KEYPROV_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "keyprov.h"

/* keyprov.c */

/* An open provider: built-in or a loaded plugin.  Opaque. */
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

/* A keyslot's parameters, owned by value: implements struct keyprov_params. */
struct keyprov_paramset {
	struct keyprov_params p;	/* first */
	char key[KEYPROV_PARAMS_MAX][KEYPROV_NAME_MAX + 1];
	char val[KEYPROV_PARAMS_MAX][KEYPROV_PARAM_MAX + 1];
	unsigned int n;
};
/* @writable: set() allowed (for wrap). */
void keyprov_params_init(struct keyprov_paramset *ps, int writable);

/* [A-Za-z0-9_-], 1..64: nothing else can name a plugin file. */
int keyprov_name_valid(const char *name);

/* secmem-backed host with no way to ask for secrets (-ENOANO). */
const struct keyprov_host *keyprov_host_default(void);

/*
 * Find provider @name: built-in, else @dir/@name.so.  Returns 0 and *kp
 * (caller owns; keyprov_close()), or -errno with @msg filled in.
 * keyprov_open() uses the installed directory KEYPROV_DIR.  @host may be
 * NULL (keyprov_host_default()); else it must outlive *kp.
 */
int keyprov_open(const char *name, const struct keyprov_host *host,
		 const struct keyprov_kv *cfg, struct keyprov **kp,
		 char *msg, size_t msglen);
int keyprov_open_dir(const char *dir, const char *name,
		     const struct keyprov_host *host,
		     const struct keyprov_kv *cfg, struct keyprov **kp,
		     char *msg, size_t msglen);
void keyprov_close(struct keyprov *kp);

const char *keyprov_name(const struct keyprov *kp);
int keyprov_describe(struct keyprov *kp, struct keyprov_desc *desc);
/* @out holds KEYPROV_WRAPPED_MAX bytes. */
int keyprov_wrap(struct keyprov *kp, const struct keyprov_req *req,
		 const uint8_t *key, size_t key_len, uint8_t *out,
		 size_t *out_len);
/* @key is wiped on failure. */
int keyprov_unwrap(struct keyprov *kp, const struct keyprov_req *req,
		   const uint8_t *in, size_t in_len, uint8_t *key,
		   size_t key_len);

/*
 * May we run or load code from a file with status @st?  Only a
 * regular file that no one but root or we can change: the daemon runs it
 * with our rights, often root's.
 */
bool keyprov_code_trusted(const struct stat *st);
/*
 * May we take a secret (root key, PIN) from the file open at
 * @fd?  Only a regular file (else -EINVAL) that group and others cannot
 * access and, if @own, that the effective uid owns (else -EPERM).  @msg
 * says why, naming it "@what @path"; *@st receives its status.  Open it
 * with O_NOFOLLOW: a symlink's mode tells nothing.
 */
int keyprov_secret_check(int fd, const char *path, const char *what,
			 bool own, struct stat *st, char *msg, size_t msglen);

/*
 * The built-in providers' entry points, one per file: keyfile.c,
 * passphrase.c, pkcs11.c, exec.c.
 */
const struct keyprov_ops *keyprov_keyfile_entry(uint32_t host_abi);
const struct keyprov_ops *keyprov_passphrase_entry(uint32_t host_abi);
const struct keyprov_ops *keyprov_pkcs11_entry(uint32_t host_abi);
const struct keyprov_ops *keyprov_exec_entry(uint32_t host_abi);

/* passphrase.c */
#define PP_SALT_LEN		32
#define PP_N_MIN		(1u << 14)	/* 16 MiB with r = 8 */
/*
 * The cap is twice the default cost: a tampered config can then cost an
 * unlock at most 256 MiB and a few seconds, not 1 GiB and half a minute.
 */
#define PP_N_MAX		(1u << 18)	/* 256 MiB with r = 8 */
#define PP_N_DEFAULT		(1u << 17)	/* 128 MiB, ~0.4 s */
#define PP_R_MIN		8
#define PP_R_MAX		32
#define PP_P_MAX		16
#define PP_MEM_MAX		(256ull << 20)	/* 128 * N * r * p bytes */
#define PP_SECRET_MAX		1024

/* RFC 7914 scrypt through EVP_KDF, no policy: for known-answer tests. */
int keyprov_scrypt(const char *pass, size_t pass_len, const uint8_t *salt,
		   size_t salt_len, uint64_t n, uint32_t r, uint32_t p,
		   uint8_t *out, size_t out_len);
/* 0 if N/r/p are within the policy above, else -EINVAL. */
int keyprov_scrypt_check(uint64_t n, uint64_t r, uint64_t p);

/* exec.c: the helper protocol, see atrestfs-keyprov(7) */
#define EXEC_TIMEOUT_DEFAULT	10		/* seconds */
#define EXEC_OUT_MAX		16384		/* a helper's whole answer */
#define EXEC_BLOB_MAX		960		/* helper's part of a keyslot */

/* "EBADMSG" ... to -errno; anything unknown is -EIO. */
int keyprov_exec_errno(const char *name, size_t len);
/*
 * The status line of a reply: 0 for "ok"; -errno for "error NAME TEXT",
 * TEXT copied to @msg; -EPROTO for anything else.
 */
int keyprov_exec_status(const char *resp, size_t len, char *msg,
			size_t msglen);
/*
 * Field "NAME VALUE" of a reply (after the status line, before a blank
 * line): *val points into @resp, *vlen bytes.  -ENOENT if absent, -EPROTO
 * for a line with control characters.
 */
int keyprov_exec_field(const char *resp, size_t len, const char *name,
		       const char **val, size_t *vlen);
/*
 * The reply's "data" field, base64, decoded into @bin (@cap bytes, two
 * more than the data may hold): 0 and *@out_len, or -EIO.
 */
int keyprov_exec_data(const char *resp, size_t len, uint8_t *bin,
		      size_t cap, size_t *out_len);
/*
 * A describe reply's fields into @desc: key_id (required), key_version
 * (default 1) and algorithm (default "exec"), each as atrestfs.conf can
 * hold it.  0, or -EIO with @msg naming @helper.
 */
int keyprov_exec_describe(const char *helper, const char *resp, size_t len,
			  struct keyprov_desc *desc, char *msg, size_t msglen);

/* spawn.c */
#define SPAWN_ERR_MAX		4096	/* stderr bytes kept for err_line() */
#define SPAWN_ERR_LINES		20	/* lines of it handed back, at most */

#define SPAWN_ISOLATE		0x1	/* own group, default signals, fds 0-2 */

/* A program to run, and what to do with its stdin, stdout and stderr. */
struct spawn_cmd {
	const char *path;		/* run directly: no shell, no PATH */
	char *const *argv;
	char *const *envp;		/* NULL: our environment */
	unsigned int flags;		/* SPAWN_* */
	unsigned int timeout_ms;	/* the whole run; 0: no deadline */
	const char *in;			/* its stdin, then EOF; NULL: ours */
	size_t in_len;
	/* Its stdout, NUL-terminated: caller's, secure if need be. */
	char *out;
	size_t out_cap;			/* bytes at @out, the NUL's included */
	/*
	 * Output past out_cap - 1 bytes: 0 kills the program at once;
	 * else up to this many more bytes are read and dropped, so that a
	 * program that says more than we want is not killed by SIGPIPE.
	 */
	size_t out_skip;
	/*
	 * Each non-empty line of its stderr, control characters made '?',
	 * once it has ended; NULL leaves it our stderr.
	 */
	void (*err_line)(void *arg, const char *line);
	void *arg;
};

struct spawn_result {
	size_t out_len;			/* bytes at cmd->out */
	int status;			/* wait status, if status_known */
	bool status_known;		/* false only if the reaper failed */
	bool timed_out;			/* killed at the deadline */
	bool overflow;			/* it wrote more than out_cap - 1 */
};

/*
 * Run @cmd to its end: the program exited and both its stdout and stderr
 * closed.  The program and everything it started, setsid() or not, are
 * killed with SIGKILL when the deadline passes, when it says more than
 * out_cap takes and out_skip is 0, when it has exited but what it started
 * still holds our pipes, and when we die; what it leaves running after a
 * good end that holds none of our pipes goes on.  Returns 0 with *@res, or
 * -errno if it could not be started.  Forks: see spawn.c for why.
 */
int spawn_run(const struct spawn_cmd *cmd, struct spawn_result *res);

/* pkcs11.c */
#define P11_LABEL_MAX		32	/* CK_TOKEN_INFO.label */
#define P11_OBJECT_MAX		64	/* our bound on a key label */
#define P11_PIN_MAX		256	/* bytes, with the NUL */

/*
 * "pkcs11:token=T;object=O" (RFC 7512, labels percent-encoded) into @out;
 * -ENAMETOOLONG (and "") if it does not fit in @outlen.
 */
int keyprov_pkcs11_uri(const char *token, const char *object, char *out,
		       size_t outlen);
/*
 * Read a PIN from @path (a regular file, mode 0600 or stricter, owned by
 * the effective uid; trailing newlines dropped) into @pin (@pinmax
 * bytes, NUL-terminated; wiped on failure).  -EPERM for an unsafe file,
 * -ENOANO if it cannot be opened or is empty, with @msg filled in.
 */
int keyprov_pkcs11_read_pin(const char *path, char *pin, size_t pinmax,
			    size_t *len, char *msg, size_t msglen);

#endif
