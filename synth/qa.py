"""QA generator: questions answerable from one passage, answers grounded in it; parent = the passage id.

Request ``i`` takes passage ``i mod n`` of a seeded shuffle of the seeding source's train passages and asks
for ``per_request`` question-answer pairs of the configured ``question_types`` as
``{"qa": [{"question": ..., "answer": ...}]}``. Records carry ``context`` = the passage text. Questions that
copy a passage sentence, answers that share too little with the passage (ungrounded) and text in the
wrong language are rejected with a reason.
"""

from __future__ import annotations

import re

from synth.generator import Generator, PlannedRequest, language_name, majority
from synthmix.config.synth import SynthJobConfig
from synthmix.errors import SynthmixError
from synthmix.record import Record, normalize_text

_WORD = re.compile(r"\w+", re.UNICODE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# Share of an answer's content words that must occur in the passage (prefix match tolerates inflection).
MIN_GROUNDING = 0.5
_PREFIX = 5


def content_words(text: str) -> list[str]:
    return [w.casefold()[:_PREFIX] for w in _WORD.findall(text) if len(w) >= 4 or w.isdigit()]


def grounding(answer: str, passage: str) -> float:
    """Fraction of the answer's content words found in the passage (1.0 when it has none to check)."""
    words = content_words(answer)
    if not words:
        return 1.0
    known = set(content_words(passage))
    return sum(w in known for w in words) / len(words)


class QAGenerator(Generator):
    kind = "qa"
    default_template = "qa_from_passage@v1"
    list_key = "qa"
    required = ("question", "answer")
    copy_checked = ("question",)

    def __init__(self, name: str, job: SynthJobConfig, pool: list[Record]):
        passages = [r for r in pool if r.kind == "passage" and (r.fields.get("text") or "").strip()]
        if not passages:
            passages = [r for r in pool if (r.fields.get("context") or "").strip()]
        if not passages and pool:
            raise SynthmixError(
                f"synth.{name}.from: a qa job needs passages (or records with a context); "
                f"source {job.from_!r} has {pool[0].kind} records"
            )
        super().__init__(name, job, passages)
        self.lang = job.lang or majority([r.lang for r in self.pool])
        order = list(self.pool)
        self.rng(0, "passage_order").shuffle(order)
        self.order = order

    def record_languages(self) -> dict[str, str | None]:
        return {"lang": self.lang}

    def field_languages(self) -> dict[str, str | None]:
        return {"question": self.lang, "answer": self.lang}

    @staticmethod
    def passage_text(record: Record) -> str:
        return record.fields.get("text") or record.fields.get("context") or ""

    def plan(self, index: int) -> PlannedRequest:
        passage = self.order[index % len(self.order)]
        text = self.passage_text(passage)
        title = str(passage.meta.get("title") or passage.meta.get("page_title") or "")
        messages = self.template.render(
            lang_name=language_name(self.lang),
            n=self.job.per_request,
            question_types=", ".join(self.job.question_types) or "factual",
            title=title or "an encyclopedia article",
            passage=text,
        )
        shown = frozenset(normalize_text(s) for s in _SENTENCE_END.split(text) if s.strip())
        meta = {"passage_id": passage.id}
        if title:
            meta["passage_title"] = title
        if passage.meta.get("url"):
            meta["passage_url"] = str(passage.meta["url"])
        return PlannedRequest(index, messages, (passage.id,), shown | {normalize_text(text)}, text, meta)

    def to_fields(self, planned: PlannedRequest, item: dict[str, str]) -> dict[str, str]:
        return {"question": item["question"], "answer": item["answer"], "context": planned.context}

    def check(self, planned: PlannedRequest, fields: dict[str, str]) -> tuple[str, str]:
        reason, detail = super().check(planned, {k: fields[k] for k in self.required})
        if reason:
            return reason, detail
        share = grounding(fields["answer"], planned.context)
        if share < MIN_GROUNDING:
            return "ungrounded", f"only {share:.0%} of the answer's content words occur in the passage"
        return "", ""
