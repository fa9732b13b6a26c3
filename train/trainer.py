"""QLoRA trainer: fine-tune a causal LM on a mix."""

from __future__ import annotations

from typing import Any

from synthmix.errors import StageNotBuiltError


def run_train(*args: Any, **kwargs: Any) -> Any:
    raise StageNotBuiltError("train: this stage is not built yet (see the issue tracker)")
