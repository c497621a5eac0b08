"""The measurements: smoke check, bulk throughput with middle-hop CPU, and `ssh ... true` setup time.

Paths are interleaved round-robin and the order is rotated every round, so slow drifts of this
shared VM (other jobs, thermal, page cache) spread over all paths instead of biasing one.
"""
import shlex
import subprocess
import sys
import time

import machine
from clients import ClientRunner, self_cpu
from paths import Path
from testbed import Testbed

CIPHERS = [None, "aes128-gcm@openssh.com"]  # None = the client's default (chacha20-poly1305)
DIRECTIONS = ["up", "down"]
GIB = 1 << 30


def rotate(items, k):
    k %= len(items)
    return items[k:] + items[:k]


def shell(argv_left, remote, pipe_in=None, pipe_out=None):
    """A bash pipeline `[pipe_in |] client 'remote' [> pipe_out]` that fails if any stage fails."""
    cmd = shlex.join(argv_left + [remote])
    if pipe_in:
        cmd = f"{pipe_in} | {cmd}"
    if pipe_out:
        cmd = f"{cmd} {pipe_out}"
    return ["bash", "-c", "set -o pipefail; " + cmd]


def transfer_argv(path: Path, cipher, direction: str, size: int):
    client = path.argv(cipher)
    if direction == "up":
        return shell(client, "cat >/dev/null", pipe_in=f"head -c {size} /dev/zero")
    return shell(client, f"head -c {size} /dev/zero", pipe_out=">/dev/null")


def smoke(tb: Testbed, runner: ClientRunner, paths, log=print):
    """Every path logs in, runs a command and moves 1 MiB each way intact (wc -c at the far end)."""
    size = 1 << 20
    for path in paths:
        for cipher in CIPHERS:
            got = runner.run(shell(path.argv(cipher), "echo ok"), stdout=subprocess.PIPE)
            up = runner.run(shell(path.argv(cipher), "wc -c", pipe_in=f"head -c {size} /dev/zero"),
                            stdout=subprocess.PIPE)
            down = runner.run(shell(path.argv(cipher), f"head -c {size} /dev/zero", pipe_out="| wc -c"),
                              stdout=subprocess.PIPE)
            if got.strip() != b"ok" or int(up) != size or int(down) != size:
                raise RuntimeError(f"smoke check failed on {path.name} ({cipher}): "
                                   f"{got!r} up={up!r} down={down!r}")
        log(f"  {path.name}: ok")
    settle(tb)


def settle(tb: Testbed):
    for tree in tb.servers.values():
        if not tree.wait_idle():
            print(f"warning: {tree.name} still has connection processes {sorted(tree.pids() - tree.idle)}",
                  file=sys.stderr)


def throughput(tb: Testbed, runner: ClientRunner, paths, rounds: int, size: int, log=print):
    """One sample per (round, cipher, direction, path): wall time and CPU of middle and backend."""
    samples = []
    backend = tb.servers["backend"]
    for rnd in range(rounds):
        for cipher in CIPHERS:
            for direction in DIRECTIONS:
                for path in rotate(paths, rnd):
                    trees = {"backend": backend}
                    if path.middle:
                        trees["middle"] = tb.servers[path.middle]
                    before = {k: t.cpu_seconds() for k, t in trees.items()}
                    t0, busy0, self0 = time.perf_counter(), machine.busy_seconds(), self_cpu()
                    wall, client = runner.timed(transfer_argv(path, cipher, direction, size))
                    settle(tb)  # per-connection processes gone: their CPU is in their parents
                    cpu = {k: t.cpu_seconds() - before[k] for k, t in trees.items()}
                    # CPU the machine spent on anything but this transfer: other users of the VM.
                    ours = client + self_cpu() - self0 + sum(cpu.values())
                    other = (machine.busy_seconds() - busy0 - ours) / (time.perf_counter() - t0)
                    per_gib = GIB / size
                    s = {"figure": "throughput", "round": rnd, "path": path.name,
                         "cipher": cipher or "default", "direction": direction, "bytes": size,
                         "wall_s": wall, "mb_s": size / 1e6 / wall,
                         "middle_cpu_s_per_gib": cpu["middle"] * per_gib if path.middle else None,
                         "backend_cpu_s_per_gib": cpu["backend"] * per_gib,
                         "client_cpu_s_per_gib": client * per_gib,
                         "other_cpus": max(0.0, other)}
                    samples.append(s)
                    log(f"  round {rnd + 1}/{rounds} {s['cipher']:>22} {direction:>4} {path.name:>8}: "
                        f"{s['mb_s']:7.1f} MB/s" +
                        (f", {path.middle} {s['middle_cpu_s_per_gib']:.2f} s/GiB" if path.middle else "") +
                        f", other work {s['other_cpus']:.2f} CPUs")
    return samples


def setup_time(tb: Testbed, runner: ClientRunner, paths, n: int, warmup: int = 2, log=print):
    """`ssh ... true` wall times, n per path after warmup; plus middle CPU per connection (ms)."""
    samples = []
    middles = {p.middle: tb.servers[p.middle] for p in paths if p.middle}
    settle(tb)
    before = {m: t.cpu_seconds() for m, t in middles.items()}
    for i in range(-warmup, n):
        for path in rotate(paths, i):
            wall, client = runner.timed(shell(path.argv(None), "true"), timeout=60)
            if i >= 0:
                samples.append({"figure": "setup", "round": i, "path": path.name, "wall_ms": wall * 1e3,
                                "client_cpu_ms": client * 1e3})
        if i >= 0 and (i + 1) % 5 == 0:
            log(f"  {i + 1}/{n} rounds")
    settle(tb)
    conns = n + warmup
    cpu = {m: (t.cpu_seconds() - before[m]) * 1e3 / conns for m, t in middles.items()}
    return samples, {p.name: cpu[p.middle] for p in paths if p.middle}
