"""Synth stage entry point: every ``[synth.*]`` job into ``data/<recipe>/synth/<name>/``.

    synthmix synth --recipe recipes/sample.toml [--job synthetic] [--force]

For each job: read the seeding source's TRAIN split (``layout.ingest(from)``, or ``layout.synth(from)``
when it names another job; dev/test never reach a prompt), generate through the job's backend with the
shared response cache (``data/cache/llm.sqlite``), and write records plus ``rejected.parquet`` and a
manifest with token accounting, rejection counts and any budget stop. Every backend is built (API keys
checked) before the first request of the first job. A job whose output is complete and current is skipped;
``--force`` rebuilds it from the cache without paying again.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from pathlib import Path
from typing import Any

from synth.cache import ResponseCache
from synth.client import ChatBackend, make_backend
from synth.generator import Generator
from synth.instruction import InstructionGenerator
from synth.qa import QAGenerator
from synth.ratelimit import LimiterRegistry, RateLimiter
from synth.runner import JobRunner, stats_dict
from synth.translation import TranslationGenerator
from synthmix.config.base import as_table
from synthmix.config.synth import SynthJobConfig
from synthmix.errors import ConfigError, SynthmixError
from synthmix.layout import Layout
from synthmix.recipe import Recipe
from synthmix.status import config_hash_for
from synthmix.store import is_complete, read_manifest, read_records, write_dataset

log = logging.getLogger(__name__)

GENERATORS: dict[str, type[Generator]] = {
    "translation": TranslationGenerator,
    "qa": QAGenerator,
    "instruction": InstructionGenerator,
}


def job_order(recipe: Recipe, names: list[str]) -> list[str]:
    """Jobs seeded by another job run after it (``from`` may name a synth job)."""
    order: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in order:
            return
        if name in path:
            raise ConfigError(
                f"synth.{name}.from: jobs seed each other in a cycle: {' -> '.join((*path, name))}"
            )
        parent = recipe.synth[name].from_
        if parent in recipe.synth and parent in names:
            visit(parent, (*path, name))
        order.append(name)

    for name in names:
        visit(name, ())
    return order


def seed_path(recipe: Recipe, layout: Layout, job: SynthJobConfig) -> Path:
    return layout.synth(job.from_) if job.from_ in recipe.synth else layout.ingest(job.from_)


def _file_hash(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:20]


def job_inputs(recipe: Recipe, layout: Layout, name: str, generator: Generator) -> dict[str, str]:
    """What the output depends on besides the recipe: upstream data, the prompt template, a recording."""
    job = recipe.synth[name]
    inputs = {
        job.from_: str(read_manifest(seed_path(recipe, layout, job)).get("output_hash", "")),
        f"template:{generator.template.id}": generator.template.hash,
    }
    if job.llm.backend == "recorded":
        inputs["responses"] = _file_hash(job.llm.responses)
    return inputs


def run_synth(
    recipe: Recipe,
    layout: Layout,
    *,
    only: list[str] | None = None,
    force: bool = False,
    progress: bool = True,
) -> dict[str, dict[str, Any]]:
    """Run the recipe's synth jobs (or ``only`` those); returns each job's manifest."""
    names = list(only or recipe.synth)
    unknown = [n for n in names if n not in recipe.synth]
    if unknown:
        raise ConfigError(
            f"--job: unknown synth job(s) {', '.join(unknown)}; the recipe has: {', '.join(recipe.synth) or 'none'}"
        )
    names = job_order(recipe, names)
    for name in names:
        job = recipe.synth[name]
        src = seed_path(recipe, layout, job)
        if not is_complete(src) and job.from_ not in names:
            stage = "synth" if job.from_ in recipe.synth else "ingest"
            raise SynthmixError(
                f"synth.{name}.from: {job.from_!r} has no complete output at {src}; "
                f"run `synthmix {stage} --recipe {recipe.path or recipe.name}` first"
            )
    # Every backend (and so every API key) is checked before the first request of the first job.
    backends: dict[str, ChatBackend] = {}
    try:
        for name in names:
            backends[name] = make_backend(recipe.synth[name].llm, f"synth.{name}.llm")
        cache = ResponseCache(layout.cache / "llm.sqlite")
        limiters = LimiterRegistry()
        results: dict[str, dict[str, Any]] = {}
        try:
            for name in names:
                results[name] = _run_job(
                    recipe, layout, name, backends[name], cache, limiters, force, progress
                )
        finally:
            cache.close()
    finally:
        for backend in backends.values():
            backend.close()
    return results


def _run_job(
    recipe: Recipe,
    layout: Layout,
    name: str,
    backend: ChatBackend,
    cache: ResponseCache,
    limiters: LimiterRegistry,
    force: bool,
    progress: bool,
) -> dict[str, Any]:
    job = recipe.synth[name]
    out = layout.synth(name)
    config_hash = config_hash_for(recipe, "synth", name)
    pool = read_records(seed_path(recipe, layout, job), split="train")  # never dev/test: no eval leakage
    generator = GENERATORS[job.generator](name, job, pool)
    inputs = job_inputs(recipe, layout, name, generator)
    if not force and is_complete(out):
        manifest = read_manifest(out)
        if manifest.get("config_hash") == config_hash and manifest.get("inputs") == inputs:
            log.info("synth.%s is complete and current (%s); skipping", name, out)
            return manifest
    started = time.time()
    llm = job.llm
    if llm.backend in ("recorded", "transformers"):
        limiter = RateLimiter(0.0)  # nothing remote to protect: no pacing
    else:
        limiter = limiters.get(
            llm.backend, llm.base_url, llm.model, llm.requests_per_minute, llm.tokens_per_minute
        )
    runner = JobRunner(
        name, job, generator, backend, cache, limiter, config_hash=config_hash, progress=progress
    )
    result = runner.run()
    s = result.stats
    extra = {
        "synth": {
            "generator": job.generator,
            "backend": backend.name,
            "model": llm.model,
            "template": {"id": generator.template.id, "hash": generator.template.hash},
            "target_records": job.records,
            "records": len(result.records),
            "requests": {
                "planned": s.requests_planned,
                "completed": s.requests_completed,
                "cache_hits": s.cache_hits,
                "sent": s.responses_received,
                "http_attempts": s.http_requests,
                "retries": s.retries,
                "rate_limited_429": s.rate_limited_429,
                "server_errors": s.server_errors,
                "timeouts": s.timeouts,
                "connection_errors": s.connection_errors,
                "failed": s.failed_requests,
                "failed_by_reason": dict(sorted(s.failures.items())),
            },
            # Tokens and cost of every answer the dataset was built from (cached ones included) ...
            "tokens": {
                "prompt": s.prompt_tokens,
                "completion": s.completion_tokens,
                "total": s.prompt_tokens + s.completion_tokens,
            },
            "cost_usd": result.cost_usd,
            # ... and what this run itself spent (0 when everything came from the cache).
            "this_run": {
                "prompt_tokens": s.fresh_prompt_tokens,
                "completion_tokens": s.fresh_completion_tokens,
                "cost_usd": result.fresh_cost_usd,
                "limiter_wait_s": s.limiter_wait_s,
            },
            "price": as_table(llm.price),
            "rejected_by_reason": dict(sorted(Counter(x.reason for x in result.rejections).items())),
            "stop": result.stop,
            "raw_stats": stats_dict(s),
        }
    }
    manifest = write_dataset(
        out,
        result.records,
        stage="synth",
        config=as_table(job),
        config_hash=config_hash,
        rejected=result.rejections,
        inputs=inputs,
        extra=extra,
        started=started,
    )
    log.info(
        "synth.%s: %d records, %d rejected, %d requests (%d cached), %d tokens, $%.4f%s",
        name,
        len(result.records),
        len(result.rejections),
        s.requests_completed,
        s.cache_hits,
        s.prompt_tokens + s.completion_tokens,
        result.cost_usd,
        f"; stopped: {result.stop['reason']}" if result.stop else "",
    )
    return manifest
