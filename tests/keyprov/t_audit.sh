#!/usr/bin/env bash
# The audit log of key use and the access policy, on a real allow_other
# mount: two test users, one allowed (allow_uids) and one not; root is
# refused too.  The audit file is mode 0600 and holds one valid JSON object
# per line for the root-key wrap and unwrap, the mount, each DEK unwrap
# (with the requester's uid and the file's ID), each denial, and the
# unmount, and no key bytes.  Then without a policy: two users' DEK unwraps,
# each audited once per mount.
. "$(dirname "$0")/../integration/lib.sh"

command -v useradd >/dev/null && command -v runuser >/dev/null ||
	{ echo "SKIP: useradd and runuser are needed"; exit 77; }
UA=atrau$$a UB=atrau$$b
users_cleanup() {
	userdel "$UA" 2>/dev/null
	userdel "$UB" 2>/dev/null
	cleanup
}
trap users_cleanup EXIT
useradd -M -N -s /bin/sh "$UA" || fail "useradd $UA"
useradd -M -N -s /bin/sh "$UB" || fail "useradd $UB"
IA=$(id -u "$UA") IB=$(id -u "$UB") GA=$(id -g "$UA")
chmod 755 "$WORK"

# as USER CMD...: run CMD as USER, stderr to stdout
as() {
	local u=$1
	shift
	runuser -u "$u" -- "$@" 2>&1
}

# mount_other CIPHER MNT: like mount_vol, with allow_other
mount_other() {
	mount_with "$1" "$2" -o allow_other --keyfile "$1.key"
}

# file_id CIPHERFILE: the 32 hex digits of the file ID in its header
file_id() {
	getfattr -n user.atrestfs.hdr -e hex "$1" 2>/dev/null |
		sed -n 's/^user.atrestfs.hdr=0x//p' | cut -c33-64
}

# valid_json FILE: every line one JSON object
valid_json() {
	if [ -x /usr/bin/python3 ]; then
		/usr/bin/python3 -c '
import json, sys
for n, line in enumerate(open(sys.argv[1]), 1):
    o = json.loads(line)
    assert isinstance(o, dict), n
    for k in ("time", "event", "volume", "uid", "gid", "pid", "result"):
        assert k in o, (n, k)
' "$1" || fail "audit log is not one JSON object per line: $(cat "$1")"
	else
		grep -Evq '^\{"time":"[0-9T:.-]+Z","event":"[a-z_]+","volume":"[0-9a-f-]{36}"(,"[a-z_]+":("[ -!#-[\]-~]*"|[0-9]+))*\}$' "$1" &&
			fail "audit log has a line that is not of the JSON shape"
	fi
}

# no_keys LOG KEYFILE: neither the root key (hex, base64) nor any 256-bit
# hex string (a KEK, a DEK) is in LOG, but for the chain's hashes ("prev")
no_keys() {
	local log=$1 key=$2 hex b64
	hex=$(od -An -tx1 -v "$key" | tr -d ' \n')
	b64=$(base64 -w0 <"$key")
	grep -qi "$hex" "$log" && fail "root key (hex) in the audit log"
	grep -qF "$b64" "$log" && fail "root key (base64) in the audit log"
	sed -E 's/,"prev":"[0-9a-f]{64}"\}$/}/' "$log" | grep -Eqi '[0-9a-f]{64}' &&
		fail "a 256-bit hex string in the audit log"
	return 0
}

# --- with a policy: only UA (and root is not in it) -------------------------
C=$WORK/c M=$WORK/m LOG=$WORK/log/vol.audit
mkdir -p "$WORK/log"
new_volume "$C" --audit-file "$LOG" --allow-uid "$IA"
grep -q "allow_uids = \[ $IA \];" "$C/atrestfs.conf" || fail "allow_uids not in the config"
[ "$(stat -c %a "$LOG")" = 600 ] || fail "audit log mode $(stat -c %a "$LOG"), want 600"
grep -q '"event":"root_key_wrap"' "$LOG" || fail "init: no root_key_wrap line"
chown "$UA" "$C"

mount_other "$C" "$M"
as "$UA" sh -c "echo secret-a >$M/fa" || fail "$UA cannot write"
unmount_vol "$M"
: >"$LOG"
mount_other "$C" "$M"
[ "$(as "$UA" cat "$M/fa")" = secret-a ] || fail "$UA cannot read its file"
out=$(as "$UB" cat "$M/fa") && fail "$UB read the file: $out"
case "$out" in *"Permission denied"*) ;; *) fail "$UB: want EACCES, got: $out" ;; esac
out=$(as "$UB" ls "$M") && fail "$UB listed the mount: $out"
out=$(cat "$M/fa" 2>&1) && fail "root read the file on an allow_other mount"
case "$out" in *"Permission denied"*) ;; *) fail "root: want EACCES, got: $out" ;; esac
# Writes of the allowed user survive the kernel's writeback (no requester).
as "$UA" sh -c "dd if=/dev/urandom of=$M/fb bs=64k count=8 status=none; sync" || fail "$UA big write"
sum=$(as "$UA" sha256sum "$M/fb" | cut -d' ' -f1)
unmount_vol "$M"
ok "policy: $UA served, $UB and root get EACCES"

valid_json "$LOG"
FID=$(file_id "$C/fa")
[ ${#FID} = 32 ] || fail "no file ID for fa"
grep -q '"event":"root_key_unwrap".*"provider":"keyfile".*"result":"ok"' "$LOG" ||
	fail "no root_key_unwrap line: $(cat "$LOG")"
grep -q '"event":"mount".*"result":"ok"' "$LOG" || fail "no mount line"
grep -q "\"event\":\"dek_unwrap\".*\"file_id\":\"$FID\".*\"uid\":$IA,\"gid\":$GA,.*\"result\":\"ok\"" "$LOG" ||
	fail "no dek_unwrap of $FID by uid $IA: $(cat "$LOG")"
grep -q "\"event\":\"access_denied\".*\"uid\":$IB,.*\"result\":\"EACCES\"" "$LOG" ||
	fail "no access_denied for uid $IB"
grep -q '"event":"access_denied".*"uid":0,.*"result":"EACCES"' "$LOG" ||
	fail "no access_denied for root"
grep "\"uid\":$IB," "$LOG" | grep -qv access_denied && fail "$UB got further than a denial"
grep -q '"event":"unmount".*"result":"ok"' "$LOG" || fail "no unmount line"
no_keys "$LOG" "$C.key"
grep -qF -e "$M" -e '/fa' -e '"fa"' "$LOG" && fail "a file name or mount path in the audit log"
ok "audit: root key, mount, DEK unwrap (uid, file ID), denials, unmount; JSON, no keys"

mount_other "$C" "$M"
[ "$(as "$UA" sha256sum "$M/fb" | cut -d' ' -f1)" = "$sum" ] || fail "data written through writeback"
unmount_vol "$M"
ok "writeback of an allowed user's writes is not refused"

# A tampered audit destination fails the MAC: nothing is appended elsewhere.
sed -i "s|$LOG|$WORK/evil.audit|" "$C/atrestfs.conf"
"$ATR" mount --keyfile "$C.key" "$C" "$M" 2>/dev/null && fail "mounted a tampered config"
[ -e "$WORK/evil.audit" ] && fail "an unverified audit path was opened"
ok "a changed audit path fails the MAC and is never opened"

# --- without a policy: every user's DEK unwraps, once per file per mount -----
C2=$WORK/c2 M2=$WORK/m2 LOG2=$WORK/log/vol2.audit
new_volume "$C2" --audit-file "$LOG2"
chmod 1777 "$C2"
mount_other "$C2" "$M2"
as "$UA" sh -c "echo aa >$M2/a1" || fail "$UA write"
as "$UB" sh -c "echo bb >$M2/b1" || fail "$UB write"
unmount_vol "$M2"
mount_other "$C2" "$M2"
[ "$(as "$UA" cat "$M2/a1")" = aa ] || fail "$UA read"
[ "$(as "$UB" cat "$M2/b1")" = bb ] || fail "$UB read"
[ "$(cat "$M2/a1")" = aa ] || fail "root read"
unmount_vol "$M2"
valid_json "$LOG2"
FA=$(file_id "$C2/a1") FB=$(file_id "$C2/b1")
[ "$(grep -c "\"event\":\"dek_create\".*\"file_id\":\"$FA\".*\"uid\":$IA," "$LOG2")" = 1 ] ||
	fail "dek_create of a1 by $UA"
[ "$(grep -c "\"event\":\"dek_unwrap\".*\"file_id\":\"$FA\".*\"uid\":$IA," "$LOG2")" = 1 ] ||
	fail "one dek_unwrap of a1 by $UA: $(cat "$LOG2")"
[ "$(grep -c "\"event\":\"dek_unwrap\".*\"file_id\":\"$FB\".*\"uid\":$IB," "$LOG2")" = 1 ] ||
	fail "one dek_unwrap of b1 by $UB"
[ "$(grep -c '"event":"mount"' "$LOG2")" = 2 ] || fail "two mount lines"
grep -q access_denied "$LOG2" && fail "a denial without a policy"
no_keys "$LOG2" "$C2.key"
ok "no policy: each user's DEK unwrap audited once per mount"

# A key already loaded: while root holds a1 open, $UB's reads use its key
# without an unwrap, and are audited once as dek_use (they left no line).
chmod 644 "$C2/a1"
mount_other "$C2" "$M2"
exec 7<"$M2/a1"
[ "$(as "$UB" cat "$M2/a1")" = aa ] || fail "$UB read of a1 while root holds it"
[ "$(as "$UB" cat "$M2/a1")" = aa ] || fail "$UB second read of a1"
[ "$(as "$UA" cat "$M2/a1")" = aa ] || fail "$UA read of a1 while root holds it"
exec 7<&-
unmount_vol "$M2"
valid_json "$LOG2"
[ "$(grep -c "\"event\":\"dek_use\".*\"file_id\":\"$FA\".*\"uid\":$IB," "$LOG2")" = 1 ] ||
	fail "one dek_use of a1 by $UB while root held it: $(grep dek_ "$LOG2")"
[ "$(grep -c "\"event\":\"dek_use\".*\"file_id\":\"$FA\".*\"uid\":$IA," "$LOG2")" = 1 ] ||
	fail "one dek_use of a1 by $UA while root held it"
[ "$(grep -c "\"event\":\"dek_use\".*\"uid\":0," "$LOG2")" = 0 ] ||
	fail "a dek_use by root, who unwrapped the key"
ok "users of a key someone else loaded: one dek_use each"

# A full file system under the audit log: events are lost, the daemon says
# so when it begins and when writing works again (with the count), and
# every record that was written is on a line of its own (a short write
# left half a line, and the next record was glued to it).
A=$WORK/alog C3=$WORK/c3 M3=$WORK/m3
mkdir -p "$A"
mount -t tmpfs -o size=64k tmpfs "$A" || fail "tmpfs for the audit log"
MOUNTS+=("$A")
new_volume "$C3" --audit-file "$A/audit.log"
mount_vol "$C3" "$M3"
dd if=/dev/zero of="$A/fill" bs=1k status=none 2>/dev/null	# until full
for i in $(seq 40); do echo x >"$M3/f$i" || fail "create f$i with the audit log full"; done
rm -f "$A/fill"
echo y >"$M3/last" || fail "create after space came back"
unmount_vol "$M3"
grep -q "audit log $A/audit.log: write failed" "$M3.log" ||
	fail "no log line when audit writes began to fail: $(cat "$M3.log")"
grep -q "audit log $A/audit.log: writing again; [1-9][0-9]* events were lost" "$M3.log" ||
	fail "no log line when audit writes worked again: $(cat "$M3.log")"
# A record cut short by the full disk stays (another writer may have
# appended since), but on a line of its own: no line holds two records.
/usr/bin/python3 -c '
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
cut = 0
for n, line in enumerate(lines, 1):
    assert line.count("{\"time\"") == 1, (n, line)
    try:
        assert isinstance(json.loads(line), dict), n
    except ValueError:
        cut += 1
assert cut <= 1, cut
assert json.loads(lines[-1])["event"] == "unmount", lines[-1]
' "$A/audit.log" || fail "audit log after a full disk: $(cat "$A/audit.log")"
ok "audit log on a full disk: losses logged with a count, no record glued to another"
