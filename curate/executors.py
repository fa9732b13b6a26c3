"""Where curation's per-record work runs: in this process (default) or on Ray Data.

Both executors offer ``map_batches(fn, items, batch_size, desc)``: ``fn`` takes a list of items and
returns a list of results of the same length, and the results come back in input order, so every stage
gives the same output whichever executor ran it (tests/curate/test_ray.py checks Ray == local).

``RayExecutor`` starts a local Ray (``ray.init(num_cpus=2)``) unless given an address
(``synthmix curate --executor ray --ray-address ray://host:10001``), ships items as pickled blobs through
a Ray Dataset with order preserved, and shuts down the Ray it started. Functions must be picklable:
module-level functions or ``functools.partial`` of them with frozen configs.
"""

from __future__ import annotations

import functools
import logging
import pickle
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from tqdm import tqdm

from synthmix.errors import MissingRequirementError

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    name: str

    def map_batches(
        self, fn: Callable[[list[Any]], list[Any]], items: Sequence[Any], batch_size: int, desc: str
    ) -> list[Any]: ...

    def close(self) -> None: ...


class LocalExecutor:
    """Plain in-process loop over batches, with a progress bar for long stages."""

    name = "local"

    def map_batches(
        self, fn: Callable[[list[Any]], list[Any]], items: Sequence[Any], batch_size: int, desc: str
    ) -> list[Any]:
        out: list[Any] = []
        with tqdm(total=len(items), desc=desc, unit="rec", disable=len(items) < 5000, leave=False) as bar:
            for start in range(0, len(items), batch_size):
                batch = list(items[start : start + batch_size])
                results = fn(batch)
                if len(results) != len(batch):
                    raise RuntimeError(f"{desc}: batch function returned {len(results)} for {len(batch)}")
                out.extend(results)
                bar.update(len(batch))
        return out

    def close(self) -> None:
        pass


def _ray_apply(batch: dict[str, Any], fn: Callable[[list[Any]], list[Any]]) -> dict[str, Any]:
    items = [pickle.loads(blob) for blob in batch["blob"]]
    results = fn(items)
    return {"i": list(batch["i"]), "blob": [pickle.dumps(r) for r in results]}


class RayExecutor:
    """Ray Data ``map_batches`` over pickled items; a local 2-CPU Ray unless ``address`` is given."""

    name = "ray"

    def __init__(self, address: str = "", num_cpus: int = 2) -> None:
        try:
            import ray
        except ImportError as e:  # pragma: no cover - ray is a dependency
            raise MissingRequirementError(f"--executor ray needs the ray package: {e}") from None
        self._ray = ray
        self._started = False
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if address:
                import curate
                import synthmix

                # Ship this checkout's curate and synthmix packages to the cluster's workers, so they run
                # the same code as the driver (third-party packages must be installed there).
                kwargs["runtime_env"] = {"py_modules": [curate, synthmix]}
                try:
                    ray.init(address=address, **kwargs)
                except (ConnectionError, RuntimeError, ValueError) as e:
                    raise MissingRequirementError(
                        f"--ray-address {address}: cannot connect to a Ray cluster ({e}); "
                        "drop --ray-address to run on a local Ray"
                    ) from None
            else:
                ray.init(num_cpus=num_cpus, **kwargs)
            self._started = True
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True
        ctx.enable_progress_bars = False

    def map_batches(
        self, fn: Callable[[list[Any]], list[Any]], items: Sequence[Any], batch_size: int, desc: str
    ) -> list[Any]:
        if not items:
            return []
        rows = [{"i": i, "blob": pickle.dumps(item)} for i, item in enumerate(items)]
        n_blocks = max(1, min(len(rows) // max(1, batch_size) + 1, 8))
        source = self._ray.data.from_items(rows, override_num_blocks=n_blocks)
        apply: Any = functools.partial(_ray_apply, fn=fn)
        ds = source.map_batches(apply, batch_size=batch_size, batch_format="numpy")
        log.info("ray: %s on %d items", desc, len(items))
        out = sorted(ds.take_all(), key=lambda row: int(row["i"]))
        if len(out) != len(items):
            raise RuntimeError(f"{desc}: Ray returned {len(out)} results for {len(items)} items")
        return [pickle.loads(row["blob"]) for row in out]

    def close(self) -> None:
        if self._started:
            self._ray.shutdown()
            self._started = False


def make_executor(name: str, ray_address: str = "") -> Executor:
    if name == "ray":
        return RayExecutor(ray_address)
    return LocalExecutor()
