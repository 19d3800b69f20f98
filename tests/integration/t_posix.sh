#!/usr/bin/env bash
# POSIX behaviour of every operation, and concurrent writers, on a real mount,
# with and without the writeback cache (-o writethrough), with encrypted
# names and with plain ones.
. "$(dirname "$0")/lib.sh"

new_volume "$WORK/c" --names encrypted
mount_vol "$WORK/c" "$WORK/m"
ATR_MNT=$WORK/m ATR_IS_ATRESTFS=1 "$TB/posix_ops" || fail "posix_ops"
"$TB/concurrent" "$WORK/m" || fail "concurrent"
unmount_vol "$WORK/m"
grep -q "extent" "$WORK/m.log" && fail "errors logged: $(cat "$WORK/m.log")"
ok "posix_ops and concurrent on atrestfs (encrypted names)"

# Without the writeback cache every write(2) is a request: the same
# operations, and O_APPEND from several processes placed by the kernel.
new_volume "$WORK/cw"
mount_with "$WORK/cw" "$WORK/mw" -o writethrough --keyfile "$WORK/cw.key"
ATR_MNT=$WORK/mw ATR_IS_ATRESTFS=1 "$TB/posix_ops" || fail "posix_ops -o writethrough"
"$TB/concurrent" "$WORK/mw" || fail "concurrent -o writethrough"
unmount_vol "$WORK/mw"
grep -q "extent" "$WORK/mw.log" && fail "errors logged: $(cat "$WORK/mw.log")"
ok "posix_ops and concurrent on atrestfs -o writethrough (plain names)"
