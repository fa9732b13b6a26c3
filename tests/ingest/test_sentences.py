"""Offline Punkt sentence splitting in de/fr/en and passage building."""

from __future__ import annotations

import pytest

from ingest.sentences import SentenceSplitter, build_passages


@pytest.mark.parametrize(
    ("lang", "text", "expected"),
    [
        (
            "de",
            "Gutenberg starb am 3. Februar 1468 in Mainz. Viele Städte, z. B. Bamberg, übernahmen die "
            "Technik u. a. für Bibeln. Dr. Müller schrieb darüber, usw. Im 15. Jh. entstand die Bibel.",
            [
                "Gutenberg starb am 3. Februar 1468 in Mainz.",
                "Viele Städte, z. B. Bamberg, übernahmen die Technik u. a. für Bibeln.",
                "Dr. Müller schrieb darüber, usw.",
                "Im 15. Jh. entstand die Bibel.",
            ],
        ),
        (
            "de",
            "Im 15. Jahrhundert erfand er den Buchdruck. Heinrich IV. war König. Die Stadt hat ca. 200.000 "
            "Einwohner, Lachs, Forelle etc. leben im Fluss.",
            [
                "Im 15. Jahrhundert erfand er den Buchdruck.",
                "Heinrich IV. war König.",
                "Die Stadt hat ca. 200.000 Einwohner, Lachs, Forelle etc. leben im Fluss.",
            ],
        ),
        (
            "fr",
            "Il meurt le 3 février 1468. M. Dupont a écrit, p. ex. sur l'imprimerie, etc. Le Dr. Martin est "
            "venu. Lugdunum est fondée en 43 av. J.-C. Elle devient capitale.",
            [
                "Il meurt le 3 février 1468.",
                "M. Dupont a écrit, p. ex. sur l'imprimerie, etc.",
                "Le Dr. Martin est venu.",
                "Lugdunum est fondée en 43 av. J.-C.",
                "Elle devient capitale.",
            ],
        ),
        (
            "en",
            "Dr. Smith went to Washington, D.C. in 1999. He met Mr. Jones, etc. and others. The U.S. "
            "Senate, e.g. its leaders, voted. See p. 12 for more. Bring pens, paper, etc. Then sit down.",
            [
                "Dr. Smith went to Washington, D.C. in 1999.",
                "He met Mr. Jones, etc. and others.",
                "The U.S. Senate, e.g. its leaders, voted.",
                "See p. 12 for more.",
                "Bring pens, paper, etc.",
                "Then sit down.",
            ],
        ),
    ],
)
def test_punkt_handles_abbreviations_and_dates(lang: str, text: str, expected: list[str]):
    splitter = SentenceSplitter(lang)
    assert splitter.uses_punkt
    assert splitter.split(text) == expected


def test_language_without_punkt_model_falls_back_to_punctuation():
    splitter = SentenceSplitter("vi")
    assert not splitter.uses_punkt
    assert splitter.split("Hà Nội là thủ đô. Nó rất đẹp!  Bạn có biết?") == [
        "Hà Nội là thủ đô.",
        "Nó rất đẹp!",
        "Bạn có biết?",
    ]


def test_empty_text_has_no_sentences():
    assert SentenceSplitter("de").split("   ") == []


def test_passages_respect_sentence_count_and_never_cross_sections():
    sections = [("A", [f"Satz {i} im Abschnitt A." for i in range(5)]), ("B", ["Nur ein Satz in B."])]
    passages = build_passages(sections, max_sentences=2, max_chars=0)
    assert [(p.section, p.sentences) for p in passages] == [("A", 2), ("A", 2), ("A", 1), ("B", 1)]
    assert passages[0].text == "Satz 0 im Abschnitt A. Satz 1 im Abschnitt A."
    assert passages[3].text == "Nur ein Satz in B."


def test_passages_respect_max_chars_and_keep_long_sentences_whole():
    long = "L" * 50 + "."
    sections = [("", ["Kurz eins.", "Kurz zwei.", long, "Kurz drei."])]
    passages = build_passages(sections, max_sentences=10, max_chars=25)
    assert [p.text for p in passages] == ["Kurz eins. Kurz zwei.", long, "Kurz drei."]
    assert all(len(p.text) <= 25 or p.sentences == 1 for p in passages)


def test_regional_language_tags_use_the_base_model():
    assert SentenceSplitter("de-CH").split("Im 15. Jh. entstand sie. Sie ist alt.") == [
        "Im 15. Jh. entstand sie.",
        "Sie ist alt.",
    ]


def test_extra_abbreviations_do_not_leak_into_the_shared_punkt_model():
    import punkt

    SentenceSplitter("de").split("Warm.")
    assert "jh" not in punkt.load_model("german").abbrev_types
