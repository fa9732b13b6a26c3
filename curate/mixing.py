"""Mixing curated sources by name and weight (``synthetic+flores``, ``synthetic:0.3+flores:0.7``)."""

from __future__ import annotations

from typing import Any

from synthmix.errors import StageNotBuiltError


def build_mixes(*args: Any, **kwargs: Any) -> Any:
    raise StageNotBuiltError("mix: this stage is not built yet (see the issue tracker)")


def build_mix(*args: Any, **kwargs: Any) -> Any:
    raise StageNotBuiltError("mix: this stage is not built yet (see the issue tracker)")
