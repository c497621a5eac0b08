#!/usr/bin/env python3
"""reaper.py CMD [ARG...] - run CMD as a child subreaper so a server's whole tree is accounted.

sshd's per-connection processes set up their own sessions and the post-auth child is orphaned
when its monitor exits; without a subreaper it is re-parented to PID 1 and its CPU time is lost.
Here every orphan is re-parented to this process and reaped by it, so this process's cutime/cstime
plus the live tree's times cover everything the server ever ran. SIGTERM, SIGINT and SIGHUP are
forwarded to CMD; the reaper exits with CMD's status once CMD has exited.
"""
import ctypes
import os
import signal
import sys

PR_SET_CHILD_SUBREAPER = 36


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print("reaper: prctl(PR_SET_CHILD_SUBREAPER) failed", file=sys.stderr)
        return 1
    child = os.fork()
    if child == 0:
        try:
            os.execvp(sys.argv[1], sys.argv[1:])
        finally:
            os._exit(127)

    def forward(signum, _frame):
        try:
            os.kill(child, signum)
        except ProcessLookupError:
            pass

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, forward)
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            return 1
        if pid == child:
            return os.waitstatus_to_exitcode(status) & 0xFF


if __name__ == "__main__":
    sys.exit(main())
