#!/usr/bin/env bash
# Set-user-ID and set-group-ID bits are cleared as on any local file
# system, now that the daemon does it (FUSE_HANDLE_KILLPRIV_V2, fs/killpriv.c):
# a write, a truncate or an O_TRUNC open by an unprivileged user clears
# them, both as the mount shows it and on the backing file; set-group-ID
# without group-execute stays for a member of the file's group; root keeps
# them; chown clears them.  (Why the daemon does it: t_requests.)
. "$(dirname "$0")/lib.sh"

command -v useradd >/dev/null && command -v runuser >/dev/null ||
	{ echo "SKIP: useradd and runuser are needed"; exit 77; }
U=atrkp$$
users_cleanup() {
	userdel "$U" 2>/dev/null
	cleanup
}
trap users_cleanup EXIT
useradd -M -N -s /bin/sh "$U" || fail "useradd $U"
GU=$(id -g "$U")
chmod 755 "$WORK"

C=$WORK/c M=$WORK/m
new_volume "$C"
mount_with "$C" "$M" -o allow_other --keyfile "$C.key"
chmod 777 "$M"

# check OP MODE GROUP WANT CMD: as $U on a fresh file of mode MODE and group
# GROUP, run CMD (with F the file); the mode must then be WANT, seen both
# through the mount and on the backing file
check() {
	local op=$1 mode=$2 grp=$3 want=$4 cmd=$5 seen back
	echo data >"$M/f"
	chgrp "$grp" "$M/f" && chmod "$mode" "$M/f" || fail "$op: chmod $mode"
	runuser -u "$U" -- env F="$M/f" sh -c "$cmd" || fail "$op as $U failed"
	seen=$(stat -c %a "$M/f") back=$(stat -c %a "$C/f")
	[ "$seen" = "$want" ] || fail "$op on $mode: mount shows $seen, want $want"
	[ "$back" = "$want" ] || fail "$op on $mode: backing has $back, want $want"
	rm -f "$M/f"
}

for op in append truncate otrunc direct; do
	case $op in
	append) cmd='echo more >>"$F"' ;;
	truncate) cmd='truncate -s 2 "$F"' ;;
	otrunc) cmd='echo new >"$F"' ;;
	direct) cmd='dd if=/dev/zero of="$F" bs=4096 count=1 oflag=direct conv=notrunc status=none' ;;
	esac
	check "$op" 6777 root 777 "$cmd"
	check "$op" 4766 root 766 "$cmd"
	check "$op" 2767 root 767 "$cmd"	# not in the group: cleared
	check "$op" 2767 "$GU" 2767 "$cmd"	# in the group, no g+x: kept
	check "$op" 2777 "$GU" 777 "$cmd"	# g+x: cleared
done
ok "write, truncate and O_TRUNC by a user clear setuid and setgid"

# A user's new file keeps the set-ID bits it asks for, with O_TRUNC too
# (creat(2)): a new file is not truncated, which would clear them.
mkdir "$M/ud" && chown "$U" "$M/ud" || fail "mkdir ud"
runuser -u "$U" -- python3 -c '
import os, sys
os.close(os.open(sys.argv[1], os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o4755))' "$M/ud/new" ||
	fail "create 4755 with O_TRUNC as $U"
sleep 1.2	# past the attribute timeout: the mode as the daemon now has it
[ "$(stat -c %a "$M/ud/new")" = 4755 ] || fail "a new 4755 file as $U shows $(stat -c %a "$M/ud/new")"
[ "$(stat -c %a "$C/ud/new")" = 4755 ] || fail "a new 4755 file as $U has $(stat -c %a "$C/ud/new") on the backing file"
ok "a user's new file keeps the set-ID bits it was created with, O_TRUNC or not"

# What a user makes belongs to the user (the root daemon chowns it by fd).
runuser -u "$U" -- sh -c 'mkdir "$0/sub" && ln -s sub "$0/link" && mkfifo "$0/fifo"' "$M/ud" ||
	fail "mkdir, symlink, mkfifo as $U"
for n in sub link fifo; do
	[ "$(stat -c %U "$M/ud/$n")" = "$U" ] || fail "$n made by $U is owned by $(stat -c %U "$M/ud/$n")"
	[ "$(stat -c %U "$C/ud/$n")" = "$U" ] || fail "backing $n made by $U is owned by $(stat -c %U "$C/ud/$n")"
done
ok "a directory, symlink and FIFO made by a user are the user's"

echo data >"$M/r"
chmod 6777 "$M/r"
echo more >>"$M/r" && truncate -s 3 "$M/r"
[ "$(stat -c %a "$M/r")" = 6777 ] || fail "root's write cleared the bits: $(stat -c %a "$M/r")"
chmod 6755 "$M/r"
chown "$U" "$M/r"
[ "$(stat -c %a "$M/r")" = 755 ] || fail "chown left $(stat -c %a "$M/r")"
[ "$(stat -c %a "$C/r")" = 755 ] || fail "chown left $(stat -c %a "$C/r") on the backing file"
ok "root keeps the bits on write; chown clears them"

# With other users let in, the kernel checks modes against each of them.
grep " $M " /proc/mounts | grep -q default_permissions ||
	fail "allow_other mount without default_permissions"
echo secret >"$M/private" && chmod 600 "$M/private"
out=$(runuser -u "$U" -- cat "$M/private" 2>&1) && fail "$U read a 0600 root file"
case $out in *"Permission denied"*) ;; *) fail "$U: want EACCES: $out" ;; esac
ok "allow_other: default_permissions, a 0600 file refused to another user"
unmount_vol "$M"

