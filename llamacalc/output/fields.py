"""`--fields`: a document projected to the keys a pipeline asks for.

A field is a dotted path into a JSON document (`days`, `ranges.days.p90`, `assumptions.mfu.source`),
checked against the document's shipped JSON Schema before any work is done: a typo is exit 2 at
once, with the names that exist, never a column of nulls. The projection is flat, keyed by the
paths as written, in the order given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from llamacalc.errors import InputError, did_you_mean

Field = tuple[str, ...]


def parse(text: str, schema: Mapping[str, Any]) -> tuple[Field, ...]:
    """The comma-separated paths of `text`, each checked against `schema`."""
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise InputError(f"--fields: expected comma-separated field names, e.g. days,cost_usd, got '{text}'")
    return tuple(dict.fromkeys(_checked(name, schema) for name in names))


def _checked(name: str, schema: Mapping[str, Any]) -> Field:
    path = tuple(name.split("."))
    node = schema
    for depth, key in enumerate(path):
        children = _children(node)
        if key in children:
            node = children[key]
        elif isinstance(node.get("additionalProperties"), dict) and key:  # a map: any key (assumptions.mfu)
            node = node["additionalProperties"]
        else:
            parent = ".".join(path[:depth])
            known = ", ".join(children) or "none (not an object)"
            raise InputError(
                f"--fields: unknown field '{name}'{did_you_mean(key, children)}; "
                f"{f'{parent} has' if parent else 'fields are'}: {known}"
            )
    return path


def _children(node: Mapping[str, Any]) -> dict[str, Any]:
    """The named properties of a schema node, through anyOf/oneOf alternatives (an object or null)."""
    found = dict(node.get("properties", {}))
    for alternative in (*node.get("anyOf", ()), *node.get("oneOf", ())):
        found.update(_children(alternative))
    return found


def project(document: Mapping[str, Any], fields: Sequence[Field]) -> dict[str, Any]:
    """The document's values at `fields` (null where the document has none), keyed by dotted path."""
    return {".".join(path): below(document, path) for path in fields}


def below(value: Any, keys: Sequence[str]) -> Any:
    """The value at `keys` inside nested objects, or None where one is missing (or not an object)."""
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value
