"""Runs the client commands one at a time and accounts for their CPU time.

The harness becomes a child subreaper, so the `ssh -W` that an OpenSSH client starts as its
ProxyCommand (and never waits for) is re-parented here instead of to PID 1; reaping it adds its
CPU time to our RUSAGE_CHILDREN like that of every other client process.
"""
import ctypes
import os
import resource
import shlex
import signal
import subprocess
import time

PR_SET_CHILD_SUBREAPER = 36


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class ClientRunner:
    """One client at a time, in a session of its own so kill() can end its whole pipeline."""

    def __init__(self):
        self.current = None
        self.last_wall = 0.0
        self.keep = set()  # our children that are servers, never reaped here

    def adopt_orphans(self, servers) -> None:
        """From now on, orphans of client processes become our children (see reap_orphans)."""
        self.keep |= {tree.proc.pid for tree in servers}
        if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")

    def hold(self, pid: int) -> None:
        """pid is a child started elsewhere that must outlive the clients run here (not reaped)."""
        self.keep.add(pid)

    def release(self, pid: int) -> None:
        self.keep.discard(pid)

    def _orphans(self):
        me, found = os.getpid(), []
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) not in self.keep:
                try:
                    text = open(f"/proc/{entry}/stat").read()
                except OSError:
                    continue
                if int(text[text.rindex(")") + 2:].split()[1]) == me:
                    found.append(int(entry))
        return found

    def reap_orphans(self, timeout: float = 5.0) -> None:
        """Waits for adopted client processes to exit and reaps them, by PID; SIGKILL after timeout."""
        deadline = time.monotonic() + timeout
        for pid in self._orphans():
            while True:
                try:
                    done, _ = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    break
                if done:
                    break
                if time.monotonic() > deadline:
                    os.kill(pid, signal.SIGKILL)
                time.sleep(0.01)

    def run(self, argv, stdout=subprocess.DEVNULL, timeout=600):
        t0 = time.perf_counter()
        self.current = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=stdout,
                                        stderr=subprocess.PIPE, start_new_session=True)
        try:
            out, err = self.current.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise RuntimeError(f"timed out after {timeout} s: {shlex.join(argv)}")
        self.last_wall = time.perf_counter() - t0  # the client's lifetime, without the reaping
        code, self.current = self.current.returncode, None
        self.reap_orphans()
        if code != 0:
            raise RuntimeError(f"exit {code}: {shlex.join(argv)}\n{err.decode(errors='replace')}")
        return out

    def timed(self, argv, timeout=600):
        """(wall seconds, CPU seconds of all its processes) of one run."""
        cpu0 = _children_cpu()
        self.run(argv, timeout=timeout)
        return self.last_wall, _children_cpu() - cpu0

    def kill(self):
        if self.current and self.current.poll() is None:
            os.killpg(self.current.pid, signal.SIGKILL)
            self.current.wait()
        self.current = None
        self.reap_orphans(timeout=1)
