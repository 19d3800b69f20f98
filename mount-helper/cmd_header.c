// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mount-helper/cmd_header.c - "atrestfs header backup|restore": every
 * file's key lives in an xattr, which tar without --xattrs and many sync
 * tools drop.  As with cryptsetup luksHeaderBackup, the headers (and the
 * sparse and version records bound to them) go to one file, and back
 * after such a copy.  Backup needs no key (a header is useless without
 * the KEK); restore unlocks the volume and puts back only a header that
 * unwraps and whose file's last extent opens under it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "../crypto/hdrbak.h"
#include "../volume/fsck.h"
#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: atrestfs header backup CIPHERDIR FILE\n"
"       atrestfs header restore [OPTIONS] CIPHERDIR FILE\n"
"backup: write every file's header (its wrapped key) and its sparse and\n"
"version records to FILE (new, mode 0600, outside CIPHERDIR).  Needs no\n"
"key: the headers are useless without the volume key.\n"
"restore: put them back after a copy that lost the extended attributes.\n"
"Each header must unwrap with the volume key and open its file's last\n"
"extent; a file that already has another header is left alone unless\n"
"--force.  Refused while the volume is mounted.\n"
"\n"
"  -k, --keyfile PATH, -P, --provider NAME, -S, --slot N,\n"
"  -O, --provider-option KEY=VALUE, --passfile FILE, --extpass CMD\n"
"                       restore: unlock as for atrestfs mount\n"
"      --state-dir DIR  restore: this machine's state directory\n"
"      --force          restore: replace a header that differs\n"
"  -q, --quiet          print nothing on success\n"
"  -h, --help           this text\n"
"\n"
"Exit status: 0 done, 6 restore left some files without their header,\n"
"3 key, 4 not a volume (or a backup of another volume), 5 mounted, 1 other.\n");
}

/* ---- backup ---- */

struct backup {
	FILE *out;
	const char *file;
	uint64_t files, no_header;
	int err;
};

static int backup_one(void *ctx, int parent, const char *name,
		      const char *path, const struct stat *st, int err)
{
	struct backup *b = ctx;
	static char line[HDRBAK_LINE_MAX];
	struct hdrbak_entry e = { 0 };
	ssize_t n;
	int fd;

	if (err) {
		cli_err("%s: cannot read it: %s", path, strerror(-err));
		b->err = err;
		return 0;
	}
	if (!S_ISREG(st->st_mode))
		return 0;
	fd = openat(parent, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW |
		    O_CLOEXEC);
	if (fd < 0) {
		cli_err("%s: cannot open it: %s", path, strerror(errno));
		b->err = -errno;
		return 0;
	}
	n = fgetxattr(fd, HDR_XATTR, e.hdr, sizeof(e.hdr));
	if (n != HDR_SIZE) {
		/* Nothing to save; a bad one is fsck's to report. */
		if (st->st_size)
			b->no_header++;
		close(fd);
		return 0;
	}
	e.has_sparse = fgetxattr(fd, HDR_SPARSE_XATTR, e.sparse,
				 sizeof(e.sparse)) == EXTENT_SPARSE_LEN;
	e.has_ver = fgetxattr(fd, HDR_VER_XATTR, e.ver, sizeof(e.ver)) ==
		    VERREC_LEN;
	close(fd);
	e.backing = (uint64_t)st->st_size;
	snprintf(e.path, sizeof(e.path), "%s", path);
	if (hdrbak_format(&e, line, sizeof(line)) ||
	    fputs(line, b->out) == EOF)
		return -EIO;
	b->files++;
	return 0;
}

/* @file must not be in the volume @dir: it would show as a broken file. */
static int outside(const char *dir, const char *file)
{
	char rd[PATH_MAX], rf[PATH_MAX], *copy, *slash;
	size_t n;
	int ret;

	copy = strdup(file);
	if (!copy)
		return -ENOMEM;
	slash = strrchr(copy, '/');
	if (slash == copy)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	ret = !realpath(dir, rd) || !realpath(slash ? copy : ".", rf) ?
	      -errno : 0;
	free(copy);
	if (ret)
		return ret;
	n = strlen(rd);
	return !strncmp(rf, rd, n) && (rf[n] == '/' || !rf[n]) ? -EPERM : 0;
}

static int do_backup(const char *dir, const char *file)
{
	char head[128], msg[KEYPROV_MSG_MAX] = "";
	struct backup b = { .file = file };
	struct vol_config cfg;
	int dirfd, fd, err, ret = EXIT_FAIL;

	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		cli_err("%s: %s", dir, strerror(errno));
		return EXIT_VOLUME;
	}
	/* Unverified: only names the volume, which restore checks. */
	err = volconf_load(dirfd, &cfg, msg, sizeof(msg));
	if (err) {
		cli_err("%s is not an atrestfs volume (%s)", dir, msg);
		ret = EXIT_VOLUME;
		goto out_close;
	}
	err = outside(dir, file);
	if (err) {
		cli_err(err == -EPERM ? "%s: the backup must not be inside the "
			"volume %s: choose a file outside it" : "%s: %s", file,
			err == -EPERM ? dir : strerror(-err));
		ret = err == -EPERM ? EXIT_USAGE : EXIT_FAIL;
		goto out_close;
	}
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0) {
		cli_err(errno == EEXIST ? "%s: already exists; choose a new "
			"file name (a backup is never overwritten)" : "%s: %s",
			file, strerror(errno));
		goto out_close;
	}
	b.out = fdopen(fd, "w");
	if (!b.out) {
		close(fd);
		goto out_unlink;
	}
	hdrbak_head(cfg.uuid, cfg.kek_id, head, sizeof(head));
	fputs(head, b.out);
	err = fsck_walk(dirfd, backup_one, &b);
	if (!err && (fflush(b.out) || fsync(fileno(b.out))))
		err = -errno;
	if (fclose(b.out) && !err)
		err = -EIO;
	if (err || b.err) {
		cli_err("%s: backup not written: %s", file,
			strerror(-(err ? err : b.err)));
		goto out_unlink;
	}
	cli_say("Saved the headers of %llu files of %s in %s.\n",
		(unsigned long long)b.files, dir, file);
	if (b.no_header)
		fprintf(stderr, "atrestfs: warning: %llu non-empty files have "
			"no header and are not in the backup: run 'atrestfs "
			"fsck %s'\n", (unsigned long long)b.no_header, dir);
	ret = EXIT_OK;
	goto out_close;
out_unlink:
	unlink(file);
out_close:
	close(dirfd);
	return ret;
}

/* ---- restore ---- */

struct restore {
	int dirfd;
	const char *dir, *file;
	const struct vol_config *cfg;
	const struct kek *kek;
	bool force;
	uint64_t done, present, missing, refused, failed;
};

/*
 * The last extent of the file on @fd opens under @fk: the header is its.
 * An empty file has none to open, so only a header that was an empty
 * file's in the backup (@e) may go on it.
 */
static int fits(const struct restore *r, int fd, const struct hdrbak_entry *e,
		const struct hdr *h, const struct file_key *fk)
{
	uint64_t d = extent_disk_size(r->cfg->extent_size), plain, last;
	size_t len;
	uint8_t *buf, *out;
	struct stat st;
	int err;

	if (fstat(fd, &st))
		return -errno;
	if (!st.st_size)
		return e->backing || (h->flags & HDR_F_DATA) ? -EBADMSG : 0;
	if (extent_plain_size(r->cfg->extent_size, (uint64_t)st.st_size,
			      &plain))
		return -EBADMSG;
	last = (plain - 1) / r->cfg->extent_size;
	len = (size_t)((uint64_t)st.st_size - last * d);
	buf = malloc(len);
	out = malloc(len);
	err = -ENOMEM;
	if (buf && out) {
		err = pread(fd, buf, len, (off_t)(last * d)) == (ssize_t)len ?
		      extent_open(fk, last, true, buf, len, out) : -EIO;
		OPENSSL_cleanse(out, len);
	}
	free(buf);
	free(out);
	return err;
}

static void refuse(struct restore *r, const char *path, const char *why)
{
	cli_err("%s/%s: not restored: %s", r->dir, path, why);
	r->refused++;
}

/* Put @len bytes of record @name on @fd, or remove one @e lacks. */
static int put_record(int fd, const char *name, bool has, const void *rec,
		      size_t len)
{
	if (has)
		return fsetxattr(fd, name, rec, len, 0) ? -errno : 0;
	return fremovexattr(fd, name) && errno != ENODATA ? -errno : 0;
}

/*
 * Records, then the header: the header says the file can be read.  A
 * record that does not open under @fk is left out, and one the file
 * carries from a header being replaced is removed: it is bound to
 * another file ID.
 */
static int put_back(int fd, const struct hdrbak_entry *e,
		    const struct file_key *fk, bool replace)
{
	bool sparse = e->has_sparse &&
		      !extent_sparse_check(fk, e->sparse, EXTENT_SPARSE_LEN);
	struct verrec v;
	bool ver = e->has_ver && !verrec_open(fk, e->ver, VERREC_LEN, &v);
	int err;

	err = put_record(fd, HDR_SPARSE_XATTR, sparse, e->sparse,
			 EXTENT_SPARSE_LEN);
	if (!err)
		err = put_record(fd, HDR_VER_XATTR, ver, e->ver, VERREC_LEN);
	if (err)
		return err;
	return fsetxattr(fd, HDR_XATTR, e->hdr, HDR_SIZE,
			 replace ? XATTR_REPLACE : XATTR_CREATE) ? -errno : 0;
}

static void restore_one(struct restore *r, const struct hdrbak_entry *e)
{
	uint8_t cur[HDR_SIZE + 1];
	struct file_key *fk = NULL;
	struct stat st;
	struct hdr h;
	ssize_t n;
	int fd, err;

	/* Never through a symlink: the backing directory is untrusted. */
	fd = fsck_open(r->dirfd, e->path, O_RDONLY | O_NONBLOCK);
	if (fd == -ENOENT) {
		r->missing++;
		return;
	}
	if (fd < 0) {
		refuse(r, e->path, fd == -ELOOP ? "a symbolic link is in its "
		       "path" : fd == -ENOTDIR ? "a component of its path is "
		       "not a directory" : fd == -ENXIO ? "a device node or "
		       "socket, not a regular file (not opened)" :
		       strerror(-fd));
		return;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		refuse(r, e->path, "not a regular file");
		goto out_close;
	}
	if (hdr_parse(e->hdr, HDR_SIZE, &h) ||
	    h.extent_size != r->cfg->extent_size ||
	    hdr_unwrap(r->kek, &h, &fk)) {
		refuse(r, e->path, "its header in the backup does not "
		       "authenticate with this volume's key");
		goto out_close;
	}
	n = fgetxattr(fd, HDR_XATTR, cur, sizeof(cur));
	if (n == HDR_SIZE && !memcmp(cur, e->hdr, HDR_SIZE)) {
		r->present++;
		goto out_free;
	}
	if (n >= 0 && !r->force) {
		refuse(r, e->path, "it has another header; --force replaces "
		       "it (run atrestfs fsck first: the file may be newer "
		       "than the backup)");
		goto out_free;
	}
	if (fits(r, fd, e, &h, fk)) {
		refuse(r, e->path, !st.st_size ? "the file is empty, and the "
		       "header in the backup is of a file with data" :
		       (uint64_t)st.st_size == e->backing ?
		       "its last extent does not open with the key of the "
		       "backup: the file was replaced or damaged" :
		       "the file changed since the backup (another size), and "
		       "its last extent does not open with the key of the "
		       "backup");
		goto out_free;
	}
	err = put_back(fd, e, fk, n >= 0);
	if (err) {
		cli_err("%s/%s: cannot write its header: %s", r->dir, e->path,
			strerror(-err));
		r->failed++;
		goto out_free;
	}
	r->done++;
out_free:
	file_key_free(fk);
out_close:
	close(fd);
}

/* Every line of the backup @f: 0, or the exit code after saying why. */
static int restore_all(struct restore *r, FILE *f)
{
	static char line[HDRBAK_LINE_MAX + 2];
	uint8_t uuid[VOL_UUID_LEN], kid[KEK_ID_LEN];
	struct hdrbak_entry e;
	unsigned long lineno = 1;
	size_t n;

	if (!fgets(line, sizeof(line), f) || !strchr(line, '\n') ||
	    (line[strlen(line) - 1] = '\0',
	     hdrbak_head_parse(line, uuid, kid))) {
		cli_err("%s: not an atrestfs header backup", r->file);
		return EXIT_USAGE;
	}
	if (memcmp(uuid, r->cfg->uuid, VOL_UUID_LEN) ||
	    memcmp(kid, r->cfg->kek_id, KEK_ID_LEN)) {
		cli_err("%s: a header backup of another volume (or of another "
			"volume key) than %s", r->file, r->dir);
		return EXIT_VOLUME;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		n = strlen(line);
		if (!n || line[n - 1] != '\n' ||
		    (line[n - 1] = '\0', hdrbak_parse(line, &e))) {
			cli_err("%s: line %lu is damaged; nothing after it was "
				"restored", r->file, lineno);
			return EXIT_DAMAGED;
		}
		restore_one(r, &e);
	}
	if (ferror(f)) {
		cli_err("%s: %s", r->file, strerror(errno));
		return EXIT_FAIL;
	}
	return 0;
}

static int do_restore(struct restore *r, struct cli_keyopts *ko,
		      const char *state_dir)
{
	struct vol_config cfg;
	struct kek *kek = NULL;
	unsigned int slot;
	FILE *f;
	int fd, ret;

	fd = open(r->file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || !(f = fdopen(fd, "r"))) {
		cli_err("%s: %s", r->file, strerror(errno));
		if (fd >= 0)
			close(fd);
		return EXIT_FAIL;
	}
	r->dirfd = open(r->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->dirfd < 0) {
		cli_err("%s: %s", r->dir, strerror(errno));
		fclose(f);
		return EXIT_VOLUME;
	}
	ret = cli_refuse_served(r->dir, r->dirfd, "restore changes headers "
				"that its daemon holds");
	ko->state_dir = state_dir;
	if (!ret)
		ret = cli_unlock(r->dirfd, r->dir, ko, &cfg, &kek, &slot);
	if (!ret)
		ret = cli_rollback_check(r->dir, state_dir, &cfg, kek, 0);
	if (!ret) {
		r->cfg = &cfg;
		r->kek = kek;
		ret = restore_all(r, f);
	}
	if (!ret || ret == EXIT_DAMAGED) {
		cli_say("Restored the headers of %llu files of %s; %llu "
			"already had them", (unsigned long long)r->done, r->dir,
			(unsigned long long)r->present);
		if (r->missing)
			cli_say("; %llu are no longer in the volume",
				(unsigned long long)r->missing);
		cli_say(".\n");
		if (r->refused || r->failed)
			ret = EXIT_DAMAGED;
	}
	kek_free(kek);
	close(r->dirfd);
	fclose(f);
	return ret;
}

int cmd_header(int argc, char **argv)
{
	enum { OPT_FORCE = 0x200 };
	static const struct option opts[] = {
		CLI_UNLOCK_OPTIONS,
		{ "state-dir", required_argument, NULL, CLI_OPT_STATE_DIR },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct restore r = { 0 };
	const char *state_dir = NULL, *verb;
	struct cli_keyopts ko;
	int c, ret = EXIT_USAGE;

	cli_keyopts_init(&ko);
	if (argc >= 2 && (!strcmp(argv[1], "-h") ||
			  !strcmp(argv[1], "--help"))) {
		usage(stdout);
		ret = EXIT_OK;
		goto out_free;
	}
	if (argc < 2 || (strcmp(argv[1], "backup") &&
			 strcmp(argv[1], "restore"))) {
		usage(stderr);
		goto out_free;
	}
	verb = argv[1];
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, CLI_UNLOCK_SHORT "qh", opts,
				NULL)) != -1) {
		switch (cli_unlock_opt(&ko, c, optarg)) {
		case 1:
			continue;
		case -1:
			goto out_free;
		}
		switch (c) {
		case CLI_OPT_STATE_DIR:
			if (cli_state_dir_opt(&state_dir, optarg))
				goto out_free;
			break;
		case OPT_FORCE:
			r.force = true;
			break;
		case 'q':
			cli_quiet = 1;
			break;
		case 'h':
			usage(stdout);
			ret = EXIT_OK;
			goto out_free;
		default:
			usage(stderr);
			goto out_free;
		}
	}
	if (optind != argc - 2) {
		usage(stderr);
		goto out_free;
	}
	r.dir = argv[optind];
	r.file = argv[optind + 1];
	if (!strcmp(verb, "backup"))
		ret = do_backup(r.dir, r.file);
	else
		ret = do_restore(&r, &ko, state_dir);
out_free:
	cli_keyopts_free(&ko);
	return ret;
}
