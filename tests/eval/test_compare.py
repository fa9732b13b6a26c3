from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.compare import run_compare
from synthmix.layout import Layout
from tests.eval.helpers import make_recipe, sample_pairs, write_curated


def test_compare_base_conditions_writes_the_report_and_resumes(
    tmp_path: Path, tiny_model_dir: Path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    recipe = make_recipe(
        tmp_path,
        tiny_model_dir,
        """metrics = ["bleu", "chrf"]
sample_outputs = 2
seeds = [13, 14]
conditions = [
  { name = "base-0shot" },
  { name = "base-2shot", shots = 2 },
]""",
    )
    layout = Layout(recipe.name, tmp_path)
    write_curated(layout, "flores", sample_pairs(20), sample_pairs(6, offset=100))
    report = run_compare(recipe, layout, build_corpus=False, progress=False)
    out = layout.reports
    assert report == out / "report.md"
    for name in ("report.html", "scores.png", "comparison.json"):
        assert (out / name).stat().st_size > 0, name
    comparison = json.loads((out / "comparison.json").read_text(encoding="utf-8"))
    assert comparison["base"] == "base-0shot"
    # zero-shot runs once; few-shot once per seed (different examples), pooled per item
    assert [c["seeds"] for c in comparison["conditions"]] == [[13], [13, 14]]
    assert (out / "conditions" / "base-2shot-seed14" / "samples.jsonl").is_file()
    tests = comparison["tests"]
    assert {(t["a"], t["b"], t["metric"]) for t in tests} == {
        ("base-2shot", "base-0shot", "bleu"),
        ("base-2shot", "base-0shot", "chrf"),
    }
    for t in tests:
        assert 0 < t["p_value"] <= 1 and t["p_holm"] >= t["p_value"] and t["n_items"] == 6
    for name in ("base-0shot", "base-2shot"):
        s = comparison["scores"][name]["chrf"]
        assert s["ci"][0] <= s["score"] <= s["ci"][1]
    assert comparison["scores"]["base-2shot"]["chrf"]["seed_sd"] is not None
    text = report.read_text(encoding="utf-8")
    assert "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:" in text  # signatures beside the scores
    assert "![scores with 95% CIs](scores.png)" in text
    assert "## Sample outputs" in text and text.count("| reference |") == 2
    assert "conditions/base-0shot/samples.jsonl" in text
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<table>" in html and '<img src="scores.png"' in html
    # resumable: a second compare reuses every stored evaluation
    stamps = {p: p.stat().st_mtime_ns for p in (out / "conditions").glob("*/scores.json")}
    run_compare(recipe, layout, build_corpus=False, progress=False)
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps


def test_identical_systems_give_p_near_one(tmp_path: Path, tiny_model_dir: Path, monkeypatch):
    """Two conditions that are the same system (greedy decoding is deterministic) are not different."""
    monkeypatch.chdir(tmp_path)
    recipe = make_recipe(
        tmp_path,
        tiny_model_dir,
        """metrics = ["chrf"]
significance = "randomization"
conditions = [{ name = "a" }, { name = "b" }]""",
    )
    layout = Layout(recipe.name, tmp_path)
    write_curated(layout, "flores", sample_pairs(10), sample_pairs(6, offset=100))
    run_compare(recipe, layout, build_corpus=False, progress=False)
    (t,) = json.loads((layout.reports / "comparison.json").read_text(encoding="utf-8"))["tests"]
    assert t["delta"] == 0 and t["p_value"] == pytest.approx(1.0) and not t["significant"]


def test_no_secret_or_home_path_reaches_the_outputs(tmp_path: Path, tiny_model_dir: Path, monkeypatch):
    secret = "gsk_planted-fake-secret-1234"
    monkeypatch.setenv("GROQ_API_KEY", secret)
    monkeypatch.chdir(tmp_path)
    recipe = make_recipe(
        tmp_path, tiny_model_dir, 'metrics = ["chrf"]\nconditions = [{ name = "a" }, { name = "b" }]'
    )
    layout = Layout(recipe.name, tmp_path)
    leaky = [(f"Mein Schlüssel ist {secret}.", "Ma clé est /home/alice/notes.txt.")]
    write_curated(layout, "flores", sample_pairs(10), [*sample_pairs(3, offset=100), *leaky])
    run_compare(recipe, layout, build_corpus=False, progress=False)
    for path in layout.reports.rglob("*"):
        if path.suffix in (".md", ".html", ".json", ".jsonl"):
            text = path.read_text(encoding="utf-8")
            assert secret not in text and "/home/alice" not in text, path
