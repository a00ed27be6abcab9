"""House defaults: the inputs a team gives on every line (our price, our GPU, our PUE, our grid),
set once in a config file's `[defaults]` table of input names, and its extra preset folders.

    [defaults]
    price = "2.1 USD/h"
    gpu = "h200-sxm"
    pue = 1.2
    carbon = "0.2 kg/kWh"

    presets = ["~/team-presets"]

Precedence, everywhere: what the user gives > the config file > the cluster > the model's reported
run > its home cluster > llamacalc's defaults. A config value stands in for an input the user left
out, and gives way where the user's own inputs decide it (`--cluster` sets the GPU, `--days` the GPU
count). Values are checked here, as an option's would be, so a bad file is exit 2 naming the file
and the key. The CLI finds and reads the file (`LLAMACALC_CONFIG`, else
`$XDG_CONFIG_HOME/llamacalc/config.toml`, else `~/.config/llamacalc/config.toml`); this module only
reads its text.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from llamacalc.catalog import Catalog
from llamacalc.errors import InputError, LlamacalcError, did_you_mean
from llamacalc.files import parse_toml
from llamacalc.flops import CONVENTIONS, DEFAULT_CONVENTION, RECOMPUTE
from llamacalc.inputs import INPUTS, PRICINGS, Assumption
from llamacalc.specs import PRECISIONS

MAX_CONFIG_BYTES = 1_000_000
SECTIONS = ("defaults", "presets")
# Inputs that decide others: a user's `--cluster` sets the GPU type and count, so a house GPU gives way.
DECIDES = {"cluster": ("gpu", "gpus", "days"), "gpus": ("days", "cluster"), "days": ("gpus", "cluster"),
           "gpu": ("cluster",), "pricing": ("price", "life"), "price": ("pricing", "life")}  # fmt: skip
# A model's own facts are no house default: a default of tokens would rewrite every preset's run.
MODEL_FACTS = ("model", "params", "active_params", "tokens")


class House(NamedTuple):
    """A config file's defaults (input name → value as written) and preset folders, and where it is."""

    defaults: Mapping[str, Any]
    presets: tuple[Path, ...]
    where: str
    used: set[str]  # the defaults some request took (applied adds them): an error about one names the file

    def applied(
        self, request: Mapping[str, Any], takes: Collection[str] | None = None, decided: Collection[str] = ()
    ) -> tuple[dict[str, Any], tuple[str, ...]]:
        """`request` with the house defaults it leaves out (of the inputs a command `takes`, if it
        takes only some, and not those its other inputs `decided`), and which inputs those are."""
        given = {key for key, value in request.items() if value is not None}
        yielded = {other for key in given for other in DECIDES.get(key, ())} | set(decided)
        added = {
            key: value for key, value in self.defaults.items()
            if key not in given and key not in yielded and (takes is None or key in takes)
        }  # fmt: skip
        self.used.update(added)
        return {**request, **added}, tuple(added)

    def labelled(self, assumptions: Mapping[str, Assumption], keys: tuple[str, ...]) -> dict[str, Assumption]:
        """The assumptions, those of `keys` labelled as the config file's."""
        source = f"{self.where} [defaults]"
        return {
            key: a._replace(origin="config", source=source) if key in keys and a.origin == "user" else a
            for key, a in assumptions.items()
        }

    def checked(self, catalog: Catalog) -> House:
        """This house, its preset names and choices checked against `catalog`, each error naming
        the file and key rather than an option the user never typed."""
        choices = {"precision": PRECISIONS, "pricing": PRICINGS, "flops": tuple(CONVENTIONS), "recompute": RECOMPUTE}
        for key, value in self.defaults.items():
            asker = f"{self.where}: [defaults] {key}"
            if key == "gpu":
                catalog.hardware(str(value), asker)
            elif key == "cluster":
                catalog.cluster(str(value), asker)
            elif key in choices and value not in choices[key]:
                expected, hint = ", ".join(choices[key]), did_you_mean(str(value), choices[key])
                raise InputError(f"{asker}: expected one of {expected}, got '{value}'{hint}")
        return self


NO_HOUSE = House({}, (), "", set())


def house(text: str, where: str) -> House:
    """The house defaults of a config file's text; InputError naming `where` and the key if bad."""
    data = parse_toml(text, where, "a config")
    for key in data:
        if key not in SECTIONS:
            hint = did_you_mean(key, SECTIONS)
            raise InputError(f"{where}: unknown key '{key}'{hint}; expected {', '.join(SECTIONS)}")
    defaults = data.get("defaults", {})
    if isinstance(defaults, dict) and "presets" in defaults:
        raise InputError(f"{where}: presets goes above [defaults] (TOML reads a key below a table as the table's)")
    if not isinstance(defaults, dict):
        raise InputError(f'{where}: [defaults] must be a table of input names, e.g. price = "2.1 USD/h"')
    for key, value in defaults.items():
        _checked(where, key, value)
    convention = CONVENTIONS.get(str(defaults.get("flops", DEFAULT_CONVENTION)))
    if defaults.get("recompute", "none") != "none" and convention is not None and not convention.recomputes:
        raise InputError(f'{where}: [defaults] recompute counts executed FLOPs: set flops = "hardware" too')
    if "life" in defaults and "price" in defaults:
        raise InputError(f"{where}: [defaults] life prices owned hardware, and price replaces that; keep one")
    if "life" in defaults and defaults.get("pricing") != "owned":
        raise InputError(f'{where}: [defaults] life is the depreciation life of owned hardware: set pricing = "owned"')
    if "gpus" in defaults and "days" in defaults or "cluster" in defaults and {"gpu", "gpus"} & defaults.keys():
        raise InputError(f"{where}: [defaults] sets both the GPU count (or type) and what decides it; keep one")
    folders = data.get("presets", [])
    if not isinstance(folders, list) or not all(isinstance(f, str) and f.strip() for f in folders):
        raise InputError(f'{where}: presets must be a list of folders, e.g. presets = ["~/team-presets"]')
    here = Path(where).parent  # a relative folder is the config file's neighbour, wherever llamacalc runs
    return House(defaults, tuple(here / Path(folder).expanduser() for folder in folders), where, set())


def _checked(where: str, key: str, value: Any) -> None:
    """A default checked as the option would check it: a name that exists, a value that parses."""
    if key not in INPUTS or key in MODEL_FACTS:
        known = [name for name in INPUTS if name not in MODEL_FACTS]
        raise InputError(f"{where}: [defaults] unknown input '{key}'{did_you_mean(key, known)}; inputs are "
                         f"{', '.join(known)}")  # fmt: skip
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InputError(f"{where}: [defaults] {key}: expected a number or a string, got {type(value).__name__}")
    spec = INPUTS[key]
    if spec.reads is not None:
        try:
            spec.parse(value)
        except LlamacalcError as error:
            raise InputError(f"{where}: [defaults] {key}: {str(error).partition(': ')[2] or error}") from None
