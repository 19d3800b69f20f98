// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * volume/names.c - the file I/O of encrypted names (crypto/names.h) that
 * the daemon (fs/dirnames.c) and the command line (atrestfs path) share:
 * a directory's ID and a long name's record, read from the untrusted
 * backing directory and checked before use.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../crypto/names.h"
#include "volume_private.h"

int volnames_dirid(int fd, uint8_t id[NAMES_DIRID_LEN])
{
	return volvid_read(fd, NAMES_DIRID_XATTR, id, NAMES_DIRID_LEN);
}

int volnames_record(int dirfd, const char *bname,
		    char rec[NAMES_ENC_MAX + 1], size_t *len)
{
	char side[NAME_MAX + 1];
	ssize_t n;
	int fd;

	names_sidecar(bname, side);
	/* Not a FIFO's open that never returns, not a symlink followed. */
	fd = openat(dirfd, side, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
		    O_CLOEXEC);
	if (fd < 0)
		return -EBADMSG;
	n = read(fd, rec, NAMES_ENC_MAX + 1);
	close(fd);
	if (n < 0 || names_long_check(bname, rec, (size_t)n))
		return -EBADMSG;
	*len = (size_t)n;
	return 0;
}

/* The next component of *@p (skipping '/'), NUL-terminated in place. */
static char *next_part(char **p)
{
	char *s = *p, *e;

	while (*s == '/')
		s++;
	if (!*s)
		return NULL;
	e = strchr(s, '/');
	if (e)
		*e++ = '\0';
	*p = e ? e : s + strlen(s);
	return s;
}

/* Step from directory *@fd into its entry @bname, a directory. */
static int descend(int *fd, const char *bname)
{
	int sub = openat(*fd, bname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			 O_CLOEXEC);

	if (sub < 0)
		return -errno;
	close(*fd);
	*fd = sub;
	return 0;
}

/* Append "/" @part to @out (PATH_MAX); -ENAMETOOLONG if it does not fit. */
static int append(char *out, const char *part)
{
	size_t len = strlen(out);

	if (len + 1 + strlen(part) >= PATH_MAX)
		return -ENAMETOOLONG;
	snprintf(out + len, PATH_MAX - len, "%s%s", len ? "/" : "", part);
	return 0;
}

int volnames_map(int dirfd, const uint8_t key[NAMES_KEY_LEN], char *path,
		 bool reverse, char *out, char *side, const char **what)
{
	uint8_t id[NAMES_DIRID_LEN];
	char plain[NAMES_PLAIN_MAX + 1], rec[NAMES_ENC_MAX + 1];
	struct names_enc enc;
	char *part, *rest = path;
	size_t len;
	int fd = dup(dirfd), err = 0;

	if (fd < 0)
		return -errno;
	*out = *side = '\0';
	while (!err && (part = next_part(&rest))) {
		*what = part;
		if (!strcmp(part, ".") || !strcmp(part, "..")) {
			err = -EINVAL;
			break;
		}
		err = volnames_dirid(fd, id);
		if (err)
			break;
		if (reverse) {
			len = strlen(part);
			if (names_is_long(part))
				err = volnames_record(fd, part, rec, &len);
			else
				memcpy(rec, part, len);
			if (!err)
				err = names_decrypt(NULL, key, id, rec, len,
						    plain);
			if (!err)
				err = append(out, plain);
		} else {
			err = names_encrypt(NULL, key, id, part, &enc);
			if (!err)
				err = append(out, enc.backing);
			if (!err && !*rest && enc.is_long)
				names_sidecar(enc.backing, side);
			part = enc.backing;
		}
		if (!err && *rest)
			err = descend(&fd, part);
	}
	close(fd);
	return err;
}
