"""Whole-machine CPU use from /proc/stat: how much other work shares this (possibly busy) VM."""
import os
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _stat():
    """(total, busy) CPU seconds of all CPUs since boot; iowait counts as idle."""
    v = [int(x) for x in open("/proc/stat").readline().split()[1:9]]
    total = sum(v)
    return total / CLK_TCK, (total - v[3] - v[4]) / CLK_TCK


def busy_seconds() -> float:
    return _stat()[1]


def busy_fraction(interval: float = 2.0) -> float:
    """Share of all CPUs busy over the next interval seconds."""
    total0, busy0 = _stat()
    time.sleep(interval)
    total1, busy1 = _stat()
    return (busy1 - busy0) / max(1e-9, total1 - total0)


def wait_quiet(max_wait: float, threshold: float = 0.25, log=print) -> float:
    """Waits up to max_wait seconds for the machine to be mostly idle; returns the last busy share."""
    deadline = time.monotonic() + max_wait
    busy = busy_fraction()
    while busy > threshold and time.monotonic() < deadline:
        log(f"  machine {busy:.0%} busy, waiting for < {threshold:.0%}")
        busy = busy_fraction(10)
    return busy
