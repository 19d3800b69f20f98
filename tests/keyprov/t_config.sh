#!/usr/bin/env bash
# "atrestfs config": the audit log and access policy of an existing volume
# change under a fresh MAC, with the key, and take effect at the next mount;
# the change itself is audited, to the old destination and the new.
. "$(dirname "$0")/../integration/lib.sh"

C=$WORK/c M=$WORK/m LOG=$WORK/audit.log
new_volume "$C"
mount_vol "$C" "$M"
echo data >"$M/f"
unmount_vol "$M"
"$ATR" config "$C" | grep -qx "audit_file=" || fail "config shows an audit file on a new volume"

"$ATR" config -q --keyfile "$C.key" --audit-file "$LOG" --allow-uid 12345 "$C" ||
	fail "config --audit-file --allow-uid"
"$ATR" config "$C" >"$WORK/show"
grep -qx "audit_file=$LOG" "$WORK/show" && grep -qx "allow_uids=12345" "$WORK/show" ||
	fail "config does not show the new settings: $(cat "$WORK/show")"
grep -q '"event":"config_change"' "$LOG" || fail "the change is not in the new audit log"
[ "$(stat -c %a "$LOG")" = 600 ] || fail "audit log mode $(stat -c %a "$LOG")"
mount_vol "$C" "$M"
out=$(cat "$M/f" 2>&1) && fail "root read a file the policy denies"
case "$out" in *"Permission denied"*) ;; *) fail "policy: $out" ;; esac
unmount_vol "$M"
grep -q '"event":"access_denied".*"uid":0' "$LOG" || fail "denial not audited"
ok "config turns on an audit log and a policy; the next mount obeys"

"$ATR" config -q --keyfile "$C.key" --no-policy --no-audit "$C" || fail "config --no-*"
n=$(grep -c . "$LOG")
[ "$(grep -c '"event":"config_change"' "$LOG")" = 2 ] ||
	fail "turning audit off is not recorded in the old log"
mount_vol "$C" "$M"
[ "$(cat "$M/f")" = data ] || fail "read after the policy is gone"
unmount_vol "$M"
[ "$(grep -c . "$LOG")" = "$n" ] || fail "still audited after --no-audit"
ok "config turns them off again"

head -c 32 /dev/urandom >"$WORK/other.key" && chmod 600 "$WORK/other.key"
expect 3 "does not open volume" "$ATR" config --keyfile "$WORK/other.key" --no-audit "$C"
expect 2 "belong to atrestfs config" "$ATR" keyslot remove --keyfile "$C.key" --no-audit "$C" 0
expect 2 "bad option value" "$ATR" config --keyfile "$C.key" --allow-uid -1 "$C"
expect 2 "absolute" "$ATR" config --keyfile "$C.key" --audit-file relative.log "$C"
long=/$(printf 'd%.0s' $(seq 1030))/audit.log
expect 2 "at most 1024 characters" "$ATR" config --keyfile "$C.key" --audit-file "$long" "$C"
expect 2 "at most 1024 characters" "$ATR" init --keyfile "$WORK/long.key" --audit-file "$long" "$WORK/long"
ok "config needs the volume's key and valid settings"

# An audit log that cannot be opened is refused before it is stored; one
# whose directory goes away later shuts the volume (key use must be
# audited) but never config, which can then move or drop it.
cp "$C/atrestfs.conf" "$WORK/conf.before"
expect 2 "atrestfs: --audit-file: cannot open audit log /no/such/dir/a.log: No such file or directory; nothing was changed (make its directory first, or choose another path)" \
	"$ATR" config --keyfile "$C.key" --audit-file /no/such/dir/a.log "$C"
cmp -s "$C/atrestfs.conf" "$WORK/conf.before" || fail "a refused --audit-file was stored"
mount_vol "$C" "$M"
unmount_vol "$M"
mkdir "$WORK/logs"
"$ATR" config -q --keyfile "$C.key" --audit-file "$WORK/logs/a.log" "$C" || fail "config --audit-file in a directory that exists"
rm -r "$WORK/logs"
expect 1 "cannot open audit log $WORK/logs/a.log: No such file or directory: key use on volume" \
	"$ATR" mount --keyfile "$C.key" "$C" "$M"
expect 1 "or change the setting with atrestfs config CIPHERDIR --audit-file PATH or --no-audit" \
	"$ATR" mount --keyfile "$C.key" "$C" "$M"
out=$(setsid -w "$ATR" config --keyfile "$C.key" --no-audit "$C" 2>&1 </dev/null) ||
	fail "config --no-audit with the audit log's directory gone: $out"
case "$out" in *"atrestfs: warning: cannot open audit log $WORK/logs/a.log"*"Changed the audit log"*) ;;
*) fail "config --no-audit with the log gone says: $out" ;; esac
"$ATR" config "$C" | grep -qx "audit_file=" || fail "--no-audit not stored"
mount_vol "$C" "$M"
[ "$(cat "$M/f")" = data ] || fail "read after the broken audit log is dropped"
unmount_vol "$M"
ok "a bad audit log is refused before it is stored, and never locks the owner out of config"
