// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/atrest/memfill.c - a process bigger than its memory cgroup.
 *
 *   atrest_memfill MIB MARK TIMEOUT_S
 * Fills MIB MiB of anonymous memory, every 4 KiB page stamped with MARK,
 * its index and a pattern; walks it until /proc/self/status shows VmSwap
 * above a quarter of it (paged out) or TIMEOUT_S passes; then checks every
 * page (paged back in).  Prints the VmSwap it saw.  Exit 0 only if pages
 * were swapped and all came back intact.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PG 4096

static long vmswap_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmSwap: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static void stamp(char *pg, const char *mark, size_t i)
{
	int n = snprintf(pg, PG, "%s#%zu#", mark, i);

	memset(pg + n, (int)(i * 7 % 251), (size_t)(PG - n));
}

int main(int argc, char **argv)
{
	size_t mib, npg, i;
	long swp, best = 0;
	char *mem, want[PG];
	time_t end;

	if (argc != 4)
		return 2;
	mib = (size_t)atol(argv[1]);
	npg = mib << 20 >> 12;
	end = time(NULL) + atoi(argv[3]);
	mem = malloc(npg * PG);
	if (!mem)
		return 2;
	for (i = 0; i < npg; i++)
		stamp(mem + i * PG, argv[2], i);
	/* Touch it all again and again: the cgroup must push some out. */
	do {
		for (i = 0; i < npg; i++)
			mem[i * PG + PG - 1] ^= 0;
		swp = vmswap_kib();
		if (swp > best)
			best = swp;
	} while (best < (long)(mib * 1024 / 4) && time(NULL) < end);
	printf("VmSwap %ld kB of %zu MiB\n", best, mib);
	for (i = 0; i < npg; i++) {
		stamp(want, argv[2], i);
		if (memcmp(mem + i * PG, want, PG)) {
			fprintf(stderr, "page %zu came back wrong\n", i);
			return 1;
		}
	}
	printf("all %zu pages intact after paging out and in\n", npg);
	return best > 0 ? 0 : 3;
}
