"""Summary statistics and the printed (Markdown) tables."""
import math
import os
import statistics

BASES = ["jump", "haproxy", "direct"]  # the broker is compared with each of these
TESTS = [(c, d) for c in ("default", "aes128-gcm@openssh.com") for d in ("up", "down")]
TP_PATHS = ["direct", "jump", "haproxy", "broker"]
MIDDLES = [("jump", "jump sshd"), ("haproxy", "haproxy"), ("broker", "broker")]


def p90(xs):
    """Nearest-rank 90th percentile."""
    s = sorted(xs)
    return s[max(0, math.ceil(0.9 * len(s)) - 1)]


def spread(xs, digits):
    """"median (min–max)" of xs, or "–" when there are none."""
    if not xs:
        return "–"
    f = f"{{:.{digits}f}}"
    if len(xs) == 1:
        return f.format(xs[0])
    return f"{f.format(statistics.median(xs))} ({f.format(min(xs))}–{f.format(max(xs))})"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _by_round(samples, key, **match):
    """{round: value} of the samples that match every key=value."""
    return {s["round"]: s[key] for s in samples
            if all(s[k] == v for k, v in match.items()) and s[key] is not None}


def _ratios(num, den):
    """Per-round ratios num[r]/den[r] for the rounds both have."""
    return [num[r] / den[r] for r in sorted(num) if r in den and den[r]]


def _test_name(cipher, direction):
    return f"{'upload' if direction == 'up' else 'download'}, {cipher}"


def throughput_tables(samples):
    tp = [s for s in samples if s["figure"] == "throughput"]
    mbs, cpu, backend, client = [], [], [], []
    for cipher, direction in TESTS:
        name = _test_name(cipher, direction)
        series = {p: _by_round(tp, "mb_s", path=p, cipher=cipher, direction=direction) for p in TP_PATHS}
        mbs.append([name] + [spread(list(series[p].values()), 0) for p in TP_PATHS] +
                   [spread(_ratios(series["broker"], series[b]), 2) for b in BASES])
        mid = {p: _by_round(tp, "middle_cpu_s_per_gib", path=p, cipher=cipher, direction=direction)
               for p, _ in MIDDLES}
        cpu.append([name] + [spread(list(mid[p].values()), 2) for p, _ in MIDDLES] +
                   [spread(_ratios(mid["broker"], mid[b]), 2) for b in ("jump", "haproxy")])
        for rows, key in ((backend, "backend_cpu_s_per_gib"), (client, "client_cpu_s_per_gib")):
            rows.append([name] + [spread(list(_by_round(tp, key, path=p, cipher=cipher,
                                                        direction=direction).values()), 2)
                                  for p in TP_PATHS])
    other = [s["other_cpus"] for s in tp]
    ratio_heads = [f"broker/{b}" for b in BASES]
    return "\n\n".join([
        "### 1. Bulk throughput, MB/s (10^6 B/s), median (min–max) over rounds; ratios per round\n\n" +
        table(["test"] + TP_PATHS + ratio_heads, mbs),
        "### 2. Middle-hop CPU, s per GiB relayed (utime+stime of the process tree)\n\n" +
        table(["test"] + [label for _, label in MIDDLES] + ["broker/jump", "broker/haproxy"], cpu),
        "### 2b. Backend sshd CPU, s per GiB, by path (the same work on every path)\n\n" +
        table(["test"] + TP_PATHS, backend),
        "### 2c. Client CPU (ssh, its `ssh -W`, sshpass, head/cat), s per GiB, by path\n\n" +
        table(["test"] + TP_PATHS, client),
        f"Other work on the machine during the transfers: median {statistics.median(other):.2f} CPUs, "
        f"max {max(other):.2f} (of {os.cpu_count()}); a busy VM lowers MB/s more than s/GiB.",
    ])


def setup_table(samples, middle_cpu_ms):
    st = [s for s in samples if s["figure"] == "setup"]
    paths = list(dict.fromkeys(s["path"] for s in st))
    series = {p: _by_round(st, "wall_ms", path=p) for p in paths}
    rows = []
    for p in paths:
        xs = list(series[p].values())
        cpu = middle_cpu_ms.get(p)
        client = statistics.median(s["client_cpu_ms"] for s in st if s["path"] == p)
        rows.append([p, f"{statistics.median(xs):.0f}", f"{p90(xs):.0f}", f"{min(xs):.0f}–{max(xs):.0f}",
                     f"{cpu:.1f}" if cpu is not None else "–", f"{client:.0f}"])
    ratio_rows = []
    for b in BASES + ["direct-pw"]:
        if b in series and "broker" in series:
            num, den = list(series["broker"].values()), list(series[b].values())
            ratio_rows.append([f"broker/{b}", f"{statistics.median(num) / statistics.median(den):.2f}",
                               f"{p90(num) / p90(den):.2f}", spread(_ratios(series["broker"], series[b]), 2)])
    n = max(len(v) for v in series.values())
    return ("### 3. `ssh … true` setup time, ms (KexAlgorithms=curve25519-sha256), "
            f"N={n} per path, interleaved\n\n" +
            table(["path", "median", "p90", "min–max", "middle CPU ms/conn", "client CPU ms"], rows) + "\n\n" +
            table(["ratio", "of medians", "of p90s", "per round: median (min–max)"], ratio_rows))
