from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from datasets import load_dataset
from huggingface_hub import DatasetCard, DatasetCardData
from huggingface_hub import constants as hub_constants

from data_cards.cards import write_card
from data_cards.publish import publish, write_dry_run
from synthmix.cli import main
from synthmix.errors import MissingRequirementError, SynthmixError
from synthmix.layout import Layout
from synthmix.recipe import Recipe
from tests.data_cards.conftest import FAKE_GROQ_KEY, FAKE_HF_TOKEN, FIXTURES, PLANTED_HOME
from tests.data_cards.hub_server import FakeHub

Carded = tuple[Recipe, Layout, list[Path]]
UPLOAD = {
    "README.md",
    "card.json",
    "manifest.json",
    "assets/funnel.png",
    "assets/lengths.png",
    "assets/sources.png",
    "data/train-00000-of-00001.parquet",
    "data/dev-00000-of-00001.parquet",
    "data/test-00000-of-00001.parquet",
}


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    # The suite runs with HF_HUB_OFFLINE=1; these tests talk to a Hub on 127.0.0.1 only.
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", False)
    with FakeHub() as server:
        yield server


def test_dry_run_folder_loads_with_datasets_and_its_card_loads(tmp_path: Path, carded: Carded) -> None:
    _, layout, _ = carded
    out = tmp_path / "out"
    publish(layout.curate("flores"), "someone/flores", dry_run_out=out)
    assert set(_files(out)) == UPLOAD  # rejected.parquet is not published
    ds = load_dataset(str(out))
    assert {name: len(split) for name, split in ds.items()} == {"train": 4, "validation": 1, "test": 1}
    assert ds["train"].features["fields"]["src"].dtype == "string"
    assert set(ds["train"].column_names) >= {"id", "kind", "origin", "source", "fields", "meta", "provenance"}
    assert ds["test"][0]["fields"]["tgt"] == "Il pleut depuis trois jours sans interruption."
    card = DatasetCard.load(out / "README.md")
    meta = card.data.to_dict()
    DatasetCardData(**meta)
    assert meta["configs"][0]["data_files"][0] == {"split": "train", "path": "data/train-*.parquet"}
    # The dataset directory's own card keeps root-relative patterns; only the upload moves data to data/.
    assert "path: train-*.parquet" in (layout.curate("flores") / "README.md").read_text(encoding="utf-8")
    assert (out / "card.json").read_bytes() == (layout.curate("flores") / "card.json").read_bytes()


def test_dry_run_replaces_an_earlier_dry_run_but_never_a_foreign_folder(
    tmp_path: Path, carded: Carded
) -> None:
    _, layout, _ = carded
    out = tmp_path / "out"
    write_dry_run(layout.curate("wiki"), out)
    write_dry_run(layout.curate("synthetic"), out)
    assert json.loads((out / "card.json").read_text())["name"] == "synthetic"
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(SynthmixError, match="not an earlier synthmix dry run"):
        write_dry_run(layout.curate("wiki"), foreign)
    assert (foreign / "notes.txt").read_text() == "keep me"


def test_nothing_local_or_secret_in_the_upload_folder(
    tmp_path: Path, carded: Carded, secrets_in_env: None
) -> None:
    _, layout, _ = carded
    for name in ("wiki", "synthetic"):
        out = tmp_path / name
        write_dry_run(layout.curate(name), out)
        for rel, data in _files(out).items():
            if rel.endswith((".md", ".json")):
                text = data.decode("utf-8")
                assert FAKE_HF_TOKEN not in text and FAKE_GROQ_KEY not in text, rel
                assert PLANTED_HOME not in text and "alice" not in text, rel


def test_publish_without_token_names_hf_token(
    carded: Carded, monkeypatch: pytest.MonkeyPatch, hub: FakeHub
) -> None:
    _, layout, _ = carded
    monkeypatch.delenv("HF_TOKEN", raising=False)
    with pytest.raises(MissingRequirementError, match="HF_TOKEN"):
        publish(layout.curate("flores"), "someone/flores", endpoint=hub.url)
    assert hub.requests == []


def test_publish_refuses_a_dataset_without_a_card(corpus: tuple[Recipe, Layout]) -> None:
    _, layout = corpus
    with pytest.raises(SynthmixError, match="synthmix card --dataset"):
        publish(layout.curate("flores"), "someone/flores", token="hf_x1234567890")


def test_publish_refuses_a_stale_or_edited_card(tmp_path: Path, corpus: tuple[Recipe, Layout]) -> None:
    recipe, layout = corpus
    path = layout.curate("wiki")
    write_card(path, recipe, layout)
    card_file = path / "card.json"
    card = json.loads(card_file.read_text())
    # The data was rebuilt after the card was written: the card describes other data.
    card_file.write_text(json.dumps({**card, "dataset": {**card["dataset"], "output_hash": "0" * 20}}))
    with pytest.raises(SynthmixError, match="describes other data"):
        write_dry_run(path, tmp_path / "a")
    # Someone edited a fact by hand: the card hash no longer matches.
    card_file.write_text(json.dumps({**card, "name": "edited"}))
    with pytest.raises(SynthmixError, match="card hash mismatch"):
        write_dry_run(path, tmp_path / "b")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_publish_new_private_repo_sends_one_commit_with_the_dry_run_files(
    tmp_path: Path, carded: Carded, hub: FakeHub
) -> None:
    _, layout, _ = carded
    token = "hf_TestWriteToken0000000001"
    url = publish(layout.curate("flores"), "alice/flores-de-fr", private=True, token=token, endpoint=hub.url)
    assert url.startswith(f"{hub.url}/datasets/alice/flores-de-fr/commit/")

    [create] = hub.calls("POST", "/api/repos/create")
    assert json.loads(create.body) == {
        "name": "flores-de-fr",
        "organization": "alice",
        "visibility": "private",
        "type": "dataset",
    }
    assert all(
        r.headers.get("authorization") == f"Bearer {token}" for r in hub.requests if r.method == "POST"
    )
    [commit_request] = hub.calls("POST", "/commit/main")
    assert commit_request.headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in commit_request.body.decode().splitlines()]
    assert lines[0]["key"] == "header"
    assert lines[0]["value"]["summary"] == "synthmix: synthmix cards-fixture: flores"
    sent = {item["value"]["path"]: base64.b64decode(item["value"]["content"]) for item in lines[1:]}

    write_dry_run(layout.curate("flores"), tmp_path / "dry", "alice/flores-de-fr")
    assert sent == _files(tmp_path / "dry")  # exactly the dry-run folder, byte for byte
    assert b'load_dataset("alice/flores-de-fr")' in sent["README.md"]
    repo = hub.repos["alice/flores-de-fr"]
    assert repo.private and len(repo.commits) == 1
    # No existing card on a new repo: nothing was downloaded.
    assert hub.calls("GET", "/resolve/") == []


def test_update_keeps_user_metadata_and_removes_stale_shards(carded: Carded, hub: FakeHub) -> None:
    _, layout, _ = carded
    user_card = DatasetCard(
        "---\n"
        + yaml.safe_dump(
            {
                "license": "cc-by-4.0",
                "paperswithcode_id": "my-flores-study",
                "tags": ["user-tag"],
                "extra_gated_prompt": "Tell us how you use it.",
            }
        )
        + "---\n\n# My words\n\nReplaced on publish.\n\n"
        + "<!-- synthmix:keep -->\n## Citation\n\nPlease cite our study.\n<!-- /synthmix:keep -->\n"
    )
    hub.add_repo(
        "alice/ds",
        {
            "README.md": str(user_card).encode(),
            "data/train-00000-of-00002.parquet": b"old shard",
            "notes/keep.txt": b"user file",
        },
    )
    publish(layout.curate("flores"), "alice/ds", token="hf_TestWriteToken0000000001", endpoint=hub.url)
    assert len(hub.calls("GET", "/datasets/alice/ds/resolve/main/README.md")) == 1
    repo = hub.repos["alice/ds"]
    [commit] = repo.commits
    assert commit["deleted"] == ["data/train-00000-of-00002.parquet"]
    assert "notes/keep.txt" in repo.files  # only stale data shards are removed
    meta = DatasetCard(repo.files["README.md"].decode()).data.to_dict()
    assert meta["paperswithcode_id"] == "my-flores-study"
    assert meta["extra_gated_prompt"] == "Tell us how you use it."
    assert meta["license"] == "cc-by-sa-4.0"  # synthmix's facts win for the keys it manages
    assert {"user-tag", "synthmix", "translation"} <= set(meta["tags"])
    assert meta["configs"][0]["data_files"][0]["path"] == "data/train-*.parquet"
    text = repo.files["README.md"].decode()
    assert "Replaced on publish." not in text and "## Curation funnel" in text
    assert text.rstrip().endswith("## Citation\n\nPlease cite our study.\n<!-- /synthmix:keep -->")


def test_private_publish_to_an_existing_public_repo_is_refused(carded: Carded, hub: FakeHub) -> None:
    _, layout, _ = carded
    hub.add_repo("alice/public-ds", {"README.md": b"# public\n"}, private=False)
    with pytest.raises(SynthmixError, match="already exists and is public"):
        publish(
            layout.curate("wiki"),
            "alice/public-ds",
            private=True,
            token="hf_TestWriteToken01",
            endpoint=hub.url,
        )
    assert hub.repos["alice/public-ds"].commits == []
    # Private and already private: published.
    hub.add_repo("alice/private-ds", {}, private=True)
    publish(
        layout.curate("wiki"), "alice/private-ds", private=True, token="hf_TestWriteToken01", endpoint=hub.url
    )
    assert len(hub.repos["alice/private-ds"].commits) == 1


def test_unreadable_hub_card_stops_the_update(carded: Carded, hub: FakeHub) -> None:
    _, layout, _ = carded
    hub.add_repo("alice/broken", {"README.md": b"---\nlicense: [unclosed\n---\n# x\n"})
    with pytest.raises(SynthmixError, match="fix its YAML header on the Hub"):
        publish(layout.curate("wiki"), "alice/broken", token="hf_TestWriteToken01", endpoint=hub.url)
    assert hub.repos["alice/broken"].commits == []


def test_corrupt_card_json_is_a_user_error(tmp_path: Path, corpus: tuple[Recipe, Layout]) -> None:
    recipe, layout = corpus
    path = layout.curate("wiki")
    write_card(path, recipe, layout)
    (path / "card.json").write_text("{not json")
    with pytest.raises(SynthmixError, match="card.json: not valid JSON"):
        write_dry_run(path, tmp_path / "out")


def test_hub_refusal_is_a_user_error_without_the_token(carded: Carded, hub: FakeHub) -> None:
    _, layout, _ = carded
    hub.fail_status = 401
    token = "hf_TestRejectedToken000000009"
    with pytest.raises(SynthmixError, match="rejected the token") as err:
        publish(layout.curate("flores"), "alice/ds", token=token, endpoint=hub.url)
    assert token not in str(err.value)


def test_cli_publish_dry_run_and_missing_token_exit_codes(
    tmp_path: Path, carded: Carded, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, layout, _ = carded
    recipe = str(FIXTURES / "recipe.toml")
    dataset = str(layout.curate("wiki"))
    out = tmp_path / "dry"
    assert (
        main(["publish", "--recipe", recipe, "--dataset", dataset, "--repo", "u/wiki", "--dry-run", str(out)])
        == 0
    )
    assert (out / "data" / "train-00000-of-00001.parquet").is_file()
    monkeypatch.delenv("HF_TOKEN", raising=False)
    assert main(["publish", "--recipe", recipe, "--dataset", dataset, "--repo", "u/wiki"]) == 4
    assert "HF_TOKEN is not set" in capsys.readouterr().err
    # A bad repo id is a flag error (exit 2), before anything else.
    assert main(["publish", "--recipe", recipe, "--dataset", dataset, "--repo", "not-a-repo-id"]) == 2
    assert main(["publish", "--recipe", recipe, "--dataset", dataset, "--repo", "u/bad name"]) == 2
    assert "--repo 'u/bad name'" in capsys.readouterr().err


def test_cli_card_writes_one_dataset(
    tmp_path: Path, corpus: tuple[Recipe, Layout], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, layout = corpus
    monkeypatch.setenv("SYNTHMIX_HOME", str(layout.root))
    target = layout.curate("wiki_qa")
    assert main(["card", "--recipe", str(FIXTURES / "recipe.toml"), "--dataset", str(target)]) == 0
    assert (target / "README.md").is_file() and (target / "assets" / "lengths.png").is_file()
    assert not (layout.curate("wiki") / "README.md").exists()
    before = (target / "README.md").stat().st_mtime_ns
    assert main(["card", "--recipe", str(FIXTURES / "recipe.toml"), "--dataset", str(target)]) == 0
    assert (target / "README.md").stat().st_mtime_ns == before  # current: kept
    assert main(["card", "--recipe", str(FIXTURES / "recipe.toml"), "--dataset", str(target), "--force"]) == 0
    assert (target / "README.md").stat().st_mtime_ns != before
