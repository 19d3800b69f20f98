// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/atrest/killlog.c - fsync'd log writers for a daemon killed under
 * them (t_killappend.sh), and the check of what they were promised.
 *
 *   atrest_killlog write MNT ACKS NLOG ROUND SEED
 *	NLOG threads; thread i appends records "ROUND N xxx...\n" (0 to 299
 *	x's) to MNT/log<i>, with an fsync after every k-th (k from 1 to 3),
 *	and after each fsync writes "ROUND N" (the last record it covers) to
 *	ACKS<i>.ack.  Until a write or fsync fails (the daemon died).
 *   atrest_killlog check LOG ACKS
 *	LOG reads whole (no EIO), its records of each round are numbered
 *	from 0 without a gap, and for each line "ROUND N" of the file ACKS,
 *	record N of that round is there.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXROUND	100000

static const char *mnt, *acks;
static int round_no;
static unsigned int seed;

static void *writer(void *arg)
{
	int i = (int)(long)arg, fd, afd, k, n, len, x;
	unsigned int r = seed * 7919u + (unsigned int)i;
	char path[4096], buf[512], ack[32];

	snprintf(path, sizeof(path), "%s/log%d", mnt, i);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
	snprintf(path, sizeof(path), "%s%d.ack", acks, i);
	afd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || afd < 0)
		return NULL;
	k = 1 + (int)(rand_r(&r) % 3);
	for (n = 0;; n++) {
		len = snprintf(buf, sizeof(buf), "%d %d ", round_no, n);
		x = (int)(rand_r(&r) % 300);
		memset(buf + len, 'x', (size_t)x);
		len += x;
		buf[len++] = '\n';
		if (write(fd, buf, (size_t)len) != len)
			break;
		if (n % k != k - 1)
			continue;
		if (fsync(fd))
			break;
		len = snprintf(ack, sizeof(ack), "%10d %10d\n", round_no, n);
		if (pwrite(afd, ack, (size_t)len, 0) != len)
			break;
	}
	close(fd);
	close(afd);
	return NULL;
}

static int do_write(int nlog)
{
	pthread_t th[16];
	int i;

	if (nlog < 1 || nlog > 16)
		return 2;
	for (i = 0; i < nlog; i++)
		if (pthread_create(&th[i], NULL, writer, (void *)(long)(i + 1)))
			return 2;
	for (i = 0; i < nlog; i++)
		pthread_join(th[i], NULL);
	return 0;
}

static int do_check(const char *log, const char *ackfile)
{
	int *next = malloc(MAXROUND * sizeof(int)), r, n, line = 0;
	FILE *f = fopen(log, "r"), *a = fopen(ackfile, "r");
	char *buf = NULL;
	size_t cap = 0;

	if (!next || !f || !a) {
		perror(!f ? log : ackfile);
		return 1;
	}
	memset(next, 0, MAXROUND * sizeof(int));
	while (getline(&buf, &cap, f) > 0) {
		line++;
		if (sscanf(buf, "%d %d ", &r, &n) != 2 || r < 0 ||
		    r >= MAXROUND || n != next[r]) {
			fprintf(stderr, "%s: line %d out of order or mangled: "
				"%.40s\n", log, line, buf);
			return 1;
		}
		next[r]++;
	}
	if (ferror(f)) {
		perror(log);
		return 1;
	}
	while (fscanf(a, "%d %d", &r, &n) == 2) {
		if (r < 0 || r >= MAXROUND || next[r] <= n) {
			fprintf(stderr, "%s: round %d: fsync'd record %d "
				"missing (%d read)\n", log, r, n,
				r >= 0 && r < MAXROUND ? next[r] : -1);
			return 1;
		}
	}
	free(buf);
	free(next);
	fclose(f);
	fclose(a);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 7 && !strcmp(argv[1], "write")) {
		mnt = argv[2];
		acks = argv[3];
		round_no = atoi(argv[5]);
		seed = (unsigned int)strtoul(argv[6], NULL, 10);
		return do_write(atoi(argv[4]));
	}
	if (argc == 4 && !strcmp(argv[1], "check"))
		return do_check(argv[2], argv[3]);
	fprintf(stderr, "usage: see the head of tests/atrest/killlog.c\n");
	return 2;
}
