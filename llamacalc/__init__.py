"""llamacalc: how much compute, how many GPUs, how many days, how much money and energy.

The commands are functions too (llamacalc/api.py): `llamacalc.train("llama-3.1-405b", gpus=16384)`.
They load on first use, so `import llamacalc` costs what the one-liner's imports cost.
"""

from typing import Any

__version__ = "0.1.0"
__all__ = [
    "Document", "InputError", "backtest_steps", "batch", "check", "compare", "fleet", "layout", "loss", "memory",
    "optimal", "serve", "train",
]  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in __all__:
        from llamacalc import api

        return getattr(api, name)
    raise AttributeError(f"module 'llamacalc' has no attribute '{name}'")
