#!/usr/bin/env bash
# Symlink targets of every length up to 4,095 bytes (PATH_MAX - 1), on
# volumes with plain and with encrypted names: 1, 3000 (the short form's
# longest), 3001, 4094 and 4095 bytes round-trip through readlink, lstat
# and ls -l, after a remount too, and 4096 is ENAMETOOLONG.  No byte of a
# target shows in the backing tree (names, contents, link targets,
# xattrs).  A long target's record goes with the link's last name (hard
# links, unlink, rename over it); a swapped or missing record is EIO with
# a log line, and fsck reports it; rotate-kek re-seals the records.
. "$(dirname "$0")/lib.sh"

MARK=QxLinkMarker7

# links DIR CHECK|MAKE: the links l1 .. l4095 in DIR, made or checked
links() {
	python3 - "$1" "$2" "$MARK" <<'EOF'
import errno, os, subprocess, sys
d, what, mark = os.fsencode(sys.argv[1]), sys.argv[2], os.fsencode(sys.argv[3])
def target(n):
    s = b"/" + mark + b"/\xc3\xa9\x01\xff/"
    return (s * (n // len(s) + 1))[:n] if n > 1 else b"x"
for n in (1, 3000, 3001, 4094, 4095):
    p = d + b"/l%d" % n
    if what == "MAKE":
        os.symlink(target(n), p)
    assert os.readlink(p) == target(n), "readlink of a %d-byte target" % n
    assert os.lstat(p).st_size == n, "st_size %d" % n
    ls = subprocess.run([b"ls", b"-l", p], capture_output=True, check=True,
                        env={"LC_ALL": "C"}).stdout
    assert ls.rstrip(b"\n").endswith(b" -> " + target(n)), "ls -l %d: %r" % (n, ls[-80:])
if what == "MAKE":
    try:
        os.symlink(b"y" * 4096, d + b"/l4096")
        raise SystemExit("a 4096-byte target was made")
    except OSError as e:
        assert e.errno == errno.ENAMETOOLONG, e
EOF
}

# records CIPHER: how many long targets' records the volume holds
records() {
	find "$1/atrestfs.conf.links" -type f 2>/dev/null | wc -l
}

for names in plain encrypted; do
	C=$WORK/c-$names M=$WORK/m-$names
	new_volume "$C" --names "$names"
	mount_vol "$C" "$M"
	mkdir "$M/d"
	links "$M/d" MAKE || fail "$names names: targets of 1 to 4095 bytes"
	[ "$(records "$C")" = 3 ] || fail "$names names: $(records "$C") records, want 3"
	unmount_vol "$M"
	mount_vol "$C" "$M"
	links "$M/d" CHECK || fail "$names names: targets after a remount"
	ls "$M" | grep -q atrestfs && fail "$names names: the link store is listed"
	unmount_vol "$M"
	# Names, regular files' bytes, link targets, xattr values.
	{ find "$C" -printf '%f\n%l\n'; find "$C" -type f -exec cat {} +
	  getfattr -R -d -m - -e text --absolute-names "$C" 2>/dev/null
	} >"$WORK/scan"
	grep -a -q '^atrestfs2:' "$WORK/scan" || fail "the scan misses link targets"
	grep -a -q -e "$MARK" -e "inkMark" "$WORK/scan" &&
		fail "$names names: a target shows in the backing tree"
	ok "$names names: targets of 1, 3000, 3001, 4094 and 4095 bytes, none in the backing tree"
done

# A long link that cannot be made (its name taken in the backing
# directory behind the kernel's cached "no such entry") leaves no record.
C=$WORK/c-plain M=$WORK/m-plain
mount_vol "$C" "$M"
n=$(records "$C")
python3 - "$M" "$C" <<'EOF' || fail "a long link whose name is taken"
import errno, os, sys
m, c = sys.argv[1], sys.argv[2]
try:
    os.lstat(m + "/taken")
except FileNotFoundError:
    pass
open(c + "/taken", "w").close()
try:
    os.symlink("z" * 4000, m + "/taken")
    raise SystemExit("made over a backing file")
except OSError as e:
    assert e.errno == errno.EEXIST, e
EOF
[ "$(records "$C")" = "$n" ] || fail "a record left by a link not made"
rm -f "$C/taken"
unmount_vol "$M"
ok "a long link not made leaves no record"

# The rest on the encrypted-names volume.
C=$WORK/c-encrypted M=$WORK/m-encrypted
mount_vol "$C" "$M"
python3 - "$M/d" <<'EOF' || fail "hard links and renames of long links"
import os, sys
d = os.fsencode(sys.argv[1])
t = os.readlink(d + b"/l4095")
os.link(d + b"/l4095", d + b"/hard", follow_symlinks=False)
# A bound volume copies a link (design.md): a link of its own.
assert os.lstat(d + b"/hard").st_nlink == 1
os.unlink(d + b"/l4095")
assert os.readlink(d + b"/hard") == t and len(t) == 4095
EOF
[ "$(records "$C")" = 3 ] || fail "a link's copy lost its record with the original"
rm "$M/d/hard"
[ "$(records "$C")" = 2 ] || fail "the record stayed after the last name went"
mv "$M/d/l3001" "$M/d/l4094"
[ "$(records "$C")" = 1 ] || fail "the record stayed after a rename over the link"
[ "$(readlink "$M/d/l4094" | wc -c)" = 3002 ] || fail "the renamed long link"
ok "a long target's record goes with its last name (unlink, hard links, rename over it)"

# Swapped records: each is bound to its own link ID.
t=$(head -c 3500 /dev/zero | tr '\0' a)
ln -s "$t" "$M/d/a" && ln -s "${t//a/b}" "$M/d/b" || fail "two long links"
unmount_vol "$M"
[ "$(find "$C" -type l -printf '%l\n' | grep -c '^atrestfs2:')" = 3 ] ||
	fail "long targets are not in the long form"
recs=("$C"/atrestfs.conf.links/*)
cp "${recs[0]}" "$WORK/rec0"
cp -f "${recs[1]}" "${recs[0]}" || fail "copy a record over another"
"$ATR" fsck -k "$C.key" "$C" >"$WORK/fsck.out" 2>"$WORK/fsck.err" </dev/null
[ $? = 6 ] || fail "fsck of a swapped record: $(cat "$WORK/fsck.out" "$WORK/fsck.err")"
grep -q "record in atrestfs.conf.links" "$WORK/fsck.out" || fail "fsck: $(cat "$WORK/fsck.out")"
mount_vol "$C" "$M"
bad=0
for l in "$M"/d/*; do
	readlink -v "$l" >/dev/null 2>"$WORK/rl.err" && continue
	grep -q "Input/output error" "$WORK/rl.err" || fail "readlink $l: $(cat "$WORK/rl.err")"
	bad=$((bad + 1))
done
[ $bad = 1 ] || fail "$bad links fail with a swapped record, want 1"
grep -q "symlink target does not authenticate" "$M.log" || fail "no log line: $(cat "$M.log")"
ok "a record copied onto another link's is EIO, logged, and found by fsck"
unmount_vol "$M"
cp -f "$WORK/rec0" "${recs[0]}"
"$ATR" fsck -k "$C.key" "$C" >"$WORK/fsck.out" 2>&1 </dev/null ||
	fail "fsck after the record is put back: $(cat "$WORK/fsck.out")"
# A record no link names (a crash between record and link, or planted).
cp "$WORK/rec0" "$C/atrestfs.conf.links/00112233445566778899aabbccddeeff"
"$ATR" fsck -k "$C.key" "$C" >"$WORK/fsck.out" 2>&1 </dev/null
[ $? = 6 ] && grep -q "00112233445566778899aabbccddeeff: no symbolic link names this record" \
	"$WORK/fsck.out" || fail "fsck of an orphan record: $(cat "$WORK/fsck.out")"
[ "$(grep -c 'no symbolic link names' "$WORK/fsck.out")" = 1 ] ||
	fail "fsck finds more orphans than one: $(cat "$WORK/fsck.out")"
rm "$C/atrestfs.conf.links/00112233445566778899aabbccddeeff"
ok "fsck finds a record no link names, and only that one"

# atrestfs path names a long target's record with the link.
"$ATR" path -k "$C.key" "$C" d/a >"$WORK/path.out" </dev/null ||
	fail "atrestfs path d/a"
[ "$(wc -l <"$WORK/path.out")" = 2 ] && rec=$(sed -n 2p "$WORK/path.out") &&
	[ "$rec" = "atrestfs.conf.links/$(readlink "$C/$(head -1 "$WORK/path.out")" |
		sed 's/^atrestfs2:\([0-9a-f]*\):.*/\1/')" ] && [ -f "$C/$rec" ] ||
	fail "atrestfs path of a long link: $(cat "$WORK/path.out")"
"$ATR" path -k "$C.key" "$C" d/l3000 >"$WORK/path.out" </dev/null &&
	[ "$(wc -l <"$WORK/path.out")" = 1 ] || fail "atrestfs path of a short link"
ok "atrestfs path names a long target's record"

# rotate-kek, offline: the records are re-sealed, the links read back.
before=$(cat "$C"/atrestfs.conf.links/* | cksum)
"$ATR" rotate-kek -q --keyfile "$C.key" "$C" </dev/null 2>"$WORK/rot.err" ||
	fail "rotate-kek: $(cat "$WORK/rot.err")"
[ "$(cat "$C"/atrestfs.conf.links/* | cksum)" != "$before" ] ||
	fail "rotate-kek left the records as they were"
ls "$C"/atrestfs.conf.links | grep -q new && fail "a re-sealed record's temporary is left"
mount_vol "$C" "$M"
[ "$(readlink "$M/d/a")" = "$t" ] || fail "a long link after rotate-kek"
[ "$(readlink "$M/d/l3000" | wc -c)" = 3001 ] || fail "a short link after rotate-kek"
[ "$(readlink "$M/d/l4094" | wc -c)" = 3002 ] || fail "a long link after rotate-kek"
unmount_vol "$M"
"$ATR" fsck -k "$C.key" "$C" >"$WORK/fsck.out" 2>&1 </dev/null ||
	fail "fsck after rotate-kek: $(cat "$WORK/fsck.out")"
ok "rotate-kek re-seals long targets' records"

# rotate-kek through the mount: the walk re-seals records while the
# links stay readable, and they read after it and after a remount.
ST=$WORK/st
K=(--keyfile "$C.key" --state-dir "$ST")
mount_with "$C" "$M" "${K[@]}"
before=$(cat "$C"/atrestfs.conf.links/* | cksum)
"$ATR" rotate-kek -q "${K[@]}" "$M" </dev/null 2>"$WORK/rot.err" ||
	fail "rotate-kek $M: $(cat "$WORK/rot.err")"
[ "$(cat "$C"/atrestfs.conf.links/* | cksum)" != "$before" ] ||
	fail "rotate-kek through the mount left the records as they were"
[ "$(readlink "$M/d/a")" = "$t" ] || fail "a long link after rotate-kek through the mount"
unmount_vol "$M"
mount_with "$C" "$M" "${K[@]}"
[ "$(readlink "$M/d/a")" = "$t" ] && [ "$(readlink "$M/d/b")" = "${t//a/b}" ] ||
	fail "long links after rotate-kek through the mount and a remount"
unmount_vol "$M"
ok "rotate-kek through the mount re-seals long targets' records"
