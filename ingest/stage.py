"""Ingest stage entry point: every [sources.*] of a recipe into data/<recipe>/ingest/<name>/.

    synthmix ingest --recipe recipes/sample.toml [--source wiki] [--offline] [--force]

For each source: read (Wikipedia / Hub / local files), drop exact duplicates, take the seeded ``limit`` sample,
assign seeded splits, and write the dataset with ``synthmix.store.write_dataset`` (rejections with reasons,
manifest last). A source whose output is complete, has the current config hash and (for files and saved HTML)
the same input bytes is skipped unless ``force``. The manifest records the source type, the split method and
counts, and ``eval_splits``: the test (and dev) splits that curation decontaminates every training record
against when the source's ``eval`` is true.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from pathlib import Path
from typing import Any

from ingest.splits import drop_duplicates, sample_and_split
from synthmix import code_version
from synthmix.config.base import as_table
from synthmix.config.sources import FilesSourceConfig, HubSourceConfig, SourceConfig, WikipediaSourceConfig
from synthmix.errors import ConfigError, SynthmixError
from synthmix.layout import Layout
from synthmix.recipe import Recipe
from synthmix.record import ProvenanceStamp, Record
from synthmix.status import config_hash_for
from synthmix.store import Rejection, is_complete, read_manifest, write_dataset

log = logging.getLogger(__name__)


def input_fingerprint(source: SourceConfig) -> dict[str, str]:
    """Content hashes of local inputs, so an edited file or HTML folder makes its output stale."""
    if isinstance(source, FilesSourceConfig) and Path(source.path).is_file():
        return {"file": _sha256(Path(source.path))}
    if isinstance(source, WikipediaSourceConfig) and source.html_dir and Path(source.html_dir).is_dir():
        h = hashlib.sha256()
        for path in sorted(Path(source.html_dir).iterdir()):
            if path.is_file():
                h.update(path.name.encode())
                h.update(bytes.fromhex(_sha256(path)))
        return {"html_dir": h.hexdigest()[:20]}
    return {}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _is_current(path: Path, config_hash: str, inputs: dict[str, str]) -> bool:
    if not is_complete(path):
        return False
    manifest = read_manifest(path)
    return bool(manifest.get("config_hash") == config_hash and manifest.get("inputs", {}) == inputs)


def read_source(
    name: str,
    source: SourceConfig,
    layout: Layout,
    stamp: ProvenanceStamp,
    *,
    offline: bool = False,
    seed: int = 13,
) -> tuple[list[Record], list[Rejection], dict[str, Any]]:
    """One source's records (all in their source split), rejections and facts for the manifest."""
    if isinstance(source, WikipediaSourceConfig):
        from ingest.wikipedia import WikipediaReader

        wiki = WikipediaReader(
            name, source, cache_dir=layout.cache / "http", stamp=stamp, offline=offline
        ).read()
        return wiki.records, wiki.rejected, wiki.facts
    if isinstance(source, HubSourceConfig):
        from ingest.hub import read_hub_source

        seed = source.split.seed if source.split else seed
        hub = read_hub_source(name, source, stamp, offline=offline, seed=seed)
        return hub.records, hub.rejected, hub.facts
    from ingest.files import read_files_source

    files = read_files_source(name, source, stamp)
    return files.records, files.rejected, files.facts


def ingest_source(
    recipe: Recipe, layout: Layout, name: str, *, offline: bool = False, force: bool = False
) -> dict[str, Any]:
    source = recipe.sources[name]
    path = layout.ingest(name)
    config_hash = config_hash_for(recipe, "ingest", name)
    inputs = input_fingerprint(source)
    if not force and _is_current(path, config_hash, inputs):
        log.info("ingest %s: up to date (%s), skipping; --force rebuilds", name, path)
        return read_manifest(path)
    started = time.time()
    stamp = ProvenanceStamp("ingest", code_version(), config_hash)
    records, rejected, facts = read_source(name, source, layout, stamp, offline=offline, seed=recipe.seed)
    records, duplicates = drop_duplicates(records)
    rejected += duplicates
    if not records:
        reasons = Counter(r.reason for r in rejected)
        example = rejected[0].detail if rejected else "the input has no rows"
        raise SynthmixError(
            f"sources.{name}: no usable records ({len(rejected)} rejected: "
            f"{', '.join(f'{k} {v}' for k, v in reasons.most_common())}); e.g. {example}"
        )
    records, split_facts = sample_and_split(records, limit=source.limit, split=source.split, seed=recipe.seed)
    present = {r.split for r in records}
    eval_splits = [s for s in ("test", "dev") if s in present] if source.eval else []
    manifest = write_dataset(
        path,
        records,
        stage="ingest",
        config=as_table(source),
        config_hash=config_hash,
        rejected=rejected,
        inputs=inputs,
        extra={"source_type": source.type, "eval_splits": eval_splits, "split": split_facts, "source": facts},
        started=started,
    )
    counts = manifest["counts"]
    log.info(
        "ingest %s: %d records (%s), %d rejected%s -> %s",
        name,
        counts["records"],
        ", ".join(f"{k} {v}" for k, v in counts["by_split"].items()),
        counts["rejected"],
        f" ({', '.join(f'{k} {v}' for k, v in counts['rejected_by_reason'].items())})" if rejected else "",
        path,
    )
    return manifest


def run_ingest(
    recipe: Recipe,
    layout: Layout,
    *,
    only: list[str] | None = None,
    offline: bool = False,
    force: bool = False,
) -> dict[str, dict[str, Any]]:
    """Ingest every source of the recipe (or ``only`` these); returns name -> manifest."""
    names = list(only) if only else list(recipe.sources)
    unknown = [n for n in names if n not in recipe.sources]
    if unknown:
        raise ConfigError(
            f"--source {unknown[0]!r}: not a source of recipe {recipe.name!r}; "
            f"known: {', '.join(recipe.sources) or 'none'}"
        )
    return {name: ingest_source(recipe, layout, name, offline=offline, force=force) for name in names}
