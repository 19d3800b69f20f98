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

/* One line of mountinfo, its escapes undone. */
struct mi_entry {
	char mp[PATH_MAX], fstype[256], source[PATH_MAX], opts[1024];
	dev_t dev;
};

/*
 * The next entry of @f into @e: 1, or 0 at the end.  Field 3 is
 * MAJOR:MINOR, field 5 the mount point; the fstype, source and super
 * options follow " - " (proc(5)).  Lines that do not parse are skipped.
 */
static int next_entry(FILE *f, struct mi_entry *e)
{
	char line[8192];
	unsigned int maj, min;
	const char *sep;

	while (fgets(line, sizeof(line), f)) {
		sep = strstr(line, " - ");
		e->source[0] = e->opts[0] = '\0';
		if (sscanf(line, "%*s %*s %u:%u %*s %4095s", &maj, &min,
			   e->mp) != 3 || !sep ||
		    sscanf(sep + 3, "%255s %4095s %1023s", e->fstype, e->source,
			   e->opts) < 1)
			continue;
		unescape(e->mp);
		unescape(e->source);
		e->dev = makedev(maj, min);
		return 1;
	}
	return 0;
}

int mountinfo_find(const char *dir, dev_t dev, char *type, size_t typelen,
		   dev_t *devp, bool *by_root)
{
	struct mi_entry e;
	int found = 0;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	while (next_entry(f, &e)) {
		if (dir ? strcmp(e.mp, dir) != 0 : e.dev != dev)
			continue;
		if (type)
			snprintf(type, typelen, "%s", e.fstype);
		if (devp)
			*devp = e.dev;
		if (by_root)
			*by_root = opt_listed(e.opts, "user_id=0");
		found = 1;
	}
	fclose(f);
	return found;
}

int mountinfo_source(const char *source, char *mp, size_t mplen)
{
	struct mi_entry e;
	int found = 0;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	while (next_entry(f, &e)) {
		if (strcmp(e.fstype, "fuse.atrestfs") || strcmp(e.source, source))
			continue;
		snprintf(mp, mplen, "%s", e.mp);
		found = 1;
	}
	fclose(f);
	return found;
}

int mountinfo_source_at(const char *dir, char *source, size_t len)
{
	struct mi_entry e;
	int found = 0;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	while (next_entry(f, &e)) {
		if (strcmp(e.mp, dir))
			continue;
		found = !strcmp(e.fstype, "fuse.atrestfs");
		snprintf(source, len, "%s", e.source);
	}
	fclose(f);
	return found;
}
