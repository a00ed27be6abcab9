"""The README stays true: CI runs its test command, and its examples print what it shows, captured at 80
columns: each line a block shows is a line the command prints, in order (a block may leave lines out)."""

import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_ci_runs_the_readme_test_command_verbatim():
    command = re.search(r"Install the test extra.*?```sh\n(.+?)\n```", README, re.S)[1]
    assert command in (ROOT / ".ci" / "run").read_text().splitlines()


def examples() -> list[tuple[str, list[str]]]:
    """Each `$ llamacalc ...` line in a console block, with the lines it shows (before any pipe)."""
    found = []
    for block in re.findall(r"```console\n(.*?)```", README, re.S):
        lines = block.splitlines()
        for i, line in enumerate(lines):
            if line.startswith("$ llamacalc "):
                shown = []
                for out in lines[i + 1 :]:
                    if out.startswith("$ "):
                        break
                    shown.append(out)
                found.append((line[2:], shown))
    return found


def first(doc, key):
    """The first value of `key` in a depth-first walk of a JSON document (what a jq path picks here)."""
    if isinstance(doc, dict):
        if key in doc:
            return doc[key]
        doc = list(doc.values())
    if isinstance(doc, list):
        for item in doc:
            found = first(item, key)
            if found is not None:
                return found
    return None


@pytest.mark.parametrize(("command", "shown"), examples(), ids=lambda v: v if isinstance(v, str) else "")
def test_readme_examples_print_what_they_show(cli, command, shown):
    args = shlex.split(command.split(" | ")[0])[1:]
    run = cli(*args, env={"COLUMNS": "80", "NO_COLOR": "1"})
    if "|" in command:  # piped through jq: compare the numbers instead of the layout
        doc = run.json()
        for key, value in re.findall(r'"(\w+)": ([\d.e+-]+)', "\n".join(shown)):
            assert first(doc, key) == pytest.approx(float(value)), key
        return
    printed = iter((run.stdout + run.stderr).splitlines())
    for line in shown:
        assert any(out == line for out in printed), f"not printed (in this order) at 80 columns: {line!r}"
