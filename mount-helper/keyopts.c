// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mount-helper/keyopts.c - where a key provider's settings and secrets come
 * from on the command line's side:
 *   1. the system provider config (/etc/atrestfs/providers.conf, libconfig;
 *      $ATRESTFS_PROVIDERS_CONF overrides the path), one group per
 *      provider: module paths, token and key labels, helper programs;
 *   2. the command line (-O KEY=VALUE, -o kp.KEY=VALUE), which wins;
 *   3. never the volume: the backing directory is untrusted.
 * Secrets (passphrases, PINs) come through the host's ask_secret():
 * --passfile FILE (- for standard input), --extpass CMD (its stdout,
 * through spawn_run()), else the terminal without echo.  They only ever
 * sit in secmem.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "../crypto/codec.h"
#include "../crypto/msg.h"
#include "../crypto/secmem.h"
#include "cli.h"

#define SYS_CONF	"/etc/atrestfs/providers.conf"
#define ASK_TRIES	3	/* a new secret typed twice, differently */

static int ask_secret(const struct keyprov_host *host, const char *prompt,
		      unsigned int flags, char *buf, size_t buflen,
		      size_t *len);

static void host_log(const struct keyprov_host *host, int level,
		     const char *line)
{
	(void)host;
	(void)level;
	cli_err("%s", line);
}

void cli_keyopts_init(struct cli_keyopts *o)
{
	memset(o, 0, sizeof(*o));
	o->slot = -1;
	o->host = *keyprov_host_default();
	o->host.ask_secret = ask_secret;
	o->host.log = host_log;
	o->host.ctx = o;
}

void cli_keyopts_free(struct cli_keyopts *o)
{
	unsigned int i;

	for (i = 0; i < o->nopts; i++)
		free(o->opt[i]);
	free(o->passfile);
	free(o->extpass);
	secmem_free(o->stdin_secret, o->stdin_cap);
	o->stdin_secret = NULL;
	if (o->sys_loaded)
		config_destroy(&o->sys);
	o->nopts = 0;
	o->sys_loaded = 0;
}

int cli_keyopts_add(struct cli_keyopts *o, const char *kv)
{
	const char *eq = strchr(kv, '=');

	if (!eq || eq == kv || (size_t)(eq - kv) > KEYPROV_NAME_MAX)
		return -EINVAL;
	if (o->nopts == CLI_OPTS_MAX)
		return -ENOSPC;
	o->opt[o->nopts] = strdup(kv);
	if (!o->opt[o->nopts])
		return -ENOMEM;
	o->opt[o->nopts][eq - kv] = '\0';	/* key\0value */
	o->nopts++;
	return 0;
}

int cli_newkey_opt(struct cli_keyopts *o, const char **provider, int c,
		   const char *arg)
{
	switch (c) {
	case 'n':
		*provider = arg;
		return 1;
	case 'N':
		if (cli_keyopts_add(o, arg)) {
			cli_err("--new-option %s: want KEY=VALUE (at most %d)",
				arg, CLI_OPTS_MAX);
			return -1;
		}
		return 1;
	case CLI_OPT_NEW_KEYFILE:
		snprintf(o->keyfile, sizeof(o->keyfile), "%s", arg);
		return 1;
	case CLI_OPT_NEW_PASSFILE:
	case CLI_OPT_NEW_EXTPASS:
		if (cli_keyopts_secret(o, c == CLI_OPT_NEW_PASSFILE ? arg : NULL,
				       c == CLI_OPT_NEW_EXTPASS ? arg : NULL)) {
			cli_err("out of memory");
			return -1;
		}
		return 1;
	}
	return 0;
}

int cli_unlock_opt(struct cli_keyopts *o, int c, const char *arg)
{
	uint64_t v;

	switch (c) {
	case 'k':
		snprintf(o->keyfile, sizeof(o->keyfile), "%s", arg);
		return 1;
	case 'P':
		if (!keyprov_name_valid(arg)) {
			cli_err("--provider %s: not a valid key provider name", arg);
			return -1;
		}
		snprintf(o->provider, sizeof(o->provider), "%s", arg);
		return 1;
	case 'S':
		if (dec_parse_u64(arg, 0, VOL_MAX_SLOTS - 1, &v)) {
			cli_err("--slot %s: want a keyslot number from 0 to %d",
				arg, VOL_MAX_SLOTS - 1);
			return -1;
		}
		o->slot = (int)v;
		return 1;
	case 'O':
		if (cli_keyopts_add(o, arg)) {
			cli_err("--provider-option %s: want KEY=VALUE (at most %d)",
				arg, CLI_OPTS_MAX);
			return -1;
		}
		return 1;
	case CLI_OPT_PASSFILE:
	case CLI_OPT_EXTPASS:
		if (cli_keyopts_secret(o, c == CLI_OPT_PASSFILE ? arg : NULL,
				       c == CLI_OPT_EXTPASS ? arg : NULL)) {
			cli_err("out of memory");
			return -1;
		}
		return 1;
	}
	return 0;
}

int cli_keyopts_secret(struct cli_keyopts *o, const char *passfile,
		       const char *extpass)
{
	if (passfile) {
		free(o->passfile);
		o->passfile = strdup(passfile);
		if (!o->passfile)
			return -ENOMEM;
	}
	if (extpass) {
		free(o->extpass);
		o->extpass = strdup(extpass);
		if (!o->extpass)
			return -ENOMEM;
	}
	return 0;
}

static int load_sys(struct cli_keyopts *o, char *msg, size_t msglen)
{
	const char *path = getenv("ATRESTFS_PROVIDERS_CONF");

	if (o->sys_loaded)
		return 0;
	if (!path || !*path)
		path = SYS_CONF;
	config_init(&o->sys);
	o->sys_loaded = 1;
	if (access(path, F_OK))
		return 0;		/* no system config: defaults only */
	if (config_read_file(&o->sys, path) != CONFIG_TRUE)
		return msg_fail(msg, msglen, -EINVAL, "%s line %d: %s", path,
				config_error_line(&o->sys),
				config_error_text(&o->sys));
	return 0;
}

/* Copy the system config's group for @provider: strings and integers. */
static int sys_settings(struct cli_keyopts *o, const char *provider,
			struct keyprov_kvlist *kv, char *msg, size_t msglen)
{
	config_setting_t *grp, *s;
	unsigned int i;
	int n, err;

	err = load_sys(o, msg, msglen);
	if (err)
		return err;
	grp = config_lookup(&o->sys, provider);
	if (!grp || !config_setting_is_group(grp))
		return 0;
	n = config_setting_length(grp);
	for (i = 0; i < (unsigned int)n; i++) {
		s = config_setting_get_elem(grp, i);
		if (config_setting_type(s) != CONFIG_TYPE_STRING)
			return msg_fail(msg, msglen, -EINVAL, "providers.conf: "
					"%s.%s must be a string", provider,
					config_setting_name(s));
		err = keyprov_kv_set(kv, config_setting_name(s),
				     config_setting_get_string(s));
		if (err)
			return err;
	}
	return 0;
}

void cli_keyopts_volume(struct cli_keyopts *o, const char *dir)
{
	char *real = realpath(dir, NULL);
	struct stat st;

	snprintf(o->voldir, sizeof(o->voldir), "%s", real ? real : "");
	free(real);
	if (*o->voldir && stat(o->voldir, &st) == 0) {
		o->vol_dev = st.st_dev;
		o->vol_ino = st.st_ino;
	} else {
		*o->voldir = '\0';
	}
}

/*
 * Is @path inside the volume (cli.h)?  Its directory (the file may not exist yet:
 * init makes the key file), links followed, and each directory above it
 * are compared with the volume's by device and inode, so no spelling of
 * the path (relative, through a symlink, a bind mount or /proc) hides it.
 * A hard link of a file into the volume is not caught.
 */
bool cli_in_volume(const struct cli_keyopts *o, const char *path)
{
	char *copy, *real = realpath(path, NULL), *dir;
	struct stat st, root;
	unsigned int depth;
	bool in = false;
	int fd, up;

	copy = strdup(real ? real : path);
	free(real);
	if (!copy)
		return false;
	dir = dirname(copy);
	fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd < 0 || stat("/", &root)) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	for (depth = 0; depth < 4096 && !fstat(fd, &st); depth++) {
		if (st.st_dev == o->vol_dev && st.st_ino == o->vol_ino) {
			in = true;
			break;
		}
		if (st.st_dev == root.st_dev && st.st_ino == root.st_ino)
			break;
		up = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		close(fd);
		fd = up;
		if (fd < 0)
			break;
	}
	if (fd >= 0)
		close(fd);
	return in;
}

/* Settings that name a file or directory, whatever their value looks like. */
static bool names_path(const char *key, const char *val)
{
	return val[0] == '/' || strstr(key, "file") || strstr(key, "path") ||
	       strstr(key, "dir") || !strcmp(key, "config") ||
	       !strcmp(key, "helper");
}

/* A root key kept in the volume travels with every backup and copy of it. */
static int keys_outside(const struct cli_keyopts *o,
			const struct keyprov_kvlist *kv, char *msg,
			size_t msglen)
{
	const char *what = NULL, *path = NULL;
	unsigned int i;

	if (!*o->voldir)
		return 0;
	for (i = 0; i < kv->n && !what; i++)
		if (names_path(kv->key[i], kv->val[i]) &&
		    cli_in_volume(o, kv->val[i])) {
			what = kv->key[i];
			path = kv->val[i];
		}
	if (!what && o->passfile && strcmp(o->passfile, "-") &&
	    cli_in_volume(o, o->passfile)) {
		what = "passfile";
		path = o->passfile;
	}
	if (!what)
		return 0;
	return msg_fail(msg, msglen, -EPERM, "%s %s is inside the volume %s: "
			"a key or secret kept there travels with every backup "
			"and copy of the volume and protects nothing; keep it "
			"outside", what, path, o->voldir);
}

int cli_keyopts_settings(struct cli_keyopts *o, const char *provider,
			 const char *uuid, int create,
			 struct keyprov_kvlist *kv, char *msg, size_t msglen)
{
	unsigned int i;
	int err;

	keyprov_kv_init(kv);
	err = sys_settings(o, provider, kv, msg, msglen);
	if (err)
		return err;
	for (i = 0; i < o->nopts && !err; i++)
		err = keyprov_kv_set(kv, o->opt[i],
				     o->opt[i] + strlen(o->opt[i]) + 1);
	if (!err && !strcmp(provider, "keyfile")) {
		if (*o->keyfile)
			snprintf(o->path, sizeof(o->path), "%s", o->keyfile);
		else if (!kv->kv.get(&kv->kv, "path") &&
			 cli_default_keyfile(uuid, o->path, sizeof(o->path),
					     create, msg, msglen))
			return -ENOKEY;
		else if (kv->kv.get(&kv->kv, "path"))
			snprintf(o->path, sizeof(o->path), "%s",
				 kv->kv.get(&kv->kv, "path"));
		err = keyprov_kv_set(kv, "path", o->path);
	}
	if (!err)
		err = keyprov_kv_set(kv, "volume", uuid);
	if (!err)
		err = keyprov_kv_set(kv, "mode", create ? "create" : "open");
	if (err == -ENOSPC)
		return msg_fail(msg, msglen, err, "too many settings for "
				"provider %s", provider);
	return err ? err : keys_outside(o, kv, msg, msglen);
}

/* ---- secrets ---- */

/*
 * Read up to buflen-1 bytes and keep the first line (without its "\n" or
 * "\r\n"), NUL-terminated; the rest of @buf is wiped, on errors all of it.
 */
static int read_secret(int fd, char *buf, size_t buflen, size_t *len)
{
	size_t n = 0;
	ssize_t r;
	char *nl, c;
	int err = 0;

	while (n < buflen - 1) {
		r = read(fd, buf + n, buflen - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		/* The first line is the secret: what follows may be longer. */
		if (memchr(buf + n - (size_t)r, '\n', (size_t)r))
			break;
	}
	if (!err && n == buflen - 1 && !memchr(buf, '\n', n) &&
	    read(fd, &c, 1) == 1)
		err = -E2BIG;
	OPENSSL_cleanse(&c, 1);
	if (err) {
		OPENSSL_cleanse(buf, buflen);
		return err;
	}
	nl = memchr(buf, '\n', n);
	if (nl)
		n = (size_t)(nl - buf);
	if (n && buf[n - 1] == '\r')
		n--;
	OPENSSL_cleanse(buf + n, buflen - n);
	*len = n;
	return 0;
}

static int from_file(const char *path, char *buf, size_t buflen, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int err;

	if (fd < 0) {
		err = -errno;
		cli_err("cannot open passphrase file %s: %s", path,
			strerror(errno));
		return err;
	}
	err = read_secret(fd, buf, buflen, len);
	close(fd);
	if (err)
		cli_err("cannot read passphrase file %s: %s", path,
			strerror(-err));
	return err;
}

/*
 * Run CMD with /bin/sh, for as long as it takes, in our process group (it
 * may prompt on the terminal) with our stdin, stderr and environment; the
 * secret is the first line of its stdout, straight into @buf.  What it
 * writes after that is read to its end (up to 1 MiB) and dropped: closing
 * the pipe early killed a program that wrote more with SIGPIPE.
 */
static int from_program(const char *cmd, char *buf, size_t buflen,
			size_t *len)
{
	char *argv[] = { "sh", "-c", (char *)cmd, NULL };
	struct spawn_cmd sc = { .path = "/bin/sh", .argv = argv, .out = buf,
				.out_cap = buflen, .out_skip = 1u << 20 };
	struct spawn_result res;
	size_t n;
	char *nl;
	int err;

	err = spawn_run(&sc, &res);
	if (err) {
		cli_err("--extpass program: cannot run /bin/sh: %s",
			strerror(-err));
		return err;
	}
	nl = memchr(buf, '\n', res.out_len);
	if (!nl && res.overflow) {
		err = -E2BIG;
	} else if (!res.status_known) {
		/* No status (the reaper failed): not known to succeed. */
		cli_err("--extpass program: cannot learn how it ended: %s",
			strerror(ECHILD));
		err = -ENOANO;
	} else if (!WIFEXITED(res.status) || WEXITSTATUS(res.status)) {
		cli_err("--extpass program failed (%s %d)",
			WIFEXITED(res.status) ? "exit" : "signal",
			WIFEXITED(res.status) ? WEXITSTATUS(res.status) :
			WTERMSIG(res.status));
		err = -ENOANO;
	}
	if (err) {
		OPENSSL_cleanse(buf, buflen);
		return err;
	}
	n = nl ? (size_t)(nl - buf) : res.out_len;
	if (n && buf[n - 1] == '\r')
		n--;
	OPENSSL_cleanse(buf + n, buflen - n);
	*len = n;
	return 0;
}

/*
 * While echo is off, a signal that ends the command (Ctrl-C, a hangup, a
 * kill) would leave the terminal without echo: these put it back first,
 * then die of the signal as they would have.
 */
static const int tty_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
#define TTY_NSIG	(sizeof(tty_signals) / sizeof(tty_signals[0]))
static struct termios tty_saved;
static volatile sig_atomic_t tty_fd = -1;

static void tty_restore_and_die(int sig)
{
	if (tty_fd >= 0)
		tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void tty_guard(int fd, const struct termios *saved,
		      struct sigaction *old)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = tty_restore_and_die;
	sigemptyset(&sa.sa_mask);
	tty_saved = *saved;
	tty_fd = fd;
	/* A signal the command ignores (nohup) stays ignored. */
	for (i = 0; i < TTY_NSIG; i++)
		if (!sigaction(tty_signals[i], NULL, &old[i]) &&
		    old[i].sa_handler != SIG_IGN)
			sigaction(tty_signals[i], &sa, NULL);
}

static void tty_unguard(const struct sigaction *old)
{
	size_t i;

	for (i = 0; i < TTY_NSIG; i++)
		sigaction(tty_signals[i], &old[i], NULL);
	tty_fd = -1;
}

/*
 * One line from @fd into @buf, NUL-terminated, without its "\n" or
 * "\r\n", read a byte at a time so that nothing past the newline is
 * consumed (the next secret may be the next line).  -E2BIG, with @buf
 * wiped, if it does not fit; the rest of the line is still consumed.
 */
static int read_line(int fd, char *buf, size_t buflen, size_t *len)
{
	size_t n = 0;
	ssize_t r;
	int err = 0;
	char c;

	for (;;) {
		r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			err = -errno;
		if (r <= 0 || c == '\n')
			break;
		if (n == buflen - 1) {
			err = -E2BIG;
			continue;
		}
		buf[n++] = c;
	}
	OPENSSL_cleanse(&c, 1);
	if (n && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	*len = n;
	if (err) {
		OPENSSL_cleanse(buf, buflen);
		*len = 0;
	}
	return err;
}

static int from_tty(const char *prompt, char *buf, size_t buflen,
		    size_t *len)
{
	struct sigaction sigs[TTY_NSIG];
	struct termios old, noecho;
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	int err;

	if (fd < 0)
		return -ENOANO;
	if (tcgetattr(fd, &old)) {
		close(fd);
		return -ENOANO;
	}
	noecho = old;
	noecho.c_lflag &= ~(tcflag_t)ECHO;
	noecho.c_lflag |= ECHONL;
	tty_guard(fd, &old, sigs);
	if (write(fd, prompt, strlen(prompt)) < 0 ||
	    tcsetattr(fd, TCSAFLUSH, &noecho)) {
		tty_unguard(sigs);
		close(fd);
		return -ENOANO;
	}
	err = read_line(fd, buf, buflen, len);
	tcsetattr(fd, TCSAFLUSH, &old);
	tty_unguard(sigs);
	close(fd);
	return err;
}

/*
 * --passfile - (standard input, not a terminal): its next line, read once
 * and kept for the other keyslots these options try, which would
 * otherwise each take a line meant for something else.
 */
static int from_stdin(struct cli_keyopts *o, char *buf, size_t buflen,
		      size_t *len)
{
	int err;

	if (!o->stdin_secret) {
		o->stdin_cap = PP_SECRET_MAX;
		o->stdin_secret = secmem_alloc(o->stdin_cap);
		if (!o->stdin_secret)
			return -ENOMEM;
		err = read_line(0, o->stdin_secret, o->stdin_cap,
				&o->stdin_len);
		if (err) {
			cli_err("cannot read the passphrase from standard "
				"input (--passfile -): %s", err == -E2BIG ?
				"its first line is too long" : strerror(-err));
			secmem_free(o->stdin_secret, o->stdin_cap);
			o->stdin_secret = NULL;
			return err;
		}
	}
	if (o->stdin_len >= buflen)
		return -E2BIG;
	memcpy(buf, o->stdin_secret, o->stdin_len + 1);
	*len = o->stdin_len;
	return 0;
}

static int ask_secret(const struct keyprov_host *host, const char *prompt,
		      unsigned int flags, char *buf, size_t buflen,
		      size_t *len)
{
	struct cli_keyopts *o = host->ctx;
	char *again;
	size_t len2 = 0;
	int err, tries;

	*len = 0;
	if (buflen < 2)
		return -EINVAL;
	/* "-" at a terminal is the terminal: no echo, and confirmed. */
	if (o->passfile && !strcmp(o->passfile, "-") && !isatty(0))
		return from_stdin(o, buf, buflen, len);
	if (o->passfile && strcmp(o->passfile, "-"))
		return from_file(o->passfile, buf, buflen, len);
	if (o->extpass)
		return from_program(o->extpass, buf, buflen, len);
	if (!(flags & KEYPROV_ASK_NEW))
		return from_tty(prompt, buf, buflen, len);
	again = secmem_alloc(buflen);
	if (!again)
		return -ENOMEM;
	/* A typing slip is not fatal: ask again, as cryptsetup does. */
	for (tries = 1;; tries++) {
		err = from_tty(prompt, buf, buflen, len);
		if (!err)
			err = from_tty("Repeat it: ", again, buflen, &len2);
		if (err || (len2 == *len && !memcmp(again, buf, *len)))
			break;
		OPENSSL_cleanse(buf, buflen);
		if (tries == ASK_TRIES) {
			cli_err("the two passphrases differed %d times; "
				"giving up", ASK_TRIES);
			err = -ENOANO;
			break;
		}
		cli_err("the two passphrases differ; try again");
	}
	secmem_free(again, buflen);
	if (err)
		OPENSSL_cleanse(buf, buflen);
	return err;
}
