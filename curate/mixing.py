"""Mixing curated sources by name and weight: ``synthetic+flores`` or ``synthetic:0.3+flores:0.7``.

    synthmix mix --recipe recipes/sample.toml flores synthetic+flores
    from curate.mixing import build_mix
    path = build_mix(recipe, layout, "synthetic:0.3+flores:0.7")

A mix reads the train split of each named ``layout.curate(source)`` and takes a seeded sample of it:

- ``[mix] budget`` (0 = no cap) sets the mix size in ``budget_unit``: ``records``, or ``tokens`` counted as
  whitespace-separated words of the payload fields. Every mix of a recipe then has the same size, so real,
  synthetic and mixed conditions are compared at equal size.
- Each source gets its share of the budget (weights are normalized). A source with too few records gives
  all it has and the shortfall is written in the manifest (``mix.shortfall``): nothing is ever oversampled.
  With no budget, the mix is the largest one in which every source still gets exactly its share.
- Sampling is seeded and order-independent: records are ranked by a hash of (seed, source, id), so the
  same inputs and settings give byte-identical output and adding records to a source changes little.

The manifest's ``mix`` table holds the spec, a ``mix_id`` (hash of the inputs' output hashes, the canonical
spec and the mix settings), the weights, requested and actual units per source and the ids per source.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from synthmix import code_version
from synthmix.config.base import as_table
from synthmix.errors import ConfigError, SynthmixError
from synthmix.hashing import stable_hash
from synthmix.layout import Layout
from synthmix.mixspec import MixSpec, parse_mix
from synthmix.recipe import Recipe
from synthmix.record import ProvenanceStamp, Record
from synthmix.status import config_hash_for
from synthmix.store import is_complete, read_manifest, read_records, write_dataset

log = logging.getLogger(__name__)

STAGE = "mix"


def record_tokens(record: Record) -> int:
    """Whitespace tokens of a record's payload: the budget unit ``tokens``."""
    return sum(len(v.split()) for v in record.fields.values() if v)


def record_units(record: Record, unit: str) -> int:
    return record_tokens(record) if unit == "tokens" else 1


def sample_key(seed: int, source: str, record_id: str) -> str:
    return hashlib.sha256(f"{seed}:{source}:{record_id}".encode()).hexdigest()


def ranked(records: list[Record], seed: int, source: str) -> list[Record]:
    """A source's records in seeded sample order (a prefix of it is the sample)."""
    return sorted(records, key=lambda r: sample_key(seed, source, r.id))


def allocate(budget: int, weights: Sequence[tuple[str, float]]) -> dict[str, int]:
    """Split ``budget`` units by weight with largest remainders, so shares sum to exactly ``budget``."""
    raw = [(name, budget * w) for name, w in weights]
    shares = {name: int(x) for name, x in raw}
    rest = budget - sum(shares.values())
    order = sorted(raw, key=lambda nx: (-(nx[1] - int(nx[1])), nx[0]))
    for name, _ in order[:rest]:
        shares[name] += 1
    return shares


def take_units(records: list[Record], target: int, unit: str) -> list[Record]:
    """Records in the given order until ``target`` units; under ``tokens``, records that would overshoot
    are skipped so the share is filled as closely as possible without going over."""
    if unit == "records":
        return records[:target]
    out, total = [], 0
    for r in records:
        n = record_tokens(r)
        if total + n <= target:
            out.append(r)
            total += n
        if total >= target:
            break
    return out


def _resolve(recipe: Recipe, spec: str) -> MixSpec:
    mix = parse_mix(spec, "MIX")
    for name in mix.sources:
        if name not in recipe.source_names:
            raise ConfigError(
                f"MIX: mix {spec!r} names unknown source {name!r}; "
                f"known: {', '.join(recipe.source_names) or 'none'}"
            )
    return mix


def build_mix(recipe: Recipe, layout: Layout, spec: str, *, force: bool = False) -> Path:
    """Build (or reuse, when current) the mix ``spec``; returns its dataset directory."""
    started = time.time()
    mix = _resolve(recipe, spec)
    cfg = recipe.mix
    out = layout.mix(mix.canonical)
    dirs = {name: layout.curate(name) for name in mix.sources}
    missing = [name for name, path in dirs.items() if not is_complete(path)]
    if missing:
        raise SynthmixError(
            f"mix {spec!r} needs curated source(s) {', '.join(missing)} ({dirs[missing[0]]} has no "
            f"manifest.json); run: synthmix curate --recipe {recipe.path or 'RECIPE'}"
        )
    inputs = {name: str(read_manifest(path).get("output_hash", "")) for name, path in dirs.items()}
    config_hash = config_hash_for(recipe, STAGE, spec)
    if not force and is_complete(out):
        manifest = read_manifest(out)
        if manifest.get("config_hash") == config_hash and manifest.get("inputs") == inputs:
            log.info("mix %s is current: %s", mix.canonical, out)
            return out

    pools: dict[str, list[Record]] = {}
    for name, path in dirs.items():
        pools[name] = ranked(read_records(path, "train"), cfg.seed, name)
    available = {name: sum(record_units(r, cfg.budget_unit) for r in pool) for name, pool in pools.items()}
    weights = dict(mix.parts)
    if cfg.budget > 0:
        budget = cfg.budget
    else:
        # The largest mix in which every source still gets exactly its share: no oversampling.
        budget = int(min(available[n] / w for n, w in mix.parts)) if mix.parts else 0
    requested = allocate(budget, sorted(mix.parts))
    chosen: dict[str, list[Record]] = {}
    shortfall: dict[str, dict[str, int]] = {}
    for name in mix.sources:
        chosen[name] = take_units(pools[name], requested[name], cfg.budget_unit)
        if available[name] < requested[name]:
            shortfall[name] = {"requested": requested[name], "available": available[name]}
            log.warning(
                "mix %s: source %s has %d %s, its share is %d; taking all of it (never oversampled)",
                mix.canonical,
                name,
                available[name],
                cfg.budget_unit,
                requested[name],
            )
    if not any(chosen.values()):
        empty = [n for n in mix.sources if not pools[n]]
        raise SynthmixError(
            f"mix {spec!r} would be empty: "
            + (
                f"no train records in curated source(s) {', '.join(empty)}"
                if empty
                else f"[mix] budget {cfg.budget} {cfg.budget_unit} is too small for any record"
            )
            + "; check the curate funnel in their manifest.json"
        )
    actual = {n: sum(record_units(r, cfg.budget_unit) for r in rs) for n, rs in chosen.items()}
    mix_id = stable_hash(["mix", inputs, mix.canonical, as_table(cfg)])
    stamp = ProvenanceStamp(STAGE, code_version(), config_hash)
    records = [replace(r, provenance=(*r.provenance, stamp)) for rs in chosen.values() for r in rs]
    # One interleaved, seeded order (by the same hash keys), so a trainer reading in order sees a blend.
    records.sort(key=lambda r: sample_key(cfg.seed, r.source, r.id))
    facts: dict[str, Any] = {
        "spec": spec,
        "canonical": mix.canonical,
        "mix_id": mix_id,
        "weights": {n: round(w, 6) for n, w in sorted(weights.items())},
        "budget": cfg.budget,
        "budget_unit": cfg.budget_unit,
        "seed": cfg.seed,
        "requested": dict(sorted(requested.items())),
        "actual": dict(sorted(actual.items())),
        "available": dict(sorted(available.items())),
        "records_by_source": {n: len(rs) for n, rs in sorted(chosen.items())},
        "shortfall": shortfall,
        "ids_by_source": {n: sorted(r.id for r in rs) for n, rs in sorted(chosen.items())},
    }
    write_dataset(
        out,
        records,
        stage=STAGE,
        config=as_table(cfg),
        config_hash=config_hash,
        inputs=inputs,
        extra={"mix": facts},
        started=started,
    )
    log.info(
        "mix %s: %s -> %s",
        mix.canonical,
        ", ".join(f"{n} {actual[n]}/{requested[n]} {cfg.budget_unit}" for n in mix.sources),
        out,
    )
    return out


def build_mixes(recipe: Recipe, layout: Layout, specs: Sequence[str], *, force: bool = False) -> list[Path]:
    """Every mix in ``specs`` (checked first, so a typo fails before any work)."""
    for spec in specs:
        _resolve(recipe, spec)
    return [build_mix(recipe, layout, spec, force=force) for spec in specs]
