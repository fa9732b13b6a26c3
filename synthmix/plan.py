"""``--dry-run``: what a command would do for a recipe, and how many API tokens it would spend at most.

Token estimates are upper bounds: prompt tokens are estimated from the few-shot examples and template at
~4 characters per token, completion tokens at ``max_tokens`` per request.
"""

from __future__ import annotations

import math

from synthmix.layout import Layout
from synthmix.mixspec import parse_mix
from synthmix.recipe import Recipe
from synthmix.status import expected_outputs

PROMPT_OVERHEAD_TOKENS = 350  # instructions and format spec of a generation prompt
TOKENS_PER_EXAMPLE = 80  # one few-shot example or one passage sentence, roughly


def synth_requests(recipe: Recipe, job_name: str) -> int:
    job = recipe.synth[job_name]
    return math.ceil(job.records / job.per_request)


def estimate_tokens(recipe: Recipe) -> dict[str, dict[str, int]]:
    """Per synth job: requests, prompt tokens and completion tokens (upper bound)."""
    out = {}
    for name, job in recipe.synth.items():
        requests = synth_requests(recipe, name)
        per_prompt = PROMPT_OVERHEAD_TOKENS + TOKENS_PER_EXAMPLE * max(job.few_shot, 5)
        out[name] = {
            "requests": requests,
            "prompt_tokens": requests * per_prompt,
            "completion_tokens": requests * job.llm.max_tokens,
        }
    return out


def format_plan(recipe: Recipe, layout: Layout, command: str) -> str:
    lines = [f"plan for `synthmix {command}` with recipe {recipe.name!r} ({recipe.path})"]
    if recipe.description:
        lines.append(f"  {recipe.description}")
    lines.append("stages and outputs:")
    for stage, name, path in expected_outputs(recipe, layout):
        lines.append(f"  {stage:7} {name:28} -> {path}")
    lines.append("sources:")
    for name, src in recipe.sources.items():
        lines.append(f"  {name}: {src.type} {src.kind}")
    total_p = total_c = 0
    if recipe.synth:
        lines.append("synth jobs (API tokens are upper bounds):")
        for name, est in estimate_tokens(recipe).items():
            job = recipe.synth[name]
            total_p += est["prompt_tokens"]
            total_c += est["completion_tokens"]
            cost = (
                est["prompt_tokens"] * job.llm.price.prompt_per_million
                + est["completion_tokens"] * job.llm.price.completion_per_million
            ) / 1e6
            lines.append(
                f"  {name}: {job.generator} from {job.from_}, {job.records} records via {job.llm.backend}:{job.llm.model}, "
                f"{est['requests']} requests, <= {est['prompt_tokens']} prompt + {est['completion_tokens']} completion tokens"
                + (f", <= ${cost:.2f}" if cost else "")
            )
    lines.append(f"estimated API tokens: <= {total_p + total_c} ({total_p} prompt, {total_c} completion)")
    mixes = list(recipe.mix.build)
    lines.append("mixes: " + (", ".join(parse_mix(m).canonical for m in mixes) or "none"))
    lines.append(
        f"training: {recipe.train.model} ({recipe.train.quantization}, LoRA r={recipe.train.lora.r})"
    )
    conditions = recipe.eval.conditions
    lines.append(
        f"runs: {sum(1 for c in conditions if c.mix) * len(recipe.eval.seeds)} "
        f"(conditions with a mix x {len(recipe.eval.seeds)} seed(s))"
    )
    lines.append(
        "evaluations: "
        + (", ".join(f"{c.name}({c.mix or 'base'}, {c.shots}-shot)" for c in conditions) or "none")
        + f"; metrics {', '.join(recipe.eval.metrics)}"
    )
    return "\n".join(lines)
