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


def test_a_pricing_the_user_gives_sets_aside_the_house_life(catalog):
    config = '[defaults]\npricing = "owned"\nlife = "4 years"'
    assert _resolved(catalog, {"model": "llama-3-70b"}, config)["life"] == (4.0, "config")
    spot = _resolved(catalog, {"model": "llama-3-70b", "pricing": "spot"}, config)
    assert spot["pricing"] == ("spot", "user") and "life" not in spot


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
        ("[defaults\n", "team.toml: not valid TOML"),
        ('[defaults]\nlife = "4 years"\n', 'life is the depreciation life of owned hardware: set pricing = "owned"'),
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


# --- the same precedence in layout, memory, serve and fleet (setups.py) ---------------------------


def _housed(catalog, config):
    return Resolver(dataclasses.replace(catalog, house=house("[defaults]\n" + config, "team.toml").checked(catalog)))


def _origins(found):
    return {key: (a.value, a.origin) for key, a in found.assumptions.items()}


LAYOUT_GPU_CASES = [  # (request, config, expected gpu, its origin)
    ({"model": "llama-3-70b"}, "", "h100-sxm", "preset"),  # its reported run's
    ({"model": "llama-3-70b"}, 'gpu = "h200-sxm"', "h200-sxm", "config"),
    ({"model": "llama-3-70b", "gpu": "b200"}, 'gpu = "h200-sxm"', "b200", "user"),
    ({"model": "llama-3-70b", "cluster": "meta-24k"}, 'gpu = "h200-sxm"', "h100-sxm", "user"),  # a cluster decides
]


@pytest.mark.parametrize(("request_", "config", "gpu", "origin"), LAYOUT_GPU_CASES)
def test_layout_and_memory_choose_the_gpu_as_train_does(catalog, request_, config, gpu, origin):
    from llamacalc.setups import layout_setup, memory_setup

    resolver = _housed(catalog, config)
    laid = layout_setup(resolver, {**request_, "global_batch": "1024", "gpus": "1024"})
    assert _origins(laid)["gpu"] == (gpu, origin)
    if "cluster" not in request_:  # memory takes no cluster
        held = memory_setup(resolver, request_["model"], {k: v for k, v in request_.items() if k != "model"})
        assert _origins(held)["gpu"] == (gpu, origin)
    train = Resolver(resolver.catalog).resolve(request_).assumptions["gpu"]
    assert (train.value, train.origin) == (gpu, origin)


def test_a_house_gpu_count_gives_way_to_the_degrees_given(catalog):
    from llamacalc.setups import layout_setup

    resolver = _housed(catalog, "gpus = 4096")
    housed = layout_setup(resolver, {"model": "llama-3-70b", "global_batch": "1024"})
    assert _origins(housed)["gpus"] == (4096, "config")
    degrees = layout_setup(resolver, {"model": "llama-3-70b", "global_batch": "1024", "tp": 8, "pp": 4, "dp": 32})
    assert degrees.gpus == 1024 and _origins(degrees)["gpus"][1] == "derived"


def test_serve_takes_the_house_gpu_and_price_and_nothing_else(catalog):
    from llamacalc.estimates.serve import estimate_serve
    from llamacalc.setups import serve_setup

    resolver = _housed(catalog, 'gpu = "h200-sxm"\nprice = "2.1 USD/h"\npue = 1.3\nmfu = 0.3')
    found = estimate_serve(resolver.catalog, serve_setup(resolver, "llama-3.1-70b", {}))
    assert _origins(found)["gpu"] == ("h200-sxm", "config") and _origins(found)["price"][1] == "config"
    assert found.price == pytest.approx(2.1 / 3600) and set(found.assumptions) == {"gpu", "price"}
    mine = estimate_serve(resolver.catalog, serve_setup(resolver, "llama-3.1-70b", {"price": "3 USD/h"}))
    assert _origins(mine)["price"] == (3.0, "user") and mine.price == pytest.approx(3 / 3600)


def test_fleet_takes_the_house_pue_and_life(catalog):
    from llamacalc.estimates.fleet import fleet
    from llamacalc.setups import fleet_setup

    plain = fleet(Resolver(catalog), fleet_setup(Resolver(catalog), "meta-24k", {}))
    resolver = _housed(catalog, 'pue = 1.3\npricing = "owned"\nlife = "4 years"')
    housed = fleet(resolver, fleet_setup(resolver, "meta-24k", {}))
    assert _origins(housed)["pue"] == (1.3, "config") and _origins(housed)["life"] == (4.0, "config")
    assert housed.facility_watts == pytest.approx(plain.facility_watts * 1.3 / 1.09)
    mine = fleet(resolver, fleet_setup(resolver, "meta-24k", {"pue": "1.1"}))
    assert _origins(mine)["pue"] == (1.1, "user")


def test_the_cli_labels_house_values_in_every_commands_json(cli, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[defaults]\ngpu = "h200-sxm"\npue = 1.2\n', encoding="utf-8")
    env = {"LLAMACALC_CONFIG": str(config)}
    _forget()
    for args, key in (
        (("layout", "llama-3-70b", "--global-batch", "1024", "--gpus", "1024"), "gpu"),
        (("memory", "llama-3-70b", "--tp", "8"), "gpu"),
        (("serve", "llama-3.1-70b"), "gpu"),
        (("fleet", "meta-24k"), "pue"),
    ):
        document = cli(*args, "--json", env=env).json()
        assert document["assumptions"][key]["origin"] == "config", args
    _forget()


def test_every_table_says_what_the_config_file_gave(cli, tmp_path):
    config = tmp_path / "team.toml"
    config.write_text('[defaults]\ngpu = "h200-sxm"\npue = 1.2\n', encoding="utf-8")
    env = {"LLAMACALC_CONFIG": str(config), "COLUMNS": "200"}
    _forget()
    for args, shown in (
        (("train", "llama-3-70b"), "gpu h200-sxm, pue 1.20"),
        (("layout", "llama-3-70b", "--global-batch", "1024", "--gpus", "1024"), "gpu h200-sxm"),
        (("memory", "llama-3-70b", "--tp", "8"), "gpu h200-sxm"),
        (("serve", "llama-3.1-70b"), "gpu h200-sxm"),
        (("fleet", "meta-24k"), "pue 1.20"),
    ):
        assert f"from {config}: {shown}" in cli(*args, env=env).stdout, args
    _forget()
    plain = cli("train", "llama-3-70b", env={"LLAMACALC_CONFIG": "/dev/null", "COLUMNS": "200"}).stdout
    assert "from " not in plain.split("reported:")[-1]
    _forget()
