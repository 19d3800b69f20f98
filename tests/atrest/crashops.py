# tests/atrest/crashops.py - one worker of t_crash.sh, whose daemon is
# killed -9 under it.  crashops.py MNT MODEL W SEED NFILES
#
# Works on its own NFILES files (model names MODEL/wWfK.*) until a call
# fails (the daemon is gone): writes inside a file, appends, truncates
# that grow or shrink it, renames (within and across the directories a/
# and b/), fsyncs and sync_file_range.  It starts from what the model
# says each file holds (wWfK.bin, read back after the last remount; the
# file's path in wWfK.name) and writes, for the check, one JSON record
# per file to MODEL/wW.json:
#   name, alt   the path, and the other one if a rename was cut short
#   synced      bytes fsync'd (to wWfK.synced): must read back, except
#               where a write made since may land
#   writes      [lo, hi, fill] of each write since that fsync: its bytes
#               may read as the fill, the old byte or zero
#   sizes       every size the file had since that fsync
# and "error": the errno that stopped it, "early" if the test had not
# killed the daemon yet (MODEL/killed).  Each write is one byte value
# (1 to 255) repeated, so that a byte is known to come from it.
import errno, json, os, random, sys

mnt, model, w, seed, nfiles = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    int(sys.argv[4]), int(sys.argv[5])
r = random.Random(seed)
MAXSIZE = 160 * 1024
libc = None


def sync_range(fd):
    global libc
    import ctypes
    if libc is None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.sync_file_range.argtypes = [ctypes.c_int, ctypes.c_int64,
                                         ctypes.c_int64, ctypes.c_uint]
    # WAIT_BEFORE | WRITE | WAIT_AFTER: the data reaches the daemon.
    if libc.sync_file_range(fd, 0, 0, 7):
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


files = []
for k in range(nfiles):
    base = os.path.join(model, "w%df%d" % (w, k))
    with open(base + ".name") as f:
        name = f.read().strip()
    with open(base + ".bin", "rb") as f:
        cur = bytearray(f.read())
    files.append({"base": base, "name": name, "alt": None,
                  "cur": cur, "synced": bytes(cur), "writes": [],
                  "sizes": [len(cur)], "gen": int(name.rsplit(".", 1)[1])})
for fl in files:
    fl["fd"] = os.open(os.path.join(mnt, fl["name"]), os.O_RDWR)
with open(os.path.join(model, "w%d.ready" % w), "w"):
    pass

err, early, nops = 0, False, 0
try:
    while True:
        fl = r.choice(files)
        fd, cur = fl["fd"], fl["cur"]
        size = len(cur)
        op = r.random()
        if op < 0.28 and size:
            off = r.randrange(size)
            ln = r.randint(1, 12000)
            op = "write"
        elif op < 0.45:
            off, ln, op = size, r.randint(1, 9000), "write"
        elif op < 0.57:
            if size > MAXSIZE or r.random() < 0.5:
                new = r.randrange(size + 1)
            else:
                new = size + r.randint(1, 20000)
            op = "truncate"
        elif op < 0.67:
            op = "rename"
        elif op < 0.92:
            op = "fsync"
        else:
            op = "range"
        if op == "write" and off + ln > MAXSIZE + 20000:
            op = "fsync"
        if op == "write":
            fill = r.randint(1, 255)
            # In the model before the call: cut short, it may have landed.
            fl["writes"].append([off, off + ln, fill])
            cur[off:off + ln] = bytes([fill]) * ln
            fl["sizes"].append(len(cur))
            n = os.pwrite(fd, bytes([fill]) * ln, off)
            if n != ln:
                raise OSError(errno.EIO, "short write %d of %d" % (n, ln))
        elif op == "truncate":
            if new < size:
                del cur[new:]
            else:
                cur.extend(bytes(new - size))
            fl["sizes"].append(new)
            os.ftruncate(fd, new)
        elif op == "rename":
            d = "b" if fl["name"].startswith("a/") else "a"
            new = "%s/w%df%d.%d" % (d, w, files.index(fl), fl["gen"] + 1)
            fl["alt"] = new
            os.rename(os.path.join(mnt, fl["name"]), os.path.join(mnt, new))
            fl["name"], fl["alt"] = new, None
            fl["gen"] += 1
        elif op == "fsync":
            os.fsync(fd)
            fl["synced"] = bytes(cur)
            fl["writes"] = []
            fl["sizes"] = [len(cur)]
        else:
            sync_range(fd)
        nops += 1
except OSError as e:
    err = e.errno
    # The test makes MODEL/killed just before its kill: an error seen
    # without it came while the daemon was still there.
    early = not os.path.exists(os.path.join(model, "killed"))

out = {"error": err, "early": early, "errname": errno.errorcode.get(err, str(err)),
       "ops": nops, "files": []}
for fl in files:
    with open(fl["base"] + ".synced", "wb") as f:
        f.write(fl["synced"])
    out["files"].append({"base": fl["base"], "name": fl["name"],
                         "alt": fl["alt"], "writes": fl["writes"],
                         "sizes": fl["sizes"]})
with open(os.path.join(model, "w%d.json" % w), "w") as f:
    json.dump(out, f)
os._exit(0)
