"""Column mapping and language codes."""

from __future__ import annotations

import pytest

from ingest.mapping import RowMapper, short_lang
from synthmix.config.base import parse
from synthmix.config.sources import FilesSourceConfig
from synthmix.errors import SynthmixError
from synthmix.record import ProvenanceStamp, Record
from synthmix.store import Rejection

STAMP = ProvenanceStamp("ingest", "test", "abc")


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("deu_Latn", "de"),
        ("fra_Latn", "fr"),
        ("tel_Telu", "te"),
        ("de", "de"),
        ("lzh", "lzh"),
        ("xyz_Latn", "xyz"),
        ("", ""),
    ],
)
def test_short_lang(code: str, expected: str):
    assert short_lang(code) == expected


def test_explicit_mapping_and_record_languages():
    m = RowMapper.for_source(
        "t",
        parse(
            FilesSourceConfig,
            {
                "type": "files",
                "path": "x",
                "columns": {"src": "en", "tgt": "te"},
                "src_lang": "eng_Latn",
                "tgt_lang": "tel_Telu",
            },
            "s",
        ),
        STAMP,
        header=["en", "te"],
    )
    record = m.to_record({"en": " Hello. ", "te": "నమస్కారం."}, {"line": 2})
    assert isinstance(record, Record)
    assert (record.fields, record.src_lang, record.tgt_lang, record.lang) == (
        {"src": "Hello.", "tgt": "నమస్కారం."},
        "en",
        "te",
        None,
    )
    assert record.provenance == (STAMP,)


def test_missing_required_column_is_an_error_but_missing_optional_context_is_not():
    cfg = parse(FilesSourceConfig, {"type": "files", "path": "x", "kind": "qa"}, "s")
    m = RowMapper.for_source("t", cfg, STAMP, header=["question", "answer"])
    assert "context" not in m.columns
    m.check_columns(["question", "answer"], "x line 1")
    with pytest.raises(SynthmixError, match=r"x line 1: no column 'answer' \(for record field 'answer'\)"):
        m.check_columns(["question"], "x line 1")


def test_empty_required_field_is_rejected_with_where():
    cfg = parse(FilesSourceConfig, {"type": "files", "path": "x", "kind": "qa"}, "s")
    item = RowMapper.for_source("t", cfg, STAMP, header=["question", "answer"]).to_record(
        {"question": "Wer?", "answer": "  "}, {"path": "x.tsv", "line": 7}
    )
    assert isinstance(item, Rejection)
    assert (item.reason, item.detail) == (
        "empty_field",
        "x.tsv line 7: column 'answer' (field 'answer') is empty",
    )
