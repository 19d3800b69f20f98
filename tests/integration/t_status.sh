#!/usr/bin/env bash
# atrestfs status, and the daemon's log file (-o log=FILE): status shows
# what the test set up (config, keyslots, audit and policy, the mount, its
# daemon's pid, options and log file), both as text and as JSON parsed by
# python3; a bad header planted offline gives its line in the log file,
# and status shows it among the last errors.
. "$(dirname "$0")/lib.sh"

C=$WORK/c M=$WORK/m LOG=$WORK/logs/daemon.log

# jget JSONFILE EXPR: EXPR (python, over the object d) printed
jget() {
	/usr/bin/python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$1" "$2" || fail "status output is not JSON: $(cat "$1")"
}

# want WHAT GOT EXPECTED
want() {
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

new_volume "$C" --extent-size 8192 --audit-file "$WORK/audit.log" \
	--allow-uid 0 --allow-uid 4242 --allow-gid 0
"$ATR" keyslot add -q --keyfile "$C.key" --new-provider keyfile \
	--new-keyfile "$WORK/second.key" --label "second key" "$C" || fail "keyslot add"
"$ATR" keyslot expire -q --keyfile "$C.key" "$C" 1 2999-12-31 || fail "keyslot expire"
conf_field() {
	sed -n "s/^$1 = \"\\{0,1\\}\\([^\";]*\\)\"\\{0,1\\};/\\1/p" "$C/atrestfs.conf"
}
uuid=$(conf_field volume_uuid)
kek=$(conf_field kek_id)
[ -n "$uuid" ] && [ -n "$kek" ] || fail "cannot read uuid and kek_id from atrestfs.conf"

# Not mounted: the config as the test made it.
"$ATR" status --json "$C" >"$WORK/s.json" || fail "status --json exited $?"
want volume "$(jget "$WORK/s.json" 'd["volume"]')" "$uuid"
want directory "$(jget "$WORK/s.json" 'd["directory"]')" "$(realpath "$C")"
want authenticated "$(jget "$WORK/s.json" 'd["authenticated"]')" False
want format "$(jget "$WORK/s.json" 'd["format_version"]')" 2
want generation "$(jget "$WORK/s.json" 'd["generation"]')" 3
want extent_size "$(jget "$WORK/s.json" 'd["extent_size"]')" 8192
want names "$(jget "$WORK/s.json" 'd["names"]')" plain
want rotation "$(jget "$WORK/s.json" 'd["rotation"]')" None
want kek_id "$(jget "$WORK/s.json" 'd["kek_id"]')" "$kek"
want keyslots "$(jget "$WORK/s.json" '[k["provider"] for k in d["keyslots"]]')" \
	"['keyfile', 'keyfile']"
want "keyslot 1 key_id" "$(jget "$WORK/s.json" 'd["keyslots"][1]["key_id"]')" \
	"$("$ATR" keyslot list --json "$C" | /usr/bin/python3 -c \
		'import json, sys; print(json.load(sys.stdin)["keyslots"][1]["key_id"])')"
want "keyslot 1" "$(jget "$WORK/s.json" \
	'[d["keyslots"][1][k] for k in ("slot", "label", "state", "expires")]')" \
	"[1, 'second key', 'enabled', '2999-12-31T00:00:00Z']"
want "keyslot 0 expires" "$(jget "$WORK/s.json" 'd["keyslots"][0]["expires"]')" None
want audit "$(jget "$WORK/s.json" 'd["audit"]')" \
	"{'file': '$WORK/audit.log', 'syslog': False}"
want policy "$(jget "$WORK/s.json" 'd["policy"]')" \
	"{'allow_uids': [0, 4242], 'allow_gids': [0]}"
want mounted "$(jget "$WORK/s.json" 'd["mounted"]')" False
want mounts "$(jget "$WORK/s.json" 'd["mounts"]')" "[]"
# Encrypted names, and a KEK rotation under way: status reads the config
# without its key, so a copy with a retiring KEK spliced in shows one.
mkdir "$WORK/n" && "$ATR" init -q --keyfile "$WORK/n.key" --names encrypted "$WORK/n" || fail "init names"
cp "$WORK/n/atrestfs.conf" "$WORK/n.conf"
retiring=0123456789abcdef0123456789abcdef
printf 'kek_retiring = { kek_id = "%s"; wrapped_kek = "%s"; };\n' "$retiring" \
	"$(head -c 60 /dev/urandom | base64 -w0)" >>"$WORK/n/atrestfs.conf"
"$ATR" status --json "$WORK/n" >"$WORK/n.json" || fail "status --json of names volume exited $?"
want "names encrypted" "$(jget "$WORK/n.json" 'd["names"]')" encrypted
want "rotation under way" "$(jget "$WORK/n.json" 'd["rotation"]')" \
	"{'retiring_kek_id': '$retiring'}"
"$ATR" status "$WORK/n" >"$WORK/n.txt" || fail "status of names volume exited $?"
grep -q "^names: *encrypted$" "$WORK/n.txt" || fail "names: $(cat "$WORK/n.txt")"
grep -q "^rotation: *under way, retiring KEK $retiring" "$WORK/n.txt" ||
	fail "rotation: $(cat "$WORK/n.txt")"
cp "$WORK/n.conf" "$WORK/n/atrestfs.conf"
ok "status shows encrypted names and a KEK rotation under way"

"$ATR" status "$C" >"$WORK/s.txt" || fail "status exited $?"
grep -q "^extent size: *8192$" "$WORK/s.txt" || fail "text status: $(cat "$WORK/s.txt")"
grep -q "^mounted: *no$" "$WORK/s.txt" || fail "text status: $(cat "$WORK/s.txt")"
grep -q '^  1: provider=keyfile .* expires=2999-12-31T00:00:00Z label="second key"$' \
	"$WORK/s.txt" || fail "text status: $(cat "$WORK/s.txt")"
ok "status of a volume not mounted"

expect 4 "no atrestfs.conf" "$ATR" status "$WORK"
expect 4 "No such file" "$ATR" status "$WORK/none"
expect 2 "status: CIPHERDIR or MOUNTPOINT is missing" "$ATR" status
expect 2 "status: too many arguments" "$ATR" status "$C" "$C"
expect 2 "keyslot list: CIPHERDIR is missing" "$ATR" keyslot list
ok "status of what is not a volume"

# -o log=FILE is checked before anything is unlocked.
mkdir -p "$M" "$WORK/logs"
expect 2 "absolute path" "$ATR" mount --keyfile "$C.key" -o log=rel.log "$C" "$M"
expect 2 "inside the volume" "$ATR" mount --keyfile "$C.key" -o "log=$C/x.log" "$C" "$M"
expect 2 "inside the volume" "$ATR" mount --keyfile "$C.key" -o "log=$M/x.log" "$C" "$M"
install -m 0666 /dev/null "$WORK/logs/open.log"
expect 1 "writable by no one else" "$ATR" mount --keyfile "$C.key" \
	-o "log=$WORK/logs/open.log" "$C" "$M"
is_mounted "$M" && fail "mounted with a bad log="
# A second name: perhaps a file of root's that a user linked into his
# directory, to have the daemon append to it.
install -m 0600 /dev/null "$WORK/logs/target"
ln "$WORK/logs/target" "$WORK/logs/linked.log"
expect 1 "no other hard link" "$ATR" mount --keyfile "$C.key" \
	-o "log=$WORK/logs/linked.log" "$C" "$M"
is_mounted "$M" && fail "mounted with a hard-linked log="
[ -s "$WORK/logs/target" ] && fail "the daemon wrote to a hard-linked log="
[ -e "$C/x.log" ] || [ -e "$M/x.log" ] && fail "log file made in the volume"
ok "log= refused: relative, in the volume or mount, writable by others, hard-linked"

# Files to damage later; the log file is made 0600.
mount_with "$C" "$M" --keyfile "$C.key" -o "log=$LOG,noxattr,readahead=512"
[ "$(stat -c %a "$LOG")" = 600 ] || fail "log file mode $(stat -c %a "$LOG")"
grep -q "info: mounted $C on $M" "$LOG" || fail "no mount line in $LOG: $(cat "$LOG")"
echo hello >"$M/good"
head -c 20000 /dev/urandom >"$M/badhdr"
unmount_vol "$M"
grep -q "info: unmounted $M" "$LOG" || fail "no unmount line in $LOG"
"$ATR" status --json "$C" >"$WORK/s.json" || fail "status --json exited $?"
want "mounted after unmount" "$(jget "$WORK/s.json" 'd["mounted"]')" False

hdr=$(getfattr --absolute-names -e hex -n user.atrestfs.hdr "$C/badhdr" |
	sed -n 's/^user.atrestfs.hdr=0x//p')
setfattr -n user.atrestfs.hdr \
	-v "0x${hdr:0:100}$(printf %02x $((0x${hdr:100:2} ^ 1)))${hdr:102}" "$C/badhdr"

mount_with "$C" "$M" --keyfile "$C.key" -o "log=$LOG,noxattr,readahead=512"
expect_eio cat "$M/badhdr"
[ "$(cat "$M/good")" = hello ] || fail "good file unreadable"
grep -q "error: $C/badhdr: .*header" "$LOG" || fail "no bad header line in $LOG: $(cat "$LOG")"

# Given the mount point, status finds the volume, the mount and its daemon.
"$ATR" status --json "$M" >"$WORK/s.json" || fail "status --json exited $?"
want directory "$(jget "$WORK/s.json" 'd["directory"]')" "$(realpath "$C")"
want mounted "$(jget "$WORK/s.json" 'd["mounted"]')" True
want mountpoint "$(jget "$WORK/s.json" '[m["mountpoint"] for m in d["mounts"]]')" "['$M']"
want pid "$(jget "$WORK/s.json" 'd["mounts"][0]["daemon"]["pid"]')" "${MPID[$M]}"
want log "$(jget "$WORK/s.json" 'd["mounts"][0]["daemon"]["log"]')" "$LOG"
want options "$(jget "$WORK/s.json" 'd["mounts"][0]["daemon"]["options"].split(",")[:2]')" \
	"['noxattr', 'readahead=512']"
jget "$WORK/s.json" 'd["mounts"][0]["daemon"]["errors"][-1]["message"]' >"$WORK/err"
grep -q "^$C/badhdr: .*header" "$WORK/err" || fail "status error: $(cat "$WORK/err")"
jget "$WORK/s.json" 'd["mounts"][0]["daemon"]["errors"][-1]["time"]' |
	grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' || fail "error time"
"$ATR" status "$C" >"$WORK/s.txt" || fail "status exited $?"
grep -q "^  daemon pid: *${MPID[$M]}$" "$WORK/s.txt" || fail "text status: $(cat "$WORK/s.txt")"
grep -q "^    .*Z $C/badhdr: .*header" "$WORK/s.txt" || fail "text status: $(cat "$WORK/s.txt")"
ok "status --json of a mount: pid, options, log, the bad header"

# The record is read without its key: a quote planted in an error's time
# stays inside its JSON string.
rec=$(ls /run/atrestfs/"$uuid"/mount-*) || fail "no runtime record for $uuid"
sed -i 's/^error \([0-9]\)/error "\1/' "$rec"
grep -q '^error "' "$rec" || fail "record not changed: $(cat "$rec")"
"$ATR" status --json "$M" >"$WORK/s.json" || fail "status --json exited $?"
want "planted time" "$(jget "$WORK/s.json" 'd["mounts"][0]["daemon"]["errors"][-1]["time"][0]')" '"'
ok "status --json: a runtime record's fields are quoted, whatever they hold"

# The record's MAC takes the mount's KEK of the moment: an online
# rotation frees the KEK the daemon mounted with, and a warning after it
# crashed the daemon.  Now it reaches the record, and the daemon lives.
C2=$WORK/c2 M2=$WORK/m2
new_volume "$C2"
mount_with "$C2" "$M2" --keyfile "$C2.key"
echo hello >"$M2/good"
"$ATR" rotate-kek -q --keyfile "$C2.key" "$M2" 2>"$WORK/rot.err" ||
	fail "rotate-kek $M2: $(cat "$WORK/rot.err")"
head -c 100 /dev/zero >"$C2/planted"
setfattr -n user.atrestfs.hdr -v 0x6a756e6b6a756e6b "$C2/planted"
expect_eio cat "$M2/planted"
kill -0 "${MPID[$M2]}" 2>/dev/null ||
	fail "the daemon died at a warning after rotate-kek: $(tail -5 "$M2.log")"
[ "$(cat "$M2/good")" = hello ] || fail "good file unreadable after rotate-kek"
"$ATR" status --json "$M2" >"$WORK/s.json" || fail "status --json exited $?"
jget "$WORK/s.json" 'd["mounts"][0]["daemon"]["errors"][-1]["message"]' >"$WORK/err"
grep -q "^$C2/planted: " "$WORK/err" || fail "status error after rotate-kek: $(cat "$WORK/err")"
unmount_vol "$M2"
ok "a warning after an online rotate-kek reaches status; the daemon lives"

# A daemon that died leaves its record and a dead mount: status says so
# rather than show a pid that may be another process's now.
# (bash reports the kill on its own stderr: not a failure of the test)
exec 3>&2 2>/dev/null
kill -9 "${MPID[$M]}"
wait "${MPID[$M]}"
exec 2>&3 3>&-
unset "MPID[$M]"
"$ATR" status --json "$M" >"$WORK/s.json" || fail "status --json of a dead mount exited $?"
want "dead mount's volume" "$(jget "$WORK/s.json" 'd["directory"]')" "$(realpath "$C")"
want "dead daemon" "$(jget "$WORK/s.json" 'd["mounts"][0]["daemon"]')" None
jget "$WORK/s.json" 'd["mounts"][0]["daemon_unknown"]' | grep -q "no longer runs" ||
	fail "dead daemon: $(cat "$WORK/s.json")"
fusermount3 -u "$M" || umount -l "$M"
ok "status of a mount whose daemon died"

# A mount refused before its daemon exists (an older config put back)
# says so in the log file too: mounted at boot, no one sees its stderr.
cp "$C/atrestfs.conf" "$WORK/old.conf"
"$ATR" keyslot remove -q --keyfile "$C.key" "$C" 1 || fail "keyslot remove"
cp "$WORK/old.conf" "$C/atrestfs.conf"
expect 4 "older copy of the config" "$ATR" mount --keyfile "$C.key" \
	-o "log=$LOG" "$C" "$M"
is_mounted "$M" && fail "mounted an older config"
grep -q "atrestfs\[[0-9]*\]: error: $C: .*older copy of the config" "$LOG" ||
	fail "no refusal in $LOG: $(tail -3 "$LOG")"
ok "a refused mount logs to the log= file"

# An ordinary user's mount keeps its record under $XDG_RUNTIME_DIR, where
# that user's status finds it and root's does not look; one whose
# runtime directory lies under the mount point (which would hide it)
# mounts without a record.  A throwaway user, removed on exit.
U=atrs$$
useradd -M -N -s /bin/sh "$U" || fail "useradd $U"
fusemode=$(stat -c %a /dev/fuse)
trap 'cleanup; userdel "$U" 2>/dev/null; chmod "$fusemode" /dev/fuse' EXIT
chmod 666 /dev/fuse
chmod 755 "$WORK"
mkdir -p "$WORK/u/c" "$WORK/u/m" "$WORK/u/run"
chown -R "$U" "$WORK/u"
install -m 755 "$ATR" "$WORK/atrestfs-user"
UATR=$WORK/atrestfs-user
US="--state-dir $WORK/u/state"
runuser -u "$U" -- "$UATR" init -q $US --keyfile "$WORK/u/key" "$WORK/u/c" || fail "user init"
runuser -u "$U" -- env XDG_RUNTIME_DIR="$WORK/u/run" "$UATR" mount \
	$US --keyfile "$WORK/u/key" "$WORK/u/c" "$WORK/u/m" || fail "user mount"
MOUNTS+=("$WORK/u/m")
runuser -u "$U" -- env XDG_RUNTIME_DIR="$WORK/u/run" "$UATR" status --json \
	"$WORK/u/m" >"$WORK/s.json" || fail "user status exited $?"
pid=$(jget "$WORK/s.json" 'd["mounts"][0]["daemon"]["pid"]')
[ "$(stat -c %U "/proc/$pid")" = "$U" ] || fail "user's daemon pid $pid"
want "user's log" "$(jget "$WORK/s.json" 'd["mounts"][0]["daemon"]["log"]')" None
ls "$WORK/u/run/atrestfs/"*/mount-* >/dev/null || fail "no record under XDG_RUNTIME_DIR"
"$ATR" status --json "$WORK/u/c" >"$WORK/s.json" || fail "root status exited $?"
want "root on a user's mount" "$(jget "$WORK/s.json" 'd["mounts"][0]["daemon"]')" None
runuser -u "$U" -- "$UATR" unmount "$WORK/u/m" || fail "user unmount"
# The daemon removes its record as it exits, just after the unmount.
timeout 30 tail --pid="$pid" -f /dev/null
ls "$WORK/u/run/atrestfs/"*/mount-* >/dev/null 2>&1 && fail "record left after unmount"
out=$(runuser -u "$U" -- env XDG_RUNTIME_DIR="$WORK/u/m/run" "$UATR" mount \
	$US --keyfile "$WORK/u/key" "$WORK/u/c" "$WORK/u/m" 2>&1) || fail "user mount: $out"
case "$out" in
*"runtime directory $WORK/u/m/run/atrestfs is inside"*) ;;
*) fail "no warning of a runtime directory in the mount: $out" ;;
esac
runuser -u "$U" -- env XDG_RUNTIME_DIR="$WORK/u/m/run" "$UATR" status --json \
	"$WORK/u/m" >"$WORK/s.json" || fail "user status exited $?"
want "no record" "$(jget "$WORK/s.json" 'd["mounts"][0]["daemon"]')" None
runuser -u "$U" -- "$UATR" unmount "$WORK/u/m" || fail "user unmount"
ok "a user's mount: its record under XDG_RUNTIME_DIR, never in the mount"

# A directory whose name holds a terminal escape and a byte that is not
# UTF-8: the text shows neither raw.
E="$WORK/c-"$'\xff\e[31mred'
new_volume "$E"
"$ATR" status "$E" >"$WORK/s.txt" || fail "status (odd name) exited $?"
grep -q $'\e' "$WORK/s.txt" && fail "status printed a raw escape byte"
grep -q 'directory: .*c-\\377\\033\[31mred' "$WORK/s.txt" ||
	fail "status did not show the name escaped: $(cat "$WORK/s.txt")"
ok "status: a name with control bytes is shown escaped"

# With --json, the same name: strict UTF-8 JSON, the stray byte U+FFFD.
"$ATR" status --json "$E" >"$WORK/s.json" || fail "status --json (odd name) exited $?"
/usr/bin/python3 -c 'import json, sys
d = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))
assert d["directory"].endswith("c-\ufffd\x1b[31mred"), d["directory"]' \
	"$WORK/s.json" || fail "status --json is not strict UTF-8 JSON: $(cat -v "$WORK/s.json")"
ok "status --json: a name that is not UTF-8 still gives UTF-8 JSON"
