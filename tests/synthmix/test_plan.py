from __future__ import annotations

from pathlib import Path

import pytest

from synthmix.layout import Layout
from synthmix.plan import describe_source, estimate_judge_tokens, format_plan
from synthmix.recipe import load_recipe

RECIPE = """
name = "p"
[sources.pairs]
type = "files"
path = "pairs.tsv"
columns = { src = "de", tgt = "fr" }
src_lang = "de"
tgt_lang = "fr"
limit = 50
split = { test = 0.2, seed = 7 }
[sources.hub]
type = "hub"
preset = "samanantar"
config = "te"
src_lang = "en"
tgt_lang = "te"
eval = false
[sources.wiki]
type = "wikipedia"
lang = "de"
category = "Buchdruck"
category_depth = 2
max_pages = 10
[synth.gen]
generator = "translation"
from = "pairs"
records = 30
per_request = 10
[synth.gen.llm]
backend = "recorded"
responses = "pairs.tsv"
[eval]
conditions = [{ name = "base" }, { name = "ft", mix = "pairs", train = { learning_rate = 1e-4 } }]
seeds = [1, 2]
max_examples = 10
[eval.judge]
enabled = true
pairwise = true
[eval.judge.llm]
max_tokens = 100
"""


@pytest.fixture
def recipe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pairs.tsv").write_text("de\tfr\nHallo\tSalut\n", encoding="utf-8")
    (tmp_path / "r.toml").write_text(RECIPE, encoding="utf-8")
    return load_recipe(tmp_path / "r.toml")


def test_sources_are_described_by_type(recipe):
    assert describe_source(recipe.sources["pairs"]) == (
        "files translation, pairs.tsv, de->fr, limit 50, split test 0.2 dev 0 (seed 7)"
    )
    assert describe_source(recipe.sources["hub"]) == (
        "hub translation, preset samanantar config te, en->te, not an eval set"
    )
    assert describe_source(recipe.sources["wiki"]) == (
        "wikipedia passage, de.wikipedia category Buchdruck (depth 2), <= 10 pages"
    )


def test_judge_estimate_counts_conditions_seeds_items_and_both_pairwise_orders(recipe):
    est = estimate_judge_tokens(recipe)
    # 1 test source (the only one with a test split) x 10 items; 2 conditions x 2 seeds singles;
    # pairwise: 1 fine-tuned condition x 2 orders x 2 seeds.
    assert est is not None
    assert est["requests"] == 10 * 2 * 2 + 10 * 1 * 2 * 2
    assert est["completion_tokens"] == est["requests"] * 100


def test_plan_scopes_tokens_to_the_command_and_lists_overrides(recipe):
    layout = Layout("p", Path("."))
    corpus = format_plan(recipe, layout, "corpus")
    assert "gen: translation from pairs, 30 records via recorded:" in corpus
    assert "3 requests, local (no API tokens)" in corpus
    assert "this command runs: ingest -> synth -> curate -> mix -> card" in corpus
    compare = format_plan(recipe, layout, "compare")
    assert "ft(pairs, 0-shot, learning_rate=0.0001)" in compare
    assert "runs: 2 (conditions with a mix x 2 seed(s))" in compare
    est = estimate_judge_tokens(recipe)
    assert est is not None
    total = est["prompt_tokens"] + est["completion_tokens"]
    assert f"estimated API tokens: <= {total} " in compare
    assert "estimated API tokens: <= 0 " in corpus


def test_judge_without_a_bound_is_flagged(recipe, tmp_path: Path):
    unbounded = load_recipe(tmp_path / "r.toml", ["eval.max_examples=0"])
    assert estimate_judge_tokens(unbounded) is None
    plan = format_plan(unbounded, Layout("p", Path(".")), "compare")
    assert "unbounded here: set eval.judge.max_items or eval.max_examples" in plan
    assert "+ judge (unbounded)" in plan
