/*
 * stress_ops - many processes doing mixed metadata and data operations on
 * one file system at once, each mirrored on a plain reference tree.
 *
 * Usage: stress_ops run [--seed N] [--procs N] [--seconds N] TESTDIR REFDIR
 *        stress_ops verify TESTDIR REFDIR
 *
 * "run" forks --procs workers (8) for --seconds (60).  They share eight
 * directories d0..d7 and each works only on names of its own (w<k>f<i>,
 * w<k>s<j>), so every call a worker makes has one right outcome, the one
 * the same call has on the reference tree; yet creates, renames across
 * directories, links and unlinks of all workers meet in the same
 * directories.  Operations: create and write, append, truncate, rename
 * within and across directories, link, unlink, mkdir, rmdir, symlink,
 * set and remove xattrs, chmod, stores through a shared mapping (msync'd
 * or left dirty), fsync, and reads, stats, readlinks, getxattrs and
 * listings checked against the reference as they go.  A call whose return
 * value or errno differs between the trees stops the run.  At the end the
 * two trees are compared whole, as "verify" does.
 *
 * "verify" walks REFDIR and TESTDIR and compares every entry: type, mode,
 * size, link count, bytes, symlink target, the xattrs the workers set.
 * Run it again after a remount.  Exit 0: equal; 1: a difference (one line
 * naming the entry); 2: a problem of the harness.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define NSHARED		8		/* directories every worker uses */
#define NSUB		4		/* a worker's own subdirectories */
#define NLOC		(NSHARED + NSUB)
#define NFILES		12		/* file names per worker */
#define MAX_OFF		(1 << 20)	/* writes start below 1 MiB */
#define MAX_WRITE	(64 << 10)
#define NXATTR		2

enum { T_TEST, T_REF, NTREES };

static int dfd[NTREES];			/* the roots; every call is *at() */
static const char *root[NTREES];
static uint64_t seed;
static uint64_t rng;
static int me;				/* this worker's number */
static unsigned long opno;
static unsigned char *wbuf, *rbuf[NTREES];

/* splitmix64: reproducible from the seed alone, as in fsx_diff */
static uint64_t rnd64(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rnd(uint64_t n)
{
	return n ? rnd64() % n : 0;
}

static void fill_random(unsigned char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)rnd64();
}

/* A difference between the trees: one line, and the run stops. */
static void __attribute__((noreturn, format(printf, 1, 2)))
failed(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	if (opno)
		fprintf(stderr, "stress_ops: FAILED: worker %d, op %lu (seed %"
			PRIu64 "): ", me, opno, seed);
	else
		fprintf(stderr, "stress_ops: FAILED: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* A problem of the harness itself */
static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "stress_ops: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static const char *errstr(long ret, int err)
{
	return ret < 0 ? strerror(err) : "ok";
}

/*
 * Equal outcomes: the same return value (or, for a descriptor, success in
 * both), and the same errno on failure.
 */
static void same(const char *what, const char *path, bool fd, long r0,
		 int e0, long r1, int e1)
{
	if ((fd ? (r0 < 0) != (r1 < 0) : r0 != r1) || (r0 < 0 && e0 != e1))
		failed("%s %s: test returned %ld (%s), ref %ld (%s)", what,
		       path, r0, errstr(r0, e0), r1, errstr(r1, e1));
}

/* Runs CALL in both trees (t is the tree index inside it) and compares. */
#define BOTH_CMP(what, path, fd, call)					\
	do {								\
		long r_[NTREES];					\
		int e_[NTREES];						\
		for (int t = 0; t < NTREES; t++) {			\
			errno = 0;					\
			r_[t] = (call);					\
			e_[t] = errno;					\
		}							\
		same(what, path, fd, r_[0], e_[0], r_[1], e_[1]);	\
	} while (0)
#define BOTH(what, path, call)	BOTH_CMP(what, path, false, call)

/* d<i>, or a subdirectory of this worker's in a shared directory */
static void loc_path(char *buf, size_t len, int loc)
{
	if (loc < NSHARED)
		snprintf(buf, len, "d%d", loc);
	else
		snprintf(buf, len, "d%d/w%ds%d", (me + loc) % NSHARED, me,
			 loc - NSHARED);
}

static void file_path(char *buf, size_t len)
{
	char dir[64];

	loc_path(dir, sizeof(dir), rnd(NLOC));
	snprintf(buf, len, "%s/w%df%d", dir, me, (int)rnd(NFILES));
}

static void close_both(int fd[NTREES])
{
	for (int t = 0; t < NTREES; t++)
		if (fd[t] >= 0)
			close(fd[t]);
}

/* Opens PATH in both trees; false (both closed) if it failed in both. */
static bool open_both(const char *what, const char *path, int flags,
		      int fd[NTREES])
{
	BOTH_CMP(what, path, true, fd[t] = openat(dfd[t], path, flags |
						  O_NOFOLLOW | O_CLOEXEC, 0644));
	return fd[0] >= 0;
}

/* Offsets and lengths near extent boundaries, where sealing goes wrong */
static uint64_t pick_off(void)
{
	uint64_t off = rnd(MAX_OFF);

	if (rnd(2))
		off = (off & ~4095ULL) + (rnd(3) ? 0 : 4096 - rnd(8));
	return off;
}

static void op_write(const char *p, bool append)
{
	int fd[NTREES];
	size_t len = append ? 1 + rnd(5000) : 1 + rnd(MAX_WRITE);
	uint64_t off = pick_off();

	if (!open_both(append ? "append open" : "write open", p, O_WRONLY |
		       O_CREAT | (append ? O_APPEND : 0), fd))
		return;
	fill_random(wbuf, len);
	if (append)
		BOTH("append", p, write(fd[t], wbuf, len));
	else
		BOTH("pwrite", p, pwrite(fd[t], wbuf, len, off));
	close_both(fd);
}

static void op_truncate(const char *p)
{
	int fd[NTREES];
	off_t size = rnd(4) ? (off_t)rnd(MAX_OFF) : 0;

	if (!open_both("truncate open", p, O_WRONLY, fd))
		return;
	BOTH("ftruncate", p, ftruncate(fd[t], size));
	close_both(fd);
}

/* A store through a shared mapping; the reference gets a pwrite. */
static void op_mmap(const char *p)
{
	int fd[NTREES];
	struct stat st[NTREES];
	size_t off, len, base;
	unsigned char *map;

	if (!open_both("mmap open", p, O_RDWR, fd))
		return;
	BOTH("fstat", p, fstat(fd[t], &st[t]));
	if (st[0].st_size != st[1].st_size)
		failed("size of %s: test %jd, ref %jd", p,
		       (intmax_t)st[0].st_size, (intmax_t)st[1].st_size);
	if (st[0].st_size == 0)
		goto out;
	off = rnd(st[0].st_size);
	len = 1 + rnd(st[0].st_size - off < 20000 ? st[0].st_size - off : 20000);
	base = off & ~(size_t)4095;
	map = mmap(NULL, off + len - base, PROT_READ | PROT_WRITE, MAP_SHARED,
		   fd[T_TEST], base);
	if (map == MAP_FAILED)
		failed("mmap %s at %zu: %s", p, base, strerror(errno));
	fill_random(wbuf, len);
	memcpy(map + (off - base), wbuf, len);
	if (rnd(2) && msync(map, off + len - base, MS_SYNC) < 0)
		failed("msync %s: %s", p, strerror(errno));
	munmap(map, off + len - base);
	if (pwrite(fd[T_REF], wbuf, len, off) != (ssize_t)len)
		die("pwrite ref %s: %s", p, strerror(errno));
out:
	close_both(fd);
}

/* Reads PATH whole in both trees and compares the bytes. */
static void op_read(const char *p)
{
	int fd[NTREES];
	struct stat st[NTREES];
	ssize_t n[NTREES];

	if (!open_both("read open", p, O_RDONLY, fd))
		return;
	BOTH("fstat", p, fstat(fd[t], &st[t]));
	if (st[0].st_size != st[1].st_size)
		failed("size of %s: test %jd, ref %jd", p,
		       (intmax_t)st[0].st_size, (intmax_t)st[1].st_size);
	for (off_t off = 0; off < st[1].st_size; off += n[1]) {
		BOTH("pread", p, n[t] = pread(fd[t], rbuf[t], MAX_OFF, off));
		if (n[1] <= 0)
			break;
		if (memcmp(rbuf[0], rbuf[1], n[1]))
			failed("%s: bytes differ in [%jd, %jd)", p,
			       (intmax_t)off, (intmax_t)(off + n[1]));
	}
	close_both(fd);
}

static void op_stat(const char *p)
{
	struct stat st[NTREES];

	memset(st, 0, sizeof(st));
	BOTH("lstat", p, fstatat(dfd[t], p, &st[t], AT_SYMLINK_NOFOLLOW));
	if (st[0].st_nlink == 0 && st[1].st_nlink == 0)
		return;	/* both failed */
	/* A link of a symlink is a copy on a bound volume (format.md §9). */
	if (st[0].st_mode != st[1].st_mode || st[0].st_size != st[1].st_size ||
	    (!S_ISDIR(st[1].st_mode) && !S_ISLNK(st[1].st_mode) &&
	     st[0].st_nlink != st[1].st_nlink))
		failed("lstat %s: test mode %o size %jd links %ju, ref mode %o "
		       "size %jd links %ju", p, st[0].st_mode,
		       (intmax_t)st[0].st_size, (uintmax_t)st[0].st_nlink,
		       st[1].st_mode, (intmax_t)st[1].st_size,
		       (uintmax_t)st[1].st_nlink);
}

static void op_xattr(const char *p)
{
	int fd[NTREES];
	char name[32];
	size_t len = 1 + rnd(200);
	long n[NTREES];
	int what = rnd(3);

	snprintf(name, sizeof(name), "user.stress%d", (int)rnd(NXATTR));
	if (!open_both("xattr open", p, O_RDONLY, fd))
		return;
	if (what == 0) {
		fill_random(wbuf, len);
		BOTH("fsetxattr", p, fsetxattr(fd[t], name, wbuf, len, 0));
	} else if (what == 1) {
		BOTH("fremovexattr", p, fremovexattr(fd[t], name));
	} else {
		BOTH("fgetxattr", p, n[t] = fgetxattr(fd[t], name, rbuf[t],
						       MAX_OFF));
		if (n[1] > 0 && memcmp(rbuf[0], rbuf[1], n[1]))
			failed("%s: xattr %s differs", p, name);
	}
	close_both(fd);
}

static void op_chmod(const char *p)
{
	static const mode_t modes[] = { 0600, 0644, 0640, 0755, 0400, 0660 };
	int fd[NTREES];
	mode_t m = modes[rnd(sizeof(modes) / sizeof(modes[0]))];

	if (!open_both("chmod open", p, O_RDONLY, fd))
		return;
	BOTH("fchmod", p, fchmod(fd[t], m));
	close_both(fd);
}

static void op_fsync(const char *p)
{
	int fd[NTREES];

	if (!open_both("fsync open", p, O_RDONLY, fd))
		return;
	BOTH("fsync", p, rnd(2) ? fsync(fd[t]) : fdatasync(fd[t]));
	close_both(fd);
}

static void op_symlink(const char *p)
{
	char target[64], got[NTREES][64];
	long n[NTREES];

	if (rnd(2)) {
		/* never resolves: chmod or truncate through it must fail alike */
		snprintf(target, sizeof(target), "nowhere/%" PRIx64,
			 rnd64() >> rnd(60));
		BOTH("symlink", p, symlinkat(target, dfd[t], p));
		return;
	}
	BOTH("readlink", p, n[t] = readlinkat(dfd[t], p, got[t],
					      sizeof(got[t])));
	if (n[1] > 0 && memcmp(got[0], got[1], n[1]))
		failed("readlink %s: test '%.*s', ref '%.*s'", p, (int)n[0],
		       got[0], (int)n[1], got[1]);
}

/* This worker's names in directory LOC, as a bitmap, or -errno. */
static long own_names(int t, const char *dir)
{
	char pre[16];
	DIR *d;
	struct dirent *de;
	long bits = 0;
	int fd, plen;

	fd = openat(dfd[t], dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (!d)
		die("fdopendir: %s", strerror(errno));
	plen = snprintf(pre, sizeof(pre), "w%d", me);
	while ((de = readdir(d))) {
		char kind;
		int i;

		if (strncmp(de->d_name, pre, plen) ||
		    sscanf(de->d_name + plen, "%c%d", &kind, &i) != 2)
			continue;
		bits |= 1L << (kind == 'f' ? i : NFILES + i);
	}
	closedir(d);
	return bits;
}

/*
 * A hard link, but not of a symlink: on a volume with bound symlink
 * targets link(2) of a symlink makes a copy (design.md), so a later
 * rename of one name over the other removes the first, where on the
 * reference it does nothing (the same inode).
 */
static void op_link(const char *a, const char *b)
{
	struct stat st;

	if (!fstatat(dfd[T_REF], a, &st, AT_SYMLINK_NOFOLLOW) &&
	    S_ISLNK(st.st_mode))
		return;
	BOTH("link", a, linkat(dfd[t], a, dfd[t], b, 0));
}

static void op_listdir(void)
{
	char dir[64];

	loc_path(dir, sizeof(dir), rnd(NLOC));
	BOTH("readdir", dir, own_names(t, dir));
}

static void one_op(void)
{
	char a[128], b[128];
	int op = rnd(100);

	file_path(a, sizeof(a));
	file_path(b, sizeof(b));
	opno++;
	if (op < 18)
		op_write(a, false);
	else if (op < 26)
		op_write(a, true);
	else if (op < 31)
		op_truncate(a);
	else if (op < 39)
		BOTH("rename", a, renameat(dfd[t], a, dfd[t], b));
	else if (op < 44)
		op_link(a, b);
	else if (op < 51)
		BOTH("unlink", a, unlinkat(dfd[t], a, 0));
	else if (op < 55) {
		loc_path(a, sizeof(a), NSHARED + rnd(NSUB));
		if (rnd(2))
			BOTH("mkdir", a, mkdirat(dfd[t], a, 0755));
		else
			BOTH("rmdir", a, unlinkat(dfd[t], a, AT_REMOVEDIR));
	} else if (op < 59)
		op_symlink(a);
	else if (op < 65)
		op_xattr(a);
	else if (op < 69)
		op_chmod(a);
	else if (op < 76)
		op_mmap(a);
	else if (op < 79)
		op_fsync(a);
	else if (op < 90)
		op_read(a);
	else if (op < 96)
		op_stat(a);
	else
		op_listdir();
}

static unsigned long worker(int k, unsigned seconds)
{
	time_t end = time(NULL) + seconds;

	me = k;
	rng = seed * 1000 + k;
	while (time(NULL) < end)
		for (int i = 0; i < 64; i++)
			one_op();
	return opno;
}

/* ---- whole-tree comparison ---- */

static unsigned long nentries;
static unsigned long long nbytes;

static void cmp_files(const char *p)
{
	int fd[NTREES];
	ssize_t n[NTREES];

	for (int t = 0; t < NTREES; t++) {
		fd[t] = openat(dfd[t], p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd[t] < 0)
			failed("open %s in %s: %s", p, root[t], strerror(errno));
	}
	for (off_t off = 0;; off += n[1]) {
		for (int t = 0; t < NTREES; t++) {
			n[t] = pread(fd[t], rbuf[t], MAX_OFF, off);
			if (n[t] < 0)
				failed("read %s in %s at %jd: %s", p, root[t],
				       (intmax_t)off, strerror(errno));
		}
		if (n[0] != n[1] || memcmp(rbuf[0], rbuf[1], n[1]))
			failed("%s: bytes differ from offset %jd", p,
			       (intmax_t)off);
		nbytes += n[1];
		if (n[1] == 0)
			break;
	}
	close_both(fd);
}

/* The xattrs the workers set, on a regular file P */
static void cmp_xattrs(const char *p)
{
	char name[32];
	int fd[NTREES];
	long n[NTREES];

	for (int t = 0; t < NTREES; t++) {
		fd[t] = openat(dfd[t], p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd[t] < 0)
			failed("open %s in %s: %s", p, root[t], strerror(errno));
	}
	for (int i = 0; i < NXATTR; i++) {
		snprintf(name, sizeof(name), "user.stress%d", i);
		for (int t = 0; t < NTREES; t++) {
			n[t] = fgetxattr(fd[t], name, rbuf[t], MAX_OFF);
			if (n[t] < 0 && errno != ENODATA)
				failed("getxattr %s of %s in %s: %s", name, p,
				       root[t], strerror(errno));
		}
		if (n[0] != n[1] || (n[1] > 0 && memcmp(rbuf[0], rbuf[1], n[1])))
			failed("%s: xattr %s differs", p, name);
	}
	close_both(fd);
}

static void cmp_entry(const char *p);

/* Every name of directory P in both trees, and nothing more in TEST. */
static void cmp_dir(const char *p)
{
	long count[NTREES] = { 0, 0 };

	for (int t = 0; t < NTREES; t++) {
		int fd = openat(dfd[t], p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *d = fd < 0 ? NULL : fdopendir(fd);
		struct dirent *de;

		if (!d)
			failed("opendir %s in %s: %s", p, root[t],
			       strerror(errno));
		while ((de = readdir(d))) {
			char sub[PATH_MAX];

			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			count[t]++;
			if (t == T_REF) {
				snprintf(sub, sizeof(sub), "%s/%s", p,
					 de->d_name);
				cmp_entry(sub);
			}
		}
		closedir(d);
	}
	if (count[0] != count[1])
		failed("directory %s: %ld entries in test, %ld in ref", p,
		       count[0], count[1]);
}

static void cmp_entry(const char *p)
{
	struct stat st[NTREES];
	char l[NTREES][PATH_MAX];
	ssize_t n[NTREES];

	nentries++;
	for (int t = 0; t < NTREES; t++)
		if (fstatat(dfd[t], p, &st[t], AT_SYMLINK_NOFOLLOW) < 0)
			failed("lstat %s in %s: %s", p, root[t],
			       strerror(errno));
	if (st[0].st_mode != st[1].st_mode)
		failed("%s: mode %o in test, %o in ref", p, st[0].st_mode,
		       st[1].st_mode);
	if (S_ISDIR(st[1].st_mode)) {
		cmp_dir(p);
		return;
	}
	if (st[0].st_size != st[1].st_size || st[0].st_nlink != st[1].st_nlink)
		failed("%s: size %jd links %ju in test, size %jd links %ju in "
		       "ref", p, (intmax_t)st[0].st_size,
		       (uintmax_t)st[0].st_nlink, (intmax_t)st[1].st_size,
		       (uintmax_t)st[1].st_nlink);
	if (S_ISLNK(st[1].st_mode)) {
		for (int t = 0; t < NTREES; t++)
			n[t] = readlinkat(dfd[t], p, l[t], sizeof(l[t]));
		if (n[0] < 0 || n[0] != n[1] || memcmp(l[0], l[1], n[1]))
			failed("readlink %s: differs or fails (%s)", p,
			       errstr(n[0], errno));
		return;
	}
	cmp_files(p);
	cmp_xattrs(p);
}

static int verify(void)
{
	cmp_dir(".");
	printf("stress_ops: verify: %lu entries and %llu bytes read, equal "
	       "to the reference\n", nentries, nbytes);
	return 0;
}

/* ---- driver ---- */

static uint64_t parse_num(const char *what, const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end)
		die("%s: not a number: %s", what, s);
	return v;
}

static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr, "usage: stress_ops run [--seed N] [--procs N] "
		"[--seconds N] TESTDIR REFDIR\n"
		"       stress_ops verify TESTDIR REFDIR\n");
	exit(2);
}

/* Forks the workers; each reports its operation count through a pipe. */
static int run(int procs, unsigned seconds)
{
	int pfd[2], status, bad = 0;
	unsigned long total = 0, n;
	char dir[16];

	for (int i = 0; i < NSHARED; i++) {
		snprintf(dir, sizeof(dir), "d%d", i);
		for (int t = 0; t < NTREES; t++)
			if (mkdirat(dfd[t], dir, 0755) < 0 && errno != EEXIST)
				die("mkdir %s in %s: %s", dir, root[t],
				    strerror(errno));
	}
	if (pipe(pfd) < 0)
		die("pipe: %s", strerror(errno));
	printf("stress_ops: %d processes for %u s, seed %" PRIu64 "\n", procs,
	       seconds, seed);
	fflush(stdout);
	for (int k = 0; k < procs; k++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork: %s", strerror(errno));
		if (pid == 0) {
			close(pfd[0]);
			n = worker(k, seconds);
			if (write(pfd[1], &n, sizeof(n)) != sizeof(n))
				die("worker %d: pipe: %s", k, strerror(errno));
			_exit(0);
		}
	}
	close(pfd[1]);
	while (read(pfd[0], &n, sizeof(n)) == sizeof(n))
		total += n;
	while (wait(&status) > 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			bad = 1;
	if (bad) {
		fprintf(stderr, "stress_ops: a worker failed (seed %" PRIu64
			"); trees left in %s and %s\n", seed, root[0], root[1]);
		return 1;
	}
	printf("stress_ops: %lu operations by %d processes, every outcome "
	       "equal to the reference\n", total, procs);
	return verify();
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "procs", required_argument, NULL, 'p' },
		{ "seconds", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned seconds = 60;
	int c, procs = 8;
	bool do_run;

	if (argc < 2)
		usage();
	do_run = !strcmp(argv[1], "run");
	if (!do_run && strcmp(argv[1], "verify"))
		usage();
	seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	optind = 2;
	while ((c = getopt_long(argc, argv, "s:p:t:", opts, NULL)) != -1) {
		if (c == 's')
			seed = parse_num("--seed", optarg);
		else if (c == 'p')
			procs = parse_num("--procs", optarg);
		else if (c == 't')
			seconds = parse_num("--seconds", optarg);
		else
			usage();
	}
	if (argc - optind != 2 || procs < 1 || procs > 9)
		usage();
	wbuf = malloc(MAX_WRITE + 20000);
	rbuf[0] = malloc(MAX_OFF);
	rbuf[1] = malloc(MAX_OFF);
	if (!wbuf || !rbuf[0] || !rbuf[1])
		die("out of memory");
	for (int t = 0; t < NTREES; t++) {
		root[t] = argv[optind + t];
		dfd[t] = open(root[t], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd[t] < 0)
			die("%s: %s", root[t], strerror(errno));
	}
	signal(SIGPIPE, SIG_IGN);
	return do_run ? run(procs, seconds) : verify();
}
