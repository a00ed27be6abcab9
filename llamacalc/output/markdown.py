"""Markdown: what a command shows in the terminal, as GitHub-flavoured Markdown for a pull request.

Drawn from the same rich Tables as the terminal (`tables.views`), so a table has one layout in code:
its title a heading, its columns a pipe table aligned as on screen, its caption a paragraph. Cells
are escaped so a name from a preset file cannot end a cell, a row or begin markup. A check keeps
the same table it prints, pass or fail on each limit (its GitHub step summary is github.py's).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llamacalc.errors import printable
from llamacalc.output.render import renders
from llamacalc.output.tables import views

if TYPE_CHECKING:
    from rich.table import Table

_ALIGN = {"left": ":---", "right": "---:", "center": ":---:"}


def _cell(value: Any) -> str:
    """A cell's text on one line, with every character that Markdown would act on escaped."""
    text = value.plain if hasattr(value, "plain") else str(value)
    text = printable(" ".join(text.split()))
    return "".join(f"\\{c}" if c in "\\|*_`<>" else c for c in text).replace("#", "\\#", text.startswith("#"))


def _table(table: Table) -> str:
    lines = [f"### {_cell(table.title)}", ""] if table.title else []
    columns = table.columns
    lines.append("| " + " | ".join(_cell(c.header) or " " for c in columns) + " |")
    lines.append("|" + "|".join(_ALIGN.get(str(c.justify), "---") for c in columns) + "|")
    for row in zip(*(c._cells for c in columns), strict=True):
        lines.append("| " + " | ".join(_cell(cell) for cell in row) + " |")
    if table.caption:  # its lines kept, as hard line breaks
        shown = str(table.caption.plain if hasattr(table.caption, "plain") else table.caption)
        lines += ["", "\\\n".join(_cell(line) for line in shown.splitlines() if line.strip())]
    return "\n".join(lines) + "\n"


@renders("md", "object")
def _markdown(result: object) -> str:
    return "\n".join(_table(table) for table in views(result))
