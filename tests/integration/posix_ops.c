/*
 * posix_ops - cmocka suite of POSIX file system behaviour.
 *
 * Runs inside the directory named by $ATR_MNT (normally an atrestfs
 * mount); it creates posix_ops.<pid> there, gives every test a fresh
 * subdirectory of it and removes everything again.  All tests in the
 * "posix_ops" group must pass on a plain ext4 or tmpfs directory as well,
 * so that a failure on atrestfs points at atrestfs.  The "posix_ops_atrestfs"
 * group checks atrestfs's reserved user.atrestfs.* extended attributes and
 * runs only with ATR_IS_ATRESTFS=1.
 *
 * Where the kernel's FUSE layer itself behaves differently from a local
 * filesystem the test says so in a comment; the assertions stay strict.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define EXTENT		4096
#define MIB		(1024 * 1024)

static char base_dir[PATH_MAX];	/* $ATR_MNT/posix_ops.<pid> */
static char test_dir[PATH_MAX];	/* base_dir/tNNN, fresh for each test */
static int test_seq;

/*
 * Run a system call; on failure report the path, the call and errno and
 * fail the test.  Evaluates to the call's result.
 */
#define SYS(call, path) ({						\
	__typeof__(call) __r = (call);					\
	if (__r < 0) {							\
		int __e = errno;					\
		print_error("%s: %s failed: %s (errno %d)\n",		\
			    (path), #call, strerror(__e), __e);		\
		fail();							\
	}								\
	__r;								\
})

/* The call must fail with exactly this errno. */
#define SYS_ERR(call, err, path) do {					\
	long __r;							\
	int __e;							\
	errno = 0;							\
	__r = (long)(call);						\
	__e = errno;							\
	if (__r != -1 || __e != (err)) {				\
		print_error("%s: %s returned %ld (%s), expected -1 with %s\n", \
			    (path), #call, __r,				\
			    __r == -1 ? strerror(__e) : "success",	\
			    strerror(err));				\
		fail();							\
	}								\
} while (0)

static const char *tp(char *buf, const char *name)
{
	int n = snprintf(buf, PATH_MAX, "%s/%s", test_dir, name);

	if (n >= PATH_MAX)
		fail_msg("path too long: %s/%s", test_dir, name);
	return buf;
}

/* deterministic filler so that a misplaced byte is recognisable */
static void fill_pattern(unsigned char *buf, size_t len, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = x >> 24;
	}
}

static void *xmalloc(size_t len)
{
	void *p = malloc(len ? len : 1);

	if (!p)
		fail_msg("out of memory (%zu bytes)", len);
	return p;
}

static void pwrite_full(int fd, const void *buf, size_t len, off_t off,
			const char *path)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = SYS(pwrite(fd, (const char *)buf + done,
				       len - done, off + done), path);

		if (n == 0)
			fail_msg("%s: pwrite at %lld wrote 0 bytes", path,
				 (long long)(off + done));
		done += n;
	}
}

/* read up to len bytes, short only at EOF; returns bytes read */
static size_t pread_full(int fd, void *buf, size_t len, off_t off,
			 const char *path)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = SYS(pread(fd, (char *)buf + done, len - done,
				      off + done), path);

		if (n == 0)
			break;
		done += n;
	}
	return done;
}

static off_t fd_size(int fd, const char *path)
{
	struct stat st;

	SYS(fstat(fd, &st), path);
	return st.st_size;
}

/*
 * The file must be exactly 'size' bytes equal to 'model': st_size, the
 * number of bytes read (reading past the end too) and every byte.
 */
static void check_content(int fd, const unsigned char *model, size_t size,
			  const char *path)
{
	unsigned char *buf = xmalloc(size + EXTENT);
	off_t st_size = fd_size(fd, path);
	size_t n = pread_full(fd, buf, size + EXTENT, 0, path);
	size_t i = 0;
	unsigned got = 0, want = 0;

	while (i < n && i < size && buf[i] == model[i])
		i++;
	if (i < n && i < size) {
		got = buf[i];
		want = model[i];
	}
	free(buf);
	if ((size_t)st_size != size)
		fail_msg("%s: st_size %lld, expected %zu", path,
			 (long long)st_size, size);
	if (n != size)
		fail_msg("%s: read %zu bytes from offset 0, expected %zu",
			 path, n, size);
	if (i < size)
		fail_msg("%s: byte at offset %zu is 0x%02x, expected 0x%02x",
			 path, i, got, want);
}

/* [off, off+len) must read back as zeros, all of it */
static void check_zeros(int fd, off_t off, size_t len, const char *path)
{
	unsigned char *buf = xmalloc(len);
	size_t n = pread_full(fd, buf, len, off, path);
	size_t i = 0;

	while (i < n && !buf[i])
		i++;
	free(buf);
	if (n != len)
		fail_msg("%s: read %zu bytes at %lld, expected %zu", path, n,
			 (long long)off, len);
	if (i < len)
		fail_msg("%s: byte at offset %lld is not zero", path,
			 (long long)(off + i));
}

/* new file containing len pattern bytes; returns an O_RDWR fd */
static int make_file(const char *path, unsigned char *data, size_t len,
		     uint64_t seed)
{
	int fd = SYS(open(path, O_RDWR | O_CREAT | O_EXCL, 0644), path);

	fill_pattern(data, len, seed);
	pwrite_full(fd, data, len, 0, path);
	return fd;
}

static void close_ok(int fd, const char *path)
{
	SYS(close(fd), path);
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP ? rmdir(path) : unlink(path)) {
		print_error("cleanup: remove %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int rm_tree(const char *path)
{
	return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int test_setup(void **state)
{
	(void)state;
	if (snprintf(test_dir, sizeof(test_dir), "%s/t%03d", base_dir,
		     ++test_seq) >= (int)sizeof(test_dir)) {
		print_error("path too long: %s/t%03d\n", base_dir, test_seq);
		return -1;
	}
	if (mkdir(test_dir, 0755)) {
		print_error("mkdir %s: %s\n", test_dir, strerror(errno));
		return -1;
	}
	return 0;
}

static int test_teardown(void **state)
{
	(void)state;
	return rm_tree(test_dir);
}

static int group_setup(void **state)
{
	const char *mnt = getenv("ATR_MNT");

	(void)state;
	if (!mnt || !*mnt) {
		print_error("ATR_MNT is not set\n");
		return -1;
	}
	if (snprintf(base_dir, sizeof(base_dir), "%s/posix_ops.%d", mnt,
		     (int)getpid()) >= (int)sizeof(base_dir)) {
		print_error("ATR_MNT too long: %s\n", mnt);
		return -1;
	}
	if (mkdir(base_dir, 0755)) {
		print_error("mkdir %s: %s\n", base_dir, strerror(errno));
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	/* every test removed its own directory; leftovers are a failure */
	if (rmdir(base_dir)) {
		print_error("rmdir %s: %s\n", base_dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- open flags ---------------------------------------------------- */

static void test_create_excl(void **state)
{
	char p[PATH_MAX], l[PATH_MAX];
	int fd;

	(void)state;
	tp(p, "f");
	tp(l, "dangling");
	fd = SYS(open(p, O_RDWR | O_CREAT | O_EXCL, 0644), p);
	SYS_ERR(open(p, O_RDWR | O_CREAT | O_EXCL, 0644), EEXIST, p);
	/* O_EXCL must not follow a symlink, even a dangling one */
	SYS(symlink("nowhere", l), l);
	SYS_ERR(open(l, O_RDWR | O_CREAT | O_EXCL, 0644), EEXIST, l);
	SYS_ERR(access(tp(l, "nowhere"), F_OK), ENOENT, l);
	close_ok(fd, p);
}

static void test_o_trunc(void **state)
{
	unsigned char data[10000], model[10000] = { 0 };
	char p[PATH_MAX];
	int fd;

	(void)state;
	tp(p, "f");
	fd = make_file(p, data, sizeof(data), 1);
	close_ok(fd, p);
	fd = SYS(open(p, O_RDWR | O_TRUNC), p);
	check_content(fd, model, 0, p);
	pwrite_full(fd, "0123456789", 10, 0, p);
	memcpy(model, "0123456789", 10);
	check_content(fd, model, 10, p);
	/* regrowing must not resurrect the truncated bytes */
	SYS(ftruncate(fd, sizeof(model)), p);
	check_content(fd, model, sizeof(model), p);
	close_ok(fd, p);
}

static void test_o_append(void **state)
{
	unsigned char model[400];
	char p[PATH_MAX];
	int afd, wfd;

	(void)state;
	tp(p, "f");
	wfd = make_file(p, model, 100, 2);
	afd = SYS(open(p, O_WRONLY | O_APPEND), p);
	SYS(lseek(afd, 0, SEEK_SET), p);
	memset(model + 100, 'B', 50);
	if (SYS(write(afd, model + 100, 50), p) != 50)
		fail_msg("%s: short O_APPEND write", p);
	assert_int_equal(SYS(lseek(afd, 0, SEEK_CUR), p), 150);
	check_content(wfd, model, 150, p);

	/* growth through another descriptor moves the append point too */
	fill_pattern(model + 150, 150, 3);
	pwrite_full(wfd, model + 150, 150, 150, p);
	SYS(lseek(afd, 0, SEEK_SET), p);
	memset(model + 300, 'C', 100);
	if (SYS(write(afd, model + 300, 100), p) != 100)
		fail_msg("%s: short O_APPEND write", p);
	check_content(wfd, model, 400, p);
	close_ok(afd, p);
	close_ok(wfd, p);
}

/* ---- data path ----------------------------------------------------- */

static void test_roundtrip_sizes(void **state)
{
	static const size_t sizes[] = { 0, 1, 4095, 4096, 4097, MIB + 3 };
	static const off_t offs[] = { 0, 12345 };
	char p[PATH_MAX];

	(void)state;
	tp(p, "f");
	for (size_t o = 0; o < sizeof(offs) / sizeof(offs[0]); o++) {
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			size_t len = sizes[s], fsz = len ? offs[o] + len : 0;
			unsigned char *model = xmalloc(fsz);
			int fd;

			memset(model, 0, fsz);
			fill_pattern(model + (len ? offs[o] : 0), len, s + 10);
			fd = SYS(open(p, O_RDWR | O_CREAT | O_EXCL, 0644), p);
			pwrite_full(fd, model + (len ? offs[o] : 0), len,
				    offs[o], p);
			check_content(fd, model, fsz, p);
			close_ok(fd, p);
			/* and again from a fresh open: not just the cache */
			fd = SYS(open(p, O_RDONLY), p);
			check_content(fd, model, fsz, p);
			close_ok(fd, p);
			SYS(unlink(p), p);
			free(model);
		}
	}
}

static void test_read_past_eof(void **state)
{
	unsigned char data[5000], buf[200];
	char p[PATH_MAX];
	int fd;

	(void)state;
	tp(p, "f");
	fd = make_file(p, data, sizeof(data), 4);
	assert_int_equal(SYS(pread(fd, buf, sizeof(buf), 5000), p), 0);
	assert_int_equal(SYS(pread(fd, buf, sizeof(buf), 100000), p), 0);
	assert_int_equal(SYS(pread(fd, buf, sizeof(buf), 4990), p), 10);
	assert_memory_equal(buf, data + 4990, 10);
	SYS(lseek(fd, 0, SEEK_END), p);
	assert_int_equal(SYS(read(fd, buf, sizeof(buf)), p), 0);
	close_ok(fd, p);
}

static void test_stat_size(void **state)
{
	unsigned char buf[8192];
	char p[PATH_MAX];
	struct stat st;
	int fd;

	(void)state;
	tp(p, "f");
	fill_pattern(buf, sizeof(buf), 5);
	fd = SYS(open(p, O_RDWR | O_CREAT | O_EXCL, 0644), p);
	assert_int_equal(SYS(write(fd, buf, 1), p), 1);
	assert_int_equal(SYS(write(fd, buf, 4096), p), 4096);
	assert_int_equal(SYS(write(fd, buf, 3000), p), 3000);
	SYS(stat(p, &st), p);
	assert_int_equal(st.st_size, 7097);
	assert_int_equal(fd_size(fd, p), 7097);
	close_ok(fd, p);
	SYS(stat(p, &st), p);
	assert_int_equal(st.st_size, 7097);
}

static void test_hole_far(void **state)
{
	const off_t far = 10 * MIB + 123;
	unsigned char data[100], head[100], tail[10], buf[10];
	char p[PATH_MAX];
	int fd;

	(void)state;
	tp(p, "f");
	fd = make_file(p, data, sizeof(data), 6);
	fill_pattern(tail, sizeof(tail), 7);
	pwrite_full(fd, tail, sizeof(tail), far, p);
	assert_int_equal(fd_size(fd, p), far + sizeof(tail));
	close_ok(fd, p);
	fd = SYS(open(p, O_RDONLY), p);
	assert_int_equal(fd_size(fd, p), far + sizeof(tail));
	assert_int_equal(pread_full(fd, head, sizeof(head), 0, p), sizeof(head));
	assert_memory_equal(head, data, sizeof(data));
	check_zeros(fd, sizeof(data), far - sizeof(data), p);
	assert_int_equal(pread_full(fd, buf, sizeof(buf), far, p), 10);
	assert_memory_equal(buf, tail, 10);
	close_ok(fd, p);
}

/*
 * Truncate down then up: the regrown range must read as zeros, not as
 * the bytes that were there before (an extent-based filesystem that only
 * shortens its size field would return them).
 */
static void test_truncate_down_up(void **state)
{
	static const struct { off_t down, up; } steps[] = {
		{ 5000, 20000 }, { 4096, 8192 }, { 4095, 12289 }, { 1, 4096 },
		{ 0, 9000 }, { 8193, 8194 },
	};
	unsigned char model[20000];
	char p[PATH_MAX];
	size_t size = 3 * EXTENT + 100;
	int fd;

	(void)state;
	tp(p, "f");
	fd = make_file(p, model, size, 8);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		SYS(ftruncate(fd, steps[i].down), p);
		check_content(fd, model, steps[i].down, p);
		SYS(ftruncate(fd, steps[i].up), p);
		memset(model + steps[i].down, 0, steps[i].up - steps[i].down);
		size = steps[i].up;
		check_content(fd, model, size, p);
		/* refill so that the next step has data to cut */
		fill_pattern(model, size, 100 + i);
		pwrite_full(fd, model, size, 0, p);
	}
	/* down, then a write past the new end: the gap must be zeros */
	SYS(ftruncate(fd, 5000), p);
	fill_pattern(model + 9000, 10, 99);
	memset(model + 5000, 0, 4000);
	pwrite_full(fd, model + 9000, 10, 9000, p);
	check_content(fd, model, 9010, p);
	/* truncate(2) by path, then up again, checked through a new open */
	SYS(truncate(p, 3000), p);
	SYS(truncate(p, 7000), p);
	memset(model + 3000, 0, 4000);
	close_ok(fd, p);
	fd = SYS(open(p, O_RDONLY), p);
	check_content(fd, model, 7000, p);
	close_ok(fd, p);
}

static void test_truncate_nonboundary(void **state)
{
	unsigned char model[3 * EXTENT];
	char p[PATH_MAX];
	int fd;

	(void)state;
	tp(p, "f");
	fd = make_file(p, model, sizeof(model), 9);
	SYS(ftruncate(fd, 6001), p);
	check_content(fd, model, 6001, p);
	close_ok(fd, p);
	fd = SYS(open(p, O_RDWR), p);
	check_content(fd, model, 6001, p);
	/* a write at the new EOF continues cleanly after the cut */
	fill_pattern(model + 6001, 100, 10);
	pwrite_full(fd, model + 6001, 100, 6001, p);
	check_content(fd, model, 6101, p);
	close_ok(fd, p);
}

/* ---- metadata ------------------------------------------------------ */

static void test_chmod(void **state)
{
	unsigned char data[100];
	char p[PATH_MAX], d[PATH_MAX];
	struct stat st;
	int fd;

	(void)state;
	tp(p, "f");
	tp(d, "d");
	fd = make_file(p, data, sizeof(data), 11);
	SYS(chmod(p, 0600), p);
	SYS(stat(p, &st), p);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	SYS(fchmod(fd, 0751), p);
	SYS(fstat(fd, &st), p);
	assert_int_equal(st.st_mode & 07777, 0751);
	SYS(mkdir(d, 0755), d);
	SYS(chmod(d, 0710), d);
	SYS(stat(d, &st), d);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0710);
	/* data is unaffected by a mode change */
	check_content(fd, data, sizeof(data), p);
	close_ok(fd, p);
}

static void test_chown(void **state)
{
	unsigned char data[100];
	char p[PATH_MAX], l[PATH_MAX];
	struct stat st;
	int fd;

	(void)state;
	if (geteuid() != 0) {
		print_message("test_chown: not root, skipped\n");
		skip();
	}
	tp(p, "f");
	tp(l, "l");
	fd = make_file(p, data, sizeof(data), 12);
	SYS(chown(p, 1234, 5678), p);
	SYS(stat(p, &st), p);
	assert_int_equal(st.st_uid, 1234);
	assert_int_equal(st.st_gid, 5678);
	SYS(fchown(fd, -1, 4321), p);
	SYS(fstat(fd, &st), p);
	assert_int_equal(st.st_uid, 1234);
	assert_int_equal(st.st_gid, 4321);
	/* lchown changes the link, not its target */
	SYS(symlink("f", l), l);
	SYS(lchown(l, 2222, 3333), l);
	SYS(lstat(l, &st), l);
	assert_int_equal(st.st_uid, 2222);
	assert_int_equal(st.st_gid, 3333);
	SYS(stat(p, &st), p);
	assert_int_equal(st.st_uid, 1234);
	check_content(fd, data, sizeof(data), p);
	close_ok(fd, p);
}

static void assert_times(const char *path, time_t as, long ans, time_t ms,
			 long mns)
{
	struct stat st;

	SYS(stat(path, &st), path);
	if (st.st_atim.tv_sec != as || st.st_atim.tv_nsec != ans ||
	    st.st_mtim.tv_sec != ms || st.st_mtim.tv_nsec != mns)
		fail_msg("%s: atime %lld.%09ld mtime %lld.%09ld, expected %lld.%09ld and %lld.%09ld",
			 path, (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
			 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
			 (long long)as, ans, (long long)ms, mns);
}

static void test_utimensat_values(void **state)
{
	const struct timespec ts[2] = {
		{ 1000000000, 123456789 }, { 1200000000, 987654321 }
	};
	const struct timespec ts2[2] = { { 1500000000, 0 }, { 1600000000, 5 } };
	unsigned char data[10];
	char p[PATH_MAX];
	int fd;

	(void)state;
	tp(p, "f");
	fd = make_file(p, data, sizeof(data), 13);
	SYS(utimensat(AT_FDCWD, p, ts, 0), p);
	assert_times(p, ts[0].tv_sec, ts[0].tv_nsec, ts[1].tv_sec,
		     ts[1].tv_nsec);
	SYS(futimens(fd, ts2), p);
	assert_times(p, ts2[0].tv_sec, ts2[0].tv_nsec, ts2[1].tv_sec,
		     ts2[1].tv_nsec);
	close_ok(fd, p);
	/* still so after close (a flush must not touch mtime) */
	assert_times(p, ts2[0].tv_sec, ts2[0].tv_nsec, ts2[1].tv_sec,
		     ts2[1].tv_nsec);
}

static void test_utimensat_now(void **state)
{
	const struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	const struct timespec now[2] = { { 0, UTIME_NOW }, { 0, UTIME_NOW } };
	unsigned char data[10];
	struct timespec before, after;
	char p[PATH_MAX];
	struct stat st;
	int fd;

	(void)state;
	tp(p, "f");
	fd = make_file(p, data, sizeof(data), 14);
	close_ok(fd, p);
	for (int i = 0; i < 2; i++) {
		SYS(utimensat(AT_FDCWD, p, old, 0), p);
		clock_gettime(CLOCK_REALTIME, &before);
		SYS(utimensat(AT_FDCWD, p, i ? now : NULL, 0), p);
		clock_gettime(CLOCK_REALTIME, &after);
		SYS(stat(p, &st), p);
		/* file times use a coarse clock: allow a second of slack */
		assert_in_range(st.st_atim.tv_sec, before.tv_sec - 1,
				after.tv_sec + 1);
		assert_in_range(st.st_mtim.tv_sec, before.tv_sec - 1,
				after.tv_sec + 1);
	}
}

static void test_utimensat_omit(void **state)
{
	const struct timespec set[2] = { { 1100000000, 1 }, { 1200000000, 2 } };
	const struct timespec om_a[2] = { { 0, UTIME_OMIT }, { 1300000000, 3 } };
	const struct timespec om_m[2] = { { 1400000000, 4 }, { 0, UTIME_OMIT } };
	unsigned char data[10];
	char p[PATH_MAX];
	int fd;

	(void)state;
	tp(p, "f");
	fd = make_file(p, data, sizeof(data), 15);
	close_ok(fd, p);
	SYS(utimensat(AT_FDCWD, p, set, 0), p);
	assert_times(p, 1100000000, 1, 1200000000, 2);
	SYS(utimensat(AT_FDCWD, p, om_a, 0), p);
	assert_times(p, 1100000000, 1, 1300000000, 3);
	SYS(utimensat(AT_FDCWD, p, om_m, 0), p);
	assert_times(p, 1400000000, 4, 1300000000, 3);
}

/* ---- namespace ----------------------------------------------------- */

static void test_mkdir_rmdir(void **state)
{
	char d[PATH_MAX], f[PATH_MAX];
	struct stat st;

	(void)state;
	tp(d, "d");
	tp(f, "d/f");
	SYS(mkdir(d, 0755), d);
	SYS(stat(d, &st), d);
	assert_true(S_ISDIR(st.st_mode));
	SYS_ERR(mkdir(d, 0755), EEXIST, d);
	close_ok(SYS(open(f, O_WRONLY | O_CREAT | O_EXCL, 0644), f), f);
	SYS_ERR(rmdir(d), ENOTEMPTY, d);
	SYS_ERR(unlink(d), EISDIR, d);
	SYS(unlink(f), f);
	SYS(rmdir(d), d);
	SYS_ERR(stat(d, &st), ENOENT, d);
	SYS_ERR(rmdir(d), ENOENT, d);
}

static void test_unlink(void **state)
{
	unsigned char data[5000], more[10];
	char p[PATH_MAX];
	struct stat st;
	int fd;

	(void)state;
	tp(p, "f");
	fd = make_file(p, data, sizeof(data), 16);
	SYS(unlink(p), p);
	SYS_ERR(stat(p, &st), ENOENT, p);
	SYS_ERR(unlink(p), ENOENT, p);
	SYS_ERR(open(p, O_RDONLY), ENOENT, p);
	/* the open file lives on until closed, readable and writable */
	check_content(fd, data, sizeof(data), p);
	fill_pattern(more, sizeof(more), 17);
	pwrite_full(fd, more, sizeof(more), 100, p);
	memcpy(data + 100, more, sizeof(more));
	check_content(fd, data, sizeof(data), p);
	close_ok(fd, p);
}

static void test_rename_plain(void **state)
{
	unsigned char data[6000];
	char a[PATH_MAX], b[PATH_MAX], c[PATH_MAX], d[PATH_MAX], e[PATH_MAX];
	struct stat st;
	int fd;

	(void)state;
	tp(a, "a");
	tp(b, "b");
	tp(c, "d/c");
	tp(d, "d");
	tp(e, "e");
	close_ok(make_file(a, data, sizeof(data), 18), a);
	SYS(rename(a, b), a);
	SYS_ERR(stat(a, &st), ENOENT, a);
	fd = SYS(open(b, O_RDONLY), b);
	check_content(fd, data, sizeof(data), b);
	close_ok(fd, b);
	/* into another directory, then the directory itself */
	SYS(mkdir(d, 0755), d);
	SYS(rename(b, c), b);
	SYS(rename(d, e), d);
	SYS_ERR(stat(d, &st), ENOENT, d);
	fd = SYS(open(tp(c, "e/c"), O_RDONLY), c);
	check_content(fd, data, sizeof(data), c);
	close_ok(fd, c);
	SYS_ERR(rename(a, b), ENOENT, a);
}

static void test_rename_over(void **state)
{
	unsigned char da[3000], db[7000];
	char a[PATH_MAX], b[PATH_MAX];
	struct stat st;
	int fd, oldfd;

	(void)state;
	tp(a, "a");
	tp(b, "b");
	close_ok(make_file(a, da, sizeof(da), 19), a);
	oldfd = make_file(b, db, sizeof(db), 20);
	SYS(rename(a, b), a);
	SYS_ERR(stat(a, &st), ENOENT, a);
	fd = SYS(open(b, O_RDONLY), b);
	check_content(fd, da, sizeof(da), b);
	close_ok(fd, b);
	/* the replaced file is still intact behind its open descriptor */
	check_content(oldfd, db, sizeof(db), b);
	close_ok(oldfd, b);
}

static void test_renameat2_noreplace(void **state)
{
	unsigned char da[3000], db[5000];
	char a[PATH_MAX], b[PATH_MAX], c[PATH_MAX];
	struct stat st;
	int fd;

	(void)state;
	tp(a, "a");
	tp(b, "b");
	tp(c, "c");
	close_ok(make_file(a, da, sizeof(da), 21), a);
	close_ok(make_file(b, db, sizeof(db), 22), b);
	/* FUSE forwards the flag (FUSE_RENAME2); no-support shows as EINVAL */
	SYS_ERR(renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_NOREPLACE),
		EEXIST, a);
	fd = SYS(open(a, O_RDONLY), a);
	check_content(fd, da, sizeof(da), a);
	close_ok(fd, a);
	fd = SYS(open(b, O_RDONLY), b);
	check_content(fd, db, sizeof(db), b);
	close_ok(fd, b);
	SYS(renameat2(AT_FDCWD, a, AT_FDCWD, c, RENAME_NOREPLACE), a);
	SYS_ERR(stat(a, &st), ENOENT, a);
	fd = SYS(open(c, O_RDONLY), c);
	check_content(fd, da, sizeof(da), c);
	close_ok(fd, c);
}

static void test_renameat2_exchange(void **state)
{
	unsigned char da[3000], db[5000];
	char a[PATH_MAX], b[PATH_MAX], d[PATH_MAX], m[PATH_MAX];
	struct stat st;
	int fd;

	(void)state;
	tp(a, "a");
	tp(b, "b");
	tp(d, "d");
	tp(m, "missing");
	close_ok(make_file(a, da, sizeof(da), 23), a);
	close_ok(make_file(b, db, sizeof(db), 24), b);
	SYS(renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE), a);
	fd = SYS(open(a, O_RDONLY), a);
	check_content(fd, db, sizeof(db), a);
	close_ok(fd, a);
	fd = SYS(open(b, O_RDONLY), b);
	check_content(fd, da, sizeof(da), b);
	close_ok(fd, b);
	SYS_ERR(renameat2(AT_FDCWD, a, AT_FDCWD, m, RENAME_EXCHANGE), ENOENT,
		m);
	/* a file and a directory swap places */
	SYS(mkdir(d, 0755), d);
	SYS(renameat2(AT_FDCWD, a, AT_FDCWD, d, RENAME_EXCHANGE), a);
	SYS(stat(a, &st), a);
	assert_true(S_ISDIR(st.st_mode));
	fd = SYS(open(d, O_RDONLY), d);
	check_content(fd, db, sizeof(db), d);
	close_ok(fd, d);
}

/*
 * Note: with libfuse's high-level API, hard links only share an inode
 * when the filesystem reports inode numbers (use_ino); otherwise the
 * kernel caches the two names as two files and this test fails.
 */
static void test_link(void **state)
{
	unsigned char data[5000], more[300];
	char a[PATH_MAX], b[PATH_MAX];
	struct stat sa, sb;
	int fa, fb;

	(void)state;
	tp(a, "a");
	tp(b, "b");
	fa = make_file(a, data, sizeof(data), 25);
	SYS(link(a, b), b);
	SYS(stat(a, &sa), a);
	SYS(stat(b, &sb), b);
	assert_int_equal(sa.st_nlink, 2);
	assert_int_equal(sb.st_nlink, 2);
	assert_int_equal(sa.st_ino, sb.st_ino);
	SYS_ERR(link(a, b), EEXIST, b);

	/* write via b, straddling EOF and an extent boundary; read via a */
	fb = SYS(open(b, O_RDWR), b);
	fill_pattern(more, sizeof(more), 26);
	pwrite_full(fb, more, sizeof(more), 4900, b);
	close_ok(fb, b);
	{
		unsigned char model[5200];

		memcpy(model, data, 4900);
		memcpy(model + 4900, more, sizeof(more));
		check_content(fa, model, sizeof(model), a);
		SYS(unlink(a), a);
		close_ok(fa, a);
		SYS(stat(b, &sb), b);
		assert_int_equal(sb.st_nlink, 1);
		fb = SYS(open(b, O_RDONLY), b);
		check_content(fb, model, sizeof(model), b);
		close_ok(fb, b);
	}
}

static void test_symlink(void **state)
{
	unsigned char data[3000];
	char p[PATH_MAX], l[PATH_MAX], l2[PATH_MAX], buf[2048];
	char target[1001];
	struct stat st;
	ssize_t n;
	int fd;

	(void)state;
	tp(p, "data");
	tp(l, "l");
	tp(l2, "long");
	close_ok(make_file(p, data, sizeof(data), 27), p);
	SYS(symlink("data", l), l);
	n = SYS(readlink(l, buf, sizeof(buf)), l);
	assert_int_equal(n, 4);
	assert_memory_equal(buf, "data", 4);
	SYS(lstat(l, &st), l);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(st.st_size, 4);
	/* a short buffer truncates, without a terminator */
	assert_int_equal(SYS(readlink(l, buf, 2), l), 2);
	fd = SYS(open(l, O_RDONLY), l);
	check_content(fd, data, sizeof(data), l);
	close_ok(fd, l);
	SYS_ERR(symlink("x", l), EEXIST, l);

	/* 1000 characters: components of 99 letters, slash separated */
	for (int i = 0; i < 1000; i++)
		target[i] = i % 100 == 99 ? '/' : 'a' + (i * 7 + i / 100) % 26;
	target[1000] = '\0';
	SYS(symlink(target, l2), l2);
	n = SYS(readlink(l2, buf, sizeof(buf)), l2);
	assert_int_equal(n, 1000);
	assert_memory_equal(buf, target, 1000);
	SYS(lstat(l2, &st), l2);
	assert_int_equal(st.st_size, 1000);
}

/* ---- special files ------------------------------------------------- */

/* child half of the FIFO test; exit code says which step failed */
static void fifo_writer(const char *path, const unsigned char *msg,
			size_t len)
{
	int fd;

	alarm(20);
	fd = open(path, O_WRONLY);
	if (fd < 0) {
		fprintf(stderr, "fifo writer: open %s: %s\n", path,
			strerror(errno));
		_exit(2);
	}
	if (write(fd, msg, len) != (ssize_t)len) {
		fprintf(stderr, "fifo writer: write %s: %s\n", path,
			strerror(errno));
		_exit(3);
	}
	close(fd);
	_exit(0);
}

static void test_fifo(void **state)
{
	unsigned char msg[3000], got[4000];
	char p[PATH_MAX];
	struct stat st;
	size_t have = 0;
	int fd, status;
	pid_t pid;

	(void)state;
	tp(p, "fifo");
	fill_pattern(msg, sizeof(msg), 28);
	SYS(mknod(p, S_IFIFO | 0644, 0), p);
	SYS(stat(p, &st), p);
	assert_true(S_ISFIFO(st.st_mode));
	/*
	 * Open the read end non-blocking first so a writer that never
	 * arrives cannot hang the suite; poll reports POLLHUP only after a
	 * writer has come and gone.
	 */
	fd = SYS(open(p, O_RDONLY | O_NONBLOCK), p);
	fflush(NULL);
	pid = SYS(fork(), p);
	if (pid == 0)
		fifo_writer(p, msg, sizeof(msg));
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (SYS(poll(&pfd, 1, 20000), p) == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			fail_msg("%s: no data from the writer in 20 s", p);
		}
		n = SYS(read(fd, got + have, sizeof(got) - have), p);
		if (n == 0)
			break;
		have += n;
	}
	close_ok(fd, p);
	SYS(waitpid(pid, &status, 0), p);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail_msg("%s: writer child failed, status 0x%x", p, status);
	assert_int_equal(have, sizeof(msg));
	assert_memory_equal(got, msg, sizeof(msg));
}

static void test_socket_node(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char p[PATH_MAX], buf[8];
	int srv, cli, acc, cwd;
	struct stat st;

	(void)state;
	tp(p, "sock");
	/*
	 * sun_path holds 108 bytes, less than a mount path may need: bind
	 * and connect relative to the test directory instead.
	 */
	strcpy(sa.sun_path, "sock");
	cwd = SYS(open(".", O_RDONLY | O_DIRECTORY), ".");
	SYS(chdir(test_dir), test_dir);
	srv = SYS(socket(AF_UNIX, SOCK_STREAM, 0), p);
	cli = SYS(socket(AF_UNIX, SOCK_STREAM, 0), p);
	if (bind(srv, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(srv, 1) ||
	    connect(cli, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = errno;

		SYS(fchdir(cwd), ".");
		fail_msg("%s: bind/listen/connect: %s", p, strerror(e));
	}
	SYS(fchdir(cwd), ".");
	close_ok(cwd, ".");
	SYS(stat(p, &st), p);
	assert_true(S_ISSOCK(st.st_mode));
	acc = SYS(accept(srv, NULL, NULL), p);
	assert_int_equal(SYS(write(cli, "ping", 4), p), 4);
	assert_int_equal(SYS(read(acc, buf, sizeof(buf)), p), 4);
	assert_memory_equal(buf, "ping", 4);
	close_ok(acc, p);
	close_ok(cli, p);
	close_ok(srv, p);
	SYS(unlink(p), p);
}

/* ---- directories --------------------------------------------------- */

/*
 * Read a directory: every entry's name must be one of 'names' (plus . and
 * ..) and each must be seen exactly once.  Returns the d_type seen for
 * each name in types[] when types is non-NULL.
 */
static void check_listing(const char *dir, char *const *names, int n,
			  unsigned char *types)
{
	int *seen = calloc(n + 2, sizeof(*seen));
	char err[512] = "";
	struct dirent *de;
	DIR *d;

	if (!seen)
		fail_msg("out of memory");
	d = opendir(dir);
	if (!d) {
		free(seen);
		fail_msg("%s: opendir: %s", dir, strerror(errno));
	}
	errno = 0;
	while (!err[0] && (de = readdir(d))) {
		int i;

		if (!strcmp(de->d_name, "."))
			i = n;
		else if (!strcmp(de->d_name, ".."))
			i = n + 1;
		else
			for (i = 0; i < n && strcmp(de->d_name, names[i]); i++)
				;
		if (i == n && strcmp(de->d_name, "."))
			snprintf(err, sizeof(err), "unexpected entry \"%s\"",
				 de->d_name);
		else if (seen[i]++)
			snprintf(err, sizeof(err), "entry \"%s\" listed twice",
				 de->d_name);
		else if (types && i < n)
			types[i] = de->d_type;
		errno = 0;
	}
	if (!err[0] && errno)
		snprintf(err, sizeof(err), "readdir: %s", strerror(errno));
	closedir(d);
	for (int i = 0; !err[0] && i < n + 2; i++)
		if (!seen[i])
			snprintf(err, sizeof(err), "entry \"%s\" not listed",
				 i < n ? names[i] : i == n ? "." : "..");
	free(seen);
	if (err[0])
		fail_msg("%s: %s", dir, err);
}

static void test_readdir_exact(void **state)
{
	char *names[] = { "a", "bb", "sub", "ln", "file with spaces" };
	unsigned char types[5];
	char p[PATH_MAX];

	(void)state;
	check_listing(test_dir, names, 0, NULL);
	close_ok(SYS(open(tp(p, "a"), O_WRONLY | O_CREAT, 0644), p), p);
	close_ok(SYS(open(tp(p, "bb"), O_WRONLY | O_CREAT, 0644), p), p);
	SYS(mkdir(tp(p, "sub"), 0755), p);
	SYS(symlink("a", tp(p, "ln")), p);
	close_ok(SYS(open(tp(p, "file with spaces"), O_WRONLY | O_CREAT,
			  0644), p), p);
	check_listing(test_dir, names, 5, types);
	/* DT_UNKNOWN is always allowed; anything else must be right */
	if (types[0] != DT_UNKNOWN)
		assert_int_equal(types[0], DT_REG);
	if (types[2] != DT_UNKNOWN)
		assert_int_equal(types[2], DT_DIR);
	if (types[3] != DT_UNKNOWN)
		assert_int_equal(types[3], DT_LNK);
	check_listing(tp(p, "sub"), names, 0, NULL);
	SYS(unlink(tp(p, "bb")), p);
	names[1] = names[4];
	check_listing(test_dir, names, 4, NULL);
}

static void test_readdir_300(void **state)
{
	enum { N = 300 };
	char *names[N], p[PATH_MAX];

	(void)state;
	/* names of 8..200 characters, so listings span several buffers */
	for (int i = 0; i < N; i++) {
		int len = 8 + (i * 37) % 193;

		names[i] = xmalloc(len + 1);
		snprintf(names[i], len + 1, "e%03d_", i);
		memset(names[i] + 5, 'a' + i % 26, len - 5);
		names[i][len] = '\0';
	}
	for (int i = 0; i < N; i++)
		close_ok(SYS(open(tp(p, names[i]), O_WRONLY | O_CREAT | O_EXCL,
				  0644), p), p);
	check_listing(test_dir, names, N, NULL);
	/* remove every third one and list again */
	for (int i = 0; i < N; i += 3)
		SYS(unlink(tp(p, names[i])), p);
	{
		char *left[N];
		int n = 0;

		for (int i = 0; i < N; i++)
			if (i % 3)
				left[n++] = names[i];
		check_listing(test_dir, left, n, NULL);
	}
	for (int i = 0; i < N; i++)
		free(names[i]);
}

static void test_statfs(void **state)
{
	struct statfs sf;
	int fd;

	(void)state;
	SYS(statfs(test_dir, &sf), test_dir);
	assert_true(sf.f_bsize > 0);
	assert_true(sf.f_bfree <= sf.f_blocks);
	assert_true(sf.f_bavail <= sf.f_blocks);
	fd = SYS(open(test_dir, O_RDONLY | O_DIRECTORY), test_dir);
	SYS(fstatfs(fd, &sf), test_dir);
	assert_true(sf.f_bsize > 0);
	close_ok(fd, test_dir);
}

/* ---- extended attributes ------------------------------------------- */

/* how often 'name' occurs in the file's xattr list */
static int xattr_listed(const char *path, const char *name)
{
	char *list, *s;
	ssize_t size, n;
	int count = 0;

	size = SYS(listxattr(path, NULL, 0), path);
	list = xmalloc(size + 1);
	n = listxattr(path, list, size + 1);
	if (n < 0) {
		int e = errno;

		free(list);
		fail_msg("%s: listxattr: %s", path, strerror(e));
	}
	if (n != size) {
		free(list);
		fail_msg("%s: listxattr size query said %zd, list is %zd",
			 path, size, n);
	}
	for (s = list; s < list + n; s += strlen(s) + 1)
		count += !strcmp(s, name);
	free(list);
	return count;
}

static void binary_value(unsigned char *v, size_t len)
{
	static const unsigned char head[] = { 0, 0xff, 1, 0x80, 'a', 0, 0x7f };

	fill_pattern(v, len, 29);
	memcpy(v, head, sizeof(head));
}

static void test_xattr_roundtrip(void **state)
{
	unsigned char val[200], got[300], data[100];
	char p[PATH_MAX];
	int fd;

	(void)state;
	tp(p, "f");
	fd = make_file(p, data, sizeof(data), 30);
	binary_value(val, sizeof(val));
	SYS(setxattr(p, "user.test", val, sizeof(val), 0), p);
	assert_int_equal(SYS(getxattr(p, "user.test", NULL, 0), p),
			 sizeof(val));
	assert_int_equal(SYS(getxattr(p, "user.test", got, sizeof(got)), p),
			 sizeof(val));
	assert_memory_equal(got, val, sizeof(val));
	SYS_ERR(getxattr(p, "user.test", got, 10), ERANGE, p);
	assert_int_equal(xattr_listed(p, "user.test"), 1);

	/* an empty value and a second name, via the fd calls */
	SYS(fsetxattr(fd, "user.empty", "", 0, 0), p);
	assert_int_equal(SYS(fgetxattr(fd, "user.empty", got, sizeof(got)), p),
			 0);
	assert_int_equal(xattr_listed(p, "user.empty"), 1);
	assert_int_equal(xattr_listed(p, "user.test"), 1);

	SYS(removexattr(p, "user.test"), p);
	SYS_ERR(getxattr(p, "user.test", got, sizeof(got)), ENODATA, p);
	assert_int_equal(xattr_listed(p, "user.test"), 0);
	assert_int_equal(xattr_listed(p, "user.empty"), 1);
	SYS(fremovexattr(fd, "user.empty"), p);
	assert_int_equal(xattr_listed(p, "user.empty"), 0);
	/* xattrs never leak into the data */
	check_content(fd, data, sizeof(data), p);
	close_ok(fd, p);
}

static void test_xattr_missing(void **state)
{
	unsigned char data[10], got[10];
	char p[PATH_MAX];

	(void)state;
	tp(p, "f");
	close_ok(make_file(p, data, sizeof(data), 31), p);
	SYS_ERR(getxattr(p, "user.nothere", got, sizeof(got)), ENODATA, p);
	SYS_ERR(getxattr(p, "user.nothere", NULL, 0), ENODATA, p);
	SYS_ERR(removexattr(p, "user.nothere"), ENODATA, p);
	/* No ACLs, no labels: not supported, as on ext4 -o noacl */
	SYS_ERR(getxattr(p, "system.posix_acl_access", NULL, 0), EOPNOTSUPP, p);
	SYS_ERR(getxattr(p, "security.selinux", got, sizeof(got)), EOPNOTSUPP, p);
	SYS_ERR(getxattr(p, "trusted.x", got, sizeof(got)), EOPNOTSUPP, p);
}

static void test_xattr_create_existing(void **state)
{
	unsigned char data[10], got[10];
	char p[PATH_MAX];

	(void)state;
	tp(p, "f");
	close_ok(make_file(p, data, sizeof(data), 32), p);
	SYS(setxattr(p, "user.test", "one", 3, XATTR_CREATE), p);
	SYS_ERR(setxattr(p, "user.test", "two", 3, XATTR_CREATE), EEXIST, p);
	assert_int_equal(SYS(getxattr(p, "user.test", got, sizeof(got)), p),
			 3);
	assert_memory_equal(got, "one", 3);
}

static void test_xattr_replace_missing(void **state)
{
	unsigned char data[10], got[10];
	char p[PATH_MAX];

	(void)state;
	tp(p, "f");
	close_ok(make_file(p, data, sizeof(data), 33), p);
	SYS_ERR(setxattr(p, "user.test", "one", 3, XATTR_REPLACE), ENODATA,
		p);
	SYS_ERR(getxattr(p, "user.test", got, sizeof(got)), ENODATA, p);
	SYS(setxattr(p, "user.test", "one", 3, 0), p);
	SYS(setxattr(p, "user.test", "three", 5, XATTR_REPLACE), p);
	assert_int_equal(SYS(getxattr(p, "user.test", got, sizeof(got)), p),
			 5);
	assert_memory_equal(got, "three", 5);
}

/* ---- fallocate, holes ---------------------------------------------- */

static void test_fallocate_extend(void **state)
{
	static unsigned char model[40000];
	char p[PATH_MAX];
	int fd;

	(void)state;
	tp(p, "f");
	memset(model, 0, sizeof(model));
	fd = make_file(p, model, 100, 34);
	SYS(fallocate(fd, 0, 0, 20000), p);
	check_content(fd, model, 20000, p);
	SYS(fallocate(fd, 0, 30001, 5000), p);
	check_content(fd, model, 35001, p);
	/* allocated space takes writes like any other */
	fill_pattern(model + 4090, 20, 35);
	pwrite_full(fd, model + 4090, 20, 4090, p);
	check_content(fd, model, 35001, p);
	close_ok(fd, p);
}

static void test_fallocate_keep_size(void **state)
{
	static unsigned char model[70000];
	unsigned char buf[16];
	char p[PATH_MAX];
	int fd;

	(void)state;
	tp(p, "f");
	memset(model, 0, sizeof(model));
	fd = make_file(p, model, 5000, 36);
	SYS(fallocate(fd, FALLOC_FL_KEEP_SIZE, 4000, 100000), p);
	assert_int_equal(fd_size(fd, p), 5000);
	assert_int_equal(SYS(pread(fd, buf, sizeof(buf), 5000), p), 0);
	check_content(fd, model, 5000, p);
	/* preallocated blocks past EOF must read back as zeros */
	SYS(ftruncate(fd, 50000), p);
	check_content(fd, model, 50000, p);
	fill_pattern(model + 60000, 100, 37);
	pwrite_full(fd, model + 60000, 100, 60000, p);
	check_content(fd, model, 60100, p);
	close_ok(fd, p);
}

static void test_punch_hole(void **state)
{
	static const struct { off_t off, len; } holes[] = {
		{ 1000, 5000 },			/* unaligned, across a boundary */
		{ 8192, 4096 },			/* exactly one extent */
		{ 16383, 2 },			/* two bytes astride a boundary */
		{ 20000, 1 },			/* one byte */
		{ 6 * EXTENT + 50, 100 },	/* crossing EOF */
		{ 4 * EXTENT - 10, 4 * EXTENT },	/* several extents */
		{ 100000, 4096 },		/* entirely past EOF */
	};
	const size_t size = 6 * EXTENT + 77;
	unsigned char model[6 * EXTENT + 77];
	char p[PATH_MAX];
	int fd;

	(void)state;
	tp(p, "f");
	fd = make_file(p, model, size, 38);
	for (size_t i = 0; i < sizeof(holes) / sizeof(holes[0]); i++) {
		off_t end = holes[i].off + holes[i].len;

		SYS(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      holes[i].off, holes[i].len), p);
		if ((size_t)holes[i].off < size)
			memset(model + holes[i].off, 0,
			       ((size_t)end > size ? size : (size_t)end) -
			       holes[i].off);
		check_content(fd, model, size, p);
	}
	close_ok(fd, p);
	fd = SYS(open(p, O_RDONLY), p);
	check_content(fd, model, size, p);
	close_ok(fd, p);
}

/*
 * FUSE: lseek(SEEK_DATA/SEEK_HOLE) reaches the filesystem only if it
 * implements the FUSE_LSEEK request; without it the kernel treats the
 * whole file as data and SEEK_HOLE(0) returns the size, failing here.
 * With writeback_cache the kernel does not write dirty pages back before
 * FUSE_LSEEK, so a filesystem answering from its stored data alone sees
 * an empty file (SEEK_DATA(0) gives ENXIO; seen with libfuse's
 * passthrough_ll -o writeback).  The first check below runs before any
 * fsync on purpose: cp and tar use SEEK_DATA on freshly written files.
 */
static void check_seek(int fd, const char *p, off_t d2, off_t size)
{
	off_t r;

	assert_int_equal(SYS(lseek(fd, 0, SEEK_DATA), p), 0);
	r = SYS(lseek(fd, 0, SEEK_HOLE), p);
	assert_in_range(r, 8192, d2);
	r = SYS(lseek(fd, 8192 + 100000, SEEK_DATA), p);
	assert_in_range(r, 8192 + 100000, d2);
	assert_int_equal(SYS(lseek(fd, d2, SEEK_DATA), p), d2);
	assert_int_equal(SYS(lseek(fd, d2, SEEK_HOLE), p), size);
	assert_int_equal(SYS(lseek(fd, size - 10, SEEK_HOLE), p), size);
	SYS_ERR(lseek(fd, size, SEEK_DATA), ENXIO, p);
	SYS_ERR(lseek(fd, size + 1000, SEEK_DATA), ENXIO, p);
	SYS_ERR(lseek(fd, size, SEEK_HOLE), ENXIO, p);
}

/* A file written end to end has no hole but the one at its end. */
static void test_seek_dense(void **state)
{
	unsigned char data[3 * 4096 + 777];
	char p[PATH_MAX];
	int fd;

	(void)state;
	tp(p, "dense");
	fd = make_file(p, data, sizeof(data), 41);
	assert_int_equal(SYS(lseek(fd, 0, SEEK_DATA), p), 0);
	assert_int_equal(SYS(lseek(fd, 5000, SEEK_DATA), p), 5000);
	assert_int_equal(SYS(lseek(fd, 0, SEEK_HOLE), p), sizeof(data));
	assert_int_equal(SYS(lseek(fd, sizeof(data) - 1, SEEK_HOLE), p),
			 sizeof(data));
	SYS_ERR(lseek(fd, sizeof(data), SEEK_DATA), ENXIO, p);
	SYS_ERR(lseek(fd, sizeof(data), SEEK_HOLE), ENXIO, p);
	close_ok(fd, p);
}

static void test_seek_data_hole(void **state)
{
	const off_t d2 = 8192 + MIB;
	const off_t size = d2 + 4096;
	unsigned char data[8192];
	char p[PATH_MAX];
	int fd;

	(void)state;
	tp(p, "f");
	fd = make_file(p, data, sizeof(data), 39);
	pwrite_full(fd, data, 4096, d2, p);
	assert_int_equal(fd_size(fd, p), size);
	check_seek(fd, p, d2, size);
	/* and once the data is on disk, through a new open */
	SYS(fsync(fd), p);
	close_ok(fd, p);
	fd = SYS(open(p, O_RDONLY), p);
	check_seek(fd, p, d2, size);
	close_ok(fd, p);
}

/* ---- locks --------------------------------------------------------- */

/* child side of the record lock test; exit code = failing step */
static int lock_child(const char *p, pid_t parent, int expect_locked)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
			    .l_start = 0, .l_len = 100 };
	int fd = open(p, O_RDWR);

	if (fd < 0) {
		fprintf(stderr, "lock child: open %s: %s\n", p, strerror(errno));
		return 2;
	}
	if (!expect_locked) {
		if (fcntl(fd, F_SETLK, &fl)) {
			fprintf(stderr, "lock child: F_SETLK on %s after unlock: %s\n",
				p, strerror(errno));
			return 3;
		}
		return 0;
	}
	if (fcntl(fd, F_GETLK, &fl)) {
		fprintf(stderr, "lock child: F_GETLK %s: %s\n", p, strerror(errno));
		return 4;
	}
	if (fl.l_type != F_WRLCK || fl.l_start != 0 || fl.l_len != 100 ||
	    fl.l_pid != parent) {
		fprintf(stderr, "lock child: F_GETLK %s: type %d start %lld len %lld pid %d, expected write lock 0+100 by %d\n",
			p, fl.l_type, (long long)fl.l_start,
			(long long)fl.l_len, (int)fl.l_pid, (int)parent);
		return 5;
	}
	fl = (struct flock){ .l_type = F_RDLCK, .l_whence = SEEK_SET,
			     .l_start = 50, .l_len = 10 };
	errno = 0;
	if (fcntl(fd, F_SETLK, &fl) != -1 ||
	    (errno != EAGAIN && errno != EACCES)) {
		fprintf(stderr, "lock child: conflicting F_SETLK on %s: %s, expected EAGAIN/EACCES\n",
			p, errno ? strerror(errno) : "succeeded");
		return 6;
	}
	/* a range the parent does not hold is free */
	fl = (struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET,
			     .l_start = 200, .l_len = 100 };
	if (fcntl(fd, F_GETLK, &fl) || fl.l_type != F_UNLCK) {
		fprintf(stderr, "lock child: F_GETLK free range on %s: type %d (%s)\n",
			p, fl.l_type, strerror(errno));
		return 7;
	}
	fl.l_type = F_WRLCK;
	if (fcntl(fd, F_SETLK, &fl)) {
		fprintf(stderr, "lock child: F_SETLK free range on %s: %s\n",
			p, strerror(errno));
		return 8;
	}
	return 0;
}

static void run_lock_child(const char *p, int expect_locked)
{
	pid_t parent = getpid(), pid;
	int status;

	fflush(NULL);
	pid = SYS(fork(), p);
	if (pid == 0)
		_exit(lock_child(p, parent, expect_locked));
	SYS(waitpid(pid, &status, 0), p);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail_msg("%s: lock child failed, status 0x%x (see above)", p,
			 status);
}

static void test_fcntl_locks(void **state)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
			    .l_start = 0, .l_len = 100 };
	unsigned char data[300];
	char p[PATH_MAX];
	int fd;

	(void)state;
	tp(p, "f");
	fd = make_file(p, data, sizeof(data), 40);
	SYS(fcntl(fd, F_SETLK, &fl), p);
	run_lock_child(p, 1);
	fl.l_type = F_UNLCK;
	SYS(fcntl(fd, F_SETLK, &fl), p);
	run_lock_child(p, 0);
	close_ok(fd, p);
}

static void test_flock(void **state)
{
	unsigned char data[10];
	char p[PATH_MAX];
	int fd1, fd2, fd3;

	(void)state;
	tp(p, "f");
	fd1 = make_file(p, data, sizeof(data), 41);
	fd2 = SYS(open(p, O_RDWR), p);
	SYS(flock(fd1, LOCK_EX | LOCK_NB), p);
	SYS_ERR(flock(fd2, LOCK_EX | LOCK_NB), EWOULDBLOCK, p);
	SYS_ERR(flock(fd2, LOCK_SH | LOCK_NB), EWOULDBLOCK, p);
	SYS(flock(fd1, LOCK_UN), p);
	SYS(flock(fd2, LOCK_EX | LOCK_NB), p);
	/* a dup shares the open file description and so the lock */
	fd3 = SYS(dup(fd2), p);
	SYS(flock(fd3, LOCK_EX | LOCK_NB), p);
	SYS_ERR(flock(fd1, LOCK_SH | LOCK_NB), EWOULDBLOCK, p);
	SYS(flock(fd2, LOCK_UN), p);
	SYS(flock(fd1, LOCK_SH | LOCK_NB), p);
	SYS(flock(fd2, LOCK_SH | LOCK_NB), p);
	close_ok(fd3, p);
	close_ok(fd2, p);
	close_ok(fd1, p);
}

/* ---- sync, mmap ---------------------------------------------------- */

static void test_fsync(void **state)
{
	unsigned char data[10000];
	char p[PATH_MAX];
	int fd;

	(void)state;
	tp(p, "f");
	fd = make_file(p, data, sizeof(data), 42);
	SYS(fsync(fd), p);
	SYS(fdatasync(fd), p);
	close_ok(fd, p);
	fd = SYS(open(p, O_RDONLY), p);
	SYS(fsync(fd), p);
	check_content(fd, data, sizeof(data), p);
	close_ok(fd, p);
}

static void test_fsync_dir(void **state)
{
	int fd;

	(void)state;
	/* FUSE: a filesystem without fsyncdir gets ENOSYS, taken as success */
	fd = SYS(open(test_dir, O_RDONLY | O_DIRECTORY), test_dir);
	SYS(fsync(fd), test_dir);
	SYS(fdatasync(fd), test_dir);
	close_ok(fd, test_dir);
}

/*
 * FUSE: shared writable mappings are refused (ENODEV) for files opened
 * in direct_io mode unless the filesystem allows it; atrestfs must not
 * use direct_io for regular files if this is to pass.
 */
static void test_mmap_shared(void **state)
{
	const size_t size = 3 * EXTENT + 123;
	unsigned char model[3 * EXTENT + 123];
	unsigned char *map;
	char p[PATH_MAX];
	int fd;

	(void)state;
	tp(p, "f");
	fd = make_file(p, model, size, 43);
	close_ok(fd, p);
	fd = SYS(open(p, O_RDWR), p);
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		fail_msg("%s: mmap: %s", p, strerror(errno));
	/* the mapping sees the file's data ... */
	if (memcmp(map, model, size)) {
		munmap(map, size);
		fail_msg("%s: mapped contents differ from the file", p);
	}
	/* ... and writes, across page boundaries and up to the last byte */
	fill_pattern(model + 4090, 12, 44);
	fill_pattern(model + 2 * EXTENT - 1000, 3000, 45);
	model[size - 1] ^= 0xff;
	model[0] ^= 0x55;
	memcpy(map + 4090, model + 4090, 12);
	memcpy(map + 2 * EXTENT - 1000, model + 2 * EXTENT - 1000, 3000);
	map[size - 1] = model[size - 1];
	map[0] = model[0];
	if (msync(map, size, MS_SYNC)) {
		int e = errno;

		munmap(map, size);
		fail_msg("%s: msync: %s", p, strerror(e));
	}
	SYS(munmap(map, size), p);
	check_content(fd, model, size, p);
	close_ok(fd, p);
	fd = SYS(open(p, O_RDONLY), p);
	check_content(fd, model, size, p);
	close_ok(fd, p);
}

/* ---- atrestfs reserved attributes ---------------------------------- */

#define HDR "user.atrestfs.hdr"

static const char *const reserved_names[] = {
	HDR, "user.atrestfs.", "user.atrestfs.x", "user.atrestfs.hdr2",
	"user.atrestfs.hdr.x",
};
#define NRESERVED (sizeof(reserved_names) / sizeof(reserved_names[0]))

/* no name in the list may start with the reserved prefix */
static void check_no_reserved_listed(const char *path)
{
	char *list, *s;
	ssize_t size, n;

	size = SYS(listxattr(path, NULL, 0), path);
	list = xmalloc(size + 1);
	n = listxattr(path, list, size + 1);
	if (n < 0) {
		int e = errno;

		free(list);
		fail_msg("%s: listxattr: %s", path, strerror(e));
	}
	for (s = list; s < list + n; s += strlen(s) + 1) {
		if (!strncmp(s, "user.atrestfs.", 14)) {
			char name[256];

			snprintf(name, sizeof(name), "%s", s);
			free(list);
			fail_msg("%s: listxattr shows reserved \"%s\"", path,
				 name);
		}
	}
	free(list);
	if (n != size)
		fail_msg("%s: listxattr size query said %zd, list is %zd",
			 path, size, n);
}

/* "path (xattr name)" for failure messages */
static const char *xlabel(char *buf, const char *path, const char *name)
{
	snprintf(buf, PATH_MAX + 64, "%s (xattr %s)", path, name);
	return buf;
}

/* a regular file with data; after every test its data must be intact */
static int reserved_file(char *p, unsigned char *data, size_t len)
{
	tp(p, "f");
	return make_file(p, data, len, 46);
}

static void test_hdr_not_listed(void **state)
{
	unsigned char data[5000];
	char p[PATH_MAX];
	int fd;

	(void)state;
	fd = reserved_file(p, data, sizeof(data));
	check_no_reserved_listed(p);
	SYS(setxattr(p, "user.test", "v", 1, 0), p);
	check_no_reserved_listed(p);
	assert_int_equal(xattr_listed(p, "user.test"), 1);
	SYS(removexattr(p, "user.test"), p);
	check_no_reserved_listed(p);
	check_content(fd, data, sizeof(data), p);
	close_ok(fd, p);
}

static void test_hdr_get(void **state)
{
	unsigned char data[5000], buf[512];
	char p[PATH_MAX], w[PATH_MAX + 64];
	int fd;

	(void)state;
	fd = reserved_file(p, data, sizeof(data));
	for (size_t i = 0; i < NRESERVED; i++) {
		const char *name = reserved_names[i];

		xlabel(w, p, name);
		SYS_ERR(getxattr(p, name, buf, sizeof(buf)), ENODATA, w);
		SYS_ERR(getxattr(p, name, NULL, 0), ENODATA, w);
		SYS_ERR(lgetxattr(p, name, buf, sizeof(buf)), ENODATA, w);
		SYS_ERR(fgetxattr(fd, name, buf, sizeof(buf)), ENODATA, w);
	}
	check_content(fd, data, sizeof(data), p);
	close_ok(fd, p);
}

static void test_hdr_set(void **state)
{
	static const int flags[] = { 0, XATTR_CREATE, XATTR_REPLACE };
	unsigned char data[5000];
	char p[PATH_MAX], w[PATH_MAX + 64];
	int fd;

	(void)state;
	fd = reserved_file(p, data, sizeof(data));
	for (size_t i = 0; i < NRESERVED; i++) {
		const char *name = reserved_names[i];

		xlabel(w, p, name);
		for (size_t f = 0; f < 3; f++) {
			SYS_ERR(setxattr(p, name, "junk", 4, flags[f]), EPERM,
				w);
			SYS_ERR(fsetxattr(fd, name, "junk", 4, flags[f]), EPERM,
				w);
		}
	}
	check_no_reserved_listed(p);
	/* a refused write must not have touched the real header */
	check_content(fd, data, sizeof(data), p);
	close_ok(fd, p);
	fd = SYS(open(p, O_RDONLY), p);
	check_content(fd, data, sizeof(data), p);
	close_ok(fd, p);
}

static void test_hdr_remove(void **state)
{
	unsigned char data[5000];
	char p[PATH_MAX], w[PATH_MAX + 64];
	int fd;

	(void)state;
	fd = reserved_file(p, data, sizeof(data));
	for (size_t i = 0; i < NRESERVED; i++) {
		xlabel(w, p, reserved_names[i]);
		SYS_ERR(removexattr(p, reserved_names[i]), ENODATA, w);
		SYS_ERR(fremovexattr(fd, reserved_names[i]), ENODATA, w);
	}
	close_ok(fd, p);
	fd = SYS(open(p, O_RDONLY), p);
	check_content(fd, data, sizeof(data), p);
	close_ok(fd, p);
}

/* only the "user.atrestfs." prefix is reserved, not look-alikes */
static void test_reserved_prefix_exact(void **state)
{
	static const char *const ok[] = { "user.atrestfs", "user.atrestfsx",
					  "user.atrestf.hdr" };
	unsigned char data[100], buf[16];
	char p[PATH_MAX], w[PATH_MAX + 64];
	int fd;

	(void)state;
	fd = reserved_file(p, data, sizeof(data));
	for (size_t i = 0; i < 3; i++) {
		xlabel(w, p, ok[i]);
		SYS(setxattr(p, ok[i], "val", 3, XATTR_CREATE), w);
		assert_int_equal(SYS(getxattr(p, ok[i], buf, sizeof(buf)), w),
				 3);
		assert_memory_equal(buf, "val", 3);
		assert_int_equal(xattr_listed(p, ok[i]), 1);
		SYS(removexattr(p, ok[i]), w);
	}
	check_content(fd, data, sizeof(data), p);
	close_ok(fd, p);
}

#define T(f) cmocka_unit_test_setup_teardown(f, test_setup, test_teardown)

int main(void)
{
	static const struct CMUnitTest posix_tests[] = {
		T(test_create_excl),
		T(test_o_trunc),
		T(test_o_append),
		T(test_roundtrip_sizes),
		T(test_read_past_eof),
		T(test_stat_size),
		T(test_hole_far),
		T(test_truncate_down_up),
		T(test_truncate_nonboundary),
		T(test_chmod),
		T(test_chown),
		T(test_utimensat_values),
		T(test_utimensat_now),
		T(test_utimensat_omit),
		T(test_mkdir_rmdir),
		T(test_unlink),
		T(test_rename_plain),
		T(test_rename_over),
		T(test_renameat2_noreplace),
		T(test_renameat2_exchange),
		T(test_link),
		T(test_symlink),
		T(test_fifo),
		T(test_socket_node),
		T(test_readdir_exact),
		T(test_readdir_300),
		T(test_statfs),
		T(test_xattr_roundtrip),
		T(test_xattr_missing),
		T(test_xattr_create_existing),
		T(test_xattr_replace_missing),
		T(test_fallocate_extend),
		T(test_fallocate_keep_size),
		T(test_punch_hole),
		T(test_seek_dense),
		T(test_seek_data_hole),
		T(test_fcntl_locks),
		T(test_flock),
		T(test_fsync),
		T(test_fsync_dir),
		T(test_mmap_shared),
	};
	static const struct CMUnitTest atrestfs_tests[] = {
		T(test_hdr_not_listed),
		T(test_hdr_get),
		T(test_hdr_set),
		T(test_hdr_remove),
		T(test_reserved_prefix_exact),
	};
	const char *mnt = getenv("ATR_MNT");
	const char *is_atr = getenv("ATR_IS_ATRESTFS");
	int failed;

	if (!mnt || !*mnt) {
		fprintf(stderr, "posix_ops: set ATR_MNT to the directory to test in\n");
		return 2;
	}
	failed = cmocka_run_group_tests_name("posix_ops", posix_tests,
					     group_setup, group_teardown);
	if (is_atr && !strcmp(is_atr, "1"))
		failed += cmocka_run_group_tests_name("posix_ops_atrestfs",
						      atrestfs_tests,
						      group_setup,
						      group_teardown);
	else
		printf("posix_ops_atrestfs: NOT RUN (reserved user.atrestfs.* checks need ATR_IS_ATRESTFS=1 on an atrestfs mount); not counted as passed\n");
	return failed ? 1 : 0;
}
