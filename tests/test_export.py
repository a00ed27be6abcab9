"""Reports: --svg and --html save the tables the terminal shows, on any table-printing command
(tests/test_reports.py: what makes them documents)."""

import shutil
import subprocess
import xml.etree.ElementTree as ElementTree

import pytest

from llamacalc.errors import ExitCode


@pytest.mark.parametrize(
    "command",
    [
        ("train", "llama-3.1-405b"),
        ("sweep", "llama-3.1-405b", "--gpus", "8192:32768:x2"),
        ("compare", "llama-3.1-405b", "llama-4-projected"),
        ("serve", "llama-3.1-70b"),
        ("optimal", "--budget", "$10M", "--days", "30"),
        ("sources", "S7"),
    ],
)
def test_a_report_holds_the_tables_text(cli, tmp_path, command):
    shown = cli(*command, env={"COLUMNS": "100"})
    run = cli(*command, "--svg", str(tmp_path / "r.svg"), "--html", str(tmp_path / "r.html"), env={"COLUMNS": "100"})
    assert run.code == shown.code == 0 and run.stdout == shown.stdout  # the terminal still gets its table
    picture = ElementTree.parse(tmp_path / "r.svg").getroot()  # well-formed SVG
    assert picture.tag.endswith("svg")
    words = "".join(picture.itertext()).replace("\xa0", " ")
    page = (tmp_path / "r.html").read_text()
    title = shown.stdout.splitlines()[0].split()[0]
    assert title in words and title in page
    assert page.startswith("<!DOCTYPE html>")


def test_a_report_is_complete_or_absent(cli, tmp_path):
    run = cli("train", "no-such-model", "--svg", str(tmp_path / "r.svg"))
    assert run.code == ExitCode.BAD_INPUT and not (tmp_path / "r.svg").exists()
    folder = cli("train", "llama-3-8b", "--html", str(tmp_path))
    assert folder.code == ExitCode.BAD_INPUT and "--html: " in folder.stderr and "is a folder" in folder.stderr


def test_a_command_without_a_table_says_so(cli, tmp_path):
    run = cli("presets", "--paths", "--svg", str(tmp_path / "r.svg"))
    assert run.code == ExitCode.BAD_INPUT and "prints no table" in run.stderr and not (tmp_path / "r.svg").exists()
    data = cli("batch", "--svg", str(tmp_path / "r.svg"), input='{"model": "llama-3-8b"}\n')
    assert data.code == ExitCode.BAD_INPUT and "No such option: --svg" in data.stderr  # JSON Lines: no table


@pytest.mark.skipif(not shutil.which("chromium"), reason="no headless Chromium on this machine")
@pytest.mark.parametrize("report", ["svg", "html"])
def test_chromium_draws_the_report(cli, tmp_path, report):
    """The report opens in a real browser and is drawn: the screenshot is not one flat colour."""
    cli("train", "llama-3.1-405b", f"--{report}", str(tmp_path / f"r.{report}"), env={"COLUMNS": "100"})
    shot = tmp_path / "shot.png"
    subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}", "--window-size=1000,700",
         (tmp_path / f"r.{report}").as_uri()],
        capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 20_000  # a drawn table, not a blank page (~5 KB)
