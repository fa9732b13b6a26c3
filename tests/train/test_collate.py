"""Completion-only labels, truncation accounting, packing and the all-masked check, on the tiny tokenizer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from synthmix.errors import SynthmixError
from synthmix.record import Record
from tests.train.conftest import pair_records
from train.collate import (
    IGNORE_INDEX,
    CompletionCollator,
    pack_examples,
    padding_share,
    render_masking,
    tokenize_example,
    tokenize_records,
)
from train.prompts import build_prompt


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


def test_prompt_tokens_are_masked_and_eos_ends_the_completion(tokenizer: Any) -> None:
    record = pair_records()[0]
    ex, status = tokenize_example(record, tokenizer, prompt_format="plain", max_length=64)
    assert status == "ok" and ex is not None
    n_prompt = len(tokenizer(build_prompt(record, prompt_format="plain"))["input_ids"])
    assert ex["labels"][:n_prompt] == [IGNORE_INDEX] * n_prompt
    learned = ex["labels"][n_prompt:]
    assert IGNORE_INDEX not in learned
    assert learned[-1] == tokenizer.eos_token_id
    assert tokenizer.decode(learned[:-1]) == "Bonjour."
    assert ex["input_ids"][n_prompt:] == learned


@pytest.mark.parametrize("fmt", ["inst", "human_assistant", "chatml", "chat_template"])
def test_masked_span_is_exactly_the_prompt_in_every_format(tokenizer: Any, fmt: str) -> None:
    record = pair_records()[1]
    ex, _ = tokenize_example(record, tokenizer, prompt_format=fmt, max_length=128)
    assert ex is not None
    masked = [t for t, lab in zip(ex["input_ids"], ex["labels"], strict=True) if lab == IGNORE_INDEX]
    prompt = build_prompt(record, prompt_format=fmt, tokenizer=tokenizer)
    assert tokenizer.decode(masked) == prompt
    learned = tokenizer.decode([lab for lab in ex["labels"] if lab != IGNORE_INDEX], skip_special_tokens=True)
    assert learned.strip() == "Merci beaucoup."


def test_truncation_and_too_long_prompts_are_counted(tokenizer: Any) -> None:
    long_answer = Record(
        kind="translation", origin="real", source="flores", fields={"src": "Hallo.", "tgt": "Bonjour " * 40},
        src_lang="de", tgt_lang="fr",
    )  # fmt: skip
    long_prompt = Record(
        kind="translation", origin="real", source="flores", fields={"src": "Hallo " * 60, "tgt": "Salut."},
        src_lang="de", tgt_lang="fr",
    )  # fmt: skip
    examples, stats = tokenize_records(
        [*pair_records()[:2], long_answer, long_prompt], tokenizer, prompt_format="plain", max_length=32
    )
    assert (stats.examples, stats.truncated, stats.prompt_too_long) == (3, 1, 1)
    assert max(len(e["input_ids"]) for e in examples) == 32
    cut = examples[2]
    assert cut["labels"][-1] != tokenizer.eos_token_id  # the cut completion lost its end, EOS included
    assert stats.prompt_tokens + stats.completion_tokens == sum(len(e["input_ids"]) for e in examples)


def test_collator_pads_and_masks_padding(tokenizer: Any) -> None:
    examples, _ = tokenize_records(pair_records()[:3], tokenizer, prompt_format="plain", max_length=64)
    batch = CompletionCollator(tokenizer.pad_token_id)(examples)
    longest = max(len(e["input_ids"]) for e in examples)
    assert batch["input_ids"].shape == (3, longest)
    for row, ex in enumerate(examples):
        n = len(ex["input_ids"])
        assert batch["attention_mask"][row].tolist() == [1] * n + [0] * (longest - n)
        assert batch["labels"][row, n:].eq(IGNORE_INDEX).all()


def test_collator_refuses_a_batch_with_every_label_masked(tokenizer: Any) -> None:
    masked_only = {"input_ids": [5, 6, 7], "labels": [IGNORE_INDEX] * 3, "source": "flores"}
    with pytest.raises(SynthmixError, match="every label in a training batch is masked"):
        CompletionCollator(tokenizer.pad_token_id)([masked_only, masked_only])


def test_packing_keeps_every_token_and_cuts_padding(tokenizer: Any) -> None:
    examples, _ = tokenize_records(pair_records() * 3, tokenizer, prompt_format="plain", max_length=64)
    rows = pack_examples(examples, 64)
    assert len(rows) < len(examples)
    assert all(len(r["input_ids"]) <= 64 for r in rows)
    assert sorted(t for r in rows for t in r["input_ids"]) == sorted(
        t for e in examples for t in e["input_ids"]
    )
    assert sum(r["position_ids"].count(0) for r in rows) == len(examples)  # one restart per example
    batches_plain = [examples[i : i + 4] for i in range(0, len(examples), 4)]
    batches_packed = [rows[i : i + 4] for i in range(0, len(rows), 4)]
    assert padding_share(batches_packed) < padding_share(batches_plain)


def test_packed_examples_do_not_attend_to_each_other(tiny_model_dir: Path, tokenizer: Any) -> None:
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    examples, _ = tokenize_records(pair_records()[:3], tokenizer, prompt_format="plain", max_length=64)
    rows = pack_examples(examples, 128)
    assert len(rows) == 1
    collate = CompletionCollator(tokenizer.pad_token_id)
    with torch.no_grad():
        # use_cache=False as in training: with a KV cache transformers does not detect packed rows.
        inputs = {k: v for k, v in collate(rows).items() if k != "labels"}
        packed = model(**inputs, use_cache=False).logits[0]
        offset = 0
        # pack_examples orders longest first; check each example's logits against it run alone.
        for ex in sorted(examples, key=lambda e: -len(e["input_ids"])):
            n = len(ex["input_ids"])
            alone = model(input_ids=torch.tensor([ex["input_ids"]])).logits[0]
            torch.testing.assert_close(packed[offset : offset + n], alone, atol=1e-4, rtol=1e-4)
            offset += n


def test_render_masking_brackets_the_prompt(tokenizer: Any) -> None:
    ex, _ = tokenize_example(pair_records()[0], tokenizer, prompt_format="plain", max_length=64)
    assert ex is not None
    text = render_masking(ex, tokenizer)
    assert text.startswith("[[Translate from German to French.\nGuten Morgen.\n]]Bonjour.")
    assert "masked prompt tokens" in text


def test_max_target_length_caps_the_answer_only(tokenizer: Any) -> None:
    record = pair_records()[1]  # "Danke schön." -> "Merci beaucoup."
    full, _ = tokenize_example(record, tokenizer, prompt_format="plain", max_length=64)
    cut, status = tokenize_example(
        record, tokenizer, prompt_format="plain", max_length=64, max_target_length=2
    )
    assert full is not None and cut is not None and status == "truncated"
    assert sum(lab != IGNORE_INDEX for lab in cut["labels"]) == 2
    n_prompt = sum(lab == IGNORE_INDEX for lab in full["labels"])
    assert cut["input_ids"][:n_prompt] == full["input_ids"][:n_prompt]  # the prompt is untouched
