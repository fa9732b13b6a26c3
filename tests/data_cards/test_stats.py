from __future__ import annotations

import pytest

from data_cards.stats import dataset_stats, describe, length_values, percentile, size_category
from synthmix.record import Record
from tests.data_cards.conftest import fixture_records


@pytest.mark.parametrize(
    ("n", "label"),
    [
        (0, "n<1K"),
        (999, "n<1K"),
        (1000, "1K<n<10K"),
        (9_999, "1K<n<10K"),
        (250_000, "100K<n<1M"),
        (2 * 10**9, "n>1B"),
    ],
)
def test_size_category_boundaries(n: int, label: str) -> None:
    assert size_category(n) == label


def test_percentiles_interpolate_like_numpy() -> None:
    values = [1, 2, 3, 4, 10]
    assert percentile(values, 50) == 3
    assert percentile(values, 95) == pytest.approx(8.8)
    assert describe(values) == {
        "count": 5,
        "min": 1,
        "mean": 4.0,
        "p5": 1.2,
        "p50": 3.0,
        "p95": 8.8,
        "max": 10,
    }
    assert describe([])["count"] == 0


def test_dataset_stats_counts_sources_languages_and_lengths() -> None:
    stats = dataset_stats(fixture_records())
    assert stats["records"] == 14
    assert stats["by_origin"] == {"real": 8, "synthetic": 6}
    assert stats["by_split"] == {"dev": 1, "test": 1, "train": 12}
    # FLORES codes are mapped, so deu_Latn->fra_Latn and de->fr count as one language pair.
    assert stats["by_language"] == {"de": 4, "de->fr": 10}
    assert stats["languages"] == {"de": 14, "fr": 10}
    assert stats["sources"]["flores"] == {
        "records": 6,
        "share": round(6 / 14, 4),
        "by_origin": {"real": 6},
        "by_split": {"dev": 1, "test": 1, "train": 4},
    }
    # Passages have only an input side; QA answers and translation targets are outputs.
    assert stats["length_chars"]["output"]["all"]["count"] == 12
    assert stats["length_chars"]["input"]["all"]["count"] == 14
    assert stats["length_words"]["input"]["synthetic"]["max"] == 8
    # One example per kind: the first train record, payload cut to EXAMPLE_CHARS.
    assert sorted(stats["examples"]) == ["passage", "qa", "translation"]
    assert stats["examples"]["qa"]["fields"]["question"] == "Wovon ist Mainz die Landeshauptstadt?"


def test_example_fields_are_cut() -> None:
    from data_cards.stats import EXAMPLE_CHARS, example_of

    ex = example_of(Record(kind="passage", origin="real", source="w", lang="de", fields={"text": "x" * 1000}))
    assert ex["fields"]["text"] == "x" * EXAMPLE_CHARS + " ..."
    assert ex["lang"] == "de" and "src_lang" not in ex


def test_length_values_split_by_side_and_origin() -> None:
    recs = [
        Record(kind="qa", origin="synthetic", source="s", fields={"question": "abc", "answer": "de"}),
        Record(kind="passage", origin="real", source="w", fields={"text": "hello"}),
    ]
    assert length_values(recs) == {"input": {"synthetic": [3], "real": [5]}, "output": {"synthetic": [2]}}
