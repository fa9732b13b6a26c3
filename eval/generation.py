"""Batched greedy generation for evaluation, and clean-up of what a model says around its answer.

Prompts are tokenized once, sorted by length (longest first, so the first batch shows the worst-case
memory at once and batches hold similar lengths with little padding), left-padded so every row's answer
starts at the same position, and decoded greedily until EOS, a stop string or ``max_new_tokens``.
Results come back in the caller's order.

    from eval.generation import generate, clean_output, stop_strings_for
    outs = generate(model, tokenizer, prompts, batch_size=8, max_new_tokens=64, stop=["\\n\\n"])
    answer = clean_output(outs[0].text, kind="translation", source_text="Guten Tag.")

``clean_output`` removes what models add around an answer: an echo of the input or the task instruction,
preambles ("Here is the translation:", "Traduction :"), role markers ("### Assistant:"), wrapping
quotes, and, for one-line tasks (translation, QA), every line after the answer.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

# Turn markers of every prompt format train.prompts writes: a model that starts a new turn is done.
FORMAT_STOPS: dict[str, tuple[str, ...]] = {
    "plain": ("\n\n",),
    "inst": ("[INST]", "</s>", "<s>"),
    "human_assistant": ("### Human:", "###Human:", "\n###"),
    "chatml": ("<|im_end|>", "<|im_start|>"),
    "chat_template": ("<|im_end|>", "<|im_start|>", "<|eot_id|>", "<end_of_turn>", "</s>"),
}
SINGLE_LINE_KINDS = ("translation", "qa")

_PREAMBLE = re.compile(
    r"^\s*(?:(?:sure|certainly|of course|okay|ok)\b[^\n:]{0,80}[:.!]\s*)?"
    r"(?:(?:here(?:'s| is| are)|below is)\b[^\n:]{0,80}:"
    r"|(?:the\s+)?(?:translation|translated text|answer|response|output|übersetzung|antwort|"
    r"traduction|réponse|traducción|respuesta|traduzione|risposta)\b[^\n:]{0,40}:)\s*",
    re.IGNORECASE,
)
_ROLE = re.compile(r"^\s*(?:###\s*)?(?:assistant|antwort|answer)\s*:\s*", re.IGNORECASE)
_QUOTES = [('"', '"'), ("“", "”"), ("„", "“"), ("«", "»"), ("'", "'"), ("‘", "’")]


@dataclass(frozen=True)
class Generation:
    text: str  # the decoded continuation, cut at the first stop string
    new_tokens: int  # tokens the model produced for this row (up to EOS / stop / limit)
    prompt_tokens: int
    truncated_prompt: bool = False


@dataclass(frozen=True)
class GenerationStats:
    seconds: float
    new_tokens: int
    batches: int

    @property
    def tokens_per_second(self) -> float:
        return self.new_tokens / self.seconds if self.seconds > 0 else 0.0


def stop_strings_for(prompt_format: str, extra: Sequence[str] = ()) -> list[str]:
    return list(dict.fromkeys([*FORMAT_STOPS.get(prompt_format, ()), *extra]))


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    positions = [i for s in stop if s and (i := text.find(s)) >= 0]
    return text[: min(positions)] if positions else text


def generate(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    *,
    batch_size: int = 8,
    max_new_tokens: int = 128,
    stop: Sequence[str] = (),
    add_special_tokens: bool = True,
    progress: bool = True,
    stats: list[GenerationStats] | None = None,
) -> list[Generation]:
    """Greedy continuations of ``prompts`` (same order). ``stats`` (a list) receives timing facts."""
    import torch
    from tqdm.auto import tqdm

    if not prompts:
        return []
    encoded = [tokenizer(p, add_special_tokens=add_special_tokens)["input_ids"] if p else [] for p in prompts]
    bos = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
    # An empty prompt (passages: pure language modelling) still needs one token to start from.
    encoded = [ids if ids else [bos] for ids in encoded]
    limit = _max_prompt_tokens(model, max_new_tokens)
    truncated = [len(ids) > limit for ids in encoded]
    if any(truncated):
        log.warning(
            "%d prompt(s) longer than the model's context allows (%d tokens + %d new); their start is cut",
            sum(truncated),
            limit,
            max_new_tokens,
        )
        # Keep the end: the test item and the answer cue are last, early few-shot examples go first.
        encoded = [ids[-limit:] for ids in encoded]
    order = sorted(range(len(encoded)), key=lambda i: -len(encoded[i]))
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    eos_ids = _eos_ids(model, tokenizer)
    device = _device(model)
    results: dict[int, Generation] = {}
    started, produced, n_batches = time.perf_counter(), 0, 0
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    for batch in tqdm(batches, desc="generate", unit="batch", disable=not progress, leave=False):
        width = max(len(encoded[i]) for i in batch)
        # Left padding: every row's last prompt token sits at the same position, so greedy decoding of
        # the whole batch equals decoding each row alone.
        input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
        attention = torch.zeros((len(batch), width), dtype=torch.long)
        for row, i in enumerate(batch):
            ids = encoded[i]
            input_ids[row, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
            attention[row, width - len(ids) :] = 1
        with torch.inference_mode():
            out = model.generate(
                input_ids=input_ids.to(device),
                attention_mask=attention.to(device),
                do_sample=False,
                max_new_tokens=max_new_tokens,
                pad_token_id=pad_id,
                eos_token_id=eos_ids,
                stop_strings=list(stop) or None,
                tokenizer=tokenizer if stop else None,
            )
        new = out[:, width:].tolist()
        for row, i in enumerate(batch):
            ids = _until_eos(new[row], eos_ids)
            text = cut_at_stop(tokenizer.decode(ids, skip_special_tokens=True), stop)
            produced += len(ids)
            results[i] = Generation(text, len(ids), len(encoded[i]), truncated[i])
        n_batches += 1
    if stats is not None:
        stats.append(GenerationStats(time.perf_counter() - started, produced, n_batches))
    return [results[i] for i in range(len(prompts))]


def _until_eos(ids: list[int], eos_ids: list[int]) -> list[int]:
    for pos, tok in enumerate(ids):
        if tok in eos_ids:
            return ids[:pos]
    return ids


def _eos_ids(model: Any, tokenizer: Any) -> list[int]:
    ids: list[int] = []
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    for value in (configured, tokenizer.eos_token_id):
        if isinstance(value, int):
            ids.append(value)
        elif isinstance(value, list | tuple):
            ids.extend(int(v) for v in value)
    return list(dict.fromkeys(ids))


def _device(model: Any) -> Any:
    try:
        return next(model.parameters()).device
    except (StopIteration, AttributeError):
        return "cpu"


def _max_prompt_tokens(model: Any, max_new_tokens: int) -> int:
    config = getattr(model, "config", None)
    context = getattr(config, "max_position_embeddings", None) or 1_000_000
    return max(1, int(context) - max_new_tokens)


def clean_output(
    text: str, *, kind: str = "instruction", source_text: str = "", instruction: str = ""
) -> str:
    """The answer without echoes, preambles, role markers, wrapping quotes (and extra lines for 1-line tasks)."""
    out = text.strip()
    for _ in range(3):  # echo, then preamble, then a role marker may follow one another
        before = out
        for echo in (instruction.strip(), source_text.strip()):
            if echo and out.startswith(echo) and len(out) > len(echo):
                out = out[len(echo) :].lstrip(" :\n\t")
        out = _PREAMBLE.sub("", out, count=1).strip()
        out = _ROLE.sub("", out, count=1).strip()
        if out == before:
            break
    if kind in SINGLE_LINE_KINDS:
        lines = [line.strip() for line in out.splitlines() if line.strip()]
        out = lines[0] if lines else ""
    for left, right in _QUOTES:
        if len(out) >= 2 and out.startswith(left) and out.endswith(right) and out.count(left) <= 2:
            out = out[len(left) : -len(right)].strip()
            break
    return out
