#!/usr/bin/env bash
# atrestfs rekey (issue 17), offline: a file gets a new DEK and file ID
# and every extent is re-sealed (each extent's backing bytes differ, holes
# stay holes), its content, owner, mode, times and user xattrs stay; the
# next mount reads it without a rollback alarm, and refuses the old copy.
# kill -9 at seeded random moments leaves the old file or the new one,
# whole, never a mix, and a second run finishes.  Refusals each with
# their message and exit code; the audit log has every file; progress is
# a bar on a terminal, a line per file otherwise, nothing with -q.
. "$(dirname "$0")/lib.sh"

E=4096
C=$WORK/c M=$WORK/m ST=$WORK/state AU=$WORK/audit.log
K=(--keyfile "$C.key" --state-dir "$ST")
RANDOM=${REKEY_SEED:-1717}

mount_st() {
	mount_with "$C" "$M" "${K[@]}"
}

# The log must say nothing about any file: no EIO was due.
no_alarm() {
	if grep -E "$C/|rolled back|version record|fails authentication|authenticate" "$M.log"; then
		fail "$1: a false alarm in the log"
	fi
}

# file_id FILE: its header's file ID (bytes 16..31), hex
file_id() {
	getfattr --absolute-names -e hex -n user.atrestfs.hdr "$1" |
		sed -n 's/^user.atrestfs.hdr=0x//p' | cut -c33-64
}

# all_new OLD NEW: every sealed extent's bytes differ, holes stay holes
all_new() {
	python3 - "$1" "$2" "$E" <<'EOF'
import sys
old = open(sys.argv[1], "rb").read()
new = open(sys.argv[2], "rb").read()
d = int(sys.argv[3]) + 28
if len(old) != len(new):
    sys.exit("backing size %d, was %d" % (len(new), len(old)))
for off in range(0, len(old), d):
    a, b = old[off:off + d], new[off:off + d]
    if not any(a):
        if any(b):
            sys.exit("extent %d was a hole and is not" % (off // d))
        continue
    same = sum(1 for x, y in zip(a, b) if x == y)
    if a[:12] == b[:12] or a[-16:] == b[-16:] or same > len(a) // 16:
        sys.exit("extent %d: %d of %d bytes unchanged" % (off // d, same, len(a)))
EOF
}

mkdir -p "$C"
# Plain names: the test reaches files in the backing directory by name
# (t_names.sh rekeys a volume with encrypted names).
"$ATR" init -q "${K[@]}" --names plain --audit-file "$AU" "$C" || fail "init"
mount_st
head -c $((3 * 1024 * 1024 + 123)) /dev/urandom >"$M/big"
mkdir "$M/dir"
printf 'small\n' >"$M/dir/small"
: >"$M/empty"
# A sparse file: holes between written extents, a sparse record.
truncate -s $((40 * E)) "$M/sparse"
printf 'middle' | dd of="$M/sparse" bs=1 seek=$((20 * E)) conv=notrunc status=none
printf 'end\n' >>"$M/sparse"
setfattr -n user.colour -v blue "$M/big"
chown 1234:5678 "$M/dir/small"
chmod 0640 "$M/dir/small"
touch -d '2001-02-03 04:05:06' "$M/dir/small"
ln -s big "$M/link"
printf 'linked\n' >"$M/hard1"
ln "$M/hard1" "$M/hard2"
ln -s dir "$M/dirlink"
for f in big dir/small empty sparse hard1; do
	sha256sum "$M/$f" | cut -d' ' -f1 >"$WORK/$(basename "$f").sum"
done
unmount_vol "$M"
cp -a "$C" "$WORK/before"
stat -c '%u:%g %a %Y' "$C/dir/small" >"$WORK/small.stat"

# ---- refusals ----
mount_st
expect 5 "is mounted at $M" "$ATR" rekey "${K[@]}" "$C" big
# However the backing directory's path is spelt: a bind mount of it.
mkdir -p "$WORK/bind"
mount --bind "$C" "$WORK/bind" || fail "bind mount"
MOUNTS+=("$WORK/bind")
expect 5 "is mounted at $M" "$ATR" rekey "${K[@]}" "$WORK/bind" big
umount "$WORK/bind" || fail "umount bind"
unmount_vol "$M"
expect 1 "symbolic link, not a regular file" "$ATR" rekey "${K[@]}" "$C" link
expect 1 "symbolic link, which rekey does not follow" \
	"$ATR" rekey "${K[@]}" "$C" dirlink/small
expect 1 "has 2 hard links" "$ATR" rekey "${K[@]}" "$C" hard1
expect 1 "not a path to a file relative to the volume's root" \
	"$ATR" rekey "${K[@]}" "$C" /big
expect 1 "not a regular file" "$ATR" rekey "${K[@]}" "$C" dir
expect 1 "not a file of the volume but atrestfs's own" \
	"$ATR" rekey "${K[@]}" "$C" atrestfs.conf
expect 1 "nothere: No such file" "$ATR" rekey "${K[@]}" "$C" nothere
expect 2 "either PATHs inside the volume or --all" "$ATR" rekey "${K[@]}" "$C"
expect 2 "either PATHs inside the volume or --all" \
	"$ATR" rekey "${K[@]}" --all "$C" big
cmp -s "$C/big" "$WORK/before/big" || fail "a refusal changed big"
ok "refusals"

# ---- a file damaged in the backing directory is refused, left alone ----
cp -a "$C/dir/small" "$WORK/small.good"
flip_byte "$C/dir/small" 14
cp -a "$C/dir/small" "$WORK/small.bad"
expect 6 "dir/small: extent 0 does not authenticate" \
	"$ATR" rekey "${K[@]}" "$C" dir/small
cmp -s "$C/dir/small" "$WORK/small.bad" || fail "damaged file changed"
cp -a "$WORK/small.good" "$C/dir/small"
ok "damaged file refused"

# ---- rekey: new key, every extent re-sealed, the rest as it was ----
grep -q '"event":"dek_rekey".*"result":"EBADMSG"' "$AU" ||
	fail "audit: no refused dek_rekey: $(cat "$AU")"
n0=$(wc -l <"$AU")
out=$("$ATR" rekey "${K[@]}" "$C" big ./dir/small sparse empty 2>&1) ||
	fail "rekey: $out"
for f in big dir/small sparse empty; do
	case "$out" in *"Rekeyed $f"*) ;; *) fail "no progress line for $f: $out" ;; esac
	[ "$(file_id "$C/$f")" != "$(file_id "$WORK/before/$f")" ] ||
		fail "$f kept its file ID"
	all_new "$WORK/before/$f" "$C/$f" || fail "$f: not all re-encrypted"
done
[ "$(stat -c '%u:%g %a %Y' "$C/dir/small")" = "$(cat "$WORK/small.stat")" ] ||
	fail "owner, mode or mtime of dir/small changed"
[ "$(du -k "$C/sparse" | cut -f1)" -lt 40 ] || fail "holes of sparse filled in"
ls -a "$C" "$C/dir" | grep -q '^\.atrestfs-rekey' && fail "a temporary left"
tail -n +$((n0 + 1)) "$AU" >"$WORK/audit.run"
[ "$(grep -c '"event":"dek_rekey".*"result":"ok"' "$WORK/audit.run")" = 4 ] ||
	fail "audit: not 4 dek_rekey: $(cat "$WORK/audit.run")"
[ "$(grep -c '"event":"dek_create".*"result":"ok"' "$WORK/audit.run")" = 4 ] ||
	fail "audit: not 4 dek_create: $(cat "$WORK/audit.run")"
grep -q "\"event\":\"dek_rekey\".*\"file_id\":\"$(file_id "$WORK/before/big")\"" "$WORK/audit.run" ||
	fail "audit: dek_rekey does not name the old file ID"
grep -q "\"event\":\"dek_create\".*\"file_id\":\"$(file_id "$C/big")\"" "$WORK/audit.run" ||
	fail "audit: dek_create does not name the new file ID"
mount_st
for f in big dir/small empty sparse; do
	[ "$(sha256sum "$M/$f" | cut -d' ' -f1)" = "$(cat "$WORK/$(basename "$f").sum")" ] ||
		fail "$f reads back different"
done
[ "$(getfattr --absolute-names --only-values -n user.colour "$M/big")" = blue ] || fail "user xattr lost"
printf 'more\n' >>"$M/dir/small"
no_alarm "after rekey"
unmount_vol "$M"
ok "rekey re-encrypts every extent, content and metadata kept"

# ---- the copy from before the rekey is refused as rolled back ----
cp -a "$C/big" "$WORK/big.new"
cp -a "$WORK/before/big" "$C/big"
mount_st
expect_eio cat "$M/big"
unmount_vol "$M"
# Nor does rekey launder it into a fresh file: refused, audited.
expect 6 "big: it is older than the version recorded on this machine" \
	"$ATR" rekey "${K[@]}" "$C" big
cmp -s "$C/big" "$WORK/before/big" || fail "rekey changed the rolled-back big"
tail -n 1 "$AU" | grep -q "\"event\":\"dek_rekey\".*\"file_id\":\"$(file_id "$C/big")\".*\"result\":\"EBADMSG\"" ||
	fail "refused rekey of a rolled-back file not audited: $(tail -n 1 "$AU")"
cp -a "$WORK/big.new" "$C/big"
ok "old copy refused after rekey"

# ---- nor a copy carrying the dirty record of a change settled since ----
mount_st
printf 'redo, settled\n' >"$M/redo"
unmount_vol "$M"
cp -a "$C/redo" "$WORK/redo.v2"
mount_st
dirty=$(dirty_record "$M/redo" "$C/redo") || fail "redo: the change"
unmount_vol "$M"
cp -a "$WORK/redo.v2" "$C/redo"
setfattr -n user.atrestfs.ver -v "$dirty" "$C/redo"
expect 6 "redo: it is older than the version recorded on this machine" \
	"$ATR" rekey "${K[@]}" "$C" redo
cmp -s "$C/redo" "$WORK/redo.v2" || fail "rekey changed the rolled-back redo"
rm "$C/redo"
ok "a dirty record put back after its change settled: rekey refuses it"

# ---- leftover of a crash between link and rename: hidden, then removed ----
left=$C/dir/.atrestfs-rekey.$(file_id "$C/dir/small")
cp -a "$C/dir/small" "$left"
mount_st
ls -a "$M/dir" | grep -q atrestfs-rekey && fail "leftover listed in the mount"
[ -e "$M/dir/$(basename "$left")" ] && fail "leftover reachable in the mount"
touch "$M/dir/.atrestfs-rekey.x" 2>/dev/null && fail "made a reserved name"
unmount_vol "$M"
out=$("$ATR" rekey "${K[@]}" "$C" --all 2>&1)
rc=$?
[ $rc = 1 ] || fail "rekey --all with a hard link exited $rc: $out"
case "$out" in *"hard1: has 2 hard links"*) ;; *) fail "--all: no hard link message: $out" ;; esac
[ -e "$left" ] && fail "rekey --all left the leftover"
for f in big sparse dir/small; do
	case "$out" in *"Rekeyed $f"*) ;; *) fail "--all did not rekey $f: $out" ;; esac
done
ok "leftover hidden and removed; --all"

# ---- progress: a bar on a terminal, nothing with -q ----
out=$(script -qec "$ATR rekey --keyfile $C.key --state-dir $ST $C big" /dev/null) ||
	fail "rekey at a terminal: $out"
case "$out" in *"Rekeying ["*"100%"*) ;; *) fail "no progress bar: $out" ;; esac
out=$("$ATR" rekey -q "${K[@]}" "$C" big 2>&1) || fail "rekey -q: $out"
[ -z "$out" ] || fail "rekey -q said: $out"
ok "progress"

# ---- kill -9 at random moments: old or new, whole; then finish ----
mount_st
head -c $((48 * 1024 * 1024)) /dev/urandom >"$M/huge"
sum=$(sha256sum "$M/huge" | cut -d' ' -f1)
unmount_vol "$M"
olds=0 news=0
for i in $(seq 8); do
	cp -a "$C/huge" "$WORK/huge.pre"
	"$ATR" rekey -q "${K[@]}" "$C" huge &
	pid=$!
	sleep "$(printf "0.%03d" $((RANDOM % 600)))"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	if cmp -s "$C/huge" "$WORK/huge.pre" &&
		[ "$(file_id "$C/huge")" = "$(file_id "$WORK/huge.pre")" ]; then
		olds=$((olds + 1))
	else
		all_new "$WORK/huge.pre" "$C/huge" || fail "kill $i: a mix of old and new"
		[ "$(file_id "$C/huge")" != "$(file_id "$WORK/huge.pre")" ] ||
			fail "kill $i: new data under the old file ID"
		news=$((news + 1))
	fi
	mount_st
	[ "$(sha256sum "$M/huge" | cut -d' ' -f1)" = "$sum" ] ||
		fail "kill $i: huge reads back different"
	ls -a "$M" | grep -q atrestfs-rekey && fail "kill $i: a temporary listed"
	no_alarm "kill $i"
	unmount_vol "$M"
done
echo "kill -9: $olds left the old file, $news the new one"
cp -a "$C/huge" "$WORK/huge.pre"
"$ATR" rekey -q "${K[@]}" "$C" huge || fail "rekey after the kills"
all_new "$WORK/huge.pre" "$C/huge" || fail "rekey after the kills: not re-encrypted"
"$ATR" fsck -q "${K[@]}" "$C" || fail "fsck after the kills"
mount_st
[ "$(sha256sum "$M/huge" | cut -d' ' -f1)" = "$sum" ] || fail "huge after resume"
no_alarm "after resume"
unmount_vol "$M"
ok "kill -9 leaves old or new; rekey again finishes"

# ---- rekey --all cut short resumes: files it did are not done again ----
rm -f "$C/huge"
mount_st
mkdir "$M/many"
for i in $(seq 24); do head -c $((2 * 1024 * 1024)) /dev/urandom >"$M/many/f$i"; done
sha256sum "$M"/many/f* | sed "s|$M/||" >"$WORK/many.sums"
unmount_vol "$M"
"$ATR" rekey -q "${K[@]}" "$C" hard1 2>/dev/null	# refused, as it should be
ids() {
	for i in $(seq 24); do echo "f$i $(file_id "$C/many/f$i")"; done
}
ids >"$WORK/ids.0"
RUN=$ST/$(sed -n 's/^volume_uuid = "\(.*\)";/\1/p' "$C/atrestfs.conf")/rekey
ms=150 cut=0
for try in $(seq 24); do
	"$ATR" rekey -q "${K[@]}" "$C" --all 2>/dev/null &
	pid=$!
	sleep "$(printf "%d.%03d" $((ms / 1000)) $((ms % 1000)))"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	# A cut run (resumed by the next try) that had done part of many/.
	if [ -s "$RUN" ] && xxd -p -c 32 "$RUN" | cut -c1-32 |
		grep -qxFf - <(ids | cut -d' ' -f2); then
		cut=1
		break
	fi
	# Not started on many/ yet: wait longer; finished: shorter.
	if [ -e "$RUN" ] || [ "$(ids | md5sum)" = "$(md5sum <"$WORK/ids.0")" ]; then
		ms=$((ms + 50 + RANDOM % 100))
	else
		ms=$((ms / 2 + RANDOM % 20))
		ids >"$WORK/ids.0"
	fi
done
[ $cut = 1 ] || fail "no kill -9 landed in the middle of rekey --all in 24 tries"
ids >"$WORK/ids.1"
ndone=$(( $(stat -c %s "$RUN") / 32 ))
xxd -p -c 32 "$RUN" | cut -c1-32 >"$WORK/recorded"
out=$("$ATR" rekey "${K[@]}" "$C" --all 2>&1)
case "$out" in *"Resuming the rekey --all that was cut short: the $ndone files"*) ;;
*) fail "no resume notice for $ndone files: $out" ;; esac
[ -e "$RUN" ] && fail "the run's record stayed after it finished"
ids >"$WORK/ids.2"
kept=0
while read -r name id0 && read -r _ id1 <&3 && read -r _ id2 <&4; do
	[ "$id2" != "$id0" ] || fail "$name: never rekeyed"
	if grep -qx "$id1" "$WORK/recorded"; then
		[ "$id2" = "$id1" ] || fail "$name: rekeyed again though the run had done it"
		kept=$((kept + 1))
	else
		[ "$id2" != "$id1" ] || fail "$name: not rekeyed by the resumed run"
	fi
done <"$WORK/ids.0" 3<"$WORK/ids.1" 4<"$WORK/ids.2"
[ $kept -gt 0 ] || fail "the cut run had rekeyed none of many/"
mount_st
(cd "$M" && sha256sum -c --quiet "$WORK/many.sums") || fail "many: content changed"
no_alarm "after resume of --all"
unmount_vol "$M"
ok "rekey --all cut short: $ndone files recorded ($kept of many/), resumed without them"

# ---- a record of the run changed outside atrestfs is refused ----
head -c 32 /dev/urandom >"$RUN"
chmod 600 "$RUN"
expect 4 "was changed outside atrestfs (record 0 fails its MAC)" \
	"$ATR" rekey "${K[@]}" "$C" --all
rm -f "$RUN"
ok "forged record of a run refused"

# ---- format 1: the committed fixture (no version records, keyless empty files) ----
F=$TOP/tests/fixtures V1=$WORK/v1
mkdir -p "$V1"
tar --xattrs --xattrs-include='user.*' -C "$V1" -xf "$F/v1-volume.tar" || fail "untar fixture"
install -m 600 "$F/v1-volume.key" "$V1.key"
K1=(--keyfile "$V1.key" --state-dir "$WORK/state1")
cp -a "$V1" "$WORK/v1.before"
out=$("$ATR" rekey "${K1[@]}" "$V1" --all 2>&1)
rc=$?
[ $rc = 1 ] || fail "fixture rekey --all (a hard link in it) exited $rc: $out"
case "$out" in *"Rekeyed small.txt"*"Rekeyed "*) ;; *) fail "fixture: $out" ;; esac
all_new "$WORK/v1.before/small.txt" "$V1/small.txt" || fail "fixture small.txt not re-encrypted"
all_new "$WORK/v1.before/sparse" "$V1/sparse" || fail "fixture sparse not re-encrypted"
mount_with "$V1" "$M" "${K1[@]}"
(cd "$M" && sha256sum --quiet -c "$F/v1-volume.sha256") || fail "fixture contents differ after rekey"
[ "$(getfattr --absolute-names --only-values -n user.comment "$M/dir/nested.txt")" = fixture ] ||
	fail "fixture xattr lost"
unmount_vol "$M"
ok "format 1 fixture rekeyed, reads back exactly"
