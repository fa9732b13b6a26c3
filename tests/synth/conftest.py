"""Fixtures for synth tests: a tmp project whose ingest outputs exist, and recipes pointing at a local server.

The ingest outputs are written here with the core store (not by the ingest stage), so synth tests need
nothing but the ``synthmix`` core: 12 train + 4 test German-French pairs and 3 German passages.
"""

from __future__ import annotations

import csv
import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from synthmix.layout import Layout
from synthmix.recipe import Recipe, load_recipe
from synthmix.record import Record
from synthmix.store import write_dataset
from tests.synth.chat_server import ChatServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "synth"
PAIRS = FIXTURES / "pairs_de_fr.tsv"
PASSAGES = FIXTURES / "passages_de.jsonl"

SOURCES = f"""
name = "t"
[sources.flores]
type = "files"
path = "{PAIRS}"
kind = "translation"
columns = {{ src = "de", tgt = "fr" }}
src_lang = "de"
tgt_lang = "fr"

[sources.wiki]
type = "files"
path = "{PASSAGES}"
kind = "passage"
columns = {{ text = "text" }}
lang = "de"
"""


def pair_records() -> list[Record]:
    with PAIRS.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [
        Record(
            kind="translation",
            origin="real",
            source="flores",
            fields={"src": r["de"], "tgt": r["fr"]},
            split=r["split"],
            src_lang="de",
            tgt_lang="fr",
        )
        for r in rows
    ]


def passage_records() -> list[Record]:
    rows = [json.loads(line) for line in PASSAGES.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [
        Record(
            kind="passage",
            origin="real",
            source="wiki",
            fields={"text": r["text"]},
            lang="de",
            meta={"title": r["title"], "url": f"https://de.wikipedia.org/wiki/{r['title']}"},
        )
        for r in rows
    ]


def write_ingest(layout: Layout) -> None:
    write_dataset(layout.ingest("flores"), pair_records(), stage="ingest", config_hash="fixture")
    write_dataset(layout.ingest("wiki"), passage_records(), stage="ingest", config_hash="fixture")


def make_recipe(tmp_path: Path, synth_toml: str, name: str = "t") -> Recipe:
    path = tmp_path / f"{name}.toml"
    body = SOURCES.replace('name = "t"', f'name = "{name}"') + textwrap.dedent(synth_toml)
    path.write_text(body, encoding="utf-8")
    return load_recipe(path)


def llm_table(base_url: str, **overrides: object) -> str:
    """An ``[llm]`` body for a fast test: high limits, quick retries, short timeout."""
    values: dict[str, object] = {
        "backend": "groq",
        "model": "llama-test",
        "base_url": base_url,
        "requests_per_minute": 60000,
        "concurrency": 2,
        "max_retries": 3,
        "retry_base_s": 0.02,
        "timeout_s": 5.0,
        "max_tokens": 512,
        "price": {"prompt_per_million": 1.0, "completion_per_million": 2.0},
    }
    values.update(overrides)
    lines = []
    for k, v in values.items():
        if isinstance(v, dict):
            inner = ", ".join(f"{ik} = {iv}" for ik, iv in v.items())
            lines.append(f"{k} = {{ {inner} }}")
        elif isinstance(v, str):
            lines.append(f"{k} = {json.dumps(v)}")
        elif isinstance(v, bool):
            lines.append(f"{k} = {'true' if v else 'false'}")
        else:
            lines.append(f"{k} = {v}")
    return "\n".join(lines)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tmp cwd with a fake key; ingest outputs are written by ``write_ingest(layout)``."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GROQ_API_KEY", "gsk_fake-test-key-1234")
    monkeypatch.delenv("SYNTHMIX_HOME", raising=False)
    return tmp_path


@pytest.fixture
def server() -> Iterator[ChatServer]:
    with ChatServer() as s:
        yield s
