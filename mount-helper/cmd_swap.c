// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mount-helper/cmd_swap.c - "atrestfs swap on|off|status": swap space kept
 * in a file on an atrestfs mount.
 *
 * The kernel refuses swapon() on a FUSE file (it needs a block map), so the
 * file goes behind a loop device.  The loop device must use direct I/O:
 * through the page cache, every page swapped out would first need a new
 * page-cache page for the FUSE file, the very allocation that cannot wait
 * when memory is short, and would sit there in plaintext.  With direct I/O
 * each swap write is one FUSE write, sealed by the daemon, which locks its
 * own memory and is an I/O flusher (fs/harden.c).
 *
 * Owns: the loop device from LOOP_CONFIGURE until swapon() holds it, and the
 * swap file it created; both are undone on every failure.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <linux/loop.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <unistd.h>

#include "../crypto/codec.h"
#include "cli.h"

#define SWAP_MIN	(1ULL << 20)	/* mkswap wants 10 pages; keep it sane */
#define SWAP_LABEL	"atrestfs-swap"
/* The label in Linux's swap header: 1024 + version, last_page, nr_badpages, uuid. */
#define SWAP_LABEL_OFF	(1024 + 4 + 4 + 4 + 16)
#define ZERO_CHUNK	(1 << 20)

static void usage(FILE *f)
{
	fprintf(f,
"Usage: atrestfs swap on PATH --size SIZE [--priority N]\n"
"       atrestfs swap off [--keep] PATH\n"
"       atrestfs swap status [--json]\n"
"Swap to a file on an atrestfs mount, so that swapped-out memory is sealed\n"
"before it reaches the disk.  Needs root and loop devices.\n"
"\n"
"  on      create PATH (it must not exist) through the mount, fill it, attach\n"
"          it to a loop device with direct I/O, mkswap and swapon\n"
"  off     swapoff, detach the loop device and remove PATH\n"
"  status  list the active swap files on atrestfs mounts\n"
"\n"
"  -s, --size SIZE      swap size in bytes, or with K, M, G or T (powers of\n"
"                       1024); at least 1M, rounded up to the page size\n"
"  -p, --priority N     swap priority, 0 to 32767 (default: the kernel's)\n"
"  -k, --keep           off: keep PATH instead of removing it\n"
"  -j, --json           status: one JSON array, for scripts\n"
"  -q, --quiet          print nothing on success\n"
"  -h, --help           this text\n");
}

static int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (toupper((unsigned char)*end)) {
	case '\0': break;
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	case 'T': shift = 40; break;
	default: return -EINVAL;
	}
	if (*end && end[1] && strcasecmp(end + 1, "iB") && strcasecmp(end + 1, "B"))
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

/*
 * The mount holding @path's directory, by device number (robust against
 * symlinks and escapes in mountinfo): 1 and its fstype, 0 if not found.
 */
/*
 * 1 if device @dev is an atrestfs mount that root made, else 0 or -errno.
 * Any user can mount a FUSE file system of subtype atrestfs: root's
 * swapped-out memory must not go to that user's daemon.
 */
static int dev_on_atrestfs(dev_t dev)
{
	char type[256];
	bool by_root = false;
	int r = mountinfo_find(NULL, dev, type, sizeof(type), NULL, &by_root);

	if (r <= 0)
		return r;
	return !strcmp(type, "fuse.atrestfs") && by_root;
}

/* The same for the directory that holds @path. */
static int on_atrestfs(const char *path)
{
	char copy[PATH_MAX];
	struct stat st;

	snprintf(copy, sizeof(copy), "%s", path);
	if (stat(dirname(copy), &st))
		return -errno;
	return dev_on_atrestfs(st.st_dev);
}

/* Fill the new file with zeros: every extent sealed, every block allocated,
 * so that swapping out never needs space the backing disk lacks. */
static int fill(int fd, uint64_t size)
{
	char *zero = calloc(1, ZERO_CHUNK);
	uint64_t off;
	ssize_t n;
	int err = 0;

	if (!zero)
		return -ENOMEM;
	for (off = 0; off < size; off += (uint64_t)n) {
		cli_progress("filling swap file", off, size);
		n = pwrite(fd, zero, size - off < ZERO_CHUNK ?
			   (size_t)(size - off) : ZERO_CHUNK, (off_t)off);
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			break;
		}
	}
	if (!err)
		cli_progress("filling swap file", size, size);
	free(zero);
	if (!err && fsync(fd))
		err = -errno;
	return err;
}

/* Read a one-line sysfs attribute of loop device @n into @buf. */
static int loop_attr(int n, const char *attr, char *buf, size_t len)
{
	char p[128];
	size_t l;
	FILE *f;

	snprintf(p, sizeof(p), "/sys/block/loop%d/loop/%s", n, attr);
	f = fopen(p, "re");
	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	l = strlen(buf);
	if (l && buf[l - 1] == '\n')
		buf[l - 1] = '\0';
	return 0;
}

/*
 * Attach @file_fd to a free loop device with direct I/O in one
 * LOOP_CONFIGURE (Linux 5.8).  Returns the device number and its open fd
 * in *@dev_fd, or -errno with the reason already printed.
 */
static int loop_attach(int file_fd, const char *path, int *dev_fd)
{
	struct loop_config cfg = { .fd = (uint32_t)file_fd };
	char dev[64], dio[8];
	int ctl, n = -1, fd, tries;

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		cli_err("loop devices are unavailable: /dev/loop-control: %s "
			"(modprobe loop)", strerror(errno));
		return -ENODEV;
	}
	cfg.info.lo_flags = LO_FLAGS_DIRECT_IO;
	snprintf((char *)cfg.info.lo_file_name, LO_NAME_SIZE, "%s", path);
	/* Another process may take the free device first: try again. */
	for (tries = 0; tries < 8; tries++) {
		n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0) {
			cli_err("no free loop device: %s", strerror(errno));
			close(ctl);
			return -ENODEV;
		}
		snprintf(dev, sizeof(dev), "/dev/loop%d", n);
		fd = open(dev, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (ioctl(fd, LOOP_CONFIGURE, &cfg) == 0)
			break;
		close(fd);
		fd = -1;
		if (errno != EBUSY) {
			cli_err("%s: LOOP_CONFIGURE: %s (needs Linux 5.8)",
				dev, strerror(errno));
			close(ctl);
			return -ENODEV;
		}
	}
	close(ctl);
	if (fd < 0) {
		cli_err("no free loop device could be attached");
		return -ENODEV;
	}
	/* The kernel quietly falls back to buffered I/O: check. */
	if (loop_attr(n, "dio", dio, sizeof(dio)) || strcmp(dio, "1")) {
		cli_err("%s: direct I/O could not be enabled on %s; refusing to "
			"swap through the page cache", dev, path);
		ioctl(fd, LOOP_CLR_FD);
		close(fd);
		return -EOPNOTSUPP;
	}
	*dev_fd = fd;
	return n;
}

static int swap_on(const char *path, uint64_t size, int prio)
{
	char dev[64];
	uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE);
	struct stat st;
	int fd, dfd = -1, n, err, flags = 0;
	int r = on_atrestfs(path);

	if (r <= 0) {
		cli_err(r < 0 ? "%s: %s" : "%s is not on an atrestfs mount made by root%s",
			path, r < 0 ? strerror(-r) : "; refusing (swap there "
			"would reach the disk in plaintext)");
		return EXIT_MOUNT;
	}
	size = (size + pg - 1) / pg * pg;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		cli_err("cannot create %s: %s", path, strerror(errno));
		return EXIT_FAIL;
	}
	/*
	 * The file made, not the path checked: a directory of the path
	 * swapped for a symlink in between would have put it elsewhere.
	 * Left there, empty: its name is no longer ours to remove.
	 */
	if (fstat(fd, &st) || dev_on_atrestfs(st.st_dev) != 1) {
		cli_err("%s was created off the atrestfs mount (the path "
			"changed under us?); not swapping to it", path);
		close(fd);
		return EXIT_MOUNT;
	}
	err = fill(fd, size);
	if (err) {
		cli_err("cannot fill %s with %" PRIu64 " bytes: %s", path, size,
			strerror(-err));
		goto out_unlink;
	}
	n = loop_attach(fd, path, &dfd);
	if (n < 0) {
		err = n;
		goto out_unlink;
	}
	snprintf(dev, sizeof(dev), "/dev/loop%d", n);
	err = cli_run((const char *const[]){ "mkswap", "-q", "-L",
		  SWAP_LABEL, dev, NULL });
	if (err) {
		cli_err("mkswap %s failed (install util-linux)", dev);
		goto out_detach;
	}
	if (prio >= 0)
		flags = SWAP_FLAG_PREFER |
			((prio << SWAP_FLAG_PRIO_SHIFT) & SWAP_FLAG_PRIO_MASK);
	if (swapon(dev, flags)) {
		err = -errno;
		cli_err("swapon %s: %s", dev, strerror(errno));
		goto out_detach;
	}
	/* swapon holds the device now; our references can go. */
	close(dfd);
	close(fd);
	cli_say("swap on %s (%s, %" PRIu64 " bytes, direct I/O)\n", path, dev,
		size);
	/*
	 * The daemon serving @path must be an I/O flusher to be safe under
	 * memory pressure, and root's daemon has our privileges: try the
	 * prctl here (it only marks this short-lived process) to tell the
	 * user now rather than in a log they may never read.
	 */
	if (prctl(PR_SET_IO_FLUSHER, 1, 0, 0, 0))
		cli_err("warning: this system refuses PR_SET_IO_FLUSHER (%s; it "
			"needs CAP_SYS_RESOURCE), so the atrestfs daemon is not an "
			"I/O flusher: under severe memory pressure swapping "
			"through it may stall", strerror(errno));
	return EXIT_OK;
out_detach:
	ioctl(dfd, LOOP_CLR_FD);
	close(dfd);
out_unlink:
	close(fd);
	unlink(path);
	return EXIT_FAIL;
}

/* Each loop device whose backing file is on an atrestfs mount. */
static int for_each_loop(int (*fn)(int n, const char *file, void *arg),
			 void *arg)
{
	char file[PATH_MAX];
	struct dirent *d;
	DIR *dir = opendir("/sys/block");
	int n, r = 0;

	if (!dir)
		return -errno;
	while (!r && (d = readdir(dir))) {
		if (sscanf(d->d_name, "loop%d", &n) != 1 ||
		    loop_attr(n, "backing_file", file, sizeof(file)))
			continue;
		if (on_atrestfs(file) == 1)
			r = fn(n, file, arg);
	}
	closedir(dir);
	return r;
}

static int match_path(int n, const char *file, void *arg)
{
	return strcmp(file, arg) ? 0 : n + 1;
}

/*
 * Does @dev hold the swap space swap_on() made: the Linux swap signature
 * at the end of the first page and our label (mkswap -L) in the header?
 * errno is left as it was.
 */
static bool our_swap(const char *dev)
{
	static const char label[] = SWAP_LABEL;
	long pg = sysconf(_SC_PAGESIZE);
	char sig[10], name[sizeof(label)];
	int fd, saved = errno;
	bool ok = false;

	fd = open(dev, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ok = pread(fd, sig, sizeof(sig), pg - 10) == sizeof(sig) &&
		     !memcmp(sig, "SWAPSPACE2", 10) &&
		     pread(fd, name, sizeof(name), SWAP_LABEL_OFF) ==
		     sizeof(name) && !memcmp(name, label, sizeof(label));
		close(fd);
	}
	errno = saved;
	return ok;
}

static int swap_off(const char *path, bool keep)
{
	char real[PATH_MAX], dev[64];
	int n, fd;

	if (!realpath(path, real)) {
		cli_err("%s: %s", path, strerror(errno));
		return EXIT_FAIL;
	}
	n = for_each_loop(match_path, real) - 1;
	if (n < 0) {
		cli_err("%s is not attached to a loop device (not atrestfs swap)",
			path);
		return EXIT_FAIL;
	}
	snprintf(dev, sizeof(dev), "/dev/loop%d", n);
	/*
	 * EINVAL: attached but not swapping (say, a failed swapon); detach,
	 * but only our own swap space: a disk image loop-mounted from the
	 * mount would otherwise be detached and removed.
	 */
	if (swapoff(dev) && (errno != EINVAL || !our_swap(dev))) {
		if (errno == EINVAL)
			cli_err("%s (%s) is not atrestfs swap space; leaving it",
				real, dev);
		else
			cli_err("swapoff %s: %s%s", dev, strerror(errno),
				errno == ENOMEM ? " (not enough memory to take "
				"its pages back in)" : "");
		return EXIT_FAIL;
	}
	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, LOOP_CLR_FD)) {
		cli_err("cannot detach %s: %s", dev, strerror(errno));
		if (fd >= 0)
			close(fd);
		return EXIT_FAIL;
	}
	close(fd);
	if (!keep && unlink(real)) {
		cli_err("swap off, but cannot remove %s: %s", real,
			strerror(errno));
		return EXIT_FAIL;
	}
	cli_say("swap off %s (%s detached)\n", real, dev);
	return EXIT_OK;
}

/* A loop device whose backing file is on the mount with device *@arg. */
static int match_dev(int n, const char *file, void *arg)
{
	struct stat st;

	return !stat(file, &st) && st.st_dev == *(dev_t *)arg ? n + 1 : 0;
}

/* Is /dev/loop@n in /proc/swaps? */
static bool swapping(int n)
{
	char line[512], dev[64], name[256];
	bool yes = false;
	FILE *f = fopen("/proc/swaps", "re");

	if (!f)
		return false;
	snprintf(dev, sizeof(dev), "/dev/loop%d", n);
	while (!yes && fgets(line, sizeof(line), f))
		yes = sscanf(line, "%255s", name) == 1 && !strcmp(name, dev);
	fclose(f);
	return yes;
}

int cli_loop_on_mount(const char *mnt, char *file, size_t len, bool *swap)
{
	struct stat st;
	int n;

	if (stat(mnt, &st))
		return -errno;
	n = for_each_loop(match_dev, &st.st_dev);
	if (n <= 0)
		return n ? n : -ENOENT;
	n--;
	if (loop_attr(n, "backing_file", file, len))
		snprintf(file, len, "?");
	*swap = swapping(n);
	return n;
}

/* /proc/swaps: "Filename Type Size Used Priority", sizes in KiB. */
static int print_one(int n, const char *file, void *arg)
{
	char line[512], dev[64], name[256];
	unsigned long long size, used;
	int prio, *json = arg;
	FILE *f = fopen("/proc/swaps", "re");

	if (!f)
		return -errno;
	snprintf(dev, sizeof(dev), "/dev/loop%d", n);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%255s %*s %llu %llu %d", name, &size, &used,
			   &prio) != 4 || strcmp(name, dev))
			continue;
		if (!*json) {
			printf("%s %s %lluK %lluK %d\n", file, dev, size, used, prio);
			continue;
		}
		printf("%s{\"file\":", *json > 1 ? "," : "");
		cli_json_str(stdout, file);
		printf(",\"device\":\"%s\",\"size_kib\":%llu,\"used_kib\":%llu,"
		       "\"priority\":%d}", dev, size, used, prio);
		*json = 2;
	}
	fclose(f);
	return 0;
}

static int swap_status(bool json)
{
	int r, state = json ? 1 : 0;

	printf(json ? "[" : "FILE DEVICE SIZE USED PRIO\n");
	r = for_each_loop(print_one, &state);
	if (json)
		printf("]\n");
	if (r < 0) {
		cli_err("cannot list loop devices: %s", strerror(-r));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int cmd_swap(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "priority", required_argument, NULL, 'p' },
		{ "keep", no_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *verb;
	uint64_t size = 0, v;
	bool keep = false, have_size = false, json = false;
	int c, prio = -1;

	/* glibc moves the verb and the path after the options, wherever given. */
	while ((c = getopt_long(argc, argv, "s:p:jkqh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_size(optarg, &size)) {
				cli_err("bad size '%s' (say 512M or 2G)", optarg);
				return EXIT_USAGE;
			}
			have_size = true;
			break;
		case 'p':
			if (dec_parse_u64(optarg, 0, SWAP_FLAG_PRIO_MASK, &v)) {
				cli_err("bad priority '%s' (0 to 32767)", optarg);
				return EXIT_USAGE;
			}
			prio = (int)v;
			break;
		case 'k':
			keep = true;
			break;
		case 'j':
			json = true;
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
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	verb = argv[optind++];
	if (!strcmp(verb, "status") && optind == argc)
		return swap_status(json);
	if (strcmp(verb, "on") && strcmp(verb, "off")) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (optind != argc - 1 || json ||
	    (!strcmp(verb, "on") && (!have_size || keep)) ||
	    (!strcmp(verb, "off") && (have_size || prio >= 0))) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (geteuid() != 0) {
		cli_err("swap %s needs root (loop devices and swapon)", verb);
		return EXIT_FAIL;
	}
	if (!strcmp(verb, "off"))
		return swap_off(argv[optind], keep);
	if (size < SWAP_MIN) {
		cli_err("swap size %" PRIu64 " is too small (at least 1M)", size);
		return EXIT_USAGE;
	}
	return swap_on(argv[optind], size, prio);
}
