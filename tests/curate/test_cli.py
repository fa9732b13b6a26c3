"""`synthmix curate` and `synthmix mix` on the offline sample recipe, in process, in a tmp project."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthmix.cli import main
from synthmix.layout import safe_dirname
from synthmix.mixspec import parse_mix
from synthmix.recipe import load_recipe
from synthmix.store import read_manifest, read_records, read_rejected

RECIPE = "recipes/sample.toml"


def test_curate_before_ingest_names_the_command(
    in_tmp_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["curate", "--recipe", RECIPE]) == 1
    err = capsys.readouterr().err
    assert "synthmix ingest --recipe recipes/sample.toml" in err
    assert "Traceback" not in err


def test_bad_mix_spec_is_a_config_error(in_tmp_project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mix", "--recipe", RECIPE, "flores+nope"]) == 2
    assert "MIX: mix 'flores+nope' names unknown source 'nope'" in capsys.readouterr().err
    assert main(["mix", "--recipe", RECIPE, "flores:x+wiki:1"]) == 2
    assert "MIX: weight 'x'" in capsys.readouterr().err


def test_sample_curate_and_mix_end_to_end(in_tmp_project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", "--recipe", RECIPE]) == 0
    assert main(["synth", "--recipe", RECIPE]) == 0
    capsys.readouterr()
    assert main(["curate", "--recipe", RECIPE]) == 0
    out = capsys.readouterr().out
    data = in_tmp_project / "data" / "sample"
    for name in ("flores", "wiki", "synthetic", "wiki_qa"):
        assert f"curate {name}: " in out
        manifest = read_manifest(data / "curate" / name)
        assert manifest["funnel"][0]["stage"] == "normalize"
        assert manifest["funnel"][-1]["out"] == manifest["counts"]["by_split"].get("train", 0)
    # The test split of the real pairs is the eval set: kept whole.
    ingest_test = read_records(data / "ingest" / "flores", "test")
    curated_test = read_records(data / "curate" / "flores", "test")
    assert len(curated_test) == len(ingest_test) > 0
    assert read_manifest(data / "curate" / "flores")["decontam"]["eval_sets"] == ["flores:test"]
    # Nothing a synthetic source kept overlaps the eval set exactly.
    test_src = {r.fields["src"] for r in curated_test}
    assert not test_src & {r.fields["src"] for r in read_records(data / "curate" / "synthetic")}
    for x in read_rejected(data / "curate" / "synthetic"):
        assert x.reason and x.detail

    assert main(["mix", "--recipe", RECIPE]) == 0
    assert "mix " in capsys.readouterr().out
    sizes = {}
    for spec in load_recipe(RECIPE).mix.build:
        manifest = read_manifest(data / "mix" / safe_dirname(parse_mix(spec).canonical))
        sizes[spec] = manifest["counts"]["records"]
        assert manifest["mix"]["shortfall"] == {}
    assert len(set(sizes.values())) == 1  # equal size: real, synthetic and mixed compare fairly
    assert main(["status", "--recipe", RECIPE]) == 0
    status = capsys.readouterr().out
    rows = [line.split() for line in status.splitlines() if line.startswith(("curate", "mix"))]
    recipe = load_recipe(RECIPE)
    assert len(rows) == len(recipe.source_names) + len(recipe.mix.build)
    assert all(row[2] == "complete" for row in rows)
