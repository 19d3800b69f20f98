#!/usr/bin/env python3
# scanmarks.py DIR MARKFILE: print "PATH:MARK" for every marker (one per
# line of MARKFILE) found in a regular file under DIR, each pair once,
# sorted, as "grep -r -o -F -f MARKFILE DIR | sort -u" would.  It reads
# only the data of sparse files (SEEK_DATA/SEEK_HOLE): a hole reads as
# zeros, and no marker holds a zero byte, so none can be in one.  A 16 GiB
# sparse file is scanned in milliseconds instead of grep's minute.
import os
import sys

CHUNK = 1 << 20


def data_ranges(fd, size):
    off = 0
    while off < size:
        try:
            start = os.lseek(fd, off, os.SEEK_DATA)
        except OSError:
            return  # ENXIO: no data past off
        end = os.lseek(fd, start, os.SEEK_HOLE)
        yield start, end
        off = end


def scan(path, marks, keep, hits):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return
    try:
        size = os.fstat(fd).st_size
        for start, end in data_ranges(fd, size):
            tail = b""
            pos = start
            while pos < end:
                buf = os.pread(fd, min(CHUNK, end - pos), pos)
                if not buf:
                    break
                pos += len(buf)
                window = tail + buf
                for m in marks:
                    if m in window:
                        hits.add((path, m))
                tail = window[-keep:] if keep else b""
    finally:
        os.close(fd)


def main():
    top, markfile = sys.argv[1], sys.argv[2]
    with open(markfile, "rb") as f:
        marks = [l for l in f.read().split(b"\n") if l]
    if not marks or any(b"\0" in m for m in marks):
        sys.exit("scanmarks.py: markers must be non-empty and hold no zero byte")
    keep = max(len(m) for m in marks) - 1
    hits = set()
    for d, dirs, files in os.walk(top):
        for n in files:
            p = os.path.join(d, n)
            if os.path.isfile(p) and not os.path.islink(p):
                scan(p, marks, keep, hits)
    for p, m in sorted(hits):
        sys.stdout.buffer.write(p.encode("utf-8", "surrogateescape") + b":" + m + b"\n")


main()
