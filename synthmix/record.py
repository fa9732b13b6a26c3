"""The one record type that flows through every synthmix stage.

A ``Record`` is a translation pair, a QA pair, an instruction/response pair or a passage. Its ``id`` is
derived from its content (kind + normalized fields), so the same text gets the same id in every run and
every version: dedup, decontamination and provenance all rely on that. The Arrow schema below is the
on-disk contract documented in docs/data-format.md.

    from synthmix.record import Record
    r = Record(kind="translation", origin="real", source="flores",
               fields={"src": "Guten Tag.", "tgt": "Bonjour."}, src_lang="de", tgt_lang="fr")
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Any

import pyarrow as pa

KINDS = ("translation", "qa", "instruction", "passage")
ORIGINS = ("real", "synthetic")
SPLITS = ("train", "dev", "test")

# Every payload field any kind may carry; the Parquet struct has all of them so one schema fits all kinds.
FIELD_NAMES = ("src", "tgt", "question", "answer", "context", "instruction", "response", "text")
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "translation": ("src", "tgt"),
    "qa": ("question", "answer"),
    "instruction": ("instruction", "response"),
    "passage": ("text",),
}
# The side(s) of a record that a model reads vs. produces; curate and train use these.
INPUT_FIELDS = {"translation": "src", "qa": "question", "instruction": "instruction", "passage": "text"}
OUTPUT_FIELDS = {"translation": "tgt", "qa": "answer", "instruction": "response", "passage": "text"}

ID_LENGTH = 20  # hex chars of sha256: 80 bits, collision-free far beyond any corpus this tool builds

_SPACE = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """Canonical form used for ids and exact dedup: NFC, collapsed whitespace, stripped."""
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def make_id(kind: str, fields: dict[str, str]) -> str:
    """Content-derived id: the same kind and normalized fields give the same id, always."""
    canonical = {k: normalize_text(v) for k, v in sorted(fields.items()) if v is not None}
    payload = json.dumps([kind, canonical], ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:ID_LENGTH]


@dataclass(frozen=True, slots=True)
class ProvenanceStamp:
    """What one stage did to a record: which stage, code version, config hash and parent record ids."""

    stage: str
    version: str
    config_hash: str
    parents: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "version": self.version,
            "config_hash": self.config_hash,
            "parents": list(self.parents),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ProvenanceStamp:
        return cls(d["stage"], d["version"], d["config_hash"], tuple(d.get("parents") or ()))


@dataclass(slots=True)
class Record:
    """One training or evaluation example with its provenance.

    ``fields`` holds the payload (see ``REQUIRED_FIELDS``); ``meta`` holds JSON-serializable facts about
    where it came from (url, revid, license, generator model, prompt hash, tokens...). ``id`` is computed
    from ``kind`` and ``fields`` when not given; pass it only when reading records back.
    """

    kind: str
    origin: str
    source: str
    fields: dict[str, str]
    split: str = "train"
    lang: str | None = None
    src_lang: str | None = None
    tgt_lang: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    provenance: tuple[ProvenanceStamp, ...] = ()
    id: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"record kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.origin not in ORIGINS:
            raise ValueError(f"record origin {self.origin!r} is not one of {', '.join(ORIGINS)}")
        if self.split not in SPLITS:
            raise ValueError(f"record split {self.split!r} is not one of {', '.join(SPLITS)}")
        unknown = set(self.fields) - set(FIELD_NAMES)
        if unknown:
            raise ValueError(f"record field(s) {sorted(unknown)} not in {FIELD_NAMES}")
        if not self.id:
            self.id = make_id(self.kind, self.fields)

    def missing_fields(self) -> list[str]:
        """Required payload fields that are absent or blank (a record with any is rejected by curate)."""
        return [f for f in REQUIRED_FIELDS[self.kind] if not (self.fields.get(f) or "").strip()]

    def languages(self) -> dict[str, str | None]:
        """Expected language of every payload side: pairs have two, everything else shares ``lang``."""
        if self.kind == "translation":
            return {"src": self.src_lang, "tgt": self.tgt_lang}
        return {name: self.lang for name in self.fields if self.fields.get(name)}

    def with_stamp(self, stamp: ProvenanceStamp, **changes: Any) -> Record:
        """A copy with ``changes`` applied and one more provenance stamp; the id follows the content."""
        new = replace(self, provenance=(*self.provenance, stamp), **changes)
        if "fields" in changes or "kind" in changes:
            new.id = make_id(new.kind, new.fields)
        return new

    def to_row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "origin": self.origin,
            "source": self.source,
            "split": self.split,
            "lang": self.lang,
            "src_lang": self.src_lang,
            "tgt_lang": self.tgt_lang,
            "fields": {name: self.fields.get(name) for name in FIELD_NAMES},
            "meta": json.dumps(self.meta, ensure_ascii=False, sort_keys=True),
            "provenance": [s.to_dict() for s in self.provenance],
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Record:
        return cls(
            id=row["id"],
            kind=row["kind"],
            origin=row["origin"],
            source=row["source"],
            split=row["split"],
            lang=row.get("lang"),
            src_lang=row.get("src_lang"),
            tgt_lang=row.get("tgt_lang"),
            fields={k: v for k, v in (row.get("fields") or {}).items() if v is not None},
            meta=json.loads(row["meta"]) if row.get("meta") else {},
            provenance=tuple(ProvenanceStamp.from_dict(s) for s in row.get("provenance") or ()),
        )


_STAMP_TYPE = pa.struct(
    [
        ("stage", pa.string()),
        ("version", pa.string()),
        ("config_hash", pa.string()),
        ("parents", pa.list_(pa.string())),
    ]
)

RECORD_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("kind", pa.string()),
        ("origin", pa.string()),
        ("source", pa.string()),
        ("split", pa.string()),
        ("lang", pa.string()),
        ("src_lang", pa.string()),
        ("tgt_lang", pa.string()),
        ("fields", pa.struct([(name, pa.string()) for name in FIELD_NAMES])),
        # meta is heterogeneous (nested sampling params, token counts...): JSON keeps it lossless.
        ("meta", pa.string()),
        ("provenance", pa.list_(_STAMP_TYPE)),
    ]
)

REJECTED_SCHEMA = RECORD_SCHEMA.append(pa.field("reason", pa.string())).append(
    pa.field("detail", pa.string())
)


def records_to_table(records: list[Record]) -> pa.Table:
    return pa.Table.from_pylist([r.to_row() for r in records], schema=RECORD_SCHEMA)


def table_to_records(table: pa.Table) -> list[Record]:
    return [Record.from_row(row) for row in table.to_pylist()]
