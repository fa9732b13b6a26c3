"""Against the real services (``pytest -m network``; never in CI): response shapes match what the local
test servers imitate."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.stage import run_ingest
from synthmix.layout import Layout
from synthmix.recipe import load_recipe
from synthmix.store import read_records, read_rejected

pytestmark = pytest.mark.network


def test_real_german_wikipedia_pages(tmp_path: Path):
    from synthmix.pipeline import reachable

    if not reachable("de.wikipedia.org"):
        pytest.skip("de.wikipedia.org is not reachable from here")
    recipe_path = tmp_path / "live.toml"
    recipe_path.write_text(
        'name = "live"\n[sources.wiki]\ntype = "wikipedia"\nlang = "de"\n'
        'titles = ["Johannes Gutenberg", "Gutenberg", "Diese Seite gibt es sicher nicht 12345"]\n'
        'search = "Buchdruck bewegliche Lettern"\nmax_pages = 4\nrequests_per_second = 1.0\n',
        encoding="utf-8",
    )
    layout = Layout("live", tmp_path / "out")
    manifest = run_ingest(load_recipe(recipe_path), layout)["wiki"]
    records = read_records(layout.ingest("wiki"))
    assert len(records) >= 10
    gutenberg = [r for r in records if r.meta["title"] == "Johannes Gutenberg"]
    assert gutenberg and gutenberg[0].meta["pageid"] > 0 and gutenberg[0].meta["revid"] > 0
    assert all("[" not in r.fields["text"] for r in records)
    reasons = {x.record.meta["title"]: x.reason for x in read_rejected(layout.ingest("wiki"))}
    assert reasons.get("Diese Seite gibt es sicher nicht 12345") == "missing_page"
    assert reasons.get("Gutenberg") == "disambiguation"
    again = run_ingest(load_recipe(recipe_path), layout, force=True)["wiki"]
    assert again["source"]["http"]["requests"] == 0
    assert again["output_hash"] == manifest["output_hash"]
