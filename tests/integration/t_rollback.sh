#!/usr/bin/env bash
# Rollback: an older copy of something in the volume, put back by whoever
# can write the backing directory, must be refused once this machine has
# seen a newer one.  Here atrestfs.conf, whose generation this machine
# records in its state directory (atrestfs(8) STATE DIRECTORY).  Every
# case uses a state directory under $WORK but the one that checks the
# default, /var/lib/atrestfs/UUID, which it removes.
. "$(dirname "$0")/lib.sh"

C=$WORK/c M=$WORK/m ST=$WORK/state
MOUNT_HELPER=$(dirname "$ATR")/mount.atrestfs

uuid_of() {
	sed -n 's/^volume_uuid = "\(.*\)";/\1/p' "$1/atrestfs.conf"
}

gen_of() {
	sed -n 's/^generation = \([0-9]*\)L*;/\1/p' "$1/atrestfs.conf"
}

# The unlock and state options of every command below.
K=(--keyfile "$C.key" --state-dir "$ST")

# A syslog of our own: a datagram socket that a mount namespace puts at
# /dev/log, and a listener that writes each message it gets as a line of
# $WORK/syslog until it is told to stop.
start_syslog() {
	local i
	rm -f "$WORK/log.sock" "$WORK/syslog"
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "w") as f:
    while True:
        m = s.recv(65536).decode(errors="replace")
        if m == "END":
            break
        f.write(m.rstrip("\n") + "\n")
        f.flush()
' "$WORK/log.sock" "$WORK/syslog" &
	LOGPID=$!
	PIDS+=("$LOGPID")
	for i in $(seq 50); do
		[ -S "$WORK/log.sock" ] && return 0
		sleep 0.1
	done
	fail "syslog listener did not start"
}

stop_syslog() {
	python3 -c '
import socket, sys
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"END", sys.argv[1])
' "$WORK/log.sock" || fail "stop syslog listener"
	wait "$LOGPID"
}

# with_log CMD...: CMD in a private mount namespace whose /dev/log is our
# socket.  Where the machine has no /dev/log to bind over, /dev is a
# tmpfs there with the devices a mount needs bound in.
with_log() {
	mkdir -p "$WORK/olddev"
	unshare -m --propagation private bash -c '
		sock=$1 old=$2
		shift 2
		if [ -e /dev/log ] || [ -L /dev/log ]; then
			mount --bind "$sock" /dev/log || exit 90
		else
			mount --rbind /dev "$old" &&
				mount -t tmpfs -o mode=755 tmpfs /dev || exit 90
			for n in null zero full random urandom tty fuse; do
				[ -e "$old/$n" ] || continue
				touch "/dev/$n" && mount --bind "$old/$n" "/dev/$n" ||
					exit 90
			done
			ln -s "$sock" /dev/log || exit 90
		fi
		exec "$@"' bash "$WORK/log.sock" "$WORK/olddev" "$@"
}

# 1. Every store raises the generation and records it.
new_volume "$C" --state-dir "$ST"
U=$(uuid_of "$C")
REC=$ST/$U/config
[ "$(gen_of "$C")" = 1 ] || fail "init writes generation $(gen_of "$C")"
grep -qx "generation 1" "$REC" || fail "init did not record generation 1: $(cat "$REC" 2>&1)"
[ "$(stat -c %a "$ST")" = 700 ] && [ "$(stat -c %a "$ST/$U")" = 700 ] ||
	fail "state directory modes $(stat -c %a "$ST" "$ST/$U")"
[ "$(stat -c %a "$REC")" = 600 ] || fail "state record mode $(stat -c %a "$REC")"
"$ATR" keyslot add -q "${K[@]}" --new-provider keyfile \
	--new-keyfile "$WORK/k2" "$C" || fail "keyslot add"
[ "$(gen_of "$C")" = 2 ] || fail "keyslot add writes generation $(gen_of "$C")"
grep -qx "generation 2" "$REC" || fail "keyslot add did not record generation 2"
cp "$C/atrestfs.conf" "$WORK/gen2.conf"
# Generation 3 turns an audit log on: generation 2 would turn it off.
"$ATR" config -q "${K[@]}" --audit-file "$WORK/audit.log" "$C" || fail "config"
[ "$(gen_of "$C")" = 3 ] || fail "config writes generation $(gen_of "$C")"
mount_with "$C" "$M" "${K[@]}"
echo data >"$M/f"
unmount_vol "$M"
grep -qx "generation 3" "$REC" || fail "state after mount: $(cat "$REC")"
ok "init, keyslot add and config raise the generation (1, 2, 3); recorded in a 0700 directory, 0600 file"

# 2. The generation-2 copy put back: every command that unlocks refuses it.
cp "$WORK/gen2.conf" "$C/atrestfs.conf"
want="$C: atrestfs.conf is generation 2, but generation 3 was seen on this machine ($REC): an older copy of the config was put back. If that is what you did, run 'atrestfs trust --state-dir $ST $C'"
out=$(setsid -w "$ATR" mount "${K[@]}" "$C" "$M" 2>&1 >/dev/null </dev/null)
rc=$?
[ $rc = 4 ] || fail "older config: mount exited $rc ($out)"
[ "$out" = "atrestfs: $want" ] || fail "older config: message is
$out
want
atrestfs: $want"
is_mounted "$M" && fail "older config mounted"
expect 4 "$want" "$MOUNT_HELPER" "$C" "$M" -o "keyfile=$C.key,state_dir=$ST"
expect 4 "$want" "$ATR" keyslot add "${K[@]}" --new-provider keyfile \
	--new-keyfile "$WORK/k3" "$C"
expect 4 "$want" "$ATR" config "${K[@]}" --no-audit "$C"
cmp -s "$C/atrestfs.conf" "$WORK/gen2.conf" || fail "a refused command changed the config"
grep -qx "generation 3" "$REC" || fail "a refused command lowered the record"
ok "an older config is refused by mount, mount.atrestfs, keyslot add and config (exit 4, both generations, the fix)"

# 3. One log line for a refused mount: in syslog when it would detach,
# on stderr (its log) in the foreground, never both.
start_syslog
out=$(with_log "$ATR" mount "${K[@]}" "$C" "$M" 2>&1 >/dev/null </dev/null)
rc=$?
[ $rc = 4 ] || fail "older config under our syslog: exit $rc ($out)"
[ "$(printf '%s\n' "$out" | grep -c .)" = 1 ] || fail "stderr is not one line: $out"
out=$(with_log "$ATR" mount -f "${K[@]}" "$C" "$M" 2>&1 >/dev/null </dev/null)
rc=$?
[ $rc = 4 ] || fail "older config in the foreground: exit $rc ($out)"
[ "$(printf '%s\n' "$out" | grep -c .)" = 1 ] || fail "foreground stderr is not one line: $out"
stop_syslog
[ "$(grep -c . "$WORK/syslog")" = 1 ] || fail "syslog lines: $(cat "$WORK/syslog")"
grep -qF "atrestfs[" "$WORK/syslog" && grep -qF "$want" "$WORK/syslog" ||
	fail "syslog line: $(cat "$WORK/syslog")"
ok "a refused mount logs exactly one line: syslog when detached, stderr in the foreground"

# 4. trust accepts the older config on purpose; then it mounts.
"$ATR" trust "${K[@]}" "$C" >"$WORK/trust.out" || fail "trust"
grep -q "Recorded generation 2 of $C/atrestfs.conf as the newest on this machine, in $ST/$U (it had seen generation 3)" \
	"$WORK/trust.out" || fail "trust says: $(cat "$WORK/trust.out")"
grep -qx "generation 2" "$REC" || fail "trust did not record generation 2"
mount_with "$C" "$M" "${K[@]}"
[ -e "$M/f" ] || fail "volume content after trust"
unmount_vol "$M"
grep -q '"event":"config_trust"' "$WORK/audit.log" &&
	fail "trust audited to a log generation 2 does not have"
ok "trust records the config as it is, and the volume mounts again"

# 5. A record changed without the key is refused, naming it and trust.
"$ATR" config -q "${K[@]}" --audit-file "$WORK/audit.log" "$C" || fail "config gen 3"
sed -i 's/^generation 3$/generation 1/' "$REC"
cp "$WORK/gen2.conf" "$C/atrestfs.conf"
expect 4 "state record $REC fails its MAC check: it was changed outside atrestfs" \
	"$ATR" mount "${K[@]}" "$C" "$M"
expect 4 "run 'atrestfs trust --state-dir $ST $C'" "$ATR" mount "${K[@]}" "$C" "$M"
"$ATR" trust -q "${K[@]}" "$C" || fail "trust over a forged record"
mount_with "$C" "$M" "${K[@]}"
unmount_vol "$M"
ok "a forged state record is refused; trust replaces it"

# 6. State lost (or a new machine): mounts, says so once, records.
rm -r "${ST:?}/$U"
mount_with "$C" "$M" "${K[@]}"
unmount_vol "$M"
[ "$(grep -c "notice: first use of $C on this machine" "$M.log")" = 1 ] ||
	fail "no notice on first use: $(cat "$M.log")"
grep -qx "generation 2" "$REC" || fail "first use did not record"
mount_with "$C" "$M" "${K[@]}"
unmount_vol "$M"
grep -q notice "$M.log" && fail "notice again: $(cat "$M.log")"
ok "no state: mounts with one notice line and records the generation"

# 7. A state directory or record others could write is refused; a link too.
chmod 770 "$ST/$U"
expect 1 "state directory $ST/$U is writable by group or others (mode 0770): run chmod go-w $ST/$U" \
	"$ATR" mount "${K[@]}" "$C" "$M"
chmod 700 "$ST/$U"
chmod g+w "$ST"
expect 1 "state directory $ST is writable by group or others" "$ATR" mount "${K[@]}" "$C" "$M"
expect 1 "writable by group or others" "$ATR" trust "${K[@]}" "$C"
chmod g-w "$ST"
chmod 620 "$REC"
expect 1 "state record $REC is writable by group or others" "$ATR" mount "${K[@]}" "$C" "$M"
chmod 600 "$REC"
mv "$ST/$U" "$WORK/elsewhere"
ln -s "$WORK/elsewhere" "$ST/$U"
expect 1 "state directory $ST/$U is a symbolic link" "$ATR" mount "${K[@]}" "$C" "$M"
rm "$ST/$U"
mv "$WORK/elsewhere" "$ST/$U"
expect 2 "want an absolute path" "$ATR" mount --keyfile "$C.key" --state-dir rel "$C" "$M"
# Inside the volume, whoever can write it could remove the records.
ln -s "$C" "$WORK/clink"
expect 1 "state directory $WORK/clink/st is inside the volume $C" \
	"$ATR" mount --keyfile "$C.key" --state-dir "$WORK/clink/st" "$C" "$M"
expect 1 "is inside the volume" "$ATR" trust --keyfile "$C.key" --state-dir "$C" "$C"
[ -e "$C/st" ] && fail "a state directory was made inside the volume"
mkdir "$WORK/c2"
"$ATR" init -q --keyfile "$WORK/c2.key" --state-dir "$WORK/c2/st" "$WORK/c2" \
	2>"$WORK/init-inside.err" || fail "init with a state directory inside"
grep -q "is not recorded on this machine: state directory $WORK/c2/st is inside the volume" \
	"$WORK/init-inside.err" || fail "init inside: $(cat "$WORK/init-inside.err")"
[ -e "$WORK/c2/st" ] && fail "init made a state directory inside the volume"
expect 2 "want an absolute path" "$ATR" mount --keyfile "$C.key" -o state_dir=rel "$C" "$M"
is_mounted "$M" && fail "mounted despite an unsafe state directory"
mount_with "$C" "$M" "${K[@]}"
unmount_vol "$M"
ok "a state directory or record others could write, a symlink, or one inside the volume is refused with the fix"

# 8. The format-1 fixture, without a generation: generation 0, mounts;
# its first store writes generation 1, and then the old copy is refused.
F=$TOP/tests/fixtures
FC=$WORK/v1 FST=$WORK/fstate
mkdir -p "$FC"
tar --xattrs --xattrs-include='user.*' -C "$FC" -xf "$F/v1-volume.tar" || fail "untar fixture"
install -m 600 "$F/v1-volume.key" "$FC.key"
grep -q generation "$FC/atrestfs.conf" && fail "the fixture has a generation"
cp "$FC/atrestfs.conf" "$WORK/v1.conf"
mount_with "$FC" "$M" --keyfile "$FC.key" --state-dir "$FST"
(cd "$M" && sha256sum --quiet -c "$F/v1-volume.sha256") || fail "fixture contents differ"
unmount_vol "$M"
FU=$(uuid_of "$FC")
grep -qx "generation 0" "$FST/$FU/config" || fail "fixture record: $(cat "$FST/$FU/config")"
grep -q "notice: first use of $FC" "$M.log" || fail "no notice for the fixture"
"$ATR" keyslot add -q --keyfile "$FC.key" --state-dir "$FST" --new-provider keyfile \
	--new-keyfile "$WORK/fk2" "$FC" || fail "keyslot add on the fixture"
[ "$(gen_of "$FC")" = 1 ] || fail "fixture's first store writes generation $(gen_of "$FC")"
mount_with "$FC" "$M" --keyfile "$WORK/fk2" --state-dir "$FST"
unmount_vol "$M"
cp "$WORK/v1.conf" "$FC/atrestfs.conf"
expect 4 "atrestfs.conf is generation 0, but generation 1 was seen" \
	"$ATR" mount --keyfile "$FC.key" --state-dir "$FST" "$FC" "$M"
ok "the format-1 fixture mounts as generation 0; its first store writes 1, after which the old copy is refused"

# 9. The default place, as root: /var/lib/atrestfs/UUID (removed here).
D=$WORK/d
new_volume "$D"
DU=$(uuid_of "$D")
DEF=/var/lib/atrestfs/$DU
trap 'cleanup; rm -rf "$DEF"' EXIT
grep -qx "generation 1" "$DEF/config" || fail "no record in $DEF: $(ls -la "$DEF" 2>&1)"
[ "$(stat -c '%a %U' "$DEF")" = "700 root" ] && [ "$(stat -c '%a %U' "$DEF/config")" = "600 root" ] ||
	fail "default state modes: $(stat -c '%a %U %n' "$DEF" "$DEF/config")"
[ "$(stat -c %a /var/lib/atrestfs)" = 700 ] || fail "/var/lib/atrestfs mode $(stat -c %a /var/lib/atrestfs)"
cp "$D/atrestfs.conf" "$WORK/d1.conf"
"$ATR" config -q --keyfile "$D.key" --allow-uid 0 "$D" || fail "config, default state"
cp "$WORK/d1.conf" "$D/atrestfs.conf"
expect 4 "generation 1, but generation 2 was seen on this machine ($DEF/config)" \
	"$ATR" mount --keyfile "$D.key" "$D" "$M"
expect 4 "run 'atrestfs trust $D'" "$ATR" mount --keyfile "$D.key" "$D" "$M"
rm -rf "$DEF"
ok "root's default state directory is /var/lib/atrestfs/UUID"
