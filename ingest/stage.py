"""Ingest stage entry point: every [sources.*] of a recipe into data/<recipe>/ingest/<name>/."""

from __future__ import annotations

from typing import Any

from synthmix.errors import StageNotBuiltError


def run_ingest(*args: Any, **kwargs: Any) -> Any:
    raise StageNotBuiltError("ingest: this stage is not built yet (see the issue tracker)")
