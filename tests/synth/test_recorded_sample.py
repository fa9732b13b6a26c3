"""The offline sample recipe's synth jobs: recorded responses through the real ingest outputs, no network."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from ingest.stage import run_ingest
from synth.stage import run_synth
from synthmix.layout import Layout
from synthmix.recipe import load_recipe
from synthmix.record import normalize_text
from synthmix.store import read_records, read_rejected


def test_sample_recipe_synth_runs_offline(in_tmp_project: Path, monkeypatch):
    monkeypatch.delenv("GROQ_API_KEY", raising=False)
    recipe = load_recipe("recipes/sample.toml")
    layout = Layout.for_recipe(recipe.name)
    run_ingest(recipe, layout, offline=True)
    manifests = run_synth(recipe, layout, progress=False)

    pairs = read_records(layout.synth("synthetic"))
    assert len(pairs) == recipe.synth["synthetic"].records == 110
    assert Counter(x.reason for x in read_rejected(layout.synth("synthetic"))) == {
        "malformed_json": 1,
        "truncated": 1,
    }
    m = manifests["synthetic"]["synth"]
    assert m["model"] == "hand-written-sample" and m["backend"] == "recorded"
    assert m["requests"]["completed"] == 13 and m["stop"] is None
    # The hand-written pairs are new: none repeats a sentence of the real sample data.
    real = {normalize_text(t) for r in read_records(layout.ingest("flores")) for t in r.fields.values()}
    assert not any(
        normalize_text(p.fields["src"]) in real or normalize_text(p.fields["tgt"]) in real for p in pairs
    )
    # Few-shot examples came from the train split only.
    train_ids = {r.id for r in read_records(layout.ingest("flores"), split="train")}
    assert all(set(p.provenance[0].parents) <= train_ids for p in pairs)

    qa = read_records(layout.synth("wiki_qa"))
    assert len(qa) == 24 and read_rejected(layout.synth("wiki_qa")) == []
    passages = {r.id: r.fields["text"] for r in read_records(layout.ingest("wiki"))}
    for r in qa:
        assert r.fields["context"] == passages[r.provenance[0].parents[0]]

    # A second run is served by the cache (and the outputs are current, so it is skipped).
    again = run_synth(recipe, layout, force=True, progress=False)
    assert again["synthetic"]["synth"]["requests"]["cache_hits"] == 13
    assert again["synthetic"]["output_hash"] == manifests["synthetic"]["output_hash"]


def test_recorded_files_are_chat_completions(project_root: Path):
    for name in ("translation_de_fr.jsonl", "qa_de.jsonl"):
        lines = (project_root / "samples" / "synth" / name).read_text(encoding="utf-8").splitlines()
        assert len(lines) >= 10
        for line in lines:
            obj = json.loads(line)
            assert obj["model"] == "hand-written-sample"
            assert obj["choices"][0]["message"]["role"] == "assistant"
