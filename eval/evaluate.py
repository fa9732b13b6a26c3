"""Evaluate one condition (the base model k-shot, or a trained adapter) on the recipe's test sets.

    synthmix eval --recipe recipes/sample.toml                       # base model, zero-shot
    synthmix eval --recipe recipes/sample.toml --shots 3             # base model, 3-shot
    synthmix eval --recipe recipes/sample.toml --adapter runs/sample/<run id>
    synthmix eval --recipe recipes/sample.toml --condition real      # a row of [eval].conditions

Test sets are the ``test`` split of each curated source in ``eval.test_sources`` (default: every curated
source that has one), capped at ``eval.max_examples`` per source. Every condition is prompted alike through
train.prompts (the recipe's ``train.prompt_format`` and ``system_prompt``); few-shot examples come from the
same source's ``train`` split, fixed by seed, and are checked never to be a test item (same id or same
input text). Adapters are loaded onto the base without merging.

Outputs, under ``reports/<recipe>/conditions/<condition>/``:

- ``samples.jsonl``: one line per test item: id, source, prompt, input, reference, raw and cleaned output,
  the reference's NLL and token count (perplexity), the judge's rating and verdict text when judged.
- ``mc_samples.jsonl``: multiple-choice items (log-likelihood per choice, prediction) when configured.
- ``scores.json``: every metric with its signature, per source, generation speed, the few-shot ids used,
  and ``eval_key``: a hash of everything the result depends on, so ``synthmix compare`` reuses it.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import json
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from eval import metrics
from eval.generation import GenerationStats, clean_output, generate, stop_strings_for
from synthmix import code_version
from synthmix.config.base import as_table, parse
from synthmix.config.evaluate import ConditionConfig
from synthmix.config.train import TrainConfig
from synthmix.errors import ConfigError, SynthmixError
from synthmix.hashing import stable_hash
from synthmix.layout import Layout, safe_dirname
from synthmix.plan import conditions
from synthmix.recipe import Recipe
from synthmix.record import INPUT_FIELDS, Record, normalize_text
from synthmix.redact import redact
from synthmix.store import is_complete, read_manifest, read_records, shard_paths

log = logging.getLogger(__name__)

SAMPLES = "samples.jsonl"
MC_SAMPLES = "mc_samples.jsonl"
SCORES = "scores.json"
GENERATED_KINDS = ("translation", "qa", "instruction")


# --- conditions -------------------------------------------------------------------------------------------


# The defaults live in the core (synthmix.plan) so `--dry-run` shows the same conditions eval runs.
default_conditions = conditions


def find_condition(recipe: Recipe, name: str) -> ConditionConfig:
    conditions = default_conditions(recipe)
    for cond in conditions:
        if cond.name == name:
            return cond
    known = ", ".join(c.name for c in conditions)
    raise ConfigError(f"--condition {name!r}: not in [eval].conditions; known: {known}")


def recipe_for_condition(recipe: Recipe, cond: ConditionConfig) -> Recipe:
    """The recipe with the condition's ``[train]`` overrides applied (validated like the recipe itself)."""
    if not cond.train:
        return recipe
    table = as_table(recipe.train)
    for key, value in cond.train.items():
        # Dotted keys reach nested tables: {"lora.r" = 8} sets [train.lora] r (a rank/alpha sweep).
        *parents, leaf = key.split(".")
        node = table
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                raise ConfigError(f"eval.conditions.{cond.name}.train.{key}: {part!r} is not a [train] table")
            node = child
        node[leaf] = value
    try:
        train = parse(TrainConfig, table, "train")
    except ConfigError as e:
        raise ConfigError(f"eval.conditions.{cond.name}.train: {e}") from None
    new = dataclasses.replace(recipe, train=train)
    object.__setattr__(new, "path", recipe.path)
    return new


# --- test sets and few-shot examples ----------------------------------------------------------------------


def test_source_names(recipe: Recipe, layout: Layout) -> list[str]:
    if recipe.eval.test_sources:
        return list(recipe.eval.test_sources)
    return [
        name
        for name in recipe.source_names
        if is_complete(layout.curate(name)) and shard_paths(layout.curate(name), "test")
    ]


def load_test_sets(recipe: Recipe, layout: Layout) -> dict[str, list[Record]]:
    """Test records per source (the first ``max_examples`` in stored order, which is deterministic)."""
    names = test_source_names(recipe, layout)
    if not names:
        raise SynthmixError(
            f"no test split to evaluate on under {layout.data / 'curate'}; run `synthmix corpus --recipe "
            f"{recipe.path or recipe.name}` first (sources with a split = {{test = ...}} get a test split)"
        )
    out: dict[str, list[Record]] = {}
    for name in names:
        path = layout.curate(name)
        if not is_complete(path):
            raise SynthmixError(
                f"eval.test_sources: {name!r} has no curated dataset at {path}; run `synthmix corpus` first"
            )
        records = read_records(path, "test")
        if not records:
            raise SynthmixError(f"eval.test_sources: {path} has no test split; give the source a split")
        if recipe.eval.max_examples:
            records = records[: recipe.eval.max_examples]
        out[name] = records
    return out


def _input_key(record: Record) -> str:
    return normalize_text(record.fields.get(INPUT_FIELDS[record.kind]) or "").casefold()


def select_shots(
    pool: Sequence[Record], k: int, seed: int, exclude: Sequence[Record], source: str = ""
) -> list[Record]:
    """``k`` train examples fixed by ``seed``; none shares an id or input text with any excluded test item."""
    if k <= 0:
        return []
    banned_ids = {r.id for r in exclude}
    banned_inputs = {_input_key(r) for r in exclude}
    candidates = sorted(
        (
            r
            for r in pool
            if r.split == "train" and r.id not in banned_ids and _input_key(r) not in banned_inputs
        ),
        key=lambda r: r.id,
    )
    if len(candidates) < k:
        raise SynthmixError(
            f"few-shot: source {source!r} has {len(candidates)} usable train examples, {k} requested; "
            "lower the condition's shots"
        )
    return random.Random(f"{seed}:{source}").sample(candidates, k)


# --- model ------------------------------------------------------------------------------------------------


def load_condition_model(recipe: Recipe, adapter: Path | None) -> tuple[Any, Any]:
    from train.model import load_adapter, load_model

    t = recipe.train
    model, tokenizer = load_model(
        t.model,
        quantization=t.quantization,
        compute_dtype=t.compute_dtype,
        revision=t.revision,
        double_quant=t.double_quant,
        for_training=False,
    )
    if adapter is not None:
        model = load_adapter(model, adapter)
    return model, tokenizer


def free_memory() -> None:
    """After the last reference to a model is gone: collect it and empty the GPU cache (the reference
    runs cleared memory before every model, so one condition's weights never crowd out the next's)."""
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def adapter_fingerprint(adapter: Path | None) -> str:
    if adapter is None:
        return ""
    h = hashlib.sha256()
    for name in sorted(p.name for p in Path(adapter).glob("adapter_*")):
        h.update(name.encode())
        h.update(hashlib.sha256((Path(adapter) / name).read_bytes()).digest())
    return h.hexdigest()[:16]


# --- evaluation -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvalRequest:
    """One condition to evaluate: its name, the k of k-shot, the adapter (None = base) and the seed."""

    condition: str
    shots: int = 0
    adapter: Path | None = None
    seed: int = 13
    mix: str = ""


def eval_key(recipe: Recipe, layout: Layout, req: EvalRequest, sources: Sequence[str]) -> str:
    """Everything a condition's result depends on; equal keys mean the stored result can be reused."""
    e = recipe.eval
    inputs = {}
    for name in sources:
        path = layout.curate(name)
        inputs[name] = read_manifest(path).get("output_hash", "") if is_complete(path) else ""
    mc = Path(e.multiple_choice)
    return stable_hash(
        {
            "metrics": sorted(e.metrics),
            "max_examples": e.max_examples,
            "max_new_tokens": e.max_new_tokens,
            "stop": e.stop,
            "shots": req.shots,
            "mc_shots": e.few_shot,
            "seed": req.seed,
            "judge": as_table(e.judge) if e.judge.enabled else None,
            "comet_model": e.comet_model if "comet" in e.metrics else "",
            "mc": hashlib.sha256(mc.read_bytes()).hexdigest() if e.multiple_choice and mc.is_file() else "",
            "model": [recipe.train.model, recipe.train.revision, recipe.train.quantization],
            "prompt": [recipe.train.prompt_format, recipe.train.system_prompt],
            "adapter": adapter_fingerprint(req.adapter),
            "inputs": inputs,
        }
    )


def condition_dir(layout: Layout, condition: str) -> Path:
    return layout.reports / "conditions" / safe_dirname(condition)


def load_result(layout: Layout, condition: str) -> dict[str, Any] | None:
    path = condition_dir(layout, condition) / SCORES
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def read_samples(layout: Layout, condition: str, name: str = SAMPLES) -> list[dict[str, Any]]:
    path = condition_dir(layout, condition) / name
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def sample_stats(rows: Sequence[dict[str, Any]], metric: str) -> tuple[list[str], np.ndarray]:
    """(item keys, per-item sufficient statistics) of one metric from stored per-sample rows."""
    m = metrics.get(metric)
    if metric in ("perplexity",):
        keep = [r for r in rows if r.get("tokens")]
        return [_key(r) for r in keep], np.array([[r["nll"], r["tokens"]] for r in keep]).reshape(-1, 2)
    if metric == "judge":
        keep = [r for r in rows if isinstance(r.get("judge"), dict) and r["judge"].get("rating") is not None]
        return [_key(r) for r in keep], np.array([[r["judge"]["rating"], 1.0] for r in keep]).reshape(-1, 2)
    if metric == "comet":
        keep = [r for r in rows if r.get("comet") is not None]
        return [_key(r) for r in keep], np.array([[r["comet"], 1.0] for r in keep]).reshape(-1, 2)
    if metric == "accuracy":
        return [_key(r) for r in rows], np.array([[r["correct"], 1.0] for r in rows]).reshape(-1, 2)
    keep = [r for r in rows if r.get("output") is not None and _applies(metric, r.get("kind", ""))]
    stats = m.sentence_stats([r["output"] for r in keep], [r["reference"] for r in keep])
    return [_key(r) for r in keep], stats


def _key(row: dict[str, Any]) -> str:
    return f"{row.get('source', '')}/{row['id']}"


def _applies(metric: str, kind: str) -> bool:
    if metric in metrics.QA_METRICS:
        return kind == "qa"
    if metric == "comet":
        return kind == "translation"
    if metric in metrics.TEXT_METRICS:
        return kind in GENERATED_KINDS
    return True


def score_rows(rows: Sequence[dict[str, Any]], metric: str) -> dict[str, Any] | None:
    keys, stats = sample_stats(rows, metric)
    if not keys:
        return None
    m = metrics.get(metric)
    return {
        "score": float(m.score(stats.sum(0))),
        "signature": m.signature,
        "n": len(keys),
        "higher_is_better": m.higher_is_better,
    }


def run_eval(
    recipe: Recipe,
    layout: Layout,
    *,
    condition: str | None = None,
    adapter: Path | None = None,
    shots: int = 0,
    seed: int | None = None,
    force: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Evaluate one condition; returns the scores (also written to ``scores.json``). Reuses a current result."""
    seed = recipe.eval.seeds[0] if seed is None else seed
    mix = ""
    if condition is not None:
        cond = find_condition(recipe, condition)
        recipe = recipe_for_condition(recipe, cond)
        shots, mix = cond.shots, cond.mix
        if cond.mix and adapter is None:
            from train.trainer import run_train

            adapter = Path(run_train(recipe, layout, cond.mix, seed=seed))
    name = condition or (f"adapter-{Path(adapter).name}" if adapter else f"base-{shots}shot")
    req = EvalRequest(name, shots, Path(adapter) if adapter else None, seed, mix)
    return evaluate_request(recipe, layout, req, force=force, progress=progress)


def evaluate_request(
    recipe: Recipe, layout: Layout, req: EvalRequest, *, force: bool = False, progress: bool = True
) -> dict[str, Any]:
    """Evaluate ``req`` unless a result with the same ``eval_key`` is stored (then it is returned)."""
    if req.adapter is not None and not (req.adapter / "adapter_config.json").is_file():
        raise ConfigError(f"--adapter {req.adapter}: no adapter_config.json; pass a finished run directory")
    if req.shots < 0:
        raise ConfigError(f"--shots: must be >= 0, got {req.shots}")
    test_sets = load_test_sets(recipe, layout)
    from eval.judge import check_judge_ready

    check_judge_ready(recipe)
    key = eval_key(recipe, layout, req, list(test_sets))
    previous = load_result(layout, req.condition)
    if previous and previous.get("eval_key") == key and not force:
        log.info("eval %s: current result reused (%s)", req.condition, condition_dir(layout, req.condition))
        return previous
    return _evaluate(recipe, layout, req, test_sets, key, progress)


def _evaluate(
    recipe: Recipe,
    layout: Layout,
    req: EvalRequest,
    test_sets: dict[str, list[Record]],
    key: str,
    progress: bool,
) -> dict[str, Any]:
    from train.prompts import adds_special_tokens, build_prompt, target_text

    started = time.time()
    e, t = recipe.eval, recipe.train
    log.info(
        "eval %s: %d test item(s) from %s",
        req.condition,
        sum(map(len, test_sets.values())),
        ", ".join(test_sets),
    )
    model, tokenizer = load_condition_model(recipe, req.adapter)
    special = adds_special_tokens(t.prompt_format)
    rows: list[dict[str, Any]] = []
    prompts: list[str] = []
    shots_used: dict[str, list[str]] = {}
    all_test = [r for records in test_sets.values() for r in records]
    for source, records in test_sets.items():
        shots: list[Record] = []
        if req.shots:
            pool = read_records(layout.curate(source), "train")
            shots = select_shots(pool, req.shots, req.seed, all_test, source)
        shots_used[source] = [s.id for s in shots]
        for record in records:
            prompt = build_prompt(
                record,
                prompt_format=t.prompt_format,
                tokenizer=tokenizer,
                system_prompt=t.system_prompt,
                shots=shots,
            )
            prompts.append(prompt)
            rows.append(
                {
                    "id": record.id,
                    "source": source,
                    "kind": record.kind,
                    "origin": record.origin,
                    "input": record.fields.get(INPUT_FIELDS[record.kind]) or "",
                    "reference": target_text(record),
                    "prompt": prompt,
                    # MT-Bench-style sets tag items with a category; judge scores are grouped by it.
                    "category": record.meta.get("category") or None,
                }
            )
    # Generation: every kind with an answer to produce (passages are scored by perplexity only).
    gen_idx = [i for i, r in enumerate(rows) if r["kind"] in GENERATED_KINDS]
    gen_stats: list[GenerationStats] = []
    needs_text = any(m in e.metrics for m in (*metrics.TEXT_METRICS, *metrics.QA_METRICS, "judge"))
    if gen_idx and needs_text:
        outs = generate(
            model,
            tokenizer,
            [prompts[i] for i in gen_idx],
            batch_size=e.batch_size,
            max_new_tokens=e.max_new_tokens,
            stop=stop_strings_for(t.prompt_format, e.stop),
            add_special_tokens=special,
            progress=progress,
            stats=gen_stats,
        )
        for i, out in zip(gen_idx, outs, strict=True):
            row = rows[i]
            row["raw_output"] = out.text
            row["output"] = clean_output(out.text, kind=row["kind"], source_text=row["input"])
            row["new_tokens"] = out.new_tokens
    if "perplexity" in e.metrics:
        from eval.perplexity import completion_nll
        from train.prompts import completion_text

        records = [r for recs in test_sets.values() for r in recs]
        nll = completion_nll(
            model,
            tokenizer,
            prompts,
            [completion_text(r, prompt_format=t.prompt_format) for r in records],
            batch_size=e.batch_size,
            add_special_tokens=special,
            append_eos=True,
            progress=progress,
            desc="perplexity",
        )
        for row, score in zip(rows, nll, strict=True):
            row["nll"], row["tokens"] = round(score.nll, 6), score.tokens
            row["perplexity"] = round(score.perplexity, 4) if score.tokens else None
    if "comet" in e.metrics:
        idx = [i for i, r in enumerate(rows) if r["kind"] == "translation" and "output" in r]
        comet = metrics.comet_stats(
            [rows[i]["input"] for i in idx],
            [rows[i]["output"] for i in idx],
            [rows[i]["reference"] for i in idx],
            e.comet_model,
        )
        if comet is not None:
            for i, value in zip(idx, comet[:, 0], strict=True):
                rows[i]["comet"] = float(value)
    mc_rows: list[dict[str, Any]] = []
    mc_summary: dict[str, Any] | None = None
    if e.multiple_choice:
        from eval.choice import load_items, score_items

        result = score_items(
            model,
            tokenizer,
            load_items(e.multiple_choice),
            shots=e.few_shot,
            prompt_format=t.prompt_format,
            system_prompt=t.system_prompt,
            seed=req.seed,
            batch_size=e.batch_size,
            add_special_tokens=special,
            progress=progress,
        )
        mc_rows = [{**s, "source": "multiple_choice"} for s in result.samples]
        mc_summary = {
            "file": e.multiple_choice,
            "shots": e.few_shot,
            "accuracy": result.accuracy,
            "accuracy_norm": result.accuracy_norm,
            "by_category": result.by_category,
        }
    del model
    free_memory()
    judge_summary: dict[str, Any] | None = None
    if e.judge.enabled and "judge" in e.metrics:
        from eval.judge import judge_rows

        judge_summary = judge_rows(recipe, layout, rows)
    scores = _summarize(recipe, req, rows, mc_rows, key)
    scores.update(
        {
            "shots_used": shots_used,
            "multiple_choice": mc_summary,
            "judge": judge_summary,
            "generation": _generation_facts(gen_stats),
            "seconds": round(time.time() - started, 2),
        }
    )
    _write(layout, req.condition, rows, mc_rows, scores)
    return scores


def _summarize(
    recipe: Recipe, req: EvalRequest, rows: list[dict[str, Any]], mc_rows: list[dict[str, Any]], key: str
) -> dict[str, Any]:
    wanted: list[str] = [m for m in recipe.eval.metrics if m != "accuracy"]
    overall: dict[str, Any] = {m: s for m in wanted if (s := score_rows(rows, m)) is not None}
    if mc_rows:
        overall["accuracy"] = score_rows(mc_rows, "accuracy") or {}
    by_source: dict[str, dict[str, Any]] = {}
    for source in dict.fromkeys(r["source"] for r in rows):
        part = [r for r in rows if r["source"] == source]
        by_source[source] = {m: s for m in wanted if (s := score_rows(part, m)) is not None}
    return {
        "condition": req.condition,
        "mix": req.mix,
        "shots": req.shots,
        "seed": req.seed,
        "adapter": str(req.adapter) if req.adapter else None,
        "model": recipe.train.model,
        "prompt_format": recipe.train.prompt_format,
        "eval_key": key,
        "code_version": code_version(),
        "n_items": len(rows),
        "metrics": overall,
        "by_source": by_source,
    }


def _generation_facts(stats: list[GenerationStats]) -> dict[str, Any] | None:
    if not stats:
        return None
    s = stats[0]
    return {
        "seconds": round(s.seconds, 3),
        "new_tokens": s.new_tokens,
        "tokens_per_second": round(s.tokens_per_second, 2),
    }


def _write(
    layout: Layout,
    condition: str,
    rows: list[dict[str, Any]],
    mc_rows: list[dict[str, Any]],
    scores: dict[str, Any],
) -> None:
    out = condition_dir(layout, condition)
    out.mkdir(parents=True, exist_ok=True)
    _write_jsonl(out / SAMPLES, rows)
    if mc_rows:
        _write_jsonl(out / MC_SAMPLES, mc_rows)
    # scores.json last: its presence (with a matching eval_key) marks the condition as done.
    tmp = out / f".{SCORES}.tmp"
    tmp.write_text(json.dumps(redact(scores), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(out / SCORES)
    log.info("eval %s", format_scores(scores))


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(redact(row), ensure_ascii=False) + "\n")
    tmp.replace(path)


def format_scores(scores: dict[str, Any]) -> str:
    """One line per metric with its signature beside it: ``bleu 12.34  nrefs:1|case:mixed|...  n=50``."""
    lines = [f"{scores.get('condition')}:"]
    for name, s in scores.get("metrics", {}).items():
        if s:
            lines.append(
                f"  {name:11} {metrics.format_score(name, s['score']):>8}  {s['signature']}  n={s['n']}"
            )
    return "\n".join(lines) if len(lines) > 1 else f"{scores.get('condition')}: no scores"
