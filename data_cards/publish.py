"""Publish a curated source or mix, with its card, as a Hugging Face Hub dataset repo.

    synthmix publish --dataset data/default/mix/flores+synthetic --repo user/name [--private]
    synthmix publish --dataset data/default/curate/flores --repo user/name --dry-run out/   # write, no upload
    make publish DATASET=data/default/curate/flores REPO=user/name

The upload folder (exactly what ``--dry-run OUT`` writes):

    README.md          the card, with ``configs`` pointing at data/ (``datasets.load_dataset(folder)`` works)
    card.json          the card's facts for programs, with its card hash
    assets/*.png       the plots the README links
    manifest.json      the dataset's manifest (already free of secrets and local paths; redacted again)
    data/train-00000-of-00001.parquet ...   the Parquet shards, named by split

``rejected.parquet`` is not published: it holds the records curation dropped, including the ones removed
because they overlap evaluation sets, and publishing those would leak test data; its counts by reason are in
the card. The upload is one commit (``HfApi.create_commit``): a repo never shows half an update. Updating
an existing repo starts from its card: the Hub's README.md is downloaded and its YAML keys are kept, ours
replace the keys synthmix manages, tags are merged, and prose between ``<!-- synthmix:keep -->`` markers
is carried over. Shards under data/ that the new version does not
have are deleted in the same commit, so a split never mixes two versions.

The token comes from ``HF_TOKEN`` (or ``token=``), never from a file synthmix writes; ``endpoint=`` (or
``HF_ENDPOINT``) points at another Hub, e.g. a local test server.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import httpx2
import yaml
from huggingface_hub import (
    CommitOperationAdd,
    CommitOperationDelete,
    DatasetCard,
    HfApi,
    constants,
)
from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled
from huggingface_hub.utils import HFValidationError, validate_repo_id

from data_cards.cards import ASSETS, CARD_JSON, README, card_hash, load_card_json
from data_cards.render import LOAD_PLACEHOLDER
from synthmix.errors import ConfigError, MissingRequirementError, SynthmixError
from synthmix.redact import redact, redact_text
from synthmix.store import MANIFEST, REJECTED, is_complete, read_manifest, shard_paths

log = logging.getLogger(__name__)

DATA_DIR = "data"
TOKEN_ENV = "HF_TOKEN"
# Metadata keys synthmix derives from the data; on update these replace the existing card's values.
# Any other key a user set on the Hub (task_ids, paperswithcode_id, extra_gated_prompt...) is kept.
MERGED_LIST_KEYS = ("tags",)
UPLOAD_MARKERS = (CARD_JSON, README, DATA_DIR)
# Prose a user wrote on the Hub between these markers survives every publish (the rest is regenerated).
KEEP_START, KEEP_END = "<!-- synthmix:keep -->", "<!-- /synthmix:keep -->"
KEEP_BLOCK = re.compile(re.escape(KEEP_START) + r".*?" + re.escape(KEEP_END), re.DOTALL)


def _check_dataset(dataset_dir: Path) -> dict[str, Any]:
    if not is_complete(dataset_dir):
        raise SynthmixError(
            f"{dataset_dir}: not a complete dataset directory (no {MANIFEST}); "
            "pass a curated source or mix directory such as data/<recipe>/curate/<source>"
        )
    manifest = read_manifest(dataset_dir)
    if not shard_paths(dataset_dir):
        raise SynthmixError(f"{dataset_dir}: the dataset has no records; there is nothing to publish")
    for name in (README, CARD_JSON):
        if not (dataset_dir / name).is_file():
            raise SynthmixError(
                f"{dataset_dir}: no {name}; write the card first: synthmix card --dataset {dataset_dir}"
            )
    card = load_card_json(dataset_dir)
    if card.get("dataset", {}).get("output_hash") != manifest.get("output_hash"):
        raise SynthmixError(
            f"{dataset_dir}/{CARD_JSON} describes other data (output hash "
            f"{card.get('dataset', {}).get('output_hash')} != {manifest.get('output_hash')}); "
            f"rewrite it: synthmix card --dataset {dataset_dir}"
        )
    if card.get("card_hash") != card_hash(card):
        raise SynthmixError(
            f"{dataset_dir}/{CARD_JSON} was edited after it was written (card hash mismatch); "
            f"rewrite it: synthmix card --dataset {dataset_dir}"
        )
    return manifest


def _prefix_configs(metadata: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The card's ``configs`` with data_files moved under ``prefix`` (the repo keeps shards in data/)."""
    configs = []
    for config in metadata.get("configs") or []:
        files = []
        for entry in config.get("data_files") or []:
            path = entry["path"]
            files.append({**entry, "path": path if path.startswith(prefix) else prefix + path})
        configs.append({**config, "data_files": files})
    return {**metadata, "configs": configs} if configs else dict(metadata)


def _card_with_metadata(card: DatasetCard, metadata: dict[str, Any]) -> DatasetCard:
    data = type(card.data)(**metadata)
    return DatasetCard(f"---\n{data.to_yaml()}\n---\n{card.text}")


def merge_card(ours: DatasetCard, existing: DatasetCard | None) -> DatasetCard:
    """Our card, keeping every YAML key of ``existing`` that synthmix does not manage (tags are merged)
    and the prose between the keep markers of ``existing``, appended to ours."""
    if existing is None:
        return ours
    theirs = existing.data.to_dict()
    mine = ours.data.to_dict()
    merged = {**theirs, **mine}
    for key in MERGED_LIST_KEYS:
        if key in theirs or key in mine:
            merged[key] = sorted(set(_as_list(theirs.get(key))) | set(_as_list(mine.get(key))))
    card = _card_with_metadata(ours, merged)
    kept = KEEP_BLOCK.findall(existing.text)
    if kept:
        card = DatasetCard(str(card).rstrip("\n") + "\n\n" + "\n\n".join(kept) + "\n")
    return card


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _link_or_copy(src: Path, dst: Path) -> None:
    # A hard link costs no space for multi-GB shards. It is safe: synthmix never rewrites a shard in
    # place (a rebuilt dataset is a new directory renamed over the old one).
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def upload_card(dataset_dir: Path, repo: str | None = None) -> DatasetCard:
    """The README as published: data_files under data/, the repo id in the example, redacted again."""
    try:
        card = DatasetCard.load(dataset_dir / README)
    except (ValueError, yaml.YAMLError) as e:
        raise SynthmixError(
            f"{dataset_dir}/{README}: cannot read its metadata ({e}); "
            f"rewrite it: synthmix card --dataset {dataset_dir}"
        ) from None
    metadata = _prefix_configs(card.data.to_dict(), f"{DATA_DIR}/")
    text = str(_card_with_metadata(card, metadata))
    if repo:
        text = text.replace(f'load_dataset("{LOAD_PLACEHOLDER}")', f'load_dataset("{repo}")')
    return DatasetCard(redact_text(text))


def stage_upload(dataset_dir: Path, out: Path, repo: str | None = None) -> list[str]:
    """Write the upload folder for ``dataset_dir`` into the new directory ``out``; returns repo paths."""
    dataset_dir = Path(dataset_dir)
    manifest = _check_dataset(dataset_dir)
    out.mkdir(parents=True)
    (out / DATA_DIR).mkdir()
    paths = []
    for shard in shard_paths(dataset_dir):
        _link_or_copy(shard, out / DATA_DIR / shard.name)
        paths.append(f"{DATA_DIR}/{shard.name}")
    (out / README).write_text(str(upload_card(dataset_dir, repo)), encoding="utf-8")
    card = load_card_json(dataset_dir)
    (out / CARD_JSON).write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / MANIFEST).write_text(
        json.dumps(redact(manifest), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    paths += [README, CARD_JSON, MANIFEST]
    assets = dataset_dir / ASSETS
    if assets.is_dir():
        shutil.copytree(assets, out / ASSETS)
        paths += [f"{ASSETS}/{p.name}" for p in sorted((out / ASSETS).iterdir()) if p.is_file()]
    assert not (out / REJECTED).exists()
    return sorted(paths)


def write_dry_run(dataset_dir: Path, out: Path, repo: str | None = None) -> list[str]:
    """``--dry-run OUT``: the upload folder at ``out``, replacing an earlier dry run there (never other files)."""
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not all((out / m).exists() for m in UPLOAD_MARKERS):
        raise SynthmixError(
            f"{out}: folder exists and is not an earlier synthmix dry run; choose an empty or new folder"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        staged = tmp / "upload"
        paths = stage_upload(dataset_dir, staged, repo)
        if out.exists():
            shutil.rmtree(out)
        os.replace(staged, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("dry run: %d files that would be uploaded are in %s", len(paths), out)
    return paths


def _token(token: str | None) -> str:
    token = token or os.environ.get(TOKEN_ENV)
    if not token:
        raise MissingRequirementError(
            f"publish: environment variable {TOKEN_ENV} is not set; create a write token at "
            f"https://huggingface.co/settings/tokens and export {TOKEN_ENV}=..., "
            "or write the folder without uploading: synthmix publish ... --dry-run OUT"
        )
    return token


def _existing_card(api: HfApi, repo: str, remote_files: list[str], tmp: Path) -> DatasetCard | None:
    if README not in remote_files:
        return None
    path = api.hf_hub_download(repo, README, repo_type="dataset", local_dir=tmp / "remote")
    try:
        return DatasetCard.load(path)
    except (ValueError, yaml.YAMLError) as e:
        # Overwriting a card whose metadata cannot be read would lose it: stop and say where to look.
        raise SynthmixError(
            f"publish: the README.md of {repo} on the Hub has metadata that cannot be read ({e}); "
            "fix its YAML header on the Hub, then publish again"
        ) from None


def publish(
    dataset_dir: Path,
    repo: str,
    *,
    private: bool = False,
    dry_run_out: Path | None = None,
    token: str | None = None,
    endpoint: str | None = None,
) -> str:
    """Upload ``dataset_dir`` with its card to the Hub dataset repo ``repo``; returns the commit URL.

    With ``dry_run_out`` nothing is sent: the upload folder is written there and its path returned.
    """
    dataset_dir = Path(dataset_dir)
    if repo.count("/") != 1 or not all(repo.split("/")):
        raise ConfigError(f"--repo {repo!r}: expected a Hub dataset id like user/name")
    try:
        validate_repo_id(repo)
    except HFValidationError as e:
        raise ConfigError(f"--repo {repo!r}: {str(e).splitlines()[0]}") from None
    if dry_run_out is not None:
        write_dry_run(dataset_dir, dry_run_out, repo)
        log.info("dry run: the upload folder for %s is %s (nothing was sent)", repo, dry_run_out)
        return str(dry_run_out)
    _check_dataset(dataset_dir)  # before asking for a token: a missing card is the first thing to fix
    token = _token(token)
    if constants.is_offline_mode():
        raise MissingRequirementError(
            "publish: HF_HUB_OFFLINE=1 is set, so huggingface_hub sends nothing; unset it to publish, "
            "or write the folder without uploading: synthmix publish ... --dry-run OUT"
        )
    api = HfApi(endpoint=endpoint, token=token)
    try:
        with tempfile.TemporaryDirectory(prefix="synthmix-publish-") as tmp_name:
            tmp = Path(tmp_name)
            folder = tmp / "upload"
            paths = stage_upload(dataset_dir, folder, repo)
            api.create_repo(repo, repo_type="dataset", private=private, exist_ok=True)
            if private and api.dataset_info(repo).private is False:
                # The Hub ignores `private` for a repo that already exists: say so rather than publish
                # to a public repo while the user believes it is private.
                raise SynthmixError(
                    f"publish: {repo} already exists and is public, and --private does not change an existing "
                    "repo; make it private in its settings on the Hub first, or publish without --private"
                )
            remote = api.list_repo_files(repo, repo_type="dataset")
            existing = _existing_card(api, repo, remote, tmp)
            if existing is not None:
                merged = merge_card(DatasetCard.load(folder / README), existing)
                (folder / README).write_text(str(merged), encoding="utf-8")
            operations: list[CommitOperationAdd | CommitOperationDelete] = [
                CommitOperationAdd(path_in_repo=p, path_or_fileobj=str(folder / p)) for p in paths
            ]
            stale = sorted(p for p in remote if p.startswith(f"{DATA_DIR}/") and p not in paths)
            operations += [CommitOperationDelete(path_in_repo=p) for p in stale]
            card = load_card_json(dataset_dir)
            info = api.create_commit(
                repo,
                operations,
                commit_message=f"synthmix: {card.get('pretty_name') or dataset_dir.name}",
                commit_description=f"card hash {card['card_hash']}, data output hash "
                f"{card['dataset']['output_hash']}; {len(paths)} files, {len(stale)} stale shard(s) removed",
                repo_type="dataset",
            )
    except OfflineModeIsEnabled as e:
        raise MissingRequirementError(f"publish: {e}") from None
    except HfHubHTTPError as e:
        status = e.response.status_code if e.response is not None else None
        hint = {
            401: f"the Hub rejected the token in {TOKEN_ENV}; check it is a valid write token",
            403: f"the token in {TOKEN_ENV} may not write to {repo}; use a write token for that namespace",
        }.get(status or 0, "the Hub refused the upload")
        raise SynthmixError(f"publish to {repo}: {hint} ({redact_text(str(e)).splitlines()[0]})") from None
    except httpx2.TransportError as e:
        # huggingface_hub's HTTP client: no network, or a wrong HF_ENDPOINT.
        raise MissingRequirementError(
            f"publish: cannot reach the Hub at {api.endpoint}: {redact_text(str(e))}"
        ) from None
    url = str(info.commit_url)
    log.info("published %s to %s (%s): %s", dataset_dir.name, repo, "private" if private else "public", url)
    return url
