"""The curate stage end to end on real dataset directories in a tmp Layout."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from curate.stage import run_curate
from synthmix.errors import SynthmixError
from synthmix.layout import Layout
from synthmix.recipe import Recipe
from synthmix.record import ProvenanceStamp, Record
from synthmix.status import config_hash_for
from synthmix.store import read_manifest, read_records, read_rejected, shard_paths
from tests.curate.conftest import pair, write_input

PASSAGE = (
    "Johannes Gutenberg wurde um 1400 in Mainz geboren. Er gilt als Erfinder des Buchdrucks mit "
    "beweglichen Metalllettern in Europa. Seine Druckerpresse löste eine Medienrevolution aus."
)


def build_inputs(layout: Layout, pairs: list[tuple[str, str]]) -> dict[str, Record]:
    """Real pairs (train + a test split), planted synthetic problems, one passage source."""
    train = [pair(a, b) for a, b in pairs[:40]]
    test = [pair(a, b, split="test") for a, b in pairs[40:50]]
    # A train record identical to a test record: the train copy must go, the test record must stay.
    leak = pair(*pairs[45])
    write_input(layout, "ingest", "flores", [*train, *test, leak], ["test"])
    write_input(
        layout,
        "ingest",
        "wiki",
        [Record(kind="passage", origin="real", source="wiki", fields={"text": PASSAGE}, lang="de")],
        [],
    )
    planted = {
        "exact": pair(pairs[0][0], pairs[0][1] + "  ", source="synthetic"),
        "near": pair(pairs[1][0].replace(".", "!"), pairs[1][1], source="synthetic"),
        "test_copy": pair(
            pairs[41][0], "Une traduction différente de la phrase de test.", source="synthetic"
        ),
        "parent": Record(
            kind="translation",
            origin="synthetic",
            source="synthetic",
            fields={
                "src": "Die Katze schläft auf dem warmen Sofa.",
                "tgt": "Le chat dort sur le canapé chaud.",
            },
            src_lang="de",
            tgt_lang="fr",
            provenance=(ProvenanceStamp("synth", "0", "h", (test[3].id,)),),
        ),
        "english": pair(
            "Wir essen heute Abend zusammen.", "We are having dinner together tonight.", source="synthetic"
        ),
        "preamble": pair("Guten Morgen, Anna.", "Voici la traduction : Bonjour, Anna.", source="synthetic"),
        "nulls": pair("Ein\x00Satz.", "Une phrase.", source="synthetic"),
        "zero_width": pair(
            "Das Wetter ist heute\u200b sehr schön.", "Il fait très beau aujourd'hui.", source="synthetic"
        ),
        "good": pair(
            "Der Hund spielt gern im Garten.", "Le chien aime jouer dans le jardin.", source="synthetic"
        ),
    }
    write_input(layout, "synth", "synthetic", list(planted.values()))
    return {**planted, "leak": leak, "test3": test[3], "real0": train[0], "real1": train[1]}


def rejected_reasons(layout: Layout, name: str) -> dict[str, str]:
    return {x.record.fields["src"]: x.reason for x in read_rejected(layout.curate(name))}


def test_curate_drops_planted_problems_with_reasons(
    make_recipe: Callable[..., Recipe], layout: Layout, sample_pairs: list[tuple[str, str]]
) -> None:
    recipe = make_recipe()
    planted = build_inputs(layout, sample_pairs)
    manifests = run_curate(recipe, layout)
    assert set(manifests) == {"flores", "wiki", "synthetic"}

    syn = {x.record.fields["src"]: x for x in read_rejected(layout.curate("synthetic"))}
    reason = {src: x.reason for src, x in syn.items()}
    assert reason[planted["exact"].fields["src"]] == "exact_duplicate"
    assert reason[planted["near"].fields["src"]] == "near_duplicate"
    assert reason[planted["test_copy"].fields["src"]] == "contaminated"
    assert reason[planted["parent"].fields["src"]] == "contaminated_parent"
    assert reason[planted["english"].fields["src"]] == "wrong_language"
    assert reason[planted["preamble"].fields["src"]] == "chat_preamble"
    assert reason[planted["nulls"].fields["src"]] == "null_bytes"
    # Real beats synthetic; the dropped record names its survivor.
    exact = syn[planted["exact"].fields["src"]]
    assert exact.detail.startswith(f"duplicate_of={planted['real0'].id}")
    assert exact.record.meta["duplicate_of"] == planted["real0"].id
    near = syn[planted["near"].fields["src"]]
    assert near.record.meta["duplicate_of"] == planted["real1"].id

    kept_syn = read_records(layout.curate("synthetic"))
    texts = {r.fields["src"] for r in kept_syn}
    assert texts == {"Das Wetter ist heute sehr schön.", "Der Hund spielt gern im Garten."}
    cleaned = next(r for r in kept_syn if r.fields["src"].startswith("Das Wetter"))
    assert cleaned.meta["original_fields"]["src"] == "Das Wetter ist heute\u200b sehr schön."
    assert cleaned.provenance[-1].stage == "curate"
    assert cleaned.provenance[-1].parents == (planted["zero_width"].id,)

    # The test split is kept whole; the train copy of a test record is dropped as contaminated.
    flores = read_records(layout.curate("flores"))
    assert sum(r.split == "test" for r in flores) == 10
    assert rejected_reasons(layout, "flores") == {planted["leak"].fields["src"]: "contaminated"}
    assert read_records(layout.curate("wiki"))[0].fields["text"] == PASSAGE


def test_manifest_has_funnel_decontam_and_hashes(
    make_recipe: Callable[..., Recipe], layout: Layout, sample_pairs: list[tuple[str, str]]
) -> None:
    recipe = make_recipe()
    build_inputs(layout, sample_pairs)
    run_curate(recipe, layout)
    m = read_manifest(layout.curate("synthetic"))
    assert m["stage"] == "curate"
    assert m["config_hash"] == config_hash_for(recipe, "curate", "synthetic")
    upstream = read_manifest(layout.synth("synthetic"))["output_hash"]
    assert m["inputs"]["synthetic"] == upstream and set(m["inputs"]) == {"flores", "wiki", "synthetic"}
    stages = [e["stage"] for e in m["funnel"]]
    assert stages == ["normalize", "exact_dedup", "near_dedup", "langid", "quality", "decontam"]
    funnel = {e["stage"]: e for e in m["funnel"]}
    assert funnel["normalize"] == {
        "stage": "normalize",
        "in": 9,
        "out": 8,
        "rejected_by_reason": {"null_bytes": 1},
        "by_language": {"de-fr": {"in": 9, "out": 8}},
    }
    assert funnel["exact_dedup"]["rejected_by_reason"] == {"exact_duplicate": 1}
    assert funnel["decontam"]["rejected_by_reason"] == {"contaminated": 1, "contaminated_parent": 1}
    assert funnel["decontam"]["out"] == m["counts"]["records"]
    # Each stage's input is the previous stage's output (train records).
    for before, after in zip(m["funnel"][1:], m["funnel"][2:], strict=False):
        assert after["in"] == before["out"]
    everything = {e["stage"]: e for e in m["funnel_all_sources"]}
    assert everything["normalize"]["by_source"]["flores"] == {"in": 51, "out": 51}
    assert m["decontam"] == {"eval_sets": ["flores:test"], "removed": 2, "removed_all_sources": 3}
    assert read_manifest(layout.curate("flores"))["eval_splits"] == ["test"]
    assert m["counts"]["rejected_by_reason"]["wrong_language"] == 1
    # The funnel accounts for every record: what went in is kept or rejected for a counted reason.
    for name in ("flores", "wiki", "synthetic"):
        mm = read_manifest(layout.curate(name))
        dropped = sum(sum(e["rejected_by_reason"].values()) for e in mm["funnel"])
        assert dropped == mm["counts"]["rejected"]
        assert mm["funnel"][0]["in"] == mm["counts"]["records"] + mm["counts"]["rejected"]
        assert (
            mm["funnel"][0]["in"]
            == read_manifest(layout.ingest(name) if name != "synthetic" else layout.synth(name))["counts"][
                "records"
            ]
        )


def test_same_inputs_give_byte_identical_outputs(
    make_recipe: Callable[..., Recipe], tmp_path: Path, sample_pairs: list[tuple[str, str]]
) -> None:
    recipe = make_recipe()
    outputs = []
    for run in ("a", "b"):
        layout = Layout("curtest", tmp_path / run)
        build_inputs(layout, sample_pairs)
        run_curate(recipe, layout)
        outputs.append(layout)
    for name in ("flores", "synthetic"):
        a, b = (lay.curate(name) for lay in outputs)
        files = [p.name for p in shard_paths(a)] + ["rejected.parquet"]
        for f in files:
            assert (a / f).read_bytes() == (b / f).read_bytes(), f
        assert read_manifest(a)["output_hash"] == read_manifest(b)["output_hash"]


def test_current_outputs_are_reused_and_priority_changes_survivor(
    make_recipe: Callable[..., Recipe], layout: Layout, sample_pairs: list[tuple[str, str]]
) -> None:
    planted = build_inputs(layout, sample_pairs)
    recipe = make_recipe()
    first = run_curate(recipe, layout)
    again = run_curate(recipe, layout)
    assert again["synthetic"]["created_unix"] == first["synthetic"]["created_unix"]
    # Listing the synthetic source first makes its copy the survivor.
    flipped = make_recipe('\n[curate]\npriority = ["synthetic"]\n')
    run_curate(flipped, layout)
    reasons = rejected_reasons(layout, "flores")
    assert reasons[planted["real0"].fields["src"]] == "exact_duplicate"
    assert planted["exact"].id in {r.id for r in read_records(layout.curate("synthetic"))}


def test_missing_input_names_the_command(make_recipe: Callable[..., Recipe], layout: Layout) -> None:
    recipe = make_recipe()
    write_input(layout, "ingest", "flores", [pair("Guten Tag, Anna.", "Bonjour, Anna.")], ["test"])
    with pytest.raises(SynthmixError) as err:
        run_curate(recipe, layout)
    message = str(err.value)
    assert "synthmix ingest --recipe" in message and "'wiki'" in message
    assert "synthmix synth --recipe" in message and "'synthetic'" in message


def test_manifest_is_json_without_absolute_paths(
    make_recipe: Callable[..., Recipe], layout: Layout, sample_pairs: list[tuple[str, str]]
) -> None:
    build_inputs(layout, sample_pairs)
    run_curate(make_recipe(), layout)
    text = (layout.curate("flores") / "manifest.json").read_text(encoding="utf-8")
    assert str(layout.root) not in text
    assert json.loads(text)["executor"] == "local"


def test_near_dedup_picks_shingles_per_kind(make_recipe: Callable[..., Recipe]) -> None:
    """Long passages must not push short pairs onto word shingles, where a one-word edit hides a copy."""
    from curate.stage import curate_records

    passages = [
        Record(
            kind="passage", origin="real", source="wiki", fields={"text": f"{PASSAGE} Absatz {i}."}, lang="de"
        )
        for i in range(0, 50, 10)
    ]
    base = pair(
        "Wir fahren morgen früh mit dem Zug nach Berlin.", "Demain matin, nous prenons le train pour Berlin."
    )
    edited = pair(
        "Wir fahren morgen früh mit dem Zug nach Berlin!",
        "Demain matin, nous prendrons le train pour Berlin.",
        source="synthetic",
    )
    other = pair("Das Museum ist am Montag geschlossen.", "Le musée est fermé le lundi.")
    result = curate_records([*passages, base, edited, other], make_recipe(), eval_splits={})
    reasons = {x.record.id: x.reason for x in result.rejected}
    assert reasons.get(edited.id) == "near_duplicate"
    # The passages differ only in their last words: word shingles see them as near-duplicates of each other.
    assert sum(r == "near_duplicate" for r in reasons.values()) == 1 + 4


def test_bad_records_are_rejected_never_a_crash(make_recipe: Callable[..., Recipe], layout: Layout) -> None:
    good = pair("Der Hund spielt gern im Garten.", "Le chien aime jouer dans le jardin.")
    bad = {
        "missing_field": Record(
            kind="translation", origin="real", source="flores", fields={"src": "Nur eine Seite."}
        ),
        "too_large": pair("Wort " * 30_000, "Mot " * 30_000),
        "null_bytes": pair("Kaputt\x00er Text.", "Texte\x00 cassé."),
        "wrong_language": pair("Das ist ein ganz normaler Satz.", "This is a perfectly normal sentence."),
        "too_short": pair("Hallo.", "\u200b\u200b"),  # blank after cleaning -> missing_field
    }
    write_input(layout, "ingest", "flores", [good, *bad.values()], [])
    write_input(layout, "ingest", "wiki", [], [])
    write_input(layout, "synth", "synthetic", [])
    run_curate(make_recipe(), layout)
    reasons = {x.record.fields.get("src", "")[:20]: x.reason for x in read_rejected(layout.curate("flores"))}
    assert reasons == {
        "Nur eine Seite.": "missing_field",
        ("Wort " * 4)[:20]: "too_large",
        "Kaputt\x00er Text.": "null_bytes",
        "Das ist ein ganz nor": "wrong_language",
        "Hallo.": "missing_field",
    }
    assert [r.id for r in read_records(layout.curate("flores"))] == [good.id]
    assert read_records(layout.curate("wiki")) == []


def test_within_source_dedup_and_langid_skip_sources(make_recipe: Callable[..., Recipe]) -> None:
    from curate.stage import curate_records

    real = pair("Der Hund spielt gern im Garten.", "Le chien aime jouer dans le jardin.")
    copy = pair("Der Hund spielt gern im Garten.", "Le chien aime jouer dans le jardin.", source="synthetic")
    again = pair("Der Hund spielt gern im Garten.", "Le chien aime jouer dans le jardin.", source="synthetic")
    english = pair(
        "Das ist ein ganz normaler Satz.", "This is a perfectly normal sentence.", source="synthetic"
    )
    records = [real, copy, again, english]

    joint = curate_records(records, make_recipe(), eval_splits={})
    assert sorted((x.record.source, x.reason) for x in joint.rejected) == [
        ("synthetic", "exact_duplicate"),
        ("synthetic", "exact_duplicate"),
        ("synthetic", "wrong_language"),
    ]
    separate = curate_records(
        records,
        make_recipe(
            '\n[curate]\ndedup = { cross_source = false }\nlangid = { skip_sources = ["synthetic"] }\n'
        ),
        eval_splits={},
    )
    # Only the repeat inside the synthetic source goes; the English target is not judged.
    assert [(x.record.source, x.reason) for x in separate.rejected] == [("synthetic", "exact_duplicate")]
    assert separate.rejected[0].record.meta["duplicate_of_source"] == "synthetic"


def test_unknown_skip_source_is_a_config_error(make_recipe: Callable[..., Recipe]) -> None:
    from curate.stage import curate_records
    from synthmix.errors import ConfigError

    recipe = make_recipe('\n[curate]\nlangid = { skip_sources = ["nope"] }\n')
    with pytest.raises(ConfigError, match="curate.langid.skip_sources: 'nope'"):
        curate_records([], recipe, eval_splits={})


def test_chained_near_duplicate_names_its_link(make_recipe: Callable[..., Recipe]) -> None:
    from curate.stage import curate_records

    a = "Am Montag fahren wir mit dem Zug von Hamburg nach Berlin und besuchen dort unsere Großeltern."
    b = a.replace("Montag", "Dienstag")
    c = b.replace("Großeltern", "Freunde")
    fr = "Lundi, nous prenons le train de Hambourg à Berlin pour rendre visite à nos grands-parents."
    records = [pair(a, fr), pair(b, fr, source="synthetic"), pair(c, fr, source="synthetic")]
    recipe = make_recipe("\n[curate]\ndedup = { threshold = 0.85 }\nlangid = { enabled = false }\n")
    details = {
        x.record.fields["src"]: x.detail for x in curate_records(records, recipe, eval_splits={}).rejected
    }
    survivor = records[0].id
    assert details[b].startswith(f"duplicate_of={survivor}")
    assert details[c].startswith(f"duplicate_of={survivor}")
    assert f"via {records[1].id}" in details[c]


def test_changed_upstream_rebuilds(
    make_recipe: Callable[..., Recipe], layout: Layout, sample_pairs: list[tuple[str, str]]
) -> None:
    build_inputs(layout, sample_pairs)
    recipe = make_recipe()
    first = run_curate(recipe, layout)["synthetic"]
    extra = pair("Die Sonne scheint über dem Meer.", "Le soleil brille sur la mer.", source="synthetic")
    write_input(layout, "synth", "synthetic", [*read_records(layout.synth("synthetic")), extra])
    second = run_curate(recipe, layout)["synthetic"]
    assert second["inputs"]["synthetic"] != first["inputs"]["synthetic"]
    assert second["counts"]["records"] == first["counts"]["records"] + 1
    assert extra.id in {r.id for r in read_records(layout.curate("synthetic"))}


def test_byte_identical_across_processes_and_hash_seeds(
    make_recipe: Callable[..., Recipe],
    tmp_path: Path,
    sample_pairs: list[tuple[str, str]],
    project_root: Path,
) -> None:
    import os
    import subprocess
    import sys

    recipe = make_recipe()  # writes tmp_path/curtest.toml
    for name in ("pairs.tsv", "wiki.jsonl"):  # the recipe's files must exist for the CLI (ingest is faked)
        (tmp_path / name).write_text("", encoding="utf-8")
    hashes = []
    for seed in ("1", "2"):
        root = tmp_path / f"seed{seed}"
        build_inputs(Layout("curtest", root), sample_pairs)
        env = {**os.environ, "PYTHONHASHSEED": seed, "SYNTHMIX_HOME": str(root)}
        done = subprocess.run(
            [sys.executable, "-m", "synthmix", "curate", "--recipe", recipe.path],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        layout = Layout("curtest", root)
        hashes.append(
            [read_manifest(layout.curate(n))["output_hash"] for n in ("flores", "wiki", "synthetic")]
        )
    assert hashes[0] == hashes[1]
