"""Curate stage entry point: normalize, dedup, langid, quality, decontam per source."""

from __future__ import annotations

from typing import Any

from synthmix.errors import StageNotBuiltError


def run_curate(*args: Any, **kwargs: Any) -> Any:
    raise StageNotBuiltError("curate: this stage is not built yet (see the issue tracker)")
