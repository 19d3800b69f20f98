/*
 * concurrent - concurrency test of a file system.
 *
 * Usage: concurrent DIR
 *
 * (a) 8 threads pwrite interleaved, unaligned 1000-byte regions of one
 *     file through their own descriptors.  Neighbouring regions share
 *     4 KiB extents, so a filesystem whose read-modify-write of an extent
 *     is not serialised loses a neighbour's bytes.
 * (b) 8 processes append checksummed records of varying length to one
 *     O_APPEND file, one write(2) per record; every record must come out
 *     whole, in per-writer order, none lost or duplicated.
 * (c) threads extend, truncate and read one file at the same time.  Every
 *     byte ever written at offset o is pat_c(o) and truncation only adds
 *     zeros, so any byte read must be one of the two; at the end the size
 *     and the readable bytes must agree.
 *
 * Everything happens in DIR/concurrent.<pid>, removed on success and
 * left behind for inspection on failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define A_THREADS	8
#define A_REGION	1000
#define A_STRIDE	(A_THREADS * A_REGION)
#define A_CHUNKS	256
#define A_PASSES	4
#define A_SIZE		((off_t)A_CHUNKS * A_STRIDE)

#define B_WRITERS	8
#define B_RECORDS	2000
#define B_MINLEN	24	/* 13-byte header + 9-byte trailer + payload */
#define B_MAXLEN	300
#define B_HDRLEN	13
#define B_TRAILER	9

#define C_EXTENDERS	2
#define C_TRUNCATORS	2
#define C_READERS	3
#define C_MAXSIZE	(1 << 20)
#define C_EXT_OPS	1500
#define C_TRUNC_OPS	1000
#define C_READ_OPS	3000

static char work_dir[PATH_MAX];

/* first failure of the running sub-test; later ones are dropped */
static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;
static char fail_buf[1024];
static atomic_bool failed;

static void __attribute__((format(printf, 1, 2))) report(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&fail_lock);
	if (!failed) {
		va_start(ap, fmt);
		vsnprintf(fail_buf, sizeof(fail_buf), fmt, ap);
		va_end(ap);
		atomic_store(&failed, true);
	}
	pthread_mutex_unlock(&fail_lock);
}

static uint64_t mix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rnd(uint64_t *state, uint64_t n)
{
	*state = mix64(*state);
	return n ? *state % n : 0;
}

/* write all of buf at off; 0 or -errno (after reporting) */
static int pwrite_all(int fd, const void *buf, size_t len, off_t off,
		      const char *path)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(fd, (const char *)buf + done, len - done,
				   off + done);

		if (n <= 0) {
			int e = n < 0 ? errno : EIO;

			report("%s: pwrite of %zu bytes at %lld returned %zd: %s",
			       path, len - done, (long long)(off + done), n,
			       n < 0 ? strerror(e) : "no progress");
			return -e;
		}
		done += n;
	}
	return 0;
}

/* read up to len bytes, short only at EOF; bytes read or -errno */
static ssize_t pread_all(int fd, void *buf, size_t len, off_t off,
			 const char *path)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done,
				  off + done);

		if (n < 0) {
			int e = errno;

			report("%s: pread of %zu bytes at %lld: %s", path,
			       len - done, (long long)(off + done),
			       strerror(e));
			return -e;
		}
		if (n == 0)
			break;
		done += n;
	}
	return done;
}

static int path_in_work(char *buf, const char *name)
{
	if (snprintf(buf, PATH_MAX, "%s/%s", work_dir, name) >= PATH_MAX) {
		report("path too long: %s/%s", work_dir, name);
		return -ENAMETOOLONG;
	}
	return 0;
}

/* ---- (a) interleaved unaligned pwrite ------------------------------ */

struct a_arg {
	const char *path;
	int thread;
	int pass;
	pthread_barrier_t *start;
};

static uint8_t pat_a(int pass, off_t off)
{
	return mix64(((uint64_t)pass << 40) ^ (uint64_t)off) >> 56;
}

static void *a_writer(void *p)
{
	struct a_arg *a = p;
	unsigned char buf[A_REGION];
	int fd = open(a->path, O_RDWR);

	if (fd < 0)
		report("%s: open by thread %d: %s", a->path, a->thread,
		       strerror(errno));
	/* everyone starts together, so the writes really overlap in time */
	pthread_barrier_wait(a->start);
	if (fd < 0)
		return NULL;
	for (int i = 0; i < A_CHUNKS && !failed; i++) {
		/* alternate direction between passes to vary the overlap */
		int k = a->pass & 1 ? A_CHUNKS - 1 - i : i;
		off_t off = (off_t)a->thread * A_REGION + (off_t)k * A_STRIDE;

		for (int j = 0; j < A_REGION; j++)
			buf[j] = pat_a(a->pass, off + j);
		if (pwrite_all(fd, buf, A_REGION, off, a->path))
			break;
	}
	if (close(fd))
		report("%s: close by thread %d: %s", a->path, a->thread,
		       strerror(errno));
	return NULL;
}

/* say what a wrong byte looks like: lost update, zero or garbage */
static const char *a_diagnose(int pass, off_t off, uint8_t got)
{
	for (int p = pass - 1; p >= 0; p--)
		if (got == pat_a(p, off) && got != pat_a(pass, off))
			return "matches an earlier pass (lost update?)";
	return got ? "unrelated value" : "zero";
}

static int a_verify(const char *path, int pass)
{
	unsigned char *buf;
	struct stat st;
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_RDONLY);
	if (fd < 0) {
		report("%s: open for verify: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st)) {
		report("%s: fstat: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (st.st_size != A_SIZE) {
		report("%s: after pass %d st_size is %lld, expected %lld",
		       path, pass, (long long)st.st_size, (long long)A_SIZE);
		close(fd);
		return -1;
	}
	buf = malloc(A_SIZE + 1);
	if (!buf) {
		report("out of memory");
		close(fd);
		return -1;
	}
	n = pread_all(fd, buf, A_SIZE + 1, 0, path);
	if (n >= 0 && n != A_SIZE) {
		report("%s: read %zd bytes, file size is %lld", path, n,
		       (long long)A_SIZE);
		ret = -1;
	}
	for (off_t off = 0; n == A_SIZE && off < A_SIZE; off++) {
		if (buf[off] != pat_a(pass, off)) {
			report("%s: after pass %d byte %lld (thread %lld's region %lld, +%lld) is 0x%02x, expected 0x%02x: %s",
			       path, pass, (long long)off,
			       (long long)(off % A_STRIDE / A_REGION),
			       (long long)(off / A_STRIDE),
			       (long long)(off % A_REGION), buf[off],
			       pat_a(pass, off),
			       a_diagnose(pass, off, buf[off]));
			ret = -1;
			break;
		}
	}
	free(buf);
	if (close(fd)) {
		report("%s: close: %s", path, strerror(errno));
		ret = -1;
	}
	return n < 0 ? -1 : ret;
}

static int test_a(void)
{
	char path[PATH_MAX];
	struct a_arg args[A_THREADS];
	pthread_t tid[A_THREADS];
	pthread_barrier_t start;
	int fd, err;

	if (path_in_work(path, "interleaved"))
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
	if (fd < 0) {
		report("%s: create: %s", path, strerror(errno));
		return -1;
	}
	close(fd);
	for (int pass = 0; pass < A_PASSES; pass++) {
		pthread_barrier_init(&start, NULL, A_THREADS);
		for (int t = 0; t < A_THREADS; t++) {
			args[t] = (struct a_arg){ path, t, pass, &start };
			err = pthread_create(&tid[t], NULL, a_writer, &args[t]);
			if (err) {
				/* threads already started would wait forever */
				fprintf(stderr, "concurrent: pthread_create: %s\n",
					strerror(err));
				exit(1);
			}
		}
		for (int t = 0; t < A_THREADS; t++)
			pthread_join(tid[t], NULL);
		pthread_barrier_destroy(&start);
		if (failed || a_verify(path, pass))
			return -1;
	}
	if (unlink(path)) {
		report("%s: unlink: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- (b) O_APPEND records from several processes ------------------- */

static uint32_t fnv1a(const unsigned char *p, size_t len)
{
	uint32_t h = 2166136261u;

	while (len--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

/*
 * Record seq of writer w:
 *   "W SSSSSS LLL " payload "CCCCCCCC\n"
 * W writer id, S sequence number, L total length including the newline,
 * C hex FNV-1a of everything before it.  Length and payload derive from
 * (w, seq) so the reader can rebuild and compare every record.
 */
static size_t b_record(int w, int seq, unsigned char *rec)
{
	uint64_t st = ((uint64_t)w << 32) | (uint64_t)seq;
	size_t len = B_MINLEN + rnd(&st, B_MAXLEN - B_MINLEN + 1);
	char tail[B_TRAILER + 1];

	snprintf((char *)rec, B_HDRLEN + 1, "%d %06d %03zu ", w, seq, len);
	for (size_t i = B_HDRLEN; i < len - B_TRAILER; i++)
		rec[i] = 'a' + rnd(&st, 26);
	snprintf(tail, sizeof(tail), "%08" PRIx32 "\n",
		 fnv1a(rec, len - B_TRAILER));
	memcpy(rec + len - B_TRAILER, tail, B_TRAILER);
	return len;
}

static void b_child(const char *path, int w, int gate)
{
	unsigned char rec[B_MAXLEN + 1];
	char c;
	int fd;

	/* wait until the parent opens the gate, so all start together */
	if (read(gate, &c, 1) < 0) {
		fprintf(stderr, "concurrent: writer %d: read gate: %s\n", w,
			strerror(errno));
		_exit(1);
	}
	fd = open(path, O_WRONLY | O_APPEND);
	if (fd < 0) {
		fprintf(stderr, "concurrent: writer %d: open %s: %s\n", w,
			path, strerror(errno));
		_exit(1);
	}
	for (int seq = 0; seq < B_RECORDS; seq++) {
		size_t len = b_record(w, seq, rec);
		ssize_t n = write(fd, rec, len);

		if (n != (ssize_t)len) {
			fprintf(stderr, "concurrent: writer %d: %s: write of record %d (%zu bytes) returned %zd: %s\n",
				w, path, seq, len, n,
				n < 0 ? strerror(errno) : "short write");
			_exit(1);
		}
	}
	if (close(fd)) {
		fprintf(stderr, "concurrent: writer %d: close %s: %s\n", w,
			path, strerror(errno));
		_exit(1);
	}
	_exit(0);
}

/* show a damaged record printable, for the failure message */
static void b_excerpt(const unsigned char *p, size_t avail, char *out,
		      size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < avail && i < 60 && o + 5 < outlen; i++) {
		if (p[i] >= 32 && p[i] < 127)
			out[o++] = p[i];
		else
			o += snprintf(out + o, outlen - o, "\\x%02x", p[i]);
	}
	out[o] = '\0';
}

static int b_parse(const char *path, const unsigned char *data, size_t size)
{
	unsigned char rec[B_MAXLEN + 1];
	int next[B_WRITERS] = { 0 };
	size_t pos = 0, expect = 0;
	char ex[400];

	for (int w = 0; w < B_WRITERS; w++)
		for (int seq = 0; seq < B_RECORDS; seq++)
			expect += b_record(w, seq, rec);
	while (pos < size) {
		const unsigned char *p = data + pos;
		const unsigned char *nl = memchr(p, '\n', size - pos);
		size_t len = nl ? (size_t)(nl - p) + 1 : size - pos;
		unsigned w, seq, flen;
		uint32_t crc;
		char hex[9];

		b_excerpt(p, len, ex, sizeof(ex));
		if (len < B_MINLEN || len > B_MAXLEN ||
		    sscanf((const char *)p, "%1u %6u %3u ", &w, &seq, &flen) != 3 ||
		    p[1] != ' ' || p[8] != ' ' || p[12] != ' ') {
			report("%s: malformed record at offset %zu (%zu bytes to newline): \"%s\"",
			       path, pos, len, ex);
			return -1;
		}
		if (flen != len) {
			report("%s: record at offset %zu says length %u but is %zu bytes (torn or interleaved): \"%s\"",
			       path, pos, flen, len, ex);
			return -1;
		}
		crc = fnv1a(p, len - B_TRAILER);
		snprintf(hex, sizeof(hex), "%08" PRIx32, crc);
		if (memcmp(hex, p + len - B_TRAILER, 8)) {
			report("%s: record at offset %zu: checksum %.8s, computed %08" PRIx32 " (corrupt): \"%s\"",
			       path, pos, p + len - B_TRAILER, crc, ex);
			return -1;
		}
		if (w >= B_WRITERS) {
			report("%s: record at offset %zu from unknown writer %u",
			       path, pos, w);
			return -1;
		}
		if (seq != (unsigned)next[w]) {
			report("%s: record at offset %zu is writer %u seq %u, expected seq %d (%s)",
			       path, pos, w, seq, next[w],
			       seq < (unsigned)next[w] ? "duplicate or reordered" :
							 "records missing");
			return -1;
		}
		if (b_record(w, seq, rec) != len || memcmp(rec, p, len)) {
			report("%s: record at offset %zu (writer %u seq %u) differs from what was written",
			       path, pos, w, seq);
			return -1;
		}
		next[w]++;
		pos += len;
	}
	for (int w = 0; w < B_WRITERS; w++) {
		if (next[w] != B_RECORDS) {
			report("%s: writer %d has %d records, expected %d", path,
			       w, next[w], B_RECORDS);
			return -1;
		}
	}
	if (size != expect) {
		report("%s: file is %zu bytes, records add up to %zu", path,
		       size, expect);
		return -1;
	}
	return 0;
}

static int b_read_file(const char *path, unsigned char **out, size_t *size)
{
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		report("%s: open: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st)) {
		report("%s: fstat: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	*out = malloc(st.st_size + 1);
	if (!*out) {
		report("out of memory for %lld bytes", (long long)st.st_size);
		close(fd);
		return -1;
	}
	/* one byte more than st_size: the two must agree */
	n = pread_all(fd, *out, st.st_size + 1, 0, path);
	close(fd);
	if (n < 0 || n != st.st_size) {
		free(*out);
		if (n < 0)
			return -1;
		report("%s: st_size %lld but %zd bytes readable", path,
		       (long long)st.st_size, n);
		return -1;
	}
	(*out)[n] = '\0';	/* lets sscanf stop at the end */
	*size = n;
	return 0;
}

static int test_b(void)
{
	char path[PATH_MAX];
	pid_t pids[B_WRITERS];
	unsigned char *data;
	int gate[2], fd, ret = 0;
	size_t size;

	if (path_in_work(path, "appended"))
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0) {
		report("%s: create: %s", path, strerror(errno));
		return -1;
	}
	close(fd);
	if (pipe(gate)) {
		report("pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	for (int w = 0; w < B_WRITERS; w++) {
		pids[w] = fork();
		if (pids[w] < 0) {
			fprintf(stderr, "concurrent: fork: %s\n",
				strerror(errno));
			exit(1);
		}
		if (pids[w] == 0) {
			close(gate[1]);
			b_child(path, w, gate[0]);
		}
	}
	close(gate[0]);
	close(gate[1]);		/* EOF on the gate: go */
	for (int w = 0; w < B_WRITERS; w++) {
		int status;

		if (waitpid(pids[w], &status, 0) < 0) {
			report("waitpid writer %d: %s", w, strerror(errno));
			ret = -1;
		} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			report("writer %d failed (status 0x%x), see above", w,
			       status);
			ret = -1;
		}
	}
	if (ret || b_read_file(path, &data, &size))
		return -1;
	ret = b_parse(path, data, size);
	free(data);
	if (!ret && unlink(path)) {
		report("%s: unlink: %s", path, strerror(errno));
		ret = -1;
	}
	return ret;
}

/* ---- (c) extend / truncate / read race ----------------------------- */

enum c_role { C_EXTEND, C_TRUNCATE, C_READ };

struct c_arg {
	const char *path;
	enum c_role role;
	int id;
	pthread_barrier_t *start;
};

/* never zero, so a hole is distinguishable from data */
static uint8_t pat_c(off_t off)
{
	return (mix64((uint64_t)off * 0x100000001b3ULL) >> 56) | 1;
}

/* bytes read at off must be data written there or zeros */
static int c_check(const char *path, const unsigned char *buf, size_t n,
		   off_t off, const char *who)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] && buf[i] != pat_c(off + i)) {
			report("%s: %s read byte %lld = 0x%02x, expected 0x%02x or 0",
			       path, who, (long long)(off + i), buf[i],
			       pat_c(off + i));
			return -1;
		}
	}
	return 0;
}

static off_t c_size(int fd, const char *path, const char *who)
{
	struct stat st;

	if (fstat(fd, &st)) {
		report("%s: fstat by %s: %s", path, who, strerror(errno));
		return -1;
	}
	return st.st_size;
}

static int c_extend(int fd, struct c_arg *a, uint64_t *rs, unsigned char *buf,
		    const char *who)
{
	off_t size = c_size(fd, a->path, who), off;
	size_t len = 1 + rnd(rs, 16384);

	if (size < 0)
		return -1;
	/* mostly at EOF (extending), sometimes rewriting inside the file */
	off = rnd(rs, 10) < 7 ? size : (off_t)rnd(rs, size + 1);
	if (off + (off_t)len > C_MAXSIZE)
		off = rnd(rs, C_MAXSIZE - len);
	for (size_t i = 0; i < len; i++)
		buf[i] = pat_c(off + i);
	return pwrite_all(fd, buf, len, off, a->path);
}

static int c_truncate(int fd, struct c_arg *a, uint64_t *rs, const char *who)
{
	off_t size = c_size(fd, a->path, who), to;

	if (size < 0)
		return -1;
	switch (rnd(rs, 6)) {
	case 0: case 1: case 2:
		to = rnd(rs, size + 1);				/* down */
		break;
	case 3:
		to = size + rnd(rs, 20000);			/* up */
		break;
	case 4:
		to = rnd(rs, C_MAXSIZE / 4096 + 1) * 4096;	/* boundary */
		break;
	default:
		to = rnd(rs, C_MAXSIZE / 4096 + 1) * 4096 + rnd(rs, 3) - 1;
		break;
	}
	if (to < 0)
		to = 0;
	if (to > C_MAXSIZE)
		to = C_MAXSIZE;
	/* by descriptor and by path: both routes must be safe */
	if (rnd(rs, 2) ? ftruncate(fd, to) : truncate(a->path, to)) {
		report("%s: %s truncate to %lld: %s", a->path, who,
		       (long long)to, strerror(errno));
		return -1;
	}
	return 0;
}

static int c_read(int fd, struct c_arg *a, uint64_t *rs, unsigned char *buf,
		  const char *who)
{
	off_t size = c_size(fd, a->path, who), off;
	size_t len = 1 + rnd(rs, 65536);
	bool fresh = rnd(rs, 10) == 0;
	ssize_t n;
	int ret;

	if (size < 0)
		return -1;
	off = rnd(rs, size + 8192);
	/* now and then through a new open, exercising open/release too */
	if (fresh) {
		fd = open(a->path, O_RDONLY);
		if (fd < 0) {
			report("%s: open by %s: %s", a->path, who,
			       strerror(errno));
			return -1;
		}
	}
	n = pread(fd, buf, len, off);
	if (n < 0) {
		report("%s: %s pread of %zu at %lld: %s", a->path, who, len,
		       (long long)off, strerror(errno));
		ret = -1;
	} else {
		ret = c_check(a->path, buf, n, off, who);
	}
	if (fresh && close(fd)) {
		report("%s: close by %s: %s", a->path, who, strerror(errno));
		ret = -1;
	}
	return ret;
}

static void *c_worker(void *p)
{
	static const char *const role_name[] = { "extender", "truncator",
						 "reader" };
	static const int ops[] = { C_EXT_OPS, C_TRUNC_OPS, C_READ_OPS };
	struct c_arg *a = p;
	uint64_t rs = 0x5eed0000ULL + a->role * 100 + a->id;
	unsigned char *buf = malloc(65536);
	char who[32];
	int fd = open(a->path, a->role == C_READ ? O_RDONLY : O_RDWR);

	snprintf(who, sizeof(who), "%s %d", role_name[a->role], a->id);
	if (fd < 0)
		report("%s: open by %s: %s", a->path, who, strerror(errno));
	if (!buf)
		report("out of memory in %s", who);
	pthread_barrier_wait(a->start);
	for (int i = 0; fd >= 0 && buf && i < ops[a->role] && !failed; i++) {
		int r;

		if (a->role == C_EXTEND)
			r = c_extend(fd, a, &rs, buf, who);
		else if (a->role == C_TRUNCATE)
			r = c_truncate(fd, a, &rs, who);
		else
			r = c_read(fd, a, &rs, buf, who);
		if (r)
			break;
	}
	if (fd >= 0 && close(fd))
		report("%s: close by %s: %s", a->path, who, strerror(errno));
	free(buf);
	return NULL;
}

/* quiescent: st_size, lseek(SEEK_END) and the readable bytes agree */
static int c_final(const char *path, off_t *final)
{
	unsigned char *buf;
	struct stat st;
	off_t end;
	ssize_t n;
	int fd, ret = 0;

	if (stat(path, &st)) {
		report("%s: stat: %s", path, strerror(errno));
		return -1;
	}
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		report("%s: open: %s", path, strerror(errno));
		return -1;
	}
	end = lseek(fd, 0, SEEK_END);
	buf = malloc(st.st_size + 4096);
	if (end < 0 || !buf) {
		report("%s: lseek SEEK_END / malloc: %s", path,
		       strerror(errno));
		free(buf);
		close(fd);
		return -1;
	}
	n = pread_all(fd, buf, st.st_size + 4096, 0, path);
	if (n >= 0 && (n != st.st_size || end != st.st_size)) {
		report("%s: st_size %lld, lseek(SEEK_END) %lld, %zd bytes readable",
		       path, (long long)st.st_size, (long long)end, n);
		ret = -1;
	}
	if (n < 0 || (!ret && c_check(path, buf, n, 0, "final check")))
		ret = -1;
	free(buf);
	close(fd);
	*final = st.st_size;
	return ret;
}

static int test_c(off_t *final)
{
	enum { N = C_EXTENDERS + C_TRUNCATORS + C_READERS };
	char path[PATH_MAX];
	struct c_arg args[N];
	pthread_t tid[N];
	pthread_barrier_t start;
	int fd, err;

	if (path_in_work(path, "racy"))
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
	if (fd < 0) {
		report("%s: create: %s", path, strerror(errno));
		return -1;
	}
	close(fd);
	pthread_barrier_init(&start, NULL, N);
	for (int i = 0; i < N; i++) {
		enum c_role role = i < C_EXTENDERS ? C_EXTEND :
				   i < C_EXTENDERS + C_TRUNCATORS ? C_TRUNCATE :
				   C_READ;

		args[i] = (struct c_arg){ path, role, i, &start };
		err = pthread_create(&tid[i], NULL, c_worker, &args[i]);
		if (err) {
			fprintf(stderr, "concurrent: pthread_create: %s\n",
				strerror(err));
			exit(1);
		}
	}
	for (int i = 0; i < N; i++)
		pthread_join(tid[i], NULL);
	pthread_barrier_destroy(&start);
	if (failed || c_final(path, final))
		return -1;
	if (unlink(path)) {
		report("%s: unlink: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- driver -------------------------------------------------------- */

static bool run(const char *name, int (*fn)(void *), void *arg)
{
	atomic_store(&failed, false);
	fail_buf[0] = '\0';
	if (fn(arg) || failed) {
		printf("concurrent: %s: FAILED: %s\n", name,
		       fail_buf[0] ? fail_buf : "(no message)");
		fflush(stdout);
		return false;
	}
	printf("concurrent: %s: OK\n", name);
	fflush(stdout);
	return true;
}

static int run_a(void *arg)
{
	(void)arg;
	return test_a();
}

static int run_b(void *arg)
{
	(void)arg;
	return test_b();
}

static int run_c(void *arg)
{
	return test_c(arg);
}

int main(int argc, char **argv)
{
	off_t final = 0;
	bool ok = true;

	if (argc != 2) {
		fprintf(stderr, "usage: concurrent DIR\n");
		return 2;
	}
	if (snprintf(work_dir, sizeof(work_dir), "%s/concurrent.%d", argv[1],
		     (int)getpid()) >= (int)sizeof(work_dir)) {
		fprintf(stderr, "concurrent: path too long: %s\n", argv[1]);
		return 2;
	}
	if (mkdir(work_dir, 0755)) {
		fprintf(stderr, "concurrent: mkdir %s: %s\n", work_dir,
			strerror(errno));
		return 2;
	}
	ok &= run("(a) 8 threads, interleaved unaligned pwrite, 4 passes",
		  run_a, NULL);
	ok &= run("(b) 8 processes x 2000 O_APPEND records", run_b, NULL);
	ok &= run("(c) concurrent extend/truncate/read", run_c, &final);
	if (!ok) {
		printf("concurrent: FAILED; files left in %s\n", work_dir);
		return 1;
	}
	if (rmdir(work_dir)) {
		fprintf(stderr, "concurrent: rmdir %s: %s\n", work_dir,
			strerror(errno));
		return 1;
	}
	printf("concurrent: all OK (final size in (c): %lld)\n",
	       (long long)final);
	return 0;
}
