#!/usr/bin/env python3
"""Writes the README's performance table from criterion's results.

    cargo bench --manifest-path benches/Cargo.toml
    python3 benches/report.py          # prints the table
    python3 benches/report.py --write  # and puts it in README.md between the markers

Medians come from benches/target/criterion/<group>/<bench>/new/estimates.json.
"""

import json
import pathlib
import platform
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent
CRITERION = ROOT / "target" / "criterion"
README = ROOT.parent / "README.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"

# (group, our bench, the peers to compare with, what the job is)
JOBS = [
    ("circuit_breaker", "resilience attribute",
     ["recloser", "failsafe consecutive", "failsafe default", "tower-resilience"], "closed breaker, success"),
    ("rate_limit", "resilience attribute", ["governor check"], "rate limit, admitted"),
    ("bulkhead", "resilience attribute", ["tokio Semaphore try_acquire", "tower ConcurrencyLimit"], "bulkhead, free slot"),
    ("timeout", "resilience attribute", ["tokio::time::timeout", "tower Timeout"], "timeout, body ready at once"),
    ("retry", "resilience attribute", ["backon", "tower Retry"], "retry, first attempt succeeds"),
    ("keyed_rate_limit", "resilience try_acquire", ["governor check_key"],
     "keyed rate limit by hand, admitted, 1 024 keys held"),
    # Its target is our own timeout's cost with a ready body (ratio at most 1), not a peer's.
    ("hedge", "resilience attribute", ["resilience timeout attribute"], "hedge, first attempt answers at once"),
    ("full_stack", "resilience all five attributes", [], "all five stacked on one fn"),
    # Its target is the same stack before its reload (ratio 1.00): a reload costs no call.
    ("reloaded", "resilience all five attributes, after a reload", ["resilience all five attributes, before a reload"],
     "all five stacked, each reloaded at run time"),
    ("contended_2_threads", "resilience breaker", ["recloser", "failsafe consecutive"],
     "2 threads on one closed breaker (per call)"),
    ("observed", "resilience attribute", [], "closed breaker, success, observed"),
    ("observed", "resilience all five attributes", [], "all five stacked, observed"),
    ("tower_circuit_breaker", "resilience CircuitBreakerLayer", ["tower-resilience"],
     "tower layer: closed breaker"),
    ("tower_retry", "resilience RetryLayer", ["tower Retry", "tower-resilience"],
     "tower layer: retry, first attempt succeeds"),
    ("tower_timeout", "resilience TimeoutLayer", ["tower Timeout", "tower-resilience"],
     "tower layer: timeout, ready at once"),
    ("tower_bulkhead", "resilience BulkheadLayer", ["tower ConcurrencyLimit", "tower-resilience"],
     "tower layer: bulkhead, free slot"),
    ("tower_rate_limit", "resilience RateLimitLayer", ["tower RateLimit", "tower-resilience"],
     "tower layer: rate limit, admitted"),
    ("circuit_breaker", "resilience rate mode", ["tower-resilience", "failsafe default"],
     "closed rate-mode breaker, success (last 100 calls)"),
    ("circuit_breaker", "resilience rate mode, time window", [],
     "closed rate-mode breaker, success (60 s window)"),
    ("circuit_breaker", "resilience rate mode, time window, slow-call rule", [],
     "closed rate-mode breaker, success (60 s window, slow-call rule)"),
    ("contended_2_threads", "resilience rate mode breaker", [],
     "2 threads on one closed rate-mode breaker (per call)"),
    # Against a real redis-server (benches/shared.rs): the shared breaker beside a local one
    # (0 Redis commands, asserted by the bench), the shared limiter beside a PING.
    ("shared_breaker", "resilience shared, closed", ["resilience local"],
     "closed shared breaker (Redis), success: 0 commands"),
    ("shared_limiter", "resilience shared, admitted", ["redis PING round trip"],
     "shared limiter (Redis), admitted: one round trip"),
]

# An observed row (an event subscriber installed, metrics scraped meanwhile) beside the same
# calls unobserved: the two should cost the same.
UNOBSERVED = {
    "resilience attribute": ("circuit_breaker", "resilience attribute"),
    "resilience all five attributes": ("full_stack", "resilience all five attributes"),
}

# Rate-mode rows, set against the consecutive mode's added cost (target: at most 2x).
CONSECUTIVE = {
    "resilience rate mode": "resilience attribute",
    "resilience rate mode, time window": "resilience attribute",
    "resilience rate mode, time window, slow-call rule": "resilience attribute",
}
# The same calls on one thread, for each two-thread row (target: at most 2x).
ONE_THREAD = {
    "resilience breaker": "resilience by hand",
    "resilience rate mode breaker": "resilience rate mode by hand",
}


def median(group, bench):
    path = CRITERION / group / bench.replace("/", "_").replace(":", "_") / "new" / "estimates.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())["median"]["point_estimate"]


def fmt(ns):
    return "-" if ns is None else f"{ns:.1f} ns"


def versions():
    lock = (ROOT / "Cargo.lock").read_text()
    found = {}
    for name in ["recloser", "failsafe", "tower-resilience", "governor", "tokio", "tower", "backon", "criterion"]:
        match = re.search(r'name = "%s"\nversion = "([^"]+)"' % re.escape(name), lock)
        if match:
            found[name] = match.group(1)
    return ", ".join(f"{k} {v}" for k, v in found.items())


def machine():
    cpu = "unknown CPU"
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip() or "?"
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    return f"{cpu}, {cores} cores, {platform.system()}; {rustc}"


def table():
    bare = median("circuit_breaker", "bare call")
    rows = ["| job | resilience | added over a bare call | peers (added over a bare call) |", "|---|---|---|---|"]
    for group, ours, peers, job in JOBS:
        base = median(group, "bare call") or bare
        mine = median(group, ours)
        if mine is None:
            continue
        added = "-" if base is None or group.startswith("contended") else fmt(mine - base)
        cells = []
        for peer in peers:
            theirs = median(group, peer)
            if theirs is None:
                continue
            extra = "" if base is None or group.startswith("contended") else f" (+{theirs - base:.1f})"
            cells.append(f"{peer} {fmt(theirs)}{extra}, ratio {mine / theirs:.2f}")
        if group == "full_stack":
            # The best peer of each policy, stacked by hand, would add at least the sum.
            best = []
            for peer_group, _, peer_names, _ in JOBS[:5]:
                peer_base = median(peer_group, "bare call") or bare
                found = [median(peer_group, p) for p in peer_names if median(peer_group, p) is not None]
                if found and peer_base is not None:
                    best.append(min(found) - peer_base)
            if len(best) == 5:
                cells = [f"the best peers' added costs, summed: +{sum(best):.1f} ns, ratio {(mine - base) / sum(best):.2f}"]
        consecutive = median(group, CONSECUTIVE[ours]) if ours in CONSECUTIVE else None
        if consecutive is not None and base is not None:
            cells.insert(0, f"consecutive mode +{consecutive - base:.1f}, ratio {(mine - base) / (consecutive - base):.2f}")
        if group == "observed":
            unobserved = median(*UNOBSERVED[ours])
            if unobserved is not None:
                cells = [f"unobserved: {fmt(unobserved)}, ratio {mine / unobserved:.2f}"]
        if group.startswith("contended"):
            # The same calls on one thread: two threads should cost each about as much.
            alone = median("circuit_breaker", ONE_THREAD[ours])
            if alone is not None:
                added = f"one thread: {fmt(alone)}, ratio {mine / alone:.2f}"
        rows.append(f"| {job} | {fmt(mine)} | {added} | {'; '.join(cells) or '-'} |")
    rows.append("")
    rows.append(f"Bare call: {fmt(bare)}. Medians of one `cargo bench` run on {machine()}.")
    rows.append(f"Crates: {versions()}.")
    return "\n".join(rows)


def main():
    text = table()
    print(text)
    if "--write" in sys.argv:
        readme = README.read_text()
        start, end = readme.index(BEGIN) + len(BEGIN), readme.index(END)
        README.write_text(readme[:start] + "\n" + text + "\n" + readme[end:])


if __name__ == "__main__":
    main()
