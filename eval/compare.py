"""The experiment matrix: every condition x seed, paired significance tests, and the report.

    synthmix compare --recipe recipes/sample.toml        # or: make compare RECIPE=recipes/sample.toml

Conditions are ``[eval].conditions`` (default: base zero-shot, base few-shot, and fine-tuned on each mix
in ``mix.build``). Missing corpus outputs are built first (the corpus job skips what exists). Fine-tuned
conditions train once per seed in ``eval.seeds`` through train.trainer (finished runs are reused); every
condition is evaluated by eval.evaluate (a stored result with the same inputs is reused), so an
interrupted compare resumes where it stopped. Zero-shot base conditions are deterministic and run once.

Every pair of conditions is tested on every metric with a paired bootstrap (or approximate
randomization, ``eval.significance``) over the test items they share; a condition's seeds are pooled per
item (their statistics averaged), so the resampling unit stays the test item. p-values are
Holm-adjusted over all pairs of a metric. The report lands in ``reports/<recipe>/report.md`` (+ HTML).
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from eval import metrics, significance
from eval.evaluate import (
    MC_SAMPLES,
    SAMPLES,
    EvalRequest,
    condition_dir,
    default_conditions,
    evaluate_request,
    read_samples,
    recipe_for_condition,
    sample_stats,
    test_source_names,
)
from eval.report import write_report
from synthmix import code_version
from synthmix.config.evaluate import ConditionConfig
from synthmix.layout import Layout
from synthmix.mixspec import parse_mix
from synthmix.recipe import Recipe
from synthmix.status import recipe_status

log = logging.getLogger(__name__)


def ensure_corpus(recipe: Recipe, layout: Layout) -> None:
    """Build the corpus when any of its outputs is missing (complete outputs are skipped by every stage)."""
    rows = recipe_status(recipe, layout)
    missing = [r for r in rows if r.state == "missing"]
    stale = [r for r in rows if r.state == "stale"]
    if stale:
        log.warning(
            "%d corpus output(s) are stale for the current recipe (%s); `synthmix corpus --force` rebuilds them",
            len(stale),
            ", ".join(f"{r.stage}/{r.name}" for r in stale),
        )
    if missing:
        from synthmix.pipeline import run_corpus

        log.info("compare: building %d missing corpus output(s) first", len(missing))
        run_corpus(recipe, layout)


def train_run(recipe: Recipe, layout: Layout, cond: ConditionConfig, seed: int) -> Path:
    from train.trainer import run_train

    return Path(run_train(recipe_for_condition(recipe, cond), layout, cond.mix, seed=seed))


def eval_name(cond: ConditionConfig, seed: int, seeds: Sequence[int]) -> str:
    """Stored result name: the condition's name, with the seed when it runs under several seeds."""
    deterministic = not cond.mix and cond.shots == 0
    return cond.name if deterministic or len(seeds) == 1 else f"{cond.name}-seed{seed}"


def seeds_for(cond: ConditionConfig, seeds: Sequence[int]) -> list[int]:
    # A zero-shot base model has nothing random: one evaluation stands for every seed.
    return [seeds[0]] if not cond.mix and cond.shots == 0 else list(seeds)


def run_compare(
    recipe: Recipe,
    layout: Layout,
    *,
    force: bool = False,
    progress: bool = True,
    build_corpus: bool = True,
) -> Path:
    """Train and evaluate every condition (reusing finished work), test every pair, write the report."""
    from eval.judge import check_judge_ready

    conditions = default_conditions(recipe)
    # Every condition's [train] overrides and the judge are checked before hours of training, not after.
    cond_recipes = {c.name: recipe_for_condition(recipe, c) for c in conditions}
    check_judge_ready(recipe)
    if build_corpus:
        ensure_corpus(recipe, layout)
    seeds = list(recipe.eval.seeds)
    runs: list[dict[str, Any]] = []
    results: dict[str, list[tuple[int, str, dict[str, Any]]]] = {}  # condition -> [(seed, eval name, scores)]
    for cond in conditions:
        cond_recipe = cond_recipes[cond.name]
        for seed in seeds_for(cond, seeds):
            adapter = None
            if cond.mix:
                adapter = train_run(recipe, layout, cond, seed)
                runs.append(_run_facts(layout, cond, seed, adapter))
            name = eval_name(cond, seed, seeds)
            req = EvalRequest(name, cond.shots, adapter, seed, cond.mix)
            scores = evaluate_request(cond_recipe, layout, req, force=force, progress=progress)
            results.setdefault(cond.name, []).append((seed, name, scores))
    comparison = build_comparison(recipe, layout, conditions, results, runs)
    if recipe.eval.judge.enabled and recipe.eval.judge.pairwise and "judge" in recipe.eval.metrics:
        comparison.setdefault("judge", {})["pairwise"] = _pairwise_judging(
            recipe, layout, conditions, results
        )
    report = write_report(comparison, layout.reports)
    log.info("compare %s:\n%s", recipe.name, format_summary(comparison))
    return report


def _run_facts(layout: Layout, cond: ConditionConfig, seed: int, run_dir: Path) -> dict[str, Any]:
    mix_dir = layout.mix(parse_mix(cond.mix).canonical)
    return {
        "condition": cond.name,
        "seed": seed,
        "mix": cond.mix,
        "run_dir": str(run_dir),
        "run_card": str(run_dir / "README.md") if (run_dir / "README.md").is_file() else None,
        "data_card": str(mix_dir / "README.md") if (mix_dir / "README.md").is_file() else None,
        "history": read_log_history(run_dir),
    }


def read_log_history(run_dir: Path) -> list[dict[str, Any]]:
    """The trainer's log history (loss per logging step, dev loss per evaluation) from a run directory."""
    history_file = run_dir / "log_history.json"
    if history_file.is_file():
        try:
            data = json.loads(history_file.read_text(encoding="utf-8"))
            if isinstance(data, list):
                return [e for e in data if isinstance(e, dict)]
        except (OSError, json.JSONDecodeError):
            pass
    candidates = [run_dir / "run.json", run_dir / "trainer_state.json"]
    candidates += sorted(run_dir.glob("checkpoint-*/trainer_state.json"), key=lambda p: p.stat().st_mtime)[
        -1:
    ]
    for path in candidates:
        if not path.is_file():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        for key in ("log_history", "history"):
            history = data.get(key) if isinstance(data, dict) else None
            if isinstance(history, list) and history:
                return [e for e in history if isinstance(e, dict)]
        train = data.get("train") if isinstance(data, dict) else None
        if isinstance(train, dict) and isinstance(train.get("log_history"), list):
            return list(train["log_history"])
    return []


def pooled_stats(
    per_seed_rows: Sequence[Sequence[dict[str, Any]]], metric: str
) -> tuple[list[str], np.ndarray]:
    """Per-item statistics averaged over seeds, on the items every seed has (sorted item keys)."""
    tables = [dict(zip(*sample_stats(rows, metric), strict=True)) for rows in per_seed_rows]
    if not tables:
        return [], np.zeros((0, 0))
    keys = sorted(set.intersection(*(set(t) for t in tables)))
    if not keys:
        return [], np.zeros((0, 0))
    return keys, np.stack([np.mean([t[k] for t in tables], axis=0) for k in keys])


def build_comparison(
    recipe: Recipe,
    layout: Layout,
    conditions: Sequence[ConditionConfig],
    results: dict[str, list[tuple[int, str, dict[str, Any]]]],
    runs: list[dict[str, Any]],
) -> dict[str, Any]:
    e = recipe.eval
    names = [c.name for c in conditions]
    base = next((c.name for c in conditions if not c.mix and c.shots == 0), names[0])
    rows = {n: [read_samples(layout, en) for _s, en, _r in results[n]] for n in names}
    mc_rows = {n: [read_samples(layout, en, MC_SAMPLES) for _s, en, _r in results[n]] for n in names}
    wanted: list[str] = [m for m in e.metrics if m != "accuracy"]
    if any(any(r) for per in mc_rows.values() for r in per):
        wanted.append("accuracy")
    pooled: dict[str, dict[str, tuple[list[str], np.ndarray]]] = {}
    for m in wanted:
        source_rows = mc_rows if m == "accuracy" else rows
        pooled[m] = {n: pooled_stats(source_rows[n], m) for n in names}
    present = [m for m in wanted if any(len(k) for k, _ in pooled[m].values())]
    scores: dict[str, dict[str, Any]] = {n: {} for n in names}
    for m in present:
        metric = metrics.get(m)
        for n in names:
            keys, stats = pooled[m][n]
            if not keys:
                continue
            per_seed = [r["metrics"].get(m, {}).get("score") for _s, _en, r in results[n]]
            per_seed = [v for v in per_seed if v is not None]
            scores[n][m] = {
                "score": float(metric.score(stats.sum(0))),
                "ci": list(significance.bootstrap_ci(metric, stats, e.bootstrap_samples, recipe.seed)),
                "n": len(keys),
                "per_seed": per_seed,
                "seed_sd": float(np.std(per_seed, ddof=1)) if len(per_seed) > 1 else None,
            }
    tests = pairwise_tests(recipe, names, base, pooled, present)
    first_scores = {n: results[n][0][2] for n in names}
    return {
        "recipe": recipe.name,
        "description": recipe.description,
        "model": recipe.train.model,
        "quantization": recipe.train.quantization,
        "prompt_format": recipe.train.prompt_format,
        "code_version": code_version(),
        "seeds": list(e.seeds),
        "test": e.significance,
        "resamples": e.bootstrap_samples if e.significance == "bootstrap" else e.randomization_trials,
        "alpha": e.alpha,
        "base": base,
        "test_sources": test_source_names(recipe, layout),
        "n_items": max((len(rows[n][0]) for n in names if rows[n] and rows[n][0]), default=0),
        "metrics": present,
        "signatures": {m: metrics.get(m).signature for m in present},
        "conditions": [
            {"name": c.name, "mix": c.mix, "shots": c.shots, "seeds": [s for s, _en, _r in results[c.name]]}
            for c in conditions
        ],
        "scores": scores,
        "tests": tests,
        "by_source": _by_source(recipe, names, rows, present),
        "multiple_choice": {
            n: r["multiple_choice"] for n, r in first_scores.items() if r.get("multiple_choice")
        },
        "judge": {"single": {n: r["judge"] for n, r in first_scores.items() if r.get("judge")}}
        if any(r.get("judge") for r in first_scores.values())
        else {},
        "runs": runs,
        "samples": _side_by_side(names, rows, e.sample_outputs),
        "sample_files": {
            en: str(condition_dir(layout, en) / SAMPLES) for n in names for _s, en, _r in results[n]
        },
    }


def pairwise_tests(
    recipe: Recipe,
    names: Sequence[str],
    base: str,
    pooled: dict[str, dict[str, tuple[list[str], np.ndarray]]],
    present: Sequence[str],
) -> list[dict[str, Any]]:
    """Every pair of conditions on every metric, base first; Holm-adjusted per metric."""
    e = recipe.eval
    # Pairs with the base first, then the rest, so the table reads "condition vs base" before the others.
    ordered = [n for n in names if n != base]
    pairs = [(n, base) for n in ordered] + list(itertools.combinations(ordered, 2))
    out: list[dict[str, Any]] = []
    for m in present:
        metric = metrics.get(m)
        family: list[dict[str, Any]] = []
        for a, b in pairs:
            keys_a, stats_a = pooled[m][a]
            keys_b, stats_b = pooled[m][b]
            shared = sorted(set(keys_a) & set(keys_b))
            if not shared:
                continue
            ia, ib = {k: i for i, k in enumerate(keys_a)}, {k: i for i, k in enumerate(keys_b)}
            r = significance.compare_pair(
                metric,
                stats_a[[ia[k] for k in shared]],
                stats_b[[ib[k] for k in shared]],
                test=e.significance,
                samples=e.bootstrap_samples if e.significance == "bootstrap" else e.randomization_trials,
                seed=recipe.seed,
            )
            family.append(
                {
                    "a": a,
                    "b": b,
                    "metric": m,
                    "score_a": r.score_a,
                    "score_b": r.score_b,
                    "delta": r.delta,
                    "ci_delta": list(r.ci_delta),
                    "p_value": r.p_value,
                    "n_items": r.n_items,
                    "test": r.test,
                }
            )
        for t, adjusted in zip(family, significance.holm([float(t["p_value"]) for t in family]), strict=True):
            t["p_holm"] = adjusted
            t["significant"] = adjusted < e.alpha
        out += family
    return out


def _by_source(
    recipe: Recipe,
    names: Sequence[str],
    rows: dict[str, list[list[dict[str, Any]]]],
    present: Sequence[str],
) -> dict[str, dict[str, dict[str, Any]]]:
    sources = sorted({r["source"] for n in names for per in rows[n] for r in per})
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for source in sources:
        out[source] = {}
        for n in names:
            part = [[r for r in per if r["source"] == source] for per in rows[n]]
            scores = {}
            for m in present:
                if m == "accuracy":
                    continue
                keys, stats = pooled_stats(part, m)
                if keys:
                    metric = metrics.get(m)
                    scores[m] = {
                        "score": float(metric.score(stats.sum(0))),
                        "ci": list(
                            significance.bootstrap_ci(
                                metric, stats, recipe.eval.bootstrap_samples, recipe.seed
                            )
                        ),
                        "n": len(keys),
                    }
            out[source][n] = scores
    return out


def _side_by_side(
    names: Sequence[str], rows: dict[str, list[list[dict[str, Any]]]], k: int
) -> list[dict[str, Any]]:
    """The first ``k`` test items with every condition's output (first seed)."""
    first = {n: {(r["source"], r["id"]): r for r in rows[n][0]} if rows[n] else {} for n in names}
    anchor = rows[names[0]][0] if rows[names[0]] else []
    items = []
    for r in anchor[:k]:
        key = (r["source"], r["id"])
        items.append(
            {
                "source": r["source"],
                "id": r["id"],
                "input": r.get("input", ""),
                "reference": r.get("reference", ""),
                "outputs": {n: first[n].get(key, {}).get("output", "") for n in names},
            }
        )
    return items


def _pairwise_judging(
    recipe: Recipe,
    layout: Layout,
    conditions: Sequence[ConditionConfig],
    results: dict[str, list[tuple[int, str, dict[str, Any]]]],
) -> list[dict[str, Any]]:
    from eval.judge import pairwise_conditions

    base = next((c.name for c in conditions if not c.mix and c.shots == 0), conditions[0].name)
    base_rows = read_samples(layout, results[base][0][1])
    out = []
    for cond in conditions:
        if cond.name == base:
            continue
        rows = read_samples(layout, results[cond.name][0][1])
        out.append({"x": cond.name, "y": base, **pairwise_conditions(recipe, layout, rows, base_rows)})
    return out


def format_summary(comparison: dict[str, Any]) -> str:
    """Every score with its 95% CI under its metric's signature (what the CLI shows at the end)."""
    lines = []
    for m in comparison["metrics"]:
        lines.append(f"{m}  ({comparison['signatures'][m]})")
        for cond in comparison["conditions"]:
            s = comparison["scores"][cond["name"]].get(m)
            if s:
                lines.append(
                    f"  {cond['name']:28} {metrics.format_score(m, s['score']):>8}  "
                    f"[{metrics.format_score(m, s['ci'][0])}, {metrics.format_score(m, s['ci'][1])}]"
                )
    return "\n".join(lines)
