"""Figure 5: many idle forwarded connections, the middle hop's memory per connection, and how long
a new login takes while they are open.

Per middle hop (broker, jump sshd, haproxy): K clients `ssh -N -L LPORT:127.0.0.1:ECHO` are
logged in (K SSH connections through the middle hop, each with its backend connection); then,
through the broker only, C TCP connections are opened to those local ports, spread evenly, each a
direct-tcpip channel to an echo server behind the backend, and checked with one echoed byte.
Memory is Rss and Pss from /proc/PID/smaps_rollup summed over the middle hop's process tree,
before and after each step, divided by the number of connections added. While the C channels
are open, `ssh ... true` through the broker is timed against the same before they were opened.
"""
import os
import socket
import statistics
import subprocess
import sys
import time

from measure import settle, shell
from testbed import free_port

BATCH = 20  # SSH logins started at once


def memory_kib(tree):
    """(Rss, Pss, Anonymous) in KiB summed over the live processes of a server tree.

    Pss also moves when other processes map or unmap the same library pages (the ssh clients
    come and go), so Anonymous (heap, stacks) is the steadier measure of per-connection state.
    """
    total = {"Rss:": 0, "Pss:": 0, "Anonymous:": 0}
    for pid in tree.pids():
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    key = line.split(maxsplit=1)[0]
                    if key in total:
                        total[key] += int(line.split()[1])
        except OSError:
            pass
    return total["Rss:"], total["Pss:"], total["Anonymous:"]


def _echo_once(port: int, timeout: float = 30.0) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(b"e")
    if s.recv(1) != b"e":
        s.close()
        raise OSError(f"no echo through 127.0.0.1:{port}")
    return s


class Forwarder:
    """One `ssh -N -L` client through a path; its local port leads to the echo server."""

    def __init__(self, path, echo_port: int):
        self.lport = free_port()
        argv = path.argv(None)
        extra = ["-N", "-o", "ExitOnForwardFailure=yes", "-L",
                 f"127.0.0.1:{self.lport}:127.0.0.1:{echo_port}"]
        self.proc = subprocess.Popen(argv[:-1] + extra + argv[-1:], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     start_new_session=True)

    def ready(self) -> bool:
        try:
            _echo_once(self.lport, timeout=5).close()
            return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait()


def _open_forwarders(runner, path, echo_port: int, k: int, fwd: list, log):
    for start in range(0, k, BATCH):
        batch = [Forwarder(path, echo_port) for _ in range(min(BATCH, k - start))]
        for f in batch:
            runner.hold(f.proc.pid)  # the logins timed meanwhile must not reap it
        fwd += batch
        deadline = time.monotonic() + 120
        pending = list(batch)
        while pending:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{path.name}: {len(pending)} ssh -L clients not ready after 120 s")
            for f in list(pending):
                if f.proc.poll() is not None:
                    raise RuntimeError(f"{path.name}: ssh -L exited: "
                                       f"{f.proc.stderr.read().decode(errors='replace').strip()}")
                if f.ready():
                    pending.remove(f)
            if pending:
                time.sleep(0.05)
    log(f"  {path.name}: {k} ssh -L connections up")


def _login_times(runner, paths, n):
    """{path: [ms]} of `ssh ... true`, interleaved."""
    out = {p.name: [] for p in paths}
    for _ in range(n):
        for p in paths:
            wall, _ = runner.timed(shell(p.argv(None), "true"), timeout=60)
            out[p.name].append(wall * 1e3)
    return out


def idle_connections(tb, runner, paths, echo_port: int, k: int, channels: int, logins: int,
                     log=print):
    """One result dict per middle path (see report.idle_table)."""
    by_name = {p.name: p for p in paths}
    results = []
    for name in ("broker", "jump", "haproxy"):
        path = by_name[name]
        tree = tb.servers[path.middle]
        settle(tb)
        time.sleep(1)
        base = memory_kib(tree)
        fwd, socks = [], []
        r = {"figure": "idle", "path": name, "ssh_connections": k}
        try:
            _open_forwarders(runner, path, echo_port, k, fwd, log)
            time.sleep(2)  # let per-connection processes finish their post-auth setup
            conn = memory_kib(tree)
            r["rss_kib_per_ssh_conn"] = (conn[0] - base[0]) / k
            r["pss_kib_per_ssh_conn"] = (conn[1] - base[1]) / k
            r["anon_kib_per_ssh_conn"] = (conn[2] - base[2]) / k
            r["rss_kib_total"], r["pss_kib_total"], _ = conn
            if name == "broker":
                anchors = [path, by_name["direct-pw"]]
                before = _login_times(runner, anchors, logins)
                for i in range(channels):
                    socks.append(_echo_once(fwd[i % k].lport))
                time.sleep(2)
                chan = memory_kib(tree)
                log(f"  broker: {channels} forwarded connections (direct-tcpip channels) open")
                during = _login_times(runner, anchors, logins)
                # Every held connection still answers after the logins.
                for s in socks[:: max(1, channels // 50)]:
                    s.sendall(b"z")
                    if s.recv(1) != b"z":
                        raise RuntimeError("a held forwarded connection stopped echoing")
                r.update({
                    "channels": channels,
                    "rss_kib_per_channel": (chan[0] - conn[0]) / channels,
                    "pss_kib_per_channel": (chan[1] - conn[1]) / channels,
                    "anon_kib_per_channel": (chan[2] - conn[2]) / channels,
                    "rss_kib_per_forwarded_conn": (chan[0] - base[0]) / channels,
                    "pss_kib_per_forwarded_conn": (chan[1] - base[1]) / channels,
                    "rss_kib_total": chan[0], "pss_kib_total": chan[1],
                    "login_ms_before": statistics.median(before["broker"]),
                    "login_ms_during": statistics.median(during["broker"]),
                    "login_ms_max_during": max(during["broker"]),
                    "direct_pw_ms_before": statistics.median(before["direct-pw"]),
                    "direct_pw_ms_during": statistics.median(during["direct-pw"]),
                })
        finally:
            for s in socks:
                s.close()
            for f in fwd:
                f.stop()
                runner.release(f.proc.pid)
            runner.reap_orphans()
        results.append(r)
        log(f"  {name}: {r['rss_kib_per_ssh_conn']:.0f} KiB RSS / {r['pss_kib_per_ssh_conn']:.0f} KiB PSS"
            " per SSH connection" +
            (f"; {r['rss_kib_per_channel']:.1f} / {r['pss_kib_per_channel']:.1f} KiB per channel; "
             f"login {r['login_ms_before']:.0f} -> {r['login_ms_during']:.0f} ms" if name == "broker" else ""))
    settle(tb)
    return results


def start_echo_server(work: str):
    """(process, port) of bench/echo_server.py."""
    portfile = os.path.join(work, "echo.port")
    proc = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                          "echo_server.py"), portfile],
                            stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 10
    while not os.path.exists(portfile):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("echo server did not start")
        time.sleep(0.02)
    return proc, int(open(portfile).read())
