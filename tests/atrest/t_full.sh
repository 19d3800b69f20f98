#!/usr/bin/env bash
# A full backing file system, as logs and crash dumps meet it: a journal
# written record by record with fsync until the disk is full, a dump bigger
# than the disk written in one go, a write into the holes of a sparse file
# and a truncate into one.  Each must fail with ENOSPC, not EIO; the daemon
# must not report tampering; every file must read back whole after a
# remount, holding exactly what was fsynced (the journal) or what was
# written, zeros where a write failed (the dump); and once space is freed,
# the same journal must take appends again.  With -o writethrough the
# error comes from write(2) itself.  The dump is written back in 1 MiB
# requests that need not arrive in order, so a range whose write failed
# can lie before one that fitted: it reads as zeros (a hole), as it would
# on any Linux file system after a failed writeback; never as an error,
# and never as bytes that were not written.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/common.sh"

S=$WORK/small C=$WORK/small/c M=$WORK/m
mkdir -p "$S"
mount -t tmpfs -o size=4m tmpfs "$S" || fail "cannot mount a 4 MiB tmpfs"
MOUNTS+=("$S")
new_volume "$C"
mount_vol "$C" "$M"

# no_tamper_lines: a full disk is not tampering, and must not be logged so.
no_tamper_lines() {
	if grep -E "authentication|cut short|not that of any valid|damaged" "$M.log"; then
		fail "full disk reported as damage or tampering"
	fi
	return 0
}

# remount: the kernel's cached sizes and pages go; what is read next comes
# from the backing files.
remount() {
	unmount_vol "$M"
	mount_vol "$C" "$M"
}

# 1. A journal: 3000-byte records, each appended and fsynced on its own,
# after a filler that leaves room for about 150 of them.
head -c 3500k /dev/urandom >"$M/filler" && sync -f "$M/filler" || fail "filler"
rec() { printf 'record %06d ' "$1"; head -c 2986 /dev/zero | tr '\0' "$(($1 % 10))"; }
: >"$WORK/journal.ref"
n=0
while :; do
	rec $((n + 1)) >"$WORK/rec"
	out=$(dd if="$WORK/rec" of="$M/journal" oflag=append conv=notrunc,fsync \
		status=none 2>&1) || break
	cat "$WORK/rec" >>"$WORK/journal.ref"
	n=$((n + 1))
	[ $n -lt 1000 ] || fail "4 MiB tmpfs took 3 MB of journal after 3.5 MB of filler"
done
case $out in
*"No space left on device"*) ;;
*) fail "journal record $((n + 1)) on a full disk: want ENOSPC, got: $out" ;;
esac
[ $n -gt 0 ] || fail "no journal record fitted"
no_tamper_lines
ok "journal: record $((n + 1)) gets ENOSPC from fsync, after $n that fitted"

remount
cmp "$M/journal" "$WORK/journal.ref" ||
	fail "journal after the full disk is not exactly the $n fsynced records"
no_tamper_lines
ok "journal reads back whole: exactly the $n fsynced records"

# 2. Space freed: the same journal goes on.
rm -f "$M/filler"
for i in 1 2 3; do
	rec $((n + i)) >"$WORK/rec"
	dd if="$WORK/rec" of="$M/journal" oflag=append conv=notrunc,fsync \
		status=none || fail "append $i after space was freed"
	cat "$WORK/rec" >>"$WORK/journal.ref"
done
remount
cmp "$M/journal" "$WORK/journal.ref" || fail "journal after freeing space"
ok "after rm of the filler the journal takes appends again"

# 3. A dump of 8 MiB in one go, with less than 4 MiB free.
head -c 8M /dev/urandom >"$WORK/dump"
if out=$(dd if="$WORK/dump" of="$M/dump" bs=1M conv=fsync status=none 2>&1); then
	fail "an 8 MiB dump fitted in a 4 MiB tmpfs"
fi
case $out in
*"No space left on device"*) ;;
*) fail "dump on a full disk: want ENOSPC, got: $out" ;;
esac
no_tamper_lines
remount
size=$(stat -c %s "$M/dump") || fail "stat dump"
[ "$size" -gt 0 ] && [ "$size" -le $((8 << 20)) ] || fail "dump holds $size bytes"
cat "$M/dump" "$M/journal" >/dev/null || fail "reading back after the full disk"
# cmp -l: offset, then the mount's byte and the dump's, for each that differs.
cmp -l -n "$size" "$M/dump" "$WORK/dump" >"$WORK/dump.diff"
awk -v size="$size" '$2 != 0 { bad++ } END { exit bad > 0 || NR >= size }' \
	"$WORK/dump.diff" || fail "dump holds bytes that were never written, or none"
cmp "$M/journal" "$WORK/journal.ref" || fail "journal changed by the dump"
no_tamper_lines
ok "dump: ENOSPC; its $size bytes read back as the dump's, holes as zeros"

# 4. A write into the holes of a sparse file, with less room than it
# needs: in-place, but the holes need space.  It must not leave a torn
# extent inside the file.
rm -f "$M/dump"
head -c 3300k /dev/urandom >"$M/filler" && sync -f "$M/filler" || fail "filler"
truncate -s 3M "$M/sparse" || fail "truncate up"
head -c 2M /dev/urandom >"$WORK/mid"
if out=$(dd if="$WORK/mid" of="$M/sparse" bs=1M seek=1 conv=notrunc,fsync \
	status=none 2>&1); then
	fail "2 MiB went into the holes of a sparse file on a full disk"
fi
case $out in
*"No space left on device"*) ;;
*) fail "write into holes on a full disk: want ENOSPC, got: $out" ;;
esac
remount
[ "$(stat -c %s "$M/sparse")" = $((3 << 20)) ] || fail "sparse file changed size"
tail -c +$(((1 << 20) + 1)) "$M/sparse" >"$WORK/sparse.mid" || fail "reading the holes back"
cmp -l "$WORK/sparse.mid" "$WORK/mid" >"$WORK/mid.diff"
awk '$2 != 0 { bad++ } END { exit bad > 0 }' "$WORK/mid.diff" ||
	fail "holes hold bytes that were never written"
no_tamper_lines
ok "write into holes on a full disk: ENOSPC, the file reads back whole"

# 5. Truncating a sparse file down into a hole re-seals the new last
# extent there, which needs two pages (its 4124 bytes straddle a page
# boundary).  With exactly one page free, truncate must fail with ENOSPC
# and change nothing, not write half the extent.
echo small >"$M/onepage" && sync -f "$M/onepage" || fail "one-page file"
dd if=/dev/zero of="$M/filler2" bs=4k count=2000 oflag=sync status=none 2>/dev/null &&
	fail "filler2 did not fill the disk"
# free_pages: what the tmpfs has left, in pages; each pad file takes one.
free_pages() { df --output=avail -B4096 "$S" | tail -1 | tr -d ' '; }
i=0
while [ "$(free_pages)" -gt 0 ]; do
	i=$((i + 1))
	[ $i -le 8 ] || fail "cannot fill the last pages of the tmpfs"
	echo pad >"$M/pad$i" && sync -f "$M/pad$i" || fail "pad file $i"
done
rm -f "$M/onepage"
# Its page is freed when the daemon closes its last fd on it (FORGET).
for i in $(seq 50); do
	[ "$(free_pages)" = 0 ] || break
	sleep 0.1
done
[ "$(free_pages)" = 1 ] || fail "want one free page, have $(free_pages)"
out=$(truncate -s 1500k "$M/sparse" 2>&1) && fail "truncate needed two pages and had one"
case $out in
*"No space left on device"*) ;;
*) fail "truncate into a hole on a full disk: want ENOSPC, got: $out" ;;
esac
remount
[ "$(stat -c %s "$M/sparse")" = $((3 << 20)) ] || fail "sparse file changed size"
cat "$M/sparse" >/dev/null || fail "reading the sparse file after truncate"
no_tamper_lines
ok "truncate into a hole with one page free: ENOSPC, the file reads back unchanged"

# 6. With -o writethrough the write itself fails on a full disk, so even a
# program that never checks close(2) sees it: bash's printf builtin with >>
# (under the writeback cache it exits 0 here).
unmount_vol "$M"
mount_with "$C" "$M" -o writethrough --keyfile "$C.key"
echo pad >"$M/padlast" || fail "pad file for the last page"
[ "$(free_pages)" = 0 ] || fail "want a full disk, have $(free_pages) pages free"
head -c 48k /dev/urandom | base64 -w0 >"$WORK/big"
data=$(cat "$WORK/big")
out=$( (printf '%s' "$data" >>"$M/journal") 2>&1) &&
	fail "an append to a full disk succeeded"
case $out in
*"No space left on device"*) ;;
*) fail "append under writethrough on a full disk: want ENOSPC from write, got: $out" ;;
esac
remount
# printf may have had a short write first (what fitted): that part, and
# no more, may follow the journal.
ref=$(stat -c %s "$WORK/journal.ref") got=$(stat -c %s "$M/journal")
[ "$got" -ge "$ref" ] && [ "$got" -lt $((ref + 65536)) ] ||
	fail "journal is $got bytes after a failed append to $ref"
cmp -n "$ref" "$M/journal" "$WORK/journal.ref" || fail "journal changed by the failed append"
[ "$got" = "$ref" ] || cmp -i "$ref:0" -n $((got - ref)) "$M/journal" "$WORK/big" ||
	fail "journal holds bytes after the failed append that were not written"
no_tamper_lines
ok "-o writethrough: write(2) itself fails with ENOSPC; the journal keeps $((got - ref)) bytes of a short write"

unmount_vol "$M"
