"""Figure 3: small-message round trip, 1 byte echoed by a remote `cat` through an exec channel.

One long-lived client per path runs `cat` on the backend; the harness writes one byte to its stdin
and waits for the byte on its stdout, thousands of times, in batches interleaved across paths (the
order rotates every round). The figures include the harness's own pipe and Python overhead (about
10-20 us), the same on every path, so differences between paths are the added latency.
"""
import os
import select
import subprocess
import threading
import time

from measure import rotate

BATCH = 100


class EchoClient:
    def __init__(self, path):
        self.path = path
        self.proc = subprocess.Popen(path.argv(None) + ["exec cat"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0,
                                     start_new_session=True)
        self.w = self.proc.stdin.fileno()
        self.r = self.proc.stdout.fileno()

    def wait_ready(self, timeout: float) -> None:
        """Echoes one byte (login included) within timeout, or raises."""
        os.write(self.w, b"r")
        ready, _, _ = select.select([self.r], [], [], timeout)
        if not ready or os.read(self.r, 1) != b"r":
            err = self.proc.stderr.read1(4096) if self.proc.poll() is not None else b""
            raise RuntimeError(f"echo client of {self.path.name} not ready: {err.decode(errors='replace')}")

    def batch(self, n: int, out: list) -> None:
        w, r, write, read, clock = self.w, self.r, os.write, os.read, time.perf_counter_ns
        for _ in range(n):
            t0 = clock()
            write(w, b"x")
            if read(r, 1) != b"x":
                raise RuntimeError(f"echo through {self.path.name} broke off")
            out.append(clock() - t0)

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            os.killpg(self.proc.pid, 9)
            self.proc.wait()


def echo_rtt(paths, n: int, warmup: int = 200, log=print):
    """{path name: [round-trip ns]}, n per path after warmup, in batches interleaved across paths."""
    clients = []
    try:
        for path in paths:
            clients.append(EchoClient(path))
        for c in clients:
            c.wait_ready(60)
        # A batch that hangs (dead connection) is ended by killing the clients: read() then fails.
        watchdog = threading.Timer(max(120.0, n * len(paths) * 0.005), lambda: [
            os.killpg(c.proc.pid, 9) for c in clients if c.proc.poll() is None])
        watchdog.daemon = True
        watchdog.start()
        try:
            scratch = []
            for c in clients:
                c.batch(warmup, scratch)
            samples = {c.path.name: [] for c in clients}
            for rnd in range((n + BATCH - 1) // BATCH):
                for c in rotate(clients, rnd):
                    c.batch(BATCH, samples[c.path.name])
                if (rnd + 1) % 20 == 0:
                    log(f"  {(rnd + 1) * BATCH}/{n} round trips per path")
        finally:
            watchdog.cancel()
        return samples
    finally:
        for c in clients:
            c.close()
