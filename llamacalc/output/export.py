"""Reports: a result as a document, an HTML page or an SVG picture, the same at any terminal width.

Both are drawn from the rich Tables a result is shown with (`tables.views`), laid out at a report's
fixed width (REPORT_WIDTH), never the terminal's, and with no colour setting read from the
environment. The page walks the Tables into real `<table>`s, headings and paragraphs, lists the
inputs with their sources from the result's JSON document, and embeds the result's chart where it
has one; the picture draws the Tables in a monospaced grid. Registered for every result type
(through `object`, the base of them all), so a command that prints a table exports it with no code
of its own. Nothing is fetched: no web font, script or image.
"""

from __future__ import annotations

import contextlib
import html
import io
import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len

from llamacalc.errors import InputError, printable
from llamacalc.inputs import Assumption, option
from llamacalc.output import tables
from llamacalc.output.render import render, renderer, renders

if TYPE_CHECKING:
    from rich.segment import Segment
    from rich.style import Style
    from rich.table import Column, Table

TITLE = "llamacalc"
REPORT_WIDTH = 120  # terminal columns the Tables are laid out in for a report, whatever the terminal's
REPORT_HEIGHT = 50  # rows, given so rich asks nothing of the terminal (TERM=dumb would make it 80 × 25)


@contextlib.contextmanager
def _fixed_width() -> Iterator[None]:
    """Tables laid out for a report: at REPORT_WIDTH, so every choice they make by width is fixed."""
    token = tables.WIDTH.set(REPORT_WIDTH)
    try:
        yield
    finally:
        tables.WIDTH.reset(token)


def _views(result: object) -> list[Table]:
    with _fixed_width():
        return tables.views(result)


EIGHTHS = {"█": 8, "▉": 7, "▊": 6, "▋": 5, "▌": 4, "▍": 3, "▎": 2, "▏": 1}  # a bar's blocks (numbers.bar)


def _bar(text: str) -> float | None:
    """A bar of blocks' length in character cells; None if `text` is not one."""
    return sum(EIGHTHS[block] for block in text) / 8 if text and set(text) <= EIGHTHS.keys() else None


def _plain(cell: Any) -> str:
    """A cell, title or caption as text, control characters from preset files shown escaped."""
    text = cell if isinstance(cell, str) else getattr(cell, "plain", None)
    return printable(text if isinstance(text, str) else str(cell))


def page_title(views: Sequence[Table], document: Mapping[str, Any] | None) -> str:
    """What the report is about, for a browser tab: the first table's subject ('Llama 3.1 405B (…)'),
    else the command its JSON document names ('llamacalc.presets/1': 'Presets')."""
    title = next((_plain(t.title) for t in views if t.title), "").split(": ")[0]
    schema = str((document or {}).get("schema", ""))
    return title or schema.removeprefix("llamacalc.").split("/")[0].capitalize() or "Report"


def _document(result: object) -> dict[str, Any] | None:
    """The result's JSON document, where it has one."""
    try:
        return dict(json.loads(render(result, "json")))
    except LookupError:
        return None


# --- the page -------------------------------------------------------------------------------------

PAGE_STYLE = """\
:root { color-scheme: light; }
body { margin: 2rem auto; max-width: 72rem; padding: 0 1.5rem; color: #1a1a1a; background: #fff;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 1.45rem; margin: 0 0 .75rem; }
h2 { font-size: 1.15rem; margin: 2.25rem 0 .5rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: .25rem 0 .5rem; font-variant-numeric: tabular-nums; }
th, td { padding: .3rem .8rem; text-align: left; vertical-align: top; border-bottom: 1px solid #e2e2e2; }
thead th { border-bottom: 2px solid #444; font-weight: 600; }
tbody th { font-weight: 500; white-space: nowrap; }
.r { text-align: right; }
.nw { white-space: nowrap; }
.bar { display: inline-block; height: .85em; background: #08519c; vertical-align: -.05em;
  print-color-adjust: exact; -webkit-print-color-adjust: exact; }
.c { text-align: center; }
.caption { margin: .3rem 0; max-width: 60rem; color: #555; font-size: .9rem; }
figure { margin: 1rem 0; }
figure svg { max-width: 100%; height: auto; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1.25rem; margin: .5rem 0; }
dt { grid-column: 1; font-weight: 600; }
dd { grid-column: 2; margin: 0; }
.who { font-weight: 500; }
.origin { display: inline-block; margin: 0 .4rem; padding: 0 .4rem; border: 1px solid #bbb; border-radius: 3px;
  color: #444; font-size: .8rem; }
.source { color: #555; }
footer { margin-top: 3rem; color: #777; font-size: .8rem; }
@page { margin: 1.5cm; }
@media print {
  body { margin: 0; max-width: none; padding: 0; font-size: 10pt; }
  .scroll { overflow: visible; }
  h1, h2 { break-after: avoid; }
  tr, dt, dd, figure { break-inside: avoid; }
  thead { display: table-header-group; }
  .origin { border-color: #888; }
}"""


@renders("html", "object")
def html_page(result: object) -> str:
    """The result as a self-contained page: a title, its tables, its chart, its inputs and sources."""
    views, document = _views(result), _document(result)
    groups = _input_groups(document)
    inputs_title = tables.assumptions_table({}).title
    shown = [t for t in views if not (groups and t.title == inputs_title)]  # the inputs are listed below
    title = page_title(views, document)
    headed = bool(shown) and bool(shown[0].title)  # the first table's title heads the page
    body = [f"<h1>{_text(shown[0].title if headed else title)}</h1>"]
    for i, table in enumerate(shown):
        body += _table_html(table, "" if not table.title or (i == 0 and headed) else _plain(table.title))
    if chart := _chart(result):
        body += ['<figure class="chart">', chart.rstrip("\n"), "</figure>"]
    if groups:
        body += _inputs_html(groups)
    body.append("<footer><p>Made with llamacalc.</p></footer>")
    page = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="llamacalc">',
        f"<title>{html.escape(title)} — {TITLE}</title>",
        f"<style>\n{PAGE_STYLE}\n</style>",
        "</head>",
        "<body>",
        "<main>",
        *body,
        "</main>",
        "</body>",
        "</html>",
    ]
    return "\n".join(page) + "\n"


# Where a browser may not break a line: inside a name or an option ('llama-3.1-405b', '--mfu',
# 'TFLOP/s'; it would break after a hyphen, a dash or a slash), and, in a table's cell, inside a range
# ('(410 MWh–945 MWh)') or between a figure and its unit ('989.4 TFLOP/s'). A cell still breaks
# between a figure, its range and its ratio; a paragraph between its words.
WORD = re.compile(r"\S*[-–/]\S*")
WORD_OR_RANGE = re.compile(r"\([^()]*\)|\S*[-–/]\S*")
UNIT = re.compile(r"(?<=\d) (?=[^\s(×])")


def _text(text: Any, cell: bool = False) -> str:
    """Text as HTML: escaped, its line breaks kept, and no break inside a name (or, in a `cell`, a
    figure or a range)."""
    if cell and (length := _bar(_plain(text))) is not None:  # a box of the bar's length: glyphs leave seams
        return f'<span class="bar" style="width: {length * 0.6:g}em" aria-hidden="true"></span>'
    kept = WORD_OR_RANGE if cell else WORD
    lines = []
    for line in _plain(text).split("\n"):
        parts, at = [], 0
        for found in kept.finditer(line):
            parts += [_between(line[at : found.start()], cell), f'<span class="nw">{html.escape(found[0])}</span>']
            at = found.end()
        lines.append("".join([*parts, _between(line[at:], cell)]))
    return "<br>".join(lines)


def _between(text: str, cell: bool) -> str:
    escaped = html.escape(text)
    return UNIT.sub("&nbsp;", escaped) if cell else escaped


def _align(column: Column) -> str:
    """A column's class: right-aligned where the table aligns it right and it holds figures (a column
    of words, a check's limit names, reads best from the left), centred where the table centres it."""
    if column.justify == "center":
        return ' class="c"'
    figures = any(any(ch.isdigit() for ch in _plain(cell)) for cell in column.cells)
    return ' class="r"' if column.justify == "right" and figures else ""


def _table_html(table: Table, heading: str) -> list[str]:
    """One Table as a heading, a `<table>` (row labels as `<th>`, figures right-aligned), and its
    caption's lines as paragraphs."""
    columns = table.columns
    aligned = [_align(c) for c in columns]
    labelled = bool(columns) and columns[0].header == ""  # the first column names each row
    out = ["<section>"]
    if heading:
        out.append(f"<h2>{_text(heading)}</h2>")
    out += ['<div class="scroll">', "<table>"]
    if table.show_header:
        cells = "".join(
            f'<th scope="col"{a}>{_text(c.header, cell=True)}</th>' for c, a in zip(columns, aligned, strict=True)
        )
        out += ["<thead>", f"<tr>{cells}</tr>", "</thead>"]
    out.append("<tbody>")
    for row in zip(*(list(c.cells) for c in columns), strict=True):
        cells = "".join(
            f'<th scope="row">{_text(cell, cell=True)}</th>'
            if i == 0 and labelled
            else f"<td{a}>{_text(cell, cell=True)}</td>"
            for i, (a, cell) in enumerate(zip(aligned, row, strict=True))
        )
        out.append(f"<tr>{cells}</tr>")
    out += ["</tbody>", "</table>", "</div>"]
    if table.caption:
        out += [f'<p class="caption">{_text(line)}</p>' for line in _plain(table.caption).split("\n") if line]
    out.append("</section>")
    return out


def _chart(result: object) -> str | None:
    """The result's chart (a sweep's, the compute-optimal frontier) as inline SVG, if it has one."""
    try:
        renderer(result, "chart")
    except LookupError:
        return None
    try:
        return render(result, "chart")
    except InputError:  # a grid or a named input: no chart, as `--plot` would say
        return None


# --- inputs and sources: from the JSON document, every result type's one list of them -------------


def _input_groups(document: Mapping[str, Any] | None) -> list[tuple[str, dict[str, tuple[str, ...]]]]:
    """Each set of inputs in a result's JSON document, named for whose it is (a model, a run, a
    swept value, a law); each input as the Inputs table shows it: (value, where from, source)."""
    groups = []
    for label, found in _assumptions(document, ""):
        given = {name: Assumption(a["value"], a["unit"], a["origin"], a["source"]) for name, a in found.items()}
        shown = zip(*(c.cells for c in tables.assumptions_table(given).columns), strict=True)
        groups.append((label, {_plain(name): tuple(map(_plain, rest)) for name, *rest in shown}))
    return groups


def _assumptions(node: Any, label: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every `assumptions` object in a JSON document, with the label of the outermost named object
    holding it (a check's run name, not its model's)."""
    if isinstance(node, dict):
        label = label or _whose(node)
        if isinstance(found := node.get("assumptions"), dict):
            yield label, found
        for key, value in node.items():
            if key != "assumptions":
                yield from _assumptions(value, label)
    elif isinstance(node, list):
        for item in node:
            yield from _assumptions(item, label)


def _whose(node: Mapping[str, Any]) -> str:
    """What names a JSON object: a run's name, a law, the inputs of a sweep's point, a model."""
    for key in ("name", "law", "model"):
        if isinstance(node.get(key), str):
            return printable(node[key])
    if isinstance(values := node.get("values"), dict):
        return printable(", ".join(f"{option(key)} {value}" for key, value in values.items()))
    return ""


def _inputs_html(groups: Sequence[tuple[str, Mapping[str, tuple[str, ...]]]]) -> list[str]:
    """The inputs as a definition list: one entry where every group giving an input agrees on it, one
    per group where they differ."""
    labels = [label or f"#{i + 1}" for i, (label, _) in enumerate(groups)]
    out = ["<section>", "<h2>Inputs and their sources</h2>", "<dl>"]
    for name in dict.fromkeys(name for _, inputs in groups for name in inputs):
        given = [(who, inputs[name]) for who, (_, inputs) in zip(labels, groups, strict=True) if name in inputs]
        out.append(f"<dt>{_text(name)}</dt>")
        if len({shown for _, shown in given}) == 1:
            out.append(f"<dd>{_input_html(given[0][1])}</dd>")
        else:
            out += [f'<dd><span class="who">{_text(who)}:</span> {_input_html(shown)}</dd>' for who, shown in given]
    caption = _plain(tables.assumptions_table({}).caption)
    return [*out, "</dl>", f'<p class="caption">{_text(caption)}</p>', "</section>"]


def _input_html(shown: tuple[str, ...]) -> str:
    value, origin, source = (_text(part) for part in shown)
    cited = f' <span class="source">{source}</span>' if source else ""
    return f'<span class="value">{value}</span><span class="origin">{origin}</span>{cited}'


# --- the picture ----------------------------------------------------------------------------------

CELL_WIDTH, LINE_HEIGHT, FONT_SIZE, PADDING = 9.6, 20, 16, 16  # px: a monospaced grid (0.6 em wide), white margin
MONOSPACE = "'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', monospace"  # installed faces only
DIM, BAR = "#666666", "#08519c"  # rich's dim text (a caption) as grey on white; a bar in the charts' blue
CLASSES = {"bold": "b", "italic": "i", "dim": "d", "underline": "u"}  # rich's text styles, as the picture's classes
PICTURE_STYLE = (
    f".b {{ font-weight: bold; }} .i {{ font-style: italic; }} .d {{ fill: {DIM}; }} "
    ".u { text-decoration: underline; }"
)
PHRASE = re.compile(r"\S+(?: \S+)*")  # text broken only by single spaces: a cell, or a line of a caption


@renders("svg", "object")
def svg_picture(result: object) -> str:
    """The result's Tables drawn as a terminal would at REPORT_WIDTH columns, black on white: each
    phrase placed on the character grid and stretched to its cells, so no font can shift a column."""
    from rich.console import Console
    from rich.text import Text

    views = _views(result)
    console = Console(  # every setting given: nothing read from the terminal or the environment
        file=io.StringIO(), width=REPORT_WIDTH, height=REPORT_HEIGHT, force_terminal=False, color_system="truecolor",
        no_color=False, highlight=False, markup=False, emoji=False, legacy_windows=False,
    )  # fmt: skip
    lines: list[list[Segment]] = []
    for table in views:
        table.title = _plain(table.title) if table.title else table.title
        table.caption = _plain(table.caption) if table.caption else table.caption
        for column in table.columns:
            column.header = _plain(column.header)
        if lines:  # a blank line between tables, which the terminal runs together
            lines.append([])
        for part in tables.drawn(table, REPORT_WIDTH):  # as the terminal draws it: nothing split, parts stacked
            lines += console.render_lines(Text(part) if isinstance(part, str) else part, pad=False)
    phrases = [(x, row, text, style) for row, line in enumerate(lines) for x, text, style in _phrases(line)]
    width = math.ceil(max((x + cell_len(text) for x, _, text, _ in phrases), default=0) * CELL_WIDTH) + 2 * PADDING
    height = len(lines) * LINE_HEIGHT + 2 * PADDING
    picture = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{html.escape(page_title(views, _document(result)))} — {TITLE}</title>",
        f"<style>{PICTURE_STYLE}</style>",
        f'<rect width="{width}" height="{height}" fill="#fff"/>',
        f'<g font-family="{MONOSPACE}" font-size="{FONT_SIZE}" fill="#000">',
        *(_drawn(*phrase) for phrase in phrases),
        "</g>",
        "</svg>",
    ]
    return "\n".join(picture) + "\n"


def _phrases(line: Sequence[Segment]) -> Iterator[tuple[int, str, Style | None]]:
    """A drawn line's phrases: (first cell, text, style), split at each change of style and each gap
    of two or more spaces (between table columns)."""
    x = 0
    for segment in line:
        text, style = segment.text, segment.style
        for phrase in PHRASE.finditer(text):
            yield x + cell_len(text[: phrase.start()]), phrase[0], style
        x += cell_len(text)


def _drawn(x: int, row: int, text: str, style: Style | None) -> str:
    """A phrase at grid cell (x, row): a bar of blocks as one rectangle (glyphs would leave seams
    between them), anything else as text pinned to its cells' width."""
    left, top = PADDING + x * CELL_WIDTH, PADDING + row * LINE_HEIGHT
    if (cells := _bar(text)) is not None:
        size = f'width="{cells * CELL_WIDTH:g}" height="{LINE_HEIGHT - 6}"'
        return f'<rect x="{left:g}" y="{top + 3:g}" {size} fill="{BAR}"/>'
    classes = " ".join(name for attribute, name in CLASSES.items() if style is not None and getattr(style, attribute))
    color = style.color if style is not None else None
    kind = f' class="{classes}"' if classes else ""
    fill = f' fill="{color.get_truecolor().hex}"' if color is not None and not color.is_default else ""
    return (
        f'<text x="{left:g}" y="{top + 0.75 * LINE_HEIGHT:g}" textLength="{cell_len(text) * CELL_WIDTH:g}"{kind}{fill}>'
        f"{html.escape(text, quote=False)}</text>"
    )
