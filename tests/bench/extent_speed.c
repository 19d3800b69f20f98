// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/bench/extent_speed.c - crypto micro-benchmark for "make bench":
 * seal and open MB/s of one extent size, one thread, through the same
 * extent_seal_ctx()/extent_open_ctx() and reused per-thread context that
 * the data path uses.  Compare with
 * `openssl speed -evp aes-256-gcm -bytes N`.
 *
 *	extent_speed [extent_size [seconds]]  ->  "seal MBps open MBps"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../crypto/extent.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	size_t esz = argc > 1 ? strtoul(argv[1], NULL, 0) : 4096;
	double secs = argc > 2 ? atof(argv[2]) : 1.0, t0, ts, to;
	struct aead_ctx *ac = aead_ctx_new();
	struct file_key fk;
	uint8_t *plain = malloc(esz), *disk = malloc(esz + EXTENT_OVERHEAD);
	unsigned long n, i;

	if (!plain || !disk || !ac)
		return 1;
	memset(&fk, 0x5a, sizeof(fk));
	memset(plain, 0xa5, esz);
	for (n = 0, t0 = now(); now() - t0 < secs; n += 256)
		for (i = 0; i < 256; i++)
			if (extent_seal_ctx(ac, &fk, i, false, plain, esz, disk))
				return 1;
	ts = n * (double)esz / (now() - t0) / 1e6;
	extent_seal(&fk, 7, false, plain, esz, disk);
	for (n = 0, t0 = now(); now() - t0 < secs; n += 256)
		for (i = 0; i < 256; i++)
			if (extent_open_ctx(ac, &fk, 7, false, disk,
					    esz + EXTENT_OVERHEAD, plain))
				return 1;
	to = n * (double)esz / (now() - t0) / 1e6;
	printf("%.0f %.0f\n", ts, to);
	aead_ctx_free(ac);
	free(plain);
	free(disk);
	return 0;
}
