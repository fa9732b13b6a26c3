"""Rows of a table (a local file or a Hub dataset) -> Records, through a recipe's column mapping.

``columns`` maps Record fields to input columns (``{src = "de", tgt = "fr"}``); fields not named default to
a column of the same name. Languages given as FLORES codes (``deu_Latn``) are stored on records as ISO 639-1
(``de``) where one exists, so every stage compares like with like; the original code stays in ``meta``.

    mapper = RowMapper.for_source("flores", config, stamp)
    mapper.check_columns(header, where="samples/parallel/de-fr.tsv line 1")
    record_or_rejection = mapper.to_record(row, meta={"path": ..., "line": 2})
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from synthmix.config.sources import FilesSourceConfig, HubSourceConfig
from synthmix.errors import SynthmixError
from synthmix.record import REQUIRED_FIELDS, ProvenanceStamp, Record
from synthmix.store import Rejection

OPTIONAL_FIELDS = {"qa": ("context",), "instruction": ("context",), "translation": (), "passage": ()}

# ISO 639-3 -> ISO 639-1 for the languages FLORES-200 and the reference experiments use.
ISO_639_3_TO_1 = {
    "afr": "af", "amh": "am", "arb": "ar", "ara": "ar", "asm": "as", "azj": "az", "bel": "be", "ben": "bn",
    "bos": "bs", "bul": "bg", "cat": "ca", "ces": "cs", "cym": "cy", "dan": "da", "deu": "de", "ell": "el",
    "eng": "en", "est": "et", "eus": "eu", "fin": "fi", "fra": "fr", "gle": "ga", "glg": "gl", "guj": "gu",
    "heb": "he", "hin": "hi", "hrv": "hr", "hun": "hu", "hye": "hy", "ind": "id", "isl": "is", "ita": "it",
    "jpn": "ja", "kan": "kn", "kat": "ka", "kaz": "kk", "khm": "km", "kor": "ko", "lao": "lo", "lit": "lt",
    "lvs": "lv", "lav": "lv", "mal": "ml", "mar": "mr", "mkd": "mk", "mlt": "mt", "mya": "my", "nld": "nl",
    "nob": "nb", "nno": "nn", "npi": "ne", "ory": "or", "pan": "pa", "pes": "fa", "fas": "fa", "pol": "pl",
    "por": "pt", "ron": "ro", "rus": "ru", "sin": "si", "slk": "sk", "slv": "sl", "spa": "es", "srp": "sr",
    "swe": "sv", "swh": "sw", "tam": "ta", "tel": "te", "tha": "th", "tur": "tr", "ukr": "uk", "urd": "ur",
    "uzn": "uz", "vie": "vi", "zho": "zh", "cmn": "zh", "yue": "zh", "zsm": "ms", "zul": "zu", "lzh": "lzh",
}  # fmt: skip


def short_lang(code: str) -> str:
    """``deu_Latn`` / ``deu`` -> ``de``; codes that are already short or unknown are returned as given."""
    if not code:
        return code
    base = code.split("_")[0].split("-")[0]
    return ISO_639_3_TO_1.get(base.lower(), code if "_" not in code else base)


@dataclass(frozen=True)
class RowMapper:
    source: str
    kind: str
    columns: dict[str, str]  # record field -> input column, for every field read
    required: tuple[str, ...]
    optional: tuple[str, ...]  # fields read only when the input has the column
    stamp: ProvenanceStamp
    lang: str | None
    src_lang: str | None
    tgt_lang: str | None
    license: str

    @classmethod
    def for_source(
        cls,
        source: str,
        config: FilesSourceConfig | HubSourceConfig,
        stamp: ProvenanceStamp,
        *,
        columns: dict[str, str] | None = None,
        header: list[str] | None = None,
        kind: str | None = None,
        license: str | None = None,
    ) -> RowMapper:
        kind = kind or config.kind
        mapping = dict(columns if columns is not None else config.columns)
        required = REQUIRED_FIELDS[kind]
        for name in required:
            if name not in mapping:
                # A parallel file whose header names the languages ("de<TAB>fr") needs no mapping.
                lang = {"src": config.src_lang, "tgt": config.tgt_lang}.get(name, "")
                mapping[name] = lang if header and lang in header and name not in header else name
        optional: tuple[str, ...] = ()
        for name in OPTIONAL_FIELDS[kind]:
            if name not in mapping and (header is None or name in header):
                # Read when present (jsonl rows may differ); never required.
                mapping[name] = name
                optional += (name,)
        pair = kind == "translation"
        return cls(
            source=source,
            kind=kind,
            columns=mapping,
            required=required,
            optional=optional,
            stamp=stamp,
            lang=None if pair else (short_lang(config.lang) or None),
            src_lang=short_lang(config.src_lang) or None if pair else None,
            tgt_lang=short_lang(config.tgt_lang) or None if pair else None,
            license=config.license if license is None else license,
        )

    def missing_columns(self, available: list[str]) -> list[tuple[str, str]]:
        """(field, column) pairs whose column the input does not have."""
        return [(f, c) for f, c in self.columns.items() if c not in available and f not in self.optional]

    def check_columns(self, available: list[str], where: str) -> None:
        missing = self.missing_columns(available)
        if missing:
            field, column = missing[0]
            raise SynthmixError(
                f"{where}: no column {column!r} (for record field {field!r}); the input has columns "
                f'{available}; set columns = {{{field} = "<column>"}} in the recipe'
            )

    def to_record(self, row: dict[str, Any], meta: dict[str, Any]) -> Record | Rejection:
        fields: dict[str, str] = {}
        problems: list[tuple[str, str]] = []
        for name, column in self.columns.items():
            if column not in row:
                if name in self.optional:
                    continue
                problems.append(("missing_column", f"no column {column!r} (field {name!r})"))
                continue
            value = row[column]
            text = "" if value is None else str(value).strip()
            if text:
                fields[name] = text
            elif name in self.required:
                problems.append(("empty_field", f"column {column!r} (field {name!r}) is empty"))
        meta = {**meta, "license": self.license} if self.license else dict(meta)
        record = Record(
            kind=self.kind,
            origin="real",
            source=self.source,
            fields=fields,
            lang=self.lang,
            src_lang=self.src_lang,
            tgt_lang=self.tgt_lang,
            meta=meta,
            provenance=(self.stamp,),
        )
        if problems:
            reason, detail = problems[0]
            return Rejection(record, reason, _where(meta) + detail)
        return record

    def reject(self, row: dict[str, Any], meta: dict[str, Any], reason: str, detail: str) -> Rejection:
        """A row that cannot be read as it is: kept in rejected.parquet with what could be read of it."""
        item = self.to_record(row, meta)
        return Rejection(item.record if isinstance(item, Rejection) else item, reason, detail)


def _where(meta: dict[str, Any]) -> str:
    if "path" in meta and "line" in meta:
        return f"{meta['path']} line {meta['line']}: "
    if "dataset" in meta and "row" in meta:
        return f"{meta['dataset']} {meta.get('split', '')} row {meta['row']}: "
    return ""
