"""The curate stage: every real and synthetic source, curated jointly, one output dataset per source.

    synthmix curate --recipe recipes/sample.toml [--executor ray [--ray-address ADDR]] [--force]

Reads ``layout.ingest(name)`` for every real source and ``layout.synth(name)`` for every synth job, and runs
over all records at once (so duplicates across sources are caught):

1. ``normalize``   every split: NFC, whitespace, markup, invisible characters; too_large / null_bytes /
                   missing_field records are rejected.
2. ``exact_dedup`` train records with the same content id; the best-ranked copy survives.
3. ``near_dedup``  MinHash + LSH over train records of each kind (curate.dedup); same survivor rule.
4. ``langid``      every side of every train record is in its declared language, a second engine
                   confirming (curate.langid).
5. ``quality``     heuristic filters (curate.quality).
6. ``decontam``    train records (and dev records that are not eval sets) against every registered eval
                   split (curate.decontam).
7. ``relevance``   only with ``gate.filter_qa``: train QA whose question the relevance gate calls
                   off-topic (curate.relevance; the topic source's own questions by out-of-fold scores).

Survivor rank: sources listed in ``curate.priority`` first, in that order; then real before synthetic;
then recipe order. Dev and test records are never dropped as duplicates of train data (they are the eval
sets): they pass normalization and the validity checks only. Dropped records go to ``rejected.parquet`` with
the reason; duplicates name the survivor in ``detail`` and ``meta["duplicate_of"]``. Each output's manifest
holds the funnel (curate.funnel), the decontamination summary and the eval splits carried over from ingest.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from curate import dedup
from curate.decontam import EvalIndex
from curate.executors import Executor, make_executor
from curate.funnel import Funnel
from curate.langid import involved_languages, judge_records
from curate.normalize import normalize_record
from curate.quality import QualityFilters
from synthmix import code_version
from synthmix.config.base import as_table
from synthmix.config.curate import CurateConfig, DedupConfig, LangIdConfig, QualityConfig
from synthmix.errors import ConfigError, SynthmixError
from synthmix.layout import Layout
from synthmix.recipe import Recipe
from synthmix.record import ProvenanceStamp, Record
from synthmix.status import config_hash_for
from synthmix.store import Rejection, is_complete, read_manifest, read_records, write_dataset

log = logging.getLogger(__name__)

STAGE = "curate"


@dataclass
class CurateResult:
    """What joint curation produced: kept and rejected records (all sources), funnel and decontam facts."""

    kept: list[Record]
    rejected: list[Rejection]
    funnel: Funnel
    eval_sets: list[str]
    removed_by_decontam: dict[str, int] = field(default_factory=dict)
    languages: tuple[str, ...] = ()
    # Upstream id of each kept record (differs from its id when normalization changed the text).
    upstream_ids: list[str] = field(default_factory=list)


# ---- per-batch work (module-level so Ray can pickle it) -------------------------------------------


def _normalize_batch(records: list[Record], *, config: CurateConfig) -> list[tuple[Record, str, str]]:
    return [
        normalize_record(
            r,
            null_bytes=config.null_bytes,
            max_record_chars=config.max_record_chars,
            clean=config.normalize,
        )
        for r in records
    ]


def _signature_batch(
    texts: list[str], *, mode: str, config: DedupConfig
) -> list[tuple[np.ndarray, np.ndarray]]:
    signatures, hashes = dedup.sketch(texts, mode, config)
    return list(zip(signatures, hashes, strict=True))


def _band_batch(signatures: list[np.ndarray], *, bands: int, rows: int) -> list[list[bytes]]:
    return [dedup.band_keys(s, bands, rows) for s in signatures]


def _langid_batch(
    records: list[Record], *, config: LangIdConfig, languages: tuple[str, ...]
) -> list[tuple[bool, str]]:
    return judge_records(records, config, languages)


def _quality_batch(records: list[Record], *, config: QualityConfig) -> list[tuple[bool, str, str]]:
    filters = QualityFilters(config)
    return [filters.check(r) for r in records]


def _decontam_batch(records: list[Record], *, index: EvalIndex) -> list[tuple[str, str]]:
    return [index.contamination(r) for r in records]


# ---- the joint curation ---------------------------------------------------------------------------


def survivor_rank(recipe: Recipe) -> dict[str, tuple[int, int, int]]:
    """Source -> rank tuple (lower survives): priority list, then real before synthetic, then recipe order."""
    priority = list(recipe.curate.priority)
    ranks = {}
    for order, name in enumerate(recipe.source_names):
        listed = priority.index(name) if name in priority else len(priority)
        synthetic = 1 if name in recipe.synth else 0
        ranks[name] = (listed, synthetic, order)
    return ranks


def curate_records(
    records: Sequence[Record],
    recipe: Recipe,
    *,
    eval_splits: dict[str, set[str]],
    executor: Executor | None = None,
    relevance: Callable[[list[Record]], dict[int, tuple[str, str]]] | None = None,
) -> CurateResult:
    """Curate every source's records together. ``eval_splits``: source -> registered eval split names.

    ``relevance`` (the question relevance gate, when the recipe's ``gate.filter_qa`` is on) maps the
    surviving train QA records to verdicts ``{index: (reason, detail)}`` for the ones to drop.

    Records must come in a deterministic order (recipe source order, stored order within a source); the
    output keeps that order, so the same inputs give the same outputs.
    """
    config = recipe.curate
    ex = executor or make_executor("local")
    funnel = Funnel()
    rejected: list[Rejection] = []
    source_rank = survivor_rank(recipe)
    for name in config.decontam.eval_sources:
        if name not in recipe.sources:
            raise ConfigError(f"curate.decontam.eval_sources: {name!r} is not a real source of the recipe")
    for name in config.langid.skip_sources:
        if name not in recipe.source_names:
            raise ConfigError(
                f"curate.langid.skip_sources: {name!r} is not a source; known: {', '.join(recipe.source_names)}"
            )

    # 1. normalize (all splits)
    results = ex.map_batches(
        functools.partial(_normalize_batch, config=config), list(records), 2048, "normalize"
    )
    current: list[tuple[Record, int, str]] = []  # (record, input position, original id)
    drops = []
    for pos, (orig, (rec, reason, detail)) in enumerate(zip(records, results, strict=True)):
        if reason:
            rejected.append(Rejection(rec, reason, detail))
            drops.append((rec, reason))
        else:
            current.append((rec, pos, orig.id))
    funnel.add("normalize", records, drops)

    def is_eval(r: Record) -> bool:
        return r.split in eval_splits.get(r.source, set())

    def rank(item: tuple[Record, int, str]) -> tuple[Any, ...]:
        r, pos, _ = item
        return (*source_rank.get(r.source, (len(source_rank), 1, len(source_rank))), pos)

    def split_train(items: list[tuple[Record, int, str]]) -> list[tuple[Record, int, str]]:
        return [x for x in items if x[0].split == "train"]

    def apply(stage: str, items: list[tuple[Record, int, str]], verdicts: dict[int, tuple[str, str]]) -> None:
        """Drop items whose local index has a verdict (reason, detail); count the stage in the funnel."""
        nonlocal current
        dropped_pos = set()
        stage_drops = []
        for k, (reason, detail) in sorted(verdicts.items()):
            rec = items[k][0]
            rejected.append(Rejection(rec, reason, detail))
            stage_drops.append((rec, reason))
            dropped_pos.add(items[k][1])
        funnel.add(stage, [x[0] for x in items], stage_drops)
        current = [x for x in current if x[1] not in dropped_pos]

    def duplicate_verdicts(
        items: list[tuple[Record, int, str]],
        dropped: dict[int, int],
        reason: str,
        notes: dict[int, str] | None = None,
    ) -> dict[int, tuple[str, str]]:
        out = {}
        for k, s in dropped.items():
            survivor = items[s][0]
            sim = (notes or {}).get(k, "")
            rec = items[k][0]
            meta = {**rec.meta, "duplicate_of": survivor.id, "duplicate_of_source": survivor.source}
            items[k] = (replace(rec, meta=meta), items[k][1], items[k][2])
            out[k] = (reason, f"duplicate_of={survivor.id} (source {survivor.source}{sim})")
        return out

    # 2. exact dedup (train only)
    train = split_train(current)
    if config.dedup.exact:
        verdicts_e: dict[int, tuple[str, str]] = {}
        for members in _dedup_groups(train, by_kind=False, by_source=not config.dedup.cross_source):
            group = [train[k] for k in members]
            dropped = dedup.exact_duplicates([x[0] for x in group], [rank(x) for x in group])
            for k, verdict in duplicate_verdicts(group, dropped, "exact_duplicate").items():
                train[members[k]] = group[k]  # carries the duplicate_of meta
                verdicts_e[members[k]] = verdict
        apply("exact_dedup", train, verdicts_e)
    else:
        funnel.add("exact_dedup", [x[0] for x in train], [])

    # 3. near dedup (train only), per kind: a passage and a sentence pair are never near-duplicates,
    # and each kind gets the shingles that suit its length under "auto".
    train = split_train(current)
    if config.dedup.near and train:
        verdicts_n: dict[int, tuple[str, str]] = {}
        for members in _dedup_groups(train, by_kind=True, by_source=not config.dedup.cross_source):
            group = [train[k] for k in members]
            dropped, notes = _near_duplicates(group, [rank(x) for x in group], config.dedup, ex)
            for k, (reason, detail) in duplicate_verdicts(group, dropped, "near_duplicate", notes).items():
                train[members[k]] = group[k]  # carries the duplicate_of meta
                verdicts_n[members[k]] = (reason, detail)
        apply("near_dedup", train, verdicts_n)
    else:
        funnel.add("near_dedup", [x[0] for x in train], [])

    # 4. language ID (train only)
    train = split_train(current)
    languages: tuple[str, ...] = ()
    if config.langid.enabled and train:
        languages = involved_languages([x[0] for x in current], config.langid)
        judged = [k for k, x in enumerate(train) if x[0].source not in config.langid.skip_sources]
        verdicts = ex.map_batches(
            functools.partial(_langid_batch, config=config.langid, languages=languages),
            [train[k][0] for k in judged],
            config.langid.batch_size,
            "langid",
        )
        apply(
            "langid",
            train,
            {judged[k]: ("wrong_language", detail) for k, (ok, detail) in enumerate(verdicts) if not ok},
        )
    else:
        funnel.add("langid", [x[0] for x in train], [])

    # 5. quality (train only)
    train = split_train(current)
    verdicts_q = ex.map_batches(
        functools.partial(_quality_batch, config=config.quality), [x[0] for x in train], 2048, "quality"
    )
    apply("quality", train, {k: (reason, d) for k, (ok, reason, d) in enumerate(verdicts_q) if not ok})

    # 6. decontamination: everything that is not itself an eval set
    eval_sets = sorted({f"{s}:{sp}" for s, splits in eval_splits.items() for sp in splits})
    if config.decontam.eval_sources:
        eval_sets = [e for e in eval_sets if e.split(":")[0] in config.decontam.eval_sources]
    removed: dict[str, int] = {}
    if config.decontam.enabled and eval_sets:
        wanted = set(eval_sets)
        eval_items = [x for x in current if f"{x[0].source}:{x[0].split}" in wanted]
        index = EvalIndex.build(((f"{x[0].source}:{x[0].split}", x[0]) for x in eval_items), config.decontam)
        for rec, _, orig_id in eval_items:
            index.add_ids([orig_id], f"{rec.source}:{rec.split}")
        subject = [x for x in current if not is_eval(x[0])]
        hits = ex.map_batches(
            functools.partial(_decontam_batch, index=index), [x[0] for x in subject], 1024, "decontam"
        )
        verdicts_d = {k: (reason, d) for k, (reason, d) in enumerate(hits) if reason}
        for k in verdicts_d:
            src = subject[k][0].source
            removed[src] = removed.get(src, 0) + 1
        apply("decontam", subject, verdicts_d)
    else:
        funnel.add("decontam", [x[0] for x in current if not is_eval(x[0])], [])

    # 7. relevance gate (train QA only): off-topic questions for a topic QA bot
    if relevance is not None:
        qa = [x for x in split_train(current) if x[0].kind == "qa"]
        apply("relevance", qa, relevance([x[0] for x in qa]))

    for stage, seconds in funnel.seconds.items():
        log.info("curate %-11s %6.2f s", stage, seconds)
    kept = [r for r, _, _ in current]
    upstream_ids = [orig for _, _, orig in current]
    return CurateResult(kept, rejected, funnel, eval_sets, removed, languages, upstream_ids)


def _dedup_groups(items: list[tuple[Record, int, str]], *, by_kind: bool, by_source: bool) -> list[list[int]]:
    """Indices of ``items`` that are deduplicated together, in a deterministic order."""
    groups: dict[tuple[str, str], list[int]] = {}
    for k, (r, _, _) in enumerate(items):
        groups.setdefault((r.kind if by_kind else "", r.source if by_source else ""), []).append(k)
    return [groups[key] for key in sorted(groups)]


def _near_duplicates(
    items: list[tuple[Record, int, str]], ranks: list[Any], config: DedupConfig, ex: Executor
) -> tuple[dict[int, int], dict[int, str]]:
    """Near-duplicates among one kind's records: ``({dropped: survivor}, {dropped: similarity note})``.

    Signatures are computed by the executor; in process, candidates come from datasketch's MinHashLSH,
    on Ray from band keys computed by the workers and bucketed here. Both use the same bands, so both
    find the same pairs; candidates are then verified and grouped into connected components.
    """
    texts = [dedup.dedup_text(x[0]) for x in items]
    mode = dedup.shingle_mode(texts, config)
    sketches = ex.map_batches(
        functools.partial(_signature_batch, mode=mode, config=config), texts, 1024, "minhash"
    )
    signatures = np.stack([sig for sig, _ in sketches])
    hashes = [h for _, h in sketches] if config.verify == "exact" else None
    if ex.name == "ray":
        bands, rows = dedup.lsh_params(config)
        keys = ex.map_batches(
            functools.partial(_band_batch, bands=bands, rows=rows), list(signatures), 1024, "lsh bands"
        )
        empty = np.iinfo(np.uint32).max  # a text without shingles has nothing to compare
        candidates = dedup.banded_candidates(
            [k if int(s.min()) != empty else [] for k, s in zip(keys, signatures, strict=True)]
        )
    else:
        candidates = dedup.lsh_candidates(signatures, config)
    pairs = dedup.confirmed_pairs(candidates, signatures, config.threshold, hashes)
    dropped = dedup.survivors_from_pairs(len(items), pairs, ranks)
    neighbours: dict[int, list[int]] = {}
    for a, b in pairs:
        neighbours.setdefault(a, []).append(b)
        neighbours.setdefault(b, []).append(a)
    notes = {}
    for k, s in dropped.items():
        sim = dedup.similarity(k, s, signatures, hashes)
        notes[k] = f", similarity {sim:.2f}"
        if sim < config.threshold:
            # Linked to the survivor through a chain of near-duplicates: name the closest link.
            link_sim, via = max((dedup.similarity(k, j, signatures, hashes), -j) for j in neighbours[k])
            notes[k] += f" via {items[-via][0].id} ({link_sim:.2f})"
    return dropped, notes


# ---- reading inputs and writing outputs -----------------------------------------------------------


def input_dirs(recipe: Recipe, layout: Layout) -> dict[str, tuple[str, Path]]:
    """Source name -> (upstream stage, dataset dir), in recipe order."""
    out: dict[str, tuple[str, Path]] = {n: ("ingest", layout.ingest(n)) for n in recipe.sources}
    out.update({n: ("synth", layout.synth(n)) for n in recipe.synth})
    return out


def _check_inputs(recipe: Recipe, layout: Layout) -> None:
    missing = []
    for name, (stage, path) in input_dirs(recipe, layout).items():
        if not is_complete(path):
            flag = "--source" if stage == "ingest" else "--job"
            missing.append(
                f"{stage} output for {name!r} is missing ({path} has no manifest.json); "
                f"run: synthmix {stage} --recipe {recipe.path or 'RECIPE'} {flag} {name}"
            )
    if missing:
        raise SynthmixError("curate needs every source first:\n  - " + "\n  - ".join(missing))


def registered_eval_splits(recipe: Recipe, name: str, manifest: dict[str, Any]) -> list[str]:
    """Split names ingest registered as eval sets for source ``name``.

    Accepts ``eval_splits`` as a list of split names (``["test"]``), of ``source:split`` strings, or of
    tables with a ``split`` key. Without the key (an older ingest), a source with ``eval = true`` registers
    its test and dev splits, as docs/recipes.md describes.
    """
    raw = manifest.get("eval_splits")
    if raw is None:
        src = recipe.sources.get(name)
        return ["dev", "test"] if src is not None and src.eval else []
    items = raw.items() if isinstance(raw, dict) else raw
    splits = set()
    for item in items:
        if isinstance(item, tuple):  # a table {split: ...}
            item = item[0]
        if isinstance(item, dict):
            item = item.get("split") or item.get("name") or ""
        text = str(item)
        if ":" in text:
            owner, _, text = text.partition(":")
            if owner != name:
                continue
        if text in ("train", "dev", "test"):
            splits.add(text)
    return sorted(splits)


def run_curate(
    recipe: Recipe,
    layout: Layout,
    *,
    force: bool = False,
    executor: str | None = None,
    ray_address: str | None = None,
) -> dict[str, dict[str, Any]]:
    """Curate every source of ``recipe``; returns source name -> manifest. Skips when outputs are current."""
    started = time.time()
    _check_inputs(recipe, layout)
    dirs = input_dirs(recipe, layout)
    upstream = {name: read_manifest(path) for name, (_, path) in dirs.items()}
    inputs = {name: str(m.get("output_hash", "")) for name, m in upstream.items()}
    hashes = {name: config_hash_for(recipe, STAGE, name) for name in dirs}

    if not force and all(_is_current(layout.curate(n), hashes[n], inputs) for n in dirs):
        log.info("curate: every output is current (use --force to rebuild)")
        return {n: read_manifest(layout.curate(n)) for n in dirs}

    eval_splits = {name: set(registered_eval_splits(recipe, name, upstream[name])) for name in recipe.sources}
    records: list[Record] = []
    for name, (_, path) in dirs.items():
        for r in read_records(path):
            # The curated source name is the recipe's, whatever upstream called it.
            records.append(r if r.source == name else replace(r, source=name))
    log.info("curate: %d records from %d sources", len(records), len(dirs))

    relevance = None
    if recipe.gate.enabled and recipe.gate.filter_qa:
        from curate.relevance import gate_verdicts

        relevance = functools.partial(gate_verdicts, recipe, layout)
    ex = make_executor(executor or recipe.curate.executor, ray_address or recipe.curate.ray_address)
    try:
        result = curate_records(records, recipe, eval_splits=eval_splits, executor=ex, relevance=relevance)
    finally:
        ex.close()

    version = code_version()
    manifests = {}
    all_funnel = result.funnel.entries()
    total_removed = sum(result.removed_by_decontam.values())
    for name in dirs:
        stamp = ProvenanceStamp(STAGE, version, hashes[name])
        kept = [
            _stamp(r, stamp, orig)
            for r, orig in zip(result.kept, result.upstream_ids, strict=True)
            if r.source == name
        ]
        rejected = [x for x in result.rejected if x.record.source == name]
        manifests[name] = write_dataset(
            layout.curate(name),
            kept,
            stage=STAGE,
            config=as_table(recipe.curate),
            config_hash=hashes[name],
            rejected=rejected,
            inputs=inputs,
            started=started,
            extra={
                "funnel": result.funnel.entries(name),
                "funnel_all_sources": all_funnel,
                "decontam": {
                    "eval_sets": result.eval_sets,
                    "removed": result.removed_by_decontam.get(name, 0),
                    "removed_all_sources": total_removed,
                },
                "eval_splits": upstream[name].get("eval_splits", sorted(eval_splits.get(name, ()))),
                "langid": {
                    "engine": recipe.curate.langid.engine,
                    "confirm_engine": recipe.curate.langid.confirm_engine,
                    "languages": list(result.languages),
                },
                "executor": ex.name,
                "stage_seconds": result.funnel.seconds,
            },
        )
        log.info(
            "curate %s: %d kept, %d rejected -> %s",
            name,
            len(kept),
            len(rejected),
            layout.curate(name),
        )
    return manifests


def _stamp(record: Record, stamp: ProvenanceStamp, upstream_id: str) -> Record:
    # When normalization changed the text the id changed with it: the stamp names the upstream id so
    # provenance still links the curated record to what ingest or synth wrote.
    parents = (upstream_id,) if upstream_id != record.id else ()
    return replace(record, provenance=(*record.provenance, replace(stamp, parents=parents)))


def _is_current(path: Path, config_hash: str, inputs: dict[str, str]) -> bool:
    if not is_complete(path):
        return False
    manifest = read_manifest(path)
    return bool(manifest.get("config_hash") == config_hash and manifest.get("inputs") == inputs)
