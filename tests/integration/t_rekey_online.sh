#!/usr/bin/env bash
# atrestfs rekey MOUNTPOINT (issue 17, online): the daemon rekeys a
# mounted volume of 300 files while a writer appends to a log (a new
# open per line) and another keeps one file open and writes to it all
# along.  The command is killed with SIGKILL at seeded random points
# (counted in dek_rekey audit lines) and run again until it finishes; the
# run resumes where it was cut.  Neither writer ever sees an error;
# afterwards every file reads back byte-exact through the mount and
# after a remount, every file has a new file ID, every extent of the
# files nobody wrote differs in the backing directory, and the audit log
# has a dek_rekey and a dek_create for each.  Named PATHs are rekeyed
# the same way, and the old DEK of a file held open is then nowhere in
# the daemon's memory (/proc/PID/mem); a CIPHERDIR that is mounted is
# refused, naming the mount point; a peer that is not root nor the
# mounting user is refused.
# SEED=N reproduces a run.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/memscan_lib.sh"

SEED=${SEED:-$RANDOM}
RANDOM=$SEED
echo "t_rekey_online: SEED=$SEED"
C=$WORK/c M=$WORK/m ST=$WORK/st AUD=$WORK/audit.log SRC=$WORK/src
K=(--keyfile "$C.key" --state-dir "$ST")
new_volume "$C" --state-dir "$ST" --audit-file "$AUD"

# 300 files of seeded random sizes, some empty, some of whole extents.
SEED=$SEED python3 - "$SRC" <<'PY' || fail "make source tree"
import os, random, sys
src = sys.argv[1]
rnd = random.Random(int(os.environ["SEED"]))
for d in range(3):
    os.makedirs(f"{src}/d{d}")
    for i in range(100):
        n = rnd.choice([0, 1, 4096, 8192, rnd.randrange(1, 40000)])
        with open(f"{src}/d{d}/f{i}", "wb") as f:
            f.write(os.urandom(n))
PY
mount_with "$C" "$M" "${K[@]}"
cp -r "$SRC/." "$M/" || fail "copy 300 files in"

# ids CIPHERDIR: "path file-ID" of every regular file, sorted
ids() {
	python3 - "$1" <<'PY'
import os, sys
root = sys.argv[1]
for d, _, files in sorted(os.walk(root)):
    for f in sorted(files):
        p = os.path.join(d, f)
        if d == root and f.startswith("atrestfs.conf"):
            continue
        try:
            h = os.getxattr(p, "user.atrestfs.hdr")
        except OSError:
            continue	# an empty file of format 1 has none
        print(os.path.relpath(p, root), h[16:32].hex())
PY
}

# The file a program holds open for writing all along, and the log.
touch "$WORK/writing"
(
	exec 8>>"$M/held"
	i=0
	while [ -e "$WORK/writing" ]; do
		i=$((i + 1))
		echo "held $i" >&8 || { echo "held write $i failed" >"$WORK/held.err"; exit 1; }
		sleep 0.005
	done
	echo "$i" >"$WORK/held.n"
) &
holder=$!
PIDS+=($holder)
(
	i=0
	while [ -e "$WORK/writing" ]; do
		i=$((i + 1))
		echo "line $i" >>"$M/log" || { echo "append $i failed" >"$WORK/writer.err"; exit 1; }
	done
	echo "$i" >"$WORK/writer.n"
) &
writer=$!
PIDS+=($writer)
sleep 0.3
ids "$C" >"$WORK/ids.before"
cp -a "$C" "$WORK/before"

# Only root or the mounting user: another user is refused by the daemon
# (the state directory is 0700 too, so let it in for the check).
if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
	chmod 711 "$WORK" "$ST" "$ST"/*
	setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/bin/python3 - \
		"$(echo "$ST"/*/ctl)" >"$WORK/peer.out" 2>&1 <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
try:
    s.send(b"rekey-all\n")	# refused before it is read: may find it closed
except OSError:
    pass
print(s.recv(200).decode().strip())
EOF
	chmod 700 "$WORK" "$ST" "$ST"/*
	grep -q "error only root or the user who mounted may ask" "$WORK/peer.out" ||
		fail "another user's request: $(cat "$WORK/peer.out")"
	[ "$(grep -c '"event":"dek_rekey"' "$AUD")" = 0 ] ||
		fail "another user's request rekeyed files"
	ok "the control socket refuses a rekey from a peer that is not root nor the mounting user"
fi

expect 5 "is mounted at $M: give the mount point" "$ATR" rekey "${K[@]}" "$C" --all

kills=0
for round in 1 2 3; do
	before=$(grep -c '"event":"dek_rekey"' "$AUD")
	at=$((before + 1 + RANDOM % 90))
	setsid "$ATR" rekey -q --state-dir "$ST" "$M" --all </dev/null 2>"$WORK/rk.err" &
	pid=$!
	while kill -0 $pid 2>/dev/null &&
		[ "$(grep -c '"event":"dek_rekey"' "$AUD")" -lt "$at" ]; do
		sleep 0.01
	done
	kill -9 $pid 2>/dev/null && kills=$((kills + 1))
	wait $pid 2>/dev/null
	echo "round $round: killed after $(($(grep -c '"event":"dek_rekey"' "$AUD") - before)) files"
done
"$ATR" rekey --state-dir "$ST" "$M" --all >"$WORK/rk.out" 2>"$WORK/rk.err" ||
	fail "rekey $M --all: $(cat "$WORK/rk.err")"
grep -q "Rekeyed [0-9]* files of $M" "$WORK/rk.out" || fail "not said: $(cat "$WORK/rk.out")"
if [ "$kills" -gt 0 ]; then
	grep -q "done before the run was cut short" "$WORK/rk.out" ||
		fail "the run did not resume: $(cat "$WORK/rk.out")"
fi
[ -e "$ST"/*/rekey ] && fail "the run's record is left after the run"
sleep 0.3
rm "$WORK/writing"
wait $writer || fail "the log writer failed: $(cat "$WORK/writer.err" 2>/dev/null)"
wait $holder || fail "the held file's writer failed: $(cat "$WORK/held.err" 2>/dev/null)"
n=$(cat "$WORK/writer.n") h=$(cat "$WORK/held.n")
[ "$n" -gt 0 ] && [ "$h" -gt 0 ] || fail "the writers wrote nothing"
seq -f 'line %g' 1 "$n" | cmp - "$M/log" || fail "the log lost or mixed lines ($n written)"
seq -f 'held %g' 1 "$h" | cmp - "$M/held" ||
	fail "the file held open lost or mixed lines ($h written)"
diff -r "$SRC" "$M" -x log -x held >"$WORK/diff" 2>&1 ||
	fail "files differ: $(head -5 "$WORK/diff")"
ok "$kills kills, then finished while one writer appended $n lines and another held a file open for $h; all read back"
unmount_vol "$M"

# Every file: a new ID; every extent of the files nobody wrote: new bytes.
ids "$C" >"$WORK/ids.after"
python3 - "$WORK/ids.before" "$WORK/ids.after" "$WORK/before" "$C" <<'PY' || fail "backing files"
import os, sys
old = dict(l.split() for l in open(sys.argv[1]))
new = dict(l.split() for l in open(sys.argv[2]))
if sorted(old) != sorted(new):
    sys.exit("files with a header: %s, was %s" % (sorted(new), sorted(old)))
d = 4096 + 28
for p, i in old.items():
    if new[p] == i:
        sys.exit("%s kept its file ID %s" % (p, i))
    if p in ("log", "held"):
        continue
    a = open(os.path.join(sys.argv[3], p), "rb").read()
    b = open(os.path.join(sys.argv[4], p), "rb").read()
    if len(a) != len(b):
        sys.exit("%s: backing size %d, was %d" % (p, len(b), len(a)))
    for off in range(0, len(a), d):
        x, y = a[off:off + d], b[off:off + d]
        same = sum(1 for u, v in zip(x, y) if u == v)
        if x[:12] == y[:12] or x[-16:] == y[-16:] or same > len(x) // 16 + 3:
            sys.exit("%s extent %d: %d of %d bytes unchanged" % (p, off // d, same, len(x)))
PY
nfiles=$(wc -l <"$WORK/ids.after")
# dek_rekey names each old ID, dek_create each new one.
python3 - "$AUD" "$WORK/ids.before" "$WORK/ids.after" <<'PY' || fail "audit"
import json, sys
seen = {"dek_rekey": set(), "dek_create": set()}
for l in open(sys.argv[1]):
    try:
        j = json.loads(l[l.index("{"):])
    except ValueError:
        continue
    if j.get("event") in seen and j.get("result") == "ok":
        seen[j["event"]].add(j.get("file_id"))
for ev, f in (("dek_rekey", sys.argv[2]), ("dek_create", sys.argv[3])):
    want = {l.split()[1] for l in open(f)}
    if not want <= seen[ev]:
        sys.exit("no %s line for %s" % (ev, sorted(want - seen[ev])[:3]))
PY
ok "all $nfiles files have new file IDs, new backing bytes in every extent, and audit lines"

mount_with "$C" "$M" "${K[@]}"
seq -f 'line %g' 1 "$n" | cmp - "$M/log" || fail "the log after a remount"
seq -f 'held %g' 1 "$h" | cmp - "$M/held" || fail "the held file after a remount"
diff -r "$SRC" "$M" -x log -x held >"$WORK/diff" 2>&1 ||
	fail "files differ after a remount: $(head -5 "$WORK/diff")"
grep -E "rolled back|authenticate|version record" "$M.log" && fail "a false alarm"
ok "after a remount every file reads back, with no alarm"

# Named PATHs, one held open for reading meanwhile.
exec 9<"$M/d1/f7"
old1=$(ids "$C" | awk '$1 == "d1/f7" { print $2 }')
old2=$(ids "$C" | awk '$1 == "d2/f3" { print $2 }')
"$ATR" rekey -q --state-dir "$ST" "$M" d1/f7 ./d2/f3 || fail "rekey PATH..."
cmp - "$SRC/d1/f7" <&9 || fail "a file held open for reading reads wrong after its rekey"
exec 9<&-
cmp "$M/d1/f7" "$SRC/d1/f7" && cmp "$M/d2/f3" "$SRC/d2/f3" || fail "rekeyed PATHs read back wrong"
[ "$(ids "$C" | awk '$1 == "d1/f7" { print $2 }')" != "$old1" ] &&
	[ "$(ids "$C" | awk '$1 == "d2/f3" { print $2 }')" != "$old2" ] ||
	fail "a named PATH kept its file ID"

# The old DEK leaves the daemon's memory when the inode switches: a file
# held open (its DEK loaded), scanned for before (which must find it, or
# the silence after proves nothing) and after its rekey.
KEYDUMP=$TB/tool_keydump
[ -x "$KEYDUMP" ] || fail "$KEYDUMP not built (make)"
head -c 300000 /dev/urandom >"$WORK/secret"
cp "$WORK/secret" "$M/secret" || fail "write secret"
exec 9<"$M/secret"
head -c 4096 <&9 >/dev/null || fail "read through the held fd"
"$KEYDUMP" "$C" "$C.key" "$C/secret" | grep '^dek:' >"$WORK/dek" || fail "keydump"
pid=${MPID[$M]}
found=$(paused_scan "$pid" "$WORK/dek") || exit 1
has dek:secret "$found" || fail "the scan does not find the open file's DEK before its rekey"
"$ATR" rekey -q --state-dir "$ST" "$M" secret || fail "rekey secret"
python3 -c 'import os, sys; sys.stdout.buffer.write(os.pread(0, 1 << 30, 0))' <&9 |
	cmp - "$WORK/secret" || fail "the held file reads wrong after its rekey"
found=$(paused_scan "$pid" "$WORK/dek") || exit 1
[ -z "$found" ] || fail "the old DEK is still in the daemon's memory after the rekey: $found"
exec 9<&-
ok "after an online rekey the old DEK of a file held open is gone from the daemon's memory"

ln -s d1/f7 "$M/lnk"
expect 1 "not a regular file" "$ATR" rekey --state-dir "$ST" "$M" lnk
expect 1 "No such file" "$ATR" rekey --state-dir "$ST" "$M" nothere
unmount_vol "$M"
ok "rekey MOUNTPOINT PATH...: a file held open for reading reads on; refusals said"
