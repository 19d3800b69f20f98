#!/usr/bin/env bash
# The copy of a file's end in the state directory (fs/endcopy.c, design.md
# §8) against what its review found: it is used after a second crash and
# for a file made and torn before its first settle, kept when it cannot be
# put back yet, and neither a FIFO nor a hard link planted in ends/ hangs
# or turns the daemon against another file.  A torn write is emulated with
# the daemon killed -9 under an append (endkill.py) and the bytes below the
# old end put back as they were: nothing of the in-place rewrite landed.
. "$(dirname "$0")/../integration/lib.sh"

T=$WORK/t C=$WORK/t/c M=$WORK/m ST=$WORK/t/state
E="python3 $(dirname "$0")/endkill.py"
mkdir -p "$T"
mount -t tmpfs -o size=64m tmpfs "$T" || fail "cannot mount a tmpfs"
MOUNTS+=("$T")
new_volume "$C" --state-dir "$ST"

mnt() {
	mount_with "$C" "$M" --keyfile "$C.key" --state-dir "$ST"
}

# The daemon was killed -9: reap it and take its mount away.
killed() {
	wait "${MPID[$M]}" 2>/dev/null
	unset "MPID[$M]"
	fusermount3 -uz "$M" 2>/dev/null || umount -l "$M"
}

# tear NAME: the backing file's bytes below its old end as in $T/old.
tear() {
	dd if="$T/old" of="$C/$1" bs=1 count="$(stat -c %s "$T/old")" \
	   conv=notrunc status=none
}

ends() {
	ls "$ST"/*/ends
}

mnt
# 1. Killed once with the file dirty, remounted, appended to at once and
# killed again: the second tear is put back from the copy, which is sealed
# under the dirty record on the file (not the version it settles as).
$E "$M/two" 0 wA:200 f
$E "$M/two" "${MPID[$M]}" wB:1 s k
killed
mnt
cp "$C/two" "$T/old"
$E "$M/two" "${MPID[$M]}" wC:4 s k
killed
tear two
mnt
grep -q AAAA "$M/two" 2>/dev/null ||
	fail "after a second crash the fsync'd record is lost: $(cat "$M.log")"
grep -q "put back from the copy" "$M.log" || fail "no put-back logged"
ok "a second crash's torn end is put back from its copy"

# 2. Made and written twice before its first settle: the copy goes under
# the record the file was made with (counter 1).
$E "$M/new" "${MPID[$M]}" wA:200 s "c:$C/new:$T/old" wC:4 s k
killed
tear new
mnt
grep -q AAAA "$M/new" 2>/dev/null ||
	fail "a new file's torn end is not put back: $(cat "$M.log")"
ok "a file torn before its first settle is put back from its copy"

# 3. A put-back that fails (the backing file immutable, for a transient
# error) keeps the copy for the next mount.
$E "$M/keep" 0 wA:200 f
cp "$C/keep" "$T/old"
$E "$M/keep" "${MPID[$M]}" wC:4 s k
killed
tear keep
chattr +i "$C/keep" || fail "no chattr +i here"
mnt
stat "$M/keep" >/dev/null
grep -q "cannot be put back" "$M.log" || fail "the failed put-back not logged"
[ -n "$(ends)" ] || fail "the copy was dropped although it was not put back"
unmount_vol "$M"
chattr -i "$C/keep"
mnt
grep -q AAAA "$M/keep" 2>/dev/null ||
	fail "fsync'd record lost after a failed put-back: $(cat "$M.log")"
ok "a copy that could not be put back is kept, and used at the next mount"

# 4. A FIFO in place of an entry: ignored with a log line, not waited on.
$E "$M/fifo" 0 wA:4 f
$E "$M/fifo" "${MPID[$M]}" wC:4 s k
killed
e=$(ends)
[ -n "$e" ] || fail "no entry left by the kill"
rm -f "$ST"/*/ends/"$e"
mkfifo "$(echo "$ST"/*/ends)/$e"
mnt
if ! timeout -s KILL 5 stat "$M/fifo" >/dev/null; then
	kill -9 "${MPID[$M]}"
	killed
	fail "the lookup hangs on a FIFO in ends/"
fi
grep -q "not a regular file" "$M.log" || fail "the FIFO not logged: $(cat "$M.log")"
grep -q AAAA "$M/fifo" || fail "the file does not read after the FIFO"
ok "a FIFO in ends/ is ignored with a log line"

# 5. A hard link planted under a file's entry name: the daemon writes its
# copy to a file of its own, never through the link.
$E "$M/link" 0 wA:200 f
$E "$M/link" "${MPID[$M]}" wB:1 s k
killed
e=$(ends)
mnt
echo victim >"$T/victim"
$E "$M/link" 0 "l:$T/victim:$(echo "$ST"/*/ends)/$e" wC:4 f ||
	fail "cannot plant a link"
[ "$(cat "$T/victim")" = victim ] || fail "the daemon wrote through a link in ends/"
grep -q CCCC "$M/link" || fail "the append after the planted link is lost"
ok "a hard link in ends/ is not written through"

unmount_vol "$M"
[ -z "$(ends)" ] || fail "entries left after a clean unmount: $(ends)"
ok "no entry left after a clean unmount"
