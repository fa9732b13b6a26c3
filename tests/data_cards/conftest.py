"""A tiny finished corpus for card tests: ingest, synth, curate and mix outputs written with the real store.

The curate and mix stages are built in parallel, so the manifests here follow the shapes they promise
(``funnel``, ``decontam``, ``mix``). A fake token and a home path are planted in record meta; cards must
never show them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from synthmix.config.base import as_table
from synthmix.layout import Layout
from synthmix.mixspec import parse_mix
from synthmix.recipe import Recipe, load_recipe
from synthmix.record import Record
from synthmix.status import config_hash_for
from synthmix.store import Rejection, write_dataset

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "data_cards"
FAKE_HF_TOKEN = "hf_PlantedFakeToken1234567890"
FAKE_GROQ_KEY = "PlantedGroqKey-0987654321"  # no gsk_ prefix: only the env-based redaction catches it
PLANTED_HOME = "/home/alice"
# An absolute POSIX path in prose or JSON (URLs are excluded: their path follows a host name).
ABSOLUTE_PATH = re.compile(r"(?<![\w:/.\])-])/(?:[\w.+-]+/)+[\w.+-]*")


def fixture_records() -> list[Record]:
    records = []
    for line in (FIXTURES / "records.jsonl").read_text(encoding="utf-8").splitlines():
        line = line.replace("PLANTED_TOKEN", f"token={FAKE_GROQ_KEY}&hf={FAKE_HF_TOKEN}")
        line = line.replace("PLANTED_HOME", PLANTED_HOME)
        records.append(Record(**json.loads(line)))
    return records


def build_corpus(root: Path) -> tuple[Recipe, Layout]:
    """Write every upstream output the cards read, under ``root``; returns the recipe and its layout."""
    recipe = load_recipe(FIXTURES / "recipe.toml", check_files=False)
    layout = Layout(recipe.name, root)
    records = fixture_records()
    by_source: dict[str, list[Record]] = {}
    for r in records:
        by_source.setdefault(r.source, []).append(r)

    # Manifest shapes as ingest and synth write them (source facts, seeded split, synth accounting).
    write_dataset(
        layout.ingest("flores"),
        by_source["flores"],
        stage="ingest",
        config_hash=config_hash_for(recipe, "ingest", "flores"),
        config={**as_table(recipe.sources["flores"]), "path": f"{PLANTED_HOME}/data/flores.tsv"},
        extra={
            "source_type": "hub",
            "source": {
                "dataset": "openlanguagedata/flores_plus",
                "config": "deu_Latn+fra_Latn",
                "revision": "",
            },
            "split": {
                "seed": 13,
                "limit": 6,
                "records_before_limit": 2009,
                "config": {"test": 0.2, "dev": 0.1, "seed": 13},
            },
        },
    )
    write_dataset(
        layout.ingest("wiki"),
        by_source["wiki"],
        stage="ingest",
        config=as_table(recipe.sources["wiki"]),
        extra={
            "source": {"pages": 3, "pages_with_passages": 2, "api_url": "https://de.wikipedia.org/w/api.php"}
        },
    )
    write_dataset(
        layout.synth("synthetic"),
        by_source["synthetic"],
        stage="synth",
        config_hash=config_hash_for(recipe, "synth", "synthetic"),
        config=as_table(recipe.synth["synthetic"]),
        rejected=[Rejection(by_source["flores"][0], "malformed_json")],
        # The synth stage's own accounting wins over per-record meta.
        extra={
            "synth": {
                "generator": "translation",
                "backend": "groq",
                "model": "llama-3.3-70b-versatile",
                "template": {"id": "translation_pairs@v1", "hash": "9b2e41d0aa"},
                "requests": {"planned": 2, "completed": 2, "cache_hits": 1, "sent": 1},
                "tokens": {"prompt": 805, "completion": 251, "total": 1056},
                "cost_usd": 0.000673,
                "stop": None,
            }
        },
    )
    # wiki_qa's manifest has no accounting: the card falls back to record meta and the recipe's prices.
    write_dataset(layout.synth("wiki_qa"), by_source["wiki_qa"], stage="synth")

    for name, recs in by_source.items():
        n = len(recs)
        extra = {
            "funnel": [
                {"stage": "normalize", "in": n + 3, "out": n + 3, "rejected_by_reason": {}},
                {"stage": "dedup", "in": n + 3, "out": n + 1, "rejected_by_reason": {"exact_duplicate": 2}},
                {"stage": "decontam", "in": n + 1, "out": n, "rejected_by_reason": {"eval_overlap": 1}},
            ],
            "decontam": {"eval_sets": ["flores/test"], "ngram": 8, "removed": 1},
        }
        write_dataset(
            layout.curate(name),
            recs,
            stage="curate",
            config_hash=config_hash_for(recipe, "curate", name),
            rejected=[Rejection(recs[0], "eval_overlap", "shares an 8-gram with flores/test")],
            extra=extra,
        )

    spec = parse_mix("synthetic+flores")
    mixed = [r for r in by_source["flores"] if r.split == "train"][:3] + by_source["synthetic"][:3]
    write_dataset(
        layout.mix(spec.canonical),
        mixed,
        stage="mix",
        config_hash=config_hash_for(recipe, "mix", spec.canonical),
        extra={
            "mix": {
                "spec": spec.canonical,
                "mix_id": "mix-5e1f2a",
                "weights": dict(spec.parts),
                "budget": 6,
                "budget_unit": "records",
                "seed": 13,
                "available": {"flores": 4, "synthetic": 4},
                "shortfall": {},
                "ids_by_source": {
                    "flores": [r.id for r in mixed[:3]],
                    "synthetic": [r.id for r in mixed[3:]],
                },
            }
        },
    )
    return recipe, layout


@pytest.fixture
def secrets_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", FAKE_HF_TOKEN)
    monkeypatch.setenv("GROQ_API_KEY", FAKE_GROQ_KEY)


@pytest.fixture
def corpus(tmp_path: Path, secrets_in_env: None) -> tuple[Recipe, Layout]:
    """A fresh corpus without cards, for tests that change it."""
    return build_corpus(tmp_path / "project")


@pytest.fixture(scope="module")
def carded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Recipe, Layout, list[Path]]:
    """The corpus with every card written once per test module (cards take ~1 s each to draw)."""
    from data_cards.cards import write_cards

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_TOKEN", FAKE_HF_TOKEN)
        mp.setenv("GROQ_API_KEY", FAKE_GROQ_KEY)
        recipe, layout = build_corpus(tmp_path_factory.mktemp("carded") / "project")
        readmes = write_cards(recipe, layout)
    return recipe, layout, readmes
