"""End to end: `synthmix corpus` on the offline sample writes a card for every curated source and mix."""

from __future__ import annotations

from pathlib import Path

from datasets import load_dataset
from huggingface_hub import DatasetCard, DatasetCardData

from data_cards.cards import load_card_json
from synthmix.cli import main
from synthmix.layout import Layout
from synthmix.mixspec import parse_mix
from synthmix.recipe import load_recipe
from synthmix.store import read_manifest
from tests.data_cards.conftest import ABSOLUTE_PATH


def test_corpus_on_the_sample_writes_every_card(in_tmp_project: Path) -> None:
    assert main(["corpus", "--recipe", "recipes/sample.toml"]) == 0
    recipe = load_recipe("recipes/sample.toml")
    layout = Layout.for_recipe(recipe.name)
    dirs = [layout.curate(n) for n in recipe.source_names]
    dirs += [layout.mix(parse_mix(spec).canonical) for spec in recipe.mix.build]
    assert dirs
    for d in dirs:
        card = DatasetCard.load(d / "README.md")
        DatasetCardData(**card.data.to_dict())
        facts = load_card_json(d)
        assert facts["stats"]["records"] > 0
        assert facts["dataset"]["output_hash"] == read_manifest(d)["output_hash"]
        for plot in facts["plots"].values():
            assert (d / plot).is_file()
        text = (d / "README.md").read_text(encoding="utf-8")
        assert str(in_tmp_project) not in text and str(Path.home()) + "/" not in text

    # The published form of a curated source loads with the right splits.
    out = in_tmp_project / "dry"
    source = recipe.source_names[0]
    assert (
        main(
            [
                "publish",
                "--recipe",
                "recipes/sample.toml",
                "--dataset",
                str(layout.curate(source)),
                "--repo",
                "someone/sample",
                "--dry-run",
                str(out),
            ]
        )
        == 0
    )
    ds = load_dataset(str(out))
    counts = load_card_json(layout.curate(source))["stats"]["by_split"]
    expected = {{"dev": "validation"}.get(k, k): v for k, v in counts.items()}
    assert {name: len(split) for name, split in ds.items()} == expected


def test_corpus_with_recorded_synth_jobs_cards_the_generation(in_tmp_project: Path) -> None:
    """Real synth manifests (recorded backend replaying samples/synth/) reach the synthetic cards."""
    recipe_path = str(
        Path(__file__).resolve().parent.parent / "fixtures" / "data_cards" / "sample_synth.toml"
    )
    assert main(["corpus", "--recipe", recipe_path]) == 0
    layout = Layout.for_recipe("cards-sample-synth")
    synthetic = load_card_json(layout.curate("synthetic"))
    [gen] = synthetic["synthetic"]
    synth_manifest = read_manifest(layout.synth("synthetic"))["synth"]
    assert gen["models"] == {"hand-written-sample": synthetic["stats"]["records"]}
    assert gen["templates"][0]["id"] == synth_manifest["template"]["id"]
    assert gen["templates"][0]["hash"] == synth_manifest["template"]["hash"]
    assert gen["tokens"]["completion_tokens"] == synth_manifest["tokens"]["completion"] > 0
    assert gen["tokens"]["prompt_tokens"] == synth_manifest["tokens"]["prompt"]  # 0 is a value, not "missing"
    assert gen["tokens"]["requests"] == synth_manifest["requests"]["completed"]
    # Priced in the recipe: tokens x price.
    assert gen["tokens"]["cost_usd"] == synth_manifest["cost_usd"]
    assert (
        gen["rejected_by_reason"] == read_manifest(layout.synth("synthetic"))["counts"]["rejected_by_reason"]
    )
    text = (layout.curate("wiki_qa") / "README.md").read_text(encoding="utf-8")
    assert "not estimated (the recipe sets no price for this model)" in text
    # The recipe lives outside the project here: the card names it without this machine's folders.
    assert "make corpus RECIPE=recipes/sample_synth.toml" in text
    for card_file in layout.data.rglob("*"):
        if card_file.name in ("README.md", "card.json"):
            assert not ABSOLUTE_PATH.search(card_file.read_text(encoding="utf-8")), card_file
    meta = DatasetCard.load(layout.mix("flores+synthetic") / "README.md").data.to_dict()
    assert meta["annotations_creators"] == ["found", "machine-generated"]
    assert meta["license"] == "cc0-1.0"  # the synthetic pairs inherit the license of their seed pairs
