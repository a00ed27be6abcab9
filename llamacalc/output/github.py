"""GitHub Actions formats for `check`: workflow-command annotations, and a Markdown step summary.

`github`: one `::error` line per failed limit and a `::notice` when all pass (GitHub reads these
from the step's output and shows them on the run and the pull request). `markdown`: the check as a
table, for $GITHUB_STEP_SUMMARY. Workflow-command escaping per GitHub's docs: '%', CR and LF in
messages; also ':' and ',' in properties.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llamacalc.errors import printable
from llamacalc.output.numbers import IN_DISPLAY_UNIT, margin
from llamacalc.output.render import renders

if TYPE_CHECKING:
    from llamacalc.estimates.checks import Check, CheckReport


def _message(text: str) -> str:
    """A workflow command's message: control characters (a bidi override) escaped as in a table,
    then GitHub's own escapes, so that a name's line break cannot end the command and begin another."""
    text = printable(text)
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _message(text).replace(":", "%3A").replace(",", "%2C")


def figure(c: Check) -> str:
    """A limit against its run's value, as every CI format words it."""
    shown = IN_DISPLAY_UNIT[c.limit.figure]
    at = "" if c.confidence == 0.5 else f" at P{c.confidence * 100:.3g}"
    return f"{c.limit.label} {shown(c.value)}{at} against a limit of {shown(c.maximum)}"


def run_name(name: str | None, model: str | None) -> str:
    return name or model or "custom"


@renders("github", "CheckReport")
def workflow_commands(report: CheckReport) -> str:
    lines = []
    for run in report.runs:
        name = run_name(run.name, run.result.resolved.model.name if run.result.resolved.model else None)
        for c in run.checks:
            if not c.passed:
                title = _property(f"Budget check failed: {name}")
                text = f"{name}: {figure(c)} ({margin(c.margin, c.ratio)})"
                lines.append(f"::error title={title}::{_message(text)}\n")
    if not lines:
        lines.append(f"::notice title=Budget check passed::{len(report.runs)} run(s), every limit met\n")
    return "".join(lines)


@renders("markdown", "CheckReport")
def summary(report: CheckReport) -> str:
    rows = ["| run | limit | value | maximum | margin | |", "|---|---|---:|---:|---:|---|"]
    for run in report.runs:
        name = run_name(run.name, run.result.resolved.model.name if run.result.resolved.model else None)
        for c in run.checks:
            shown = IN_DISPLAY_UNIT[c.limit.figure]
            at = "" if c.confidence == 0.5 else f" (P{c.confidence * 100:.3g})"
            cells = [name, c.limit.label, shown(c.value) + at, shown(c.maximum), margin(c.margin, c.ratio)]
            escaped = [printable(cell).replace("|", "\\|").replace("\n", "\\n") for cell in cells]
            rows.append(f"| {' | '.join(escaped)} | {'✅ pass' if c.passed else '❌ FAIL'} |")
    verdict = "passed" if report.passed else "**failed**"
    return f"### llamacalc budget check {verdict}\n\n" + "\n".join(rows) + "\n\n"
