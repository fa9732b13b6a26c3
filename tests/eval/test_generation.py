from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from eval.generation import clean_output, cut_at_stop, generate, stop_strings_for
from eval.perplexity import completion_nll

PROMPTS = [
    "Translate from German to French.\nIch stehe jeden Morgen um halb sieben auf.\n",
    "Hallo\n",
    "Translate from German to French.\nMein Bruder wohnt seit drei Jahren in Hamburg.\n",
    "Guten Tag.",
    "",
]


@pytest.fixture(scope="module")
def tiny(tiny_model_dir: Path):
    from train.model import load_model

    return load_model(str(tiny_model_dir), quantization="none", for_training=False)


def test_batched_left_padded_generation_equals_one_by_one_in_input_order(tiny):
    model, tokenizer = tiny
    one = generate(model, tokenizer, PROMPTS, batch_size=1, max_new_tokens=8, progress=False)
    batched = generate(model, tokenizer, PROMPTS, batch_size=3, max_new_tokens=8, progress=False)
    assert [g.text for g in batched] == [g.text for g in one]
    assert [g.new_tokens for g in batched] == [g.new_tokens for g in one]
    assert all(0 < g.new_tokens <= 8 for g in one)
    # order is the caller's, not the length-sorted batch order
    lengths = [len(tokenizer(p)["input_ids"]) or 1 for p in PROMPTS]
    assert [g.prompt_tokens for g in batched] == lengths


def test_greedy_continuation_matches_a_manual_argmax_decode(tiny):
    model, tokenizer = tiny
    prompt = PROMPTS[0]
    ids = tokenizer(prompt, return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        for _ in range(5):
            nxt = model(input_ids=ids).logits[0, -1].argmax()
            ids = torch.cat([ids, nxt.view(1, 1)], dim=1)
    expected = tokenizer.decode(ids[0, -5:], skip_special_tokens=True)
    (got,) = generate(model, tokenizer, [prompt], max_new_tokens=5, progress=False)
    assert got.text == expected


def test_stop_strings_end_the_output():
    assert cut_at_stop("Bonjour.\n\nTranslate from", ["\n\n"]) == "Bonjour."
    assert cut_at_stop("a ### Human: b", stop_strings_for("human_assistant")) == "a "
    assert "<|im_end|>" in stop_strings_for("chatml", ["END"]) and "END" in stop_strings_for(
        "chatml", ["END"]
    )


@pytest.mark.parametrize(
    ("raw", "kind", "source", "expected"),
    [
        ("Here is the translation:\nJe me lève tôt.", "translation", "", "Je me lève tôt."),
        ("Sure! Here's the French translation: « Bonjour. »", "translation", "", "Bonjour."),
        ("Traduction : Bonjour.", "translation", "", "Bonjour."),
        ("Guten Tag.\nBonjour.", "translation", "Guten Tag.", "Bonjour."),  # echo of the input
        ('"Bonjour."\nTranslate from German to French.', "translation", "", "Bonjour."),
        ("### Assistant: Mainz", "qa", "", "Mainz"),
        ("Answer: In Mainz.\nQuestion: Wo?", "qa", "", "In Mainz."),
        ("Step one.\nStep two.", "instruction", "", "Step one.\nStep two."),  # multi-line kept
        ("Je traduis l'homme.", "translation", "", "Je traduis l'homme."),
    ],
)
def test_clean_output_removes_echoes_preambles_and_extra_lines(raw, kind, source, expected):
    assert clean_output(raw, kind=kind, source_text=source) == expected


def test_completion_nll_counts_completion_tokens_only_and_batches_exactly(tiny):
    model, tokenizer = tiny
    prompts = ["Guten Tag.\n", "Ich stehe jeden Morgen um halb sieben auf.\n", ""]
    completions = ["Bonjour.", "Je me lève tous les matins.", "Rhein"]
    batched = completion_nll(model, tokenizer, prompts, completions, batch_size=3, progress=False)
    single = [
        completion_nll(model, tokenizer, [p], [c], progress=False)[0]
        for p, c in zip(prompts, completions, strict=True)
    ]
    for b, s in zip(batched, single, strict=True):
        assert b.tokens == s.tokens
        assert b.nll == pytest.approx(s.nll, rel=1e-4)
    # manual check of the first: log-softmax over the full sequence, completion + EOS positions only
    p_ids = tokenizer(prompts[0])["input_ids"]
    c_ids = tokenizer(completions[0], add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    ids = torch.tensor([p_ids + c_ids])
    with torch.inference_mode():
        logp = torch.log_softmax(model(input_ids=ids).logits[0, :-1].float(), -1)
    manual = -sum(float(logp[len(p_ids) - 1 + j, t]) for j, t in enumerate(c_ids))
    assert batched[0].tokens == len(c_ids)
    assert batched[0].nll == pytest.approx(manual, rel=1e-4)
    assert batched[0].perplexity == pytest.approx(math.exp(manual / len(c_ids)), rel=1e-4)
    no_eos = completion_nll(model, tokenizer, prompts[:1], completions[:1], append_eos=False, progress=False)
    assert no_eos[0].tokens == len(c_ids) - 1
