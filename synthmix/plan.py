"""``--dry-run``: what a command would do for a recipe, and how many API tokens it would spend at most.

    synthmix corpus --recipe recipes/default.toml --dry-run
    synthmix compare --recipe recipes/turkish-instruct-mix.toml --dry-run

The plan lists the stages the command runs, every output with its path, the sources, synth jobs, mixes,
training runs, evaluations and the relevance gate, then an upper bound on the API tokens the command spends:
synth jobs for ``corpus``/``synth``, LLM-judge calls for ``eval``/``compare``. Nothing is read or written.

Token estimates are upper bounds: prompt tokens are estimated from the few-shot examples and template at
~4 characters per token, completion tokens at ``max_tokens`` per request. Local backends (``transformers``,
``recorded``) spend no API tokens and are listed as local.
"""

from __future__ import annotations

import math

from synthmix.config.evaluate import ConditionConfig
from synthmix.config.sources import FilesSourceConfig, HubSourceConfig, SourceConfig, WikipediaSourceConfig
from synthmix.layout import Layout, safe_dirname
from synthmix.mixspec import parse_mix
from synthmix.recipe import Recipe
from synthmix.status import expected_outputs

PROMPT_OVERHEAD_TOKENS = 350  # instructions and format spec of a generation prompt
TOKENS_PER_EXAMPLE = 80  # one few-shot example or one passage sentence, roughly
JUDGE_PROMPT_TOKENS = 700  # judge instructions + two worked examples + the question
LOCAL_BACKENDS = ("transformers", "recorded")

# What each command runs, in order (the stages of `corpus` are the whole data pipeline).
COMMAND_STAGES = {
    "corpus": ["ingest", "synth", "curate", "mix", "card"],
    "ingest": ["ingest"],
    "synth": ["synth"],
    "curate": ["curate"],
    "mix": ["mix"],
    "card": ["card"],
    "train": ["mix (if missing)", "train"],
    "eval": ["eval"],
    "compare": [
        "corpus (missing outputs)",
        "train (missing runs)",
        "eval (every condition)",
        "significance",
        "report",
    ],
}
# compare builds a missing corpus first, so its upper bound includes the synth jobs.
SPENDS_SYNTH = ("corpus", "synth", "compare")
SPENDS_JUDGE = ("eval", "compare")


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


def conditions(recipe: Recipe) -> list[ConditionConfig]:
    """The recipe's conditions; without any, the defaults eval uses (base 0-shot, few-shot, one per mix)."""
    if recipe.eval.conditions:
        return list(recipe.eval.conditions)
    out = [ConditionConfig(name="base-0shot")]
    if recipe.eval.few_shot > 0:
        out.append(ConditionConfig(name=f"base-{recipe.eval.few_shot}shot", shots=recipe.eval.few_shot))
    for spec in recipe.mix.build:
        out.append(ConditionConfig(name=f"ft-{safe_dirname(parse_mix(spec).canonical)}", mix=spec))
    return out


def estimate_judge_tokens(recipe: Recipe) -> dict[str, int] | None:
    """Upper bound of the judge's requests and tokens, or None when the number of test items is unbounded."""
    judge = recipe.eval.judge
    if not judge.enabled:
        return {"requests": 0, "prompt_tokens": 0, "completion_tokens": 0}
    # Test sets: the listed sources, else every source that gets a test split from its split fractions.
    split_sources = [n for n, s in recipe.sources.items() if s.eval and s.split and s.split.test > 0]
    n_sources = max(1, len(recipe.eval.test_sources) or len(split_sources))
    # Per condition (and seed): every test item of every test source, capped by judge.max_items.
    per_condition = recipe.eval.max_examples * n_sources
    if judge.max_items:
        per_condition = min(per_condition, judge.max_items) if per_condition else judge.max_items
    if not per_condition:
        return None
    conds = conditions(recipe)
    seeds = len(recipe.eval.seeds)
    singles = per_condition * len(conds) * seeds
    # Pairwise: every fine-tuned condition against the base, judged in both orders.
    pairs = 2 * per_condition * sum(1 for c in conds if c.mix) * seeds if judge.pairwise else 0
    requests = singles + pairs
    prompt = JUDGE_PROMPT_TOKENS + recipe.eval.max_new_tokens
    return {
        "requests": requests,
        "prompt_tokens": singles * prompt + pairs * (prompt + recipe.eval.max_new_tokens),
        "completion_tokens": requests * judge.llm.max_tokens,
    }


def describe_source(src: SourceConfig) -> str:
    """One line per source: type, kind, where the records come from, and how they are sampled and split."""
    if isinstance(src, HubSourceConfig):
        what = src.dataset or f"preset {src.preset}"
        if src.dataset and src.preset:
            what += f" (preset {src.preset})"
        if src.config:
            what += f" config {src.config}"
    elif isinstance(src, FilesSourceConfig):
        what = src.path
    elif isinstance(src, WikipediaSourceConfig):
        if src.html_dir:
            what = f"{src.lang} saved pages in {src.html_dir}"
        else:
            picks = [f"titles {', '.join(src.titles)}"] if src.titles else []
            picks += [f"search {src.search!r}"] if src.search else []
            picks += [f"category {src.category} (depth {src.category_depth})"] if src.category else []
            what = f"{src.lang}.wikipedia {'; '.join(picks)}, <= {src.max_pages} pages"
    else:  # pragma: no cover - the union above is exhaustive
        what = ""
    langs = f"{src.src_lang}->{src.tgt_lang}" if src.src_lang or src.tgt_lang else src.lang
    if isinstance(src, WikipediaSourceConfig):
        langs = ""  # already in the edition name
    parts = [f"{src.type} {src.kind}", what]
    if langs:
        parts.append(langs)
    if src.limit:
        parts.append(f"limit {src.limit}")
    if src.split:
        parts.append(f"split test {src.split.test:g} dev {src.split.dev:g} (seed {src.split.seed})")
    if not src.eval:
        parts.append("not an eval set")
    return ", ".join(p for p in parts if p)


def format_plan(recipe: Recipe, layout: Layout, command: str) -> str:
    lines = [f"plan for `synthmix {command}` with recipe {recipe.name!r} ({recipe.path})"]
    if recipe.description:
        lines.append(f"  {recipe.description}")
    if command in COMMAND_STAGES:
        lines.append("this command runs: " + " -> ".join(COMMAND_STAGES[command]))
    conds = conditions(recipe)
    lines.append("stages and outputs:")
    for stage, name, path in expected_outputs(recipe, layout):
        lines.append(f"  {stage:7} {name:28} -> {path}")
    for cond in conds:
        if cond.mix:
            lines.append(f"  {'train':7} {cond.name:28} -> {layout.runs}/<run id> (mix {cond.mix})")
    for cond in conds:
        lines.append(f"  {'eval':7} {cond.name:28} -> {layout.reports}/conditions/{safe_dirname(cond.name)}")
    if recipe.gate.enabled:
        lines.append(f"  {'gate':7} {recipe.gate.topic_source:28} -> {layout.runs}/gate/metrics.json")
    lines.append("sources:")
    for name, src in recipe.sources.items():
        lines.append(f"  {name}: {describe_source(src)}")

    spend_synth = command in SPENDS_SYNTH or command not in COMMAND_STAGES
    spend_judge = command in SPENDS_JUDGE or command not in COMMAND_STAGES
    total_p = total_c = 0
    if recipe.synth:
        lines.append("synth jobs (API tokens are upper bounds):")
        for name, est in estimate_tokens(recipe).items():
            job = recipe.synth[name]
            local = job.llm.backend in LOCAL_BACKENDS
            if spend_synth and not local:
                total_p += est["prompt_tokens"]
                total_c += est["completion_tokens"]
            cost = (
                est["prompt_tokens"] * job.llm.price.prompt_per_million
                + est["completion_tokens"] * job.llm.price.completion_per_million
            ) / 1e6
            lines.append(
                f"  {name}: {job.generator} from {job.from_}, {job.records} records via {job.llm.backend}:{job.llm.model}, "
                + (
                    f"{est['requests']} requests, local (no API tokens)"
                    if local
                    else f"{est['requests']} requests, <= {est['prompt_tokens']} prompt + "
                    f"{est['completion_tokens']} completion tokens" + (f", <= ${cost:.2f}" if cost else "")
                )
            )
    judge_note = ""
    if recipe.eval.judge.enabled:
        judge = recipe.eval.judge
        est_j = estimate_judge_tokens(recipe)
        if est_j is None:
            lines.append(
                f"judge: {judge.llm.backend}:{judge.llm.model} rates every test item of every condition "
                "(unbounded here: set eval.judge.max_items or eval.max_examples to bound it)"
            )
            judge_note = " + judge (unbounded)" if spend_judge else ""
        else:
            local = judge.llm.backend in LOCAL_BACKENDS
            lines.append(
                f"judge: {judge.llm.backend}:{judge.llm.model}, {est_j['requests']} requests"
                + (
                    ", local (no API tokens)"
                    if local
                    else f", <= {est_j['prompt_tokens']} prompt + {est_j['completion_tokens']} completion tokens"
                )
            )
            if spend_judge and not local:
                total_p += est_j["prompt_tokens"]
                total_c += est_j["completion_tokens"]
    lines.append(
        f"estimated API tokens: <= {total_p + total_c} ({total_p} prompt, {total_c} completion)"
        + judge_note
        + ("" if command not in COMMAND_STAGES else f" for `{command}`")
    )
    mixes = list(recipe.mix.build)
    budget = f" (budget {recipe.mix.budget} {recipe.mix.budget_unit} each)" if recipe.mix.budget else ""
    lines.append("mixes: " + (", ".join(parse_mix(m).canonical for m in mixes) or "none") + budget)
    t = recipe.train
    length = f"{t.max_steps} steps" if t.max_steps else f"{t.epochs:g} epoch(s)"
    lines.append(
        f"training: {t.model} ({t.quantization}, LoRA r={t.lora.r} alpha={t.lora.alpha}, "
        f"lr {t.learning_rate:g}, {length}, prompt format {t.prompt_format})"
    )
    lines.append(
        f"runs: {sum(1 for c in conds if c.mix) * len(recipe.eval.seeds)} "
        f"(conditions with a mix x {len(recipe.eval.seeds)} seed(s))"
    )
    lines.append(
        "evaluations: "
        + (", ".join(_describe_condition(c) for c in conds) or "none")
        + f"; metrics {', '.join(recipe.eval.metrics)}"
    )
    if recipe.eval.multiple_choice:
        lines.append(
            f"multiple choice: {recipe.eval.multiple_choice} ({recipe.eval.few_shot}-shot, per category)"
        )
    if recipe.gate.enabled:
        g = recipe.gate
        lines.append(
            f"relevance gate: on-topic = questions of {g.topic_source}, off-topic = {g.offtopic_path}, "
            f"held-out {g.test_fraction:g} (seed {g.seed}), threshold {g.threshold:g}"
            + (", filters QA" if g.filter_qa else "")
        )
    return "\n".join(lines)


def _describe_condition(cond: ConditionConfig) -> str:
    overrides = "".join(f", {k}={v}" for k, v in cond.train.items())
    return f"{cond.name}({cond.mix or 'base'}, {cond.shots}-shot{overrides})"
