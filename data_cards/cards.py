"""Dataset cards (Hub README.md + card.json + plots) for curated sources and mixes."""

from __future__ import annotations

from typing import Any

from synthmix.errors import StageNotBuiltError


def write_cards(*args: Any, **kwargs: Any) -> Any:
    raise StageNotBuiltError("card: this stage is not built yet (see the issue tracker)")
