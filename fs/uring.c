// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/uring.c - FUSE requests over io_uring (Linux 6.14 and later, where the
 * administrator enabled it: the fuse module's enable_uring).
 *
 * Why: on /dev/fuse a request wakes whichever worker has waited longest,
 * as often as not on another CPU, and its reply wakes the caller back
 * there.  On a virtual machine that halts idle vCPUs each of those
 * wake-ups is a VM exit, and rm -rf or tar -x are long chains of round
 * trips (docs/performance.md: pinning both ends to one vCPU halved rm -rf).
 * Over io_uring the kernel queues a request on the queue of the CPU that
 * made it; our threads for that queue run pinned to that CPU, so the
 * request and its reply are task switches on one CPU, and a reply and the
 * fetch of the next request are one system call.
 *
 * libfuse 3.14 does not speak this protocol.  We serve the ring and hand
 * each request to libfuse's usual dispatch, fuse_session_process_buf(),
 * with the headers copied in front of the payload (the payload itself is
 * not copied: the kernel writes it at a fixed place behind room for the
 * headers).  The handler's reply reaches the custom I/O writev below,
 * which recognises the request being served on this thread and puts the
 * reply in the ring entry instead of /dev/fuse.  Every handler replies on
 * its own thread before it returns, so a request never leaves its thread.
 *
 * FORGETs, INTERRUPTs, notifications and everything before all queues have
 * an entry still use /dev/fuse, so the session loop keeps running beside
 * the ring threads.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <linux/io_uring.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "fs_private.h"
#include "transport.h"

/* The kernel's interface (uapi fuse.h 7.42), newer than Debian 12's headers. */
#define URING_HDR_SZ		128
#define URING_OP_SZ		128
#define URING_CMD_REGISTER	1
#define URING_CMD_COMMIT_FETCH	2

struct uring_ent_in_out {
	uint64_t flags;
	uint64_t commit_id;
	uint32_t payload_sz;
	uint32_t padding;
	uint64_t reserved;
};

struct uring_req_header {
	char in_out[URING_HDR_SZ];	/* fuse_in_header, then fuse_out_header */
	char op_in[URING_OP_SZ];	/* the opcode's fixed argument */
	struct uring_ent_in_out ent;
};

struct uring_cmd_req {			/* in the SQE's 80-byte command area */
	uint64_t flags;
	uint64_t commit_id;
	uint16_t qid;
	uint8_t padding[6];
};

/*
 * Threads per online CPU, each with one entry: a second one keeps a slow
 * request (an fsync, a key provider) from holding up the CPU's next.
 */
#define URING_PER_CPU		2
/* Room in front of the payload for the in and op headers libfuse expects. */
#define URING_FRONT		4096
#define URING_SQE_SZ		128	/* IORING_SETUP_SQE128 */
/*
 * COOP_TASKRUN: a request that arrives while the thread is busy does not
 * interrupt it; the thread takes it at its next system call.
 */
#define URING_SETUP_FLAGS	(IORING_SETUP_SQE128 | IORING_SETUP_COOP_TASKRUN)
#define URING_STOP		0	/* user_data of the stop poll */
#define URING_WIPE		((uint64_t)-1)	/* ... of the wipe poll */
#define URING_WIPE_SEC		10	/* a lock waits this long for them */
#define URING_REREGISTER	16	/* then the entry is given up */
#define URING_PARAM		"/sys/module/fuse/parameters/enable_uring"

/*
 * One registered buffer pair.  The kernel writes a request's headers into
 * @hdr and its payload at @buf + URING_FRONT; the reply goes back the
 * same way.
 */
struct uring_ent {
	struct uring_req_header hdr;	/* iov[0] */
	struct iovec iov[2];
	char *buf;			/* mmap: URING_FRONT + payload */
	size_t payload;
	uint16_t qid;
	uint64_t unique;		/* the request last served */
	bool replied;
	bool wipe;			/* wipe its payload once served */
	unsigned reregister;		/* times offered again after an error */
};

/*
 * The ring threads of one online CPU.  A handler that waits for requests
 * of its own (xport_nested_begin()) counts in @waiting; the CPU gets one
 * more ring thread whenever that would leave none free.
 */
struct uring_cpu {
	pthread_mutex_t lock;
	uint16_t cpu;
	unsigned threads;		/* ->lock */
	unsigned waiting;		/* ->lock */
};

/* One io_uring and the thread that alone submits to it and reaps it. */
struct uring_ring {
	struct uring_pool *pool;
	struct uring_cpu *qc;		/* pinned to this CPU; NULL: unpinned */
	struct uring_ring *next;	/* pool->rings */
	pthread_t tid;
	sem_t submitted;		/* the REGISTERs are in the kernel */
	int reg_err;			/* theirs, before ->submitted is posted */
	int fd;
	void *sq_map, *cq_map;
	size_t sq_len, cq_len, sqes_len;
	struct io_uring_sqe *sqes;	/* URING_SQE_SZ bytes each */
	unsigned *sq_tail, *sq_mask, *sq_array;
	unsigned *cq_head, *cq_tail, *cq_mask;
	struct io_uring_cqe *cqes;
	unsigned tail;			/* SQEs written; published at wait */
	unsigned pending;		/* SQEs published, not yet submitted */
	unsigned nent;
	struct uring_ent *ent;
	int wipefd;			/* eventfd: uring_wipe() asks */
	unsigned wipe_left;		/* ring thread: entries still to wipe */
};

struct uring_pool {
	struct fuse_session *se;
	int dev;			/* /dev/fuse: the session's fd */
	int stop;			/* eventfd: readable once stopping */
	size_t payload;
	bool locked;			/* all memory locked (harden.c mlockall) */
	char *mnt;			/* our mount point's realpath, or NULL */
	pthread_mutex_t lock;
	bool stopping;			/* ->lock: no more rings */
	struct uring_ring *rings;	/* ->lock; started ones, newest first */
	pthread_cond_t wiped;		/* a ring wiped its buffers; ->lock */
	unsigned wipes;			/* ->lock: rings that did */
	unsigned ncpu;
	struct uring_cpu *cpus;		/* one per online CPU */
};

/* The entry this thread is serving: where its reply goes. */
static __thread struct uring_ent *uring_cur;
/* This thread's ring, on a ring thread. */
static __thread struct uring_ring *uring_self;

static int sys_setup(unsigned entries, struct io_uring_params *p)
{
	return (int)syscall(__NR_io_uring_setup, entries, p);
}

static int sys_enter(int fd, unsigned submit, unsigned wait)
{
	return (int)syscall(__NR_io_uring_enter, fd, submit, wait,
			    wait ? IORING_ENTER_GETEVENTS : 0, NULL, 0);
}

/*
 * Copy a reply libfuse gathered in @iov into the entry: the out header
 * into the header area, the rest into the payload.  memmove, so that a
 * reply made of one piece of the request's payload survives; no handler
 * replies with more than one.
 */
static ssize_t uring_reply(struct uring_ent *e, const struct iovec *iov,
			   int count)
{
	struct fuse_out_header *oh = (struct fuse_out_header *)e->hdr.in_out;
	char *dst = e->buf + URING_FRONT;
	size_t total = 0, len = 0, skip = sizeof(*oh);
	int i;

	for (i = 0; i < count; i++)
		total += iov[i].iov_len;
	memcpy(oh, iov[0].iov_base, sizeof(*oh));
	e->replied = true;
	if (total - sizeof(*oh) > e->payload) {
		oh->error = -EIO;
		e->hdr.ent.payload_sz = 0;
		errno = EMSGSIZE;
		return -1;
	}
	for (i = 0; i < count; i++) {
		size_t n = iov[i].iov_len - skip;
		const char *src = (const char *)iov[i].iov_base + skip;

		if (src != dst + len)	/* else read in place (xport_reply_buf) */
			memmove(dst + len, src, n);
		len += n;
		skip = 0;
	}
	e->hdr.ent.payload_sz = (uint32_t)len;
	return (ssize_t)total;
}

/*
 * A ring thread serving a request is pinned to the CPU the request came
 * from (transport.h).
 */
bool xport_offload_hint(void)
{
	return uring_cur != NULL;
}

/*
 * Where a READ on this thread should put its plaintext: straight into the
 * entry's payload, which the reply then need not copy.  NULL off a ring
 * thread or for a size the entry cannot hold.
 */
void *xport_reply_buf(size_t size)
{
	struct uring_ent *e = uring_cur;

	return e && !e->replied && size <= e->payload ?
	       e->buf + URING_FRONT : NULL;
}

static ssize_t uring_writev(int fd, struct iovec *iov, int count, void *ud)
{
	struct uring_ent *e = uring_cur;
	const struct fuse_out_header *oh;

	(void)ud;
	if (e && !e->replied && count > 0 &&
	    iov[0].iov_len >= sizeof(*oh)) {
		oh = iov[0].iov_base;
		if (oh->unique == e->unique)
			return uring_reply(e, iov, count);
	}
	return writev(fd, iov, count);
}

static ssize_t uring_read(int fd, void *buf, size_t len, void *ud)
{
	(void)ud;
	return read(fd, buf, len);
}

static const struct fuse_custom_io uring_io = {
	.writev = uring_writev,
	.read = uring_read,
};

/*
 * Serve the request in @e: headers in front of the payload, as read(2)
 * of /dev/fuse would have returned them, then libfuse's dispatch.
 */
static void uring_serve(struct uring_pool *pl, struct uring_ent *e)
{
	struct fuse_in_header ih;
	struct fuse_out_header *oh = (struct fuse_out_header *)e->hdr.in_out;
	uint32_t plen = e->hdr.ent.payload_sz;
	struct fuse_buf fb = { .flags = 0 };
	size_t oplen;
	char *p;

	memcpy(&ih, e->hdr.in_out, sizeof(ih));
	e->unique = ih.unique;
	e->replied = false;
	if (plen > e->payload || ih.len < sizeof(ih) + plen ||
	    (oplen = ih.len - sizeof(ih) - plen) > URING_OP_SZ) {
		atr_log(LOG_ERR, "io_uring: request %llu (opcode %u) has "
			"lengths %u and %u; answered EIO",
			(unsigned long long)ih.unique, ih.opcode, ih.len, plen);
		goto no_reply;
	}
	p = e->buf + URING_FRONT - sizeof(ih) - oplen;
	memcpy(p, &ih, sizeof(ih));
	memcpy(p + sizeof(ih), e->hdr.op_in, oplen);
	fb.mem = p;
	fb.size = ih.len;
	uring_cur = e;
	fuse_session_process_buf(pl->se, &fb);
	uring_cur = NULL;
	if (e->replied)
		return;
	atr_log(LOG_ERR, "io_uring: no reply to request %llu (opcode %u); "
		"answered EIO", (unsigned long long)ih.unique, ih.opcode);
no_reply:
	memset(oh, 0, sizeof(*oh));
	oh->len = sizeof(*oh);
	oh->error = -EIO;
	oh->unique = ih.unique;
	e->hdr.ent.payload_sz = 0;
}

/* The ring has room: at most one SQE per entry and the stop poll. */
static struct io_uring_sqe *sqe_next(struct uring_ring *r)
{
	unsigned idx = r->tail++ & *r->sq_mask;
	struct io_uring_sqe *sqe;

	sqe = (struct io_uring_sqe *)((char *)r->sqes + (size_t)idx * URING_SQE_SZ);
	memset(sqe, 0, URING_SQE_SZ);
	r->sq_array[idx] = idx;
	r->pending++;
	return sqe;
}

static void sqe_cmd(struct uring_ring *r, unsigned i, uint32_t op)
{
	struct uring_ent *e = &r->ent[i];
	struct io_uring_sqe *sqe = sqe_next(r);
	struct uring_cmd_req *req = (struct uring_cmd_req *)sqe->cmd;

	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = r->pool->dev;
	sqe->cmd_op = op;
	sqe->user_data = i + 1;
	if (op == URING_CMD_REGISTER) {
		sqe->addr = (uintptr_t)e->iov;
		sqe->len = 2;
	} else {
		req->commit_id = e->unique;
	}
	req->qid = e->qid;
}

static void sqe_stop_poll(struct uring_ring *r)
{
	struct io_uring_sqe *sqe = sqe_next(r);

	sqe->opcode = IORING_OP_POLL_ADD;
	sqe->fd = r->pool->stop;
	sqe->poll32_events = POLLIN;
	sqe->user_data = URING_STOP;
}

static void sqe_wipe_poll(struct uring_ring *r)
{
	struct io_uring_sqe *sqe = sqe_next(r);

	sqe->opcode = IORING_OP_POLL_ADD;
	sqe->fd = r->wipefd;
	sqe->poll32_events = POLLIN;
	sqe->user_data = URING_WIPE;
}

static void wipe_done(struct uring_ring *r)
{
	struct uring_pool *pl = r->pool;

	pthread_mutex_lock(&pl->lock);
	pl->wipes++;
	pthread_cond_broadcast(&pl->wiped);
	pthread_mutex_unlock(&pl->lock);
}

/*
 * A lock (uring_wipe()): the payloads keep the plaintext of the replies
 * they carried.  The kernel writes an entry only in this thread's system
 * calls (COOP_TASKRUN), and every reply was submitted before this
 * completion was reaped: so an entry is either waiting in the kernel,
 * wiped now, or holds a request whose completion is still in the queue,
 * wiped past its reply once served (wiped_one()).
 */
static void wipe_ring(struct uring_ring *r)
{
	unsigned head = *r->cq_head, tail, i;
	uint64_t ud, n;

	if (read(r->wipefd, &n, sizeof(n)) < 0)
		n = 0;		/* nonblocking: someone else read it */
	tail = __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE);
	for (; head != tail; head++) {
		ud = r->cqes[head & *r->cq_mask].user_data;
		if (ud >= 1 && ud <= r->nent && !r->ent[ud - 1].wipe) {
			r->ent[ud - 1].wipe = true;
			r->wipe_left++;
		}
	}
	for (i = 0; i < r->nent; i++)
		if (!r->ent[i].wipe)
			explicit_bzero(r->ent[i].buf + URING_FRONT,
				       r->ent[i].payload);
	sqe_wipe_poll(r);
	if (!r->wipe_left)
		wipe_done(r);
}

/* After the completion of @e: the rest of its payload, if owed. */
static void wiped_one(struct uring_ring *r, struct uring_ent *e, bool served)
{
	size_t keep = served ? e->hdr.ent.payload_sz : 0;

	if (!e->wipe)
		return;
	e->wipe = false;
	if (keep < e->payload)
		explicit_bzero(e->buf + URING_FRONT + keep, e->payload - keep);
	if (!--r->wipe_left)
		wipe_done(r);
}

/*
 * Publish the SQEs written so far and make one io_uring_enter: submit
 * what is pending and, with @wait, wait for a completion.  0, or -errno
 * when the ring cannot go on.
 */
static int ring_enter(struct uring_ring *r, unsigned wait)
{
	int n;

	__atomic_store_n(r->sq_tail, r->tail, __ATOMIC_RELEASE);
	n = sys_enter(r->fd, r->pending, wait);
	if (n < 0 && errno != EINTR && errno != EAGAIN && errno != EBUSY)
		return -errno;
	if (n < 0 && errno != EINTR)
		usleep(100);		/* short of memory: do not spin */
	if (n > 0)
		r->pending -= (unsigned)n < r->pending ? (unsigned)n : r->pending;
	return 0;
}

/* Submit what is pending and take the next completion; 0 or -errno. */
static int ring_wait(struct uring_ring *r, struct io_uring_cqe *out)
{
	unsigned head;
	int err;

	for (;;) {
		head = *r->cq_head;
		if (head != __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE) &&
		    !r->pending) {
			*out = r->cqes[head & *r->cq_mask];
			__atomic_store_n(r->cq_head, head + 1,
					 __ATOMIC_RELEASE);
			return 0;
		}
		err = ring_enter(r, 1);
		if (err)
			return err;
	}
}

/*
 * Register the entries and arm the stop poll.  A REGISTER is complete
 * once submitted (the kernel takes it inline), so when this returns a
 * request queued from now on can find the entries; failures come as
 * completions.  0 or -errno.
 */
static int ring_register(struct uring_ring *r)
{
	unsigned i;
	int err = 0;

	for (i = 0; i < r->nent; i++)
		sqe_cmd(r, i, URING_CMD_REGISTER);
	sqe_stop_poll(r);
	sqe_wipe_poll(r);
	while (r->pending && !err)
		err = ring_enter(r, 0);
	return err;
}

/*
 * A stopping thread stays while a sibling on its CPU waits in a nested
 * request (xport_nested_begin()): that wait may need it to serve a WRITE.
 */
static bool ring_may_stop(struct uring_ring *r)
{
	bool idle = true;

	if (r->qc) {
		pthread_mutex_lock(&r->qc->lock);
		idle = r->qc->waiting == 0;
		pthread_mutex_unlock(&r->qc->lock);
	}
	return idle;
}

static void *ring_thread(void *arg)
{
	struct uring_ring *r = arg;
	struct io_uring_cqe cqe;
	struct uring_ent *e;
	unsigned live = r->nent;
	int err;

	uring_self = r;
	pthread_setname_np(pthread_self(), "atrestfs-ring");
	err = ring_register(r);
	r->reg_err = err;
	sem_post(&r->submitted);
	if (err)
		live = 0;	/* ring_run() reports it */
	while (live) {
		err = ring_wait(r, &cqe);
		if (err) {
			atr_log(LOG_ERR, "io_uring_enter: %s", strerror(-err));
			break;
		}
		if (cqe.user_data == URING_STOP) {
			if (ring_may_stop(r))
				break;
			usleep(1000);
			sqe_stop_poll(r);
			continue;
		}
		if (cqe.user_data == URING_WIPE) {
			wipe_ring(r);
			continue;
		}
		if (cqe.user_data > r->nent)
			continue;
		e = &r->ent[cqe.user_data - 1];
		if (cqe.res == -ENOTCONN) {
			live--;		/* unmounted */
			wiped_one(r, e, false);
		} else if (cqe.res < 0) {
			/* The kernel dropped the entry: offer it again. */
			atr_log(LOG_ERR, "io_uring queue %u: %s", e->qid,
				strerror(-cqe.res));
			wiped_one(r, e, false);
			if (e->reregister++ < URING_REREGISTER)
				sqe_cmd(r, (unsigned)(e - r->ent), URING_CMD_REGISTER);
			else
				live--;
		} else {
			uring_serve(r->pool, e);
			wiped_one(r, e, true);
			sqe_cmd(r, (unsigned)(e - r->ent), URING_CMD_COMMIT_FETCH);
		}
	}
	if (r->qc) {
		pthread_mutex_lock(&r->qc->lock);
		r->qc->threads--;
		pthread_mutex_unlock(&r->qc->lock);
	}
	return NULL;
}

static void ring_unmap(struct uring_ring *r)
{
	unsigned i;

	if (r->sqes)
		munmap(r->sqes, r->sqes_len);
	if (r->cq_map && r->cq_map != r->sq_map)
		munmap(r->cq_map, r->cq_len);
	if (r->sq_map)
		munmap(r->sq_map, r->sq_len);
	if (r->fd >= 0)
		close(r->fd);
	if (r->wipefd >= 0)
		close(r->wipefd);
	for (i = 0; r->ent && i < r->nent; i++)
		if (r->ent[i].buf)
			munmap(r->ent[i].buf, URING_FRONT + r->ent[i].payload);
	free(r->ent);
}

static void *map_ring(int fd, size_t len, off_t off)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, fd, off);

	return p == MAP_FAILED ? NULL : p;
}

/* Set up @r for @nent entries; 0 or -errno. */
static int ring_setup(struct uring_ring *r, size_t payload)
{
	struct io_uring_params p;
	unsigned i;

	memset(&p, 0, sizeof(p));
	p.flags = URING_SETUP_FLAGS;
	/* An SQE per entry, the stop poll and the wipe poll. */
	r->fd = sys_setup(r->nent + 2, &p);
	if (r->fd < 0)
		return -errno;
	r->sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	r->cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP) {
		if (r->cq_len > r->sq_len)
			r->sq_len = r->cq_len;
		r->sq_map = map_ring(r->fd, r->sq_len, IORING_OFF_SQ_RING);
		r->cq_map = r->sq_map;
	} else {
		r->sq_map = map_ring(r->fd, r->sq_len, IORING_OFF_SQ_RING);
		r->cq_map = map_ring(r->fd, r->cq_len, IORING_OFF_CQ_RING);
	}
	r->sqes_len = (size_t)p.sq_entries * URING_SQE_SZ;
	r->sqes = map_ring(r->fd, r->sqes_len, IORING_OFF_SQES);
	if (!r->sq_map || !r->cq_map || !r->sqes)
		return -ENOMEM;
	r->sq_tail = (unsigned *)((char *)r->sq_map + p.sq_off.tail);
	r->sq_mask = (unsigned *)((char *)r->sq_map + p.sq_off.ring_mask);
	r->sq_array = (unsigned *)((char *)r->sq_map + p.sq_off.array);
	r->cq_head = (unsigned *)((char *)r->cq_map + p.cq_off.head);
	r->cq_tail = (unsigned *)((char *)r->cq_map + p.cq_off.tail);
	r->cq_mask = (unsigned *)((char *)r->cq_map + p.cq_off.ring_mask);
	r->cqes = (struct io_uring_cqe *)((char *)r->cq_map + p.cq_off.cqes);
	for (i = 0; i < r->nent; i++) {
		struct uring_ent *e = &r->ent[i];

		e->payload = payload;
		e->buf = mmap(NULL, URING_FRONT + payload,
			      PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (e->buf == MAP_FAILED) {
			e->buf = NULL;
			return -ENOMEM;
		}
		/*
		 * The unpinned ring's queues serve CPUs we may not run on,
		 * or that come online later: often none.  Its buffers hold
		 * plaintext when they do, so they stay locked, but only once
		 * touched (mlockall made them resident; a guest may report
		 * a hundred possible CPUs).
		 */
		if (!r->qc && r->pool->locked &&
		    !munlock(e->buf, URING_FRONT + payload)) {
			madvise(e->buf, URING_FRONT + payload, MADV_DONTNEED);
			if (mlock2(e->buf, URING_FRONT + payload, MLOCK_ONFAULT))
				atr_log(LOG_WARNING, "io_uring: cannot lock the "
					"buffers of queue %u: %m", e->qid);
		}
		e->iov[0].iov_base = &e->hdr;
		e->iov[0].iov_len = sizeof(e->hdr);
		e->iov[1].iov_base = e->buf + URING_FRONT;
		e->iov[1].iov_len = payload;
	}
	return 0;
}

/*
 * The kernel has one queue per possible CPU (it counts them, so a sparse
 * possible mask would leave the top ones without queues); also fill in
 * the CPUs we may run on.
 */
static unsigned cpus_possible_online(cpu_set_t *online)
{
	unsigned lo, hi, max = 0;
	char line[4096], *s, *save = NULL;
	FILE *f = fopen("/sys/devices/system/cpu/possible", "re");

	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	for (s = strtok_r(line, ",\n", &save); s;
	     s = strtok_r(NULL, ",\n", &save)) {
		int n = sscanf(s, "%u-%u", &lo, &hi);

		if (n < 1)
			return 0;
		if (n == 1)
			hi = lo;
		if (hi + 1 > max)
			max = hi + 1;
	}
	CPU_ZERO(online);
	if (sched_getaffinity(0, sizeof(*online), online))
		CPU_ZERO(online);
	return max;
}

static void ring_free(struct uring_ring *r)
{
	ring_unmap(r);
	sem_destroy(&r->submitted);
	free(r);
}

/* A ring with an entry for each of @nqid queues, set up, not started. */
static struct uring_ring *ring_new(struct uring_pool *pl, struct uring_cpu *qc,
				   const uint16_t *qid, unsigned nqid, int *err)
{
	struct uring_ring *r = calloc(1, sizeof(*r));
	unsigned i;

	*err = -ENOMEM;
	if (!r)
		return NULL;
	r->pool = pl;
	r->qc = qc;
	r->fd = -1;
	r->wipefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->wipefd < 0 || sem_init(&r->submitted, 0, 0)) {
		if (r->wipefd >= 0)
			close(r->wipefd);
		free(r);
		return NULL;
	}
	r->ent = calloc(nqid, sizeof(*r->ent));
	if (r->ent) {
		for (i = 0; i < nqid; i++)
			r->ent[r->nent++].qid = qid[i];
		*err = ring_setup(r, pl->payload);
	}
	if (*err) {
		ring_free(r);
		return NULL;
	}
	return r;
}

/*
 * Start @r's thread, pinned to its CPU, and wait until its entries are
 * registered.  With @r->qc, called with @r->qc->lock held (the count of
 * the CPU's threads).  0 or -errno; if the thread could not start, @r is
 * freed, else it is in the pool.
 */
static int ring_run(struct uring_ring *r)
{
	struct uring_pool *pl = r->pool;
	pthread_attr_t attr;
	cpu_set_t one;
	int err;

	if (pthread_attr_init(&attr)) {
		ring_free(r);
		return -ENOMEM;
	}
	if (r->qc) {
		CPU_ZERO(&one);
		CPU_SET(r->qc->cpu, &one);
		pthread_attr_setaffinity_np(&attr, sizeof(one), &one);
		r->qc->threads++;
	}
	pthread_mutex_lock(&pl->lock);
	err = pl->stopping ? ESHUTDOWN :
	      pthread_create(&r->tid, &attr, ring_thread, r);
	if (!err) {
		r->next = pl->rings;
		pl->rings = r;
	}
	pthread_mutex_unlock(&pl->lock);
	pthread_attr_destroy(&attr);
	if (err) {
		if (r->qc)
			r->qc->threads--;
		ring_free(r);
		return -err;
	}
	while (sem_wait(&r->submitted) && errno == EINTR)
		;
	return r->reg_err;	/* @r is in the pool: uring_stop() joins it */
}

/*
 * URING_PER_CPU pinned rings per CPU we may run on, and one unpinned ring
 * with an entry for every other possible CPU's queue: the kernel serves
 * no queue until every queue has an entry.  Every ring is set up before
 * any starts, so that what can fail mostly fails before the kernel sees
 * an entry.  Returns the number of threads started, or -errno if any
 * failed (those started are in the pool, for uring_stop()).
 */
static int pool_start(struct uring_pool *pl, unsigned npossible,
		      const cpu_set_t *online)
{
	struct uring_ring **todo;
	uint16_t *rest;
	unsigned c, k, n = 0, nrest = 0, started = 0;
	int err = 0;

	pl->cpus = calloc(npossible, sizeof(*pl->cpus));
	rest = calloc(npossible, sizeof(*rest));
	todo = calloc((size_t)npossible * URING_PER_CPU + 1, sizeof(*todo));
	if (!pl->cpus || !rest || !todo) {
		err = -ENOMEM;
		goto out;
	}
	for (c = 0; c < npossible && !err; c++) {
		struct uring_cpu *qc;

		if (c >= CPU_SETSIZE || !CPU_ISSET(c, online)) {
			rest[nrest++] = (uint16_t)c;
			continue;
		}
		qc = &pl->cpus[pl->ncpu++];
		pthread_mutex_init(&qc->lock, NULL);
		qc->cpu = (uint16_t)c;
		for (k = 0; k < URING_PER_CPU && !err; k++)
			if ((todo[n] = ring_new(pl, qc, &qc->cpu, 1, &err)))
				n++;
	}
	if (!err && nrest && (todo[n] = ring_new(pl, NULL, rest, nrest, &err)))
		n++;
	for (k = 0; k < n; k++) {
		struct uring_cpu *qc = todo[k]->qc;
		int e;

		if (err) {
			ring_free(todo[k]);
			continue;
		}
		if (qc)
			pthread_mutex_lock(&qc->lock);
		e = ring_run(todo[k]);
		if (qc)
			pthread_mutex_unlock(&qc->lock);
		/*
		 * A queue left without an entry keeps the kernel from ever
		 * using the rings, and it holds every request until it does:
		 * one ring missing is as bad as all.
		 */
		if (e) {
			atr_log(LOG_ERR, "io_uring: ring thread %u of %u: %s",
				k + 1, n, strerror(-e));
			err = e;
		}
		started += !e;
	}
out:
	free(todo);
	free(rest);
	return err ? err : (int)started;
}

void uring_stop(struct atr_mount *m)
{
	struct uring_pool *pl = m->uring;
	struct uring_ring *r;
	uint64_t one = 1;
	unsigned i;

	if (!pl)
		return;
	pthread_mutex_lock(&pl->lock);
	pl->stopping = true;
	pthread_mutex_unlock(&pl->lock);
	if (pl->stop >= 0 && write(pl->stop, &one, sizeof(one)) < 0)
		atr_log(LOG_ERR, "io_uring: cannot stop the ring threads: %m");
	for (r = pl->rings; r; r = r->next)
		pthread_join(r->tid, NULL);
	while ((r = pl->rings)) {
		pl->rings = r->next;
		ring_free(r);
	}
	if (pl->stop >= 0)
		close(pl->stop);
	for (i = 0; i < pl->ncpu; i++)
		pthread_mutex_destroy(&pl->cpus[i].lock);
	pthread_mutex_destroy(&pl->lock);
	pthread_cond_destroy(&pl->wiped);
	free(pl->cpus);
	free(pl->mnt);
	free(pl);
	m->uring = NULL;
}

void uring_wipe(struct atr_mount *m)
{
	struct uring_pool *pl = m->uring;
	struct uring_ring *r;
	struct timespec until;
	uint64_t one = 1;
	unsigned n = 0;
	int err = 0;

	if (!pl)
		return;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += URING_WIPE_SEC;
	pthread_mutex_lock(&pl->lock);
	pl->wipes = 0;
	for (r = pl->rings; r; r = r->next)
		if (write(r->wipefd, &one, sizeof(one)) == sizeof(one))
			n++;
	while (pl->wipes < n && err != ETIMEDOUT)
		err = pthread_cond_timedwait(&pl->wiped, &pl->lock, &until);
	pthread_mutex_unlock(&pl->lock);
	if (err == ETIMEDOUT)
		atr_log(LOG_ERR, "io_uring: only %u of %u ring threads wiped "
			"their buffers within %d s; the others still hold the "
			"plaintext of their last replies", pl->wipes, n,
			URING_WIPE_SEC);
}

/*
 * While this thread waits, the kernel may make requests this wait depends
 * on (the WRITEs of the pages atr_lseek has written back), and queues them
 * on this thread's CPU, as this thread is pinned there.  Some ring thread
 * of the CPU must stay free to serve them, or the CPU's threads could all
 * wait for requests none of them will take: if this wait would leave none,
 * the CPU gets one more first.
 */
bool xport_nested_begin(void)
{
	struct uring_cpu *qc = uring_self ? uring_self->qc : NULL;
	struct uring_pool *pl;
	struct uring_ring *r;
	struct statx stx;
	bool added = false, free_one = true;
	int err;

	if (!qc)
		return true;
	pl = uring_self->pool;
	pthread_mutex_lock(&qc->lock);
	if (++qc->waiting >= qc->threads) {
		r = ring_new(pl, qc, &qc->cpu, 1, &err);
		if (r)
			err = ring_run(r);
		/*
		 * None free, and none added (the daemon is stopping, and the
		 * threads of this CPU may have gone): the wait could never
		 * end, and the stop would wait for it.
		 */
		if (err && err != -ESHUTDOWN)
			atr_log(LOG_ERR, "io_uring: no ring thread for CPU %u "
				"(%s): a SEEK_DATA/SEEK_HOLE fails", qc->cpu,
				strerror(-err));
		added = !err;
		free_one = added;
	}
	pthread_mutex_unlock(&qc->lock);
	/*
	 * A new entry takes no request queued before it: a request of ours
	 * on this CPU (a forced GETATTR of the mount's root, served by the new
	 * thread) makes its thread fetch those in turn.
	 */
	if (added && pl->mnt)
		statx(AT_FDCWD, pl->mnt, AT_STATX_FORCE_SYNC, STATX_MODE, &stx);
	return free_one;
}

void xport_nested_end(void)
{
	struct uring_cpu *qc = uring_self ? uring_self->qc : NULL;

	if (!qc)
		return;
	pthread_mutex_lock(&qc->lock);
	qc->waiting--;
	pthread_mutex_unlock(&qc->lock);
}

/*
 * The kernel can serve FUSE over io_uring but was not asked to: say how,
 * since nothing else would tell the administrator.
 */
void uring_explain(void)
{
	FILE *f = fopen(URING_PARAM, "re");
	int c;

	if (!f)
		return;
	c = fgetc(f);
	fclose(f);
	if (c == 'N')
		atr_log(LOG_INFO, "requests over /dev/fuse: this kernel serves "
			"FUSE over io_uring once enabled (echo Y > %s), which "
			"makes small requests faster", URING_PARAM);
}

int uring_probe(void)
{
	struct io_uring_params p;
	cpu_set_t online;
	unsigned npossible = cpus_possible_online(&online);
	int fd;

	if (!npossible || npossible > UINT16_MAX)
		return -ENODEV;
	memset(&p, 0, sizeof(p));
	p.flags = URING_SETUP_FLAGS;
	fd = sys_setup(2, &p);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

int uring_start(struct atr_mount *m, struct fuse_session *se,
		const char *mnt)
{
	struct uring_pool *pl;
	cpu_set_t online;
	unsigned npossible;
	int n;

	npossible = cpus_possible_online(&online);
	if (!npossible || npossible > UINT16_MAX)
		return -ENODEV;
	/*
	 * Replies go through uring_writev() from now on: only here, so that a
	 * mount on /dev/fuse alone keeps libfuse's own writev.
	 */
	if (fuse_session_custom_io(se, &uring_io, fuse_session_fd(se)))
		return -ENOTSUP;
	pl = calloc(1, sizeof(*pl));
	if (!pl)
		return -ENOMEM;
	pthread_mutex_init(&pl->lock, NULL);
	pthread_cond_init(&pl->wiped, NULL);
	m->uring = pl;
	pl->se = se;
	pl->dev = fuse_session_fd(se);
	pl->payload = m->uring_payload;
	pl->locked = m->harden_mlock_err == 0;
	pl->mnt = *mnt ? strdup(mnt) : NULL;
	pl->stop = eventfd(0, EFD_CLOEXEC);
	n = pl->stop < 0 ? -errno : pool_start(pl, npossible, &online);
	if (n <= 0) {
		uring_stop(m);
		return n ? n : -ENODEV;
	}
	atr_log(LOG_INFO, "requests over io_uring: %u queues, %d threads",
		npossible, n);
	return 0;
}
