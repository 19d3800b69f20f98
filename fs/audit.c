// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/audit.c - the audit log of key use: format one JSON line per event,
 * chain it to the log's last record (crypto/auditchain.c) and append it
 * to a file (one write(2), O_APPEND, under flock) and/or syslog.
 * Owns: the destination fd.  Borrows every field of an event.  Holds no
 * secret: callers pass IDs, never keys.  Linked into the daemon and the
 * command alike (libatr.a); no FUSE here.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "../crypto/auditchain.h"
#include "../crypto/codec.h"
#include "../crypto/hdr.h"
#include "../volume/volume.h"
#include "audit.h"
#include "fs_private.h"

#define LINE_MAX_LEN	2048

struct audit {
	int fd;				/* -1: no file; immutable */
	bool to_syslog;			/* immutable, like the strings */
	char uuid[VOL_UUID_STR_LEN + 1];
	char host[HOST_NAME_MAX + 1];
	char kek_id[2 * KEK_ID_LEN + 1];	/* DEK events' key_id */
	char provider[VOL_NAME_MAX + 1];	/* DEK events' provider */
	char path[VOL_PATH_MAX + 1];		/* for the error line only */
	/*
	 * The chain: held across read-last-record and append, by this
	 * process's threads (the mutex) and other processes (flock, which
	 * threads sharing the fd would not feel).  Under it, what the next
	 * record carries if the file still ends where our last write did,
	 * which spares reading the tail while we are the only writer.
	 */
	pthread_mutex_t lock;
	bool known;			/* ->lock: next and end are valid */
	off_t end;			/* ->lock: the file's size after it */
	struct achain_link next;	/* ->lock */
	atomic_bool failed;		/* the last write failed; said when it began */
	atomic_uint lost;		/* events not written since */
};

static int open_file(struct audit *a, const char *path, char *msg,
		     size_t msglen)
{
	/* Read too: the last record is what the next one chains to. */
	a->fd = atr_logfile_open(path, "audit log", true, msg, msglen);
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
	pthread_mutex_init(&a->lock, NULL);
	vol_uuid_str(uuid, a->uuid);
	audit_host(a->host, sizeof(a->host));
	snprintf(a->path, sizeof(a->path), "%s", opt->audit_file);
	if (opt->audit_file[0]) {
		err = open_file(a, opt->audit_file, msg, msglen);
		if (err) {
			pthread_mutex_destroy(&a->lock);
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
	pthread_mutex_destroy(&a->lock);
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

void audit_host(char *buf, size_t len)
{
	if (gethostname(buf, len))
		buf[0] = '\0';
	buf[len - 1] = '\0';
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
	if (ev->host)
		put_str(f, "host", ev->host);
	else {
		char host[HOST_NAME_MAX + 1];

		audit_host(host, sizeof(host));
		put_str(f, "host", host);
	}
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
	if (ev->has_slot)
		fprintf(f, ",\"slot\":%u", ev->slot);
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

/*
 * Seal @line (@n bytes of @cap, a record without chain fields) to the
 * log's last record and write it.  Under a->lock and flock.  0 or -errno.
 */
static int append_locked(struct audit *a, char *line, size_t n, size_t cap)
{
	char tail[ACHAIN_TAIL_MAX], *rec;
	struct achain_link link;
	bool newline = false;
	struct stat st;
	size_t k;
	ssize_t r, w;
	int err;

	if (fstat(a->fd, &st))
		return -errno;
	if (a->known && st.st_size == a->end) {
		link = a->next;
	} else {
		k = st.st_size < (off_t)sizeof(tail) ? (size_t)st.st_size :
		    sizeof(tail);
		r = pread(a->fd, tail, k, st.st_size - (off_t)k);
		if (r != (ssize_t)k)
			return r < 0 ? -errno : -EIO;
		err = achain_next(tail, k, k == (size_t)st.st_size, &link,
				  &newline);
		if (err)
			return err;
	}
	a->known = false;
	/* line[0] is kept free for the newline that ends a cut record. */
	rec = line + 1;
	n = achain_seal(rec, n, cap - 2, &link);
	if (!n)
		return -EOVERFLOW;
	if (a->to_syslog)
		syslog(LOG_AUTHPRIV | LOG_NOTICE, "%s", rec);
	rec[n] = '\n';
	/*
	 * After a write cut short the file ends in part of a line: the
	 * record starts on a line of its own, not glued to the fragment,
	 * and its hash covers the fragment.
	 */
	if (newline)
		*--rec = '\n';
	k = n + 1 + newline;
	w = write(a->fd, rec, k);
	/* A short write (a full disk) says why only when asked again. */
	if (w >= 0 && (size_t)w < k) {
		r = write(a->fd, rec + w, k - (size_t)w);
		return r < 0 ? -errno : (size_t)r == k - (size_t)w ? 0 : -EIO;
	}
	if (w < 0)
		return -errno;
	err = achain_after(rec + newline, n, link.seq, &a->next);
	if (!err) {
		a->end = st.st_size + w;
		a->known = true;
	}
	return 0;
}

/* Append @body[0..@n) (room for @cap bytes) as the next record. */
static int append(struct audit *a, char *body, size_t n, size_t cap)
{
	int err;

	if (a->fd < 0) {
		if (a->to_syslog)
			syslog(LOG_AUTHPRIV | LOG_NOTICE, "%.*s", (int)n, body + 1);
		return 0;
	}
	pthread_mutex_lock(&a->lock);
	while (flock(a->fd, LOCK_EX) && errno == EINTR)
		;
	err = append_locked(a, body, n, cap);
	flock(a->fd, LOCK_UN);
	pthread_mutex_unlock(&a->lock);
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

int audit_log(struct audit *a, const struct audit_event *ev)
{
	char line[LINE_MAX_LEN];
	struct audit_event e;
	size_t n;

	if (!a)
		return 0;
	e = *ev;
	if (!e.host)
		e.host = a->host;
	/* line[0]: room for a newline; the end: for the chain fields. */
	n = audit_format(a->uuid, &e, line + 1,
			 sizeof(line) - 2 - ACHAIN_FIELDS_MAX);
	if (!n)
		return -EOVERFLOW;
	return append(a, line, n, sizeof(line));
}

int audit_log_body(struct audit *a, const char *body, size_t n)
{
	char line[LINE_MAX_LEN];

	if (!a)
		return 0;
	if (n + 2 + ACHAIN_FIELDS_MAX > sizeof(line) || !n || body[0] != '{' ||
	    body[n - 1] != '}')
		return -EINVAL;
	memcpy(line + 1, body, n);
	return append(a, line, n, sizeof(line));
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
