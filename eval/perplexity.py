"""Log-likelihood of completions under a model: perplexity of references and multiple-choice scoring.

The prompt is tokenized exactly as for generation (train.prompts, same special-token rule) and the
completion is appended as its own token ids, the way the trainer builds examples; only completion tokens
count. Per example the result is (summed NLL in nats, number of completion tokens), the sufficient
statistics of a token-weighted perplexity (eval.metrics ``perplexity``): corpus perplexity =
exp(sum NLL / sum tokens), not a mean of per-example perplexities.

    from eval.perplexity import completion_nll
    rows = completion_nll(model, tokenizer, prompts, completions, append_eos=True)
    ppl = math.exp(sum(r.nll for r in rows) / sum(r.tokens for r in rows))
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CompletionScore:
    nll: float  # summed negative log-likelihood of the completion tokens, nats
    tokens: int

    @property
    def logprob(self) -> float:
        return -self.nll

    @property
    def perplexity(self) -> float:
        return math.exp(self.nll / self.tokens) if self.tokens else float("nan")


def completion_nll(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    completions: Sequence[str],
    *,
    batch_size: int = 8,
    add_special_tokens: bool = True,
    append_eos: bool = True,
    progress: bool = True,
    desc: str = "log-likelihood",
) -> list[CompletionScore]:
    """Per example: NLL of ``completions[i]`` (plus EOS when ``append_eos``, as trained) after ``prompts[i]``."""
    import torch
    from tqdm.auto import tqdm

    if len(prompts) != len(completions):
        raise ValueError(f"{len(prompts)} prompts but {len(completions)} completions")
    bos = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
    rows: list[tuple[list[int], int]] = []  # (ids, number of leading prompt tokens)
    context = getattr(getattr(model, "config", None), "max_position_embeddings", None) or 1_000_000
    for prompt, completion in zip(prompts, completions, strict=True):
        p_ids = tokenizer(prompt, add_special_tokens=add_special_tokens)["input_ids"] if prompt else []
        c_ids = tokenizer(completion, add_special_tokens=False)["input_ids"]
        if append_eos and tokenizer.eos_token_id is not None:
            c_ids = [*c_ids, tokenizer.eos_token_id]
        # The first completion token needs something to be predicted from.
        p_ids = p_ids or [bos]
        ids = [*p_ids, *c_ids]
        if len(ids) > context:  # keep the completion whole, cut the prompt's start
            cut = len(ids) - int(context)
            ids, n_prompt = ids[cut:], max(1, len(p_ids) - cut)
        else:
            n_prompt = len(p_ids)
        rows.append((ids, n_prompt))
    order = sorted(range(len(rows)), key=lambda i: -len(rows[i][0]))
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    device = next(model.parameters()).device
    out: dict[int, CompletionScore] = {}
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    for batch in tqdm(batches, desc=desc, unit="batch", disable=not progress, leave=False):
        width = max(len(rows[i][0]) for i in batch)
        input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
        attention = torch.zeros((len(batch), width), dtype=torch.long)
        target_mask = torch.zeros((len(batch), width), dtype=torch.bool)
        for r, i in enumerate(batch):
            ids, n_prompt = rows[i]
            input_ids[r, : len(ids)] = torch.tensor(ids, dtype=torch.long)
            attention[r, : len(ids)] = 1
            target_mask[r, n_prompt : len(ids)] = True
        with torch.inference_mode():
            logits = model(input_ids=input_ids.to(device), attention_mask=attention.to(device)).logits
        logprobs = torch.log_softmax(logits[:, :-1].float(), dim=-1)
        targets = input_ids[:, 1:].to(logprobs.device)
        token_lp = logprobs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
        mask = target_mask[:, 1:].to(logprobs.device)
        nll = -(token_lp * mask).sum(-1)
        counts = mask.sum(-1)
        for r, i in enumerate(batch):
            out[i] = CompletionScore(float(nll[r]), int(counts[r]))
    return [out[i] for i in range(len(rows))]
