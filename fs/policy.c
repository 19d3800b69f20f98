// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/policy.c - identity-based access: allow_uids and allow_gids from a
 * verified atrestfs.conf.  Every handler of atr_ops except init, destroy
 * and the forgets is replaced by a wrapper that checks the requester
 * first and answers EACCES (audited as access_denied) before the real
 * handler, and so before any DEK is unwrapped.  policy_ops() refuses to
 * mount if any handler escaped wrapping, so a handler added later cannot
 * silently bypass the policy.  Also for root: a root daemon mounted with
 * allow_other serves root only if root is allowed.
 *
 * The wrapper records the requester in a per-thread slot, for the audit
 * lines its handler writes (a DEK unwrap in key.c has no request at hand).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../crypto/volume.h"
#include "fs_private.h"

/* Requester of the request this worker thread is serving. */
static __thread struct {
	bool set;
	uint32_t uid, gid;
	int32_t pid;
} caller;

void policy_caller(struct audit_event *ev)
{
	if (caller.set) {
		ev->uid = caller.uid;
		ev->gid = caller.gid;
		ev->pid = caller.pid;
	} else {
		audit_self(ev);
	}
}

void policy_audit(struct atr_mount *m, const char *event,
		  const uint8_t *file_id, int result)
{
	struct audit_event ev = { .event = event, .result = result };

	if (!m->audit)
		return;
	policy_caller(&ev);
	if (file_id) {
		kek_get(m);	/* an online rotation changes its ID */
		audit_dek(m->audit, &ev, file_id);
		kek_put(m);
	} else
		audit_log(m->audit, &ev);
}

static bool listed(const uint32_t *ids, unsigned int n, uint32_t id)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

bool policy_groups_any(fuse_req_t req, bool (*match)(gid_t, const void *),
		       const void *arg)
{
	gid_t buf[64], *list = buf;
	int n, got, i;
	bool found = false;

	n = fuse_req_getgroups(req, 64, buf);
	if (n > 64) {
		list = malloc(sizeof(gid_t) * (size_t)n);
		if (!list)
			return false;
		/* The list may have grown since: never read past ours. */
		got = fuse_req_getgroups(req, n, list);
		n = got < n ? got : n;
	}
	for (i = 0; i < n && !found; i++)
		found = match(list[i], arg);
	if (list != buf)
		free(list);
	return found;
}

static bool gid_allowed(gid_t gid, const void *arg)
{
	const struct vol_options *o = arg;

	return listed(o->allow_gids, o->ngids, (uint32_t)gid);
}

static bool allowed(fuse_req_t req, const struct vol_options *o,
		    const struct fuse_ctx *ctx)
{
	if (listed(o->allow_uids, o->nuids, (uint32_t)ctx->uid) ||
	    listed(o->allow_gids, o->ngids, (uint32_t)ctx->gid))
		return true;
	/* Supplementary groups cost a read of /proc: only when they can matter. */
	return o->ngids && ctx->pid && policy_groups_any(req, gid_allowed, o);
}

/*
 * 0 to go on, or EACCES (already answered).  @kernel: the kernel itself
 * sends this operation without a requester (pid 0: writeback of dirty
 * pages), and only on a handle that an allowed open made; those pass.
 */
static int check(fuse_req_t req, const char *op, bool kernel)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct atr_mount *m = atr_mnt(req);

	caller.set = true;
	caller.uid = (uint32_t)ctx->uid;
	caller.gid = (uint32_t)ctx->gid;
	caller.pid = (int32_t)ctx->pid;
	if (!m->opt || !vol_has_policy(m->opt) || (kernel && !ctx->pid) ||
	    allowed(req, m->opt, ctx))
		return 0;
	if (m->audit) {
		struct audit_event ev = { .event = "access_denied", .op = op,
					  .result = -EACCES };

		policy_caller(&ev);
		audit_log(m->audit, &ev);
	}
	caller.set = false;
	fuse_reply_err(req, EACCES);
	return EACCES;
}

/*
 * One wrapper per handler: the lock gate (revoke.c), the check, then the
 * real one.  Nothing else.  WRAP_FH is for handlers of an open handle,
 * which get EIO if unlock could not load their file's key again; the
 * handle's inode is their parameter @i.  WRAP_CLOSE is for flush, part
 * of close(2), which needs no key and must not fail a close for a lock.
 * WRAP_PASS is for the releases: exempt from the policy, and run even
 * while the mount is locked.
 */
#define WRAP_ANY(name, kernel, pass, fh, params, args)			\
static void w_##name params						\
{									\
	struct atr_mount *m = atr_mnt(req);	/* req is gone once answered */ \
									\
	if (revoke_enter(req, pass))					\
		return;							\
	if (!check(req, #name, kernel) && !(fh))			\
		atr_ops.name args;					\
	caller.set = false;						\
	revoke_leave(m);						\
}
#define WRAP(name, kernel, params, args)				\
	WRAP_ANY(name, kernel, false, false, params, args)
#define WRAP_FH(name, kernel, params, args)				\
	WRAP_ANY(name, kernel, false, revoke_handle(req, i), params, args)
#define WRAP_CLOSE(name, kernel, params, args)				\
	WRAP_ANY(name, kernel, true, false, params, args)
#define WRAP_PASS(name, params, args)					\
static void w_##name params						\
{									\
	struct atr_mount *m = atr_mnt(req);				\
									\
	revoke_enter(req, true);					\
	atr_ops.name args;						\
	revoke_leave(m);						\
}

WRAP(lookup, false, (fuse_req_t req, fuse_ino_t p, const char *n), (req, p, n))
WRAP(getattr, false, (fuse_req_t req, fuse_ino_t i, struct fuse_file_info *fi),
     (req, i, fi))
WRAP(setattr, false, (fuse_req_t req, fuse_ino_t i, struct stat *a, int v,
		      struct fuse_file_info *fi), (req, i, a, v, fi))
WRAP(access, false, (fuse_req_t req, fuse_ino_t i, int mk), (req, i, mk))
WRAP(readlink, false, (fuse_req_t req, fuse_ino_t i), (req, i))
WRAP(mknod, false, (fuse_req_t req, fuse_ino_t p, const char *n, mode_t mo,
		    dev_t d), (req, p, n, mo, d))
WRAP(mkdir, false, (fuse_req_t req, fuse_ino_t p, const char *n, mode_t mo),
     (req, p, n, mo))
WRAP(unlink, false, (fuse_req_t req, fuse_ino_t p, const char *n), (req, p, n))
WRAP(rmdir, false, (fuse_req_t req, fuse_ino_t p, const char *n), (req, p, n))
WRAP(symlink, false, (fuse_req_t req, const char *l, fuse_ino_t p,
		      const char *n), (req, l, p, n))
WRAP(rename, false, (fuse_req_t req, fuse_ino_t p, const char *n, fuse_ino_t np,
		     const char *nn, unsigned int f), (req, p, n, np, nn, f))
WRAP(link, false, (fuse_req_t req, fuse_ino_t i, fuse_ino_t p, const char *n),
     (req, i, p, n))
WRAP(open, false, (fuse_req_t req, fuse_ino_t i, struct fuse_file_info *fi),
     (req, i, fi))
WRAP_FH(read, false, (fuse_req_t req, fuse_ino_t i, size_t s, off_t o,
		   struct fuse_file_info *fi), (req, i, s, o, fi))
/*
 * Writeback (fi->writepage) skips revoke_handle(): fio_write() answers EIO
 * for a file without its key under the inode lock anyway, and the kernel
 * keeps several WRITEs of a file in flight, so the read lock taken there
 * waited for each other's write, a second sleep per request.
 */
WRAP_ANY(write, true, false, !fi->writepage && revoke_handle(req, i),
	 (fuse_req_t req, fuse_ino_t i, const char *b, size_t s, off_t o,
	  struct fuse_file_info *fi), (req, i, b, s, o, fi))
WRAP_CLOSE(flush, false, (fuse_req_t req, fuse_ino_t i,
			  struct fuse_file_info *fi), (req, i, fi))
WRAP_FH(fsync, false, (fuse_req_t req, fuse_ino_t i, int d,
		    struct fuse_file_info *fi), (req, i, d, fi))
WRAP(opendir, false, (fuse_req_t req, fuse_ino_t i, struct fuse_file_info *fi),
     (req, i, fi))
WRAP(readdir, false, (fuse_req_t req, fuse_ino_t i, size_t s, off_t o,
		      struct fuse_file_info *fi), (req, i, s, o, fi))
WRAP(fsyncdir, false, (fuse_req_t req, fuse_ino_t i, int d,
		       struct fuse_file_info *fi), (req, i, d, fi))
WRAP(statfs, false, (fuse_req_t req, fuse_ino_t i), (req, i))
WRAP(setxattr, false, (fuse_req_t req, fuse_ino_t i, const char *n,
		       const char *v, size_t s, int f), (req, i, n, v, s, f))
WRAP(getxattr, false, (fuse_req_t req, fuse_ino_t i, const char *n, size_t s),
     (req, i, n, s))
WRAP(listxattr, false, (fuse_req_t req, fuse_ino_t i, size_t s), (req, i, s))
WRAP(removexattr, false, (fuse_req_t req, fuse_ino_t i, const char *n),
     (req, i, n))
WRAP(create, false, (fuse_req_t req, fuse_ino_t p, const char *n, mode_t mo,
		     struct fuse_file_info *fi), (req, p, n, mo, fi))
WRAP_FH(fallocate, false, (fuse_req_t req, fuse_ino_t i, int mo, off_t o, off_t l,
			struct fuse_file_info *fi), (req, i, mo, o, l, fi))
WRAP(readdirplus, false, (fuse_req_t req, fuse_ino_t i, size_t s, off_t o,
			  struct fuse_file_info *fi), (req, i, s, o, fi))
WRAP_FH(lseek, false, (fuse_req_t req, fuse_ino_t i, off_t o, int w,
		    struct fuse_file_info *fi), (req, i, o, w, fi))

WRAP_PASS(release, (fuse_req_t req, fuse_ino_t i, struct fuse_file_info *fi),
	  (req, i, fi))
WRAP_PASS(releasedir, (fuse_req_t req, fuse_ino_t i, struct fuse_file_info *fi),
	  (req, i, fi))

#define SET(name)	do { if (ops->name) ops->name = w_##name; } while (0)

/*
 * Handlers that must run whatever the policy: set-up, teardown, and the
 * ones that only let go (lookup counts, handles an allowed open made);
 * refusing those would leak, and none of them reads a key.
 */
static bool exempt(size_t off)
{
	return off == offsetof(struct fuse_lowlevel_ops, init) ||
	       off == offsetof(struct fuse_lowlevel_ops, destroy) ||
	       off == offsetof(struct fuse_lowlevel_ops, forget) ||
	       off == offsetof(struct fuse_lowlevel_ops, forget_multi) ||
	       off == offsetof(struct fuse_lowlevel_ops, release) ||
	       off == offsetof(struct fuse_lowlevel_ops, releasedir);
}

typedef void (*handler_fn)(void);

/* Every slot atr_ops fills, but the exempt, must now hold a wrapper. */
static int complete(const struct fuse_lowlevel_ops *ops)
{
	handler_fn a, b;
	size_t off;

	for (off = 0; off + sizeof(a) <= sizeof(*ops); off += sizeof(a)) {
		memcpy(&a, (const char *)&atr_ops + off, sizeof(a));
		memcpy(&b, (const char *)ops + off, sizeof(b));
		if (a && a == b && !exempt(off)) {
			atr_log(LOG_ERR, "access policy: operation at offset "
				"%zu has no wrapper; refusing to mount", off);
			return -ENOSYS;
		}
	}
	return 0;
}

int policy_ops(const struct atr_mount *m, struct fuse_lowlevel_ops *ops)
{
	/* Always: every mount can be locked (revoke.c). */
	(void)m;
	*ops = atr_ops;
	SET(lookup);
	SET(getattr);
	SET(setattr);
	SET(access);
	SET(readlink);
	SET(mknod);
	SET(mkdir);
	SET(unlink);
	SET(rmdir);
	SET(symlink);
	SET(rename);
	SET(link);
	SET(open);
	SET(read);
	SET(write);
	SET(flush);
	SET(fsync);
	SET(opendir);
	SET(readdir);
	SET(fsyncdir);
	SET(statfs);
	SET(setxattr);
	SET(getxattr);
	SET(listxattr);
	SET(removexattr);
	SET(create);
	SET(fallocate);
	SET(readdirplus);
	SET(lseek);
	SET(release);
	SET(releasedir);
	return complete(ops);
}

int policy_configure(struct atr_mount *m, const struct vol_config *cfg,
		     unsigned int slot, char *msg, size_t msglen)
{
	int err;

	if (!vol_has_audit(&cfg->opt) && !vol_has_policy(&cfg->opt))
		return 0;
	m->opt = malloc(sizeof(*m->opt));
	if (!m->opt)
		return -ENOMEM;
	*m->opt = cfg->opt;
	err = audit_open(&cfg->opt, cfg->uuid, &m->audit, msg, msglen);
	if (err)
		return err;
	audit_set_kek(m->audit, cfg->kek_id,
		      slot < cfg->nslots ? cfg->slots[slot].provider : "");
	return 0;
}
