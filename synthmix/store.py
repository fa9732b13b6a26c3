"""Stage outputs on disk: Parquet shards per split, ``rejected.parquet`` and ``manifest.json`` written last.

A stage writes into a hidden temporary directory beside the target and renames it into place, so a crash
mid-write never leaves a directory that looks complete; and ``manifest.json`` is the last file written, so a
directory without one counts as absent and is rebuilt.

Layout of one dataset directory (loadable with ``datasets.load_dataset("parquet", data_dir=...)``;
shards are named by split so ``rejected.parquet`` is never mistaken for data)::

    train-00000-of-00001.parquet   test-00000-of-00001.parquet   rejected.parquet   manifest.json
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from synthmix import code_version
from synthmix.record import REJECTED_SCHEMA, SPLITS, Record, records_to_table, table_to_records
from synthmix.redact import redact

MANIFEST = "manifest.json"
REJECTED = "rejected.parquet"
SHARD_ROWS = 100_000


@dataclass(frozen=True, slots=True)
class Rejection:
    """A record a stage dropped, why (a short stable code such as ``near_duplicate``) and details."""

    record: Record
    reason: str
    detail: str = ""


def is_complete(path: Path) -> bool:
    """A dataset directory exists for synthmix only once its manifest has been written."""
    return (Path(path) / MANIFEST).is_file()


def read_manifest(path: Path) -> dict[str, Any]:
    manifest_path = Path(path) / MANIFEST
    if not manifest_path.is_file():
        raise FileNotFoundError(f"{path}: no {MANIFEST}; the stage that writes it has not finished")
    data: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))
    return data


def shard_paths(path: Path, split: str | None = None) -> list[Path]:
    splits = [split] if split else list(SPLITS)
    return sorted(p for s in splits for p in Path(path).glob(f"{s}-*.parquet"))


def read_records(path: Path, split: str | None = None) -> list[Record]:
    """All records of a complete dataset directory (optionally one split), in stored order."""
    if not is_complete(path):
        raise FileNotFoundError(f"{path}: dataset is missing or incomplete (no {MANIFEST})")
    return [r for shard in shard_paths(path, split) for r in table_to_records(pq.read_table(shard))]


def iter_records(path: Path, split: str | None = None, batch_size: int = 10_000) -> Iterator[Record]:
    """Stream records shard by shard without holding a whole dataset in memory."""
    if not is_complete(path):
        raise FileNotFoundError(f"{path}: dataset is missing or incomplete (no {MANIFEST})")
    for shard in shard_paths(path, split):
        for batch in pq.ParquetFile(shard).iter_batches(batch_size=batch_size):
            yield from table_to_records(pa.Table.from_batches([batch]))


def read_rejected(path: Path) -> list[Rejection]:
    file = Path(path) / REJECTED
    if not file.is_file():
        return []
    out = []
    for row in pq.read_table(file).to_pylist():
        reason, detail = row.pop("reason"), row.pop("detail")
        out.append(Rejection(Record.from_row(row), reason, detail or ""))
    return out


def _write_table(table: pa.Table, file: Path) -> None:
    # Fixed writer options so the same records give byte-identical files on every run.
    pq.write_table(table, file, compression="zstd", write_statistics=True, use_dictionary=True)


def count_summary(records: Iterable[Record], rejected: Iterable[Rejection]) -> dict[str, Any]:
    records, rejected = list(records), list(rejected)
    return {
        "records": len(records),
        "rejected": len(rejected),
        "by_split": dict(sorted(Counter(r.split for r in records).items())),
        "by_source": dict(sorted(Counter(r.source for r in records).items())),
        "by_origin": dict(sorted(Counter(r.origin for r in records).items())),
        "rejected_by_reason": dict(sorted(Counter(x.reason for x in rejected).items())),
        "rejected_by_source": dict(sorted(Counter(x.record.source for x in rejected).items())),
    }


def write_dataset(
    path: Path,
    records: Iterable[Record],
    *,
    stage: str,
    config: dict[str, Any] | None = None,
    config_hash: str = "",
    rejected: Iterable[Rejection] = (),
    inputs: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
    started: float | None = None,
) -> dict[str, Any]:
    """Write a stage's output atomically and return its manifest.

    ``inputs`` maps input names to their content hashes (e.g. the upstream manifest's ``output_hash``), so
    ``synthmix status`` can tell when an output is stale. ``extra`` is merged into the manifest (funnels,
    token accounting...). Anything in the manifest passes through ``redact`` first.
    """
    path = Path(path)
    records = list(records)
    rejected = list(rejected)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    try:
        files = []
        for split in SPLITS:
            part = [r for r in records if r.split == split]
            if not part:
                continue
            n_shards = max(1, -(-len(part) // SHARD_ROWS))
            for i in range(n_shards):
                name = f"{split}-{i:05d}-of-{n_shards:05d}.parquet"
                _write_table(records_to_table(part[i * SHARD_ROWS : (i + 1) * SHARD_ROWS]), tmp / name)
                files.append(name)
        if rejected:
            rows = [{**x.record.to_row(), "reason": x.reason, "detail": x.detail} for x in rejected]
            _write_table(pa.Table.from_pylist(rows, schema=REJECTED_SCHEMA), tmp / REJECTED)
            files.append(REJECTED)
        manifest = {
            "stage": stage,
            "name": path.name,
            "code_version": code_version(),
            "config_hash": config_hash,
            "config": config or {},
            "inputs": dict(sorted((inputs or {}).items())),
            "counts": count_summary(records, rejected),
            "output_hash": output_hash(tmp, files),
            "files": files,
            "created_unix": round(time.time(), 3),
            "seconds": round(time.time() - started, 3) if started else None,
            **(extra or {}),
        }
        manifest = redact(manifest)
        # The manifest is written last and marks the directory complete.
        (tmp / MANIFEST).write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        _replace_dir(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def output_hash(directory: Path, files: list[str]) -> str:
    """Hash of the data files' bytes: equal outputs have equal hashes, whatever wrote them."""
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode())
        h.update(hashlib.sha256((Path(directory) / name).read_bytes()).digest())
    return h.hexdigest()[:20]


def _replace_dir(tmp: Path, target: Path) -> None:
    if target.exists():
        # Move the old output aside first: a crash between the two renames leaves the new output's
        # temp dir and the old one aside, never a half-written target.
        old = target.parent / f".{target.name}.old-{os.getpid()}"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, target)


def clean_stale_temps(parent: Path) -> int:
    """Remove temp dirs left by crashed writers under ``parent``; returns how many were removed."""
    n = 0
    for p in Path(parent).glob(".*.tmp-*"):
        shutil.rmtree(p, ignore_errors=True)
        n += 1
    return n
