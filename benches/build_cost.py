#!/usr/bin/env python3
"""Measures what `resilience` costs a user's build, and writes the README's build-cost table.

    python3 benches/build_cost.py                 # N = 200 functions; prints the table
    python3 benches/build_cost.py --functions 50  # a quicker run
    python3 benches/build_cost.py --write         # and puts it in README.md between the markers

Three measurements, in a scratch directory that is removed afterwards:

1. A clean debug build of a new crate that depends on `resilience` alone (`cargo build
   --timings`): its wall time, the `syn` versions it compiles, and the time of `syn` and of
   our macro crate, read from cargo's timing report.
2. A clean build of a crate that depends on `resilience` and on `tracing` with its
   attribute: `resilience-macros`'s compile time beside `tracing-attributes`'s. Both clean
   builds turn incremental compilation off, as cargo does for crates from crates.io.
3. Three crates of N functions each, in one workspace: bare `async fn`s, the same under three
   stacked attributes of ours, and the same under `#[tracing::instrument(err)]`. Once their
   dependencies are built, each crate is rebuilt alone after an edit (`cargo check`, then
   `cargo build`), three times, and the median is kept: that is the cost of the attributes
   themselves. Each is timed twice: with incremental compilation, which reuses what the
   edit did not touch (the edit-compile loop), and compiled whole without it (the least a
   first build of a fresh checkout pays), which is what every attribute costs in full.

Timings are wall-clock and move with the machine's load: run it on an idle machine.
"""

import argparse
import json
import os
import pathlib
import re
import statistics
import subprocess
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BEGIN, END = "<!-- build-cost:begin -->", "<!-- build-cost:end -->"
RUNS = 3
TRACING = 'tracing = { version = "0.1", features = ["attributes"] }'

# What each function of the per-use crates looks like: the attributes over it, and the line
# it needs at the top of the file.
FLAVOURS = {
    "bare": ("", ""),
    "ours": (
        "use resilience::{circuit_breaker, retry, timeout};\n",
        '#[circuit_breaker(name = "svc_{i}")]\n#[retry(max_attempts = 3)]\n#[timeout("1s")]\n',
    ),
    "traced": ("", "#[tracing::instrument(err)]\n"),
}


def cargo(args, cwd, target, incremental=True):
    """Runs cargo quietly and returns its wall time in seconds.

    `incremental=False` compiles without incremental compilation: our path dependencies as
    cargo builds a crate from crates.io (its bookkeeping would be charged to us alone), and
    a timed crate whole, reusing nothing.
    """
    start = time.monotonic()
    environment = dict(os.environ, CARGO_TARGET_DIR=str(target))
    if not incremental:
        environment["CARGO_INCREMENTAL"] = "0"
    subprocess.run(["cargo", *args, "--quiet"], cwd=cwd, check=True, env=environment)
    return time.monotonic() - start


def manifest(name, dependencies):
    lines = [
        "[package]",
        f'name = "{name}"',
        'version = "0.0.0"',
        'edition = "2021"',
        "publish = false",
        "[dependencies]",
        f'resilience = {{ path = "{ROOT}" }}',
        *dependencies,
    ]
    return "\n".join(lines) + "\n"


# The error every function returns, the same in the three crates: our attributes need
# `From<resilience::Error>`, tracing's `err` needs `Display`.
ERROR = """#[derive(Debug)]
pub struct Failed;
impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("failed") }
}
impl std::error::Error for Failed {}
impl From<resilience::Error> for Failed {
    fn from(_: resilience::Error) -> Self { Failed }
}
"""


def functions(flavour, count):
    header, attributes = FLAVOURS[flavour]
    body = [header, ERROR]
    for i in range(count):
        body.append(
            attributes.replace("{i}", str(i))
            + f"pub async fn call_{i}(id: u64) -> Result<u64, Failed> {{\n"
            + "    if id % 7 == 0 { return Err(Failed); }\n"
            + f"    Ok(id + {i})\n}}\n"
        )
    return "\n".join(body)


def unit_times(target):
    """Seconds per crate from the newest `cargo build --timings` report under `target`."""
    report = (target / "cargo-timings" / "cargo-timing.html").read_text()
    units = json.loads(re.search(r"const UNIT_DATA = (\[.*?\n\]);", report, re.S).group(1))
    times = {}
    for unit in units:
        key = unit["name"] + " " + unit["version"]
        times[key] = times.get(key, 0.0) + unit["duration"]
    return times


def crate_time(times, name):
    found = sorted((key.split()[1], seconds) for key, seconds in times.items()
                   if key.split()[0] == name)
    if len(found) == 1:
        return f"{found[0][1]:.2f} s"
    return ", ".join(f"{version}: {seconds:.2f} s" for version, seconds in found)


def clean_build(scratch, name, dependencies):
    """A clean build of a one-line crate: its wall time and the per-crate times."""
    crate = scratch / name
    (crate / "src").mkdir(parents=True)
    (crate / "Cargo.toml").write_text(manifest(name, dependencies))
    (crate / "src" / "lib.rs").write_text("pub use resilience::circuit_breaker;\n")
    target = scratch / f"target-{name}"
    cargo(["fetch"], crate, target)
    wall = cargo(["build", "--timings"], crate, target, incremental=False)
    return crate, wall, unit_times(target)


def alone(scratch):
    crate, wall, times = clean_build(scratch, "alone", [])
    tree = subprocess.run(
        ["cargo", "tree", "-e", "normal", "--prefix", "none", "--format", "{p}"],
        cwd=crate, check=True, capture_output=True, text=True,
    ).stdout
    syns = sorted({line.split()[1] for line in tree.splitlines() if line.startswith("syn ")})
    return wall, syns, times


def beside_tracing(scratch):
    """Our macro crate and tracing's, compiled in the same build."""
    return clean_build(scratch, "beside", [TRACING])[2]


def per_use(scratch, count):
    members = list(FLAVOURS)
    (scratch / "uses" / "Cargo.toml").parent.mkdir()
    (scratch / "uses" / "Cargo.toml").write_text(
        "[workspace]\nresolver = \"2\"\nmembers = [" + ", ".join(f'"{m}"' for m in members) + "]\n"
    )
    for member in members:
        crate = scratch / "uses" / member
        (crate / "src").mkdir(parents=True)
        (crate / "Cargo.toml").write_text(
            manifest(member, [TRACING])
        )
        (crate / "src" / "lib.rs").write_text(functions(member, count))
    workspace, target = scratch / "uses", scratch / "target-uses"
    cargo(["fetch"], workspace, target)

    results = {}
    for mode in ("check", "build"):
        # After an edit, with incremental compilation, as in an edit-compile loop; then whole,
        # without it: the least a first build of a fresh checkout pays, and what CI pays
        # with `CARGO_INCREMENTAL=0`.
        for whole in (False, True):
            # Builds whatever the switch of incremental compilation makes cargo rebuild.
            cargo([mode, "--workspace"], workspace, target, not whole)
            for member in members:
                source = workspace / member / "src" / "lib.rs"
                text = source.read_text()
                runs = []
                for run in range(RUNS):
                    # An edit that changes nothing but the file's contents makes cargo
                    # rebuild this crate and nothing else.
                    source.write_text(text + f"// edit {mode} {whole} {run}\n")
                    runs.append(cargo([mode, "-p", member], workspace, target, not whole))
                source.write_text(text)
                results[(mode, whole, member)] = statistics.median(runs)
    return results


def table(count, clean, macros, results):
    wall, syns, times = clean
    lines = [
        f"Clean debug build of a new crate that depends on `resilience` alone: **{wall:.1f} s** "
        f"wall; it compiles `syn` {', '.join(syns)} and no other. In that build `syn` took "
        f"{crate_time(times, 'syn')} and `resilience-macros` {crate_time(times, 'resilience-macros')}. "
        f"Beside `tracing`'s attribute, in one clean build: `resilience-macros` "
        f"{crate_time(macros, 'resilience-macros')}, `tracing-attributes` "
        f"{crate_time(macros, 'tracing-attributes')}.",
        "",
        f"One crate of {count} `async fn`s, its dependencies built (median of {RUNS}): rebuilt "
        "after an edit, with incremental compilation, and compiled whole, without it (the "
        "least a first build of a fresh checkout pays; CI with `CARGO_INCREMENTAL=0`):",
        "",
        "| command | bare | three of our attributes on each | `#[tracing::instrument(err)]` on each |",
        "|---|---:|---:|---:|",
    ]
    for whole in (False, True):
        for mode in ("check", "build"):
            bare = results[(mode, whole, "bare")]
            ours, traced = results[(mode, whole, "ours")], results[(mode, whole, "traced")]
            how = "whole crate" if whole else "after an edit"
            lines.append(
                f"| `cargo {mode}`, {how} | {bare:.2f} s | {ours:.2f} s (+{ours - bare:.2f}) "
                f"| {traced:.2f} s (+{traced - bare:.2f}) |"
            )
    lines += ["", f"`python3 benches/build_cost.py --functions {count}` on {machine()}."]
    return "\n".join(lines)


def machine():
    cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.split()
    return f"{cores} cores, rustc {rustc[1]}"


def write(text):
    readme = README.read_text()
    start, end = readme.index(BEGIN) + len(BEGIN), readme.index(END)
    README.write_text(readme[:start] + "\n" + text + "\n" + readme[end:])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=200)
    parser.add_argument("--write", action="store_true", help="put the table in README.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="resilience-build-cost-") as scratch:
        scratch = pathlib.Path(scratch)
        text = table(
            args.functions,
            alone(scratch),
            beside_tracing(scratch),
            per_use(scratch, args.functions),
        )
    print(text)
    if args.write:
        write(text)


if __name__ == "__main__":
    main()
