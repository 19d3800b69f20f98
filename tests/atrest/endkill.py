# tests/atrest/endkill.py - one writer of t_endcopy.sh, a daemon killed
# under it.  endkill.py FILE PID STEP...; FILE is opened O_APPEND|O_CREAT
# and held open throughout (no close, so no settle, until the end):
#   wX:N    append N bytes 'X' and a newline
#   f       fsync (settles: a clean version record)
#   s       sync_file_range: the WRITE reaches the daemon, nothing settles
#   c:A:B   copy file A to B (the backing file as the write found it)
#   l:A:B   hard link A as B (planted while the file is open)
#   k       kill -9 the daemon PID while FILE is still open
import ctypes, os, shutil, signal, sys

path, pid, steps = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
libc = ctypes.CDLL(None, use_errno=True)
libc.sync_file_range.argtypes = [ctypes.c_int, ctypes.c_int64,
                                 ctypes.c_int64, ctypes.c_uint]
fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
for st in steps:
    if st[0] == 'w':
        ch, n = st[1], int(st[3:])
        os.write(fd, (ch * n + '\n').encode())
    elif st == 'f':
        os.fsync(fd)
    elif st == 's':
        # SYNC_FILE_RANGE_WAIT_BEFORE | WRITE | WAIT_AFTER
        if libc.sync_file_range(fd, 0, 0, 7):
            sys.exit("sync_file_range: errno %d" % ctypes.get_errno())
    elif st.startswith('c:'):
        _, a, b = st.split(':')
        shutil.copyfile(a, b)
    elif st.startswith('l:'):
        _, a, b = st.split(':')
        os.link(a, b)
    elif st == 'k':
        os.kill(pid, signal.SIGKILL)
    else:
        sys.exit("endkill.py: unknown step " + st)
os._exit(0)
