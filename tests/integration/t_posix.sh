#!/usr/bin/env bash
# POSIX behaviour of every operation, and concurrent writers, on a real mount.
. "$(dirname "$0")/lib.sh"

new_volume "$WORK/c"
mount_vol "$WORK/c" "$WORK/m"
ATR_MNT=$WORK/m ATR_IS_ATRESTFS=1 "$TB/posix_ops" || fail "posix_ops"
"$TB/concurrent" "$WORK/m" || fail "concurrent"
unmount_vol "$WORK/m"
grep -q "extent" "$WORK/m.log" && fail "errors logged: $(cat "$WORK/m.log")"
ok "posix_ops and concurrent on atrestfs"
