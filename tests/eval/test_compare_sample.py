"""`make compare RECIPE=recipes/sample.toml` end to end, offline: corpus, three trainings, five conditions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synthmix.cli import main


@pytest.mark.slow
def test_compare_on_the_sample_recipe_writes_the_report_with_its_plots(
    in_tmp_project: Path, tiny_model_dir: Path, capsys
):
    (in_tmp_project / "data").mkdir()
    (in_tmp_project / "data" / "tiny-model").symlink_to(tiny_model_dir)  # what `make tiny-model` builds
    assert main(["compare", "--recipe", "recipes/sample.toml"]) == 0
    assert "report: reports/sample/report.md" in capsys.readouterr().out
    out = in_tmp_project / "reports" / "sample"
    for name in ("report.md", "report.html", "scores.png", "learning_curves.png", "comparison.json"):
        assert (out / name).stat().st_size > 0, name
    comparison = json.loads((out / "comparison.json").read_text(encoding="utf-8"))
    names = [c["name"] for c in comparison["conditions"]]
    assert names == ["base-0shot", "base-3shot", "real", "synthetic", "synthetic+real"]
    assert {r["mix"] for r in comparison["runs"]} == {"flores", "synthetic", "synthetic+flores"}
    assert all(r["data_card"] and r["run_card"] for r in comparison["runs"])
    assert set(comparison["metrics"]) == {"bleu", "chrf", "chrf++", "perplexity", "accuracy"}
    # every pair of the 5 conditions on every metric
    assert len(comparison["tests"]) == 10 * 5
    assert all(0 < t["p_holm"] <= 1 for t in comparison["tests"])
    # base few-shot prompts hold 3 train examples and no test item
    rows = [
        json.loads(line)
        for line in (out / "conditions" / "base-3shot" / "samples.jsonl")
        .read_text(encoding="utf-8")
        .splitlines()
    ]
    inputs = {r["input"] for r in rows}
    assert len(rows) == 30
    for r in rows:
        assert r["prompt"].count("Translate from German to French.") == 4
        assert not any(other in r["prompt"] for other in inputs - {r["input"]})
    text = (out / "report.md").read_text(encoding="utf-8")
    assert "](../../data/sample/mix/flores/README.md)" in text and "run card" in text
    # a second compare reuses the runs and evaluations
    stamps = {p: p.stat().st_mtime_ns for p in (out / "conditions").glob("*/scores.json")}
    assert main(["compare", "--recipe", "recipes/sample.toml"]) == 0
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
