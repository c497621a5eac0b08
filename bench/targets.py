"""The issue's targets, each with this run's figure and whether it is met (the first table printed)."""
import statistics

import report
from report import p99

TESTS = [(c, d) for c in ("default", "aes128-gcm@openssh.com") for d in ("up", "down")]


def _per_round(samples, key, **match):
    return {s["round"]: s[key] for s in samples
            if all(s.get(k) == v for k, v in match.items()) and s.get(key) is not None}


def _median_ratio(samples, key, num, den, **match):
    a, b = _per_round(samples, key, path=num, **match), _per_round(samples, key, path=den, **match)
    rs = [a[r] / b[r] for r in a if r in b and b[r]]
    return statistics.median(rs) if rs else None


def _row(name, target, value, ok):
    return [name, target, value, "–" if ok is None else ("met" if ok else "**not met**")]


def table(samples, extra, info):
    rows = []
    tp = [s for s in samples if s["figure"] == "throughput"]
    if tp:
        for cipher, direction in TESTS:
            m = dict(cipher=cipher, direction=direction)
            label = f"{'up' if direction == 'up' else 'down'}, {'aes128-gcm' if 'aes' in cipher else 'default'}"
            j = _median_ratio(tp, "mb_s", "broker", "jump", **m)
            h = _median_ratio(tp, "mb_s", "broker", "haproxy", **m)
            if j is not None and h is not None:
                rows.append(_row(f"throughput {label}", "≥ 1.3 × jump and ≥ 0.8 × haproxy",
                                 f"{j:.2f} × jump, {h:.2f} × haproxy", j >= 1.3 and h >= 0.8))
        for cipher, direction in TESTS:
            cpu = [s["middle_cpu_s_per_gib"] for s in tp if s["path"] == "broker" and s["cipher"] == cipher
                   and s["direction"] == direction]
            if cpu:
                label = f"{direction}, {'aes128-gcm' if 'aes' in cipher else 'default'}"
                med = statistics.median(cpu)
                rows.append(_row(f"broker CPU per GiB, {label}", "≤ 1.0 s", f"{med:.2f} s", med <= 1.0))
    if "rtt_ns" in extra:
        us = {p: [x / 1e3 for x in xs] for p, xs in extra["rtt_ns"].items()}
        added = statistics.median(us["broker"]) - statistics.median(us["direct"])
        hap = statistics.median(us["haproxy"]) - statistics.median(us["direct"])
        jump = statistics.median(us["jump"]) - statistics.median(us["direct"])
        rows.append(_row("added echo round trip, median vs direct", "≤ 40 µs",
                         f"{added:+.0f} µs (haproxy {hap:+.0f}, jump {jump:+.0f})", added <= 40))
    idle = {r["path"]: r for r in extra.get("idle", [])}
    if "broker" in idle:
        b = idle["broker"]
        rows.append(_row("broker RSS per idle connection", "≤ 256 KiB",
                         f"{b['rss_kib_per_ssh_conn']:.0f} KiB per SSH connection (PSS "
                         f"{b['pss_kib_per_ssh_conn']:.0f}); {b['rss_kib_per_channel']:.1f} KiB per "
                         f"forwarded channel; jump sshd {idle['jump']['rss_kib_per_ssh_conn']:.0f} KiB "
                         f"(PSS {idle['jump']['pss_kib_per_ssh_conn']:.0f})",
                         b["rss_kib_per_ssh_conn"] <= 256))
        rows.append(_row(f"new login while {b['channels']} forwarded connections are open", "succeeds quickly",
                         f"{b['login_ms_during']:.0f} ms median (before: {b['login_ms_before']:.0f})",
                         b["login_ms_during"] <= 1.5 * b["login_ms_before"]))
    setup = [s for s in samples if s["figure"] == "setup"]
    if setup:
        ms = {p: [s["wall_ms"] for s in setup if s["path"] == p] for p in {s["path"] for s in setup}}
        r_pw = statistics.median(ms["broker"]) / statistics.median(ms["direct-pw"])
        r_key = statistics.median(ms["broker"]) / statistics.median(ms["direct"])
        r_jump = statistics.median(ms["broker"]) / statistics.median(ms["jump"])
        rows.append(_row("`ssh … true` setup, broker / direct (curve25519)", "≤ 1.0",
                         f"{r_pw:.2f} × direct password login (p99 "
                         f"{p99(ms['broker']) / p99(ms['direct-pw']):.2f}); {r_key:.2f} × direct key "
                         f"login; {r_jump:.2f} × jump", r_pw <= 1.0))
    rate = {s["path"]: s for s in samples if s["figure"] == "login_rate"}
    cpu_login = info.get("middle_cpu_ms_per_connection", {}).get("broker")
    if cpu_login is not None:
        conc = rate.get("broker", {}).get("middle_cpu_ms_per_login")
        rows.append(_row("broker CPU per full login", "≤ 2 ms",
                         f"{cpu_login:.1f} ms sequential" +
                         (f", {conc:.1f} ms with 8 concurrent" if conc else "") +
                         (f" (jump sshd {info['middle_cpu_ms_per_connection']['jump']:.1f} ms)"
                          if "jump" in info["middle_cpu_ms_per_connection"] else ""),
                         cpu_login <= 2.0))
    if "routing" in extra:
        by = {b["name"]: b for b in extra["routing"]["benchmarks"]}
        if {"BM_Route", "BM_StoreReadsAndRoute", "BM_LoginDecision"} <= by.keys():
            decision = by["BM_Route"]["p99_us"]
            rows.append(_row("routing decision p99, 100k rows, 200 servers", "≤ 50 µs",
                             f"{decision:.0f} µs route(); {by['BM_StoreReadsAndRoute']['p99_us']:.0f} µs "
                             f"with its SQLite reads; {by['BM_LoginDecision']['p99_us']:.0f} µs all that "
                             "LoginService does after LDAP", decision <= 50))
    if "agent_ms" in extra:
        ms = extra["agent_ms"]
        rows.append(_row("agent change → broker table p99", "≤ 1 s",
                         f"{p99(ms):.0f} ms (median {statistics.median(ms):.0f})", p99(ms) <= 1000))
    return "### Targets (issue 7), this run\n\n" + report.table(["target", "goal", "this run", ""], rows)
