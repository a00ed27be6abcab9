"""CLI fuzzing: thousands of random argument lists never crash, never trace back, never lie on stdout.

Seeded, in-process through Typer's CliRunner, bounded to a few seconds.
"""

import random

import pytest

from llamacalc.errors import ExitCode

COMMANDS = [
    ["train"], ["optimal"], ["loss"], ["presets"], ["presets", "show"], [], ["check"], ["batch"], ["compare"],
    ["sweep"], ["backtest"], ["memory"],
]  # fmt: skip
OPTIONS = [
    "--params", "--active-params", "--tokens", "--gpu", "--gpus", "--days", "--cluster", "--mfu",
    "--precision", "--price", "--power", "--pue", "--carbon", "--compute", "--budget", "--loss", "--law",
    "--json", "--presets", "--help", "--version", "--gpuz", "-x", "--", "--max-cost", "--max-days", "--max-gpus",
    "--max-gpu-hours", "--max-energy", "--max-co2", "--max-flops", "--plan", "--csv", "--flops", "--recompute",
    "--seq-len", "--explain", "--goodput", "--checkpoint-every", "--restart", "--config", "--tp", "--pp", "--ep",
    "--dp", "--zero", "--micro-batch",
]  # fmt: skip
VALUES = [
    "405B", "15.6T", "16K", "0", "-1", "1e400", "nan", "inf", "-inf", "0.4", "40%", "1.5", "3 weeks",
    "2.5 USD/h", "$2/h", "5W", "700 W", "0.38 kg/kWh", "3.8e25FLOP", "3.8e25 FLOPS", "50 MUSD", "bf16",
    "fp8", "fp4", "h100-sxm", "h100", "a100", "tpu-v5p", "llama-3.1-405b", "llama-4-projected",
    "llama-4-behemoth", "llama-4-scout", "meta-24k", "epoch", "all", "llama3", "", " ", "(", ")", "**",
    "1/0", "é", "😀", "\x00", "1e-300", "99999999999999999999999", "GPU-hours", "[S1]", "/nonexistent",
    "2.0", "1.8", "1e30", "0.0000001", "1 FLOP + 1 s", "%", "$", "B", "TB/s", "1024:65536:x2", "0.2:0.6:0.05",
    "1:2:x0", "5:1:1", "a:b:c", "::", "1e9 USD", "1 USD", "20 GWh", "9000 t", "3M", "palm", "megatron",
    "hardware", "6nd", "full", "selective", "none", "8192", "3", "8", "tests/fixtures/llama-3.1-8b-config.json",
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


@pytest.mark.parametrize("seed", range(4))
def test_random_command_lines_fail_cleanly(cli, seed):
    rng = random.Random(seed)
    for _ in range(750):
        args = random_args(rng)
        run = cli(*args, input=rng.choice(STDIN))
        context = f"llamacalc {args!r}: exit {run.code}, stderr {run.stderr!r}"
        assert run.code in (ExitCode.OK, ExitCode.CHECK_FAILED, ExitCode.BAD_INPUT), context
        assert "Traceback" not in run.stderr + run.stdout, context
        if run.code == ExitCode.BAD_INPUT:
            assert run.stdout == "", context
            assert run.stderr.startswith("llamacalc: error: "), context
            assert run.stderr.count("\n") == 1, context
