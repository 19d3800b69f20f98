#!/usr/bin/env bash
# atrestfs fsck: silent on a clean volume, and finds each corruption
# planted offline (bit flip, swapped extents, truncated extent, deleted
# header, duplicate file ID, bad sparse record, xattr value, symlink
# target, tampered config), naming the file and the backing offsets of bad
# extents, with its documented exit codes; never follows a symlink of the
# backing directory; --repair shows, asks, and mends only what is safe.
. "$(dirname "$0")/lib.sh"

E=4096
D=$((E + 28))
C=$WORK/c M=$WORK/m

# fsck_k DIR [options]: fsck with the volume's key, stdout only
fsck_k() {
	local d=$1
	shift
	"$ATR" fsck -k "$C.key" "$@" "$d" 2>"$WORK/fsck.err" </dev/null
}

# found OUT LINE...: fsck's report OUT has each LINE in it
found() {
	local out=$1 e
	shift
	for e in "$@"; do
		grep -qF -- "$e" <<<"$out" || fail "fsck did not report: $e
got:
$out"
	done
}

new_volume "$C"
mount_vol "$C" "$M"
mkdir -p "$M/dir/sub"
for f in flip swap cut nohdr dup good linked dir/sub/deep; do
	head -c $((3 * E + 100)) /dev/urandom >"$M/$f"
done
# 20 MB: more than one work chunk (8 MiB of backing bytes each).
head -c 20000000 /dev/urandom >"$M/big"
: >"$M/empty"
# The user's, though its name starts as the config's does.
head -c $((2 * E)) /dev/urandom >"$M/atrestfs.conf.bak"
truncate -s 1M "$M/holes"
echo tail >>"$M/holes"
ln "$M/linked" "$M/hardlink"
ln -s dir/sub/deep "$M/link"
setfattr -n user.note -v "a value" "$M/good" || fail setfattr
setfattr -n user.d -v "on a directory" "$M/dir" || fail setfattr
unmount_vol "$M"

# A clean volume: nothing on stdout, exit 0, a summary and a plain
# progress line on stderr (no terminal), nothing at all with -q.
out=$(fsck_k "$C") || fail "fsck of a clean volume exited $?: $out $(cat "$WORK/fsck.err")"
[ -z "$out" ] || fail "fsck of a clean volume said: $out"
grep -q "no damage found" "$WORK/fsck.err" || fail "no summary: $(cat "$WORK/fsck.err")"
grep -q "100% of" "$WORK/fsck.err" || fail "no progress line: $(cat "$WORK/fsck.err")"
grep -q "holes" "$WORK/fsck.err" || fail "summary lacks holes"
out=$(fsck_k "$C" -q) || fail "fsck -q of a clean volume exited $?"
[ -z "$out$(cat "$WORK/fsck.err")" ] || fail "fsck -q said something"
out=$(fsck_k "$C" -j 1) || fail "fsck -j 1 of a clean volume exited $?: $out"
# On a terminal: a progress bar instead of the plain line.
script -qec "$ATR fsck -k $C.key $C" /dev/null >"$WORK/tty" </dev/null ||
	fail "fsck on a terminal exited $?: $(cat "$WORK/tty")"
grep -q "checking \[#*\] 100%" "$WORK/tty" || fail "no progress bar: $(cat "$WORK/tty")"
grep -q "% of" "$WORK/tty" && fail "plain progress line on a terminal"
ok "clean volume: exit 0, no finding; a bar on a terminal, a line otherwise"

# Each corruption in its own file of a copy.
K=$WORK/k
cp -a "$C" "$K"
flip_byte "$K/flip" $((D + 500))
flip_byte "$K/atrestfs.conf.bak" 100
dd if="$K/swap" of="$WORK/e0" bs=$D count=1 status=none
dd if="$K/swap" of="$K/swap" bs=$D skip=1 count=1 conv=notrunc status=none
dd if="$WORK/e0" of="$K/swap" bs=$D seek=1 count=1 conv=notrunc status=none
truncate -s $((3 * D + 50)) "$K/cut"
setfattr -x user.atrestfs.hdr "$K/nohdr"
cp --preserve=xattr "$K/good" "$K/dup"
flip_byte "$K/big" $((3000 * D + 7))
head -c 28 /dev/urandom >"$WORK/sparse"
setfattr -n user.atrestfs.sparse -v "0x$(od -An -tx1 "$WORK/sparse" | tr -d ' \n')" "$K/good"
setfattr -x user.atrestfs.sparse "$K/holes"
val=$(xattr_hex "$K/dir" user.d)
setfattr -n user.d -v "0x${val:0:20}$(printf %02x $((0x${val:20:2} ^ 1)))${val:22}" "$K/dir"
link=$(readlink "$K/link")
ln -sfn "${link%?}A" "$K/link"
[ "$(readlink "$K/link")" != "$link" ] || ln -sfn "${link%?}B" "$K/link"
# A symlink out of the volume: reported as a link, never followed.
ln -s /etc "$K/escape"
# An empty file made in the backing directory: no header, which format 2
# (what init makes) does not allow.
: >"$K/bare"

out=$(fsck_k "$K")
rc=$?
[ $rc = 6 ] || fail "fsck of a damaged volume exited $rc, want 6: $out"
expected=(
	"$K/flip: extent 1 (backing bytes $D to $((2 * D))) does not authenticate"
	"$K/swap: extents 0 to 1 (backing bytes 0 to $((2 * D))) do not authenticate"
	"$K/cut: extent 3 (backing bytes $((3 * D)) to $((3 * D + 50))) does not authenticate"
	"$K/cut: its version record says $((3 * E + 100)) bytes"
	"$K/nohdr: no header (xattr user.atrestfs.hdr): its key is lost"
	"file ID of"
	"$K/big: extent 3000 (backing bytes $((3000 * D)) to $((3001 * D))) does not authenticate"
	"$K/good: its sparse record (xattr user.atrestfs.sparse) does not authenticate; the file has no hole"
	"$K/holes: extents 0 to 254 (backing bytes 0 to $((255 * D))) are all zero"
	"$K/dir: xattr user.d: its value does not authenticate"
	"$K/link: symbolic link target does not authenticate"
	"$K/escape: symbolic link target does not authenticate"
	"$K/bare: no header (xattr user.atrestfs.hdr) on an empty file: in a format 2 volume"
	"$K/atrestfs.conf.bak: extent 0 (backing bytes 0 to $D) does not authenticate"
)
found "$out" "${expected[@]}"
# Duplicate: one of the two names the other.
grep -qE "^$K/(dup|good): it has the file ID of (dup|good) " <<<"$out" ||
	fail "duplicate file ID not named: $out"
n=$(grep -c . <<<"$out")
[ "$n" = ${#expected[@]} ] || fail "fsck made $n reports, want ${#expected[@]}:
$out"
grep -q "etc/" <<<"$out" && fail "fsck followed a symlink out of the volume"
grep -q "1 non-empty file has no header" "$WORK/fsck.err" ||
	fail "no word on the lost header: $(cat "$WORK/fsck.err")"
grep -q "header restore" "$WORK/fsck.err" || fail "no hint at header restore"
ok "each planted corruption found, named, nothing else"

# Names are chosen by whoever writes the backing directory: an escape
# sequence or a newline in one reaches the terminal escaped (\ooo), so it
# can neither drive the terminal nor forge a line of the report.
X=$WORK/x
cp -a "$C" "$X"
evil=$'evil\e]0;pwned\a\nfake: clean'
head -c 100 /dev/urandom >"$X/$evil"
setfattr -n $'user.\e[2Jx' -v "not sealed" "$X/good" || fail "setfattr"
out=$(fsck_k "$X")
[ $? = 6 ] || fail "fsck of a volume with a planted file did not exit 6: $out"
grep -q $'\e' <<<"$out" && fail "fsck wrote an escape sequence: $(od -c <<<"$out")"
grep -q '^fake' <<<"$out" && fail "a name forged a line of fsck's report: $out"
grep -qF "$X/evil\033]0;pwned\007\012fake: clean: no header" <<<"$out" ||
	fail "planted name not shown escaped: $out"
grep -qF 'xattr user.\033[2Jx: its value does not authenticate' <<<"$out" ||
	fail "planted xattr name not shown escaped: $out"
"$ATR" rekey -k "$C.key" "$X" "$evil" >"$WORK/rk.out" 2>&1 </dev/null &&
	fail "rekey of a headerless file succeeded"
grep -q $'\e' "$WORK/rk.out" && fail "rekey wrote an escape sequence: $(od -c "$WORK/rk.out")"
grep -qF 'evil\033]0;pwned\007' "$WORK/rk.out" ||
	fail "rekey did not name the file escaped: $(cat "$WORK/rk.out")"
ok "names and xattr names from the backing directory are shown escaped"

# Tampered config: exit 4, before any file is read.
T=$WORK/t
cp -a "$C" "$T"
sed -i 's/^extent_size = 4096;/extent_size = 8192;/' "$T/atrestfs.conf"
grep -q "extent_size = 8192" "$T/atrestfs.conf" || fail "config not tampered"
expect 4 "MAC" "$ATR" fsck -k "$C.key" "$T"
expect 3 "" "$ATR" fsck -k "$K.nokey" "$C"
expect 2 "Usage" "$ATR" fsck
ok "tampered config: exit 4; no key: 3; usage: 2"

# --repair: shows what it would do; without a terminal, only with --yes.
R=$WORK/r
cp -a "$C" "$R"
setfattr -n user.atrestfs.sparse -v "0x$(od -An -tx1 "$WORK/sparse" | tr -d ' \n')" "$R/good"
out=$(fsck_k "$R" --repair)
rc=$?
[ $rc = 6 ] || fail "fsck --repair without --yes exited $rc"
grep -q "\[repairable\]" <<<"$out" || fail "repairable finding not marked: $out"
grep -q "add --yes" "$WORK/fsck.err" || fail "no word on --yes: $(cat "$WORK/fsck.err")"
getfattr -n user.atrestfs.sparse "$R/good" >/dev/null 2>&1 || fail "repaired without --yes"
out=$(fsck_k "$R" --repair --yes) || fail "fsck --repair --yes exited $?: $out"
grep -q "repaired: sparse record removed" <<<"$out" || fail "no repair said: $out"
getfattr -n user.atrestfs.sparse "$R/good" >/dev/null 2>&1 && fail "sparse record left"
out=$(fsck_k "$R") || fail "fsck after repair exited $?: $out"
# The other damage is left alone by --repair.
out=$(fsck_k "$K" --repair --yes)
[ $? = 6 ] || fail "fsck --repair of unrepairable damage did not exit 6"
[ -e "$K/nohdr" ] && [ -e "$K/flip" ] || fail "--repair removed a file"
ok "--repair: asks, mends the sparse record only"

# The repaired copy and the clean volume still read through a mount.
mount_with "$R" "$M" --keyfile "$C.key"
cmp "$M/linked" "$M/hardlink" || fail "hard link differs"
[ "$(wc -c <"$M/holes")" = $((1048576 + 5)) ] || fail "holes size"
unmount_vol "$M"
ok "repaired copy mounts and reads"

# The format 1 fixture (headerless empty files allowed there) is clean.
F=$WORK/fixture
mkdir "$F"
tar --xattrs --xattrs-include='user.*' -C "$F" -xf "$TOP/tests/fixtures/v1-volume.tar" ||
	fail "untar fixture"
install -m 600 "$TOP/tests/fixtures/v1-volume.key" "$F.key"
out=$("$ATR" fsck -q -k "$F.key" "$F") || fail "fsck of the v1 fixture exited $?: $out"
[ -z "$out" ] || fail "fsck of the v1 fixture said: $out"
ok "format 1 fixture: clean"

# Encrypted names: a clean volume says nothing; then each name the mount
# would leave out of a listing (or cannot name at all) is a finding,
# shown by its backing path.
N=$WORK/n
new_volume "$N" --names encrypted
mount_with "$N" "$M" --keyfile "$N.key"
mkdir "$M/d1" "$M/d2" "$M/d3" "$M/d4"
long=$(printf 'L%.0s' $(seq 200))
for f in d1/a d1/b d2/x d3/y d4/z "d1/$long" "d1/${long}2"; do
	echo "$f" >"$M/$f"
done
setfattr -n user.one -v 1 "$M/d1/b" && setfattr -n user.two -v 2 "$M/d1/b" ||
	fail setfattr
unmount_vol "$M"
out=$("$ATR" fsck -k "$N.key" "$N" 2>"$WORK/fsck.err" </dev/null) ||
	fail "fsck of a clean names volume exited $?: $out $(cat "$WORK/fsck.err")"
[ -z "$out" ] || fail "fsck of a clean names volume said: $out"
ok "names volume: clean, no finding"

# bpath PATH: the backing path of PATH in the mount, from the volume's
# root (the first line: a long name's record is named on the second)
bpath() {
	local p
	p=$("$ATR" path -k "$N.key" "$N" "$1") || fail "atrestfs path $1"
	echo "${p%%$'\n'*}"
}
d1=$(bpath d1) a=$(bpath d1/a) b=$(bpath d1/b) x=$(bpath d2/x)
d3=$(bpath d3) d4=$(bpath d4) l1=$(bpath "d1/$long") l2=$(bpath "d1/${long}2")
case $l1$l2 in *atrestfs.long.*atrestfs.long.*) ;; *) fail "not long names: $l1 $l2" ;; esac
mv "$N/$a" "$N/$d1/garbage"
mv "$N/$x" "$N/$d1/"
setfattr -x user.atrestfs.dirid "$N/$d3"
setfattr -n user.atrestfs.dirid -v 0x0102 "$N/$d4"
printf x >>"$N/$l2.name"
rm "$N/$l1"
setfattr -n user.planted -v p "$N/$b"
v=$(getfattr --absolute-names -d -m 'user.atrestfs.x' -e hex "$N/$b" | grep '^user' | head -2)
n1=${v%%=*} v2=${v#*$'\n'}
setfattr -n "$n1" -v "${v2#*=}" "$N/$b" || fail "move an xattr value"
out=$("$ATR" fsck -k "$N.key" "$N" 2>"$WORK/fsck.err" </dev/null)
rc=$?
[ $rc = 6 ] || fail "fsck of damaged names exited $rc, want 6: $out $(cat "$WORK/fsck.err")"
expected=(
	"$N/$d1/garbage: its name does not decrypt in this directory"
	"$N/$d1/${x##*/}: its name does not decrypt in this directory"
	"$N/$d3: its directory ID (xattr user.atrestfs.dirid) is missing"
	"$N/$d4: its directory ID (xattr user.atrestfs.dirid) is damaged"
	"$N/$l2: its long name's record (the file beside it ending in .name) is missing, damaged"
	"$N/$l1.name: a long name's record without its entry"
	"$N/$b: xattr user.planted is not one atrestfs made"
	"$N/$b: xattr $n1: its value does not authenticate"
)
found "$out" "${expected[@]}"
n=$(grep -c . <<<"$out")
[ "$n" = ${#expected[@]} ] || fail "fsck made $n reports, want ${#expected[@]}:
$out"
ok "names: a garbage name, a moved name, a missing and a damaged directory ID, a damaged and an orphan long-name record, a planted and a moved xattr"
