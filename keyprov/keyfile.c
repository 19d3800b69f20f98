// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * keyprov/keyfile.c - the "keyfile" provider: a 32-byte root key in a file
 * readable by its owner only.  The KEK is wrapped with AES-256-GCM under
 * the root key, the AAD supplied by the host.
 *
 * Settings: path (required); mode "create" makes the file (O_EXCL, 0600)
 * when it does not exist yet.  The root key lives in secmem from init() to
 * destroy(), which wipes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../crypto/aead.h"
#include "../crypto/codec.h"
#include "../crypto/msg.h"
#include "../crypto/secmem.h"
#include "keyprov_private.h"

#define ROOT_LEN	32

struct keyfile {
	uint8_t *root;			/* secmem, ROOT_LEN */
	char path[4096];
};

/*
 * The new key file's directory entry, on disk before the volume that
 * needs the key is: as vol_store() does for atrestfs.conf, best effort.
 */
static void sync_dir(const char *path)
{
	char dir[PATH_MAX];
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

static int create_key(const char *path, uint8_t *root, char *msg,
		      size_t msglen)
{
	ssize_t n;
	int fd, err;

	err = rand_fill(root, ROOT_LEN);
	if (err)
		return err;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0)
		return msg_fail(msg, msglen, -errno, "cannot create key file "
				"%s: %s", path, strerror(errno));
	if (fchmod(fd, 0600))
		err = -errno;
	else if ((n = write(fd, root, ROOT_LEN)) != ROOT_LEN)
		err = n < 0 ? -errno : -EIO;	/* a short write sets no errno */
	else if (fsync(fd))
		err = -errno;
	if (err) {
		msg_fail(msg, msglen, err, "cannot write key file %s: %s",
			 path, strerror(-err));
		close(fd);
		unlink(path);
		return err;
	}
	close(fd);
	sync_dir(path);
	return 0;
}

static int read_key(const char *path, uint8_t *root, char *msg,
		    size_t msglen)
{
	struct stat st;
	int fd, err;
	ssize_t n;

	/*
	 * O_NONBLOCK: a FIFO would block the open before the check below
	 * refuses it; a regular file reads the same.
	 */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return msg_fail(msg, msglen, errno == ELOOP ? -EINVAL : -errno,
				"cannot open key file %s: %s", path,
				strerror(errno));
	/* Mode only, as atrestfs-keyprov(7) says; the PIN file checks owner. */
	err = keyprov_secret_check(fd, path, "key file", false, &st, msg,
				   msglen);
	if (err)
		goto out_close;
	if (st.st_size != ROOT_LEN) {
		err = msg_fail(msg, msglen, -EINVAL, "key file %s holds %lld "
			       "bytes; a root key file holds exactly %d", path,
			       (long long)st.st_size, ROOT_LEN);
		goto out_close;
	}
	n = pread(fd, root, ROOT_LEN, 0);
	if (n != ROOT_LEN) {
		err = msg_fail(msg, msglen, -EIO, "short read of key file %s",
			       path);
		goto out_close;
	}
	err = 0;
out_close:
	close(fd);
	return err;
}

static int kf_init(const struct keyprov_host *host,
		   const struct keyprov_kv *cfg, void **priv, char *msg,
		   size_t msglen)
{
	const char *path = cfg->get(cfg, "path");
	const char *mode = cfg->get(cfg, "mode");
	struct keyfile *kf;
	int err;

	(void)host;		/* built in: secmem directly */
	if (!path || !*path)
		return msg_fail(msg, msglen, -EINVAL,
				"keyfile provider: no key file given");
	kf = calloc(1, sizeof(*kf));
	if (!kf)
		return -ENOMEM;
	kf->root = secmem_alloc(ROOT_LEN);
	err = -ENOMEM;
	if (!kf->root)
		goto out_free;
	snprintf(kf->path, sizeof(kf->path), "%s", path);
	if (mode && !strcmp(mode, "create") && access(path, F_OK) != 0)
		err = create_key(path, kf->root, msg, msglen);
	else
		err = read_key(path, kf->root, msg, msglen);
	if (err)
		goto out_free;
	*priv = kf;
	return 0;
out_free:
	secmem_free(kf->root, ROOT_LEN);
	free(kf);
	return err;
}

static int kf_describe(void *priv, struct keyprov_desc *desc)
{
	struct keyfile *kf = priv;
	uint8_t id[8];
	char hex[2 * sizeof(id) + 1];
	int err;

	/* A one-way fingerprint: names the key without revealing it. */
	err = kdf_hkdf(kf->root, ROOT_LEN, NULL, 0, "atrestfs keyfile key id",
		       id, sizeof(id));
	if (err)
		return err;
	hex_encode(id, sizeof(id), hex);
	snprintf(desc->key_id, sizeof(desc->key_id), "kf-%s", hex);
	desc->key_version = 1;
	snprintf(desc->algorithm, sizeof(desc->algorithm), "AES-256-GCM");
	return 0;
}

static int kf_wrap(void *priv, const struct keyprov_req *req,
		   const uint8_t *key, size_t key_len, uint8_t *out,
		   size_t out_cap, size_t *out_len)
{
	struct keyfile *kf = priv;
	int err;

	if (key_len + AEAD_OVERHEAD > out_cap)
		return -EINVAL;
	err = aead_box_seal(kf->root, req->aad, req->aad_len, key, key_len,
			    out);
	if (err)
		return msg_fail(req->msg, req->msglen, err,
				"cannot wrap with key file %s", kf->path);
	*out_len = key_len + AEAD_OVERHEAD;
	return 0;
}

static int kf_unwrap(void *priv, const struct keyprov_req *req,
		     const uint8_t *in, size_t in_len, uint8_t *key,
		     size_t key_len)
{
	struct keyfile *kf = priv;
	int err;

	if (in_len != key_len + AEAD_OVERHEAD)
		return msg_fail(req->msg, req->msglen, -EBADMSG,
				"wrapped key has %zu bytes, expected %zu",
				in_len, key_len + AEAD_OVERHEAD);
	err = aead_box_open(kf->root, req->aad, req->aad_len, in, in_len,
			    key);
	if (err)
		msg_fail(req->msg, req->msglen, err,
			 "key file %s does not open this key", kf->path);
	return err;
}

static void kf_destroy(void *priv)
{
	struct keyfile *kf = priv;

	secmem_free(kf->root, ROOT_LEN);
	free(kf);
}

static const struct keyprov_ops keyfile_ops = {
	.abi = KEYPROV_ABI_V1,
	.name = "keyfile",
	.flags = KEYPROV_F_THREADSAFE,
	.init = kf_init,
	.describe = kf_describe,
	.wrap = kf_wrap,
	.unwrap = kf_unwrap,
	.destroy = kf_destroy,
};

const struct keyprov_ops *keyprov_keyfile_entry(uint32_t host_abi)
{
	return host_abi == KEYPROV_ABI_V1 ? &keyfile_ops : NULL;
}
