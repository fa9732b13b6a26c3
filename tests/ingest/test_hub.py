"""Hub source through the real ``datasets.load_dataset`` on local datasets in the Hub's layouts (offline)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingest.hub import plan_for, read_hub_source, split_conversation
from synthmix.config.base import parse
from synthmix.config.sources import HubSourceConfig
from synthmix.errors import ConfigError, MissingRequirementError
from synthmix.record import ProvenanceStamp

STAMP = ProvenanceStamp("ingest", "test", "abc")

FLORES_README = """---
configs:
- config_name: deu_Latn
  data_files:
  - split: dev
    path: dev/deu_Latn.parquet
  - split: devtest
    path: devtest/deu_Latn.parquet
- config_name: fra_Latn
  data_files:
  - split: dev
    path: dev/fra_Latn.parquet
  - split: devtest
    path: devtest/fra_Latn.parquet
---
# flores_plus layout, tiny
"""


@pytest.fixture(autouse=True)
def datasets_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets

    # Keep the Arrow cache that load_dataset builds inside the test's tmp dir.
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-cache")


def hub(**table) -> HubSourceConfig:
    return parse(HubSourceConfig, {"type": "hub", **table}, "sources.h")


def _flores_lang(root: Path, split: str, lang: str, texts: list[str], ids: list[int]) -> None:
    iso3, script = lang.split("_")
    (root / split).mkdir(parents=True, exist_ok=True)
    table = pa.table(
        {"id": ids, "iso_639_3": [iso3] * len(ids), "iso_15924": [script] * len(ids), "text": texts}
    )
    pq.write_table(table, root / split / f"{lang}.parquet")


@pytest.fixture
def flores_plus(tmp_path: Path) -> Path:
    root = tmp_path / "flores_plus"
    root.mkdir()
    (root / "README.md").write_text(FLORES_README, encoding="utf-8")
    _flores_lang(root, "dev", "deu_Latn", ["Guten Morgen.", "Das Haus ist alt.", "Ohne Partner."], [0, 1, 2])
    # Target rows in another order and one id missing: the join is on id, not position.
    _flores_lang(root, "dev", "fra_Latn", ["La maison est vieille.", "Bonjour."], [1, 0])
    _flores_lang(root, "devtest", "deu_Latn", ["Es regnet."], [10])
    _flores_lang(root, "devtest", "fra_Latn", ["Il pleut."], [10])
    return root


def test_flores_plus_pairs_joined_on_id(flores_plus: Path):
    cfg = hub(preset="flores200", dataset=str(flores_plus), src_lang="deu_Latn", tgt_lang="fra_Latn")
    result = read_hub_source("flores", cfg, STAMP)
    got = [(r.fields["src"], r.fields["tgt"], r.split) for r in result.records]
    assert got == [
        ("Guten Morgen.", "Bonjour.", "dev"),
        ("Das Haus ist alt.", "La maison est vieille.", "dev"),
        ("Es regnet.", "Il pleut.", "test"),
    ]
    r = result.records[0]
    assert (r.kind, r.src_lang, r.tgt_lang, r.origin) == ("translation", "de", "fr", "real")
    assert r.meta == {
        "dataset": str(flores_plus),
        "split": "dev",
        "config": "deu_Latn+fra_Latn",
        "row": 0,
        "flores_id": 0,
        "license": "CC-BY-SA-4.0",
    }
    assert [(x.reason, x.record.fields.get("src")) for x in result.rejected] == [
        ("empty_field", "Ohne Partner.")
    ]


def test_flores_splits_can_be_pooled_for_a_seeded_resplit(flores_plus: Path):
    cfg = hub(
        preset="flores200",
        dataset=str(flores_plus),
        src_lang="deu_Latn",
        tgt_lang="fra_Latn",
        splits={"dev": "train", "devtest": "train"},
    )
    assert {r.split for r in read_hub_source("flores", cfg, STAMP).records} == {"train"}


def test_old_flores_layout_with_sentence_columns(tmp_path: Path):
    root = tmp_path / "flores_old"
    (root / "deu_Latn-fra_Latn").mkdir(parents=True)
    pq.write_table(
        pa.table(
            {"id": [1], "sentence_deu_Latn": ["Hallo Welt."], "sentence_fra_Latn": ["Bonjour le monde."]}
        ),
        root / "deu_Latn-fra_Latn" / "dev.parquet",
    )
    (root / "README.md").write_text(
        "---\nconfigs:\n- config_name: deu_Latn-fra_Latn\n  data_files:\n  - split: dev\n"
        "    path: deu_Latn-fra_Latn/dev.parquet\n---\n",
        encoding="utf-8",
    )
    cfg = hub(
        preset="flores200",
        dataset=str(root),
        src_lang="deu_Latn",
        tgt_lang="fra_Latn",
        columns={"src": "sentence_deu_Latn", "tgt": "sentence_fra_Latn"},
        splits={"dev": "test"},
    )
    assert plan_for(cfg).config == "deu_Latn-fra_Latn"
    (record,) = read_hub_source("flores", cfg, STAMP).records
    assert (record.fields, record.split) == ({"src": "Hallo Welt.", "tgt": "Bonjour le monde."}, "test")


def test_guanaco_text_becomes_instruction_and_response(tmp_path: Path):
    root = tmp_path / "guanaco"
    root.mkdir()
    texts = [
        "### Human: Was ist Photosynthese?### Assistant: Ein Vorgang in Pflanzen.### Human: Danke!### Assistant: Gern.",
        "### Human: Name a color.### Assistant: Blue.",
        "### Assistant: Only an answer.",
    ]
    pq.write_table(pa.table({"text": texts[:2]}), root / "train.parquet")
    pq.write_table(pa.table({"text": texts[2:]}), root / "test.parquet")
    result = read_hub_source("guanaco", hub(preset="guanaco", dataset=str(root)), STAMP)
    assert [(r.fields, r.split, r.kind) for r in result.records] == [
        (
            {"instruction": "Was ist Photosynthese?", "response": "Ein Vorgang in Pflanzen."},
            "train",
            "instruction",
        ),
        ({"instruction": "Name a color.", "response": "Blue."}, "train", "instruction"),
    ]
    assert result.records[0].meta["turns"] == 4
    assert [x.reason for x in result.rejected] == ["empty_field"]


def test_alpaca_input_becomes_context(tmp_path: Path):
    root = tmp_path / "alpaca"
    root.mkdir()
    pq.write_table(
        pa.table(
            {
                "instruction": ["Übersetze.", "Sag hallo."],
                "input": ["Good morning.", ""],
                "output": ["Guten Morgen.", "Hallo!"],
            }
        ),
        root / "train.parquet",
    )
    records = read_hub_source("alpaca", hub(preset="alpaca", dataset=str(root), lang="de"), STAMP).records
    assert [r.fields for r in records] == [
        {"instruction": "Übersetze.", "context": "Good morning.", "response": "Guten Morgen."},
        {"instruction": "Sag hallo.", "response": "Hallo!"},
    ]
    assert records[0].lang == "de"


def test_generic_dataset_with_all_splits_mapped_by_name(tmp_path: Path):
    root = tmp_path / "qa"
    root.mkdir()
    pq.write_table(pa.table({"q": ["Wer?"], "a": ["Ich."]}), root / "train.parquet")
    pq.write_table(pa.table({"q": ["Wo?"], "a": ["Hier."]}), root / "validation.parquet")
    cfg = hub(dataset=str(root), kind="qa", columns={"question": "q", "answer": "a"})
    assert sorted((r.fields["question"], r.split) for r in read_hub_source("qa", cfg, STAMP).records) == [
        ("Wer?", "train"),
        ("Wo?", "dev"),
    ]


def test_missing_column_names_dataset_and_column(tmp_path: Path):
    root = tmp_path / "qa"
    root.mkdir()
    pq.write_table(pa.table({"q": ["Wer?"]}), root / "train.parquet")
    cfg = hub(
        dataset=str(root),
        kind="qa",
        columns={"question": "q", "answer": "antwort"},
        splits={"train": "train"},
    )
    with pytest.raises(Exception, match=r"no column 'antwort' \(for record field 'answer'\)"):
        read_hub_source("qa", cfg, STAMP)


def test_unreachable_hub_id_fails_in_offline_mode_naming_it():
    # The message shows the offline path was taken (no ~25 s retry loop inside datasets).
    cfg = hub(preset="flores200", src_lang="deu_Latn", tgt_lang="fra_Latn")
    with pytest.raises(MissingRequirementError, match="openlanguagedata/flores_plus"):
        read_hub_source("flores", cfg, STAMP)  # conftest sets HF_HUB_OFFLINE=1


def test_without_offline_env_an_unreachable_hub_is_probed_not_retried(monkeypatch: pytest.MonkeyPatch):
    # The probe's message: the failure came from one TCP connect, before datasets' retry loop.
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(
        MissingRequirementError, match=r"cannot reach 127\.0\.0\.1 to load Hub dataset 'someone/nothing'"
    ):
        read_hub_source("x", hub(dataset="someone/nothing", kind="qa", splits={"train": "train"}), STAMP)


def test_flores_preset_needs_both_languages():
    with pytest.raises(
        ConfigError, match=r"^sources\.h\.src_lang: the flores200 preset needs src_lang and tgt_lang"
    ):
        hub(preset="flores200", src_lang="deu_Latn")


def test_split_conversation():
    assert split_conversation("### Human: Hi### Assistant: Hello### Human: More") == ("Hi", "Hello", 3)
    assert split_conversation("no markers") == ("", "", 0)


def test_offline_flag_reads_only_the_cache_and_restores_the_online_state(monkeypatch: pytest.MonkeyPatch):
    import datasets
    import huggingface_hub.constants as hub_constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv(
        "HF_ENDPOINT", "http://127.0.0.1:9"
    )  # would the loader go online, it would fail slowly
    with pytest.raises(MissingRequirementError, match=r"'someone/nothing' is not in the local cache"):
        read_hub_source(
            "x", hub(dataset="someone/nothing", kind="qa", splits={"train": "train"}), STAMP, offline=True
        )
    assert datasets.config.HF_HUB_OFFLINE is False and hub_constants.HF_HUB_OFFLINE is False


def test_offline_flag_still_reads_a_local_dataset(flores_plus: Path):
    cfg = hub(preset="flores200", dataset=str(flores_plus), src_lang="deu_Latn", tgt_lang="fra_Latn")
    assert len(read_hub_source("flores", cfg, STAMP, offline=True).records) == 3


def test_large_split_with_a_small_limit_is_presampled_by_row(tmp_path: Path):
    root = tmp_path / "big"
    root.mkdir()
    n = 1000
    pq.write_table(
        pa.table({"src": [f"Sentence {i}." for i in range(n)], "tgt": [f"Satz {i}." for i in range(n)]}),
        root / "train.parquet",
    )
    cfg = hub(dataset=str(root), src_lang="en", tgt_lang="de", splits={"train": "train"}, limit=10)
    result = read_hub_source("big", cfg, STAMP, seed=5, progress=False)
    assert len(result.records) == 111 and result.facts["presampled"] == {"train": [111, n]}
    # Row numbers in meta are the dataset's, and match the text.
    assert all(r.fields["src"] == f"Sentence {r.meta['row']}." for r in result.records)
    again = read_hub_source("big", cfg, STAMP, seed=5, progress=False)
    assert [r.id for r in again.records] == [r.id for r in result.records]
    other = read_hub_source("big", cfg, STAMP, seed=6, progress=False)
    assert [r.id for r in other.records] != [r.id for r in result.records]


def test_a_dataset_with_configs_needs_one_named(flores_plus: Path):
    from synthmix.errors import SynthmixError

    with pytest.raises(SynthmixError, match=r"Hub dataset .*flores_plus.*(deu_Latn|config)"):
        read_hub_source("x", hub(dataset=str(flores_plus), kind="passage", columns={"text": "text"}), STAMP)


def test_a_corrupt_data_file_is_named_not_a_traceback(tmp_path: Path):
    from synthmix.errors import SynthmixError

    root = tmp_path / "broken"
    root.mkdir()
    (root / "train.parquet").write_bytes(b"PAR1 this is not parquet")
    cfg = hub(dataset=str(root), kind="qa", splits={"train": "train"})
    with pytest.raises(SynthmixError, match=r"Hub dataset .*broken' split 'train': .*not a parquet file"):
        read_hub_source("x", cfg, STAMP)
