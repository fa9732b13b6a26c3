from __future__ import annotations

from pathlib import Path

import pytest

from synthmix.pipeline import recipe_needs
from synthmix.recipe import load_recipe


def _recipe(tmp_path: Path, source: str) -> Path:
    p = tmp_path / "r.toml"
    p.write_text('name = "r"\n' + source, encoding="utf-8")
    return p


def test_hub_source_needs_the_hub_unless_it_is_a_local_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    (tmp_path / "local_ds").mkdir()
    remote = load_recipe(_recipe(tmp_path, '[sources.a]\ntype = "hub"\ndataset = "user/set"\n'))
    local = load_recipe(_recipe(tmp_path, '[sources.a]\ntype = "hub"\ndataset = "local_ds"\n'))
    assert [(n.what, n.name) for n in recipe_needs(remote)] == [("host", "huggingface.co")]
    assert recipe_needs(local) == []
    assert recipe_needs(remote, offline=True) == []


def test_groq_job_needs_key_and_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.tsv").write_text("de\tfr\na\tb\n", encoding="utf-8")
    body = (
        '[sources.f]\ntype = "files"\npath = "p.tsv"\ncolumns = {src = "de", tgt = "fr"}\n'
        '[synth.s]\ngenerator = "translation"\nfrom = "f"\n'
    )
    needs = recipe_needs(load_recipe(_recipe(tmp_path, body)))
    assert [(n.what, n.name, n.why) for n in needs] == [
        ("env", "GROQ_API_KEY", "synth.s.llm"),
        ("host", "api.groq.com", "synth.s.llm"),
    ]
    local = load_recipe(_recipe(tmp_path, body), ["synth.s.llm.base_url='http://127.0.0.1:9'"])
    assert [(n.what, n.name) for n in recipe_needs(local)] == [("env", "GROQ_API_KEY")]
