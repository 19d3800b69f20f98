#!/usr/bin/env bash
# Page files and memory-mapped files: MAP_SHARED writes reach the file
# (msync, munmap) and other processes' read(2), MAP_PRIVATE stays private;
# a 16 GiB sparse file with random 4 KiB writes, fallocate and
# SEEK_DATA/SEEK_HOLE, small on the backing disk; SQLite in WAL mode (its
# -shm file is a shared mapping) passes integrity_check after a heavy mixed
# run; no marker in the backing store; unmount revokes, remount restores.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/common.sh"

command -v sqlite3 >/dev/null || fail "sqlite3 missing (make deps)"
C=$WORK/c M=$WORK/m
mmark=$(new_mark) smark=$(new_mark) qmark=$(new_mark)
seed=${SPARSE_SEED:-$RANDOM}
new_volume "$C"
mount_vol "$C" "$M"

"$TB/atrest_mmap" "$M/mapped" "$mmark" || fail "mmap"
ok "mmap: shared writes persist and are seen by read(2); private stay private"

"$TB/atrest_sparse" "$M/sparse" "$smark" "$seed" || fail "sparse (SPARSE_SEED=$seed)"
used=$(du -k "$C/sparse" | cut -f1)
# 256 extents of 4 KiB + 28, the 1 MiB fallocate, the sealed last extent.
[ "$used" -lt 8192 ] || fail "16 GiB sparse file uses $used KiB of backing disk"
ok "16 GiB sparse file uses $used KiB on the backing disk"

# SQLite in WAL mode: 3 writers and a reader at once, inserts, updates,
# deletes, checkpoints; then integrity_check.
db=$M/app.db
sqlite3 "$db" "PRAGMA journal_mode=WAL;" >/dev/null
sqlite3 "$db" "CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, v TEXT, b BLOB);
	CREATE INDEX tk ON t(k);" || fail "sqlite create"
writer() {
	local w=$1 i
	{
		echo "PRAGMA busy_timeout=20000;"
		for i in $(seq 15); do
			echo "BEGIN IMMEDIATE;"
			echo "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM s WHERE n<30)
			      INSERT INTO t(k, v, b) SELECT abs(random()) % 1000,
			      '$qmark w$w i$i ' || n, randomblob(200 + abs(random()) % 3000) FROM s;"
			echo "UPDATE t SET v = v || ' u$w', b = randomblob(500) WHERE k % 7 = $((i % 7));"
			echo "DELETE FROM t WHERE k % 13 = $((i % 13)) AND id % 3 = $((w % 3));"
			echo "COMMIT;"
			[ $((i % 5)) = 0 ] && echo "PRAGMA wal_checkpoint(PASSIVE);"
		done
	} | sqlite3 "$db" >/dev/null
}
reader() {
	local i
	for i in $(seq 20); do
		sqlite3 -cmd "PRAGMA busy_timeout=20000;" "$db" \
			"SELECT count(*), sum(length(b)) FROM t;" >/dev/null || return 1
	done
}
writer 1 & w1=$!
writer 2 & w2=$!
writer 3 & w3=$!
reader & r1=$!
for p in $w1 $w2 $w3 $r1; do
	wait $p || fail "sqlite worker $p failed"
done
[ "$(sqlite3 "$db" "PRAGMA integrity_check;")" = ok ] || fail "sqlite integrity_check"
rows=$(sqlite3 "$db" "SELECT count(*) FROM t;")
[ "$rows" -gt 0 ] || fail "sqlite table empty"
sqlite3 "$db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
ok "SQLite WAL: 3 writers + reader, $rows rows, integrity_check ok"

dump=$(sqlite3 "$db" "SELECT id, k, v, hex(b) FROM t ORDER BY id;" | md5sum)
msum=$(md5sum <"$M/mapped")
# One scan, after unmount (everything written has reached the backing
# files by then): each pass reads the 16 GiB sparse file, holes included.
unmount_vol "$M"
scan_backing "$C" "$mmark" "$smark" "$qmark"
revoked "$M" "$mmark" "$smark" "$qmark"
ok "no mmap, sparse or SQLite marker in the backing store; unmounted, nothing readable"

mount_vol "$C" "$M"
[ "$(md5sum <"$M/mapped")" = "$msum" ] || fail "mapped file differs after remount"
"$TB/atrest_sparse" "$M/sparse" "$smark" "$seed" verify >/dev/null ||
	fail "sparse file differs after remount (SPARSE_SEED=$seed)"
[ "$(sqlite3 "$db" "PRAGMA integrity_check;")" = ok ] || fail "sqlite after remount"
[ "$(sqlite3 "$db" "SELECT id, k, v, hex(b) FROM t ORDER BY id;" | md5sum)" = "$dump" ] ||
	fail "sqlite rows differ after remount"
unmount_vol "$M"
ok "remount with the key: mapped, sparse and SQLite data intact"
