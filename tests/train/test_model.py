"""Model loading: the real from_pretrained path in 4-bit, and fast, named failures for unloadable models."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from synthmix.errors import MissingRequirementError
from train.model import load_model, pick_compute_dtype


def test_load_4bit_applies_cpu_workaround(tiny_model_dir: Path) -> None:
    import bitsandbytes as bnb

    model, tok = load_model(str(tiny_model_dir), quantization="4bit", for_training=False)
    layers = [m for m in model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert len(layers) == 2 * 7  # q k v o gate up down per block
    assert all(m.support_avx512bf16_for_cpu is False for m in layers)
    assert layers[0].weight.quant_state.quant_type == "nf4"
    assert layers[0].weight.quant_state.nested  # double quantization
    with torch.no_grad():
        logits = model(**tok("Guten Tag", return_tensors="pt")).logits
    assert torch.isfinite(logits).all()


def test_compute_dtype_auto_is_fp32_on_cpu() -> None:
    if not torch.cuda.is_available():
        assert pick_compute_dtype("auto") == torch.float32
    assert pick_compute_dtype("float16") == torch.float16


@pytest.mark.parametrize("name", ["./no-such-model", "data/definitely/missing", "nobody/not-a-model-xyz"])
def test_unloadable_model_names_the_model(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(MissingRequirementError, match=name.lstrip("./")):
        load_model(name)


def test_directory_without_config(tmp_path: Path) -> None:
    with pytest.raises(MissingRequirementError, match="config.json"):
        load_model(str(tmp_path))
