#!/usr/bin/env bash
# Rollback of files (issue 16): an older copy of a file, or of its end,
# put back by whoever can write the backing directory, is refused with EIO
# and one log line once it changed through the mount; this machine's
# record of the versions (the state directory, atrestfs(8)) catches a
# whole older file.  No false alarm after a clean remount of a busy tree
# or after kill -9 of the daemon during fsync'd appends.  Every case uses
# a state directory under $WORK.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../atrest/common.sh"	# kill_daemon

E=4096
D=$((E + 28))
C=$WORK/c M=$WORK/m ST=$WORK/state
K=(--keyfile "$C.key" --state-dir "$ST")

mount_st() {
	mount_with "$C" "$M" "${K[@]}"
}

# lines MNT TEXT: lines of the daemon's log that contain TEXT
lines() {
	grep -cF -- "$2" "$1.log"
}

# The log must say nothing about any file: no EIO was due.
# (A crash's recovery notice is no alarm: see recover_copy() and
# recover_end() in fs/rollback.c.)
no_alarm() {
	if grep -E "$C/|rolled back|version record|fails authentication" "$M.log" |
		grep -v ": a write the daemon's stop cut short"; then
		fail "$1: a false alarm in the log"
	fi
}

# append_fsync FILE TEXT: one record, fsync'd
append_fsync() {
	python3 - "$1" "$2" <<'EOF' || fail "append to $1"
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
os.write(fd, sys.argv[2].encode())
os.fsync(fd)
os.close(fd)
EOF
}

U() {
	sed -n 's/^volume_uuid = "\(.*\)";/\1/p' "$C/atrestfs.conf"
}

new_volume "$C" --state-dir "$ST"
J=$ST/$(U)/files
[ -f "$J" ] || fail "init made no record of files ($J)"
mount_st
grep -q notice "$M.log" && fail "a notice on the first mount after init: $(cat "$M.log")"

# 1. Whole file: a copy (with its xattrs) from its first version, put
#    back after the next one settled.  Also a copy taken while a file was
#    first written (O_DIRECT: the data is in the backing file), before its
#    first close: its record, dirty since the file was made (counter 1),
#    is older than the version that close settled (2).  Likewise a file
#    made empty and closed, then written in the same mount: its dirty
#    record, found at that open, settles one counter on (2), so the copy
#    from while it was empty is older.  A file made by mknod(2) takes a
#    new ID at its first data: its old ID is recorded one counter past.
printf 'version one\n' >"$M/whole"
python3 - "$M/early" "$C/early" "$WORK/early.v0" <<'EOF' || fail "early copy"
import mmap, os, subprocess, sys
buf = mmap.mmap(-1, 4096)
buf.write(b"E" * 4096)
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_DIRECT, 0o644)
assert os.write(fd, buf) == 4096
subprocess.run(["cp", "-a", sys.argv[2], sys.argv[3]], check=True)
os.close(fd)
EOF
getfattr -n user.atrestfs.ver "$WORK/early.v0" >/dev/null 2>&1 ||
	fail "no version record on a file just made"
python3 -c 'import os, stat, sys; os.mknod(sys.argv[1], 0o640 | stat.S_IFREG)' "$M/node" ||
	fail "mknod of a regular file"
cp -a "$C/node" "$WORK/node.v0"
printf 'written after mknod\n' >>"$M/node"
: >"$M/late"
cp -a "$C/late" "$WORK/late.v0"
printf 'written after its first close\n' >>"$M/late"
unmount_vol "$M"
# Its header said it has a record from the start: its first close wrote
# the record, and left the header as it was (no rewrap for a flag).
h0=$(getfattr -e hex -n user.atrestfs.hdr "$WORK/early.v0" 2>/dev/null | grep =0x)
[ -n "$h0" ] || fail "no header on a file just made"
[ "$h0" = "$(getfattr -e hex -n user.atrestfs.hdr "$C/early" 2>/dev/null | grep =0x)" ] ||
	fail "a new file's header was rewritten at its first close"
cp -a "$C/whole" "$WORK/whole.v1"
getfattr -n user.atrestfs.ver "$WORK/whole.v1" >/dev/null 2>&1 ||
	fail "cp -a kept no version record"
mount_st
printf 'version two\n' >>"$M/whole"
# 2. Last extent: a log appended and fsync'd; its end is saved, then
#    more is appended and the old end put back in its place.
for i in $(seq 300); do echo "line $i of the log"; done >"$WORK/log.ref"
append_fsync "$M/log" "$(cat "$WORK/log.ref")"
unmount_vol "$M"
size1=$(stat -c %s "$C/log")
[ $((size1 % D)) != 0 ] || fail "the log should end inside an extent"
tail -c $((size1 % D)) "$C/log" >"$WORK/log.end"
mount_st
append_fsync "$M/log" "line 301, after the saved end"
# 3. Truncation to an earlier size at an extent boundary: a file of
#    exactly two extents grows to three; the old second (last) extent is
#    put back, the third cut off.
head -c $((2 * E)) /dev/urandom >"$M/cut"
unmount_vol "$M"
dd if="$C/cut" of="$WORK/cut.ext1" bs=$D skip=1 count=1 status=none
mount_st
head -c $E /dev/urandom >>"$M/cut"
# 3b. The same cut without an old extent to put back: a plain cut.
head -c $((3 * E)) /dev/urandom >"$M/plaincut"
unmount_vol "$M"

cp -a "$WORK/whole.v1" "$C/whole"
cp -a "$WORK/early.v0" "$C/early"
cp -a "$WORK/node.v0" "$C/node"
cp -a "$WORK/late.v0" "$C/late"
truncate -s "$((size1 - size1 % D))" "$C/log"
cat "$WORK/log.end" >>"$C/log"
truncate -s $D "$C/cut"
cat "$WORK/cut.ext1" >>"$C/cut"
truncate -s $((2 * D)) "$C/plaincut"
mount_st
for i in 1 2 3; do
	for f in whole early node late log cut; do
		expect_eio cat "$M/$f"
	done
done
[ "$(lines "$M" "$C/whole: it is version 2, older than version 3 recorded on this machine")" = 1 ] ||
	fail "whole: want one log line: $(cat "$M.log")"
[ "$(lines "$M" "$C/early: it is version 1, older than version 2 recorded on this machine")" = 1 ] ||
	fail "early: want one log line: $(cat "$M.log")"
[ "$(lines "$M" "$C/node: it is version 1, older than version 3 recorded on this machine")" = 1 ] ||
	fail "node: want one log line: $(cat "$M.log")"
[ "$(lines "$M" "$C/late: it is version 1, older than version 2 recorded on this machine")" = 1 ] ||
	fail "late: want one log line: $(cat "$M.log")"
[ "$(lines "$M" "$C/log: it is shorter than its version record says")" = 1 ] ||
	fail "log: want one log line: $(cat "$M.log")"
[ "$(lines "$M" "$C/cut: it is shorter than its version record says (version 3: 12288 bytes; the file: 8192)")" = 1 ] ||
	fail "cut: want one log line: $(cat "$M.log")"
for f in whole early node late log cut; do
	[ "$(lines "$M" "$C/$f:")" = 1 ] || fail "$f: $(lines "$M" "$C/$f:") log lines"
done
grep -q "atrestfs trust" <(grep -F "$C/whole:" "$M.log") || fail "whole: no word of trust"
ok "rolled back: a whole file, a copy from before its first close (create, mknod, a file first written after its close), a log's last extent, a cut to an old last extent (EIO, one line each)"
dd if="$M/plaincut" of=/dev/null bs=$E count=1 iflag=direct status=none ||
	fail "plaincut: the extent before the cut does not read"
expect_eio cat "$M/plaincut"
[ "$(lines "$M" "$C/plaincut: extent 1 fails authentication")" = 1 ] ||
	fail "plaincut: $(cat "$M.log")"
ok "a plain cut at an extent boundary: the extent before it reads, the end is EIO, one line"
unmount_vol "$M"

# 4. A forged record of files: the mount is refused, naming the journal
#    and trust; trust forgets the records, and the volume as it is now
#    mounts (the rolled-back files included: that is what trust means).
off=$((16 + 40 + 20))
printf '%b' "\\x$(printf %02x $(( $(od -An -tu1 -j$off -N1 "$J") ^ 1 )))" |
	dd of="$J" bs=1 seek=$off conv=notrunc status=none
expect 4 "fails its MAC check" "$ATR" mount "${K[@]}" "$C" "$M"
expect 4 "run 'atrestfs trust --state-dir $ST $C'" "$ATR" mount "${K[@]}" "$C" "$M"
"$ATR" trust "${K[@]}" "$C" >"$WORK/trust.out" || fail "trust"
grep -q "Forgot the versions of its files" "$WORK/trust.out" || fail "trust: $(cat "$WORK/trust.out")"
mount_st
[ "$(cat "$M/whole")" = "version one" ] || fail "whole after trust"
grep -q notice "$M.log" && fail "a notice after trust: $(cat "$M.log")"
ok "a forged record of files refuses the mount, naming trust; after trust the volume mounts as it is"

# 5. A busy tree: written, appended, truncated, emptied and refilled,
#    renamed over, hard-linked, punched.  Two clean remounts: every file
#    reads back, and nothing is logged.
rm -f "$M/whole" "$M/early" "$M/node" "$M/late" "$M/log" "$M/cut" "$M/plaincut"
R=$WORK/ref
mkdir -p "$R"
python3 - "$M" "$R" <<'EOF' || fail "busy tree"
import os, random, sys
r = random.Random(16)
roots = sys.argv[1:]
def each(fn):
    for root in roots:
        fn(root)
for i in range(300):
    d = "d%d" % (i % 7)
    data = r.randbytes(r.choice([0, 1, 100, 4095, 4096, 4097, 9000, 20000]))
    def w(root):
        os.makedirs(os.path.join(root, d), exist_ok=True)
        with open(os.path.join(root, d, "f%d" % i), "wb") as f:
            f.write(data)
    each(w)
names = ["d%d/f%d" % (i % 7, i) for i in range(300)]
for n in r.sample(names, 60):          # appended, some with fsync
    extra = r.randbytes(r.randrange(1, 6000))
    sync = r.random() < 0.5
    def a(root):
        with open(os.path.join(root, n), "ab") as f:
            f.write(extra)
            if sync:
                f.flush(); os.fsync(f.fileno())
    each(a)
for n in r.sample(names, 40):          # truncated down, up, to zero
    size = r.choice([0, 1, 4096, 5000, 30000])
    each(lambda root: os.truncate(os.path.join(root, n), size))
for n in r.sample(names, 20):          # emptied and written again
    data = r.randbytes(r.randrange(1, 9000))
    def t(root):
        with open(os.path.join(root, n), "wb") as f:
            f.write(data)
    each(t)
pairs = r.sample(names, 40)
for a_, b_ in zip(pairs[::2], pairs[1::2]):   # renamed over another
    each(lambda root: os.rename(os.path.join(root, a_), os.path.join(root, b_)))
    names.remove(a_)
for n in r.sample(names, 20):          # hard links, one link removed
    def l(root):
        os.link(os.path.join(root, n), os.path.join(root, n + ".link"))
    each(l)
    if r.random() < 0.5:
        each(lambda root: os.unlink(os.path.join(root, n)))
for n in r.sample([x for x in names if os.path.exists(os.path.join(roots[1], x))], 10):
    def p(root):                        # a range punched
        path = os.path.join(root, n)
        size = os.path.getsize(path)
        if size > 3 * 4096:
            fd = os.open(path, os.O_RDWR)
            os.posix_fallocate  # (exists)
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            assert libc.fallocate(fd, 3, ctypes.c_long(4096), ctypes.c_long(8192)) == 0
            os.close(fd)
    each(p)
for n in r.sample([x for x in names if os.path.exists(os.path.join(roots[1], x))], 20):
    each(lambda root: os.unlink(os.path.join(root, n)))
EOF
diff -r "$R" "$M" >/dev/null || fail "the busy tree differs before the remount"
unmount_vol "$M"
nrec=$(( ($(stat -c %s "$J") - 16) / 40 ))
[ "$nrec" -ge 200 ] || fail "only $nrec files recorded after the busy tree"
for round in 1 2; do
	mount_st
	diff -r "$R" "$M" >/dev/null || fail "the busy tree differs after remount $round"
	no_alarm "busy tree, remount $round"
	unmount_vol "$M"
done
ok "a busy tree of 300 files ($nrec recorded): two clean remounts, no false alarm"

# 6. kill -9 of the daemon during fsync'd appends, at random moments, six
#    rounds: after each remount every record acknowledged by fsync reads
#    back, and nothing is refused.  klog0 is a log written through the
#    page cache, a record and an fsync at a time; klog1 takes its records
#    with O_DIRECT, 16 to an fsync, so that the daemon is killed most
#    often between a change and the settle that follows it.
mount_st
: >"$WORK/acked"
for round in 1 2 3 4 5 6; do
	python3 - "$M" "$WORK/acked" "$round" <<'EOF' &
import mmap, os, sys
mnt, acked, rnd = sys.argv[1], sys.argv[2], sys.argv[3]
buf = mmap.mmap(-1, 4096)
def ack(k, n):
    with open(acked, "a") as a:
        a.write("%d %s %d\n" % (k, rnd, n))
n = 0
try:
    paged = os.open(os.path.join(mnt, "klog0"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    direct = os.open(os.path.join(mnt, "klog1"), os.O_WRONLY | os.O_CREAT | os.O_DIRECT, 0o644)
    off = os.lseek(direct, 0, os.SEEK_END)
    while True:
        os.write(paged, ("round %s record %d of klog0 %s\n" % (rnd, n, "x" * (n % 97))).encode())
        os.fsync(paged)
        ack(0, n)
        for i in range(16):
            line = ("round %s record %d.%d of klog1 " % (rnd, n, i)).encode()
            buf.seek(0)
            buf.write(line.ljust(4095, b".") + b"\n")
            assert os.pwrite(direct, buf, off) == 4096
            off += 4096
        os.fsync(direct)
        ack(1, n)
        n += 1
except OSError:
    pass
EOF
	writer=$!
	# The writer under way (its first record acknowledged: a python
	# start can take a second on a busy machine), then 0.1 to 0.9 s.
	for i in $(seq 250); do
		grep -q "^0 $round " "$WORK/acked" && break
		sleep 0.02
	done
	sleep "0.$((RANDOM % 9 + 1))"
	kill_daemon "$M" "$writer"
	mount_st
	for k in 0 1; do
		expected=$(awk -v k=$k '$1 == k { print $2 " " $3 }' "$WORK/acked" | tail -1)
		[ -n "$expected" ] || continue
		cat "$M/klog$k" >"$WORK/klog$k" ||
			fail "round $round: klog$k does not read: $(cat "$M.log")"
		r=${expected% *} n=${expected#* }
		want="^round $r record $n of klog0 "
		[ $k = 1 ] && want="^round $r record $n.15 of klog1"
		grep -aq "$want" "$WORK/klog$k" ||
			fail "round $round: fsync'd record $expected of klog$k is missing"
	done
	no_alarm "kill -9, round $round"
done
unmount_vol "$M"
acks=$(wc -l <"$WORK/acked")
[ "$acks" -ge 12 ] || fail "only $acks records acknowledged in 6 rounds"
ok "kill -9 during fsync'd appends, 6 rounds ($acks records): every fsync'd record reads back, nothing refused"

# 7. The state directory lost (or a new machine): the mount works and says
#    so once; an older copy put back is then not detected (documented).
mount_st
printf 'one\n' >"$M/lost"
unmount_vol "$M"
cp -a "$C/lost" "$WORK/lost.v1"
mount_st
printf 'two\n' >>"$M/lost"
unmount_vol "$M"
rm -r "${ST:?}/$(U)"
cp -a "$WORK/lost.v1" "$C/lost"
mount_st
[ "$(lines "$M" "notice: first use of $C on this machine")" = 1 ] ||
	fail "no single notice without state: $(cat "$M.log")"
[ "$(cat "$M/lost")" = one ] || fail "the old copy should read without state"
no_alarm "state lost"
unmount_vol "$M"
[ -f "$J" ] || fail "no record of files made after the state was lost"
mount_st
grep -q notice "$M.log" && fail "a notice again: $(cat "$M.log")"
unmount_vol "$M"
ok "state directory lost: one notice, the volume as it is accepted"

# 8. Deleting files drops their records if they were opened during the
#    mount; the records of files deleted unopened stay (documented).
recs() {
	echo $(( ($(stat -c %s "$J") - 16) / 40 ))
}
mount_st
mkdir "$M/del"
for i in $(seq 20); do echo "file $i" >"$M/del/f$i"; done
unmount_vol "$M"
before=$(recs)
mount_st
cat "$M"/del/f* >/dev/null
rm "$M"/del/f1? "$M"/del/f20
unmount_vol "$M"
[ "$(recs)" = $((before - 11)) ] || fail "records after deleting 11 opened files: $(recs), want $((before - 11))"
mount_st
rm -r "$M/del"
unmount_vol "$M"
[ "$(recs)" = $((before - 11)) ] || fail "records after deleting 9 unopened files: $(recs), want $((before - 11))"
ok "deleting files opened during the mount drops their records; unopened ones keep theirs"

# 8. Recovery after a crash inside an extending write: the daemon seals
#    the new extents past the end first and re-seals the old last extent
#    in place after.  Killed between the two, the old last extent is whole
#    but still sealed as last, with the new one after it; the file's
#    record is dirty.  The state is made here by hand: extent 2 as it was
#    when it was last, the rest as after the append, the dirty record of
#    the append.  The next open re-seals it and the file reads whole.
mount_st
python3 - "$M/ext" <<'PY' || fail "writer"
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o644)
os.pwrite(fd, b'e' * (3 * 4096), 0)
os.close(fd)
PY
unmount_vol "$M"
dd if="$C/ext" of="$WORK/ext2" bs=4124 skip=2 count=1 status=none
mount_st
# O_DIRECT: the append reaches the daemon at once, and its record is dirty
# on disk until the close; the daemon is killed before that close, so the
# change never settles (a dirty record of a settled change is refused).
pid=${MPID[$M]}
[ "$(readlink /proc/"$pid"/exe)" = "$(readlink -f "$ATR")" ] ||
	fail "pid $pid is not the daemon"
dirty=$(python3 - "$M/ext" "$C/ext" "$pid" <<'PY'
import mmap, os, sys
buf = mmap.mmap(-1, 4096)
buf.write(b'f' * 4096)
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_DIRECT)
assert os.pwritev(fd, [buf], 3 * 4096) == 4096
print("0x" + os.getxattr(sys.argv[2], "user.atrestfs.ver").hex())
os.kill(int(sys.argv[3]), 9)
try:
    os.close(fd)
except OSError:
    pass
PY
) || fail "append"
wait "$pid" 2>/dev/null
unset "MPID[$M]"
fusermount3 -uz "$M" 2>/dev/null || umount -l "$M"
[ "$(stat -c %s "$C/ext")" = $((4 * 4124)) ] || fail "ext is not 4 extents"
dd if="$WORK/ext2" of="$C/ext" bs=4124 seek=2 count=1 conv=notrunc status=none
setfattr -n user.atrestfs.ver -v "$dirty" "$C/ext"
mount_st
{ head -c $((3 * 4096)) /dev/zero | tr '\0' e; head -c 4096 /dev/zero | tr '\0' f; } |
	cmp - "$M/ext" || fail "a file whose extending write a crash cut short does not read whole"
[ "$(lines "$M" "extent 2 re-sealed")" = 1 ] || fail "no notice of the re-sealed extent: $(cat "$M.log")"
unmount_vol "$M"
mount_st
cmp <({ head -c $((3 * 4096)) /dev/zero | tr '\0' e; head -c 4096 /dev/zero | tr '\0' f; }) "$M/ext" ||
	fail "the re-sealed file does not read after a clean remount"
unmount_vol "$M"
ok "an extending write cut short between its two sealings: the old last extent re-sealed at the next open"

# 9. A dirty record put back after its change settled: a copy of a file
#    taken at one version, and the dirty record of the change after it
#    (read while that change was under way), put back once the change
#    settled on this machine.  The dirty record's counter is the very
#    version this machine recorded as settled, so the copy is older; so
#    is a cut to zero carrying that record.
mount_st
printf 'version two of redo\n' >"$M/redo"
printf 'version two of redo0\n' >"$M/redo0"
unmount_vol "$M"
cp -a "$C/redo" "$WORK/redo.v2"
mount_st
for f in redo redo0; do
	dirty_record "$M/$f" "$C/$f" >"$WORK/$f.dirty" || fail "$f: the change"
done
unmount_vol "$M"
cp -a "$WORK/redo.v2" "$C/redo"
setfattr -n user.atrestfs.ver -v "$(cat "$WORK/redo.dirty")" "$C/redo"
truncate -s 0 "$C/redo0"
setfattr -n user.atrestfs.ver -v "$(cat "$WORK/redo0.dirty")" "$C/redo0"
mount_st
for f in redo redo0; do
	expect_eio cat "$M/$f"
	[ "$(lines "$M" "$C/$f: its version record is of a change (version 3) that settled on this machine since")" = 1 ] ||
		fail "$f: want one log line: $(cat "$M.log")"
done
unmount_vol "$M"
ok "a dirty record put back after its change settled, with an older copy or a cut to zero: EIO, one line each"
