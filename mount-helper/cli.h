/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mount-helper/cli.h - the atrestfs command: shared pieces of the commands.
 */
#ifndef ATR_CLI_H
#define ATR_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "../crypto/kek.h"
#include "../crypto/volume.h"
#include "../keyprov/keyprov.h"

#ifndef ATR_VERSION
#define ATR_VERSION "0.1.0"
#endif

/* Exit codes, documented in atrestfs(8). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,		/* anything else */
	EXIT_USAGE = 2,		/* bad command line */
	EXIT_KEY = 3,		/* key missing, unsafe, or not this volume's */
	EXIT_VOLUME = 4,	/* not a volume, bad or tampered config */
	EXIT_MOUNT = 5,		/* mountpoint or FUSE problem */
};

void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern int cli_quiet;

/*
 * What is mounted at @path (resolved with realpath): 1 and its fstype in
 * @type, or 0 if nothing is, from /proc/self/mountinfo.
 */
int cli_mounted(const char *path, char *type, size_t typelen);

/* Default key file of a volume: KEYDIR/UUID.key (see atrestfs(8) FILES). */
int cli_default_keyfile(const char *uuid, char *buf, size_t len, int mkdirs);

int cmd_init(int argc, char **argv);
int cmd_mount(int argc, char **argv);
int cmd_unmount(int argc, char **argv);
/* mount(8) calling convention: SOURCE DIR [-o OPTS] [-fnsv]. */
int cmd_mount_helper(int argc, char **argv);

/* volkey.c: a volume's key hierarchy from the command line's side. */
/*
 * Make a new volume in @dirfd: KEK, keyslot wrapped by provider @provider
 * with @settings, MAC, atrestfs.conf.  @cfg receives the config written.
 */
int volkey_create(int dirfd, const char *provider,
		  struct keyprov_kvlist *settings, uint32_t extent_size,
		  const uint8_t uuid[VOL_UUID_LEN], struct vol_config *cfg,
		  char *msg, size_t msglen);
/*
 * Load and validate the config (vol_load() errors), unwrap the KEK through
 * a keyslot of @provider, and verify the config MAC.  Returns 0 and *kek
 * (caller owns; kek_free()), -EKEYREJECTED for a key that does not open
 * the volume, -EBADMSG for a config that fails its MAC, or another -errno;
 * @msg says what went wrong in words naming the key and the volume.
 */
int volkey_unlock(int dirfd, const char *provider,
		  struct keyprov_kvlist *settings, struct vol_config *cfg,
		  struct kek **kek, char *msg, size_t msglen);

#endif
