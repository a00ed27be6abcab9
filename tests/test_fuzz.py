"""CLI fuzzing: thousands of random argument lists never crash, never trace back, never lie on stdout.

Seeded, in-process through Typer's CliRunner, in a scratch folder (an `-o` among the options writes
there). LLAMACALC_FUZZ_EXAMPLES sets how many command lines in all (3,000; a long run: 6,000).
"""

import os
import random

import pytest

from llamacalc.errors import ExitCode

COMMANDS = [
    ["train"], ["optimal"], ["loss"], ["presets"], ["presets", "show"], [], ["check"], ["batch"], ["compare"],
    ["sweep"], ["backtest"], ["memory"], ["fleet"], ["serve"], ["presets", "hardware"], ["presets", "models"],
    ["calibrate"], ["layout"], ["sources"],
]  # fmt: skip
OPTIONS = [
    "--params", "--active-params", "--tokens", "--gpu", "--gpus", "--days", "--cluster", "--mfu",
    "--precision", "--price", "--power", "--pue", "--carbon", "--compute", "--budget", "--loss", "--law",
    "--json", "--presets", "--help", "--version", "--gpuz", "-x", "--", "--max-cost", "--max-days", "--max-gpus",
    "--max-gpu-hours", "--max-energy", "--max-co2", "--max-flops", "--plan", "--csv", "--flops", "--recompute",
    "--seq-len", "--explain", "--goodput", "--checkpoint-every", "--restart", "--config", "--tp", "--pp", "--ep",
    "--dp", "--zero", "--micro-batch", "--capex", "--life", "--pricing", "--kind", "--sources", "--runs", "-o",
    "--svg", "--html", "--paths", "--batch", "--max-tpot", "--input-tokens", "--tokens-per-day",
]  # fmt: skip
# No NUL: execve cannot pass one in an argument, so only an in-process runner could (a control
# character stands in for it).
VALUES = [
    "405B", "15.6T", "16K", "0", "-1", "1e400", "nan", "inf", "-inf", "0.4", "40%", "1.5", "3 weeks",
    "2.5 USD/h", "$2/h", "5W", "700 W", "0.38 kg/kWh", "3.8e25FLOP", "3.8e25 FLOPS", "50 MUSD", "bf16",
    "fp8", "fp4", "h100-sxm", "h100", "a100", "tpu-v5p", "llama-3.1-405b", "llama-4-projected",
    "llama-4-behemoth", "llama-4-scout", "meta-24k", "epoch", "all", "llama3", "", " ", "(", ")", "**",
    "1/0", "é", "😀", "\x01", "1e-300", "99999999999999999999999", "GPU-hours", "[S1]", "/nonexistent",
    "2.0", "1.8", "1e30", "0.0000001", "1 FLOP + 1 s", "%", "$", "B", "TB/s", "1024:65536:x2", "0.2:0.6:0.05",
    "1:2:x0", "5:1:1", "a:b:c", "::", "1e9 USD", "1 USD", "20 GWh", "9000 t", "3M", "palm", "megatron",
    "hardware", "6nd", "full", "selective", "none", "8192", "3", "8", "tests/fixtures/llama-3.1-8b-config.json",
    "meta-350k", "$40B", "39.23e9 USD", "1e16 USD", "-1 USD", "5.5 years", "5.5y", "0.01 years", "owned",
    "reserved-3y", "out.json", "dir/", ".", "/dev/null", "/dev/stdout", "20ms", "models", "runs", "clusters",
]  # fmt: skip
STDIN = [
    "", "\n", "{}\n", '{"model": "llama-3-8b"}\n', "[1]\n", "not json\n", '{"gpus": "x"}\n', "\xff\xfe\n",
    '{"model": "llama-3-8b", "gpus": -1}\n{"params": "7B", "tokens": "1T"}\n', '{"model": null, "mfu": 2}',
]  # fmt: skip


def random_args(rng: random.Random) -> list[str]:
    args = list(rng.choice(COMMANDS))
    if rng.random() < 0.6:
        args.append(rng.choice(VALUES))
    for _ in range(rng.randint(0, 5)):
        args.append(rng.choice(OPTIONS))
        if rng.random() < 0.85:
            args.append(rng.choice(VALUES))
    return args


SEEDS = 4
LINES = int(os.environ.get("LLAMACALC_FUZZ_EXAMPLES", "3000")) // SEEDS
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


@pytest.mark.parametrize("seed", range(SEEDS))
def test_random_command_lines_fail_cleanly(cli, seed, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "fixtures").symlink_to(FIXTURES)  # the config.json among the values
    (tmp_path / "dir").mkdir()
    rng = random.Random(seed)
    for _ in range(LINES):
        args = random_args(rng)
        run = cli(*args, input=rng.choice(STDIN))
        context = f"llamacalc {args!r}: exit {run.code}, stderr {run.stderr!r}"
        assert run.code in (ExitCode.OK, ExitCode.CHECK_FAILED, ExitCode.BAD_INPUT), context
        assert "Traceback" not in run.stderr + run.stdout, context
        if run.code == ExitCode.BAD_INPUT:
            assert run.stdout == "", context
            assert run.stderr.startswith("llamacalc: error: "), context
            assert run.stderr.count("\n") == 1, context
