// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * volume/auditpend.c - failed unlocks, kept until the audit log can be
 * trusted.  A keyslot refuses before the KEK is known, so before the
 * config's MAC says whether its audit destination is the owner's or an
 * attacker's: appending there could be made to write anywhere.  So the
 * refusal goes to syslog (authpriv) at once, and as a finished audit
 * record to this machine's state directory for the volume, whose place
 * the volume does not choose; the next unlock that verifies the config
 * moves the records into its audit log, before its own.
 * Owns the descriptors of one call.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "../fs/audit.h"
#include "volume_private.h"

#define PEND_MAX	65536	/* bytes kept; syslog has what is over */
#define PEND_LINE_MAX	2048
#define TIME_LEN	24	/* 2026-01-02T03:04:05.678Z */

void auditpend_refused(const char *base, const struct vol_config *cfg,
		       const unsigned int *slots, const int *errs,
		       unsigned int n)
{
	char uuid[VOL_UUID_STR_LEN + 1], line[PEND_LINE_MAX + 1], msg[256];
	const struct vol_keyslot *ks;
	struct state_dir sd;
	struct stat st;
	unsigned int i;
	size_t len;
	int fd = -1;

	if (!n)
		return;
	vol_uuid_str(cfg->uuid, uuid);
	for (i = 0; i < n; i++) {
		ks = &cfg->slots[slots[i]];
		syslog(LOG_AUTHPRIV | LOG_WARNING, "atrestfs: unlock of volume "
		       "%s refused by keyslot %u (provider %s, key %s) for uid "
		       "%u: %s", uuid, ks->number, ks->provider, ks->key_id,
		       (unsigned int)getuid(), strerrorname_np(-errs[i]) ?
		       strerrorname_np(-errs[i]) : "error");
	}
	/* Best effort: syslog has it if the state directory cannot. */
	if (state_open(&sd, base, cfg->uuid, msg, sizeof(msg)))
		return;
	if (state_lock(&sd))
		goto out;
	fd = openat(sd.fd, AUDITPEND_RECORD, O_WRONLY | O_APPEND | O_CREAT |
		    O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 022) ||
	    st.st_size >= PEND_MAX)
		goto out;
	for (i = 0; i < n; i++) {
		struct audit_event ev = { .event = "unlock_failed",
					  .key_id = NULL, .has_slot = true };

		ks = &cfg->slots[slots[i]];
		ev.key_id = ks->key_id;
		ev.key_version = ks->key_version;
		ev.provider = ks->provider;
		ev.slot = ks->number;
		ev.result = errs[i];
		audit_self(&ev);
		len = audit_format(uuid, &ev, line, sizeof(line) - 1);
		if (!len)
			continue;
		line[len++] = '\n';
		if (write(fd, line, len) != (ssize_t)len)
			break;
	}
out:
	if (fd >= 0)
		close(fd);
	state_close(&sd);
}

/*
 * A line we wrote: printable, a record of a failed unlock of this
 * volume, short.  The state directory is ours alone, but a record that
 * enters the audit log is checked anyway.
 */
static bool line_ok(const char *line, size_t n, const char *uuid)
{
	char want[128];
	size_t i, k;

	if (n > PEND_LINE_MAX || n < 9 + TIME_LEN + 1 || line[n - 1] != '}' ||
	    memcmp(line, "{\"time\":\"", 9))
		return false;
	for (i = 0; i < n; i++)
		if (line[i] < 0x20 || line[i] > 0x7e)
			return false;
	k = (size_t)snprintf(want, sizeof(want), "\",\"event\":\"unlock_failed\","
			     "\"volume\":\"%s\",", uuid);
	return n > 9 + TIME_LEN + k &&
	       !memcmp(line + 9 + TIME_LEN, want, k);
}

int auditpend_flush(const char *base, const struct vol_config *cfg,
		    char *msg, size_t msglen)
{
	char uuid[VOL_UUID_STR_LEN + 1], buf[PEND_MAX + PEND_LINE_MAX];
	char smsg[256];
	struct audit *a = NULL;
	struct state_dir sd;
	struct stat st;
	size_t off, end, n = 0;
	ssize_t r;
	int fd, err = 0;

	if (state_open(&sd, base, cfg->uuid, smsg, sizeof(smsg)))
		return 0;	/* none here: nothing waits */
	if (state_lock(&sd))
		goto out;
	fd = openat(sd.fd, AUDITPEND_RECORD, O_RDONLY | O_NOFOLLOW |
		    O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		goto out;
	if (!fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
	    !(st.st_mode & 022))
		while (n < sizeof(buf) &&
		       (r = read(fd, buf + n, sizeof(buf) - n)) > 0)
			n += (size_t)r;
	close(fd);
	vol_uuid_str(cfg->uuid, uuid);
	err = audit_open(&cfg->opt, cfg->uuid, &a, msg, msglen);
	if (err)
		goto out;
	/* Without an audit log they have nowhere to go: syslog had them. */
	for (off = 0; a && off < n; off = end + 1) {
		end = off;
		while (end < n && buf[end] != '\n')
			end++;
		if (end == n || !line_ok(buf + off, end - off, uuid))
			continue;
		err = audit_log_body(a, buf + off, end - off);
		if (err) {
			snprintf(msg, msglen, "cannot write audit log %s: %s",
				 cfg->opt.audit_file, strerror(-err));
			goto out;
		}
	}
	unlinkat(sd.fd, AUDITPEND_RECORD, 0);
out:
	audit_close(a);
	state_close(&sd);
	return err;
}
