// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * crypto/codec.c - decimal, hex and base64.  Base64 goes through OpenSSL's
 * EVP_EncodeBlock/EVP_DecodeBlock, which know nothing of padding on decode;
 * the length and alphabet checks here make the decoding canonical.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "codec.h"

bool name_valid(const char *s)
{
	size_t n;

	for (n = 0; s[n]; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') ||
		      (s[n] >= 'A' && s[n] <= 'Z') ||
		      (s[n] >= '0' && s[n] <= '9') || s[n] == '_' ||
		      s[n] == '-'))
			return false;
	return n >= 1 && n <= NAME_LEN_MAX;
}

int dec_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0, d;
	size_t i;

	if (!s || !*s)
		return -EINVAL;
	/* Syntax first: "99999999999999999999x" is junk, not out of range. */
	for (i = 0; s[i]; i++)
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
	/* Digit by digit against @max: strtoull would take a sign or spaces. */
	for (i = 0; s[i]; i++) {
		d = (uint64_t)(s[i] - '0');
		if (d > max || v > (max - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (v < min)
		return -ERANGE;
	*out = v;
	return 0;
}

bool str_valid(const char *s, size_t max)
{
	size_t n;

	for (n = 0; s[n]; n++)
		if (s[n] < 0x20 || s[n] > 0x7e || s[n] == '"' || s[n] == '\\')
			return false;
	return n <= max;
}

void hex_encode(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int hex_decode(const char *in, uint8_t *out, size_t len)
{
	size_t i;
	int hi, lo;

	if (strlen(in) != 2 * len)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		hi = hex_val(in[2 * i]);
		lo = hex_val(in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void b64_encode(const uint8_t *in, size_t len, char *out)
{
	EVP_EncodeBlock((uint8_t *)out, in, (int)len);
	out[b64_enc_len(len)] = '\0';
}

static int b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* The 6-bit value of a base64 character (checked by b64_char()). */
static unsigned int b64_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return (unsigned int)(c - 'A');
	if (c >= 'a' && c <= 'z')
		return (unsigned int)(c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (unsigned int)(c - '0' + 52);
	return c == '+' ? 62 : 63;
}

ssize_t b64_dec_len(const char *in, size_t n)
{
	size_t i, pad = 0;

	if (n == 0 || n % 4)
		return n == 0 ? 0 : -EINVAL;
	if (in[n - 1] == '=')
		pad = in[n - 2] == '=' ? 2 : 1;
	for (i = 0; i < n - pad; i++)
		if (!b64_char(in[i]))
			return -EINVAL;
	/*
	 * The bits padding throws away must be zero, or two spellings would
	 * decode alike (canonical form only).
	 */
	if (pad && (b64_val(in[n - pad - 1]) & (pad == 1 ? 0x3 : 0xf)))
		return -EINVAL;
	return (ssize_t)(n / 4 * 3 - pad);
}

ssize_t b64_decode(const char *in, size_t n, uint8_t *out)
{
	ssize_t len = b64_dec_len(in, n);

	if (len <= 0)
		return len;
	if (EVP_DecodeBlock(out, (const uint8_t *)in, (int)n) < 0)
		return -EINVAL;
	return len;
}

static const char b64url_digits[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void b64url_encode(const uint8_t *in, size_t len, char *out)
{
	uint32_t v;
	size_t i, o = 0, k;

	for (i = 0; i < len; i += 3) {
		k = len - i < 3 ? len - i : 3;
		v = (uint32_t)in[i] << 16;
		if (k > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (k > 2)
			v |= in[i + 2];
		out[o++] = b64url_digits[v >> 18 & 63];
		out[o++] = b64url_digits[v >> 12 & 63];
		if (k > 1)
			out[o++] = b64url_digits[v >> 6 & 63];
		if (k > 2)
			out[o++] = b64url_digits[v & 63];
	}
	out[o] = '\0';
}

/*
 * Each character's 6 bits plus one, 0 for one outside the alphabet.  A
 * lookup, not range tests: a listing decodes every backing name, and
 * the tests mispredicted on ciphertext's random characters (performance.md).
 */
#define D(c, v)	[(unsigned char)(c)] = (v) + 1
static const uint8_t b64url_vals1[256] = {
	D('A', 0), D('B', 1), D('C', 2), D('D', 3), D('E', 4), D('F', 5),
	D('G', 6), D('H', 7), D('I', 8), D('J', 9), D('K', 10), D('L', 11),
	D('M', 12), D('N', 13), D('O', 14), D('P', 15), D('Q', 16),
	D('R', 17), D('S', 18), D('T', 19), D('U', 20), D('V', 21),
	D('W', 22), D('X', 23), D('Y', 24), D('Z', 25),
	D('a', 26), D('b', 27), D('c', 28), D('d', 29), D('e', 30),
	D('f', 31), D('g', 32), D('h', 33), D('i', 34), D('j', 35),
	D('k', 36), D('l', 37), D('m', 38), D('n', 39), D('o', 40),
	D('p', 41), D('q', 42), D('r', 43), D('s', 44), D('t', 45),
	D('u', 46), D('v', 47), D('w', 48), D('x', 49), D('y', 50),
	D('z', 51), D('0', 52), D('1', 53), D('2', 54), D('3', 55),
	D('4', 56), D('5', 57), D('6', 58), D('7', 59), D('8', 60),
	D('9', 61), D('-', 62), D('_', 63),
};
#undef D

ssize_t b64url_decode(const char *in, size_t n, uint8_t *out, size_t max)
{
	size_t i, o = 0, len = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
	uint32_t v = 0;
	uint8_t d1;

	/* One leftover character carries 6 bits: no byte. */
	if (n % 4 == 1 || len > max)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		d1 = b64url_vals1[(unsigned char)in[i]];
		if (!d1)
			return -EINVAL;
		v = v << 6 | (uint32_t)(d1 - 1);
		if (i % 4 == 3) {
			out[o++] = (uint8_t)(v >> 16);
			out[o++] = (uint8_t)(v >> 8);
			out[o++] = (uint8_t)v;
			v = 0;
		}
	}
	/* The unused low bits of the last character must be zero. */
	if (n % 4 == 2) {
		if (v & 0xf)
			return -EINVAL;
		out[o++] = (uint8_t)(v >> 4);
	} else if (n % 4 == 3) {
		if (v & 0x3)
			return -EINVAL;
		out[o++] = (uint8_t)(v >> 10);
		out[o++] = (uint8_t)(v >> 2);
	}
	return (ssize_t)o;
}
