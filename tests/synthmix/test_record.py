from __future__ import annotations

from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest

from synthmix.record import ProvenanceStamp, Record, make_id, records_to_table, table_to_records


def _pair(src: str = "Guten Tag.", tgt: str = "Bonjour.", **kw) -> Record:
    return Record(
        kind="translation",
        origin="real",
        source="flores",
        fields={"src": src, "tgt": tgt},
        src_lang="de",
        tgt_lang="fr",
        **kw,
    )


def test_id_is_content_derived_and_stable():
    a, b = _pair(), _pair(meta={"url": "x"}, split="test")
    assert a.id == b.id  # meta and split are not content
    assert len(a.id) == 20
    # Pinned: ids must not change across versions (dolma-style stable ids).
    assert make_id("translation", {"src": "Guten Tag.", "tgt": "Bonjour."}) == a.id
    assert a.id == "62786a5603f06b53cb58"


def test_id_ignores_whitespace_and_unicode_form_but_not_content():
    assert _pair(src="  Guten   Tag. ").id == _pair().id
    assert _pair(src="Gru\u0308n").id == _pair(src="Grün").id  # NFD == NFC
    assert _pair(src="Guten Abend.").id != _pair().id
    qa = Record(kind="qa", origin="real", source="x", fields={"question": "Guten Tag.", "answer": "Bonjour."})
    assert qa.id != _pair().id  # same text, other kind


def test_invalid_record_values_are_rejected():
    with pytest.raises(ValueError, match="kind"):
        Record(kind="poem", origin="real", source="x", fields={})
    with pytest.raises(ValueError, match="field"):
        Record(kind="qa", origin="real", source="x", fields={"q": "?"})
    assert Record(kind="qa", origin="real", source="x", fields={"question": " "}).missing_fields() == [
        "question",
        "answer",
    ]


def _rich_records() -> list[Record]:
    stamp = ProvenanceStamp("synth", "0.1.0", "abc", ("p1", "p2"))
    return [
        _pair(meta={"nested": {"a": [1, 2.5, None]}, "title": "Ünïcode ✓"}, provenance=(stamp,)),
        Record(
            kind="qa",
            origin="synthetic",
            source="wiki_qa",
            split="test",
            lang="de",
            fields={"question": "Wer?", "answer": "Gutenberg", "context": "Johannes Gutenberg ..."},
        ),
        Record(kind="passage", origin="real", source="wiki", lang="de", fields={"text": "Ein Satz."}),
    ]


def test_parquet_round_trip_is_lossless(tmp_path: Path):
    records = _rich_records()
    pq.write_table(records_to_table(records), tmp_path / "x.parquet")
    back = table_to_records(pq.read_table(tmp_path / "x.parquet"))
    assert back == records


def test_datasets_load_parquet_round_trip(tmp_path: Path):
    from synthmix.store import write_dataset

    records = _rich_records()
    write_dataset(tmp_path / "ds", records, stage="test")
    ds = datasets.load_dataset("parquet", data_dir=str(tmp_path / "ds"))
    assert sorted(ds.keys()) == ["test", "train"]  # rejected.parquet/manifest are not data
    back = [Record.from_row(row) for split in ("train", "test") for row in ds[split]]
    assert sorted(back, key=lambda r: r.id) == sorted(records, key=lambda r: r.id)
