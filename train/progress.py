"""Training progress: the Trainer's tqdm bars on stderr, its metrics as compact log lines instead of prints.

transformers' own ProgressCallback writes a dict per logging step to stdout; synthmix keeps stdout for
results (the run directory, --show-masking), so the trainer swaps in ``LoggingProgress``.
"""

from __future__ import annotations

import logging
from typing import Any

from transformers import ProgressCallback

log = logging.getLogger("train.trainer")

SHOWN = ("loss", "learning_rate", "grad_norm")


class LoggingProgress(ProgressCallback):
    """tqdm bars as usual; ``step 5/20 loss 2.31 learning_rate 0.0002 dev_loss 2.5`` in the log."""

    def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
        if not state.is_world_process_zero or not logs:
            return
        shown = {
            k.removeprefix("eval_"): (f"{v:.4g}" if isinstance(v, float) else v)
            for k, v in logs.items()
            if k in SHOWN or (k.startswith("eval_") and k.endswith("_loss"))
        }
        if shown:
            line = " ".join(f"{k} {v}" for k, v in shown.items())
            log.info("step %d/%d %s", state.global_step, state.max_steps, line)
