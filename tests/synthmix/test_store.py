from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from synthmix.record import Record
from synthmix.store import (
    Rejection,
    is_complete,
    read_manifest,
    read_records,
    read_rejected,
    write_dataset,
)


def _recs(n: int, source: str = "s") -> list[Record]:
    return [
        Record(kind="passage", origin="real", source=source, fields={"text": f"Satz {i}."}) for i in range(n)
    ]


def test_write_then_read(tmp_path: Path):
    recs = _recs(5)
    bad = Rejection(_recs(1, "t")[0], "too_short", "2 chars")
    m = write_dataset(
        tmp_path / "out", recs, stage="ingest", rejected=[bad], config={"a": 1}, config_hash="h"
    )
    assert is_complete(tmp_path / "out")
    assert read_records(tmp_path / "out") == recs
    assert read_rejected(tmp_path / "out") == [bad]
    assert m["counts"]["records"] == 5 and m["counts"]["rejected_by_reason"] == {"too_short": 1}
    assert read_manifest(tmp_path / "out")["config_hash"] == "h"
    assert not list(tmp_path.glob(".*"))  # no temp dirs left


def test_same_records_give_byte_identical_files(tmp_path: Path):
    m1 = write_dataset(tmp_path / "a", _recs(50), stage="x")
    m2 = write_dataset(tmp_path / "b", _recs(50), stage="x")
    assert m1["output_hash"] == m2["output_hash"]
    assert (tmp_path / "a" / m1["files"][0]).read_bytes() == (tmp_path / "b" / m2["files"][0]).read_bytes()


def test_overwrite_replaces_atomically(tmp_path: Path):
    write_dataset(tmp_path / "out", _recs(3), stage="x")
    write_dataset(tmp_path / "out", _recs(7), stage="x")
    assert len(read_records(tmp_path / "out")) == 7


def test_error_mid_write_leaves_nothing_that_looks_complete(tmp_path: Path):
    def exploding():
        yield from _recs(3)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_dataset(tmp_path / "out", exploding(), stage="x")
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.iterdir())


def test_killed_writer_leaves_no_complete_directory(tmp_path: Path):
    # A real process killed (SIGKILL) after writing its first shard, before the manifest.
    script = f"""
import os, signal
import synthmix.store as store
orig = store._write_table
def die(table, file):
    orig(table, file)
    os.kill(os.getpid(), signal.SIGKILL)
store._write_table = die
from synthmix.record import Record
recs = [Record(kind="passage", origin="real", source="s", fields={{"text": str(i)}}) for i in range(10)]
store.write_dataset({str(tmp_path / "out")!r}, recs, stage="x")
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert proc.returncode == -9
    assert not (tmp_path / "out").exists()
    assert not is_complete(tmp_path / "out")
    leftovers = list(tmp_path.iterdir())
    assert leftovers and all(p.name.startswith(".out.tmp-") for p in leftovers)
    assert not any((p / "manifest.json").exists() for p in leftovers)


def test_directory_without_manifest_counts_as_absent(tmp_path: Path):
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "train-00000-of-00001.parquet").write_bytes(b"junk")
    assert not is_complete(tmp_path / "half")
    with pytest.raises(FileNotFoundError, match="incomplete"):
        read_records(tmp_path / "half")


def test_manifest_redacts_secrets_and_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GROQ_API_KEY", "gsk_" + "x" * 40)
    home = os.path.expanduser("~")
    write_dataset(
        tmp_path / "out",
        _recs(1),
        stage="x",
        config={
            "api_key": "secret-value",
            "note": "key gsk_" + "x" * 40,
            "path": f"{home}/data/f.tsv",
            "user": "/home/alice/f.tsv",
            "max_tokens": 5,
        },
    )
    text = (tmp_path / "out" / "manifest.json").read_text()
    data = json.loads(text)
    assert (
        "secret-value" not in text and "gsk_" not in text and "alice" not in text and home + "/" not in text
    )
    assert data["config"]["max_tokens"] == 5
    assert data["config"]["path"] == "~/data/f.tsv"
