"""The Ray Data executor gives byte-identical output to the in-process one (a local 2-CPU Ray)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from curate.stage import run_curate
from synthmix.layout import Layout
from synthmix.recipe import Recipe
from synthmix.store import read_manifest, read_rejected, shard_paths
from tests.curate.test_stage import build_inputs


@pytest.mark.slow
def test_ray_equals_local(
    make_recipe: Callable[..., Recipe], tmp_path: Path, sample_pairs: list[tuple[str, str]]
) -> None:
    recipe = make_recipe()
    layouts = {}
    for executor in ("local", "ray"):
        layout = Layout("curtest", tmp_path / executor)
        build_inputs(layout, sample_pairs)
        run_curate(recipe, layout, executor=executor)
        layouts[executor] = layout
    for name in ("flores", "wiki", "synthetic"):
        local, ray = (layouts[e].curate(name) for e in ("local", "ray"))
        files = [p.name for p in shard_paths(local)]
        assert files == [p.name for p in shard_paths(ray)]
        if (local / "rejected.parquet").exists():
            files.append("rejected.parquet")
        for f in files:
            assert (local / f).read_bytes() == (ray / f).read_bytes(), f"{name}/{f}"
        assert [(x.record.id, x.reason, x.detail) for x in read_rejected(local)] == [
            (x.record.id, x.reason, x.detail) for x in read_rejected(ray)
        ]
        assert read_manifest(local)["funnel"] == read_manifest(ray)["funnel"]
        assert read_manifest(ray)["executor"] == "ray"
    # The planted near-duplicate went through Ray's banded candidate path too.
    reasons = {x.reason for x in read_rejected(layouts["ray"].curate("synthetic"))}
    assert {"exact_duplicate", "near_duplicate", "contaminated", "wrong_language"} <= reasons
