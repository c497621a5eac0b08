"""bench/run --profile: where the broker's CPU goes while it relays one bulk transfer.

For each direction (default cipher and aes128-gcm), one transfer through the broker is run three
times, each time with one tool attached to the broker process: `strace -c -f` (system calls per
GiB), `perf stat` (CPU time, context switches) and `perf record --call-graph dwarf` (reported by
shared object and by symbol; `perf report -i OUT/profile/perf-TAG.data -G` shows the callers).
The outputs go to OUT/profile/; the summary is returned as a Markdown section.
"""
import os
import signal
import subprocess
import time

from measure import CIPHERS, GIB, settle, shell, transfer_argv


def _attach(runner, argv, out_path):
    proc = subprocess.Popen(argv, stdout=open(out_path, "w"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    runner.hold(proc.pid)  # not one of the clients the runner reaps after each transfer
    time.sleep(1)  # the tool is attached before the transfer starts
    return proc


def _detach(runner, proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
    proc.wait(120)
    runner.release(proc.pid)


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
            st = _attach(runner, ["strace", "-c", "-f", "-p", str(pid)],
                         os.path.join(pdir, f"strace-{tag}.txt"))
            runner.run(argv)
            _detach(runner, st)
            settle(tb)
            ps = _attach(runner, ["perf", "stat", "-p", str(pid)],
                         os.path.join(pdir, f"perfstat-{tag}.txt"))
            runner.run(argv)
            _detach(runner, ps)
            settle(tb)
            data = os.path.join(pdir, f"perf-{tag}.data")
            pr = _attach(runner, ["perf", "record", "-F", "999", "--call-graph", "dwarf,16384", "-o", data,
                                  "-p", str(pid)], data + ".log")
            runner.run(argv)
            _detach(runner, pr)
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
    # Logins: both handshakes, LDAP, routing, backend password login.
    n = 20
    settle(tb)
    data = os.path.join(pdir, "perf-logins.data")
    pr = _attach(runner, ["perf", "record", "-F", "999", "--call-graph", "dwarf,16384", "-o", data,
                          "-p", str(pid)], data + ".log")
    cpu0 = tb.servers["broker"].cpu_seconds()
    for _ in range(n):
        runner.run(shell(broker_path.argv(None), "true"))
    settle(tb)
    cpu_ms = (tb.servers["broker"].cpu_seconds() - cpu0) * 1e3 / n
    _detach(runner, pr)
    _perf_report(data, os.path.join(pdir, "perf-logins-dso.txt"), "dso")
    _perf_report(data, os.path.join(pdir, "perf-logins-sym.txt"), "dso,sym")
    lines.append(f"**{n} logins** — broker CPU {cpu_ms:.1f} ms per login (under perf)\n\n"
                 f"by shared object: {'; '.join(_top(os.path.join(pdir, 'perf-logins-dso.txt'), 8))}\n\n"
                 f"top symbols: {'; '.join(_top(os.path.join(pdir, 'perf-logins-sym.txt'), 10))}")
    log(f"  logins: {cpu_ms:.1f} ms broker CPU per login")
    return ("### Profile of the broker relaying one transfer each way "
            f"({size >> 20} MiB) and during {n} logins (raw output in {pdir})\n\n" + "\n\n".join(lines))
