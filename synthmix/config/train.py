"""Recipe section ``[train]``: QLoRA / LoRA fine-tuning of a causal LM on a mix."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from synthmix.config.base import require


@dataclass(frozen=True)
class LoraConfig:
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    bias: Literal["none", "all", "lora_only"] = "none"
    # "all-linear" (peft's shortcut) or explicit module names such as ["q_proj", "v_proj"].
    target_modules: str | list[str] = "all-linear"

    def __post_init__(self) -> None:
        require(self.r > 0, "r", f"must be > 0, got {self.r}")
        require(self.alpha > 0, "alpha", f"must be > 0, got {self.alpha}")
        require(0 <= self.dropout < 1, "dropout", f"must be in [0, 1), got {self.dropout}")


@dataclass(frozen=True)
class TrainConfig:
    model: str = "Qwen/Qwen2-1.5B"
    revision: str = ""
    quantization: Literal["4bit", "8bit", "none"] = "4bit"
    compute_dtype: Literal["auto", "bfloat16", "float16", "float32"] = "auto"
    double_quant: bool = True
    prompt_format: Literal["chat_template", "inst", "human_assistant", "chatml", "plain"] = "plain"
    system_prompt: str = ""
    lora: LoraConfig = field(default_factory=LoraConfig)
    freeze_layers: int = 0  # freeze the first N transformer blocks (LoRA adapters there are not trained)
    epochs: float = 1.0
    max_steps: int = 0  # > 0 overrides epochs
    batch_size: int = 4
    eval_batch_size: int = 8
    grad_accum: int = 4
    learning_rate: float = 2e-4
    weight_decay: float = 0.0
    scheduler: Literal["cosine", "linear", "constant", "cosine_with_restarts"] = "cosine"
    warmup_ratio: float = 0.03
    max_grad_norm: float = 1.0
    optimizer: str = "adamw_torch"  # paged_adamw_32bit / paged_adamw_8bit need CUDA
    max_length: int = 512
    packing: bool = False
    group_by_length: bool = True
    gradient_checkpointing: bool = False
    eval_steps: int = 50
    logging_steps: int = 10
    save_steps: int = 100
    save_total_limit: int = 2
    early_stopping_patience: int = 0  # 0 = off; evaluations without dev-loss improvement before stopping
    seed: int = 13
    dev_fraction: float = 0.1  # of the mix, held out for dev loss when the mix has no dev split
    lr_cycles: int = 1  # hard restarts of cosine_with_restarts
    early_stopping_threshold: float = 0.0  # dev-loss improvement smaller than this counts as none
    max_dev_examples: int = 0  # 0 = all; caps the dev split evaluated every eval_steps
    max_target_length: int = 0  # 0 = no own cap; else answers are cut to this many tokens (EOS included)

    def __post_init__(self) -> None:
        require(bool(self.model), "model", "name a hub id or a local model directory")
        require(self.epochs > 0 or self.max_steps > 0, "epochs", "must be > 0 (or set max_steps)")
        require(self.batch_size > 0, "batch_size", f"must be > 0, got {self.batch_size}")
        require(self.grad_accum > 0, "grad_accum", f"must be > 0, got {self.grad_accum}")
        require(self.learning_rate > 0, "learning_rate", f"must be > 0, got {self.learning_rate}")
        require(0 <= self.warmup_ratio < 1, "warmup_ratio", "must be in [0, 1)")
        require(self.max_length >= 16, "max_length", "must be >= 16")
        require(self.freeze_layers >= 0, "freeze_layers", "must be >= 0")
        require(0 <= self.dev_fraction < 1, "dev_fraction", "must be in [0, 1)")
        require(self.lr_cycles >= 1, "lr_cycles", f"must be >= 1, got {self.lr_cycles}")
        require(self.eval_steps > 0, "eval_steps", f"must be > 0, got {self.eval_steps}")
        require(self.logging_steps > 0, "logging_steps", f"must be > 0, got {self.logging_steps}")
        require(self.save_steps > 0, "save_steps", f"must be > 0, got {self.save_steps}")
        require(self.save_total_limit >= 1, "save_total_limit", "must be >= 1 (the last checkpoint resumes)")
        require(self.early_stopping_patience >= 0, "early_stopping_patience", "must be >= 0")
        require(self.max_dev_examples >= 0, "max_dev_examples", "must be >= 0")
        require(
            self.max_target_length >= 0, "max_target_length", "must be >= 0 (0 = only max_length applies)"
        )
        require(self.eval_batch_size > 0, "eval_batch_size", f"must be > 0, got {self.eval_batch_size}")
        require(
            self.early_stopping_patience == 0 or self.dev_fraction > 0,
            "early_stopping_patience",
            "early stopping needs a dev split: set dev_fraction > 0 (used when the mix has no dev split)",
        )
