#!/usr/bin/env bash
# scripts/demo.sh - "make demo": the five-minute tour on a fresh machine.
# Makes a volume with the default key file provider, mounts it, writes
# through it, shows what reached the disk, unmounts, remounts.  Everything
# it makes lives under one temporary directory and is removed at the end,
# key included (KEEP=1 keeps it to play with).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
atr=$top/build/atrestfs
demo=$(mktemp -d /tmp/atrestfs-demo.XXXXXX)
export ATRESTFS_KEY_DIR=$demo/keys	# the default layout, kept inside the demo
cipher=$demo/cipher plain=$demo/plain

cleanup() {
	grep -qs " $plain fuse.atrestfs " /proc/mounts && "$atr" unmount "$plain"
	[ "${KEEP:-0}" = 1 ] || rm -rf "$demo"
}
trap cleanup EXIT
if [ -t 1 ]; then b=$'\033[1m' n=$'\033[0m'; else b= n=; fi
step() { printf '\n%s$ %s%s\n' "$b" "$*" "$n"; "$@"; }

mkdir -p "$cipher" "$plain"
step "$atr" init "$cipher"
step "$atr" mount "$cipher" "$plain"
step sh -c "echo 'meet me at the usual place at 9' > $plain/secret.txt"
step cat "$plain/secret.txt"
step ls -l "$plain" "$cipher"
echo; echo "What the disk holds (ciphertext, then the header xattr):"
step od -A d -t x1z "$cipher/secret.txt"
step getfattr --absolute-names -d -m - -e hex "$cipher/secret.txt"
if grep -r -q "usual place" "$cipher"; then
	echo "PLAINTEXT FOUND IN $cipher: this must never happen" >&2
	exit 1
fi
echo "grep finds no plaintext in $cipher."
step "$atr" unmount "$plain"
step ls -A "$plain"
step "$atr" mount "$cipher" "$plain"
step cat "$plain/secret.txt"
step "$atr" unmount "$plain"
echo
echo "Demo done.  The key file was $ATRESTFS_KEY_DIR/<uuid>.key;"
echo "without ATRESTFS_KEY_DIR, atrestfs keeps keys in /etc/atrestfs/keys (root)."
