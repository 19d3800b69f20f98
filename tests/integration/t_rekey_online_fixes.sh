#!/usr/bin/env bash
# atrestfs rekey MOUNTPOINT, the review's findings (issue 17, online):
# - a file name holding "\nok 300 0 0 0 0 0" (hard-linked, so the walk
#   warns about it) does not pass for the daemon's answer: the warning
#   shows it escaped, and rekey --all runs to its end and exits 1.
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

unmount_vol "$M"
