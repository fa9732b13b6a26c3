"""The Hub YAML metadata of a card (``DatasetCardData``), derived from the card's facts.

Languages are mapped to the codes the Hub indexes (FLORES ``deu_Latn`` -> ``de``; ISO 639-3 codes without a
two-letter form such as ``lzh`` stay as they are); licenses to Hub license ids (one license -> that id,
several -> ``other`` with the list in the prose); kinds to task categories; counts to size categories.
``configs`` maps each split to the Parquet shards by name, so ``datasets.load_dataset(<folder>)`` finds
exactly the data files and never ``rejected.parquet``.
"""

from __future__ import annotations

import re
from typing import Any

from huggingface_hub import DatasetCardData

from synthmix.record import RECORD_SCHEMA

TAGS = ("synthmix",)
TASK_CATEGORIES = {
    "translation": "translation",
    "qa": "question-answering",
    "instruction": "text-generation",
    "passage": "text-generation",
}
KIND_TAGS = {"translation": "translation", "qa": "qa", "instruction": "instruction", "passage": "text"}
# synthmix split -> Hub split name; "dev" is published as "validation", as datasets names dev-* shards.
HUB_SPLITS = {"train": "train", "dev": "validation", "test": "test"}

# License ids the Hub accepts in card metadata (https://huggingface.co/docs/hub/repositories-licenses).
HUB_LICENSES = frozenset(
    [
        "apache-2.0",
        "mit",
        "openrail",
        "bigscience-openrail-m",
        "creativeml-openrail-m",
        "bigscience-bloom-rail-1.0",
        "bigcode-openrail-m",
        "afl-3.0",
        "artistic-2.0",
        "bsl-1.0",
        "bsd",
        "bsd-2-clause",
        "bsd-3-clause",
        "bsd-3-clause-clear",
        "c-uda",
        "cc",
        "cc0-1.0",
        "cc-by-2.0",
        "cc-by-2.5",
        "cc-by-3.0",
        "cc-by-4.0",
        "cc-by-sa-3.0",
        "cc-by-sa-4.0",
        "cc-by-nc-2.0",
        "cc-by-nc-3.0",
        "cc-by-nc-4.0",
        "cc-by-nd-4.0",
        "cc-by-nc-nd-3.0",
        "cc-by-nc-nd-4.0",
        "cc-by-nc-sa-2.0",
        "cc-by-nc-sa-3.0",
        "cc-by-nc-sa-4.0",
        "cdla-sharing-1.0",
        "cdla-permissive-1.0",
        "cdla-permissive-2.0",
        "wtfpl",
        "ecl-2.0",
        "epl-1.0",
        "epl-2.0",
        "etalab-2.0",
        "eupl-1.1",
        "eupl-1.2",
        "agpl-3.0",
        "gfdl",
        "gpl",
        "gpl-2.0",
        "gpl-3.0",
        "lgpl",
        "lgpl-2.1",
        "lgpl-3.0",
        "isc",
        "h-research",
        "intel-research",
        "lppl-1.3c",
        "ms-pl",
        "apple-ascl",
        "apple-amlr",
        "mpl-2.0",
        "odc-by",
        "odbl",
        "openrail++",
        "osl-3.0",
        "postgresql",
        "ofl-1.1",
        "ncsa",
        "unlicense",
        "zlib",
        "pddl",
        "lgpl-lr",
        "deepfloyd-if-license",
        "fair-noncommercial-research-license",
        "llama2",
        "llama3",
        "llama3.1",
        "llama3.2",
        "llama3.3",
        "llama4",
        "gemma",
        "unknown",
        "other",
    ]
)


def hub_license(name: str) -> str:
    """A recipe/record license string as a Hub license id (``CC-BY-SA-4.0`` -> ``cc-by-sa-4.0``)."""
    lic = name.strip().lower().replace(" ", "-").replace("_", "-")
    return lic if lic in HUB_LICENSES else "other"


def license_key(name: str) -> str:
    """The Hub id of a license when it has one, else the name as written: ``CC BY-SA 4.0`` and
    ``CC-BY-SA-4.0`` are one license, not two."""
    lic = hub_license(name)
    return lic if lic != "other" else name.strip()


def distinct_licenses(licenses: list[str]) -> list[str]:
    return sorted({license_key(lic) for lic in licenses if lic and lic.strip()})


def license_metadata(licenses: list[str]) -> dict[str, Any]:
    """One known license -> its id; one unknown -> other + license_name; several -> other (listed in prose)."""
    distinct = distinct_licenses(licenses)
    if not distinct:
        return {"license": "unknown"}
    if len(distinct) == 1:
        if distinct[0] in HUB_LICENSES:
            return {"license": distinct[0]}
        slug = re.sub(r"[^a-z0-9.-]+", "-", distinct[0].lower()).strip("-") or "custom"
        return {"license": "other", "license_name": slug}
    return {"license": "other"}


def configs_for(splits: list[str], data_prefix: str = "") -> list[dict[str, Any]]:
    """The ``configs`` entry: one default config with a data_files pattern per split present."""
    data_files = [
        {"split": HUB_SPLITS[s], "path": f"{data_prefix}{s}-*.parquet"} for s in HUB_SPLITS if s in splits
    ]
    return [{"config_name": "default", "data_files": data_files}]


def dataset_info(by_split: dict[str, int]) -> dict[str, Any]:
    """The ``dataset_info`` block the Hub viewer and ``datasets`` read: record features and split sizes."""
    from datasets import Features  # heavy import, only when a card is built

    features = Features.from_arrow_schema(RECORD_SCHEMA)._to_yaml_list()
    splits = [{"name": HUB_SPLITS[s], "num_examples": by_split[s]} for s in HUB_SPLITS if s in by_split]
    return {"features": features, "splits": splits}


def creators(sources: list[dict[str, Any]], kinds: set[str]) -> tuple[list[str], list[str]]:
    """(language_creators, annotations_creators): who wrote the text, and who wrote the targets."""
    language: set[str] = set()
    annotations: set[str] = set()
    for s in sources:
        if s["origin"] == "synthetic":
            language.add("machine-generated")
            annotations.add("machine-generated")
            continue
        language.add("crowdsourced" if s.get("type") == "wikipedia" else "found")
        if s.get("preset") == "flores200":
            annotations.add("expert-generated")  # FLORES-200 targets are professional translations
        elif kinds == {"passage"}:
            annotations.add("no-annotation")
        else:
            annotations.add("found")
    return sorted(language) or ["found"], sorted(annotations) or ["no-annotation"]


def card_metadata(facts: dict[str, Any], data_prefix: str = "") -> DatasetCardData:
    """Build and check the YAML metadata for a card's facts (see ``data_cards.cards.build_facts``)."""
    stats = facts["stats"]
    sources = facts["sources"]
    languages = sorted(stats["languages"])
    kinds = set(stats["by_kind"])
    origins = {s["origin"] for s in sources}
    lang_creators, ann_creators = creators(sources, kinds)
    source_datasets = []
    for s in sources:
        if s.get("hub_id"):
            source_datasets.append(f"extended|{s['hub_id']}")
        elif s.get("type") == "wikipedia":
            source_datasets.append("extended|wikipedia")
        else:
            source_datasets.append("original")
    tags = [*TAGS, *sorted({KIND_TAGS[k] for k in kinds})]
    if "synthetic" in origins:
        tags.append("synthetic")
    if "real" in origins:
        tags.append("real")
    if facts.get("mix"):
        tags.append("mixture")
    multilinguality = (
        "translation" if "translation" in kinds else "multilingual" if len(languages) > 1 else "monolingual"
    )
    data = DatasetCardData(
        language=languages or None,
        **license_metadata([lic for s in sources for lic in s["licenses"]]),
        annotations_creators=ann_creators,
        language_creators=lang_creators,
        multilinguality=multilinguality,
        size_categories=[stats["size_category"]],
        # Empty lists are left out rather than written as [] (an empty dataset still gets a valid card).
        source_datasets=sorted(set(source_datasets)) or None,
        task_categories=sorted({TASK_CATEGORIES[k] for k in kinds}) or None,
        pretty_name=facts["pretty_name"],
        tags=sorted(set(tags)),
        configs=configs_for(list(stats["by_split"]), data_prefix) if stats["by_split"] else None,
        dataset_info=dataset_info(stats["by_split"]) if stats["by_split"] else None,
    )
    return data


# Values the Hub's dataset-card schema accepts for the keys synthmix writes; DatasetCard.validate() would ask
# the Hub, which a build machine may not reach, so cards are checked against these locally.
SIZE_LABELS = frozenset(
    ["n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "1M<n<10M", "10M<n<100M", "100M<n<1B", "n>1B"]
)
CREATORS = frozenset(
    ["crowdsourced", "expert-generated", "found", "machine-generated", "other", "no-annotation"]
)
MULTILINGUALITY = frozenset(["monolingual", "multilingual", "translation", "other"])
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_SPLIT = re.compile(r"^\w+(\.\w+)*$")


def metadata_problems(meta: dict[str, Any]) -> list[str]:
    """What in a card's YAML the Hub would reject or flag (empty when the metadata is valid)."""
    problems = []
    for lang in meta.get("language") or []:
        if not _LANGUAGE.match(lang):
            problems.append(f"language {lang!r} is not an ISO 639-1/639-3 code")
    lic = meta.get("license")
    if lic is not None and lic not in HUB_LICENSES:
        problems.append(f"license {lic!r} is not a Hub license id")
    if lic == "other" and "license_name" in meta and not re.match(r"^[a-z0-9.-]+$", meta["license_name"]):
        problems.append(f"license_name {meta['license_name']!r} must be lowercase letters, digits, . and -")
    for size in meta.get("size_categories") or []:
        if size not in SIZE_LABELS:
            problems.append(f"size_categories {size!r} is not a Hub size category")
    for key in ("language_creators", "annotations_creators"):
        for value in meta.get(key) or []:
            if value not in CREATORS:
                problems.append(f"{key} {value!r} is not one of {sorted(CREATORS)}")
    if meta.get("multilinguality") not in (None, *MULTILINGUALITY):
        problems.append(
            f"multilinguality {meta['multilinguality']!r} is not one of {sorted(MULTILINGUALITY)}"
        )
    for task in meta.get("task_categories") or []:
        if task not in TASK_CATEGORIES.values():
            problems.append(f"task_categories {task!r} is not one synthmix maps to")
    for config in meta.get("configs") or []:
        if not config.get("config_name"):
            problems.append("a configs entry has no config_name")
        for entry in config.get("data_files") or []:
            if not _SPLIT.match(str(entry.get("split", ""))) or not entry.get("path"):
                problems.append(f"configs data_files entry {entry!r} needs a split name and a path")
    return problems
