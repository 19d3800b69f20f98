#!/usr/bin/env bash
# t_shared.sh - -o shared on two hosts (two Gluster clients, one atrestfs
# daemon over each): names made, renamed and removed on one host are seen
# on the other within the stated time; files created at once on both get
# one header; appends from both hosts each land whole; the brick holds no
# plaintext; both daemons' audit lines name the host, in one chain.
# MH_OPTS overrides the mount options.
source "$(dirname "$0")/lib.sh"
source "$TOP/tests/atrest/common.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
OPTS=${MH_OPTS--oshared}
# What README promises: a name change on one host is seen on the other
# within the entry timeout (1 s); polled here up to 3 s, and must show
# within 1.5 s.
LIMIT_MS=1500

mh_gluster
# One audit file, local to this machine, that both daemons append to.
mh_volume --audit-file "$WORK/audit.log"
mh_mount a $OPTS
mh_mount b $OPTS
A=$WORK/a B=$WORK/b

now_ms() { date +%s%3N; }

# seen WHAT TEST...: poll TEST (up to 3 s); fail if it never holds or
# holds only after LIMIT_MS
seen() {
	local what=$1 t0 i
	shift
	t0=$(now_ms)
	for i in $(seq 60); do
		if "$@" 2>/dev/null; then
			local dt=$(($(now_ms) - t0))
			[ $dt -le $LIMIT_MS ] || fail "$what: seen only after $dt ms"
			echo "  $what: seen after $dt ms"
			return 0
		fi
		sleep 0.05
	done
	fail "$what: not seen within 3 s"
}

has() { [ "$(cat "$1")" = "$2" ]; }
gone() { ! [ -e "$1" ]; }

# Names: B looks first, so that its kernel has the entries cached.
mark=$(new_mark)
ls "$B" >/dev/null
[ -e "$B/f1" ] && fail "f1 before it was made"
echo "$mark one" >"$A/f1" || fail "create on A"
seen "file made on A, on B" has "$B/f1" "$mark one"
mv "$A/f1" "$A/f2" || fail "rename on A"
seen "rename on A, new name on B" has "$B/f2" "$mark one"
seen "rename on A, old name gone on B" gone "$B/f1"
echo "$mark two" >>"$B/f2" || fail "append on B"
seen "append on B, on A" has "$A/f2" "$mark one
$mark two"
rm "$A/f2" || fail "remove on A"
seen "remove on A, on B" gone "$B/f2"
mkdir "$B/d" && echo "$mark three" >"$B/d/g" || fail "mkdir on B"
seen "directory made on B, on A" has "$A/d/g" "$mark three"
ok "names and data cross within $LIMIT_MS ms"

# Holes another host makes in a file held open here: B keeps f3 open while
# A writes past its end; B then reads the hole and writes into it.
head -c 5000 /dev/urandom >"$A/f3" || fail "create f3"
exec 7<>"$B/f3"
head -c 100 <&7 >/dev/null || fail "read f3 on B"
printf '%s' "$mark" | dd of="$A/f3" bs=1 seek=100000 conv=notrunc status=none ||
	fail "write past the end on A"
python3 - "$B/f3" <<'PY' || fail "B reads or fills the hole A made"
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
assert os.pread(fd, 8192, 40000) == bytes(8192), "hole does not read as zeros"
assert os.pwrite(fd, b"x" * 100, 50000) == 100
assert os.pread(fd, 100, 50000) == b"x" * 100
os.close(fd)
PY
exec 7>&-
cmp <(head -c 50100 "$A/f3" | tail -c 100) <(printf 'x%.0s' $(seq 100)) ||
	fail "A does not read what B wrote into the hole"
ok "holes made on A while B holds the file open: read and filled on B"

# One file created on both hosts at once, 20 times: each ends with one
# header, and what either host wrote reads back on both.
for i in $(seq 20); do
	printf '%s A\n' "$mark" >"$A/c$i" &
	p=$!
	printf '%s B\n' "$mark" >"$B/c$i" || fail "create c$i on B"
	wait $p || fail "create c$i on A"
done
for i in $(seq 20); do
	ca=$(cat "$A/c$i") || fail "read c$i on A"
	cb=$(cat "$B/c$i") || fail "read c$i on B"
	[ "$ca" = "$cb" ] || fail "c$i: A reads '$ca', B '$cb'"
	case $ca in "$mark A" | "$mark B") ;; *) fail "c$i holds '$ca'" ;; esac
done
ok "20 files created on both hosts at once: one header each"

# Appends: two writers per host, O_APPEND, fsync after each line.
: >"$A/log" || fail "create log"
pids=()
for w in a1 b1 a2 b2; do
	python3 "$HERE/appends.py" write "$WORK/${w:0:1}/log" "$mark$w" 100 &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || fail "an appender failed"
done
for h in a b; do
	python3 "$HERE/appends.py" check "$WORK/$h/log" "${mark}a1" 100 \
		"${mark}b1" 100 "${mark}a2" 100 "${mark}b2" 100 ||
		fail "appends as host $h reads them"
done
ok "400 appends from two hosts, each whole, none lost"

unmount_vol "$A"
unmount_vol "$B"
host=$(hostname)
n=$(grep -c . "$WORK/audit.log")
nh=$(grep -c -F "\"host\":\"$host\"" "$WORK/audit.log")
[ "$n" -gt 0 ] && [ "$n" = "$nh" ] ||
	fail "audit: $nh of $n lines name host $host"
"$ATR" audit verify -q "$WORK/audit.log" || fail "audit chain broken"
ok "audit: $n lines from both daemons, each names host $host, one chain"
scan_backing "$WORK/brick/b" "$mark"
ok "no marker in the brick"
