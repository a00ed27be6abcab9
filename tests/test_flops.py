"""FLOP accounting against hand-computed values, and its dimensions checked with pint."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llamacalc.catalog import load_catalog, shipped_presets_dir
from llamacalc.flops import model_flops, training_flops
from llamacalc.units import registry


def test_llama_31_405b_is_3_8e25(catalog):
    """Llama 3 paper §3: 3.8e25 FLOPs; 6 × 405.85e9 × 15.6e12 = 3.799e25 (reference-data §1b)."""
    assert model_flops(catalog.model("llama-3.1-405b")) == pytest.approx(3.80e25, rel=0.001)


def test_moe_uses_active_parameters(catalog):
    """Scout: 6 × 17e9 active × 40e12 tokens = 4.08e24 (reference-data §9), not 6 × 109e9 × 40e12."""
    assert model_flops(catalog.model("llama-4-scout")) == pytest.approx(4.08e24, rel=1e-9)


def test_projected_llama4_is_ten_times_llama_31_405b(catalog):
    base = model_flops(catalog.model("llama-3.1-405b"))
    assert model_flops(catalog.model("llama-4-projected")) == pytest.approx(10 * base, rel=1e-12)


def test_chinchilla_golden():
    """Chinchilla 70B on 1.4T tokens: 6ND = 5.88e23 (paper: 5.76e23 for Gopher-equal compute)."""
    assert training_flops(70e9, 1.4e12) == pytest.approx(5.88e23)


def test_formula_is_dimensionally_flop():
    Q = registry().Quantity
    c = training_flops(Q(405e9, "parameter"), Q(15.6e12, "token"), Q(6, "FLOP/parameter/token"))
    assert c.to("FLOP").magnitude == pytest.approx(3.79e25, rel=1e-3)


FIXTURES = __import__("pathlib").Path(__file__).parent / "fixtures"
CATALOG = load_catalog([shipped_presets_dir()])


def test_conventions_for_405b_hand_counted(catalog):
    """N_matmul = 405,853,388,800 − V·d (input embedding) − norms = 403,747,897,344;
    palm adds 12·L·d·T = 12 × 126 × 16,384 × 8,192 = 2.029e11 per token."""
    from llamacalc.flops import flops_per_token, matmul_params

    arch = catalog.model("llama-3.1-405b").arch
    assert sum(matmul_params(arch).values()) == 403_747_897_344
    palm = flops_per_token(arch, "palm", 8192)
    assert palm["attention/scores"] == 12 * 126 * 16384 * 8192
    assert sum(palm.values()) == 6 * 403_747_897_344 + 12 * 126 * 16384 * 8192
    megatron = flops_per_token(arch, "megatron", 8192)
    assert megatron["attention/scores"] == palm["attention/scores"] / 2
    full = flops_per_token(arch, "hardware", 8192, "full")
    assert full["mlp"] == 8 / 6 * palm["mlp"]  # one more forward: 8·N instead of 6·N
    assert flops_per_token(arch, "6nd", 8192) == {"all parameters": 6 * 405_853_388_800}


def test_train_flops_all_and_explain(cli):
    doc = cli("train", "llama-3.1-405b", "--flops", "all", "--json").json()
    ratios = {c["convention"]: c["ratio_to_6nd"] for c in doc["conventions"]}
    assert ratios["6nd"] == 1 and ratios["palm"] == pytest.approx(1.078, abs=0.001)
    assert ratios["megatron"] == pytest.approx(1.036, abs=0.001)
    explained = cli("train", "llama-3.1-405b", "--flops", "palm", "--explain", env={"COLUMNS": "120"}).stdout
    assert "12 × L 126 × d_attn 16,384 × T 8,192" in explained
    for component in ("attention/qkvo", "attention/scores", "mlp", "unembedding"):
        assert component in explained


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["llama-4-behemoth", "--flops", "palm"], "needs the model's architecture"),
        (["llama-4-scout", "--flops", "palm"], "needs --seq-len"),
        (["llama-3-8b", "--flops", "pallm"], "--flops: expected one of 6nd, palm, megatron, hardware"),
        (["llama-3-8b", "--recompute", "full"], "use it with --flops hardware"),
        (["llama-3-8b", "--params", "9B", "--flops", "palm"], "--params replaces it"),
    ],
)
def test_convention_errors(cli, args, message):
    run = cli("train", *args)
    assert run.code == 2 and message in run.stderr, run.stderr


@pytest.fixture
def toy_convention():
    """A convention registered as a user of the registry would: its own components and terms."""
    from llamacalc.flops import CONVENTIONS, Convention, Count, Term, register

    def count(active, arch, seq_len, recompute):
        embedding = arch.vocab * arch.d_model
        return Count(
            {"everything": 7.0 * arch.layers * arch.d_model**2, "lookup": 1.0 * embedding},
            (Term(7, (("L", arch.layers), ("d²", arch.d_model**2))), Term(1, (("V·d", embedding),))),
        )

    register(Convention("toy", "7 · L · d² + V · d: a test's own count", count))
    yield CONVENTIONS["toy"]
    del CONVENTIONS["toy"]


def test_a_registered_convention_gets_explain_json_and_all(cli, toy_convention):
    """Adding a FLOP convention is one registry entry: --flops, --explain, JSON and --flops all use it."""
    per_token = 7.0 * 126 * 16384**2 + 128256 * 16384
    doc = cli("train", "llama-3.1-405b", "--flops", "toy", "--seq-len", "8192", "--json").json()
    assert doc["flops_convention"] == "toy" and doc["flops_per_token"] == per_token
    assert doc["flops"] == pytest.approx(per_token * 15.6e12)
    explained = cli("train", "llama-3.1-405b", "--flops", "toy", "--explain", env={"COLUMNS": "200"}).stdout
    assert "C = (7 × L 126 × d² 268M + 1 × V·d 2.10B) =" in explained
    assert "everything" in explained and "lookup" in explained
    every = cli("train", "llama-3.1-405b", "--flops", "all", "--json").json()
    assert [c["convention"] for c in every["conventions"]][-1] == "toy"


def test_flops_all_keeps_the_train_documents_shape(cli):
    """`--flops all --json` is the 6nd train document (so `.days` still works) with every convention
    nested under "conventions", not another document whose top-level keys a pipeline finds null."""
    plain = cli("train", "llama-3.1-405b", "--json").json()
    every = cli("train", "llama-3.1-405b", "--flops", "all", "--json").json()
    assert every["schema"] == plain["schema"] and every["days"] == plain["days"]
    assert [c["convention"] for c in every["conventions"]][0] == "6nd" and len(every["conventions"]) >= 4
    same = {k: v for k, v in every.items() if k not in ("conventions", "assumptions")}
    assert same == {k: v for k, v in plain.items() if k != "assumptions"}  # each convention is asked for by name


@given(st.integers(0, 64), st.integers(0, 64), st.integers(1, 8))
def test_moe_layers_counts_every_step_past_the_dense_ones_without_walking_them(dense, extra, every):
    """Llama 4 interleaves MoE every 2nd layer, DeepSeek keeps the first k dense; a counted closed form, so
    a config.json with 2**63 layers answers instead of looping for ever."""
    from llamacalc.flops import moe_layers

    arch = CATALOG.model("llama-4-maverick").arch._replace(dense_layers=dense, layers=dense + extra, moe_every=every)
    assert moe_layers(arch) == sum(1 for i in range(dense, dense + extra) if (i + 1) % every == 0)
    assert moe_layers(arch._replace(layers=2**63)) == 2**63 // every - dense // every
