#!/usr/bin/env bash
# atrestfs lock and an online rotate-kek never run at once (fs/ctl.c).
# A locked mount has no volume key to rotate from: rotate-kek refuses it
# before it changes anything, and so does the daemon if asked directly.
# A lock asked for during a rotation's walk waits for the walk to end: the
# daemon is stopped (SIGSTOP) in the middle of the walk, the lock request
# is queued on its socket, and once it runs again the log must show the
# walk's end before the lock.  Afterwards the mount unlocks with the new
# volume key, every header names it, and every file reads back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rotate_lib.sh"

SEED=${SEED:-1}
C=$WORK/c M=$WORK/m ST=$WORK/st AUD=$WORK/audit.log SRC=$WORK/src
K=(--keyfile "$C.key" --state-dir "$ST")
new_volume "$C" --state-dir "$ST" --audit-file "$AUD"
make_tree "$SRC"
mount_with "$C" "$M" "${K[@]}"
pid=${MPID[$M]}
cp -r "$SRC/." "$M/" || fail "copy 2,000 files in"
sock=$(echo "$ST"/*/ctl)
[ -S "$sock" ] || fail "no control socket in $ST"

# ask REQUEST: send it (a line, then 48 random bytes for a key if it is
# rotate-kek) to the daemon's socket and print its answer's first line.
ask() {
	python3 - "$sock" "$1" <<'PY'
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
req = sys.argv[2].encode() + b"\n"
s.sendall(req + (os.urandom(48) if req == b"rotate-kek\n" else b""))
print(s.makefile().readline().strip())
PY
}

# Refused while locked, before anything changes.
"$ATR" lock -q --state-dir "$ST" "$M" || fail "lock"
[ "$(ask status)" = "ok locked" ] || fail "status of a locked mount: $(ask status)"
conf=$(md5sum <"$C/atrestfs.conf")
expect 5 "is locked: unlock it first" "$ATR" rotate-kek -q "${K[@]}" "$M"
[ "$(md5sum <"$C/atrestfs.conf")" = "$conf" ] || fail "rotate-kek changed the config of a locked mount"
ans=$(ask rotate-kek)
case "$ans" in "error "*"is locked: unlock it first"*) ;;
*) fail "the daemon, asked to rotate while locked, said: $ans" ;; esac
kill -0 "$pid" || fail "the daemon died"
"$ATR" unlock -q "${K[@]}" "$M" || fail "unlock"
[ "$(ask status)" = "ok unlocked" ] || fail "status after unlock: $(ask status)"
ok "rotate-kek refuses a locked mount before any change; so does the daemon"

# A lock during the walk waits for it.
before=$(grep -c '"event":"dek_rewrap"' "$AUD")
setsid "$ATR" rotate-kek -q "${K[@]}" "$M" </dev/null >"$WORK/rot.out" 2>&1 &
rot=$!
PIDS+=($rot)
n=0
while kill -0 "$rot" 2>/dev/null; do
	n=$(( $(grep -c '"event":"dek_rewrap"' "$AUD") - before ))
	[ "$n" -ge 20 ] && break
	sleep 0.01
done
kill -STOP "$pid" || fail "cannot stop the daemon"
n=$(( $(grep -c '"event":"dek_rewrap"' "$AUD") - before ))
if [ "$n" -lt 20 ] || [ "$n" -ge 2000 ] || grep -q "every file rewrapped" "$M.log"; then
	kill -CONT "$pid"
	fail "the daemon could not be stopped in the middle of the walk ($n headers rewrapped)"
fi
python3 - "$sock" "$WORK/sent" >"$WORK/lock.ans" 2>&1 <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"lock\n")
open(sys.argv[2], "w").close()
print(s.makefile().readline().strip())
PY
locker=$!
PIDS+=($locker)
for i in $(seq 600); do
	[ -e "$WORK/sent" ] && break
	sleep 0.1
done
[ -e "$WORK/sent" ] || { kill -CONT "$pid"; fail "the lock request could not be sent"; }
kill -CONT "$pid"
wait "$rot" || fail "rotate-kek: $(cat "$WORK/rot.out")"
wait "$locker" || fail "lock client"
case "$(cat "$WORK/lock.ans")" in "ok "*"is locked"*) ;;
*) fail "the lock during the walk said: $(cat "$WORK/lock.ans")" ;; esac
walked=$(grep -n "every file rewrapped" "$M.log" | head -1 | cut -d: -f1)
locked=$(grep -n "locked $C (atrestfs lock" "$M.log" | tail -1 | cut -d: -f1)
[ -n "$walked" ] && [ -n "$locked" ] && [ "$walked" -lt "$locked" ] ||
	fail "the lock did not wait for the walk: $(cat "$M.log")"
new=$(kek_of "$C")
headers_name "$C" "$new" 2000
ok "a lock asked for during the walk ($n of 2000 done) waits for its end"

# The mount unlocks with the new volume key only: the old config's key no
# longer opens the volume, and the daemon checks against the new one.
"$ATR" unlock -q "${K[@]}" "$M" || fail "unlock after the rotation"
diff -r "$SRC" "$M" >/dev/null || fail "files differ after rotation, lock and unlock"
unmount_vol "$M"
ok "after rotation and lock, unlock with the new volume key; files byte-exact"
