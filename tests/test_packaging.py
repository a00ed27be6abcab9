"""The wheel carries the top-level presets/ and finds them when run from another folder."""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    hatchling = pytest.importorskip("hatchling.builders.wheel")
    builder = hatchling.WheelBuilder(str(ROOT))
    return Path(next(iter(builder.build(directory=str(out), versions=["standard"]))))


def test_wheel_contains_presets(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "llamacalc/presets/models/llama-3.toml" in names
    assert "llamacalc/presets/hardware/nvidia.toml" in names
    assert "llamacalc/schemas/train.json" in names


def test_unpacked_wheel_runs_from_another_folder(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    run = subprocess.run(
        [sys.executable, "-m", "llamacalc", "train", "llama-3.1-405b", "--json"],
        cwd=elsewhere, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert doc["assumptions"]["tokens"]["value"] == 15.6e12
    code = "import llamacalc.catalog as c; print(c.shipped_presets_dir())"
    where = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env=env, capture_output=True, text=True)
    assert where.stdout.strip().startswith(str(site))


def test_source_checkout_finds_top_level_presets():
    from llamacalc.catalog import shipped_presets_dir

    assert shipped_presets_dir() in (ROOT / "presets", Path(sys.modules["llamacalc"].__file__).parent / "presets")
