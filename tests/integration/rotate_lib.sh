# tests/integration/rotate_lib.sh - shared by the rotate-kek tests (after
# lib.sh); not a test itself.

# make_tree DIR: 2,000 files of seeded random sizes ($SEED), some empty,
# some of whole extents, 500 in each of d0 to d3.
make_tree() {
	SEED=$SEED python3 - "$1" <<'PY' || fail "make source tree"
import os, random, sys
src = sys.argv[1]
rnd = random.Random(int(os.environ.get("SEED", "1")))
for d in range(4):
    os.makedirs(f"{src}/d{d}")
    for i in range(500):
        n = rnd.choice([0, 1, 4096, 8192, rnd.randrange(1, 20000)])
        with open(f"{src}/d{d}/f{i}", "wb") as f:
            f.write(os.urandom(n))
PY
}

# headers_name CIPHERDIR KEK_ID [N]: every regular file's header names
# KEK_ID (bytes 32..47 of user.atrestfs.hdr), and there are N of them.
headers_name() {
	python3 - "$1" "$2" "${3:-}" <<'PY' || fail "headers"
import os, sys
root, kek, want = sys.argv[1], sys.argv[2], sys.argv[3]
n = 0
for d, _, files in os.walk(root):
    for f in files:
        p = os.path.join(d, f)
        if (d == root and f.startswith("atrestfs.conf")) or os.path.islink(p):
            continue
        h = os.getxattr(p, "user.atrestfs.hdr")
        if h[32:48].hex() != kek:
            sys.exit(f"{p} names KEK {h[32:48].hex()}, not {kek}")
        n += 1
if want and n != int(want):
    sys.exit(f"{n} headers, want {want}")
PY
}

# kek_of CIPHERDIR: the config's kek_id
kek_of() {
	sed -n 's/^kek_id = "\(.*\)";$/\1/p' "$1/atrestfs.conf"
}
