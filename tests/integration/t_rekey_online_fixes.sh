#!/usr/bin/env bash
# atrestfs rekey MOUNTPOINT, the review's findings (issue 17, online):
# - a file name holding "\nok 300 0 0 0 0 0" (hard-linked, so the walk
#   warns about it) does not pass for the daemon's answer: the warning
#   shows it escaped, and rekey --all runs to its end and exits 1.
# - a daemon that is not root cannot open again, for writing, a file made
#   0444 while held open for writing: the rekey of that file fails with a
#   warning before any rename (old file and ID kept), and what is written
#   through the held fd afterwards is there after a remount.
# - chmod, chown, utimes and link of a file while it is rekeyed wait for
#   the rekey (the inode's lock) and reach the new file: the rekey is not
#   refused as "changed", and none of them is lost with the old file.
# - a file held open is rekeyed by PATH twice in a row (its inode's fd
#   has the file's own path after the first), and reads back.
# - atrestfs lock during rekey --all does not wait for the whole run: the
#   run stops after the file in hand (exit 1, saying why), the mount is
#   locked, and after an unlock rekey --all resumes.
. "$(dirname "$0")/lib.sh"

C=$WORK/c M=$WORK/m ST=$WORK/st
K=(--keyfile "$C.key" --state-dir "$ST")
new_volume "$C" --state-dir "$ST"
mount_with "$C" "$M" "${K[@]}"

# hdr_id FILE: the file ID in the backing file's header
hdr_id() { xattr_hex "$1" user.atrestfs.hdr | cut -c33-64; }

# 1. A file name forging the answer.
for i in 1 2 3; do echo "file $i" >"$M/f$i"; done
old=$(hdr_id "$C/f3")
evil=$'a\nok 300 0 0 0 0 0'
echo x >"$M/$evil" && ln "$M/$evil" "$M/a2" || fail "make the hard-linked file"
"$ATR" rekey --state-dir "$ST" "$M" --all >"$WORK/rk.out" 2>"$WORK/rk.err"
rc=$?
[ $rc = 1 ] || fail "rekey --all with a hard-linked file exited $rc, want 1: $(cat "$WORK/rk.out" "$WORK/rk.err")"
grep -q "Rekeyed 300" "$WORK/rk.out" && fail "a file name forged the answer: $(cat "$WORK/rk.out")"
grep -qF 'a\012ok 300 0 0 0 0 0: has hard links' "$WORK/rk.err" ||
	fail "the warning does not name the file, escaped: $(cat "$WORK/rk.err")"
grep -q "Rekeyed 3 files of $M" "$WORK/rk.out" || fail "not said: $(cat "$WORK/rk.out")"
[ "$(hdr_id "$C/f3")" != "$old" ] || fail "the run stopped before f3"
ok "a file name with '\\nok ...' in it is a warning, escaped; the run goes on and exits 1"

# 2. A handle that cannot follow: the file is left, no write lost.
if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
	U() { setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME="$NB" "$@"; }
	NB=$WORK/nr
	mkdir -p "$NB/c" "$NB/m" "$NB/st"
	chown -R nobody:nogroup "$NB"
	chmod 755 "$WORK"
	# A copy nobody may run: CI's checkout is in a 0700 directory.
	install -m 755 "$ATR" "$WORK/atrestfs-nobody"
	NATR=$WORK/atrestfs-nobody
	U "$NATR" init -q --keyfile "$NB/c.key" --names plain --state-dir "$NB/st" "$NB/c" ||
		fail "init as nobody"
	nb_mount() {
		U setsid "$NATR" mount -f --keyfile "$NB/c.key" --state-dir "$NB/st" \
			"$NB/c" "$NB/m" 2>>"$NB/m.log" </dev/null &
		PIDS+=($!)
		MPID[$NB/m]=$!
		MOUNTS+=("$NB/m")
		for i in $(seq 100); do is_mounted "$NB/m" && return 0; sleep 0.1; done
		fail "mount as nobody: $(cat "$NB/m.log")"
	}
	nb_mount
	U /usr/bin/python3 - "$NB" "$NATR" >"$WORK/nr.out" 2>&1 <<'PY'
import os, subprocess, sys
nb, atr = sys.argv[1], sys.argv[2]
f = nb + "/m/f"
w = os.open(f, os.O_RDWR | os.O_CREAT, 0o644)
os.write(w, os.urandom(3 * 4096)); os.fsync(w)
os.chmod(f, 0o444)			# still held open for writing
old = os.getxattr(nb + "/c/f", "user.atrestfs.hdr")[16:32]
r = subprocess.run([atr, "rekey", "--state-dir", nb + "/st", nb + "/m", "f"],
		   capture_output=True, text=True)
print("rekey exit", r.returncode, r.stderr.strip().replace("\n", " | "))
if r.returncode == 0:
    sys.exit("the rekey said it succeeded")
if "cannot be moved to a new file" not in r.stderr:
    sys.exit("no warning naming the file")
if os.getxattr(nb + "/c/f", "user.atrestfs.hdr")[16:32] != old:
    sys.exit("the file got a new ID although its handle could not follow")
# Writable again (a daemon that is not root cannot set the records of
# a 0444 file, rekey or not), then written through the held fd.
os.chmod(f, 0o644)
os.pwrite(w, b"B" * 4096, 4096); os.fsync(w)
open(f, "rb").read()			# a reader loads the key again
os.pwrite(w, b"C" * 4096, 8192); os.fsync(w)
os.close(w)
PY
	[ $? = 0 ] || fail "non-root daemon, a handle that cannot follow: $(cat "$WORK/nr.out" "$NB/m.log")"
	unmount_vol "$NB/m"
	nb_mount
	U /usr/bin/python3 -c "
import sys
d = open('$NB/m/f', 'rb').read()
sys.exit(d[4096:] != b'B' * 4096 + b'C' * 4096)" ||
		fail "writes through the held fd lost after a remount"
	unmount_vol "$NB/m"
	ok "a handle that cannot follow: rekey of the file fails with a warning, old file kept, no write lost"
fi

# 3. Attribute changes while a big file is rekeyed.
head -c $((96 << 20)) /dev/zero >"$M/big" || fail "write big"
chmod 644 "$M/big"
old=$(hdr_id "$C/big")
t0=$(date +%s%N)
"$ATR" rekey -q --state-dir "$ST" "$M" big 2>"$WORK/big.err" &
rk=$!
# Its new file, unnamed (O_TMPFILE), open in the daemon: the copy is on.
for i in $(seq 500); do
	ls -l /proc/"${MPID[$M]}"/fd 2>/dev/null | grep -q '#[0-9]* (deleted)' && break
	sleep 0.01
done
kill -0 $rk 2>/dev/null || fail "the rekey of 96 MiB ended before the changes: make it bigger"
chmod 600 "$M/big" && chown 12:34 "$M/big" && touch -m -d @1000000000 "$M/big" &&
	ln "$M/big" "$M/big2" || fail "chmod, chown, touch, ln while rekeyed"
wait $rk || fail "rekey of a file whose attributes changed meanwhile: $(cat "$WORK/big.err")"
echo "rekey of 96 MiB: $((($(date +%s%N) - t0) / 1000000)) ms"
[ "$(hdr_id "$C/big")" != "$old" ] || fail "big kept its file ID"
[ "$(stat -c '%a %u %g %Y %h' "$C/big")" = "600 12 34 1000000000 2" ] ||
	fail "changes lost with the old file: $(stat -c '%a %u %g %Y %h' "$C/big")"
[ "$(stat -c %i "$C/big")" = "$(stat -c %i "$C/big2")" ] || fail "big2 names another file"
rm "$M/big" "$M/big2"
ok "chmod, chown, utimes and link during a rekey wait for it and reach the new file"

# 4. The same PATH twice while held open.
mkdir "$M/d" && head -c 20000 /dev/urandom >"$WORK/twice" && cp "$WORK/twice" "$M/d/f" ||
	fail "make d/f"
exec 8<"$M/d/f"
for n in 1 2; do
	old=$(hdr_id "$C/d/f")
	"$ATR" rekey -q --state-dir "$ST" "$M" d/f 2>"$WORK/twice.err" ||
		fail "rekey $n of d/f held open: $(cat "$WORK/twice.err")"
	[ "$(hdr_id "$C/d/f")" != "$old" ] || fail "rekey $n: d/f kept its file ID"
done
cmp - "$WORK/twice" <&8 || fail "d/f held open reads wrong after two rekeys"
exec 8<&-
cmp "$M/d/f" "$WORK/twice" || fail "d/f reads wrong after two rekeys"
grep -F '(deleted)' "$M.log" && fail "a log line names a deleted path"
ok "a file held open is rekeyed by PATH twice in a row"

# 5. A lock stops a rekey --all between two files.
for i in 1 2 3 4; do head -c $((48 << 20)) /dev/zero >"$M/big$i" || fail "write big$i"; done
"$ATR" rekey --state-dir "$ST" "$M" --all >"$WORK/lk.out" 2>"$WORK/lk.err" &
rk=$!
for i in $(seq 500); do
	ls -l /proc/"${MPID[$M]}"/fd 2>/dev/null | grep -q '#[0-9]* (deleted)' && break
	sleep 0.01
done
"$ATR" lock --state-dir "$ST" "$M" >/dev/null || fail "lock during a rekey"
kill -0 $rk 2>/dev/null && sleep 1
kill -0 $rk 2>/dev/null && fail "the rekey ran on after the lock"
wait $rk
rc=$?
[ $rc = 1 ] || fail "rekey --all stopped by a lock exited $rc: $(cat "$WORK/lk.out" "$WORK/lk.err")"
grep -q "is being locked: unlock it, then run rekey again" "$WORK/lk.err" ||
	fail "not said why the rekey stopped: $(cat "$WORK/lk.err")"
cat "$M/f1" >/dev/null 2>&1 && fail "the mount is not locked"
"$ATR" unlock --keyfile "$C.key" --state-dir "$ST" "$M" >/dev/null || fail "unlock"
"$ATR" rekey --state-dir "$ST" "$M" --all >"$WORK/lk.out" 2>"$WORK/lk.err"
grep -q "Resumed the rekey --all that was cut short" "$WORK/lk.out" ||
	fail "rekey --all after the unlock did not resume: $(cat "$WORK/lk.out" "$WORK/lk.err")"
ok "a lock stops rekey --all between two files; after the unlock it resumes"

unmount_vol "$M"
