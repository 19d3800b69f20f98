#!/usr/bin/env bash
# Creating and opening files as a local file system would: modes under the
# caller's umask, set-ID bits asked for at create, O_RDONLY|O_TRUNC, the
# names reserved in the volume's root (exactly two), listing xattrs while
# the backing file's xattrs change under the daemon, and names with control
# characters in log lines.
. "$(dirname "$0")/lib.sh"

C=$WORK/c M=$WORK/m

# mode_of PATH: octal permission bits with set-ID bits, as stat prints them
mode_of() {
	stat -c %a "$1"
}

new_volume "$C"
mount_vol "$C" "$M"

# 1. The caller's umask, applied once (the daemon's own masked it again).
(umask 002 && mkdir "$M/d2" && touch "$M/f2") || fail "umask 002: mkdir, touch"
(umask 000 && touch "$M/f0") || fail "umask 000: touch"
[ "$(mode_of "$M/d2")" = 775 ] || fail "mkdir under umask 002 gave $(mode_of "$M/d2"), want 775"
[ "$(mode_of "$M/f2")" = 664 ] || fail "touch under umask 002 gave $(mode_of "$M/f2"), want 664"
[ "$(mode_of "$M/f0")" = 666 ] || fail "touch under umask 000 gave $(mode_of "$M/f0"), want 666"
[ "$(mode_of "$C/d2")" = 775 ] || fail "the backing directory has $(mode_of "$C/d2"), want 775"
ok "modes follow the caller's umask (775, 664, 666)"

# 2. Set-ID bits asked for at create stay (a root daemon chowns new files,
# and the chown cleared them).
python3 -c 'import os, sys; os.close(os.open(sys.argv[1], os.O_CREAT | os.O_WRONLY, 0o6755))' "$M/suid" ||
	fail "create with mode 6755"
[ "$(mode_of "$M/suid")" = 6755 ] || fail "created with 6755, has $(mode_of "$M/suid")"
ok "set-ID bits asked for at create are kept"

# 3. O_RDONLY|O_TRUNC truncates, in the backing file too.
printf hello >"$M/t"
python3 -c '
import os, sys
os.close(os.open(sys.argv[1], os.O_RDONLY | os.O_TRUNC))
fd = os.open(sys.argv[1], os.O_WRONLY)
os.write(fd, b"ab")
os.close(fd)' "$M/t" || fail "O_RDONLY|O_TRUNC"
[ "$(cat "$M/t")" = ab ] || fail "after O_RDONLY|O_TRUNC and a write: '$(cat "$M/t")', want 'ab'"

# 4. Only atrestfs.conf and its temporary are reserved in the root.
echo x >"$M/atrestfs.conference" || fail "atrestfs.conference cannot be created"
[ "$(cat "$M/atrestfs.conference")" = x ] || fail "atrestfs.conference reads back wrong"
ls "$M" | grep -qx atrestfs.conference || fail "atrestfs.conference is not listed"
ls "$M" | grep -qx atrestfs.conf && fail "atrestfs.conf is listed"
cat "$M/atrestfs.conf" 2>/dev/null && fail "atrestfs.conf is readable through the mount"
touch "$M/atrestfs.conf.tmp" 2>/dev/null && fail "atrestfs.conf.tmp can be created through the mount"
ok "atrestfs.conf and atrestfs.conf.tmp reserved, atrestfs.conference an ordinary name"

# 5. listxattr while the backing directory's xattrs come and go: the list
# was sized by one call and read by another, and an empty list followed by
# a longer one overran the buffer (ASan: heap-buffer-overflow).
mkdir "$M/xd" || fail "mkdir xd"
python3 - "$C/xd" "$M/xd" <<'EOF' || fail "listxattr racing xattr changes in the backing directory"
import multiprocessing as mp, os, sys, time

backing, mounted = sys.argv[1], sys.argv[2]
end = time.time() + 3

def churn():
    while time.time() < end:
        for i in range(8):
            os.setxattr(backing, "user.x%d" % i, b"v" * 64)
        for i in range(8):
            os.removexattr(backing, "user.x%d" % i)

p = mp.Process(target=churn)
p.start()
n = 0
while time.time() < end:
    names = os.listxattr(mounted)
    if any(not x.startswith("user.x") for x in names):
        sys.exit("%s: unexpected names %r" % (mounted, names))
    n += 1
p.join()
if p.exitcode or n < 100:
    sys.exit("churn exit %s, %d listings" % (p.exitcode, n))
EOF
is_mounted "$M" || fail "the daemon died listing xattrs: $(cat "$M.log")"
ok "listxattr while the backing xattrs change"

# 6. A name from the backing directory in a log line: a newline in it
# forged a line of its own, an escape sequence reached the terminal.
N=$'evil\natrestfs: unmounted FAKE\e[31mRED'
echo hello >"$M/$N" || fail "create a file with a newline in its name"
printf X | dd of="$C/$N" bs=1 seek=20 conv=notrunc status=none
sync
echo 3 >/proc/sys/vm/drop_caches
cat "$M/$N" >/dev/null 2>&1 && fail "a tampered extent read back"
grep -q '^atrestfs: unmounted FAKE' "$M.log" && fail "a file name forged a log line: $(cat -A "$M.log")"
grep -q $'\e' "$M.log" && fail "an escape sequence reached the log: $(cat -A "$M.log")"
grep -qF 'evil\x0aatrestfs: unmounted FAKE\x1b[31mRED: extent 0 fails' "$M.log" ||
	fail "no escaped log line for the tampered file: $(cat -A "$M.log")"
rm -f "$M/$N"
ok "control characters of names are escaped in log lines"

unmount_vol "$M"
mount_vol "$C" "$M"
[ "$(cat "$M/t")" = ab ] || fail "after a remount the O_TRUNC file reads '$(cat "$M/t")', want 'ab'"
[ "$(stat -c %s "$C/t")" = 30 ] || fail "the backing file is $(stat -c %s "$C/t") bytes, want 30 (2 + 28): it kept the truncated data"
unmount_vol "$M"
grep -q "Sanitizer\|runtime error" "$M.log" && fail "sanitizer: $(cat "$M.log")"
ok "O_RDONLY|O_TRUNC truncates the file, after a remount too"
