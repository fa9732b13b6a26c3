"""Trainer test setup: a tiny mix written with the real store into a tmp Layout, and a fixture recipe."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
import torch

from synthmix.layout import Layout
from synthmix.mixspec import parse_mix
from synthmix.recipe import Recipe, load_recipe
from synthmix.record import Record
from synthmix.store import write_dataset

FIXTURE_RECIPE = Path(__file__).resolve().parent.parent / "fixtures" / "train" / "recipe.toml"

# Short pairs so prompt + answer fit max_length=64 with the tiny tokenizer.
PAIRS = [
    ("Guten Morgen.", "Bonjour."),
    ("Danke schön.", "Merci beaucoup."),
    ("Wie geht es dir?", "Comment vas-tu ?"),
    ("Ich habe Hunger.", "J'ai faim."),
    ("Das Wetter ist schön.", "Il fait beau."),
    ("Wo ist der Bahnhof?", "Où est la gare ?"),
    ("Ich lese ein Buch.", "Je lis un livre."),
    ("Wir gehen nach Hause.", "Nous rentrons."),
    ("Es ist spät.", "Il est tard."),
    ("Der Hund schläft.", "Le chien dort."),
]


@pytest.fixture(autouse=True)
def _few_threads() -> None:
    # Several engineers share two cores: one thread keeps each test predictable and fair.
    torch.set_num_threads(1)


def pair_records(pairs: Sequence[tuple[str, str]] = PAIRS, source: str = "flores") -> list[Record]:
    return [
        Record(
            kind="translation",
            origin="real",
            source=source,
            fields={"src": a, "tgt": b},
            src_lang="de",
            tgt_lang="fr",
        )
        for a, b in pairs
    ]


def qa_records(n: int = 4) -> list[Record]:
    return [
        Record(
            kind="qa",
            origin="synthetic",
            source="qa",
            fields={"question": f"Wie alt ist Anna {i}?", "answer": f"{20 + i} Jahre."},
            lang="de",
        )
        for i in range(n)
    ]


MakeProject = Callable[..., tuple[Recipe, Layout]]


@pytest.fixture
def make_project(tmp_path: Path, tiny_model_dir: Path) -> MakeProject:
    """``make_project(records, mix="flores", overrides=[...])`` -> (recipe, layout) with the mix written."""

    def make(
        records: Sequence[Record] | None = None, mix: str = "flores", overrides: Sequence[str] = ()
    ) -> tuple[Recipe, Layout]:
        recipe = load_recipe(
            FIXTURE_RECIPE, overrides=[f"train.model='{tiny_model_dir}'", *overrides], check_files=False
        )
        layout = Layout(recipe.name, tmp_path / "project")
        write_dataset(
            layout.mix(parse_mix(mix).canonical),
            list(records if records is not None else pair_records()),
            stage="mix",
            extra={"mix": {"mix_id": "mix-fixture-1"}},
        )
        return recipe, layout

    return make
