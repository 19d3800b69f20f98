// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mount-helper/cmd_keyslot.c - "atrestfs keyslot list|add|remove",
 * "atrestfs passwd" and "atrestfs config": change what atrestfs.conf holds.
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
	long index;
	/* config: the changes asked for */
	struct vol_options set;		/* new audit file, uids, gids */
	bool no_audit, no_policy, changes;
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: atrestfs keyslot list [--json] CIPHERDIR\n"
"       atrestfs keyslot add [OPTIONS] --new-provider NAME CIPHERDIR\n"
"       atrestfs keyslot remove [OPTIONS] CIPHERDIR N\n"
"       atrestfs passwd [OPTIONS] CIPHERDIR\n"
"       atrestfs config [OPTIONS] CIPHERDIR\n"
"A volume holds up to %d keyslots, each a copy of its key wrapped by one\n"
"key provider; any one of them mounts it.  The last one cannot be removed.\n"
"passwd rewraps a passphrase keyslot (the first, or --slot N) under a new\n"
"passphrase.\n"
"\n"
"Unlocking with an existing keyslot (as for atrestfs mount):\n"
"  -k, --keyfile PATH, -P, --provider NAME, -S, --slot N,\n"
"  -O, --provider-option KEY=VALUE, --passfile FILE, --extpass CMD,\n"
"  --state-dir DIR (where this machine remembers the newest config)\n"
"The new keyslot:\n"
"  -n, --new-provider NAME          its key provider\n"
"  -N, --new-option KEY=VALUE       a setting for it (repeatable)\n"
"      --new-keyfile PATH           keyfile: the key file (made if absent)\n"
"      --new-passfile FILE          passphrase from FILE\n"
"      --new-extpass CMD            passphrase from CMD's standard output\n"
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

/*
 * list and config show what atrestfs.conf says without the key: validated
 * by volconf_load() but not yet authenticated.  0, or an exit code (reported).
 */
static int load_unverified(const char *dir, struct vol_config *cfg)
{
	char msg[KEYPROV_MSG_MAX] = "";
	int dirfd, err;

	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		cli_err("%s: %s", dir, strerror(errno));
		return EXIT_VOLUME;
	}
	err = volconf_load(dirfd, cfg, msg, sizeof(msg));
	close(dirfd);
	if (err) {
		cli_err("%s: %s", dir, msg);
		return EXIT_VOLUME;
	}
	return 0;
}

static void list_json(const struct vol_config *cfg, const char *uuid)
{
	const struct vol_keyslot *ks;
	unsigned int i, j;

	printf("{\"volume\":\"%s\",\"authenticated\":false,\"keyslots\":[", uuid);
	for (i = 0; i < cfg->nslots; i++) {
		ks = &cfg->slots[i];
		printf("%s{\"slot\":%u,\"provider\":", i ? "," : "", i);
		cli_json_str(stdout, ks->provider);
		printf(",\"key_id\":");
		cli_json_str(stdout, ks->key_id);
		printf(",\"key_version\":%u,\"algorithm\":", ks->key_version);
		cli_json_str(stdout, ks->algorithm);
		printf(",\"params\":{");
		for (j = 0; j < ks->nparams; j++) {
			printf("%s", j ? "," : "");
			cli_json_str(stdout, ks->params[j].key);
			putchar(':');
			cli_json_str(stdout, ks->params[j].value);
		}
		printf("}}");
	}
	printf("]}\n");
}

static int list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char uuid[VOL_UUID_STR_LEN + 1];
	struct vol_config cfg;
	unsigned int i, j;
	int c, ret, json = 0;
	const char *dir;

	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		if (c == 'j') {
			json = 1;
			continue;
		}
		usage(c == 'h' ? stdout : stderr);
		return c == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	if (optind != argc - 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	dir = argv[optind];
	ret = load_unverified(dir, &cfg);
	if (ret)
		return ret;
	vol_uuid_str(cfg.uuid, uuid);
	if (json) {
		list_json(&cfg, uuid);
		return EXIT_OK;
	}
	printf("volume %s: %u keyslot%s (not yet authenticated: mount "
	       "checks the MAC)\n", uuid, cfg.nslots, cfg.nslots == 1 ? "" : "s");
	for (i = 0; i < cfg.nslots; i++) {
		const struct vol_keyslot *ks = &cfg.slots[i];

		printf("%u: provider=%s key_id=%s key_version=%u algorithm=%s",
		       i, ks->provider, ks->key_id, ks->key_version,
		       ks->algorithm);
		for (j = 0; j < ks->nparams; j++)
			printf(" %s=%s", ks->params[j].key, ks->params[j].value);
		printf("\n");
	}
	return EXIT_OK;
}


/*
 * volkey_commit(), saying why it failed or passing on its warning, then
 * record the new generation on this machine: 0 or -errno.
 */
static int commit(const struct ks_args *a, int dirfd, struct vol_config *cfg,
		  const struct kek *kek)
{
	char msg[KEYPROV_MSG_MAX] = "";
	int err = volkey_commit(dirfd, cfg, kek, msg, sizeof(msg));

	if (err) {
		cli_err("%s: %s", a->dir, *msg ? msg : strerror(-err));
		return err;
	}
	if (*msg)
		cli_warn(msg);
	cli_rollback_record(a->dir, a->state_dir, cfg, kek);
	return 0;
}

/* Wrap into cfg->slots[at] (at == nslots appends), then commit. */
static int put_slot(struct ks_args *a, int dirfd, struct vol_config *cfg,
		    const struct kek *kek, unsigned int at)
{
	char msg[KEYPROV_MSG_MAX] = "";
	struct volkey_src src;
	struct vol_keyslot ks;
	int err;

	cli_keysrc(&a->add, &src);
	cli_keyopts_volume(&a->add, a->dir);
	err = volkey_wrap_slot(&src, a->new_provider, cfg, kek, &ks, msg,
			       sizeof(msg));
	if (err) {
		cli_err("%s", *msg ? msg : strerror(-err));
		return EXIT_KEY;
	}
	cfg->slots[at] = ks;
	if (at == cfg->nslots)
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

	ret = load_unverified(dir, &cfg);
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
	if (volkey_audit(cfg, "config_change", &cfg->slots[used], 0, msg,
			 sizeof(msg)))
		cli_warn(msg);
	cfg->opt = next;
	if (commit(a, dirfd, cfg, kek))
		return EXIT_FAIL;
	if (!same_audit(&old, &next) &&
	    volkey_audit(cfg, "config_change", &cfg->slots[used], 0, msg,
			 sizeof(msg)))
		cli_warn(msg);
	cli_say("Changed the audit log and access policy of %s\n", a->dir);
	return EXIT_OK;
}

static int run(struct ks_args *a)
{
	char msg[KEYPROV_MSG_MAX] = "";
	struct vol_keyslot removed;
	struct vol_config cfg;
	struct kek *kek = NULL;
	unsigned int used = 0, i;
	int dirfd, ret;

	ret = cli_open_locked(a->dir, &a->unlock, &dirfd, &cfg, &kek, &used);
	if (ret)
		return ret;
	/* A change made to an older config would bury the newer one. */
	ret = cli_rollback_check(a->dir, a->state_dir, &cfg, kek,
				 CLI_RB_NOTICE);
	if (ret)
		goto out;
	if (!strcmp(a->verb, "add")) {
		if (cfg.nslots == VOL_MAX_SLOTS) {
			cli_err("volume %s already has %d keyslots, the most it "
				"can hold", a->dir, VOL_MAX_SLOTS);
			ret = EXIT_VOLUME;
			goto out;
		}
		ret = put_slot(a, dirfd, &cfg, kek, cfg.nslots);
		if (!ret)
			cli_say("Added keyslot %u (%s, key %s) to %s\n",
				cfg.nslots - 1, a->new_provider,
				cfg.slots[cfg.nslots - 1].key_id, a->dir);
	} else if (!strcmp(a->verb, "passwd")) {
		if (strcmp(cfg.slots[used].provider, "passphrase")) {
			cli_err("keyslot %u of %s is not a passphrase keyslot "
				"(it is %s)", used, a->dir,
				cfg.slots[used].provider);
			ret = EXIT_USAGE;
			goto out;
		}
		ret = put_slot(a, dirfd, &cfg, kek, used);
		if (!ret)
			cli_say("Changed the passphrase of keyslot %u of %s\n",
				used, a->dir);
	} else if (!strcmp(a->verb, "config")) {
		ret = change_config(a, dirfd, &cfg, kek, used);
	} else {		/* remove */
		if (a->index < 0 || (unsigned long)a->index >= cfg.nslots) {
			cli_err("volume %s has no keyslot %ld (it has %u)",
				a->dir, a->index, cfg.nslots);
			ret = EXIT_USAGE;
			goto out;
		}
		if (cfg.nslots == 1) {
			cli_err("refusing to remove the last keyslot of %s: "
				"the volume could never be opened again", a->dir);
			ret = EXIT_VOLUME;
			goto out;
		}
		removed = cfg.slots[a->index];
		for (i = (unsigned int)a->index; i + 1 < cfg.nslots; i++)
			cfg.slots[i] = cfg.slots[i + 1];
		cfg.nslots--;
		ret = commit(a, dirfd, &cfg, kek) ? EXIT_FAIL : EXIT_OK;
		if (ret)
			goto out;
		cli_say("Removed keyslot %ld from %s\n", a->index, a->dir);
		/* A rotation's last step: the old root key no longer opens it. */
		if (volkey_audit(&cfg, "keyslot_remove", &removed, 0, msg,
				 sizeof(msg)))
			cli_err("%s", msg);
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
		CLI_NEWKEY_OPTIONS,
		CLI_POLICY_OPTIONS,
		{ "state-dir", required_argument, NULL, CLI_OPT_STATE_DIR },
		{ "no-audit", no_argument, NULL, 8 },
		{ "no-policy", no_argument, NULL, 11 },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, CLI_UNLOCK_SHORT CLI_NEWKEY_SHORT
				"qh", opts, NULL)) != -1) {
		switch (cli_unlock_opt(&a->unlock, c, optarg)) {
		case 1:
			continue;
		case -1:
			return -EINVAL;
		}
		switch (cli_newkey_opt(&a->add, &a->new_provider, c, optarg)) {
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
	}
	return 0;
}

static int main_common(struct ks_args *a, int argc, char **argv, int npos)
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
		bool ks = !strcmp(a->verb, "add") || !strcmp(a->verb, "remove");

		if (argc - optind > npos)
			cli_err("%s%s: too many arguments (see atrestfs %s "
				"--help)", ks ? "keyslot " : "", a->verb,
				ks ? "keyslot" : a->verb);
		else if (argc - optind == 1)	/* remove CIPHERDIR */
			cli_err("keyslot remove: which keyslot? Give its "
				"number N after CIPHERDIR (atrestfs keyslot "
				"list %s shows them)", argv[optind]);
		else
			cli_err("%s%s: CIPHERDIR%s missing (see atrestfs %s "
				"--help)", ks ? "keyslot " : "", a->verb,
				npos == 2 ? " and the keyslot number N are" :
				" is", ks ? "keyslot" : a->verb);
		return EXIT_USAGE;
	}
	a->dir = argv[optind];
	if (npos == 2) {
		/* Any number: run() says which keyslots the volume has. */
		if (dec_parse_u64(argv[optind + 1], 0, UINT32_MAX, &index)) {
			cli_err("keyslot number '%s' is not a number",
				argv[optind + 1]);
			return EXIT_USAGE;
		}
		a->index = (long)index;
	}
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
	if (!strcmp(verb, "passwd")) {
		a.new_provider = "passphrase";
		snprintf(a.unlock.provider, sizeof(a.unlock.provider), "passphrase");
		ret = main_common(&a, argc, argv, 1);
	} else if (!strcmp(verb, "add") || !strcmp(verb, "config")) {
		ret = main_common(&a, argc, argv, 1);
	} else {
		ret = main_common(&a, argc, argv, 2);
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
	if (argc >= 2 && !strcmp(argv[1], "remove"))
		return ks_main("remove", argc - 1, argv + 1);
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
