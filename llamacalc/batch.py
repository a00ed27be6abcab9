"""Batch: JSON Lines scenarios in, one `train --json` result per line out, in input order.

Each line is an object keyed by the `train` option names (scenario.REQUEST_KEYS). A line that
fails yields `{"line": N, "error": "..."}` in its place; the others continue.
"""

from __future__ import annotations

import json
from typing import Any

from llamacalc.catalog import Catalog
from llamacalc.errors import LlamacalcError
from llamacalc.output import train_document
from llamacalc.scenario import resolve, train


def run_line(catalog: Catalog, number: int, line: str | bytes) -> tuple[dict[str, Any], bool]:
    """The result document for one input line, or its error object; and whether it succeeded."""
    try:
        request = json.loads(line)
    except ValueError as error:
        return {"line": number, "error": f"not JSON: {error}"}, False
    if not isinstance(request, dict):
        return {
            "line": number,
            "error": f"expected a JSON object of train options, got {type(request).__name__}",
        }, False
    try:
        return train_document(train(catalog, resolve(catalog, request))), True
    except LlamacalcError as error:
        return {"line": number, "error": str(error)}, False
