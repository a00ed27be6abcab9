"""Startup and throughput benchmarks, measured as ratios in one run on this machine.

    python benchmarks/run.py [--runs 20] [--lines 100000] [--json] [--instructions]

Times whole processes of the venv's own `llamacalc` entry point, interleaved (one run of each
command per round, so load drifts hit all alike), and reports medians and ratios to `python -c pass`.
Batch throughput compares `llamacalc batch` with a stdlib baseline that only parses and re-serialises
the same JSON lines. `--instructions` also counts the instructions a batch line costs, under
valgrind: a count that is the same on every run, for changes smaller than this machine's drift.
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
    "catalog = load_catalog([shipped_presets_dir()])\n"
    "request = {'model': 'llama-3.1-405b', 'gpus': '16384', 'global_batch': '2048'}\n"
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


def wall(command: list[str], stdin: Path | None = None) -> float:
    """Seconds of one whole process, reading `stdin` (a file) if given."""
    with open(stdin or os.devnull, "rb") as source:
        start = time.perf_counter()
        run = subprocess.run(command, stdin=source, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        elapsed = time.perf_counter() - start
    if run.returncode not in (0, 1):
        raise SystemExit(f"{command} exited {run.returncode}")
    return elapsed


PEAK_RSS = (
    "import resource, subprocess, sys\n"
    "subprocess.run(sys.argv[2:], stdin=open(sys.argv[1], 'rb'), stdout=subprocess.DEVNULL)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def peak_rss_mib(command: list[str], stdin: Path) -> float:
    """Peak resident memory of a command, measured from a small wrapper process: a child forked from
    this (larger) benchmark process would count our pages before its exec."""
    run = subprocess.run([PY, "-c", PEAK_RSS, str(stdin), *command], capture_output=True, text=True, check=True)
    return int(run.stdout) / 1024


PER_LINE = (  # a batch rendered in-process: 500 lines to warm what a batch remembers, then argv[3] more
    "import sys\n"
    "from llamacalc.cli import stream\n"
    "from llamacalc.cli.app import catalog_from, train_fields\n"
    "from llamacalc.resolve import Resolver\n"
    "lines = open(sys.argv[1], 'rb').read().splitlines()\n"
    "fields = train_fields(sys.argv[2]) if sys.argv[2] else None\n"
    "resolver = Resolver(catalog_from(None))\n"
    "stream.render(resolver, (1, b'\\n'.join(lines[:500])), False, fields)\n"
    "stream.render(resolver, (501, b'\\n'.join(lines[500 : 500 + int(sys.argv[3])])), False, fields)\n"
)


def instructions_per_line(scenarios: Path, fields: str, count: int = 2000) -> float:
    """Instructions one batch line costs, counted by valgrind's callgrind: a run rendering `count`
    lines less one rendering none, after the same warm-up, so start-up cancels out."""

    def counted(lines: int) -> int:
        command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", PY, "-c", PER_LINE]
        run = subprocess.run(  # not from here: `-c` would import this checkout instead of the venv's install
            [*command, str(scenarios), fields, str(lines)],
            capture_output=True,
            text=True,
            check=True,
            cwd=scenarios.parent,
        )
        return int(re.search(r"Collected : (\d+)", run.stderr)[1])

    return (counted(count) - counted(0)) / count


def imports(command: list[str]) -> set[str]:
    """Top-level modules a command imports (python -X importtime)."""
    run = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONPROFILEIMPORTTIME": "1"})
    return {line.split("|")[-1].strip().split(".")[0] for line in run.stderr.splitlines() if "|" in line}


def compile_package() -> None:
    """Byte-compile llamacalc as a wheel install does, so no run pays for compiling its sources
    (an editable install under PYTHONDONTWRITEBYTECODE=1 would otherwise recompile every run)."""
    import compileall

    import llamacalc

    compileall.compile_dir(str(Path(llamacalc.__file__).parent), quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--instructions", action="store_true", help="count instructions per batch line (valgrind)")
    args = parser.parse_args()
    if args.instructions and shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (apt-get install valgrind)")
    compile_package()

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
