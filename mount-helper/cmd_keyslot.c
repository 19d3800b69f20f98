// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mount-helper/cmd_keyslot.c - "atrestfs keyslot list|add|remove|..."
 * (the keyslots' lifecycle, export and import), "atrestfs passwd" and
 * "atrestfs config": change what atrestfs.conf holds.
 * Every change unlocks the KEK through an existing keyslot (the config can
 * only be trusted, and re-MACed, with it), edits the config, re-MACs and
 * atomically replaces atrestfs.conf: no file is touched, so the cost does
 * not depend on the volume's size.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../crypto/codec.h"
#include "cli.h"

struct ks_args {
	struct cli_keyopts unlock;	/* how to open an existing keyslot */
	struct cli_keyopts add;		/* the new keyslot's provider */
	const char *new_provider;
	const char *dir;
	const char *state_dir;		/* --state-dir; NULL: the default */
	const char *verb;
	long index;			/* keyslot number */
	const char *arg;		/* expire's date, label's text, a file */
	const char *label;		/* add --label */
	bool force;
	/* config: the changes asked for */
	struct vol_options set;		/* new audit file, uids, gids */
	bool no_audit, no_policy, changes;
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: atrestfs keyslot list [--json] CIPHERDIR\n"
"       atrestfs keyslot add [OPTIONS] --new-provider NAME CIPHERDIR\n"
"       atrestfs keyslot disable|enable|remove|restore|purge [OPTIONS] CIPHERDIR N\n"
"       atrestfs keyslot expire [OPTIONS] CIPHERDIR N DATE|never\n"
"       atrestfs keyslot label [OPTIONS] CIPHERDIR N TEXT|\"\"\n"
"       atrestfs keyslot export|import [OPTIONS] CIPHERDIR FILE\n"
"       atrestfs passwd [OPTIONS] CIPHERDIR\n"
"       atrestfs config [OPTIONS] CIPHERDIR\n"
"A volume holds up to %d keyslots, each a copy of its key wrapped by one\n"
"key provider; any one of them mounts it.  A keyslot keeps its number N.\n"
"disable and remove (a soft delete) stop a keyslot from opening the volume\n"
"until enable or restore; expire does so from DATE (UTC, YYYY-MM-DD or\n"
"YYYY-MM-DDTHH:MM:SSZ); purge destroys a removed keyslot for good, once an\n"
"export holds it.  export writes the wrapped keys to FILE (useless without\n"
"a root key), import brings back those the volume lacks.  passwd rewraps\n"
"the passphrase keyslot that the current passphrase opens (with --slot N,\n"
"only keyslot N) under a new passphrase, as cryptsetup luksChangeKey does;\n"
"the other keyslots stay as they are.\n"
"\n"
"Unlocking with an existing keyslot (as for atrestfs mount):\n"
"  -k, --keyfile PATH, -P, --provider NAME, -S, --slot N,\n"
"  -O, --provider-option KEY=VALUE, --passfile FILE, --extpass CMD,\n"
"  --state-dir DIR (where this machine remembers the newest config)\n"
"The new keyslot:\n"
"  -n, --new-provider NAME          its key provider\n"
"  -N, --new-option KEY=VALUE       a setting for it (repeatable)\n"
"      --new-keyfile PATH           keyfile: the key file (made if absent)\n"
"      --new-passfile FILE          passphrase from FILE (-: stdin)\n"
"      --new-extpass CMD            passphrase from CMD's standard output\n"
"      --label TEXT                 its label\n"
"Lifecycle:\n"
"  -f, --force                      disable, remove or expire the last usable\n"
"                                   keyslot; purge without an export\n"
"Audit log and access policy (config; without these, it shows them):\n"
"      --audit-file PATH            audit to PATH (absolute), JSON lines\n"
"      --audit-syslog               audit to syslog as well\n"
"      --no-audit                   stop auditing (before the above)\n"
"      --allow-uid N                serve only these uids (repeatable;\n"
"      --allow-gid N                and groups), replacing the list\n"
"      --no-policy                  serve everyone again\n"
"Listing:\n"
"  -j, --json                       list as one JSON object, for scripts\n"
"  -q, --quiet                      print nothing on success\n"
"  -h, --help                       this text\n", VOL_MAX_SLOTS);
}

const char *cli_slot_state(const struct vol_keyslot *ks)
{
	if (ks->state == VOL_SLOT_DISABLED)
		return "disabled";
	if (ks->state == VOL_SLOT_REMOVED)
		return "removed";
	return vol_slot_active(ks, (int64_t)time(NULL)) ? "enabled" : "expired";
}

void cli_keyslots_json(FILE *f, const struct vol_config *cfg)
{
	char when[VOL_TIME_LEN + 1];
	const struct vol_keyslot *ks;
	unsigned int i, j;

	fputc('[', f);
	for (i = 0; i < cfg->nslots; i++) {
		ks = &cfg->slots[i];
		fprintf(f, "%s{\"slot\":%u,\"provider\":", i ? "," : "",
			ks->number);
		cli_json_str(f, ks->provider);
		fprintf(f, ",\"key_id\":");
		cli_json_str(f, ks->key_id);
		fprintf(f, ",\"key_version\":%u,\"algorithm\":", ks->key_version);
		cli_json_str(f, ks->algorithm);
		fprintf(f, ",\"params\":{");
		for (j = 0; j < ks->nparams; j++) {
			fprintf(f, "%s", j ? "," : "");
			cli_json_str(f, ks->params[j].key);
			fputc(':', f);
			cli_json_str(f, ks->params[j].value);
		}
		fprintf(f, "},\"label\":");
		cli_json_str(f, ks->label);
		fprintf(f, ",\"state\":\"%s\",\"expires\":", cli_slot_state(ks));
		if (ks->expires) {
			vol_time_str(ks->expires, when);
			fprintf(f, "\"%s\"", when);
		} else {
			fprintf(f, "null");
		}
		fputc('}', f);
	}
	fputc(']', f);
}

void cli_keyslot_line(FILE *f, const struct vol_keyslot *ks)
{
	char when[VOL_TIME_LEN + 1];
	unsigned int j;

	fprintf(f, "%u: provider=%s key_id=%s key_version=%u algorithm=%s",
		ks->number, ks->provider, ks->key_id, ks->key_version,
		ks->algorithm);
	for (j = 0; j < ks->nparams; j++)
		fprintf(f, " %s=%s", ks->params[j].key, ks->params[j].value);
	if (strcmp(cli_slot_state(ks), "enabled"))
		fprintf(f, " state=%s", cli_slot_state(ks));
	if (ks->expires) {
		vol_time_str(ks->expires, when);
		fprintf(f, " expires=%s", when);
	}
	if (ks->label[0])
		fprintf(f, " label=\"%s\"", ks->label);
	fputc('\n', f);
}

static int list(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_SHOW_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	char uuid[VOL_UUID_STR_LEN + 1];
	struct vol_config cfg;
	unsigned int i;
	int ret, json;
	const char *dir;

	ret = cli_show_args(argc, argv, opts, usage, "keyslot list",
			    "CIPHERDIR", &json);
	if (ret >= 0)
		return ret;
	dir = argv[optind];
	ret = cli_load_unverified(dir, &cfg);
	if (ret)
		return ret;
	vol_uuid_str(cfg.uuid, uuid);
	if (json) {
		printf("{\"volume\":\"%s\",\"authenticated\":false,"
		       "\"keyslots\":", uuid);
		cli_keyslots_json(stdout, &cfg);
		printf("}\n");
		return EXIT_OK;
	}
	printf("volume %s: %u keyslot%s (not yet authenticated: mount "
	       "checks the MAC)\n", uuid, cfg.nslots, cfg.nslots == 1 ? "" : "s");
	for (i = 0; i < cfg.nslots; i++)
		cli_keyslot_line(stdout, &cfg.slots[i]);
	return EXIT_OK;
}

static int unlock(struct ks_args *a, int *dirfd, struct vol_config *cfg,
		  struct kek **kek, unsigned int *slot)
{
	int ret;

	*dirfd = open(a->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*dirfd < 0) {
		cli_err("%s: %s", a->dir, strerror(errno));
		return EXIT_VOLUME;
	}
	/* Every caller stores: no other command may store in between. */
	ret = cli_lock(*dirfd);
	if (ret) {
		cli_err("%s: cannot lock the volume: %s", a->dir,
			strerror(-ret));
		close(*dirfd);
		return EXIT_FAIL;
	}
	a->unlock.state_dir = a->state_dir;
	ret = cli_unlock(*dirfd, a->dir, &a->unlock, cfg, kek, slot);
	if (ret)
		close(*dirfd);
	return ret;
}

int cli_commit(const char *dir, const char *state_dir, int dirfd,
	       struct vol_config *cfg, const struct kek *kek)
{
	char msg[KEYPROV_MSG_MAX] = "";
	int err = volkey_commit(dirfd, cfg, kek, msg, sizeof(msg));

	if (err) {
		cli_err("%s: %s", dir, *msg ? msg : strerror(-err));
		return err;
	}
	if (*msg)
		cli_warn(msg);
	cli_rollback_record(dir, state_dir, cfg, kek);
	return 0;
}

static int commit(const struct ks_args *a, int dirfd, struct vol_config *cfg,
		  const struct kek *kek)
{
	return cli_commit(a->dir, a->state_dir, dirfd, cfg, kek);
}

/*
 * The keyslot that already holds @ks's root key, or -1.  A passphrase
 * keyslot's key ID names the keyslot, not its passphrase (which no ID
 * can show), so it never matches.
 */
static int holder(const struct vol_config *cfg, const struct vol_keyslot *ks,
		  unsigned int skip)
{
	unsigned int i;

	if (!strcmp(ks->provider, "passphrase"))
		return -1;
	for (i = 0; i < cfg->nslots; i++)
		if (i != skip && !strcmp(cfg->slots[i].provider, ks->provider) &&
		    !strcmp(cfg->slots[i].key_id, ks->key_id))
			return (int)i;
	return -1;
}

/*
 * Wrap into cfg->slots[at] (at == nslots appends; else a rewrap keeping
 * the keyslot's number, label, state and expiry), then commit.
 */
static int put_slot(struct ks_args *a, int dirfd, struct vol_config *cfg,
		    const struct kek *kek, unsigned int at)
{
	const bool add = at == cfg->nslots;
	char msg[KEYPROV_MSG_MAX] = "";
	struct volkey_src src;
	struct vol_keyslot ks;
	int err, i;

	cli_keysrc(&a->add, &src);
	cli_keyopts_volume(&a->add, a->dir);
	err = volkey_wrap_slot(&src, a->new_provider, cfg, kek,
			       add ? "keyslot_add" : "passwd",
			       add ? NULL : &cfg->slots[at], &ks, msg,
			       sizeof(msg));
	if (err) {
		cli_err("%s", *msg ? msg : strerror(-err));
		return EXIT_KEY;
	}
	i = holder(cfg, &ks, at);
	if (i >= 0) {
		cli_err("key %s is already in keyslot %u of %s (%s): a second "
			"keyslot for it would open nothing more%s", ks.key_id,
			cfg->slots[i].number, a->dir, cli_slot_state(&cfg->slots[i]),
			vol_slot_active(&cfg->slots[i], (int64_t)time(NULL)) ?
			"" : "; enable, restore or extend that one instead");
		return EXIT_KEY;
	}
	if (add && a->label)
		snprintf(ks.label, sizeof(ks.label), "%s", a->label);
	cfg->slots[at] = ks;
	if (add)
		cfg->nslots++;
	return commit(a, dirfd, cfg, kek) ? EXIT_FAIL : 0;
}

/* Without changes, config shows the settings: read, not yet authenticated. */
static int show_config(const char *dir)
{
	const struct vol_options *o;
	struct vol_config cfg;
	unsigned int i;
	int ret;

	ret = cli_load_unverified(dir, &cfg);
	if (ret)
		return ret;
	o = &cfg.opt;
	printf("audit_file=%s\naudit_syslog=%s\nallow_uids=", o->audit_file,
	       o->audit_syslog ? "yes" : "no");
	for (i = 0; i < o->nuids; i++)
		printf("%s%u", i ? "," : "", o->allow_uids[i]);
	printf("\nallow_gids=");
	for (i = 0; i < o->ngids; i++)
		printf("%s%u", i ? "," : "", o->allow_gids[i]);
	printf("\n(not yet authenticated: mount checks the MAC)\n");
	return EXIT_OK;
}

static bool same_audit(const struct vol_options *x, const struct vol_options *y)
{
	return !strcmp(x->audit_file, y->audit_file) &&
	       x->audit_syslog == y->audit_syslog;
}

/*
 * Apply the --audit-* / --allow-* / --no-* changes, re-MAC and store.  The
 * change is audited to the old destination (trusted: its MAC was just
 * verified) before it may stop listening, and to a new one after.
 */
static int change_config(struct ks_args *a, int dirfd, struct vol_config *cfg,
			 const struct kek *kek, unsigned int used)
{
	char msg[KEYPROV_MSG_MAX] = "";
	struct vol_options next = cfg->opt, old = cfg->opt;

	if (a->no_audit) {
		next.audit_file[0] = '\0';
		next.audit_syslog = false;
	}
	if (a->set.audit_file[0])
		memcpy(next.audit_file, a->set.audit_file, sizeof(next.audit_file));
	if (a->set.audit_syslog)
		next.audit_syslog = true;
	if (a->no_policy)
		next.nuids = next.ngids = 0;
	if (a->set.nuids) {
		memcpy(next.allow_uids, a->set.allow_uids, sizeof(next.allow_uids));
		next.nuids = a->set.nuids;
	}
	if (a->set.ngids) {
		memcpy(next.allow_gids, a->set.allow_gids, sizeof(next.allow_gids));
		next.ngids = a->set.ngids;
	}
	if (volconf_options_check(&next, msg, sizeof(msg))) {
		cli_err("%s", msg);
		return EXIT_USAGE;
	}
	/* Stored, a log that cannot be opened would keep the volume shut. */
	if (!same_audit(&old, &next) &&
	    volkey_audit_check(&next, cfg->uuid, msg, sizeof(msg))) {
		cli_err("--audit-file: %s; nothing was changed (make its "
			"directory first, or choose another path)", msg);
		return EXIT_USAGE;
	}
	/* The old log may be what is broken: this must not stop the fix. */
	if (volkey_audit(cfg, "config_change", "config", &cfg->slots[used],
			 0, msg, sizeof(msg)))
		cli_warn(msg);
	cfg->opt = next;
	if (commit(a, dirfd, cfg, kek))
		return EXIT_FAIL;
	if (!same_audit(&old, &next) &&
	    volkey_audit(cfg, "config_change", "config", &cfg->slots[used],
			 0, msg, sizeof(msg)))
		cli_warn(msg);
	cli_say("Changed the audit log and access policy of %s\n", a->dir);
	return EXIT_OK;
}

/* Keyslots other than @skip that may unlock now. */
static unsigned int others_active(const struct vol_config *cfg,
				  unsigned int skip, int64_t now)
{
	unsigned int i, n = 0;

	for (i = 0; i < cfg->nslots; i++)
		n += i != skip && vol_slot_active(&cfg->slots[i], now);
	return n;
}

/* expire's DATE: "never" (0), YYYY-MM-DD (its midnight, UTC) or the full form. */
static int parse_date(const char *s, int64_t *t)
{
	char full[VOL_TIME_LEN + 1];

	if (!strcmp(s, "never")) {
		*t = 0;
		return 0;
	}
	if (strlen(s) == 10) {
		snprintf(full, sizeof(full), "%sT00:00:00Z", s);
		s = full;
	}
	return vol_time_parse(s, t);
}

/*
 * Apply verb @a->verb (disable, enable, remove, restore, expire, label)
 * to @ks: 0 with its audit event in *@event, or an exit code (said).
 */
static int change_slot(const struct ks_args *a, struct vol_keyslot *ks,
		       const char **event)
{
	const char *v = a->verb;

	if (!strcmp(v, "expire")) {
		*event = "keyslot_expire";
		if (!parse_date(a->arg, &ks->expires))
			return 0;
		cli_err("expire %s: want a UTC date YYYY-MM-DD, a time "
			"YYYY-MM-DDTHH:MM:SSZ (years 1970 to 9999), or never",
			a->arg);
		return EXIT_USAGE;
	}
	if (!strcmp(v, "label")) {
		*event = "keyslot_label";
		if (*a->arg && !str_valid(a->arg, VOL_NAME_MAX)) {
			cli_err("label '%s': want at most %d printable "
				"characters other than '\"' and '\\'", a->arg,
				VOL_NAME_MAX);
			return EXIT_USAGE;
		}
		snprintf(ks->label, sizeof(ks->label), "%s", a->arg);
		return 0;
	}
	/* The state changes: removed ones only through restore. */
	if (ks->state == VOL_SLOT_REMOVED && strcmp(v, "restore")) {
		cli_err("keyslot %u of %s is removed%s", ks->number, a->dir,
			strcmp(v, "enable") ? " already" :
			": 'atrestfs keyslot restore' brings it back");
		return EXIT_USAGE;
	}
	if (!strcmp(v, "restore") && ks->state != VOL_SLOT_REMOVED) {
		cli_err("keyslot %u of %s is not removed (it is %s)",
			ks->number, a->dir, cli_slot_state(ks));
		return EXIT_USAGE;
	}
	ks->state = !strcmp(v, "disable") ? VOL_SLOT_DISABLED :
		    !strcmp(v, "remove") ? VOL_SLOT_REMOVED : VOL_SLOT_ENABLED;
	*event = !strcmp(v, "disable") ? "keyslot_disable" :
		 !strcmp(v, "remove") ? "keyslot_remove" :
		 !strcmp(v, "enable") ? "keyslot_enable" : "keyslot_restore";
	return 0;
}

/* What lifecycle() did, in one line. */
static void say_changed(const struct ks_args *a, const struct vol_keyslot *ks)
{
	char when[VOL_TIME_LEN + 1];
	const char *v = a->verb;

	if (!strcmp(v, "expire") && ks->expires) {
		vol_time_str(ks->expires, when);
		cli_say("Keyslot %u of %s expires at %s\n", ks->number, a->dir,
			when);
	} else if (!strcmp(v, "expire")) {
		cli_say("Keyslot %u of %s no longer expires\n", ks->number,
			a->dir);
	} else if (!strcmp(v, "label")) {
		cli_say("Labelled keyslot %u of %s \"%s\"\n", ks->number,
			a->dir, ks->label);
	} else {
		cli_say("%s keyslot %u of %s%s\n", !strcmp(v, "disable") ?
			"Disabled" : !strcmp(v, "enable") ? "Enabled" :
			!strcmp(v, "remove") ? "Removed" : "Restored",
			ks->number, a->dir, !strcmp(v, "remove") ?
			" (until it is purged, restore brings it back)" : "");
	}
}

/*
 * A keyslot's lifecycle: disable, enable, remove, restore, expire, label.
 * Each is one commit and one audit line; the ones that leave no keyslot
 * able to mount the volume need --force.
 */
static int lifecycle(struct ks_args *a, int dirfd, struct vol_config *cfg,
		     const struct kek *kek, unsigned int at)
{
	char msg[KEYPROV_MSG_MAX] = "";
	struct vol_keyslot *ks = &cfg->slots[at], was = *ks;
	int64_t now = (int64_t)time(NULL);
	const char *event = NULL;
	int ret;

	ret = change_slot(a, ks, &event);
	if (ret)
		return ret;
	if (vol_slot_active(&was, now) && !vol_slot_active(ks, now) &&
	    !others_active(cfg, at, now) && !a->force) {
		cli_err("refusing to %s keyslot %u of %s: it is the last one "
			"that can mount the volume, which could then be opened "
			"only by reviving it with its own key; add or enable "
			"another keyslot first, or use --force", a->verb,
			ks->number, a->dir);
		return EXIT_VOLUME;
	}
	if (commit(a, dirfd, cfg, kek))
		return EXIT_FAIL;
	/* The step is the event: each verb makes one change. */
	if (volkey_audit(cfg, event, event, ks, 0, msg, sizeof(msg)))
		cli_err("%s", msg);
	say_changed(a, ks);
	return EXIT_OK;
}

/*
 * purge: the removed keyslot leaves the config for good.  Without an
 * export that holds it (this machine's record of one), --force.
 */
static int purge(struct ks_args *a, int dirfd, struct vol_config *cfg,
		 const struct kek *kek, unsigned int at)
{
	char msg[KEYPROV_MSG_MAX] = "";
	struct vol_keyslot gone = cfg->slots[at];
	unsigned int i;

	if (gone.state != VOL_SLOT_REMOVED) {
		cli_err("keyslot %u of %s is %s, not removed: 'atrestfs keyslot "
			"remove %s %u' first (purge destroys removed keyslots "
			"only)", gone.number, a->dir, cli_slot_state(&gone), a->dir,
			gone.number);
		return EXIT_USAGE;
	}
	if (cfg->nslots == 1) {
		cli_err("refusing to purge keyslot %u of %s: it is the volume's "
			"only keyslot (restore it, or destroy the volume)",
			gone.number, a->dir);
		return EXIT_VOLUME;
	}
	if (!a->force && !cli_backup_covers(a->dir, a->state_dir, cfg, kek,
					    &gone)) {
		cli_err("refusing to purge keyslot %u of %s: no export made on "
			"this machine holds it, so it could never be brought "
			"back; 'atrestfs keyslot export %s FILE' first, or use "
			"--force", gone.number, a->dir, a->dir);
		return EXIT_VOLUME;
	}
	for (i = at; i + 1 < cfg->nslots; i++)
		cfg->slots[i] = cfg->slots[i + 1];
	cfg->nslots--;
	if (commit(a, dirfd, cfg, kek))
		return EXIT_FAIL;
	if (volkey_audit(cfg, "keyslot_purge", "keyslot_purge", &gone, 0,
			 msg, sizeof(msg)))
		cli_err("%s", msg);
	cli_say("Purged keyslot %u from %s\n", gone.number, a->dir);
	return EXIT_OK;
}

static int run(struct ks_args *a)
{
	struct vol_config cfg;
	struct kek *kek = NULL;
	unsigned int used = 0;
	int dirfd, ret, at = -1;

	/* Reviving a keyslot may use its own key (docs: not a revocation). */
	if (!strcmp(a->verb, "enable") || !strcmp(a->verb, "restore") ||
	    !strcmp(a->verb, "expire"))
		a->unlock.inactive_ok = a->index >= 0 &&
					a->index < VOL_MAX_SLOTS ?
					1u << a->index : 0;
	ret = unlock(a, &dirfd, &cfg, &kek, &used);
	if (ret)
		return ret;
	/* A change made to an older config would bury the newer one. */
	ret = cli_rollback_check(a->dir, a->state_dir, &cfg, kek,
				 CLI_RB_NOTICE);
	if (ret)
		goto out;
	if (a->index >= 0) {
		at = a->index < VOL_MAX_SLOTS ?
		     vol_slot_find(&cfg, (unsigned int)a->index) : -1;
		if (at < 0) {
			cli_err("volume %s has no keyslot %ld ('atrestfs keyslot "
				"list %s' shows them)", a->dir, a->index, a->dir);
			ret = EXIT_USAGE;
			goto out;
		}
	}
	if (!strcmp(a->verb, "add")) {
		if (cfg.nslots == VOL_MAX_SLOTS) {
			cli_err("volume %s already has %d keyslots, the most it "
				"can hold (purge a removed one first)", a->dir,
				VOL_MAX_SLOTS);
			ret = EXIT_VOLUME;
			goto out;
		}
		ret = put_slot(a, dirfd, &cfg, kek, cfg.nslots);
		if (!ret)
			cli_say("Added keyslot %u (%s, key %s) to %s\n",
				cfg.slots[cfg.nslots - 1].number,
				a->new_provider,
				cfg.slots[cfg.nslots - 1].key_id, a->dir);
	} else if (!strcmp(a->verb, "passwd")) {
		if (strcmp(cfg.slots[used].provider, "passphrase")) {
			cli_err("keyslot %u of %s is not a passphrase keyslot "
				"(it is %s)", cfg.slots[used].number, a->dir,
				cfg.slots[used].provider);
			ret = EXIT_USAGE;
			goto out;
		}
		ret = put_slot(a, dirfd, &cfg, kek, used);
		if (!ret)
			cli_say("Changed the passphrase of keyslot %u of %s\n",
				cfg.slots[used].number, a->dir);
	} else if (!strcmp(a->verb, "config")) {
		ret = change_config(a, dirfd, &cfg, kek, used);
	} else if (!strcmp(a->verb, "purge")) {
		ret = purge(a, dirfd, &cfg, kek, (unsigned int)at);
	} else if (!strcmp(a->verb, "export")) {
		ret = cli_keyslot_export(a->dir, a->state_dir, &a->unlock,
					 a->arg, &cfg, kek);
	} else if (!strcmp(a->verb, "import")) {
		ret = cli_keyslot_import(a->dir, a->state_dir, dirfd, a->arg,
					 &cfg, kek);
	} else {
		ret = lifecycle(a, dirfd, &cfg, kek, (unsigned int)at);
	}
out:
	kek_free(kek);
	close(dirfd);
	return ret;
}

static int parse(struct ks_args *a, int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_UNLOCK_OPTIONS,
		{ "new-provider", required_argument, NULL, 'n' },
		{ "new-option", required_argument, NULL, 'N' },
		{ "new-keyfile", required_argument, NULL, 3 },
		{ "new-passfile", required_argument, NULL, 4 },
		{ "new-extpass", required_argument, NULL, 5 },
		{ "label", required_argument, NULL, 6 },
		{ "force", no_argument, NULL, 'f' },
		CLI_POLICY_OPTIONS,
		{ "state-dir", required_argument, NULL, CLI_OPT_STATE_DIR },
		{ "no-audit", no_argument, NULL, 8 },
		{ "no-policy", no_argument, NULL, 11 },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, err = 0;

	while ((c = getopt_long(argc, argv, CLI_UNLOCK_SHORT "n:N:fqh", opts,
				NULL)) != -1) {
		switch (cli_unlock_opt(&a->unlock, c, optarg)) {
		case 1:
			continue;
		case -1:
			return -EINVAL;
		}
		switch (cli_policy_opt(&a->set, c, optarg)) {
		case 1:
			a->changes = true;
			continue;
		case -1:
			return -EINVAL;
		}
		switch (c) {
		case CLI_OPT_STATE_DIR:
			if (cli_state_dir_opt(&a->state_dir, optarg))
				return -EINVAL;
			break;
		case 'n':
			a->new_provider = optarg;
			break;
		case 'N':
			err = cli_keyopts_add(&a->add, optarg);
			break;
		case 3:
			snprintf(a->add.keyfile, sizeof(a->add.keyfile), "%s",
				 optarg);
			break;
		case 4:
		case 5:
			err = cli_keyopts_secret(&a->add, c == 4 ? optarg : NULL,
						 c == 5 ? optarg : NULL);
			break;
		case 6:
			if (!str_valid(optarg, VOL_NAME_MAX) || !*optarg) {
				cli_err("--label '%s': want 1 to %d printable "
					"characters other than '\"' and '\\'",
					optarg, VOL_NAME_MAX);
				return -EINVAL;
			}
			a->label = optarg;
			break;
		case 'f':
			a->force = true;
			break;
		case 8:
			a->no_audit = true;
			a->changes = true;
			break;
		case 11:
			a->no_policy = true;
			a->changes = true;
			break;
		case 'q':
			cli_quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			return -EINVAL;
		}
		if (err) {
			cli_err("bad option value: %s", optarg);
			return err;
		}
	}
	return 0;
}

/*
 * passwd: before any prompt, say when there is no passphrase keyslot to
 * change (--slot N naming another kind, or none at all); unlocking would
 * only say that no keyslot of provider passphrase opened.  The config is
 * not yet authenticated here: it only picks the message.
 */
static int passwd_check(const struct ks_args *a)
{
	struct vol_config cfg;
	int slot = a->unlock.slot, at = -1, ret;
	unsigned int i;

	if (strcmp(a->unlock.provider, "passphrase"))
		return 0;		/* -P other: run() says what it opened */
	ret = cli_load_unverified(a->dir, &cfg);
	if (ret)
		return ret;
	if (slot >= 0)
		at = vol_slot_find(&cfg, (unsigned int)slot);
	if (slot >= 0 && at < 0) {
		cli_err("volume %s has no keyslot %d ('atrestfs keyslot list "
			"%s' shows them)", a->dir, slot, a->dir);
		return EXIT_USAGE;
	}
	if (at >= 0 && strcmp(cfg.slots[at].provider, "passphrase")) {
		cli_err("keyslot %d of %s is a %s keyslot, not a passphrase "
			"one: passwd changes passphrase keyslots only (atrestfs "
			"keyslot list %s shows them; a %s keyslot is replaced "
			"with keyslot add, then keyslot remove)", slot, a->dir,
			cfg.slots[at].provider, a->dir, cfg.slots[at].provider);
		return EXIT_USAGE;
	}
	for (i = 0; i < cfg.nslots; i++)
		if (!strcmp(cfg.slots[i].provider, "passphrase"))
			return 0;
	cli_err("volume %s has no passphrase keyslot to change (add one "
		"with: atrestfs keyslot add --new-provider passphrase %s)",
		a->dir, a->dir);
	return EXIT_USAGE;
}

/*
 * Say in one line which of @npos arguments are missing (@given were) or
 * that there are too many; @dir is the first, if given.
 */
static void missing_args(const char *verb, int given, int npos,
			 bool numbered, const char *dir)
{
	bool ks = strcmp(verb, "passwd") && strcmp(verb, "config");
	const char *pre = ks ? "keyslot " : "", *page = ks ? "keyslot" : verb;
	const char *what = !strcmp(verb, "expire") ? " DATE|never" :
			   !strcmp(verb, "label") ? " TEXT" : " FILE";

	if (given > npos)
		cli_err("%s%s: too many arguments (see atrestfs %s --help)", pre,
			verb, page);
	else if (given == 1 && numbered)
		cli_err("keyslot %s: which keyslot? Give its number N after "
			"CIPHERDIR (atrestfs keyslot list %s shows them)", verb,
			dir);
	else if (given == 0 && npos == 2 && numbered)
		cli_err("keyslot %s: CIPHERDIR and the keyslot number N are "
			"missing (see atrestfs keyslot --help)", verb);
	else if (npos == 1)
		cli_err("%s%s: CIPHERDIR is missing (see atrestfs %s --help)",
			pre, verb, page);
	else
		cli_err("keyslot %s: wants CIPHERDIR%s%s (see atrestfs keyslot "
			"--help)", verb, numbered ? " N" : "", npos > 1 + numbered ?
			what : "");
}

/*
 * @npos positional arguments: CIPHERDIR, then (@numbered) a keyslot
 * number, then whatever the verb takes (a date, a label, a file).
 */
static int main_common(struct ks_args *a, int argc, char **argv, int npos,
		       bool numbered)
{
	int err = parse(a, argc, argv);
	uint64_t index;

	if (err > 0)
		return EXIT_OK;
	if (err) {
		usage(stderr);
		return EXIT_USAGE;
	}
	/* A missing argument is one line, not the whole page. */
	if (argc - optind != npos) {
		missing_args(a->verb, argc - optind, npos, numbered,
			     argc > optind ? argv[optind] : "");
		return EXIT_USAGE;
	}
	a->dir = argv[optind];
	if (numbered) {
		/* Any number: run() says which keyslots the volume has. */
		if (dec_parse_u64(argv[optind + 1], 0, UINT32_MAX, &index)) {
			cli_err("keyslot number '%s' is not a number",
				argv[optind + 1]);
			return EXIT_USAGE;
		}
		a->index = (long)index;
	}
	if (npos > 1 + numbered)
		a->arg = argv[optind + npos - 1];
	if (!strcmp(a->verb, "config") && !a->changes)
		return show_config(a->dir);
	if (strcmp(a->verb, "config") && a->changes) {
		cli_err("--audit-*, --allow-* and --no-* belong to atrestfs config");
		return EXIT_USAGE;
	}
	if (a->new_provider && !keyprov_name_valid(a->new_provider)) {
		cli_err("--new-provider %s: not a valid key provider name",
			a->new_provider);
		return EXIT_USAGE;
	}
	if (!strcmp(a->verb, "passwd")) {
		int ret = passwd_check(a);

		if (ret)
			return ret;
	}
	return run(a);
}

static int ks_main(const char *verb, int argc, char **argv)
{
	struct ks_args a;
	int ret;

	memset(&a, 0, sizeof(a));
	cli_keyopts_init(&a.unlock);
	cli_keyopts_init(&a.add);
	a.verb = verb;
	/* config mends a broken audit setting: it must open without the log. */
	a.unlock.audit_warn_only = !strcmp(verb, "config");
	a.index = -1;
	if (!strcmp(verb, "passwd")) {
		a.new_provider = "passphrase";
		snprintf(a.unlock.provider, sizeof(a.unlock.provider), "passphrase");
		ret = main_common(&a, argc, argv, 1, false);
	} else if (!strcmp(verb, "add") || !strcmp(verb, "config")) {
		ret = main_common(&a, argc, argv, 1, false);
	} else if (!strcmp(verb, "export") || !strcmp(verb, "import")) {
		ret = main_common(&a, argc, argv, 2, false);
	} else if (!strcmp(verb, "expire") || !strcmp(verb, "label")) {
		ret = main_common(&a, argc, argv, 3, true);
	} else {
		ret = main_common(&a, argc, argv, 2, true);
	}
	cli_keyopts_free(&a.unlock);
	cli_keyopts_free(&a.add);
	return ret;
}

int cmd_keyslot(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "list"))
		return list(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "add")) {
		int i;

		for (i = 2; i < argc; i++)
			if (!strcmp(argv[i], "-n") ||
			    !strncmp(argv[i], "--new-provider", 14))
				break;
		if (i == argc && !(argc == 3 && !strcmp(argv[2], "--help"))) {
			cli_err("keyslot add needs --new-provider NAME");
			return EXIT_USAGE;
		}
		return ks_main("add", argc - 1, argv + 1);
	}
	static const char *const verbs[] = { "remove", "restore", "disable",
		"enable", "purge", "expire", "label", "export", "import", NULL };
	const char *const *v;

	for (v = verbs; argc >= 2 && *v; v++)
		if (!strcmp(argv[1], *v))
			return ks_main(*v, argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return EXIT_OK;
	}
	usage(stderr);
	return EXIT_USAGE;
}

int cmd_passwd(int argc, char **argv)
{
	return ks_main("passwd", argc, argv);
}

int cmd_config(int argc, char **argv)
{
	return ks_main("config", argc, argv);
}
