/*
 * stale_size - a file's size as a directory listing's entry gives it must
 * never undo the writes the kernel had made to the file before (t_stale_size).
 *
 * Usage: stale_size MNT BACKING SECONDS
 *
 * MNT/d1 holds a few files (made by the caller), MNT/d2/a one more.
 * Children list MNT/d1 over and over (READDIRPLUS: every entry comes with its
 * attributes).  The parent, each round: gives the file a second name d1/b
 * in the backing directory (the kernel does not know it), appends through
 * d2/a, unlinks d2/a (the kernel then forgets its inode, unless a listing
 * already gave it the name d1/b), stats d1/b and renames it back to d2/a.
 * A listing whose entry for d1/b was made before the append, and reached
 * the kernel after the inode was forgotten, sets up the inode again with
 * the size before the append: the stat finds the file short.
 * Exit 0: the size was right every time; 1: it was not; 2: harness error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NLISTERS	3	/* children listing d1 at once */

static void die(const char *what)
{
	fprintf(stderr, "stale_size: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void lister(const char *dir)
{
	for (;;) {
		DIR *d = opendir(dir);

		if (!d)
			die("opendir");
		while (readdir(d))
			;
		closedir(d);
	}
}

int main(int argc, char **argv)
{
	char a[4096], b[4096], ba[4096], bb[4096], d1[4096], buf[512];
	unsigned long rounds = 0;
	off_t want = 0;
	struct stat st;
	time_t end;
	pid_t pid[NLISTERS];
	int fd, i, rc = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: stale_size MNT BACKING SECONDS\n");
		return 2;
	}
	snprintf(a, sizeof(a), "%s/d2/a", argv[1]);
	snprintf(b, sizeof(b), "%s/d1/b", argv[1]);
	snprintf(d1, sizeof(d1), "%s/d1", argv[1]);
	snprintf(ba, sizeof(ba), "%s/d2/a", argv[2]);
	snprintf(bb, sizeof(bb), "%s/d1/b", argv[2]);
	end = time(NULL) + atoi(argv[3]);
	memset(buf, 'x', sizeof(buf));
	if (stat(a, &st))
		die("stat d2/a");
	want = st.st_size;
	for (i = 0; i < NLISTERS; i++) {
		pid[i] = fork();
		if (pid[i] < 0)
			die("fork");
		if (pid[i] == 0)
			lister(d1);
	}
	while (time(NULL) < end) {
		rounds++;
		if (link(ba, bb))
			die("link in the backing directory");
		fd = open(a, O_WRONLY | O_APPEND);
		if (fd < 0)
			die("open d2/a");
		if (write(fd, buf, 1 + rounds % sizeof(buf)) !=
		    (ssize_t)(1 + rounds % sizeof(buf)))
			die("append");
		if (close(fd))
			die("close");
		want += 1 + rounds % sizeof(buf);
		if (unlink(a))
			die("unlink d2/a");
		usleep(500);	/* room for a listing's reply to land */
		if (stat(b, &st))
			die("stat d1/b");
		if (st.st_size != want) {
			fprintf(stderr, "stale_size: round %lu: d1/b is %lld "
				"bytes, %lld written\n", rounds,
				(long long)st.st_size, (long long)want);
			rc = 1;
			break;
		}
		if (rename(b, a))
			die("rename d1/b d2/a");
	}
	for (i = 0; i < NLISTERS; i++) {
		kill(pid[i], SIGKILL);
		waitpid(pid[i], NULL, 0);
	}
	printf("stale_size: %lu rounds%s\n", rounds, rc ? ", size wrong" : "");
	return rc;
}
