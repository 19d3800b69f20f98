#!/usr/bin/env bash
# atrestfs rotate-root: one keyslot moves to a new root key in one commit.
# No file is touched (headers and data identical), the new key mounts,
# the old one no longer does, other keyslots are left as they were, and
# the key the keyslot already has is refused.  (keyfile to pkcs11:
# tests/keyprov/t_rotate_root_pkcs11.sh.)
. "$(dirname "$0")/lib.sh"

C=$WORK/c M=$WORK/m ST=$WORK/st AUD=$WORK/audit.log
new_volume "$C" --state-dir "$ST" --audit-file "$AUD"
mount_with "$C" "$M" --keyfile "$C.key" --state-dir "$ST"
head -c 100000 /dev/urandom >"$WORK/data"
cp "$WORK/data" "$M/file" || fail "write"
unmount_vol "$M"
"$ATR" keyslot add -q --keyfile "$C.key" --state-dir "$ST" --new-provider keyfile \
	--new-keyfile "$WORK/other.key" "$C" || fail "keyslot add"
snapshot() {
	(cd "$C" && find . -type f ! -name atrestfs.conf -print0 | sort -z |
		xargs -0 sh -c 'for f; do md5sum "$f"; getfattr --absolute-names -d -m - -e hex "$f"; done' sh)
}
before=$(snapshot)
slot1=$(sed -n '/wrapped_kek/p' "$C/atrestfs.conf" | sed -n 2p)

expect 2 "rotate-root needs --new-provider" "$ATR" rotate-root --keyfile "$C.key" "$C"
expect 2 "already uses key" "$ATR" rotate-root --keyfile "$C.key" --state-dir "$ST" \
	--new-provider keyfile --new-keyfile "$C.key" "$C"
"$ATR" rotate-root --keyfile "$C.key" --state-dir "$ST" --new-provider keyfile \
	--new-keyfile "$WORK/new.key" "$C" >"$WORK/out" 2>&1 || fail "rotate-root: $(cat "$WORK/out")"
grep -q "Keyslot 0 of $C now uses key kf-" "$WORK/out" || fail "message: $(cat "$WORK/out")"
grep -q "run atrestfs rotate-kek to revoke it" "$WORK/out" || fail "no word on old configs"
[ "$(snapshot)" = "$before" ] || fail "rotate-root rewrote files"
[ "$(sed -n '/wrapped_kek/p' "$C/atrestfs.conf" | sed -n 2p)" = "$slot1" ] ||
	fail "keyslot 1 changed"
[ "$(grep -c 'provider = "keyfile"' "$C/atrestfs.conf")" = 2 ] || fail "keyslot count"
expect 3 "does not open volume" "$ATR" mount --keyfile "$C.key" --state-dir "$ST" "$C" "$M"
mount_with "$C" "$M" --keyfile "$WORK/new.key" --state-dir "$ST"
cmp "$WORK/data" "$M/file" || fail "data through the new key"
unmount_vol "$M"
mount_with "$C" "$M" --keyfile "$WORK/other.key" --state-dir "$ST"
cmp "$WORK/data" "$M/file" || fail "data through the other keyslot"
unmount_vol "$M"
grep '"event":"root_key_wrap"' "$AUD" | tail -n1 | grep -q "$(sed -n 's/.*key_id = "\(kf-[0-9a-f]*\)".*/\1/p' "$C/atrestfs.conf" | head -n1)" ||
	fail "no audit line for the new wrap"
grep -q '"event":"keyslot_remove"' "$AUD" || fail "no audit line for the old key"
ok "rotate-root: keyfile to another keyfile in one commit, files untouched, old key refused"
