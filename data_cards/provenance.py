"""Where a dataset's records came from, gathered from record meta, stage manifests and the recipe.

The card's facts about each source (origin URLs / Hub ids, licenses, revision ids) and about synthetic
generation (models, prompt templates and hashes, sampling params, token counts, cost) are read here. Upstream
stages are built by other people and evolve, so every lookup is defensive: several spellings of a key are
tried, record meta wins over manifests, manifests win over the current recipe (the data was built by what
the manifest says, not by what the recipe says today), and anything absent is ``None`` so the card says
"not recorded" instead of guessing.

    obs = SourceObservations.of(records_of_flores)      # or obs.add(record) while streaming
    facts = source_facts(recipe, layout, "flores", obs)
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthmix.config.base import as_table
from synthmix.layout import Layout
from synthmix.recipe import Recipe
from synthmix.record import Record
from synthmix.store import is_complete, read_manifest

log = logging.getLogger(__name__)

HUB_DATASET_URL = "https://huggingface.co/datasets/{}"
MAX_LISTED = 10  # origin URLs / pages listed per source; the rest are counted


def lookup(data: Any, *paths: str) -> Any:
    """The first present, non-empty value among dotted ``paths`` (``"usage.prompt_tokens"``)."""
    if not isinstance(data, dict):
        return None
    for path in paths:
        if "." not in path:  # the common case, on every record's meta: one dict lookup
            node = data.get(path)
        else:
            node = data
            for part in path.split("."):
                if not isinstance(node, dict) or part not in node:
                    node = None
                    break
                node = node[part]
        if node is not None and node != "" and node != [] and node != {}:
            return node
    return None


def first(*values: Any) -> Any:
    """The first value that is not None (``or`` would skip a recorded 0)."""
    return next((v for v in values if v is not None), None)


def upstream_manifest(layout: Layout, stage: str, name: str) -> dict[str, Any]:
    """The ingest/synth/curate manifest of ``name``, or ``{}`` when that output is missing."""
    path = {"ingest": layout.ingest, "synth": layout.synth, "curate": layout.curate}[stage](name)
    if not is_complete(path):
        return {}
    try:
        return read_manifest(path)
    except (OSError, ValueError) as e:  # a corrupt manifest must not stop a card; the card says so
        log.warning("cannot read %s manifest of %s: %s", stage, name, e)
        return {}


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    return None


@dataclass
class SourceObservations:
    """What the records of one source say about where they came from, gathered in one streaming pass.

    Distinct values and counters only (never the records), so million-record sources stream through.
    """

    records: int = 0
    origins: Counter[str] = field(default_factory=Counter)
    splits: Counter[str] = field(default_factory=Counter)
    licenses: set[str] = field(default_factory=set)
    hub_ids: Counter[str] = field(default_factory=Counter)
    revisions: Counter[str] = field(default_factory=Counter)
    urls: set[str] = field(default_factory=set)
    revids: Counter[str] = field(default_factory=Counter)  # "title@revid" -> records
    models: Counter[str] = field(default_factory=Counter)
    backends: Counter[str] = field(default_factory=Counter)
    templates: Counter[tuple[str, str]] = field(default_factory=Counter)
    sampling: dict[str, Any] | None = None
    # A request's tokens may be stamped on every record it produced: keyed by request, counted once.
    request_tokens: dict[str, tuple[int, int]] = field(default_factory=dict)

    def add(self, r: Record) -> None:
        self.records += 1
        self.origins[r.origin] += 1
        self.splits[r.split] += 1
        m = r.meta
        if not m:
            return
        if m.get("license"):
            self.licenses.add(str(m["license"]))
        hub_id = m.get("hub_id") or m.get("dataset")
        if hub_id:
            self.hub_ids[str(hub_id)] += 1
        if m.get("revision"):
            self.revisions[str(m["revision"])] += 1
        if m.get("url"):
            self.urls.add(str(m["url"]))
        if m.get("revid"):
            self.revids[f"{m.get('title') or m.get('url')}@{m['revid']}"] += 1
        model = lookup(m, "model", "generator_model", "generator.model", "llm.model")
        if model:
            self.models[str(model)] += 1
        backend = lookup(m, "backend", "generator_backend", "generator.backend")
        if backend:
            self.backends[str(backend)] += 1
        template = _template_of(m)
        if template:
            self.templates[template] += 1
        if self.sampling is None:
            self.sampling = _sampling_of(m)
        p = _as_int(lookup(m, "prompt_tokens", "tokens.prompt", "usage.prompt_tokens"))
        c = _as_int(lookup(m, "completion_tokens", "tokens.completion", "usage.completion_tokens"))
        if p is not None or c is not None:
            key = lookup(m, "request_id", "request_key", "cache_key")
            self.request_tokens[str(key) if key else f"record-{self.records}"] = (p or 0, c or 0)

    @classmethod
    def of(cls, records: Iterable[Record]) -> SourceObservations:
        obs = cls()
        for r in records:
            obs.add(r)
        return obs


def source_origin(recipe: Recipe | None, name: str, obs: SourceObservations) -> str:
    if obs.records:
        origins = set(obs.origins)
        return "synthetic" if origins == {"synthetic"} else "real" if origins == {"real"} else "mixed"
    if recipe is not None and name in recipe.synth:
        return "synthetic"
    return "real"


def _recipe_source_table(recipe: Recipe | None, name: str) -> dict[str, Any]:
    if recipe is None:
        return {}
    if name in recipe.sources:
        table: dict[str, Any] = as_table(recipe.sources[name])
        return table
    if name in recipe.synth:
        table = as_table(recipe.synth[name])
        return table
    return {}


def source_license(
    recipe: Recipe | None, layout: Layout, name: str, obs: SourceObservations | None = None
) -> list[str]:
    """Licenses of a source: record meta, else its manifest/config; a synthetic source inherits its seed's."""
    if obs is not None and obs.licenses:
        return sorted(obs.licenses)
    stage = "synth" if recipe is not None and name in recipe.synth else "ingest"
    manifest = upstream_manifest(layout, stage, name)
    lic = lookup(manifest, "license", "config.license") or _recipe_source_table(recipe, name).get("license")
    if lic:
        return [str(lic)] if isinstance(lic, str) else sorted(str(x) for x in lic)
    if stage == "ingest" and _recipe_source_table(recipe, name).get("type") == "wikipedia":
        return ["CC-BY-SA-4.0"]  # Wikipedia text is CC BY-SA 4.0 (ingest records it; this is the fallback)
    if stage == "synth" and recipe is not None:
        seed = recipe.synth[name].from_
        if seed != name:
            return source_license(recipe, layout, seed)
    return []


def source_facts(recipe: Recipe | None, layout: Layout, name: str, obs: SourceObservations) -> dict[str, Any]:
    """One row of the sources table: counts, type, origin URLs / Hub id, licenses, revision ids."""
    origin = source_origin(recipe, name, obs)
    synthetic = recipe is not None and name in recipe.synth
    stage = "synth" if synthetic else "ingest"
    manifest = upstream_manifest(layout, stage, name)
    # The manifest's config says what built the data; the recipe fills keys an older manifest lacks.
    config = {**_recipe_source_table(recipe, name), **(lookup(manifest, "config") or {})}
    facts: dict[str, Any] = {
        "name": name,
        "origin": origin,
        "type": "synthetic" if synthetic else lookup(config, "type"),
        "records": obs.records,
        "by_split": dict(sorted(obs.splits.items())),
        "licenses": source_license(recipe, layout, name, obs),
        "upstream_records": lookup(manifest, "counts.records"),
        "upstream_output_hash": lookup(manifest, "output_hash"),
    }
    if synthetic:
        facts["seeded_from"] = lookup(config, "from", "from_")
        facts["origin_urls"] = []
        return facts
    kind = facts["type"]
    hub_id = obs.hub_ids.most_common(1)[0][0] if obs.hub_ids else None
    # ingest writes the Hub facts under manifest["source"]; the other spellings are older/other shapes.
    hub_id = hub_id or lookup(manifest, "source.dataset", "hub_id", "dataset") or lookup(config, "dataset")
    revision = obs.revisions.most_common(1)[0][0] if obs.revisions else None
    revision = revision or lookup(manifest, "source.revision", "revision", "config.revision")
    urls = obs.urls
    revids = dict(sorted(obs.revids.items()))
    if kind == "hub" or hub_id:
        facts["preset"] = lookup(config, "preset")
        facts["hub_id"] = hub_id or lookup(config, "preset")
        facts["hub_config"] = lookup(manifest, "source.config", "hub_config") or lookup(config, "config")
        facts["revision"] = revision
        facts["origin_urls"] = [HUB_DATASET_URL.format(hub_id)] if hub_id else []
    elif kind == "files":
        path = lookup(manifest, "source.path") or lookup(config, "path")
        # A project-relative path is fine to show; of an absolute one only the file name (the card is
        # public, the local folder layout is not).
        facts["file"] = (
            (str(path) if not Path(str(path)).is_absolute() else Path(str(path)).name) if path else None
        )
        facts["origin_urls"] = sorted(set(urls))[:MAX_LISTED]
    else:
        distinct = sorted(set(urls))
        facts["origin_urls"] = distinct[:MAX_LISTED]
        facts["origin_url_count"] = len(distinct)
        facts["revision_ids"] = dict(list(revids.items())[:MAX_LISTED])
        facts["revision_id_count"] = len(revids)
        facts["pages"] = lookup(manifest, "source.pages")
        facts["pages_with_passages"] = lookup(manifest, "source.pages_with_passages")
    facts["split"] = _split_facts(manifest)
    return facts


def _split_facts(manifest: dict[str, Any]) -> dict[str, Any] | None:
    """How ingest split and sampled the source (seeded), when it recorded it."""
    split = lookup(manifest, "split")
    if not isinstance(split, dict):
        return None
    return {
        "config": split.get("config"),
        "seed": split.get("seed"),
        "limit": split.get("limit"),
        "records_before_limit": split.get("records_before_limit"),
    }


def _template_of(meta: dict[str, Any]) -> tuple[str, str] | None:
    tid = lookup(meta, "template_id", "template.id", "prompt_template", "template")
    thash = lookup(meta, "template_hash", "template.hash", "prompt_template_hash", "prompt_hash")
    if isinstance(tid, dict):
        tid = None
    if tid or thash:
        return str(tid or "not recorded"), str(thash or "not recorded")
    return None


def _sampling_of(meta: dict[str, Any]) -> dict[str, Any] | None:
    params = lookup(meta, "sampling", "sampling_params", "params", "generation.params")
    if isinstance(params, dict):
        return dict(sorted(params.items()))
    flat: dict[str, Any] = {k: meta[k] for k in ("temperature", "top_p", "max_tokens", "seed") if k in meta}
    return flat or None


def _token_totals(manifest: dict[str, Any], obs: SourceObservations) -> dict[str, Any]:
    """Prompt/completion tokens, requests and cost: the synth manifest's accounting, else record meta."""
    # synth writes manifest["synth"] = {tokens: {prompt, completion, total}, requests: {...}, cost_usd}.
    acct = lookup(manifest, "synth.tokens", "tokens", "usage", "token_accounting") or {}
    if not isinstance(acct, dict):
        acct = {}
    prompt = _as_int(first(lookup(acct, "prompt_tokens", "prompt"), lookup(manifest, "prompt_tokens")))
    completion = _as_int(
        first(lookup(acct, "completion_tokens", "completion"), lookup(manifest, "completion_tokens"))
    )
    requests = _as_int(
        first(
            lookup(manifest, "synth.requests.completed", "synth.requests.sent"),
            lookup(acct, "requests"),
            lookup(manifest, "requests"),
        )
    )
    cost = first(
        lookup(acct, "cost_usd", "estimated_cost_usd"),
        lookup(manifest, "synth.cost_usd", "cost_usd", "estimated_cost_usd"),
    )
    source: str | None = "synth manifest"
    if prompt is None and completion is None:
        # Per-record meta, each request counted once: only the requests behind this dataset's records.
        seen = obs.request_tokens
        if seen:
            prompt = sum(p for p, _ in seen.values())
            completion = sum(c for _, c in seen.values())
            requests = requests or len(seen)
            source = "record meta"
        else:
            source = None
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": (prompt or 0) + (completion or 0) if source else None,
        "requests": requests,
        "cost_usd": float(cost) if isinstance(cost, int | float) else None,
        "accounting_from": source,
    }


def synthetic_facts(
    recipe: Recipe | None, layout: Layout, name: str, obs: SourceObservations
) -> dict[str, Any]:
    """How a synthetic source was generated: generator, models, templates, sampling, tokens, cost."""
    manifest = upstream_manifest(layout, "synth", name)
    config = {**_recipe_source_table(recipe, name), **(lookup(manifest, "config") or {})}
    llm = dict(lookup(config, "llm") or {})
    for key in ("backend", "model"):  # what the synth stage says it used beats the config
        llm[key] = lookup(manifest, f"synth.{key}") or llm.get(key)
    models = dict(sorted(obs.models.items()))
    backends = dict(sorted(obs.backends.items()))
    templates = obs.templates
    sampling = obs.sampling
    if sampling is None and llm:
        sampling = {k: llm[k] for k in ("temperature", "top_p", "max_tokens", "seed") if k in llm}
    tokens = _token_totals(manifest, obs)
    price = lookup(manifest, "synth.price") or lookup(llm, "price") or {}
    # A cost of 0 from a job without prices means "not estimated", not "free".
    tokens["priced"] = any(isinstance(v, int | float) and v > 0 for v in price.values())
    if tokens["cost_usd"] is None and tokens["accounting_from"] and tokens["priced"]:
        cost = (
            (tokens["prompt_tokens"] or 0) * float(price.get("prompt_per_million", 0.0))
            + (tokens["completion_tokens"] or 0) * float(price.get("completion_per_million", 0.0))
        ) / 1e6
        tokens["cost_usd"] = round(cost, 6)
        tokens["cost_from"] = "recipe price table"
    return {
        "source": name,
        "records": obs.records,
        "generator": lookup(config, "generator") or lookup(manifest, "generator"),
        "seeded_from": lookup(config, "from", "from_"),
        "backends": backends or ({str(llm["backend"]): obs.records} if llm.get("backend") else {}),
        "models": models or ({str(llm["model"]): obs.records} if llm.get("model") else {}),
        "models_from": "record meta" if models else ("config" if llm.get("model") else None),
        "templates": [
            {"id": tid, "hash": thash, "records": n} for (tid, thash), n in sorted(templates.items())
        ]
        or _configured_template(manifest, config, obs.records),
        "sampling": sampling,
        # Tokens and cost are the synth job's: every record it generated, including ones curation dropped.
        "tokens": tokens,
        "job_records": lookup(manifest, "counts.records"),
        "cache_hits": _as_int(lookup(manifest, "synth.requests.cache_hits")),
        "stopped": lookup(manifest, "synth.stop"),
        "rejected_by_reason": lookup(manifest, "counts.rejected_by_reason") or {},
    }


def _configured_template(manifest: dict[str, Any], config: dict[str, Any], n: int) -> list[dict[str, Any]]:
    tid = lookup(manifest, "synth.template.id") or lookup(config, "template")
    thash = lookup(manifest, "synth.template.hash") or "not recorded"
    return [{"id": str(tid), "hash": str(thash), "records": n}] if tid else []
