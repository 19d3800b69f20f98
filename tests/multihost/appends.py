#!/usr/bin/env python3
# tests/multihost/appends.py - concurrent appends from several hosts.
#   appends.py write FILE TAG COUNT: COUNT lines of 100 bytes, each one
#       write(2) on an O_APPEND descriptor, fsync after each
#   appends.py check FILE TAG COUNT [TAG COUNT...]: every line of each
#       writer is in FILE, whole, once; prints what is wrong, exit 1
import os
import sys

SIZE = 100


def line(tag, i):
    r = ("%s line %06d " % (tag, i)).encode()
    return r + b"a" * (SIZE - 1 - len(r)) + b"\n"


def main():
    if sys.argv[1] == "write":
        path, tag, count = sys.argv[2], sys.argv[3], int(sys.argv[4])
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        for i in range(count):
            assert os.write(fd, line(tag, i)) == SIZE
            os.fsync(fd)
        os.close(fd)
        return
    path, args = sys.argv[2], sys.argv[3:]
    want = {}
    for k in range(0, len(args), 2):
        for i in range(int(args[k + 1])):
            want[line(args[k], i)] = 0
    with open(path, "rb") as f:
        data = f.read()
    bad = 0
    for k in range(0, len(data), SIZE):
        rec = data[k:k + SIZE]
        if rec in want:
            want[rec] += 1
        else:
            bad += 1
            if bad <= 3:
                print("at byte %d: %r" % (k, rec[:60]))
    missing = sum(1 for v in want.values() if v == 0)
    dup = sum(1 for v in want.values() if v > 1)
    if bad or missing or dup or len(data) != SIZE * len(want):
        print("%d bytes for %d lines: %d lines torn or foreign, %d missing, "
              "%d twice" % (len(data), len(want), bad, missing, dup))
        sys.exit(1)


main()
