"""docs/sources.md stays true: every recipe key of every source type is documented."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ingest.hub import PRESETS
from synthmix.config.sources import FilesSourceConfig, HubSourceConfig, WikipediaSourceConfig


@pytest.mark.parametrize("config", [FilesSourceConfig, HubSourceConfig, WikipediaSourceConfig])
def test_every_source_key_is_documented(project_root: Path, config: type):
    doc = (project_root / "docs" / "sources.md").read_text(encoding="utf-8")
    missing = [f.name for f in dataclasses.fields(config) if f"`{f.name}`" not in doc]
    assert missing == []


def test_every_preset_is_documented(project_root: Path):
    doc = (project_root / "docs" / "sources.md").read_text(encoding="utf-8")
    assert [p for p in PRESETS if f"`{p}`" not in doc] == []
    assert [p.dataset for p in PRESETS.values() if f"`{p.dataset}`" not in doc] == []
