"""Heuristic quality filters. Each filter is ``keep(record) -> (bool, reason)`` with named thresholds
from ``[curate.quality]`` (synthmix.config.curate.QualityConfig); the first filter that fails names the
reason the record is rejected with::

    from curate.quality import LengthRatioFilter, QualityFilters
    keep, reason = LengthRatioFilter(config).keep(record)             # one filter
    keep, reason, detail = QualityFilters(config).check(record)      # all, with the detail

Reasons: ``too_short``, ``too_long``, ``length_ratio``, ``untranslated``, ``repeated_chars``,
``repeated_lines``, ``chat_preamble``, ``refusal``, ``markup``, ``ungrounded``.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass

from synthmix.config.curate import QualityConfig
from synthmix.record import REQUIRED_FIELDS, Record

_WORD = re.compile(r"\w+", re.UNICODE)

# Chat-model wrappers around the payload, matched at the start of a side. "Here is the translation" is
# ordinary prose too ("Hier ist die Übersetzung des Vertrags."), so those forms need the colon or line
# break that introduces a payload; "Sure, here is..." is chat talk on its own.
_PAYLOAD_WORDS = (
    r"(?:translations?|answers?|responses?|versions?|questions?|pairs?|sentences?|texts?|examples?|"
    r"traductions?|réponses?|phrases?|übersetzungen|übersetzung|antworten|antwort|sätze|satz|paare|"
    r"traducción|traducciones|respuestas?|frases|traduzioni|traduzione|risposte|risposta|frasi|coppie)"
)
_PREAMBLE = re.compile(
    r"^\s*(?:"
    r"(?:sure|certainly|of course|okay|ok|absolutely)[,!.]?\s+here(?:'s| is| are)\b"
    r"|(?:here(?:'s| is| are)|voici|voilà|hier (?:ist|sind)|aquí (?:está|están|tienes)|ecco)\s+"
    r"(?:\w+\s+){0,4}?" + _PAYLOAD_WORDS + r"\b[^\n.!?]{0,60}?(?::|\n)"
    r"|(?:the\s+)?(?:translation|translated text|traduction|übersetzung|traducción)(?:\s+(?:is|in \w+))?\s*:"
    r"|以下是.{0,12}(?:翻译|译文|答案)"
    r")",
    re.IGNORECASE,
)
# Refusals in an output side. An apology alone is prose ("I'm sorry I'm late"), so each form needs the
# refusal that follows it; a pair whose source says the same is a faithful translation, not a refusal.
_REFUSAL = re.compile(
    r"(?:\bI(?:'m| am) sorry,? (?:but )?I (?:can(?:no|')t|am (?:unable|not able)|won't)\b"
    r"|\bI(?:'m| am) (?:unable|not able) to (?:help|assist|provide|translate|comply|fulfil)"
    r"|\bI can(?:no|')t (?:help|assist|provide|translate|comply|fulfil) (?:you|with|that|this)"
    r"|\bas an ai\b|\bas a (?:large )?language model\b"
    r"|\bje suis désolée?,? mais je ne peux pas\b|\ben tant qu'(?:ia|intelligence artificielle|modèle de langage)\b"
    r"|\bje ne peux pas (?:vous aider|traduire|répondre à cette)"
    r"|\bes tut mir leid,? aber ich kann\b|\bals (?:ki|künstliche intelligenz|sprachmodell)\b"
    r"|\bich kann (?:ihnen |dir )?(?:dabei |hierbei )?nicht helfen\b"
    r"|\blo siento,? pero no puedo\b|\bcomo (?:ia|modelo de lenguaje)\b"
    r"|抱歉，?我(?:无法|不能)|作为一个?(?:人工智能|AI|语言模型))",
    re.IGNORECASE,
)
# Markup or code that has no place in prose: tags, wiki/markdown syntax, code fences, code statements.
_MARKUP = re.compile(
    r"</?[A-Za-z][^<>]{0,40}>|```|\{\{|\}\}|\[\[|\]\]|&[a-z]+;|^\s*#{1,6}\s|\bdef \w+\(|\bfunction\s*\w*\(|"
    r"\breturn\b[^.\n]*;|[{}]\s*$|\)\s*;\s*$|^\s*(?:import|from) [\w.]+(?: import [\w., ]+)?(?: as \w+)?\s*$|\bprint\(|"
    r"console\.log|=>|\b(?:var|let|const) \w+ =",
    re.MULTILINE,
)
# Short function words that do not count as content when checking QA grounding (several languages).
_STOPWORDS = frozenset(
    """a an the and or of to in on at for with by from is are was were be been it its this that these those
    as not no but if then than so do does did has have had he she they we you i his her their our your what
    who whom which when where why how der die das den dem des ein eine einer eines und oder zu im in am an auf
    für mit von ist sind war waren wird werden es er sie wir ihr nicht kein wie was wer wo wann warum le la
    les un une des du de et ou à au aux en dans par pour sur est sont était il elle ils elles nous vous ne pas
    qui que quoi où quand comment pourquoi el los las unos y o del al es son en por para con""".split()  # noqa: SIM905
)


def _ratio(a: str, b: str) -> float:
    return max(len(a), len(b)) / max(1, min(len(a), len(b)))


def content_words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS and len(w) > 1]


def sides(record: Record) -> list[tuple[str, str]]:
    """(field, text) of a record's required fields: what the filters judge."""
    return [(f, record.fields.get(f, "")) for f in REQUIRED_FIELDS[record.kind]]


@dataclass(frozen=True)
class QualityFilter:
    """A filter is ``keep(record) -> (bool, reason)``; ``check`` also says why, for rejected.parquet."""

    config: QualityConfig

    def keep(self, record: Record) -> tuple[bool, str]:
        ok, reason, _ = self.check(record)
        return ok, reason

    def check(self, record: Record) -> tuple[bool, str, str]:
        raise NotImplementedError


@dataclass(frozen=True)
class LengthFilter(QualityFilter):
    """Empty, too short (``min_chars``, ``min_words``) or too long (``max_chars``) sides."""

    def check(self, record: Record) -> tuple[bool, str, str]:
        c = self.config
        for name, text in sides(record):
            n_words = len(_WORD.findall(text))
            if len(text) < c.min_chars or n_words < c.min_words:
                return False, "too_short", f"{name}: {len(text)} chars, {n_words} words"
            if len(text) > c.max_chars:
                return False, "too_long", f"{name}: {len(text)} chars > max_chars {c.max_chars}"
        return True, "", ""


@dataclass(frozen=True)
class RepetitionFilter(QualityFilter):
    """Character runs, repeated lines and looping phrases (degenerate generation)."""

    def check(self, record: Record) -> tuple[bool, str, str]:
        c = self.config
        run = re.compile(r"(.)\1{" + str(c.max_repeated_char_run - 1) + ",}", re.DOTALL)
        for name, text in sides(record):
            m = run.search(text)
            if m:
                return False, "repeated_chars", f"{name}: {len(m.group(0))}x {m.group(1)!r}"
            lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
            if len(lines) >= 3:
                repeated = sum(n - 1 for n in Counter(lines).values() if n > 1)
                if repeated / len(lines) > c.max_repeated_line_fraction:
                    return False, "repeated_lines", f"{name}: {repeated} of {len(lines)} lines repeat"
            words = _WORD.findall(text.lower())
            if len(words) >= 12:
                # Degenerate generation loops ("the the the ...", a phrase over and over).
                trigrams = [tuple(words[i : i + 3]) for i in range(len(words) - 2)]
                top = Counter(trigrams).most_common(1)[0][1]
                if top * 3 / len(words) > max(0.5, c.max_repeated_line_fraction):
                    return False, "repeated_lines", f"{name}: a 3-word phrase repeats {top} times"
        return True, "", ""


@dataclass(frozen=True)
class ChatPreambleFilter(QualityFilter):
    """Chat wrappers at the start of a side ("Here is the translation:")."""

    def check(self, record: Record) -> tuple[bool, str, str]:
        if not self.config.preambles:
            return True, "", ""
        for name, text in sides(record):
            m = _PREAMBLE.match(text)
            if m:
                return False, "chat_preamble", f"{name} starts with {m.group(0).strip()!r}"
        return True, "", ""


@dataclass(frozen=True)
class RefusalFilter(QualityFilter):
    """Refusals in the output side ("I'm sorry, but I can't", "As an AI")."""

    def check(self, record: Record) -> tuple[bool, str, str]:
        if not self.config.refusals:
            return True, "", ""
        name = {"translation": "tgt", "qa": "answer", "instruction": "response", "passage": "text"}[
            record.kind
        ]
        m = _REFUSAL.search(record.fields.get(name, ""))
        if m and record.kind == "translation" and _REFUSAL.search(record.fields.get("src", "")):
            return True, "", ""  # the source refuses too: a faithful translation of a refusal
        if m:
            return False, "refusal", f"{name} contains {m.group(0)!r}"
        return True, "", ""


@dataclass(frozen=True)
class MarkupFilter(QualityFilter):
    """Markup or code in prose (tags, wiki/markdown syntax, code statements)."""

    def check(self, record: Record) -> tuple[bool, str, str]:
        if record.kind == "instruction":
            return True, "", ""  # instructions may legitimately ask for code
        for name, text in sides(record):
            hits = _MARKUP.findall(text)
            if not hits:
                continue
            share = sum(len(h) for h in hits) / max(1, len(text))
            if share > self.config.max_markup_fraction or len(hits) >= 3:
                return False, "markup", f"{name}: {len(hits)} markup/code fragments ({share:.0%} of text)"
        return True, "", ""


@dataclass(frozen=True)
class UntranslatedFilter(QualityFilter):
    """Pairs whose target is the source, or copies it (``max_copy_similarity``)."""

    def check(self, record: Record) -> tuple[bool, str, str]:
        if record.kind != "translation":
            return True, "", ""
        src, tgt = record.fields.get("src", "").lower(), record.fields.get("tgt", "").lower()
        if len(tgt) < self.config.copy_min_chars:
            return True, "", ""  # names and numbers ("Berlin", "1984") are rightly left as they are
        if src == tgt:
            return False, "untranslated", "target identical to source"
        limit = self.config.max_copy_similarity
        # SequenceMatcher is slow; a translation shares few words with its source, so most pairs are
        # cleared by word overlap before any character comparison.
        tgt_words = _WORD.findall(tgt)
        src_words = set(_WORD.findall(src))
        shared = sum(w in src_words for w in tgt_words) / max(1, len(tgt_words))
        sim = 0.0
        if shared >= 0.5:
            sim = difflib.SequenceMatcher(None, src, tgt, autojunk=False).ratio()
        if sim > limit:
            return False, "untranslated", f"target copies the source (similarity {sim:.2f})"
        if len(tgt) >= 2 * self.config.copy_min_chars and src in tgt:
            return False, "untranslated", "target contains the source verbatim"
        return True, "", ""


@dataclass(frozen=True)
class LengthRatioFilter(QualityFilter):
    """Pairs whose longer side is more than ``max_length_ratio`` times the shorter (NeMo-Curator's)."""

    def check(self, record: Record) -> tuple[bool, str, str]:
        # Pairs only (NeMo-Curator's LengthRatioFilter): a QA answer may well be much shorter.
        if record.kind != "translation":
            return True, "", ""
        src, tgt = record.fields.get("src", ""), record.fields.get("tgt", "")
        if max(len(src), len(tgt)) < self.config.length_ratio_min_chars:
            return True, "", ""
        ratio = _ratio(src, tgt)
        if ratio > self.config.max_length_ratio:
            return False, "length_ratio", f"src/tgt length ratio {ratio:.2f} > {self.config.max_length_ratio}"
        return True, "", ""


@dataclass(frozen=True)
class GroundingFilter(QualityFilter):
    """QA answers whose content words are not in their context (``min_grounding``)."""

    def check(self, record: Record) -> tuple[bool, str, str]:
        context = record.fields.get("context")
        if record.kind != "qa" or not context:
            return True, "", ""
        answer = content_words(record.fields.get("answer", ""))
        if not answer:
            return True, "", ""
        known = set(content_words(context))
        share = sum(w in known for w in answer) / len(answer)
        if share < self.config.min_grounding:
            return False, "ungrounded", f"{share:.0%} of answer content words in the context"
        return True, "", ""


# Specific faults (loops, preambles, refusals, markup) come before the ratio test they would also trip, so
# the reason names the real cause.
FILTERS: tuple[type[QualityFilter], ...] = (
    LengthFilter,
    RepetitionFilter,
    ChatPreambleFilter,
    RefusalFilter,
    MarkupFilter,
    UntranslatedFilter,
    LengthRatioFilter,
    GroundingFilter,
)


class QualityFilters:
    """Every quality filter in order; the first that fails names the reason."""

    def __init__(self, config: QualityConfig) -> None:
        self.config = config
        self.filters = tuple(cls(config) for cls in FILTERS)

    def keep(self, record: Record) -> tuple[bool, str]:
        ok, reason, _ = self.check(record)
        return ok, reason

    def check(self, record: Record) -> tuple[bool, str, str]:
        for f in self.filters:
            ok, reason, detail = f.check(record)
            if not ok:
                return ok, reason, detail
        return True, "", ""
