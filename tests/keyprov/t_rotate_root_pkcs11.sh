#!/usr/bin/env bash
# atrestfs rotate-root from a key file to a key on a PKCS#11 token
# (SoftHSM2): one command, the files untouched, the token mounts the
# volume and the old key file no longer does.
. "$(dirname "$0")/../integration/lib.sh"

MOD=${ATR_PKCS11_MODULE:-/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so}
command -v softhsm2-util >/dev/null || { echo "SKIP: softhsm2-util not installed (make deps)"; exit 77; }
command -v pkcs11-tool >/dev/null || { echo "SKIP: pkcs11-tool (opensc) not installed (make deps)"; exit 77; }
[ -f "$MOD" ] || { echo "SKIP: no SoftHSM2 module at $MOD"; exit 77; }

mkdir -p "$WORK/tokens"
export SOFTHSM2_CONF=$WORK/softhsm2.conf
cat >"$SOFTHSM2_CONF" <<EOT
directories.tokendir = $WORK/tokens
objectstore.backend = file
log.level = ERROR
EOT
PIN=246813
softhsm2-util --init-token --free --label atr-test --so-pin 97531086 --pin "$PIN" >/dev/null ||
	fail "softhsm2-util --init-token"
pkcs11-tool --module "$MOD" --token-label atr-test --login --pin "$PIN" \
	--keygen --key-type AES:32 --label kek --id 01 --sensitive >/dev/null 2>&1 || fail "keygen"
umask 077
printf '%s\n' "$PIN" >"$WORK/pin"
export ATRESTFS_PROVIDERS_CONF=$WORK/providers.conf
cat >"$ATRESTFS_PROVIDERS_CONF" <<EOT
pkcs11 = {
  module = "$MOD";
  token = "atr-test";
  key = "kek";
  pin_file = "$WORK/pin";
};
EOT
umask 022

C=$WORK/c M=$WORK/m ST=$WORK/st
new_volume "$C" --state-dir "$ST"
mount_with "$C" "$M" --keyfile "$C.key" --state-dir "$ST"
head -c 100000 /dev/urandom >"$WORK/data"
cp "$WORK/data" "$M/file" || fail "write"
unmount_vol "$M"
hdr=$(getfattr --absolute-names --only-values -n user.atrestfs.hdr "$C/file" | od -An -tx1)
sum=$(md5sum <"$C/file")

setsid -w "$ATR" rotate-root -q --keyfile "$C.key" --state-dir "$ST" \
	--new-provider pkcs11 "$C" </dev/null || fail "rotate-root to pkcs11"
grep -q 'key_id = "pkcs11:token=atr-test;object=kek"' "$C/atrestfs.conf" || fail "keyslot key"
[ "$(grep -c 'provider = ' "$C/atrestfs.conf")" = 1 ] || fail "one keyslot"
[ "$(getfattr --absolute-names --only-values -n user.atrestfs.hdr "$C/file" | od -An -tx1)" = "$hdr" ] ||
	fail "header changed"
[ "$(md5sum <"$C/file")" = "$sum" ] || fail "data changed"
expect 3 "has no keyslot for key provider keyfile" "$ATR" mount --provider keyfile --keyfile "$C.key" --state-dir "$ST" "$C" "$M"
mount_with "$C" "$M" --state-dir "$ST"
cmp "$WORK/data" "$M/file" || fail "data through the token"
unmount_vol "$M"
ok "rotate-root: key file to PKCS#11 token in one command; token mounts, key file refused"
