#!/usr/bin/env bash
# atrestfs convert --bound: a volume made before "bound" (the committed
# fixtures, copied first) gets its symlink targets, short and long, and
# its xattr values bound, then "bound = true;" in its config: everything
# reads back, and a target or value moved to another file in the backing
# directory, which read there before, is EIO.  Refused while mounted;
# says so and exits 0 on a bound volume.  A walk stopped half-way (a
# value that does not open: nothing flipped, the backing file named)
# leaves a volume that mounts and reads every link, converted or not,
# renames a converted one and links it (link(2)), and that fsck finds
# only the damage in; once mended, running it again finishes.
. "$(dirname "$0")/lib.sh"

F=$TOP/tests/fixtures
LONG=$(head -c 3500 /dev/zero | tr '\0' L)
LONG2=$(head -c 4095 /dev/zero | tr '\0' M)

# fixture NAME DIR: a copy of the committed volume NAME, key DIR.key
fixture() {
	mkdir -p "$2"
	tar --xattrs --xattrs-include='user.*' -C "$2" -xf "$F/$1.tar" ||
		fail "untar $1"
	install -m 600 "$F/$1.key" "$2.key"
	grep -q '^bound' "$2/atrestfs.conf" && fail "$1 is bound already"
	return 0
}

# Each copy has the fixture's UUID: a state directory of its own, so
# t_fixture.sh's record of the fixture stays as it is.
mnt() {
	mount_with "$1" "$2" --keyfile "$1.key" --state-dir "$1.st"
}

conv() {
	"$ATR" convert --bound -k "$1.key" --state-dir "$1.st" "$1" \
		</dev/null
}

value() {
	getfattr --absolute-names --only-values -n "$2" "$1" 2>&1
}

# fill M: links short and long and values on files and a directory
fill() {
	mkdir "$1/d" "$1/e" || fail "mkdir"
	echo one >"$1/d/f" && echo two >"$1/e/g" || fail "make files"
	ln -s /short/one "$1/d/s" && ln -s /short/two "$1/e/s2" &&
		ln -s "$LONG" "$1/d/l" && ln -s "$LONG2" "$1/e/l2" ||
		fail "make links"
	# An unbound volume's link(2) of a symlink: one backing link, two names.
	ln "$1/d/l" "$1/e/lh" || fail "link(2) of a long link"
	setfattr -n user.a -v value-a "$1/d/f" &&
		setfattr -n user.b -v value-b "$1/e/g" &&
		setfattr -n user.c -v value-c "$1/e" || fail "setfattr"
}

# check M WHAT: everything fill() made, and the fixture's own, reads back
check() {
	[ "$(readlink "$1/link")" = small.txt ] || fail "$2: link"
	[ "$(readlink "$1/d/s")" = /short/one ] || fail "$2: d/s"
	[ "$(readlink "$1/e/s2")" = /short/two ] || fail "$2: e/s2"
	[ "$(readlink "$1/d/l")" = "$LONG" ] || fail "$2: d/l"
	[ "$(readlink "$1/e/l2")" = "$LONG2" ] || fail "$2: e/l2"
	[ "$(readlink "$1/e/lh")" = "$LONG" ] || fail "$2: e/lh"
	[ "$(value "$1/dir/nested.txt" user.comment)" = fixture ] ||
		fail "$2: dir/nested.txt user.comment"
	[ "$(value "$1/d/f" user.a)" = value-a ] || fail "$2: d/f user.a"
	[ "$(value "$1/e/g" user.b)" = value-b ] || fail "$2: e/g user.b"
	[ "$(value "$1/e" user.c)" = value-c ] || fail "$2: e user.c"
}

# move C: targets and a value of the older form (the fixture's) moved
# onto other files, in the backing directory
move() {
	ln -sfn "$(readlink "$1/d/s")" "$1/e/s2" &&
		ln -sfn "$(readlink "$1/d/l")" "$1/e/l2" ||
		fail "move targets"
	setfattr -n user.comment -v \
		"0x$(xattr_hex "$1/dir/nested.txt" user.comment)" \
		"$1/small.txt" || fail "move a value"
}

# --- the v1 fixture (plain names) ---
C=$WORK/c M=$WORK/m
fixture v1-volume "$C"
mnt "$C" "$M"
fill "$M"
check "$M" "before"
expect 5 "is mounted at $M" "$ATR" convert --bound -k "$C.key" \
	--state-dir "$C.st" "$C"
unmount_vol "$M"
grep -q '^bound' "$C/atrestfs.conf" && fail "converted while mounted"
cp -a "$C" "$WORK/before" && cp "$C.key" "$WORK/before.key" &&
	cp -a "$C.st" "$WORK/before.st" || fail "copy"
conv "$C" >"$WORK/out" 2>&1 || fail "convert: $(cat "$WORK/out")"
grep -q '^bound = true;' "$C/atrestfs.conf" || fail "not bound"
grep -q "6 symbolic links re-sealed" "$WORK/out" ||
	fail "convert said: $(cat "$WORK/out")"
mnt "$C" "$M"
check "$M" "converted"
(cd "$M" && sha256sum --quiet -c "$F/v1-volume.sha256") ||
	fail "fixture contents differ after convert"
unmount_vol "$M"
"$ATR" fsck -k "$C.key" --state-dir "$C.st" "$C" >"$WORK/fsck" 2>&1 \
	</dev/null || fail "fsck after convert: $(cat "$WORK/fsck")"
out=$(conv "$C" 2>&1) || fail "convert again: $out"
case "$out" in *"bound already"*) ;; *) fail "convert again: $out" ;; esac
ok "convert --bound: fixture and new links and values read back; refused while mounted; idempotent"

# The attack: before, a moved target or value reads at its new file.
B=$WORK/before
move "$B"
mnt "$B" "$M"
[ "$(readlink "$M/e/s2")" = /short/one ] &&
	[ "$(readlink "$M/e/l2")" = "$LONG" ] &&
	[ "$(value "$M/small.txt" user.comment)" = fixture ] ||
	fail "the moves did not work before the conversion (test broken)"
unmount_vol "$M"
move "$C"
mnt "$C" "$M"
[ "$(readlink "$M/d/s")" = /short/one ] || fail "d/s after the move"
expect_eio readlink -v "$M/e/s2"
expect_eio readlink -v "$M/e/l2"
expect_eio getfattr -n user.comment "$M/small.txt"
unmount_vol "$M"
ok "after convert, a target or value moved to another file is EIO"

# --- the fixture with encrypted names ---
C=$WORK/n M=$WORK/mn
fixture names-volume "$C"
mnt "$C" "$M"
fill "$M"
unmount_vol "$M"
conv "$C" >"$WORK/out" 2>&1 || fail "convert names: $(cat "$WORK/out")"
grep -q '^bound = true;' "$C/atrestfs.conf" || fail "names: not bound"
mnt "$C" "$M"
[ "$(readlink "$M/link")" = small.txt ] || fail "names: link"
[ "$(readlink "$M/d/s")" = /short/one ] &&
	[ "$(readlink "$M/d/l")" = "$LONG" ] &&
	[ "$(readlink "$M/e/l2")" = "$LONG2" ] &&
	[ "$(value "$M/d/f" user.a)" = value-a ] &&
	[ "$(value "$M/e" user.c)" = value-c ] || fail "names: read back"
(cd "$M" && sha256sum --quiet -c "$F/names-volume.sha256") ||
	fail "names fixture contents differ after convert"
# The two names of one long link became two links: one goes, one stays.
rm "$M/d/l" || fail "rm d/l"
unmount_vol "$M"
mnt "$C" "$M"
[ "$(readlink "$M/e/lh")" = "$LONG" ] || fail "e/lh once d/l is gone"
unmount_vol "$M"
ok "convert --bound on encrypted names: everything reads back"

# --- stopped half-way, then finished ---
C=$WORK/h M=$WORK/mh
fixture v1-volume "$C"
mnt "$C" "$M"
mkdir "$M/h" "$M/k" || fail "mkdir"
for i in 1 2 3 4 5 6; do
	ln -s "/t$i" "$M/h/l$i" && echo "$i" >"$M/h/f$i" &&
		setfattr -n user.x -v "v$i" "$M/h/f$i" || fail "make h/$i"
done
unmount_vol "$M"
# The walk's order is readdir's: damage a value with links before it.
bad= seen=
for e in $(ls -U "$C/h"); do
	case $e in
	l*) seen=1 ;;
	f*) [ -n "$seen" ] && bad=$e && break ;;
	esac
done
[ -n "$bad" ] || fail "no file after a link in $(ls -U "$C/h")"
for i in 1 2 3 4 5 6; do readlink "$C/h/l$i"; done >"$WORK/targets"
v=$(xattr_hex "$C/h/$bad" user.x)
setfattr -n user.x -v "0x${v:0:-2}$(printf %02x $((0x${v: -2} ^ 1)))" \
	"$C/h/$bad" || fail "damage h/$bad"
CONV=("$ATR" convert --bound -k "$C.key" --state-dir "$C.st" "$C")
expect 6 "$C/h/$bad: xattr user.x: its value does not authenticate" "${CONV[@]}"
expect 6 "atrestfs fsck" "${CONV[@]}"
grep -q '^bound' "$C/atrestfs.conf" && fail "bound despite the damage"
for i in 1 2 3 4 5 6; do readlink "$C/h/l$i"; done >"$WORK/targets2"
cmp -s "$WORK/targets" "$WORK/targets2" &&
	fail "nothing was converted before the stop (test broken)"
# fsck, as the message says: the damaged value, and no converted link.
"$ATR" fsck -k "$C.key" --state-dir "$C.st" "$C" >"$WORK/fsck" 2>&1 </dev/null
[ $? = 6 ] && grep -q "h/$bad: xattr user.x" "$WORK/fsck" &&
	! grep -q "h/l" "$WORK/fsck" || fail "fsck half-way: $(cat "$WORK/fsck")"
mnt "$C" "$M"
for i in 1 2 3 4 5 6; do
	[ "$(readlink "$M/h/l$i")" = "/t$i" ] ||
		fail "h/l$i half-way: $(tail -3 "$M.log")"
	[ "f$i" = "$bad" ] && continue
	[ "$(value "$M/h/f$i" user.x)" = "v$i" ] || fail "h/f$i half-way"
done
# A converted link renamed across directories meanwhile stays readable.
for i in 1 2 3 4 5 6; do
	[ "$(sed -n "${i}p" "$WORK/targets")" != "$(readlink "$C/h/l$i")" ] &&
		break
done
mv "$M/h/l$i" "$M/k/moved" || fail "rename h/l$i"
[ "$(readlink "$M/k/moved")" = "/t$i" ] || fail "renamed h/l$i"
ln "$M/k/moved" "$M/k/hard" || fail "link(2) of a converted link"
unmount_vol "$M"
mnt "$C" "$M"
[ "$(readlink "$M/k/hard")" = "/t$i" ] && [ "$(readlink "$M/k/moved")" = "/t$i" ] ||
	fail "link(2) of a converted link: $(tail -2 "$M.log")"
unmount_vol "$M"
setfattr -x user.x "$C/h/$bad" || fail "remove the damaged value"
conv "$C" >"$WORK/out" 2>&1 || fail "convert resumed: $(cat "$WORK/out")"
grep -q '^bound = true;' "$C/atrestfs.conf" || fail "resumed: not bound"
mnt "$C" "$M"
for j in 1 2 3 4 5 6; do
	l=$M/h/l$j
	[ "$j" = "$i" ] && l=$M/k/moved
	[ "$(readlink "$l")" = "/t$j" ] || fail "$l after resume"
done
[ "$(readlink "$M/k/hard")" = "/t$i" ] || fail "k/hard after resume"
unmount_vol "$M"
ok "a conversion stopped half-way mounts and reads; run again, it finishes"

# --- killed (SIGKILL) in the middle, then run again ---
# 2,000 unbound links made in the backing directory by copying one
# unbound target (the form is bound to nothing, so each copy opens): a
# walk long enough to be killed once some, not all, are converted.
C=$WORK/k M=$WORK/mk
fixture v1-volume "$C"
mnt "$C" "$M"
mkdir "$M/k" && ln -s /killed "$M/k/x0" || fail "make k/x0"
unmount_vol "$M"
python3 - "$C/k" <<'PY' || fail "copy links"
import os, sys
t = os.readlink(sys.argv[1] + "/x0")
for i in range(1, 2000):
    os.symlink(t, "%s/x%d" % (sys.argv[1], i))
PY
python3 - "$ATR" "$C" <<'PY' || fail "kill the conversion"
import os, signal, subprocess, sys, time
atr, c = sys.argv[1:]
names = os.listdir(c + "/k")
old = {n: os.readlink(c + "/k/" + n) for n in names}
p = subprocess.Popen([atr, "convert", "--bound", "-k", c + ".key",
                      "--state-dir", c + ".st", c],
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL)
done = 0
end = time.time() + 60
while p.poll() is None and time.time() < end:
    done = sum(os.readlink(c + "/k/" + n) != old[n] for n in names)
    if done:
        p.send_signal(signal.SIGKILL)
        break
p.wait()
done = sum(os.readlink(c + "/k/" + n) != old[n] for n in names)
if not 0 < done < len(names):
    print("note: the kill came at %d of %d links" % (done, len(names)),
          file=sys.stderr)
PY
grep -q '^bound' "$C/atrestfs.conf" && echo "note: bound before the kill" >&2
mnt "$C" "$M"
readall() {
	python3 - "$1/k" <<'PY'
import os, sys
bad = [n for n in os.listdir(sys.argv[1])
       if os.readlink(sys.argv[1] + "/" + n) != "/killed"]
sys.exit("%d of 2000 links do not read: %s" % (len(bad), bad[:3]) if bad
         or len(os.listdir(sys.argv[1])) != 2000 else 0)
PY
}
readall "$M" || fail "after the kill: $(tail -2 "$M.log")"
unmount_vol "$M"
conv "$C" >"$WORK/out" 2>&1 || fail "convert after the kill: $(cat "$WORK/out")"
grep -q '^bound = true;' "$C/atrestfs.conf" || fail "killed: not bound"
[ -e "$C/atrestfs.conf.rotate-link" ] && fail "a leftover link at the root"
mnt "$C" "$M"
readall "$M" || fail "after the second run: $(tail -2 "$M.log")"
unmount_vol "$M"
ok "a conversion killed half-way mounts and reads; run again, it finishes"

# --- a damaged directory ID on plain names: convert stops, fsck says it ---
# The mount reads the unbound link without the ID; convert stops at it
# and points at fsck, which must then list it (it listed nothing).
C=$WORK/i M=$WORK/mi
fixture v1-volume "$C"
mnt "$C" "$M"
mkdir "$M/i" && ln -s /in/i "$M/i/s" || fail "make i/s"
unmount_vol "$M"
setfattr -n user.atrestfs.dirid -v 0x0102 "$C/i" || fail "damage i's ID"
expect 6 "$C/i/s: its directory's ID" "$ATR" convert --bound -k "$C.key" \
	--state-dir "$C.st" "$C"
"$ATR" fsck -k "$C.key" --state-dir "$C.st" "$C" >"$WORK/fsck" 2>&1 </dev/null
[ $? = 6 ] && grep -q "^$C/i/s: its directory's ID" "$WORK/fsck" ||
	fail "fsck of a damaged directory ID: $(cat "$WORK/fsck")"
setfattr -x user.atrestfs.dirid "$C/i" || fail "remove i's ID"
conv "$C" >"$WORK/out" 2>&1 || fail "convert, ID removed: $(cat "$WORK/out")"
mnt "$C" "$M"
[ "$(readlink "$M/i/s")" = /in/i ] || fail "i/s after convert"
unmount_vol "$M"
ok "a damaged directory ID stops convert, and fsck lists it"
