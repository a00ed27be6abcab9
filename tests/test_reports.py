"""Reports are documents: --html a self-contained page of real tables, --svg a fixed picture, both
the same bytes at any terminal width and colour setting; the sweep's chart too."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ElementTree
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llamacalc.output import export, render
from llamacalc.output.chart import _ticks
from llamacalc.output.tables import views

PLAN = (Path(__file__).parent / "fixtures" / "budget-plan.toml").read_text(encoding="utf-8")  # two runs that pass

COMMANDS = {
    "train": ["train", "llama-3.1-405b"],
    "compare": ["compare", "llama-3-8b", "llama-3-70b", "llama-3.1-405b", "llama-4-behemoth"],
    "check": ["check", "--plan", "{dir}/plan.toml"],
    "sweep": ["sweep", "llama-3.1-405b", "--gpus", "8192:32768:x2", "--plot", "{dir}/plot.svg"],
}
# Two widths, and colour off (NO_COLOR, a dumb terminal) or forced on: the reports never change.
ENVIRONMENTS = [
    {"COLUMNS": "60", "NO_COLOR": None, "TERM": "xterm"},
    {"COLUMNS": "200", "NO_COLOR": None, "TERM": "xterm"},
    {"COLUMNS": "60", "NO_COLOR": "1", "TERM": "dumb"},
    {"COLUMNS": "200", "NO_COLOR": None, "TERM": "dumb", "FORCE_COLOR": "1"},
]


def _reports(cli: Any, folder: Path, name: str, env: dict[str, str | None]) -> tuple[str, dict[str, bytes]]:
    """The command's terminal text and the bytes of each report it wrote into `folder`."""
    folder.mkdir()
    (folder / "plan.toml").write_text(PLAN)
    args = [a.format(dir=folder) for a in COMMANDS[name]]
    run = cli(*args, "--html", str(folder / "r.html"), "--svg", str(folder / "r.svg"), env=env)
    assert run.code == 0, run.stderr
    return run.stdout, {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix in (".html", ".svg")}


@pytest.mark.parametrize("name", COMMANDS)
def test_reports_are_the_same_bytes_at_any_width_and_colour_setting(cli, tmp_path, name):
    shown = [_reports(cli, tmp_path / str(i), name, env) for i, env in enumerate(ENVIRONMENTS)]
    (narrow, first), (wide, _) = shown[0], shown[1]
    assert narrow != wide  # the terminal's text did follow its width
    assert len(first) == (3 if name == "sweep" else 2)
    for _, reports in shown[1:]:
        assert reports == first
    for data in first.values():
        lines = data.decode().splitlines()
        assert lines and not [line for line in lines if line != line.rstrip()]  # no trailing whitespace


class Page(HTMLParser):
    """A page read back: its title, tags, headings, tables (rows of (tag, attributes, text)),
    captions, definition-list entries and style sheet."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.title = self.style = ""
        self.headings: list[tuple[str, str]] = []
        self.tables: list[list[list[tuple[str, dict[str, str | None], str]]]] = []
        self.captions: list[str] = []
        self.entries: dict[str, list[str]] = {}  # each term's definitions
        self.open: list[tuple[str, dict[str, str | None]]] = []
        self.text = ""
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "br":
            self.text += "\n"
            return
        if tag in ("meta", "rect", "line", "circle", "polygon", "polyline"):
            return
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        if tag in ("title", "style", "h1", "h2", "th", "td", "p", "dt", "dd"):
            self.text = ""
        self.open.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        while self.open and self.open[-1][0] != tag:
            self.open.pop()
        if not self.open:
            return
        _, attrs = self.open.pop()
        text = self.text.replace("\xa0", " ")
        if tag == "title" and not self.title:
            self.title = text
        elif tag == "style" and not self.style:
            self.style = text
        elif tag in ("h1", "h2"):
            self.headings.append((tag, text))
        elif tag in ("th", "td"):
            self.tables[-1][-1].append((tag, attrs, text))
        elif tag == "p" and attrs.get("class") == "caption":
            self.captions.append(text)
        elif tag == "dt":
            self.entries[text] = []
        elif tag == "dd":
            self.entries[list(self.entries)[-1]].append(text)

    def handle_data(self, data: str) -> None:
        self.text += data


def _report_of(cli: Any, monkeypatch: Any, tmp_path: Path, *args: str) -> tuple[object, Page, Path]:
    """Run a command with --html and --svg, keeping the result it rendered; its page read back."""
    rendered: list[object] = []
    original = render.render

    def recording(result: object, format: str) -> str:
        rendered.append(result)
        return original(result, format)

    monkeypatch.setattr(render, "render", recording)
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "plan.toml").write_text(PLAN)
    args = tuple(a.format(dir=tmp_path) for a in args)
    run = cli(*args, "--html", str(tmp_path / "r.html"), "--svg", str(tmp_path / "r.svg"))
    assert run.code == 0, run.stderr
    return rendered[0], Page((tmp_path / "r.html").read_text()), tmp_path / "r.svg"


def test_the_page_holds_the_tables_as_tables_and_the_inputs_as_a_list(cli, monkeypatch, tmp_path):
    result, page, _ = _report_of(cli, monkeypatch, tmp_path, "train", "llama-3.1-405b")
    assert page.title == "Llama 3.1 405B (llama-3.1-405b) — llamacalc"
    with export._fixed_width():
        (table,) = views(result)
    assert page.headings[0] == ("h1", table.title)
    ((header, *rows),) = page.tables
    assert [(tag, text) for tag, _, text in header] == [("th", str(c.header)) for c in table.columns]
    assert [[text for _, _, text in row] for row in rows] == [
        list(row) for row in zip(*(c.cells for c in table.columns), strict=True)
    ]
    assert all(tag == "th" and attrs.get("scope") == "row" for tag, attrs, _ in (row[0] for row in rows))
    figures = [cell for row in rows for cell in row[1:] if cell[2]]
    assert figures and all(attrs.get("class") == "r" for _, attrs, _ in figures)  # figures right-aligned
    lines = str(table.caption).split("\n")
    assert page.captions[: len(lines)] == lines and page.captions[len(lines) :] == [
        export.tables.assumptions_table({}).caption
    ]
    document = json.loads(cli("train", "llama-3.1-405b", "--json").stdout)
    assert list(page.entries) == list(document["assumptions"])
    for name, assumed in document["assumptions"].items():
        (definition,) = page.entries[name]
        assert assumed["origin"] in definition and assumed["source"] in definition, name
    assert page.entries["mfu"][0].startswith("24.9%")  # shown as the Inputs table shows it, not 0.2487…


def test_the_page_fetches_nothing_and_prints_well(cli, monkeypatch, tmp_path):
    _, page, _ = _report_of(cli, monkeypatch, tmp_path, "sweep", "llama-3.1-405b", "--gpus", "8192:32768:x2")
    names = {tag for tag, _ in page.tags}
    assert not names & {"script", "link", "img", "iframe", "object", "embed", "image", "use"}
    assert not [attrs for _, attrs in page.tags if {"src", "href", "srcset", "xlink:href"} & attrs.keys()]
    assert "url(" not in page.style and "@import" not in page.style and "@media print" in page.style
    assert "svg" in names  # the sweep's chart, inline
    bars = [attrs["style"] for tag, attrs in page.tags if attrs.get("class") == "bar"]
    assert len(bars) == 6 and "width: 6em" in bars  # days and cost at each of 3 points, the longest 10 cells


def test_each_models_inputs_are_named_where_they_differ(cli, monkeypatch, tmp_path):
    _, page, _ = _report_of(cli, monkeypatch, tmp_path, *COMMANDS["compare"])
    models = COMMANDS["compare"][1:]
    assert [entry.split(":")[0] for entry in page.entries["params"]] == models  # the sizes differ
    assert len(page.entries["flops"]) == 1 and ":" not in page.entries["flops"][0].split()[0]  # one convention
    _, checked, _ = _report_of(cli, monkeypatch, tmp_path / "check", *COMMANDS["check"])
    assert [entry.split(":")[0] for entry in checked.entries["gpus"]] == ["flagship", "small"]  # runs, not models


def test_the_sweep_page_embeds_the_chart_plot_draws(cli, tmp_path):
    run = cli(*COMMANDS["sweep"][:-1], str(tmp_path / "plot.svg"), "--html", str(tmp_path / "r.html"))
    assert run.code == 0
    assert (tmp_path / "plot.svg").read_text().rstrip("\n") in (tmp_path / "r.html").read_text()


def test_the_picture_is_the_terminal_text_at_the_reports_width(cli, monkeypatch, tmp_path):
    """Put back on its grid, the SVG's text is what a terminal of REPORT_WIDTH columns shows."""
    _, page, picture = _report_of(cli, monkeypatch, tmp_path, "train", "llama-3.1-405b")
    root = ElementTree.parse(picture).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    assert root.find(f"{ns}title").text == page.title
    lines: dict[int, list[str]] = {}
    for text in root.iter(f"{ns}text"):
        row = round((float(text.get("y")) - export.PADDING) / export.LINE_HEIGHT - 0.75)
        column = round((float(text.get("x")) - export.PADDING) / export.CELL_WIDTH)
        assert math.isclose(float(text.get("textLength")), len(text.text) * export.CELL_WIDTH)
        line = lines.setdefault(row, [])
        line += [" "] * (column + len(text.text) - len(line))
        line[column : column + len(text.text)] = text.text
    drawn = ["".join(lines.get(row, [])) for row in range(max(lines) + 1)]
    terminal = cli("train", "llama-3.1-405b", env={"COLUMNS": str(export.REPORT_WIDTH)}).stdout
    assert drawn == [line.rstrip() for line in terminal.rstrip("\n").splitlines()]
    source = picture.read_text()
    assert "url(" not in source and "@font-face" not in source and source.count("http") == 1  # the xmlns


def test_text_from_preset_files_is_escaped_in_both_reports(cli, tmp_path):
    (tmp_path / "p.toml").write_text(
        '[models.evil]\ntitle = "<script>alert(1)</script> & \\u001b[2J \\u202eevil"\nparams = "8B"\ntokens = "1T"\n'
    )
    run = cli(
        "train", "evil", "--presets", str(tmp_path / "p.toml"),
        "--html", str(tmp_path / "r.html"), "--svg", str(tmp_path / "r.svg"),
    )  # fmt: skip
    assert run.code == 0
    page, picture = (tmp_path / "r.html").read_text(), (tmp_path / "r.svg").read_text()
    for text in (page, picture):
        assert "<script>" not in text and "\x1b" not in text and "\u202e" not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; \\x1b[2J \\u202eevil" in text
    ElementTree.fromstring(picture)  # well-formed: XML forbids the raw control character
    assert Page(page).title.startswith("<script>alert(1)</script> & \\x1b[2J")


@given(st.floats(min_value=1e-9, max_value=1e30))
def test_a_charts_y_axis_steps_in_round_numbers(highest):
    ticks = _ticks(highest)
    step = ticks[1]
    mantissa = step / 10 ** math.floor(math.log10(step) + 1e-12)
    assert any(math.isclose(mantissa, m) for m in (1, 2, 2.5, 5))
    assert ticks[0] == 0 and ticks[-1] >= highest * (1 - 1e-9) and ticks[-2] < highest and len(ticks) <= 6


def test_no_chart_writes_an_exponent_with_a_plus(cli, tmp_path):
    run = cli("optimal", "--compute", "3.8e25", "--law", "all", "--plot", str(tmp_path / "f.svg"))
    assert run.code == 0
    text = (tmp_path / "f.svg").read_text()
    assert "1e15" in text and "e+" not in text  # the tokens axis reaches 10^15
