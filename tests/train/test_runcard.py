"""Run card and learning curve: what a finished run tells its readers, without secrets or home paths."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from train.plots import curve_points, plot_learning_curve
from train.runcard import is_finished, read_run, write_run_card

HISTORY = [
    {"loss": 3.0, "learning_rate": 1e-4, "step": 1},
    {"loss": 2.0, "learning_rate": 2e-4, "step": 2},
    {"eval_dev_loss": 2.5, "step": 2},
    {"eval_dev_flores_loss": 2.4, "step": 2},
    {"loss": 1.5, "learning_rate": 1e-4, "step": 3},
]


def card_info(secret: str, home: str) -> dict[str, Any]:
    stats = {"examples": 8, "truncated": 1, "prompt_too_long": 0, "prompt_tokens": 80, "completion_tokens": 40, "by_source": {"flores": 8}}  # fmt: skip
    return {
        "run_id": "flores--tiny--seed13--abc",
        "recipe": {"name": "sample"},
        "base_model": {"name": f"{home}/models/tiny", "revision": "local"},
        "mix": {"spec": "flores", "mix_id": "m1", "card_hash": "c1"},
        "seed": 13,
        "train_config": {"quantization": "4bit", "system_prompt": f"token {secret}", "lora": {"r": 8}},
        "data": {"train": stats, "dev": {**stats, "examples": 2, "by_source": {"flores": 2}}},
        "metrics": {"train_loss_final": 1.5, "dev_loss": 2.5},
        "tokens_seen": 120,
        "global_step": 3,
        "wall_seconds": 1.0,
        "peak_memory_mb": 500.0,
        "peak_memory_kind": "process max RSS",
        "versions": {"torch": "2.13.0"},
        "device": "cpu",
        "command": "synthmix train --mix flores",
    }


def test_run_card_is_redacted_and_run_json_marks_the_run_finished(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "hf_plantedSECRET123456"
    monkeypatch.setenv("HF_TOKEN", secret)
    write_run_card(tmp_path, card_info(secret, str(Path.home())))
    assert is_finished(tmp_path)
    text = (tmp_path / "README.md").read_text() + (tmp_path / "run.json").read_text()
    assert secret not in text and str(Path.home()) not in text
    readme = (tmp_path / "README.md").read_text()
    assert "base_model: ~/models/tiny" in readme
    assert "| train | 8 | 1 | 0 | 80 | 40 |" in readme  # truncation counts in the data table
    assert "| lora.r | 8 |" in readme
    assert read_run(tmp_path)["metrics"]["dev_loss"] == 2.5
    assert not list(tmp_path.glob(".run.json.tmp-*"))


def test_curve_points_and_png(tmp_path: Path) -> None:
    series = curve_points(HISTORY)
    assert series["train_loss"] == [(1, 3.0), (2, 2.0), (3, 1.5)]
    assert series["dev_loss"] == [(2, 2.5)]
    assert series["dev_flores_loss"] == [(2, 2.4)]
    assert [lr for _, lr in series["learning_rate"]] == [1e-4, 2e-4, 1e-4]
    png = plot_learning_curve(HISTORY, tmp_path / "curve.png", title="t")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.dumps(series)  # plain data, reusable by reports
