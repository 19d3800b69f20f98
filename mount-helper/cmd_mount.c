// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mount-helper/cmd_mount.c - "atrestfs mount" and mount.atrestfs: check
 * everything a user can get wrong before touching FUSE, unlock the volume,
 * then hand over to the driver, which detaches once the mount is up.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../fs/atrfs.h"
#include "cli.h"

struct mount_args {
	const char *cipherdir;
	const char *mountpoint;
	char keyfile[PATH_MAX];
	bool foreground;
	bool nonempty;
	char fuse_opts[8192];	/* passed to libfuse as one -o */
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: atrestfs mount [OPTIONS] CIPHERDIR MOUNTPOINT\n"
"Mount the volume in CIPHERDIR at MOUNTPOINT.  Returns once it is mounted.\n"
"\n"
"  -k, --keyfile PATH   root key file (default: the one init made,\n"
"                       KEYDIR/UUID.key; see atrestfs(8))\n"
"  -f, --foreground     stay in the foreground and log to stderr\n"
"  -o OPT[,OPT...]      mount options: keyfile=PATH, nonempty, and FUSE and\n"
"                       mount(8) options such as ro, allow_other, noexec\n"
"  -q, --quiet          print nothing on success\n"
"  -h, --help           this text\n");
}

/* Options that only mean something to mount(8), systemd or fstab. */
static bool fstab_only(const char *o)
{
	static const char *const names[] = { "defaults", "auto", "noauto",
		"nofail", "user", "users", "nouser", "owner", "group",
		"_netdev", "rw", NULL };
	const char *const *p;

	if (!strncmp(o, "x-", 2) || !strncmp(o, "comment=", 8))
		return true;
	for (p = names; *p; p++)
		if (!strcmp(o, *p))
			return true;
	return false;
}

static int add_fuse_opt(struct mount_args *a, const char *o)
{
	size_t n = strlen(a->fuse_opts), need = strlen(o) + 2;

	if (n + need >= sizeof(a->fuse_opts))
		return -E2BIG;
	if (n)
		a->fuse_opts[n++] = ',';
	strcpy(a->fuse_opts + n, o);
	return 0;
}

/* Split -o: ours are taken, fstab-only dropped, the rest go to libfuse. */
static int parse_o(struct mount_args *a, const char *arg)
{
	char *copy = strdup(arg), *o, *save = NULL;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	for (o = strtok_r(copy, ",", &save); o && !err;
	     o = strtok_r(NULL, ",", &save)) {
		if (!strncmp(o, "keyfile=", 8))
			snprintf(a->keyfile, sizeof(a->keyfile), "%s", o + 8);
		else if (!strcmp(o, "nonempty"))
			a->nonempty = true;
		else if (!fstab_only(o))
			err = add_fuse_opt(a, o);
	}
	free(copy);
	return err;
}

/* fsname is shown in /proc/mounts; libfuse splits options on ','. */
static int add_fsname(struct mount_args *a, const char *path)
{
	char esc[PATH_MAX * 2 + 8], *p = esc;
	const char *s;

	p += sprintf(p, "fsname=");
	for (s = path; *s; s++) {
		if (*s == ',' || *s == '\\')
			*p++ = '\\';
		*p++ = *s;
	}
	*p = '\0';
	return add_fuse_opt(a, esc);
}

static int check_fuse(void)
{
	int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (errno == ENOENT || errno == ENODEV || errno == ENXIO)
		cli_err("/dev/fuse is missing: the FUSE kernel module is not "
			"loaded (try: modprobe fuse) or this container has no "
			"/dev/fuse");
	else if (geteuid() != 0 && access("/usr/bin/fusermount3", X_OK) &&
		 access("/bin/fusermount3", X_OK))
		cli_err("fusermount3 not found: install the fuse3 package");
	else if (geteuid() == 0)
		cli_err("cannot open /dev/fuse: %s", strerror(errno));
	else
		return 0;	/* users mount through setuid fusermount3 */
	return -1;
}

static int check_mountpoint(const struct mount_args *a)
{
	char rc[PATH_MAX], rm[PATH_MAX], type[256];
	struct stat st;
	DIR *d;
	struct dirent *de;
	bool empty = true;

	if (stat(a->mountpoint, &st)) {
		cli_err("mountpoint %s: %s", a->mountpoint, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		cli_err("mountpoint %s is not a directory", a->mountpoint);
		return -1;
	}
	if (cli_mounted(a->mountpoint, type, sizeof(type))) {
		cli_err("mountpoint %s is busy: something is already mounted "
			"there (unmount it first: atrestfs unmount %s)",
			a->mountpoint, a->mountpoint);
		return -1;
	}
	if (realpath(a->cipherdir, rc) && realpath(a->mountpoint, rm) &&
	    (!strcmp(rc, rm) || (!strncmp(rm, rc, strlen(rc)) &&
				 rm[strlen(rc)] == '/'))) {
		cli_err("mountpoint %s is inside the volume %s; choose a "
			"directory outside it", a->mountpoint, a->cipherdir);
		return -1;
	}
	d = opendir(a->mountpoint);
	if (!d) {
		cli_err("mountpoint %s: %s", a->mountpoint, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = false;
	closedir(d);
	if (!empty && !a->nonempty) {
		cli_err("mountpoint %s is not empty; its files would be hidden "
			"(add -o nonempty to mount over them anyway)",
			a->mountpoint);
		return -1;
	}
	return 0;
}

static int unlock_error(int err, const char *dir, const char *msg)
{
	switch (err) {
	case -ENOENT:
		cli_err("%s is not an atrestfs volume (%s)", dir, msg);
		return EXIT_VOLUME;
	case -EINVAL:
	case -EPROTONOSUPPORT:
		cli_err("%s/%s: %s", dir, VOL_CONF_NAME, msg);
		return EXIT_VOLUME;
	case -EBADMSG:
		cli_err("%s", msg);
		return EXIT_VOLUME;
	default:
		cli_err("%s", *msg ? msg : strerror(-err));
		return EXIT_KEY;
	}
}

static int do_mount(struct mount_args *a)
{
	char msg[KEYPROV_MSG_MAX] = "", uuid[VOL_UUID_STR_LEN + 1];
	char real[PATH_MAX], *fargv[4];
	struct keyprov_kvlist kv;
	struct vol_config cfg;
	struct atr_mount *m;
	struct kek *kek = NULL;
	int dirfd, pathfd, err;
	pid_t self;

	if (check_fuse())
		return EXIT_MOUNT;
	dirfd = open(a->cipherdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		cli_err("%s: %s", a->cipherdir, strerror(errno));
		return EXIT_VOLUME;
	}
	if (check_mountpoint(a)) {
		close(dirfd);
		return EXIT_MOUNT;
	}
	/* The default key file is named after the volume: peek at its UUID. */
	if (!*a->keyfile) {
		err = vol_load(dirfd, &cfg, msg, sizeof(msg));
		if (err) {
			close(dirfd);
			return unlock_error(err, a->cipherdir, msg);
		}
		vol_uuid_str(cfg.uuid, uuid);
		if (cli_default_keyfile(uuid, a->keyfile, sizeof(a->keyfile), 0)) {
			cli_err("no --keyfile given and no default key directory");
			close(dirfd);
			return EXIT_KEY;
		}
	}
	keyprov_kv_init(&kv);
	keyprov_kv_set(&kv, "path", a->keyfile);
	err = volkey_unlock(dirfd, "keyfile", &kv, &cfg, &kek, msg, sizeof(msg));
	if (err) {
		close(dirfd);
		return unlock_error(err, a->cipherdir, msg);
	}
	pathfd = openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	close(dirfd);
	if (pathfd < 0 || !realpath(a->cipherdir, real)) {
		cli_err("%s: %s", a->cipherdir, strerror(errno));
		kek_free(kek);
		return EXIT_VOLUME;
	}
	if (add_fsname(a, real) || add_fuse_opt(a, "subtype=atrestfs") ||
	    add_fuse_opt(a, "default_permissions")) {
		cli_err("mount options too long");
		kek_free(kek);
		close(pathfd);
		return EXIT_USAGE;
	}
	m = atr_mount_new(real, pathfd, &kek, cfg.extent_size);
	if (!m) {
		cli_err("out of memory");
		kek_free(kek);
		close(pathfd);
		return EXIT_FAIL;
	}
	atr_log_init(true);
	/* Clients see other users' bytes only if the kernel checks modes. */
	fargv[0] = "atrestfs";
	fargv[1] = "-o";
	fargv[2] = a->fuse_opts;
	fargv[3] = NULL;
	self = getpid();
	err = atr_fs_run(m, 3, fargv, a->mountpoint, a->foreground);
	atr_mount_free(m);
	/* The detached child reports to the parent, which tells the user. */
	if (err && getpid() == self) {
		cli_err("mounting %s on %s failed (see the messages above)",
			a->cipherdir, a->mountpoint);
		return EXIT_MOUNT;
	}
	return EXIT_OK;
}

int cmd_mount(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "keyfile", required_argument, NULL, 'k' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mount_args a;
	int c;

	memset(&a, 0, sizeof(a));
	while ((c = getopt_long(argc, argv, "k:fo:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			snprintf(a.keyfile, sizeof(a.keyfile), "%s", optarg);
			break;
		case 'f':
			a.foreground = true;
			break;
		case 'o':
			if (parse_o(&a, optarg)) {
				cli_err("mount options too long");
				return EXIT_USAGE;
			}
			break;
		case 'q':
			cli_quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	a.cipherdir = argv[optind];
	a.mountpoint = argv[optind + 1];
	return do_mount(&a);
}

/*
 * mount(8) runs "mount.atrestfs SOURCE DIR [-sfnv] [-o OPTS]" (and
 * mount.fuse.atrestfs for type fuse.atrestfs).  -n and -s and -v have no
 * meaning for us; -f (fake) must not mount.
 */
int cmd_mount_helper(int argc, char **argv)
{
	struct mount_args a;
	int i, npos = 0;
	const char *pos[2] = { NULL, NULL };

	memset(&a, 0, sizeof(a));
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc) {
			if (parse_o(&a, argv[++i])) {
				cli_err("mount options too long");
				return EXIT_USAGE;
			}
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("Usage: mount.atrestfs CIPHERDIR MOUNTPOINT [-o OPTIONS]\n"
			       "Called by mount(8) for type atrestfs or fuse.atrestfs;\n"
			       "takes the options of atrestfs mount -o.  See mount.atrestfs(8).\n");
			return EXIT_OK;
		} else if (!strcmp(argv[i], "-f")) {
			return EXIT_OK;
		} else if ((!strcmp(argv[i], "-t") || !strcmp(argv[i], "-N")) &&
			   i + 1 < argc) {
			i++;		/* -t TYPE, -N NAMESPACE: not ours */
		} else if (argv[i][0] == '-') {
			continue;	/* -n, -s, -v */
		} else if (npos < 2) {
			pos[npos++] = argv[i];
		} else {
			cli_err("unexpected argument '%s'", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (npos != 2) {
		cli_err("usage: mount.atrestfs CIPHERDIR MOUNTPOINT [-o OPTIONS]");
		return EXIT_USAGE;
	}
	a.cipherdir = pos[0];
	a.mountpoint = pos[1];
	return do_mount(&a);
}
