#!/usr/bin/env bash
# atrestfs convert --bound killed at each of its link swaps (strace's
# fault injection: SIGKILL at the Nth renameat), before the config
# commit: the volume mounts and reads every link and value, fsck finds
# no damage (the re-sealed link a kill leaves at the root,
# atrestfs.conf.rotate-link, is the volume's own; a long target's record
# made for it is listed as one no link names, as after any crash), and
# convert run again finishes.
. "$(dirname "$0")/lib.sh"

command -v strace >/dev/null || { echo "skip: no strace"; exit 0; }
F=$TOP/tests/fixtures
LONG=$(head -c 3500 /dev/zero | tr '\0' L)
P=$WORK/p M=$WORK/m
mkdir -p "$P"
tar --xattrs --xattrs-include='user.*' -C "$P" -xf "$F/v1-volume.tar" ||
	fail "untar"
install -m 600 "$F/v1-volume.key" "$P.key"

value() {
	getfattr --absolute-names --only-values -n "$2" "$1" 2>&1
}

check() {
	[ "$(readlink "$1/link")" = small.txt ] &&
		[ "$(readlink "$1/d/s")" = /s/one ] &&
		[ "$(readlink "$1/d/l")" = "$LONG" ] &&
		[ "$(readlink "$1/e/lh")" = "$LONG" ] &&
		[ "$(readlink "$1/e/s2")" = /s/two ] &&
		[ "$(value "$1/d/f" user.a)" = va ] &&
		[ "$(value "$1/e" user.c)" = vc ] &&
		[ "$(value "$1/dir/nested.txt" user.comment)" = fixture ] ||
		fail "$2: $(tail -3 "$1.log")"
}

mount_with "$P" "$M" --keyfile "$P.key" --state-dir "$P.st"
mkdir "$M/d" "$M/e" && echo a >"$M/d/f" || fail "make files"
setfattr -n user.a -v va "$M/d/f" && setfattr -n user.c -v vc "$M/e" ||
	fail "setfattr"
ln -s /s/one "$M/d/s" && ln -s "$LONG" "$M/d/l" && ln "$M/d/l" "$M/e/lh" &&
	ln -s /s/two "$M/e/s2" || fail "make links"
unmount_vol "$M"

C=$WORK/c
for n in 1 2 3 4 5 6 7 8; do
	rm -rf "$C" "$C.st"
	cp -a "$P" "$C" && cp -a "$P.st" "$C.st" && cp "$P.key" "$C.key" ||
		fail "copy"
	strace -f -qq -o /dev/null -e trace=renameat \
		-e inject=renameat:signal=SIGKILL:when=$n \
		"$ATR" convert --bound -q -k "$C.key" --state-dir "$C.st" "$C" \
		</dev/null >/dev/null 2>&1 && break
	# Past the links: the config's own rename, atomic.
	[ -L "$C/atrestfs.conf.rotate-link" ] || break
	mount_with "$C" "$M" --keyfile "$C.key" --state-dir "$C.st"
	check "$M" "killed at rename $n"
	unmount_vol "$M"
	# A record the kill left without its link is listed (it can go);
	# nothing else is.
	"$ATR" fsck -k "$C.key" --state-dir "$C.st" "$C" >"$WORK/fsck" 2>&1 \
		</dev/null
	grep "^/" "$WORK/fsck" | grep -qv "no symbolic link names this record" &&
		fail "fsck after a kill at rename $n: $(cat "$WORK/fsck")"
	"$ATR" convert --bound -q -k "$C.key" --state-dir "$C.st" "$C" \
		</dev/null >"$WORK/out" 2>&1 ||
		fail "convert again after rename $n: $(cat "$WORK/out")"
	[ -e "$C/atrestfs.conf.rotate-link" ] && fail "leftover link stays"
	mount_with "$C" "$M" --keyfile "$C.key" --state-dir "$C.st"
	check "$M" "converted after a kill at rename $n"
	unmount_vol "$M"
done
[ "$n" -gt 5 ] || fail "only $n renames before the commit (test broken)"
ok "convert --bound killed at each link swap: reads, fsck clean, finishes"
