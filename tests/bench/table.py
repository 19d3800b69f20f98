# tests/bench/table.py - the table of "make bench" from its raw results:
# one line per measurement, "round fs workload value".  Prints medians per
# file system and, for atrestfs's default and io_uring rows, their speed
# relative to each peer and to the better of gocryptfs and securefs per
# column (> 1 means atrestfs is faster; for time workloads that is peer
# time / our time); every other atrestfs row against the default one.
import os, statistics, sys
from collections import defaultdict

res, backing, rounds = sys.argv[1], sys.argv[2], sys.argv[3]
out = sys.argv[4] if len(sys.argv) > 4 else ""
v = defaultdict(list)
for line in open(res):
    f = line.split()
    if len(f) != 4:
        continue            # a workload that could not run
    r, fs, w, x = f
    try:
        v[fs, w].append(float(x))
    except ValueError:
        pass
med = {k: statistics.median(x) for k, x in v.items() if x}

cols = [("seqwrite", "seq write MB/s", 1), ("seqread", "seq read MB/s", 1),
        ("append", "128 B appends MB/s", 1), ("small", "128 B writes MB/s", 1),
        ("randiops", "rand 4K IOPS", 1),
        ("untar", "untar s", -1), ("lslR", "ls -lR s", -1),
        ("rmrf", "rm -rf s", -1), ("rss_mib", "daemon peak RSS MiB", 0)]
fss = [f for f in ("atrestfs", "atrestfs-ur", "atrestfs-base", "atrestfs-pn",
                  "atrestfs-nx", "atrestfs-wt", "atrestfs-sh", "atrestfs-nc",
                  "gocryptfs",
                  "securefs", "passthrough", "raw")
       if any(k[0] == f for k in med)]
ours = [f for f in fss if f.startswith("atrestfs")]
names = {"atrestfs": "atrestfs (default: /dev/fuse, names on)",
         "atrestfs-ur": "atrestfs, io_uring on",
         "atrestfs-base": "atrestfs before (BENCH_BASE)",
         "atrestfs-pn": "atrestfs, names off (init --names plain)",
         "atrestfs-nx": "atrestfs -o noxattr",
         "atrestfs-wt": "atrestfs -o writethrough",
         "atrestfs-sh": "atrestfs -o shared",
         "atrestfs-nc": "atrestfs, cipher removed (measurement only)",
         "passthrough": "passthrough_ll -o writeback", "raw": "raw backing"}

def fmt(x):
    if x is None:
        return "-"
    return "%.0f" % x if x >= 100 else "%.2f" % x if x < 10 else "%.1f" % x

lines = ["| fs | " + " | ".join(c[1] for c in cols) + " |",
         "|---" * (len(cols) + 1) + "|"]
for f in fss:
    lines.append("| %s | " % names.get(f, f) +
                 " | ".join(fmt(med.get((f, c[0]))) for c in cols) + " |")
def ratio(a, b, d):
    if d == 0 or not a or not b:
        return "-"
    return "%.2fx" % (a / b if d > 0 else b / a)

# Shorter labels for the ratio lines.
short = dict(names, atrestfs="atrestfs", **{"atrestfs-ur": "atrestfs io_uring",
             "atrestfs-pn": "atrestfs names off", "atrestfs-base": "atrestfs before",
             "atrestfs-nc": "atrestfs without cipher", "passthrough": "passthrough_ll"})

def versus(o, f):
    row = [ratio(med.get((o, w)), med.get((f, w)), d) for w, _, d in cols]
    lines.append("| %s vs %s | " % (short.get(o, o), short.get(f, f)) +
                 " | ".join(row) + " |")

def better_peer(w, d):
    """The better of gocryptfs and securefs on workload w, or None."""
    x = [med[p, w] for p in ("gocryptfs", "securefs") if (p, w) in med]
    if not x or d == 0:
        return None
    return max(x) if d > 0 else min(x)

peers = [f for f in fss if f not in ours]
for o in ("atrestfs", "atrestfs-ur"):
    if o not in fss:
        continue
    for f in peers:
        versus(o, f)
    if "gocryptfs" in fss and "securefs" in fss:
        lines.append("| %s vs the better of gocryptfs and securefs | " % short[o] +
                     " | ".join(ratio(med.get((o, w)), better_peer(w, d), d)
                                for w, _, d in cols) + " |")
# What the data path costs without its cipher (issue 22): the cipher-less
# build against the plaintext passthrough.
if "atrestfs-nc" in fss and "passthrough" in fss:
    versus("atrestfs-nc", "passthrough")
# Every other row against the default one: what plain names (issue 19:
# encrypted within 15%, so atrestfs vs plain >= 0.87x), an option, or the
# change since BENCH_BASE costs or gains.
for f in ours:
    if f != "atrestfs" and "atrestfs" in fss:
        versus("atrestfs", f)

sw = [("swapout", "page-out MB/s"), ("swapin", "page-in MB/s")]
if any(("loop", w) in med for w, _ in sw):
    lines += ["", "| swap (memory cgroup) | " + " | ".join(s[1] for s in sw) + " |",
              "|---|---|---|"]
    for f in ("atrestfs", "loop"):
        lines.append("| %s | " % ("loop device over atrestfs file" if f == "atrestfs"
                                  else "loop device over plain file") +
                     " | ".join(fmt(med.get((f, w))) for w, _ in sw) + " |")
if any(k[1] == "fsck" for k in med):
    lines += ["", "| offline check, tree + seq file, cold cache | s |", "|---|---|"]
    for f, label in (("atrestfs", "atrestfs fsck"), ("gocryptfs", "gocryptfs -fsck")):
        lines.append("| %s | %s |" % (label, fmt(med.get((f, "fsck")))))
    a, b = med.get(("atrestfs", "fsck")), med.get(("gocryptfs", "fsck"))
    if a and b:
        lines.append("| atrestfs vs gocryptfs | %.2fx |" % (b / a))
cr = [k for k in med if k[0] in ("extent", "openssl")]
if cr:
    lines += ["", "| crypto, one core | 4 KiB MB/s | 64 KiB MB/s |", "|---|---|---|"]
    for label, f, w in (("extent_seal", "extent", "seal"),
                        ("extent_open", "extent", "open"),
                        ("openssl speed -evp aes-256-gcm", "openssl", "gcm")):
        lines.append("| %s | %s | %s |" % (label, fmt(med.get((f, w + "4096"))),
                                           fmt(med.get((f, w + "65536")))))
nm = [("enc", "encrypt"), ("dec", "decrypt")]
if any(k[0] == "names" for k in med):
    lines += ["", "| one encrypted name, one core | us, kept context | us, key set-up per call |",
              "|---|---|---|"]
    for w, label in nm:
        lines.append("| names_%s | %s | %s |" % (label, fmt(med.get(("names", w))),
                                               fmt(med.get(("names", w + "_setup")))))
head = "backing: %s; medians of %s alternating round(s)" % (backing, rounds)
if os.environ.get("BENCH_URING_STATE"):
    head += "; fuse enable_uring=%s" % os.environ["BENCH_URING_STATE"]
text = head + "\n\n" + "\n".join(lines) + "\n"
print(text)
if out:
    open(out, "w").write(text)
