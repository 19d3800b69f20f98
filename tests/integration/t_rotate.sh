#!/usr/bin/env bash
# Root-key rotation as the README tells it: add a keyslot under the new
# key, mount with it, remove the old slot.  Files are not rewritten (their
# bytes and headers are identical before and after), the new key mounts,
# the old one no longer does.
. "$(dirname "$0")/lib.sh"

C=$WORK/c M=$WORK/m
new_volume "$C" --audit-file "$WORK/audit.log"
mount_vol "$C" "$M"
head -c 100000 /dev/urandom >"$WORK/data"
cp "$WORK/data" "$M/file"
unmount_vol "$M"
snapshot() {
	(cd "$C" && find . -type f ! -name atrestfs.conf -print0 | sort -z |
		xargs -0 sh -c 'for f; do md5sum "$f"; getfattr --absolute-names -d -m - -e hex "$f"; done' sh)
}
before=$(snapshot)

"$ATR" keyslot add -q --keyfile "$C.key" --new-provider keyfile \
	--new-keyfile "$WORK/new.key" "$C" || fail "keyslot add"
[ "$(stat -c %a "$WORK/new.key")" = 600 ] || fail "new key file mode"
"$ATR" keyslot list "$C" | grep -c "provider=keyfile" | grep -qx 2 || fail "two keyslots"
"$ATR" mount --keyfile "$WORK/new.key" "$C" "$M" || fail "mount with the new key"
MOUNTS+=("$M")
cmp "$WORK/data" "$M/file" || fail "data through the new key"
"$ATR" unmount "$M" || fail "unmount"
"$ATR" keyslot remove -q --keyfile "$WORK/new.key" "$C" 0 || fail "keyslot remove 0"
# Removed is a soft delete: refused with its own message until purged.
"$ATR" mount --keyfile "$C.key" "$C" "$M" 2>"$WORK/old.err"
rc=$?
[ $rc = 3 ] || fail "the removed key still mounts (exit $rc)"
grep -q "keyslot 0 (keyfile, key kf-[0-9a-f]*): removed; until it is purged" "$WORK/old.err" || fail "removed key message: $(cat "$WORK/old.err")"
"$ATR" keyslot purge -q --force --keyfile "$WORK/new.key" "$C" 0 || fail "keyslot purge 0"
"$ATR" keyslot list "$C" | grep -c "provider=keyfile" | grep -qx 1 || fail "one keyslot left"
"$ATR" mount --keyfile "$C.key" "$C" "$M" 2>"$WORK/old.err"
rc=$?
[ $rc = 3 ] || fail "the old key still mounts (exit $rc)"
grep -q "does not open volume" "$WORK/old.err" || fail "old key message: $(cat "$WORK/old.err")"
"$ATR" keyslot remove -q --keyfile "$WORK/new.key" "$C" 1 2>/dev/null &&
	fail "removed the last keyslot"
[ "$(snapshot)" = "$before" ] || fail "rotation rewrote files"
# The rotation's steps are in the audit log: the new wrap, the removal.
old_id=$(grep -o '"key_id":"kf-[0-9a-f]*"' "$WORK/audit.log" | head -n1)
grep '"event":"root_key_wrap"' "$WORK/audit.log" | grep -v -q -F "$old_id" ||
	fail "no audit line for the new keyslot's wrap"
grep '"event":"keyslot_remove"' "$WORK/audit.log" | grep -q -F "$old_id" ||
	fail "no audit line for removing the old keyslot: $(cat "$WORK/audit.log")"
"$ATR" mount --keyfile "$WORK/new.key" "$C" "$M" || fail "mount after rotation"
cmp "$WORK/data" "$M/file" || fail "data after rotation"
"$ATR" unmount "$M" || fail "unmount"
ok "root key rotated through keyslots; files untouched; old key refused"

# Keyslot changes at once: each loads, changes and stores the config, and
# without a lock one store undid the other's (both said "Added").
C2=$WORK/c2
new_volume "$C2"
pids=()
for i in 1 2 3 4; do
	"$ATR" keyslot add -q --keyfile "$C2.key" --new-provider keyfile \
		--new-keyfile "$WORK/k$i.key" "$C2" & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a concurrent keyslot add failed"; done
n=$("$ATR" keyslot list "$C2" | grep -c "provider=keyfile")
[ "$n" = 5 ] || fail "4 concurrent keyslot adds left $n keyslots, want 5"
for i in 1 2 3 4; do
	"$ATR" mount --keyfile "$WORK/k$i.key" "$C2" "$M" || fail "mount with concurrently added key $i"
	MOUNTS+=("$M")
	"$ATR" unmount "$M" || fail "unmount"
done
ok "4 keyslots added at once: all 5 kept, each opens the volume"

# What the backing directory holds at the config's names is not trusted: a
# FIFO as atrestfs.conf is refused, not waited on; a hard link at the
# temporary name is not written through.
C3=$WORK/c3
new_volume "$C3"
echo victim >"$WORK/victim"
ln "$WORK/victim" "$C3/atrestfs.conf.tmp" || fail "ln"
"$ATR" keyslot add -q --keyfile "$C3.key" --new-provider keyfile \
	--new-keyfile "$WORK/k5.key" "$C3" || fail "keyslot add over a planted temporary"
[ "$(cat "$WORK/victim")" = victim ] || fail "keyslot add wrote through a hard link at atrestfs.conf.tmp"
mkdir "$WORK/c4" && mkfifo "$WORK/c4/atrestfs.conf"
timeout 10 "$ATR" keyslot list "$WORK/c4" >/dev/null 2>&1
[ $? = 124 ] && fail "keyslot list waits on a FIFO as atrestfs.conf"
ok "a FIFO as atrestfs.conf refused; a hard link at atrestfs.conf.tmp not written through"
