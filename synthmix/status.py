"""What a recipe's outputs are, their config hashes, and which exist, are stale or missing.

Stages stamp each output's manifest with ``config_hash_for(recipe, stage, name)``; ``synthmix status``
recomputes it from the current recipe, so an edited recipe shows the outputs it invalidates.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from synthmix.config.base import as_table
from synthmix.hashing import stable_hash
from synthmix.layout import Layout
from synthmix.mixspec import parse_mix
from synthmix.recipe import Recipe
from synthmix.store import is_complete, read_manifest


def config_hash_for(recipe: Recipe, stage: str, name: str) -> str:
    """The part of the recipe an output depends on, hashed. Unknown stages hash the whole recipe."""
    if stage == "ingest":
        return stable_hash(["ingest", as_table(recipe.sources[name])])
    if stage == "synth":
        return stable_hash(["synth", as_table(recipe.synth[name])])
    if stage == "curate":
        # The relevance gate filters inside curation only when gate.filter_qa is on.
        gate = as_table(recipe.gate) if recipe.gate.enabled and recipe.gate.filter_qa else None
        return stable_hash(["curate", as_table(recipe.curate), sorted(recipe.source_names), gate])
    if stage == "mix":
        return stable_hash(["mix", as_table(recipe.mix), parse_mix(name).canonical])
    return recipe.hash()


@dataclass(frozen=True)
class OutputStatus:
    stage: str
    name: str
    path: Path
    state: str  # complete | stale | missing
    records: int | None = None


def expected_outputs(recipe: Recipe, layout: Layout) -> list[tuple[str, str, Path]]:
    out: list[tuple[str, str, Path]] = [("ingest", n, layout.ingest(n)) for n in recipe.sources]
    out += [("synth", n, layout.synth(n)) for n in recipe.synth]
    out += [("curate", n, layout.curate(n)) for n in recipe.source_names]
    out += [("mix", spec, layout.mix(parse_mix(spec).canonical)) for spec in recipe.mix.build]
    return out


def recipe_status(recipe: Recipe, layout: Layout) -> list[OutputStatus]:
    rows = []
    for stage, name, path in expected_outputs(recipe, layout):
        if not is_complete(path):
            rows.append(OutputStatus(stage, name, path, "missing"))
            continue
        manifest = read_manifest(path)
        current = manifest.get("config_hash") == config_hash_for(recipe, stage, name)
        rows.append(
            OutputStatus(
                stage,
                name,
                path,
                "complete" if current else "stale",
                manifest.get("counts", {}).get("records"),
            )
        )
    return rows


def format_status(rows: list[OutputStatus]) -> str:
    lines = [f"{'stage':8} {'name':28} {'state':9} {'records':>8}  path"]
    for r in rows:
        n = "" if r.records is None else str(r.records)
        lines.append(f"{r.stage:8} {r.name:28} {r.state:9} {n:>8}  {r.path}")
    counts = {s: sum(r.state == s for r in rows) for s in ("complete", "stale", "missing")}
    lines.append(", ".join(f"{v} {k}" for k, v in counts.items()))
    return "\n".join(lines)
