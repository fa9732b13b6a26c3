"""Publish a dataset directory and its card to the Hugging Face Hub."""

from __future__ import annotations

from typing import Any

from synthmix.errors import StageNotBuiltError


def publish(*args: Any, **kwargs: Any) -> Any:
    raise StageNotBuiltError("publish: this stage is not built yet (see the issue tracker)")
