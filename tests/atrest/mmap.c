// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/atrest/mmap.c - page files: writable shared mappings reach the file.
 *
 *   atrest_mmap FILE MARK
 * Maps FILE (created, 1 MiB + 100 bytes, so the last page is partial)
 * MAP_SHARED and writes MARK at offsets straddling pages and extents; after
 * msync another process sees them with read(2).  A MAP_PRIVATE mapping's
 * writes stay private.  Writes after msync are persisted by munmap+close
 * alone and seen by a new process.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define SIZE	((1 << 20) + 100)

static const size_t offs[] = { 0, 4090, 8190, 65536 - 3, 500000,
			       (1 << 20) + 40 };	/* tags end before SIZE */

/* In a child process, with its own open: read(2) finds @tag at every offset. */
static int child_sees(const char *file, const char *tag, size_t add)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		char buf[256];
		size_t i, n = strlen(tag);
		int fd = open(file, O_RDONLY);

		if (fd < 0)
			_exit(2);
		for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
			if (pread(fd, buf, n, (off_t)(offs[i] + add)) != (ssize_t)n ||
			    memcmp(buf, tag, n)) {
				fprintf(stderr, "read(2) at %zu: not the mapped "
					"write\n", offs[i] + add);
				_exit(1);
			}
		}
		_exit(0);
	}
	return pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) ?
		1 : WEXITSTATUS(st);
}

int main(int argc, char **argv)
{
	const char *file = argv[1], *mark = argv[2];
	char *map, *priv, buf[256], tag2[256];
	size_t i, n;
	int fd;

	if (argc != 3)
		return 2;
	n = strlen(mark);
	fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, SIZE))
		return 2;
	map = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		perror("mmap MAP_SHARED");
		return 1;
	}
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
		memcpy(map + offs[i], mark, n);
	if (msync(map, SIZE, MS_SYNC)) {
		perror("msync");
		return 1;
	}
	if (child_sees(file, mark, 0))
		return 1;
	printf("MAP_SHARED writes seen by read(2) in another process after msync\n");

	/* A private mapping's writes never reach the file or the shared map. */
	priv = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (priv == MAP_FAILED)
		return 1;
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		if (memcmp(priv + offs[i], mark, n)) {
			fprintf(stderr, "MAP_PRIVATE does not see the file\n");
			return 1;
		}
		memset(priv + offs[i], 'P', n);
	}
	munmap(priv, SIZE);
	if (child_sees(file, mark, 0))
		return 1;
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
		if (memcmp(map + offs[i], mark, n) ||
		    pread(fd, buf, n, (off_t)offs[i]) != (ssize_t)n ||
		    memcmp(buf, mark, n)) {
			fprintf(stderr, "MAP_PRIVATE write leaked into the file\n");
			return 1;
		}
	printf("MAP_PRIVATE writes stay private\n");

	/* No msync this time: munmap and close must carry the writes. */
	snprintf(tag2, sizeof(tag2), "%s-2", mark);
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
		memcpy(map + offs[i] + 8, tag2, strlen(tag2));
	if (munmap(map, SIZE) || close(fd))
		return 1;
	if (child_sees(file, tag2, 8))
		return 1;
	printf("munmap without msync persists, another process sees it\n");
	return 0;
}
