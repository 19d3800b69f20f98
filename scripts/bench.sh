#!/usr/bin/env bash
# scripts/bench.sh - "make bench": atrestfs against gocryptfs, securefs,
# libfuse's passthrough_ll (-o writeback) and the raw backing file system,
# in one run, alternating, median of BENCH_ROUNDS rounds.
#
# Knobs (environment):
#   BENCH_QUICK=1        small sizes, 1 round: for development, not for numbers
#   BENCH_ROUNDS=N       rounds (default 3; the median is reported)
#   BENCH_BACKING=disk   backing directories under BENCH_DIR (default)
#   BENCH_BACKING=tmpfs  backing on a tmpfs, to expose CPU cost
#   BENCH_DIR=DIR        scratch directory on the disk (default /var/tmp)
#   BENCH_FS="..."       subset of: atrestfs atrestfs-ur atrestfs-pn
#                        atrestfs-nx atrestfs-wt atrestfs-sh gocryptfs
#                        securefs passthrough raw.  atrestfs: as a user gets
#                        it by default (encrypted names, requests on
#                        /dev/fuse, as on a kernel whose enable_uring is N);
#                        atrestfs-ur: FUSE over io_uring (needs
#                        BENCH_URING); the others are the default plus one
#                        change: atrestfs-pn init --names plain,
#                        atrestfs-nx -o noxattr, atrestfs-wt -o writethrough
#                        and atrestfs-sh -o shared (these two not in the
#                        default list); atrestfs-nc is the default built
#                        with tests/bench/null-cipher.patch, AES-GCM
#                        replaced by a copy: what the data path costs
#                        without the cipher (a measurement, never a product)
#   BENCH_URING=0        leave the fuse module's enable_uring as it is
#                        (default: on for the run, as it was afterwards,
#                        for the atrestfs-ur row; only atrestfs serves FUSE
#                        over io_uring)
#   BENCH_SWAP=0         skip the swap workload
#   BENCH_FSCK=0         skip the fsck workload (atrestfs fsck against
#                        gocryptfs -fsck on the same tree)
#   BENCH_OUT=FILE       also write the table (markdown) to FILE
#   BENCH_BASE=BINARY    another atrestfs binary (say, main's before a
#                        change), run as "atrestfs-base" with the default
#                        options, alternating with the others: the before
#                        and after of a change, in one run
#
# Needs root (mounts, drop_caches, loop devices, cgroups).  Everything it
# makes lives under one scratch directory, removed at the end.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
atr=$top/build/atrestfs
quick=${BENCH_QUICK:-0}
rounds=${BENCH_ROUNDS:-$([ "$quick" = 1 ] && echo 1 || echo 3)}
backing=${BENCH_BACKING:-disk}
base=${BENCH_BASE:-}
fslist=${BENCH_FS:-atrestfs $([ -n "$base" ] && echo atrestfs-base) atrestfs-ur atrestfs-pn atrestfs-nx atrestfs-nc gocryptfs securefs passthrough raw}
uring_param=/sys/module/fuse/parameters/enable_uring
uring_was=
if [ "$quick" = 1 ]; then
	seq_mib=256 app_mib=4 fio_mib=64 fio_secs=3 ntree=2000 swap_mib=128
else
	seq_mib=1024 app_mib=32 fio_mib=256 fio_secs=10 ntree=10000 swap_mib=512
fi
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 1; }

scratch=$(mktemp -d "${BENCH_DIR:-/var/tmp}/atrestfs-bench.XXXXXX")
bin=$scratch/bin res=$scratch/results
mkdir -p "$bin"
: >"$res"
declare -A PID
MNTS=()

cleanup() {
	local m
	for m in "${MNTS[@]}"; do
		grep -qs " $m fuse" /proc/mounts && { fusermount3 -u "$m" 2>/dev/null || umount -l "$m"; }
	done
	grep -qs " $scratch/tmpfs " /proc/mounts && umount -l "$scratch/tmpfs"
	rm -rf "$scratch"
	[ -n "$uring_was" ] && echo "$uring_was" >"$uring_param"
}
trap cleanup EXIT

now() { date +%s.%N; }
drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
record() { echo "$1 $2 $3 $4" >>"$res"; }	# round fs workload value
rate() { awk -v m="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.1f", m / (b - a) }'; }
span() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

build_helpers() {
	local ex=/usr/share/doc/libfuse3-dev/examples
	# -DHAVE_FALLOCATE: as libfuse's own build (config.h) compiles it;
	# without it passthrough_ll refuses fallocate and a preallocating
	# workload writes from size 0 there only (performance.md).
	cp "$ex/passthrough_ll.c" "$ex/passthrough_helpers.h" "$bin/" &&
	cc -O2 -DHAVE_FALLOCATE -o "$bin/passthrough_ll" "$bin/passthrough_ll.c" \
		$(pkg-config --cflags --libs fuse3) -lpthread &&
	cc -O2 -D_GNU_SOURCE -o "$bin/extent_speed" "$top/tests/bench/extent_speed.c" \
		"$top/build/libatr.a" $(pkg-config --cflags --libs openssl fuse3 libconfig) -ldl -lpthread &&
	cc -O2 -D_GNU_SOURCE -o "$bin/name_speed" "$top/tests/bench/name_speed.c" \
		"$top/build/libatr.a" $(pkg-config --cflags --libs openssl fuse3 libconfig) -ldl -lpthread &&
	cc -O2 -o "$bin/memtouch" "$top/tests/bench/memtouch.c"
}

# The atrestfs-nc binary: a copy of the tree with the cipher patched out,
# built and kept in the scratch directory only.
build_nc() {
	local src=$scratch/nc
	mkdir -p "$src"
	cp -a "$top"/Makefile "$top"/crypto "$top"/fs "$top"/keyprov \
		"$top"/mount-helper "$top"/volume "$top"/tests "$src"/ &&
	patch -s --fuzz=0 -d "$src" -p1 <"$top/tests/bench/null-cipher.patch" &&
	make -C "$src" -s -j2 build/atrestfs >/dev/null &&
	mv "$src/build/atrestfs" "$bin/atrestfs-nc" && rm -rf "$src"
}

# A deterministic tree of ~ntree small files (sizes 0..32 KiB, skewed small).
make_tree() {
	local t=$scratch/tree
	mkdir -p "$t"
	/usr/bin/python3 - "$t" "$ntree" <<'EOF'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
r = random.Random(6)
for i in range(n):
    d = os.path.join(root, "d%02d" % (i % 50), "s%d" % (i % 7))
    os.makedirs(d, exist_ok=True)
    size = min(int(r.expovariate(1 / 3000)), 32768)
    with open(os.path.join(d, "f%05d.txt" % i), "wb") as f:
        f.write(r.randbytes(size))
EOF
	tar -C "$scratch" -cf "$scratch/tree.tar" tree
	rm -rf "$t"
}

# mount_fs FS BACKDIR MNT: prints nothing, sets PID[FS] (0 for raw).
mount_fs() {
	local fs=$1 b=$2 m=$3 i
	mkdir -p "$b" "$m"
	case $fs in
	atrestfs | atrestfs-ur | atrestfs-pn | atrestfs-nx | atrestfs-wt | atrestfs-sh | atrestfs-base | atrestfs-nc)
		local a=$atr sd nu="-o nouring"
		[ "$fs" = atrestfs-base ] && a=$base
		[ "$fs" = atrestfs-nc ] && a=$bin/atrestfs-nc
		# Every row but atrestfs-ur on /dev/fuse, whatever enable_uring
		# says: the default path, as on a kernel where it is off.
		if [ "$fs" = atrestfs-ur ]; then
			[ "$(cat "$uring_param" 2>/dev/null)" = Y ] || {
				echo "bench: no atrestfs-ur row: FUSE over io_uring is off" \
					"(BENCH_URING=0, or a kernel without it)" >&2
				return 1; }
			nu=
		fi
		grep -qa nouring "$a" || nu=
		# The state directory in the scratch directory, not /var/lib,
		# where the binary has one (an older BENCH_BASE may not).
		sd=$("$a" init --help 2>&1 | grep -q -- --state-dir && echo "--state-dir $b.state")
		"$a" init -q --keyfile "$b.key" $sd \
			$([ "$fs" = atrestfs-pn ] && echo --names plain) \
			"$b" >/dev/null || return 1
		"$a" mount -f --keyfile "$b.key" $sd $nu \
			$([ "$fs" = atrestfs-nx ] && echo -o noxattr) \
			$([ "$fs" = atrestfs-wt ] && echo -o writethrough) \
			$([ "$fs" = atrestfs-sh ] && echo -o shared) \
			"$b" "$m" 2>"$m.log" & ;;
	gocryptfs)
		echo benchpass >"$b.pass"
		gocryptfs -q -init -passfile "$b.pass" "$b" >/dev/null 2>&1 || return 1
		gocryptfs -q -fg -passfile "$b.pass" "$b" "$m" >"$m.log" 2>&1 & ;;
	securefs)
		securefs create --pass benchpass "$b" >/dev/null 2>&1 || return 1
		securefs mount --pass benchpass "$b" "$m" >"$m.log" 2>&1 & ;;
	passthrough)
		"$bin/passthrough_ll" -f -o writeback -o source="$b" "$m" >"$m.log" 2>&1 & ;;
	raw)
		rmdir "$m"; ln -s "$b" "$m"; PID[$fs]=0; return 0 ;;
	*)
		echo "bench: unknown file system '$fs' in BENCH_FS" >&2; return 1 ;;
	esac
	PID[$fs]=$!
	MNTS+=("$m")
	for i in $(seq 100); do
		grep -qs " $m fuse" /proc/mounts && return 0
		sleep 0.1
	done
	echo "bench: cannot mount $fs: $(cat "$m.log")" >&2
	return 1
}

umount_fs() {
	local fs=$1 m=$2
	[ "${PID[$fs]}" = 0 ] && return 0
	fusermount3 -u "$m" || umount -l "$m"
	timeout 30 tail --pid="${PID[$fs]}" -f /dev/null
}

# The file workloads 1-7 on one mounted file system.
run_workloads() {
	local r=$1 fs=$2 m=$3 t0 t1 out
	t0=$(now)
	dd if=/dev/zero of="$m/big" bs=1M count="$seq_mib" conv=fsync status=none
	t1=$(now); record "$r" "$fs" seqwrite "$(rate "$seq_mib" "$t0" "$t1")"
	drop
	t0=$(now)
	dd if="$m/big" of=/dev/null bs=1M status=none
	t1=$(now); record "$r" "$fs" seqread "$(rate "$seq_mib" "$t0" "$t1")"
	rm -f "$m/big"
	t0=$(now)
	dd if=/dev/zero of="$m/log" bs=128 count=$((app_mib * 8192)) \
		oflag=append conv=notrunc,fsync status=none
	t1=$(now); record "$r" "$fs" append "$(rate "$app_mib" "$t0" "$t1")"
	rm -f "$m/log"
	# 128-byte sequential writes at explicit offsets (fio psync), the
	# small-write workload of issue 22: MiB/s as fio measures it.
	out=$(cd "$m" && fio --name=small --filename=small.dat --size="${app_mib}M" \
		--rw=write --bs=128 --ioengine=psync --end_fsync=1 \
		--output-format=terse --terse-version=3 2>/dev/null)
	record "$r" "$fs" small "$(echo "$out" | awk -F';' '{ printf "%.1f", $48 / 1024 }')"
	rm -f "$m/small.dat"
	out=$(cd "$m" && fio --name=rand --filename=fio.dat --size="${fio_mib}M" \
		--rw=randrw --rwmixread=50 --bs=4k --ioengine=psync \
		--fallocate=none --time_based --runtime="$fio_secs" \
		--output-format=terse --terse-version=3 2>/dev/null)
	record "$r" "$fs" randiops "$(echo "$out" | awk -F';' '{ printf "%.0f", $8 + $49 }')"
	rm -f "$m/fio.dat"
	drop
	t0=$(now)
	tar -C "$m" -xf "$scratch/tree.tar" && sync -f "$m/tree"
	t1=$(now); record "$r" "$fs" untar "$(span "$t0" "$t1")"
	drop
	t0=$(now)
	ls -lR "$m/tree" >/dev/null
	t1=$(now); record "$r" "$fs" lslR "$(span "$t0" "$t1")"
	t0=$(now)
	rm -rf "$m/tree"
	sync -f "$m"
	t1=$(now); record "$r" "$fs" rmrf "$(span "$t0" "$t1")"
	# Peak RSS of the daemon over the whole round, in MiB.
	if [ "${PID[$fs]}" != 0 ]; then
		record "$r" "$fs" rss_mib "$(awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' \
			/proc/"${PID[$fs]}"/status)"
	fi
}

# Swap (workload 8): a process in a memory cgroup pages out and in, with
# swap on a loop device over a file in atrestfs, or over a plain file.
swap_once() {
	local r=$1 name=$2 file=$3 cg=/sys/fs/cgroup/memory/atrestfs-bench-$$ loop out
	[ -d /sys/fs/cgroup/memory ] || return 0
	dd if=/dev/zero of="$file" bs=1M count=$((swap_mib + 64)) status=none conv=fsync
	loop=$(losetup --direct-io=on -f --show "$file") || return 0
	mkswap -q "$loop" >/dev/null && swapon -p 32767 "$loop" || { losetup -d "$loop"; return 0; }
	mkdir -p "$cg"
	echo $((swap_mib / 4))M >"$cg/memory.limit_in_bytes"
	out=$(sh -c "echo \$\$ >$cg/cgroup.procs; exec $bin/memtouch $swap_mib")
	swapoff "$loop"
	losetup -d "$loop"
	rmdir "$cg"
	record "$r" "$name" swapout "${out% *}"
	record "$r" "$name" swapin "${out#* }"
	rm -f "$file"
}

# The swap command, if this tree has one, is used; else a loop device.
swap_round() {
	local r=$1 b=$root/back/swap-atr m=$scratch/mnt/swap-atr
	mount_fs atrestfs "$b" "$m" || return 0
	swap_once "$r" atrestfs "$m/swapfile"
	umount_fs atrestfs "$m"
	rm -rf "$b" "$b.key" "$b.state"
	mkdir -p "$root/back"
	swap_once "$r" loop "$root/back/swapfile"
}

# fsck (workload 9): the small-file tree and a seq_mib file, checked
# offline from a cold cache: atrestfs fsck against gocryptfs -fsck.
fsck_round() {
	local r=$1 fs=$2 b=$root/back/fsck-$2 m=$scratch/mnt/fsck-$2 t0 t1 ok=0
	mount_fs "$fs" "$b" "$m" || return 0
	tar -C "$m" -xf "$scratch/tree.tar" &&
		dd if=/dev/zero of="$m/big" bs=1M count="$seq_mib" status=none
	umount_fs "$fs" "$m"
	drop
	t0=$(now)
	case $fs in
	atrestfs)
		"$atr" fsck -q --keyfile "$b.key" --state-dir "$b.state" "$b" \
			>/dev/null && ok=1 ;;
	gocryptfs)
		gocryptfs -fsck -q -passfile "$b.pass" "$b" >/dev/null 2>&1 &&
			ok=1 ;;
	esac
	t1=$(now)
	if [ $ok = 1 ]; then
		record "$r" "$fs" fsck "$(span "$t0" "$t1")"
	else
		echo "bench: $fs fsck failed on a fresh volume" >&2
	fi
	rm -rf "$b" "$b.key" "$b.pass" "$b.state" "$m"
}

crypto_bench() {
	local out
	for e in 4096 65536; do
		out=$("$bin/extent_speed" $e 1)
		record 1 extent "seal$e" "${out% *}"
		record 1 extent "open$e" "${out#* }"
		record 1 openssl "gcm$e" "$(openssl speed -evp aes-256-gcm -seconds 1 \
			-bytes $e 2>/dev/null | awk 'tolower($1) == "aes-256-gcm" { v = $NF; sub(/k$/, "", v); printf "%.0f", v * 1000 / 1e6 }')"
	done
	# One encrypted name: "enc dec enc_setup dec_setup", microseconds.
	local enc dec enc1 dec1
	read -r enc dec enc1 dec1 < <("$bin/name_speed" 1)
	record 1 names enc "${enc:-}"
	record 1 names dec "${dec:-}"
	record 1 names enc_setup "${enc1:-}"
	record 1 names dec_setup "${dec1:-}"
}

main() {
	local r fs i order b m
	make -C "$top" -s all >/dev/null || exit 1
	build_helpers || { echo "bench: cannot build helpers" >&2; exit 1; }
	if [[ " $fslist " = *" atrestfs-nc "* ]] && ! build_nc; then
		echo "bench: no atrestfs-nc row: tests/bench/null-cipher.patch" \
			"does not apply or build" >&2
		fslist=${fslist/atrestfs-nc/}
	fi
	if [ "$backing" = tmpfs ]; then
		mkdir -p "$scratch/tmpfs"
		mount -t tmpfs -o size=6G tmpfs "$scratch/tmpfs"
		root=$scratch/tmpfs
	else
		root=$scratch
	fi
	if [ "${BENCH_URING:-1}" = 1 ] && [ -w "$uring_param" ]; then
		uring_was=$(cat "$uring_param")
		echo Y >"$uring_param"
	fi
	echo "bench: $(date -u +%FT%TZ), backing $backing, $rounds round(s), quick=$quick," \
		"fuse enable_uring=$(cat "$uring_param" 2>/dev/null || echo absent)" >&2
	make_tree
	read -ra order <<<"$fslist"
	for r in $(seq "$rounds"); do
		for i in "${!order[@]}"; do
			# Rotate the order each round so no file system always goes first.
			fs=${order[$(((i + r - 1) % ${#order[@]}))]}
			b=$root/back/$fs m=$scratch/mnt/$fs
			echo "bench: round $r: $fs" >&2
			mount_fs "$fs" "$b" "$m" || continue
			run_workloads "$r" "$fs" "$m"
			umount_fs "$fs" "$m"
			rm -rf "$b" "$b.key" "$b.pass" "$b.state" "$m"
		done
		if [ "${BENCH_FSCK:-1}" = 1 ]; then
			for fs in atrestfs gocryptfs; do
				[[ " $fslist " = *" $fs "* ]] || continue
				echo "bench: round $r: $fs fsck" >&2
				fsck_round "$r" "$fs"
			done
		fi
		[ "${BENCH_SWAP:-1}" = 1 ] && swap_round "$r"
	done
	crypto_bench
	[ -n "${BENCH_OUT:-}" ] && cp "$res" "$BENCH_OUT.raw"
	BENCH_URING_STATE=$(cat "$uring_param" 2>/dev/null || echo absent) \
	/usr/bin/python3 "$top/tests/bench/table.py" "$res" "$backing" "$rounds" \
		"${BENCH_OUT:-}"
}

main "$@"
