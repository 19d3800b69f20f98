#!/usr/bin/env bash
# The keyslot lifecycle through the real command: disable and enable,
# remove (a soft delete) and restore, expiry, stable numbers and labels,
# purge refused without an export, export and import, and destroy.  Each
# refusal is checked with its exit code and message, each step in the
# audit log.
. "$(dirname "$0")/../integration/lib.sh"

C=$WORK/c M=$WORK/m ST=$WORK/state LOG=$WORK/audit.log
ks() {
	local verb=$1
	shift
	"$ATR" keyslot "$verb" -q --state-dir "$ST" "$@"
}
new_volume "$C" --audit-file "$LOG"
mount_vol "$C" "$M"
echo hello >"$M/f"
unmount_vol "$M"
# can_mount KEY [OPTIONS]: the key mounts the volume and reads the file.
can_mount() {
	local key=$1
	shift
	mount_with "$C" "$M" --keyfile "$key" "$@"
	[ "$(cat "$M/f")" = hello ] || fail "read through $key"
	unmount_vol "$M"
}

ks add --keyfile "$C.key" --new-provider keyfile --new-keyfile "$WORK/k1" \
	--label backup "$C" || fail "keyslot add k1"
"$ATR" keyslot list "$C" | grep -q '^1: provider=keyfile .* label="backup"$' ||
	fail "list: $("$ATR" keyslot list "$C")"
expect 3 "is already in keyslot 1" "$ATR" keyslot add --state-dir "$ST" \
	--keyfile "$C.key" --new-provider keyfile --new-keyfile "$WORK/k1" "$C"
[ "$("$ATR" keyslot list "$C" | grep -c '^[0-9]:')" = 2 ] || fail "a duplicate key was added"
ok "labels; a key already in a keyslot is refused"

# Disable: refused with a message naming the keyslot; enable brings it back.
ks disable --keyfile "$C.key" "$C" 1 || fail "disable 1"
"$ATR" keyslot list "$C" | grep -q '^1: .* state=disabled' || fail "list shows no disabled"
expect 3 "keyslot 1 \"backup\" (keyfile, key kf-" "$ATR" mount --keyfile "$WORK/k1" "$C" "$M"
expect 3 "): disabled; 'atrestfs keyslot enable CIPHERDIR 1' enables it again" \
	"$ATR" mount --keyfile "$WORK/k1" "$C" "$M"
can_mount "$C.key"
expect 4 "refusing to disable keyslot 0 of $C: it is the last one that can mount the volume" \
	"$ATR" keyslot disable --state-dir "$ST" --keyfile "$C.key" "$C" 0
# The disabled key itself may enable its keyslot: not a revocation.
ks enable --keyfile "$WORK/k1" "$C" 1 || fail "enable 1 with its own key"
can_mount "$WORK/k1"
ok "disable refuses the key with a clear message, enable restores it; the last one is kept"

# Remove is a soft delete: refused until restored; enable is not restore.
ks remove --keyfile "$C.key" "$C" 1 || fail "remove 1"
expect 3 "): removed; until it is purged, 'atrestfs keyslot restore CIPHERDIR 1' brings it back" \
	"$ATR" mount --keyfile "$WORK/k1" "$C" "$M"
expect 2 "is removed: 'atrestfs keyslot restore" \
	"$ATR" keyslot enable --state-dir "$ST" --keyfile "$C.key" "$C" 1
expect 4 "refusing to remove keyslot 0" \
	"$ATR" keyslot remove --state-dir "$ST" --keyfile "$C.key" "$C" 0
ks restore --keyfile "$C.key" "$C" 1 || fail "restore 1"
can_mount "$WORK/k1"
ok "remove is a soft delete: refused with its message, restore brings it back"

# Expiry: the clock refuses an expired keyslot; the same key extends it.
ks add --keyfile "$C.key" --new-provider keyfile --new-keyfile "$WORK/k2" "$C" ||
	fail "keyslot add k2"
ks expire --keyfile "$C.key" "$C" 2 2020-01-01 || fail "expire 2 in the past"
"$ATR" keyslot list "$C" | grep -q '^2: .* state=expired expires=2020-01-01T00:00:00Z' ||
	fail "list: $("$ATR" keyslot list "$C")"
expect 3 "keyslot 2 (keyfile, key kf-" "$ATR" mount --keyfile "$WORK/k2" "$C" "$M"
expect 3 "): expired at 2020-01-01T00:00:00Z; 'atrestfs keyslot expire CIPHERDIR 2 DATE|never' extends it" \
	"$ATR" mount --keyfile "$WORK/k2" "$C" "$M"
ks expire --keyfile "$WORK/k2" "$C" 2 2999-12-31T23:00:00Z || fail "extend 2 with its own key"
can_mount "$WORK/k2" --slot 2
"$ATR" keyslot list "$C" | grep -q '^2: .* expires=2999-12-31T23:00:00Z$' || fail "future expiry not listed"
ks expire --keyfile "$C.key" "$C" 2 never || fail "expire never"
"$ATR" keyslot list "$C" | grep '^2: ' | grep -q expires && fail "still expires"
expect 2 "want a UTC date YYYY-MM-DD" \
	"$ATR" keyslot expire --state-dir "$ST" --keyfile "$C.key" "$C" 2 2027-02-30
ok "expire refuses an expired keyslot with its date, its own key extends it"

# Stable numbers: purging 1 leaves 2 as 2; the next add takes number 1.
ks remove --keyfile "$C.key" "$C" 1 || fail "remove 1"
expect 4 "refusing to purge keyslot 1 of $C: no export made on this machine holds it" \
	"$ATR" keyslot purge --state-dir "$ST" --keyfile "$C.key" "$C" 1
expect 2 "is enabled, not removed" \
	"$ATR" keyslot purge --state-dir "$ST" --keyfile "$C.key" "$C" 2
ks export --keyfile "$C.key" "$C" "$WORK/exp" || fail "export"
[ "$(stat -c %a "$WORK/exp")" = 600 ] || fail "export mode"
# The config holds the same wrapped keys (a passphrase's can be guessed
# at offline): no more readable than an export.
[ "$(stat -c %a "$C/atrestfs.conf")" = 600 ] ||
	fail "atrestfs.conf mode $(stat -c %a "$C/atrestfs.conf"), want 600"
grep -q 'wrapped_kek' "$WORK/exp" || fail "export holds no keyslot"
ks purge --keyfile "$C.key" "$C" 1 || fail "purge 1 after export"
"$ATR" keyslot list "$C" | grep -q '^1:' && fail "keyslot 1 still listed"
can_mount "$WORK/k2" --slot 2
expect 3 "does not open volume" "$ATR" mount --keyfile "$WORK/k1" "$C" "$M"
ok "purge refused without an export, then done; numbers stay"

# Import brings the purged keyslot back, as it was exported (label too).
ks import --keyfile "$C.key" "$C" "$WORK/exp" || fail "import"
"$ATR" keyslot list "$C" | grep -q '^1: provider=keyfile .* state=removed label="backup"$' ||
	fail "imported: $("$ATR" keyslot list "$C")"
out=$("$ATR" keyslot import --state-dir "$ST" --keyfile "$C.key" "$C" "$WORK/exp")
case "$out" in *"Nothing to import"*) ;; *) fail "second import: $out" ;; esac
ks restore --keyfile "$C.key" "$C" 1 || fail "restore imported 1"
can_mount "$WORK/k1"
# Refused: an export inside the volume, over a file, changed, or another volume's.
expect 2 "is inside the volume" "$ATR" keyslot export --state-dir "$ST" --keyfile "$C.key" "$C" "$C/exp"
expect 1 "an export never replaces a file" \
	"$ATR" keyslot export --state-dir "$ST" --keyfile "$C.key" "$C" "$WORK/exp"
sed 's/label = "backup"/label = "backuq"/' "$WORK/exp" >"$WORK/exp.bad"
ks remove --keyfile "$C.key" "$C" 1 && ks purge --keyfile "$C.key" "$C" 1 || fail "purge 1 again"
expect 4 "fails its MAC check" "$ATR" keyslot import --state-dir "$ST" --keyfile "$C.key" "$C" "$WORK/exp.bad"
new_volume "$WORK/other"
"$ATR" keyslot export -q --state-dir "$ST" --keyfile "$WORK/other.key" "$WORK/other" "$WORK/exp.other" ||
	fail "export other"
expect 4 "not of this volume" "$ATR" keyslot import --state-dir "$ST" --keyfile "$C.key" "$C" "$WORK/exp.other"
"$ATR" keyslot list "$C" | grep -q '^1:' && fail "a refused import added a keyslot"
# k1 added again (a new wrap of the same key): the export's copy is not a second one.
ks add --keyfile "$C.key" --new-provider keyfile --new-keyfile "$WORK/k1" "$C" || fail "add k1 again"
out=$("$ATR" keyslot import --state-dir "$ST" --keyfile "$C.key" "$C" "$WORK/exp")
case "$out" in *"Nothing to import"*) ;; *) fail "import of a key in a keyslot: $out" ;; esac
ok "import restores a purged keyslot; a changed or foreign export is refused"

for e in keyslot_disable keyslot_enable keyslot_remove keyslot_restore keyslot_expire \
	keyslot_purge keyslot_export keyslot_import; do
	grep -q "\"event\":\"$e\"" "$LOG" || fail "no $e in the audit log"
done
ok "every lifecycle step is audited"

# A disabled passphrase keyslot tried before the key file that opens: its
# refusal is audited, as a refused unwrap, once the volume unlocks.
export ATRESTFS_PROVIDERS_CONF=$WORK/providers.conf
echo 'passphrase = { scrypt_n = "16384"; };' >"$ATRESTFS_PROVIDERS_CONF"
printf 'secret words\n' >"$WORK/pass"
C2=$WORK/c2 LOG2=$WORK/audit2.log
mkdir -p "$C2"
setsid -w "$ATR" init -q --provider passphrase --passfile "$WORK/pass" --audit-file "$LOG2" "$C2" \
	</dev/null || fail "init passphrase volume"
setsid -w "$ATR" keyslot add -q --state-dir "$ST" --passfile "$WORK/pass" --new-provider keyfile \
	--new-keyfile "$WORK/c2.key" "$C2" </dev/null || fail "add keyfile to c2"
ks disable --keyfile "$WORK/c2.key" "$C2" 0 || fail "disable passphrase slot"
setsid -w "$ATR" config -q --state-dir "$ST" --keyfile "$WORK/c2.key" --passfile "$WORK/pass" \
	--audit-syslog "$C2" </dev/null || fail "unlock c2 past a disabled passphrase slot"
grep '"event":"root_key_unwrap"' "$LOG2" | grep '"provider":"passphrase"' |
	grep -q '"result":"EKEYREVOKED"' || fail "the disabled keyslot's refusal is not audited"
ok "a disabled keyslot tried on the way is audited as refused"

# destroy: refused while mounted and without a confirmation; then the
# config and the key file are overwritten and gone, and neither the old
# key nor the export opens anything.
cp "$C.key" "$WORK/key.copy"
cp "$C/atrestfs.conf" "$WORK/conf.copy"
exec 7<"$C.key" 8<"$C/atrestfs.conf"
mount_vol "$C" "$M"
expect 5 "is mounted at $M: unmount it first" "$ATR" destroy --yes-destroy --keyfile "$C.key" "$C"
unmount_vol "$M"
expect 2 "needs a confirmation" "$ATR" destroy --keyfile "$C.key" "$C"
[ -e "$C/atrestfs.conf" ] && [ -e "$C.key" ] || fail "destroy without confirmation destroyed"
# Whoever writes the backing directory may put a FIFO at the temporary
# name (destroy must not hang on it), or a hard link to a file outside
# the volume (root must not overwrite that file): both are only removed.
cp -a "$C" "$WORK/d2"
mkfifo "$WORK/d2/atrestfs.conf.tmp"
timeout 300 "$ATR" destroy -q --yes-destroy --keep-keyfile --keyfile "$C.key" "$WORK/d2" \
	</dev/null || fail "destroy with a FIFO planted exited $?"
[ -e "$WORK/d2/atrestfs.conf" ] || [ -e "$WORK/d2/atrestfs.conf.tmp" ] &&
	fail "destroy left a name behind"
echo "not the volume's" >"$WORK/victim"
ln "$WORK/victim" "$C/atrestfs.conf.tmp"
"$ATR" destroy -q --yes-destroy --keyfile "$C.key" "$C" || fail "destroy"
[ -e "$C/atrestfs.conf" ] || [ -e "$C.key" ] && fail "destroy left the config or key file"
cmp -s /proc/self/fd/7 "$WORK/key.copy" && fail "the key file was removed, not overwritten"
cmp -s /proc/self/fd/8 "$WORK/conf.copy" && fail "atrestfs.conf was removed, not overwritten"
exec 7<&- 8<&-
[ "$(cat "$WORK/victim")" = "not the volume's" ] ||
	fail "destroy overwrote a file outside the volume through a hard link"
[ -e "$C/atrestfs.conf.tmp" ] && fail "destroy left the hard link"
grep -q '"event":"volume_destroy"' "$LOG" || fail "destroy not audited"
expect 4 "is not an atrestfs volume" "$ATR" mount --keyfile "$WORK/key.copy" "$C" "$M"
expect 4 "is not an atrestfs volume" \
	"$ATR" keyslot import --state-dir "$ST" --keyfile "$WORK/key.copy" "$C" "$WORK/exp"
ok "destroy: refused mounted or unconfirmed; key file and config shredded; old key and export open nothing"
