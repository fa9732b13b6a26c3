"""Instruction/chat generator: new instruction-response pairs in one language, few-shot from any source.

Request ``i`` shows ``few_shot`` examples drawn (seeded) from the seeding source's train split, read as
input/output pairs of their kind (instruction/response, question/answer, src/tgt), and asks for
``per_request`` new pairs as ``{"items": [{"instruction": ..., "response": ...}]}``.
"""

from __future__ import annotations

from synth.generator import Generator, PlannedRequest, format_examples, language_name, majority
from synthmix.config.synth import SynthJobConfig
from synthmix.record import INPUT_FIELDS, OUTPUT_FIELDS, Record, normalize_text


class InstructionGenerator(Generator):
    kind = "instruction"
    default_template = "instruction@v1"
    list_key = "items"
    required = ("instruction", "response")
    copy_checked = ("instruction", "response")

    def __init__(self, name: str, job: SynthJobConfig, pool: list[Record]):
        super().__init__(name, job, [r for r in pool if r.kind != "passage" and not r.missing_fields()])
        self.lang = job.lang or majority([r.lang or r.tgt_lang for r in self.pool])

    def record_languages(self) -> dict[str, str | None]:
        return {"lang": self.lang}

    def field_languages(self) -> dict[str, str | None]:
        return {"instruction": self.lang, "response": self.lang}

    def plan(self, index: int) -> PlannedRequest:
        k = min(self.job.few_shot, len(self.pool))
        shots = self.rng(index, "few_shot").sample(self.pool, k)
        pairs = [
            {"instruction": r.fields[INPUT_FIELDS[r.kind]], "response": r.fields[OUTPUT_FIELDS[r.kind]]}
            for r in shots
        ]
        steer, meta = self.steer(index)
        messages = self.template.render(
            lang_name=language_name(self.lang),
            n=self.job.per_request,
            examples=format_examples(pairs),
            steer=steer,
        )
        shown = frozenset(normalize_text(p[f]) for p in pairs for f in ("instruction", "response"))
        return PlannedRequest(index, messages, tuple(r.id for r in shots), shown, meta=meta)
