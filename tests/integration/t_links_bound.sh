#!/usr/bin/env bash
# On a bound volume (init's default) a symlink's target is sealed for its
# place, its directory's ID and its name: a backing target copied onto
# another link is EIO with one log line naming the link, and fsck finds
# it.  Renames, RENAME_EXCHANGE and RENAME_NOREPLACE, across directories,
# re-seal the links they move, which read right through the mount and
# after a remount; link(2) of a symlink makes a copy sealed for its own
# name; a crash inside a rename leaves what fsck lists.  xattr values:
# deleting or replacing a file's value ID does not let a value of the
# older, unbound form be read.
. "$(dirname "$0")/lib.sh"

LONG=$(head -c 4095 /dev/zero | tr '\0' L)
LONG2=$(head -c 3500 /dev/zero | tr '\0' M)

# rn FLAGS OLD NEW: renameat2(2), FLAGS 0, noreplace or exchange
rn() {
	python3 - "$@" <<'EOF'
import ctypes, os, sys
flags = {"0": 0, "noreplace": 1, "exchange": 2}[sys.argv[1]]
libc = ctypes.CDLL(None, use_errno=True)
if libc.renameat2(-100, os.fsencode(sys.argv[2]), -100,
                  os.fsencode(sys.argv[3]), flags):
    e = ctypes.get_errno()
    sys.exit(os.strerror(e))
EOF
}

fsck_clean() {
	"$ATR" fsck -k "$1.key" "$1" >"$WORK/fsck.out" 2>&1 </dev/null ||
		fail "fsck $2: $(cat "$WORK/fsck.out")"
}

# --- a target copied onto another link (plain names: tamper by name) ---
C=$WORK/c M=$WORK/m
new_volume "$C"
mount_vol "$C" "$M"
mkdir "$M/d" "$M/e" || fail "mkdir"
ln -s /target/one "$M/d/a" && ln -s /target/two "$M/d/b" &&
	ln -s "$LONG" "$M/d/l1" && ln -s "$LONG2" "$M/d/l2" ||
	fail "make links"
unmount_vol "$M"
grep -q '^bound = true;' "$C/atrestfs.conf" || fail "init did not bind"
ln -sfn "$(readlink "$C/d/a")" "$C/d/b" || fail "copy a short target"
ln -sfn "$(readlink "$C/d/l1")" "$C/d/l2" || fail "copy a long target"
ln "$C/d/a" "$C/e/x" || fail "backing hard link"
mount_vol "$C" "$M"
[ "$(readlink "$M/d/a")" = /target/one ] || fail "d/a"
[ "$(readlink "$M/d/l1")" = "$LONG" ] || fail "d/l1"
expect_eio readlink -v "$M/d/b"
expect_eio readlink -v "$M/d/l2"
expect_eio readlink -v "$M/e/x"
[ "$(grep -c "d/b: symlink target does not authenticate" "$M.log")" = 1 ] ||
	fail "not one log line naming d/b: $(cat "$M.log")"
grep -q "d/l2: symlink target does not authenticate" "$M.log" ||
	fail "no log line naming d/l2: $(cat "$M.log")"
unmount_vol "$M"
"$ATR" fsck -k "$C.key" "$C" >"$WORK/fsck.out" 2>&1 </dev/null
[ $? = 6 ] || fail "fsck of copied targets: $(cat "$WORK/fsck.out")"
for l in d/b d/l2; do
	grep -q "$l: symbolic link target does not authenticate" \
		"$WORK/fsck.out" || fail "fsck misses $l: $(cat "$WORK/fsck.out")"
done
ok "a target copied onto another link (short, long, hard link) is EIO, logged once, found by fsck"

# --- renames across directories, both kinds of names ---
for names in plain encrypted; do
	C=$WORK/c-$names M=$WORK/m-$names
	new_volume "$C" --names "$names"
	mount_vol "$C" "$M"
	mkdir "$M/d" "$M/e" "$M/f" || fail "mkdir"
	ln -s /s1 "$M/d/s1" && ln -s "$LONG" "$M/d/l" && ln -s /s2 "$M/e/s2" &&
		ln -s /s3 "$M/e/s3" && echo data >"$M/e/file" || fail "make"
	rn 0 "$M/d/s1" "$M/e/moved" || fail "rename across"
	rn 0 "$M/d/l" "$M/e/lmoved" || fail "rename long across"
	rn exchange "$M/e/moved" "$M/d/newer" 2>/dev/null &&
		fail "exchange with a missing name"
	rn exchange "$M/e/lmoved" "$M/f" || fail "exchange link and directory"
	ln -s /s4 "$M/d/s4" || fail "make s4"
	rn exchange "$M/d/s4" "$M/e/s3" || fail "exchange two links"
	out=$(rn noreplace "$M/e/moved" "$M/d/s4" 2>&1) && fail "noreplace over a link"
	[ "$out" = "File exists" ] || fail "noreplace: $out"
	rn noreplace "$M/e/moved" "$M/d/nr" || fail "noreplace across"
	rn 0 "$M/e/s2" "$M/d/s4" || fail "rename over a link"
	ln "$M/d/nr" "$M/e/copy" || fail "link(2) of a symlink"
	[ "$(stat -c %h "$M/e/copy")" = 1 ] || fail "a symlink's link is not a copy"
	check() {
		[ "$(readlink "$M/d/nr")" = /s1 ] &&
		[ "$(readlink "$M/e/copy")" = /s1 ] &&
		[ -d "$M/e/lmoved" ] && [ "$(readlink "$M/f")" = "$LONG" ] &&
		[ "$(readlink "$M/d/s4")" = /s2 ] &&
		[ "$(readlink "$M/e/s3")" = /s4 ] &&
		[ "$(cat "$M/e/file")" = data ] &&
		[ "$(ls "$M/d" | tr '\n' ' ')" = "nr s4 " ] &&
		[ "$(ls "$M/e" | tr '\n' ' ')" = "copy file lmoved s3 " ] ||
		fail "$names names, $1: d: $(ls -l "$M/d") e: $(ls -l "$M/e")"
	}
	check "through the mount"
	unmount_vol "$M"
	find "$C" -name '.atrestfs-link.*' | grep -q . && fail "a leftover link"
	fsck_clean "$C" "after renames ($names)"
	mount_vol "$C" "$M"
	check "after a remount"
	unmount_vol "$M"
	ok "$names names: rename, exchange and noreplace of links across directories read right, then and after a remount"
done

# A renamed link is sealed for its new name only: its backing target
# copied back to its old name does not open there.
C=$WORK/c-plain M=$WORK/m-plain
ln -s "$(readlink "$C/d/nr")" "$C/d/s1" || fail "copy back"
mount_vol "$C" "$M"
expect_eio readlink -v "$M/d/s1"
[ "$(readlink "$M/d/nr")" = /s1 ] || fail "d/nr"
unmount_vol "$M"
rm "$C/d/s1"
ok "a renamed link's target is bound to its new name"

# A crash between a rename and its re-sealed link's rename over it: the
# moved link is sealed for its old place, the new one beside it at its
# reserved name.  The mount hides the second and refuses the first; fsck
# lists both; renaming the second over the first mends it.
T=$C/d/.atrestfs-link.00112233aabbccdd
ln -s "$(readlink "$C/d/nr")" "$T" && ln -sfn "$(readlink "$C/e/copy")" "$C/d/nr" ||
	fail "make a crash's leftovers"
mount_vol "$C" "$M"
expect_eio readlink -v "$M/d/nr"
ls -a "$M/d" | grep -q atrestfs && fail "the leftover is listed"
ln -s x "$M/d/.atrestfs-link.1" 2>/dev/null && fail "a reserved name made"
unmount_vol "$M"
"$ATR" fsck -k "$C.key" "$C" >"$WORK/fsck.out" 2>&1 </dev/null
[ $? = 6 ] && grep -q "d/nr: symbolic link target does not authenticate" 	"$WORK/fsck.out" && grep -q "d/.atrestfs-link.00112233aabbccdd: a re-sealed symbolic link left by a rename" 	"$WORK/fsck.out" || fail "fsck of a crash's leftovers: $(cat "$WORK/fsck.out")"
mv "$T" "$C/d/nr" || fail "mend"
mount_vol "$C" "$M"
[ "$(readlink "$M/d/nr")" = /s1 ] || fail "d/nr after mending"
unmount_vol "$M"
fsck_clean "$C" "after mending"
ok "a rename's crash window: the moved link is EIO, the leftover hidden, fsck lists both, mv mends"

# --- xattr values of the older form on a bound volume ---
C=$WORK/c-x M=$WORK/m-x
new_volume "$C"
mount_vol "$C" "$M"
echo a >"$M/f" && setfattr -n user.colour -v good "$M/f" || fail "set f"
unmount_vol "$M"
meta=$("$TB/tool_keydump" "$C" "$C.key" | sed -n 's/^meta //p')
[ -n "$meta" ] || fail "keydump"
# The older form: nonce || AES-256-GCM(meta key, AAD 'X' || name) || tag.
old=$(python3 - "$meta" <<'EOF'
import os, sys
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
n = os.urandom(12)
ct = AESGCM(bytes.fromhex(sys.argv[1])).encrypt(n, b"planted",
                                                b"Xuser.comment")
print((n + ct).hex())
EOF
) || fail "seal an older value"
vid=$(xattr_hex "$C/f" user.atrestfs.vid)
setfattr -n user.comment -v "0x$old" "$C/f" || fail "plant"
setfattr -x user.atrestfs.vid "$C/f" || fail "delete the ID"
mount_vol "$C" "$M"
expect_eio getfattr --absolute-names --only-values -n user.comment "$M/f"
grep -q "f.*xattr user.comment does not authenticate" "$M.log" ||
	fail "no log line naming f and the xattr: $(cat "$M.log")"
unmount_vol "$M"
# The ID replaced by a pending one (a making interrupted).
setfattr -n user.atrestfs.vidnew -v "0x$vid" "$C/f" || fail "pending ID"
mount_vol "$C" "$M"
expect_eio getfattr --absolute-names --only-values -n user.comment "$M/f"
[ "$(getfattr --absolute-names --only-values -n user.colour "$M/f")" = good ] ||
	fail "f's own value under its pending ID"
unmount_vol "$M"
"$ATR" fsck -k "$C.key" "$C" >"$WORK/fsck.out" 2>&1 </dev/null
[ $? = 6 ] && grep -q "f: xattr user.comment: a value of the form before" \
	"$WORK/fsck.out" || fail "fsck: $(cat "$WORK/fsck.out")"
ok "a value of the older form does not read when the value ID is deleted or replaced"
