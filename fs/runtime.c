// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/runtime.c - the serving daemon's runtime record, for atrestfs
 * status: its pid, its mount, options and log file, and its last
 * warnings and errors, as state record "mount-MAJ-MIN" (the mount's
 * device) in the volume's runtime directory (state_run_base()).
 * Owns: the directory's fd, the record's text and the ring of errors.
 * Borrows the mount, whose KEK of the moment MACs the record
 * (volume/state.c): an online rotation or a lock frees the KEK it had.
 *
 * A record is rewritten at each warning or error; those are logged once
 * per file or event (key_log(), fio_*), so rewrites stay rare.  Under
 * /run the record goes with a reboot; a daemon that dies leaves it
 * behind, which is why it carries the process's start time: status
 * believes it only while that process and that mount both still exist.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../volume/volume.h"
#include "fs_private.h"

#define RUNTIME_ERRORS		5	/* the last errors kept */
#define RUNTIME_ERROR_LEN	320	/* of each, escaped */
#define RUNTIME_FIELD_LEN	(4 * 1024)	/* path or options, escaped */

/*
 * Locking: ->lock is innermost, and nothing that logs runs under it (the
 * log calls in here would come back through the tap).
 */
struct runtime {
	struct state_dir sd;		/* immutable; fd -1: no directory */
	char name[ATR_RUNTIME_NAME_LEN];	/* "mount-MAJ-MIN"; "" until started */
	char *fixed;			/* the lines before the errors; immutable once started */
	pthread_mutex_t lock;
	char errors[RUNTIME_ERRORS][RUNTIME_ERROR_LEN];	/* ->lock; ring */
	unsigned int nerrors, next;	/* ->lock */
	struct atr_mount *m;		/* borrowed: its KEK, through kek_tryget() */
	char *options, *log_path;	/* immutable; as given */
};

/*
 * A record holds printable ASCII only: bytes outside it, and with
 * @backslash the backslash, become \xHH (as log lines, which come here
 * already escaped, write control bytes).
 */
static void escape_ascii(const char *in, bool backslash, char *out,
			 size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)in;
	size_t n = 0;

	for (; *p && n + 5 < outlen; p++) {
		if (*p < 0x20 || *p > 0x7e || (backslash && *p == '\\')) {
			out[n++] = '\\';
			out[n++] = 'x';
			out[n++] = hex[*p >> 4];
			out[n++] = hex[*p & 15];
		} else {
			out[n++] = (char)*p;
		}
	}
	out[n] = '\0';
}

int runtime_new(int dirfd, const char *dirpath,
		const uint8_t uuid[VOL_UUID_LEN], struct atr_mount *m,
		const char *options, const char *log_path,
		struct runtime **out)
{
	struct runtime *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->sd.fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	snprintf(r->sd.path, sizeof(r->sd.path), "%s", dirpath);
	memcpy(r->sd.uuid, uuid, VOL_UUID_LEN);
	r->m = m;
	r->options = strdup(options ? options : "");
	r->log_path = log_path && *log_path ? strdup(log_path) : NULL;
	pthread_mutex_init(&r->lock, NULL);
	if (r->sd.fd < 0 || !r->options ||
	    (log_path && *log_path && !r->log_path)) {
		runtime_free(r);
		return -ENOMEM;
	}
	*out = r;
	return 0;
}

void runtime_free(struct runtime *r)
{
	if (!r)
		return;
	state_close(&r->sd);
	pthread_mutex_destroy(&r->lock);
	free(r->fixed);
	free(r->options);
	free(r->log_path);
	free(r);
}

void atr_runtime_name(dev_t dev, char buf[ATR_RUNTIME_NAME_LEN])
{
	snprintf(buf, ATR_RUNTIME_NAME_LEN, "mount-%u-%u", major(dev),
		 minor(dev));
}

unsigned long long atr_runtime_start_time(pid_t pid)
{
	unsigned long long t = 0;
	char path[64], buf[1024], *p;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid ? (int)pid : (int)getpid());
	f = fopen(path, "re");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	/* The name may hold spaces: field 22 is 20 spaces after its ')'. */
	for (i = 0; p && i < 20; i++)
		p = strchr(p + 1, ' ');
	if (p)
		t = strtoull(p + 1, NULL, 10);
	return t;
}

_Static_assert(ATR_RUNTIME_REC_MAX >= STATE_RECORD_MAX,
	       "a runtime record's value fits its field");

void atr_runtime_parse(char *body, struct atr_runtime_rec *r)
{
	char *line, *save = NULL, *v;

	memset(r, 0, sizeof(*r));
	for (line = strtok_r(body, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		v = strchr(line, ' ');
		if (!v)
			continue;
		*v++ = '\0';
		if (!strcmp(line, "pid"))
			r->pid = strtol(v, NULL, 10);
		else if (!strcmp(line, "start"))
			r->start = strtoull(v, NULL, 10);
		else if (!strcmp(line, "options"))
			snprintf(r->options, sizeof(r->options), "%s", v);
		else if (!strcmp(line, "log"))
			snprintf(r->log, sizeof(r->log), "%s", v);
		else if (!strcmp(line, "error") &&
			 r->nerrors < ATR_RUNTIME_ERRORS_MAX)
			snprintf(r->errors[r->nerrors++], sizeof(r->errors[0]),
				 "%s", v);
	}
}

/*
 * The record as it is now, under ->lock: 0 or -errno with @msg.  While
 * the mount is locked, or its KEK is being swapped (or the caller holds
 * it), -EAGAIN: the next warning rewrites the record with this one in it.
 */
static int put_locked(struct runtime *r, char *msg, size_t msglen)
{
	size_t cap = STATE_RECORD_MAX, n;
	unsigned int i, skip = 0, at;
	const struct kek *kek;
	char *body;
	int err;

	body = malloc(cap);
	if (!body)
		return -ENOMEM;
	kek = kek_tryget(r->m);
	if (!kek) {
		free(body);
		return -EAGAIN;
	}
	/* What does not fit goes, the oldest errors first. */
	do {
		n = (size_t)snprintf(body, cap, "%s", r->fixed);
		for (i = skip; i < r->nerrors && n < cap; i++) {
			at = (r->next + RUNTIME_ERRORS - r->nerrors + i) %
			     RUNTIME_ERRORS;
			n += (size_t)snprintf(body + n, cap - n, "error %s\n",
					      r->errors[at]);
		}
	} while (n >= cap - 128 && skip++ < r->nerrors);
	err = n >= cap - 128 ? -E2BIG :
	      state_put(&r->sd, kek, r->name, body, msg, msglen);
	kek_put(r->m);
	free(body);
	return err;
}

/* The log's tap: a warning or error (@line: escaped) joins the ring. */
static void note(void *arg, const char *line)
{
	struct runtime *r = arg;
	char stamp[ATR_LOG_STAMP_LEN], esc[RUNTIME_ERROR_LEN - 33], msg[256];

	atr_log_stamp(stamp);
	escape_ascii(line, false, esc, sizeof(esc));
	pthread_mutex_lock(&r->lock);
	snprintf(r->errors[r->next], RUNTIME_ERROR_LEN, "%s %s", stamp, esc);
	r->next = (r->next + 1) % RUNTIME_ERRORS;
	if (r->nerrors < RUNTIME_ERRORS)
		r->nerrors++;
	/* Best effort: the line itself was logged; saying more would loop. */
	(void)put_locked(r, msg, sizeof(msg));
	pthread_mutex_unlock(&r->lock);
}

int runtime_start(struct runtime *r, const char *backing,
		  const char *mountpoint)
{
	char src[RUNTIME_FIELD_LEN], mp[RUNTIME_FIELD_LEN];
	char opts[RUNTIME_FIELD_LEN], logp[RUNTIME_FIELD_LEN], msg[512];
	char type[64];
	dev_t dev;
	int err;

	/* The mount's device names the record: a volume may be mounted twice. */
	if (!*mountpoint ||
	    mountinfo_find(mountpoint, 0, type, sizeof(type), &dev, NULL) != 1 ||
	    strncmp(type, "fuse", 4))
		return -ENOENT;
	escape_ascii(backing, true, src, sizeof(src));
	escape_ascii(mountpoint, true, mp, sizeof(mp));
	escape_ascii(r->options, true, opts, sizeof(opts));
	escape_ascii(r->log_path ? r->log_path : "", true, logp, sizeof(logp));
	atr_runtime_name(dev, r->name);
	if (asprintf(&r->fixed, "pid %d\nstart %llu\nsource %s\nmountpoint "
		     "%s\noptions %s\n%s%s%s", (int)getpid(), atr_runtime_start_time(0), src,
		     mp, opts, r->log_path ? "log " : "", r->log_path ? logp : "",
		     r->log_path ? "\n" : "") < 0) {
		r->fixed = NULL;
		r->name[0] = '\0';
		return -ENOMEM;
	}
	pthread_mutex_lock(&r->lock);
	err = put_locked(r, msg, sizeof(msg));
	pthread_mutex_unlock(&r->lock);
	if (err) {
		atr_log(LOG_WARNING, "atrestfs status will not show this "
			"mount's daemon: %s", err == -E2BIG ?
			"its paths and options are too long" : msg);
		r->name[0] = '\0';
		return err;
	}
	atr_log_tap(note, r);
	return 0;
}

void runtime_stop(struct runtime *r)
{
	if (!r || !r->name[0])
		return;
	atr_log_tap(NULL, NULL);
	unlinkat(r->sd.fd, r->name, 0);
	r->name[0] = '\0';
}
