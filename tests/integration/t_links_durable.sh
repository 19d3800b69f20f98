#!/usr/bin/env bash
# A long symlink target's record survives a power loss before its link
# does: the daemon fsyncs the record, the store's directory once the
# record's entry is in it, and the root once the store is made, all
# before the symlinkat (seen with strace on the daemon's threads).
. "$(dirname "$0")/lib.sh"

command -v strace >/dev/null || { echo "skip: no strace"; exit 77; }
LONG=$(printf 'z%.0s' $(seq 3300))
C=$WORK/c M=$WORK/m
new_volume "$C"
mount_vol "$C" "$M"
pid=${MPID[$M]}
args=()
for t in /proc/"$pid"/task/*; do args+=(-p "${t##*/}"); done
strace -qq -f -y -e trace=mkdirat,fsync,symlinkat -o "$WORK/trace" \
	"${args[@]}" 2>/dev/null &
st=$!
sleep 1
ln -s "$LONG" "$M/a" && ln -s "$LONG" "$M/b" || fail "long links"
sleep 0.5
kill "$st"
wait "$st" 2>/dev/null
unmount_vol "$M"
# One line per call, in order: its name, what it touched, its result.
sed -n 's/^[0-9]* *\(mkdirat\|fsync\|symlinkat\)(\([^,)]*\).*= \(-\?[0-9]*\).*/\1 \2 \3/p' \
	"$WORK/trace" | sed "s|$C|C|g" >"$WORK/calls"
awk '
	$1 == "mkdirat" && $3 == 0 { made = 1; next }
	$1 == "fsync" && $2 ~ /<C>$/ { rootsync = made; next }
	$1 == "fsync" && $2 ~ /<C\/atrestfs.conf.links>$/ { dirsync++; next }
	$1 == "symlinkat" { n++
		if (!rootsync) print "no fsync of the root after the store was made, before link " n
		if (dirsync < n) print "no fsync of the store before link " n }
	END { if (n != 2) print "saw " n " symlinkat calls, want 2"
	      if (!made) print "no mkdirat of the store" }
' "$WORK/calls" >"$WORK/bad"
[ -s "$WORK/bad" ] && fail "$(cat "$WORK/bad"); calls: $(cat "$WORK/calls")"
ok "a long target's record, its entry and the store's entry are on disk before its link"
