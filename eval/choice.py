"""Multiple choice by log-likelihood (MMLU-style), k-shot, with accuracy per category.

Input: JSONL, one question per line, in any language::

    {"question": "...", "choices": ["...", "...", "...", "..."], "answer": 2, "category": "STEM"}

``answer`` is the index of the right choice (a letter "A".."Z" or the choice text also work). Optional
``split``: items marked ``dev`` or ``train`` are only used as few-shot examples, never scored.

Each question is shown with its lettered choices through train.prompts (the same prompt format as every
other condition, shots as solved turns whose answer is the right choice's text). Every choice's text is
scored as the completion; the prediction is the choice with the highest total log-likelihood (``accuracy``)
and, as lm-evaluation-harness's ``acc_norm``, the highest log-likelihood per character. Few-shot examples
are drawn with a fixed seed from the same category when it has enough other items, else from any, and
never include the item being scored.

    from eval.choice import load_items, score_items
    result = score_items(model, tokenizer, load_items("samples/mc/mmlu_sample.jsonl"), shots=5,
                         prompt_format="plain")
    result.accuracy, result.by_category
"""

from __future__ import annotations

import json
import random
import string
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.perplexity import completion_nll
from synthmix.errors import SynthmixError
from synthmix.record import Record


@dataclass(frozen=True)
class ChoiceItem:
    id: str
    question: str
    choices: tuple[str, ...]
    answer: int
    category: str = "all"
    lang: str | None = None
    split: str = "test"


def load_items(path: str | Path) -> list[ChoiceItem]:
    """Read MMLU-style JSONL; a malformed line raises ``SynthmixError`` naming the file and line."""
    path = Path(path)
    items: list[ChoiceItem] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise SynthmixError(f"{where}: not valid JSON ({e.msg}); one question object per line") from None
        question, choices = row.get("question"), row.get("choices")
        if not isinstance(question, str) or not question.strip():
            raise SynthmixError(f"{where}: 'question' must be a non-empty string")
        if not isinstance(choices, list) or len(choices) < 2 or not all(isinstance(c, str) for c in choices):
            raise SynthmixError(f"{where}: 'choices' must be a list of at least two strings")
        items.append(
            ChoiceItem(
                id=str(row.get("id") or f"{path.stem}-{n}"),
                question=question.strip(),
                choices=tuple(c.strip() for c in choices),
                answer=_answer_index(row.get("answer"), choices, where),
                category=str(row.get("category") or row.get("subject") or "all"),
                lang=row.get("lang"),
                split=str(row.get("split") or "test"),
            )
        )
    if not items:
        raise SynthmixError(f"{path}: no questions found")
    return items


def _answer_index(answer: Any, choices: list[str], where: str) -> int:
    if isinstance(answer, int) and not isinstance(answer, bool) and 0 <= answer < len(choices):
        return answer
    if isinstance(answer, str):
        a = answer.strip()
        if len(a) == 1 and a.upper() in string.ascii_uppercase[: len(choices)]:
            return string.ascii_uppercase.index(a.upper())
        if a in choices:
            return choices.index(a)
    raise SynthmixError(
        f"{where}: 'answer' must be a choice index 0..{len(choices) - 1}, a letter or a choice's text, got {answer!r}"
    )


def as_record(item: ChoiceItem, with_answer: bool) -> Record:
    """The question with lettered choices as a QA record (so train.prompts formats it like any task)."""
    lettered = "\n".join(f"{string.ascii_uppercase[i]}. {c}" for i, c in enumerate(item.choices))
    fields = {"question": f"{item.question}\n{lettered}"}
    if with_answer:
        fields["answer"] = item.choices[item.answer]
    return Record(kind="qa", origin="real", source="multiple_choice", fields=fields, lang=item.lang)


def pick_shots(items: Sequence[ChoiceItem], target: ChoiceItem, k: int, seed: int) -> list[ChoiceItem]:
    """``k`` solved examples for ``target``: same category first, never ``target`` itself, fixed by seed."""
    if k <= 0:
        return []
    pool = [it for it in items if it.id != target.id and it.question != target.question]
    dev = [it for it in pool if it.split in ("dev", "train")]
    pool = dev or pool
    same = [it for it in pool if it.category == target.category]
    candidates = same if len(same) >= k else pool
    rng = random.Random(f"{seed}:{target.id}")
    return rng.sample(candidates, min(k, len(candidates)))


@dataclass
class ChoiceResult:
    accuracy: float
    accuracy_norm: float
    by_category: dict[str, dict[str, float]]
    samples: list[dict[str, Any]] = field(default_factory=list)


def score_items(
    model: Any,
    tokenizer: Any,
    items: Sequence[ChoiceItem],
    *,
    shots: int,
    prompt_format: str,
    system_prompt: str = "",
    seed: int = 13,
    batch_size: int = 8,
    add_special_tokens: bool = True,
    progress: bool = True,
) -> ChoiceResult:
    from train.prompts import build_prompt, completion_text

    scored = [it for it in items if it.split not in ("dev", "train")]
    prompts, continuations, owners = [], [], []
    shot_ids: dict[str, list[str]] = {}
    for item in scored:
        examples = pick_shots(items, item, shots, seed)
        shot_ids[item.id] = [e.id for e in examples]
        prompt = build_prompt(
            as_record(item, with_answer=False),
            prompt_format=prompt_format,
            tokenizer=tokenizer,
            system_prompt=system_prompt,
            shots=[as_record(e, with_answer=True) for e in examples],
        )
        for c, choice in enumerate(item.choices):
            record = Record(kind="qa", origin="real", source="mc", fields={"question": "q", "answer": choice})
            prompts.append(prompt)
            continuations.append(completion_text(record, prompt_format=prompt_format))
            owners.append((item.id, c))
    # The choice alone is scored (no EOS): choices are compared as continuations of the same prompt.
    rows = completion_nll(
        model,
        tokenizer,
        prompts,
        continuations,
        batch_size=batch_size,
        add_special_tokens=add_special_tokens,
        append_eos=False,
        progress=progress,
        desc="multiple choice",
    )
    by_item: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for (item_id, _c), row, text in zip(owners, rows, continuations, strict=True):
        by_item[item_id].append((row.logprob, row.logprob / max(1, len(text.strip()))))
    samples: list[dict[str, Any]] = []
    per_cat: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for item in scored:
        lls = by_item[item.id]
        pred = max(range(len(lls)), key=lambda c: lls[c][0])
        pred_norm = max(range(len(lls)), key=lambda c: lls[c][1])
        ok, ok_norm = int(pred == item.answer), int(pred_norm == item.answer)
        per_cat[item.category][0] += ok
        per_cat[item.category][1] += ok_norm
        per_cat[item.category][2] += 1
        samples.append(
            {
                "id": item.id,
                "category": item.category,
                "answer": item.answer,
                "prediction": pred,
                "prediction_norm": pred_norm,
                "correct": ok,
                "correct_norm": ok_norm,
                "loglik": [round(ll, 4) for ll, _ in lls],
                "shots": shot_ids[item.id],
            }
        )
    n = max(1, len(samples))
    return ChoiceResult(
        accuracy=100.0 * sum(s["correct"] for s in samples) / n,
        accuracy_norm=100.0 * sum(s["correct_norm"] for s in samples) / n,
        by_category={
            cat: {"accuracy": 100.0 * c / t, "accuracy_norm": 100.0 * cn / t, "n": t}
            for cat, (c, cn, t) in sorted(per_cat.items())
        },
        samples=samples,
    )
