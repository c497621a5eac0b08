"""Figure 4b: full logins per second with 8 concurrent clients, and the middle hop's CPU per login.

Per path, `concurrency` threads each run `CLIENT true` back to back for `seconds`; the rate is
completed logins over the wall time from the first start to the last exit. Paths run one after
the other (a concurrent phase saturates both cores; interleaving would only mix them).
"""
import subprocess
import threading
import time

from measure import settle, shell


def _worker(argv, stop_at: float, counts: list, errors: list, i: int):
    while time.monotonic() < stop_at:
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=120)
        if r.returncode != 0:
            errors.append(r.stderr.decode(errors="replace").strip()[-300:])
            return
        counts[i] += 1


def login_rate(tb, runner, paths, concurrency: int, seconds: float, log=print):
    samples = []
    for path in paths:
        settle(tb)
        tree = tb.servers[path.middle] if path.middle else None
        cpu0 = tree.cpu_seconds() if tree else 0.0
        counts, errors = [0] * concurrency, []
        argv = shell(path.argv(None), "true")
        t0 = time.monotonic()
        threads = [threading.Thread(target=_worker, args=(argv, t0 + seconds, counts, errors, i))
                   for i in range(concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - t0
        runner.reap_orphans()
        settle(tb)
        if errors:
            raise RuntimeError(f"login through {path.name} failed under {concurrency} concurrent "
                               f"clients: {errors[0]}")
        n = sum(counts)
        s = {"figure": "login_rate", "path": path.name, "logins": n, "wall_s": wall,
             "logins_per_s": n / wall, "concurrency": concurrency,
             "middle_cpu_ms_per_login": (tree.cpu_seconds() - cpu0) * 1e3 / n if tree and n else None}
        samples.append(s)
        log(f"  {path.name}: {s['logins_per_s']:.1f} logins/s" +
            (f", {path.middle} {s['middle_cpu_ms_per_login']:.1f} ms CPU per login" if tree else ""))
    return samples
