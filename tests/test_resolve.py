"""One precedence for every input: what the user gives > the config file > the cluster > the model's
reported run > its home cluster > llamacalc's defaults; each value labelled with where it came from."""

import dataclasses

import pytest

from llamacalc.errors import InputError
from llamacalc.house import house
from llamacalc.resolve import Resolver


def _resolved(catalog, request, config=""):
    housed = dataclasses.replace(catalog, house=house(config, "team.toml").checked(catalog)) if config else catalog
    resolved = Resolver(housed).resolve(request)
    return {key: (a.value, a.origin if a.origin != "default" else "default") for key, a in resolved.assumptions.items()}


GPU_CASES = [  # (request, config, expected gpu, its origin)
    ({"params": "7B", "tokens": "1T"}, "", "h100-sxm", "default"),
    ({"model": "llama-4-behemoth"}, "", "h100-sxm", "preset"),  # its home cluster's
    ({"model": "llama-2-7b"}, "", "a100-sxm-80gb", "preset"),  # its reported run's
    ({"model": "llama-2-7b", "cluster": "meta-24k"}, "", "h100-sxm", "user"),  # the cluster's
    ({"model": "llama-2-7b"}, 'gpu = "h200-sxm"', "h200-sxm", "config"),  # config over reported
    ({"model": "llama-4-behemoth"}, 'gpu = "h200-sxm"', "h200-sxm", "config"),  # config over home
    ({"model": "llama-2-7b", "cluster": "meta-24k"}, 'gpu = "h200-sxm"', "h100-sxm", "user"),  # a cluster decides
    ({"model": "llama-2-7b", "gpu": "b200"}, 'gpu = "h200-sxm"', "b200", "user"),
]


@pytest.mark.parametrize(("request_", "config", "gpu", "origin"), GPU_CASES)
def test_gpu_precedence(catalog, request_, config, gpu, origin):
    assert _resolved(catalog, request_, "[defaults]\n" + config)["gpu"] == (gpu, origin)


@pytest.mark.parametrize(
    ("key", "config", "given", "default_origin"),
    [
        ("price", '"2.1 USD/h"', "3.3", "preset"),  # the GPU preset's cloud price
        ("pue", "1.2", "1.4", "default"),
        ("carbon", '"0.2 kg/kWh"', "0.3", "default"),
        ("mfu", "0.35", "0.45", "default"),
        ("precision", '"fp8"', "bf16", "default"),
        ("gpus", "3072", "4096", "derived"),  # a replica per sequence of its batch
    ],
)
def test_user_over_config_over_the_rest(catalog, key, config, given, default_origin):
    plain = _resolved(catalog, {"model": "llama-3-70b"})
    assert plain[key][1] == default_origin
    housed = _resolved(catalog, {"model": "llama-3-70b"}, f"[defaults]\n{key} = {config}")
    assert housed[key][1] == "config" and housed[key][0] != plain[key][0]
    user = _resolved(catalog, {"model": "llama-3-70b", key: given}, f"[defaults]\n{key} = {config}")
    assert user[key][1] == "user"


def test_a_deadline_the_user_gives_sets_the_gpus_over_the_house_count(catalog):
    housed = _resolved(catalog, {"model": "llama-3-70b", "days": "30"}, "[defaults]\ngpus = 2048")
    assert housed["days"] == (30, "user") and housed.get("gpus", (None, ""))[1] != "config"


def test_the_config_source_names_the_file(catalog):
    housed = dataclasses.replace(catalog, house=house("[defaults]\npue = 1.3\n", "/etc/team.toml").checked(catalog))
    assert Resolver(housed).resolve({"model": "llama-3-8b"}).assumptions["pue"].source == "/etc/team.toml [defaults]"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[defaults]\nprise = 3\n", "team.toml: [defaults] unknown input 'prise' (did you mean 'price'?)"),
        ("[defaults]\npue = 0.5\n", "team.toml: [defaults] pue: expected 1 to 10"),
        ("[defaults]\nprice = true\n", "team.toml: [defaults] price: expected a number or a string"),
        ("[defaultz]\n", "team.toml: unknown key 'defaultz' (did you mean 'defaults'?)"),
        ("[defaults]\ngpus = 8\ndays = 3\n", "[defaults] sets both the GPU count"),
        ("presets = 3\n", "presets must be a list of folders"),
        ("[defaults\n", "team.toml: not TOML"),
    ],
)
def test_a_bad_config_names_the_file_and_the_key(text, message):
    with pytest.raises(InputError) as raised:
        house(text, "team.toml")
    assert str(raised.value).startswith("team.toml: ") and message in str(raised.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[defaults]\ngpu = "h300"\n', "team.toml: [defaults] gpu: unknown GPU 'h300'"),
        ('[defaults]\nprecision = "fp9"\n', "team.toml: [defaults] precision: expected one of"),
    ],
)
def test_config_names_are_checked_against_the_presets(catalog, text, message):
    with pytest.raises(InputError) as raised:
        house(text, "team.toml").checked(catalog)
    assert str(raised.value).startswith(message)


def test_the_cli_reads_the_config_and_labels_its_values(cli, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[defaults]\nprice = "2.1 USD/h"\ncarbon = "0.2 kg/kWh"\n', encoding="utf-8")
    for env in ({"LLAMACALC_CONFIG": str(config)}, {"XDG_CONFIG_HOME": str(tmp_path), "LLAMACALC_CONFIG": ""}):
        if "XDG_CONFIG_HOME" in env:
            (tmp_path / "llamacalc").mkdir(exist_ok=True)
            config.rename(tmp_path / "llamacalc" / "config.toml")
        _forget()
        run = cli("train", "llama-3-8b", "--json", env=env)
        assumptions = run.json()["assumptions"]
        assert assumptions["price"]["origin"] == "config" and assumptions["price"]["value"] == 2.1
        assert assumptions["carbon"]["origin"] == "config"
    _forget()


def _forget():
    from llamacalc.cli.catalogs import house_defaults

    house_defaults.cache_clear()
