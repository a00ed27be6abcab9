"""JUnit XML for `check`: the CI systems that are not GitHub (GitLab, Jenkins, Buildkite) read it.

One testsuite per run, one testcase per limit, a `<failure>` on each limit the run breaks, its
message the line a person reads in the table. Written with the standard library's ElementTree, so
names are escaped; control characters, which XML 1.0 cannot hold, are escaped first as in a table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from xml.etree import ElementTree

from llamacalc.errors import printable
from llamacalc.output.github import figure, run_name
from llamacalc.output.numbers import margin
from llamacalc.output.render import renders

if TYPE_CHECKING:
    from llamacalc.estimates.checks import CheckReport


@renders("junit", "CheckReport")
def junit(report: CheckReport) -> str:
    checks = [c for run in report.runs for c in run.checks]
    failed = sum(not c.passed for c in checks)
    root = ElementTree.Element(
        "testsuites", name="llamacalc budget check", tests=str(len(checks)), failures=str(failed)
    )
    for run in report.runs:
        model = run.result.resolved.model
        name = printable(run_name(run.name, model.name if model else None))
        suite = ElementTree.SubElement(
            root,
            "testsuite",
            name=name,
            tests=str(len(run.checks)),
            failures=str(sum(not c.passed for c in run.checks)),
        )
        for c in run.checks:
            case = ElementTree.SubElement(suite, "testcase", classname=name, name=c.limit.key)
            line = figure(c)
            if not c.passed:
                failure = ElementTree.SubElement(case, "failure", message=f"{line} ({margin(c.margin, c.ratio)})")
                failure.text = line
            else:
                ElementTree.SubElement(case, "system-out").text = f"{line} ({margin(c.margin, c.ratio)})"
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"
