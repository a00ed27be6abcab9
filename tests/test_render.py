"""The one render step: every result type has a renderer in every format, and a format is one module."""

import json

import pytest

from llamacalc.estimates.train import TrainReport, estimate
from llamacalc.output import render as rendering
from llamacalc.resolve import Resolver

RESULT_TYPES = (
    "TrainReport", "Conventions", "Compared", "CheckReport", "Sweep", "OptimalPlan", "OvertrainingPlan",
    "LossComparison", "Backtest", "MemoryEstimate", "Catalog", "Entry", "InferencePlan", "ServeEstimate", "Fleet",
)  # fmt: skip


@pytest.mark.parametrize("format", ["document", "tables"])
def test_every_result_type_renders_as_json_and_tables(format):
    __import__(rendering.FORMATS[format])  # a format's module registers its renderers
    missing = [kind for kind in RESULT_TYPES if (format, kind) not in rendering._RENDERERS]
    assert not missing


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
