"""One render step for every command: a result and a format → the text to print.

A format is a module of renderers, one per result type, each registered with `@renders(FORMAT, Type)`.
`render` imports a format's module when that format is first asked for, so `train --json` never
loads rich. A new format (an HTML report, say) is one module and one line in FORMATS; a new command
is one estimate returning a result type, with a renderer per format.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, TypeVar

from llamacalc.errors import inert

FORMATS = {
    "json": "llamacalc.output.documents",
    "document": "llamacalc.output.documents",  # the document as data, which `json` writes as text
    "table": "llamacalc.output.tables",
    "tables": "llamacalc.output.tables",  # the rich Tables themselves, which `table` and the reports draw
    "brief": "llamacalc.output.tables",  # one line (`--brief`)
    "rows": "llamacalc.output.rows",  # the document as flat records, which `csv` writes
    "csv": "llamacalc.output.rows",
    "md": "llamacalc.output.markdown",  # the tables as Markdown, for a pull request
    "github": "llamacalc.output.github",  # workflow-command annotations
    "markdown": "llamacalc.output.github",  # a check's step summary
    "junit": "llamacalc.output.junit",  # a check as JUnit XML, for CI systems other than GitHub
    "svg": "llamacalc.output.export",  # the tables as a picture
    "html": "llamacalc.output.export",  # the tables as a page
    "chart": "llamacalc.output.chart",  # a plot, as SVG
}
# What `--format` offers: the formats a person or a pipeline reads on stdout.
STDOUT_FORMATS = ("table", "json", "csv", "md", "github", "junit")

Renderer = Callable[[Any], Any]  # text, or (format 'tables') rich Tables
R = TypeVar("R", bound=Renderer)
_RENDERERS: dict[tuple[str, str], Renderer] = {}


def renders(format: str, kind: str) -> Callable[[R], R]:
    """Register a function as the `format` renderer of results whose type (or a base) is named `kind`.

    By name, so that a format module need not import every estimate module to register."""

    def register(renderer: R) -> R:
        _RENDERERS[format, kind] = renderer
        return renderer

    return register


def render(result: object, format: str) -> str:
    """`result` as text in `format`, by the renderer registered for its type."""
    text = renderer(result, format)(result)
    # A table wraps a long name where it must: no line it makes may begin a workflow command.
    return inert(text) if format in ("table", "md") else text


def formats(result: object) -> tuple[str, ...]:
    """The stdout formats `result` can be written in."""
    return tuple(f for f in STDOUT_FORMATS if has_renderer(result, f))


def has_renderer(result: object, format: str) -> bool:
    return _found(result, format) is not None


def _found(result: object, format: str) -> Renderer | None:
    importlib.import_module(FORMATS[format])
    for kind in type(result).__mro__:
        if (format, kind.__name__) in _RENDERERS:
            return _RENDERERS[format, kind.__name__]
    return None


def renderer(result: object, format: str) -> Renderer:
    """The `format` renderer registered for `result`'s type or its nearest base."""
    if (found := _found(result, format)) is not None:
        return found
    raise LookupError(f"no {format} renderer for {type(result).__name__}")
