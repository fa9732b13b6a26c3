from __future__ import annotations

import pytest
from huggingface_hub import DatasetCardData

from data_cards.languages import hub_language
from data_cards.metadata import (
    configs_for,
    creators,
    hub_license,
    license_metadata,
    metadata_problems,
)


@pytest.mark.parametrize(
    ("code", "hub"),
    [
        ("deu_Latn", "de"),
        ("fra_Latn", "fr"),
        ("tel_Telu", "te"),
        ("tur", "tr"),
        ("de", "de"),
        ("lzh_Hant", "lzh"),
    ],
)
def test_language_codes_map_to_hub_codes(code: str, hub: str) -> None:
    assert hub_language(code) == hub


def test_licenses_one_known_unknown_several_none() -> None:
    assert hub_license("CC-BY-SA-4.0") == "cc-by-sa-4.0"
    assert hub_license("CC0 1.0") == "cc0-1.0"
    assert license_metadata(["CC-BY-SA-4.0", "CC-BY-SA-4.0"]) == {"license": "cc-by-sa-4.0"}
    assert license_metadata(["CC-BY-SA-4.0", "CC0-1.0"]) == {"license": "other"}
    assert license_metadata(["Samanantar Terms"]) == {"license": "other", "license_name": "samanantar-terms"}
    assert license_metadata([]) == {"license": "unknown"}
    # Spelled two ways (Wikipedia's ingest vs a recipe), still one license.
    assert license_metadata(["CC BY-SA 4.0", "CC-BY-SA-4.0"]) == {"license": "cc-by-sa-4.0"}


def test_configs_name_dev_shards_validation() -> None:
    configs = configs_for(["test", "train", "dev"], "data/")
    assert configs == [
        {
            "config_name": "default",
            "data_files": [
                {"split": "train", "path": "data/train-*.parquet"},
                {"split": "validation", "path": "data/dev-*.parquet"},
                {"split": "test", "path": "data/test-*.parquet"},
            ],
        }
    ]
    # DatasetCardData accepts it and renders it back unchanged.
    assert DatasetCardData(configs=configs).to_dict()["configs"] == configs


def test_creators_follow_origin_and_source_type() -> None:
    flores = {"origin": "real", "type": "hub", "preset": "flores200"}
    wiki = {"origin": "real", "type": "wikipedia"}
    synthetic = {"origin": "synthetic", "type": "synthetic"}
    assert creators([flores, synthetic], {"translation"}) == (
        ["found", "machine-generated"],
        ["expert-generated", "machine-generated"],
    )
    assert creators([wiki], {"passage"}) == (["crowdsourced"], ["no-annotation"])
    assert creators([{"origin": "real", "type": "files"}], {"qa"}) == (["found"], ["found"])


def test_metadata_problems_flag_what_the_hub_rejects() -> None:
    good = {
        "language": ["de", "lzh"],
        "license": "other",
        "license_name": "samanantar-terms",
        "size_categories": ["n<1K"],
        "annotations_creators": ["machine-generated"],
        "multilinguality": "translation",
        "task_categories": ["translation"],
        "configs": configs_for(["train"]),
    }
    assert metadata_problems(good) == []
    bad = {
        **good,
        "language": ["deu_Latn"],
        "license": "CC-BY-SA-4.0",
        "size_categories": ["tiny"],
        "annotations_creators": ["robots"],
        "configs": [{"config_name": "default", "data_files": [{"split": "dev set", "path": "x"}]}],
    }
    problems = metadata_problems(bad)
    assert len(problems) == 5
    assert any("'deu_Latn'" in p for p in problems) and any("'dev set'" in p for p in problems)
