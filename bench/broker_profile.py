"""bench/run --profile: where the broker's CPU goes while it relays one bulk transfer.

For each direction (default cipher and aes128-gcm), one transfer through the broker is run three
times, each time with one tool attached to the broker process: `strace -c -f` (system calls per
GiB), `perf stat` (CPU time, context switches) and `perf record -g` (reported by shared object and
by symbol). The outputs go to OUT/profile/; the summary is returned as a Markdown section.
"""
import os
import signal
import subprocess
import time

from measure import CIPHERS, GIB, settle, transfer_argv


def _attach(argv, out_path):
    proc = subprocess.Popen(argv, stdout=open(out_path, "w"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    time.sleep(0.5)  # the tool is attached before the transfer starts
    return proc


def _detach(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
    proc.wait(60)


def _syscalls(path):
    """{syscall: calls} from strace -c output."""
    calls = {}
    for line in open(path):
        f = line.split()
        if len(f) >= 5 and f[0][0].isdigit() and f[-1] != "total":
            calls[f[-1]] = int(f[3])
    return calls


def _perf_report(data, out, sort):
    with open(out, "w") as f:
        subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", sort, "--stdio",
                        "--percent-limit", "0.5"], stdout=f, stderr=subprocess.DEVNULL, timeout=600)


def _top(path, n):
    rows = []
    for line in open(path):
        f = line.split()
        if f and f[0].endswith("%") and not line.startswith("#"):
            rows.append(f"{f[0]} {' '.join(f[1:])}")
        if len(rows) >= n:
            break
    return rows


def profile(tb, runner, broker_path, out: str, size: int, log=print):
    pdir = os.path.join(out, "profile")
    os.makedirs(pdir, exist_ok=True)
    pid = tb.servers["broker"].proc.pid
    lines = []
    for cipher in CIPHERS:
        for direction in ("up", "down"):
            tag = f"{direction}-{'aes' if cipher else 'default'}"
            argv = transfer_argv(broker_path, cipher, direction, size)
            settle(tb)
            st = _attach(["strace", "-c", "-f", "-p", str(pid)], os.path.join(pdir, f"strace-{tag}.txt"))
            runner.run(argv)
            _detach(st)
            settle(tb)
            ps = _attach(["perf", "stat", "-p", str(pid)], os.path.join(pdir, f"perfstat-{tag}.txt"))
            runner.run(argv)
            _detach(ps)
            settle(tb)
            data = os.path.join(pdir, f"perf-{tag}.data")
            pr = _attach(["perf", "record", "-g", "-o", data, "-p", str(pid)], data + ".log")
            runner.run(argv)
            _detach(pr)
            _perf_report(data, os.path.join(pdir, f"perf-{tag}-dso.txt"), "dso")
            _perf_report(data, os.path.join(pdir, f"perf-{tag}-sym.txt"), "dso,sym")
            calls = _syscalls(os.path.join(pdir, f"strace-{tag}.txt"))
            per_gib = GIB / size
            top = ", ".join(f"{k} {v * per_gib / 1000:.0f}k" for k, v in
                            sorted(calls.items(), key=lambda kv: -kv[1])[:5])
            lines.append(f"**{tag}** — system calls per GiB: {top}\n\n"
                         f"by shared object: {'; '.join(_top(os.path.join(pdir, f'perf-{tag}-dso.txt'), 6))}\n\n"
                         f"top symbols: {'; '.join(_top(os.path.join(pdir, f'perf-{tag}-sym.txt'), 8))}")
            log(f"  {tag}: {top}")
    return ("### Profile of the broker relaying one transfer each way "
            f"({size >> 20} MiB; raw output in {pdir})\n\n" + "\n\n".join(lines))
