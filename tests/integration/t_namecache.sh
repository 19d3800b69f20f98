#!/usr/bin/env bash
# The names of a directory's entries, once decrypted, are kept while the
# kernel holds the directory (fs/namecache.c): a second listing reads no
# long name's record (strace of the daemon) and lists the same names;
# a name unlinked or renamed away leaves the cache; after lock and
# unlock, and in a fresh mount, they are read again.  Without the cache
# every listing opens every record.
. "$(dirname "$0")/lib.sh"

C=$WORK/c M=$WORK/m
new_volume "$C" --names encrypted
mount_vol "$C" "$M"
long=$(printf 'L%.0s' $(seq 200))	# over 160 bytes: a record each
mkdir "$M/d" || fail "mkdir"
for i in $(seq 20); do
	: >"$M/d/$long$i" || fail "create a long name"
	: >"$M/d/short$i" || fail "create a short name"
done

# opens COMMAND...: the long-name records the daemon opens while it runs
opens() {
	local pid=${MPID[$M]} tr=$WORK/trace args=() t
	for t in /proc/"$pid"/task/*; do
		args+=(-p "${t##*/}")
	done
	: >"$tr"
	strace -f -qq -e trace=openat -o "$tr" "${args[@]}" 2>/dev/null &
	local st=$!
	for t in $(seq 100); do
		[ "$(awk '/^TracerPid/ { print $2 }' /proc/"$pid"/status)" = "$st" ] && break
		sleep 0.1
	done
	"$@" >/dev/null || fail "$*"
	sleep 0.3
	kill "$st"
	wait "$st" 2>/dev/null
	grep -c 'atrestfs\.long\..*\.name' "$tr"
}

ls "$M/d" >"$WORK/first" || fail "first listing"
[ "$(wc -l <"$WORK/first")" = 40 ] || fail "first listing: $(cat "$WORK/first")"
n=$(opens ls -f "$M/d")
[ "$n" = 0 ] || fail "a second listing read $n long names' records"
ls "$M/d" | cmp -s - "$WORK/first" || fail "a second listing differs"
ok "a second listing reads no record and lists the same names"

# A name unlinked or renamed away through the mount leaves the cache: made
# again (the same backing name), its record is read at the next listing.
mkdir "$M/e" || fail "mkdir e"
for i in $(seq 5); do
	rm "$M/d/$long$i" && : >"$M/d/$long$i" || fail "unlink and create $i"
	j=$((i + 5))
	mv "$M/d/$long$j" "$M/e/" && mv "$M/e/$long$j" "$M/d/" ||
		fail "rename $j away and back"
done
n=$(opens ls -f "$M/d")
[ "$n" -ge 10 ] || fail "a listing after unlink and rename read $n records, want 10"
ls "$M/d" | cmp -s - "$WORK/first" || fail "the listing after unlink and rename differs"
ok "unlink and rename drop a name from the cache"

# lock drops the names with the keys: after unlock they are read again.
out=$("$ATR" lock "$M") || fail "lock: $out"
out=$("$ATR" unlock --keyfile "$C.key" "$M") || fail "unlock: $out"
n=$(opens ls -f "$M/d")
[ "$n" -ge 20 ] || fail "a listing after lock and unlock read $n records, want 20"
ls "$M/d" | cmp -s - "$WORK/first" || fail "the listing after unlock differs"
ok "lock drops the decrypted names"

unmount_vol "$M"
mount_vol "$C" "$M"
n=$(opens ls -f "$M/d")
[ "$n" -ge 20 ] || fail "a fresh mount's first listing read $n records, want 20"
ls "$M/d" | cmp -s - "$WORK/first" || fail "the listing after a remount differs"
unmount_vol "$M"
ok "a fresh mount reads the records again"
