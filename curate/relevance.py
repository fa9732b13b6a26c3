"""Question relevance gate: TF-IDF + logistic regression, on-topic vs off-topic questions."""

from __future__ import annotations

from typing import Any

from synthmix.errors import StageNotBuiltError


def run_gate(*args: Any, **kwargs: Any) -> Any:
    raise StageNotBuiltError("gate: this stage is not built yet (see the issue tracker)")
