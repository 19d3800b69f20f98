#!/usr/bin/env bash
# The FUSE requests common work costs, counted in the daemon's -o debug log:
# round trips the kernel can be spared are what small appends, untar and
# ls -l spend their time on (docs/performance.md).
#  - 50 appends, each through its own open: at most one GETXATTR of
#    security.capability (FUSE_HANDLE_KILLPRIV_V2, fs/killpriv.c), not one
#    per write;
#  - 50 new files written and closed: no SETATTR of their times at close
#    (the header goes on before the first stat, ops_file.c), but for the
#    odd one created across a clock tick;
#  - closes over tmpfs: one FLUSH at most (ENOSYS stops them), but one
#    per close over a backing file system that reports errors at close;
#  - ls -l of 51 files: a handful of GETXATTR requests, not two a file;
#  - a sequential read of 8 MiB: about eight READ requests of 1 MiB, not
#    64 of the kernel's default 128 KiB read-ahead (raised at mount), and
#    -o readahead=KB sets it as given;
#  - with -o noxattr: xattr calls fail with EOPNOTSUPP, and ls -l of 50
#    files asks the daemon for no attribute after the first refusal.
. "$(dirname "$0")/lib.sh"

C=$WORK/c M=$WORK/m
new_volume "$C"

# count OPCODE FROM: requests of OPCODE in the log after line FROM
count() {
	tail -n +"$(($2 + 1))" "$M.log" | grep -c "opcode: $1 "
}
mark() {
	wc -l <"$M.log"
}

mount_with "$C" "$M" -o debug --keyfile "$C.key"
n=$(mark)
for i in $(seq 50); do echo "line $i" >>"$M/app"; done
[ "$(wc -l <"$M/app")" = 50 ] || fail "appends lost"
[ "$(count WRITE "$n")" -ge 50 ] || fail "debug log lacks the writes"
x=$(count GETXATTR "$n")
[ "$x" -le 1 ] || fail "$x GETXATTR requests for 50 appends: KILLPRIV_V2 not in effect"
ok "50 appends: $x GETXATTR"

n=$(mark)
for i in $(seq 50); do echo "file $i" >"$M/new$i"; done
[ "$(cat "$M/new50")" = "file 50" ] || fail "new file content"
[ "$(count CREATE "$n")" = 50 ] || fail "debug log lacks the creates"
s=$(count SETATTR "$n")
# Times dirtied by the daemon cost one SETATTR per file (50).  A loaded
# machine also gets some: when a write lands a clock tick after its
# create, the kernel flushes the new mtime at close (up to 24 seen with a
# load average of 12, on code without the fault).
[ "$s" -lt 40 ] || fail "$s SETATTR requests for 50 new files (times dirtied by the header)"
ok "50 new files: $s SETATTR"

# ls -l asks for the ACL and the security label of every file; answered
# EOPNOTSUPP (not ENODATA), coreutils stops asking after the first.
n=$(mark)
ls -l "$M" >/dev/null || fail "ls -l"
[ "$(count READDIRPLUS "$n")" -ge 1 ] || fail "debug log lacks the listing"
x=$(count GETXATTR "$n")
[ "$x" -le 3 ] || fail "$x GETXATTR requests for ls -l of 51 files"
ok "ls -l of 51 files: $x GETXATTR"

bdi=/sys/class/bdi/$(mountpoint -d "$M")/read_ahead_kb
[ "$(cat "$bdi")" = 1024 ] || fail "read-ahead of $M is $(cat "$bdi") KiB, not 1024"
head -c 8M /dev/urandom >"$WORK/seq" && cp "$WORK/seq" "$M/seq" || fail "writing seq"
# A new mount has nothing cached, so the whole read goes to the daemon.
unmount_vol "$M"
mount_with "$C" "$M" -o debug --keyfile "$C.key"
bdi=/sys/class/bdi/$(mountpoint -d "$M")/read_ahead_kb
[ "$(cat "$bdi")" = 1024 ] || fail "read-ahead of $M is $(cat "$bdi") KiB after a remount"
n=$(mark)
cmp "$M/seq" "$WORK/seq" || fail "seq reads back wrong"
r=$(count READ "$n")
[ "$r" -ge 8 ] || fail "debug log lacks the reads ($r READ requests)"
[ "$r" -le 16 ] || fail "$r READ requests for an 8 MiB sequential read (read-ahead not raised)"
ok "sequential read of 8 MiB: $r READ requests, read-ahead 1024 KiB"
unmount_vol "$M"

# -o readahead=KB sets it as given, lower too; a bad value is refused.
mount_with "$C" "$M" -o readahead=128 --keyfile "$C.key"
bdi=/sys/class/bdi/$(mountpoint -d "$M")/read_ahead_kb
[ "$(cat "$bdi")" = 128 ] || fail "-o readahead=128 left $(cat "$bdi") KiB"
unmount_vol "$M"
expect 2 "readahead=70000: want a number of KiB from 0 to 65536" \
	"$ATR" mount -o readahead=70000 --keyfile "$C.key" "$C" "$M"
ok "-o readahead=128 is applied; readahead=70000 is refused"

mount_with "$C" "$M" -o noxattr,debug --keyfile "$C.key"
out=$(setfattr -n user.k -v v "$M/app" 2>&1) && fail "setfattr worked under noxattr"
case $out in *"not supported"*) ;; *) fail "setfattr under noxattr: $out" ;; esac
out=$(getfattr -n user.k "$M/app" 2>&1) && fail "getfattr worked under noxattr"
case $out in *"not supported"*) ;; *) fail "getfattr under noxattr: $out" ;; esac
n=$(mark)
ls -l "$M" >/dev/null || fail "ls -l"
[ "$(count LOOKUP "$n")" -ge 1 ] || [ "$(count READDIRPLUS "$n")" -ge 1 ] ||
	fail "debug log lacks the listing"
x=$(count GETXATTR "$n")
[ "$x" = 0 ] || fail "$x GETXATTR requests for ls -l under noxattr"
ok "noxattr: EOPNOTSUPP, and ls -l of 51 files asks for no xattr"
unmount_vol "$M"

# FLUSH: over a backing file system whose close(2) reports nothing (tmpfs)
# the first is answered ENOSYS and the kernel sends no more; over one that
# does work at close (a FUSE file system: libfuse's passthrough_ll, with
# xattrs) every close still reaches the backing file.
# flushes CIPHER N: a new volume at CIPHER, mounted; N files written and
# closed, one read back (N + 1 closes); FLUSHES = the FLUSH requests seen.
flushes() {
	local c=$1 n=$2 i from
	new_volume "$c"
	mount_with "$c" "$M" -o debug --keyfile "$c.key"
	from=$(mark)
	for i in $(seq "$n"); do echo "file $i" >"$M/f$i"; done
	[ "$(cat "$M/f$n")" = "file $n" ] || fail "content over $c"
	FLUSHES=$(count FLUSH "$from")
	unmount_vol "$M"
}

T=$WORK/tmpfs
mkdir -p "$T"
mount -t tmpfs -o size=64m tmpfs "$T" || fail "mount tmpfs"
MOUNTS+=("$T")
flushes "$T/c" 50
[ "$FLUSHES" -le 1 ] || fail "$FLUSHES FLUSH requests for 51 closes over tmpfs"
ok "51 closes over tmpfs: $FLUSHES FLUSH"

EX=/usr/share/doc/libfuse3-dev/examples
cc -O2 -I"$EX" -o "$WORK/passthrough_ll" "$EX/passthrough_ll.c" \
	$(pkg-config --cflags --libs fuse3) -lpthread || fail "build $EX/passthrough_ll.c"
P=$WORK/pt
mkdir -p "$P" "$WORK/ptb"
"$WORK/passthrough_ll" -o xattr -o source="$WORK/ptb" "$P" || fail "mount passthrough_ll"
MOUNTS+=("$P")
flushes "$P/c" 20
[ "$FLUSHES" -ge 21 ] || fail "$FLUSHES FLUSH requests for 21 closes over a FUSE backing"
ok "21 closes over a FUSE backing: $FLUSHES FLUSH"
fusermount3 -u "$P" || fail "unmount passthrough_ll"

# Without noxattr the same volume still has its attributes.
mount_vol "$C" "$M"
setfattr -n user.k -v v "$M/app" || fail "setfattr without noxattr"
[ "$(getfattr --absolute-names --only-values -n user.k "$M/app")" = v ] || fail "getfattr without noxattr"
unmount_vol "$M"
ok "xattrs back without noxattr"
