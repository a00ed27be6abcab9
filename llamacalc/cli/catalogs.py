"""The catalog a command runs on: the preset folders in order, the config file's house defaults,
and a Hugging Face config.json given as the model."""

import dataclasses
import functools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from llamacalc.errors import LlamacalcError, prefixed

if TYPE_CHECKING:
    from llamacalc.catalog import Catalog
    from llamacalc.house import House


def preset_places(dirs: Sequence[Path] | None) -> list[tuple[str, Path]]:
    """Where presets come from, in order (later ones override): shipped, the user's folder (if it
    exists), the config file's folders, $LLAMACALC_PRESETS, --presets; each with what named it, for
    errors and `presets --paths`."""
    from llamacalc.catalog import shipped_presets_dir

    config = _config_home() / "presets"
    env = [Path(p) for p in os.environ.get("LLAMACALC_PRESETS", "").split(os.pathsep) if p]
    house = house_defaults()
    return [
        ("shipped", shipped_presets_dir()),
        *([("user folder", config)] if config.is_dir() else []),
        *((f"{house.where}: presets", path) for path in house.presets),
        *(("LLAMACALC_PRESETS", path) for path in env),
        *(("--presets", path) for path in dirs or ()),
    ]


# What an error about a preset folder blames: the option, the variable or the default that named it.
PLACE_NAMES = {"shipped": "the shipped presets", "user folder": "the default presets folder"}


def catalog_from(dirs: Sequence[Path] | None) -> "Catalog":
    """The presets of every place, later ones overriding earlier ones, with the house defaults."""
    from llamacalc.catalog import load_catalog

    places = preset_places(dirs)
    for named, path in places[1:]:
        if not (path.is_dir() or path.is_file()):
            raise LlamacalcError(f"{named}: '{path}' is not a readable directory (or file) of *.toml presets")
    catalog = load_catalog([path for _, path in places], [PLACE_NAMES.get(named, named) for named, _ in places])
    house = house_defaults()
    return dataclasses.replace(catalog, house=house.checked(catalog)) if house.defaults else catalog


def _config_home() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "llamacalc"


@functools.cache
def house_defaults() -> "House":
    """The config file's house defaults: $LLAMACALC_CONFIG (which must exist), else config.toml in
    the user's config folder (if it exists), else none."""
    from llamacalc.files import read_text
    from llamacalc.house import MAX_CONFIG_BYTES, NO_HOUSE, house

    named = os.environ.get("LLAMACALC_CONFIG")
    if named == os.devnull:  # the way to run without the user's config
        return NO_HOUSE
    path = Path(named) if named else _config_home() / "config.toml"
    if not named and not path.is_file():
        return NO_HOUSE
    with prefixed("LLAMACALC_CONFIG" if named else str(path)):
        text = read_text(path, MAX_CONFIG_BYTES)
    return house(text, str(path))
