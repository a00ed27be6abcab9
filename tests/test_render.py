"""The one render step: every result type declares its schema and has a renderer in every format,
and a new format is one module."""

import importlib
import json
import pkgutil
from importlib import resources

import pytest

import llamacalc
from llamacalc.estimates.train import TrainReport, estimate
from llamacalc.output import render as rendering
from llamacalc.resolve import Resolver

FORMATS = ("document", "json", "tables", "table", "csv", "md")


def _result_types() -> dict[str, type]:
    """Every class in the package that declares a SCHEMA, and every type a format renders."""
    for module in pkgutil.walk_packages(llamacalc.__path__, "llamacalc."):
        if not module.name.endswith("__main__"):  # which would run the command line
            importlib.import_module(module.name)
    for module in set(rendering.FORMATS.values()):
        importlib.import_module(module)
    found: dict[str, type] = {}
    stack: list[type] = [object]
    while stack:
        base = stack.pop()
        for cls in type.__subclasses__(base):
            if cls.__module__.startswith("llamacalc.") and "SCHEMA" in vars(cls):
                found[cls.__name__] = cls
            stack.append(cls)
    rendered = {kind for format, kind in rendering._RENDERERS if format in ("document", "tables") and kind != "object"}
    assert rendered <= found.keys(), f"rendered, but no SCHEMA declared: {sorted(rendered - found.keys())}"
    return found


RESULT_TYPES = _result_types()


def test_the_result_types_are_found():
    assert {"TrainReport", "CheckReport", "LayoutResult", "Catalog", "Citations"} <= RESULT_TYPES.keys()


@pytest.mark.parametrize("name", sorted(RESULT_TYPES))
def test_every_result_type_declares_a_shipped_schema(name):
    schema = RESULT_TYPES[name].SCHEMA
    shipped = resources.files("llamacalc") / "schemas" / f"{schema}.json"
    assert shipped.is_file(), f"{name}.SCHEMA = {schema!r} names no shipped schema"


@pytest.mark.parametrize("format", FORMATS)
@pytest.mark.parametrize("name", sorted(RESULT_TYPES))
def test_every_result_type_renders_in_every_format(name, format):
    class Probe:  # an instance is not needed: the renderer is found by the type's name and bases
        pass

    probe = type(name, (Probe,), {})()
    direct = {kind for f, kind in rendering._RENDERERS if f == format}
    bases = {"object"} if format in ("json", "table", "csv", "md") else set()
    assert name in direct or bases & direct, f"no {format} renderer for {name}"
    assert rendering._found(probe, format) is not None


def test_a_result_without_a_schema_is_an_internal_error():
    from llamacalc.cli.writing import emit

    class Unknown:
        pass

    with pytest.raises(LookupError, match="Unknown declares no SCHEMA"):
        emit(Unknown(), as_json=True)


def test_a_new_format_is_one_module_of_renderers(catalog, monkeypatch):
    """What an HTML or SVG report would do: register renderers under a format name, point FORMATS at them."""
    monkeypatch.setitem(rendering.FORMATS, "shout", __name__)
    monkeypatch.setitem(
        rendering._RENDERERS, ("shout", "TrainReport"), lambda report: f"{report.result.budget.gpus} GPUS!\n"
    )
    report = TrainReport(estimate(Resolver(catalog), {"model": "llama-3-8b", "gpus": 512}))
    assert rendering.render(report, "shout") == "512 GPUS!\n"
    assert json.loads(rendering.render(report, "json"))["gpus"] == 512


def test_a_result_without_a_renderer_is_an_internal_error():
    with pytest.raises(LookupError, match="no document renderer for int"):
        rendering.render(3, "json")
