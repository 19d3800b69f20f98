#!/usr/bin/env python3
# tests/multihost/records.py - the interleaved-records test of issue 21.
#   records.py write FILE K N COUNT TAG: writer K of N writes records
#       K, K+N, ... below COUNT of FILE (100 bytes each, at 100 * i), one
#       pwrite and one fsync each
#   records.py check FILE COUNT TAG: prints how many records are not the
#       one their writer wrote (0: none lost)
import os
import sys

SIZE = 100


def record(i, tag):
    r = ("%s record %06d " % (tag, i)).encode()
    return r + b"r" * (SIZE - 1 - len(r)) + b"\n"


def main():
    if sys.argv[1] == "write":
        path, k, n, count, tag = sys.argv[2], int(sys.argv[3]), \
            int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
        # An error (EIO from a torn extent) is counted, not fatal: what
        # matters is what the file holds at the end.
        errors = 0
        fd = os.open(path, os.O_WRONLY)
        for i in range(k, count, n):
            try:
                assert os.pwrite(fd, record(i, tag), i * SIZE) == SIZE
                os.fsync(fd)
            except OSError:
                errors += 1
        os.close(fd)
        if errors:
            print("writer %d: %d writes failed" % (k, errors), file=sys.stderr)
        sys.exit(1 if errors else 0)
    else:
        path, count, tag = sys.argv[2], int(sys.argv[3]), sys.argv[4]
        # Record by record: one that cannot be read (EIO) is lost too.
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError as e:
            print("cannot open %s: %s" % (path, e), file=sys.stderr)
            print(count)
            return
        lost = 0
        for i in range(count):
            try:
                ok = os.pread(fd, SIZE, i * SIZE) == record(i, tag)
            except OSError:
                ok = False
            lost += not ok
        os.close(fd)
        print(lost)


main()
