#!/usr/bin/env bash
# Make tests/fixtures/v1-volume.tar (and .key, .sha256): a small volume in
# on-disk format v1, committed once and mounted by tests/integration/
# t_fixture.sh forever after, so no later change can silently break the
# format.  Never regenerate it to make a failing test pass.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/tests/fixtures
w=$(mktemp -d)
trap 'fusermount3 -u "$w/m" 2>/dev/null; rm -rf "$w"' EXIT
mkdir -p "$w/vol" "$w/m"
"$top/build/atrestfs" init -q --keyfile "$w/key" "$w/vol"
"$top/build/atrestfs" mount --keyfile "$w/key" "$w/vol" "$w/m"
cd "$w/m"
: >empty
printf 'hello from format v1\n' >small.txt
seq 1 2000 | head -c 4096 >boundary
seq 1 5000 | head -c 8193 >two-and-a-bit
seq 1 100 >sparse && truncate -s $((200 << 10)) sparse
printf 'tail\n' >>sparse
ln -s small.txt link
ln boundary hardlink
mkdir dir
printf 'nested\n' >dir/nested.txt
setfattr -n user.comment -v fixture dir/nested.txt
sha256sum empty small.txt boundary two-and-a-bit sparse link hardlink dir/nested.txt \
	>"$out/v1-volume.sha256"
cd /
"$top/build/atrestfs" unmount "$w/m"
tar --xattrs --xattrs-include='user.*' --numeric-owner -C "$w/vol" -cf "$out/v1-volume.tar" .
cp "$w/key" "$out/v1-volume.key"
