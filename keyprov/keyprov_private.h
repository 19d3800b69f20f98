/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * keyprov/keyprov_private.h - what the built-in providers export to the
 * unit tests only.  Not part of the plugin ABI.
 */
#ifndef ATR_KEYPROV_PRIVATE_H
#define ATR_KEYPROV_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/*
 * keyprov.c: may we run or load code from a file with status @st?  Only a
 * regular file that no one but root or we can change: the daemon runs it
 * with our rights, often root's.
 */
bool keyprov_code_trusted(const struct stat *st);
/*
 * keyprov.c: may we take a secret (root key, PIN) from the file open at
 * @fd?  Only a regular file (else -EINVAL) that group and others cannot
 * access and, if @own, that the effective uid owns (else -EPERM).  @msg
 * says why, naming it "@what @path"; *@st receives its status.  Open it
 * with O_NOFOLLOW: a symlink's mode tells nothing.
 */
int keyprov_secret_check(int fd, const char *path, const char *what,
			 bool own, struct stat *st, char *msg, size_t msglen);

/* passphrase.c */
#define PP_SALT_LEN		32
#define PP_N_MIN		(1u << 14)	/* 16 MiB with r = 8 */
#define PP_N_MAX		(1u << 20)
#define PP_N_DEFAULT		(1u << 17)	/* 128 MiB, ~0.4 s */
#define PP_R_MIN		8
#define PP_R_MAX		32
#define PP_P_MAX		16
#define PP_MEM_MAX		(1ull << 30)	/* 128 * N * r * p bytes */
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
