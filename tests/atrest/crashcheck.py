# tests/atrest/crashcheck.py - the check of t_crash.sh after a kill -9
# and a remount, against the records of crashops.py (which see).
#
#   crashcheck.py check MNT MODEL NW EXTENT
#       Read every worker's files through MNT, an extent at a time.  Each
#       fsync'd byte must read back, except where a write since may land
#       (there: its fill, the old byte or zero); the size must be one the
#       file had since its last fsync; an extent that fails (EIO) must be
#       one a write or truncate since that fsync touched, and hold no
#       fsync'd byte, but for the known gap of design.md §8 (an extent
#       that was never the last, torn by an overwrite: appended to
#       MODEL/gaps; t_crash.sh fails on it with STRICT=1).  Adds the
#       workers' count of calls to MODEL/ops.  Writes the
#       damaged extents, "PATH INDEX" a line, to MODEL/damaged, and what
#       each file now holds to the model for the next round.  Exit 1 with
#       one line per problem.
#   crashcheck.py fsck MODEL CIPHERDIR FSCK_OUTPUT
#       fsck must name exactly the extents in MODEL/damaged, and nothing
#       else.
#   crashcheck.py reset MNT MODEL
#       Make each damaged file again, empty (fsync'd), for the next round.
import errno, json, os, re, sys


def check(mnt, model, nw, esize):
    bad, damaged, gaps, nops = [], [], [], 0
    for w in range(nw):
        with open(os.path.join(model, "w%d.json" % w)) as f:
            rec = json.load(f)
        nops += rec["ops"]
        if rec["early"]:
            bad.append("worker %d stopped on %s before the kill"
                       % (w, rec["errname"]))
        for fl in rec["files"]:
            bad += check_file(mnt, fl, esize, damaged, gaps)
    with open(os.path.join(model, "damaged"), "w") as f:
        for name, i in damaged:
            f.write("%s %d\n" % (name, i))
    with open(os.path.join(model, "ops"), "a") as f:
        f.write("%d\n" % nops)
    with open(os.path.join(model, "gaps"), "a") as f:
        for g in gaps:
            f.write(g + "\n")
    return bad


def unstable_of(fl, size):
    """Byte ranges a write or a cut since the last fsync may have changed."""
    spans = [(lo, hi) for lo, hi, _ in fl["writes"]]
    spans.append((min(fl["sizes"]), max(max(fl["sizes"]), size)))
    return spans


def fsynced_bytes(fl, nsynced, lo, hi):
    """How many bytes of [lo, hi) were fsync'd and not written since."""
    hi = min(hi, nsynced, min(fl["sizes"]))
    kept = [True] * max(0, hi - lo)
    for a, b, _ in fl["writes"]:
        for p in range(max(a, lo), min(b, hi)):
            kept[p - lo] = False
    return sum(kept)


def check_file(mnt, fl, esize, damaged, gaps):
    names = [fl["name"]] + ([fl["alt"]] if fl["alt"] else [])
    there = [n for n in names if os.path.lexists(os.path.join(mnt, n))]
    if len(there) != 1:
        return ["%s: found under %s of %s" % (fl["base"], there, names)]
    name = there[0]
    path = os.path.join(mnt, name)
    with open(fl["base"] + ".synced", "rb") as f:
        synced = f.read()
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as e:
        return ["%s: open: %s" % (name, e.strerror)]
    size = os.fstat(fd).st_size
    bad = []
    lo_s, hi_s = min(fl["sizes"]), max(fl["sizes"])
    if not lo_s <= size <= hi_s:
        bad.append("%s: %d bytes, not within the sizes %d to %d it had "
                   "since its last fsync" % (name, size, lo_s, hi_s))
    spans = unstable_of(fl, size)
    data = bytearray(size)
    bad_ext = set()
    for i in range((size + esize - 1) // esize):
        try:
            got = os.pread(fd, esize, i * esize)
        except OSError as e:
            if e.errno != errno.EIO:
                bad.append("%s: extent %d: %s" % (name, i, e.strerror))
            bad_ext.add(i)
            lo, hi = i * esize, (i + 1) * esize
            if not any(a < hi and lo < b for a, b in spans):
                bad.append("%s: extent %d fails (EIO), but no write since "
                           "the last fsync touched it" % (name, i))
            else:
                kept = fsynced_bytes(fl, len(synced), lo, hi)
                # A torn overwrite of an extent that was never the last
                # one since the fsync: the known gap of design.md §8.
                if kept and hi < min(fl["sizes"]):
                    gaps.append("%s: extent %d torn by an overwrite, %d "
                                "fsync'd bytes lost" % (name, i, kept))
                elif kept:
                    bad.append("%s: extent %d fails (EIO), losing %d "
                               "fsync'd bytes no write since touched"
                               % (name, i, kept))
            damaged.append((name, i))
            continue
        want = min(esize, size - i * esize)
        if len(got) != want:
            bad.append("%s: extent %d reads %d bytes, want %d"
                       % (name, i, len(got), want))
        data[i * esize:i * esize + len(got)] = got
    os.close(fd)
    # Byte by byte only where the quick checks do not settle it.
    cut = min(fl["sizes"])
    for p in range(0, min(size, len(synced)), esize):
        q = min(p + esize, size, len(synced))
        if p // esize in bad_ext or data[p:q] == synced[p:q]:
            continue
        bad += check_bytes(name, fl, synced, data, p, q, cut, esize)
    for p in range(len(synced), size, esize):
        q = min(p + esize, size)
        if p // esize in bad_ext or not data[p:q].strip(b"\0"):
            continue
        bad += check_bytes(name, fl, synced, data, p, q, cut, esize)
    if not bad and not bad_ext:
        with open(fl["base"] + ".bin", "wb") as f:
            f.write(data)
        with open(fl["base"] + ".name", "w") as f:
            f.write(name + "\n")
    elif not bad:
        with open(fl["base"] + ".name", "w") as f:
            f.write(name + "\n")
    return bad[:5]


def check_bytes(name, fl, synced, data, p, q, cut, esize):
    for i in range(p, q):
        ok = {0} if i >= cut else set()
        if i < len(synced):
            ok.add(synced[i])
        for lo, hi, fill in fl["writes"]:
            if lo <= i < hi:
                ok.add(fill)
                # Written back out of order, an extending write may
                # leave a hole before it.
                if i >= len(synced):
                    ok.add(0)
        if data[i] not in ok:
            return ["%s: byte %d (extent %d) is %d, want one of %s: fsync'd "
                    "data lost or garbage outside the writes under way"
                    % (name, i, i // esize, data[i], sorted(ok))]
    return []


def fsck(model, cdir, out):
    want = set()
    with open(os.path.join(model, "damaged")) as f:
        for line in f:
            name, i = line.split()
            want.add("%s/%s %s" % (cdir, name, i))
    got, other = set(), []
    pat = re.compile(r"^(.*): extents? (\d+)(?: to (\d+))? \(backing bytes")
    with open(out) as f:
        for line in f:
            m = pat.match(line)
            if not m:
                other.append(line.strip())
                continue
            a = int(m.group(2))
            b = int(m.group(3)) if m.group(3) else a
            for i in range(a, b + 1):
                got.add("%s %d" % (m.group(1), i))
    bad = ["fsck does not name damaged extent %s" % x for x in want - got]
    bad += ["fsck names extent %s, which read back" % x for x in got - want]
    bad += ["fsck: %s" % x for x in other]
    return bad


def reset(mnt, model):
    with open(os.path.join(model, "damaged")) as f:
        names = sorted({line.split()[0] for line in f})
    for name in names:
        path = os.path.join(mnt, name)
        os.unlink(path)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.fsync(fd)
        os.close(fd)
        for fn in os.listdir(model):
            if fn.endswith(".name"):
                base = os.path.join(model, fn[:-5])
                with open(base + ".name") as f:
                    if f.read().strip() == name:
                        open(base + ".bin", "wb").close()
    return []


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "check":
        bad = check(sys.argv[2], sys.argv[3], int(sys.argv[4]),
                    int(sys.argv[5]))
    elif mode == "fsck":
        bad = fsck(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        bad = reset(sys.argv[2], sys.argv[3])
    for b in bad:
        print(b)
    sys.exit(1 if bad else 0)
