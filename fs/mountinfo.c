// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/mountinfo.c - the one reader of /proc/self/mountinfo.  The command
 * line asks what is mounted at a path or holds a device; the daemon asks
 * which device its own mount got, since stat(2) of its mount point would
 * be a request to itself.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "atrfs.h"

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *d = s;

	for (; *s; s++, d++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*d = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*d = *s;
		}
	}
	*d = '\0';
}

bool opt_listed(const char *opts, const char *opt)
{
	size_t n = strlen(opt);
	const char *p;

	for (p = opts; (p = strstr(p, opt)); p += n)
		if ((p == opts || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
			return true;
	return false;
}

int mountinfo_find(const char *dir, dev_t dev, char *type, size_t typelen,
		   dev_t *devp, bool *by_root)
{
	char line[8192], mp[PATH_MAX], fstype[256], opts[1024];
	unsigned int maj, min;
	const char *sep;
	int found = 0;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	/*
	 * Field 3 is MAJOR:MINOR, field 5 the mount point; the fstype
	 * follows " - " (proc(5)).
	 */
	while (fgets(line, sizeof(line), f)) {
		sep = strstr(line, " - ");
		opts[0] = '\0';
		if (sscanf(line, "%*s %*s %u:%u %*s %4095s", &maj, &min,
			   mp) != 3 || !sep ||
		    sscanf(sep + 3, "%255s %*s %1023s", fstype, opts) < 1)
			continue;
		unescape(mp);
		if (dir ? strcmp(mp, dir) != 0 : makedev(maj, min) != dev)
			continue;
		if (type)
			snprintf(type, typelen, "%s", fstype);
		if (devp)
			*devp = makedev(maj, min);
		if (by_root)
			*by_root = opt_listed(opts, "user_id=0");
		found = 1;
	}
	fclose(f);
	return found;
}

int mountinfo_source(const char *source, char *mp, size_t mplen)
{
	char line[8192], dir[PATH_MAX], fstype[256], src[PATH_MAX];
	const char *sep;
	int found = 0;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	/* The source follows the fstype, after " - " (proc(5)). */
	while (fgets(line, sizeof(line), f)) {
		sep = strstr(line, " - ");
		if (sscanf(line, "%*s %*s %*s %*s %4095s", dir) != 1 || !sep ||
		    sscanf(sep + 3, "%255s %4095s", fstype, src) != 2 ||
		    strcmp(fstype, "fuse.atrestfs"))
			continue;
		unescape(dir);
		unescape(src);
		if (strcmp(src, source))
			continue;
		snprintf(mp, mplen, "%s", dir);
		found = 1;
	}
	fclose(f);
	return found;
}
