"""Eval test set-up: one torch thread.

On a CPU shared with other processes, torch's OpenMP workers spin while waiting for each other; measured
here, a tiny model's training step took 2.8 s with 2 threads and 0.16 s with 1 under load.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread() -> None:
    import torch

    torch.set_num_threads(1)
