#!/usr/bin/env bash
# The pkcs11 provider against a real SoftHSM2 token: a private token
# directory, a sensitive non-extractable AES-256 root key made with
# pkcs11-tool (its value cannot be read), init/mount/remount through the
# token, clear errors for a wrong PIN, an absent token, a missing module
# and key, an unsafe PIN file, a key that may leave the token; the
# wrapped KEK opens with no other token key; a pkcs11 keyslot added to
# a keyfile volume, either slot mounting it; and with the token absent and
# a recovery passphrase slot, each keyslot tried is reported.
. "$(dirname "$0")/../integration/lib.sh"

MOD=${ATR_PKCS11_MODULE:-/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so}
command -v softhsm2-util >/dev/null || { echo "SKIP: softhsm2-util not installed (make deps)"; exit 77; }
command -v pkcs11-tool >/dev/null || { echo "SKIP: pkcs11-tool (opensc) not installed (make deps)"; exit 77; }
[ -f "$MOD" ] || { echo "SKIP: no SoftHSM2 module at $MOD"; exit 77; }

# A private SoftHSM2 store under $WORK, removed with it by lib.sh's trap.
mkdir -p "$WORK/tokens" "$WORK/empty"
export SOFTHSM2_CONF=$WORK/softhsm2.conf
cat >"$SOFTHSM2_CONF" <<EOF
directories.tokendir = $WORK/tokens
objectstore.backend = file
log.level = ERROR
EOF
PIN=246813 SOPIN=97531086
p11() { pkcs11-tool --module "$MOD" --token-label atr-test --login --pin "$PIN" "$@"; }
softhsm2-util --init-token --free --label atr-test --so-pin "$SOPIN" --pin "$PIN" >/dev/null ||
	fail "softhsm2-util --init-token"
p11 --keygen --key-type AES:32 --label kek --id 01 --sensitive >/dev/null 2>&1 || fail "keygen kek"
p11 --keygen --key-type AES:32 --label kek2 --id 02 --sensitive >/dev/null 2>&1 || fail "keygen kek2"
p11 --keygen --key-type AES:32 --label loose --id 03 --sensitive --extractable >/dev/null 2>&1 ||
	fail "keygen loose"
p11 --list-objects --type secrkey 2>/dev/null | grep -A4 "label: *kek$" >"$WORK/attrs"
grep -q "Access: *sensitive, always sensitive, never extractable" "$WORK/attrs" ||
	fail "root key attributes: $(cat "$WORK/attrs")"
if p11 --read-object --type secrkey --label kek -o "$WORK/stolen" >"$WORK/read.log" 2>&1; then
	fail "the root key's value could be read off the token"
fi
grep -q "CKR_ATTRIBUTE_SENSITIVE" "$WORK/read.log" || fail "read refusal: $(cat "$WORK/read.log")"
[ -s "$WORK/stolen" ] && fail "key bytes written"
ok "SoftHSM2 token with a sensitive, never-extractable AES-256 key; reading its value fails"

umask 077
printf '%s\n' "$PIN" >"$WORK/pin"
printf '000000\n' >"$WORK/badpin"
export ATRESTFS_PROVIDERS_CONF=$WORK/providers.conf
cat >"$ATRESTFS_PROVIDERS_CONF" <<EOF
pkcs11 = {
  module = "$MOD";
  token = "atr-test";
  key = "kek";
  pin_file = "$WORK/pin";
};
EOF
umask 022

C=$WORK/c M=$WORK/m
mkdir -p "$C"
setsid -w "$ATR" init -q --provider pkcs11 "$C" </dev/null || fail "init --provider pkcs11"
grep -q 'provider = "pkcs11"' "$C/atrestfs.conf" || fail "keyslot provider"
grep -q 'key_id = "pkcs11:token=atr-test;object=kek"' "$C/atrestfs.conf" || fail "key_id URI"
grep -q 'algorithm = "CKM_AES_GCM"' "$C/atrestfs.conf" || fail "algorithm"
grep -q "$PIN" "$C/atrestfs.conf" && fail "PIN in the config"
grep -q "$MOD\|pin_file" "$C/atrestfs.conf" && fail "provider settings in the volume"
ok "init --provider pkcs11: key ID pkcs11:token=atr-test;object=kek, CKM_AES_GCM"

mount_with "$C" "$M"
echo hello >"$M/f" && [ "$(cat "$M/f")" = hello ] || fail "write/read"
dd if=/dev/urandom of="$M/big" bs=64k count=16 status=none || fail "big file"
sum=$(sha256sum <"$M/big")
unmount_vol "$M"
mount_with "$C" "$M"
[ "$(cat "$M/f")" = hello ] || fail "read back after remount"
[ "$(sha256sum <"$M/big")" = "$sum" ] || fail "big file after remount"
unmount_vol "$M"
ok "mount, write, unmount, remount through the token: data intact"

# The PIN from the host instead of pin_file: --passfile.
sed -i '/pin_file/d' "$ATRESTFS_PROVIDERS_CONF"
expect 3 "PIN for token atr-test needed" "$ATR" mount "$C" "$M"
mount_with "$C" "$M" --passfile "$WORK/pin"
[ "$(cat "$M/f")" = hello ] || fail "read with --passfile PIN"
unmount_vol "$M"
ok "PIN through the host (--passfile); none at all is a clear error"

expect 3 "wrong PIN for token atr-test" "$ATR" mount -O "pin_file=$WORK/badpin" "$C" "$M"
expect 3 "wrong PIN for token atr-test" "$ATR" mount --passfile "$WORK/badpin" "$C" "$M"
chmod 0644 "$WORK/pin"
expect 3 "accessible to group or others" "$ATR" mount -O "pin_file=$WORK/pin" "$C" "$M"
chmod 0600 "$WORK/pin"
expect 3 "not an absolute path" "$ATR" mount -O pin_file=pin "$C" "$M"
install -m 600 "$WORK/pin" "$C/pin"
expect 3 "pin_file $C/pin is inside the volume" "$ATR" mount -O "pin_file=$C/pin" "$C" "$M"
rm "$C/pin"
ok "wrong PIN (file or host): exit 3, 'wrong PIN for token atr-test'; unsafe PIN file refused, one inside the volume too"

expect 3 "token nosuch not present" "$ATR" mount --passfile "$WORK/pin" -O token=nosuch "$C" "$M"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$WORK/empty" \
	>"$WORK/empty.conf"
SOFTHSM2_CONF=$WORK/empty.conf expect 3 "token atr-test not present" \
	"$ATR" mount --passfile "$WORK/pin" "$C" "$M"
expect 3 "PKCS#11 module /nonexistent/libp11.so" "$ATR" mount --passfile "$WORK/pin" \
	-O module=/nonexistent/libp11.so "$C" "$M"
expect 3 "not an absolute path" "$ATR" mount --passfile "$WORK/pin" -O module=libsofthsm2.so "$C" "$M"
expect 3 "no AES key labelled nokey on token atr-test" "$ATR" mount --passfile "$WORK/pin" \
	-O key=nokey "$C" "$M"
mkdir -p "$WORK/c4"
expect 3 "token nosuch not present" "$ATR" init --provider pkcs11 --passfile "$WORK/pin" \
	-O token=nosuch "$WORK/c4"
[ -e "$WORK/c4/atrestfs.conf" ] && fail "volume made without its token"
ok "absent token (wrong label, empty token store), missing module, missing key: clear errors, exit 3, at mount and at init"

# A key that may leave the token is refused as a root key.
mkdir -p "$WORK/c3"
expect 3 "key loose on token atr-test is extractable" "$ATR" init --provider pkcs11 \
	--passfile "$WORK/pin" -O key=loose "$WORK/c3"
[ -e "$WORK/c3/atrestfs.conf" ] && fail "volume made with an extractable key"
ok "an extractable key is refused"

# The wrapped KEK opens with no other key: another key on the same token
# names itself differently and is refused; with the keyslot's key ID forged
# to name it, the token's AES-GCM unwrap fails.
expect 3 "does not open volume" "$ATR" mount --passfile "$WORK/pin" -O key=kek2 "$C" "$M"
cp "$C/atrestfs.conf" "$WORK/conf.orig"
sed -i 's/object=kek"/object=kek2"/' "$C/atrestfs.conf"
grep -q 'object=kek2"' "$C/atrestfs.conf" || fail "forge key_id"
expect 3 "keyslot is corrupt or was tampered with" "$ATR" mount --passfile "$WORK/pin" \
	-O key=kek2 "$C" "$M"
cp "$WORK/conf.orig" "$C/atrestfs.conf"
# A second token whose key has the same label: a different key all the same.
softhsm2-util --init-token --free --label atr-other --so-pin "$SOPIN" --pin "$PIN" >/dev/null ||
	fail "second token"
pkcs11-tool --module "$MOD" --token-label atr-other --login --pin "$PIN" --keygen \
	--key-type AES:32 --label kek --id 01 --sensitive >/dev/null 2>&1 || fail "keygen on atr-other"
sed -i 's/token=atr-test;/token=atr-other;/' "$C/atrestfs.conf"
expect 3 "keyslot is corrupt or was tampered with" "$ATR" mount --passfile "$WORK/pin" \
	-O token=atr-other "$C" "$M"
cp "$WORK/conf.orig" "$C/atrestfs.conf"
mount_with "$C" "$M" --passfile "$WORK/pin"
[ "$(cat "$M/f")" = hello ] || fail "read after the refusals"
unmount_vol "$M"
ok "the wrapped KEK opens with no other key (same token, same label on another token)"

# A pkcs11 keyslot on a keyfile volume; either slot mounts it.
C2=$WORK/c2 M2=$WORK/m2
new_volume "$C2"
mount_vol "$C2" "$M2"
echo via-keyfile >"$M2/g"
unmount_vol "$M2"
setsid -w "$ATR" keyslot add -q --keyfile "$C2.key" --new-provider pkcs11 \
	--new-passfile "$WORK/pin" "$C2" </dev/null || fail "keyslot add pkcs11"
"$ATR" keyslot list "$C2" >"$WORK/list" || fail "keyslot list"
grep -q "^1: provider=pkcs11 key_id=pkcs11:token=atr-test;object=kek key_version=1 algorithm=CKM_AES_GCM" \
	"$WORK/list" || fail "list: $(cat "$WORK/list")"
mount_with "$C2" "$M2" --provider pkcs11 --passfile "$WORK/pin"
[ "$(cat "$M2/g")" = via-keyfile ] || fail "read through the pkcs11 slot"
echo via-token >"$M2/h"
unmount_vol "$M2"
mount_with "$C2" "$M2" --slot 1 --passfile "$WORK/pin"
unmount_vol "$M2"
mount_vol "$C2" "$M2"
[ "$(cat "$M2/h")" = via-token ] || fail "read through the keyfile slot"
unmount_vol "$M2"
expect 3 "wrong PIN for token atr-test" "$ATR" mount --provider pkcs11 --passfile "$WORK/badpin" "$C2" "$M2"
ok "keyslot add --new-provider pkcs11 on a keyfile volume; either slot mounts it"

# The token absent and a recovery passphrase keyslot, with no passphrase
# to hand: both keyslots are reported, each with why; the passphrase then
# opens the volume without the token.
printf 'recovery words\n' >"$WORK/recovery"
setsid -w "$ATR" keyslot add -q --provider pkcs11 --passfile "$WORK/pin" \
	--new-provider passphrase --new-passfile "$WORK/recovery" \
	"$C" </dev/null || fail "keyslot add passphrase"
uuid=$(sed -n 's/^volume_uuid = "\(.*\)";/\1/p' "$C/atrestfs.conf")
pid=$("$ATR" keyslot list "$C" | sed -n 's/^1: provider=passphrase key_id=\(passphrase-[0-9a-f]\{8\}\) .*/\1/p')
[ -n "$pid" ] || fail "keyslot 1: no passphrase key ID: $("$ATR" keyslot list "$C")"
out=$(SOFTHSM2_CONF=$WORK/empty.conf setsid -w "$ATR" mount "$C" "$M" 2>&1 </dev/null)
rc=$?
[ $rc = 3 ] || fail "token absent, no passphrase: exit $rc ($out)"
[ "$(printf '%s\n' "$out" | wc -l)" = 3 ] || fail "token absent, no passphrase: not 3 lines: $out"
[ "$(printf '%s\n' "$out" | sed -n 1p)" = "atrestfs: no keyslot opens volume $uuid:" ] ||
	fail "token absent, no passphrase: first line: $out"
case "$(printf '%s\n' "$out" | sed -n 2p)" in
"  keyslot 0 (pkcs11, key pkcs11:token=atr-test;object=kek): "*"token atr-test not present"*) ;;
*) fail "token absent, no passphrase: the token's line: $out" ;;
esac
[ "$(printf '%s\n' "$out" | sed -n 3p)" = "  keyslot 1 (passphrase, key $pid): passphrase provider: no passphrase given for volume $uuid (give it with --passfile, --extpass or at a terminal)" ] ||
	fail "token absent, no passphrase: the passphrase's line: $out"
case "$out" in *"No anode"*) fail "a raw strerror: $out" ;; esac
SOFTHSM2_CONF=$WORK/empty.conf mount_with "$C" "$M" --passfile "$WORK/recovery"
unmount_vol "$M"
ok "token absent, recovery passphrase slot: each keyslot tried says why; the passphrase opens it"
