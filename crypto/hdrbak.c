// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * crypto/hdrbak.c - one line of a header backup, to and from text.
 * Owns the layout (docs/format.md §13); reads nothing from disk.  The
 * backup is untrusted input at restore: every field is checked here,
 * and what it carries is authenticated by the caller (hdr_unwrap()).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "codec.h"
#include "hdrbak.h"

int hdrbak_head(const uint8_t uuid[VOL_UUID_LEN],
		const uint8_t kek_id[KEK_ID_LEN], char *out, size_t len)
{
	char u[VOL_UUID_STR_LEN + 1], k[2 * KEK_ID_LEN + 1];

	vol_uuid_str(uuid, u);
	hex_encode(kek_id, KEK_ID_LEN, k);
	return (size_t)snprintf(out, len, HDRBAK_MAGIC " %s %s\n", u, k) <
	       len ? 0 : -ENAMETOOLONG;
}

int hdrbak_head_parse(const char *line, uint8_t uuid[VOL_UUID_LEN],
		      uint8_t kek_id[KEK_ID_LEN])
{
	char u[VOL_UUID_STR_LEN + 1];
	size_t m = strlen(HDRBAK_MAGIC);

	if (strncmp(line, HDRBAK_MAGIC " ", m + 1))
		return -EINVAL;
	line += m + 1;
	if (strlen(line) != VOL_UUID_STR_LEN + 1 + 2 * KEK_ID_LEN ||
	    line[VOL_UUID_STR_LEN] != ' ')
		return -EINVAL;
	memcpy(u, line, VOL_UUID_STR_LEN);
	u[VOL_UUID_STR_LEN] = '\0';
	if (vol_uuid_parse(u, uuid))
		return -EINVAL;
	return hex_decode(line + VOL_UUID_STR_LEN + 1, kek_id, KEK_ID_LEN);
}

/* As /proc/mounts: space, controls, bytes past 0x7e and '\' as \ooo. */
static int path_escape(const char *in, char *out, size_t len)
{
	size_t o = 0;
	unsigned char c;

	for (; *in; in++) {
		c = (unsigned char)*in;
		if (o + 5 > len)
			return -ENAMETOOLONG;
		if (c <= ' ' || c > '~' || c == '\\')
			o += (size_t)sprintf(out + o, "\\%03o", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

/* Relative, no empty, "." or ".." component: it stays in the volume. */
static bool path_safe(const char *p)
{
	size_t n;

	if (!*p)
		return false;
	for (;;) {
		n = strcspn(p, "/");
		if (!n || (n == 1 && p[0] == '.') ||
		    (n == 2 && !strncmp(p, "..", 2)))
			return false;
		if (!p[n])
			return true;
		p += n + 1;
	}
}

/* Unescape, and refuse a path that could leave the volume. */
static int path_unescape(const char *in, char *out, size_t len)
{
	size_t o = 0;
	unsigned int v;

	for (; *in; in++) {
		if (o + 1 >= len)
			return -EINVAL;
		if (*in != '\\') {
			if ((unsigned char)*in <= ' ' ||
			    (unsigned char)*in > '~')
				return -EINVAL;
			out[o++] = *in;
			continue;
		}
		if (sscanf(in + 1, "%3o", &v) != 1 || !v || v > 255 ||
		    strspn(in + 1, "01234567") < 3)
			return -EINVAL;
		out[o++] = (char)v;
		in += 3;
	}
	out[o] = '\0';
	return path_safe(out) ? 0 : -EINVAL;
}

int hdrbak_format(const struct hdrbak_entry *e, char *out, size_t len)
{
	char h[2 * HDR_SIZE + 1], s[2 * EXTENT_SPARSE_LEN + 1] = "-";
	char v[2 * VERREC_LEN + 1] = "-", p[4 * PATH_MAX];
	int n;

	hex_encode(e->hdr, HDR_SIZE, h);
	if (e->has_sparse)
		hex_encode(e->sparse, EXTENT_SPARSE_LEN, s);
	if (e->has_ver)
		hex_encode(e->ver, VERREC_LEN, v);
	if (path_escape(e->path, p, sizeof(p)))
		return -ENAMETOOLONG;
	n = snprintf(out, len, "file %llu %s %s %s %s\n",
		     (unsigned long long)e->backing, h, s, v, p);
	return n >= 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

int hdrbak_parse(const char *line, struct hdrbak_entry *e)
{
	char f[5][2 * HDR_SIZE + 1];
	const char *p = line;
	size_t n;
	int i;

	memset(e, 0, sizeof(*e));
	/* Five fields without spaces, then the path, the rest of the line. */
	for (i = 0; i < 5; i++) {
		n = strcspn(p, " ");
		if (!n || n >= sizeof(f[i]) || p[n] != ' ')
			return -EINVAL;
		memcpy(f[i], p, n);
		f[i][n] = '\0';
		p += n + 1;
	}
	if (strcmp(f[0], "file") ||
	    dec_parse_u64(f[1], 0, INT64_MAX, &e->backing) ||
	    hex_decode(f[2], e->hdr, HDR_SIZE))
		return -EINVAL;
	e->has_sparse = strcmp(f[3], "-");
	if (e->has_sparse && hex_decode(f[3], e->sparse, EXTENT_SPARSE_LEN))
		return -EINVAL;
	e->has_ver = strcmp(f[4], "-");
	if (e->has_ver && hex_decode(f[4], e->ver, VERREC_LEN))
		return -EINVAL;
	return path_unescape(p, e->path, sizeof(e->path));
}
