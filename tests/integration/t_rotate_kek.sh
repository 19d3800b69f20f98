#!/usr/bin/env bash
# atrestfs rotate-kek, offline: a volume of 2,000 files (plus xattrs,
# symlinks and a 1 GiB sparse-but-written file) gets a new volume key.
# The rotation is killed with SIGKILL at seeded random points (counted in
# dek_rewrap lines of the audit log, so the points do not depend on the
# machine's speed); after each kill the volume mounts and reads back
# byte-exact, and running the command again resumes.  At the end every
# header names the new KEK, the 1 GiB file's backing data and mtime are
# unchanged, and the old atrestfs.conf with the old root key opens
# nothing: reading a file, an xattr or a link fails with EIO.
# SEED=N reproduces a run.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rotate_lib.sh"

SEED=${SEED:-$RANDOM}
RANDOM=$SEED
echo "t_rotate_kek: SEED=$SEED"
C=$WORK/c M=$WORK/m ST=$WORK/st AUD=$WORK/audit.log SRC=$WORK/src
K=(--keyfile "$C.key" --state-dir "$ST")
new_volume "$C" --state-dir "$ST" --audit-file "$AUD"

# 2,000 files of random sizes (some empty, some whole extents) in 4 dirs.
make_tree "$SRC"
mount_with "$C" "$M" "${K[@]}"
cp -r "$SRC/." "$M/" || fail "copy 2,000 files in"
setfattr -n user.colour -v blue "$M/d0/f1" || fail "setfattr on a file"
setfattr -n user.where -v here "$M/d1" || fail "setfattr on a directory"
ln -s ../d0/f1 "$M/d2/link" || fail "symlink"
# 1 GiB: data at both ends, a hole between (backing file sparse).
head -c 65536 /dev/urandom >"$WORK/head"
cat "$WORK/head" >"$M/big" || fail "write big"
truncate -s 1G "$M/big" || fail "truncate big"
printf 'the end' | dd of="$M/big" bs=1 seek=$((1024 * 1024 * 1024 - 7)) \
	conv=notrunc status=none || fail "write the end of big"
unmount_vol "$M"
cp "$C/atrestfs.conf" "$WORK/old.conf"
big_sum=$(cksum <"$C/big")
big_mtime=$(stat -c %Y.%y "$C/big")
big_hdr=$(getfattr --absolute-names --only-values -n user.atrestfs.hdr "$C/big" | od -An -tx1)
old_kek=$(kek_of "$C")

# check_tree: mount, every file byte-exact, the xattrs and the link, unmount.
check_tree() {
	mount_with "$C" "$M" "${K[@]}"
	diff -r "$SRC" "$M" -x big -x link >"$WORK/diff" 2>&1 ||
		fail "$1: files differ: $(head -5 "$WORK/diff")"
	[ "$(getfattr --absolute-names --only-values -n user.colour "$M/d0/f1")" = blue ] ||
		fail "$1: file xattr"
	[ "$(getfattr --absolute-names --only-values -n user.where "$M/d1")" = here ] ||
		fail "$1: directory xattr"
	[ "$(readlink "$M/d2/link")" = ../d0/f1 ] || fail "$1: symlink"
	cmp -n 65536 "$WORK/head" "$M/big" || fail "$1: head of big"
	[ "$(tail -c 7 "$M/big")" = "the end" ] || fail "$1: end of big"
	unmount_vol "$M"
}

# The backing directory of a mounted volume is refused (the mount point
# is the way in: t_rotate_online.sh).
mount_with "$C" "$M" "${K[@]}"
expect 5 "is mounted at $M: give the mount point" "$ATR" rotate-kek "${K[@]}" "$C"
unmount_vol "$M"
grep -q kek_retiring "$C/atrestfs.conf" && fail "a refused rotation began"
ok "rotate-kek refuses the backing directory of a mounted volume"

# A mount waits while a command holds the volume's lock, as rotate-kek
# does for its whole run, instead of racing with its header rewrites.
exec 9<"$C"
flock -x 9 || fail "flock"
mkdir -p "$M"
setsid "$ATR" mount -f "${K[@]}" "$C" "$M" 2>"$WORK/wait.log" </dev/null &
mpid=$!
for i in $(seq 300); do
	grep -q "waiting for another atrestfs command" "$WORK/wait.log" && break
	sleep 0.1
done
grep -q "waiting for another atrestfs command" "$WORK/wait.log" ||
	fail "mount did not wait for the lock: $(cat "$WORK/wait.log")"
is_mounted "$M" && fail "mounted while the lock was held"
flock -u 9
exec 9<&-
PIDS+=($mpid)
MPID[$M]=$mpid
MOUNTS+=("$M")
for i in $(seq 150); do is_mounted "$M" && break; sleep 0.1; done
is_mounted "$M" || fail "mount after the lock was released: $(cat "$WORK/wait.log")"
unmount_vol "$M"
ok "mount waits for a command holding the volume lock"

# Kill at random points, check, resume.
kills=0 mid=0
for round in 1 2 3; do
	before=$(grep -c '"event":"dek_rewrap"' "$AUD")
	at=$((before + RANDOM % 300))
	setsid "$ATR" rotate-kek -q "${K[@]}" "$C" </dev/null 2>"$WORK/rot.err" &
	pid=$!
	while kill -0 $pid 2>/dev/null &&
		[ "$(grep -c '"event":"dek_rewrap"' "$AUD")" -lt "$at" ]; do
		sleep 0.01
	done
	kill -9 $pid 2>/dev/null && kills=$((kills + 1))
	wait $pid 2>/dev/null
	echo "round $round: killed after $(($(grep -c '"event":"dek_rewrap"' "$AUD") - before)) rewraps"
	grep -q kek_retiring "$C/atrestfs.conf" && mid=$((mid + 1))
	check_tree "after kill $round"
done
# A kill between making a re-sealed link and renaming it over the old
# one leaves it in the root, as a run above may have: never in the mount.
ln -sfn "atrestfs1:x" "$C/atrestfs.conf.rotate-link"
check_tree "with a re-sealed link a kill left"
rm -f "$C/atrestfs.conf.rotate-link"
[ $mid -ge 1 ] || fail "no rotation was killed mid-way ($kills kills)"
ok "$mid rotations killed mid-way: the volume mounts, every file reads back"
if grep -q kek_retiring "$C/atrestfs.conf"; then
	"$ATR" fsck -q "${K[@]}" "$C" >"$WORK/fsck.out" 2>&1 ||
		fail "fsck of a volume mid-rotation: $(head -5 "$WORK/fsck.out")"
	ok "fsck finds nothing wrong with a volume mid-rotation"
fi

under_way=$(grep -c kek_retiring "$C/atrestfs.conf")
"$ATR" rotate-kek "${K[@]}" "$C" 2>"$WORK/rot.err" >"$WORK/rot.out" ||
	fail "resume: $(cat "$WORK/rot.err")"
[ "$under_way" = 0 ] || grep -q "Resuming the rotation" "$WORK/rot.out" ||
	fail "resume not said: $(cat "$WORK/rot.out")"
grep -q "rewrapping: 100%" "$WORK/rot.err" || fail "no progress line: $(cat "$WORK/rot.err")"
grep -q kek_retiring "$C/atrestfs.conf" && fail "old KEK still in the config"
new_kek=$(kek_of "$C")
[ "$new_kek" != "$old_kek" ] || fail "the KEK ID did not change"
check_tree "after the rotation"
"$ATR" fsck -q "${K[@]}" "$C" >"$WORK/fsck.out" 2>&1 ||
	fail "fsck after the rotation: $(head -5 "$WORK/fsck.out")"
ok "resumed and finished; every file reads back byte-exact; fsck is clean"

# Every header names the new KEK (bytes 32..47 of user.atrestfs.hdr).
headers_name "$C" "$new_kek" 2001
grep -q '"event":"kek_destroy".*"key_id":"'"$old_kek"'"' "$AUD" ||
	fail "no kek_destroy audit line for the old KEK"
grep -q '"event":"kek_create".*"key_id":"'"$new_kek"'"' "$AUD" ||
	fail "no kek_create audit line for the new KEK"
ok "all 2,001 headers name the new KEK; creation and destruction audited"

[ "$(cksum <"$C/big")" = "$big_sum" ] || fail "big's backing data changed"
[ "$(stat -c %Y.%y "$C/big")" = "$big_mtime" ] || fail "big's mtime changed"
[ "$(getfattr --absolute-names --only-values -n user.atrestfs.hdr "$C/big" | od -An -tx1)" != "$big_hdr" ] ||
	fail "big's header did not change"
ok "1 GiB file: only its header changed (data and mtime as they were)"

# A backup's config with the old root key: it still unlocks, but opens
# nothing rewrapped since (a fresh state directory: another machine).
cp "$C/atrestfs.conf" "$WORK/new.conf"
cp "$WORK/old.conf" "$C/atrestfs.conf"
mount_with "$C" "$M" --keyfile "$C.key" --state-dir "$WORK/st2"
expect_eio cat "$M/d0/f1"
expect_eio cat "$M/d3/f499"
expect_eio cat "$M/big"
expect_eio getfattr -n user.where "$M/d1"
expect_eio readlink -v "$M/d2/link"
unmount_vol "$M"
# On this machine the old config is refused outright: the state records
# are MACed with a key of the new KEK, and the message says why.
expect 4 "is an old one, from before a rotation of the volume key" \
	"$ATR" mount "${K[@]}" "$C" "$M"
cp "$WORK/new.conf" "$C/atrestfs.conf"
ok "the old config and root key open nothing: EIO; here the mount is refused"

# Nothing left to do: a second run is a new rotation, which also works.
"$ATR" rotate-kek -q "${K[@]}" "$C" || fail "second rotation"
check_tree "after a second rotation"
ok "a second rotation"

# The committed format-1 volume (a config from before generations, an
# empty file without a header, a hard link, a sparse file, a symlink and
# an xattr) rotates and reads back exactly.
F=$TOP/tests/fixtures V=$WORK/v1
mkdir -p "$V"
tar --xattrs --xattrs-include='user.*' -C "$V" -xf "$F/v1-volume.tar" || fail "untar fixture"
install -m 600 "$F/v1-volume.key" "$V.key"
"$ATR" rotate-kek -q --keyfile "$V.key" --state-dir "$WORK/st3" "$V" 2>"$WORK/v1.err" ||
	fail "rotate the v1 fixture: $(cat "$WORK/v1.err")"
grep -q "^format_version = 1;" "$V/atrestfs.conf" || fail "fixture format version changed"
mount_with "$V" "$M" --keyfile "$V.key" --state-dir "$WORK/st3"
(cd "$M" && sha256sum --quiet -c "$F/v1-volume.sha256") || fail "fixture contents after rotation"
[ "$(readlink "$M/link")" = small.txt ] || fail "fixture symlink after rotation"
[ "$(getfattr --absolute-names --only-values -n user.comment "$M/dir/nested.txt")" = fixture ] ||
	fail "fixture xattr after rotation"
[ "$(stat -c %h "$M/boundary")" = 2 ] || fail "fixture hard link after rotation"
unmount_vol "$M"
ok "the format-1 fixture rotates and reads back exactly"

# Power loss: the commit that drops kek_retiring must come after every
# rewrapped header is on disk, or a crash may keep the config without the
# old KEK and headers still naming it.  The config's own fsync does not
# promise that for other files (btrfs logs only the inode synced): the
# command syncs the file system between its last header and that commit.
P=$WORK/p
new_volume "$P" --state-dir "$WORK/st4"
mount_with "$P" "$M" --keyfile "$P.key" --state-dir "$WORK/st4"
printf 'one\n' >"$M/one" && printf 'two\n' >"$M/two" || fail "files for the sync check"
unmount_vol "$M"
strace -f -o "$WORK/rot.trace" -e trace=fsetxattr,syncfs,sync,rename,renameat,renameat2 \
	"$ATR" rotate-kek -q --keyfile "$P.key" --state-dir "$WORK/st4" "$P" 2>"$WORK/p.err" ||
	fail "rotate for the sync check: $(cat "$WORK/p.err")"
last_hdr=$(grep -n 'fsetxattr(.*"user.atrestfs.hdr"' "$WORK/rot.trace" | tail -1 | cut -d: -f1)
last_conf=$(grep -n 'rename.*"atrestfs.conf.tmp".*"atrestfs.conf"' "$WORK/rot.trace" | tail -1 | cut -d: -f1)
[ -n "$last_hdr" ] && [ -n "$last_conf" ] || fail "sync check: no header rewrap or commit traced"
awk -v a="$last_hdr" -v b="$last_conf" 'NR > a && NR < b && /syncfs\(|sync\(\)/ { f = 1 } END { exit !f }' \
	"$WORK/rot.trace" || fail "no sync between the last header rewrap and the final commit"
ok "the final commit follows a sync of the rewrapped headers"
