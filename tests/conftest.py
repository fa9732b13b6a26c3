"""Shared test setup: no hub or network access, outputs under tmp dirs, deterministic seeds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Set before any test imports datasets/transformers/huggingface_hub, which read them at import time.
for _var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
    os.environ[_var] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def project_root() -> Path:
    return ROOT


@pytest.fixture
def in_tmp_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run with cwd = a tmp dir holding links to recipes/ and samples/, so outputs land in tmp."""
    for name in ("recipes", "samples"):
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SYNTHMIX_HOME", raising=False)
    return tmp_path


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Llama (hidden 64, 2 layers) + byte-level BPE tokenizer trained on samples/, built once per session.

    Load it with ``from_pretrained`` (or ``train.model.load_model``); do not write into it.
    """
    from train.tiny import build_tiny_model, read_texts

    texts = read_texts(
        [p for p in (ROOT / "samples/parallel/de-fr.tsv", ROOT / "samples/wiki") if p.exists()]
    )
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"), texts or ["Guten Tag.", "Bonjour."])
