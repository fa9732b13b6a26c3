"""Translation-pair generator (reference experiment 1): new pairs from few-shot examples of the train split.

Request ``i`` shows ``few_shot`` pairs drawn (seeded by ``llm.seed`` and ``i``) from the seeding source's
train split, steers by topic and register, and asks for ``per_request`` new pairs as
``{"pairs": [{"src": ..., "tgt": ...}]}``. Pairs equal to a shown example, untranslated pairs and pairs in
the wrong language are rejected with a reason.
"""

from __future__ import annotations

from synth.generator import Generator, PlannedRequest, format_examples, language_name, majority
from synthmix.config.synth import SynthJobConfig
from synthmix.errors import SynthmixError
from synthmix.record import Record, normalize_text


class TranslationGenerator(Generator):
    kind = "translation"
    default_template = "translation_pairs@v1"
    list_key = "pairs"
    required = ("src", "tgt")
    copy_checked = ("src", "tgt")

    def __init__(self, name: str, job: SynthJobConfig, pool: list[Record]):
        pool = [r for r in pool if r.kind == "translation" and not r.missing_fields()]
        super().__init__(name, job, pool)
        self.src_lang = job.src_lang or majority([r.src_lang for r in self.pool])
        self.tgt_lang = job.tgt_lang or majority([r.tgt_lang for r in self.pool])
        if not self.src_lang or not self.tgt_lang:
            raise SynthmixError(
                f"synth.{name}: set src_lang and tgt_lang (source {job.from_!r} does not name its languages)"
            )

    def record_languages(self) -> dict[str, str | None]:
        return {"src_lang": self.src_lang, "tgt_lang": self.tgt_lang}

    def field_languages(self) -> dict[str, str | None]:
        return {"src": self.src_lang, "tgt": self.tgt_lang}

    def plan(self, index: int) -> PlannedRequest:
        k = min(self.job.few_shot, len(self.pool))
        shots = self.rng(index, "few_shot").sample(self.pool, k)
        steer, meta = self.steer(index)
        messages = self.template.render(
            src_name=language_name(self.src_lang),
            tgt_name=language_name(self.tgt_lang),
            n=self.job.per_request,
            examples=format_examples([{"src": r.fields["src"], "tgt": r.fields["tgt"]} for r in shots]),
            steer=steer,
        )
        shown = frozenset(normalize_text(r.fields[f]) for r in shots for f in ("src", "tgt"))
        return PlannedRequest(index, messages, tuple(r.id for r in shots), shown, meta=meta)

    def check(self, planned: PlannedRequest, fields: dict[str, str]) -> tuple[str, str]:
        if normalize_text(fields["src"]).casefold() == normalize_text(fields["tgt"]).casefold():
            return "untranslated", "src and tgt are the same text"
        return super().check(planned, fields)
