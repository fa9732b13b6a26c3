from __future__ import annotations

import json
from pathlib import Path

import pytest
from huggingface_hub import DatasetCard, DatasetCardData

from data_cards.cards import card_hash, dataset_dirs, load_card_json, write_card, write_cards
from data_cards.publish import write_dry_run
from synthmix.errors import SynthmixError
from synthmix.layout import Layout
from synthmix.recipe import Recipe
from synthmix.record import Record
from synthmix.store import write_dataset
from tests.data_cards.conftest import ABSOLUTE_PATH, FAKE_GROQ_KEY, FAKE_HF_TOKEN, PLANTED_HOME

Carded = tuple[Recipe, Layout, list[Path]]

SECTIONS = (
    "## Dataset structure",
    "## Sources",
    "## Synthetic generation",
    "## Curation funnel",
    "## Decontamination",
    "## Statistics",
    "## Intended use",
    "## Known limitations and biases",
    "## How to reproduce",
)


def _card(carded: Carded, name: str) -> tuple[DatasetCard, dict]:
    _, layout, _ = carded
    path = layout.mix(name) if "+" in name else layout.curate(name)
    return DatasetCard.load(path / "README.md"), load_card_json(path)


def test_every_curated_source_and_mix_gets_a_card(carded: Carded) -> None:
    _, layout, readmes = carded
    expected = [layout.curate(n) for n in ("flores", "wiki", "synthetic", "wiki_qa")]
    assert [p.parent for p in readmes] == [*expected, layout.mix("flores+synthetic")]
    for readme in readmes:
        card = load_card_json(readme.parent)
        for plot in card["plots"].values():
            assert (readme.parent / plot).stat().st_size > 1000, plot
            assert f"]({plot})" in readme.read_text(encoding="utf-8")
        assert all(section in readme.read_text(encoding="utf-8") for section in SECTIONS)


def test_metadata_is_accepted_by_dataset_card_data(carded: Carded) -> None:
    card, facts = _card(carded, "flores")
    meta = card.data.to_dict()
    DatasetCardData(**meta)  # the Hub's own metadata type takes it back
    assert meta["language"] == ["de", "fr"]
    assert meta["license"] == "cc-by-sa-4.0"
    assert meta["task_categories"] == ["translation"]
    assert meta["size_categories"] == ["n<1K"]
    assert meta["source_datasets"] == ["extended|openlanguagedata/flores_plus"]
    assert meta["annotations_creators"] == ["expert-generated"]
    assert meta["language_creators"] == ["found"]
    assert meta["configs"][0]["data_files"] == [
        {"split": "train", "path": "train-*.parquet"},
        {"split": "validation", "path": "dev-*.parquet"},
        {"split": "test", "path": "test-*.parquet"},
    ]
    assert "synthetic" not in meta["tags"] and "translation" in meta["tags"]
    assert meta["dataset_info"]["splits"] == [
        {"name": "train", "num_examples": 4},
        {"name": "validation", "num_examples": 1},
        {"name": "test", "num_examples": 1},
    ]
    assert [f["name"] for f in meta["dataset_info"]["features"]][:3] == ["id", "kind", "origin"]
    src = facts["sources"][0]
    assert src["hub_config"] == "deu_Latn+fra_Latn" and src["revision"] == "3f1a9c2"
    assert (
        "a seeded sample of 6 of 2,009 records and a seeded split (test 20%, dev 10%), seed 13" in card.text
    )


def test_synthetic_qa_card_is_machine_generated_question_answering(carded: Carded) -> None:
    card, facts = _card(carded, "wiki_qa")
    meta = card.data.to_dict()
    assert meta["annotations_creators"] == ["machine-generated"]
    assert meta["task_categories"] == ["question-answering"]
    assert {"synthetic", "qa", "synthmix"} <= set(meta["tags"])
    assert meta["language"] == ["de"]
    # Inherits the license of the Wikipedia source that seeded it.
    assert meta["license"] == "cc-by-sa-4.0"
    gen = facts["synthetic"][0]
    assert gen["models"] == {"tiny-local": 2}
    assert gen["templates"] == [{"id": "qa_from_passage@v2", "hash": "51c0ffee77", "records": 2}]
    # No accounting in the synth manifest: tokens come from record meta (one count per request) and the
    # cost from the recipe's price table: (580 * 1.0 + 90 * 2.0) / 1e6.
    assert gen["tokens"]["prompt_tokens"] == 580 and gen["tokens"]["completion_tokens"] == 90
    assert gen["tokens"]["requests"] == 2
    assert gen["tokens"]["cost_usd"] == pytest.approx(0.00076)
    assert gen["tokens"]["accounting_from"] == "record meta"


def test_synthetic_generation_uses_the_synth_manifest_accounting(carded: Carded) -> None:
    card, facts = _card(carded, "synthetic")
    gen = facts["synthetic"][0]
    assert gen["tokens"]["prompt_tokens"] == 805 and gen["tokens"]["requests"] == 2
    assert gen["sampling"] == {"max_tokens": 2048, "seed": 13, "temperature": 0.9, "top_p": 1.0}
    assert gen["seeded_from"] == "flores"
    assert gen["rejected_by_reason"] == {"malformed_json": 1}
    assert "| `translation_pairs@v1` | `9b2e41d0aa` | 4 |" in card.text
    assert "805 prompt + 251 completion in 2 request(s)" in card.text
    assert "$0.0007" in card.text
    assert gen["job_records"] == 4 and gen["cache_hits"] == 1
    assert "1 answer(s) came from the response cache" in card.text


def test_wikipedia_card_lists_pages_and_revisions(carded: Carded) -> None:
    card, facts = _card(carded, "wiki")
    src = facts["sources"][0]
    assert src["revision_id_count"] == 2
    assert set(src["revision_ids"]) == {"Mainz@241000123", "Johannes Gutenberg@240555777"}
    assert "https://de.wikipedia.org/wiki/Mainz" in src["origin_urls"]
    assert "- `wiki`: 3 page(s) read, 2 with usable passages" in card.text
    example = facts["stats"]["examples"]["passage"]
    assert example["fields"]["text"].startswith("Mainz ist die Landeshauptstadt")
    assert "Example `passage` record (real, from `wiki`; the first in the train split):" in card.text
    assert card.data.to_dict()["language_creators"] == ["crowdsourced"]


def test_funnel_and_decontamination_sections(carded: Carded) -> None:
    card, facts = _card(carded, "flores")
    assert [s["stage"] for s in facts["funnel"]] == ["normalize", "dedup", "decontam"]
    assert "| dedup | 9 | 7 | 2 | exact_duplicate=2 |" in card.text
    assert "- Eval sets checked: flores/test" in card.text
    assert "- Overlapping records removed: 1" in card.text


def test_mix_card_shows_weights_components_and_both_origins(carded: Carded) -> None:
    card, facts = _card(carded, "flores+synthetic")
    meta = card.data.to_dict()
    assert meta["annotations_creators"] == ["expert-generated", "machine-generated"]
    assert {"synthetic", "real", "mixture"} <= set(meta["tags"])
    assert facts["mix"]["mix_id"] == "mix-5e1f2a"
    assert facts["mix"]["weights"] == {"flores": 0.5, "synthetic": 0.5}
    assert facts["mix"]["ids_per_source"] == {"flores": 3, "synthetic": 3}
    assert facts["stats"]["origin_shares"]["synthetic"]["share"] == 0.5
    assert set(facts["components"]) == {"flores", "synthetic"}
    # The mix drew 6 of the 8 train records its sources had.
    assert facts["funnel"][-1] == {"stage": "mix", "in": 8, "out": 6}
    assert "budget 6 records, seed 13" in card.text
    assert "Curated source `flores`:" in card.text
    assert "synthmix mix --recipe" in card.text


def test_card_hash_is_stable_and_excludes_itself(carded: Carded) -> None:
    recipe, layout, readmes = carded
    path = readmes[0].parent
    card = load_card_json(path)
    assert card["card_hash"] == card_hash(card)
    before = {
        p.name: p.read_bytes()
        for p in [path / "README.md", path / "card.json", *sorted((path / "assets").iterdir())]
    }
    write_card(path, recipe, layout)
    after = {
        p.name: p.read_bytes()
        for p in [path / "README.md", path / "card.json", *sorted((path / "assets").iterdir())]
    }
    assert after == before  # same data, same card, byte for byte (plots included)
    assert card_hash({**card, "name": "changed"}) != card["card_hash"]


def test_no_secret_home_path_or_user_name_in_any_card(carded: Carded) -> None:
    _, layout, _ = carded
    texts = [
        p.read_text(encoding="utf-8") for p in layout.data.rglob("*") if p.name in ("README.md", "card.json")
    ]
    assert len(texts) == 10
    for text in texts:
        assert FAKE_HF_TOKEN not in text
        assert FAKE_GROQ_KEY not in text
        assert PLANTED_HOME not in text and "alice" not in text
        assert str(layout.root.resolve()) not in text
        assert not ABSOLUTE_PATH.search(text)
    wiki = load_card_json(layout.curate("wiki"))
    assert any("token=<redacted>" in url for url in wiki["sources"][0]["origin_urls"])


def test_missing_upstream_facts_say_not_recorded(tmp_path: Path, carded: Carded) -> None:
    recipe, _, _ = carded
    layout = Layout("bare", tmp_path)
    recs = [
        Record(
            kind="instruction",
            origin="real",
            source="notes",
            lang="en",
            fields={"instruction": "Say hi.", "response": "Hi."},
        ),
    ]
    write_dataset(layout.curate("notes"), recs, stage="curate")
    write_cards(recipe, layout)
    text = (layout.curate("notes") / "README.md").read_text(encoding="utf-8")
    assert "The curation funnel was not recorded" in text
    assert "Decontamination result: not recorded." in text
    assert "This dataset has no synthetic records." in text
    meta = DatasetCard.load(layout.curate("notes") / "README.md").data.to_dict()
    assert meta["license"] == "unknown"
    assert meta["task_categories"] == ["text-generation"]
    card = load_card_json(layout.curate("notes"))
    assert "funnel" not in card["plots"] and not (layout.curate("notes") / "assets" / "funnel.png").exists()


def test_an_empty_dataset_gets_a_valid_card_but_is_not_published(tmp_path: Path, carded: Carded) -> None:
    recipe, _, _ = carded
    layout = Layout("empty", tmp_path)
    write_dataset(layout.curate("nothing"), [], stage="curate")
    [readme] = write_cards(recipe, layout)
    meta = DatasetCard.load(readme).data.to_dict()
    DatasetCardData(**meta)
    assert "configs" not in meta and "task_categories" not in meta
    assert "- **Records:** 0 (no records)" in readme.read_text(encoding="utf-8")
    assert load_card_json(readme.parent)["plots"] == {}
    with pytest.raises(SynthmixError, match="no records"):
        write_dry_run(readme.parent, tmp_path / "out")


def test_several_licenses_give_other_with_the_list_in_prose(tmp_path: Path, carded: Carded) -> None:
    recipe, _, _ = carded
    layout = Layout("lic", tmp_path)
    recs = [
        Record(
            kind="qa",
            origin="real",
            source="a",
            lang="en",
            fields={"question": "q1?", "answer": "a1"},
            meta={"license": "CC0-1.0"},
        ),
        Record(
            kind="qa",
            origin="real",
            source="b",
            lang="en",
            fields={"question": "q2?", "answer": "a2"},
            meta={"license": "MIT"},
        ),
    ]
    write_dataset(layout.data / "mix" / "a+b", recs, stage="mix", extra={"mix": {"spec": "a+b"}})
    [readme] = write_cards(recipe, layout)
    card = DatasetCard.load(readme)
    assert card.data.to_dict()["license"] == "other"
    assert "different licenses (cc0-1.0, mit)" in card.text


def test_only_writes_one_dataset_and_incomplete_dirs_are_refused(
    tmp_path: Path, corpus: tuple[Recipe, Layout]
) -> None:
    recipe, layout = corpus
    written = write_cards(recipe, layout, only=layout.curate("wiki"))
    assert written == [layout.curate("wiki") / "README.md"]
    assert not (layout.curate("flores") / "README.md").exists()
    # A writer's temp dir holds a manifest before it is renamed into place: not an output, no card.
    temp = layout.data / "curate" / ".wiki.tmp-123"
    temp.mkdir()
    (temp / "manifest.json").write_text("{}")
    assert layout.data / "curate" / ".wiki.tmp-123" not in dataset_dirs(layout, recipe)
    assert len(dataset_dirs(layout, recipe)) == 5
    (tmp_path / "half").mkdir()
    with pytest.raises(SynthmixError, match="no manifest.json"):
        write_cards(recipe, layout, only=tmp_path / "half")


def test_card_json_is_plain_json_with_the_readme_facts(carded: Carded) -> None:
    _, layout, _ = carded
    raw = json.loads((layout.curate("flores") / "card.json").read_text(encoding="utf-8"))
    assert raw["card_version"] == 1
    assert raw["dataset"]["files"] == [
        "train-00000-of-00001.parquet",
        "dev-00000-of-00001.parquet",
        "test-00000-of-00001.parquet",
    ]
    assert raw["metadata"]["license"] == "cc-by-sa-4.0"
    assert raw["reproduce"]["commands"][0] == "make corpus RECIPE=" + raw["reproduce"]["recipe"]


def test_a_carded_dataset_directory_loads_through_its_card(carded: Carded) -> None:
    from datasets import load_dataset

    _, layout, _ = carded
    # With README.md present, datasets reads its configs: the split shards, never rejected.parquet.
    ds = load_dataset(str(layout.curate("flores")))
    assert {name: len(split) for name, split in ds.items()} == {"train": 4, "validation": 1, "test": 1}


def test_current_cards_are_kept_and_changed_inputs_rewrite_them(corpus: tuple[Recipe, Layout]) -> None:
    recipe, layout = corpus
    readmes = write_cards(recipe, layout)
    stamp = {p: p.stat().st_mtime_ns for p in readmes}
    assert write_cards(recipe, layout) == readmes
    assert {p: p.stat().st_mtime_ns for p in readmes} == stamp  # nothing rewritten
    # The synth job is rebuilt (its manifest changes): the cards that show it are rewritten, the rest kept.
    synth_dir = layout.synth("synthetic")
    manifest = json.loads((synth_dir / "manifest.json").read_text())
    manifest["synth"]["tokens"]["prompt"] = 999
    (synth_dir / "manifest.json").write_text(json.dumps(manifest))
    write_cards(recipe, layout)
    changed = {p.parent.name for p in readmes if p.stat().st_mtime_ns != stamp[p]}
    assert changed == {"synthetic", "flores+synthetic"}
    assert load_card_json(layout.curate("synthetic"))["synthetic"][0]["tokens"]["prompt_tokens"] == 999
    # A deleted plot makes the card incomplete: rewritten.
    (layout.curate("wiki") / "assets" / "lengths.png").unlink()
    write_cards(recipe, layout)
    assert (layout.curate("wiki") / "assets" / "lengths.png").is_file()
    before = readmes[0].stat().st_mtime_ns
    write_cards(recipe, layout, force=True)
    assert readmes[0].stat().st_mtime_ns != before
