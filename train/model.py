"""Load a causal LM (4-bit / 8-bit / unquantized) and its tokenizer, or a trained adapter onto a base.

    from train.model import load_model, load_adapter
    model, tokenizer = load_model("data/tiny-model", quantization="4bit")
    model = load_adapter(model, "runs/sample/<run id>")      # PeftModel, not merged

Everything goes through the real ``from_pretrained`` path. 4-bit means QLoRA's NF4 with double quantization
and a compute dtype picked for the hardware ("auto": bf16 on GPUs that support it, else fp16 on GPUs, fp32 on
CPU). A model that cannot be loaded (missing directory, unknown hub id, no network) raises
``MissingRequirementError`` naming the model within seconds, instead of a hub retry loop.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any

from synthmix.errors import MissingRequirementError, SynthmixError

log = logging.getLogger(__name__)

HUB_HOST = "huggingface.co"


def pick_compute_dtype(name: str = "auto") -> Any:
    """The torch dtype for ``[train] compute_dtype``; "auto" picks what this hardware runs well."""
    import torch

    if name != "auto":
        return getattr(torch, name)
    if torch.cuda.is_available():
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    # CPU: fp32 is the fast, numerically safe choice (bf16 matmuls are emulated on most CPUs).
    return torch.float32


def _hub_offline() -> bool:
    return any(
        os.environ.get(v, "").lower() in ("1", "true", "yes")
        for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def resolve_model(name_or_path: str, revision: str = "") -> tuple[str, bool]:
    """Where to load from and whether only local files may be used; raises if it cannot be loaded.

    A local directory must hold a config.json. A hub id is used from the local cache when cached; otherwise
    the hub must be reachable (one bounded TCP connect) and the hub must not be disabled by HF_HUB_OFFLINE.
    """
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise MissingRequirementError(
                f"model directory {name_or_path} has no config.json; save a model there with save_pretrained "
                "(for the offline sample: make tiny-model)"
            )
        return str(path), True
    # A path-like name (or one whose parent folder exists here, like data/tiny-model) is not a hub id.
    parent_is_local = path.parent != Path(".") and path.parent.is_dir()
    if name_or_path.startswith((".", "/", "~")) or name_or_path.count("/") > 1 or parent_is_local:
        raise MissingRequirementError(
            f"model {name_or_path}: no such directory (for the offline sample build one with: make tiny-model)"
        )
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(name_or_path, "config.json", revision=revision or None)
    if isinstance(cached, str):
        return name_or_path, True
    if _hub_offline():
        raise MissingRequirementError(
            f"model {name_or_path}: no such local directory, not in the Hugging Face cache, and HF_HUB_OFFLINE "
            "is set; "
            "download it on a machine with network, or set train.model / MODEL= to a local directory"
        )
    from synthmix.pipeline import reachable

    if not reachable(HUB_HOST):
        raise MissingRequirementError(
            f"model {name_or_path}: no such local directory, not in the Hugging Face cache, and {HUB_HOST} "
            "cannot be reached; "
            "use a local model directory (MODEL=path) or run where the Hub is reachable"
        )
    return name_or_path, False


def quantization_config(quantization: str, compute_dtype: Any, double_quant: bool = True) -> Any:
    """A ``BitsAndBytesConfig`` for "4bit" (NF4, QLoRA) or "8bit"; None for "none"."""
    if quantization == "none":
        return None
    from transformers import BitsAndBytesConfig

    if quantization == "4bit":
        return BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=double_quant,
            bnb_4bit_compute_dtype=compute_dtype,
        )
    if quantization == "8bit":
        return BitsAndBytesConfig(load_in_8bit=True)
    raise SynthmixError(f"train.quantization: must be 4bit, 8bit or none, got {quantization!r}")


def apply_cpu_workaround(model: Any) -> int:
    """Stop bitsandbytes repacking 4-bit weights for AVX512-BF16 CPUs; returns how many layers it touched.

    The repack happens during no-grad forwards (eval) and breaks later training steps and layers whose
    in_features are not a multiple of 64 (see DESIGN.md). The flag is harmless on other CPUs and on GPUs.
    """
    try:
        import bitsandbytes as bnb
    except ImportError:  # no bitsandbytes: nothing is 4-bit
        return 0
    n = 0
    for module in model.modules():
        if isinstance(module, bnb.nn.Linear4bit):
            module.support_avx512bf16_for_cpu = False
            n += 1
    return n


def load_tokenizer(name_or_path: str, *, revision: str = "", local_only: bool = True) -> Any:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(
        name_or_path, revision=revision or None, local_files_only=local_only
    )
    if tokenizer.pad_token is None:
        # Base models often ship without a pad token; padding is masked out of the loss anyway.
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    return tokenizer


def load_model(
    name_or_path: str,
    *,
    quantization: str = "4bit",
    compute_dtype: str = "auto",
    revision: str = "",
    double_quant: bool = True,
    for_training: bool = True,
    gradient_checkpointing: bool = False,
) -> tuple[Any, Any]:
    """(model, tokenizer) loaded with ``from_pretrained``; 4-bit/8-bit through bitsandbytes.

    ``for_training`` prepares a quantized model for k-bit training (frozen base, fp32 norms, input grads)
    and disables the KV cache; otherwise the model is put in eval mode.
    """
    import torch
    from transformers import AutoModelForCausalLM

    source, local_only = resolve_model(name_or_path, revision)
    dtype = pick_compute_dtype(compute_dtype)
    kwargs: dict[str, Any] = {"revision": revision or None, "local_files_only": local_only}
    quant = quantization_config(quantization, dtype, double_quant)
    if quant is not None:
        kwargs["quantization_config"] = quant
        # The whole quantized model on this process's device: under `accelerate launch` (DDP) each process
        # holds a full copy on its own GPU (LOCAL_RANK); on CPU everything stays on the CPU.
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        kwargs["device_map"] = {"": local_rank} if torch.cuda.is_available() else {"": "cpu"}
    kwargs["dtype"] = dtype
    try:
        model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
        tokenizer = load_tokenizer(source, revision=revision, local_only=local_only)
    except (OSError, ValueError) as e:
        raise MissingRequirementError(f"model {name_or_path} could not be loaded: {e}") from None
    touched = apply_cpu_workaround(model)
    if touched:
        log.debug("bitsandbytes CPU workaround applied to %d Linear4bit layers", touched)
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    if for_training:
        model.config.use_cache = False
        with warnings.catch_warnings():
            # peft 0.21 calls transformers 5's renamed gradient_checkpointing_* methods; nothing to act on.
            warnings.filterwarnings("ignore", message=".*gradient_checkpointing.*", category=FutureWarning)
            if quant is not None:
                from peft import prepare_model_for_kbit_training

                model = prepare_model_for_kbit_training(
                    model,
                    use_gradient_checkpointing=gradient_checkpointing,
                    gradient_checkpointing_kwargs={"use_reentrant": False}
                    if gradient_checkpointing
                    else None,
                )
            elif gradient_checkpointing:
                model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
                model.enable_input_require_grads()
    else:
        model.eval()
    return model, tokenizer


def load_adapter(model: Any, run_dir: str | Path, *, is_trainable: bool = False) -> Any:
    """The run's LoRA adapter on ``model`` as a ``PeftModel`` (not merged: the base stays as loaded)."""
    from peft import PeftModel

    run_dir = Path(run_dir)
    if not (run_dir / "adapter_config.json").is_file():
        raise SynthmixError(
            f"{run_dir}: no adapter_config.json; pass a finished run directory (runs/<recipe>/<run id>)"
        )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*gradient_checkpointing.*", category=FutureWarning)
        peft_model = PeftModel.from_pretrained(model, str(run_dir), is_trainable=is_trainable)
    apply_cpu_workaround(peft_model)
    if not is_trainable:
        peft_model.eval()
    return peft_model
