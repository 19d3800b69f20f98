/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * crypto/codec.h - hex and base64 text encodings of binary fields, used by
 * atrestfs.conf and symlink targets, and the one decimal parser of the
 * command line and the key providers.  Decoders are strict: they accept
 * exactly the canonical form the encoders produce, nothing else.
 */
#ifndef ATR_CODEC_H
#define ATR_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <stdbool.h>

/*
 * Names of providers, plugins and provider settings: [A-Za-z0-9_-], 1 to
 * NAME_LEN_MAX characters.  Nothing else can name a file to load.
 */
#define NAME_LEN_MAX	64
bool name_valid(const char *s);

/*
 * A string atrestfs.conf holds verbatim: printable ASCII without the two
 * characters libconfig would escape ('"' and '\\'), at most @max bytes
 * ("" passes).  Key provider parameters obey the same rule, since they
 * are stored there.
 */
bool str_valid(const char *s, size_t max);

/*
 * Decimal digits and nothing else (no sign, no space, no "0x"; leading
 * zeros allowed) into *@out, which must lie in [@min, @max].  -EINVAL for
 * NULL, "" or any other character, -ERANGE for a value outside the bounds
 * (however many digits).  *@out is only written on success.
 */
int dec_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* @out holds 2 * len + 1 bytes; lower-case, NUL-terminated. */
void hex_encode(const uint8_t *in, size_t len, char *out);
/* Exactly 2 * len hex digits to @len bytes; -EINVAL otherwise. */
int hex_decode(const char *in, uint8_t *out, size_t len);

/* Encoded length of @len bytes, without the terminating NUL. */
static inline size_t b64_enc_len(size_t len)
{
	return 4 * ((len + 2) / 3);
}

/* @out holds b64_enc_len(len) + 1 bytes; NUL-terminated. */
void b64_encode(const uint8_t *in, size_t len, char *out);
/*
 * Decoded length of @in (n characters), or -EINVAL if it is not padded
 * standard base64.
 */
ssize_t b64_dec_len(const char *in, size_t n);
/* @out holds b64_dec_len() + 2 bytes (whole 3-byte groups); returns length. */
ssize_t b64_decode(const char *in, size_t n, uint8_t *out);

/*
 * Unpadded base64url (RFC 4648 section 5, no '='), the alphabet of
 * encrypted file names: no '/' and no '.'.  @out holds
 * b64url_enc_len(len) + 1 bytes; NUL-terminated.
 */
static inline size_t b64url_enc_len(size_t len)
{
	return len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0);
}
void b64url_encode(const uint8_t *in, size_t len, char *out);
/*
 * The bytes of @n characters of canonical unpadded base64url into @out
 * (at most @max bytes): their number, or -EINVAL for any other character,
 * an impossible length, nonzero unused bits or more than @max bytes.
 */
ssize_t b64url_decode(const char *in, size_t n, uint8_t *out, size_t max);

#endif
