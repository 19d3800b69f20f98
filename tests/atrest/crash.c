// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/atrest/crash.c - a process that dies holding a secret.
 *
 *   atrest_crash MARK
 * Keeps MARK in a global (for gdb to print) and on the heap, then aborts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char crash_marker[256];

int main(int argc, char **argv)
{
	char *heap;

	if (argc != 2)
		return 2;
	snprintf(crash_marker, sizeof(crash_marker), "%s", argv[1]);
	heap = strdup(argv[1]);
	fprintf(stderr, "holding %zu bytes of marker; aborting\n", strlen(heap));
	abort();
}
