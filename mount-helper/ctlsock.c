// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mount-helper/ctlsock.c - the command line's side of a daemon's control
 * socket (fs/ctl.c): "ctl" in the volume's state directory on this
 * machine, reached through that directory's fd, and its one-line answers.
 * Used by rotate-kek MOUNTPOINT, rekey MOUNTPOINT, lock and unlock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"

int cli_ctl_connect(const char *dir, const char *state_dir,
		    const uint8_t uuid[VOL_UUID_LEN], const char *mnt,
		    bool say)
{
	char msg[KEYPROV_MSG_MAX] = "";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct state_dir sd;
	int fd, err;

	err = cli_state_open(dir, state_dir, uuid, &sd, msg, sizeof(msg));
	if (err) {
		if (say)
			cli_err("%s: %s", dir, *msg ? msg : strerror(-err));
		return -1;
	}
	/* Through our fd: the directory's path may be too long for sun_path. */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/ctl",
		 sd.fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		if (say)
			cli_err("cannot reach the daemon serving %s through "
				"%s/ctl: %s. It is not mounted on this machine, "
				"or was mounted with another --state-dir (give "
				"the same one)", *mnt ? mnt : dir, sd.path,
				strerror(errno));
		close(fd);
		fd = -1;
	}
	state_close(&sd);
	return fd;
}

int cli_ctl_call(int fd, const void *req, size_t len, char *reply,
		 size_t replylen)
{
	char line[1100];
	size_t n = 0;
	ssize_t r;

	*reply = '\0';
	if (send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len)
		return -errno;
	/* One line; a lock may wait for a rotation's walk to end first. */
	while (n + 1 < sizeof(line)) {
		r = recv(fd, line + n, 1, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -ECONNRESET;
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	cli_ctl_text(line);	/* a backing path as it is, for cli_err() */
	if (!strncmp(line, "ok", 2)) {
		snprintf(reply, replylen, "%s", line[2] ? line + 3 : "");
		return 0;
	}
	if (!strncmp(line, "rejected ", 9)) {
		snprintf(reply, replylen, "%s", line + 9);
		return -EKEYREJECTED;
	}
	snprintf(reply, replylen, "%s", strncmp(line, "error ", 6) ? line :
		 line + 6);
	return -EIO;
}

int cli_ctl_line(FILE *f, char *line, size_t len)
{
	size_t n;
	int ch;

	if (!fgets(line, (int)len, f))
		return -1;
	n = strlen(line);
	if (n && line[n - 1] == '\n') {
		line[n - 1] = '\0';
		return 0;
	}
	/* Cut (too long), or the end of the stream: never a whole answer. */
	while ((ch = fgetc(f)) != EOF && ch != '\n')
		;
	return 1;
}

void cli_ctl_text(char *s)
{
	char *o = s;
	unsigned int x;

	while (*s) {
		if (s[0] != '\\' || !s[1]) {
			*o++ = *s++;
		} else if (s[1] == 'n' || s[1] == 'r' || s[1] == '\\') {
			*o++ = s[1] == 'n' ? '\n' : s[1] == 'r' ? '\r' : '\\';
			s += 2;
		} else if (s[1] == 'x' && sscanf(s + 2, "%2x", &x) == 1 &&
			   s[2] && s[3]) {
			*o++ = (char)x;
			s += 4;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
}

bool cli_ctl_ok(const char *line, unsigned long long *v, size_t n)
{
	const char *p = line + 2;
	char *end;
	size_t i;

	if (strncmp(line, "ok", 2))
		return false;
	for (i = 0; i < n; i++) {
		if (p[0] != ' ' || p[1] < '0' || p[1] > '9')
			return false;
		errno = 0;
		v[i] = strtoull(p + 1, &end, 10);
		if (errno)
			return false;
		p = end;
	}
	return *p == '\0';
}

/*
 * The control socket of volume @dir's daemon, in its state directory:
 * a connected fd, or -1 with the exit code in *@ret, said on stderr if
 * @say.
 */
int cli_ctl_open(const char *dir, const char *state_dir, bool say,
		     int *ret)
{
	char msg[512] = "";
	struct vol_config cfg;
	int dirfd, err, fd;

	*ret = EXIT_VOLUME;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		if (say)
			cli_err("%s: %s", dir, strerror(errno));
		return -1;
	}
	err = volconf_load(dirfd, &cfg, msg, sizeof(msg));
	close(dirfd);
	if (err && say && err == -ENOENT)
		cli_err("%s is neither an atrestfs mount point nor a volume "
			"(no %s)", dir, VOL_CONF_NAME);
	else if (err && say)
		cli_err("%s/%s: %s", dir, VOL_CONF_NAME, *msg ? msg : strerror(-err));
	if (err)
		return -1;
	fd = cli_ctl_connect(dir, state_dir, cfg.uuid, "", say);
	if (fd < 0)
		*ret = EXIT_MOUNT;
	return fd;
}
