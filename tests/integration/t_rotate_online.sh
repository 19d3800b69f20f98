#!/usr/bin/env bash
# atrestfs rotate-kek MOUNTPOINT: the daemon rotates the volume key of a
# mounted volume of 2,000 files while a writer keeps appending to a log,
# making files and renaming them through the mount.  The command is
# killed with SIGKILL at seeded random points (counted in dek_rewrap
# audit lines) and run again until it finishes.  The writer never sees an
# error; afterwards every line it wrote is in the log, in order, every
# file reads back byte-exact, every header names the new KEK, the daemon
# has wiped the old KEK, and the old config with the old root key opens
# nothing.  A peer that is not root nor the mounting user is refused.
# SEED=N reproduces a run.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rotate_lib.sh"

SEED=${SEED:-$RANDOM}
RANDOM=$SEED
echo "t_rotate_online: SEED=$SEED"
C=$WORK/c M=$WORK/m ST=$WORK/st AUD=$WORK/audit.log SRC=$WORK/src
K=(--keyfile "$C.key" --state-dir "$ST")
new_volume "$C" --state-dir "$ST" --audit-file "$AUD"
make_tree "$SRC"
mount_with "$C" "$M" "${K[@]}"
cp -r "$SRC/." "$M/" || fail "copy 2,000 files in"
setfattr -n user.colour -v blue "$M/d0/f1" || fail "setfattr"
ln -s ../d0/f1 "$M/d2/link" || fail "symlink"
cp "$C/atrestfs.conf" "$WORK/old.conf"
old_kek=$(kek_of "$C")

# The writer: a numbered line per round to one log, a new file every
# tenth round, and a file of the tree renamed between two directories
# and back (a rename the walk may have to catch up with).
mkdir "$M/w" || fail "mkdir w"
touch "$WORK/writing"
(
	i=0
	while [ -e "$WORK/writing" ] && is_mounted "$M"; do
		i=$((i + 1))
		echo "line $i" >>"$M/log" || { echo "append $i failed" >"$WORK/writer.err"; exit 1; }
		if [ $((i % 10)) = 0 ]; then
			echo "file $i" >"$M/w/f$i" || { echo "create $i failed" >"$WORK/writer.err"; exit 1; }
			mv "$M/d3/f7" "$M/d0/moved" && mv "$M/d0/moved" "$M/d3/f7" ||
				{ echo "rename $i failed" >"$WORK/writer.err"; exit 1; }
		fi
	done
	echo "$i" >"$WORK/writer.n"
) &
writer=$!
PIDS+=($writer)

# Only root or the mounting user: another user is refused by the daemon
# (the state directory is 0700 too, so let it in for the check).
if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null && [ -x /usr/bin/python3 ]; then
	chmod 711 "$WORK" "$ST" "$ST"/*
	setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/bin/python3 - \
		"$(echo "$ST"/*/ctl)" >"$WORK/peer.out" 2>&1 <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
print(s.recv(200).decode().strip())
EOF
	chmod 700 "$WORK" "$ST" "$ST"/*
	grep -q "error only root or the user who mounted may ask" "$WORK/peer.out" ||
		fail "another user's request: $(cat "$WORK/peer.out")"
	ok "the control socket refuses a peer that is not root nor the mounting user"
fi

kills=0
for round in 1 2 3; do
	before=$(grep -c '"event":"dek_rewrap"' "$AUD")
	at=$((before + RANDOM % 300))
	setsid "$ATR" rotate-kek -q "${K[@]}" "$M" </dev/null 2>"$WORK/rot.err" &
	pid=$!
	while kill -0 $pid 2>/dev/null &&
		[ "$(grep -c '"event":"dek_rewrap"' "$AUD")" -lt "$at" ]; do
		sleep 0.01
	done
	kill -9 $pid 2>/dev/null && kills=$((kills + 1))
	wait $pid 2>/dev/null
	echo "round $round: killed after $(($(grep -c '"event":"dek_rewrap"' "$AUD") - before)) rewraps"
done
"$ATR" rotate-kek "${K[@]}" "$M" >"$WORK/rot.out" 2>"$WORK/rot.err" ||
	fail "rotate-kek $M: $(cat "$WORK/rot.err")"
grep -q "Rotated the volume key" "$WORK/rot.out" || fail "rotation not said: $(cat "$WORK/rot.out")"
sleep 0.5
rm "$WORK/writing"
wait $writer || fail "the writer failed: $(cat "$WORK/writer.err" 2>/dev/null)"
n=$(cat "$WORK/writer.n")
[ "$n" -gt 0 ] || fail "the writer wrote nothing"
seq -f 'line %g' 1 "$n" | cmp - "$M/log" || fail "the log lost or mixed lines ($n written)"
for f in "$M"/w/f*; do
	[ "$(cat "$f")" = "file ${f##*/f}" ] || fail "$f reads back wrong"
done
diff -r "$SRC" "$M" -x link -x w -x log >"$WORK/diff" 2>&1 ||
	fail "files differ: $(head -5 "$WORK/diff")"
[ "$(getfattr --absolute-names --only-values -n user.colour "$M/d0/f1")" = blue ] || fail "xattr"
[ "$(readlink "$M/d2/link")" = ../d0/f1 ] || fail "symlink"
grep -q kek_retiring "$C/atrestfs.conf" && fail "old KEK still in the config"
grep -q "old volume key wiped" "$M.log" || fail "the daemon did not wipe the old KEK: $(cat "$M.log")"
ok "$kills kills, then finished while a writer appended $n lines; all read back"
unmount_vol "$M"

new_kek=$(kek_of "$C")
[ "$new_kek" != "$old_kek" ] || fail "the KEK ID did not change"
headers_name "$C" "$new_kek"
ok "every header names the new KEK"

mount_with "$C" "$M" "${K[@]}"
seq -f 'line %g' 1 "$n" | cmp - "$M/log" || fail "the log after a remount"
unmount_vol "$M"
cp "$C/atrestfs.conf" "$WORK/new.conf"
cp "$WORK/old.conf" "$C/atrestfs.conf"
mount_with "$C" "$M" --keyfile "$C.key" --state-dir "$WORK/st2"
expect_eio cat "$M/d0/f1"
expect_eio cat "$M/log"
expect_eio readlink -v "$M/d2/link"
unmount_vol "$M"
cp "$WORK/new.conf" "$C/atrestfs.conf"
ok "after the online rotation the old config and root key open nothing: EIO"

# A command that stops reading its answers (suspended, or its stderr a
# pipe nobody drains) must not hold up the daemon: a warning is sent
# while the walk holds the entry's lock, and the unmount waits for the
# walk.  The peer is dropped and the walk goes on to its end.  Here
# 1,000 entries with corrupt headers and paths of about 1,000 bytes,
# planted in the backing directory, make a megabyte of warnings: more
# than the pipe and the socket hold.
mount_with "$C" "$M" "${K[@]}"
printf 'still here\n' >"$M/plain" || fail "write plain"
python3 - "$C" <<'PY' || fail "plant corrupt headers"
import os, sys
d = sys.argv[1]
for i in range(4):
    d = os.path.join(d, "n%d" % i + "x" * 220)
os.makedirs(d)
for i in range(1000):
    p = os.path.join(d, "bad%04d" % i)
    with open(p, "wb") as f:
        f.write(b"\0" * 100)
    os.setxattr(p, "user.atrestfs.hdr", b"junk" * 24)
PY
mkfifo "$WORK/err.fifo"
exec 9<>"$WORK/err.fifo"
"$ATR" rotate-kek -q "${K[@]}" "$M" </dev/null >/dev/null 2>"$WORK/err.fifo" &
stalled=$!
for i in $(seq 300); do
	grep -q "every file rewrapped under the new volume key" "$M.log" && break
	sleep 1
done
grep -q "every file rewrapped under the new volume key" "$M.log" ||
	fail "a command that does not read its answers held up the daemon's walk"
[ "$(cat "$M/plain")" = "still here" ] || fail "a file does not read after the walk"
kill -9 "$stalled" 2>/dev/null
wait "$stalled" 2>/dev/null
exec 9>&-
"$ATR" rotate-kek "${K[@]}" "$M" >"$WORK/rot2.out" 2>"$WORK/rot2.err" ||
	fail "rotate-kek after a stalled one: $(tail -3 "$WORK/rot2.err")"
grep -q "bad0999: header is corrupt" "$WORK/rot2.err" || fail "no warning: $(tail -3 "$WORK/rot2.err")"
unmount_vol "$M"
ok "a command that stops reading is dropped; the daemon's walk ends, and the next run finishes"

# Made just as a rotation starts: a new file's header, or a new symbolic
# link's target, is sealed under the KEK in use, so it must be on disk
# before the daemon swaps that KEK, or the walk may pass it before it is
# there and leave it under the old KEK, which is then wiped (EIO for
# ever).  strace holds the request at that write (SYSCALL, the WHENth of
# each worker thread) until released.  Fixed, the daemon's control thread
# waits for the request before it swaps the KEK; unfixed, it swaps and
# says so ("new volume key in use") while the request is held.
# made_at_start NAME SYSCALL WHEN MAKE CHECK: MAKE and CHECK are run with
# the path of NAME in the mount; CHECK must succeed after the rotation.
made_at_start() {
	local name=$1 sc=$2 when=$3 make=$4 check=$5 pid workers=() ctl= try t w tracer maker rot
	mount_with "$C" "$M" "${K[@]}"
	pid=${MPID[$M]}
	# The control thread waits in poll (the idle timer's timeout), but
	# just after the mount, or on a busy machine, it may not be there yet:
	# look again until it is.
	for try in $(seq 100); do
		ctl= workers=()
		for t in /proc/"$pid"/task/*; do
			case "$(cut -d' ' -f1 <"$t/syscall")" in
			7 | 288) ctl=${t##*/} ;;	# poll, accept4
			*) workers+=("${t##*/}") ;;
			esac
		done
		[ -n "$ctl" ] && break
		sleep 0.1
	done
	[ -n "$ctl" ] || fail "$name: no control thread (in poll) in daemon $pid after 10 s"
	: >"$WORK/$name.trace"
	strace -f -o "$WORK/$name.trace" -e trace="$sc" \
		-e inject="$sc":delay_enter=600000000:when="$when" \
		$(printf -- '-p %s ' "${workers[@]}") 2>/dev/null &
	tracer=$!
	for w in "${workers[@]}"; do
		while [ "$(awk '/^TracerPid/ { print $2 }' /proc/"$pid"/task/"$w"/status)" != "$tracer" ]; do
			kill -0 "$tracer" || fail "$name: strace could not attach"
			sleep 0.1
		done
	done
	$make "$M/$name" &
	maker=$!
	while [ "$(grep -c "$sc(" "$WORK/$name.trace")" -lt "$when" ]; do
		kill -0 "$maker" 2>/dev/null || fail "$name: made before the held $sc"
		sleep 0.1
	done
	"$ATR" rotate-kek -q "${K[@]}" "$M" 2>"$WORK/$name.err" &
	rot=$!
	# Until the KEK is swapped (unfixed) or the swap waits (fixed).
	while ! grep -q "new volume key in use" "$M.log" &&
		[ "$(cut -d' ' -f1 </proc/"$pid"/task/"$ctl"/syscall)" != 202 ]; do	# futex
		kill -0 "$rot" 2>/dev/null || break
		sleep 0.1
	done
	# Unfixed, the rotation ends (old KEK wiped) while the request is held.
	grep -q "new volume key in use" "$M.log" && wait "$rot"
	kill "$tracer"
	wait "$tracer" 2>/dev/null
	wait "$maker" || fail "$name: made during the rotation"
	wait "$rot" || fail "$name: rotate-kek: $(cat "$WORK/$name.err")"
	$check "$M/$name" >/dev/null ||
		fail "$name, made as an online rotation started, is unreadable after it"
	unmount_vol "$M"
	ok "$name, made as an online rotation starts, is under the new KEK"
}
new_file() { : >"$1"; }
new_link() { ln -s some/target "$1"; }
made_at_start a_file fsetxattr 2 new_file cat		# its record, then its header
made_at_start a_link symlinkat 1 new_link readlink
