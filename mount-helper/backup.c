// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mount-helper/backup.c - "atrestfs keyslot export|import": a backup
 * of the wrapped keys in a file of the user's, and the keyslots it holds
 * brought back; and this machine's record of the last export, which
 * "keyslot purge" asks for before it destroys a keyslot.  The volume is
 * unlocked and its config verified by cmd_keyslot.c before any of this.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

bool cli_backup_covers(const char *dir, const char *state_dir,
		       const struct vol_config *cfg, const struct kek *kek,
		       const struct vol_keyslot *ks)
{
	char msg[KEYPROV_MSG_MAX] = "", body[STATE_RECORD_MAX];
	struct state_dir sd;
	int err;

	err = cli_state_open(dir, state_dir, cfg->uuid, &sd, msg, sizeof(msg));
	if (err) {
		cli_err("%s", msg);
		return false;
	}
	err = state_lock(&sd);
	if (!err)
		err = state_get(&sd, kek, BACKUP_RECORD, body, sizeof(body), msg,
				sizeof(msg));
	state_close(&sd);
	/* None is the usual case: purge says what to do. */
	if (err && err != -ENOENT)
		cli_err("%s", *msg ? msg : strerror(-err));
	return !err && volkey_backup_covers(body, kek, ks);
}

/* Record the export of @cfg on this machine; warn if it cannot. */
static void record_export(const char *dir, const char *state_dir,
			  const struct vol_config *cfg, const struct kek *kek)
{
	char msg[KEYPROV_MSG_MAX] = "", body[STATE_RECORD_MAX];
	struct state_dir sd;
	int err;

	err = volkey_backup_body(cfg, kek, body, sizeof(body));
	if (!err)
		err = cli_state_open(dir, state_dir, cfg->uuid, &sd, msg,
				     sizeof(msg));
	if (err)
		goto out;
	err = state_lock(&sd);
	if (!err)
		err = state_put(&sd, kek, BACKUP_RECORD, body, msg, sizeof(msg));
	state_close(&sd);
out:
	/* The export is written: without the record, purge asks for --force. */
	if (err)
		cli_warn(*msg ? msg : "cannot record the export on this "
			 "machine: keyslot purge will ask for --force");
}

/* Write @text to the new @file, mode 0600, synced: 0 or an exit code. */
static int write_new(const char *file, const char *text)
{
	size_t len = strlen(text);
	int fd, err;

	fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0) {
		err = errno;
		cli_err("cannot create %s: %s%s", file, strerror(err),
			err == EEXIST ? " (an export never replaces a file: "
			"choose another name)" : "");
		return EXIT_FAIL;
	}
	err = write(fd, text, len) == (ssize_t)len && !fsync(fd) ? 0 : errno;
	if (close(fd) && !err)
		err = errno;
	if (err) {
		cli_err("cannot write %s: %s", file, strerror(err));
		unlink(file);
		return EXIT_FAIL;
	}
	return 0;
}

int cli_keyslot_export(const char *dir, const char *state_dir,
		       const struct cli_keyopts *o, const char *file,
		       const struct vol_config *cfg, const struct kek *kek)
{
	char msg[KEYPROV_MSG_MAX] = "", *text;
	unsigned int i;
	int ret;

	/* It would go wherever the volume goes, and survive its destroy. */
	if (cli_in_volume(o, file)) {
		cli_err("%s is inside the volume %s: an export kept there goes "
			"with it; write it elsewhere", file, dir);
		return EXIT_USAGE;
	}
	text = volkey_export_text(cfg, kek);
	if (!text) {
		cli_err("out of memory");
		return EXIT_FAIL;
	}
	ret = write_new(file, text);
	free(text);
	if (ret)
		return ret;
	for (i = 0; i < cfg->nslots; i++)
		if (volkey_audit(cfg, "keyslot_export", "keyslot_export",
				 &cfg->slots[i], 0, msg, sizeof(msg)))
			cli_err("%s", msg);
	record_export(dir, state_dir, cfg, kek);
	cli_say("Exported %u keyslot%s of %s to %s\n", cfg->nslots,
		cfg->nslots == 1 ? "" : "s", dir, file);
	return EXIT_OK;
}

/* The export @file, NUL-terminated (caller frees), or NULL (said). */
static char *read_export(const char *file, size_t *len)
{
	struct stat st;
	char *text = NULL;
	ssize_t n = -1;
	int fd;

	fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    st.st_size > VOL_CONF_MAX) {
		cli_err("%s: %s", file, fd < 0 ? strerror(errno) :
			"not a regular file of at most 65536 bytes");
		goto out;
	}
	text = malloc((size_t)st.st_size + 1);
	if (text)
		n = read(fd, text, (size_t)st.st_size);
	if (n != st.st_size) {
		cli_err("cannot read %s", file);
		free(text);
		text = NULL;
		goto out;
	}
	text[n] = '\0';
	*len = (size_t)n;
out:
	if (fd >= 0)
		close(fd);
	return text;
}

/* Audit and name each keyslot number in @added, once committed. */
static void say_imported(const char *dir, const struct vol_config *cfg,
			 uint32_t added)
{
	char msg[KEYPROV_MSG_MAX] = "";
	const struct vol_keyslot *ks;
	unsigned int i;

	for (i = 0; i < cfg->nslots; i++) {
		ks = &cfg->slots[i];
		if (!(added & (1u << ks->number)))
			continue;
		if (volkey_audit(cfg, "keyslot_import", "keyslot_import", ks,
				 0, msg, sizeof(msg)))
			cli_err("%s", msg);
		cli_say("Imported keyslot %u (%s, key %s, %s) into %s\n",
			ks->number, ks->provider, ks->key_id,
			cli_slot_state(ks), dir);
	}
}

int cli_keyslot_import(const char *dir, const char *state_dir, int dirfd,
		       const char *file, struct vol_config *cfg,
		       const struct kek *kek)
{
	char msg[KEYPROV_MSG_MAX] = "", *text;
	struct vol_config exp;
	uint32_t added;
	size_t len = 0;
	int ret = EXIT_VOLUME;

	text = read_export(file, &len);
	if (!text)
		return EXIT_USAGE;
	if (volkey_import_check(cfg, kek, text, len, &exp, msg, sizeof(msg)) ||
	    volkey_import_merge(cfg, &exp, &added, msg, sizeof(msg))) {
		cli_err("%s: %s", file, msg);
		goto out;
	}
	if (!added) {
		cli_say("Nothing to import: every keyslot of %s is in %s\n",
			file, dir);
		ret = EXIT_OK;
		goto out;
	}
	if (cli_commit(dir, state_dir, dirfd, cfg, kek)) {
		ret = EXIT_FAIL;
		goto out;
	}
	say_imported(dir, cfg, added);
	ret = EXIT_OK;
out:
	free(text);
	return ret;
}
