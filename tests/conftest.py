"""Shared fixtures: the shipped catalog and a CLI runner with stdout and stderr apart."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from typer.testing import CliRunner

from llamacalc.catalog import Catalog, load_catalog, shipped_presets_dir
from llamacalc.cli import app


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog([shipped_presets_dir()])


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Run:
    """Run the app in-process, as `llamacalc ARGS`."""
    result = CliRunner().invoke(app, list(args), input=input, env=env, prog_name="llamacalc")
    return Run(result.exit_code, result.stdout, result.stderr)


@pytest.fixture(scope="session")
def cli():
    return invoke
