// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/harden.c - make the serving daemon safe to swap through and keep it
 * out of core files.
 *
 * A swap file on an atrestfs mount means the kernel may need this very
 * process to write out memory when memory is short.  If the daemon's own
 * pages could be swapped out, or its own allocations could wait for
 * writeback, it would wait on itself: every page fault or reclaim in the
 * daemon then needs a swap write, which needs the daemon.  Hence:
 *
 *  - mlockall(MCL_CURRENT | MCL_FUTURE): nothing of the daemon is ever paged
 *    out, so serving a request never faults on swap;
 *  - PR_SET_IO_FLUSHER: the daemon's allocations do not start I/O in direct
 *    reclaim (PF_MEMALLOC_NOIO) and are throttled only on their own
 *    device's writeback (PF_LOCAL_THROTTLE), as for loop and nbd servers.
 *
 * Both are task flags inherited by threads created later, which is why
 * this runs before the FUSE session starts its workers.  See
 * docs/design.md, "Swap".
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fs_private.h"

#ifndef PR_SET_IO_FLUSHER
#define PR_SET_IO_FLUSHER 57	/* Linux 5.6, <linux/prctl.h> */
#endif

/*
 * mlockall with MCL_FUTURE makes every later mmap, brk and thread stack
 * fail once RLIMIT_MEMLOCK is reached; below an unlimited limit (or
 * CAP_IPC_LOCK, which root has) that would turn malloc failures into
 * EIO on ordinary requests.  So lock all or nothing: only when it cannot
 * run out.  Key pages are mlock()ed by secmem on their own either way.
 */
static int lock_memory(void)
{
	struct rlimit rl;

	if (geteuid() != 0 &&
	    (getrlimit(RLIMIT_MEMLOCK, &rl) || rl.rlim_cur != RLIM_INFINITY))
		return -EPERM;
	if (mlockall(MCL_CURRENT | MCL_FUTURE))
		return -errno;
	return 0;
}

int harden_daemon(struct atr_mount *m)
{
	struct rlimit none = { 0, 0 };

	/*
	 * main() already did this; say it again where the keys are served,
	 * and with no core size, so that even fs.suid_dumpable=2 writes no
	 * core of this process.
	 */
	prctl(PR_SET_DUMPABLE, 0);
	(void)setrlimit(RLIMIT_CORE, &none);
	/*
	 * From here on every page is locked and resident, worker stacks
	 * included: serve() in mount.c keeps those small.
	 */
	m->harden_mlock_err = lock_memory();
	m->harden_flusher_err = prctl(PR_SET_IO_FLUSHER, 1, 0, 0, 0) ? -errno : 0;
	return m->harden_mlock_err ? m->harden_mlock_err : m->harden_flusher_err;
}

/*
 * Once the mount is up and logging has its final destination (syslog when
 * detached): only root can swap (swapon needs CAP_SYS_ADMIN), so only
 * root's daemon is told when it cannot be made safe to swap through.
 * "atrestfs swap on" repeats the warning where it matters.
 */
void harden_report(const struct atr_mount *m)
{
	if (geteuid() != 0)
		return;
	if (m->harden_mlock_err)
		atr_log(LOG_WARNING, "mlockall: %s: swap files on this mount "
			"may deadlock under memory pressure",
			strerror(-m->harden_mlock_err));
	if (m->harden_flusher_err)
		atr_log(LOG_NOTICE, "not an I/O flusher (PR_SET_IO_FLUSHER: %s; "
			"needs Linux 5.6 and CAP_SYS_RESOURCE): swap files on "
			"this mount may deadlock under memory pressure",
			strerror(-m->harden_flusher_err));
}
