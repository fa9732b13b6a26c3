"""Dataset cards for every curated source and mix: Hub ``README.md``, ``card.json`` and PNG plots.

    synthmix card --recipe recipes/sample.toml                # every complete curated source and mix
    synthmix card --recipe recipes/sample.toml --dataset data/sample/mix/flores

``make corpus`` runs this last. Each card is written into its dataset directory (beside the Parquet shards
and manifest.json); the directory's data files and manifest are never touched. ``card.json`` holds the same
facts as the README for programs (train/ records its ``card_hash``); the hash covers the content only, so
the same data and recipe give the same card hash on every run. Nothing local leaks into a card: every fact
passes through ``synthmix.redact`` (secrets, absolute paths, user names). A card built from the same
manifests, recipe and code is kept (``build_key`` in card.json), as every stage keeps current outputs.
A card reads its dataset in one streaming pass, so million-record sources need no more memory than
their lengths.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from huggingface_hub import DatasetCard
from tqdm import tqdm

from data_cards.metadata import card_metadata, metadata_problems
from data_cards.plots import write_plots
from data_cards.provenance import (
    SourceObservations,
    first,
    lookup,
    source_facts,
    synthetic_facts,
    upstream_manifest,
)
from data_cards.render import render_body
from data_cards.stats import StatsAccumulator
from synthmix import code_version
from synthmix.config.base import as_table
from synthmix.errors import SynthmixError
from synthmix.hashing import stable_hash
from synthmix.layout import Layout
from synthmix.recipe import Recipe
from synthmix.record import INPUT_FIELDS, OUTPUT_FIELDS
from synthmix.redact import redact
from synthmix.store import is_complete, iter_records, read_manifest

log = logging.getLogger(__name__)

README = "README.md"
CARD_JSON = "card.json"
ASSETS = "assets"
CARD_VERSION = 1


# Keys of card.json that are about the card file, not the dataset: left out of the card hash.
UNHASHED_KEYS = ("card_hash", "build_key")


def card_hash(card: dict[str, Any]) -> str:
    """Stable hash of a card's content, excluding the ``card_hash`` key itself (and the build key)."""
    return stable_hash({k: v for k, v in card.items() if k not in UNHASHED_KEYS}, length=20)


def build_key(path: Path, recipe: Recipe | None, layout: Layout) -> str:
    """Everything a card is built from, hashed: the dataset's and its upstream manifests (bytes), the
    recipe parts the card shows, and the code version. An unchanged key means an unchanged card."""
    manifest = read_manifest(path)
    sources = sorted(lookup(manifest, "counts.by_source") or {})
    files = [Path(path) / "manifest.json"]
    for name in sources:
        for stage_dir in (layout.ingest(name), layout.synth(name), layout.curate(name)):
            if is_complete(stage_dir):
                files.append(stage_dir / "manifest.json")
    recipe_part = None
    if recipe is not None:
        recipe_part = [recipe.name, recipe.description, recipe.path]
        recipe_part += [as_table(recipe.sources[n]) for n in sources if n in recipe.sources]
        recipe_part += [as_table(recipe.synth[n]) for n in sources if n in recipe.synth]
    digests = [hashlib.sha256(f.read_bytes()).hexdigest() for f in files]
    return stable_hash([CARD_VERSION, code_version(), recipe_part, digests], length=20)


def is_card_current(path: Path, recipe: Recipe | None, layout: Layout) -> bool:
    """The card in ``path`` exists, is complete, and was built from what is there now."""
    path = Path(path)
    if not all((path / name).is_file() for name in (README, CARD_JSON)):
        return False
    try:
        card = json.loads((path / CARD_JSON).read_text(encoding="utf-8"))
    except ValueError:
        return False
    plots_there = all((path / p).is_file() for p in (card.get("plots") or {}).values())
    return plots_there and card.get("build_key") == build_key(path, recipe, layout)


def dataset_dirs(layout: Layout, recipe: Recipe | None = None) -> list[Path]:
    """Every complete curated source directory and mix directory of a recipe, in a stable order."""
    curate_root = layout.data / "curate"
    names = recipe.source_names if recipe is not None else []
    dirs = [layout.curate(n) for n in names if is_complete(layout.curate(n))]
    # Curated dirs the recipe no longer names still get a card: they are on disk and may be published.
    # Hidden names are a writer's temp or moved-aside dirs (synthmix.store), never outputs.
    if curate_root.is_dir():
        dirs += sorted(
            p
            for p in curate_root.iterdir()
            if p not in dirs and not p.name.startswith(".") and is_complete(p)
        )
    mix_root = layout.data / "mix"
    if mix_root.is_dir():
        dirs += sorted(p for p in mix_root.iterdir() if not p.name.startswith(".") and is_complete(p))
    return dirs


def _length_labels(kinds: Iterable[str]) -> dict[str, str]:
    return {
        "input": "/".join(sorted({INPUT_FIELDS[k] for k in kinds})) or "input",
        "output": "/".join(sorted({OUTPUT_FIELDS[k] for k in kinds if k != "passage"})) or "output",
    }


def _mix_facts(manifest: dict[str, Any], stats: dict[str, Any]) -> dict[str, Any]:
    mix = manifest.get("mix") or {}
    weights = mix.get("weights") or {}
    ids_by_source = mix.get("ids_by_source") or {}
    realized = {name: s["share"] for name, s in stats["sources"].items()}
    return {
        "spec": mix.get("spec") or manifest.get("name"),
        "mix_id": mix.get("mix_id"),
        "weights": weights,
        "realized_shares": realized,
        "ids_per_source": {k: len(v) for k, v in sorted(ids_by_source.items()) if isinstance(v, list)},
        "budget": first(lookup(mix, "budget"), lookup(manifest, "config.budget")),
        "budget_unit": lookup(mix, "budget_unit") or lookup(manifest, "config.budget_unit"),
        "seed": first(lookup(mix, "seed"), lookup(manifest, "config.seed")),
        "available": mix.get("available") or {},
        "shortfall": mix.get("shortfall") or {},
    }


def _decontam_facts(manifest: dict[str, Any]) -> dict[str, Any] | None:
    decontam = manifest.get("decontam")
    reasons = lookup(manifest, "counts.rejected_by_reason") or {}
    contam = {k: v for k, v in reasons.items() if "contam" in k or "eval_overlap" in k}
    if decontam is None and not contam:
        return None
    out: dict[str, Any] = dict(decontam) if isinstance(decontam, dict) else {"result": decontam}
    if contam:
        out.setdefault("rejected_by_reason", contam)
    return out


def _component_funnels(layout: Layout, sources: list[str]) -> dict[str, Any]:
    """For a mix: the funnel and decontamination of each curated source it draws from."""
    out = {}
    for name in sources:
        m = upstream_manifest(layout, "curate", name)
        out[name] = {"funnel": m.get("funnel"), "decontam": _decontam_facts(m) if m else None}
    return out


def observe(path: Path, total: int | None = None) -> tuple[StatsAccumulator, dict[str, SourceObservations]]:
    """One streaming pass over a dataset's records: statistics and per-source provenance observations."""
    stats = StatsAccumulator()
    by_source: dict[str, SourceObservations] = defaultdict(SourceObservations)
    records = iter_records(path)
    # A progress bar only where reading takes a while (it is the bulk of a big card's time).
    for r in tqdm(
        records, total=total, desc=f"card {Path(path).name}", unit="rec", disable=(total or 0) < 100_000
    ):
        stats.add(r)
        by_source[r.source].add(r)
    return stats, dict(by_source)


def build_facts(
    path: Path,
    recipe: Recipe | None,
    layout: Layout,
    observed: tuple[StatsAccumulator, dict[str, SourceObservations]] | None = None,
) -> dict[str, Any]:
    """Everything a card says about the dataset at ``path``, as plain (unredacted) data."""
    path = Path(path)
    manifest = read_manifest(path)
    acc, by_source = observed or observe(path, lookup(manifest, "counts.records"))
    stats = acc.result()
    is_mix = manifest.get("stage") == "mix" or path.parent.name == "mix" or "mix" in manifest
    name = manifest.get("name") or path.name
    sources = [source_facts(recipe, layout, s, obs) for s, obs in sorted(by_source.items())]
    synthetic = [
        synthetic_facts(recipe, layout, s["name"], by_source[s["name"]])
        for s in sources
        if s["origin"] == "synthetic" or (recipe is not None and s["name"] in recipe.synth)
    ]
    recipe_name = recipe.name if recipe is not None else layout.recipe
    facts: dict[str, Any] = {
        "card_version": CARD_VERSION,
        "name": name,
        "dataset_type": "mix" if is_mix else "curated source",
        "recipe": recipe_name,
        "recipe_description": recipe.description if recipe is not None else "",
        "pretty_name": f"synthmix {recipe_name}: {'mix ' if is_mix else ''}{name}",
        "dataset": {
            "stage": manifest.get("stage"),
            "output_hash": manifest.get("output_hash"),
            "config_hash": manifest.get("config_hash"),
            "inputs": manifest.get("inputs") or {},
            "built_with": manifest.get("code_version"),
            "files": [f for f in manifest.get("files") or [] if f != "rejected.parquet"],
            "rejected": lookup(manifest, "counts.rejected") or 0,
            "rejected_by_reason": lookup(manifest, "counts.rejected_by_reason") or {},
        },
        "stats": stats,
        "sources": sources,
        "synthetic": synthetic,
        "length_labels": _length_labels(stats["by_kind"]),
    }
    if is_mix:
        facts["mix"] = _mix_facts(manifest, stats)
        components = _component_funnels(layout, sorted(by_source))
        facts["components"] = components
        funnel: list[dict[str, Any]] = []
        for src, comp in components.items():
            for step in comp["funnel"] or []:
                funnel.append({**step, "stage": f"{src}: {step.get('stage', '?')}"})
        # The mix step draws from the train records of its sources ("available", in budget units).
        mix_manifest = manifest.get("mix") or {}
        available = mix_manifest.get("available") or {}
        counted_in_records = mix_manifest.get("budget_unit", "records") == "records"
        mixed_in = sum(v for v in available.values() if isinstance(v, int)) if counted_in_records else 0
        funnel.append({"stage": "mix", "in": mixed_in or stats["records"], "out": stats["records"]})
        facts["funnel"] = funnel if len(funnel) > 1 else None
        facts["decontam"] = None
    else:
        recorded = manifest.get("funnel")
        facts["funnel"] = recorded if isinstance(recorded, list) else None
        facts["decontam"] = _decontam_facts(manifest)
        facts["langid"] = manifest.get("langid")
    facts["reproduce"] = reproduce_facts(recipe, layout, name, is_mix, facts.get("mix"))
    return facts


def public_path(path: str) -> str:
    """A path as a card may show it: relative to the project (the working directory), else the file name
    under recipes/ (an absolute path elsewhere says nothing to a reader and names this machine's folders)."""
    p = Path(path)
    if not p.is_absolute():
        return p.as_posix()
    try:
        return p.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return f"recipes/{p.name}"


def reproduce_facts(
    recipe: Recipe | None, layout: Layout, name: str, is_mix: bool, mix: dict[str, Any] | None
) -> dict[str, Any]:
    recipe_path = public_path((recipe.path if recipe is not None else "") or f"recipes/{layout.recipe}.toml")
    commands = [f"make corpus RECIPE={recipe_path}"]
    if is_mix and mix and mix.get("spec"):
        commands.append(f"synthmix mix --recipe {recipe_path} '{mix['spec']}'")
    commands.append(f"synthmix card --recipe {recipe_path}")
    # No code version or whole-recipe hash here: the card hash must change when the data or its
    # provenance changes, not when an unrelated recipe section or commit does (the manifest's code
    # version, under dataset.built_with, says what built the data).
    return {"recipe": recipe_path, "commands": commands}


def build_card(
    path: Path, recipe: Recipe | None, layout: Layout, data_prefix: str = ""
) -> tuple[dict[str, Any], DatasetCard, dict[str, dict[str, list[int]]]]:
    """(card.json content, README card, raw lengths for plots) for the dataset at ``path``."""
    observed = observe(path, lookup(read_manifest(path), "counts.records"))
    facts = build_facts(path, recipe, layout, observed)
    facts["plots"] = _plot_names(facts)
    metadata = card_metadata(facts, data_prefix)
    problems = metadata_problems(metadata.to_dict())
    if problems:  # a synthmix bug, not a user error: the card would be rejected by the Hub
        raise RuntimeError(f"{path}: card metadata the Hub would reject: {'; '.join(problems)}")
    facts["metadata"] = metadata.to_dict()
    card_json = redact(facts)
    card_json["card_hash"] = card_hash(card_json)
    card_json["build_key"] = build_key(path, recipe, layout)
    body = render_body(card_json)
    card = DatasetCard(f"---\n{metadata.to_yaml()}\n---\n\n{body}")
    # The README is public text too: one more pass catches a secret or path the facts missed.
    card = DatasetCard(redact(str(card)))
    return card_json, card, observed[0].lengths()


def _plot_names(facts: dict[str, Any]) -> dict[str, str]:
    names = {}
    if facts.get("funnel"):
        names["funnel"] = f"{ASSETS}/funnel.png"
    if facts["stats"]["records"]:
        names["lengths"] = f"{ASSETS}/lengths.png"
        names["sources"] = f"{ASSETS}/sources.png"
    return names


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_card(path: Path, recipe: Recipe | None, layout: Layout) -> Path:
    """Write README.md, card.json and assets/ into one complete dataset directory; returns the README."""
    path = Path(path)
    if not is_complete(path):
        raise SynthmixError(
            f"{path}: not a complete dataset directory (no manifest.json); "
            "build it first with `synthmix corpus` (or `synthmix curate` / `synthmix mix`)"
        )
    try:
        read_manifest(path)
    except ValueError as e:
        raise SynthmixError(
            f"{path}/manifest.json: not valid JSON ({e}); rebuild the dataset (e.g. synthmix corpus --force)"
        ) from None
    card_json, card, lengths = build_card(path, recipe, layout)
    # Plots go to a temp dir renamed into place, so a crash never leaves a half-drawn assets/ folder.
    tmp_assets = Path(tempfile.mkdtemp(prefix=f".{ASSETS}.tmp-", dir=path))
    try:
        made = write_plots(tmp_assets, card_json, lengths)
        if set(made) != set(card_json["plots"]):
            raise RuntimeError(f"plots drawn {sorted(made)} differ from plots linked {card_json['plots']}")
        old = path / ASSETS
        if old.exists():
            shutil.rmtree(old)
        os.replace(tmp_assets, old)
    except BaseException:
        shutil.rmtree(tmp_assets, ignore_errors=True)
        raise
    _atomic_write(path / CARD_JSON, json.dumps(card_json, indent=2, ensure_ascii=False) + "\n")
    _atomic_write(path / README, str(card))
    log.info("card for %s: %s (card hash %s)", card_json["name"], path / README, card_json["card_hash"])
    return path / README


def write_cards(
    recipe: Recipe, layout: Layout, only: Path | None = None, *, force: bool = False
) -> list[Path]:
    """Cards for every complete curated source and mix of ``recipe`` (or only the dataset dir ``only``).

    A card built from the same manifests, recipe and code is kept as it is (``force`` rewrites it), as every
    stage skips outputs that are current; returns the README of every dataset, written or kept.
    """
    if only is not None:
        targets = [Path(only)]
    else:
        targets = dataset_dirs(layout, recipe)
        if not targets:
            log.warning("no complete curated source or mix under %s: nothing to write cards for", layout.data)
    written = []
    for path in tqdm(targets, desc="cards", unit="dataset", disable=len(targets) < 2):
        if not force and is_complete(path) and is_card_current(path, recipe, layout):
            log.info("card for %s is current, kept: %s", path.name, path / README)
            written.append(Path(path) / README)
            continue
        written.append(write_card(path, recipe, layout))
    return written


def load_card_json(path: Path) -> dict[str, Any]:
    """A dataset directory's card.json (train/ and eval/ read the card hash from it)."""
    file = Path(path) / CARD_JSON
    if not file.is_file():
        raise SynthmixError(f"{path}: no {CARD_JSON}; write it with `synthmix card --dataset {path}`")
    try:
        data: dict[str, Any] = json.loads(file.read_text(encoding="utf-8"))
    except ValueError as e:
        raise SynthmixError(
            f"{file}: not valid JSON ({e}); rewrite it with `synthmix card --dataset {path}`"
        ) from None
    return data
