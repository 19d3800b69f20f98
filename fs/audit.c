// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/audit.c - the audit log of key use: format one JSON line per event
 * and append it to a file (one write(2), O_APPEND) and/or syslog.
 * Owns: the destination fd.  Borrows every field of an event.  Holds no
 * secret: callers pass IDs, never keys.  Linked into the daemon and the
 * command alike (libatr.a); no FUSE here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "../crypto/codec.h"
#include "../crypto/hdr.h"
#include "../volume/volume.h"
#include "audit.h"
#include "fs_private.h"

#define LINE_MAX_LEN	2048

struct audit {
	int fd;				/* -1: no file */
	bool to_syslog;
	char uuid[VOL_UUID_STR_LEN + 1];
	char kek_id[2 * KEK_ID_LEN + 1];	/* DEK events' key_id */
	char provider[VOL_NAME_MAX + 1];	/* DEK events' provider */
	char path[VOL_PATH_MAX + 1];		/* for the error line only */
	atomic_bool failed;		/* the last write failed; said when it began */
	atomic_uint lost;		/* events not written since */
};

static int open_file(struct audit *a, const char *path, char *msg,
		     size_t msglen)
{
	a->fd = atr_logfile_open(path, "audit log", msg, msglen);
	if (a->fd < 0) {
		int err = a->fd;

		a->fd = -1;
		return err;
	}
	return 0;
}

int audit_open(const struct vol_options *opt, const uint8_t uuid[VOL_UUID_LEN],
	       struct audit **out, char *msg, size_t msglen)
{
	struct audit *a;
	int err;

	*out = NULL;
	if (!vol_has_audit(opt))
		return 0;
	err = volconf_options_check(opt, msg, msglen);
	if (err)
		return err;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->fd = -1;
	vol_uuid_str(uuid, a->uuid);
	snprintf(a->path, sizeof(a->path), "%s", opt->audit_file);
	if (opt->audit_file[0]) {
		err = open_file(a, opt->audit_file, msg, msglen);
		if (err) {
			free(a);
			return err;
		}
	}
	a->to_syslog = opt->audit_syslog;
	*out = a;
	return 0;
}

void audit_close(struct audit *a)
{
	if (!a)
		return;
	if (a->fd >= 0)
		close(a->fd);
	free(a);
}

void audit_set_kek(struct audit *a, const uint8_t kek_id[KEK_ID_LEN],
		   const char *provider)
{
	if (!a)
		return;
	hex_encode(kek_id, KEK_ID_LEN, a->kek_id);
	if (provider)
		snprintf(a->provider, sizeof(a->provider), "%s", provider);
}

void audit_self(struct audit_event *ev)
{
	ev->uid = (uint32_t)getuid();
	ev->gid = (uint32_t)getgid();
	ev->pid = (int32_t)getpid();
}

/* A JSON string; IDs and names are printable already, but be exact. */
static void put_str(FILE *f, const char *key, const char *s)
{
	fprintf(f, ",\"%s\":\"", key);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c > 0x7e)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void put_time(FILE *f)
{
	struct timespec ts;
	struct tm tm;
	char buf[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	/* RFC 3339, UTC, milliseconds. */
	fprintf(f, "{\"time\":\"%s.%03ldZ\"", buf, ts.tv_nsec / 1000000);
}

size_t audit_format(const char *uuid, const struct audit_event *ev,
		    char *buf, size_t len)
{
	char hex[2 * FILE_ID_LEN + 1];
	const char *name;
	FILE *f = fmemopen(buf, len, "w");
	long n;

	if (!f)
		return 0;
	put_time(f);
	put_str(f, "event", ev->event);
	put_str(f, "volume", uuid);
	if (ev->file_id) {
		hex_encode(ev->file_id, FILE_ID_LEN, hex);
		put_str(f, "file_id", hex);
	}
	if (ev->key_id)
		put_str(f, "key_id", ev->key_id);
	if (ev->key_version)
		fprintf(f, ",\"key_version\":%u", ev->key_version);
	if (ev->provider)
		put_str(f, "provider", ev->provider);
	if (ev->op)
		put_str(f, "op", ev->op);
	fprintf(f, ",\"uid\":%u,\"gid\":%u,\"pid\":%d", ev->uid, ev->gid,
		ev->pid);
	name = ev->result ? strerrorname_np(-ev->result) : "ok";
	if (name)
		put_str(f, "result", name);
	else
		fprintf(f, ",\"result\":\"E%d\"", -ev->result);
	fputc('}', f);
	n = ftell(f);
	/* fmemopen NUL-terminates; a full buffer means a cut line. */
	if (fclose(f) || n <= 0 || (size_t)n >= len - 1)
		return 0;
	return (size_t)n;
}

int audit_log(struct audit *a, const struct audit_event *ev)
{
	char line[LINE_MAX_LEN];
	size_t n;
	ssize_t w;
	int err = 0;

	if (!a)
		return 0;
	n = audit_format(a->uuid, ev, line, sizeof(line) - 2);	/* room for two newlines */
	if (!n)
		return -EOVERFLOW;
	if (a->to_syslog)
		syslog(LOG_AUTHPRIV | LOG_NOTICE, "%s", line);
	if (a->fd < 0)
		return 0;
	line[n++] = '\n';
	/*
	 * One write: O_APPEND places it whole, whoever else is writing.  After
	 * a failure the file may end in part of a line: the next record then
	 * starts on a line of its own (a leading newline; a blank line reads
	 * as nothing), not glued to the fragment.
	 */
	if (atomic_load(&a->failed)) {
		memmove(line + 1, line, n);
		line[0] = '\n';
		n++;
	}
	w = write(a->fd, line, n);
	/* A short write (a full disk) says why only when asked again. */
	if (w >= 0 && (size_t)w < n) {
		ssize_t r = write(a->fd, line + w, n - (size_t)w);

		err = r < 0 ? -errno : (size_t)r == n - (size_t)w ? 0 : -EIO;
	} else if (w < 0) {
		err = -errno;
	}
	if (err) {
		atomic_fetch_add(&a->lost, 1);
		if (!atomic_exchange(&a->failed, true))
			atr_log(LOG_ERR, "audit log %s: write failed: %s; "
				"events are lost until it works again",
				a->path, strerror(-err));
	} else if (atomic_exchange(&a->failed, false)) {
		atr_log(LOG_WARNING, "audit log %s: writing again; %u events "
			"were lost", a->path, atomic_exchange(&a->lost, 0));
	}
	return err;
}

int audit_dek(struct audit *a, struct audit_event *ev, const uint8_t *file_id)
{
	if (!a)
		return 0;
	ev->file_id = file_id;
	ev->key_id = a->kek_id;
	ev->key_version = 0;
	ev->provider = a->provider[0] ? a->provider : NULL;
	return audit_log(a, ev);
}
