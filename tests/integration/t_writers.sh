#!/usr/bin/env bash
# Several processes write one file at once, through the page cache, and the
# file must come back byte for byte after a remount.  The writeback of such
# a file reaches the daemon as concurrent WRITEs in no particular order;
# writes are ordered per file (fs/worder.c), the gaps they leave are listed
# and recorded only if they stay holes (fs/fileio.c).  t_holes drives each
# of those paths on its own; this drives them all at once, at random, and
# checks the result against a plain copy of the same writes:
#   1. four writers, each with its own stripes of a 64 MiB file, writes of
#      1 byte to 1 MiB at random offsets, fsync and fdatasync among them;
#      some stripes never written (holes); then maybe a truncate and a
#      write past the end.  Compared before and after a remount.
#   2. writers, a truncater, a reader and fsync/punch/zero range/fallocate
#      at once on one file: no call may fail, and what the file holds at
#      the end must read back the same after a remount.
# Neither may leave an error in the daemon's log.
. "$(dirname "$0")/lib.sh"

C=$WORK/c M=$WORK/m R=$WORK/ref

# par.py: run_all(FN, N, WHAT) runs FN(0..N-1) in N processes at once and
# exits naming WHAT if any failed; both parts import it.
cat >"$WORK/par.py" <<'EOF'
import multiprocessing as mp, sys

def run_all(fn, n, what):
    ps = [mp.Process(target=fn, args=(k,)) for k in range(n)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    if any(p.exitcode for p in ps):
        sys.exit("%s: a process failed" % what)
EOF
export PYTHONPATH=$WORK

# writers FILE REF SEED: part 1 on FILE and, with the same data, on REF
writers() {
	python3 - "$@" <<'EOF'
import os, random, sys
from par import run_all

path, ref, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
NPROC, STRIPE, NSTRIPE, NOPS = 4, 256 << 10, 256, 250

def writer(k):
    r = random.Random(seed * 100 + k)
    fds = [os.open(p, os.O_WRONLY) for p in (path, ref)]
    mine = [i for i in range(NSTRIPE) if i % NPROC == k and i % 13 != 5]
    for _ in range(NOPS):
        s = r.choice(mine)
        off = s * STRIPE + r.randrange(STRIPE)
        n = min(r.choice([1, 100, 4096, 5000, 65536, 200000, 1 << 20]),
                (s + 1) * STRIPE - off)
        data = r.randbytes(n)
        for fd in fds:
            os.pwrite(fd, data, off)
        x = r.random()
        if x < 0.02:
            os.fsync(fds[0])
        elif x < 0.04:
            os.fdatasync(fds[0])
    for fd in fds:
        os.close(fd)

for p in (path, ref):
    os.close(os.open(p, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o644))
run_all(writer, NPROC, path)
r = random.Random(seed)
if r.random() < 0.5:
    size = r.randrange(NSTRIPE * STRIPE)
    for p in (path, ref):
        os.truncate(p, size)
if r.random() < 0.5:
    off = os.path.getsize(ref) + r.randrange(8 << 20)
    data = r.randbytes(r.randrange(1, 70000))
    for p in (path, ref):
        fd = os.open(p, os.O_WRONLY)
        os.pwrite(fd, data, off)
        os.close(fd)
EOF
}

# chaos FILE SEED SECONDS: part 2
chaos() {
	python3 - "$@" <<'EOF'
import ctypes, os, random, sys, time
from par import run_all

path, seed, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64,
                           ctypes.c_int64]
SPAN = 64 << 20

def punch(fd, off, n):
    # FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
    if libc.fallocate(fd, 3, off, n):
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))

def zero(fd, off, n, keep):
    # FALLOC_FL_ZERO_RANGE, with FALLOC_FL_KEEP_SIZE or not
    if libc.fallocate(fd, 0x10 | keep, off, n):
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))

def run(k):
    r = random.Random(seed * 10 + k)
    end = time.time() + secs
    fd = os.open(path, os.O_RDWR)
    try:
        while time.time() < end:
            x = r.random()
            if k == 0:
                os.ftruncate(fd, r.randrange(SPAN))
                time.sleep(0.01)
            elif k == 1:
                os.pread(fd, 1 << 20, r.randrange(SPAN))
            elif k == 2:
                if x < 0.25:
                    os.fsync(fd)
                elif x < 0.45:
                    punch(fd, r.randrange(SPAN), r.randrange(1 << 20) + 1)
                elif x < 0.7:
                    zero(fd, r.randrange(SPAN), r.randrange(1 << 20) + 1,
                         r.randrange(2))
                else:
                    os.posix_fallocate(fd, r.randrange(SPAN),
                                       r.randrange(1 << 20) + 1)
                time.sleep(0.005)
            else:
                n = r.choice([1, 4096, 70000, 1 << 20])
                os.pwrite(fd, r.randbytes(n), r.randrange(SPAN))
    except OSError as e:
        sys.exit("%s: process %d: %s" % (path, k, e))
    os.close(fd)

os.close(os.open(path, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o644))
run_all(run, 6, path)
EOF
}

log_clean() {
	grep -q "error\|tampered\|Sanitizer\|runtime error" "$M.log" &&
		fail "$1: the daemon logged an error: $(cat "$M.log")"
	return 0
}

new_volume "$C"
mount_vol "$C" "$M"
for seed in 1 2 3; do
	writers "$M/w$seed" "$R$seed" "$seed" || fail "writers, seed $seed"
	cmp "$R$seed" "$M/w$seed" || fail "writers, seed $seed: reads back wrong"
done
chaos "$M/chaos" 7 6 || fail "chaos"
cp "$M/chaos" "$R.chaos" || fail "chaos: the file does not read back"
log_clean "before the remount"
unmount_vol "$M"
mount_vol "$C" "$M"
for seed in 1 2 3; do
	cmp "$R$seed" "$M/w$seed" || fail "writers, seed $seed: wrong after a remount"
done
cmp "$R.chaos" "$M/chaos" || fail "chaos: wrong after a remount"
log_clean "after the remount"
unmount_vol "$M"
ok "4 concurrent writers with holes, fsyncs and a truncate (3 seeds), and writers racing truncate, punch, zero range, fallocate and reads: the same after a remount"
