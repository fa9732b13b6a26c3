from __future__ import annotations

import pytest

from curate.executors import LocalExecutor, make_executor


def _square(items: list[int]) -> list[int]:
    return [i * i for i in items]


def test_local_executor_keeps_order_across_batches() -> None:
    ex = make_executor("local")
    assert isinstance(ex, LocalExecutor)
    assert ex.map_batches(_square, list(range(10)), 3, "square") == [i * i for i in range(10)]
    assert ex.map_batches(_square, [], 3, "square") == []


def test_batch_function_must_answer_every_item() -> None:
    with pytest.raises(RuntimeError, match="returned 1 for 3"):
        LocalExecutor().map_batches(lambda items: items[:1], [1, 2, 3], 3, "short")
