#!/usr/bin/env python3
# tests/integration/walkgen.py DIR FILES [PER_DIR]: a tree of FILES empty
# files, PER_DIR to a directory (d00000/f000 ...), made straight in a
# plain-names backing directory: a million take seconds on tmpfs, where
# making them through the mount would take many minutes.  They have no
# header, so only their names and attributes are walked, never read.
import os
import sys

root, total = sys.argv[1], int(sys.argv[2])
per = int(sys.argv[3]) if len(sys.argv) > 3 else 100
made = 0
d = 0
while made < total:
    dpath = os.path.join(root, "d%05d" % d)
    os.mkdir(dpath)
    dfd = os.open(dpath, os.O_RDONLY | os.O_DIRECTORY)
    for i in range(min(per, total - made)):
        os.close(os.open("f%03d" % i, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                         0o644, dir_fd=dfd))
    made += min(per, total - made)
    os.close(dfd)
    d += 1
print(d)
