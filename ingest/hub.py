"""Hugging Face Hub source: any dataset by id, config and split through ``datasets.load_dataset``.

Presets fill the dataset id, config, splits and column mapping of well-known sets (explicit recipe keys win):

- ``flores200``: ``openlanguagedata/flores_plus`` (FLORES moved on the Hub; set ``dataset`` to follow it).
  Its rows are per language (``iso_639_3``, ``iso_15924``, ``text``, ``id``), so a pair loads two language
  configs (``src_lang = "deu_Latn"``, ``tgt_lang = "fra_Latn"``) and joins them on ``id``. The older
  ``facebook/flores`` layout (one config ``deu_Latn-fra_Latn`` with ``sentence_deu_Latn`` /
  ``sentence_fra_Latn`` columns) is used when ``columns`` are given. Splits: dev -> dev, devtest -> test.
- ``samanantar``: ``ai4bharat/samanantar``, config = target language (``te``), columns ``src``/``tgt``.
- ``guanaco``: ``timdettmers/openassistant-guanaco``; its ``text`` column ("### Human: ... ### Assistant:
  ...") becomes instruction/response (the first exchange; later turns are counted in meta).
- ``alpaca``: ``tatsu-lab/alpaca``; instruction + input (as context) -> output.

Without a network ``datasets`` retries for ~25 s; this module probes the Hub first (one TCP connect, 3 s) and
fails at once with the dataset named. ``offline=True`` (or ``HF_HUB_OFFLINE=1``) reads only the local cache.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from tqdm import tqdm

from ingest.mapping import RowMapper, short_lang
from synthmix.config.sources import HubSourceConfig
from synthmix.errors import ConfigError, MissingRequirementError, SynthmixError
from synthmix.record import ProvenanceStamp, Record
from synthmix.store import Rejection

log = logging.getLogger(__name__)

FLORES_PLUS = "openlanguagedata/flores_plus"


@dataclass(frozen=True)
class Preset:
    dataset: str
    kind: str
    splits: dict[str, str]
    columns: dict[str, str] = field(default_factory=dict)
    license: str = ""


PRESETS = {
    "flores200": Preset(
        FLORES_PLUS, "translation", {"dev": "dev", "devtest": "test"}, license="CC-BY-SA-4.0"
    ),
    "samanantar": Preset(
        "ai4bharat/samanantar", "translation", {"train": "train"}, {"src": "src", "tgt": "tgt"}, "CC0-1.0"
    ),
    "guanaco": Preset(
        "timdettmers/openassistant-guanaco",
        "instruction",
        {"train": "train", "test": "test"},
        {},
        "Apache-2.0",
    ),
    "alpaca": Preset(
        "tatsu-lab/alpaca",
        "instruction",
        {"train": "train"},
        {"instruction": "instruction", "context": "input", "response": "output"},
        "CC-BY-NC-4.0",
    ),
}

# Hub split names -> synthmix splits when the recipe gives no ``splits`` table.
DEFAULT_SPLIT_NAMES = {
    "train": "train",
    "validation": "dev",
    "valid": "dev",
    "dev": "dev",
    "test": "test",
    "devtest": "test",
}


@dataclass
class HubReadResult:
    records: list[Record] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HubPlan:
    """What to load, after the preset and the recipe are merged."""

    dataset: str
    config: str
    revision: str
    kind: str
    splits: dict[str, str]
    columns: dict[str, str]
    license: str
    join_languages: tuple[str, str] | None = None  # flores_plus: one config per language, joined on id
    conversation: bool = False  # guanaco: split "### Human/### Assistant" text


def plan_for(config: HubSourceConfig) -> HubPlan:
    preset = PRESETS.get(config.preset)
    dataset = config.dataset or (preset.dataset if preset else "")
    splits: dict[str, str] = {**config.splits} or (dict(preset.splits) if preset else {})
    columns = dict(config.columns) or (dict(preset.columns) if preset else {})
    license_ = config.license or (preset.license if preset else "")
    hub_config = config.config
    join = None
    if config.preset == "flores200":
        if not config.columns:
            join = (config.src_lang, config.tgt_lang)
        elif not hub_config:
            hub_config = f"{config.src_lang}-{config.tgt_lang}"
    if config.preset == "samanantar" and not hub_config:
        hub_config = short_lang(config.tgt_lang)
    return HubPlan(
        dataset=dataset,
        config=hub_config,
        revision=config.revision,
        kind=config.kind if config.kind != "translation" or not preset else preset.kind,
        splits=splits,
        columns=columns,
        license=license_,
        join_languages=join,
        conversation=config.preset == "guanaco" and not config.columns,
    )


# -- reaching the Hub ----------------------------------------------------------------------------------


def hub_host() -> str:
    return urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co").hostname or "huggingface.co"


def _is_local(dataset: str) -> bool:
    return Path(dataset).exists()


@contextlib.contextmanager
def _offline_mode(enabled: bool) -> Iterator[None]:
    """``datasets`` and ``huggingface_hub`` read HF_HUB_OFFLINE at import; flip their flags for one load."""
    import datasets
    import huggingface_hub.constants as hub_constants

    if not enabled:
        yield
        return
    saved = (datasets.config.HF_HUB_OFFLINE, hub_constants.HF_HUB_OFFLINE)
    datasets.config.HF_HUB_OFFLINE = True
    hub_constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        datasets.config.HF_HUB_OFFLINE, hub_constants.HF_HUB_OFFLINE = saved


def _env_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").upper() in ("1", "ON", "YES", "TRUE") or os.environ.get(
        "HF_DATASETS_OFFLINE", ""
    ).upper() in ("1", "ON", "YES", "TRUE")


def check_reachable(dataset: str, source: str, offline: bool) -> None:
    """Fail in seconds, naming the dataset, when the Hub cannot be reached (instead of a retry loop)."""
    if offline or _env_offline() or _is_local(dataset):
        return
    from synthmix.pipeline import reachable

    host = hub_host()
    if not reachable(host):
        raise MissingRequirementError(
            f"sources.{source}: cannot reach {host} to load Hub dataset {dataset!r}. If it is in your local "
            "datasets cache, rerun with --offline (or HF_HUB_OFFLINE=1); otherwise connect to a network"
        )


def load_split(plan: HubPlan, source: str, config_name: str, split: str, offline: bool) -> Any:
    import datasets

    try:
        with _offline_mode(offline):
            return datasets.load_dataset(
                plan.dataset, config_name or None, split=split, revision=plan.revision or None
            )
    except (ConnectionError, OSError) as e:
        where = f"{plan.dataset!r}" + (f" config {config_name!r}" if config_name else "")
        if offline or _env_offline():
            raise MissingRequirementError(
                f"sources.{source}: Hub dataset {where} is not in the local cache and the Hub is offline "
                f"({type(e).__name__}); run once with a network to cache it"
            ) from None
        raise MissingRequirementError(
            f"sources.{source}: cannot load Hub dataset {where}: {_one_line(e)}"
        ) from None
    except ValueError as e:
        # Unknown split or config names (datasets lists the valid ones), unreadable data files.
        raise SynthmixError(
            f"sources.{source}: Hub dataset {plan.dataset!r} split {split!r}: {_one_line(e)}"
        ) from None
    except Exception as e:
        if type(e).__name__ in ("DatasetNotFoundError", "GatedRepoError", "RepositoryNotFoundError"):
            raise MissingRequirementError(
                f"sources.{source}: Hub dataset {plan.dataset!r} not found or not accessible "
                f"({_one_line(e)}); check the id, accept its terms on the Hub and set HF_TOKEN for gated sets"
            ) from None
        # Broken data files and the like: name the dataset instead of showing a traceback.
        raise SynthmixError(
            f"sources.{source}: Hub dataset {plan.dataset!r} split {split!r} could not be loaded "
            f"({type(e).__name__}: {_one_line(e)})"
        ) from e


def _available_splits(plan: HubPlan, source: str, offline: bool) -> dict[str, str]:
    """Without a ``splits`` table: every split the dataset has, mapped by its usual name."""
    import datasets

    config_name = plan.join_languages[0] if plan.join_languages else plan.config
    try:
        with _offline_mode(offline):
            names = datasets.get_dataset_split_names(
                plan.dataset, config_name or None, revision=plan.revision or None
            )
    except ValueError as e:
        # e.g. "Config name is missing. Please pick one among the available configs: [...]"
        raise SynthmixError(f"sources.{source}: Hub dataset {plan.dataset!r}: {_one_line(e)}") from None
    except Exception as e:
        raise MissingRequirementError(
            f"sources.{source}: cannot list the splits of Hub dataset {plan.dataset!r} ({type(e).__name__}: {e})"
        ) from None
    unknown = [n for n in names if n not in DEFAULT_SPLIT_NAMES]
    if unknown:
        raise ConfigError(
            f"sources.{source}.splits: Hub dataset {plan.dataset!r} has split(s) {unknown}; map each to train, "
            "dev or test, e.g. splits = {" + ", ".join(f'{n} = "train"' for n in names) + "}"
        )
    return {n: DEFAULT_SPLIT_NAMES[n] for n in names}


# -- rows -> records -----------------------------------------------------------------------------------

_TURN = re.compile(r"###\s*(Human|Assistant)\s*:", re.I)


def split_conversation(text: str) -> tuple[str, str, int]:
    """'### Human: q ### Assistant: a ### Human: ...' -> (first human turn, first assistant turn, turns)."""
    parts = _TURN.split(text)
    turns = [(parts[i].lower(), parts[i + 1].strip()) for i in range(1, len(parts) - 1, 2)]
    human = next((t for who, t in turns if who == "human"), "")
    assistant = ""
    seen_human = False
    for who, t in turns:
        if who == "human":
            seen_human = True
        elif seen_human:
            assistant = t
            break
    return human, assistant, len(turns)


def presample_size(limit: int) -> int:
    """Rows kept per split before records are built, when ``limit`` is far below the split's size: enough
    headroom that dropping duplicates and empty rows still leaves ``limit`` records to sample from."""
    return math.ceil(1.1 * limit) + 100


def read_hub_source(
    name: str,
    config: HubSourceConfig,
    stamp: ProvenanceStamp,
    *,
    offline: bool = False,
    seed: int = 13,
    progress: bool = True,
) -> HubReadResult:
    plan = plan_for(config)
    check_reachable(plan.dataset, name, offline)
    splits = plan.splits or _available_splits(plan, name, offline)
    result = HubReadResult()
    presampled: dict[str, list[int]] = {}
    for hub_split, our_split in splits.items():
        base_meta: dict[str, Any] = {"dataset": plan.dataset, "split": hub_split}
        if plan.revision:
            base_meta["revision"] = plan.revision
        if plan.join_languages:
            src_cfg, tgt_cfg = plan.join_languages
            src = load_split(plan, name, src_cfg, hub_split, offline)
            tgt = load_split(plan, name, tgt_cfg, hub_split, offline)
            mapper = RowMapper.for_source(
                name,
                config,
                stamp,
                columns={"src": "src", "tgt": "tgt"},
                kind=plan.kind,
                license=plan.license,
            )
            rows = _join_on_id(src, tgt, plan, name, src_cfg, tgt_cfg, hub_split)
            base_meta["config"] = f"{src_cfg}+{tgt_cfg}"
        else:
            data = load_split(plan, name, plan.config, hub_split, offline)
            row_numbers: list[int] | None = None
            cap = presample_size(config.limit) if config.limit else 0
            if cap and len(data) > 2 * cap:
                # Samanantar en-te has ~5M rows; building a record for each to keep 10k wastes minutes and
                # gigabytes. A seeded sample of row numbers first; the exact, id-ordered limit comes after.
                row_numbers = sorted(random.Random(seed).sample(range(len(data)), cap))
                presampled[hub_split] = [cap, len(data)]
                data = data.select(row_numbers)
            if plan.config:
                base_meta["config"] = plan.config
            columns = (
                {"instruction": "instruction", "response": "response"} if plan.conversation else plan.columns
            )
            mapper = RowMapper.for_source(
                name,
                config,
                stamp,
                columns=columns or None,
                header=list(data.column_names),
                kind=plan.kind,
                license=plan.license,
            )
            if plan.conversation:
                _require_columns(["text"], list(data.column_names), plan, name, hub_split)
                rows = (_conversation_row(i, row) for i, row in enumerate(_iter_rows(data, ["text"])))
                if row_numbers:
                    rows = ((row_numbers[i], row) for i, row in rows)
            else:
                mapper.check_columns(
                    list(data.column_names), f"Hub dataset {plan.dataset!r} split {hub_split!r}"
                )
                wanted = [c for c in dict.fromkeys(mapper.columns.values()) if c in data.column_names]
                rows = enumerate(_iter_rows(data, wanted))
                if row_numbers:
                    rows = ((row_numbers[i], row) for i, row in rows)
        for index, row in tqdm(rows, desc=f"ingest {name} {hub_split}", unit="row", disable=not progress):
            extra = row.pop("_meta", {}) if isinstance(row, dict) else {}
            item = mapper.to_record(row, {**base_meta, "row": index, **extra})
            if isinstance(item, Rejection):
                result.rejected.append(item)
            else:
                item.split = our_split
                result.records.append(item)
    result.facts = {
        "dataset": plan.dataset,
        "config": plan.config or (("+".join(plan.join_languages)) if plan.join_languages else ""),
        "revision": plan.revision,
        "splits": splits,
    }
    if presampled:
        result.facts["presampled"] = presampled  # split -> [rows kept, rows in the split]
    return result


def _iter_rows(data: Any, columns: list[str], batch_size: int = 10_000) -> Iterator[dict[str, Any]]:
    """Rows of only the needed columns, read in columnar batches (much faster than row-by-row access)."""
    subset = data.select_columns(columns)
    for batch in subset.iter(batch_size=batch_size):
        for values in zip(*(batch[c] for c in columns), strict=True):
            yield dict(zip(columns, values, strict=True))


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split())


def _require_columns(needed: list[str], available: list[str], plan: HubPlan, source: str, split: str) -> None:
    missing = [c for c in needed if c not in available]
    if missing:
        raise SynthmixError(
            f"sources.{source}: Hub dataset {plan.dataset!r} split {split!r} has no column {missing[0]!r}; "
            f"it has {available}; set columns in the recipe"
        )


def _conversation_row(index: int, row: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    human, assistant, turns = split_conversation(str(row.get("text") or ""))
    return index, {"instruction": human, "response": assistant, "_meta": {"turns": turns}}


def _join_on_id(
    src: Any, tgt: Any, plan: HubPlan, source: str, src_cfg: str, tgt_cfg: str, split: str
) -> Iterator[tuple[int, dict[str, Any]]]:
    for data, cfg in ((src, src_cfg), (tgt, tgt_cfg)):
        _require_columns(["id", "text"], list(data.column_names), plan, source, f"{cfg}/{split}")
    by_id = {row_id: text for row_id, text in zip(tgt["id"], tgt["text"], strict=True)}
    for index, (row_id, text) in enumerate(zip(src["id"], src["text"], strict=True)):
        # A sentence missing on the target side is left out of the tgt field and rejected as empty_field.
        yield index, {"src": text, "tgt": by_id.get(row_id), "_meta": {"flores_id": row_id}}
