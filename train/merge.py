"""Merge a run's LoRA adapter into its base model loaded in 16-bit, never into 4-bit weights.

    synthmix train --recipe recipes/sample.toml --merge runs/sample/<run id>    # -> <run id>/merged/

Merging into quantized weights would bake quantization error into the result; the base is loaded fresh in
bf16 (fp16 on GPUs without bf16), the adapter merged with ``merge_and_unload``, and the result saved with
its tokenizer so it loads like any model with ``from_pretrained``.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

from synthmix.errors import SynthmixError
from train.runcard import is_finished, read_run

log = logging.getLogger(__name__)

MERGED = "merged"


def merge_dtype() -> Any:
    import torch

    if torch.cuda.is_available() and not torch.cuda.is_bf16_supported():
        return torch.float16
    return torch.bfloat16


def merge_run(run_dir: Path) -> Path:
    """Write ``run_dir/merged`` (16-bit base + adapter merged) and return it."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from train.model import load_tokenizer, resolve_model

    run_dir = Path(run_dir)
    if not is_finished(run_dir):
        raise SynthmixError(f"{run_dir}: not a finished run (no run.json); train it first, then merge")
    info = read_run(run_dir)
    base = info["base_model"]["name"]
    revision = info["train_config"].get("revision", "")
    source, local_only = resolve_model(base, revision)
    model = AutoModelForCausalLM.from_pretrained(
        source, dtype=merge_dtype(), revision=revision or None, local_files_only=local_only
    )
    with warnings.catch_warnings():
        # peft 0.21 asks transformers 5 for a renamed attribute; nothing for users to act on.
        warnings.filterwarnings("ignore", message=".*gradient_checkpointing.*", category=FutureWarning)
        merged = PeftModel.from_pretrained(model, str(run_dir)).merge_and_unload()
    out = run_dir / MERGED
    merged.save_pretrained(out)
    load_tokenizer(str(run_dir)).save_pretrained(out)
    log.info("merged %s into %s (%s) -> %s", run_dir.name, base, merge_dtype(), out)
    return out
