"""Mixes of curated sources: shares, budgets in records and tokens, shortfalls, determinism, errors."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from curate.mixing import allocate, build_mix, build_mixes
from synthmix.errors import ConfigError, SynthmixError
from synthmix.layout import Layout
from synthmix.recipe import Recipe
from synthmix.status import config_hash_for
from synthmix.store import read_manifest, read_records, shard_paths, write_dataset
from tests.curate.conftest import pair


def write_curated(layout: Layout, pairs: list[tuple[str, str]], n_real: int = 40, n_syn: int = 40) -> None:
    real = [pair(a, b) for a, b in pairs[:n_real]] + [pair(a, b, split="test") for a, b in pairs[200:210]]
    syn = [pair(b[::-1] + " " + a, b, source="synthetic") for a, b in pairs[100 : 100 + n_syn]]
    write_dataset(layout.curate("flores"), real, stage="curate", config_hash="c")
    write_dataset(layout.curate("synthetic"), syn, stage="curate", config_hash="c")


def test_allocate_sums_exactly() -> None:
    assert allocate(10, [("a", 1 / 3), ("b", 1 / 3), ("c", 1 / 3)]) == {"a": 4, "b": 3, "c": 3}
    assert sum(allocate(801, [("a", 0.3), ("b", 0.7)]).values()) == 801


def test_weighted_mix_has_exact_shares_and_manifest(
    make_recipe: Callable[..., Recipe], layout: Layout, sample_pairs: list[tuple[str, str]]
) -> None:
    recipe = make_recipe("\n[mix]\nbudget = 20\nseed = 5\n")
    write_curated(layout, sample_pairs)
    path = build_mix(recipe, layout, "synthetic:0.25+flores:0.75")
    assert path == layout.mix("flores:0.75+synthetic:0.25")
    records = read_records(path)
    assert Counter(r.source for r in records) == {"flores": 15, "synthetic": 5}
    assert {r.split for r in records} == {"train"}  # test records never enter a mix
    m = read_manifest(path)
    assert m["config_hash"] == config_hash_for(recipe, "mix", "synthetic:0.25+flores:0.75")
    mix = m["mix"]
    assert mix["weights"] == {"flores": 0.75, "synthetic": 0.25}
    assert mix["requested"] == mix["actual"] == {"flores": 15, "synthetic": 5}
    assert mix["shortfall"] == {}
    assert sorted(mix["ids_by_source"]["synthetic"]) == sorted(
        r.id for r in records if r.source == "synthetic"
    )
    assert set(m["inputs"]) == {"flores", "synthetic"}
    assert records[-1].provenance[-1].stage == "mix"


def test_equal_size_across_conditions_and_shortfall_is_reported(
    make_recipe: Callable[..., Recipe], layout: Layout, sample_pairs: list[tuple[str, str]]
) -> None:
    recipe = make_recipe("\n[mix]\nbudget = 30\n")
    write_curated(layout, sample_pairs, n_real=40, n_syn=10)
    real, syn, both = build_mixes(recipe, layout, ["flores", "synthetic", "synthetic+flores"])
    assert len(read_records(real)) == 30
    # Shares are kept (never topped up from another source): 15 real + all 10 synthetic.
    assert Counter(r.source for r in read_records(both)) == {"flores": 15, "synthetic": 10}
    assert read_manifest(both)["mix"]["shortfall"] == {"synthetic": {"requested": 15, "available": 10}}
    # The synthetic source has 10 records for a 30-record share: all taken, shortfall stated, no repeats.
    syn_records = read_records(syn)
    assert len(syn_records) == len({r.id for r in syn_records}) == 10
    assert read_manifest(syn)["mix"]["shortfall"] == {"synthetic": {"requested": 30, "available": 10}}


def test_token_budget(
    make_recipe: Callable[..., Recipe], layout: Layout, sample_pairs: list[tuple[str, str]]
) -> None:
    recipe = make_recipe('\n[mix]\nbudget = 200\nbudget_unit = "tokens"\n')
    write_curated(layout, sample_pairs)
    path = build_mix(recipe, layout, "synthetic+flores")
    mix = read_manifest(path)["mix"]
    assert mix["requested"] == {"flores": 100, "synthetic": 100}
    for name in ("flores", "synthetic"):
        tokens = sum(
            len(v.split()) for r in read_records(path) if r.source == name for v in r.fields.values()
        )
        assert tokens == mix["actual"][name]
        assert 90 <= tokens <= 100


def test_no_budget_takes_the_largest_mix_with_exact_shares(
    make_recipe: Callable[..., Recipe], layout: Layout, sample_pairs: list[tuple[str, str]]
) -> None:
    write_curated(layout, sample_pairs, n_real=40, n_syn=10)
    path = build_mix(make_recipe(), layout, "synthetic+flores")
    assert Counter(r.source for r in read_records(path)) == {"flores": 10, "synthetic": 10}
    assert len(read_records(build_mix(make_recipe(), layout, "flores"))) == 40


def test_mix_is_deterministic_and_seeded(
    make_recipe: Callable[..., Recipe], tmp_path: Path, sample_pairs: list[tuple[str, str]]
) -> None:
    recipe = make_recipe("\n[mix]\nbudget = 12\n")
    paths = []
    for run in ("a", "b"):
        layout = Layout("curtest", tmp_path / run)
        write_curated(layout, sample_pairs)
        paths.append(build_mix(recipe, layout, "synthetic+flores"))
    a, b = paths
    for shard in shard_paths(a):
        assert shard.read_bytes() == (b / shard.name).read_bytes()
    assert read_manifest(a)["mix"]["mix_id"] == read_manifest(b)["mix"]["mix_id"]
    other = Layout("curtest", tmp_path / "c")
    write_curated(other, sample_pairs)
    reseeded = build_mix(make_recipe("\n[mix]\nbudget = 12\nseed = 99\n"), other, "synthetic+flores")
    assert read_manifest(reseeded)["mix"]["mix_id"] != read_manifest(a)["mix"]["mix_id"]
    assert {r.id for r in read_records(reseeded)} != {r.id for r in read_records(a)}


def test_mix_is_reused_when_current(
    make_recipe: Callable[..., Recipe], layout: Layout, sample_pairs: list[tuple[str, str]]
) -> None:
    recipe = make_recipe("\n[mix]\nbudget = 10\n")
    write_curated(layout, sample_pairs)
    first = read_manifest(build_mix(recipe, layout, "flores"))
    assert read_manifest(build_mix(recipe, layout, "flores"))["created_unix"] == first["created_unix"]
    forced = read_manifest(build_mix(recipe, layout, "flores", force=True))
    assert forced["output_hash"] == first["output_hash"]


def test_bad_specs_and_missing_curate(make_recipe: Callable[..., Recipe], layout: Layout) -> None:
    recipe = make_recipe()
    with pytest.raises(ConfigError, match="MIX.*unknown source 'nope'"):
        build_mix(recipe, layout, "synthetic+nope")
    with pytest.raises(ConfigError, match="MIX: weight 'x'"):
        build_mixes(recipe, layout, ["flores:x+synthetic:1"])
    with pytest.raises(SynthmixError, match="synthmix curate --recipe"):
        build_mix(recipe, layout, "flores")


def test_empty_mix_is_an_error_naming_the_source(make_recipe: Callable[..., Recipe], layout: Layout) -> None:
    write_dataset(
        layout.curate("flores"), [pair("Nur Test.", "Seulement test.", split="test")], stage="curate"
    )
    with pytest.raises(SynthmixError, match="no train records in curated source\\(s\\) flores"):
        build_mix(make_recipe(), layout, "flores")
