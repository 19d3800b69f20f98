#!/usr/bin/env bash
# An audit log an auditor can trust, made for real: init, a mount with
# file operations, two passphrase keyslots added (each its own key ID),
# passwd (same key ID, next version), a keyslot removed; each line names
# the host, the command's step and the keyslot (by its stable number), and
# atrestfs audit verify passes, also after the daemon and commands wrote
# at once.  Failed unlocks (a wrong passphrase, a wrong key file, a
# disabled keyslot) write
# nothing to the log named by the unverified config, wait in the state
# directory and enter the log at the next unlock, before its own lines.
# Then copies of the log, damaged: a changed line, a removed line, two
# swapped lines, each reported with its line and exit 6; a cut tail shows
# against an anchor; records from before the chain are only a note.
# Lifecycle verbs, export, rekey, the rotations and destroy name their
# step too.
. "$(dirname "$0")/../integration/lib.sh"

C=$WORK/c M=$WORK/m LOG=$WORK/audit.log S=$WORK/state
export ATRESTFS_PROVIDERS_CONF=$WORK/providers.conf
echo 'passphrase = { scrypt_n = "16384"; };' >"$ATRESTFS_PROVIDERS_CONF"
printf 'first passphrase' >"$WORK/p1"
printf 'second passphrase' >"$WORK/p2"
printf 'third passphrase' >"$WORK/p3"
HOST=$(hostname)

# verify_exit FILE CODE TEXT [OPTIONS...]: audit verify exits CODE, says TEXT
verify_exit() {
	local f=$1 code=$2 text=$3 out rc
	shift 3
	out=$("$ATR" audit verify "$@" "$f" 2>&1)
	rc=$?
	[ "$rc" = "$code" ] || fail "audit verify $* $f exited $rc, want $code: $out"
	case "$out" in
	*"$text"*) ;;
	*) fail "audit verify $f: no '$text' in: $out" ;;
	esac
	printf '%s\n' "$out"
}

# --- a real log ---------------------------------------------------------------
new_volume "$C" --audit-file "$LOG" --state-dir "$S"
UUID=$(sed -n 's/^volume_uuid = "\(.*\)";$/\1/p' "$C/atrestfs.conf")
[ ${#UUID} = 36 ] || fail "no uuid in the config"
mount_with "$C" "$M" --keyfile "$C.key" --state-dir "$S"
echo one >"$M/a" && mkdir "$M/d" && echo two >"$M/d/b" && mv "$M/a" "$M/d/a" &&
	rm "$M/d/b" || fail "file operations"
unmount_vol "$M"
mount_with "$C" "$M" --keyfile "$C.key" --state-dir "$S"
[ "$(cat "$M/d/a")" = one ] || fail "read back"
unmount_vol "$M"
for p in p1 p2; do
	setsid -w "$ATR" keyslot add -q --keyfile "$C.key" --state-dir "$S" \
		--new-provider passphrase --new-passfile "$WORK/$p" "$C" </dev/null ||
		fail "keyslot add passphrase $p"
done
"$ATR" keyslot list "$C" >"$WORK/list" || fail "keyslot list"
id1=$(sed -n 's/^1: provider=passphrase key_id=\(passphrase-[0-9a-f]\{8\}\) key_version=1 .*/\1/p' "$WORK/list")
id2=$(sed -n 's/^2: provider=passphrase key_id=\(passphrase-[0-9a-f]\{8\}\) key_version=1 .*/\1/p' "$WORK/list")
[ -n "$id1" ] && [ -n "$id2" ] || fail "passphrase key IDs: $(cat "$WORK/list")"
[ "$id1" != "$id2" ] || fail "two passphrase keyslots with one key ID $id1"
setsid -w "$ATR" passwd -q --slot 1 --passfile "$WORK/p1" --new-passfile "$WORK/p3" \
	--state-dir "$S" "$C" </dev/null || fail "passwd slot 1"
"$ATR" keyslot list "$C" >"$WORK/list" || fail "keyslot list"
grep -q "^1: provider=passphrase key_id=$id1 key_version=2 " "$WORK/list" ||
	fail "passwd: want key ID $id1, version 2: $(cat "$WORK/list")"
"$ATR" keyslot remove -q --keyfile "$C.key" --state-dir "$S" "$C" 2 ||
	fail "keyslot remove 2"
ok "passphrase keyslots get their own key IDs; passwd keeps it, version 2"

want() {	# want REGEX WHAT: a line of the log matches
	grep -Eq "$1" "$LOG" || fail "no audit line for $2: $(cat "$LOG")"
}
want "\"event\":\"root_key_wrap\",\"volume\":\"$UUID\",\"host\":\"$HOST\",.*\"provider\":\"keyfile\",\"slot\":0,\"op\":\"init\"" "init"
want "\"event\":\"root_key_wrap\".*\"key_id\":\"$id1\",\"key_version\":1,\"provider\":\"passphrase\",\"slot\":1,\"op\":\"keyslot_add\"" "keyslot add 1"
want "\"event\":\"root_key_wrap\".*\"key_id\":\"$id2\",\"key_version\":1,\"provider\":\"passphrase\",\"slot\":2,\"op\":\"keyslot_add\"" "keyslot add 2"
want "\"event\":\"root_key_wrap\".*\"key_id\":\"$id1\",\"key_version\":2,\"provider\":\"passphrase\",\"slot\":1,\"op\":\"passwd\"" "passwd"
want "\"event\":\"root_key_unwrap\".*\"key_id\":\"$id1\",\"key_version\":1,\"provider\":\"passphrase\",\"slot\":1,.*\"result\":\"ok\"" "passwd's unlock"
want "\"event\":\"keyslot_remove\".*\"key_id\":\"$id2\",.*\"slot\":2,\"op\":\"keyslot_remove\"" "keyslot remove 2"
grep -v -q "\"host\":\"$HOST\"" "$LOG" && fail "a line without the host"
[ "$(grep -c '"event":"mount"' "$LOG")" = 2 ] || fail "two mounts"
verify_exit "$LOG" 0 "$LOG: OK: $(wc -l <"$LOG") records, chained from line 1"
ok "a real log names host, step and keyslot, and verifies"

# Writers at once: the daemon's threads (new files) and commands (keyslot
# changes) append to one log; it stays one chain.
mount_with "$C" "$M" --keyfile "$C.key" --state-dir "$S"
wp=()
for w in 1 2 3; do
	(for i in $(seq 40); do echo x >"$M/w$w-$i" || exit 1; done) &
	wp+=($!)
done
# Keyslot 2 is removed, not purged: each added keyslot is number 3.
for i in 1 2 3; do
	"$ATR" keyslot add -q --keyfile "$C.key" --state-dir "$S" --new-provider keyfile \
		--new-keyfile "$WORK/extra.key" "$C" || fail "keyslot add while writing"
	"$ATR" keyslot remove -q --keyfile "$C.key" --state-dir "$S" "$C" 3 ||
		fail "keyslot remove while writing"
	"$ATR" keyslot purge -q --force --keyfile "$C.key" --state-dir "$S" "$C" 3 ||
		fail "keyslot purge while writing"
done
for p in "${wp[@]}"; do wait "$p" || fail "a writer failed"; done
unmount_vol "$M"
[ "$(grep -c '"event":"dek_create"' "$LOG")" -ge 120 ] || fail "dek_create lines missing"
[ "$(grep -Ec '"event":"keyslot_purge".*"slot":3,"op":"keyslot_purge"' "$LOG")" = 3 ] ||
	fail "three keyslot_purge lines of keyslot 3 wanted: $(grep purge "$LOG")"
verify_exit "$LOG" 0 "$LOG: OK: $(wc -l <"$LOG") records, chained from line 1" >/dev/null
ok "the daemon and commands writing at once: one chain"

# --- failed unlocks -----------------------------------------------------------
size=$(stat -c %s "$LOG")
expect 3 "wrong passphrase" "$ATR" mount --slot 1 --passfile "$WORK/p1" \
	--state-dir "$S" "$C" "$M"
head -c 32 /dev/urandom >"$WORK/wrong.key"
chmod 600 "$WORK/wrong.key"
expect 3 "does not open volume" "$ATR" mount --slot 0 --keyfile "$WORK/wrong.key" \
	--state-dir "$S" "$C" "$M"
# The config's audit path is not trusted before its MAC: nothing there yet.
[ "$(stat -c %s "$LOG")" = "$size" ] || fail "a failed unlock wrote to the log at once"
P=$S/$UUID/audit-pending
[ "$(grep -c '"event":"unlock_failed"' "$P")" = 2 ] || fail "failed unlocks not kept in $P: $(cat "$P" 2>&1)"
[ "$(stat -c %a "$P")" = 600 ] || fail "$P mode $(stat -c %a "$P")"
mount_with "$C" "$M" --keyfile "$C.key" --state-dir "$S"
unmount_vol "$M"
[ -e "$P" ] && fail "$P left after a good unlock"
tail -n +"$(($(head -c "$size" "$LOG" | wc -l) + 1))" "$LOG" >"$WORK/new"
grep -Eq "^\{\"time\":\"[^\"]*\",\"event\":\"unlock_failed\",\"volume\":\"$UUID\",\"host\":\"$HOST\",\"key_id\":\"$id1\",\"key_version\":2,\"provider\":\"passphrase\",\"slot\":1,\"uid\":0,.*\"result\":\"ENOANO\"" "$WORK/new" ||
	fail "no unlock_failed for the wrong passphrase: $(cat "$WORK/new")"
grep -Eq "\"event\":\"unlock_failed\",.*\"provider\":\"keyfile\",\"slot\":0,.*\"result\":\"EKEYREJECTED\"" "$WORK/new" ||
	fail "no unlock_failed for the wrong key file: $(cat "$WORK/new")"
sed -n 1p "$WORK/new" | grep -q unlock_failed || fail "failed unlocks not first"
sed -n 3p "$WORK/new" | grep -q '"event":"root_key_unwrap".*"result":"ok"' ||
	fail "the good unlock's line not after them: $(cat "$WORK/new")"
# A config whose MAC fails is refused and recorded as well.
cp "$C/atrestfs.conf" "$WORK/conf.good"
sed -i 's/^extent_size = .*/extent_size = 8192;/' "$C/atrestfs.conf"
expect 4 "fails its MAC check" "$ATR" mount --keyfile "$C.key" --state-dir "$S" "$C" "$M"
grep -q '"event":"unlock_failed".*"slot":0,.*"result":"EBADMSG"' "$P" ||
	fail "no unlock_failed for a tampered config: $(cat "$P" 2>&1)"
cp "$WORK/conf.good" "$C/atrestfs.conf"
mount_with "$C" "$M" --keyfile "$C.key" --state-dir "$S"
unmount_vol "$M"
grep -q '"event":"unlock_failed".*"result":"EBADMSG"' "$LOG" || fail "EBADMSG not moved to the log"
verify_exit "$LOG" 0 "OK"
ok "failed unlocks: kept outside the volume, logged at the next unlock"

# A disabled keyslot whose key is offered anyway is a failed unlock too.
"$ATR" keyslot disable -q --keyfile "$C.key" --state-dir "$S" "$C" 1 ||
	fail "keyslot disable 1"
expect 3 "disabled" "$ATR" mount --slot 1 --passfile "$WORK/p3" --state-dir "$S" "$C" "$M"
grep -q '"event":"unlock_failed".*"slot":1,.*"result":"EKEYREVOKED"' "$P" ||
	fail "no unlock_failed for a disabled keyslot: $(cat "$P" 2>&1)"
"$ATR" keyslot enable -q --keyfile "$C.key" --state-dir "$S" "$C" 1 ||
	fail "keyslot enable 1"
[ -e "$P" ] && fail "$P left after a good unlock"
want "\"event\":\"unlock_failed\".*\"key_id\":\"$id1\".*\"slot\":1,.*\"result\":\"EKEYREVOKED\"" "the disabled keyslot offered"
want "\"event\":\"keyslot_disable\".*\"key_id\":\"$id1\",.*\"slot\":1,\"op\":\"keyslot_disable\"" "keyslot disable"
want "\"event\":\"keyslot_enable\".*\"key_id\":\"$id1\",.*\"slot\":1,\"op\":\"keyslot_enable\"" "keyslot enable"
# export, rekey: each step names itself.
"$ATR" keyslot export -q --keyfile "$C.key" --state-dir "$S" "$C" "$WORK/export" ||
	fail "keyslot export"
want "\"event\":\"keyslot_export\".*\"key_id\":\"$id2\",.*\"slot\":2,\"op\":\"keyslot_export\"" "keyslot export"
"$ATR" rekey -q --keyfile "$C.key" --state-dir "$S" "$C" d/a || fail "rekey d/a"
want "\"event\":\"dek_rekey\",\"volume\":\"$UUID\",\"host\":\"$HOST\",.*\"op\":\"rekey\"" "rekey"
verify_exit "$LOG" 0 "OK" >/dev/null
ok "a disabled keyslot offered is a failed unlock; lifecycle, export and rekey name their step"

# --- damage, on copies --------------------------------------------------------
n=$(wc -l <"$LOG")
[ "$n" -ge 8 ] || fail "want a longer log: $n lines"
cp "$LOG" "$WORK/changed"
sed -i '3s/"pid":\([0-9]*\)/"pid":9\1/' "$WORK/changed"
cmp -s "$LOG" "$WORK/changed" && fail "line 3 not changed"
verify_exit "$WORK/changed" 6 "$WORK/changed:3: changed: the record on line 4 holds another hash"
cp "$LOG" "$WORK/removed"
sed -i 4d "$WORK/removed"
verify_exit "$WORK/removed" 6 "$WORK/removed:3-4: removed: record 4 is missing"
cp "$LOG" "$WORK/swapped"
sed -i -n '4{h;n;p;x;p;b};p' "$WORK/swapped"
[ "$(sed -n 5p "$WORK/swapped")" = "$(sed -n 4p "$LOG")" ] || fail "lines not swapped"
verify_exit "$WORK/swapped" 6 "$WORK/swapped:5: reordered: record 4 comes after record 5 (line 4)"
# A log whose name holds a terminal escape: every line names it escaped.
E="$WORK/log"$'\e[31m'
cp "$WORK/changed" "$E"
out=$("$ATR" audit verify "$E" 2>&1)
case "$out" in *$'\e'*) fail "audit verify printed a raw escape byte: $(printf '%s' "$out" | cat -v)" ;; esac
verify_exit "$E" 6 "$WORK/log\\033[31m:3: changed:" >/dev/null
ok "a changed, a removed and two swapped lines: each named by line, exit 6"

# A cut tail keeps a whole chain: only an anchor taken before shows it.
anchor=$(verify_exit "$LOG" 0 OK | sed -n 's/^anchor //p')
[ -n "$anchor" ] || fail "no anchor printed"
verify_exit "$LOG" 0 OK --anchor "$anchor" >/dev/null
head -n -2 "$LOG" >"$WORK/cut"
verify_exit "$WORK/cut" 0 OK >/dev/null
verify_exit "$WORK/cut" 6 "anchor: record $n is missing" --anchor "$anchor"
verify_exit "$WORK/cut" 2 "bad option value" --anchor "12:zz"
# Records of an atrestfs before the chain: a note, and the chain verifies.
{ printf '{"time":"2025-01-01T00:00:00.000Z","event":"mount","volume":"%s","uid":0,"gid":0,"pid":1,"result":"ok"}\n' "$UUID"
  cat "$LOG"; } >"$WORK/older"
verify_exit "$WORK/older" 0 "$WORK/older:1: note: no chain fields" >/dev/null
# Two logs joined: a problem; the lines before the second chain's first
# record are not covered, as its link names nothing (and never said to be).
{ cat "$LOG"; echo "inserted"; cat "$LOG"; } >"$WORK/joined"
out=$(verify_exit "$WORK/joined" 6 "$WORK/joined:$((n + 1)): note: no chain fields")
case "$out" in *"covered by the next record"*)
	fail "lines before a new chain said to be covered: $out" ;; esac
verify_exit "$WORK/nonexistent" 1 "cannot open audit log $WORK/nonexistent" >/dev/null
ok "a cut tail is found against an anchor; older records are a note"

# Rotations: rotate-kek rewraps the passphrase keyslot with the same
# passphrase (same key ID and version), rotate-root gives it a new one
# (same key ID, next version); each line names its step.  Keyslot 2 is
# purged first (the export holds it): rotate-kek needs every keyslot's key.
"$ATR" keyslot purge -q --keyfile "$C.key" --state-dir "$S" "$C" 2 ||
	fail "keyslot purge 2"
want "\"event\":\"keyslot_purge\".*\"key_id\":\"$id2\",.*\"slot\":2,\"op\":\"keyslot_purge\"" "keyslot purge 2"
setsid -w "$ATR" rotate-kek -q --keyfile "$C.key" --passfile "$WORK/p3" --state-dir "$S" "$C" \
	</dev/null || fail "rotate-kek"
"$ATR" keyslot list "$C" >"$WORK/list" || fail "keyslot list"
grep -q "^1: provider=passphrase key_id=$id1 key_version=2 " "$WORK/list" ||
	fail "rotate-kek: want key ID $id1, version 2: $(cat "$WORK/list")"
want "\"event\":\"kek_create\",.*\"op\":\"rotate_kek\"" "rotate-kek's kek_create"
want "\"event\":\"root_key_wrap\".*\"key_id\":\"$id1\",\"key_version\":2,\"provider\":\"passphrase\",\"slot\":1,\"op\":\"rotate_kek\"" "rotate-kek's rewrap of keyslot 1"
want "\"event\":\"dek_rewrap\",.*\"op\":\"rotate_kek\"" "rotate-kek's dek_rewrap"
want "\"event\":\"kek_destroy\",.*\"op\":\"rotate_kek\"" "rotate-kek's kek_destroy"
setsid -w "$ATR" rotate-root -q --slot 1 --passfile "$WORK/p3" --new-provider passphrase \
	--new-passfile "$WORK/p1" --state-dir "$S" "$C" </dev/null || fail "rotate-root"
"$ATR" keyslot list "$C" >"$WORK/list" || fail "keyslot list"
grep -q "^1: provider=passphrase key_id=$id1 key_version=3 " "$WORK/list" ||
	fail "rotate-root: want key ID $id1, version 3: $(cat "$WORK/list")"
want "\"event\":\"root_key_wrap\".*\"key_id\":\"$id1\",\"key_version\":3,\"provider\":\"passphrase\",\"slot\":1,\"op\":\"rotate_root\"" "rotate-root's wrap"
want "\"event\":\"keyslot_remove\".*\"key_id\":\"$id1\",\"key_version\":2,\"provider\":\"passphrase\",\"slot\":1,\"op\":\"rotate_root\"" "rotate-root's old key"
verify_exit "$LOG" 0 "OK" >/dev/null
ok "rotate-kek keeps a passphrase keyslot's ID and version, rotate-root raises it; both name their step"

# The volume's last record: destroy, before its keys go.
"$ATR" destroy --yes-destroy --keep-keyfile --keyfile "$C.key" "$C" \
	>/dev/null || fail "destroy"
tail -n 1 "$LOG" | grep -Eq "\"event\":\"volume_destroy\",\"volume\":\"$UUID\",\"host\":\"$HOST\",.*\"slot\":0,\"op\":\"destroy\"" ||
	fail "destroy not the last record: $(tail -n 1 "$LOG")"
verify_exit "$LOG" 0 "OK" >/dev/null
ok "destroy is logged with its step and keyslot, and the chain holds"
