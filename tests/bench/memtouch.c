// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/bench/memtouch.c - the swap workload of "make bench".  Run inside a
 * memory cgroup smaller than @mib: the first pass writes every page (the
 * kernel pages the overflow out), the second reads and checks every page
 * (paging it back in).  Prints "pageout_MBps pagein_MBps".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 256;
	size_t len = mib << 20, pg = (size_t)sysconf(_SC_PAGESIZE), i;
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	double t0, out, in;
	uint64_t bad = 0;

	if (p == MAP_FAILED)
		return 1;
	t0 = now();
	/* Random-looking but checkable bytes: zero pages would not swap. */
	for (i = 0; i < len; i += 8)
		*(uint64_t *)(p + i) = i * 0x9e3779b97f4a7c15ull;
	out = now() - t0;
	t0 = now();
	for (i = 0; i < len; i += pg)
		bad += *(uint64_t *)(p + i) != i * 0x9e3779b97f4a7c15ull;
	in = now() - t0;
	if (bad) {
		fprintf(stderr, "memtouch: %llu pages came back wrong\n",
			(unsigned long long)bad);
		return 2;
	}
	printf("%.1f %.1f\n", mib / out, mib / in);
	return 0;
}
