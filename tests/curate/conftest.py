"""Fixtures for curate tests: a small recipe with a real pair source and a synthetic job, and a writer
that puts records where ingest and synth would (real ``write_dataset`` output in a tmp Layout)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from synthmix.layout import Layout
from synthmix.recipe import Recipe, load_recipe
from synthmix.record import Record
from synthmix.store import write_dataset

RECIPE = """
name = "curtest"
[sources.flores]
type = "files"
path = "pairs.tsv"
kind = "translation"
src_lang = "deu_Latn"
tgt_lang = "fra_Latn"

[sources.wiki]
type = "files"
path = "wiki.jsonl"
kind = "passage"
lang = "de"
eval = false

[synth.synthetic]
generator = "translation"
from = "flores"
src_lang = "de"
tgt_lang = "fr"
[synth.synthetic.llm]
backend = "openai"
base_url = "http://127.0.0.1:9/v1"
model = "scripted"
"""


@pytest.fixture
def make_recipe(tmp_path: Path) -> Callable[..., Recipe]:
    def make(extra: str = "", overrides: tuple[str, ...] = ()) -> Recipe:
        path = tmp_path / "curtest.toml"
        path.write_text(RECIPE + extra, encoding="utf-8")
        return load_recipe(path, overrides=list(overrides), check_files=False)

    return make


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    return Layout("curtest", tmp_path / "out")


def write_input(
    layout: Layout, stage: str, name: str, records: list[Record], eval_splits: list[str] | None = None
) -> Path:
    path = layout.ingest(name) if stage == "ingest" else layout.synth(name)
    extra = {"eval_splits": eval_splits} if eval_splits is not None else {}
    write_dataset(path, records, stage=stage, config_hash="x", extra=extra)
    return path


def pair(src: str, tgt: str, *, source: str = "flores", split: str = "train", **kw: object) -> Record:
    origin = "synthetic" if source == "synthetic" else "real"
    return Record(
        kind="translation",
        origin=origin,
        source=source,
        fields={"src": src, "tgt": tgt},
        split=split,
        src_lang="deu_Latn" if origin == "real" else "de",
        tgt_lang="fra_Latn" if origin == "real" else "fr",
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def sample_pairs(project_root: Path) -> list[tuple[str, str]]:
    """The shipped German-French sample pairs (samples/parallel/de-fr.tsv), as (de, fr)."""
    lines = (project_root / "samples/parallel/de-fr.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return [(a, b) for a, b in (line.split("\t") for line in lines)]
