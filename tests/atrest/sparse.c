// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/atrest/sparse.c - a large sparse file, as VM images and page files.
 *
 *   atrest_sparse FILE MARK SEED
 * ftruncate to 16 GiB, 256 random 4 KiB-aligned 4 KiB writes (each
 * carrying MARK and its offset), fallocate a range; checks every write, a
 * hole between them reading as zeros, SEEK_DATA and SEEK_HOLE around each
 * write, and the file size.  Run again with "verify" as a 4th argument to
 * check only (after a remount).
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BIG	(16ULL << 30)
#define BLK	4096
#define NWR	256

static uint64_t offs[NWR];

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void block(char *buf, const char *mark, uint64_t off)
{
	int n = snprintf(buf, BLK, "%s@%llu:", mark, (unsigned long long)off);

	memset(buf + n, (int)('A' + off / BLK % 26), (size_t)(BLK - n));
}

int main(int argc, char **argv)
{
	char buf[BLK], want[BLK], zero[BLK] = { 0 };
	bool verify = argc == 5 && !strcmp(argv[4], "verify");
	uint64_t i, j;
	off_t r;
	int fd;

	if (argc < 4)
		return 2;
	srandom((unsigned int)atoi(argv[3]));
	/* Distinct blocks, not adjacent, below the last one. */
	for (i = 0; i < NWR; i++) {
again:
		offs[i] = ((uint64_t)random() * 2 % (BIG / BLK - 2)) * BLK;
		for (j = 0; j < i; j++)
			if (offs[j] / BLK + 1 >= offs[i] / BLK &&
			    offs[j] / BLK <= offs[i] / BLK + 1)
				goto again;
	}
	fd = open(argv[1], verify ? O_RDONLY : O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return 2;
	if (!verify) {
		if (ftruncate(fd, (off_t)BIG))
			return perror("ftruncate"), 1;
		for (i = 0; i < NWR; i++) {
			block(buf, argv[2], offs[i]);
			if (pwrite(fd, buf, BLK, (off_t)offs[i]) != BLK)
				return perror("pwrite"), 1;
		}
		/* Reserve 1 MiB beyond the data; the size must not change. */
		if (fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)(BIG / 2), 1 << 20))
			return perror("fallocate"), 1;
		if (fsync(fd))
			return perror("fsync"), 1;
	}
	if (lseek(fd, 0, SEEK_END) != (off_t)BIG)
		return fprintf(stderr, "size is not 16 GiB\n"), 1;
	qsort(offs, NWR, sizeof(offs[0]), cmp);
	for (i = 0; i < NWR; i++) {
		block(want, argv[2], offs[i]);
		if (pread(fd, buf, BLK, (off_t)offs[i]) != BLK ||
		    memcmp(buf, want, BLK))
			return fprintf(stderr, "data at %llu wrong\n",
				       (unsigned long long)offs[i]), 1;
		if (pread(fd, buf, BLK, (off_t)(offs[i] + BLK)) != BLK ||
		    memcmp(buf, zero, BLK))
			return fprintf(stderr, "hole after %llu not zeros\n",
				       (unsigned long long)offs[i]), 1;
		r = lseek(fd, (off_t)(offs[i] ? offs[i] - 1 : 0), SEEK_DATA);
		if (r != (off_t)offs[i])
			return fprintf(stderr, "SEEK_DATA before %llu gave %lld\n",
				       (unsigned long long)offs[i], (long long)r), 1;
		r = lseek(fd, (off_t)offs[i], SEEK_HOLE);
		if (r != (off_t)(offs[i] + BLK))
			return fprintf(stderr, "SEEK_HOLE at %llu gave %lld\n",
				       (unsigned long long)offs[i], (long long)r), 1;
	}
	printf("16 GiB sparse: %d blocks intact, holes zero, SEEK_DATA/SEEK_HOLE exact\n",
	       NWR);
	return close(fd) ? 1 : 0;
}
