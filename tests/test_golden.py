"""Golden outputs: every README example and a batch of varied scenarios, byte for byte.

Recorded before a refactor, compared after it: a change of output must be deliberate. Set
LLAMACALC_UPDATE_GOLDEN=1 to record them anew (then read the diff before committing it).
"""

from __future__ import annotations

import json
import os
import random
import re
import shlex
from pathlib import Path

import pytest

GOLDEN = Path(__file__).resolve().parent / "golden"
ROOT = GOLDEN.parent.parent
UPDATE = bool(os.environ.get("LLAMACALC_UPDATE_GOLDEN"))


def cases() -> list[tuple[str, list[str]]]:
    found = []
    for line in (GOLDEN / "cases.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            args = shlex.split(line)
            found.append((line, args))
            if "--csv" not in args and args[0] != "backtest" or args == ["backtest"]:
                found.append((line + " --json", [*args, "--json"]))
    return found


def _name(command: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "-", command).strip("-")[:120] + ".txt"


def _compare(path: Path, text: str) -> None:
    if UPDATE:
        path.write_text(text)
    assert path.exists(), f"no golden file {path.name}; record with LLAMACALC_UPDATE_GOLDEN=1"
    assert text == path.read_text()


@pytest.mark.parametrize(("command", "args"), cases(), ids=[c for c, _ in cases()])
def test_command_output_is_unchanged(cli, command, args, monkeypatch):
    monkeypatch.chdir(ROOT)
    run = cli(*args, env={"COLUMNS": "100", "NO_COLOR": "1"})
    text = f"exit {run.code}\n--- stdout\n{run.stdout}--- stderr\n{run.stderr}"
    _compare(GOLDEN / "out" / _name(command), text.replace(str(ROOT), "<checkout>"))  # paths differ per clone


def scenarios(count: int = 300) -> list[str]:
    """Varied batch lines, including bad ones, from a fixed seed."""
    pick = random.Random(20261128)
    models = ["llama-3-8b", "llama-3.1-405b", "llama-4-scout", "llama-4-projected", "llama-2-70b", "nope"]
    gpus = ["h100-sxm", "b200", "mi300x", "a100-80gb", "tpu-v5p", None]
    lines = []
    for _ in range(count):
        line: dict[str, object] = {}
        if pick.random() < 0.8:
            line["model"] = pick.choice(models)
        else:
            line["params"] = f"{pick.choice([1, 7, 70, 405])}B"
            line["tokens"] = f"{pick.choice([1, 2, 15])}T"
        if gpu := pick.choice(gpus):
            line["gpu"] = gpu
        if pick.random() < 0.5:
            line["gpus"] = pick.choice([64, 1024, 16384, "16K"])
        elif pick.random() < 0.3:
            line["days"] = pick.choice([30, "3 weeks", 0])
        if pick.random() < 0.4:
            line["mfu"] = pick.choice([0.3, 0.45, "40%", 2])
        if pick.random() < 0.3:
            line["price"] = pick.choice(["2 USD/h", "$1.5/h", "5 W"])
        if pick.random() < 0.2:
            line["precision"] = pick.choice(["bf16", "fp8"])
        lines.append(json.dumps(line))
    return lines


@pytest.mark.parametrize("as_csv", [False, True], ids=["jsonl", "csv"])
def test_batch_output_is_unchanged(cli, as_csv):
    run = cli("batch", *(["--csv"] if as_csv else []), input="\n".join(scenarios()) + "\n")
    _compare(GOLDEN / "out" / f"batch-{'csv' if as_csv else 'jsonl'}.txt", f"exit {run.code}\n{run.stdout}{run.stderr}")
