"""Presets: every shipped file loads, every figure has a source, bad presets fail with one clear line."""

from pathlib import Path

import pytest

from llamacalc.catalog import KINDS, load_catalog, shipped_presets_dir
from llamacalc.errors import InputError, PresetError
from llamacalc.flops import parameter_count

ISSUE_MODELS = [
    "llama-2-7b", "llama-2-13b", "llama-2-70b", "llama-3-8b", "llama-3-70b", "llama-3.1-8b",
    "llama-3.1-70b", "llama-3.1-405b", "llama-4-scout", "llama-4-maverick", "llama-4-behemoth",
    "llama-4-projected",
]  # fmt: skip
ISSUE_HARDWARE = [
    "a100-sxm-80gb", "h100-sxm", "h100-pcie", "h200-sxm", "b200", "gb200", "mi300x", "mi325x",
    "tpu-v5p", "tpu-v6e", "gaudi3",
]  # fmt: skip


def test_every_shipped_preset_builds(catalog):
    assert set(ISSUE_MODELS) <= set(catalog.names("models"))
    assert set(ISSUE_HARDWARE) <= set(catalog.names("hardware"))
    for name in catalog.names("models"):
        catalog.model(name)
    for name in catalog.names("hardware"):
        catalog.hardware(name)
    for name in catalog.names("clusters"):
        catalog.cluster(name)


def test_every_figure_has_a_source(catalog):
    for entries in catalog.entries.values():
        for entry in entries.values():
            for key in entry.figures:
                assert entry.source_of(key).strip(), f"{entry.where(key)} has no source"
            reported = entry.fields.get("reported")
            if reported:
                assert reported.get("source"), f"{entry.where('reported')} has no source"


def test_unsourced_headline_figures_are_labelled_assumptions(catalog):
    """The ~160K-GPU Llama 4 estimate has no primary source (reference-data C10)."""
    assert catalog.entry("clusters", "llama-4-projected-160k", "").is_assumption("gpus")
    assert catalog.entry("models", "llama-4-projected", "").is_assumption("cluster")
    assert catalog.entry("hardware", "h100-sxm", "").is_assumption("price")


@pytest.mark.parametrize(
    ("name", "published"),
    [("llama-3.1-8b", 8.03e9), ("llama-3.1-70b", 70.55e9), ("llama-3.1-405b", 405.85e9),
     ("llama-2-7b", 6.74e9), ("llama-2-13b", 13.02e9), ("llama-2-70b", 68.98e9)],
)  # fmt: skip
def test_parameter_counts_from_architecture_match_published(catalog, name, published):
    arch = catalog.model(name).arch
    assert parameter_count(arch) == pytest.approx(published, rel=0.01)


def test_moe_counts_match_llama4_text_only_totals(catalog):
    """Reference-data §2: text-only Scout 107.8B / 17.17B active; Maverick 400.7B / 17.18B."""
    scout, maverick = catalog.model("llama-4-scout").arch, catalog.model("llama-4-maverick").arch
    assert parameter_count(scout) == pytest.approx(107.8e9, rel=0.001)
    assert parameter_count(scout, active=True) == pytest.approx(17.17e9, rel=0.001)
    assert parameter_count(maverick) == pytest.approx(400.7e9, rel=0.001)
    assert parameter_count(maverick, active=True) == pytest.approx(17.18e9, rel=0.001)


def test_dense_peaks_are_not_sparse(catalog):
    """NVIDIA headlines 2:4-sparse figures; presets hold dense ones (reference-data §6)."""
    assert catalog.hardware("h100-sxm").peak("bf16") == 989.4e12
    assert catalog.hardware("a100-sxm-80gb").peak("bf16") == 312e12


def test_unknown_peak_is_an_error_not_a_guess(catalog):
    with pytest.raises(InputError, match="no published fp8 peak"):
        catalog.hardware("a100-sxm-80gb").peak("fp8")


def test_aliases_and_did_you_mean(catalog):
    assert catalog.hardware("h100").name == "h100-sxm"
    with pytest.raises(PresetError, match="did you mean 'llama-3.1-405b'"):
        catalog.model("llama-3.1-450b")


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "user.toml").write_text(text)
    return tmp_path


def load_user(tmp_path: Path, text: str):
    return load_catalog([shipped_presets_dir(), write(tmp_path, text)])


def test_user_preset_overrides_shipped_one(tmp_path):
    catalog = load_user(tmp_path, '[models."llama-3.1-405b"]\nparams = "1B"\ntokens = "1T"\nsource = "mine"\n')
    assert catalog.model("llama-3.1-405b").params == 1e9


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[models.x\n", "user.toml: not valid TOML"),
        ('[models.x]\nparms = "1B"\ntokens = "1T"\n', "models.x.parms: unknown field (did you mean 'params'?)"),
        ('[models.x]\nparams = "1B"\ntokens = true\n', "models.x.tokens: expected an integer or a number or a string"),
        ('[models.x]\nparams = "1B"\n', "models.x.tokens: missing required field"),
        ('[hardware.x]\npeak_bf16 = "5 W"\n', "hardware.x.peak_bf16: expected a compute rate per GPU"),
        ("[modles.x]\nparams = 1\n", "unknown table [modles] (did you mean 'models'?)"),
        ('[models.x]\nparams = "1B"\ntokens = "1T"\nlayers = -3\n', "models.x.layers: expected a positive integer"),
        ('[clusters.x]\ngpu = "h100-sxn"\ngpus = 8\n', "unknown GPU 'h100-sxn' (did you mean 'h100-sxm'?)"),
        (
            '[hardware.x]\npeak_bf16 = "1 PFLOP/s"\nprice = "5 USD/h"\nprice_range = ["1 USD/h", "4 USD/h"]\n',
            "hardware.x.price_range: expected a [low, high] around the preset's price",
        ),
        ('[hardware.x]\npeak_bf16 = "1 PFLOP/s"\nprice_range = ["1 USD/h"]\n', "x.price_range: expected [low, high]"),
        (
            '[models.x]\nparams = "1B"\ntokens = "1T"\n[models.x.reported]\ngpu_hour = 5\n',
            "reported.gpu_hour: unknown field",
        ),
    ],
)
def test_malformed_presets_name_file_preset_and_field(tmp_path, text, message):
    with pytest.raises(PresetError) as error:
        catalog = load_user(tmp_path, text)
        for kind in ("models", "hardware", "clusters"):
            for name in catalog.names(kind):
                getattr(catalog, {"models": "model", "hardware": "hardware", "clusters": "cluster"}[kind])(name)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_missing_presets_directory(tmp_path):
    with pytest.raises(PresetError, match="not a readable directory"):
        load_catalog([tmp_path / "nope"])


def test_oversized_preset_file_is_refused(tmp_path):
    with pytest.raises(PresetError, match="larger than"):
        load_user(tmp_path, "# " + "x" * 1_100_000)


RUN = """
[runs.phi-2]
title = "phi-2, our count"
organisation = "Microsoft"
params = 2700000000
tokens = 1400000000000
architecture = "dense"
accelerator = "a100-sxm-80gb"
accelerator_hours = 40000
hours_type = "end-to-end"
confidence = "primary"
source = "our notes"
"""


@pytest.mark.parametrize("extra", ["", '[models.x]\nparams = "1B"\ntokens = "1T"\n'])
def test_runs_files_are_read_when_runs_are_asked_for_in_file_order(tmp_path, extra):
    """A file of runs alone is parsed only when runs are needed; a later file still overrides."""
    catalog = load_user(tmp_path, "# our runs\n" + RUN + extra)
    assert catalog.run("phi-2").hours == 40000
    assert len(catalog.names("runs")) == 39


def test_a_broken_runs_file_fails_when_runs_are_read(tmp_path):
    catalog = load_user(tmp_path, "[runs.a]\nparams = 'many'\n")
    assert catalog.model("llama-3-8b").params  # a one-liner does not read runs
    with pytest.raises(PresetError, match="runs.a"):
        catalog.run("a")


def test_a_key_before_the_tables_is_not_a_runs_file(tmp_path):
    with pytest.raises(PresetError, match="unknown table"):
        load_user(tmp_path, "oops = 1\n" + RUN)


def test_every_citation_tag_in_the_presets_resolves(catalog):
    """[S7], [S25d, S25e]: each tag a shipped preset or default cites is a `sources` preset
    (`llamacalc presets show S7`), and no source points at a file the user does not have."""
    import re

    from llamacalc.inputs import DEFAULTS

    texts = [a.source for a in DEFAULTS.values()]
    for kind in catalog.entries:
        if kind == "sources":
            continue
        for entry in catalog.entries[kind].values():
            texts += [entry.source_of(key) for key in entry.fields] + [str(entry.fields.get("source", ""))]
            texts += [str(v) for v in entry.fields.get("reported", {}).values()]
            texts.append(str(entry.fields))  # nested tables and lists too (the efficiency model's scaling)
    tags = {
        tag
        for text in texts
        for group in re.findall(r"\[(S\d[^\]]*)\]", text)
        for tag in re.findall(r"S\d+[a-z]?", group)
    }
    assert tags, "the presets cite nothing?"
    missing = sorted(tag for tag in tags if tag not in catalog.entries["sources"])
    assert not missing
    assert not [t for t in texts if "reference-data" in t or "shared/" in t or "runs.md" in t]


def test_presets_filter_by_kind(cli):
    doc = cli("presets", "--kind", "hardware", "--json").json()
    assert doc["hardware"] and not doc["models"] and not doc["steps"]
    assert "h100-sxm" in cli("presets", "--kind", "hardware").stdout
    run = cli("presets", "--kind", "hardwar")
    assert run.code == 2 and "did you mean 'hardware'" in run.stderr


@pytest.mark.parametrize("kind", KINDS)
def test_presets_kind_lists_that_kind_alone(cli, kind):
    """`presets KIND` for every kind the catalog has (read from KINDS, so a new kind cannot be missed)."""
    doc = cli("presets", kind, "--json").json()
    assert doc[kind] and not [other for other in KINDS if other != kind and doc[other]]
    text = cli("presets", kind, env={"COLUMNS": "80"}).stdout
    assert text.startswith(f"{kind} (") and all(name in text for name in doc[kind])


def test_presets_lists_each_entrys_key_figures(cli):
    hardware = cli("presets", "hardware", env={"COLUMNS": "80"}).stdout
    h100 = hardware[hardware.index("h100-sxm") :].splitlines()[:3]
    assert "989 TFLOP/s" in h100[0] and "85.9 GB" in h100[1] and "$3.00/GPU-h" in h100[2], h100
    assert "peak: dense BF16" in hardware
    models = cli("presets", "models", env={"COLUMNS": "80"}).stdout
    assert "406B params" in models and "15.6T tokens" in models
    assert "350,000 × h100-sxm" in cli("presets", "clusters", env={"COLUMNS": "80"}).stdout
    assert "one kind: llamacalc presets KIND" in cli("presets", env={"COLUMNS": "80"}).stdout
    run = cli("presets", "hardwar")
    assert run.code == 2 and "Did you mean 'hardware'?" in run.stderr, run.stderr


def test_presets_show_gives_each_source_once(cli):
    text = cli("presets", "show", "h100-sxm", env={"COLUMNS": "200"}).stdout
    assert text.count("[S17] H100 whitepaper") == 1
    rows = {line.split()[0]: line for line in text.splitlines() if line.startswith("  ") and line.strip()}
    assert rows["peak_fp8"].rstrip().endswith("as peak_bf16") and rows["power"].rstrip().endswith("as peak_bf16")


def test_listing_a_kind_stays_lean_and_its_help_names_every_kind(cli):
    """`presets hardware` reads figures with the plain parses, never pint; --kind's help is KINDS'."""
    import subprocess
    import sys

    code = (
        "import sys\nfrom llamacalc.cli import app\ntry:\n    app(['presets', 'hardware'], prog_name='llamacalc')\n"
        "except SystemExit:\n    pass\nprint('pint' in sys.modules, file=sys.stderr)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.stderr.strip().splitlines()[-1] == "False", run.stderr
    shown = " ".join(cli("presets", "--help", env={"COLUMNS": "200"}).stdout.split())
    assert all(kind in shown for kind in KINDS) and f"this kind (or `presets KIND`): {', '.join(KINDS)}." in shown
