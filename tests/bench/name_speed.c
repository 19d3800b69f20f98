// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/bench/name_speed.c - the cost of one encrypted name for "make
 * bench": names_encrypt() and names_decrypt() of a 10-byte name (one
 * AES-SIV block, as most names), one thread, in microseconds, through a
 * kept context as the daemon's threads call them (fs/dirnames.c) and
 * with a key set-up per call (a NULL context).
 *
 *	name_speed [seconds]  ->  "enc_us dec_us enc_setup_us dec_setup_us"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../crypto/names.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Microseconds per call of encrypt (@dec false) or decrypt through @a. */
static double per_name(struct aead_ctx *a, bool dec, double secs)
{
	static const uint8_t key[NAMES_KEY_LEN] = { 1, 2, 3 };
	static const uint8_t id[NAMES_DIRID_LEN] = { 4, 5, 6 };
	char out[NAMES_PLAIN_MAX + 1];
	struct names_enc e;
	unsigned long n, i;
	double t0;

	if (names_encrypt(a, key, id, "f00123.txt", &e))
		exit(1);
	for (n = 0, t0 = now(); now() - t0 < secs; n += 256)
		for (i = 0; i < 256; i++)
			if (dec ? names_decrypt(a, key, id, e.full,
						strlen(e.full), out) :
				  names_encrypt(a, key, id, "f00123.txt", &e))
				exit(1);
	return (now() - t0) / n * 1e6;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	struct aead_ctx *a = aead_ctx_new();

	if (!a)
		return 1;
	printf("%.2f %.2f %.2f %.2f\n", per_name(a, false, secs),
	       per_name(a, true, secs), per_name(NULL, false, secs),
	       per_name(NULL, true, secs));
	aead_ctx_free(a);
	return 0;
}
