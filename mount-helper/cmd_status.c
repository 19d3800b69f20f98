// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mount-helper/cmd_status.c - "atrestfs status": a volume at a glance,
 * without its key (as cryptsetup luksDump): what atrestfs.conf says, not
 * authenticated; where it is mounted (/proc/self/mountinfo); and for each
 * mount, what its daemon keeps in its runtime record (fs/runtime.c): pid,
 * options, log file and last errors.
 *
 * Output is one "name: value" line per field, or one JSON object with
 * stable keys (--json); a field added later is one line in each.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../crypto/codec.h"
#include "cli.h"

#define STATUS_MAX_MOUNTS	16

struct mount_ent {
	char mountpoint[PATH_MAX];
	char opts[1024], super_opts[1024];
	dev_t dev;
	int daemon;		/* 1: record read and its process alive;
				 * 0: no record (@why says why) */
	char why[KEYPROV_MSG_MAX];
	struct atr_runtime_rec rec;
};

struct status {
	char dir[PATH_MAX];		/* the volume's realpath */
	char uuid[VOL_UUID_STR_LEN + 1];
	struct vol_config cfg;
	struct mount_ent mounts[STATUS_MAX_MOUNTS];
	unsigned int nmounts;
	bool more_mounts;		/* beyond STATUS_MAX_MOUNTS */
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: atrestfs status [--json] CIPHERDIR|MOUNTPOINT\n"
"Show a volume's settings and keyslots as atrestfs.conf says them (read\n"
"without the key, so not authenticated), where it is mounted, and each\n"
"mount's daemon: pid, options, log file and last warnings and errors.\n"
"\n"
"  -j, --json   one JSON object, for scripts\n"
"  -h, --help   this text\n");
}

static int collect(void *arg, const struct mountinfo_ent *e)
{
	struct status *s = arg;
	struct mount_ent *me;

	if (strcmp(e->fstype, "fuse.atrestfs") || strcmp(e->source, s->dir))
		return 0;
	if (s->nmounts == STATUS_MAX_MOUNTS) {
		s->more_mounts = true;
		return 0;
	}
	me = &s->mounts[s->nmounts++];
	snprintf(me->mountpoint, sizeof(me->mountpoint), "%s", e->mountpoint);
	snprintf(me->opts, sizeof(me->opts), "%s", e->opts);
	snprintf(me->super_opts, sizeof(me->super_opts), "%s", e->super_opts);
	me->dev = e->dev;
	return 0;
}

/*
 * The daemon of mount @me: its runtime record, believed only while the
 * process that wrote it is still the one with its pid.
 */
static void read_daemon(const struct status *s, struct mount_ent *me)
{
	char base[STATE_PATH_MAX], name[ATR_RUNTIME_NAME_LEN];
	char body[STATE_RECORD_MAX + 1], msg[KEYPROV_MSG_MAX] = "";
	int err;

	err = state_run_base(geteuid(), base, sizeof(base), msg, sizeof(msg));
	if (!err) {
		atr_runtime_name(me->dev, name);
		err = state_peek(base, s->cfg.uuid, name, body, sizeof(body),
				 msg, sizeof(msg));
	}
	if (err == -ENOENT)
		snprintf(msg, sizeof(msg), "its daemon left no runtime record "
			 "(mounted by another user, or by an atrestfs without "
			 "one)");
	if (err == -EACCES)
		snprintf(msg, sizeof(msg), "its runtime record is not "
			 "readable by this user (run as the user who mounted "
			 "it)");
	if (err) {
		snprintf(me->why, sizeof(me->why), "%s", *msg ? msg :
			 strerror(-err));
		return;
	}
	atr_runtime_parse(body, &me->rec);
	if (me->rec.pid <= 0 || !me->rec.start ||
	    atr_runtime_start_time((pid_t)me->rec.pid) != me->rec.start) {
		snprintf(me->why, sizeof(me->why), "its runtime record names "
			 "a daemon that no longer runs");
		return;
	}
	me->daemon = 1;
}

/* @arg: a volume, or the mount point of one. */
static int gather(const char *arg, struct status *s)
{
	char real[PATH_MAX];
	unsigned int i;
	int ret;

	if (!realpath(arg, real)) {
		/* A mount whose daemon died answers nothing, not even stat(2). */
		if (errno != ENOTCONN || arg[0] != '/' ||
		    strlen(arg) >= sizeof(real)) {
			cli_err("%s: %s", arg, strerror(errno));
			return EXIT_VOLUME;
		}
		strcpy(real, arg);
	}
	/* MOUNTPOINT of an atrestfs mount: its source is the volume. */
	if (mountinfo_source_at(real, s->dir, sizeof(s->dir)) != 1)
		snprintf(s->dir, sizeof(s->dir), "%s", real);
	ret = cli_load_unverified(s->dir, &s->cfg);
	if (ret)
		return ret;
	vol_uuid_str(s->cfg.uuid, s->uuid);
	if (mountinfo_walk(collect, s) < 0)
		cli_warn("cannot read /proc/self/mountinfo: mounts not shown");
	for (i = 0; i < s->nmounts; i++)
		read_daemon(s, &s->mounts[i]);
	return 0;
}

static void print_ids(FILE *f, const uint32_t *ids, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		fprintf(f, "%s%u", i ? "," : "", ids[i]);
}

/*
 * @label, then @a (and @b after a space) shown escaped: paths and options
 * come from mountinfo, the backing directory and the user's arguments,
 * and must not drive the terminal.
 */
static void show(const char *label, const char *a, const char *b)
{
	fputs(label, stdout);
	cli_fputs_vis(stdout, a, false);
	if (b) {
		putchar(' ');
		cli_fputs_vis(stdout, b, false);
	}
	putchar('\n');
}

static void print_text(const struct status *s)
{
	const struct vol_options *o = &s->cfg.opt;
	const struct mount_ent *me;
	char kek[2 * KEK_ID_LEN + 1];
	unsigned int i, j;

	hex_encode(s->cfg.kek_id, KEK_ID_LEN, kek);
	printf("volume:         %s\n", s->uuid);
	show("directory:      ", s->dir, NULL);
	printf("authenticated:  no (read without the key; mount checks the "
	       "MAC)\n");
	printf("format:         %u\n", s->cfg.format_version);
	printf("generation:     %u\n", s->cfg.generation);
	printf("cipher:         %s\n", VOL_CIPHER);
	printf("extent size:    %u\n", s->cfg.extent_size);
	printf("names:          %s\n",
	       s->cfg.opt.names_encrypted ? "encrypted" : "plain");
	printf("kek id:         %s\n", kek);
	if (s->cfg.retiring.present) {
		hex_encode(s->cfg.retiring.kek_id, KEK_ID_LEN, kek);
		printf("rotation:       under way, retiring KEK %s (atrestfs "
		       "rotate-kek finishes it)\n", kek);
	} else {
		printf("rotation:       none\n");
	}
	printf("keyslots:       %u\n", s->cfg.nslots);
	for (i = 0; i < s->cfg.nslots; i++) {
		printf("  ");
		cli_keyslot_line(stdout, &s->cfg.slots[i]);
	}
	show("audit file:     ", *o->audit_file ? o->audit_file : "none", NULL);
	printf("audit syslog:   %s\n", o->audit_syslog ? "yes" : "no");
	printf("allow uids:     ");
	if (o->nuids)
		print_ids(stdout, o->allow_uids, o->nuids);
	else
		printf("%s", o->ngids ? "none" : "any");
	printf("\nallow gids:     ");
	if (o->ngids)
		print_ids(stdout, o->allow_gids, o->ngids);
	else
		printf("%s", o->nuids ? "none" : "any");
	printf("\nmounted:        %s\n", s->nmounts ? "yes" : "no");
	for (i = 0; i < s->nmounts; i++) {
		me = &s->mounts[i];
		show("mount:          ", me->mountpoint, NULL);
		show("  options:      ", me->opts, me->super_opts);
		if (!me->daemon) {
			show("  daemon:       unknown: ", me->why, NULL);
			continue;
		}
		printf("  daemon pid:   %ld\n", me->rec.pid);
		show("  atrestfs -o:  ", me->rec.options, NULL);
		show("  log:          ", *me->rec.log ? me->rec.log : "syslog",
		     NULL);
		printf("  last errors:  %s\n", me->rec.nerrors ? "" : "none");
		for (j = 0; j < me->rec.nerrors; j++)
			show("    ", me->rec.errors[j], NULL);
	}
	if (s->more_mounts)
		printf("(more than %d mounts; the rest not shown)\n",
		       STATUS_MAX_MOUNTS);
}

static void json_ids(FILE *f, const char *key, const uint32_t *ids,
		     unsigned int n)
{
	fprintf(f, "\"%s\":[", key);
	print_ids(f, ids, n);
	fputc(']', f);
}

/* @s or null if it is empty. */
static void json_str_or_null(FILE *f, const char *s)
{
	if (*s)
		cli_json_str(f, s);
	else
		fputs("null", f);
}

static void json_mount(FILE *f, const struct mount_ent *me)
{
	const char *sp;
	unsigned int j;

	fprintf(f, "{\"mountpoint\":");
	cli_json_str(f, me->mountpoint);
	fprintf(f, ",\"mount_options\":");
	cli_json_str(f, me->opts);
	fprintf(f, ",\"fs_options\":");
	cli_json_str(f, me->super_opts);
	if (!me->daemon) {
		fprintf(f, ",\"daemon\":null,\"daemon_unknown\":");
		cli_json_str(f, me->why);
		fputc('}', f);
		return;
	}
	fprintf(f, ",\"daemon\":{\"pid\":%ld,\"options\":", me->rec.pid);
	cli_json_str(f, me->rec.options);
	fprintf(f, ",\"log\":");
	json_str_or_null(f, me->rec.log);
	fprintf(f, ",\"errors\":[");
	for (j = 0; j < me->rec.nerrors; j++) {
		/* "TIME MESSAGE" */
		sp = strchr(me->rec.errors[j], ' ');
		fprintf(f, "%s{\"time\":", j ? "," : "");
		if (sp) {
			char t[sizeof(me->rec.errors[0])];

			/* Read without its key, the record is quoted as any. */
			snprintf(t, sizeof(t), "%.*s",
				 (int)(sp - me->rec.errors[j]),
				 me->rec.errors[j]);
			cli_json_str(f, t);
			fprintf(f, ",\"message\":");
			cli_json_str(f, sp + 1);
		} else {
			fprintf(f, "null,\"message\":");
			cli_json_str(f, me->rec.errors[j]);
		}
		fputc('}', f);
	}
	fprintf(f, "]}}");
}

static void print_json(const struct status *s)
{
	const struct vol_options *o = &s->cfg.opt;
	char kek[2 * KEK_ID_LEN + 1];
	unsigned int i;

	hex_encode(s->cfg.kek_id, KEK_ID_LEN, kek);
	printf("{\"volume\":\"%s\",\"directory\":", s->uuid);
	cli_json_str(stdout, s->dir);
	printf(",\"authenticated\":false,\"format_version\":%u,"
	       "\"generation\":%u,\"cipher\":\"%s\",\"extent_size\":%u,"
	       "\"names\":\"%s\",\"kek_id\":\"%s\",\"rotation\":",
	       s->cfg.format_version, s->cfg.generation, VOL_CIPHER,
	       s->cfg.extent_size,
	       s->cfg.opt.names_encrypted ? "encrypted" : "plain", kek);
	if (s->cfg.retiring.present) {
		hex_encode(s->cfg.retiring.kek_id, KEK_ID_LEN, kek);
		printf("{\"retiring_kek_id\":\"%s\"}", kek);
	} else {
		printf("null");
	}
	printf(",\"keyslots\":");
	cli_keyslots_json(stdout, &s->cfg);
	printf(",\"audit\":{\"file\":");
	json_str_or_null(stdout, o->audit_file);
	printf(",\"syslog\":%s},\"policy\":{", o->audit_syslog ? "true" : "false");
	json_ids(stdout, "allow_uids", o->allow_uids, o->nuids);
	putchar(',');
	json_ids(stdout, "allow_gids", o->allow_gids, o->ngids);
	printf("},\"mounted\":%s,\"mounts\":[", s->nmounts ? "true" : "false");
	for (i = 0; i < s->nmounts; i++) {
		if (i)
			putchar(',');
		json_mount(stdout, &s->mounts[i]);
	}
	printf("]}\n");
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_SHOW_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct status *s;
	int ret, json;

	ret = cli_show_args(argc, argv, opts, usage, "status",
			    "CIPHERDIR or MOUNTPOINT", &json);
	if (ret >= 0)
		return ret;
	/* Records of up to 16 mounts: too large for the stack. */
	s = calloc(1, sizeof(*s));
	if (!s) {
		cli_err("out of memory");
		return EXIT_FAIL;
	}
	ret = gather(argv[optind], s);
	if (!ret) {
		if (json)
			print_json(s);
		else
			print_text(s);
	}
	free(s);
	return ret;
}
