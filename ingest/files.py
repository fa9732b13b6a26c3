"""Local files source: tsv / csv / jsonl / parquet -> records through the recipe's column mapping.

The format comes from the suffix when ``format = "auto"``. Text files must be UTF-8 (a BOM is fine). A header
that lacks a mapped column stops the run with the file, line 1 and the column named; a row that cannot be
read is rejected with its line number: ``bad_encoding`` (bytes that are not UTF-8), ``missing_column`` (fewer
cells than the header), ``extra_column`` (more cells: usually a stray tab), ``bad_json``, ``empty_field``.
TSV is read without quote processing: a tab separates cells, a newline ends a row.

    result = read_files_source("flores", config, stamp)   # FileReadResult(records, rejected, facts)
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from ingest.mapping import RowMapper
from synthmix.config.sources import FilesSourceConfig
from synthmix.errors import SynthmixError
from synthmix.record import ProvenanceStamp, Record
from synthmix.redact import redact_text
from synthmix.store import Rejection

FORMATS = {
    ".tsv": "tsv",
    ".tab": "tsv",
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
}
_BAD = "\x00synthmix-bad-encoding\x00"  # stands in for a line that is not UTF-8


@dataclass
class FileReadResult:
    records: list[Record] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)


def display_path(path: Path) -> str:
    """A path for records and manifests: relative to the working directory when under it, else with the
    home directory shortened, so records never carry a user name."""
    if not path.is_absolute():
        return str(path)
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return redact_text(str(path))


def file_format(path: Path, configured: str) -> str:
    if configured != "auto":
        return configured
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise SynthmixError(
            f"{path}: cannot tell the format from the suffix {path.suffix!r}; set format = "
            '"tsv" | "csv" | "jsonl" | "parquet" in the recipe'
        )
    return fmt


def _decode_lines(path: Path) -> tuple[str, set[int]]:
    """The file as text; lines that are not UTF-8 are replaced by a marker and their numbers returned."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig"), set()
    except UnicodeDecodeError:
        pass
    lines, bad = [], set()
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            lines.append(raw.decode("utf-8-sig" if number == 1 else "utf-8"))
        except UnicodeDecodeError:
            bad.add(number)
            lines.append(_BAD)
    return "\n".join(lines), bad


def _delimited_rows(path: Path, fmt: str) -> Iterator[tuple[int, list[str] | None, list[str]]]:
    """(line number, header, cells) for every non-blank row; the header row comes first with cells=[]."""
    text, _bad = _decode_lines(path)
    if fmt == "tsv":
        reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE)
    else:
        # strict: a stray quote is an error, not a field that silently swallows the rows after it.
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    # Long passages in one cell exceed csv's default 128 KiB field limit.
    csv.field_size_limit(2**31 - 1)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            raise SynthmixError(
                f"{display_path(path)} line {reader.line_num}: cannot read the {fmt.upper()} row ({e}); fix the quoting "
                "(a quote left open runs to the end of the file)"
            ) from None
        if not cells or all(not c.strip() for c in cells):
            continue
        if header is None:
            if _BAD in cells[0]:
                raise SynthmixError(
                    f"{display_path(path)} line {reader.line_num}: the header is not UTF-8; re-save as UTF-8"
                )
            header = [c.strip() for c in cells]
            yield reader.line_num, header, []
            continue
        yield reader.line_num, header, cells


def read_files_source(name: str, config: FilesSourceConfig, stamp: ProvenanceStamp) -> FileReadResult:
    path = Path(config.path)
    if not path.is_file():
        raise SynthmixError(f"sources.{name}.path: file not found: {path}")
    fmt = file_format(path, config.format)
    result = FileReadResult()
    rel = display_path(path)
    base_meta = {"path": rel}
    split = config.file_split

    def add(item: Record | Rejection) -> None:
        if isinstance(item, Rejection):
            result.rejected.append(item)
        else:
            result.records.append(item)

    if fmt in ("tsv", "csv"):
        mapper: RowMapper | None = None
        for line, header, cells in _delimited_rows(path, fmt):
            assert header is not None
            if mapper is None:
                mapper = RowMapper.for_source(name, config, stamp, header=header)
                mapper.check_columns(header, f"{rel} line {line}")
                continue
            meta = {**base_meta, "line": line}
            if any(_BAD in c for c in cells):
                detail = f"{rel} line {line}: not UTF-8; re-save the file as UTF-8"
                add(mapper.reject({}, meta, "bad_encoding", detail))
                continue
            if len(cells) != len(header):
                reason = "missing_column" if len(cells) < len(header) else "extra_column"
                detail = f"{rel} line {line}: {len(cells)} cell(s), the header has {len(header)}"
                add(mapper.reject(dict(zip(header, cells, strict=False)), meta, reason, detail))
                continue
            add(mapper.to_record(dict(zip(header, cells, strict=True)), meta))
        if mapper is None:
            raise SynthmixError(f"{rel}: the file is empty (no header line)")
    elif fmt == "jsonl":
        mapper = RowMapper.for_source(name, config, stamp)
        text, _bad = _decode_lines(path)
        for line, raw in enumerate(text.split("\n"), start=1):
            if not raw.strip():
                continue
            meta = {**base_meta, "line": line}
            if _BAD in raw:
                add(mapper.reject({}, meta, "bad_encoding", f"{rel} line {line}: not UTF-8"))
                continue
            try:
                obj: Any = json.loads(raw)
            except json.JSONDecodeError as e:
                add(mapper.reject({}, meta, "bad_json", f"{rel} line {line}: {e.msg} at column {e.colno}"))
                continue
            if not isinstance(obj, dict):
                add(mapper.reject({}, meta, "bad_json", f"{rel} line {line}: not a JSON object"))
                continue
            add(mapper.to_record(obj, meta))
    else:
        try:
            table = pq.read_table(path)
        except Exception as e:  # pyarrow raises several types for a corrupt file
            raise SynthmixError(f"{rel}: not a readable Parquet file ({e})") from None
        mapper = RowMapper.for_source(name, config, stamp, header=table.column_names)
        mapper.check_columns(table.column_names, rel)
        selected = table.select(list(dict.fromkeys(mapper.columns.values())))
        for index, values in enumerate(selected.to_pylist()):
            add(mapper.to_record(values, {**base_meta, "row": index}))

    for record in result.records:
        record.split = split
    result.facts = {"path": rel, "format": fmt, "file_split": split}
    return result
