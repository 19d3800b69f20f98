#!/usr/bin/env bash
# Seeded random differential test: the mount against a plain directory,
# byte for byte.  FSX_SEED reproduces a failure; the seed is always printed.
# The long run has encrypted names, the shorter ones plain names.
. "$(dirname "$0")/lib.sh"

seed=${FSX_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
new_volume "$WORK/c" --names encrypted
mount_vol "$WORK/c" "$WORK/m"
mkdir -p "$WORK/ref"
"$TB/fsx_diff" --seed "$seed" --ops "${FSX_OPS:-20000}" "$WORK/m" "$WORK/ref" ||
	fail "fsx_diff seed $seed (rerun: FSX_SEED=$seed $0)"
unmount_vol "$WORK/m"

# Large extents change every boundary; a shorter run covers them.
new_volume "$WORK/c64" --extent-size 65536
mount_vol "$WORK/c64" "$WORK/m64"
mkdir -p "$WORK/ref64"
"$TB/fsx_diff" --seed "$seed" --ops 5000 --extent 65536 "$WORK/m64" "$WORK/ref64" ||
	fail "fsx_diff 64 KiB extents seed $seed (rerun: FSX_SEED=$seed $0)"
unmount_vol "$WORK/m64"

# Without the writeback cache every write is a request of its own size.
new_volume "$WORK/cw"
mount_with "$WORK/cw" "$WORK/mw" -o writethrough --keyfile "$WORK/cw.key"
mkdir -p "$WORK/refw"
"$TB/fsx_diff" --seed "$seed" --ops 5000 "$WORK/mw" "$WORK/refw" ||
	fail "fsx_diff -o writethrough seed $seed (rerun: FSX_SEED=$seed $0)"
unmount_vol "$WORK/mw"
ok "fsx_diff seed $seed"
