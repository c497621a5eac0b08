"""CPU accounting and shutdown of a server process and its descendants, from /proc."""
import os
import signal
import subprocess
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int):
    """(ppid, utime+stime+cutime+cstime in ticks, start time) of pid, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    # The command name may contain spaces and parentheses: fields start after the last ')'.
    rest = text[text.rindex(")") + 2:].split()
    if rest[0] in ("Z", "X"):
        return None
    return int(rest[1]), sum(int(v) for v in rest[11:15]), int(rest[19])


class ServerTree:
    """A started server (possibly under bench/reaper.py) and everything it forked."""

    def __init__(self, name: str, proc: subprocess.Popen):
        self.name = name
        self.proc = proc
        self.idle = None  # PIDs of the tree while no client is connected

    def pids(self):
        """The live PIDs of the tree, the root first if it is alive."""
        children = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                st = _stat(int(entry))
                if st:
                    children.setdefault(st[0], []).append(int(entry))
        tree, frontier = set(), [self.proc.pid] if _stat(self.proc.pid) else []
        while frontier:
            pid = frontier.pop()
            tree.add(pid)
            frontier.extend(children.get(pid, []))
        return tree

    def cpu_seconds(self) -> float:
        """CPU time of the tree so far: live processes plus the children they have reaped.

        Exact only while the tree is idle (see wait_idle): a process that exits between two
        reads moves its time into its parent's cutime and could be counted twice or not at all.
        """
        ticks = 0
        for pid in self.pids():
            st = _stat(pid)
            if st:
                ticks += st[1]
        return ticks / CLK_TCK

    def mark_idle(self) -> None:
        self.idle = self.pids()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Waits until the per-connection processes of the last client have exited."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pids() <= self.idle:
                return True
            time.sleep(0.02)
        return False

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM, then SIGKILL after grace seconds, by PID. If the root was a reaper that had to
        be killed, its server (which then lost its parent) is killed too."""
        if self.proc.poll() is not None:
            return
        started = {pid: st[2] for pid in self.pids() if (st := _stat(pid))}
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(grace)
            return
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for pid, start in started.items():
            st = _stat(pid)
            if st and st[2] == start:  # still the same process, not a reused PID
                os.kill(pid, signal.SIGKILL)
