// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/handshake.c - answer the kernel's INIT with what libfuse 3.14 cannot
 * ask for: FUSE_HANDLE_KILLPRIV_V2 (killpriv.c) and FUSE_OVER_IO_URING
 * (uring.c).
 *
 * libfuse builds the INIT reply from the capabilities it knows, so we let
 * it answer INIT into a pipe, add the flags the kernel offered and we want,
 * and pass the reply on.  The kernel offers FUSE_OVER_IO_URING only where
 * the administrator enabled it (the fuse module's enable_uring).
 */
#include <fcntl.h>
#include <linux/fuse.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs_private.h"

/* FUSE_OVER_IO_URING (protocol 7.42, Linux 6.14), bit 41: in flags2. */
#define ATR_OVER_IO_URING2	(1u << 9)
#define ATR_MIN_READ_BUFFER	8192	/* the kernel's FUSE_MIN_READ_BUFFER */

/* The INIT request as the kernel sends it, and the reply libfuse makes. */
struct init_req {
	struct fuse_in_header h;
	struct fuse_init_in in;
};

struct init_reply {
	struct fuse_out_header h;
	struct fuse_init_out out;
};

/* What we add to libfuse's reply. */
struct init_extra {
	uint32_t flags, flags2;
};

#define REPLY_MIN (sizeof(struct fuse_out_header) + \
		   offsetof(struct fuse_init_out, flags) + sizeof(uint32_t))
#define REPLY_MIN2 (sizeof(struct fuse_out_header) + \
		    offsetof(struct fuse_init_out, flags2) + sizeof(uint32_t))

static struct init_extra kernel_offers(const struct atr_mount *m,
				       const struct fuse_buf *buf)
{
	const struct init_req *r = buf->mem;
	struct init_extra x = { 0, 0 };
	int err;

	if (buf->size < sizeof(*r) || r->h.opcode != FUSE_INIT ||
	    r->in.major != 7 || r->in.minor < 33)
		return x;
	x.flags = r->in.flags & FUSE_HANDLE_KILLPRIV_V2;
	if ((r->in.flags & FUSE_INIT_EXT) && !m->opt_mnt.nouring)
		x.flags2 = r->in.flags2 & ATR_OVER_IO_URING2;
	if (x.flags2 && (err = uring_probe())) {
		/* io_uring disabled by sysctl or seccomp, /sys not mounted */
		atr_log(LOG_WARNING, "the kernel offers FUSE over io_uring, but "
			"this process cannot use it (%s); requests stay on "
			"/dev/fuse", strerror(-err));
		x.flags2 = 0;
	}
	return x;
}

/*
 * The largest payload a request or reply can carry, as the kernel
 * computes it for the io_uring buffers: at least FUSE_MIN_READ_BUFFER,
 * max_write and max_pages pages.
 */
static size_t max_payload(const struct fuse_init_out *o)
{
	size_t sz = ATR_MIN_READ_BUFFER, pages;

	if (o->max_write > sz)
		sz = o->max_write;
	/* Without FUSE_MAX_PAGES the kernel keeps its default of 32. */
	pages = (size_t)((o->flags & FUSE_MAX_PAGES) && o->max_pages ?
			 o->max_pages : 32) * (size_t)sysconf(_SC_PAGESIZE);
	return pages > sz ? pages : sz;
}

/*
 * Let libfuse process INIT with its device fd pointing at a pipe for the
 * moment, so its reply can be amended before the kernel sees it.
 */
static int answer_via_pipe(struct atr_mount *m, struct fuse_session *se,
			   const struct fuse_buf *buf, struct init_extra x)
{
	int dev = fuse_session_fd(se), saved, p[2], err = 0;
	struct init_reply rep;
	ssize_t n, wr;

	/* Non-blocking: if libfuse ever sent no reply, fail, do not hang. */
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK))
		return -errno;
	saved = fcntl(dev, F_DUPFD_CLOEXEC, 0);
	if (saved < 0 || dup3(p[1], dev, O_CLOEXEC) < 0) {
		err = -errno;
		goto out;
	}
	fuse_session_process_buf(se, buf);
	n = read(p[0], &rep, sizeof(rep));
	if (dup3(saved, dev, O_CLOEXEC) < 0) {
		err = -errno;
		goto out;
	}
	if (n < (ssize_t)sizeof(rep.h) || rep.h.len != (uint32_t)n) {
		err = -EPROTO;
		goto out;
	}
	if (rep.h.error == 0 && (size_t)n >= REPLY_MIN) {
		rep.out.flags |= x.flags;
		m->killpriv = x.flags != 0;
	}
	if (rep.h.error == 0 && (size_t)n >= REPLY_MIN2 && x.flags2) {
		rep.out.flags |= FUSE_INIT_EXT;
		rep.out.flags2 |= x.flags2;
		m->uring_payload = max_payload(&rep.out);
	}
	wr = write(dev, &rep, (size_t)n);
	if (wr != n)
		err = wr < 0 ? -errno : -EIO;
	if (err) {
		m->killpriv = false;
		m->uring_payload = 0;
	}
out:
	if (saved >= 0)
		close(saved);
	close(p[0]);
	close(p[1]);
	return err;
}

int handshake_init(struct atr_mount *m, struct fuse_session *se)
{
	struct fuse_buf buf = { .mem = NULL };
	struct init_extra x;
	int res;

	do
		res = fuse_session_receive_buf(se, &buf);
	while (res == -EINTR);
	if (res <= 0) {
		free(buf.mem);
		return res ? res : -ENODEV;
	}
	buf.size = (size_t)res;
	x = kernel_offers(m, &buf);
	if (x.flags || x.flags2) {
		res = answer_via_pipe(m, se, &buf, x);
	} else {
		fuse_session_process_buf(se, &buf);
		res = 0;
	}
	free(buf.mem);
	return res;
}
