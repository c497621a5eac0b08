"""Summary statistics and the printed (Markdown) tables."""
import math
import os
import statistics

BASES = ["jump", "haproxy", "direct"]  # the broker is compared with each of these
TESTS = [(c, d) for c in ("default", "aes128-gcm@openssh.com") for d in ("up", "down")]
TP_PATHS = ["direct", "jump", "haproxy", "broker"]
MIDDLES = [("jump", "jump sshd"), ("haproxy", "haproxy"), ("broker", "broker")]


def pct(xs, q):
    """Nearest-rank q-quantile (q in 0..1)."""
    s = sorted(xs)
    return s[max(0, math.ceil(q * len(s)) - 1)]


def p99(xs):
    return pct(xs, 0.99)


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
    # broker-b: the second broker of an A/B run (bench/run --broker-b), compared with "broker".
    ab = any(s["path"] == "broker-b" for s in tp)
    paths = TP_PATHS + (["broker-b"] if ab else [])
    middles = MIDDLES + ([("broker-b", "broker-b")] if ab else [])
    mbs, cpu, backend, client = [], [], [], []
    for cipher, direction in TESTS:
        name = _test_name(cipher, direction)
        series = {p: _by_round(tp, "mb_s", path=p, cipher=cipher, direction=direction) for p in paths}
        mbs.append([name] + [spread(list(series[p].values()), 0) for p in paths] +
                   [spread(_ratios(series["broker"], series[b]), 2) for b in BASES + (["broker-b"] if ab else [])])
        mid = {p: _by_round(tp, "middle_cpu_s_per_gib", path=p, cipher=cipher, direction=direction)
               for p, _ in middles}
        cpu.append([name] + [spread(list(mid[p].values()), 2) for p, _ in middles] +
                   [spread(_ratios(mid["broker"], mid[b]), 2) for b in ["jump", "haproxy"] + (["broker-b"] if ab else [])])
        for rows, key in ((backend, "backend_cpu_s_per_gib"), (client, "client_cpu_s_per_gib")):
            rows.append([name] + [spread(list(_by_round(tp, key, path=p, cipher=cipher,
                                                        direction=direction).values()), 2)
                                  for p in paths])
    other = [s["other_cpus"] for s in tp]
    ratio_heads = [f"broker/{b}" for b in BASES + (["broker-b"] if ab else [])]
    return "\n\n".join([
        "### 1. Bulk throughput, MB/s (10^6 B/s), median (min–max) over rounds; ratios per round\n\n" +
        table(["test"] + paths + ratio_heads, mbs),
        "### 2. Middle-hop CPU, s per GiB relayed (utime+stime of the process tree)\n\n" +
        table(["test"] + [label for _, label in middles] + ["broker/jump", "broker/haproxy"] +
              (["broker/broker-b"] if ab else []), cpu),
        "### 2b. Backend sshd CPU, s per GiB, by path (the same work on every path)\n\n" +
        table(["test"] + paths, backend),
        "### 2c. Client CPU (ssh, its `ssh -W`, sshpass, head/cat), s per GiB, by path\n\n" +
        table(["test"] + paths, client),
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
        rows.append([p, f"{statistics.median(xs):.0f}", f"{p99(xs):.0f}", f"{min(xs):.0f}–{max(xs):.0f}",
                     f"{cpu:.1f}" if cpu is not None else "–", f"{client:.0f}"])
    ratio_rows = []
    for b in BASES + ["direct-pw"]:
        if b in series and "broker" in series:
            num, den = list(series["broker"].values()), list(series[b].values())
            ratio_rows.append([f"broker/{b}", f"{statistics.median(num) / statistics.median(den):.2f}",
                               f"{p99(num) / p99(den):.2f}", spread(_ratios(series["broker"], series[b]), 2)])
    n = max(len(v) for v in series.values())
    return ("### 4. Connection setup, ms: `ssh … true` (key login: direct, jump, haproxy) and full "
            "password login (broker: LDAP check, then the backend; direct-pw: the backend's own "
            f"password check), KexAlgorithms=curve25519-sha256, N={n} per path, interleaved\n\n" +
            table(["path", "median", "p99", "min–max", "middle CPU ms/conn", "client CPU ms"], rows) + "\n\n" +
            table(["ratio", "of medians", "of p99s", "per round: median (min–max)"], ratio_rows))


def rtt_table(rtt_ns):
    """rtt_ns: {path: [ns]} from rtt.echo_rtt."""
    us = {p: [x / 1e3 for x in xs] for p, xs in rtt_ns.items()}
    base = us.get("direct")
    rows = []
    for p, xs in us.items():
        med, tail = statistics.median(xs), p99(xs)
        added = "–" if p == "direct" or not base else f"{med - statistics.median(base):+.0f}"
        added99 = "–" if p == "direct" or not base else f"{tail - p99(base):+.0f}"
        ratio = "–" if p == "direct" or not base else f"{med / statistics.median(base):.2f}"
        rows.append([p, f"{med:.0f}", f"{pct(xs, 0.1):.0f}–{pct(xs, 0.9):.0f}", f"{tail:.0f}", added,
                     added99, ratio])
    n = min(len(xs) for xs in us.values())
    return (f"### 3. 1-byte echo round trip through an exec channel (`cat`), µs, N={n} per path, "
            "batches of 100 interleaved\n\n" +
            table(["path", "median", "p10–p90", "p99", "added median vs direct", "added p99",
                   "median / direct"], rows))


def login_rate_table(samples):
    rows = []
    rates = {s["path"]: s["logins_per_s"] for s in samples}
    for s in samples:
        cpu = s["middle_cpu_ms_per_login"]
        rows.append([s["path"], f"{s['logins_per_s']:.1f}", str(s["logins"]),
                     f"{cpu:.1f}" if cpu is not None else "–"])
    conc = samples[0]["concurrency"] if samples else 0
    ratios = "; ".join(f"broker/{b} {rates['broker'] / rates[b]:.2f}" for b in rates
                       if b != "broker" and "broker" in rates and rates[b])
    return (f"### 4b. Full logins per second, {conc} concurrent clients (`ssh … true` back to back)\n\n" +
            table(["path", "logins/s", "logins", "middle CPU ms/login"], rows) + "\n\n" + ratios)


def idle_table(results):
    rows = []
    for r in results:
        rows.append([r["path"], str(r["ssh_connections"]), f"{r['rss_kib_per_ssh_conn']:.0f}",
                     f"{r['pss_kib_per_ssh_conn']:.0f}", f"{r['anon_kib_per_ssh_conn']:.0f}",
                     f"{r['rss_kib_total'] / 1024:.1f} / {r['pss_kib_total'] / 1024:.1f}"])
    text = ("### 5. Idle forwarded connections: middle-hop memory (smaps_rollup of the process tree)\n\n" +
            table(["middle hop", "SSH connections (`ssh -N -L`)", "RSS KiB per connection",
                   "PSS KiB per connection", "anonymous KiB per connection",
                   "tree RSS / PSS MiB at the end"], rows))
    b = next((r for r in results if r["path"] == "broker" and "channels" in r), None)
    if b:
        text += ("\n\n" + table(
            ["broker, forwarded connections", "value"],
            [["direct-tcpip channels held open (echo checked)", f"{b['channels']} over {b['ssh_connections']} "
              "SSH connections"],
             ["RSS / PSS / anonymous KiB per forwarded connection (channel only)",
              f"{b['rss_kib_per_channel']:.1f} / {b['pss_kib_per_channel']:.1f} / "
              f"{b['anon_kib_per_channel']:.1f}"],
             ["RSS / PSS KiB per forwarded connection (SSH connections + channels, / channels)",
              f"{b['rss_kib_per_forwarded_conn']:.1f} / {b['pss_kib_per_forwarded_conn']:.1f}"],
             ["`ssh … true` through the broker before / while open, median ms (max during)",
              f"{b['login_ms_before']:.0f} / {b['login_ms_during']:.0f} ({b['login_ms_max_during']:.0f})"],
             ["direct-pw anchor before / while open, median ms",
              f"{b['direct_pw_ms_before']:.0f} / {b['direct_pw_ms_during']:.0f}"]]))
    return text


def routing_table(bench):
    """bench: Google Benchmark JSON output of routing_bench."""
    rows = []
    for b in bench["benchmarks"]:
        rows.append([b["name"], f"{b['real_time']:.1f}", f"{b['p50_us']:.1f}", f"{b['p99_us']:.1f}",
                     f"{b['max_us']:.0f}", str(b["iterations"])])
    return ("### 6. Routing decision, 100,000 session rows over 200 servers (bench/routing_bench, "
            "Google Benchmark), µs per decision\n\n" +
            table(["benchmark", "mean", "p50", "p99", "max", "iterations"], rows) + "\n\n"
            "BM_Route: route() alone. BM_StoreReadsAndRoute: servers() + sessions_of() + placement_of() "
            "+ route(). BM_LoginDecision: everything LoginService::decide does after LDAP (adds "
            "users_per_server() for max_users). BM_UsersPerServer: that query alone.")


def agent_table(ms):
    return ("### 7. Agent change → broker table, ms (commit in the X2Go session DB → row visible in "
            f"the broker's state DB; agent over plain HTTP on loopback), N={len(ms)}\n\n" +
            table(["median", "p99", "min–max"],
                  [[f"{statistics.median(ms):.1f}", f"{p99(ms):.1f}", f"{min(ms):.1f}–{max(ms):.1f}"]]))
