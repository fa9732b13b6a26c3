"""Local files source: formats, column mapping, and bad input rejected or stopped with file/line/column."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingest.files import display_path, read_files_source
from synthmix.config.base import parse
from synthmix.config.sources import FilesSourceConfig
from synthmix.errors import SynthmixError
from synthmix.record import ProvenanceStamp
from tests.ingest.conftest import FIXTURES

STAMP = ProvenanceStamp("ingest", "test", "abc")


def config(**table) -> FilesSourceConfig:
    return parse(FilesSourceConfig, {"type": "files", **table}, "sources.t")


def test_tsv_with_language_header_needs_no_mapping():
    result = read_files_source(
        "pairs", config(path=str(FIXTURES / "pairs.tsv"), src_lang="de", tgt_lang="fr"), STAMP
    )
    assert [(r.fields["src"], r.fields["tgt"]) for r in result.records] == [
        ("Guten Morgen.", "Bonjour."),
        ("Danke schön.", "Merci beaucoup."),
        ("Wie geht es dir?", "Comment vas-tu ?"),
    ]
    first = result.records[0]
    assert (first.kind, first.src_lang, first.tgt_lang, first.lang, first.split) == (
        "translation",
        "de",
        "fr",
        None,
        "train",
    )
    assert first.meta == {"path": display_path(FIXTURES / "pairs.tsv"), "line": 2}
    assert result.rejected == [] and result.facts["format"] == "tsv"


def test_jsonl_qa_with_optional_context_and_file_split():
    cfg = config(path=str(FIXTURES / "qa.jsonl"), kind="qa", lang="de", file_split="test", license="CC0-1.0")
    records = read_files_source("qa", cfg, STAMP).records
    assert [r.fields for r in records] == [
        {
            "question": "Wo wurde Gutenberg geboren?",
            "answer": "In Mainz.",
            "context": "Gutenberg wurde in Mainz geboren.",
        },
        {"question": "Wann starb Gutenberg?", "answer": "1468."},
    ]
    assert {r.split for r in records} == {"test"} and records[1].meta["license"] == "CC0-1.0"
    assert records[0].lang == "de"


def test_csv_with_quotes_and_explicit_columns(tmp_path: Path):
    path = tmp_path / "data.csv"
    path.write_text(
        'English,Deutsch\n"Hello, world.","Hallo, Welt."\n"She said ""hi"".",Sie sagte „hallo“.\n',
        encoding="utf-8",
    )
    cfg = config(path=str(path), columns={"src": "English", "tgt": "Deutsch"}, src_lang="en", tgt_lang="de")
    records = read_files_source("c", cfg, STAMP).records
    assert [r.fields["src"] for r in records] == ["Hello, world.", 'She said "hi".']
    assert records[1].meta["line"] == 3


def test_parquet_rows(tmp_path: Path):
    path = tmp_path / "data.parquet"
    pq.write_table(
        pa.table(
            {
                "instruction": ["Sag hallo.", "Zähle bis drei."],
                "response": ["Hallo!", "1, 2, 3."],
                "x": [1, 2],
            }
        ),
        path,
    )
    records = read_files_source("p", config(path=str(path), kind="instruction", lang="de"), STAMP).records
    assert [r.fields["response"] for r in records] == ["Hallo!", "1, 2, 3."]
    assert records[1].meta["row"] == 1


def test_missing_column_in_header_stops_naming_file_line_and_column(tmp_path: Path):
    path = tmp_path / "pairs.tsv"
    path.write_text("deutsch\tfr\nHallo.\tSalut.\n", encoding="utf-8")
    cfg = config(path=str(path), columns={"src": "de", "tgt": "fr"})
    with pytest.raises(
        SynthmixError,
        match=r"pairs\.tsv line 1: no column 'de' \(for record field 'src'\).*\['deutsch', 'fr'\]",
    ):
        read_files_source("x", cfg, STAMP)


def test_bad_rows_are_rejected_with_reason_and_line(tmp_path: Path):
    path = tmp_path / "pairs.tsv"
    path.write_bytes(
        b"de\tfr\n"
        b"Guten Tag.\tBonjour.\n"
        b"Sch\xf6n.\tBeau.\n"  # latin-1, not UTF-8
        b"Nur deutsch.\n"
        b"Eins.\tUn.\tExtra\n"
        b"\tVide.\n"
        b"\n"
        b"Gute Nacht.\tBonne nuit.\n"
    )
    result = read_files_source("x", config(path=str(path), columns={"src": "de", "tgt": "fr"}), STAMP)
    assert [r.fields["src"] for r in result.records] == ["Guten Tag.", "Gute Nacht."]
    assert [r.meta["line"] for r in result.records] == [2, 8]
    got = [(x.reason, x.record.meta["line"]) for x in result.rejected]
    assert got == [("bad_encoding", 3), ("missing_column", 4), ("extra_column", 5), ("empty_field", 6)]
    assert result.rejected[0].detail.startswith(f"{path} line 3: not UTF-8")
    assert "column 'de' (field 'src') is empty" in result.rejected[3].detail


def test_jsonl_bad_lines(tmp_path: Path):
    path = tmp_path / "qa.jsonl"
    lines = [
        json.dumps({"question": "Eine Frage?", "answer": "Eine Antwort."}),
        "{not json",
        "[1, 2]",
        json.dumps({"question": "Nur Frage?"}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = read_files_source("q", config(path=str(path), kind="qa"), STAMP)
    assert len(result.records) == 1
    assert [(x.reason, x.record.meta["line"]) for x in result.rejected] == [
        ("bad_json", 2),
        ("bad_json", 3),
        ("missing_column", 4),
    ]


def test_unknown_suffix_asks_for_format(tmp_path: Path):
    path = tmp_path / "pairs.txt"
    path.write_text("src\ttgt\na.\tb.\n", encoding="utf-8")
    with pytest.raises(SynthmixError, match="set format"):
        read_files_source("x", config(path=str(path)), STAMP)
    assert len(read_files_source("x", config(path=str(path), format="tsv"), STAMP).records) == 1


def test_utf8_bom_header_is_read(tmp_path: Path):
    path = tmp_path / "bom.tsv"
    path.write_bytes("\ufeffsrc\ttgt\nEins.\tOne.\n".encode())
    assert read_files_source("x", config(path=str(path)), STAMP).records[0].fields == {
        "src": "Eins.",
        "tgt": "One.",
    }


def test_display_path_is_relative_inside_the_project_and_shortened_outside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    assert display_path(tmp_path / "data" / "x.tsv") == "data/x.tsv"
    assert display_path(Path("rel/x.tsv")) == "rel/x.tsv"
    monkeypatch.setenv("HOME", "/home/alice")
    assert display_path(Path("/home/alice/corpora/x.tsv")) == "~/corpora/x.tsv"


def test_unreadable_csv_row_stops_naming_file_and_line(tmp_path: Path):
    path = tmp_path / "bad.csv"
    path.write_text('src,tgt\n"ok.","fine."\n"a "quoted" word",x\n', encoding="utf-8")
    with pytest.raises(SynthmixError, match=r"bad\.csv line 3: cannot read the CSV row \(',' expected"):
        read_files_source("x", config(path=str(path), format="csv"), STAMP)


def test_very_long_cells_are_read(tmp_path: Path):
    path = tmp_path / "long.tsv"
    long = "Wort " * 40_000 + "Ende."
    path.write_text(f"src\ttgt\n{long}\tFin.\n", encoding="utf-8")
    (record,) = read_files_source("x", config(path=str(path)), STAMP).records
    assert record.fields["src"] == long.strip()
