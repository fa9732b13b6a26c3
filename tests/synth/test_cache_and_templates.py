from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from synth.cache import ResponseCache, cache_key
from synth.client import ChatRequest
from synth.template import TEMPLATE_DIR, load_template, parse_template
from synthmix.errors import ConfigError

REQUEST = ChatRequest(
    messages=({"role": "user", "content": "Hallo"},), temperature=0.5, max_tokens=10, seed=3
)


def test_cache_key_covers_backend_model_messages_params_and_seed():
    key = cache_key("groq:m", REQUEST)
    assert key == cache_key("groq:m", replace(REQUEST))
    variants = [
        cache_key("openai:m", REQUEST),
        cache_key("groq:m2", REQUEST),
        cache_key("groq:m", replace(REQUEST, messages=({"role": "user", "content": "Hallo!"},))),
        cache_key("groq:m", replace(REQUEST, temperature=0.6)),
        cache_key("groq:m", replace(REQUEST, max_tokens=11)),
        cache_key("groq:m", replace(REQUEST, seed=4)),
        cache_key("groq:m", replace(REQUEST, json_mode=False)),
    ]
    assert len({key, *variants}) == 8


def test_cache_stores_request_response_tokens_and_times(tmp_path: Path):
    db = tmp_path / "c" / "llm.sqlite"
    cache = ResponseCache(db)
    key = cache_key("groq:m", REQUEST)
    assert cache.get(key) is None
    response = {"choices": [{"message": {"content": "Salut"}}], "usage": {"prompt_tokens": 4}}
    cache.put(
        key,
        backend="groq:m",
        model="m",
        job="j",
        index=0,
        request=REQUEST,
        response=response,
        prompt_tokens=4,
        completion_tokens=2,
        requested_unix=1.0,
    )
    # Another connection sees the row at once: it was committed, not buffered.
    with sqlite3.connect(db) as other:
        (mode,) = other.execute("PRAGMA journal_mode").fetchone()
        row = other.execute(
            "select job, request, prompt_tokens, completion_tokens, answered_unix from responses"
        ).fetchone()
    assert mode == "wal"
    assert row[0] == "j" and '"Hallo"' in row[1] and row[2:4] == (4, 2) and row[4] > 1.0
    assert cache.get(key) == response and cache.count() == 1 and cache.count("other") == 0
    cache.close()


def test_shipped_templates_render_and_have_stable_hashes():
    names = sorted(p.stem for p in TEMPLATE_DIR.glob("*.txt"))
    assert names == ["instruction@v1", "qa_from_passage@v1", "translation_pairs@v1"]
    t = load_template("translation_pairs@v1")
    assert t.hash == load_template("translation_pairs@v1").hash and len(t.hash) == 16
    system, user = t.render(src_name="German", tgt_name="French", n=7, examples='{"src": "a"}', steer="")
    assert system["role"] == "system" and user["role"] == "user"
    for phrase in ("Write 7 new German sentences", "Variety", "Accuracy", "Natural flow", "No repetition"):
        assert phrase in user["content"]
    assert '{"pairs": [{"src": "<German sentence>", "tgt": "<French translation>"}]}' in user["content"]
    with pytest.raises(ValueError, match=r"\$examples"):
        t.render(src_name="German", tgt_name="French", n=7, steer="")


def test_template_files_by_path_and_errors(tmp_path: Path):
    custom = tmp_path / "mine@v2.txt"
    custom.write_text("# mine\n=== user\nSay $n things.\n", encoding="utf-8")
    t = load_template(str(custom))
    assert t.id == "mine@v2" and t.render(n=3) == ({"role": "user", "content": "Say 3 things."},)
    with pytest.raises(ConfigError, match="synth.x.template: no prompt template 'nope@v1'"):
        load_template("nope@v1", "synth.x.template")
    with pytest.raises(ConfigError, match="needs a '=== user' section"):
        parse_template("bad", "=== system\nhi\n")


def test_pyproject_ships_the_templates(project_root: Path):
    import tomllib

    data = tomllib.loads((project_root / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = data["tool"]["setuptools"]["package-data"]["*"]
    assert "*.txt" in patterns
    assert "synth*" in data["tool"]["setuptools"]["packages"]["find"]["include"]
