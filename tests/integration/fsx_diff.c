/*
 * fsx_diff - seeded random differential file operation test.
 *
 * Usage: fsx_diff [--seed N] [--ops N] [--extent N] TESTDIR REFDIR
 *
 * The same pseudo-random sequence of operations is applied to a
 * subdirectory of TESTDIR (the filesystem under test) and of REFDIR
 * (a plain directory on a trusted filesystem).  Every return value,
 * errno and byte read must be identical between the two trees.  The
 * operation sequence and all data depend only on the seed, so a failure
 * is reproduced by re-running with the printed seed.
 *
 * Besides reads, writes, truncates, appends, renames, links and fsyncs,
 * it punches holes, zeroes ranges (FALLOC_FL_ZERO_RANGE, with and
 * without KEEP_SIZE) and loads and stores through shared mappings, left
 * dirty or msync'd, so that the page cache meets all of them.
 *
 * Offsets and sizes are biased towards the extent size (the unit in
 * which an encrypting filesystem seals data), since read-modify-write at
 * extent boundaries, holes and truncation inside an extent are where
 * such filesystems usually go wrong.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/falloc.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define NNAMES		8	/* file names in the pool */
#define NSLOTS		6	/* files kept open at once */
#define LOGN		20	/* operations kept for the failure report */
#define LOGLEN		256
#define CHECK_EVERY	500	/* full tree comparison period */
#define MAX_FILE	(4ULL << 20)
#define CMP_CHUNK	(64 * 1024)

enum { T_TEST, T_REF, NTREES };

static const char *const tree_name[NTREES] = { "test", "ref" };

struct tree {
	char dir[PATH_MAX];	/* our subdirectory */
	int dfd;		/* O_DIRECTORY fd of dir; all ops are *at() */
};

struct slot {
	int fd[NTREES];		/* -1 when closed (in both trees) */
	int name;		/* name it was opened under, for the log */
	int flags;
};

static struct tree trees[NTREES];
static struct slot slots[NSLOTS];
static uint64_t seed;
static uint64_t rng;
static unsigned long nops = 20000;
static unsigned long opno;
static uint64_t extent = 4096;
static uint64_t max_file = MAX_FILE;
static unsigned char *wbuf, *rbuf[NTREES];
static size_t buf_size;
static char oplog[LOGN][LOGLEN];
static unsigned long oplog_count;

/* splitmix64: tiny, good enough, and reproducible from the seed alone */
static uint64_t rnd64(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* uniform-ish in [0, n); modulo bias is irrelevant here */
static uint64_t rnd(uint64_t n)
{
	return n ? rnd64() % n : 0;
}

static void fill_random(unsigned char *buf, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint64_t v = rnd64();
		size_t n = len - i < 8 ? len - i : 8;

		memcpy(buf + i, &v, n);
		i += n;
	}
}

static void logop(const char *fmt, ...)
{
	char *line = oplog[oplog_count % LOGN];
	int n;
	va_list ap;

	n = snprintf(line, LOGLEN, "op %lu: ", opno);
	va_start(ap, fmt);
	vsnprintf(line + n, LOGLEN - n, fmt, ap);
	va_end(ap);
	oplog_count++;
}

static void dump_log(void)
{
	unsigned long i = oplog_count > LOGN ? oplog_count - LOGN : 0;

	fprintf(stderr, "fsx_diff: last %lu operations:\n",
		oplog_count - i);
	for (; i < oplog_count; i++)
		fprintf(stderr, "  %s\n", oplog[i % LOGN]);
}

/* A difference between the trees: report and stop, leaving files behind */
static void __attribute__((noreturn, format(printf, 1, 2)))
failed(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "fsx_diff: FAILED at op %lu (seed %" PRIu64 "): ",
		opno, seed);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	dump_log();
	fprintf(stderr, "fsx_diff: trees left in %s and %s\n",
		trees[T_TEST].dir, trees[T_REF].dir);
	exit(1);
}

/* A problem of the harness itself (bad usage, out of memory, ...) */
static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fsx_diff: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static const char *fname(int name)
{
	static char buf[NNAMES][8];

	snprintf(buf[name], sizeof(buf[name]), "f%d", name);
	return buf[name];
}

static const char *errstr(long ret, int err)
{
	return ret < 0 ? strerror(err) : "ok";
}

/*
 * Compare the outcome of one call made in both trees.  A call that fails
 * in both trees with the same errno is a match: the test is about
 * identical behaviour, not about success.
 */
static void same_result(const char *what, long r0, int e0, long r1, int e1)
{
	if (r0 != r1 || (r0 < 0 && e0 != e1))
		failed("%s: test returned %ld (%s), ref returned %ld (%s)",
		       what, r0, errstr(r0, e0), r1, errstr(r1, e1));
}

/* size of the reference file behind a slot, to aim offsets sensibly */
static uint64_t ref_size(const struct slot *s)
{
	struct stat st;

	if (fstat(s->fd[T_REF], &st) < 0)
		failed("fstat ref %s: %s", fname(s->name), strerror(errno));
	return st.st_size;
}

static uint64_t clamp_off(uint64_t off)
{
	return off >= max_file ? max_file - 1 : off;
}

/* An offset biased towards extent boundaries, EOF and holes past EOF */
static uint64_t pick_off(uint64_t cur)
{
	uint64_t k, off;
	int64_t d;

	switch (rnd(10)) {
	case 0: case 1: case 2: case 3:
		/* within a few bytes of an extent boundary */
		k = rnd(cur / extent + 3);
		d = (int64_t)rnd(17) - 8;
		off = k * extent;
		off = d < 0 && (uint64_t)-d > off ? 0 : off + d;
		break;
	case 4: case 5: case 6:
		off = rnd(cur + extent);
		break;
	case 7:
		off = rnd(max_file);
		break;
	case 8:
		/* far beyond EOF: leaves a hole of up to 64 extents */
		off = cur + (1 + rnd(64)) * extent + rnd(extent);
		break;
	default:
		/* at EOF or just around it */
		off = cur + rnd(9);
		off = off >= 4 ? off - 4 : 0;
		break;
	}
	return clamp_off(off);
}

/* A length of 1 byte .. 3 extents, with boundary-ending lengths favoured */
static uint64_t pick_len(uint64_t off, uint64_t maxlen)
{
	uint64_t len;

	switch (rnd(8)) {
	case 0: case 1:
		len = 1 + rnd(16);
		break;
	case 2: case 3: case 4:
		len = 1 + rnd(extent);
		break;
	case 5:
		len = 1 + rnd(3 * extent);
		break;
	case 6:
		len = extent;
		break;
	default:
		/* end exactly on a later extent boundary */
		len = (off / extent + 1 + rnd(3)) * extent - off;
		break;
	}
	if (len > maxlen)
		len = maxlen;
	if (off + len > max_file)
		len = max_file - off;
	return len ? len : 1;
}

static uint64_t pick_size(uint64_t cur)
{
	uint64_t k = rnd(cur / extent + 3), sz;

	switch (rnd(10)) {
	case 0:
		sz = 0;
		break;
	case 1: case 2:
		sz = k * extent;
		break;
	case 3: case 4:
		sz = k * extent + 1;
		sz = rnd(2) && sz > 1 ? sz - 2 : sz;
		break;
	case 5: case 6:
		sz = rnd(cur + 1);
		break;
	case 7:
		sz = cur + rnd(3 * extent);
		break;
	case 8:
		sz = cur + (1 + rnd(64)) * extent + rnd(extent);
		break;
	default:
		sz = rnd(2) || !cur ? cur + 1 : cur - 1;
		break;
	}
	return sz > max_file ? max_file : sz;
}

/* open the same name with the same flags in both trees */
static void open_both(int name, int flags, int fd[NTREES], const char *why)
{
	int e[NTREES];
	char what[96];

	for (int t = 0; t < NTREES; t++) {
		fd[t] = openat(trees[t].dfd, fname(name), flags, 0644);
		e[t] = errno;
	}
	snprintf(what, sizeof(what), "%s open %s flags 0%o", why,
		 fname(name), flags);
	/* descriptor numbers differ between the trees; success must not */
	same_result(what, fd[T_TEST] < 0 ? -1 : 0, e[T_TEST],
		    fd[T_REF] < 0 ? -1 : 0, e[T_REF]);
}

static void close_both(int fd[NTREES], int name)
{
	int r[NTREES], e[NTREES];
	char what[64];

	for (int t = 0; t < NTREES; t++) {
		r[t] = close(fd[t]);
		e[t] = errno;
		fd[t] = -1;
	}
	/* close reports deferred write errors (FUSE flush): must match */
	snprintf(what, sizeof(what), "close %s", fname(name));
	same_result(what, r[T_TEST], e[T_TEST], r[T_REF], e[T_REF]);
}

/* the slot to operate on, opened read-write if it was closed */
static struct slot *get_slot(void)
{
	struct slot *s = &slots[rnd(NSLOTS)];

	if (s->fd[T_TEST] < 0) {
		s->name = rnd(NNAMES);
		s->flags = O_RDWR | O_CREAT;
		logop("slot %d: open %s O_RDWR|O_CREAT", (int)(s - slots),
		      fname(s->name));
		open_both(s->name, s->flags, s->fd, "implicit");
	}
	return s;
}

/* the size of every open file must agree after anything that mutates */
static void check_fstat_all(void)
{
	struct stat st[NTREES];

	for (int i = 0; i < NSLOTS; i++) {
		struct slot *s = &slots[i];

		if (s->fd[T_TEST] < 0)
			continue;
		for (int t = 0; t < NTREES; t++)
			if (fstat(s->fd[t], &st[t]) < 0)
				failed("fstat %s tree, slot %d (%s): %s",
				       tree_name[t], i, fname(s->name),
				       strerror(errno));
		if (st[T_TEST].st_size != st[T_REF].st_size)
			failed("fstat size of slot %d (opened as %s): test %lld, ref %lld",
			       i, fname(s->name),
			       (long long)st[T_TEST].st_size,
			       (long long)st[T_REF].st_size);
	}
}

static void ensure_buf(size_t len)
{
	if (len <= buf_size)
		return;
	free(wbuf);
	for (int t = 0; t < NTREES; t++)
		free(rbuf[t]);
	wbuf = malloc(len);
	rbuf[T_TEST] = malloc(len);
	rbuf[T_REF] = malloc(len);
	if (!wbuf || !rbuf[T_TEST] || !rbuf[T_REF])
		die("out of memory for %zu byte buffers", len);
	buf_size = len;
}

static void first_diff(const unsigned char *a, const unsigned char *b,
		       size_t len, size_t *at)
{
	size_t i = 0;

	while (i < len && a[i] == b[i])
		i++;
	*at = i;
}

static void do_pwrite(void)
{
	struct slot *s = get_slot();
	uint64_t off, len;
	ssize_t r[NTREES];
	int e[NTREES];
	char what[128];

	off = pick_off(ref_size(s));
	len = pick_len(off, 3 * extent);
	fill_random(wbuf, len);
	logop("pwrite %s [slot %d] off %" PRIu64 " len %" PRIu64 " (end %" PRIu64 ")",
	      fname(s->name), (int)(s - slots), off, len, off + len);
	for (int t = 0; t < NTREES; t++) {
		r[t] = pwrite(s->fd[t], wbuf, len, off);
		e[t] = errno;
	}
	snprintf(what, sizeof(what), "pwrite %s off %" PRIu64 " len %" PRIu64,
		 fname(s->name), off, len);
	same_result(what, r[T_TEST], e[T_TEST], r[T_REF], e[T_REF]);
	check_fstat_all();
}

static void do_pread(void)
{
	struct slot *s = get_slot();
	uint64_t off, len;
	ssize_t r[NTREES];
	int e[NTREES];
	size_t at;
	char what[128];

	off = pick_off(ref_size(s));
	len = pick_len(off, 4 * extent);
	logop("pread %s [slot %d] off %" PRIu64 " len %" PRIu64,
	      fname(s->name), (int)(s - slots), off, len);
	for (int t = 0; t < NTREES; t++) {
		r[t] = pread(s->fd[t], rbuf[t], len, off);
		e[t] = errno;
	}
	snprintf(what, sizeof(what), "pread %s off %" PRIu64 " len %" PRIu64,
		 fname(s->name), off, len);
	same_result(what, r[T_TEST], e[T_TEST], r[T_REF], e[T_REF]);
	if (r[T_REF] <= 0)
		return;
	first_diff(rbuf[T_TEST], rbuf[T_REF], r[T_REF], &at);
	if (at < (size_t)r[T_REF])
		failed("pread %s off %" PRIu64 " len %" PRIu64 ": data differs at file offset %" PRIu64 " (test 0x%02x, ref 0x%02x)",
		       fname(s->name), off, len, off + at,
		       rbuf[T_TEST][at], rbuf[T_REF][at]);
}

static void do_ftruncate(void)
{
	struct slot *s = get_slot();
	uint64_t cur = ref_size(s), sz = pick_size(cur);
	int r[NTREES], e[NTREES];
	char what[96];

	logop("ftruncate %s [slot %d] %" PRIu64 " -> %" PRIu64,
	      fname(s->name), (int)(s - slots), cur, sz);
	for (int t = 0; t < NTREES; t++) {
		r[t] = ftruncate(s->fd[t], sz);
		e[t] = errno;
	}
	snprintf(what, sizeof(what), "ftruncate %s to %" PRIu64,
		 fname(s->name), sz);
	same_result(what, r[T_TEST], e[T_TEST], r[T_REF], e[T_REF]);
	check_fstat_all();
}

static void do_reopen(void)
{
	struct slot *s = &slots[rnd(NSLOTS)];
	int flags;

	if (s->fd[T_TEST] >= 0) {
		logop("close %s [slot %d]", fname(s->name), (int)(s - slots));
		close_both(s->fd, s->name);
	}
	/* read-only now and then: writes must then fail alike (EBADF) */
	flags = rnd(10) ? O_RDWR : O_RDONLY;
	if (rnd(100) < 85)
		flags |= O_CREAT;
	if ((flags & O_CREAT) && rnd(100) < 3)
		flags |= O_EXCL;
	/* O_TRUNC with O_RDONLY is unspecified, so only with O_RDWR */
	if ((flags & O_ACCMODE) == O_RDWR && rnd(10) == 0)
		flags |= O_TRUNC;
	if (rnd(10) == 0)
		flags |= O_APPEND;
	s->name = rnd(NNAMES);
	s->flags = flags;
	logop("open %s [slot %d] flags%s%s%s%s%s", fname(s->name),
	      (int)(s - slots),
	      (flags & O_ACCMODE) == O_RDWR ? " O_RDWR" : " O_RDONLY",
	      flags & O_CREAT ? "|O_CREAT" : "", flags & O_EXCL ? "|O_EXCL" : "",
	      flags & O_TRUNC ? "|O_TRUNC" : "",
	      flags & O_APPEND ? "|O_APPEND" : "");
	open_both(s->name, flags, s->fd, "reopen");
	check_fstat_all();
}

/* write through a fresh O_APPEND descriptor, also after seeking to 0 */
static void do_append(void)
{
	int name = rnd(NNAMES), fd[NTREES];
	uint64_t len = 1 + rnd(2 * extent);
	bool reseek = rnd(3) == 0;
	ssize_t r[NTREES];
	int e[NTREES];
	char what[96];

	logop("append %s len %" PRIu64 "%s", fname(name), len,
	      reseek ? " twice, lseek(0) between" : "");
	open_both(name, O_WRONLY | O_APPEND | O_CREAT, fd, "append");
	if (fd[T_TEST] < 0)
		return;
	for (int pass = 0; pass < (reseek ? 2 : 1); pass++) {
		fill_random(wbuf, len);
		for (int t = 0; t < NTREES; t++) {
			if (pass && lseek(fd[t], 0, SEEK_SET) != 0)
				failed("lseek(0) on %s tree %s: %s",
				       tree_name[t], fname(name),
				       strerror(errno));
			r[t] = write(fd[t], wbuf, len);
			e[t] = errno;
		}
		snprintf(what, sizeof(what), "O_APPEND write %s len %" PRIu64,
			 fname(name), len);
		same_result(what, r[T_TEST], e[T_TEST], r[T_REF], e[T_REF]);
	}
	check_fstat_all();
	close_both(fd, name);
}

/*
 * fallocate(mode) in both trees.  A reference file system without
 * ZERO_RANGE (tmpfs) gets what it means: the bytes inside the file
 * punched, then the file grown to the end of the range unless KEEP_SIZE.
 */
static int ref_fallocate(int fd, int mode, uint64_t off, uint64_t len)
{
	struct stat st;

	if (!fallocate(fd, mode, off, len))
		return 0;
	if (errno != EOPNOTSUPP || !(mode & FALLOC_FL_ZERO_RANGE) ||
	    fstat(fd, &st) < 0)
		return -1;
	if (off < (uint64_t)st.st_size &&
	    fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off,
		      len < (uint64_t)st.st_size - off ?
		      len : (uint64_t)st.st_size - off) < 0)
		return -1;
	if (!(mode & FALLOC_FL_KEEP_SIZE) && off + len > (uint64_t)st.st_size)
		return ftruncate(fd, off + len);
	return 0;
}

/* Punch a hole or zero a range (with or without KEEP_SIZE), often over
 * many whole extents and past EOF. */
static void do_fallocate(bool zero)
{
	struct slot *s = get_slot();
	uint64_t off = pick_off(ref_size(s)), len;
	int mode, r[NTREES], e[NTREES];
	char what[128];

	if (rnd(3) == 0) {
		len = rnd(12) * extent + 1 + rnd(extent);
		if (off + len > max_file)
			len = max_file - off;
	} else {
		len = pick_len(off, 3 * extent);
	}
	mode = zero ? FALLOC_FL_ZERO_RANGE : FALLOC_FL_PUNCH_HOLE;
	if (!zero || rnd(2))
		mode |= FALLOC_FL_KEEP_SIZE;
	snprintf(what, sizeof(what), "fallocate %s %s%s off %" PRIu64 " len %" PRIu64,
		 fname(s->name), zero ? "ZERO_RANGE" : "PUNCH_HOLE",
		 mode & FALLOC_FL_KEEP_SIZE ? "|KEEP_SIZE" : "", off, len);
	logop("%s [slot %d]", what, (int)(s - slots));
	r[T_TEST] = fallocate(s->fd[T_TEST], mode, off, len);
	e[T_TEST] = errno;
	r[T_REF] = ref_fallocate(s->fd[T_REF], mode, off, len);
	e[T_REF] = errno;
	same_result(what, r[T_TEST], e[T_TEST], r[T_REF], e[T_REF]);
	check_fstat_all();
}

/*
 * Through a shared mapping of a range inside the file: store random bytes
 * (left dirty for later operations to meet, or msync'd), or load and
 * compare.  A read-only descriptor must refuse a writable mapping alike.
 */
static void do_mmap(void)
{
	struct slot *s = get_slot();
	uint64_t size = ref_size(s), off, len, pg = sysconf(_SC_PAGESIZE), base;
	bool store = rnd(2), sync = rnd(2);
	int prot = PROT_READ | (store ? PROT_WRITE : 0), e[NTREES];
	unsigned char *map[NTREES];
	char what[128];
	size_t at;

	if (size == 0)
		return;
	off = rnd(size);
	len = pick_len(off, 3 * extent);
	if (len > size - off)
		len = size - off;
	base = off / pg * pg;
	snprintf(what, sizeof(what), "mmap %s %s off %" PRIu64 " len %" PRIu64 "%s",
		 fname(s->name), store ? "store" : "load", off, len,
		 store && sync ? " msync" : "");
	logop("%s [slot %d]", what, (int)(s - slots));
	for (int t = 0; t < NTREES; t++) {
		map[t] = mmap(NULL, off + len - base, prot, MAP_SHARED,
			      s->fd[t], base);
		e[t] = errno;
	}
	same_result(what, map[T_TEST] == MAP_FAILED ? -1 : 0, e[T_TEST],
		    map[T_REF] == MAP_FAILED ? -1 : 0, e[T_REF]);
	if (map[T_REF] == MAP_FAILED)
		return;
	if (store) {
		fill_random(wbuf, len);
		for (int t = 0; t < NTREES; t++) {
			memcpy(map[t] + (off - base), wbuf, len);
			if (sync && msync(map[t], off + len - base, MS_SYNC) < 0)
				failed("%s: msync %s tree: %s", what,
				       tree_name[t], strerror(errno));
		}
	} else {
		first_diff(map[T_TEST] + (off - base), map[T_REF] + (off - base),
			   len, &at);
		if (at < len)
			failed("%s: data differs at file offset %" PRIu64 " (test 0x%02x, ref 0x%02x)",
			       what, off + at, map[T_TEST][off - base + at],
			       map[T_REF][off - base + at]);
	}
	for (int t = 0; t < NTREES; t++)
		munmap(map[t], off + len - base);
	check_fstat_all();
}

static void do_rename(void)
{
	int a = rnd(NNAMES), b = rnd(NNAMES), r[NTREES], e[NTREES];
	char what[64];

	logop("rename %s -> %s", fname(a), fname(b));
	for (int t = 0; t < NTREES; t++) {
		r[t] = renameat(trees[t].dfd, fname(a), trees[t].dfd, fname(b));
		e[t] = errno;
	}
	snprintf(what, sizeof(what), "rename %s -> %s", fname(a), fname(b));
	same_result(what, r[T_TEST], e[T_TEST], r[T_REF], e[T_REF]);
	check_fstat_all();
}

/*
 * Hard link, then write through the new name and read back through the
 * old one: both names must reach the same data, in the test tree too.
 */
static void do_link(void)
{
	int a = rnd(NNAMES), b = rnd(NNAMES), r[NTREES], e[NTREES];
	int fd[NTREES];
	uint64_t off, len;
	ssize_t n[NTREES];
	struct stat st;
	size_t at;
	char what[96];

	logop("link %s -> %s", fname(a), fname(b));
	for (int t = 0; t < NTREES; t++) {
		r[t] = linkat(trees[t].dfd, fname(a), trees[t].dfd, fname(b), 0);
		e[t] = errno;
	}
	snprintf(what, sizeof(what), "link %s -> %s", fname(a), fname(b));
	same_result(what, r[T_TEST], e[T_TEST], r[T_REF], e[T_REF]);
	if (r[T_REF] < 0)
		return;
	check_fstat_all();

	if (fstatat(trees[T_REF].dfd, fname(a), &st, 0) < 0)
		failed("stat ref %s: %s", fname(a), strerror(errno));
	off = pick_off(st.st_size);
	len = pick_len(off, 3 * extent);
	fill_random(wbuf, len);
	logop("  pwrite via %s off %" PRIu64 " len %" PRIu64 ", read via %s",
	      fname(b), off, len, fname(a));
	open_both(b, O_RDWR, fd, "link write");
	for (int t = 0; t < NTREES; t++) {
		n[t] = pwrite(fd[t], wbuf, len, off);
		e[t] = errno;
	}
	snprintf(what, sizeof(what), "pwrite via link %s off %" PRIu64 " len %" PRIu64,
		 fname(b), off, len);
	same_result(what, n[T_TEST], e[T_TEST], n[T_REF], e[T_REF]);
	check_fstat_all();
	close_both(fd, b);

	open_both(a, O_RDONLY, fd, "link read");
	for (int t = 0; t < NTREES; t++) {
		n[t] = pread(fd[t], rbuf[t], len, off);
		e[t] = errno;
	}
	snprintf(what, sizeof(what), "pread via %s after write via %s",
		 fname(a), fname(b));
	same_result(what, n[T_TEST], e[T_TEST], n[T_REF], e[T_REF]);
	for (int t = 0; t < NTREES; t++) {
		if (n[t] != (ssize_t)len)
			failed("%s tree: read via %s returned %zd of %" PRIu64 " bytes just written via %s",
			       tree_name[t], fname(a), n[t], len, fname(b));
		first_diff(rbuf[t], wbuf, len, &at);
		if (at < len)
			failed("%s tree: data written via %s not seen via %s at offset %" PRIu64 " (got 0x%02x, wrote 0x%02x)",
			       tree_name[t], fname(b), fname(a), off + at,
			       rbuf[t][at], wbuf[at]);
	}
	close_both(fd, a);
}

static void do_unlink(void)
{
	int a = rnd(NNAMES), r[NTREES], e[NTREES];
	char what[64];

	logop("unlink %s", fname(a));
	for (int t = 0; t < NTREES; t++) {
		r[t] = unlinkat(trees[t].dfd, fname(a), 0);
		e[t] = errno;
	}
	snprintf(what, sizeof(what), "unlink %s", fname(a));
	same_result(what, r[T_TEST], e[T_TEST], r[T_REF], e[T_REF]);
	check_fstat_all();
}

static void do_fsync(void)
{
	struct slot *s = get_slot();
	bool data = rnd(2);
	int r[NTREES], e[NTREES];
	char what[64];

	logop("%s %s [slot %d]", data ? "fdatasync" : "fsync",
	      fname(s->name), (int)(s - slots));
	for (int t = 0; t < NTREES; t++) {
		r[t] = data ? fdatasync(s->fd[t]) : fsync(s->fd[t]);
		e[t] = errno;
	}
	snprintf(what, sizeof(what), "%s %s", data ? "fdatasync" : "fsync",
		 fname(s->name));
	same_result(what, r[T_TEST], e[T_TEST], r[T_REF], e[T_REF]);
	check_fstat_all();
}

/* stat by name: catches a stale size/link count behind a path lookup */
static void do_stat(void)
{
	int a = rnd(NNAMES), r[NTREES], e[NTREES];
	struct stat st[NTREES];
	char what[64];

	logop("stat %s", fname(a));
	for (int t = 0; t < NTREES; t++) {
		r[t] = fstatat(trees[t].dfd, fname(a), &st[t],
			       AT_SYMLINK_NOFOLLOW);
		e[t] = errno;
	}
	snprintf(what, sizeof(what), "stat %s", fname(a));
	same_result(what, r[T_TEST], e[T_TEST], r[T_REF], e[T_REF]);
	if (r[T_REF] < 0)
		return;
	if (st[T_TEST].st_size != st[T_REF].st_size ||
	    st[T_TEST].st_nlink != st[T_REF].st_nlink)
		failed("stat %s: test size %lld nlink %lu, ref size %lld nlink %lu",
		       fname(a), (long long)st[T_TEST].st_size,
		       (unsigned long)st[T_TEST].st_nlink,
		       (long long)st[T_REF].st_size,
		       (unsigned long)st[T_REF].st_nlink);
}

/* compare two open files in full; 'what' names them in a failure */
static void compare_fds(int fd0, int fd1, const char *what)
{
	uint64_t off = 0;

	ensure_buf(CMP_CHUNK);
	for (;;) {
		ssize_t r0 = pread(fd0, rbuf[T_TEST], CMP_CHUNK, off);
		int e0 = errno;
		ssize_t r1 = pread(fd1, rbuf[T_REF], CMP_CHUNK, off);
		int e1 = errno;
		char w[PATH_MAX + 64];
		size_t at;

		snprintf(w, sizeof(w), "full compare %s: pread off %" PRIu64,
			 what, off);
		same_result(w, r0, e0, r1, e1);
		if (r1 <= 0)
			return;
		first_diff(rbuf[T_TEST], rbuf[T_REF], r1, &at);
		if (at < (size_t)r1)
			failed("full compare %s: data differs at offset %" PRIu64 " (test 0x%02x, ref 0x%02x)",
			       what, off + at, rbuf[T_TEST][at],
			       rbuf[T_REF][at]);
		off += r1;
	}
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* sorted list of the entries of a tree, without . and .. */
static int list_tree(int t, char ***out)
{
	int dfd, n = 0, cap = 16;
	char **names = malloc(cap * sizeof(*names));
	struct dirent *de;
	DIR *d;

	/* a fresh fd: readdir on trees[t].dfd would move its position */
	dfd = openat(trees[t].dfd, ".", O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		failed("open %s: %s", trees[t].dir, strerror(errno));
	d = fdopendir(dfd);
	if (!d || !names)
		failed("opendir %s: %s", trees[t].dir, strerror(errno));
	errno = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		/*
		 * libfuse's high-level API keeps unlinked-but-open files as
		 * .fuse_hidden* unless hard_remove is set; that is the
		 * library's doing, not the filesystem's, so skip them.
		 */
		if (!strncmp(de->d_name, ".fuse_hidden", 12))
			continue;
		if (n == cap) {
			cap *= 2;
			names = realloc(names, cap * sizeof(*names));
			if (!names)
				die("out of memory listing %s", trees[t].dir);
		}
		names[n] = strdup(de->d_name);
		if (!names[n++])
			die("out of memory listing %s", trees[t].dir);
		errno = 0;
	}
	if (errno)
		failed("readdir %s: %s", trees[t].dir, strerror(errno));
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	*out = names;
	return n;
}

static void free_list(char **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* The whole state: directory listing, metadata and bytes of every file */
static void compare_all(const char *when)
{
	char **names[NTREES];
	int n[NTREES];

	logop("full compare (%s)", when);
	for (int t = 0; t < NTREES; t++)
		n[t] = list_tree(t, &names[t]);
	for (int i = 0; i < n[T_TEST] || i < n[T_REF]; i++) {
		const char *a = i < n[T_TEST] ? names[T_TEST][i] : "(none)";
		const char *b = i < n[T_REF] ? names[T_REF][i] : "(none)";

		if (strcmp(a, b))
			failed("directory listings differ at entry %d: test has %s, ref has %s (test %d entries, ref %d)",
			       i, a, b, n[T_TEST], n[T_REF]);
	}
	for (int i = 0; i < n[T_REF]; i++) {
		const char *name = names[T_REF][i];
		struct stat st[NTREES];
		int fd[NTREES];

		for (int t = 0; t < NTREES; t++)
			if (fstatat(trees[t].dfd, name, &st[t],
				    AT_SYMLINK_NOFOLLOW) < 0)
				failed("stat %s/%s: %s", trees[t].dir, name,
				       strerror(errno));
		if (st[T_TEST].st_mode != st[T_REF].st_mode ||
		    st[T_TEST].st_size != st[T_REF].st_size ||
		    st[T_TEST].st_nlink != st[T_REF].st_nlink)
			failed("stat %s: test mode 0%o size %lld nlink %lu, ref mode 0%o size %lld nlink %lu",
			       name, st[T_TEST].st_mode,
			       (long long)st[T_TEST].st_size,
			       (unsigned long)st[T_TEST].st_nlink,
			       st[T_REF].st_mode, (long long)st[T_REF].st_size,
			       (unsigned long)st[T_REF].st_nlink);
		for (int t = 0; t < NTREES; t++) {
			fd[t] = openat(trees[t].dfd, name, O_RDONLY);
			if (fd[t] < 0)
				failed("open %s/%s: %s", trees[t].dir, name,
				       strerror(errno));
		}
		compare_fds(fd[T_TEST], fd[T_REF], name);
		close(fd[T_TEST]);
		close(fd[T_REF]);
	}
	/* open files, including unlinked ones only reachable by fd */
	for (int i = 0; i < NSLOTS; i++) {
		char what[64];

		if (slots[i].fd[T_TEST] < 0)
			continue;
		snprintf(what, sizeof(what), "slot %d (opened as %s)", i,
			 fname(slots[i].name));
		compare_fds(slots[i].fd[T_TEST], slots[i].fd[T_REF], what);
	}
	for (int t = 0; t < NTREES; t++)
		free_list(names[t], n[t]);
}

static void setup_tree(int t, const char *root)
{
	struct tree *tr = &trees[t];
	struct dirent *de;
	DIR *d;
	int n;

	n = snprintf(tr->dir, sizeof(tr->dir), "%s/fsx_diff.%d", root,
		     (int)getpid());
	if (n >= (int)sizeof(tr->dir))
		die("path too long: %s", root);
	if (mkdir(tr->dir, 0755) < 0)
		die("mkdir %s: %s", tr->dir, strerror(errno));
	tr->dfd = open(tr->dir, O_RDONLY | O_DIRECTORY);
	if (tr->dfd < 0)
		die("open %s: %s", tr->dir, strerror(errno));
	/* a fresh directory must be empty; anything else is a bug */
	d = opendir(tr->dir);
	if (!d)
		die("opendir %s: %s", tr->dir, strerror(errno));
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			die("new directory %s is not empty: has %s", tr->dir,
			    de->d_name);
	closedir(d);
}

static void cleanup_tree(int t)
{
	struct tree *tr = &trees[t];

	for (int i = 0; i < NNAMES; i++)
		if (unlinkat(tr->dfd, fname(i), 0) < 0 && errno != ENOENT)
			failed("cleanup: unlink %s/%s: %s", tr->dir, fname(i),
			       strerror(errno));
	close(tr->dfd);
	if (rmdir(tr->dir) < 0)
		failed("cleanup: rmdir %s: %s", tr->dir, strerror(errno));
}

static uint64_t parse_num(const char *opt, const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || !*s || *end || *s == '-')
		die("bad number for %s: %s", opt, s);
	return v;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: fsx_diff [--seed N] [--ops N] [--extent N] TESTDIR REFDIR\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "ops", required_argument, NULL, 'o' },
		{ "extent", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	bool have_seed = false;
	int c;

	while ((c = getopt_long(argc, argv, "s:o:e:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			seed = parse_num("--seed", optarg);
			have_seed = true;
			break;
		case 'o':
			nops = parse_num("--ops", optarg);
			break;
		case 'e':
			extent = parse_num("--extent", optarg);
			if (!extent || extent > (64 << 20))
				die("--extent must be 1..%d", 64 << 20);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2)
		usage();
	if (!have_seed) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		seed = ((uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec) ^
		       ((uint64_t)getpid() << 32);
	}
	printf("fsx_diff: seed %" PRIu64 "\n", seed);
	fflush(stdout);
	rng = seed;
	/* keep a few extents of room even with a large --extent */
	if (max_file < 8 * extent)
		max_file = 8 * extent;

	setup_tree(T_TEST, argv[optind]);
	setup_tree(T_REF, argv[optind + 1]);
	for (int i = 0; i < NSLOTS; i++)
		slots[i].fd[T_TEST] = slots[i].fd[T_REF] = -1;
	ensure_buf(4 * extent > CMP_CHUNK ? 4 * extent : CMP_CHUNK);

	for (opno = 1; opno <= nops; opno++) {
		unsigned int w = rnd(100);

		if (w < 30)
			do_pwrite();
		else if (w < 52)
			do_pread();
		else if (w < 62)
			do_ftruncate();
		else if (w < 68)
			do_reopen();
		else if (w < 74)
			do_append();
		else if (w < 78)
			do_rename();
		else if (w < 82)
			do_link();
		else if (w < 85)
			do_unlink();
		else if (w < 88)
			do_fsync();
		else if (w < 90)
			do_stat();
		else if (w < 93)
			do_fallocate(false);
		else if (w < 97)
			do_fallocate(true);
		else
			do_mmap();
		if (opno % CHECK_EVERY == 0)
			compare_all("periodic");
	}
	opno = nops;
	compare_all("final");

	for (int i = 0; i < NSLOTS; i++)
		if (slots[i].fd[T_TEST] >= 0)
			close_both(slots[i].fd, slots[i].name);
	for (int t = 0; t < NTREES; t++)
		cleanup_tree(t);
	free(wbuf);
	free(rbuf[T_TEST]);
	free(rbuf[T_REF]);
	printf("fsx_diff: seed %" PRIu64 ", %lu ops: OK\n", seed, nops);
	return 0;
}
