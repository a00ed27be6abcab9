"""Reports: what a command shows in the terminal, as an SVG picture or an HTML page.

A faithful export, not a second layout: the table renderer's own text, styles kept, recorded by
rich's console and written by its exporters. Registered for every result type (through `object`,
the base of them all), so a command that prints a table exports it with no code of its own.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from llamacalc.output import tables
from llamacalc.output.render import render, renders

if TYPE_CHECKING:
    from rich.console import Console

TITLE = "llamacalc"


def _recorded(result: object) -> Console:
    """A rich console that has printed the result's tables, styles included, at their own width."""
    from rich.cells import cell_len
    from rich.console import Console
    from rich.text import Text

    token = tables.STYLED.set(True)
    try:
        shown = Text.from_ansi(render(result, "table"))
    finally:
        tables.STYLED.reset(token)
    width = max((cell_len(line) for line in shown.plain.splitlines()), default=tables.MIN_WIDTH)
    console = Console(record=True, width=width, file=io.StringIO(), highlight=False, color_system="truecolor")
    console.print(shown, end="", soft_wrap=True)
    return console


@renders("svg", "object")
def svg(result: object) -> str:
    return _recorded(result).export_svg(title=TITLE)


@renders("html", "object")
def html(result: object) -> str:
    return _recorded(result).export_html(inline_styles=True)
