"""Startup and throughput benchmarks, measured as ratios in one run on this machine.

    python benchmarks/run.py [--runs 20] [--lines 100000] [--json] [--instructions]
    python benchmarks/run.py --without NAME [--without NAME] | --tricks | --memory | --before DIR

Times whole processes of the venv's own `llamacalc` entry point, interleaved (one run of each
command per round, so load drifts hit all alike), and reports medians and ratios to `python -c pass`.
Batch throughput compares `llamacalc batch` with a stdlib baseline that only parses and re-serialises
the same JSON lines. `--instructions` also counts the instructions a batch line costs, under
valgrind: a count that is the same on every run, for changes smaller than this machine's drift.

The fast path's tricks (llamacalc/fastpath.py) are re-measured by switching them off: `--without NAME`
times `batch` with that trick off against all on, interleaved; `--tricks` does so for each in turn.
`--memory` compares a batch's peak RSS at 10,000 and 300,000 varied lines (every line its own
scenario). `--before DIR` times `train --json` and `batch` of this checkout against another's (DIR
holds its `llamacalc` package and `presets`), interleaved. Each of these runs alone.
Stdlib only, plus the installed project.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
LLAMACALC = str(BIN / "llamacalc")
PY = sys.executable

STARTUP = {
    "a: python -c pass": [PY, "-c", "pass"],
    "b: import typer, pint": [PY, "-c", "import typer, pint"],
    "h: import typer": [PY, "-c", "import typer"],
    "c: train --json": [LLAMACALC, "train", "llama-3.1-405b", "--json"],
    "d: train (table)": [LLAMACALC, "train", "llama-3.1-405b"],
    "e: --help": [LLAMACALC, "--help"],
    "f: presets": [LLAMACALC, "presets"],
    "i: train --layout auto": [LLAMACALC, "train", "llama-3.1-405b", "--layout", "auto", "--json"],
}
# The layout search in-process: every layout of 405B over 16,384 GPUs (steps: the step model).
SEARCH = (
    "import time\n"
    "from llamacalc.catalog import load_catalog, shipped_presets_dir\n"
    "from llamacalc.estimates.layout import estimate_layout\n"
    "from llamacalc.resolve import Resolver\n"
    "from llamacalc.setups import layout_setup\n"
    "catalog = load_catalog([shipped_presets_dir()])\n"
    "request = layout_setup(Resolver(catalog), {'model': 'llama-3.1-405b', 'gpus': '16384', 'global_batch': '2048'})\n"
    "estimate_layout(catalog, request)\n"
    "times = []\n"
    "for _ in range(10):\n"
    "    start = time.perf_counter()\n"
    "    found = estimate_layout(catalog, request)\n"
    "    times.append(time.perf_counter() - start)\n"
    "print(sorted(times)[len(times) // 2], found.tried)\n"
)
FIELDS = "days,cost_usd"  # a pipeline that wants two figures a line (batch --fields)
BASELINE = "import json, sys\nfor line in sys.stdin:\n    sys.stdout.write(json.dumps(json.loads(line)) + '\\n')\n"


def scenarios(count: int, seed: int = 0) -> str:
    """`count` JSON lines of varied, valid scenarios (and a few with unit strings); half give no MFU,
    so the efficiency model predicts it and every figure gets a P10-P90 range."""
    rng = random.Random(seed)
    models = ["llama-2-7b", "llama-3-8b", "llama-3-70b", "llama-3.1-405b", "llama-4-scout", "llama-4-maverick"]
    gpus = ["h100-sxm", "h200-sxm", "b200", "a100-sxm-80gb", "mi300x"]
    lines = []
    for _ in range(count):
        scenario: dict[str, object] = {"model": rng.choice(models), "gpu": rng.choice(gpus)}
        scenario["gpus"] = rng.choice([1024, 2048, 4096, 8192, 16384])
        if rng.random() < 0.5:
            scenario["mfu"] = round(rng.uniform(0.2, 0.5), 2)
        if rng.random() < 0.2:
            scenario["price"] = rng.choice(["2 USD/h", "$2.5/h", "3.1 USD/GPU/hour"])
        lines.append(json.dumps(scenario))
    return "\n".join(lines) + "\n"


def varied(count: int, seed: int = 0) -> str:
    """`count` JSON lines each its own scenario: a parameter and token count (or a preset's tokens),
    GPU count, MFU, price and PUE drawn afresh per line, so no memo sees a line twice."""
    rng = random.Random(seed)
    models = ["llama-2-7b", "llama-3-8b", "llama-3-70b", "llama-3.1-405b", "llama-4-scout", "llama-4-maverick"]
    gpus = ["h100-sxm", "h200-sxm", "b200", "a100-sxm-80gb", "mi300x"]
    lines = []
    for i in range(count):
        scenario: dict[str, object] = {"gpu": rng.choice(gpus), "gpus": rng.randrange(64, 32768)}
        if i % 3:
            scenario["params"] = f"{rng.uniform(1, 900):.2f}B"
            scenario["tokens"] = f"{rng.uniform(0.1, 40):.3f}T"
        else:
            scenario["model"] = rng.choice(models)
            scenario["tokens"] = rng.randrange(10**11, 4 * 10**13)
        if rng.random() < 0.7:
            scenario["mfu"] = round(rng.uniform(0.15, 0.55), 4)
        if rng.random() < 0.7:
            scenario["price"] = f"{rng.uniform(0.8, 6):.3f} USD/h"
        if rng.random() < 0.3:
            scenario["pue"] = round(rng.uniform(1.02, 1.6), 3)
        lines.append(json.dumps(scenario))
    return "\n".join(lines) + "\n"


def wall(command: list[str], stdin: Path | None = None, env: dict[str, str] | None = None) -> float:
    """Seconds of one whole process, reading `stdin` (a file) if given, with `env` added to ours."""
    with open(stdin or os.devnull, "rb") as source:
        start = time.perf_counter()
        run = subprocess.run(
            command,
            stdin=source,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
        )
        elapsed = time.perf_counter() - start
    if run.returncode not in (0, 1):
        raise SystemExit(f"{command} exited {run.returncode}")
    return elapsed


PEAK_RSS = (
    "import resource, subprocess, sys\n"
    "subprocess.run(sys.argv[2:], stdin=open(sys.argv[1], 'rb'), stdout=subprocess.DEVNULL)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def peak_rss_mib(command: list[str], stdin: Path, env: dict[str, str] | None = None) -> float:
    """Peak resident memory of a command (its largest process: the batch's or a worker's), measured
    from a small wrapper process: a child forked from this (larger) benchmark process would count our
    pages before its exec."""
    run = subprocess.run(
        [PY, "-c", PEAK_RSS, str(stdin), *command],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    return int(run.stdout) / 1024


IN_PROCESS = (  # what the in-process snippets import, from this checkout or one from before the cli split
    "from llamacalc.cli import stream\n"
    "try:\n"
    "    from llamacalc.cli.catalogs import catalog_from\n"
    "    from llamacalc.cli.options import train_fields\n"
    "except ImportError:  # a checkout from before cli/app.py was split (--before)\n"
    "    from llamacalc.cli.app import catalog_from, train_fields\n"
    "from llamacalc.resolve import Resolver\n"
)


PER_LINE = IN_PROCESS + (  # a batch rendered in-process: 500 lines to warm what a batch remembers, then argv[3] more
    "import os, sys\n"
    "lines = open(sys.argv[1], 'rb').read().splitlines()\n"
    "fields = train_fields(sys.argv[2]) if sys.argv[2] else None\n"
    "resolver = Resolver(catalog_from(None))\n"
    "if os.environ.get('LLAMACALC_WITHOUT'):  # as the CLI does, which this skips\n"
    "    from llamacalc import fastpath\n"
    "    fastpath.switch_off(*os.environ['LLAMACALC_WITHOUT'].split(','))\n"
    "stream.render(resolver, (1, b'\\n'.join(lines[:500])), False, fields)\n"
    "stream.render(resolver, (501, b'\\n'.join(lines[500 : 500 + int(sys.argv[3])])), False, fields)\n"
)


CPU = IN_PROCESS + (  # argv[2]'s variants rendering argv[1] in-process, interleaved: median CPU seconds of each
    "import json, statistics, sys, time\n"
    "block = b''.join(open(sys.argv[1], 'rb').readlines()[:20_000])  # one chunk, held in memory whole\n"
    "fields = train_fields(sys.argv[3]) if sys.argv[3] else None\n"
    "variants, catalog = sys.argv[2].split(';'), catalog_from(None)\n"
    "times = {variant: [] for variant in variants}\n"
    "for round in range(int(sys.argv[4]) + 1):\n"
    "    for variant in variants:\n"
    "        if variant != 'before':  # a checkout without the fast-path module\n"
    "            from llamacalc import fastpath\n"
    "            fastpath.switch_on()\n"
    "            fastpath._FLOATS.clear()\n"
    "            fastpath.switch_off(*filter(None, variant.split(',')))\n"
    "        resolver = Resolver(catalog)\n"
    "        start = time.process_time()\n"
    "        stream.render(resolver, (1, block), False, fields)\n"
    "        if round:\n"
    "            times[variant].append(time.process_time() - start)\n"
    "print(json.dumps({variant: statistics.median(each) for variant, each in times.items()}))\n"
)


def cpu_seconds(
    scenarios: Path, variants: list[str], fields: str, rounds: int, env: dict[str, str] | None = None
) -> dict:
    """Median CPU seconds of one process rendering `scenarios` (one chunk, no workers) in turn with each
    variant's tricks switched off ('' for all on), interleaved over `rounds`: steadier than wall time
    on a loaded machine, and a fresh resolver and emptied memos for each rendering."""
    run = subprocess.run(
        [PY, "-c", CPU, str(scenarios), ";".join(variants), fields, str(rounds)],
        capture_output=True,
        text=True,
        check=True,
        cwd=scenarios.parent,
        env={**os.environ, **(env or {})},
    )
    return json.loads(run.stdout)


def instructions_per_line(scenarios: Path, fields: str, count: int = 2000, env: dict[str, str] | None = None) -> float:
    """Instructions one batch line costs, counted by valgrind's callgrind: a run rendering `count`
    lines less one rendering none, after the same warm-up, so start-up cancels out. `env` is added to
    ours (LLAMACALC_WITHOUT, or PYTHONPATH for another checkout)."""

    def counted(lines: int) -> int:
        command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", PY, "-c", PER_LINE]
        run = subprocess.run(  # not from here: `-c` would import this checkout instead of the venv's install
            [*command, str(scenarios), fields, str(lines)],
            capture_output=True,
            text=True,
            check=True,
            cwd=scenarios.parent,
            env={**os.environ, **(env or {})},
        )
        return int(re.search(r"Collected : (\d+)", run.stderr)[1])

    return (counted(count) - counted(0)) / count


def imports(command: list[str]) -> set[str]:
    """Top-level modules a command imports (python -X importtime)."""
    run = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONPROFILEIMPORTTIME": "1"})
    return {line.split("|")[-1].strip().split(".")[0] for line in run.stderr.splitlines() if "|" in line}


def compile_package(folder: Path | None = None) -> None:
    """Byte-compile llamacalc (this one, or the one in `folder`) as a wheel install does, so no run
    pays for compiling its sources (an editable install under PYTHONDONTWRITEBYTECODE=1 would
    otherwise recompile every run)."""
    import compileall

    import llamacalc

    compileall.compile_dir(str(folder / "llamacalc" if folder else Path(llamacalc.__file__).parent), quiet=1)


def median_ratios(commands: dict[str, tuple[list[str], dict[str, str]]], stdin: Path | None, rounds: int) -> dict:
    """Median seconds of each command (argv, environment added), interleaved over `rounds` rounds
    after one warm-up round, and each one's ratio to the first."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for round in range(rounds + 1):
        for name, (command, env) in commands.items():
            elapsed = wall(command, stdin, env)
            if round:
                times[name].append(elapsed)
    median = {name: statistics.median(values) for name, values in times.items()}
    first = next(iter(median.values()))
    return {name: {"seconds": seconds, "ratio": seconds / first} for name, seconds in median.items()}


def without(names: list[str], lines: int, rounds: int, instructions: bool) -> dict[str, dict]:
    """Batch with each of `names` (a trick, or tricks joined by commas) switched off, against every
    trick on, interleaved: full documents and --fields. A ratio of 1.25 means the trick saves 20%."""
    found = {}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "scenarios.jsonl")
        path.write_text(scenarios(lines))
        for label, extra in (("full", []), (f"--fields {FIELDS}", ["--fields", FIELDS])):
            command = [LLAMACALC, "batch", *extra]
            commands = {"all on": (command, {})} | {name: (command, {"LLAMACALC_WITHOUT": name}) for name in names}
            found[label] = median_ratios(commands, path, rounds)
            inside = cpu_seconds(path, ["", *names], FIELDS if extra else "", rounds)
            for name, seconds in zip(commands, inside.values(), strict=True):
                found[label][name] |= {"cpu_seconds": seconds, "cpu_ratio": seconds / inside[""]}
            if instructions:
                counted = {
                    name: instructions_per_line(path, FIELDS if extra else "", env=env)
                    for name, (_, env) in commands.items()
                }
                for name, count in counted.items():
                    found[label][name] |= {"instructions": count, "instructions_ratio": count / counted["all on"]}
    return found


def memory(before: Path | None) -> dict[str, dict[int, float]]:
    """Peak RSS (MiB) of `batch` at 10,000 and 300,000 varied lines: this checkout's, and `before`'s."""
    trees = {"this": {}} | ({} if before is None else {"before": {"PYTHONPATH": str(before)}})
    found: dict[str, dict[int, float]] = {name: {} for name in trees}
    with tempfile.TemporaryDirectory() as folder:
        for count in (10_000, 300_000):
            path = Path(folder, f"{count}.jsonl")
            path.write_text(varied(count))
            for name, env in trees.items():
                found[name][count] = peak_rss_mib([LLAMACALC, "batch"], path, env)
    return found


def against(before: Path, lines: int, runs: int, rounds: int, instructions: bool) -> dict[str, dict]:
    """`train --json` and `batch` (full and --fields) of this checkout against `before`'s, interleaved."""
    import llamacalc

    this = {"PYTHONPATH": str(Path(llamacalc.__file__).parent.parent)}
    old = {"PYTHONPATH": str(before)}
    train = [LLAMACALC, "train", "llama-3.1-405b", "--json"]
    found = {"train --json": median_ratios({"before": (train, old), "after": (train, this)}, None, runs)}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "scenarios.jsonl")
        path.write_text(scenarios(lines))
        for label, extra in (("batch", []), (f"batch --fields {FIELDS}", ["--fields", FIELDS])):
            command = [LLAMACALC, "batch", *extra]
            found[label] = median_ratios({"before": (command, old), "after": (command, this)}, path, rounds)
            projected = FIELDS if extra else ""
            cpu: dict[str, list[float]] = {"before": [], "after": []}
            for _ in range(rounds):  # a process each, interleaved
                cpu["before"].append(cpu_seconds(path, ["before"], projected, 3, old)["before"])
                cpu["after"].append(cpu_seconds(path, [""], projected, 3, this)[""])
            old_s, new_s = statistics.median(cpu["before"]), statistics.median(cpu["after"])
            found[label]["before"]["cpu_seconds"] = old_s
            found[label]["after"] |= {"cpu_seconds": new_s, "cpu_ratio": new_s / old_s}
            if instructions:
                old_count, count = (
                    instructions_per_line(path, FIELDS if extra else "", env=env) for env in (old, this)
                )
                found[label]["before"] |= {"instructions": old_count}
                found[label]["after"] |= {"instructions": count, "instructions_ratio": count / old_count}
    return found


def special(args: argparse.Namespace) -> dict[str, Any] | None:
    """The result of --without, --tricks, --memory or --before, printed unless --json; None without them."""
    result: dict[str, Any] = {}
    if args.without or args.tricks:
        from llamacalc.fastpath import TRICKS

        result["without"] = without(args.without or list(TRICKS), args.lines, args.rounds, args.instructions)
    if args.before:
        compile_package(args.before)
        result["before"] = against(args.before, args.lines, args.runs, args.rounds, args.instructions)
    if args.memory:
        result["memory_mib"] = memory(args.before)
    if not result or args.json:
        return result or None
    for label, rows in result.get("without", {}).items():
        print(f"batch {label}, {args.lines:,} lines, median of {args.rounds} interleaved rounds:")
        for name, row in rows.items():
            saves = 1 - 1 / row["ratio"]
            counted = (
                f", {row['instructions']:9,.0f} instructions/line {row['instructions_ratio']:5.2f}x"
                if "instructions" in row
                else ""
            )
            inside = 1 - 1 / row["cpu_ratio"]
            cpu = f"; in-process CPU {row['cpu_seconds']:6.3f} s {row['cpu_ratio']:5.2f}x (saves {inside:6.1%})"
            print(f"  {name:16} wall {row['seconds']:7.2f} s {row['ratio']:5.2f}x (saves {saves:6.1%}){cpu}{counted}")
    for label, rows in result.get("before", {}).items():
        old, new = rows["before"], rows["after"]
        counted = (
            f"; instructions/line {old['instructions']:,.0f} -> {new['instructions']:,.0f}, "
            f"{new['instructions_ratio']:.3f}x"
            if "instructions" in new
            else ""
        )
        print(
            f"{label}: before {old['seconds']:.3f} s, after {new['seconds']:.3f} s, "
            f"after/before {new['ratio']:.3f}x{counted}"
            + (f"; in-process CPU after/before {new['cpu_ratio']:.3f}x" if "cpu_ratio" in new else "")
        )
    for name, peaks in result.get("memory_mib", {}).items():
        small, big = peaks[10_000], peaks[300_000]
        met = "met" if big <= 1.2 * small else "MISSED"
        print(
            f"peak RSS ({name}): {small:.1f} MiB at 10k varied lines, {big:.1f} MiB at 300k "
            f"({big / small:.2f}x; [{met}] within 1.2x)"
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--instructions", action="store_true", help="count instructions per batch line (valgrind)")
    parser.add_argument("--without", action="append", metavar="NAME", help="time batch with this trick off")
    parser.add_argument("--tricks", action="store_true", help="time batch with each trick off in turn")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds of each batch (with the above)")
    parser.add_argument("--memory", action="store_true", help="peak RSS at 10k and 300k varied lines")
    parser.add_argument("--before", type=Path, metavar="DIR", help="compare with the checkout in DIR")
    args = parser.parse_args()
    if args.instructions and shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (apt-get install valgrind)")
    compile_package()
    found = special(args)
    if found is not None:
        if args.json:
            print(json.dumps(found, indent=2))
        return

    times: dict[str, list[float]] = {name: [] for name in STARTUP}
    for command in STARTUP.values():  # warm-up
        wall(command)
    for _ in range(args.runs):
        for name, command in STARTUP.items():
            times[name].append(wall(command))
    median = {name: statistics.median(values) * 1000 for name, values in times.items()}

    batch: dict[int, dict[str, float]] = {}
    counts: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        for count in (10_000, args.lines):
            path = Path(folder, f"{count}.jsonl")
            path.write_text(scenarios(count))
            ours, projected, base = [], [], []
            for _ in range(3):  # interleaved: the machine's speed drifts, the ratios hold
                ours.append(wall([LLAMACALC, "batch"], path))
                projected.append(wall([LLAMACALC, "batch", "--fields", FIELDS], path))
                base.append(wall([PY, "-c", BASELINE], path))
            if args.instructions and count == 10_000:
                counts = {"full": instructions_per_line(path, ""), "fields": instructions_per_line(path, FIELDS)}
            batch[count] = {
                "seconds": statistics.median(ours),
                "baseline_seconds": statistics.median(base),
                "scenarios_per_s": count / statistics.median(ours),
                "fields_per_s": count / statistics.median(projected),
                "baseline_per_s": count / statistics.median(base),
                "peak_rss_mib": peak_rss_mib([LLAMACALC, "batch"], path),
            }

    search_s, searched = subprocess.run([PY, "-c", SEARCH], capture_output=True, text=True, check=True).stdout.split()
    search = {"seconds": float(search_s), "layouts": int(searched)}

    big, small = batch[args.lines], batch[10_000]
    targets = {
        "c <= 1.25 x b": median["c: train --json"] <= 1.25 * median["b: import typer, pint"],
        "d <= c + 60 ms": median["d: train (table)"] <= median["c: train --json"] + 60,
        "e <= 1.2 x import typer": median["e: --help"] <= 1.2 * median["h: import typer"],
        "e, f import no pint": not ({"pint"} & (imports(STARTUP["e: --help"]) | imports(STARTUP["f: presets"]))),
        "g >= 50,000 scenarios/s": big["scenarios_per_s"] >= 50_000,
        f"g --fields {FIELDS} >= 50,000 lines/s": big["fields_per_s"] >= 50_000,
        "g <= 3 x stdlib baseline": big["seconds"] <= 3 * big["baseline_seconds"],
        "g memory flat 10k -> 100k (within 20%)": big["peak_rss_mib"] <= 1.2 * small["peak_rss_mib"],
        "i <= 1.2 x c (train --layout auto)": median["i: train --layout auto"] <= 1.2 * median["c: train --json"],
        "405B layout search over 16,384 GPUs < 1 s": search["seconds"] < 1.0,
    }
    result = {
        "python": sys.version.split()[0],
        "runs": args.runs,
        "startup_ms": median,
        "ratio_to_python": {name: ms / median["a: python -c pass"] for name, ms in median.items()},
        "batch": batch,
        "layout_search": search,
        "targets": targets,
    }
    if args.instructions:
        result["instructions_per_line"] = counts
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"Startup, median of {args.runs} interleaved runs (ms; ratio to `python -c pass`):")
    for name, ms in median.items():
        print(f"  {name:24} {ms:8.1f}  {result['ratio_to_python'][name]:5.2f}x")
    print("Batch throughput (median of 3):")
    for count, b in batch.items():
        print(
            f"  {count:>7,} lines: {b['scenarios_per_s']:>9,.0f} scenarios/s, --fields "
            f"{b['fields_per_s']:>9,.0f}/s (stdlib baseline "
            f"{b['baseline_per_s']:>9,.0f}/s, ratio {b['seconds'] / b['baseline_seconds']:.2f}x), "
            f"peak RSS {b['peak_rss_mib']:.1f} MiB"
        )
    print(
        f"Layout search, 405B on 16,384 GPUs (median of 10, in-process): {search['seconds'] * 1000:.0f} ms, "
        f"{search['layouts']:,} layouts"
    )
    if args.instructions:
        full, fields = counts["full"], counts["fields"]
        print(f"Instructions per batch line (valgrind, in-process): {full:,.0f}, --fields {fields:,.0f}")
    print("Targets:")
    for name, met in targets.items():
        print(f"  [{'met' if met else 'MISSED'}] {name}")


if __name__ == "__main__":
    main()
