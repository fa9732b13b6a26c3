"""From records to training batches: completion-only labels, truncation accounting, packing, padding.

Each record becomes ``prompt tokens + completion tokens + EOS``; the prompt is labelled -100 so the loss
covers the answer only. An example longer than ``max_length`` keeps its whole prompt and loses the end of
its completion (counted as truncated); one whose prompt alone fills ``max_length`` has nothing left to learn
from and is dropped (counted as ``prompt_too_long``).

Two ways to cut padding: length grouping (the Trainer's sampler sorts within mega-batches) and packing.
Packing puts whole examples into rows of ``max_length`` (first-fit decreasing) with ``position_ids`` that
restart at every example; transformers turns restarting positions into a block-diagonal attention mask, so
packed examples never attend to each other.

    from train.collate import tokenize_records, pack_examples, CompletionCollator
    examples, stats = tokenize_records(records, tokenizer, prompt_format="plain", max_length=512)
    batch = CompletionCollator(tokenizer.pad_token_id)(examples[:4])
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from synthmix.errors import SynthmixError
from synthmix.record import Record
from train.prompts import adds_special_tokens, build_prompt, completion_text

IGNORE_INDEX = -100


@dataclass
class TokenStats:
    """What tokenization did to a split: how many examples were cut or dropped, and token counts."""

    examples: int = 0
    truncated: int = 0
    prompt_too_long: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    by_source: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def tokenize_example(
    record: Record,
    tokenizer: Any,
    *,
    prompt_format: str,
    max_length: int,
    system_prompt: str = "",
    max_target_length: int = 0,
) -> tuple[dict[str, Any] | None, str]:
    """``({"input_ids", "labels", "source"}, status)``; status is ok | truncated | prompt_too_long.

    ``max_target_length`` (> 0) caps the answer on its own, like a source/target length pair.
    """
    prompt = build_prompt(
        record, prompt_format=prompt_format, tokenizer=tokenizer, system_prompt=system_prompt
    )
    prompt_ids: list[int] = (
        tokenizer(prompt, add_special_tokens=adds_special_tokens(prompt_format))["input_ids"]
        if prompt
        else []
    )
    completion_ids: list[int] = tokenizer(
        completion_text(record, prompt_format=prompt_format), add_special_tokens=False
    )["input_ids"]
    # EOS teaches the model to stop after the answer (generation would run on otherwise).
    if tokenizer.eos_token_id is not None:
        completion_ids = [*completion_ids, tokenizer.eos_token_id]
    if len(prompt_ids) >= max_length:
        return None, "prompt_too_long"
    status = "ok"
    if max_target_length and len(completion_ids) > max_target_length:
        completion_ids = completion_ids[:max_target_length]
        status = "truncated"
    if len(prompt_ids) + len(completion_ids) > max_length:
        completion_ids = completion_ids[: max_length - len(prompt_ids)]
        status = "truncated"
    return {
        "input_ids": prompt_ids + completion_ids,
        "labels": [IGNORE_INDEX] * len(prompt_ids) + completion_ids,
        "source": record.source,
    }, status


def tokenize_records(
    records: Sequence[Record],
    tokenizer: Any,
    *,
    prompt_format: str,
    max_length: int,
    system_prompt: str = "",
    max_target_length: int = 0,
) -> tuple[list[dict[str, Any]], TokenStats]:
    """Tokenized examples (records whose prompt fills ``max_length`` are left out) and their stats."""
    examples: list[dict[str, Any]] = []
    stats = TokenStats()
    for record in records:
        ex, status = tokenize_example(
            record,
            tokenizer,
            prompt_format=prompt_format,
            max_length=max_length,
            system_prompt=system_prompt,
            max_target_length=max_target_length,
        )
        if ex is None:
            stats.prompt_too_long += 1
            continue
        stats.truncated += status == "truncated"
        n_prompt = sum(1 for label in ex["labels"] if label == IGNORE_INDEX)
        stats.prompt_tokens += n_prompt
        stats.completion_tokens += len(ex["labels"]) - n_prompt
        stats.by_source[record.source] = stats.by_source.get(record.source, 0) + 1
        examples.append(ex)
    stats.examples = len(examples)
    return examples, stats


def pack_examples(examples: Sequence[dict[str, Any]], max_length: int) -> list[dict[str, Any]]:
    """Whole examples packed into rows of at most ``max_length`` tokens (best-fit decreasing).

    Each row carries ``position_ids`` restarting at 0 for every example, which keeps examples independent.
    Deterministic; O(n log n) through a sorted list of free room, so a million examples pack in seconds.
    """
    order = sorted(range(len(examples)), key=lambda i: (-len(examples[i]["input_ids"]), i))
    rows: list[dict[str, Any]] = []
    free: list[tuple[int, int]] = []  # (room left, row index), sorted
    for i in order:
        ex = examples[i]
        n = len(ex["input_ids"])
        k = bisect.bisect_left(free, (n, -1))  # the fullest row that still has room for this example
        if k < len(free):
            room, slot = free.pop(k)
        else:
            rows.append({"input_ids": [], "labels": [], "position_ids": [], "source": ex["source"]})
            room, slot = max_length, len(rows) - 1
        row = rows[slot]
        row["input_ids"] += ex["input_ids"]
        row["labels"] += ex["labels"]
        row["position_ids"] += list(range(n))
        if room - n > 0:
            bisect.insort(free, (room - n, slot))
    return rows


@dataclass
class CompletionCollator:
    """Right-pads a list of examples into tensors; fails loudly when a batch has nothing to learn from.

    Packed rows (with ``position_ids``) get no attention mask: transformers derives the block-diagonal
    mask from the restarting positions, and the padding is a separate block of its own.
    """

    pad_token_id: int
    pad_to_multiple_of: int | None = None

    def __call__(self, features: Sequence[dict[str, Any]]) -> dict[str, Any]:
        import torch

        longest = max(len(f["input_ids"]) for f in features)
        if self.pad_to_multiple_of:
            m = self.pad_to_multiple_of
            longest = -(-longest // m) * m
        packed = "position_ids" in features[0]
        input_ids, labels, second = [], [], []
        for f in features:
            n_pad = longest - len(f["input_ids"])
            input_ids.append(list(f["input_ids"]) + [self.pad_token_id] * n_pad)
            labels.append(list(f["labels"]) + [IGNORE_INDEX] * n_pad)
            if packed:
                second.append(list(f["position_ids"]) + list(range(n_pad)))
            else:
                second.append([1] * len(f["input_ids"]) + [0] * n_pad)
        label_tensor = torch.tensor(labels, dtype=torch.long)
        if not bool((label_tensor != IGNORE_INDEX).any()):
            raise SynthmixError(
                "every label in a training batch is masked (prompt tokens only): the prompts fill "
                "train.max_length or the targets are empty; raise train.max_length or check the mix "
                "(synthmix train --show-masking prints one example)"
            )
        batch = {"input_ids": torch.tensor(input_ids, dtype=torch.long), "labels": label_tensor}
        key = "position_ids" if packed else "attention_mask"
        batch[key] = torch.tensor(second, dtype=torch.long)
        return batch


def padding_share(batches: Sequence[Sequence[dict[str, Any]]]) -> float:
    """Share of positions that would be padding when each list of examples is collated into one batch."""
    total = real = 0
    for batch in batches:
        lengths = [len(f["input_ids"]) for f in batch]
        total += max(lengths) * len(lengths)
        real += sum(lengths)
    return (total - real) / total if total else 0.0


def render_masking(example: dict[str, Any], tokenizer: Any, *, color: bool = False) -> str:
    """One example as text with its masked (prompt) span marked: ``[[masked]]`` or dim on a terminal."""
    out: list[str] = []
    masked_run: list[int] = []
    learned_run: list[int] = []

    def flush() -> None:
        if masked_run:
            text = tokenizer.decode(masked_run)
            out.append(f"\x1b[2m{text}\x1b[0m" if color else f"[[{text}]]")
            masked_run.clear()
        if learned_run:
            out.append(tokenizer.decode(learned_run))
            learned_run.clear()

    for tok, label in zip(example["input_ids"], example["labels"], strict=True):
        if label == IGNORE_INDEX:
            if learned_run:
                flush()
            masked_run.append(tok)
        else:
            if masked_run:
                flush()
            learned_run.append(tok)
    flush()
    n_masked = sum(1 for label in example["labels"] if label == IGNORE_INDEX)
    legend = "dim" if color else "[[...]]"
    return (
        "".join(out)
        + f"\n-- {len(example['labels'])} tokens: {n_masked} masked prompt tokens (shown {legend}), "
        f"{len(example['labels']) - n_masked} trained completion tokens (incl. EOS)"
    )
