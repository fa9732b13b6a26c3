"""Eval test set-up: one torch thread while eval's tests run (restored afterwards for other packages).

On a CPU shared with other processes, torch's OpenMP workers spin while waiting for each other; measured
here, a tiny model's training step took 2.8 s with 2 threads and 0.16 s with 1 under load.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
