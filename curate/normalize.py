"""Text normalization and basic validity, the first curate stage (applies to every split).

``clean_text`` turns raw text into the form every later stage sees: HTML entities decoded, leftover markup
tags removed, invisible characters (zero-width, soft hyphen, BOM, bidi marks, control characters) dropped,
Unicode NFC, whitespace runs collapsed (newlines kept as line breaks, since repeated-line filters and
passages need them). ``normalize_record`` applies it to every payload field, keeps the original fields in
``meta["original_fields"]`` only when something changed, and rejects records that cannot be repaired::

    from curate.normalize import normalize_record
    record, reason, detail = normalize_record(record, null_bytes="reject", max_record_chars=100_000)
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import replace

from synthmix.record import Record, make_id

# Zero-width space/joiners, word joiner, soft hyphen, BOM, bidi marks and isolates, invisible operators.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064"
    "\u2066-\u206f\ufeff\ufe00-\ufe0f]"
)
# C0/C1 control characters except tab and newline (null bytes are handled before, by policy).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Tags that survived HTML extraction: <br>, </p>, <span class="x">, <!-- comments -->. A lone "<" in prose
# ("3 < 4") does not match because a tag name must follow it directly.
_TAG = re.compile(r"<!--.*?-->|</?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?>", re.DOTALL)
_BREAK_TAG = re.compile(r"<(?:br|/p|/div|/li|/h[1-6])\s*/?>", re.IGNORECASE)
_SPACES = re.compile(r"[^\S\n]+")
_NEWLINES = re.compile(r"\s*\n\s*")


def clean_text(text: str) -> str:
    """Canonical text for curation: entities, tags and invisible characters gone, NFC, tidy whitespace."""
    if "&" in text:
        # Twice: scraped text is often double-escaped ("&amp;amp;").
        text = html.unescape(html.unescape(text))
    if "<" in text:
        text = _BREAK_TAG.sub("\n", text)
        text = _TAG.sub(" ", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub(" ", text)
    text = unicodedata.normalize("NFC", text)
    # Non-breaking and other exotic spaces become plain spaces; newlines are kept, one at a time.
    text = _SPACES.sub(" ", text)
    text = _NEWLINES.sub("\n", text)
    return text.strip()


def normalize_record(
    record: Record, *, null_bytes: str = "reject", max_record_chars: int = 100_000, clean: bool = True
) -> tuple[Record, str, str]:
    """Clean a record's fields. Returns ``(record, reason, detail)``; ``reason`` is empty when kept.

    Reasons: ``too_large`` (payload over ``max_record_chars``), ``null_bytes`` (under the reject policy),
    ``missing_field`` (a required field absent or blank after cleaning).
    """
    size = sum(len(v) for v in record.fields.values() if v)
    if size > max_record_chars:
        return record, "too_large", f"{size} payload characters > max_record_chars {max_record_chars}"
    has_null = [name for name, v in record.fields.items() if v and "\x00" in v]
    if has_null and null_bytes == "reject":
        return record, "null_bytes", f"null bytes in {', '.join(sorted(has_null))}"
    fields = dict(record.fields)
    if has_null:
        fields = {k: v.replace("\x00", "") if v else v for k, v in fields.items()}
    if clean:
        fields = {k: clean_text(v) if v else v for k, v in fields.items()}
    fields = {k: v for k, v in fields.items() if v}
    if fields != record.fields:
        meta = dict(record.meta)
        meta["original_fields"] = dict(sorted(record.fields.items()))
        record = replace(record, fields=fields, meta=meta, id=make_id(record.kind, fields))
    missing = record.missing_fields()
    if missing:
        return record, "missing_field", f"required field(s) empty or absent: {', '.join(missing)}"
    return record, "", ""
