# tests/integration/lib.sh - shared by the mount tests; source it.
#
# Every test gets its own scratch directory and unmounts everything it
# mounted on exit, pass or fail, so the next test starts clean.  Mounts run
# in the foreground with their log captured, so tests can assert log lines.
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ATR=${ATR:-$TOP/build/atrestfs}
TB=${TB:-$TOP/build/tests}
WORK=$(mktemp -d /tmp/atrestfs-test.XXXXXX)
MOUNTS=()
PIDS=()
declare -A MPID		# mountpoint -> its foreground daemon

# mounts_name PATH: PATH as /proc/mounts writes it (space, tab, newline
# and backslash escaped as \ooo)
mounts_name() {
	local p=${1//\\/\\134}
	p=${p// /\\040}
	p=${p//$'\t'/\\011}
	printf '%s' "${p//$'\n'/\\012}"
}

# Last mounted first: a mount may sit on another (a volume on a tmpfs).
cleanup() {
	local m n p i
	for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
		m=${MOUNTS[i]}
		n=$(mounts_name "$m")
		if grep -qsF " $n fuse" /proc/mounts; then
			fusermount3 -u "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
		elif grep -qsF " $n " /proc/mounts; then
			umount -l "$m" 2>/dev/null
		fi
	done
	for p in "${PIDS[@]}"; do
		timeout 10 tail --pid="$p" -f /dev/null 2>/dev/null
		kill -9 "$p" 2>/dev/null
	done
	rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

ok() {
	echo "ok: $*"
}

is_mounted() {
	grep -qsF " $(mounts_name "$1") fuse.atrestfs " /proc/mounts
}

# new_volume DIR [init options...]: key file DIR.key.  Plain names unless
# the options say --names encrypted: most tests reach into the backing
# directory by a file's name to tamper with it.  (init's own default,
# encrypted names, is what t_names.sh checks.)
new_volume() {
	local dir=$1
	shift
	mkdir -p "$dir"
	"$ATR" init -q --keyfile "$dir.key" --names plain "$@" "$dir" ||
		fail "init $dir"
}

# mount_with CIPHER MNT MOUNT-OPTIONS...: a foreground daemon in the
# background, log in MNT.log, without a terminal (setsid: a provider that
# wants a passphrase must not find one to ask on).  Waits for the mount.
mount_with() {
	local c=$1 m=$2 i
	shift 2
	mkdir -p "$m"
	setsid -w "$ATR" mount -f "$@" "$c" "$m" 2>"$m.log" </dev/null &
	PIDS+=($!)
	MPID[$m]=$!
	MOUNTS+=("$m")
	for i in $(seq 150); do
		is_mounted "$m" && return 0
		kill -0 "${PIDS[-1]}" 2>/dev/null || break
		sleep 0.1
	done
	cat "$m.log" >&2
	fail "mount $c on $m with $*"
}

# mount_vol CIPHER MNT: with the key file CIPHER.key that new_volume made
mount_vol() {
	mount_with "$1" "$2" --keyfile "$1.key"
}

# expect CODE TEXT CMD...: CMD, without a terminal, exits CODE and its
# stderr contains TEXT
expect() {
	local code=$1 text=$2 out rc
	shift 2
	out=$(setsid -w "$@" 2>&1 >/dev/null </dev/null)
	rc=$?
	[ "$rc" = "$code" ] || fail "$* exited $rc, want $code ($out)"
	case "$out" in
	*"$text"*) ;;
	*) fail "$*: message lacks '$text': $out" ;;
	esac
}

# unmount_vol MNT: the daemon must then exit cleanly (under ASan: no leak,
# no error), or the test fails with its log.
unmount_vol() {
	local m=$1 rc
	fusermount3 -u "$m" || fail "unmount $m"
	if [ -n "${MPID[$m]:-}" ]; then
		timeout 30 tail --pid="${MPID[$m]}" -f /dev/null
		wait "${MPID[$m]}"
		rc=$?
		unset "MPID[$m]"
		[ $rc = 0 ] || fail "daemon for $m exited $rc: $(cat "$m.log")"
	fi
	is_mounted "$m" && fail "$m still mounted"
	return 0
}

# expect_eio CMD...: the command must fail, and with EIO ("Input/output error").
expect_eio() {
	local out
	if out=$("$@" 2>&1 >/dev/null); then
		fail "expected EIO from: $*"
	fi
	case "$out" in
	*"Input/output error"*) ;;
	*) fail "expected EIO from: $* (got: $out)" ;;
	esac
}

# flip_byte FILE OFFSET
flip_byte() {
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "\\x$(printf %02x $((b ^ 1)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# xattr_hex FILE NAME: the value as hex digits, without 0x
xattr_hex() {
	getfattr --absolute-names -e hex -n "$2" "$1" | sed -n "s/^$2=0x//p"
}

# dirty_record FILE BACKING: write FILE's second extent through the mount
# with O_DIRECT (so the daemon has it at once) and print BACKING's version
# record (hex) as it is then, dirty, before the close settles the change.
dirty_record() {
	python3 - "$1" "$2" <<'EOF'
import mmap, os, sys
buf = mmap.mmap(-1, 4096)
buf.write(b'g' * 4096)
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_DIRECT)
assert os.pwritev(fd, [buf], 4096) == 4096
print("0x" + os.getxattr(sys.argv[2], "user.atrestfs.ver").hex())
os.close(fd)
EOF
}
