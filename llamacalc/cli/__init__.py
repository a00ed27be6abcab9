"""The command line: the typer app and its commands, registered by importing their modules."""

from llamacalc.cli import fidelity, pipelines, planning, train  # noqa: F401  (importing registers the commands)
from llamacalc.cli.group import app, main

__all__ = ["app", "main"]
