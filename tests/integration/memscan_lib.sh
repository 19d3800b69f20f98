# tests/integration/memscan_lib.sh - shared by the tests that look for keys
# in a daemon's memory (after lib.sh); not a test itself.  The keys come
# from tests/tools/keydump.c, one "NAME HEX" line each.

# scan_mem PID KEYS: the names of the keys (lines "NAME HEX") found in
# the readable memory of the stopped process PID, space-separated.
scan_mem() {
	python3 - "$1" "$2" <<'EOF'
import sys
pid, keys = int(sys.argv[1]), sys.argv[2]
needles = [(n, bytes.fromhex(h)) for n, h in (l.split() for l in open(keys))]
found, total = set(), 0
mem = open(f"/proc/{pid}/mem", "rb", 0)
CH = 16 << 20
for line in open(f"/proc/{pid}/maps"):
    f = line.split()
    lo, hi = (int(x, 16) for x in f[0].split("-"))
    if "r" not in f[1] or (len(f) > 5 and f[5].startswith("[vvar")):
        continue
    # ASan's shadow (terabytes of poison bytes, no data) in the SAN build.
    if hi - lo > 64 << 30:
        continue
    off, prev = lo, b""
    while off < hi:
        try:
            mem.seek(off)
            data = mem.read(min(CH, hi - off))
        except OSError:
            break
        total += len(data)
        buf = prev + data
        for n, b in needles:
            if b in buf:
                found.add(n)
        prev = data[-64:]
        off += len(data)
        if not data:
            break
# At least the daemon's heap and stacks were read, or the scan proves nothing.
assert total > (1 << 20), f"only {total} bytes of {pid} could be read"
print("scanned", *sorted(found))
EOF
}

# scan_mem's names of keys found, failing the test if it could not scan.
scan_names() {
	case "$1" in
	scanned*) printf '%s' "${1#scanned}" | sed 's/^ //' ;;
	*) fail "memory scan failed: $1" ;;
	esac
}

# paused_scan PID KEYS: scan_mem with the daemon stopped.
paused_scan() {
	local out
	kill -STOP "$1" || fail "cannot stop daemon $1"
	out=$(scan_mem "$1" "$2" 2>&1)
	kill -CONT "$1"
	scan_names "$out"
}

# has WORD LIST: is WORD one of the space-separated LIST?
has() {
	case " $2 " in *" $1 "*) return 0 ;; esac
	return 1
}
