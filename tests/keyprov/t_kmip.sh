#!/usr/bin/env bash
# The exec provider with the KMIP helper, for real: a PyKMIP server on
# loopback with TLS certificates made here (client authentication), an
# AES-256 root key created on it, init + mount + write + remount of a
# volume whose root key lives only in that server; a damaged keyslot and
# a failing server (its database gone) are told apart; then the server is
# stopped (mount fails fast, exit 3) and a helper slower than the timeout
# is killed (exit 3, ETIMEDOUT's message).
. "$(dirname "$0")/../integration/lib.sh"

PY=/usr/bin/python3	# PyKMIP is installed for Debian's python only
if ! command -v pykmip-server >/dev/null || ! "$PY" -c 'import kmip' 2>/dev/null; then
	echo "SKIP: python3-pykmip is not installed (make deps)"
	exit 77
fi
command -v openssl >/dev/null || { echo "SKIP: no openssl"; exit 77; }

SRV_PID=
stop_server() {
	local i
	[ -n "$SRV_PID" ] || return 0
	# The server's own session: its worker processes go with it.
	kill -TERM -- -"$SRV_PID" 2>/dev/null
	# PyKMIP may ignore SIGTERM: a short grace, then SIGKILL.
	for i in $(seq 20); do
		kill -0 -- -"$SRV_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL -- -"$SRV_PID" 2>/dev/null
	wait "$SRV_PID" 2>/dev/null
	SRV_PID=
}
trap 'stop_server; cleanup' EXIT

# ---- certificates: a CA, the server (127.0.0.1), a client (clientAuth) ----
P=$WORK/pki
mkdir -p "$P"
cert() {	# cert NAME CN EXT
	openssl req -new -newkey rsa:2048 -nodes -subj "/CN=$2" \
		-keyout "$P/$1.key" -out "$P/$1.csr" 2>/dev/null &&
	printf '%s\n' "$3" >"$P/$1.ext" &&
	openssl x509 -req -in "$P/$1.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" \
		-CAcreateserial -days 2 -sha256 -extfile "$P/$1.ext" \
		-out "$P/$1.crt" 2>/dev/null
}
openssl req -x509 -new -newkey rsa:2048 -nodes -subj "/CN=atrestfs test CA" \
	-days 2 -keyout "$P/ca.key" -out "$P/ca.crt" 2>/dev/null || fail "CA"
cert server 127.0.0.1 "subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth" || fail "server cert"
cert client atrestfs-client "extendedKeyUsage=clientAuth" || fail "client cert"
chmod 600 "$P"/*.key

# ---- the server, on a free loopback port ----
PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$WORK/policies"
cat >"$WORK/server.conf" <<CONF
[server]
hostname=127.0.0.1
port=$PORT
certificate_path=$P/server.crt
key_path=$P/server.key
ca_path=$P/ca.crt
auth_suite=TLS1.2
policy_path=$WORK/policies
enable_tls_client_auth=True
database_path=$WORK/pykmip.db
logging_level=INFO
CONF
setsid pykmip-server -f "$WORK/server.conf" -l "$WORK/server.log" >/dev/null 2>&1 &
SRV_PID=$!
for i in $(seq 100); do
	ss -ltnH "sport = :$PORT" 2>/dev/null | grep -q . && break
	kill -0 "$SRV_PID" 2>/dev/null || break
	sleep 0.1
done
ss -ltnH "sport = :$PORT" | grep -q . ||
	fail "pykmip-server not listening on $PORT: $(tail -5 "$WORK/server.log" 2>/dev/null)"
ok "PyKMIP server with TLS client authentication on 127.0.0.1:$PORT"

# ---- a root key that exists only on the server ----
UID_=$("$PY" - "$PORT" "$P" <<'PYEOF'
import logging, sys
logging.disable(logging.CRITICAL)
from kmip.core import enums
from kmip.pie import client
port, p = int(sys.argv[1]), sys.argv[2]
with client.ProxyKmipClient(hostname="127.0.0.1", port=port,
        cert=p + "/client.crt", key=p + "/client.key", ca=p + "/ca.crt",
        config_file="/dev/null") as c:
    uid = c.create(enums.CryptographicAlgorithm.AES, 256)
    c.activate(uid)
    print(uid)
PYEOF
) || fail "create a key on the KMIP server"
[ -n "$UID_" ] || fail "no key uid"
cat >"$WORK/kmip.conf" <<CONF
host = 127.0.0.1
port = $PORT
certfile = $P/client.crt
keyfile = $P/client.key
ca = $P/ca.crt
key_uid = $UID_
timeout = 5
CONF
export ATRESTFS_PROVIDERS_CONF=$WORK/providers.conf
cat >"$ATRESTFS_PROVIDERS_CONF" <<CONF
exec = {
  helper = "$TOP/keyprov/helpers/atrestfs-kmip";
  config = "$WORK/kmip.conf";
  timeout = "10";
};
CONF
ok "AES-256 key $UID_ created and activated on the server"

# ---- init, mount, write, remount ----
C=$WORK/c M=$WORK/m
mkdir -p "$C"
setsid -w "$ATR" init -q --provider exec "$C" </dev/null >"$WORK/init.out" 2>&1 ||
	fail "init --provider exec: $(cat "$WORK/init.out")"
grep -q 'provider = "exec"' "$C/atrestfs.conf" || fail "keyslot provider"
grep -q "key_id = \"kmip:127.0.0.1:$UID_\"" "$C/atrestfs.conf" || fail "keyslot key_id"
grep -q 'algorithm = "KMIP-AES-256-CBC+AES-256-GCM"' "$C/atrestfs.conf" || fail "keyslot algorithm"
ok "init with the root key on the KMIP server"

mount_with "$C" "$M"
echo hello-kmip >"$M/f" && [ "$(cat "$M/f")" = hello-kmip ] || fail "write/read"
dd if=/dev/urandom of="$M/big" bs=64k count=8 status=none || fail "big file"
sum=$(sha256sum <"$M/big")
unmount_vol "$M"
mount_with "$C" "$M"
[ "$(cat "$M/f")" = hello-kmip ] || fail "read back after remount"
[ "$(sha256sum <"$M/big")" = "$sum" ] || fail "big file after remount"
unmount_vol "$M"
ok "mount, write, read, unmount, remount intact"

# ---- a damaged keyslot, and a failing server, are told apart ----
# PyKMIP answers bad CBC padding and its own failures with the same
# GENERAL_FAILURE: a damaged keyslot must still be called one, and a
# server whose storage is gone (as while it shuts down) must not be.
uuid=$(sed -n 's/^volume_uuid = "\(.*\)";/\1/p' "$C/atrestfs.conf")
cp "$C/atrestfs.conf" "$WORK/conf.good"
"$PY" - "$C/atrestfs.conf" <<'PYEOF'
import base64, re, sys
p = sys.argv[1]
s = open(p).read()
m = re.search(r'wrapped_kek = "([^"]+)"', s)
b = bytearray(base64.b64decode(m.group(1)))
b[3 + 16 + 40] ^= 1	# in the KMS blob's last CBC block: its padding
s = s.replace(m.group(1), base64.b64encode(bytes(b)).decode())
open(p, "w").write(s)
PYEOF
# Cryptographic operations the server saw since line $1 of its log.
kms_ops() { tail -n +"$(($1 + 1))" "$WORK/server.log" | grep -cE 'Processing operation: (En|De)crypt'; }
l0=$(wc -l <"$WORK/server.log")
expect 3 "keyslot 0 (exec, key kmip:127.0.0.1:$UID_): this key (kmip:127.0.0.1:$UID_) does not open volume $uuid (its keyslot is corrupt or was tampered with)" \
	"$ATR" mount "$C" "$M"
bad_ops=$(kms_ops "$l0")
cp "$WORK/conf.good" "$C/atrestfs.conf"
mv "$WORK/pykmip.db" "$WORK/pykmip.db.away" && mkdir "$WORK/pykmip.db" || fail "hide the server's database"
out=$(setsid -w "$ATR" mount "$C" "$M" 2>&1 </dev/null)
rc=$?
[ $rc = 3 ] || fail "failing KMS: exit $rc ($out)"
case "$out" in
*"KMIP server 127.0.0.1:$PORT failed (GENERAL_FAILURE: "*") and is not working (a test decryption with key kmip:127.0.0.1:$UID_ failed too): a problem of the server, not of the keyslot; see its log and try again") ;;
*) fail "failing KMS: $out" ;;
esac
case "$out" in *corrupt*|*tampered*) fail "a failing KMS blamed on the keyslot: $out" ;; esac
rmdir "$WORK/pykmip.db" && mv "$WORK/pykmip.db.away" "$WORK/pykmip.db" || fail "restore the database"
l0=$(wc -l <"$WORK/server.log")
mount_with "$C" "$M"
good_ops=$(kms_ops "$l0")
# Bad padding and a good unwrap cost the server the same work, so the time
# an unlock takes is no padding oracle for whoever can write the keyslot.
[ "$bad_ops" = "$good_ops" ] && [ "$good_ops" -gt 0 ] ||
	fail "the server did $bad_ops operations for bad padding, $good_ops for a good unwrap"
[ "$(cat "$M/f")" = hello-kmip ] || fail "read back once the server works again"
unmount_vol "$M"
ok "a damaged keyslot is called one, after as much KMS work as a good one; a failing KMS is not (exit 3, says which)"

# ---- the KMS goes away: a clear error, quickly, exit 3 ----
stop_server
t0=$(date +%s)
expect 3 "unreachable" "$ATR" mount "$C" "$M"
[ $(($(date +%s) - t0)) -le 12 ] || fail "mount took too long with the server down"
ok "server down: mount fails at once with exit 3 and says why"

# ---- a helper slower than the timeout is killed: ETIMEDOUT ----
cat >"$WORK/slow-helper" <<EOF2
#!/bin/sh
if [ "\$1" = describe ]; then
  printf 'ok\nkey_id kmip:127.0.0.1:$UID_\nalgorithm KMIP-AES-256-CBC\n\n'
  exit 0
fi
sleep 30
EOF2
chmod 755 "$WORK/slow-helper"
t0=$(date +%s)
expect 3 "did not answer within 1 s" "$ATR" mount -O "helper=$WORK/slow-helper" -O timeout=1 "$C" "$M"
[ $(($(date +%s) - t0)) -le 5 ] || fail "timeout not enforced"
ok "a helper slower than the timeout is killed: exit 3, clear message"

# ---- a helper on the command line must be an absolute path ----
expect 3 "absolute path" "$ATR" mount -O "helper=slow-helper" "$C" "$M"
ok "relative helper path refused"
