"""llamacalc: how much compute, how many GPUs, how many days, how much money and energy."""

__version__ = "0.1.0"
