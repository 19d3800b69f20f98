// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mount-helper/rollback.c - an older atrestfs.conf or file refused, as
 * the commands report it: open this machine's state directory for the
 * volume, check or record the config's generation (volume/confgen.c),
 * hand the record of its files to the daemon (fs/filestate.c), and say
 * what happened and what to run.
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

int cli_state_check(const char *dir, const char *state_dir, char *msg,
		    size_t msglen)
{
	char base[STATE_PATH_MAX], rbase[PATH_MAX], rdir[PATH_MAX];
	size_t n;
	int err;

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
	return 0;
}

int cli_state_open(const char *dir, const char *state_dir,
		   const uint8_t uuid[VOL_UUID_LEN], struct state_dir *sd,
		   char *msg, size_t msglen)
{
	int err;

	sd->fd = -1;
	err = cli_state_check(dir, state_dir, msg, msglen);
	if (err)
		return err;
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
	if (log)
		atr_log_daemon(LOG_ERR, "%s", line);
}

/* @rb: keep the state directory open there, and leave the notice to it. */
static int check(const char *dir, const char *state_dir,
		 const struct vol_config *cfg, const struct kek *kek,
		 int flags, struct cli_rb *rb)
{
	char msg[KEYPROV_MSG_MAX] = "", trust[PATH_MAX + 64];
	bool log = flags & CLI_RB_LOG;
	struct confgen_seen seen;
	struct state_dir sd;
	int err, ret = 0;

	if (rb) {
		rb->sd.fd = -1;
		rb->cfg_first = false;
	}
	trust_cmd(dir, state_dir, trust, sizeof(trust));
	err = cli_state_open(dir, state_dir, cfg->uuid, &sd, msg, sizeof(msg));
	if (err == -EPERM) {
		refuse(log, "%s: %s", dir, msg);
		return EXIT_FAIL;
	}
	/* No place to remember anything: nothing to check against. */
	if (err) {
		fprintf(stderr, "atrestfs: warning: an older %s/%s%s cannot "
			"be told from the newest: %s (choose a state directory "
			"with --state-dir)\n", dir, VOL_CONF_NAME,
			rb ? ", or file," : "", msg);
		return 0;
	}
	err = confgen_check(&sd, cfg, kek, &seen, msg, sizeof(msg));
	switch (err) {
	case 0:
		if (*msg)
			cli_warn(msg);
		if (rb) {
			rb->cfg_first = seen.err == -ENOENT;
			rb->sd = sd;
			return 0;
		}
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

int cli_rollback_check(const char *dir, const char *state_dir,
		       const struct vol_config *cfg, const struct kek *kek,
		       int flags)
{
	return check(dir, state_dir, cfg, kek, flags, NULL);
}

int cli_rollback_mount(const char *dir, const char *state_dir,
		       const struct vol_config *cfg, const struct kek *kek,
		       int flags, struct cli_rb *rb)
{
	return check(dir, state_dir, cfg, kek, flags, rb);
}

int cli_rollback_files(const char *dir, const char *state_dir,
		       const struct vol_config *cfg, struct cli_rb *rb,
		       struct atr_mount *m, int flags)
{
	char msg[KEYPROV_MSG_MAX] = "", trust[PATH_MAX + 64];
	bool log = flags & CLI_RB_LOG, quiet = cli_quiet ||
		   !(flags & CLI_RB_NOTICE);
	int err, ret = 0;

	if (rb->sd.fd < 0)
		return 0;	/* warned: nothing to check against */
	trust_cmd(dir, state_dir, trust, sizeof(trust));
	err = atr_mount_state(m, rb->sd.fd, rb->sd.path, msg, sizeof(msg));
	if (err == -EBADMSG) {
		refuse(log, "%s: %s. If you trust its files as they are now, "
		       "run '%s'", dir, msg, trust);
		ret = EXIT_VOLUME;
	} else if (err < 0) {
		refuse(log, "%s: %s", dir, *msg ? msg : strerror(-err));
		ret = EXIT_FAIL;
	} else if (quiet) {
		;
	} else if (rb->cfg_first && err == 1) {
		fprintf(stderr, "atrestfs: notice: first use of %s on this "
			"machine: from now on an older copy of its %s, or of "
			"a file in it, is refused here (generation %u and the "
			"files' versions recorded in %s)\n", dir,
			VOL_CONF_NAME, cfg->generation, rb->sd.path);
	} else if (rb->cfg_first) {
		fprintf(stderr, "atrestfs: notice: first use of %s on this "
			"machine: from now on an older copy of its %s is "
			"refused here (generation %u recorded in %s)\n", dir,
			VOL_CONF_NAME, cfg->generation, rb->sd.path);
	} else if (err == 1) {
		fprintf(stderr, "atrestfs: notice: this machine had no record "
			"of the files of %s (%s/%s is new): each is accepted as "
			"it is now, and from now on an older copy of one is "
			"refused here\n", dir, rb->sd.path, ATR_FILES_NAME);
	}
	state_close(&rb->sd);
	return ret;
}

void cli_rollback_files_reset(const char *dir, const char *state_dir,
			      const struct vol_config *cfg)
{
	char msg[KEYPROV_MSG_MAX] = "";
	struct state_dir sd;
	int err;

	/* No state directory: cli_rollback_record() has said so. */
	if (cli_state_open(dir, state_dir, cfg->uuid, &sd, msg, sizeof(msg)))
		return;
	err = atr_files_reset(sd.fd);
	if (err)
		fprintf(stderr, "atrestfs: warning: the versions of the files "
			"of %s are not recorded on this machine: %s/%s: %s\n",
			dir, sd.path, ATR_FILES_NAME, strerror(-err));
	state_close(&sd);
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
