"""compare: models side by side, with ratios to the first."""


def test_compare_reads_the_ten_x_claim(cli):
    doc = cli("compare", "llama-3.1-405b", "llama-4-projected", "--json").json()
    assert doc["schema"] == "llamacalc.compare/1"
    assert round(doc["ratios"][1]["flops"], 1) == 10.0
    assert doc["ratios"][0]["flops"] == 1.0
    assert doc["ratios"][1]["params"] is None  # the projection has no parameter count


def test_compare_on_one_cluster_and_from_a_preset_file(cli, tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('[models.mine]\nparams = "70B"\ntokens = "15T"\nsource = "mine"\n')
    doc = cli("compare", "llama-3-70b", str(path), "--cluster", "meta-24k", "--json").json()
    assert [m["model"] for m in doc["models"]] == ["llama-3-70b", "mine"]
    assert all(m["gpus"] == 24576 for m in doc["models"])
    assert "×" in cli("compare", "llama-3-8b", "llama-3-70b").stdout
