"""The experiment matrix: every condition x seed, significance tests and the report."""

from __future__ import annotations

from typing import Any

from synthmix.errors import StageNotBuiltError


def run_compare(*args: Any, **kwargs: Any) -> Any:
    raise StageNotBuiltError("compare: this stage is not built yet (see the issue tracker)")
