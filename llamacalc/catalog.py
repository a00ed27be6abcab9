"""Presets: loads the TOML files of models, hardware, clusters and scaling laws, and validates them.

A preset file holds tables named by kind (`[models."llama-3.1-405b"]`, `[hardware."h100-sxm"]`,
`[clusters."meta-24k"]`, `[laws."epoch"]`). Every figure carries a source: `sources.<field>`, or
the preset's `source`. A source that starts with "assumption" marks the figure as one.

Loading checks structure only (known keys, value types), without pint, so listing presets stays
fast; quantities are parsed when a preset is used, with errors naming the file, preset and field.
"""

from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from llamacalc import units
from llamacalc.errors import PresetError, UnitError, did_you_mean, prefixed
from llamacalc.files import parse_toml, read_text
from llamacalc.inputs import INPUTS, MAX_GPUS
from llamacalc.specs import (
    ARCH_FIELDS,
    CONFIDENCES,
    HOURS_TYPES,
    LAW_FORMS,
    MOE_FIELDS,
    PRECISIONS,
    RUN_ARCHITECTURES,
    SERVING_PRECISIONS,
    Architecture,
    Cluster,
    Efficiency,
    Entry,
    Hardware,
    Law,
    MeasuredStep,
    Model,
    Ownership,
    PriceTier,
    Reported,
    Run,
    Scaling,
    StepModel,
)

KINDS = (
    "models", "hardware", "clusters", "laws", "runs", "efficiency", "serving", "ownership", "pricing", "sources",
    "performance", "steps",
)  # fmt: skip
MAX_PRESET_BYTES = 1_000_000
# The step model's constants as a `performance` preset writes them (microseconds where timed).
STEP_CONSTANTS = ("kernel_overhead_us", "latency_up_us", "latency_out_us", "exposed_tp", "sustained", "attention")


def shipped_presets_dir() -> Path:
    """The presets shipped with llamacalc: inside the installed wheel, or the source checkout's."""
    package = Path(__file__).resolve().parent
    in_wheel = package / "presets"
    return in_wheel if in_wheel.is_dir() else package.parent / "presets"


# --- schema: field -> Python types TOML may give it -----------------------------------------

_TEXT = (str,)
_INT = (int,)
_NUMBER = (int, float)
_BOOL = (bool,)
_LIST = (list,)
_TABLE = (dict,)

_REPORTED = {"gpu": _TEXT, "gpu_hours": _NUMBER + _TEXT, "gpus": _INT, "co2_t": _NUMBER, "source": _TEXT}

SCHEMA: Mapping[str, Mapping[str, tuple[type, ...]]] = {
    "models": {
        "title": _TEXT,
        "organisation": _TEXT,
        "params": _NUMBER + _TEXT,
        "active_params": _NUMBER + _TEXT,
        "tokens": _NUMBER + _TEXT,
        "layers": _INT,
        "d_model": _INT,
        "heads": _INT,
        "kv_heads": _INT,
        "ffn": _INT,
        "vocab": _INT,
        "seq_len": _INT,
        "global_batch": _INT,
        "tied_embeddings": _BOOL,
        "experts": _INT,
        "experts_per_token": _INT,
        "shared_experts": _INT,
        "shared_ffn": _INT,
        "moe_ffn": _INT,
        "moe_every": _INT,
        **{
            key: _INT
            for key in (
                "dense_layers",
                "head_size",
                "layer_norms",
                "sliding_window",
                "kv_lora_rank",
                "q_lora_rank",
                "rope_head_dim",
                "v_head_dim",
            )
        },
        **{
            key: _BOOL
            for key in (
                "router_bias",
                "qkv_bias",
                "o_bias",
                "mlp_bias",
                "qk_norm",
                "qk_norm_full",
                "norm_bias",
                "gated_ffn",
            )
        },  # fmt: skip
        "precision": _TEXT,
        "cluster": _TEXT,
        "based_on": _TEXT,
        "compute_scale": _NUMBER,
        "reported": _TABLE,
        "source": _TEXT,
        "sources": _TABLE,
    },
    "hardware": {
        "title": _TEXT,
        "aliases": _LIST,
        "peak_bf16": _NUMBER + _TEXT,
        "peak_fp8": _NUMBER + _TEXT,
        "peak_int8": _NUMBER + _TEXT,
        "peak_fp4": _NUMBER + _TEXT,
        "memory": _NUMBER + _TEXT,
        "bandwidth": _NUMBER + _TEXT,
        "power": _NUMBER + _TEXT,
        "price": _NUMBER + _TEXT,
        "price_range": _LIST,
        "purchase_price": _NUMBER + _TEXT,
        "server_power": _NUMBER,
        "scale_up_domain": _INT,
        "scale_up_bandwidth": _NUMBER + _TEXT,
        "scale_up_efficiency": _NUMBER,
        "scale_out_bandwidth": _NUMBER + _TEXT,
        "scale_out_efficiency": _NUMBER,
        "gemm_bf16": _NUMBER,
        "gemm_fp8": _NUMBER,
        "attention_bf16": _NUMBER,
        "source": _TEXT,
        "sources": _TABLE,
    },
    "clusters": {
        "title": _TEXT,
        "gpu": _TEXT,
        "gpus": _INT,
        "capex": _NUMBER + _TEXT,
        "scale_out_bandwidth": _NUMBER + _TEXT,
        "pod_gpus": _INT,
        "oversubscription": _NUMBER,
        "source": _TEXT,
        "sources": _TABLE,
    },
    "performance": {
        "title": _TEXT,
        **{key: _NUMBER for key in STEP_CONSTANTS},
        "statistics": _TABLE,
        "source": _TEXT,
        "sources": _TABLE,
    },
    "steps": {
        "title": _TEXT,
        "model": _TEXT,
        **{key: _INT for key in ARCH_FIELDS},
        "gated_ffn": _BOOL,
        "gpu": _TEXT,
        "cluster": _TEXT,
        "gpus": _INT,
        "seq_len": _INT,
        "global_batch": _INT,
        **{key: _INT for key in ("tp", "pp", "dp", "cp", "ep", "vp", "micro_batch", "zero")},
        "recompute": _TEXT,
        "precision": _TEXT,
        "sequence_parallel": _BOOL,
        "attention": _TEXT,
        "tokens_per_s_per_gpu": _NUMBER,
        "group": _TEXT,
        "source": _TEXT,
        "sources": _TABLE,
    },
    "sources": {"title": _TEXT, "source": _TEXT},  # a citation tag: its title is the reference
    "pricing": {
        "title": _TEXT,
        "discount": _LIST,
        "source": _TEXT,
        "sources": _TABLE,
    },
    "ownership": {
        "title": _TEXT,
        "networking_share": _NUMBER,
        "depreciation_ooms_per_year": _NUMBER,
        "average_power": _NUMBER,
        "electricity": _NUMBER + _TEXT,
        "source": _TEXT,
        "sources": _TABLE,
    },  # fmt: skip
    "runs": {
        "title": _TEXT,
        "organisation": _TEXT,
        "year": _INT,
        "params": _NUMBER + _TEXT,
        "active_params": _NUMBER + _TEXT,
        "tokens": _NUMBER + _TEXT,
        "architecture": _TEXT,
        "accelerator": _TEXT,
        "count": _INT,
        "accelerator_hours": _NUMBER + _TEXT,
        "hours_type": _TEXT,
        "confidence": _TEXT,
        "derivation": _TEXT,
        "flags": _LIST,
        "source": _TEXT,
        "sources": _TABLE,
    },
    "efficiency": {
        "title": _TEXT,
        "intercept": _NUMBER,
        "log10_active": _NUMBER,
        "log2_peak": _NUMBER,
        "moe": _NUMBER,
        "size_cap": _NUMBER + _TEXT,
        "sigma": _NUMBER,
        "active_params_range": _LIST,
        "peak_range": _LIST,
        "gpus_range": _LIST,
        "statistics": _TABLE,
        "scaling": _LIST,
        "scaling_from": _INT,
        "source": _TEXT,
        "sources": _TABLE,
    },
    "laws": {
        "title": _TEXT,
        "form": _TEXT,
        "E": _NUMBER,
        "A": _NUMBER,
        "B": _NUMBER,
        "alpha": _NUMBER,
        "beta": _NUMBER,
        "ratio": _NUMBER,
        "fit_min_flops": _NUMBER,
        "fit_max_flops": _NUMBER,
        "source": _TEXT,
        "sources": _TABLE,
    },
    "serving": {
        "title": _TEXT,
        "model": _TEXT,
        "accelerator": _TEXT,
        "precision": _TEXT,
        "tp": _INT,
        "input": _INT,
        "output": _INT,
        "concurrency": _INT + _TEXT,
        "tokens_per_s": _NUMBER,
        "source": _TEXT,
        "sources": _TABLE,
    },  # fmt: skip
}

REQUIRED: Mapping[str, tuple[str, ...]] = {
    "pricing": ("discount", "source"),
    "sources": ("title",),
    "ownership": ("networking_share", "depreciation_ooms_per_year", "average_power", "electricity", "source"),
    "serving": ("model", "accelerator", "precision", "tp", "input", "output", "concurrency", "tokens_per_s", "source"),
    "models": (),  # params and tokens, unless based_on: checked in Catalog.model
    "hardware": ("peak_bf16",),
    "clusters": ("gpu", "gpus"),
    "laws": ("form",),
    "runs": (
        "organisation",
        "params",
        "tokens",
        "accelerator",
        "accelerator_hours",
        "hours_type",
        "confidence",
        "source",
    ),
    "efficiency": ("intercept", "sigma", "active_params_range", "peak_range", "source"),
    "performance": (*STEP_CONSTANTS, "source"),
    "steps": ("gpu", "gpus", "seq_len", "global_batch", "precision", "tokens_per_s_per_gpu", "group", "source"),
}

# --- loading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Citations:
    """Citation tags ([S7]) and their full references: what `llamacalc sources` prints."""

    SCHEMA = "sources"  # its document's JSON Schema (llamacalc schema sources)

    references: Mapping[str, str]


@dataclass(frozen=True)
class Catalog:
    """Every preset by kind and name; user presets override shipped ones of the same name."""

    SCHEMA = "presets"  # its document's JSON Schema (llamacalc schema presets)

    entries: Mapping[str, Mapping[str, Entry]]
    house: Any = None  # a config file's defaults (house.House), which every resolution applies
    _built: dict[tuple[str, str], Any] = field(default_factory=dict, compare=False, repr=False)
    _aliases: dict[str, dict[str, Entry]] = field(default_factory=dict, compare=False, repr=False)

    def names(self, kind: str) -> list[str]:
        return list(self.entries[kind])

    def entry(self, kind: str, name: str, option: str) -> Entry:
        """The preset `name` of `kind`, found by name or alias; `option` names the asker in errors."""
        presets = self.entries[kind]
        if name in presets:
            return presets[name]
        if kind not in self._aliases:  # built once: presets name their GPU by alias on every estimate
            aliases = self._aliases[kind] = {}
            for entry in presets.values():
                for alias in entry.fields.get("aliases", ()):
                    aliases.setdefault(alias, entry)  # the first preset to claim it, as listed
        if name in self._aliases[kind]:
            return self._aliases[kind][name]
        singular = {
            "models": "model", "hardware": "GPU", "clusters": "cluster", "laws": "law", "runs": "run",
            "efficiency": "efficiency model", "serving": "serving run", "ownership": "ownership model",
            "sources": "citation", "pricing": "price tier", "performance": "step model", "steps": "measured step",
        }[kind]  # fmt: skip
        raise PresetError(
            f"{option}: unknown {singular} '{name}'{did_you_mean(name, presets)}; "
            f"see 'llamacalc {'sources' if kind == 'sources' else 'presets'}' for the list"
        )

    def find(self, name: str) -> Entry:
        """A preset of any kind by name, for `presets show`."""
        for kind in KINDS:
            if name in self.entries[kind]:
                return self.entries[kind][name]
        every = [n for kind in KINDS for n in self.entries[kind]]
        raise PresetError(f"unknown preset '{name}'{did_you_mean(name, every)}; see 'llamacalc presets'")

    def model(self, name: str, option: str = "MODEL") -> Model:
        return self._spec("models", name, option, lambda entry: _build_model(self, entry))  # type: ignore[no-any-return]

    def hardware(self, name: str, option: str = "--gpu") -> Hardware:
        return self._spec("hardware", name, option, _build_hardware)  # type: ignore[no-any-return]

    def law(self, name: str, option: str = "--law") -> Law:
        return self._spec("laws", name, option, _build_law)  # type: ignore[no-any-return]

    def cluster(self, name: str, option: str = "--cluster") -> Cluster:
        return self._spec("clusters", name, option, lambda entry: _build_cluster(self, entry))  # type: ignore[no-any-return]

    def run(self, name: str, option: str = "--run") -> Run:
        return self._spec("runs", name, option, lambda entry: _build_run(self, entry))  # type: ignore[no-any-return]

    def ownership(self, name: str = "epoch") -> Ownership:
        return self._spec("ownership", name, "--pricing owned", _build_ownership)  # type: ignore[no-any-return]

    def citations(self, tag: str | None = None) -> Citations:
        """Every citation tag with its full reference, or the one `tag` (a did-you-mean if unknown)."""
        tags = [self.entry("sources", tag, "TAG").name] if tag is not None else self.names("sources")
        return Citations({name: self.entries["sources"][name].title for name in tags})

    def tier(self, name: str) -> PriceTier:
        return self._spec("pricing", name, "--pricing", _build_tier)  # type: ignore[no-any-return]

    def serving(self, name: str) -> Entry:
        return self._spec("serving", name, "serving", _checked_serving)  # type: ignore[no-any-return]

    def efficiency(self, name: str = "default") -> Efficiency:
        return self._spec("efficiency", name, "efficiency model", _build_efficiency)  # type: ignore[no-any-return]

    def step_model(self, name: str = "step-model") -> StepModel:
        return self._spec("performance", name, "step model", _build_step_model)  # type: ignore[no-any-return]

    def measured_step(self, name: str) -> MeasuredStep:
        return self._spec("steps", name, "measured step", lambda entry: _build_measured(self, entry))  # type: ignore[no-any-return]

    def including(self, entry: Entry) -> Catalog:
        """This catalog plus one more preset (validated like a file's), e.g. read from a config.json."""
        entries = {kind: dict(found) for kind, found in self.entries.items()}
        entries[entry.kind][entry.name] = _validated(entry)
        return Catalog({kind: MappingProxyType(found) for kind, found in entries.items()}, self.house)

    def _spec(self, kind: str, name: str, option: str, build: Callable[[Entry], Any]) -> Any:
        """Each preset parsed into its spec once, and looked up once by each name it is asked by (its
        own or an alias): a batch names the same presets on every line."""
        found = self._built.get((kind, name))
        if found is None:
            entry = self.entry(kind, name, option)
            found = self._built.get((kind, entry.name))
            if found is None:
                found = self._built[kind, entry.name] = build(entry)
            self._built[kind, name] = found
        return found


RunsSource = tuple[Path, str] | list[Entry]  # a file of lazy kinds alone, unparsed; or another file's lazy entries


def load_catalog(dirs: Sequence[Path], named: Sequence[str] = ()) -> Catalog:
    """Load every `*.toml` under each directory (or each file), in order: the shipped presets first.
    A user's preset overrides a shipped one of the same name; two of the user's files defining one
    name is an error naming both. `named` says what gave each folder ('--presets' where unsaid), so
    that an error about a folder blames the option, variable or default that named it."""
    entries: dict[str, dict[str, Entry]] = {kind: {} for kind in KINDS}
    runs: list[RunsSource] = []  # in file order: a file of runs alone, or another file's runs
    users: dict[tuple[str, str], Path] = {}  # each user preset's file: one name, one file
    for index, place in enumerate(dirs):
        given = named[index] if index < len(named) else "--presets"
        for path in _toml_files(place, given):
            with prefixed(given, PresetError):
                text = read_text(path, MAX_PRESET_BYTES)
            if _holds_only_lazy_kinds(text):
                runs.append((path, text))
                continue
            found = list(_entries(path, text))
            for entry in found:
                earlier = users.get((entry.kind, entry.name))
                if earlier and earlier != entry.path:
                    raise PresetError(f"{entry.kind}.{entry.name} is in both {earlier} and {entry.path}; keep one")
                if index:  # past the shipped presets, which a user's override on purpose
                    users[entry.kind, entry.name] = entry.path
                entries[entry.kind][entry.name] = entry
            runs.append([entry for entry in found if entry.kind in LAZY_KINDS])
    return Catalog(_Kinds({kind: MappingProxyType(found) for kind, found in entries.items()}, runs))


_HEADER = re.compile(r"^\s*\[\[?\s*([^.\]\s]+)", re.M)
_TOP_LEVEL_KEY = re.compile(r"\A(?:\s*(?:#[^\n]*)?\n)*\s*[^\s#\[]")


LAZY_KINDS = frozenset({"runs", "serving", "sources"})  # read by backtest, calibrate, serve and presets alone


def _holds_only_lazy_kinds(text: str) -> bool:
    """Whether a file's tables are all runs or serving measurements, with no key before them: parsing
    the published ones would double every one-liner's load time for tables it never reads."""
    kinds = set(_HEADER.findall(text))
    return bool(kinds) and kinds <= LAZY_KINDS and not _TOP_LEVEL_KEY.match(text)


class _Kinds(Mapping[str, Mapping[str, Entry]]):
    """Presets by kind, with files of lazy kinds alone parsed when one of those kinds is first asked for."""

    def __init__(self, eager: Mapping[str, Mapping[str, Entry]], lazy: Sequence[RunsSource]) -> None:
        self._kinds = dict(eager)
        self._lazy = lazy if any(isinstance(source, tuple) for source in lazy) else None

    def __getitem__(self, kind: str) -> Mapping[str, Entry]:
        if kind in LAZY_KINDS and self._lazy is not None:
            found: dict[str, dict[str, Entry]] = {lazy: {} for lazy in LAZY_KINDS}
            for source in self._lazy:
                for entry in _entries(*source) if isinstance(source, tuple) else source:
                    found[entry.kind][entry.name] = entry
            self._kinds.update({lazy: MappingProxyType(entries) for lazy, entries in found.items()})
            self._lazy = None
        return self._kinds[kind]

    def __iter__(self) -> Iterator[str]:
        return iter(KINDS)

    def __len__(self) -> int:
        return len(KINDS)


MAX_PRESET_WALK = 10_000  # files and folders looked at under one presets folder: '/' is not a folder of presets


def _toml_files(path: Path, named: str = "--presets") -> Iterable[Path]:
    """A preset file itself, or every *.toml under a directory: its symlinked folders not entered
    (no loop, no walk off elsewhere), and no more than MAX_PRESET_WALK entries looked at, so that
    `--presets /` is an error at once instead of a walk of the whole disk."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise PresetError(f"{named}: '{path}' is not a readable directory (or file) of *.toml presets")
    found, folders, seen = [], [path], 0
    try:
        while folders:
            with os.scandir(folders.pop()) as entries:
                for entry in entries:
                    seen += 1
                    if seen > MAX_PRESET_WALK:
                        raise PresetError(
                            f"{named}: '{path}' holds more than {MAX_PRESET_WALK:,} files and folders; "
                            "name the folder of your presets"
                        )
                    if entry.is_dir(follow_symlinks=False):
                        folders.append(Path(entry.path))
                    elif entry.name.endswith(".toml"):
                        found.append(Path(entry.path))
    except OSError as error:
        raise PresetError(f"{named}: cannot read '{path}': {error.strerror}") from None
    return sorted(found)


def _floatable(path: Path, data: Any) -> None:
    """Every integer in a file's data within a float's range: TOML's have any size, and a preset
    figure of 400 digits is an error naming its key, not a crash where a formula reads it."""
    todo: list[tuple[str, Any]] = [("", data)]
    while todo:
        where, value = todo.pop()
        if isinstance(value, dict):
            todo.extend((f"{where}.{key}" if where else str(key), item) for key, item in value.items())
        elif isinstance(value, list):
            todo.extend((f"{where}[{i}]", item) for i, item in enumerate(value))
        elif isinstance(value, int) and abs(value) > sys.float_info.max:
            raise PresetError(f"{path}: {where}: a number of {len(str(value))} digits (too large)")


def _entries(path: Path, text: str) -> Iterable[Entry]:
    """The presets of one file's text, each validated."""
    data = parse_toml(text, str(path), "presets", PresetError)
    _floatable(path, data)
    for kind, table in data.items():
        if kind not in KINDS:
            raise PresetError(
                f"{path}: unknown table [{kind}]{did_you_mean(kind, KINDS)}; expected one of {', '.join(KINDS)}"
            )
        if not isinstance(table, dict):
            raise PresetError(f"{path}: [{kind}] must be a table of presets")
        for name, fields in table.items():
            yield _validated(Entry(kind, name, path, fields))


def _validated(entry: Entry) -> Entry:
    if not isinstance(entry.fields, dict):
        raise PresetError(f"{entry.where()}: expected a table of fields")
    schema = SCHEMA[entry.kind]
    for key, value in entry.fields.items():
        if key not in schema:
            raise PresetError(
                f"{entry.where(key)}: unknown field{did_you_mean(key, schema)}; expected one of {', '.join(schema)}"
            )
        _check_type(entry, key, value, schema[key])
    for key in REQUIRED[entry.kind]:
        if key not in entry.fields:
            raise PresetError(f"{entry.where(key)}: missing required field")
    _check_nested(entry, "sources", dict.fromkeys(entry.fields, _TEXT))
    _check_nested(entry, "reported", _REPORTED)
    _check_nested(entry, "statistics", dict.fromkeys(entry.fields.get("statistics", {}), _NUMBER))  # a fit's figures
    for alias in entry.fields.get("aliases", ()):
        if not isinstance(alias, str):
            raise PresetError(f"{entry.where('aliases')}: expected a list of strings")
    return entry


def _check_type(entry: Entry, key: str, value: Any, types: tuple[type, ...]) -> None:
    is_bool = isinstance(value, bool)
    if not isinstance(value, types) or (is_bool and bool not in types):
        expected = " or ".join(_TYPE_NAMES[t] for t in types)
        raise PresetError(f"{entry.where(key)}: expected {expected}, got {type(value).__name__} {value!r:.40}")
    if types == _INT and isinstance(value, int) and value <= 0:
        raise PresetError(f"{entry.where(key)}: expected a positive integer, got {value}")


def _check_nested(entry: Entry, key: str, schema: Mapping[str, tuple[type, ...]]) -> None:
    for sub, value in entry.fields.get(key, {}).items():
        if sub not in schema:
            raise PresetError(f"{entry.where(key + '.' + sub)}: unknown field{did_you_mean(sub, schema)}")
        _check_type(entry, f"{key}.{sub}", value, schema[sub])


_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true/false",
    list: "a list",
    dict: "a table",
}


def _count(what: str) -> Callable[[Any], float]:
    return lambda value: units.parse_count(value, what)


def _quantity(kind: units.Kind) -> Callable[[Any], float]:
    return lambda value: units.parse_quantity(value, kind)


# Physical figures of one accelerator, in canonical units: far past any chip made, either way; a
# peak of 5e-324 FLOP/s or an exabyte of HBM is a typo that would break the arithmetic downstream.
# A power is held to the --power option's bounds instead (_as_option).
PHYSICAL_BOUNDS: Mapping[str, tuple[float, float]] = {
    "FLOP/s": (1e9, 1e19), "B": (1e6, 1e15), "B/s": (1e6, 1e16), "USD": (1e-3, 1e15),
}  # fmt: skip


def _positive(kind: units.Kind) -> Callable[[Any], float]:
    """A physical figure that must be above zero, and within PHYSICAL_BOUNDS for its unit."""
    low, high = PHYSICAL_BOUNDS.get(kind.unit, (0.0, math.inf))

    def parse(value: Any) -> float:
        parsed = units.parse_quantity(value, kind)
        if parsed <= 0:
            raise UnitError(f"expected {kind.name} above zero, got '{value}'")
        if not low <= parsed <= high:
            raise UnitError(f"expected {kind.name} between {low:g} and {high:g} {kind.unit}, got '{value}'")
        return parsed

    return parse


def _number(entry: Entry, key: str, low: float = 0.0, high: float = math.inf, *, above: bool = True) -> float:
    """A plain number field within (low, high] (or [low, high] without `above`)."""
    value = entry.fields[key]
    number = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else math.nan
    if not (math.isfinite(number) and (number > low if above else number >= low) and number <= high):
        bound = f"{'above' if above else 'at least'} {low:g}" + (f" and at most {high:g}" if high < math.inf else "")
        expected = "a finite number" if low == -math.inf and high == math.inf else f"a number {bound}"
        raise PresetError(f"{entry.where(key)}: expected {expected}, got {value!r}")
    return number


def _as_option(entry: Entry, key: str, value: Any, input_key: str) -> Any:
    """A preset figure that an option also gives, held to that option's bounds (inputs.INPUTS, the
    README's "Exit codes"): past them it is a typo in the file, refused naming it, never a run."""
    if value is None:
        return None
    spec = INPUTS[input_key]
    assert spec.bounds is not None
    unit, scale = spec.display
    (low, high), shown = spec.bounds, value / scale
    if not low <= shown <= high:
        side, bound = ("most", high) if shown > high else ("least", low)
        raise PresetError(
            f"{entry.where(key)}: expected at {side} {_bound(bound)} {unit}".rstrip()
            + f" (the bound of {spec.option}), got {_bound(shown)}"
        )
    return value


def _bound(value: float) -> str:
    """A bound as the README writes it: 10,000 and 0.0001, 1e15 past a million (never 'e+')."""
    if value == int(value) and value < 1e6:
        return f"{value:,.0f}"
    return re.sub(r"e\+?0*(\d)", r"e\1", f"{value:.3g}")


def _build_hardware(entry: Entry) -> Hardware:
    peaks = {p: entry.parse(f"peak_{p}", _positive(units.RATE)) for p in SERVING_PRECISIONS}
    price = _as_option(entry, "price", entry.parse("price", _quantity(units.PRICE)), "price")
    price_range = _range(entry, "price_range", _quantity(units.PRICE)) if "price_range" in entry.fields else None
    for end in price_range or ():
        _as_option(entry, "price_range", end, "price")
    if price_range and not (price and price_range[0] <= price <= price_range[1]):
        raise PresetError(f"{entry.where('price_range')}: expected a [low, high] around the preset's price")
    fabric = {
        "scale_up_domain": entry.parse("scale_up_domain", _count("a GPU count")),
        "scale_up_bandwidth": entry.parse("scale_up_bandwidth", _positive(units.BANDWIDTH)),
        "scale_out_bandwidth": entry.parse("scale_out_bandwidth", _positive(units.BANDWIDTH)),
        **{key: _number(entry, key, high=1.5) for key in _FRACTIONS if key in entry.fields},
    }
    gemm = {p: _number(entry, f"gemm_{p}", high=1.0) for p in PRECISIONS if f"gemm_{p}" in entry.fields}
    return Hardware(
        name=entry.name,
        title=entry.title,
        peaks=MappingProxyType({p: v for p, v in peaks.items() if v}),
        memory=entry.parse("memory", _positive(units.MEMORY)),
        bandwidth=entry.parse("bandwidth", _positive(units.BANDWIDTH)),
        power=_as_option(entry, "power", entry.parse("power", _positive(units.POWER)), "power"),
        price=price,
        price_range=price_range,
        purchase_price=entry.parse("purchase_price", _positive(units.MONEY)),
        server_power=_number(entry, "server_power", 1.0, 10.0, above=False) if "server_power" in entry.fields else None,
        entry=entry,
        scale_up_domain=None if fabric["scale_up_domain"] is None else int(fabric["scale_up_domain"]),
        scale_up_bandwidth=fabric["scale_up_bandwidth"],
        scale_up_efficiency=fabric.get("scale_up_efficiency"),
        scale_out_bandwidth=fabric["scale_out_bandwidth"],
        scale_out_efficiency=fabric.get("scale_out_efficiency"),
        gemm=MappingProxyType(gemm),
        attention=_number(entry, "attention_bf16", high=1.0) if "attention_bf16" in entry.fields else None,
    )


# Measured fractions of a line rate; a bus bandwidth may pass 1 where switches reduce in-network.
_FRACTIONS = ("scale_up_efficiency", "scale_out_efficiency")


def _build_model(catalog: Catalog, entry: Entry) -> Model:
    fields = entry.fields
    based_on = fields.get("based_on")
    if based_on is None:
        for key in ("params", "tokens"):
            if key not in fields:
                raise PresetError(f"{entry.where(key)}: missing required field (or give based_on and compute_scale)")
    if "cluster" in fields:
        catalog.entry("clusters", fields["cluster"], entry.where("cluster"))
    precision = fields.get("precision")
    if precision is not None and precision not in PRECISIONS:
        raise PresetError(f"{entry.where('precision')}: expected one of {', '.join(PRECISIONS)}, got '{precision}'")
    params = _as_option(entry, "params", entry.parse("params", _count("a parameter count")), "params")
    active = _as_option(
        entry, "active_params", entry.parse("active_params", _count("a parameter count")), "active_params"
    )
    baseline = None
    if based_on is not None:
        if "compute_scale" not in fields:
            raise PresetError(f"{entry.where('compute_scale')}: missing (required with based_on)")
        target = catalog.entry("models", based_on, entry.where("based_on"))
        if "based_on" in target.fields or "tokens" not in target.fields:  # no chains, so no cycles
            raise PresetError(f"{entry.where('based_on')}: must name a model with params and tokens")
        baseline = catalog.model(target.name)
    return Model(
        name=entry.name,
        title=entry.title,
        params=params,
        active_params=active if active is not None else params,
        tokens=_as_option(entry, "tokens", entry.parse("tokens", _count("a token count")), "tokens"),
        baseline=baseline,
        compute_scale=_number(entry, "compute_scale", high=1e12) if "compute_scale" in fields else None,
        arch=architecture(entry),
        precision=precision,
        cluster=fields.get("cluster"),
        reported=_build_reported(catalog, entry),
        entry=entry,
        global_batch=int(_number(entry, "global_batch", 1.0, 1e9, above=False)) if "global_batch" in fields else None,
    )


def architecture(entry: Entry) -> Architecture | None:
    """A model preset's architecture fields, checked for completeness and shape; None if it has none."""
    fields = entry.fields
    present = [key for key in ARCH_FIELDS if key in fields]
    if not present:
        return None
    missing = [key for key in ARCH_FIELDS if key not in fields]
    if missing:
        raise PresetError(f"{entry.where(missing[0])}: missing; architecture needs all of {', '.join(ARCH_FIELDS)}")
    if "experts" in fields:
        for key in MOE_FIELDS:
            if key not in fields:
                raise PresetError(f"{entry.where(key)}: missing; an MoE needs all of {', '.join(MOE_FIELDS)}")
    if (fields["d_model"] % fields["heads"] and not fields.get("head_size")) or fields["heads"] % fields["kv_heads"]:
        raise PresetError(
            f"{entry.where('heads')}: heads must divide d_model (or give head_size) and be a multiple of kv_heads"
        )
    names = [f for f in Architecture._fields if f in fields]
    return Architecture(**{key: fields[key] for key in names})


def _build_reported(catalog: Catalog, entry: Entry) -> Reported | None:
    table = entry.fields.get("reported")
    if table is None:
        return None
    gpu = table.get("gpu")
    peaks: Mapping[str, float] = {}
    if gpu is not None:
        gpu = catalog.entry("hardware", gpu, entry.where("reported.gpu")).name
        peaks = catalog.hardware(gpu).peaks
    gpu_hours = table.get("gpu_hours")
    if gpu_hours is not None:
        with prefixed(entry.where("reported.gpu_hours"), PresetError):
            gpu_hours = units.parse_count(gpu_hours, "a GPU-hour count")
        if gpu_hours < 1:
            raise PresetError(f"{entry.where('reported.gpu_hours')}: expected at least one GPU-hour, got {gpu_hours:g}")
    co2 = table.get("co2_t")
    if co2 is not None and not (math.isfinite(co2) and co2 >= 0):
        raise PresetError(f"{entry.where('reported.co2_t')}: expected tonnes of CO2, 0 or more, got {co2}")
    source = str(table.get("source", ""))
    gpus = _as_option(entry, "reported.gpus", table.get("gpus"), "gpus")
    return Reported(gpu, gpu_hours, gpus, co2, source, tuple(peaks.items()))


def _law_constant(entry: Entry, key: str) -> float:
    """Constants that keep the optimum defined: the floor E ≥ 0, exponents in (0, 1] (compute then
    grows both N and D), every other constant above zero."""
    if key == "E":
        return _number(entry, key, 0.0, above=False)
    return _number(entry, key, 0.0, 1.0) if key in ("alpha", "beta") else _number(entry, key)


def _build_law(entry: Entry) -> Law:
    form = entry.fields["form"]
    if form not in LAW_FORMS:
        raise PresetError(f"{entry.where('form')}: expected one of {', '.join(LAW_FORMS)}, got '{form}'")
    for key in LAW_FORMS[form]:
        if key not in entry.fields:
            raise PresetError(f"{entry.where(key)}: missing; a {form} law needs {', '.join(LAW_FORMS[form])}")
    constants = {key: _law_constant(entry, key) for key in LAW_FORMS[form]}
    fit_range = None
    if "fit_min_flops" in entry.fields and "fit_max_flops" in entry.fields:
        fit_range = _number(entry, "fit_min_flops"), _number(entry, "fit_max_flops")
        if fit_range[0] > fit_range[1]:
            raise PresetError(f"{entry.where('fit_min_flops')}: expected at most fit_max_flops")
    return Law(entry.name, entry.title, form, MappingProxyType(constants), fit_range, entry)


def _build_cluster(catalog: Catalog, entry: Entry) -> Cluster:
    gpu = catalog.entry("hardware", entry.fields["gpu"], entry.where("gpu")).name
    gpus = _as_option(entry, "gpus", entry.parse("gpus", lambda v: int(units.parse_count(v, "a GPU count"))), "gpus")
    pod = entry.parse("pod_gpus", lambda v: int(units.parse_count(v, "a GPU count")))
    return Cluster(
        entry.name, entry.title, gpu, gpus, entry.parse("capex", _positive(units.MONEY)), entry,
        scale_out_bandwidth=entry.parse("scale_out_bandwidth", _positive(units.BANDWIDTH)), pod=pod,
        oversubscription=_number(entry, "oversubscription", 1.0, 1e3, above=False)
        if "oversubscription" in entry.fields else None,
    )  # fmt: skip


def _build_step_model(entry: Entry) -> StepModel:
    micro = {key: _number(entry, key, 0.0, 1e6, above=False) * 1e-6 for key in STEP_CONSTANTS if key.endswith("_us")}
    return StepModel(
        name=entry.name,
        kernel_overhead=micro["kernel_overhead_us"],
        latency_up=micro["latency_up_us"],
        latency_out=micro["latency_out_us"],
        exposed_tp=_number(entry, "exposed_tp", 0.0, 1.0, above=False),
        sustained=_number(entry, "sustained", 0.05, 1.0),  # below a twentieth of the ceiling: a typo, not a GPU
        attention=_number(entry, "attention", 0.05, 1.0),
        statistics=MappingProxyType({k: float(v) for k, v in entry.fields.get("statistics", {}).items()}),
        entry=entry,
    )


RECOMPUTES = ("none", "selective", "full")
ATTENTIONS = ("flash", "unfused")


def _build_measured(catalog: Catalog, entry: Entry) -> MeasuredStep:
    """A published step: its architecture from a model preset (`model`) or its own fields."""
    fields = entry.fields
    if "model" in fields:
        model = catalog.model(fields["model"], entry.where("model"))
        if model.arch is None:
            raise PresetError(f"{entry.where('model')}: '{model.name}' has no architecture")
        arch = model.arch
    else:
        found = architecture(entry)
        if found is None:
            raise PresetError(f"{entry.where()}: give a model preset or the architecture ({', '.join(ARCH_FIELDS)})")
        arch = found
    gpu = catalog.entry("hardware", fields["gpu"], entry.where("gpu")).name
    cluster = catalog.cluster(fields["cluster"], entry.where("cluster")).name if "cluster" in fields else None
    _choice(entry, "precision", PRECISIONS)
    for key, choices in (("recompute", RECOMPUTES), ("attention", ATTENTIONS)):
        if key in fields:
            _choice(entry, key, choices)
    layout_keys = ("tp", "pp", "dp", "cp", "ep", "vp", "micro_batch", "zero", "recompute", "precision",
                   "sequence_parallel", "attention")  # fmt: skip
    for key in layout_keys[:8]:
        if key in fields and not 0 <= fields[key] <= 1 << 20:
            raise PresetError(f"{entry.where(key)}: expected a degree from 0 to {1 << 20}, got {fields[key]}")
    return MeasuredStep(
        name=entry.name,
        title=entry.title,
        arch=arch,
        gpu=gpu,
        cluster=cluster,
        gpus=int(_number(entry, "gpus", 1.0, MAX_GPUS, above=False)),
        seq_len=int(_number(entry, "seq_len", 1.0, 1e8, above=False)),
        global_batch=int(_number(entry, "global_batch", 1.0, 1e9, above=False)),
        layout=MappingProxyType({key: fields[key] for key in layout_keys if key in fields}),
        tokens_per_s_per_gpu=_number(entry, "tokens_per_s_per_gpu", high=1e9),
        group=str(fields["group"]),
        entry=entry,
    )


def _choice(entry: Entry, key: str, choices: tuple[str, ...]) -> str:
    value = str(entry.fields[key])
    if value not in choices:
        raise PresetError(f"{entry.where(key)}: expected one of {', '.join(choices)}, got '{value}'")
    return value


def _checked_serving(entry: Entry) -> Entry:
    """A serving measurement, its figures checked beyond their types: a throughput, a precision the
    roofline knows, and a load of 1 or "max" (the two regimes `serve` derates by)."""
    _number(entry, "tokens_per_s")
    _choice(entry, "precision", SERVING_PRECISIONS)
    if entry.fields["concurrency"] not in (1, "max"):
        raise PresetError(f'{entry.where("concurrency")}: expected 1 or "max", got {entry.fields["concurrency"]!r}')
    return entry


def _build_run(catalog: Catalog, entry: Entry) -> Run:
    fields = entry.fields
    params = _as_option(entry, "params", entry.parse("params", _count("a parameter count")), "params")
    active = _as_option(
        entry, "active_params", entry.parse("active_params", _count("a parameter count")), "active_params"
    )
    hours = entry.parse("accelerator_hours", _count("an accelerator-hour count"))
    tokens = _as_option(entry, "tokens", entry.parse("tokens", _count("a token count")), "tokens")
    for key, value in (
        ("params", params),
        ("tokens", tokens),
        ("accelerator_hours", hours),
    ):
        if not value or value <= 0:
            raise PresetError(f"{entry.where(key)}: expected a positive number")
    return Run(
        name=entry.name,
        title=entry.title,
        organisation=str(fields["organisation"]),
        params=params,
        active_params=active if active is not None else params,
        tokens=tokens,
        architecture=_choice(entry, "architecture", RUN_ARCHITECTURES) if "architecture" in fields else "dense",
        accelerator=catalog.entry("hardware", fields["accelerator"], entry.where("accelerator")).name,
        count=_as_option(entry, "count", fields.get("count"), "gpus"),
        hours=hours,
        hours_type=_choice(entry, "hours_type", HOURS_TYPES),
        confidence=_choice(entry, "confidence", CONFIDENCES),
        entry=entry,
    )


def _range(entry: Entry, key: str, parser: Callable[[Any], float]) -> tuple[float, float]:
    value = entry.fields[key]
    if len(value) != 2:
        raise PresetError(f"{entry.where(key)}: expected [low, high]")
    with prefixed(entry.where(key), PresetError):
        low, high = (parser(v) for v in value)
    if not 0 < low <= high:
        raise PresetError(f"{entry.where(key)}: expected 0 < low <= high")
    return low, high


def _build_tier(entry: Entry) -> PriceTier:
    low, high = _range(entry, "discount", lambda v: _fraction(entry, "discount", v))
    return PriceTier(entry.name, (low, high), entry)


def _fraction(entry: Entry, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise PresetError(f"{entry.where(key)}: expected fractions between 0 and 1, got {value!r}")
    return float(value)


def _build_ownership(entry: Entry) -> Ownership:
    return Ownership(
        entry.name,
        _number(entry, "networking_share", 0.0, 0.9, above=False),
        _number(entry, "depreciation_ooms_per_year", 0.0, 2.0) * math.log(10),
        _number(entry, "average_power", 0.0, 1.0),
        entry.parse("electricity", _positive(units.ELECTRICITY)),
        entry,
    )


def _build_efficiency(entry: Entry) -> Efficiency:
    fields = entry.fields
    terms = ("intercept", "log10_active", "log2_peak", "moe")
    sigma = float(fields["sigma"])
    if not 0 < sigma < 5:
        raise PresetError(f"{entry.where('sigma')}: expected a spread between 0 and 5 (ln units)")
    return Efficiency(
        name=entry.name,
        coefficients=MappingProxyType({key: _number(entry, key, -math.inf) for key in terms if key in fields}),
        size_cap=entry.parse("size_cap", _count("a parameter count")),
        sigma=sigma,
        bounds=MappingProxyType(
            {
                "active_params": _range(entry, "active_params_range", _count("a parameter count")),
                "peak": _range(entry, "peak_range", _quantity(units.RATE)),
                **({"gpus": _range(entry, "gpus_range", _count("a GPU count"))} if "gpus_range" in fields else {}),
            }
        ),  # fmt: skip
        statistics=MappingProxyType({k: float(v) for k, v in fields.get("statistics", {}).items()}),
        source=entry.source_of("intercept"),
        scaling=tuple(_scaling(entry, i, item) for i, item in enumerate(fields.get("scaling", ()))),
        scaling_from=entry.parse("scaling_from", _count("a GPU count")) or math.inf,
        scaling_source=entry.source_of("scaling_from") if "scaling_from" in fields else "",
        entry=entry,
    )


def _scaling(entry: Entry, index: int, item: Any) -> Scaling:
    """One strong-scaling measurement: {gpus = [from, to], mfu = [at from, at to], source = "..."}."""
    where = entry.where(f"scaling[{index}]")
    if not (isinstance(item, dict) and set(item) == {"gpus", "mfu", "source"} and isinstance(item["source"], str)):
        raise PresetError(f'{where}: expected {{gpus = [from, to], mfu = [at from, at to], source = "..."}}')
    pairs = []
    for key in ("gpus", "mfu"):
        pair = item[key]
        if not (isinstance(pair, list) and len(pair) == 2 and all(type(v) in (int, float) and v > 0 for v in pair)):
            raise PresetError(f"{where}.{key}: expected two positive numbers")
        pairs.append((float(pair[0]), float(pair[1])))
    gpus, mfu = pairs
    if not gpus[0] < gpus[1] or max(mfu) > 1:
        raise PresetError(f"{where}: expected gpus rising and MFU fractions at most 1")
    return Scaling(gpus, mfu, item["source"])
