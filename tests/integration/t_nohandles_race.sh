#!/usr/bin/env bash
# Inodes reopened by parent and name (-o nohandles, fs/inofd.c) while
# names change.  Through the mount: a rename, a rename over a file, an
# exchange across directories, a directory renamed with its children
# known, a hard link and a file unlinked while open; once their fds left
# the cache, each inode reopens as its own file; again on a volume with
# encrypted names (reopened by backing name).  Behind the daemon's back:
# names replaced in the backing directory while the kernel knows the old
# inodes: requests on them get ESTALE and one log line each (or the old
# file), never the other file.  Then two files swapped by RENAME_EXCHANGE
# for 10 s by a daemon with a cache of 32 fds while files are made: each
# inode always reads its own extended attribute, never an error.  (The
# window path_lock closes, a reopen begun before a rename holds the
# inode, is too narrow for this to hit: it passes without the lock too.)
. "$(dirname "$0")/lib.sh"

T=$WORK/t C=$WORK/t/c M=$WORK/m
mkdir -p "$T"
mount -t tmpfs -o size=1g races "$T" || fail "tmpfs on $T"
MOUNTS+=("$T")
new_volume "$C"
"$TB/tool_walkgen" "$C" "$C.key" 1500 >/dev/null ||
	fail "generating 1500 files"
mount_with "$C" "$M" --keyfile "$C.key" -o nohandles
pid=${MPID[$M]}
prlimit --pid "$pid" --nofile=4096:4096 || fail "prlimit on the daemon"
grep -q "nohandles: inodes are reopened by parent and name" "$M.log" ||
	fail "-o nohandles not taken: $(cat "$M.log")"

# Past the entry and attribute timeouts, a lookup of every file under
# the directories given (the glob of d0* also lists the root): every
# other fd leaves the cache of 1,024, and the kernel asks again.
evict_in() {
	sleep 1.1
	find "$@" -type f -print0 | xargs -0 stat -c %i >/dev/null ||
		fail "stat of the tree"
}
evict() { evict_in "$M"/d0*; }
# size FD WANT: fstat of the shell's fd FD through the daemon.
size() {
	local s
	s=$(stat -L -c %s /proc/$$/fd/"$1" 2>&1) || fail "fstat of fd $1 ($3): $s"
	[ "$s" = "$2" ] || fail "fd $1 ($3) has size $s, want $2"
}

# renames MNT DIR...: names changed through the mount at MNT, checked
# once the fds of their inodes left the cache (evict_in DIR...).
renames() {
	local m=$1
	shift
	mkdir "$m/a" "$m/sub" || fail "mkdir"
	printf x >"$m/a/x"; printf yy >"$m/a/y"; printf ppp >"$m/a/p"
	printf qqqq >"$m/a/q"; printf kkkkk >"$m/sub/kid"
	printf gggggg >"$m/a/gone"; printf lllllll >"$m/a/l1"
	ln "$m/a/l1" "$m/a/l2" || fail "ln"
	exec 3<"$m/a/x" 4<"$m/a/y" 5<"$m/a/p" 6<"$m/a/q" 7<"$m/sub/kid" \
	     8<"$m/a/gone" 9<"$m/a/l1"
	mv "$m/a/x" "$m/a/x2" || fail "rename"
	mv "$m/a/y" "$m/a/p" || fail "rename over"
	python3 - "$m/a/q" "$m/sub/kid" <<'PY' || fail "RENAME_EXCHANGE"
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.renameat2(-100, sys.argv[1].encode(), -100, sys.argv[2].encode(), 2):
    sys.exit(os.strerror(ctypes.get_errno()))
PY
	mv "$m/sub" "$m/sub2" || fail "rename of a directory"
	rm "$m/a/gone" "$m/a/l1" || fail "unlink"
	evict_in "$@"
	size 3 1 "x, renamed"
	size 4 2 "y, renamed over p"
	size 5 3 "p, renamed over"
	size 6 4 "q, exchanged"
	size 7 5 "sub/kid, exchanged"
	size 8 6 "gone, unlinked while open"
	size 9 7 "l1, a hard link left"
	[ "$(cat "$m/sub2/kid")" = qqqq ] || fail "sub2/kid after the exchange"
	[ "$(cat "$m/a/q")" = kkkkk ] || fail "a/q after the exchange"
	[ "$(cat <&8)" = gggggg ] || fail "reading the unlinked file"
	exec 3<&- 4<&- 5<&- 6<&- 7<&- 8<&- 9<&-
}
renames "$M" "$M"/d0*

# Behind the daemon's back, with the old inodes known and open.
mkdir "$M/b1" "$M/b2"; printf one >"$M/f1"; printf twotwotwo >"$M/f2"
exec 3<"$M/f1" 4<"$M/b1"
mv -T "$C/b2" "$C/b1" && mv "$C/f2" "$C/f1" || fail "renames in $C"
evict
for fd in 3 4; do
	if s=$(stat -L -c %s /proc/$$/fd/$fd 2>"$WORK/err"); then
		# The old file (a kept fd) would do; the other never.
		[ $fd = 4 ] || [ "$s" = 3 ] || fail "f1's old inode has size $s"
		[ $fd = 3 ] || fail "b1's old inode has attributes"
	else
		grep -q "Stale file handle" "$WORK/err" ||
			fail "fstat of fd $fd: $(cat "$WORK/err")"
	fi
done
if s=$(cat <&3 2>"$WORK/err"); then
	[ "$s" = one ] || fail "the open f1 reads '$s'"
else
	grep -q "Stale file handle" "$WORK/err" ||
		fail "reading the open f1: $(cat "$WORK/err")"
fi
[ "$(cat "$M/f1")" = twotwotwo ] || fail "f1 looked up again: $(cat "$M.log")"
exec 3<&- 4<&-
n=$(grep -c "is no longer inode" "$M.log")
[ "$n" = 2 ] || fail "want 2 log lines for 2 replaced names: $(cat "$M.log")"
nfd=$(ls /proc/"$pid"/fd | wc -l)
[ "$nfd" -le 1100 ] || fail "the daemon holds $nfd fds"
unmount_vol "$M"

# A race: two names swapped by RENAME_EXCHANGE for 10 s while their
# inodes are reopened by them, each time a check of the reopened file.
# A daemon with RLIMIT_NOFILE 128 (a cache of 32 fds) and files made
# meanwhile push the two out of the cache between reads.
lowfd=$WORK/lowfd
cat >"$lowfd" <<EOS
#!/bin/sh
exec prlimit --nofile=128:128 -- setpriv --bounding-set -sys_resource \
	"$ATR" "\$@"
EOS
chmod +x "$lowfd"
C=$WORK/t/cr M=$WORK/mr
new_volume "$C"
ATR=$lowfd mount_with "$C" "$M" --keyfile "$C.key" -o nohandles
grep -q "^Max open files *128 " /proc/"${MPID[$M]}"/limits ||
	fail "the daemon's RLIMIT_NOFILE: $(grep "open files" /proc/"${MPID[$M]}"/limits)"
mkdir "$M/z" || fail "mkdir $M/z"
printf A >"$M/A"; printf B >"$M/B"
setfattr -n user.who -v A "$M/A" && setfattr -n user.who -v B "$M/B" ||
	fail "setfattr"
python3 - "$M" <<'PY' || fail "exchange race"
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
m = sys.argv[1]
a, b = (os.path.join(m, n).encode() for n in ("A", "B"))
fa, fb = os.open(a, os.O_RDONLY), os.open(b, os.O_RDONLY)
end = time.time() + 10
kids = []
for job in ("swap", "make"):
    pid = os.fork()
    if pid:
        kids.append(pid)
        continue
    i = 0
    while time.time() < end:
        if job == "swap" and libc.renameat2(-100, a, -100, b, 2):
            os._exit(1)
        if job == "make":
            os.close(os.open("%s/z/%d" % (m, i), os.O_CREAT | os.O_WRONLY))
        i += 1
    os._exit(0)
n = 0
while time.time() < end:
    for fd, want in ((fa, b"A"), (fb, b"B")):
        got = os.getxattr(fd, "user.who")
        if got != want:
            sys.exit("the inode of %s read %s" % (want, got))
        n += 1
    time.sleep(0.05)
for pid in kids:
    if os.waitpid(pid, 0)[1]:
        sys.exit("a swap or a create failed")
print("%d reads during the swaps, %d files made" %
      (n, len(os.listdir(os.path.join(m, "z")))))
PY
unmount_vol "$M"

# Encrypted names: inodes are reopened by their backing names, no crypto.
C=$WORK/t/ce M=$WORK/me
new_volume "$C" --names encrypted
mount_with "$C" "$M" --keyfile "$C.key" -o nohandles
mkdir "$M/e" || fail "mkdir $M/e"
for ((i = 0; i < 1300; i++)); do : >"$M/e/f$i" || fail "creating $M/e/f$i"; done
renames "$M" "$M/e"
unmount_vol "$M"
ok "renames, exchanges and unlinks through the mount (plain and encrypted" \
   "names) and behind its back under -o nohandles; $nfd fds"
