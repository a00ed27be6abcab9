"""Batch: JSON Lines scenarios in, one `train` result per line out, in input order.

Each line is an object keyed by the `train` option names (inputs.INPUTS). A line that
fails yields an error object `{"line": N, "error": "..."}` in its place; the others continue.
"""

from __future__ import annotations

import json
from typing import Any

from llamacalc import units
from llamacalc.errors import InputError, LlamacalcError, named
from llamacalc.estimates.train import TrainResult, estimate
from llamacalc.resolve import Resolver

BOM = b"\xef\xbb\xbf"  # the UTF-8 byte-order mark some editors start a file with


def run_line(resolver: Resolver, number: int, line: str | bytes) -> TrainResult | dict[str, Any]:
    """The result for one input line, or its error object."""
    try:  # decoded here, not by json: its encoding sniffing costs more than this (and utf-8-sig 4× more)
        if isinstance(line, bytes):
            line = (line[3:] if line.startswith(BOM) else line).decode("utf-8", "surrogatepass")
        request = json.loads(line)
    except ValueError as error:
        return {"line": number, "error": f"not JSON: {error}"}
    except RecursionError:
        return {"line": number, "error": "not JSON a calculator reads: nested too deeply"}
    if not isinstance(request, dict):
        return {"line": number, "error": f"expected a JSON object of train options, got {type(request).__name__}"}
    for key, value in request.items():  # JSON integers have any size; a float holds ~1.8e308
        if isinstance(value, int) and abs(value) > units.MAX_FLOAT_INT:
            too_large = InputError(f"{named(str(key))}: a number of {len(str(value))} digits (too large)")
            return {"line": number, "error": str(too_large)}
    try:
        return estimate(resolver, request)
    except LlamacalcError as error:
        return {"line": number, "error": str(error)}
