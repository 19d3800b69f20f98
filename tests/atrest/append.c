// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/atrest/append.c - log writers, as syslog daemons and applications
 * use a log file.
 *
 *   atrest_append write FILE NPROC NTHREAD NLINES MARK
 *	NPROC processes of NTHREAD threads each; every thread opens FILE
 *	O_APPEND itself and writes NLINES lines of varying length, one
 *	write(2) per line.
 *   atrest_append verify FILE NPROC NTHREAD NLINES MARK
 *	every line whole (prefix, length and trailer intact), none lost,
 *	each writer's lines in its own order.
 *   atrest_append fsync FILE BACKING NREC MARK
 *	one record per write + fsync, journald style; after each fsync the
 *	backing file must already hold the sealed record (its size grows by
 *	the record plus the extent overhead), i.e. it left the page cache.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *file, *mark;
static int nproc, nthread, nlines;

/* Line i of writer (p, t): its length varies from ~60 to ~1100 bytes. */
static int make_line(char *buf, size_t len, int p, int t, int i)
{
	int pad = (p * 131 + t * 17 + i * 7) % 1024, n;

	n = snprintf(buf, len, "%s p=%d t=%d i=%d pad=%d ", mark, p, t, i, pad);
	memset(buf + n, 'a' + (p + t + i) % 26, (size_t)pad);
	n += pad;
	buf[n++] = '#';
	buf[n++] = '\n';
	return n;
}

static void *writer(void *arg)
{
	int p = (int)((long)arg >> 16), t = (int)((long)arg & 0xffff), i, n;
	char buf[2048];
	int fd = open(file, O_WRONLY | O_APPEND | O_CREAT, 0644);

	if (fd < 0) {
		perror(file);
		exit(2);
	}
	for (i = 0; i < nlines; i++) {
		n = make_line(buf, sizeof(buf), p, t, i);
		if (write(fd, buf, (size_t)n) != n) {
			perror("write");
			exit(2);
		}
	}
	close(fd);
	return NULL;
}

static int do_write(void)
{
	pthread_t th[64];
	int p, t, st, bad = 0;

	for (p = 0; p < nproc; p++) {
		if (fork() == 0) {
			for (t = 0; t < nthread; t++)
				pthread_create(&th[t], NULL, writer,
					       (void *)(long)(p << 16 | t));
			for (t = 0; t < nthread; t++)
				pthread_join(th[t], NULL);
			_exit(0);
		}
	}
	while (wait(&st) > 0)
		bad |= !WIFEXITED(st) || WEXITSTATUS(st);
	return bad;
}

static int do_verify(void)
{
	FILE *f = fopen(file, "r");
	int *next = calloc((size_t)(nproc * nthread), sizeof(int));
	char *line = NULL, want[2048];
	size_t cap = 0;
	ssize_t len;
	int p, t, i, pad, n, k, lineno = 0;

	if (!f || !next)
		return 2;
	while ((len = getline(&line, &cap, f)) > 0) {
		lineno++;
		if (sscanf(line, "%*s p=%d t=%d i=%d pad=%d ", &p, &t, &i, &pad) != 4 ||
		    p < 0 || p >= nproc || t < 0 || t >= nthread) {
			fprintf(stderr, "line %d mangled: %.80s\n", lineno, line);
			return 1;
		}
		n = make_line(want, sizeof(want), p, t, i);
		if (len != n || memcmp(line, want, (size_t)n)) {
			fprintf(stderr, "line %d torn or interleaved: %.80s\n",
				lineno, line);
			return 1;
		}
		k = p * nthread + t;
		if (i != next[k]) {
			fprintf(stderr, "writer %d/%d: line %d where %d expected\n",
				p, t, i, next[k]);
			return 1;
		}
		next[k]++;
	}
	for (k = 0; k < nproc * nthread; k++)
		if (next[k] != nlines) {
			fprintf(stderr, "writer %d: %d of %d lines\n", k, next[k],
				nlines);
			return 1;
		}
	printf("%d lines whole, none lost, each writer in order\n", lineno);
	free(line);
	free(next);
	fclose(f);
	return 0;
}

static int do_fsync(const char *backing, int nrec)
{
	char buf[2048];
	unsigned long long total = 0, want;
	struct stat st;
	int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC, 0644), i, n;

	if (fd < 0)
		return 2;
	for (i = 0; i < nrec; i++) {
		n = make_line(buf, sizeof(buf), 0, 0, i);
		if (write(fd, buf, (size_t)n) != n || fsync(fd)) {
			perror("write+fsync");
			return 1;
		}
		total += (unsigned long long)n;
		/* format v1, 4 KiB extents: 28 bytes of nonce+tag per extent */
		want = total + 28 * ((total + 4095) / 4096);
		if (stat(backing, &st) || (unsigned long long)st.st_size != want) {
			fprintf(stderr, "after fsync of record %d: backing holds "
				"%lld bytes, %llu expected\n", i,
				(long long)st.st_size, want);
			return 1;
		}
	}
	return close(fd) ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && !strcmp(argv[1], "fsync")) {
		file = argv[2];
		mark = argv[5];
		return do_fsync(argv[3], atoi(argv[4]));
	}
	if (argc != 7) {
		fprintf(stderr, "usage: see the head of tests/atrest/append.c\n");
		return 2;
	}
	file = argv[2];
	nproc = atoi(argv[3]);
	nthread = atoi(argv[4]);
	nlines = atoi(argv[5]);
	mark = argv[6];
	if (nthread < 1 || nthread > 64 || nproc < 1)
		return 2;
	if (!strcmp(argv[1], "write"))
		return do_write();
	if (!strcmp(argv[1], "verify"))
		return do_verify();
	return 2;
}
