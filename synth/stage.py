"""Synth stage entry point: every [synth.*] job into data/<recipe>/synth/<name>/."""

from __future__ import annotations

from typing import Any

from synthmix.errors import StageNotBuiltError


def run_synth(*args: Any, **kwargs: Any) -> Any:
    raise StageNotBuiltError("synth: this stage is not built yet (see the issue tracker)")
