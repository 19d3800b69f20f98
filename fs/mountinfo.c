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
#include <sys/stat.h>
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

/*
 * One line of mountinfo: field 3 is MAJOR:MINOR, field 5 the mount point,
 * field 6 its options; the fstype, the source and the super options
 * follow " - " (proc(5)).  false for a line that does not parse.
 */
struct mi_line {
	char mp[PATH_MAX], fstype[256], src[PATH_MAX], opts[1024];
	char mopts[1024];
	dev_t dev;
};

static bool parse_line(const char *line, struct mi_line *l)
{
	const char *sep = strstr(line, " - ");
	unsigned int maj, min;

	l->src[0] = l->opts[0] = '\0';
	if (sscanf(line, "%*s %*s %u:%u %*s %4095s %1023s", &maj, &min, l->mp,
		   l->mopts) != 4 ||
	    !sep || sscanf(sep + 3, "%255s %4095s %1023s", l->fstype, l->src,
			   l->opts) < 1)
		return false;
	unescape(l->mp);
	unescape(l->src);
	l->dev = makedev(maj, min);
	return true;
}

/* The one loop: @fn on each line that parses, until it returns non-zero. */
static int walk(int (*fn)(void *arg, const struct mi_line *l), void *arg)
{
	struct mi_line l;
	char line[8192];
	int ret = 0;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	while (!ret && fgets(line, sizeof(line), f))
		if (parse_line(line, &l))
			ret = fn(arg, &l);
	fclose(f);
	return ret;
}

struct last {
	bool (*match)(const struct mi_line *l, const void *ctx);
	const void *ctx;
	struct mi_line *last;
	int found;
};

static int keep_last(void *arg, const struct mi_line *l)
{
	struct last *a = arg;

	if (a->match(l, a->ctx)) {
		*a->last = *l;
		a->found = 1;
	}
	return 0;
}

/*
 * The last line for which @match() holds into *@last (mounts stack, so
 * the last one is on top): 1, 0 if none, -errno if mountinfo is unreadable.
 */
static int find_last(bool (*match)(const struct mi_line *l, const void *ctx),
		     const void *ctx, struct mi_line *last)
{
	struct last a = { match, ctx, last, 0 };
	int err = walk(keep_last, &a);

	return err < 0 ? err : a.found;
}

struct pub_walk {
	int (*fn)(void *arg, const struct mountinfo_ent *e);
	void *arg;
};

static int pub_one(void *arg, const struct mi_line *l)
{
	const struct pub_walk *w = arg;
	struct mountinfo_ent e = { .mountpoint = l->mp, .source = l->src,
				   .fstype = l->fstype, .opts = l->mopts,
				   .super_opts = l->opts, .dev = l->dev };

	return w->fn(w->arg, &e);
}

int mountinfo_walk(int (*fn)(void *arg, const struct mountinfo_ent *e),
		   void *arg)
{
	struct pub_walk w = { fn, arg };

	return walk(pub_one, &w);
}

struct by_point {
	const char *dir;	/* NULL: by @dev */
	dev_t dev;
};

static bool match_point(const struct mi_line *l, const void *ctx)
{
	const struct by_point *b = ctx;

	return b->dir ? !strcmp(l->mp, b->dir) : l->dev == b->dev;
}

int mountinfo_find(const char *dir, dev_t dev, char *type, size_t typelen,
		   dev_t *devp, bool *by_root)
{
	struct by_point b = { .dir = dir, .dev = dev };
	struct mi_line l;
	int found = find_last(match_point, &b, &l);

	if (found != 1)
		return found;
	if (type)
		snprintf(type, typelen, "%s", l.fstype);
	if (devp)
		*devp = l.dev;
	if (by_root)
		*by_root = opt_listed(l.opts, "user_id=0");
	return 1;
}

struct by_source {
	const char *source, *fstype;
};

static bool match_source(const struct mi_line *l, const void *ctx)
{
	const struct by_source *b = ctx;

	return !strcmp(l->fstype, b->fstype) && !strcmp(l->src, b->source);
}

int mountinfo_source(const char *source, const char *fstype, char *mp,
		     size_t mplen)
{
	struct by_source b = { .source = source, .fstype = fstype };
	struct mi_line l;
	int found = find_last(match_source, &b, &l);

	if (found == 1)
		snprintf(mp, mplen, "%s", l.mp);
	return found;
}

int mountinfo_source_at(const char *dir, char *source, size_t len)
{
	struct by_point b = { .dir = dir };
	struct mi_line l;
	int found = find_last(match_point, &b, &l);

	if (found != 1)
		return found;
	snprintf(source, len, "%s", l.src);
	return !strcmp(l.fstype, "fuse.atrestfs");
}

struct by_backing {
	dev_t dev;
	ino_t ino;
};

static bool match_backing(const struct mi_line *l, const void *ctx)
{
	const struct by_backing *b = ctx;
	struct stat st;

	/* The source names the backing directory (fsname=). */
	if (strcmp(l->fstype, "fuse.atrestfs") || stat(l->src, &st) ||
	    st.st_dev != b->dev || st.st_ino != b->ino)
		return false;
	/* A daemon that died leaves a mount that serves nothing. */
	return !stat(l->mp, &st) || errno != ENOTCONN;
}

int mountinfo_backing(dev_t dev, ino_t ino, char *mp, size_t mplen)
{
	struct by_backing b = { .dev = dev, .ino = ino };
	struct mi_line l;
	int found = find_last(match_backing, &b, &l);

	if (found == 1)
		snprintf(mp, mplen, "%s", l.mp);
	return found;
}
