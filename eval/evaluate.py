"""Evaluate one condition (base k-shot or an adapter) on the recipe's test sets."""

from __future__ import annotations

from typing import Any

from synthmix.errors import StageNotBuiltError


def run_eval(*args: Any, **kwargs: Any) -> Any:
    raise StageNotBuiltError("eval: this stage is not built yet (see the issue tracker)")
