// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mount-helper/rollback.c - an older atrestfs.conf refused, as the
 * commands report it: open this machine's state directory for the
 * volume, check or record the config's generation (volume/confgen.c),
 * and say what happened and what to run.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "cli.h"

int cli_state_dir_opt(const char **dir, const char *arg)
{
	/* The daemon and fstab run from anywhere: no relative paths. */
	if (arg[0] != '/') {
		cli_err("--state-dir %s: bad option value: want an absolute "
			"path", arg);
		return -1;
	}
	*dir = arg;
	return 0;
}

/*
 * @path (absolute) with its longest existing part resolved, links
 * followed: what it will be once the rest is made.
 */
static void resolve(const char *path, char *out, size_t len)
{
	char head[PATH_MAX], real[PATH_MAX], *slash;

	snprintf(head, sizeof(head), "%s", path);
	while (!realpath(head, real)) {
		slash = strrchr(head, '/');
		if (!slash || slash == head) {
			snprintf(out, len, "%s", path);
			return;
		}
		*slash = '\0';
	}
	snprintf(out, len, "%s%s", strcmp(real, "/") ? real : "",
		 path + strlen(head));
}

int cli_state_open(const char *dir, const char *state_dir,
		   const uint8_t uuid[VOL_UUID_LEN], struct state_dir *sd,
		   char *msg, size_t msglen)
{
	char base[STATE_PATH_MAX], rbase[PATH_MAX], rdir[PATH_MAX];
	size_t n;
	int err;

	sd->fd = -1;
	err = state_base(state_dir, geteuid(), base, sizeof(base), msg, msglen);
	if (err)
		return err;
	/* Whoever can write the volume could delete or replay records there. */
	resolve(base, rbase, sizeof(rbase));
	if (realpath(dir, rdir)) {
		n = strlen(rdir);
		if (!strncmp(rbase, rdir, n) &&
		    (rbase[n] == '/' || rbase[n] == '\0' || n == 1)) {
			snprintf(msg, msglen, "state directory %s is inside the "
				 "volume %s, where whoever can write the volume "
				 "could remove its records: choose one outside "
				 "it with --state-dir", base, dir);
			return -EPERM;
		}
	}
	return state_open(sd, state_dir, uuid, msg, msglen);
}

/* "atrestfs trust [--state-dir D] DIR", the command that accepts it. */
static void trust_cmd(const char *dir, const char *state_dir, char *buf,
		      size_t len)
{
	snprintf(buf, len, "atrestfs trust %s%s%s%s",
		 state_dir ? "--state-dir " : "", state_dir ? state_dir : "",
		 state_dir ? " " : "", dir);
}

/*
 * A refusal, once: on stderr and, for a detached mount (@log), as the
 * daemon would log it (syslog, facility daemon), where fstab and systemd
 * mounts are looked into.  In the foreground stderr is that log.
 */
static void refuse(bool log, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void refuse(bool log, const char *fmt, ...)
{
	char line[2 * KEYPROV_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	cli_err("%s", line);
	if (log) {
		openlog("atrestfs", LOG_PID, LOG_DAEMON);
		syslog(LOG_ERR, "%s", line);
		closelog();
	}
}

int cli_rollback_check(const char *dir, const char *state_dir,
		       const struct vol_config *cfg, const struct kek *kek,
		       int flags)
{
	char msg[KEYPROV_MSG_MAX] = "", trust[PATH_MAX + 64];
	bool log = flags & CLI_RB_LOG;
	struct confgen_seen seen;
	struct state_dir sd;
	int err, ret = 0;

	trust_cmd(dir, state_dir, trust, sizeof(trust));
	err = cli_state_open(dir, state_dir, cfg->uuid, &sd, msg, sizeof(msg));
	if (err == -EPERM) {
		refuse(log, "%s: %s", dir, msg);
		return EXIT_FAIL;
	}
	/* No place to remember anything: nothing to check against. */
	if (err) {
		fprintf(stderr, "atrestfs: warning: an older %s/%s cannot be "
			"told from the newest: %s (choose a state directory "
			"with --state-dir)\n", dir, VOL_CONF_NAME, msg);
		return 0;
	}
	err = confgen_check(&sd, cfg, kek, &seen, msg, sizeof(msg));
	switch (err) {
	case 0:
		if (*msg)
			cli_warn(msg);
		if (seen.err == -ENOENT && (flags & CLI_RB_NOTICE) &&
		    !cli_quiet)
			fprintf(stderr, "atrestfs: notice: first use of %s on "
				"this machine: from now on an older copy of "
				"its %s is refused here (generation %u "
				"recorded in %s)\n", dir, VOL_CONF_NAME,
				cfg->generation, sd.path);
		break;
	case -ESTALE:
		refuse(log, "%s: %s: an older copy of the config was put "
		       "back. If that is what you did, run '%s'", dir, msg,
		       trust);
		ret = EXIT_VOLUME;
		break;
	case -EBADMSG:
		refuse(log, "%s: %s, so an older %s cannot be told from the "
		       "newest. If you trust %s/%s as it is, run '%s'", dir,
		       msg, VOL_CONF_NAME, dir, VOL_CONF_NAME, trust);
		ret = EXIT_VOLUME;
		break;
	default:
		refuse(log, "%s: %s", dir, *msg ? msg : strerror(-err));
		ret = EXIT_FAIL;
	}
	state_close(&sd);
	return ret;
}

void cli_rollback_record(const char *dir, const char *state_dir,
			 const struct vol_config *cfg, const struct kek *kek)
{
	char msg[KEYPROV_MSG_MAX] = "";
	struct confgen_seen seen;
	struct state_dir sd;
	int err;

	err = cli_state_open(dir, state_dir, cfg->uuid, &sd, msg, sizeof(msg));
	if (!err) {
		err = confgen_check(&sd, cfg, kek, &seen, msg, sizeof(msg));
		state_close(&sd);
	}
	/* The store is made: what is left is to say it is not recorded. */
	if (err || *msg)
		fprintf(stderr, "atrestfs: warning: generation %u of %s/%s is "
			"not recorded on this machine: %s\n", cfg->generation,
			dir, VOL_CONF_NAME, msg);
}
