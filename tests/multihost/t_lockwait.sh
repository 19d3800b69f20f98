#!/usr/bin/env bash
# t_lockwait.sh - -o shared waits a bounded time for a byte-range lock.
# Anyone who can open a backing file on any host (a local user, another
# program over the cluster file system) can hold an OFD lock on it.  A
# daemon waiting for that lock without bound hangs the request, every
# other request on the file (the inode lock is held meanwhile) and the
# unmount; instead, after SHARED_LOCK_WAIT_MS it fails the request with
# EIO and logs a line naming the file, and works again once the lock goes.
# One O_DIRECT read of 4 KiB: one READ request, so one wait (cat waits
# once per READ the kernel sends).
source "$(dirname "$0")/lib.sh"

mh_gluster
mh_volume
mh_mount a -oshared
mh_mount b -oshared

touch "$WORK/t0"
echo hello >"$WORK/a/f" || fail "create f"
sync
back=$(find "$WORK/g2/vol" -type f -newer "$WORK/t0" -size +0 | head -1)
[ -n "$back" ] || fail "no backing file of f found"
# The holder, on host B's client: a write lock on the whole file, 60 s.
python3 - "$back" <<'PY' &
import fcntl, os, struct, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
F_OFD_SETLK = 37
fcntl.fcntl(fd, F_OFD_SETLK, struct.pack("hhqqi", fcntl.F_WRLCK, 0, 0, 0, 0))
print("held", flush=True)
time.sleep(60)
PY
hpid=$!
sleep 2
t0=$(date +%s)
timeout 40 dd if="$WORK/a/f" of=/dev/null bs=4096 count=1 iflag=direct 2>"$WORK/cat.err"
rc=$?
t1=$(date +%s)
[ "$rc" != 124 ] || { kill "$hpid"; fail "a read waited 40 s for a lock held by another process"; }
[ "$rc" != 0 ] || { kill "$hpid"; fail "a read went on under another process's write lock"; }
grep -q "Input/output error" "$WORK/cat.err" || { kill "$hpid"; fail "read failed, but not with EIO: $(cat "$WORK/cat.err")"; }
kill "$hpid"; wait "$hpid" 2>/dev/null
[ "$(cat "$WORK/a/f")" = hello ] || fail "f unreadable once the lock is gone"
unmount_vol "$WORK/a"
unmount_vol "$WORK/b"
ok "a read under another's lock failed with EIO after $((t1 - t0)) s, and worked once the lock was gone"
