from __future__ import annotations

from curate.normalize import clean_text, normalize_record
from synthmix.record import Record


def test_clean_text_removes_invisibles_entities_and_markup() -> None:
    raw = "\ufeffDas\u00a0ist&nbsp;ein <b>Test</b>&amp;amp;mehr\u200b\u00ad.  <br/>Zweite\tZeile\x07"
    assert clean_text(raw) == "Das ist ein Test &mehr.\nZweite Zeile"


def test_clean_text_is_nfc_and_keeps_prose_less_than() -> None:
    decomposed = "Cafe\u0301 3 < 4"
    assert clean_text(decomposed) == "Café 3 < 4"
    assert clean_text("  a \n\n\n b  ") == "a\nb"


def _qa(answer: str) -> Record:
    return Record(kind="qa", origin="real", source="s", fields={"question": "Wer?", "answer": answer})


def test_normalize_keeps_original_only_when_changed() -> None:
    clean = _qa("Gutenberg.")
    same, reason, _ = normalize_record(clean)
    assert reason == "" and same.id == clean.id and "original_fields" not in same.meta
    dirty = _qa("Guten\u200bberg&#46;")
    fixed, reason, _ = normalize_record(dirty)
    assert reason == ""
    assert fixed.fields["answer"] == "Gutenberg."
    assert fixed.id == clean.id  # cleaned text has the clean record's content id
    assert fixed.meta["original_fields"]["answer"] == "Guten\u200bberg&#46;"


def test_normalize_rejects_unrepairable_records_with_reasons() -> None:
    assert normalize_record(_qa("a\x00b"))[1] == "null_bytes"
    stripped, reason, _ = normalize_record(_qa("a\x00b"), null_bytes="strip")
    assert reason == "" and stripped.fields["answer"] == "ab"
    assert normalize_record(_qa("x" * 50), max_record_chars=20)[1] == "too_large"
    _rec, reason, detail = normalize_record(_qa("\u200b <p></p> "))
    assert reason == "missing_field" and "answer" in detail
