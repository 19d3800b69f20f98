#!/usr/bin/env bash
# Backing up a volume.  A copy made without xattrs (tar cf) lost every
# file's key: mount must say so on the terminal, fsck must report it, and
# "atrestfs header restore" from a header backup must make it readable
# again.  tar --xattrs --xattrs-include='user.*', rsync -aX and cp -a
# each make a readable copy.  Restore authenticates what it puts back,
# refuses to replace a header or to fit one on another file, and never
# follows a symlink of the backing directory.
. "$(dirname "$0")/lib.sh"

C=$WORK/c M=$WORK/m

# sums MNT [data]: a checksum of every file's content, symlink targets
# and (unless "data") user xattrs
sums() {
	(cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum &&
	 find . -type l -printf '%p -> %l\n' | sort &&
	 if [ "${2:-}" != data ]; then
		getfattr -h -R -d -m '^user\.' --absolute-names . 2>/dev/null | sort
	 fi)
}

# readable COPY WHAT [data]: mounted with the volume's key, COPY reads as
# the original (its data only, with "data"), and mount had nothing to
# say about headers
readable() {
	mount_with "$1" "$M" --keyfile "$C.key"
	sums "$M" "${3:-}" >"$WORK/sums.copy" || fail "$2: cannot read the copy"
	unmount_vol "$M"
	diff -u "$WORK/sums.orig${3:+.$3}" "$WORK/sums.copy" || fail "$2: copy differs"
	grep -q "no header" "$M.log" && fail "$2: mount warned: $(cat "$M.log")"
	return 0
}

new_volume "$C"
mount_vol "$C" "$M"
mkdir -p "$M/dir/sub"
head -c 100000 /dev/urandom >"$M/dir/sub/data"
head -c 5000 /dev/urandom >"$M/with space"
echo small >"$M/small"
: >"$M/empty"
truncate -s 1M "$M/sparse"
echo tail >>"$M/sparse"
ln -s small "$M/link"
setfattr -n user.note -v "a value" "$M/small" || fail setfattr
sums "$M" >"$WORK/sums.orig"
sums "$M" data >"$WORK/sums.orig.data"
unmount_vol "$M"

"$ATR" header backup "$C" "$WORK/headers" >"$WORK/out" || fail "header backup"
grep -q "Saved the headers of 5 files" "$WORK/out" || fail "backup said: $(cat "$WORK/out")"
[ "$(stat -c %a "$WORK/headers")" = 600 ] || fail "backup mode"
expect 1 "already exists" "$ATR" header backup "$C" "$WORK/headers"
expect 2 "must not be inside the volume" "$ATR" header backup "$C" "$C/headers"
[ -e "$C/headers" ] && fail "backup written inside the volume"
ok "header backup: 5 files, mode 0600, never overwritten, never inside"

# tar cf without --xattrs: sizes right, every read EIO, and now said.
R=$WORK/r
mkdir "$R"
tar cf "$WORK/plain.tar" -C "$C" . && tar xf "$WORK/plain.tar" -C "$R" || fail tar
getfattr -n user.atrestfs.hdr "$R/small" >/dev/null 2>&1 && fail "tar kept xattrs?"
mount_with "$R" "$M" --keyfile "$C.key"
grep -q "have no header (xattr user.atrestfs.hdr)" "$M.log" ||
	fail "mount did not say the headers are missing: $(cat "$M.log")"
grep -q "atrestfs header restore $R" "$M.log" || fail "mount did not name header restore"
[ "$(stat -c %s "$M/dir/sub/data")" = 100000 ] || fail "size of a headerless file"
expect_eio cat "$M/small"
unmount_vol "$M"
ok "tar without xattrs: mount says so on stderr"

out=$("$ATR" fsck -k "$C.key" "$R" 2>"$WORK/fsck.err")
[ $? = 6 ] || fail "fsck of the tar copy did not exit 6: $out"
for f in "dir/sub/data" "with space" small sparse; do
	grep -qF "$R/$f: no header (xattr user.atrestfs.hdr): its key is lost" <<<"$out" ||
		fail "fsck did not report $f: $out"
done
grep -q "4 non-empty files have no header" "$WORK/fsck.err" ||
	fail "fsck summary: $(cat "$WORK/fsck.err")"
ok "tar without xattrs: fsck reports each file"

# The symlink check comes first, on a second copy: "dir" replaced by a
# symlink to a directory outside, where restore must write nothing.
S=$WORK/s
cp -a "$R" "$S"
mkdir -p "$WORK/outside"
mv "$S/dir" "$WORK/outside/dir"
ln -s "$WORK/outside/dir" "$S/dir"
out=$("$ATR" header restore -k "$C.key" "$S" "$WORK/headers" 2>&1)
[ $? = 6 ] || fail "restore through a symlink did not exit 6: $out"
grep -q "dir/sub/data: not restored: a symbolic link is in its path" <<<"$out" ||
	fail "restore did not refuse the symlink: $out"
getfattr -n user.atrestfs.hdr "$WORK/outside/dir/sub/data" >/dev/null 2>&1 &&
	fail "restore followed a symlink of the backing directory"
ok "header restore never follows a symlink"

# A disk brought by whoever wrote it can carry device nodes, and opening
# one can act (a watchdog starts, a tape rewinds): restore and rekey
# refuse one in place of a file without opening it (strace shows every
# open; only an O_PATH look is allowed).
command -v strace >/dev/null || fail "strace is needed for this test"
# LeakSanitizer cannot run under ptrace (the ASan build of tests/run.sh).
traced() {
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		strace -f -qq -e trace=open,openat -o "$WORK/strace" "$@"
}
V=$WORK/v
cp -a "$R" "$V"
rm "$V/small"
mknod "$V/small" c 1 3 || fail "mknod"
out=$(traced "$ATR" header restore -k "$C.key" "$V" "$WORK/headers" 2>&1)
[ $? = 6 ] || fail "restore with a device node in place did not exit 6: $out"
grep -q "small: not restored: a device node or socket" <<<"$out" ||
	fail "restore did not refuse the device node: $out"
grep -q '"small"' "$WORK/strace" || fail "strace saw no look at small: $(cat "$WORK/strace")"
grep '"small"' "$WORK/strace" | grep -qv O_PATH &&
	fail "restore opened a device node: $(grep '"small"' "$WORK/strace")"
out=$(traced "$ATR" rekey -k "$C.key" "$V" small 2>&1 </dev/null)
[ $? != 0 ] || fail "rekey of a device node succeeded"
grep -q "small: a device node or socket" <<<"$out" || fail "rekey did not refuse the device node: $out"
grep '"small"' "$WORK/strace" | grep -qv O_PATH &&
	fail "rekey opened a device node: $(grep '"small"' "$WORK/strace")"
ok "header restore and rekey never open a device node"

out=$("$ATR" header restore -k "$C.key" "$R" "$WORK/headers") ||
	fail "header restore exited $?: $out"
grep -q "Restored the headers of 5 files" <<<"$out" || fail "restore said: $out"
# The directory IDs went with the xattrs, and the symlink bound to its
# place with them (design.md "Copies that lose the xattrs"): fsck names
# it, and it is made again.
out=$("$ATR" fsck -q -k "$C.key" "$R")
[ $? = 6 ] && grep -q "link: its directory has no ID" <<<"$out" &&
	[ "$(wc -l <<<"$out")" = 1 ] || fail "fsck after restore: $out"
rm "$R/link"
mount_with "$R" "$M" --keyfile "$C.key"
ln -s small "$M/link" || fail "make the link again"
unmount_vol "$M"
out=$("$ATR" fsck -q -k "$C.key" "$R") || fail "fsck after restore: $out"
# The users' own xattrs went with tar too, as on any file system: a
# header backup holds what atrestfs adds, not them.
readable "$R" "tar + header restore" data
out=$("$ATR" header restore -k "$C.key" "$R" "$WORK/headers") ||
	fail "second restore exited $?"
grep -q "0 files of $R; 5 already had them" <<<"$out" || fail "second restore: $out"
ok "header restore: readable again, same content, idempotent"

# Restore refuses what it cannot vouch for.
mount_with "$R" "$M" --keyfile "$C.key"
rm "$M/small"
echo "new small" >"$M/small"
unmount_vol "$M"
expect 6 "small: not restored: it has another header; --force" \
	"$ATR" header restore -k "$C.key" "$R" "$WORK/headers"
expect 6 "small: not restored: the file changed since the backup" \
	"$ATR" header restore --force -k "$C.key" "$R" "$WORK/headers"
mount_with "$R" "$M" --keyfile "$C.key"
[ "$(cat "$M/small")" = "new small" ] || fail "restore replaced a newer header"
# Not under a running daemon, which holds the keys of open files.
expect 5 "is mounted at $M: unmount it first" \
	"$ATR" header restore --force -k "$C.key" "$R" "$WORK/headers"
unmount_vol "$M"
# A damaged header is put back from the backup only with --force.
hdr=$(xattr_hex "$R/with space" user.atrestfs.hdr)
setfattr -n user.atrestfs.hdr \
	-v "0x${hdr:0:100}$(printf %02x $((0x${hdr:100:2} ^ 1)))${hdr:102}" "$R/with space"
"$ATR" fsck -q -k "$C.key" "$R" >"$WORK/out" && fail "fsck missed the damaged header"
grep -q "with space: its header does not authenticate" "$WORK/out" || fail "fsck: $(cat "$WORK/out")"
out=$("$ATR" header restore --force -k "$C.key" "$R" "$WORK/headers" 2>&1)
[ $? = 6 ] || fail "restore --force exited $?, want 6 (small is newer): $out"
grep -q "Restored the headers of 1 files" <<<"$out" || fail "restore --force: $out"
out=$("$ATR" fsck -q -k "$C.key" "$R") || fail "fsck after restore --force: $out"
O=$WORK/o
new_volume "$O"
expect 4 "another volume" "$ATR" header restore -k "$O.key" "$O" "$WORK/headers"
printf 'not a backup\n' >"$WORK/junk"
expect 2 "not an atrestfs header backup" \
	"$ATR" header restore -k "$C.key" "$R" "$WORK/junk"
# A header of another file of the volume put on this one: refused.
X=$WORK/x
mkdir "$X"
tar xf "$WORK/plain.tar" -C "$X"
sed -i 's/ small$/ XX/; s/ empty$/ small/; s/ XX$/ empty/' "$WORK/headers"
out=$("$ATR" header restore -k "$C.key" "$X" "$WORK/headers" 2>&1)
[ $? = 6 ] || fail "swapped headers did not exit 6: $out"
grep -q "small: not restored: .*its last extent does not open" <<<"$out" ||
	fail "header of another file fitted: $out"
grep -q "empty: not restored: the file is empty, and the header" <<<"$out" ||
	fail "header of a file with data fitted on an empty one: $out"
getfattr -n user.atrestfs.hdr "$X/small" >/dev/null 2>&1 && fail "wrong header put back"
getfattr -n user.atrestfs.hdr "$X/empty" >/dev/null 2>&1 && fail "wrong header put back on empty"
ok "header restore refuses other headers, other volumes, other files"

# Copies that keep the xattrs are readable as they are.
T=$WORK/tarx
mkdir "$T"
tar --xattrs --xattrs-include='user.*' -cf "$WORK/x.tar" -C "$C" . &&
	tar --xattrs --xattrs-include='user.*' -xf "$WORK/x.tar" -C "$T" || fail "tar --xattrs"
readable "$T" "tar --xattrs --xattrs-include='user.*'"
cp -a "$C" "$WORK/cpa" || fail "cp -a"
readable "$WORK/cpa" "cp -a"
ok "tar --xattrs, cp -a: readable copies"
command -v rsync >/dev/null || { echo "rsync is missing (make deps)"; exit 77; }
rsync -aX "$C/" "$WORK/rsync/" || fail "rsync -aX"
readable "$WORK/rsync" "rsync -aX"
ok "rsync -aX: readable copy"
