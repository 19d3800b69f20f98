// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/tools/keydump.c - for t_lock.sh only: print in hex every key a
 * daemon serving the volume may hold, so that the test can look for them
 * in the daemon's memory.  Unlocks CIPHERDIR with the key file KEYFILE
 * through the library, as a mount does; then, for each backing FILE, the
 * DEK its header wraps ("dek:BASENAME").  One "NAME HEX" line per key.
 *
 *   tool_keydump CIPHERDIR KEYFILE [FILE...]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../../crypto/codec.h"
#include "../../crypto/hdr.h"
#include "../../crypto/names.h"
#include "../../crypto/secmem.h"
#include "../../crypto/verrec.h"
#include "../../volume/volume.h"
#include "unlock.h"

static void put(const char *name, const uint8_t *key, size_t len)
{
	char hex[2 * 64 + 1];

	hex_encode(key, len, hex);
	printf("%s %s\n", name, hex);
}

static int dump_dek(const struct kek *kek, const char *path)
{
	const char *base = strrchr(path, '/');
	uint8_t raw[HDR_SIZE + 1];
	char name[300];
	struct file_key *fk;
	struct hdr h;
	ssize_t n;

	n = getxattr(path, HDR_XATTR, raw, sizeof(raw));
	if (n < 0 || hdr_parse(raw, (size_t)n, &h) || hdr_unwrap(kek, &h, &fk)) {
		fprintf(stderr, "keydump: %s: no header that opens\n", path);
		return 1;
	}
	snprintf(name, sizeof(name), "dek:%s", base ? base + 1 : path);
	put(name, fk->dek, sizeof(fk->dek));
	file_key_free(fk);
	return 0;
}

int main(int argc, char **argv)
{
	char msg[VOLKEY_MSG_MAX];
	uint8_t state_key[VERREC_STATE_KEY_LEN];
	struct vol_config cfg;
	struct kek *kek;
	int dirfd, i, ret = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: keydump CIPHERDIR KEYFILE [FILE...]\n");
		return 2;
	}
	dirfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0 ||
	    tool_unlock(dirfd, argv[2], &cfg, &kek, msg, sizeof(msg))) {
		fprintf(stderr, "keydump: %s: cannot unlock: %s\n", argv[1], msg);
		return 1;
	}
	put("kek", kek->key, KEK_LEN);
	put("conf_mac", kek->conf_mac_key, sizeof(kek->conf_mac_key));
	put("meta", kek->meta_key, sizeof(kek->meta_key));
	put("state_mac", kek->state_mac_key, sizeof(kek->state_mac_key));
	if (verrec_state_key(kek, cfg.uuid, state_key) == 0)
		put("file_state", state_key, sizeof(state_key));
	if (cfg.opt.names_encrypted) {
		uint8_t *nk = secmem_alloc(NAMES_KEY_LEN + NAMES_XKEY_LEN);

		if (!nk || names_key_unwrap(kek, cfg.uuid, cfg.opt.names_key,
					    nk) ||
		    names_xattr_key(nk, nk + NAMES_KEY_LEN)) {
			fprintf(stderr, "keydump: %s: no names key\n", argv[1]);
			ret = 1;
		} else {
			put("names", nk, NAMES_KEY_LEN);
			put("xnames", nk + NAMES_KEY_LEN, NAMES_XKEY_LEN);
		}
		if (nk)
			secmem_free(nk, NAMES_KEY_LEN + NAMES_XKEY_LEN);
	}
	for (i = 3; i < argc; i++)
		ret |= dump_dek(kek, argv[i]);
	kek_free(kek);
	close(dirfd);
	return ret;
}
