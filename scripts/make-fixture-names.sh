#!/usr/bin/env bash
# Make tests/fixtures/names-volume.tar (and .key, .list, .sha256): a small
# volume with encrypted names (docs/format.md 14), committed once and
# mounted by tests/integration/t_fixture.sh forever after, so no later
# change can silently break how names are stored.  Never regenerate it to
# make a failing test pass.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/tests/fixtures
w=$(mktemp -d)
trap 'fusermount3 -u "$w/m" 2>/dev/null; rm -rf "$w"' EXIT
mkdir -p "$w/vol" "$w/m"
"$top/build/atrestfs" init -q --names encrypted --keyfile "$w/key" "$w/vol"
"$top/build/atrestfs" mount --keyfile "$w/key" "$w/vol" "$w/m"
cd "$w/m"
long=$(printf 'n%.0s' $(seq 250))
printf 'hello from encrypted names\n' >small.txt
printf 'a name of 255 bytes\n' >"L----$long"
mkdir -p "dir/sub dir" "d$long"
printf 'nested\n' >"dir/sub dir/nested.txt"
printf 'in a long directory\n' >"d$long/inner"
ln -s small.txt link
ln -s "../d$long/inner" "dir/long-target"
ln small.txt "dir/hard link"
mkfifo fifo
# Every byte value but NUL and '/' in two names.
python3 - <<'PY'
import os
for n in (bytes(b for b in range(1, 128) if b != 0x2f), bytes(range(128, 256))):
    with open(b"bytes-" + n[:200], "wb") as f:
        f.write(n)
PY
find . -mindepth 1 -printf '%y %P\0' | sort -z >"$out/names-volume.list"
find . -type f -print0 | sort -z | xargs -0 sha256sum >"$out/names-volume.sha256"
cd /
"$top/build/atrestfs" unmount "$w/m"
tar --xattrs --xattrs-include='user.*' --numeric-owner -C "$w/vol" -cf "$out/names-volume.tar" .
cp "$w/key" "$out/names-volume.key"
