#!/usr/bin/env bash
# atrestfs lock / unlock and -o idle=: the daemon wipes every key and
# refuses access without unmounting; unlock needs the root key again.
# The proof: the daemon, stopped right after the lock answered (SIGSTOP,
# so nothing can change in it), has neither the KEK, nor its subkeys, nor
# the DEK of any file it used anywhere in its memory (/proc/PID/mem).
# The same scan run before the lock must find them, or its silence after
# would mean nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/memscan_lib.sh"

C=$WORK/c M=$WORK/m
KEYDUMP=$TB/tool_keydump
[ -x "$KEYDUMP" ] || fail "$KEYDUMP not built (make)"

# fd_md5 <FILE: md5 of the whole file open on stdin, whatever its offset
fd_md5() {
	python3 -c 'import hashlib, os
print(hashlib.md5(os.pread(0, 1 << 30, 0)).hexdigest())'
}

new_volume "$C"
mount_vol "$C" "$M"
pid=${MPID[$M]}
[ "$(cat /proc/$pid/comm)" = atrestfs ] || fail "daemon pid $pid is $(cat /proc/$pid/comm)"
head -c $((3 << 20)) /dev/urandom >"$M/a"
printf 'small file\n' >"$M/b"
ln -s target "$M/link"
setfattr -n user.x -v secret "$M/b"
mark=ATRMARK$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
printf 'x%sx' "$mark" >"$M/marker"
sum=$(cat "$M/a" "$M/b" | md5sum)
sync
"$KEYDUMP" "$C" "$C.key" "$C/a" "$C/b" >"$WORK/keys" || fail "keydump"
[ "$(grep -c . "$WORK/keys")" -ge 6 ] || fail "keydump printed too little"

# Positive control: the KEK, its subkeys and the DEK of the open file are
# in the daemon's memory, and the scan finds them.
exec 3<"$M/a"
head -c 4096 <&3 >/dev/null || fail "read through the held fd"
found=$(paused_scan "$pid" "$WORK/keys") || exit 1
for k in kek conf_mac meta state_mac dek:a; do
	has "$k" "$found" || fail "scan does not find $k before the lock (found: $found)"
done
ok "memory scan finds the KEK, subkeys and an open file's DEK while unlocked"

# The control socket is the rotation's: "ctl" in the volume's state
# directory on this machine (the default one here).
uuid=$(sed -n 's/^volume_uuid *= *"\(.*\)";/\1/p' "$C/atrestfs.conf")
sock=/var/lib/atrestfs/$uuid/ctl
[ -S "$sock" ] || fail "no control socket $sock"

# Lock: every key gone from the daemon; the open fd and new access fail.
out=$("$ATR" lock "$M") || fail "lock: $out"
case "$out" in *"is locked"*) ;; *) fail "lock said: $out" ;; esac
is_mounted "$M" || fail "lock unmounted"
found=$(paused_scan "$pid" "$WORK/keys") || exit 1
[ -z "$found" ] || fail "keys left in the daemon after lock: $found"
ok "after lock no KEK, subkey or DEK in the daemon's memory"
err=$(head -c 10 <&3 2>&1 >/dev/null) && fail "read through a held fd after lock"
case "$err" in *"Permission denied"*) ;; *) fail "held fd after lock: $err" ;; esac
ls "$M" >/dev/null 2>&1 && fail "ls after lock"
cat "$M/b" >/dev/null 2>&1 && fail "cat after lock"
readlink "$M/link" >/dev/null 2>&1 && fail "readlink after lock"
getfattr -n user.x "$M/b" >/dev/null 2>&1 && fail "getxattr after lock"
echo x 2>/dev/null >"$M/new" && fail "create after lock"
grep -q "locked $C (atrestfs lock by uid 0)" "$M.log" || fail "lock not logged"
out=$("$ATR" lock "$C") || fail "lock again by CIPHERDIR: $out"
case "$out" in *"locked already"*) ;; *) fail "second lock said: $out" ;; esac
ok "locked: held fd gets EACCES, ls/cat/readlink/getfattr/create refused"

# Unlock: a key that does not open the volume is refused before the daemon
# is asked; the right one gives every file back, held fd included.
head -c 32 /dev/urandom >"$WORK/wrong.key" && chmod 600 "$WORK/wrong.key"
expect 3 "" "$ATR" unlock --keyfile "$WORK/wrong.key" "$M"
ls "$M" >/dev/null 2>&1 && fail "ls after a failed unlock"
# The daemon itself takes only the KEK it was mounted with.
ans=$(/usr/bin/python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1]); s.sendall(b"unlock\n" + os.urandom(48))
print(s.makefile().readline().strip())' "$sock")
case "$ans" in rejected*) ;; *) fail "a wrong KEK on the socket: answer $ans, want rejected" ;; esac
ls "$M" >/dev/null 2>&1 && fail "ls after a wrong KEK on the socket"
out=$("$ATR" unlock --keyfile "$C.key" "$M") || fail "unlock: $out"
[ "$(fd_md5 <&3)" = "$(fd_md5 <"$M/a")" ] || fail "held fd reads wrong data after unlock"
[ "$(cat "$M/a" "$M/b" | md5sum)" = "$sum" ] || fail "data differs after unlock"
[ "$(readlink "$M/link")" = target ] || fail "symlink after unlock"
[ "$(getfattr --absolute-names --only-values -n user.x "$M/b")" = secret ] || fail "xattr after unlock"
echo new >"$M/new" || fail "create after unlock"
exec 3<&-
ok "unlock with the root key: data, link, xattr byte-exact; held fd works again"
# Unmount revokes too: a held fd gets an error, not data, even when a lazy
# unmount leaves the daemon running until the fd is closed.
exec 3<"$M/a"
"$ATR" unmount --lazy "$M" || fail "lazy unmount"
err=$(head -c 10 <&3 2>&1 >/dev/null) && fail "read through a held fd after unmount"
exec 3<&-
timeout 30 tail --pid="$pid" -f /dev/null
unset "MPID[$M]"
grep -q "locked $C (atrestfs lock by uid 0)" "$M.log" || fail "unmount --lazy did not lock"
ok "after unmount --lazy a held fd gets an error ($err)"

# Idle: no request for 2 s locks the mount, keys wiped the same way, and
# so is the plaintext a read left in the daemon's buffers (a fresh daemon
# has only read the marker, never received it in a write).
mount_with "$C" "$M" --keyfile "$C.key" -o idle=2s
pid=${MPID[$M]}
cp "$WORK/keys" "$WORK/keys+plain"
echo "plain $(printf %s "$mark" | od -An -tx1 | tr -d ' \n')" >>"$WORK/keys+plain"
exec 4<"$M/a"
head -c 4096 <&4 >/dev/null || fail "read through the held fd"
grep -q "$mark" "$M/marker" || fail "marker not read back"
found=$(paused_scan "$pid" "$WORK/keys+plain") || exit 1
has kek "$found" && has dek:a "$found" && has plain "$found" ||
	fail "scan does not find the KEK, DEK and plaintext before the idle lock ($found)"
for i in $(seq 600); do
	grep -q "locked $C (idle for 2 s)" "$M.log" && break
	sleep 0.1
done
grep -q "locked $C (idle for 2 s)" "$M.log" || fail "no idle lock: $(cat "$M.log")"
found=$(paused_scan "$pid" "$WORK/keys+plain") || exit 1
[ -z "$found" ] || fail "keys or plaintext left in the daemon after the idle lock: $found"
err=$(head -c 10 <&4 2>&1 >/dev/null) && fail "read through a held fd after idle lock"
ls "$M" >/dev/null 2>&1 && fail "ls after idle lock"
exec 4<&-
ok "idle=2s locks the mount; no KEK, DEK or plaintext left in the daemon"
# Unmount of a locked mount: clean exit, and the data is whole.
unmount_vol "$M"
# LeakSanitizer (SAN build) cannot run under the gdb of the scan below.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 mount_vol "$C" "$M"
pid=${MPID[$M]}
[ "$(cat "$M/a" "$M/b" | md5sum)" = "$sum" ] || fail "data differs after remount"

# Unmount: stopped by gdb at _exit, after every key was freed, the daemon
# has none left either; the positive control first, as above.
exec 3<"$M/a"
head -c 4096 <&3 >/dev/null || fail "read through the held fd"
found=$(paused_scan "$pid" "$WORK/keys") || exit 1
has kek "$found" && has dek:a "$found" ||
	fail "scan does not find the KEK and DEK before unmount ($found)"
exec 3<&-
declare -f scan_mem >"$WORK/scan.sh"
echo 'scan_mem "$@"' >>"$WORK/scan.sh"
cat >"$WORK/gdb.cmd" <<EOF
set pagination off
handle all nostop noprint pass
break _exit
commands 1
shell bash $WORK/scan.sh $pid $WORK/keys >$WORK/exit.scan 2>&1
continue
end
continue
EOF
timeout 300 gdb -q -nx -batch -p "$pid" -x "$WORK/gdb.cmd" >"$WORK/gdb.log" 2>&1 &
gdbpid=$!
for i in $(seq 300); do
	grep -q "^Breakpoint 1 at" "$WORK/gdb.log" && grep -q "^Continuing" "$WORK/gdb.log" && break
	sleep 0.1
done
unmount_vol "$M"
wait "$gdbpid"
[ -f "$WORK/exit.scan" ] || fail "gdb never stopped the daemon at _exit: $(cat "$WORK/gdb.log")"
found=$(scan_names "$(cat "$WORK/exit.scan")") || exit 1
[ -z "$found" ] || fail "keys left in the daemon at exit: $found"
ok "after unmount, at _exit, no KEK or DEK in the daemon's memory"
expect 2 "idle=0: want a duration" "$ATR" mount -o idle=0 --keyfile "$C.key" "$C" "$M"
expect 5 "cannot reach the daemon serving" "$ATR" lock "$C"
ok "a locked mount unmounts cleanly; idle= and lock without a mount refused"

# Both are key events: in the volume's audit log, a refused KEK included.
# This one with its own state directory, which lock and unlock are told.
C2=$WORK/c2 M2=$WORK/m2 LOG=$WORK/audit.log ST=$WORK/st
new_volume "$C2" --audit-file "$LOG" --state-dir "$ST"
mount_with "$C2" "$M2" --keyfile "$C2.key" --state-dir "$ST"
sock2=$(echo "$ST"/*/ctl)
[ -S "$sock2" ] || fail "no control socket in $ST"
expect 5 "cannot reach the daemon serving" "$ATR" lock "$M2"

# Only root and the mounting user, whatever the modes say (SO_PEERCRED):
# with the state directory opened to everyone, another user is refused.
chmod 711 "$WORK" "$ST" "$ST"/* && chmod 666 "$sock2"
ans=$(setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
try:
    s.sendall(b"lock\n")
except BrokenPipeError:
    pass	# refused before the daemon read it: the answer is there
print(s.makefile().readline().strip())' "$sock2" 2>&1)
chmod 700 "$WORK" "$ST" "$ST"/*
case "$ans" in "error only root or the user who mounted may ask") ;;
*) fail "another user's lock: answer $ans" ;; esac
echo x >"$M2/probe" || fail "mount locked by another user"
ok "another user cannot lock through the socket (SO_PEERCRED)"

"$ATR" lock -q --state-dir "$ST" "$M2" || fail "lock with an audit log"
/usr/bin/python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1]); s.sendall(b"unlock\n" + os.urandom(48)); s.recv(512)' \
	"$sock2"
"$ATR" unlock -q --state-dir "$ST" --keyfile "$C2.key" "$M2" || fail "unlock with an audit log"
grep -q '"event":"lock".*"result":"ok"' "$LOG" || fail "no lock line: $(cat "$LOG")"
grep -q '"event":"unlock".*"result":"EKEYREJECTED"' "$LOG" ||
	fail "no refused unlock line: $(cat "$LOG")"
grep -q '"event":"unlock".*"result":"ok"' "$LOG" || fail "no unlock line"
ok "lock, unlock and a refused KEK are audited"

# A header changed while locked: unlock cannot load that file's key again,
# so its held fd gets EIO (not a crash, not data); the others work, and
# the file opens again once its header is put back.
printf 'one\n' >"$M2/f"
printf 'two\n' >"$M2/g"
exec 5<"$M2/f" 6<"$M2/g"
"$ATR" lock -q --state-dir "$ST" "$M2" || fail "lock"
hdr=$(xattr_hex "$C2/f" user.atrestfs.hdr)
bad=${hdr:0:100}$(printf %x $(( 0x${hdr:100:1} ^ 1 )))${hdr:101}
setfattr -n user.atrestfs.hdr -v "0x$bad" "$C2/f"
"$ATR" unlock -q --state-dir "$ST" --keyfile "$C2.key" "$M2" || fail "unlock"
grep -q "could not be loaded again after unlock" "$M2.log" || fail "reload failure not logged"
[ "$(fd_md5 <&6)" = "$(printf 'two\n' | md5sum | cut -d' ' -f1)" ] || fail "other held fd after unlock"
err=$(head -c 4 <&5 2>&1 >/dev/null) && fail "held fd of a changed header reads data"
case "$err" in *"Input/output error"*) ;; *) fail "held fd of a changed header: $err" ;; esac
exec 5<&- 6<&-
setfattr -n user.atrestfs.hdr -v "0x$hdr" "$C2/f"
[ "$(cat "$M2/f")" = one ] || fail "file after its header was put back"
unmount_vol "$M2"
ok "a header changed while locked: EIO on its held fd after unlock, the rest works"

# Encrypted names: the names keys are wiped by lock like every other key
# (positive control first), and unlock brings them back, names and all.
CN=$WORK/cn MN=$WORK/mn
mkdir -p "$CN" && "$ATR" init -q --keyfile "$CN.key" --names encrypted "$CN" ||
	fail "init a names volume"
mount_vol "$CN" "$MN"
pid=${MPID[$MN]}
mkdir "$MN/dir" && echo hidden >"$MN/dir/payroll-2026.log" || fail "write names volume"
setfattr -n user.label -v v "$MN/dir/payroll-2026.log" || fail "setfattr"
"$KEYDUMP" "$CN" "$CN.key" >"$WORK/nkeys" || fail "keydump of the names volume"
grep -q '^names ' "$WORK/nkeys" && grep -q '^xnames ' "$WORK/nkeys" ||
	fail "keydump printed no names keys"
ls "$MN/dir" >/dev/null || fail "ls names volume"
found=$(paused_scan "$pid" "$WORK/nkeys") || exit 1
has names "$found" && has xnames "$found" ||
	fail "scan does not find the names keys before the lock (found: $found)"
out=$("$ATR" lock "$MN") || fail "lock names volume: $out"
found=$(paused_scan "$pid" "$WORK/nkeys") || exit 1
[ -z "$found" ] || fail "keys left in the daemon after lock of a names volume: $found"
ls "$MN/dir" >/dev/null 2>&1 && fail "ls after lock of a names volume"
out=$("$ATR" unlock --keyfile "$CN.key" "$MN") || fail "unlock names volume: $out"
[ "$(ls "$MN/dir")" = payroll-2026.log ] || fail "names after unlock: $(ls "$MN/dir")"
[ "$(cat "$MN/dir/payroll-2026.log")" = hidden ] || fail "data after unlock"
[ "$(getfattr --absolute-names --only-values -n user.label "$MN/dir/payroll-2026.log")" = v ] ||
	fail "xattr name after unlock"
unmount_vol "$MN"
ok "names volume: lock wipes the names keys; unlock brings names and xattr names back"
