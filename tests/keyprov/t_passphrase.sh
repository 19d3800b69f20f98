#!/usr/bin/env bash
# The passphrase provider and keyslot management, for real: init with a
# passphrase (file, helper program, system config), mount, several
# keyslots of which any one mounts, passwd rewraps only the KEK, the last
# keyslot cannot go, and weak scrypt parameters in a tampered config are
# refused before the passphrase is read.
. "$(dirname "$0")/../integration/lib.sh"

C=$WORK/c M=$WORK/m
# Cheapest cost the policy allows, from the system provider config.
export ATRESTFS_PROVIDERS_CONF=$WORK/providers.conf
echo 'passphrase = { scrypt_n = "16384"; };' >"$ATRESTFS_PROVIDERS_CONF"
printf 'correct horse battery\n' >"$WORK/pass1"
printf 'second passphrase' >"$WORK/pass2"
mkdir -p "$C"
setsid -w "$ATR" init -q --provider passphrase --passfile "$WORK/pass1" "$C" </dev/null ||
	fail "init --provider passphrase"
grep -q 'provider = "passphrase"' "$C/atrestfs.conf" || fail "keyslot provider"
grep -q 'n = "16384"' "$C/atrestfs.conf" || fail "scrypt n from providers.conf"
grep -q 'salt = "' "$C/atrestfs.conf" || fail "salt param"
grep -q "correct horse" "$C/atrestfs.conf" && fail "passphrase in the config"
ok "init with a passphrase from a file; cost from providers.conf"

mount_with "$C" "$M" --passfile "$WORK/pass1"
echo hello >"$M/f" && [ "$(cat "$M/f")" = hello ] || fail "write/read"
dd if=/dev/urandom of="$M/big" bs=64k count=16 status=none || fail "big file"
sum=$(sha256sum <"$M/big")
unmount_vol "$M"
mount_with "$C" "$M" --extpass "cat $WORK/pass1"
[ "$(cat "$M/f")" = hello ] || fail "read back via --extpass"
unmount_vol "$M"
# A program that writes more after its first line is not cut off (SIGPIPE).
mount_with "$C" "$M" --extpass "cat $WORK/pass1; sleep 0.2; echo '# a note'"
[ "$(cat "$M/f")" = hello ] || fail "read back via --extpass with a second line"
unmount_vol "$M"
mount_with "$C" "$M" -o "passfile=$WORK/pass1,provider=passphrase"
[ "$(cat "$M/f")" = hello ] || fail "read back via -o passfile="
unmount_vol "$M"
# Only the first line is the passphrase, as the usage says, however long
# the rest of the file (it was read whole, and 1 KiB more was "too long").
{ cat "$WORK/pass1"; echo "a second line"; head -c 4096 /dev/zero | tr '\0' x; } >"$WORK/pass1-2"
mount_with "$C" "$M" --passfile "$WORK/pass1-2"
[ "$(cat "$M/f")" = hello ] || fail "read back via a two-line passfile"
unmount_vol "$M"
ok "mount with --passfile, --extpass, -o passfile=; first line only"

expect 3 "wrong passphrase for volume" "$ATR" mount --passfile "$WORK/pass2" "$C" "$M"
expect 3 "--extpass program failed" "$ATR" mount --extpass "false" "$C" "$M"
# SIGCHLD inherited as ignored: how the program ended is still learned (it
# was "cannot learn how it ended"), so a failed one fails, a good one mounts.
IGNCHLD=(/usr/bin/python3 -c 'import os, signal, sys
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
os.execv(sys.argv[1], sys.argv[1:])')
expect 3 "--extpass program failed" "${IGNCHLD[@]}" "$ATR" mount --extpass "false" "$C" "$M"
setsid -w "${IGNCHLD[@]}" "$ATR" mount --extpass "cat $WORK/pass1" "$C" "$M" </dev/null ||
	fail "mount --extpass with SIGCHLD ignored"
MOUNTS+=("$M")
[ "$(cat "$M/f")" = hello ] || fail "read back via --extpass with SIGCHLD ignored"
"$ATR" unmount "$M" || fail "unmount"
expect 3 "no passphrase given" "$ATR" mount "$C" "$M"
ok "wrong passphrase, failing helper, no terminal: clear errors; SIGCHLD ignored is no matter"

# A second keyslot: a key file.  Either one mounts.
setsid -w "$ATR" keyslot add -q --passfile "$WORK/pass1" --new-provider keyfile \
	--new-keyfile "$WORK/c.key" "$C" </dev/null || fail "keyslot add keyfile"
"$ATR" keyslot list "$C" >"$WORK/list" || fail "keyslot list"
grep -q "^0: provider=passphrase key_id=passphrase-[0-9a-f]\{8\} key_version=1 algorithm=scrypt+AES-256-GCM kdf=scrypt salt=" "$WORK/list" ||
	fail "list slot 0: $(cat "$WORK/list")"
grep -q "^1: provider=keyfile key_id=kf-[0-9a-f]* key_version=1 algorithm=AES-256-GCM" "$WORK/list" ||
	fail "list slot 1: $(cat "$WORK/list")"
# No passphrase available: slot 0 fails, slot 1 (the key file) opens.
mount_with "$C" "$M" --keyfile "$WORK/c.key"
[ "$(cat "$M/f")" = hello ] || fail "read via keyfile slot"
unmount_vol "$M"
mount_with "$C" "$M" --slot 1 --keyfile "$WORK/c.key"
unmount_vol "$M"
expect 3 "wrong passphrase" "$ATR" mount --slot 0 --keyfile "$WORK/c.key" --passfile "$WORK/pass2" "$C" "$M"
ok "two keyslots, either one mounts; keyslot list names provider, key ID, version, algorithm"

# Neither opens: each keyslot tried says why, in words (no "No anode").
uuid=$(sed -n 's/^volume_uuid = "\(.*\)";/\1/p' "$C/atrestfs.conf")
kid=$(sed -n 's/^1: provider=keyfile key_id=\([^ ]*\) .*/\1/p' "$WORK/list")
pid=$(sed -n 's/^0: provider=passphrase key_id=\([^ ]*\) .*/\1/p' "$WORK/list")
out=$(setsid -w "$ATR" mount --keyfile "$WORK/absent.key" "$C" "$M" 2>&1 </dev/null)
rc=$?
want="atrestfs: no keyslot opens volume $uuid:
  keyslot 0 (passphrase, key $pid): passphrase provider: no passphrase given for volume $uuid (give it with --passfile, --extpass or at a terminal)
  keyslot 1 (keyfile, key $kid): cannot open key file $WORK/absent.key: No such file or directory"
[ $rc = 3 ] && [ "$out" = "$want" ] || fail "two keyslots failing: exit $rc: $out"
# Only the keyslots asked for are tried, and then the one line has no header.
expect 3 "atrestfs: keyslot 1 (keyfile, key $kid): cannot open key file" \
	"$ATR" mount --provider keyfile --keyfile "$WORK/absent.key" "$C" "$M"
ok "no keyslot opens: one line per keyslot tried, with provider, key ID and why"

# passwd: only atrestfs.conf changes, whatever the volume holds.
find "$C" -type f ! -name atrestfs.conf -exec stat -c '%n %s %Y' {} + | sort >"$WORK/before"
getfattr -R -d -m - "$C" 2>/dev/null | grep -v atrestfs.conf >"$WORK/xbefore"
setsid -w "$ATR" passwd -q --passfile "$WORK/pass1" --new-passfile "$WORK/pass2" "$C" </dev/null ||
	fail "passwd"
find "$C" -type f ! -name atrestfs.conf -exec stat -c '%n %s %Y' {} + | sort >"$WORK/after"
getfattr -R -d -m - "$C" 2>/dev/null | grep -v atrestfs.conf >"$WORK/xafter"
cmp -s "$WORK/before" "$WORK/after" || fail "passwd touched files"
cmp -s "$WORK/xbefore" "$WORK/xafter" || fail "passwd touched headers"
expect 3 "wrong passphrase" "$ATR" mount --provider passphrase --passfile "$WORK/pass1" "$C" "$M"
mount_with "$C" "$M" --provider passphrase --passfile "$WORK/pass2"
[ "$(sha256sum <"$M/big")" = "$sum" ] || fail "data after passwd"
unmount_vol "$M"
expect 3 "wrong passphrase" "$ATR" passwd --passfile "$WORK/pass1" --new-passfile "$WORK/pass1" "$C"
ok "passwd rewraps the KEK only; old passphrase refused, new one mounts"

# passwd changes the keyslot the old passphrase opens, as its help says
# (cryptsetup luksChangeKey does the same); -S N of another kind, or a
# volume without a passphrase keyslot, is refused before any prompt, by
# name (it was "no keyslot for key provider passphrase").
"$ATR" passwd --help | tr '\n' ' ' | grep -q "passphrase keyslot that the current passphrase opens" ||
	fail "passwd --help does not say which keyslot it changes"
printf 'third one\n' >"$WORK/pass3"
setsid -w "$ATR" keyslot add -q --keyfile "$WORK/c.key" --new-provider passphrase \
	--new-passfile "$WORK/pass1" "$C" </dev/null || fail "keyslot add a second passphrase"
# Slots: 0 passphrase (pass2), 1 keyfile, 2 passphrase (pass1).
setsid -w "$ATR" passwd --passfile "$WORK/pass1" --new-passfile "$WORK/pass3" "$C" \
	</dev/null >"$WORK/pw.out" || fail "passwd of the second passphrase keyslot"
grep -q "Changed the passphrase of keyslot 2 of" "$WORK/pw.out" || fail "passwd said: $(cat "$WORK/pw.out")"
mount_with "$C" "$M" --slot 0 --passfile "$WORK/pass2"
unmount_vol "$M"
mount_with "$C" "$M" --slot 2 --passfile "$WORK/pass3"
unmount_vol "$M"
expect 3 "wrong passphrase" "$ATR" mount --slot 2 --passfile "$WORK/pass1" "$C" "$M"
expect 3 "wrong passphrase" "$ATR" passwd -S 0 --passfile "$WORK/pass3" --new-passfile "$WORK/pass1" "$C"
expect 2 "keyslot 1 of $C is a keyfile keyslot, not a passphrase one" \
	"$ATR" passwd -S 1 --extpass "touch $WORK/asked1; cat $WORK/pass1" "$C"
[ -e "$WORK/asked1" ] && fail "passwd -S of a keyfile slot asked for a passphrase"
expect 2 "has no keyslot 7 ('atrestfs keyslot list" "$ATR" passwd -S 7 --passfile "$WORK/pass1" "$C"
setsid -w "$ATR" keyslot remove -q --keyfile "$WORK/c.key" "$C" 2 </dev/null || fail "keyslot remove 2"
setsid -w "$ATR" keyslot purge -q --force --keyfile "$WORK/c.key" "$C" 2 </dev/null || fail "keyslot purge 2"
ok "passwd changes the keyslot the old passphrase opens; -S N of another kind named"

# Remove the passphrase slot (a soft delete), purge it; the last one cannot go.
setsid -w "$ATR" keyslot remove -q --keyfile "$WORK/c.key" "$C" 0 </dev/null || fail "keyslot remove"
"$ATR" keyslot list "$C" | grep -q '^0: provider=passphrase.* state=removed' || fail "slot 0 not removed"
expect 4 "it is the last one that can mount the volume" "$ATR" keyslot remove --keyfile "$WORK/c.key" "$C" 1
setsid -w "$ATR" keyslot purge -q --force --keyfile "$WORK/c.key" "$C" 0 </dev/null || fail "keyslot purge"
[ "$("$ATR" keyslot list "$C" | grep -c '^[0-9]:')" = 1 ] || fail "one slot left"
expect 2 "purge destroys removed keyslots only" "$ATR" keyslot purge --force --keyfile "$WORK/c.key" "$C" 1
expect 2 "needs --new-provider" "$ATR" keyslot add "$C"
expect 2 "has no keyslot 5" "$ATR" keyslot remove --keyfile "$WORK/c.key" "$C" 5
# Without N: one line saying what is missing, not the usage page.
out=$("$ATR" keyslot remove --keyfile "$WORK/c.key" "$C" 2>&1 </dev/null)
rc=$?
[ $rc = 2 ] && [ "$out" = "atrestfs: keyslot remove: which keyslot? Give its number N after CIPHERDIR (atrestfs keyslot list $C shows them)" ] ||
	fail "keyslot remove without N: exit $rc: $out"
out=$("$ATR" keyslot remove 2>&1 </dev/null)
rc=$?
[ $rc = 2 ] && [ "$out" = "atrestfs: keyslot remove: CIPHERDIR and the keyslot number N are missing (see atrestfs keyslot --help)" ] ||
	fail "keyslot remove without arguments: exit $rc: $out"
expect 2 "has no passphrase keyslot to change" "$ATR" passwd --passfile "$WORK/pass1" "$C"
mount_with "$C" "$M" --keyfile "$WORK/c.key"
[ "$(cat "$M/f")" = hello ] || fail "read after remove"
unmount_vol "$M"
ok "keyslot remove; removing the last refused"

# A tampered config asking for a weak scrypt cost: refused before the
# passphrase is read (an --extpass that leaves a mark shows it was not run).
C2=$WORK/c2
mkdir -p "$C2"
setsid -w "$ATR" init -q --provider passphrase --passfile "$WORK/pass1" "$C2" </dev/null || fail "init c2"
sed -i 's/n = "16384"/n = "1024"/' "$C2/atrestfs.conf"
expect 4 "unsafe scrypt parameters" "$ATR" mount --extpass "touch $WORK/asked; cat $WORK/pass1" "$C2" "$M"
[ -e "$WORK/asked" ] && fail "passphrase asked for despite weak parameters"
# One asking for more than the cap (N = 2^20: 1 GiB and half a minute per
# try here) is refused as quickly, naming the keyslot and the limit.
sed -i 's/n = "1024"/n = "1048576"/' "$C2/atrestfs.conf"
pid2=$("$ATR" keyslot list "$C2" | sed -n 's/^0: provider=passphrase key_id=\([^ ]*\) .*/\1/p')
case "$pid2" in passphrase-????????) ;; *) fail "c2 keyslot 0 key ID: '$pid2'" ;; esac
expect 4 "keyslot 0 (passphrase, key $pid2): passphrase keyslot asks scrypt for N=1048576 r=8 p=1 (1024 MiB), above the limit of N=262144 and 256 MiB (tampered config?); refusing to run it" \
	"$ATR" mount --extpass "touch $WORK/asked; cat $WORK/pass1" "$C2" "$M"
[ -e "$WORK/asked" ] && fail "passphrase asked for despite a cost above the cap"
sed -i 's/n = "1048576"/n = "16384"/; s/key_version = 1;/key_version = 2;/' "$C2/atrestfs.conf"
expect 4 "fails its MAC check" "$ATR" mount --passfile "$WORK/pass1" "$C2" "$M"
ok "weak scrypt parameters refused before any work; other edits fail the MAC"

# init and keyslot add never write a cost above the cap that unwrap enforces.
mkdir -p "$WORK/c4"
echo 'passphrase = { scrypt_n = "524288"; };' >"$WORK/dear.conf"
out=$(ATRESTFS_PROVIDERS_CONF=$WORK/dear.conf setsid -w "$ATR" init -q --provider passphrase \
	--passfile "$WORK/pass1" "$WORK/c4" 2>&1 </dev/null) && fail "init with N above the cap"
case "$out" in *"scrypt N must be a power of two from 16384 to 262144"*"at most 256 MiB"*) ;;
*) fail "init with N above the cap: $out" ;; esac
[ -e "$WORK/c4/atrestfs.conf" ] && fail "init above the cap wrote a config"
ok "a scrypt cost above the cap (256 MiB) is refused in a config and in settings"

# From a terminal: asked twice at init, never echoed.  script(1) gives the
# command a pty; the input arrives after the prompt, so an echo would show
# it in the transcript.
C3=$WORK/c3
mkdir -p "$C3"
(sleep 1; printf 'typed at a tty\n'; sleep 1; printf 'typed at a tty\n'; sleep 1) |
	TERM=xterm script -qec "$ATR init --provider passphrase $C3" /dev/null >"$WORK/tty.out" 2>&1 ||
	fail "init with a passphrase typed at a terminal: $(cat "$WORK/tty.out")"
grep -q "typed at a tty" "$WORK/tty.out" && fail "the passphrase was echoed: $(cat "$WORK/tty.out")"
grep -qi "passphrase" "$WORK/tty.out" || fail "no prompt on the terminal: $(cat "$WORK/tty.out")"
(sleep 1; printf 'typed at a tty\n'; sleep 1) |
	TERM=xterm script -qec "$ATR mount $C3 $M" /dev/null >"$WORK/tty2.out" 2>&1 ||
	fail "mount with a passphrase typed at a terminal: $(cat "$WORK/tty2.out")"
MOUNTS+=("$M")
is_mounted "$M" || fail "not mounted after the terminal passphrase"
grep -q "typed at a tty" "$WORK/tty2.out" && fail "the passphrase was echoed at mount"
echo t >"$M/t" && [ "$(cat "$M/t")" = t ] || fail "read/write after a terminal passphrase"
"$ATR" unmount "$M" || fail "unmount"
(sleep 1; printf 'not it\n'; sleep 1) |
	TERM=xterm script -qec "$ATR mount $C3 $M" /dev/null >"$WORK/tty3.out" 2>&1
rc=$?
is_mounted "$M" && fail "mounted with a wrong passphrase typed at a terminal"
[ $rc = 3 ] || fail "wrong terminal passphrase: exit $rc, want 3"
grep -q "wrong passphrase for volume" "$WORK/tty3.out" ||
	fail "wrong terminal passphrase: $(cat "$WORK/tty3.out")"
ok "passphrase typed at a terminal: asked twice at init, never echoed; a wrong one refused"

# Ctrl-C at the passphrase prompt: the command dies of SIGINT as before,
# but the terminal gets its echo back (it stayed off).
mkdir -p "$WORK/tty"
/usr/bin/python3 - "$ATR" "$WORK/tty" <<'PY' || fail "echo after SIGINT at the prompt"
import os, pty, signal, sys, termios, time
atr, d = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.execv(atr, [atr, "init", "-P", "passphrase", d])
buf, end = b"", time.time() + 20
while b"assphrase" not in buf and time.time() < end:
    buf += os.read(fd, 1024)
time.sleep(0.2)
off = not termios.tcgetattr(fd)[3] & termios.ECHO
os.kill(pid, signal.SIGINT)
_, st = os.waitpid(pid, 0)
back = bool(termios.tcgetattr(fd)[3] & termios.ECHO)
if not (off and back and os.WIFSIGNALED(st) and os.WTERMSIG(st) == signal.SIGINT):
    sys.exit("echo off while asking: %s, back after SIGINT: %s, status %#x" % (off, back, st))
PY
ok "SIGINT at the passphrase prompt gives the terminal its echo back"

# At a terminal, a new passphrase typed differently twice is asked again,
# up to three times, as cryptsetup does (it failed at once).  Each prompt
# is answered once it is shown and echo is off (turning echo off flushes
# what was typed before): no timing.
cat >"$WORK/answer.py" <<'PY'
import os, pty, sys, termios, time
argv, answers = sys.argv[1:sys.argv.index("--")], sys.argv[sys.argv.index("--") + 1:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
out, seen = b"", 0
while True:
    prompts = out.count(b"assphrase for volume") + out.count(b"Repeat it: ")
    if seen < prompts and answers:
        if termios.tcgetattr(fd)[3] & termios.ECHO:
            time.sleep(0.01)	# the prompt is out, echo not yet off
        else:
            os.write(fd, answers.pop(0).encode() + b"\n")
            seen += 1
        continue
    try:
        chunk = os.read(fd, 1024)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.WEXITSTATUS(st) if os.WIFEXITED(st) else 128)
PY
C4=$WORK/c4
mkdir -p "$C4"
/usr/bin/python3 "$WORK/answer.py" "$ATR" init -P passphrase "$C4" -- one two five five >"$WORK/retry.out" ||
	fail "init after one mismatch: $(cat "$WORK/retry.out")"
grep -q "the two passphrases differ; try again" "$WORK/retry.out" || fail "no retry: $(cat "$WORK/retry.out")"
printf 'five\n' >"$WORK/pass5"
mount_with "$C4" "$M" --passfile "$WORK/pass5"
unmount_vol "$M"
C5=$WORK/c5
mkdir -p "$C5"
/usr/bin/python3 "$WORK/answer.py" "$ATR" init -P passphrase "$C5" -- a b c d e f >"$WORK/retry3.out"
rc=$?
[ $rc = 3 ] || fail "init after three mismatches: exit $rc, want 3: $(cat "$WORK/retry3.out")"
grep -q "the two passphrases differed 3 times; giving up" "$WORK/retry3.out" ||
	fail "three mismatches: $(cat "$WORK/retry3.out")"
[ -e "$C5/atrestfs.conf" ] && fail "a volume was made after three mismatches"
ok "a mismatched new passphrase at a terminal is asked again, three times at most"

# --passfile -: the passphrase from standard input when it is not a
# terminal (it was read as a file named "-"); with --new-passfile - too,
# the first line is the old one and the second the new one.
C6=$WORK/c6
mkdir -p "$C6"
printf 'from stdin\n' | setsid -w "$ATR" init -q -P passphrase --passfile - "$C6" ||
	fail "init --passfile -"
printf 'from stdin\n' >"$WORK/pass6"
mount_with "$C6" "$M" --passfile "$WORK/pass6"
unmount_vol "$M"
printf 'from stdin\n' | setsid -w "$ATR" mount --passfile - "$C6" "$M" || fail "mount --passfile -"
MOUNTS+=("$M")
is_mounted "$M" || fail "not mounted with --passfile -"
"$ATR" unmount "$M" || fail "unmount"
# Two passphrase keyslots tried with one line on stdin: each gets it.
printf 'from stdin\nsecond\n' | setsid -w "$ATR" keyslot add -q --passfile - \
	--new-provider passphrase --new-passfile - "$C6" || fail "keyslot add with two lines on stdin"
printf 'second\n' | setsid -w "$ATR" mount --passfile - "$C6" "$M" || fail "mount --passfile - of slot 1"
"$ATR" unmount "$M" || fail "unmount"
printf 'from stdin\nnew one\n' | setsid -w "$ATR" passwd -q --passfile - --new-passfile - "$C6" ||
	fail "passwd --passfile - --new-passfile -"
printf 'new one\n' >"$WORK/pass7"
mount_with "$C6" "$M" --slot 0 --passfile "$WORK/pass7"
unmount_vol "$M"
expect 3 "the passphrase is empty" "$ATR" mount --passfile - "$C6" "$M"
ok "--passfile - reads standard input; a second - the next line"

# -o extpass=CMD is no mount option (commas would split CMD): refused by
# name before any key is asked for, as is any option libfuse would refuse
# after unlocking (the passphrase was asked for first).
expect 2 "extpass is not a mount option" "$ATR" mount -o "extpass=touch $WORK/asked2" "$C6" "$M"
expect 2 "-o noexce: unknown mount option" "$ATR" mount --extpass "touch $WORK/asked2; cat $WORK/pass7" -o noexce "$C6" "$M"
expect 2 "-o bogus: unknown mount option" "$TOP/build/mount.atrestfs" "$C6" "$M" -o "passfile=$WORK/pass7,bogus"
[ -e "$WORK/asked2" ] && fail "a passphrase was asked for before a bad option was refused"
is_mounted "$M" && fail "mounted with an unknown option"
mount_with "$C6" "$M" --passfile "$WORK/pass7" -o ro,noexec,noatime,nosuid,nodev
grep -F " $M fuse.atrestfs ro," /proc/mounts | grep -q noexec || fail "FUSE options not applied: $(grep -F " $M " /proc/mounts)"
unmount_vol "$M"
ok "-o extpass= and unknown -o options refused by name before unlocking; FUSE ones taken"
