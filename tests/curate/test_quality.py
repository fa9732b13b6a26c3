"""Every quality filter with records that must pass and records that must fail."""

from __future__ import annotations

import pytest

from curate.quality import QualityFilters
from synthmix.config.curate import QualityConfig
from synthmix.record import Record

FILTERS = QualityFilters(QualityConfig())


def pair(src: str, tgt: str) -> Record:
    return Record(kind="translation", origin="synthetic", source="s", fields={"src": src, "tgt": tgt})


def qa(question: str, answer: str, context: str | None = None) -> Record:
    fields = {"question": question, "answer": answer}
    if context:
        fields["context"] = context
    return Record(kind="qa", origin="synthetic", source="s", fields=fields, lang="de")


GOOD = [
    pair("Ich stehe jeden Morgen um halb sieben auf.", "Je me lève tous les matins à six heures et demie."),
    pair("Berlin", "Berlin"),  # names stay as they are
    pair("Ist 3 < 4?", "Est-ce que 3 < 4 ?"),
    qa(
        "Wo wurde Gutenberg geboren?",
        "Gutenberg wurde in Mainz geboren.",
        "Johannes Gutenberg wurde um 1400 in Mainz geboren und erfand den Buchdruck.",
    ),
    Record(kind="passage", origin="real", source="w", fields={"text": "Mainz liegt am Rhein.\nEs ist alt."}),
    # Prose that looks like chat talk, refusals or code to a careless pattern.
    pair("Hier ist es schön.", "C'est beau ici."),
    pair("Hier ist die Übersetzung des Vertrags.", "Voici la traduction du contrat."),
    pair("Es tut mir leid, ich kann dir nicht helfen.", "Je suis désolé, mais je ne peux pas t'aider."),
    pair("Er sagte, dass es ihm leid tut.", "He said: I'm sorry for being late."),
    pair(
        "Das Land musste Waren importieren; die Preise stiegen.",
        "The country had to import goods; prices rose.",
    ),
    pair("Sicher, ich komme morgen.", "Sure, I will come tomorrow."),
]


@pytest.mark.parametrize("record", GOOD, ids=lambda r: r.fields.get("src") or r.kind)
def test_good_records_pass(record: Record) -> None:
    assert FILTERS.check(record) == (True, "", "")


BAD = [
    ("too_short", pair("Hallo Welt", "")),
    ("too_long", pair("Hallo " * 900, "Bonjour " * 900)),
    (
        "length_ratio",
        pair("Ja.", "Oui, bien sûr, je viendrai demain matin avec toute ma famille et nos amis."),
    ),
    ("untranslated", pair("Das ist ein schöner Tag heute.", "Das ist ein schöner Tag heute.")),
    ("untranslated", pair("Das ist ein schöner Tag heute.", "Das ist ein schöner Tag heute!")),
    ("repeated_chars", pair("Wunderbar!", "Merveilleux !!!!!!!!!!!!!!!!!!!!!!!!")),
    (
        "repeated_lines",
        Record(kind="passage", origin="real", source="w", fields={"text": "A b.\nA b.\nA b.\nC d."}),
    ),
    ("repeated_lines", pair("Er sagt immer das Gleiche.", " ".join(["il dit que"] * 8))),
    ("chat_preamble", pair("Guten Morgen.", "Here is the translation: Bonjour.")),
    ("chat_preamble", pair("Guten Morgen, Anna.", "Voici la traduction : Bonjour, Anna.")),
    ("chat_preamble", pair("Hier ist die Übersetzung: Guten Morgen.", "Bonjour à tous.")),
    ("chat_preamble", pair("Gute Nacht, mein Freund.", "Sure, here is the French version: Bonne nuit.")),
    ("refusal", pair("Wie baue ich eine Bombe?", "I'm sorry, but I can't help with that request.")),
    ("refusal", qa("Was denkst du?", "As an AI language model, I do not have opinions.")),
    ("markup", pair("Der Text ist hier.", "<div class='x'>Le texte</div> est <span>ici</span>.")),
    ("markup", pair("Die Funktion gibt den Wert zurück.", "def f(x):\n    return x;\nprint(f(1))")),
    ("markup", qa("Wie lade ich numpy?", "import numpy as np\nimport os")),
    ("chat_preamble", pair("Gute Nacht.", "Certainly! Here are the pairs:\n1. Bonne nuit.")),
    ("chat_preamble", pair("Gute Nacht.", "Translation: Bonne nuit.")),
    (
        "ungrounded",
        qa(
            "Wo wurde Gutenberg geboren?",
            "Er wurde in Paris als Sohn eines Bäckers geboren.",
            "Johannes Gutenberg wurde um 1400 in Mainz geboren und erfand den Buchdruck.",
        ),
    ),
]


@pytest.mark.parametrize(("reason", "record"), BAD, ids=[f"{i}-{r}" for i, (r, _) in enumerate(BAD)])
def test_bad_records_fail_with_reason(reason: str, record: Record) -> None:
    ok, got, detail = FILTERS.check(record)
    assert not ok
    assert got == reason, detail
    assert detail


def test_thresholds_come_from_config() -> None:
    long_ratio = pair("Ja, gerne.", "Oui, bien sûr, avec grand plaisir, mon ami.")
    assert not QualityFilters(QualityConfig(length_ratio_min_chars=5)).check(long_ratio)[0]
    assert QualityFilters(QualityConfig(length_ratio_min_chars=5, max_length_ratio=6.0)).check(long_ratio)[0]
    ungrounded = BAD[-1][1]
    assert QualityFilters(QualityConfig(min_grounding=0.0)).check(ungrounded)[0]
    preamble = BAD[8][1]
    assert QualityFilters(QualityConfig(preambles=False)).check(preamble)[0]


def test_each_filter_is_keep_record_to_bool_and_reason() -> None:
    from curate.quality import FILTERS, LengthRatioFilter, UntranslatedFilter

    config = QualityConfig()
    assert LengthRatioFilter(config).keep(GOOD[0]) == (True, "")
    assert LengthRatioFilter(config).keep(BAD[2][1]) == (False, "length_ratio")
    assert UntranslatedFilter(config).keep(BAD[3][1]) == (False, "untranslated")
    # Every reason a record fails with comes from exactly one filter, and every filter passes good records.
    for reason, record in BAD:
        failing = [cls.__name__ for cls in FILTERS if cls(config).keep(record) == (False, reason)]
        assert failing, reason
    for record in GOOD:
        assert all(cls(config).keep(record) == (True, "") for cls in FILTERS)
