#!/usr/bin/env bash
# Encrypted names (atrestfs init --names encrypted, the default): every
# name up to 255 bytes, with every byte value but NUL and '/', round trips
# through a real mount and a remount; renames (across directories,
# RENAME_EXCHANGE, RENAME_NOREPLACE) and hard links keep working; no name
# shows in the backing directory; a planted or moved backing name is left
# out with a log line; a damaged directory ID is EIO.  A plain volume
# keeps its names as they are.
. "$(dirname "$0")/lib.sh"

C=$WORK/c M=$WORK/m
new_volume "$C" --names encrypted
grep -q '^names = ' "$C/atrestfs.conf" || fail "no names setting in the config"
mount_vol "$C" "$M"

# py SCRIPT ARGS...: python3 with the byte-exact helpers below
py() {
	local script=$1
	shift
	python3 - "$@" <<PYEOF
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
def rename2(a, b, flags):
    if libc.renameat2(-100, os.fsencode(a), -100, os.fsencode(b), flags):
        return ctypes.get_errno()
    return 0
# Two names cover the byte values 1..255 but '/': 126 + 128 bytes.
low = bytes(b for b in range(1, 128) if b != 0x2f)
high = bytes(range(128, 256))
$script
PYEOF
}

# Every byte value, as files, a directory and a symlink, listed exactly.
py '
m = os.fsencode(sys.argv[1])
os.mkdir(m + b"/bytes")
for n in (low, high):
    with open(m + b"/bytes/" + n, "wb") as f:
        f.write(n)
os.mkdir(m + b"/bytes/" + high[::-1])
os.symlink(low, m + b"/bytes/" + low[::-1])
want = sorted([low, high, high[::-1], low[::-1]])
got = sorted(os.listdir(m + b"/bytes"))
assert got == want, "listing differs: %r" % got
for n in (low, high):
    assert open(m + b"/bytes/" + n, "rb").read() == n, n
assert os.readlink(m + b"/bytes/" + low[::-1]) == low
' "$M" || fail "names with every byte value 1..255 but '/'"
ok "names with every byte value 1..255 but '/'"

# 255-byte names of every kind; 256 bytes is ENAMETOOLONG as elsewhere.
long=$(printf 'n%.0s' $(seq 254))
mkdir "$M/long"
for k in f d l p; do
	n="$k$long"
	case $k in
	f) printf '%s' "$n" >"$M/long/$n" ;;
	d) mkdir "$M/long/$n" && echo in >"$M/long/$n/inner" ;;
	l) ln -s target "$M/long/$n" ;;
	p) mkfifo "$M/long/$n" ;;
	esac || fail "make a 255-byte name of kind $k"
done
[ "$(ls "$M/long" | wc -l)" = 4 ] || fail "255-byte names: $(ls "$M/long")"
[ "$(cat "$M/long/f$long")" = "f$long" ] || fail "255-byte file content"
[ "$(readlink "$M/long/l$long")" = target ] || fail "255-byte symlink"
[ "$(cat "$M/long/d$long/inner")" = in ] || fail "inside a 255-byte directory"
touch "$M/long/x${long}x" 2>/dev/null && fail "a 256-byte name was made"
# The backing names fit the backing file system, whatever the length.
find "$C" -mindepth 1 -printf '%f\n' | awk 'length($0) > 255 { exit 1 }' ||
	fail "a backing name longer than 255 bytes"
ok "255-byte names of every kind"

# Renames of long names across directories, and their records follow.
mkdir "$M/other"
mv "$M/long/f$long" "$M/other/g$long" || fail "rename a long name away"
mv "$M/long/d$long" "$M/other/short" || fail "rename a long name to a short one"
mv "$M/other/short" "$M/long/d$long" || fail "rename a short name to a long one"
[ "$(cat "$M/other/g$long")" = "f$long" ] || fail "content after rename"
rm "$M/long/p$long" "$M/long/l$long" "$M/other/g$long"
rm -r "$M/long/d$long"
[ -z "$(ls -A "$M/long" "$M/other" | grep -v : | grep .)" ] ||
	fail "entries left: $(ls -A "$M/long" "$M/other")"
# Every record of a long name went with its entry.
n=$(find "$C" -name 'atrestfs.long.*' | wc -l)
[ "$n" = 0 ] || fail "$n long-name records left: $(find "$C" -name 'atrestfs.long.*')"
ok "renames and removal of long names, records cleaned up"

# Renames across directories, RENAME_EXCHANGE and RENAME_NOREPLACE, long
# and short names, and hard links across directories.
mkdir "$M/a" "$M/b"
echo one >"$M/a/one"
mid=${long:0:250}	# with "two" or "link", over 160 bytes: long form
echo two >"$M/b/two$mid"
py '
m = sys.argv[1]; L = sys.argv[2]
import errno
assert rename2(m + "/a/one", m + "/b/two" + L, 2) == 0    # RENAME_EXCHANGE
assert open(m + "/a/one").read() == "two\n"
assert open(m + "/b/two" + L).read() == "one\n"
assert rename2(m + "/a/one", m + "/b/two" + L, 1) == errno.EEXIST  # NOREPLACE
assert rename2(m + "/a/one", m + "/b/three", 1) == 0
assert sorted(os.listdir(m + "/a")) == []
assert sorted(os.listdir(m + "/b")) == sorted(["three", "two" + L])
os.link(m + "/b/three", m + "/a/link" + L)
os.link(m + "/b/three", m + "/a/short")
assert os.stat(m + "/b/three").st_nlink == 3
# A rename between two links of one file does nothing, and keeps both.
assert rename2(m + "/a/link" + L, m + "/a/short", 0) == 0
assert sorted(os.listdir(m + "/a")) == sorted(["link" + L, "short"])
' "$M" "$mid" || fail "renames across directories, exchange, noreplace, links"
ok "rename across directories, RENAME_EXCHANGE, RENAME_NOREPLACE, hard links"

# No plaintext name in the backing directory.
mark=ATRNAME$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
mkdir "$M/$mark.dir"
echo x >"$M/$mark.dir/$mark.file"
ln -s x "$M/$mark.link"
find "$C" | grep -q -F "$mark" && fail "a plaintext name in the backing directory"
find "$M" | grep -q -F "$mark.file" || fail "the scanner misses the marker"
ok "no plaintext name in the backing directory"

# The volume's own names are reserved only in the backing directory: an
# encrypted name never collides with them.
echo mine >"$M/atrestfs.conf" || fail "a user file named atrestfs.conf"
[ "$(cat "$M/atrestfs.conf")" = mine ] || fail "the user's atrestfs.conf"
grep -q '^names = ' "$C/atrestfs.conf" || fail "the volume's config was touched"
ok "atrestfs.conf is an ordinary name on a volume with encrypted names"

# User xattr names are hidden too: set, read, list, replace and remove
# through the mount, a name of 250 bytes, create and replace semantics.
py '
import errno
m = sys.argv[1]; L = "x" * 250
for p in (m + "/a/short", m + "/b"):
    os.setxattr(p, "user.colour", b"blue")
    os.setxattr(p, "user." + L, b"long")
    assert sorted(os.listxattr(p)) == sorted(["user.colour", "user." + L]), os.listxattr(p)
    assert os.getxattr(p, "user." + L) == b"long"
    os.setxattr(p, "user.colour", b"red", os.XATTR_REPLACE)
    try:
        os.setxattr(p, "user.colour", b"x", os.XATTR_CREATE); assert False
    except FileExistsError:
        pass
    try:
        os.setxattr(p, "user.none", b"x", os.XATTR_REPLACE); assert False
    except OSError as e:
        assert e.errno == errno.ENODATA, e
    assert os.getxattr(p, "user.colour") == b"red"
    os.removexattr(p, "user." + L)
    assert os.listxattr(p) == ["user.colour"]
' "$M" || fail "xattrs with encrypted names"
ok "user xattr names are stored hidden and work as before"

unmount_vol "$M"

# After a remount, everything is where it was (directory IDs on disk).
mount_vol "$C" "$M"
py '
m = os.fsencode(sys.argv[1])
assert sorted(os.listdir(m + b"/bytes")) == sorted([low, high, high[::-1], low[::-1]])
assert open(m + b"/bytes/" + high, "rb").read() == high
' "$M" || fail "names after a remount"
[ "$(cat "$M/a/link$mid")" = two ] || fail "a long hard link after remount"
ok "names after a remount"
unmount_vol "$M"

# atrestfs path: one file restored from a backup of the cipherdir, by the
# backing path (and long-name record) it prints; -r maps back.
mount_vol "$C" "$M"
mkdir "$M/r"
echo long >"$M/r/keep$mid"
echo short >"$M/r/keep"
unmount_vol "$M"
cp -a "$C" "$WORK/backup" || fail "back up the cipherdir"
mount_vol "$C" "$M"
rm "$M/r/keep$mid" "$M/r/keep"
unmount_vol "$M"
for f in "r/keep$mid" /r/keep; do
	"$ATR" path --keyfile "$C.key" "$C" "$f" >"$WORK/path.out" ||
		fail "atrestfs path $f"
	while read -r b; do
		[ -e "$WORK/backup/$b" ] || fail "atrestfs path $f: $b is not in the backup"
		[ -e "$C/$b" ] && fail "atrestfs path $f: $b was not removed"
		cp -a "$WORK/backup/$b" "$C/$b" || fail "restore $b"
	done <"$WORK/path.out"
done
[ "$(wc -l <"$WORK/path.out")" = 1 ] || fail "a short name printed a record"
b=$(head -1 "$WORK/path.out")
[ "$("$ATR" path -r --keyfile "$C.key" -- "$C" "$b")" = r/keep ] ||
	fail "atrestfs path -r $b"
mount_vol "$C" "$M"
[ "$(cat "$M/r/keep$mid")" = long ] || fail "the restored file with a long name"
[ "$(cat "$M/r/keep")" = short ] || fail "the restored file"
unmount_vol "$M"
expect 1 "no such directory in the cipherdir" "$ATR" path --keyfile "$C.key" "$C" nodir/x
expect 1 "is not a name atrestfs made" "$ATR" path -r --keyfile "$C.key" "$C" planted
expect 2 "without . or .." "$ATR" path --keyfile "$C.key" "$C" r/../x
ok "atrestfs path maps a path to its backing path and back, to restore one file"

# Tampering with names in the backing directory, on a volume of its own.
C=$WORK/t M=$WORK/tm
new_volume "$C" --names encrypted
# bdir N: the one backing directory of the root with N entries
bdir() {
	local d
	for d in "$C"/*/; do
		[ "$(ls "$d" | wc -l)" = "$1" ] && echo "${d%/}"
	done
}
mount_vol "$C" "$M"
mkdir "$M/src" "$M/dst"
echo moved >"$M/src/victim"
echo a >"$M/dst/x1"
echo b >"$M/dst/x2"
unmount_vol "$M"
src=$(bdir 1) dst=$(bdir 2)
[ -n "$src" ] && [ -n "$dst" ] || fail "cannot find the backing directories"
mv "$src"/* "$dst/" || fail "move a backing entry"
touch "$C/planted-garbage"
mount_vol "$C" "$M"
[ "$(ls "$M/dst" | sort | tr '\n' ' ')" = "x1 x2 " ] ||
	fail "a backing name moved from another directory is shown: $(ls "$M/dst")"
ls "$M" | grep -q planted && fail "a planted backing name is shown"
[ "$(grep -c 'not a name of this directory' "$M.log")" -ge 2 ] ||
	fail "no log line for the moved and the planted names: $(cat "$M.log")"
# One line per bad entry and listing.
n=$(grep -c 'planted-garbage is not a name' "$M.log")
[ "$n" = 1 ] || fail "$n log lines for one planted name"
ok "a moved name and a planted name are left out, with a log line each"
unmount_vol "$M"

# An xattr planted under a plain name is left out of the list, logged; a
# value moved under another xattr's backing name does not authenticate.
mount_vol "$C" "$M"
setfattr -n user.one -v 1 "$M/dst/x1" && setfattr -n user.two -v 2 "$M/dst/x1"
unmount_vol "$M"
x=x1 xf=$C/$("$ATR" path --keyfile "$C.key" "$C" dst/x1)
setfattr -n user.planted -v p "$xf"
b=$(getfattr --absolute-names -d -m 'user.atrestfs.x' -e hex "$xf" | grep '^user' | head -2)
n1=${b%%=*} b2=${b#*$'\n'} n2=${b2%%=*}
setfattr -n "$n1" -v "${b2#*=}" "$xf" || fail "move an xattr value"
mount_vol "$C" "$M"
[ "$(getfattr --absolute-names -d "$M/dst/$x" | grep -c '^user')" = 1 ] ||
	fail "planted or moved xattr listed: $(getfattr -d "$M/dst/$x")"
grep -q "xattr user.planted is not one atrestfs made" "$M.log" ||
	fail "no log line for a planted xattr"
grep -q "xattr $n1 does not authenticate" "$M.log" ||
	fail "no log line for a moved xattr value: $(cat "$M.log")"
unmount_vol "$M"
ok "a planted xattr name and a moved xattr value are left out, logged"

# A directory whose ID is gone: EIO for its entries, one log line.
setfattr -x user.atrestfs.dirid "$dst" || fail "remove a directory ID"
mount_vol "$C" "$M"
expect_eio ls "$M/dst"
expect_eio cat "$M/dst/x1"
expect_eio touch "$M/dst/new"
n=$(grep -c 'directory ID (xattr user.atrestfs.dirid) is missing' "$M.log")
[ "$n" = 1 ] || fail "$n log lines for a missing directory ID: $(cat "$M.log")"
unmount_vol "$M"
setfattr -n user.atrestfs.dirid -v 0x0102 "$dst"
mount_vol "$C" "$M"
expect_eio ls "$M/dst"
grep -q 'directory ID (xattr user.atrestfs.dirid) is damaged' "$M.log" ||
	fail "no log line for a damaged directory ID"
ok "a missing or damaged directory ID is EIO, logged"
unmount_vol "$M"

# A KEK rotation, offline and through the mount, rewraps the names key
# and re-seals the values of hidden xattr names: nothing is renamed, and
# every name, long name and xattr is still there after each.
R=$WORK/rot M=$WORK/rm
new_volume "$R" --names encrypted
mount_vol "$R" "$M"
mkdir "$M/d"
echo a >"$M/d/$mid-file"
setfattr -n user.colour -v blue "$M/d/$mid-file"
echo b >"$M/short"
unmount_vol "$M"
find "$R" -mindepth 1 | sort >"$WORK/rot.before"
check_rot() {
	[ "$(cat "$M/d/$mid-file")" = a ] || fail "$1: a long name"
	[ "$(cat "$M/short")" = b ] || fail "$1: a short name"
	[ "$(getfattr --absolute-names --only-values -n user.colour "$M/d/$mid-file")" = blue ] ||
		fail "$1: a hidden xattr name"
	[ "$(ls "$M" | tr '\n' ' ')" = "d short " ] || fail "$1: listing $(ls "$M")"
}
"$ATR" rotate-kek -q --keyfile "$R.key" "$R" || fail "rotate-kek offline"
find "$R" -mindepth 1 | sort | cmp -s - "$WORK/rot.before" ||
	fail "a rotation renamed backing entries"
mount_vol "$R" "$M"
check_rot "after an offline rotation"
"$ATR" rotate-kek -q --keyfile "$R.key" "$M" || fail "rotate-kek through the mount"
check_rot "during an online rotation"
echo c >"$M/d/new"
unmount_vol "$M"
mount_vol "$R" "$M"
check_rot "after an online rotation"
[ "$(cat "$M/d/new")" = c ] || fail "a file made after the rotation"
grep -q "not a name\|does not authenticate" "$M.log" && fail "rotation: $(cat "$M.log")"
unmount_vol "$M"
ok "KEK rotations, offline and online, keep every name and hidden xattr name"

# rekey takes paths as seen in the mount, and finds them by their names.
hdr_before=$(getfattr --absolute-names -n user.atrestfs.hdr -e hex \
	"$R/$("$ATR" path --keyfile "$R.key" "$R" "d/$mid-file" | head -1)" | grep =)
"$ATR" rekey -q --keyfile "$R.key" "$R" "d/$mid-file" short ||
	fail "rekey by the paths in the mount"
hdr_after=$(getfattr --absolute-names -n user.atrestfs.hdr -e hex \
	"$R/$("$ATR" path --keyfile "$R.key" "$R" "d/$mid-file" | head -1)" | grep =)
[ "$hdr_before" != "$hdr_after" ] || fail "rekey left the header as it was"
expect 1 "no such directory" "$ATR" rekey --keyfile "$R.key" "$R" nodir/x
mount_vol "$R" "$M"
check_rot "after a rekey"
unmount_vol "$M"
ok "rekey finds files by their names in the mount"

# A plain volume keeps plain names: browsable, as chosen.
P=$WORK/p
new_volume "$P" --names plain
grep -q '^names' "$P/atrestfs.conf" && fail "a plain volume records encrypted names"
mount_vol "$P" "$WORK/pm"
echo x >"$WORK/pm/$mark"
[ -e "$P/$mark" ] || fail "a plain volume's name is not plain in the backing"
[ "$("$ATR" path --keyfile "$P.key" "$P" "$mark")" = "$mark" ] ||
	fail "atrestfs path on a plain volume"
unmount_vol "$WORK/pm"
ok "a plain volume keeps plain names"

# The default for a new volume is encrypted names.
D=$WORK/dflt
mkdir "$D"
"$ATR" init -q --keyfile "$D.key" "$D" || fail "init $D"
grep -q '^names = { cipher = "AES-256-SIV"' "$D/atrestfs.conf" ||
	fail "a new volume does not encrypt names by default"
expect 2 "--names" "$ATR" init --names maybe --keyfile "$WORK/x.key" "$WORK/x"
ok "encrypted names are the default; --names is checked"
