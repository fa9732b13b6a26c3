"""The ingest stage through the CLI and run_ingest: sample recipe, skipping, staleness, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.stage import run_ingest
from synthmix.cli import main
from synthmix.errors import ConfigError, SynthmixError
from synthmix.layout import Layout
from synthmix.recipe import load_recipe
from synthmix.status import recipe_status
from synthmix.store import read_manifest, read_records


def test_sample_recipe_ingests_pages_and_parallel_file(
    in_tmp_project: Path, capsys: pytest.CaptureFixture[str]
):
    assert main(["ingest", "--recipe", "recipes/sample.toml"]) == 0
    flores = read_manifest(Path("data/sample/ingest/flores"))
    n_pairs = sum(
        1
        for line in Path("samples/parallel/de-fr.tsv").read_text(encoding="utf-8").splitlines()[1:]
        if line.strip()
    )
    assert flores["counts"]["records"] + flores["counts"]["rejected"] == n_pairs
    assert flores["counts"]["records"] >= 240
    # split = { test = 0.2 }: exactly round(0.2 * n) test pairs, registered as the eval split.
    assert flores["counts"]["by_split"]["test"] == round(0.2 * flores["counts"]["records"])
    assert flores["eval_splits"] == ["test"] and flores["source_type"] == "files"
    assert flores["split"]["config"] == {"test": 0.2, "dev": 0.0, "seed": 13}
    pairs = read_records(Path("data/sample/ingest/flores"))
    assert all(r.kind == "translation" and (r.src_lang, r.tgt_lang) == ("de", "fr") for r in pairs)
    assert {r.meta["path"] for r in pairs} == {"samples/parallel/de-fr.tsv"}
    assert min(r.meta["line"] for r in pairs) == 2

    wiki = read_manifest(Path("data/sample/ingest/wiki"))
    assert wiki["source_type"] == "wikipedia" and wiki["counts"]["records"] >= 10
    passages = read_records(Path("data/sample/ingest/wiki"))
    assert {r.meta["license"] for r in passages} == {"CC BY-SA 4.0"}
    assert all(r.meta["sentences"] <= 4 and r.lang == "de" for r in passages)  # passage_sentences = 4
    assert {r.meta["title"] for r in passages} >= {"Johann Gutenberg"}
    assert all(r.meta["file"].startswith("samples/wiki/de/") for r in passages)

    recipe = load_recipe("recipes/sample.toml")
    states = {(s.stage, s.name): s.state for s in recipe_status(recipe, Layout.for_recipe("sample"))}
    assert states[("ingest", "flores")] == states[("ingest", "wiki")] == "complete"


def _files_recipe(tmp_path: Path, data: str, extra: str = "") -> Path:
    tsv = tmp_path / "pairs.tsv"
    tsv.write_text(data, encoding="utf-8")
    recipe = tmp_path / "r.toml"
    recipe.write_text(
        f'name = "r"\n[sources.pairs]\ntype = "files"\npath = "{tsv}"\nsrc_lang = "de"\ntgt_lang = "fr"\n{extra}',
        encoding="utf-8",
    )
    return recipe


PAIRS = "de\tfr\n" + "".join(f"Satz Nummer {i}.\tPhrase numéro {i}.\n" for i in range(50))


def test_output_is_skipped_when_current_and_rebuilt_when_input_or_config_changes(tmp_path: Path):
    recipe_path = _files_recipe(tmp_path, PAIRS, "split = { test = 0.2, dev = 0.1, seed = 5 }\n")
    layout = Layout("r", tmp_path / "out")
    first = run_ingest(load_recipe(recipe_path), layout)["pairs"]
    assert first["counts"]["by_split"] == {"dev": 5, "test": 10, "train": 35}
    assert first["eval_splits"] == ["test", "dev"]
    assert run_ingest(load_recipe(recipe_path), layout)["pairs"]["created_unix"] == first["created_unix"]
    # Same config, edited file: rebuilt.
    (tmp_path / "pairs.tsv").write_text(PAIRS + "Noch ein Satz.\tEncore une phrase.\n", encoding="utf-8")
    second = run_ingest(load_recipe(recipe_path), layout)["pairs"]
    assert second["counts"]["records"] == 51
    # Changed config: rebuilt with a new config hash, and force rebuilds anyway.
    changed = load_recipe(recipe_path, overrides=["sources.pairs.limit=20"])
    third = run_ingest(changed, layout)["pairs"]
    assert third["counts"]["records"] == 20 and third["config_hash"] != second["config_hash"]
    assert run_ingest(changed, layout, force=True)["pairs"]["created_unix"] >= third["created_unix"]


def test_eval_false_registers_no_eval_split(tmp_path: Path):
    recipe = load_recipe(_files_recipe(tmp_path, PAIRS, "eval = false\nsplit = { test = 0.2 }\n"))
    manifest = run_ingest(recipe, Layout("r", tmp_path / "out"))["pairs"]
    assert manifest["eval_splits"] == [] and manifest["counts"]["by_split"]["test"] == 10


def test_identical_output_on_rerun(tmp_path: Path):
    recipe = load_recipe(_files_recipe(tmp_path, PAIRS, "split = { test = 0.2 }\n"))
    a = run_ingest(recipe, Layout("r", tmp_path / "a"))["pairs"]
    b = run_ingest(recipe, Layout("r", tmp_path / "b"))["pairs"]
    assert a["output_hash"] == b["output_hash"]


def test_source_with_no_usable_rows_stops_without_writing(tmp_path: Path):
    recipe = load_recipe(_files_recipe(tmp_path, "de\tfr\n\tleer.\nnur\n"))
    layout = Layout("r", tmp_path / "out")
    with pytest.raises(
        SynthmixError,
        match=r"sources\.pairs: no usable records \(2 rejected: empty_field 1, missing_column 1\)",
    ):
        run_ingest(recipe, layout)
    assert not layout.ingest("pairs").exists()


def test_unknown_source_name_is_a_config_error(tmp_path: Path):
    recipe = load_recipe(_files_recipe(tmp_path, PAIRS))
    with pytest.raises(ConfigError, match="--source 'nope': not a source of recipe 'r'; known: pairs"):
        run_ingest(recipe, Layout("r", tmp_path / "out"), only=["nope"])


def test_cli_reports_a_bad_header_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("SYNTHMIX_HOME", str(tmp_path / "out"))
    recipe = _files_recipe(
        tmp_path, "deutsch\tfr\nHallo.\tSalut.\n", 'columns = { src = "de", tgt = "fr" }\n'
    )
    assert main(["ingest", "--recipe", str(recipe)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "pairs.tsv line 1: no column 'de'" in err and "Traceback" not in err
